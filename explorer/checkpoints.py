"""Reading user checkpoints safely, and loading a state dict into a model with strict key checking.

Checkpoints are always read with ``torch.load(..., weights_only=True)``: a checkpoint is data, and unpickling
arbitrary Python objects from a file a user picked can run code. So a whole pickled ``nn.Module`` is refused
with a message that says what to do instead: pass the module itself to ``load_model`` and its weights as a
``state_dict`` file. Building a model (a zoo name or a copy of the user's module) and filling it with a
checkpoint is ``explorer.models.load_model``'s job.
"""

from __future__ import annotations

import os
import pickle
import pickletools
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from explorer.errors import CheckpointError

__all__ = ["load_checkpoint_state_dict", "load_state_dict_into", "strip_wrapper_prefixes"]

# containers written by common training scripts: {"state_dict": ...}, {"model": ...}, ...
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "weights")
# DataParallel / DistributedDataParallel and torch.compile wrap the real module
_WRAPPER_PREFIXES = ("module.", "_orig_mod.")
_REFUSED_HINT = (
    "For safety the explorer only reads plain tensors (torch.load with weights_only=True). If this file is a "
    "whole pickled nn.Module, build the architecture in Python, pass that nn.Module to explorer.load_model "
    "(or PruningSession), and give the weights as a state_dict saved with "
    "torch.save(model.state_dict(), path)."
)
# every opcode a pickle may hold; the weights-only unpickler reports others as "Unsupported operand"
_PICKLE_OPCODES = {ord(op.code) for op in pickletools.opcodes}


def strip_wrapper_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with the key prefixes of wrapping modules removed (``module.`` of DataParallel,
    ``_orig_mod.`` of ``torch.compile``)."""
    for prefix in _WRAPPER_PREFIXES:
        if state and all(key.startswith(prefix) for key in state):
            state = {key[len(prefix) :]: value for key, value in state.items()}
    # a mix of prefixed and plain keys: strip the prefixed ones individually
    return {
        next((key[len(p) :] for p in _WRAPPER_PREFIXES if key.startswith(p)), key): value
        for key, value in state.items()
    }


def _unwrap(obj: object, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if (
                isinstance(inner, Mapping)
                and inner
                and all(isinstance(v, torch.Tensor) for v in inner.values())
            ):
                obj = inner
                break
    if not isinstance(obj, Mapping):
        raise CheckpointError(
            f"{path} holds a {type(obj).__name__}, not a state_dict (a dict of tensors)",
            code="checkpoint.not_state_dict",
            values={"path": str(path), "kind": type(obj).__name__},
        )
    if not obj:
        raise CheckpointError(
            f"{path} holds an empty dict, not a state_dict",
            code="checkpoint.empty_dict",
            values={"path": str(path)},
        )
    not_tensors = [
        str(k) for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)
    ]
    if not_tensors:
        raise CheckpointError(
            f"{path} is a dict but not a state_dict: entries {not_tensors[:8]} are not tensors, and none of "
            f"the keys {list(_WRAPPER_KEYS)} holds a state_dict. Save the weights with "
            "torch.save(model.state_dict(), path).",
            code="checkpoint.not_tensors",
            values={"path": str(path), "entries": ", ".join(not_tensors[:8])},
        )
    return strip_wrapper_prefixes(dict(obj))


def _is_garbled_pickle(text: str) -> bool:
    """Whether torch's weights-only error is about a byte that is no pickle opcode at all (corruption)."""
    found = re.search(r"Unsupported operand (\d+)", text)
    return found is not None and int(found.group(1)) not in _PICKLE_OPCODES


def _check_zip_checksums(path: Path) -> None:
    """Refuse a zip-format checkpoint (``torch.save``'s default) whose stored CRC-32s do not match.

    torch does not verify them when loading, so a flipped bit in a tensor would otherwise load silently.
    The legacy (pre-1.6) format has no checksums; damage there is caught only when it breaks the structure.
    """
    if not zipfile.is_zipfile(path):
        return
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError):
        return  # torch.load reports structural damage itself, with its own message
    if bad is not None:
        raise CheckpointError(
            f"{path} is corrupt: the stored checksum of its entry {bad!r} does not match its bytes "
            "(a damaged copy or download?)",
            code="checkpoint.checksum",
            values={"path": str(path), "entry": bad},
        )


