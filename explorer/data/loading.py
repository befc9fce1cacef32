"""``load_data``: any source → the validation, calibration and training subsets of a ``DataBundle``."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

# importing the module registers the named sources
from explorer.data import named as named
from explorer.data._registry import SourceOptions, find_source, list_sources
from explorer.data.files import image_folder_pool
from explorer.data.sampling import stratified_indices
from explorer.data.splits import DataBundle, DataSplit, SourcePools
from explorer.data.user import read_object
from explorer.errors import DataError

MAX_DEFAULT_VAL = 1000  # num_samples=None keeps the whole test split up to this many samples
MAX_DEFAULT_TRAIN = 5000  # train_samples=None keeps the whole train split up to this many samples


def _default_root() -> Path:
    env = os.environ.get("PRUNING_EXPLORER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pruning-explorer" / "data"


def _resolve(source: object, root, download: bool, input_shape) -> SourcePools:
    """The pools of any supported source: a registered name, an image folder, or a user object."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if not isinstance(source, str):
        return read_object(source)
    found = find_source(source)
    if found is not None:
        entry, argument = found
        root_path = Path(root).expanduser() if root is not None else _default_root()
        return entry.read(SourceOptions(root_path, download, input_shape, argument))
    path = Path(source).expanduser()
    if path.is_dir():
        pool, classes = image_folder_pool(path, input_shape)
        return SourcePools(path.name, classes, pool, None)
    raise DataError(
        f"unknown data source {source!r}: use one of {list_sources()}, an image folder, a Dataset or a "
        "DataLoader",
        code="data.unknown_source",
        values={"source": str(source), "sources": ", ".join(list_sources())},
    )


def _check(split: DataSplit, what: str, input_shape, num_classes: int | None) -> None:
    if split.labels.numel() and int(split.labels.min()) < 0:
        raise DataError(
            f"{what}: labels must be >= 0, got {int(split.labels.min())}",
            code="data.negative_labels",
            values={"data": what, "label": int(split.labels.min())},
        )
    if input_shape is not None:
        expected = tuple(int(v) for v in input_shape)
        given = tuple(split.inputs.shape[1:])
        if given != expected:
            channels = (
                f" (the model expects {expected[0]} channel(s), the data has {given[0]})"
                if given and given[0] != expected[0]
                else ""
            )
            raise DataError(
                f"{what}: inputs have shape (C, H, W) = {given}, expected {expected}{channels}",
                code="data.wrong_shape",
                values={"data": what, "given": str(given), "expected": str(expected)},
            )
    if num_classes is not None and split.labels.numel():
        top = int(split.labels.max())
        if top >= num_classes:
            raise DataError(
                f"{what}: labels must be in [0, {num_classes}) but go up to {top}",
                code="data.labels_too_large",
                values={"data": what, "classes": num_classes, "top": top},
            )


