"""The device invariants on a CUDA GPU (``-m gpu``): skipped, with the reason, where PyTorch sees no GPU.

The same checks as ``tests/test_device.py`` runs on the CPU: masked = exported, the results agree with the
CPU's, the user's model stays on the CPU unchanged, and every workflow (criteria, sensitivity, fine-tuning,
reconstruction, the analyses) runs with the model and the data on the GPU.
"""

from __future__ import annotations

import copy

import pytest
import torch

from explorer.criteria import list_criteria
from explorer.session import PruningSession
from tests.toy_models import ResidualNet, seeded

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason="no CUDA GPU here (torch.cuda.is_available() is False)"
    ),
    pytest.mark.filterwarnings("ignore:the embedded weights", "ignore:pretrained weights"),
]


@pytest.fixture(scope="module")
def pair():
    """digits_cnn on the GPU and on the CPU, both in fp32, the same plan."""
    gpu = PruningSession("digits_cnn", device="cuda", precision="fp32")
    cpu = PruningSession("digits_cnn", device="cpu", precision="fp32")
    return gpu, cpu


def test_everything_the_session_holds_is_on_the_gpu(pair):
    gpu, _ = pair
    assert gpu.device.type == "cuda"
    assert all(p.device == gpu.device for p in gpu.model.parameters())
    assert gpu.data.val.inputs.device == gpu.device
    assert gpu.data.calib.inputs.device == gpu.device
    assert all(x.device == gpu.device for x, _ in gpu.evaluator.batches)
    assert gpu.budget.device == str(gpu.device)
    assert gpu.budget.device_free is not None
    assert gpu.baseline().device == str(gpu.device)
    assert gpu.summary()["device_name"].startswith(str(gpu.device))


def test_auto_precision_is_bf16_on_a_gpu_that_has_it():
    s = PruningSession("digits_cnn", device="cuda", verify=False)
    with torch.cuda.device(s.device):
        assert s.precision == ("bf16" if torch.cuda.is_bf16_supported() else "fp32")


def test_gpu_and_cpu_agree_and_masked_equals_exported(pair):
    gpu, cpu = pair
    for s in pair:
        s.reset()
        s.set_ratios({"features.0": 0.5, "features.3": 0.5, "features.7": 0.25}, criterion="l1")
    assert gpu.pruned == cpu.pruned
    a, b = gpu.evaluate(), cpu.evaluate()
    assert abs(a.accuracy - b.accuracy) <= 2 / a.total  # fp32 kernels differ in the last bits
    assert a.loss == pytest.approx(b.loss, rel=1e-3, abs=1e-4)
    assert gpu.verify_export() <= 1e-4
    x = cpu.data.val.inputs[:50]
    assert torch.allclose(gpu.masked_outputs(x).cpu(), cpu.masked_outputs(x), atol=1e-3)


def test_every_criterion_scores_on_the_gpu(pair):
    gpu, cpu = pair
    for criterion in list_criteria():
        scores = gpu.scores(criterion)
        assert all(torch.isfinite(v.float().cpu()).all() for v in scores.values()), criterion
    for name, score in gpu.scores("l1").items():
        assert torch.allclose(score.float().cpu(), cpu.scores("l1")[name].float().cpu(), rtol=1e-4)


def test_sensitivity_and_early_stopping_on_the_gpu(pair):
    gpu, cpu = pair
    exact = gpu.sensitivity(ratios=[0.3, 0.7], groups=["features.3"])
    assert len(exact.rows) == 2
    assert [r["accuracy"] for r in exact.rows] == pytest.approx(
        [r["accuracy"] for r in cpu.sensitivity(ratios=[0.3, 0.7], groups=["features.3"]).rows], abs=2 / 359
    )
    early = gpu.sensitivity(ratios=[0.3, 0.7], groups=["features.3"], tolerance=0.05)
    assert all(r["samples"] <= 359 for r in early.rows)


def test_workflows_run_on_the_gpu_and_the_users_model_stays_on_the_cpu():
    user = seeded(ResidualNet()).eval()
    before = copy.deepcopy(user.state_dict())
    generator = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.randn(60, 1, 8, 8, generator=generator), torch.arange(60) % 5)
    train = torch.utils.data.TensorDataset(
        torch.randn(80, 1, 8, 8, generator=generator), torch.arange(80) % 5
    )
    s = PruningSession(user, data=data, train_data=train, device="cuda")
    s.set_global_ratio(0.5, criterion="taylor")
    s.evaluate()
    s.finetune(steps=3, eval_every=0)
    s.reconstruct()
    s.per_class()
    s.flipped()
    s.dynamic(0.5)
    s.compare_training_modes(steps=2)
    assert s.verify_export() <= 1e-4
    assert all(p.device.type == "cpu" for p in user.parameters())
    assert all(torch.equal(before[k], v) for k, v in user.state_dict().items())
