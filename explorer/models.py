"""Getting a model ready for exploration: a zoo model or a copy of the user's module, with optional weights.

This module sits above the zoo (which builds named models) and the checkpoint reader (which only reads
state dicts), so neither of those needs the other.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping

import torch
from torch import nn

from explorer.checkpoints import load_checkpoint_state_dict, load_state_dict_into, strip_wrapper_prefixes
from explorer.errors import ModelError
from explorer.zoo import create_model

__all__ = ["load_model"]


# The copy must hold ordinary tensors even when called inside torch.inference_mode(): gradients and
# torch-pruning's tracing need them later.
@torch.inference_mode(False)
def load_model(
    source: str | nn.Module,
    checkpoint: str | os.PathLike | Mapping[str, torch.Tensor] | None = None,
    *,
    pretrained: bool = True,
    max_bytes: int | None = None,
) -> nn.Module:
    """Get a model ready for exploration: a zoo model or a copy of the user's module, with optional weights.

    Args:
        source: a zoo name (see ``explorer.list_models``) or an ``nn.Module``. A module is deep-copied first,
            so the caller's object is never changed.
        checkpoint: a state_dict file (read with ``load_checkpoint_state_dict``) or a state_dict, loaded with
            strict key checking.
        pretrained: for zoo names without a checkpoint, load the zoo's trained weights (a warning and random
            weights when they are unavailable).
        max_bytes: refuse a checkpoint file larger than this many bytes, before reading it.

    Returns:
        The model in eval mode, with ``explorer_name`` (the zoo name; for a user module its existing
        ``explorer_name`` or its class name) and ``explorer_trained`` (``True`` for a user module or when a
        checkpoint was loaded).

    Raises:
        ModelError: unknown zoo name, a source that is neither a name nor a module, or a module that
            cannot be copied.
        CheckpointError: the checkpoint cannot be read or does not match the model.
    """
    if isinstance(source, str):
        model = create_model(source, pretrained=pretrained and checkpoint is None)
    elif isinstance(source, nn.Module):
        try:
            model = copy.deepcopy(source)
        except Exception as error:  # arbitrary user modules fail to copy in arbitrary ways
            raise ModelError(
                f"cannot copy the model ({type(error).__name__}: {error}); the explorer works on a copy so "
                "that your module is never changed. Replace lambdas or open handles held by the module."
            ) from error
        model.explorer_name = getattr(source, "explorer_name", type(source).__name__)
        model.explorer_trained = bool(getattr(source, "explorer_trained", True))
    else:
        raise ModelError(f"a model must be a zoo name or an nn.Module, got {type(source).__name__}")
    if checkpoint is not None:
        if isinstance(checkpoint, Mapping):
            state, what = strip_wrapper_prefixes(dict(checkpoint)), "the state_dict"
        else:
            state = load_checkpoint_state_dict(checkpoint, max_bytes=max_bytes)
            what = f"checkpoint {checkpoint}"
        load_state_dict_into(
            model, state, source=what, name=None if isinstance(checkpoint, Mapping) else str(checkpoint)
        )
        model.explorer_trained = True
    return model.eval()
