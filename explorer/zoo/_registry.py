"""The model registry: tiny constructor functions registered by name, in the style of timm.

Infrastructure only: the architectures live in ``digits.py`` and ``cifar.py``, the torchvision bridge in
``torchvision_models.py`` and the weights logic in ``pretrained.py``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

from explorer.errors import ModelError

__all__ = [
    "TORCHVISION_PREFIX",
    "ModelEntry",
    "ModelSpec",
    "WeightsSource",
    "create_model",
    "get_model_entry",
    "get_model_spec",
    "list_models",
    "register_model",
]

TORCHVISION_PREFIX = "torchvision/"


@dataclass(frozen=True)
class ModelSpec:
    """What the rest of the explorer needs to know about a zoo model, without building it."""

    name: str  # registry name: "digits_cnn", "resnet20_cifar", "torchvision/resnet18"
    dataset: str  # default data source name for load_data: "digits", "cifar10", "imagenet", "mnist"
    input_shape: tuple[int, int, int]  # (C, H, W) of one sample, e.g. (1, 8, 8) or (3, 32, 32)
    num_classes: int  # number of logits the model returns
    description: str  # one line for the UI
    has_pretrained: bool  # whether trained weights exist (embedded, cached or downloadable)


@dataclass(frozen=True)
class WeightsSource:
    """Where the trained weights of a zoo model come from.

    Exactly one of ``embedded`` and ``url`` is set. Downloaded files are verified against ``sha256``, which is
    either the full hex digest or, for files named ``<stem>-<hex prefix>.<ext>`` (the torch.hub convention
    used by torchvision and by the public CIFAR ResNets), a hex prefix of it.
    """

    url: str | None = None  # download address; its last path component is the cache file name
    sha256: str | None = None  # full SHA-256 hex digest or a prefix of it (at least 8 hex digits)
    embedded: str | None = None  # file name inside explorer/zoo/weights, shipped with the package
    adapt: Callable[[dict], dict] | None = None  # fixes old key names before load_state_dict

    def __post_init__(self) -> None:
        if (self.url is None) == (self.embedded is None):
            raise ValueError("a WeightsSource needs exactly one of url= and embedded=")
        if self.url is not None and (self.sha256 is None or not re.fullmatch(r"[0-9a-f]{8,64}", self.sha256)):
            raise ValueError(f"a downloadable WeightsSource needs a hex sha256 (prefix), got {self.sha256!r}")

    @property
    def filename(self) -> str:
        """The file name in the cache (or in the package, for embedded weights)."""
        if self.embedded is not None:
            return self.embedded
        assert self.url is not None
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def embedded_path(self) -> Path | None:
        """Absolute path of embedded weights, or ``None`` for downloadable ones."""
        if self.embedded is None:
            return None
        return Path(__file__).resolve().parent / "weights" / self.embedded


@dataclass(frozen=True)
class ModelEntry:
    """A registry row: the spec, the constructor and the weights source."""

    spec: ModelSpec
    build: Callable[..., nn.Module]  # build(num_classes=...) -> nn.Module with random weights
    weights: WeightsSource | None


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
        from explorer.zoo.torchvision_models import list_torchvision_models

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
        from explorer.zoo.torchvision_models import list_torchvision_models, torchvision_entry

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
        from explorer.zoo.pretrained import apply_pretrained

        trained = apply_pretrained(
            model, entry, cache_dir=cache_dir, allow_download=allow_download, strict=strict
        )
    model.eval()
    model.explorer_name = name
    model.explorer_trained = trained
    return model
