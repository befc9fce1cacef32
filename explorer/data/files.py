"""Readers of dataset files: IDX (MNIST), CIFAR-10 as CSV, and image folders."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import torch

from explorer.data.splits import NORMALIZATION, DataSplit, Pool, array_pool
from explorer.data.user import dataset_pool
from explorer.errors import DataError

#: The folder torchvision gives each IDX dataset under its root.
IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    Args:
        path: e.g. ``t10k-images-idx3-ubyte.gz``.

    Returns:
        A uint8 array: ``[N, H, W]`` for images, ``[N]`` for labels.

    Raises:
        DataError: not an unsigned-byte IDX file, or truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(
            f"cannot read {path}: {error}",
            code="data.unreadable",
            values={"path": str(path), "detail": str(error)},
        ) from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(
            f"{path} is not an unsigned-byte IDX file", code="data.not_idx", values={"path": str(path)}
        )
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    start = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - start != expected:
        raise DataError(
            f"{path} is truncated: {len(raw) - start} bytes of data, expected {expected}",
            code="data.idx_truncated",
            values={"path": str(path), "size": len(raw) - start, "expected": expected},
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def find_idx(root: Path, dataset: str, split: str) -> tuple[Path, Path] | None:
    prefix = "t10k" if split == "test" else "train"
    folders = [root, root / "raw", root / IDX_FOLDERS[dataset] / "raw"]
    for folder in folders:
        for ext in (".gz", ""):
            images = folder / f"{prefix}-images-idx3-ubyte{ext}"
            labels = folder / f"{prefix}-labels-idx1-ubyte{ext}"
            if images.is_file() and labels.is_file():
                return images, labels
    return None


def idx_pool(files: tuple[Path, Path], dataset: str) -> Pool:
    images, labels = read_idx(files[0]), read_idx(files[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(
            f"{files[0]} and {files[1]} do not hold matching images [N, H, W] and labels [N]",
            code="data.idx_mismatch",
            values={"images": str(files[0]), "labels": str(files[1])},
        )
    return array_pool(images, labels, dataset)


def load_cifar10_csv(path: str | os.PathLike) -> DataSplit:
    """Read CIFAR-10 images from a CSV file: one row per image, ``label`` then 3072 values 0-255 (H, W, C).

    Args:
        path: the CSV file.

    Returns:
        All images, normalised with ``NORMALIZATION["cifar10"]``: inputs ``[N, 3, 32, 32]``, labels ``[N]``.

    Raises:
        DataError: missing file, rows of the wrong length, values or labels out of range.
    """
    path = Path(path)
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except (OSError, ValueError) as error:
        raise DataError(
            f"cannot read CIFAR-10 CSV {path}: {error}",
            code="data.csv_unreadable",
            values={"path": str(path), "detail": str(error)},
        ) from error
    if table.shape[0] == 0:
        raise DataError(f"CIFAR-10 CSV {path} has no rows", code="data.csv_empty", values={"path": str(path)})
    if table.shape[1] != 1 + 32 * 32 * 3:
        raise DataError(
            f"CIFAR-10 CSV {path}: rows have {table.shape[1]} values, expected 1 label + 3072 pixels",
            code="data.csv_columns",
            values={"path": str(path), "columns": int(table.shape[1])},
        )
    labels, pixels = table[:, 0], table[:, 1:]
    if np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() > 9:
        raise DataError(
            f"CIFAR-10 CSV {path}: labels must be integers 0-9",
            code="data.csv_labels",
            values={"path": str(path)},
        )
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(
            f"CIFAR-10 CSV {path}: pixel values must be in 0-255",
            code="data.csv_pixels",
            values={"path": str(path)},
        )
    pool = array_pool(pixels.astype(np.uint8).reshape(-1, 32, 32, 3), labels.astype(np.int64), "cifar10")
    return DataSplit(pool.fetch(np.arange(len(pool.labels))), torch.from_numpy(pool.labels))


def image_folder_pool(
    path: Path, input_shape: tuple[int, int, int] | None, resize: int | None = None
) -> tuple[Pool, list[str]]:
    """A pool over an ImageFolder, resized to ``input_shape`` and normalised, with its class names.

    Args:
        path: the folder (one sub-folder per class).
        input_shape: ``(C, H, W)`` the images are converted to; ``None`` keeps them as they are.
        resize: resize the shorter side to this, then centre-crop to ``(H, W)`` (ImageNet's protocol).
    """
    import torchvision
    from torchvision import transforms

    steps: list = []
    channels = None
    if input_shape is not None:
        channels, height, width = (int(v) for v in input_shape)
        if resize is not None:
            steps += [transforms.Resize(resize), transforms.CenterCrop((height, width))]
        else:
            steps.append(transforms.Resize((height, width)))
    if channels == 1:
        steps.append(transforms.Grayscale(1))
    key = "gray" if channels == 1 else "rgb"
    steps += [transforms.ToTensor(), transforms.Normalize(*NORMALIZATION[key])]
    try:
        folder = torchvision.datasets.ImageFolder(str(path), transform=transforms.Compose(steps))
    except (FileNotFoundError, OSError) as error:
        raise DataError(
            f"cannot read the image folder {path}: {error}",
            code="data.folder_unreadable",
            values={"path": str(path), "detail": str(error)},
        ) from error
    pool = dataset_pool(folder, labels=np.asarray(folder.targets, dtype=np.int64))
    return pool, list(folder.classes)
