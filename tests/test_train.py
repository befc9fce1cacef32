"""Deterministic training of the embedded digits model and the small ``fit`` loop."""

from __future__ import annotations

import time

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer.data import DataSplit, load_data
from explorer.models import load_model
from explorer.train import compute_accuracy, fit, random_shift, train_digits_model
from explorer.zoo import create_model


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models train fastest on one thread, and the machine is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def digits():
    return load_data("digits", calib_samples=10)


def test_random_shift_is_a_one_pixel_translation():
    x = torch.randn(16, 2, 6, 7)
    shifted = random_shift(x, torch.Generator().manual_seed(0))
    assert shifted.shape == x.shape
    padded = F.pad(x, (1, 1, 1, 1), mode="replicate")
    candidates = [padded[:, :, dy : dy + 6, dx : dx + 7] for dy in range(3) for dx in range(3)]
    for i in range(16):
        assert any(torch.equal(shifted[i], c[i]) for c in candidates)
    assert torch.equal(random_shift(x, torch.Generator().manual_seed(0), max_shift=0), x)


def test_fit_lowers_the_loss_reports_progress_and_is_seeded(digits):
    seen = []
    torch.manual_seed(0)
    model = create_model("digits_cnn")
    start = {k: v.clone() for k, v in model.state_dict().items()}
    losses = fit(model, digits.train, 60, lr=1e-2, batch_size=32, seed=3, progress=lambda *a: seen.append(a))
    assert len(losses) == 60
    assert [s[0] for s in seen] == list(range(1, 61))
    assert all(s[1] == 60 for s in seen)
    assert sum(losses[-10:]) < sum(losses[:10])
    assert not model.training
    again = create_model("digits_cnn")
    again.load_state_dict(start)
    assert fit(again, digits.train, 60, lr=1e-2, batch_size=32, seed=3) == losses
    for key, value in model.state_dict().items():
        assert torch.equal(value, again.state_dict()[key])


def test_fit_stops_when_asked(digits):
    model = create_model("digits_cnn")
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(calls) > 5

    losses = fit(model, digits.train, 100, should_stop=should_stop)
    assert len(losses) == 5
    assert not model.training


def test_compute_accuracy_against_a_direct_count():
    torch.manual_seed(0)
    split = DataSplit(torch.randn(37, 3), torch.randint(0, 4, (37,)))
    model = nn.Linear(3, 4).train()
    expected = (model(split.inputs).argmax(1) == split.labels).float().mean().item()
    assert compute_accuracy(model, split, batch_size=10) == pytest.approx(expected)
    assert model.training  # restored


def test_train_digits_cnn_reaches_97_percent_quickly_and_saves_small_weights(tmp_path, digits):
    out = tmp_path / "weights" / "digits_cnn.pt"
    start = time.perf_counter()
    accuracy = train_digits_model(seed=0, out_path=out)
    elapsed = time.perf_counter() - start
    assert accuracy >= 0.97
    assert elapsed < 60
    assert out.stat().st_size < 1_000_000
    model = load_model("digits_cnn", out)
    assert compute_accuracy(model, digits.val) == pytest.approx(accuracy)


def test_train_digits_cnn_is_deterministic_and_can_store_half_precision(tmp_path):
    full, half, again = tmp_path / "a.pt", tmp_path / "b.pt", tmp_path / "c.pt"
    acc_full = train_digits_model(seed=1, epochs=1, out_path=full)
    acc_half = train_digits_model(seed=1, epochs=1, out_path=half, half=True)
    assert acc_full == acc_half
    train_digits_model(seed=1, epochs=1, out_path=again)
    a = torch.load(full, weights_only=True)
    c = torch.load(again, weights_only=True)
    assert all(torch.equal(a[k], c[k]) for k in a)
    assert half.stat().st_size < full.stat().st_size
    model = load_model("digits_cnn", half)
    assert all(p.dtype == torch.float32 for p in model.parameters())
    torch.testing.assert_close(
        model.state_dict()["classifier.weight"], a["classifier.weight"], atol=1e-3, rtol=1e-3
    )
