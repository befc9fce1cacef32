"""Checkpoints are read safely (weights_only), strictly, and never change the caller's module."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.checkpoints import load_checkpoint_state_dict
from explorer.errors import CheckpointError, ModelError
from explorer.models import load_model
from explorer.zoo import create_model


class SmallNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(torch.relu(self.bn(self.conv(x))).mean((2, 3)))


class Payload:
    """A pickle that creates a file when unpickled: what a malicious checkpoint would do."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def _states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _trained_digits_state() -> dict:
    torch.manual_seed(1)
    return create_model("digits_cnn").state_dict()


# ------------------------------------------------------------------------------------------- reading
@pytest.mark.parametrize("wrapper", [None, "state_dict", "model", "model_state_dict"])
def test_raw_and_wrapped_state_dicts(tmp_path, wrapper):
    state = _trained_digits_state()
    path = tmp_path / "ckpt.pt"
    torch.save(state if wrapper is None else {wrapper: state, "epoch": 7}, path)
    assert _states_equal(load_checkpoint_state_dict(path), state)


def test_dataparallel_prefixes_are_stripped(tmp_path):
    model = SmallNet()
    wrapped = nn.DataParallel(model)
    assert all(k.startswith("module.") for k in wrapped.state_dict())
    path = tmp_path / "dp.pt"
    torch.save({"state_dict": wrapped.state_dict(), "best_prec1": 91.0}, path)
    assert _states_equal(load_checkpoint_state_dict(path), model.state_dict())
    loaded = load_model(SmallNet(), path)
    assert _states_equal(loaded.state_dict(), model.state_dict())


def test_a_pickled_whole_module_is_refused_with_instructions(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(SmallNet(), path)
    with pytest.raises(CheckpointError, match="refused") as info:
        load_checkpoint_state_dict(path)
    message = str(info.value)
    assert "load_model" in message
    assert "state_dict" in message


def test_a_malicious_pickle_does_not_run(tmp_path):
    target = tmp_path / "pwned.txt"
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": Payload(target)}, path)
    with pytest.raises(CheckpointError, match="refused"):
        load_checkpoint_state_dict(path)
    with pytest.raises(CheckpointError):
        load_model("digits_cnn", path)
    assert not target.exists()
    # the payload is real: an unsafe load would have run it
    torch.load(path, weights_only=False).get("payload").close()
    assert target.exists()


def test_truncated_corrupt_and_empty_files(tmp_path):
    good = tmp_path / "good.pt"
    torch.save(_trained_digits_state(), good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated, corrupt"):
        load_checkpoint_state_dict(truncated)
    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint at all" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint_state_dict(garbage)
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint_state_dict(empty)
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint_state_dict(tmp_path / "missing.pt")


def test_size_limit(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save(_trained_digits_state(), path)
    size = path.stat().st_size
    assert load_checkpoint_state_dict(path, max_bytes=size)
    with pytest.raises(CheckpointError, match="limit of 1,000 bytes"):
        load_checkpoint_state_dict(path, max_bytes=1000)


def test_dicts_without_a_state_dict(tmp_path):
    path = tmp_path / "meta.pt"
    torch.save({"epoch": 3, "lr": 0.1}, path)
    with pytest.raises(CheckpointError, match="not a state_dict"):
        load_checkpoint_state_dict(path)
    torch.save([torch.zeros(2)], path)
    with pytest.raises(CheckpointError, match="holds a list"):
        load_checkpoint_state_dict(path)


# ------------------------------------------------------------------------------------------ load_model
def test_mismatched_keys_are_all_listed(tmp_path):
    state = _trained_digits_state()
    del state["features.0.weight"]
    state["features.99.weight"] = torch.zeros(1)
    path = tmp_path / "mismatch.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match="missing keys") as info:
        load_model("digits_cnn", path)
    message = str(info.value)
    assert "features.0.weight" in message
    assert "unexpected keys" in message
    assert "features.99.weight" in message


def test_wrong_shapes_are_reported(tmp_path):
    state = _trained_digits_state()
    state["classifier.weight"] = torch.zeros(5, 64)
    path = tmp_path / "shape.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"classifier\.weight"):
        load_model("digits_cnn", path)


def test_load_model_never_mutates_the_callers_module(tmp_path):
    original = SmallNet().train()
    before = {k: v.clone() for k, v in original.state_dict().items()}
    other = SmallNet()
    path = tmp_path / "other.pt"
    torch.save(other.state_dict(), path)
    loaded = load_model(original, path)
    assert loaded is not original
    assert not loaded.training
    assert original.training
    assert _states_equal(original.state_dict(), before)
    assert _states_equal(loaded.state_dict(), other.state_dict())
    assert loaded.explorer_name == "SmallNet"
    assert loaded.explorer_trained is True
    assert not hasattr(original, "explorer_name")
    plain = load_model(original)
    assert _states_equal(plain.state_dict(), before)


def test_load_model_from_zoo_names(tmp_path):
    trained = load_model("digits_cnn")
    assert trained.explorer_name == "digits_cnn"
    assert trained.explorer_trained is True
    assert load_model("digits_cnn", pretrained=False).explorer_trained is False
    state = _trained_digits_state()
    path = tmp_path / "mine.pt"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in state.items()}, path)
    mine = load_model("digits_cnn", path)
    assert mine.explorer_trained is True
    assert all(p.dtype == torch.float32 for p in mine.parameters())
    assert torch.equal(mine.state_dict()["classifier.weight"], state["classifier.weight"].half().float())
    with pytest.raises(ModelError, match="unknown model"):
        load_model("digits_cnnn")
    with pytest.raises(ModelError, match=r"zoo name or an nn\.Module"):
        load_model(42)
