"""A practitioner's own model and data end to end: validation data, training data, save and load."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset
from toy_models import LambdaPadResNet, PlainNet, seeded

import explorer.experiments
from explorer import PruningSession, load_pruned, save_pruned
from explorer.errors import CheckpointError, DataError, ExplorerError


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made such tests 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _data(n: int, seed: int, shape=(1, 8, 8)) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, *shape, generator=generator), torch.arange(n) % 5)


def test_fine_tuning_uses_the_training_data_given_and_never_the_validation_data(monkeypatch):
    val, train = _data(40, 0), _data(120, 1)
    s = PruningSession(seeded(PlainNet()), data=val, train_data=DataLoader(train, batch_size=16))
    assert s.data.train.labels.shape == (120,)
    # the calibration subset (data-driven criteria) comes from the training data too
    val_rows = {tuple(x.flatten().tolist()) for x in s.data.val.inputs}
    assert not any(tuple(x.flatten().tolist()) in val_rows for x in s.data.calib.inputs)
    seen = []
    real = explorer.experiments.finetune_masked

    def spy(model, cuts, train_split, val_split, steps, **kwargs):
        seen.append(train_split)
        return real(model, cuts, train_split, val_split, steps, **kwargs)

    monkeypatch.setattr(explorer.experiments, "finetune_masked", spy)
    s.set_global_ratio(0.3)
    result = s.finetune(steps=4, eval_every=0)
    assert not result.cancelled
    assert seen[0] is s.data.train
    assert "fine-tuned" in s.weights.label


def test_without_training_data_fine_tuning_is_refused_with_the_way_out():
    s = PruningSession(seeded(PlainNet()), data=_data(40, 0))
    assert s.data.train is None
    s.set_global_ratio(0.3)
    for run in (lambda: s.finetune(steps=2), lambda: s.compare_schedules(steps=2)):
        with pytest.raises(ExplorerError, match=r"train_data=") as info:
            run()
        assert "validation" in str(info.value)
    assert s.weights.is_original


def test_held_out_training_data_never_touches_validation(monkeypatch):
    """``train_data="held-out"``: fine-tuning sees exactly the source's samples that validation left out."""
    source = _data(40, 0)
    s = PruningSession(seeded(PlainNet()), data=source, num_samples=24, train_data="held-out")
    rows = {tuple(x.flatten().tolist()) for x in source.tensors[0]}
    val = {tuple(x.flatten().tolist()) for x in s.data.val.inputs}
    train = {tuple(x.flatten().tolist()) for x in s.data.train.inputs}
    assert len(val) == 24
    assert len(train) == 16
    assert train == rows - val
    seen = []
    real = explorer.experiments.finetune_masked
    monkeypatch.setattr(
        explorer.experiments, "finetune_masked", lambda *a, **k: seen.append(a[2]) or real(*a, **k)
    )
    s.set_global_ratio(0.3)
    s.finetune(steps=2, eval_every=0)
    assert seen == [s.data.train]
    assert "fine-tuned" in s.weights.label
    with pytest.raises(ExplorerError, match="held-out"):
        PruningSession(seeded(PlainNet()), data=s.data, train_data="held-out")


def test_training_data_of_another_shape_is_refused_naming_both():
    with pytest.raises(DataError, match=r"\(3, 8, 8\).*\(1, 8, 8\)"):
        PruningSession(seeded(PlainNet()), data=_data(40, 0), train_data=_data(40, 1, (3, 8, 8)))


def test_a_pruned_custom_model_is_saved_and_loaded_back_with_model(tmp_path):
    s = PruningSession(seeded(LambdaPadResNet()), data=_data(40, 0))
    s.set_global_ratio(0.4)
    folder = save_pruned(s, tmp_path / "saved")
    rebuilt = load_pruned(folder, model=LambdaPadResNet())  # the input shape is read from the plan
    x = s.data.val.inputs[:8]
    with torch.no_grad():
        assert torch.allclose(rebuilt(x), s.masked_outputs(x), atol=1e-5)
    with pytest.raises(CheckpointError, match=r"'LambdaPadResNet'.*model=") as info:
        load_pruned(folder)
    assert "unknown model" not in str(info.value)