# Tensors made inside torch.inference_mode() could never join autograd (gradient criteria, fine-tuning,
# torch-pruning's tracing): the subsets are always built as ordinary tensors, whatever the caller's mode.
@torch.inference_mode(False)
def load_data(
    source: object = "digits",
    num_samples: int | None = None,
    *,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    download: bool = False,
    calib_samples: int = 256,
    train_samples: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
    held_out_train: bool = False,
) -> DataBundle:
    """Build the validation, calibration and training subsets of a data source.

    Args:
        source: ``"digits"`` (scikit-learn, no files needed), ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``
            (read from ``root``; MNIST-like sources also read raw IDX files, gzip or not, in ``root``),
            ``"imagenet"`` (an ImageFolder of validation images at ``root``), ``"cifar10_csv:<path>"``, a path
            to an ImageFolder directory, a ``Dataset`` yielding ``(input, label)``, a ``DataLoader`` yielding
            ``(inputs, labels)``, or a pair of tensors ``(inputs [N, C, H, W], labels [N])``. Inputs from
            datasets and loaders are used as they are, so normalise them yourself; an ImageFolder is
            normalised with the ImageNet mean and std (0.5 and 0.5 for one channel). A DataLoader is read
            in full, in its own order: with ``shuffle=True`` the subsets change from one call to the next.
        num_samples: validation subset size; ``None`` keeps the whole test split, up to 1000 samples.
        seed: seeds every subset; the same seed gives identical subsets.
        root: folder of the named datasets (default ``$PRUNING_EXPLORER_DATA`` or
            ``~/.cache/pruning-explorer/data``).
        download: let torchvision download a named dataset missing from ``root``.
        calib_samples: calibration subset size.
        train_samples: training subset size; ``None`` keeps the whole train split, up to 5000 samples.
        input_shape: ``(C, H, W)`` the model expects; checked when given (and used to resize image folders).
        num_classes: number of model outputs; labels are checked to lie in ``[0, num_classes)``.
        held_out_train: for a source without a train split (a CSV, one image folder...), train on the
            samples that are not in the validation subset (at most ``train_samples``); the calibration
            subset is then drawn from them too and never overlaps validation. No effect on a source with a
            train split.

    Returns:
        The ``DataBundle``.

    Raises:
        DataError: unknown or missing source, empty dataset, items that are not ``(input, label)`` pairs,
            inputs of the wrong shape, labels out of range.
    """
    if num_samples is not None and num_samples <= 0:
        raise DataError(f"num_samples must be positive, got {num_samples}")
    pools = _resolve(source, root, download, input_shape)
    name, classes, pool, train_pool = pools.name, pools.classes, pools.test, pools.train
    total = len(pool.labels)
    if total == 0:
        raise DataError(
            f"the data source {name!r} is empty", code="data.empty_source", values={"source": name}
        )
    if pool.labels.min() < 0:
        raise DataError(
            f"{name}: labels must be >= 0, got {int(pool.labels.min())}",
            code="data.negative_labels",
            values={"data": name, "label": int(pool.labels.min())},
        )
    if num_classes is not None and pool.labels.max() >= num_classes:
        raise DataError(
            f"{name}: labels must be in [0, {num_classes}) but go up to {int(pool.labels.max())}",
            code="data.labels_too_large",
            values={"data": name, "classes": num_classes, "top": int(pool.labels.max())},
        )
    n_val = min(num_samples if num_samples is not None else MAX_DEFAULT_VAL, total)
    val_pos = stratified_indices(pool.labels, n_val, seed)
    val = DataSplit(pool.fetch(val_pos), torch.from_numpy(pool.labels[val_pos]))
    _check(val, f"{name} data", input_shape, num_classes)

    # training: the train split; else, when asked, the samples validation left over; else none
    n_train = train_samples if train_samples is not None else MAX_DEFAULT_TRAIN
    train = None
    if train_pool is not None and len(train_pool.labels):
        pos = stratified_indices(train_pool.labels, n_train, seed + 2_000_003)
        train = DataSplit(train_pool.fetch(pos), torch.from_numpy(train_pool.labels[pos]))
        _check(train, f"{name} training data", input_shape, num_classes)
    elif held_out_train and total > n_val:
        pos = stratified_indices(pool.labels, n_train, seed + 2_000_003, exclude=val_pos)
        train = DataSplit(pool.fetch(pos), torch.from_numpy(pool.labels[pos]))
        _check(train, f"{name} held-out training data", input_shape, num_classes)

    # calibration: from the train split, else from the held-out training data, else from what val left
    # over, else overlapping val
    calib_seed = seed + 1_000_003
    if train_pool is not None and len(train_pool.labels):
        pos = stratified_indices(train_pool.labels, calib_samples, calib_seed)
        calib = DataSplit(train_pool.fetch(pos), torch.from_numpy(train_pool.labels[pos]))
    elif train is not None:
        pos = torch.from_numpy(stratified_indices(train.labels.numpy(), calib_samples, calib_seed))
        calib = DataSplit(train.inputs[pos], train.labels[pos])
    else:
        pos = stratified_indices(pool.labels, calib_samples, calib_seed, exclude=val_pos)
        missing = min(calib_samples, total) - len(pos)
        if missing > 0:  # small source: top up with val samples (documented overlap)
            extra = stratified_indices(pool.labels, missing, calib_seed, exclude=pos)
            pos = np.concatenate([pos, extra])
        calib = DataSplit(pool.fetch(pos), torch.from_numpy(pool.labels[pos]))
    _check(calib, f"{name} calibration data", input_shape, num_classes)

    if classes is None:
        top = max(int(pool.labels.max()) + 1, num_classes or 0)
        classes = [str(i) for i in range(top)]
    return DataBundle(name=name, classes=list(classes), val=val, calib=calib, train=train)


@torch.inference_mode(False)
def load_train_split(
    source: object,
    *,
    seed: int = 0,
    root: str | os.PathLike | None = None,
    download: bool = False,
    train_samples: int | None = None,
    input_shape: tuple[int, int, int] | None = None,
    num_classes: int | None = None,
) -> DataSplit:
    """The training subset of a source given for training only (``PruningSession(train_data=...)``).

    A source with a train split (``"cifar10"``...) gives that split; any other (a ``Dataset``, a
    ``DataLoader``, an ``(inputs, labels)`` pair, an image folder) is training data as a whole. A stratified,
    seeded subset of up to ``train_samples`` samples (default: all, at most 5000) is kept.

    Raises:
        DataError: as ``load_data``, for the training data.
    """
    pools = _resolve(source, root, download, input_shape)
    pool = pools.train if pools.train is not None and len(pools.train.labels) else pools.test
    if len(pool.labels) == 0:
        raise DataError(
            f"the training data {pools.name!r} is empty",
            code="data.empty_training",
            values={"source": pools.name},
        )
    n_train = min(train_samples if train_samples is not None else MAX_DEFAULT_TRAIN, len(pool.labels))
    pos = stratified_indices(pool.labels, n_train, seed + 2_000_003)
    train = DataSplit(pool.fetch(pos), torch.from_numpy(pool.labels[pos]))
    _check(train, f"{pools.name} training data", input_shape, num_classes)
    return train