def load_checkpoint_state_dict(
    path: str | os.PathLike, *, max_bytes: int | None = None
) -> dict[str, torch.Tensor]:
    """Read a state_dict from a checkpoint file, safely.

    Accepts a raw state_dict or a dict holding it under ``"state_dict"``, ``"model_state_dict"`` or
    ``"model"`` (also ``"net"``, ``"weights"``). ``module.`` prefixes (DataParallel) and ``_orig_mod.``
    prefixes (torch.compile) are stripped.

    Args:
        path: the checkpoint file.
        max_bytes: refuse files larger than this many bytes.

    Returns:
        Parameter and buffer names mapped to CPU tensors, in the file's dtypes.

    Raises:
        CheckpointError: missing, too large, truncated or corrupt file (a zip-format file is checked against
            its CRC-32 checksums first); a pickled module or any other pickled Python object; a dict that
            holds no state_dict.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            f"checkpoint {path} does not exist or is not a file",
            code="checkpoint.missing",
            values={"path": str(path)},
        )
    size = path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise CheckpointError(
            f"checkpoint {path} is {size:,} bytes, more than the limit of {max_bytes:,} bytes",
            code="checkpoint.too_large",
            values={"path": str(path), "size": f"{size:,}", "limit": f"{max_bytes:,}"},
        )
    if size == 0:
        raise CheckpointError(
            f"checkpoint {path} is empty (0 bytes)", code="checkpoint.empty_file", values={"path": str(path)}
        )
    _check_zip_checksums(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        text = str(error)
        if _is_garbled_pickle(text):
            raise CheckpointError(
                f"{path} is corrupt: its pickled header holds bytes that are not pickle instructions "
                "(a damaged or truncated download?)",
                code="checkpoint.garbled",
                values={"path": str(path)},
            ) from error
        if "weights_only" in text or "Weights only" in text or "Unsupported" in text:
            # name the offending global, but not torch's advice to allow-list it
            found = re.search(r"GLOBAL ([\w.]+)", text)
            what = f" such as {found.group(1)}" if found else ""
            raise CheckpointError(
                f"{path} was refused: it contains pickled Python objects{what}, not only tensors. "
                + _REFUSED_HINT,
                code="checkpoint.pickled_objects",
                values={"path": str(path)},
            ) from error
        raise CheckpointError(
            f"{path} is corrupt or not a PyTorch checkpoint ({text.strip()[:200]})",
            code="checkpoint.not_torch",
            values={"path": str(path), "detail": text.strip()[:200]},
        ) from error
    except Exception as error:  # a damaged file makes the unpickler fail in many ways
        raise CheckpointError(
            f"{path} is truncated, corrupt or not a PyTorch checkpoint "
            f"({type(error).__name__}: {str(error).strip()[:200]})",
            code="checkpoint.unreadable",
            values={"path": str(path), "detail": f"{type(error).__name__}: {str(error).strip()[:200]}"},
        ) from error
    return _unwrap(obj, path)


def load_state_dict_into(
    model: nn.Module,
    state: Mapping[str, torch.Tensor],
    *,
    source: str = "checkpoint",
    name: str | None = None,
) -> None:
    """Load ``state`` into ``model`` with strict key checking.

    Tensors are cast to the model's dtypes (a float16 file gives a float32 model).

    Args:
        model: the module to fill in place.
        state: parameter and buffer names mapped to tensors.
        source: how to name the state in error messages.
        name: the bare name of the weights (a file or model name) for the app's translated messages;
            ``source`` when not given.

    Raises:
        CheckpointError: missing or unexpected keys (all listed), or tensors of the wrong shape.
    """
    try:
        result = model.load_state_dict(dict(state), strict=False)
    except RuntimeError as error:
        raise CheckpointError(
            f"{source} does not fit the model: {error}",
            code="checkpoint.wrong_shapes",
            values={"source": str(source if name is None else name), "detail": str(error)},
        ) from error
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f"{source} does not match the model ({type(model).__name__}): "
            f"missing keys {list(result.missing_keys)}; unexpected keys {list(result.unexpected_keys)}",
            code="checkpoint.keys_mismatch",
            values={
                "source": str(source if name is None else name),
                "missing": ", ".join(result.missing_keys) or "-",
                "unexpected": ", ".join(result.unexpected_keys) or "-",
            },
        )
