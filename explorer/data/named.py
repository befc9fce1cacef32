"""The named data sources: ``"digits"``, ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"imagenet"`` and
``"cifar10_csv:<path>"``, each registered with the reader that turns it into pools."""

from __future__ import annotations

import numpy as np
import torch

from explorer.data._registry import SourceOptions, register_source
from explorer.data.files import IDX_FOLDERS, find_idx, idx_pool, image_folder_pool, load_cifar10_csv
from explorer.data.sampling import stratified_indices
from explorer.data.splits import CLASSES, NORMALIZATION, Pool, SourcePools, array_pool, normalise
from explorer.data.user import tensor_pool
from explorer.errors import DataError

DIGITS_SPLIT_SEED = 0  # the digits train/val split is fixed, like an official test split: the shipped
DIGITS_VAL_FRACTION = 0.2  # weights never saw the validation images, whatever seed a session uses


@register_source("digits", description="scikit-learn's 8×8 digits (no files needed): a fixed 20 % hold-out")
def read_digits(options: SourceOptions) -> SourcePools:
    """The 1797 scikit-learn digits, split once and for all into 80 % train and 20 % validation."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = normalise(images, *NORMALIZATION["digits"])
    y = digits.target.astype(np.int64)
    n_val = round(len(y) * DIGITS_VAL_FRACTION)
    val_pos = np.sort(stratified_indices(y, n_val, DIGITS_SPLIT_SEED))
    train_pos = np.setdiff1d(np.arange(len(y)), val_pos)

    def pool(pos: np.ndarray) -> Pool:
        return Pool(y[pos], lambda p, pos=pos: x[torch.from_numpy(pos[p])].clone())

    return SourcePools("digits", CLASSES["digits"], pool(val_pos), pool(train_pos))


def _read_mnist_like(dataset: str, options: SourceOptions) -> SourcePools:
    root = options.root
    test = find_idx(root, dataset, "test")
    if test is None and options.download:
        import torchvision

        cls = torchvision.datasets.MNIST if dataset == "mnist" else torchvision.datasets.FashionMNIST
        for train in (False, True):
            cls(str(root), train=train, download=True)
        test = find_idx(root, dataset, "test")
    if test is None:
        raise DataError(
            f"{dataset} not found in {root} (looked for t10k-images-idx3-ubyte[.gz] and its labels in the "
            f"folder, raw/ and {IDX_FOLDERS[dataset]}/raw/). Pass root= the folder holding them, or "
            "download=True."
        )
    train = find_idx(root, dataset, "train")
    train_pool = idx_pool(train, dataset) if train is not None else None
    return SourcePools(dataset, CLASSES[dataset], idx_pool(test, dataset), train_pool)


@register_source("mnist", description="MNIST from IDX files (gzip or not) under root")
def read_mnist(options: SourceOptions) -> SourcePools:
    """MNIST's test split (and train split, when present) from IDX files."""
    return _read_mnist_like("mnist", options)


@register_source("fashion_mnist", description="Fashion-MNIST from IDX files (gzip or not) under root")
def read_fashion_mnist(options: SourceOptions) -> SourcePools:
    """Fashion-MNIST's test split (and train split, when present) from IDX files."""
    return _read_mnist_like("fashion_mnist", options)


@register_source("cifar10", description="CIFAR-10 from cifar-10-batches-py under root")
def read_cifar10(options: SourceOptions) -> SourcePools:
    """CIFAR-10's test split, and its train split when present, through torchvision's reader."""
    import torchvision

    root = str(options.root)
    try:
        test = torchvision.datasets.CIFAR10(root, train=False, download=options.download)
    except RuntimeError as error:  # torchvision: "Dataset not found or corrupted"
        raise DataError(
            f"CIFAR-10 not found in {options.root} ({error}). Pass root= the folder holding "
            "cifar-10-batches-py, download=True, or 'cifar10_csv:<path>' for a CSV file."
        ) from error
    try:
        train = torchvision.datasets.CIFAR10(root, train=True, download=False)
        train_pool = array_pool(train.data, train.targets, "cifar10")
    except RuntimeError:
        train_pool = None
    return SourcePools(
        "cifar10", CLASSES["cifar10"], array_pool(test.data, test.targets, "cifar10"), train_pool
    )


@register_source("imagenet", description="an ImageFolder of ImageNet validation images at root (or root/val)")
def read_imagenet(options: SourceOptions) -> SourcePools:
    """ImageNet validation images, resized to 256 and centre-cropped to the model's input."""
    root = options.root
    folder = root / "val" if (root / "val").is_dir() else root
    if not folder.is_dir():
        raise DataError(
            f"ImageNet cannot be downloaded automatically and {folder} does not exist: pass root= an "
            "ImageFolder of validation images (one sub-folder per class, in synset order)."
        )
    pool, classes = image_folder_pool(folder, options.input_shape or (3, 224, 224), resize=256)
    return SourcePools("imagenet", classes, pool, None)


@register_source("cifar10_csv", description="CIFAR-10 images from a CSV file", takes_argument=True)
def read_cifar10_csv(options: SourceOptions) -> SourcePools:
    """CIFAR-10 images from the CSV file ``options.argument`` (see ``load_cifar10_csv``)."""
    split = load_cifar10_csv(options.argument or "")
    return SourcePools(
        "cifar10", CLASSES["cifar10"], tensor_pool(split.inputs, split.labels, "the CSV"), None
    )
