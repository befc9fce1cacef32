"""ONNX export: the file onnxruntime runs computes what the masked model computes, and it is smaller."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import explorer
from explorer.errors import ExplorerError
from explorer.session import PruningSession

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def session() -> PruningSession:
    s = PruningSession("digits_cnn")
    s.set_global_ratio(0.5, criterion="l1")
    return s


def test_onnx_file_equals_the_masked_model_and_is_smaller(session, tmp_path):
    path = tmp_path / "digits.onnx"
    result = explorer.export_onnx(session, path)
    assert result["path"] == str(path)
    assert result["bytes_after"] == path.stat().st_size
    assert result["bytes_after"] < 0.5 * result["bytes_before"]
    assert result["max_error"] <= 1e-4
    assert result["checked_samples"] == session.data.val.labels.shape[0]
    assert result["weights"] == "original"
    # independently: our own onnxruntime session, at a batch size the export never saw
    runner = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = session.data.val.inputs[:7]
    got = torch.from_numpy(np.asarray(runner.run(None, {"input": x.numpy()})[0]))
    assert (got - session.masked_outputs(x)).abs().max() <= 1e-4
    exported = session.export()
    convs = [n for n in onnx.load(str(path)).graph.node if n.op_type == "Conv"]
    assert len(convs) == 3
    widths = {tuple(i.dims) for i in onnx.load(str(path)).graph.initializer}
    assert tuple(exported.features[7].weight.shape) in widths  # the pruned conv's filters, physically fewer


def test_a_mismatch_writes_nothing(session, tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"an earlier file")
    with pytest.raises(ExplorerError, match="differs from the masked model"):
        explorer.export_onnx(session, path, tolerance=-1.0)
    assert path.read_bytes() == b"an earlier file"
    assert [p.name for p in tmp_path.iterdir()] == ["bad.onnx"]


def test_missing_extra_gives_the_install_command(session, tmp_path, monkeypatch):
    real = importlib.import_module

    def without_onnxruntime(name, *args):
        if name == "onnxruntime":
            raise ImportError("No module named 'onnxruntime'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", without_onnxruntime)
    with pytest.raises(ExplorerError, match=r'pip install "pruning-explorer\[onnx\]"'):
        explorer.export_onnx(session, tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()
