"""The data-source registry: named sources are looked up by name, and a new one needs no other change."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from explorer.data import (
    Pool,
    SourceOptions,
    SourcePools,
    _registry,
    list_sources,
    load_data,
    register_source,
)
from explorer.errors import DataError


def test_the_built_in_sources_are_registered():
    assert list_sources() == ["digits", "mnist", "fashion_mnist", "cifar10", "imagenet", "cifar10_csv:<path>"]


@pytest.fixture
def squares():
    """A source of 12 constant images whose value is their position, with an optional scale argument."""
    seen: list[SourceOptions] = []

    def read(options: SourceOptions) -> SourcePools:
        seen.append(options)
        scale = float(options.argument) if options.argument else 1.0
        x = torch.arange(12, dtype=torch.float32).view(12, 1, 1, 1).expand(12, 1, 2, 2) * scale
        return SourcePools("squares", ["even", "odd"], Pool(np.arange(12) % 2, lambda p: x[p].clone()), None)

    register_source("squares", description="test source")(read)
    register_source("scaled_squares", description="test source", takes_argument=True)(read)
    yield seen
    _registry._SOURCES.pop("squares")
    _registry._SOURCES.pop("scaled_squares")


def test_a_registered_source_is_loaded_by_name(squares, tmp_path):
    bundle = load_data("Squares", num_samples=4, calib_samples=4, root=tmp_path, input_shape=(1, 2, 2))
    assert bundle.name == "squares"
    assert bundle.classes == ["even", "odd"]
    assert sorted(bundle.val.labels.tolist()) == [0, 0, 1, 1]
    assert torch.equal(bundle.val.inputs[:, 0, 0, 0].long() % 2, bundle.val.labels)
    # no train split: calibration comes from the samples validation left over
    assert not set(bundle.val.inputs[:, 0, 0, 0].tolist()) & set(bundle.calib.inputs[:, 0, 0, 0].tolist())
    assert squares[0] == SourceOptions(tmp_path, False, (1, 2, 2), None)


def test_a_source_with_an_argument_gets_it_verbatim(squares):
    bundle = load_data("scaled_squares:10", num_samples=12, calib_samples=2)
    assert squares[0].argument == "10"
    assert sorted(bundle.val.inputs[:, 0, 0, 0].tolist()) == [10.0 * i for i in range(12)]
    with pytest.raises(DataError, match=r"unknown data source 'squares:10'.*scaled_squares:<path>"):
        load_data("squares:10")


def test_a_taken_name_is_refused(squares):
    with pytest.raises(DataError, match="already registered"):
        register_source("digits", description="another digits")(lambda options: None)
