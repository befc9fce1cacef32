"""The model registry: tiny constructor functions registered by name, in the style of timm.

Infrastructure only: the architectures live in ``digits.py`` and ``cifar.py``, the torchvision bridge in
``torchvision_models.py``, the weights logic in ``pretrained.py``, and ``building.py`` builds a model with its
weights.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from torch import nn

from explorer.errors import ModelError
from explorer.zoo.specs import TORCHVISION_PREFIX, ModelEntry, ModelSpec, WeightsSource
from explorer.zoo.torchvision_models import list_torchvision_models, torchvision_entry

__all__ = [
    "TORCHVISION_PREFIX",
    "ModelEntry",
    "ModelSpec",
    "WeightsSource",
    "get_model_entry",
    "get_model_spec",
    "list_models",
    "register_model",
]

_MODELS: dict[str, ModelEntry] = {}


def register_model(
    name: str,
    *,
    dataset: str,
    input_shape: tuple[int, int, int],
    num_classes: int,
    description: str,
    pretrained: WeightsSource | None = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Register a tiny constructor ``fn(num_classes=...) -> nn.Module`` under ``name``.

    Args:
        name: registry name; must be new and must not start with ``"torchvision/"``.
        dataset: default data source for ``explorer.load_data``.
        input_shape: ``(C, H, W)`` of one sample.
        num_classes: number of classes of the default dataset.
        description: one line shown in the UI.
        pretrained: where trained weights come from, if any.

    Returns:
        A decorator that registers the function and returns it unchanged.
    """
    if name.startswith(TORCHVISION_PREFIX):
        raise ModelError(f"{name!r}: names starting with {TORCHVISION_PREFIX!r} are reserved for torchvision")
    if len(input_shape) != 3:
        raise ModelError(f"{name!r}: input_shape must be (C, H, W), got {input_shape!r}")

    def decorator(fn: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS:
            raise ModelError(f"a model named {name!r} is already registered")
        spec = ModelSpec(
            name=name,
            dataset=dataset,
            input_shape=tuple(int(v) for v in input_shape),  # type: ignore[arg-type]
            num_classes=int(num_classes),
            description=description,
            has_pretrained=pretrained is not None,
        )
        _MODELS[name] = ModelEntry(spec=spec, build=fn, weights=pretrained)
        return fn

    return decorator


def list_models(include_torchvision: bool = False) -> list[str]:
    """Names of the zoo models.

    Args:
        include_torchvision: also list ``"torchvision/<name>"`` for every torchvision classification model.

    Returns:
        The registered names in registration order, then the torchvision ones sorted.
    """
    names = list(_MODELS)
    if include_torchvision:
        names += [TORCHVISION_PREFIX + n for n in list_torchvision_models()]
    return names


def get_model_entry(name: str) -> ModelEntry:
    """The registry row of ``name`` (torchvision names are built on demand).

    Raises:
        ModelError: unknown name; the message lists close matches.
    """
    if not isinstance(name, str):
        raise ModelError(f"a model name must be a string, got {type(name).__name__}")
    entry = _MODELS.get(name)
    if entry is not None:
        return entry
    if name.startswith(TORCHVISION_PREFIX):
        short = name[len(TORCHVISION_PREFIX) :]
        if short in list_torchvision_models():
            return torchvision_entry(short)
        candidates = [TORCHVISION_PREFIX + n for n in list_torchvision_models()]
    else:
        candidates = list_models(include_torchvision=True)
    close = difflib.get_close_matches(name, candidates, n=5, cutoff=0.5)
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    raise ModelError(f"unknown model {name!r}.{hint} Known zoo models: {', '.join(_MODELS)}.")


def get_model_spec(name: str) -> ModelSpec:
    """The ``ModelSpec`` of a zoo name, also ``"torchvision/<name>"`` (ImageNet, 3x224x224, 1000 classes).

    Raises:
        ModelError: unknown name; the message lists close matches.
    """
    return get_model_entry(name).spec
