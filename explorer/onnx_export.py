"""ONNX export of the pruned network, verified with onnxruntime.

The exported (physically smaller) network is written as ONNX with a dynamic batch dimension, checked with
``onnx.checker``, and run with onnxruntime on the session's validation images: its logits must equal the
masked model's within ``tolerance`` (max |ONNX − masked| over every logit); otherwise nothing is written
and an error says by how much they differ. The unpruned network is exported the same way, only to measure its
size, so the result reports the bytes on disk before and after pruning.

Needs the optional extra ``onnx`` (``pip install "pruning-explorer[onnx]"``): ``onnx`` and ``onnxruntime``.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from explorer.errors import ExplorerError

ONNX_TOLERANCE = 1e-4
OPSET = 17


def _require(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ExplorerError(
            f"ONNX export needs the optional packages onnx and onnxruntime ({name} is missing): "
            'pip install "pruning-explorer[onnx]"'
        ) from error


def write_onnx(model: nn.Module, example: torch.Tensor, path: Path, opset: int = OPSET) -> Path:
    """Export ``model`` (eval mode) to ``path`` with a dynamic batch dimension, and check the file.

    Uses torch's TorchScript-based exporter, which needs nothing beyond ``onnx`` (the newer ``dynamo``
    exporter also needs ``onnxscript``).
    """
    onnx = _require("onnx")
    model = model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter announces its deprecation
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
            opset_version=opset,
        )
    onnx.checker.check_model(str(path))
    return path


def run_onnx(path: Path, inputs: torch.Tensor, batch_size: int = 200) -> torch.Tensor:
    """Logits of the ONNX file at ``path`` on ``inputs [N, ...]``, computed by onnxruntime on the CPU."""
    ort = _require("onnxruntime")
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(torch.get_num_threads(), 1)
    runner = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    outputs = []
    for start in range(0, int(inputs.shape[0]), batch_size):
        batch = inputs[start : start + batch_size].detach().float().cpu().numpy()
        outputs.append(torch.from_numpy(np.asarray(runner.run(["logits"], {"input": batch})[0])))
    return torch.cat(outputs)


def export_onnx(session: Any, path: str | Path, *, tolerance: float = ONNX_TOLERANCE) -> dict[str, Any]:
    """Write the session's exported network to ``path`` as ONNX and check it against the masked model.

    Args:
        session: a ``PruningSession``; its current plan on its live weights is exported.
        path: the ``.onnx`` file to write.
        tolerance: largest allowed |ONNX logits − masked logits| on the validation images.

    Returns:
        ``{"path", "bytes_before", "bytes_after", "size_ratio", "max_error", "checked_samples", "opset",
        "weights"}``; ``bytes_before`` is the unpruned network exported to ONNX the same way.

    Raises:
        ExplorerError: the extra is missing, or the ONNX outputs differ from the masked model's (``path`` is
            then left as it was).
    """
    _require("onnx")
    _require("onnxruntime")
    target = Path(path)
    example = session.example_input[:1].clone()
    exported = session.export()
    staged = target.with_name(f".{target.name}.part")
    try:
        write_onnx(exported, example, staged)
        inputs = session.data.val.inputs
        error = float((run_onnx(staged, inputs) - session.masked_outputs(inputs).float().cpu()).abs().max())
        if not error <= tolerance:
            raise ExplorerError(
                f"the ONNX model differs from the masked model by {error:.3g} (> {tolerance:g}); "
                f"{target} was not written"
            )
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        unpruned = write_onnx(session.model_copy(), example, Path(folder) / "unpruned.onnx")
        before = unpruned.stat().st_size
    after = target.stat().st_size
    return {
        "path": str(target),
        "bytes_before": before,
        "bytes_after": after,
        "size_ratio": after / before,
        "max_error": error,
        "checked_samples": int(inputs.shape[0]),
        "opset": OPSET,
        "weights": session.weights.label,
    }


__all__ = ["ONNX_TOLERANCE", "export_onnx", "run_onnx", "write_onnx"]
