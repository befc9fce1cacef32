"""Shared fixtures. Keep this file small: toy models live in ``toy_models.py``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI replays the same examples on every run: a property test fails there only for a real regression, and the
# failing example can be reproduced; locally, hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").strip().lower() == "true":
    settings.load_profile("ci")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real third-party test data (``<repo>/../shared/data``, see its README).

    Tests using it skip when the folder is absent, except on CI (``CI=true``), where they fail.
    """
    if not SHARED_DATA.is_dir():
        reason = f"shared test data not found at {SHARED_DATA} (real MNIST/CIFAR files and ResNet-20 weights)"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason}; CI=true, so this is an error, not a skip")
        pytest.skip(reason)
    return SHARED_DATA
