"""What the zoo knows about a model without building it: its spec, where its weights come from, its entry."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from torch import nn

__all__ = ["TORCHVISION_PREFIX", "ModelEntry", "ModelSpec", "WeightsSource"]

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
