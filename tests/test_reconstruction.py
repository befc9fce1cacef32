"""Least-squares reconstruction of the consumers (He, Zhang & Sun, ICCV 2017): the fit equals an
independently built least-squares problem, it wins accuracy back without training, and export stays exact."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import Conv2d, Linear
from toy_models import seeded

from explorer.masks import LayerCuts
from explorer.reconstruction import reconstruct_consumers
from explorer.session import PruningSession

REMOVED = {1, 3}
KEPT = [0, 2, 4]


def _toy(consumer_bias: bool) -> nn.Sequential:
    layers = [
        nn.Conv2d(2, 5, 3, padding=1, bias=False),
        nn.BatchNorm2d(5),
        nn.ReLU(),
        nn.Conv2d(5, 4, 3, stride=2, padding=1, bias=consumer_bias),
        nn.BatchNorm2d(4),
    ]
    return seeded(nn.Sequential(*layers), 3)


def _cuts() -> LayerCuts:
    return LayerCuts(out={"0": set(REMOVED), "1": set(REMOVED)}, inp={"3": set(REMOVED)})


def _loop_least_squares(model: nn.Sequential, x: torch.Tensor, intercept: bool) -> torch.Tensor:
    """Rows built patch by patch with explicit loops; solved with ``torch.linalg.lstsq``."""
    with torch.no_grad():
        full = model[2](model[1](model[0](x)))
        target = model[3](full)  # the original consumer's output, bias included
        kept = full[:, KEPT]
        padded = nn.functional.pad(kept, (1, 1, 1, 1))
    rows, ys = [], []
    for n in range(x.shape[0]):
        for i in range(target.shape[2]):
            for j in range(target.shape[3]):
                patch = padded[n, :, 2 * i : 2 * i + 3, 2 * j : 2 * j + 3].reshape(-1).tolist()
                rows.append(patch + ([1.0] if intercept else []))
                ys.append(target[n, :, i, j].tolist())
    a, y = torch.tensor(rows, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    return torch.linalg.lstsq(a, y).solution  # [K (+1), C_out]


@pytest.mark.parametrize("consumer_bias", [True, False])
def test_the_fit_is_the_least_squares_solution(consumer_bias):
    model = _toy(consumer_bias)
    x = torch.randn(8, 2, 6, 6, generator=torch.Generator().manual_seed(0))
    done = reconstruct_consumers(model, _cuts(), x, batch_size=3, ridge=0.0)
    want = _loop_least_squares(model, x, intercept=True)
    fitted = done.model[3]
    assert torch.allclose(fitted.weight[:, KEPT].double().reshape(4, -1), want[:-1].T, atol=1e-4)
    (fit,) = done.layers
    assert (fit.layer, fit.kept_inputs, fit.inputs, fit.rows) == ("3", 3, 5, 8 * 9)
    assert fit.error_after < fit.error_before
    if consumer_bias:
        assert fit.intercept == "bias"
        assert torch.allclose(fitted.bias.double(), want[-1], atol=1e-4)
    else:
        # no bias: the intercept is folded into the BatchNorm that reads the consumer's output
        assert fit.intercept == "bn running mean of 4"
        shift = model[4].running_mean - done.model[4].running_mean
        assert torch.allclose(shift.double(), want[-1], atol=1e-4)
    # removed input columns and everything else are untouched; the original model too
    assert torch.equal(fitted.weight[:, sorted(REMOVED)], model[3].weight[:, sorted(REMOVED)])
    assert torch.equal(done.model[0].weight, model[0].weight)


@pytest.fixture(scope="module")
def digits() -> PruningSession:
    return PruningSession("digits_cnn", precision="fp32")


def test_digits_wins_back_ten_points_without_training(digits):
    s = digits
    s.set_global_ratio(0.5, criterion="l1")
    plan_number = s.plan_number
    before = s.evaluate().accuracy
    result = s.reconstruct()
    after = s.evaluate().accuracy
    assert result["accuracy_before"] == pytest.approx(before)
    assert result["accuracy_after"] == pytest.approx(after)
    assert after >= before + 0.10  # measured: 36.5 % → 95.8 %
    assert s.weights.kind == "reconstructed"
    assert s.weights.label == result["weights"] == f"reconstructed under plan #{plan_number}"
    assert result["plan_number"] == plan_number
    assert s.weights.fits(s.pruned)
    assert [fit["layer"] for fit in result["layers"]] == ["features.7", "classifier"]
    assert all(fit["error_after"] < fit["error_before"] for fit in result["layers"])
    assert s.verify_export() <= 1e-4  # masked still equals exported
    assert s.undo()
    assert s.weights.is_original
    assert s.evaluate().accuracy == pytest.approx(before)


def test_without_adopt_the_session_is_unchanged(digits):
    s = digits
    s.reset()
    s.set_ratio("features.3", 0.5, criterion="l1")
    number = s.plan_number
    result = s.reconstruct(adopt=False)
    assert result["weights"] == "original"
    assert s.weights.is_original
    assert s.plan_number == number
    assert [fit["layer"] for fit in result["layers"]] == ["features.7"]


@pytest.mark.slow
def test_pretrained_resnet20_recovers_on_real_cifar_images(shared_data, tmp_path, monkeypatch):
    """50 real images fit the consumers, the 50 others judge them (30 % global L1 plan)."""
    from explorer.zoo.pretrained import install_weights

    monkeypatch.setenv("PRUNING_EXPLORER_CACHE", str(tmp_path))
    install_weights("resnet20_cifar", shared_data / "pretrained" / "resnet20-12fca82f.th")
    csv = shared_data / "cifar10-first100" / "cifar10_test.csv"
    s = PruningSession(
        "resnet20_cifar", data=f"cifar10_csv:{csv}", num_samples=50, calib_samples=50, precision="fp32"
    )
    val = {tuple(x.flatten()[:8].tolist()) for x in s.data.val.inputs}
    assert not val & {tuple(x.flatten()[:8].tolist()) for x in s.data.calib.inputs}  # disjoint halves
    s.set_global_ratio(0.3, criterion="l1")
    result = s.reconstruct()
    assert result["accuracy_after"] >= result["accuracy_before"] + 0.15  # measured: 62 % → 90 %
    # the refitted layers are the consumers of pruned channels (the residual streams are prunable too)
    consumers = {
        name for name in s.layer_cuts().inp if isinstance(s.model.get_submodule(name), (Conv2d, Linear))
    }
    assert {fit["layer"] for fit in result["layers"]} <= consumers
    assert s.verify_export() <= 1e-4
