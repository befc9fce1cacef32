"""Building a zoo model, with its trained weights when asked for."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from explorer.zoo._registry import get_model_entry
from explorer.zoo.pretrained import apply_pretrained

__all__ = ["create_model"]


def create_model(
    name: str,
    pretrained: bool = False,
    *,
    cache_dir: str | Path | None = None,
    allow_download: bool = False,
    strict: bool = False,
) -> nn.Module:
    """Build a zoo model in eval mode.

    The model gets two plain attributes: ``explorer_name`` (``name``) and ``explorer_trained`` (whether
    trained weights were loaded).

    Args:
        name: a name from ``list_models(include_torchvision=True)``.
        pretrained: load trained weights: the embedded ones for ``digits_cnn``; otherwise from the cache
            (``cache_dir``, else ``$PRUNING_EXPLORER_CACHE``, else ``~/.cache/pruning-explorer/weights``).
        cache_dir: where cached weights live.
        allow_download: download missing weights (SHA-256 checked) into the cache.
        strict: raise instead of warning when the weights are unavailable.

    Returns:
        The model, on CPU, in eval mode. When pretrained weights were asked for but are unavailable, a
        ``UserWarning`` says why and the model keeps random weights (``explorer_trained = False``).

    Raises:
        ModelError: unknown name.
        WeightsUnavailableError: with ``strict=True``, when the weights cannot be loaded.
    """
    entry = get_model_entry(name)
    model = entry.build(num_classes=entry.spec.num_classes)
    trained = False
    if pretrained:
        trained = apply_pretrained(
            model, entry, cache_dir=cache_dir, allow_download=allow_download, strict=strict
        )
    model.eval()
    model.explorer_name = name
    model.explorer_trained = trained
    return model
