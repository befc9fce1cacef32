"""What every data source becomes: whole splits as lazy pools, then fixed in-memory subsets.

A *pool* is a whole split (every label known, inputs materialised only for the picked positions); a
``DataSplit`` is a fixed subset of one; a ``DataBundle`` holds the three subsets the explorer works with.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

# (mean, std) per channel, applied after scaling pixels to [0, 1]. CIFAR-10 uses the ImageNet constants
# because the public ResNet-20 weights were trained with them.
NORMALIZATION: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "digits": ((0.3053,), (0.3760,)),  # scikit-learn digits: pixels 0-16 divided by 16; stats of all 1797
    "mnist": ((0.1307,), (0.3081,)),
    "fashion_mnist": ((0.2860,), (0.3530,)),
    "cifar10": (IMAGENET_MEAN, IMAGENET_STD),
    "imagenet": (IMAGENET_MEAN, IMAGENET_STD),
    "rgb": (IMAGENET_MEAN, IMAGENET_STD),  # ImageFolder with 3 channels
    "gray": ((0.5,), (0.5,)),  # ImageFolder with 1 channel
}

CLASSES: dict[str, list[str]] = {
    "digits": [str(i) for i in range(10)],
    "mnist": [str(i) for i in range(10)],
    "fashion_mnist": [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ],
    "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
}  # fmt: skip


@dataclass
class DataSplit:
    """A fixed, in-memory subset."""

    inputs: torch.Tensor  # float32 [N, C, H, W], already normalised for the model
    labels: torch.Tensor  # int64 [N], class indices


@dataclass
class DataBundle:
    """The subsets the explorer works with, from one source."""

    name: str  # "digits", "cifar10", "mnist", "fashion_mnist", "imagenet", a folder's name, or "custom"
    classes: list[str]  # class names, indexed by label
    val: DataSplit  # the stratified, seeded validation subset
    calib: DataSplit  # the seeded calibration subset (see explorer.data's docstring for its overlap rule)
    train: DataSplit | None  # training subset when the source has one locally, else None


@dataclass
class Pool:
    """A whole split before sub-sampling: inputs are materialised only for the picked positions."""

    labels: np.ndarray  # [N] int64
    fetch: Callable[[np.ndarray], torch.Tensor]  # positions [k] → float32 [k, C, H, W], normalised


@dataclass
class SourcePools:
    """A data source read: its name, class names (``None``: numbered) and its whole splits."""

    name: str  # the bundle's name
    classes: list[str] | None  # class names indexed by label, or None to number them
    test: Pool  # the split the validation subset comes from
    train: Pool | None  # the train split when the source has one locally


def normalise(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """``[N, C, H, W]`` → ``(x − mean) / std`` per channel, contiguous."""
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return ((x - m) / s).contiguous()


def array_pool(images: np.ndarray | torch.Tensor, labels: object, dataset: str) -> Pool:
    """A pool over uint8 ``[N, H, W]`` or ``[N, H, W, C]`` normalised with ``NORMALIZATION[dataset]``."""
    images = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    mean, std = NORMALIZATION[dataset]

    def fetch(positions: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images[positions])).float() / 255.0
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        return normalise(x, mean, std)

    return Pool(np.asarray(labels, dtype=np.int64).reshape(-1), fetch)
