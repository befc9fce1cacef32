"""Turn any dataset or loader into fixed, stratified, seeded in-memory subsets.

``load_data`` returns a ``DataBundle`` with three splits, all float32 ``[N, C, H, W]`` inputs already
normalised for the model and int64 ``[N]`` labels:

- ``val``: the validation subset, drawn from the source's test split (digits: a fixed 20 % hold-out);
- ``calib``: the calibration subset used for data-driven criteria. It comes from the train split when there
  is one, else from the test-split samples not in ``val``. Overlap rule for small sources: when fewer than
  ``calib_samples`` samples are left outside ``val``, ``calib`` takes them all and is topped up with ``val``
  samples, so ``calib`` then overlaps ``val``. It never holds a sample twice.
- ``train``: the train split (digits: the fixed 80 %), or ``None`` when the source has none available locally.

Every subset is stratified (each class keeps its share, to within one sample) and seeded: the same source
and seed give identical tensors. Normalisation constants live in ``NORMALIZATION``.

Sources: ``"digits"``, ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``, ``"imagenet"``,
``"cifar10_csv:<path>"``, a path to an ImageFolder directory, any ``Dataset`` yielding ``(input, label)``,
any ``DataLoader`` yielding ``(inputs, labels)`` batches, or an ``(inputs, labels)`` pair of tensors.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from explorer.errors import DataError

__all__ = [
    "CLASSES",
    "NORMALIZATION",
    "DataBundle",
    "DataSplit",
    "load_cifar10_csv",
    "load_data",
    "read_idx",
    "stratified_indices",
]

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

DIGITS_SPLIT_SEED = 0  # the digits train/val split is fixed, like an official test split: the shipped
DIGITS_VAL_FRACTION = 0.2  # weights never saw the validation images, whatever seed a session uses
MAX_DEFAULT_VAL = 1000  # num_samples=None keeps the whole test split up to this many samples
MAX_DEFAULT_TRAIN = 5000  # train_samples=None keeps the whole train split up to this many samples
_NAMED = ("digits", "mnist", "fashion_mnist", "cifar10", "imagenet")
_CSV_PREFIX = "cifar10_csv:"
_IDX_FOLDERS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


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
    calib: DataSplit  # the seeded calibration subset (see the module docstring for its overlap rule)
    train: DataSplit | None  # training subset when the source has one locally, else None


# ----------------------------------------------------------------------------------------------- sampling
def stratified_indices(
    labels: np.ndarray | torch.Tensor | Sequence[int], n: int, seed: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """Pick ``n`` positions so that every class keeps its share of ``labels``, reproducibly.

    Each class gets ``n * count / total`` samples, rounded by largest remainder (so the subset's class counts
    are within one of the exact proportion). Which samples, and their order, come from ``seed``.

    Args:
        labels: ``[N]`` class labels.
        n: subset size; at most the number of candidates.
        seed: random seed.
        exclude: positions that may not be picked.

    Returns:
        ``[n]`` int64 positions, in a seeded shuffled order (classes interleave).
    """
    labels = np.asarray(labels).reshape(-1)
    candidates = np.arange(labels.shape[0])
    if exclude is not None and len(exclude):
        candidates = np.setdiff1d(candidates, np.asarray(exclude), assume_unique=False)
    n = int(min(n, candidates.shape[0]))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels[candidates], return_counts=True)
    exact = n * counts / counts.sum()
    take = np.floor(exact).astype(np.int64)
    # largest remainder; ties go to the bigger class, then the smaller label (stable sort)
    order = np.lexsort((-counts, -(exact - take)))
    for i in order[: n - int(take.sum())]:
        take[i] += 1
    chosen = []
    for cls, k in zip(classes, take, strict=True):
        members = candidates[labels[candidates] == cls]
        chosen.append(rng.permutation(members)[:k])
    picked = np.concatenate(chosen)
    return rng.permutation(picked).astype(np.int64)


# ------------------------------------------------------------------------------------------ raw sources
@dataclass
class _Pool:
    """A whole split before sub-sampling: inputs are materialised only for the picked positions."""

    labels: np.ndarray  # [N] int64
    fetch: object  # callable(np.ndarray positions) -> float32 tensor [k, C, H, W], normalised


def _array_pool(images: np.ndarray | torch.Tensor, labels, dataset: str) -> _Pool:
    """A pool over uint8 ``[N, H, W]`` or ``[N, H, W, C]`` normalised with ``NORMALIZATION[dataset]``."""
    images = images.numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    mean, std = NORMALIZATION[dataset]

    def fetch(positions: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.ascontiguousarray(images[positions])).float() / 255.0
        x = x.unsqueeze(1) if x.dim() == 3 else x.permute(0, 3, 1, 2)
        return _normalise(x, mean, std)

    return _Pool(np.asarray(labels, dtype=np.int64).reshape(-1), fetch)


def _normalise(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    m = torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1)
    return ((x - m) / s).contiguous()


def _digits_pools() -> tuple[_Pool, _Pool]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = torch.from_numpy(digits.images.astype(np.float32) / 16.0).unsqueeze(1)
    x = _normalise(images, *NORMALIZATION["digits"])
    y = digits.target.astype(np.int64)
    n_val = round(len(y) * DIGITS_VAL_FRACTION)
    val_pos = np.sort(stratified_indices(y, n_val, DIGITS_SPLIT_SEED))
    train_pos = np.setdiff1d(np.arange(len(y)), val_pos)

    def pool(pos: np.ndarray) -> _Pool:
        return _Pool(y[pos], lambda p, pos=pos: x[torch.from_numpy(pos[p])].clone())

    return pool(val_pos), pool(train_pos)


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
        raise DataError(f"cannot read {path}: {error}") from error
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    start = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(raw) - start != expected:
        raise DataError(f"{path} is truncated: {len(raw) - start} bytes of data, expected {expected}")
    return np.frombuffer(raw, dtype=np.uint8, offset=start).reshape(dims)


def _find_idx(root: Path, dataset: str, split: str) -> tuple[Path, Path] | None:
    prefix = "t10k" if split == "test" else "train"
    folders = [root, root / "raw", root / _IDX_FOLDERS[dataset] / "raw"]
    for folder in folders:
        for ext in (".gz", ""):
            images = folder / f"{prefix}-images-idx3-ubyte{ext}"
            labels = folder / f"{prefix}-labels-idx1-ubyte{ext}"
            if images.is_file() and labels.is_file():
                return images, labels
    return None


def _idx_pool(files: tuple[Path, Path], dataset: str) -> _Pool:
    images, labels = read_idx(files[0]), read_idx(files[1])
    if images.ndim != 3 or labels.ndim != 1 or images.shape[0] != labels.shape[0]:
        raise DataError(f"{files[0]} and {files[1]} do not hold matching images [N, H, W] and labels [N]")
    return _array_pool(images, labels, dataset)


def _mnist_like_pools(dataset: str, root: Path, download: bool) -> tuple[_Pool, _Pool | None]:
    test = _find_idx(root, dataset, "test")
    if test is None and download:
        import torchvision

        cls = torchvision.datasets.MNIST if dataset == "mnist" else torchvision.datasets.FashionMNIST
        for train in (False, True):
            cls(str(root), train=train, download=True)
        test = _find_idx(root, dataset, "test")
    if test is None:
        raise DataError(
            f"{dataset} not found in {root} (looked for t10k-images-idx3-ubyte[.gz] and its labels in the "
            f"folder, raw/ and {_IDX_FOLDERS[dataset]}/raw/). Pass root= the folder holding them, or "
            "download=True."
        )
    train = _find_idx(root, dataset, "train")
    return _idx_pool(test, dataset), (_idx_pool(train, dataset) if train is not None else None)


def _cifar10_pools(root: Path, download: bool) -> tuple[_Pool, _Pool | None]:
    import torchvision

    try:
        test = torchvision.datasets.CIFAR10(str(root), train=False, download=download)
    except RuntimeError as error:  # torchvision: "Dataset not found or corrupted"
        raise DataError(
            f"CIFAR-10 not found in {root} ({error}). Pass root= the folder holding cifar-10-batches-py, "
            "download=True, or 'cifar10_csv:<path>' for a CSV file."
        ) from error
    try:
        train = torchvision.datasets.CIFAR10(str(root), train=True, download=False)
        train_pool = _array_pool(train.data, train.targets, "cifar10")
    except RuntimeError:
        train_pool = None
    return _array_pool(test.data, test.targets, "cifar10"), train_pool


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
        raise DataError(f"cannot read CIFAR-10 CSV {path}: {error}") from error
    if table.shape[0] == 0:
        raise DataError(f"CIFAR-10 CSV {path} has no rows")
    if table.shape[1] != 1 + 32 * 32 * 3:
        raise DataError(
            f"CIFAR-10 CSV {path}: rows have {table.shape[1]} values, expected 1 label + 3072 pixels"
        )
    labels, pixels = table[:, 0], table[:, 1:]
    if np.any(labels != np.round(labels)) or labels.min() < 0 or labels.max() > 9:
        raise DataError(f"CIFAR-10 CSV {path}: labels must be integers 0-9")
    if pixels.min() < 0 or pixels.max() > 255:
        raise DataError(f"CIFAR-10 CSV {path}: pixel values must be in 0-255")
    pool = _array_pool(pixels.astype(np.uint8).reshape(-1, 32, 32, 3), labels.astype(np.int64), "cifar10")
    return DataSplit(pool.fetch(np.arange(len(pool.labels))), torch.from_numpy(pool.labels))


def _image_folder_pool(path: Path, input_shape, resize: int | None = None) -> tuple[_Pool, list[str]]:
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
        raise DataError(f"cannot read the image folder {path}: {error}") from error
    dataset_pool = _dataset_pool(folder, labels=np.asarray(folder.targets, dtype=np.int64))
    return dataset_pool, list(folder.classes)


# ----------------------------------------------------------------------------------- user datasets/loaders
def _as_input(x: object, where: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    elif not isinstance(x, torch.Tensor) and hasattr(x, "mode") and hasattr(x, "size"):  # a PIL image
        from torchvision.transforms.functional import pil_to_tensor

        x = pil_to_tensor(x).float() / 255.0
    if not isinstance(x, torch.Tensor):
        raise DataError(
            f"{where}: the input is a {type(x).__name__}, expected a tensor (add a ToTensor transform)"
        )
    x = x.detach().cpu().float()
    if x.dim() == 2:  # a single-channel image without its channel axis
        x = x.unsqueeze(0)
    if x.dim() != 3:
        raise DataError(f"{where}: an input of shape {tuple(x.shape)} is not an image [C, H, W]")
    return x


def _as_label(y: object, where: str) -> int:
    if isinstance(y, torch.Tensor | np.ndarray):
        if int(np.prod(y.shape)) != 1:
            raise DataError(f"{where}: the label has shape {tuple(y.shape)}, expected one class index")
        y = y.reshape(-1)[0].item()
    integral = isinstance(y, int | np.integer) or (isinstance(y, float) and y.is_integer())
    if isinstance(y, bool) or not integral:
        raise DataError(f"{where}: the label {y!r} is not an integer class index")
    return int(y)


def _split_item(item: object, where: str) -> tuple[object, object]:
    if not isinstance(item, tuple | list) or len(item) != 2:
        kind = f"a {len(item)}-tuple" if isinstance(item, tuple | list) else f"a {type(item).__name__}"
        raise DataError(f"{where} is {kind}; the explorer needs (input, label) pairs")
    return item[0], item[1]


def _dataset_pool(dataset: Dataset, labels: np.ndarray | None = None) -> _Pool:
    try:
        size = len(dataset)  # type: ignore[arg-type]
    except TypeError as error:
        raise DataError("the dataset has no length; wrap an iterable dataset in a DataLoader") from error
    if size == 0:
        raise DataError("the dataset is empty")
    if labels is None:
        targets = getattr(dataset, "targets", None)
        if targets is not None and len(targets) == size:
            labels = np.asarray(
                [_as_label(t, f"targets[{i}]") for i, t in enumerate(targets)], dtype=np.int64
            )
        else:
            labels = np.asarray(
                [_as_label(_split_item(dataset[i], f"item {i}")[1], f"item {i}") for i in range(size)],
                dtype=np.int64,
            )

    def fetch(positions: np.ndarray) -> torch.Tensor:
        inputs = []
        for i in positions.tolist():
            x, _ = _split_item(dataset[i], f"item {i}")
            inputs.append(_as_input(x, f"item {i}"))
        return _stack(inputs)

    return _Pool(labels, fetch)


def _stack(inputs: list[torch.Tensor]) -> torch.Tensor:
    shapes = {tuple(x.shape) for x in inputs}
    if len(shapes) > 1:
        raise DataError(f"the inputs have different shapes {sorted(shapes)[:4]}; resize them to one shape")
    return torch.stack(inputs)


def _tensor_pool(inputs: torch.Tensor, labels: torch.Tensor, where: str) -> _Pool:
    if inputs.shape[0] != labels.reshape(-1).shape[0]:
        raise DataError(f"{where}: {inputs.shape[0]} inputs but {labels.reshape(-1).shape[0]} labels")
    if labels.is_floating_point() and not torch.equal(labels, labels.round()):
        raise DataError(f"{where}: labels must be integer class indices, got {labels.dtype} values")
    if inputs.dim() == 3:
        inputs = inputs.unsqueeze(1)
    if inputs.dim() != 4:
        raise DataError(f"{where}: inputs of shape {tuple(inputs.shape)} are not images [N, C, H, W]")
    x = inputs.detach().cpu().float()
    y = labels.detach().cpu().reshape(-1).long().numpy()
    return _Pool(y, lambda p: x[torch.from_numpy(p)].clone())


def _loader_pool(loader: DataLoader) -> _Pool:
    xs, ys = [], []
    for b, batch in enumerate(loader):
        x, y = _split_item(batch, f"batch {b} of the DataLoader")
        if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
            raise DataError(f"batch {b} of the DataLoader is not a pair of tensors (inputs, labels)")
        xs.append(x.detach().cpu())
        ys.append(y.detach().cpu().reshape(-1))
    if not xs:
        raise DataError("the DataLoader yielded no batches")
    try:
        inputs = torch.cat(xs)
    except RuntimeError as error:
        raise DataError(f"the DataLoader's batches have different input shapes ({error})") from error
    return _tensor_pool(inputs, torch.cat(ys), "the DataLoader")


# ------------------------------------------------------------------------------------------------ entry
def _default_root() -> Path:
    env = os.environ.get("PRUNING_EXPLORER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pruning-explorer" / "data"


def _resolve(source, root, download: bool, input_shape) -> tuple[str, list[str] | None, _Pool, _Pool | None]:
    """(name, class names or None, test pool, train pool or None) of any supported source."""
    if isinstance(source, os.PathLike):
        source = os.fspath(source)
    if isinstance(source, str):
        root_path = Path(root).expanduser() if root is not None else _default_root()
        key = source.lower().replace("-", "_")
        if key == "digits":
            val, train = _digits_pools()
            return "digits", CLASSES["digits"], val, train
        if key in ("mnist", "fashion_mnist"):
            val, train = _mnist_like_pools(key, root_path, download)
            return key, CLASSES[key], val, train
        if key == "cifar10":
            val, train = _cifar10_pools(root_path, download)
            return "cifar10", CLASSES["cifar10"], val, train
        if key == "imagenet":
            folder = root_path / "val" if (root_path / "val").is_dir() else root_path
            if not folder.is_dir():
                raise DataError(
                    f"ImageNet cannot be downloaded automatically and {folder} does not exist: pass root= an "
                    "ImageFolder of validation images (one sub-folder per class, in synset order)."
                )
            pool, classes = _image_folder_pool(folder, input_shape or (3, 224, 224), resize=256)
            return "imagenet", classes, pool, None
        if source.startswith(_CSV_PREFIX):
            split = load_cifar10_csv(source[len(_CSV_PREFIX) :])
            return "cifar10", CLASSES["cifar10"], _tensor_pool(split.inputs, split.labels, "the CSV"), None
        path = Path(source).expanduser()
        if path.is_dir():
            pool, classes = _image_folder_pool(path, input_shape)
            return path.name, classes, pool, None
        raise DataError(
            f"unknown data source {source!r}: use one of {list(_NAMED)}, '{_CSV_PREFIX}<path>', "
            "an image folder, a Dataset or a DataLoader"
        )
    if isinstance(source, DataLoader):
        return "custom", None, _loader_pool(source), None
    if isinstance(source, tuple) and len(source) == 2 and all(isinstance(t, torch.Tensor) for t in source):
        return "custom", None, _tensor_pool(source[0], source[1], "the (inputs, labels) pair"), None
    if isinstance(source, TensorDataset) and len(source.tensors) == 2:  # read it without a Python loop
        return "custom", None, _tensor_pool(source.tensors[0], source.tensors[1], "the TensorDataset"), None
    if isinstance(source, Dataset | list):
        classes = getattr(source, "classes", None)
        pool = _dataset_pool(source)  # type: ignore[arg-type]
        return "custom", list(classes) if classes is not None else None, pool, None
    raise DataError(
        f"cannot use a {type(source).__name__} as data: pass a dataset name, a path, a Dataset yielding "
        "(input, label) or a DataLoader"
    )


def _check(split: DataSplit, what: str, input_shape, num_classes: int | None) -> None:
    if split.labels.numel() and int(split.labels.min()) < 0:
        raise DataError(f"{what}: labels must be >= 0, got {int(split.labels.min())}")
    if input_shape is not None:
        expected = tuple(int(v) for v in input_shape)
        given = tuple(split.inputs.shape[1:])
        if given != expected:
            channels = (
                f" (the model expects {expected[0]} channel(s), the data has {given[0]})"
                if given and given[0] != expected[0]
                else ""
            )
            raise DataError(f"{what}: inputs have shape (C, H, W) = {given}, expected {expected}{channels}")
    if num_classes is not None and split.labels.numel():
        top = int(split.labels.max())
        if top >= num_classes:
            raise DataError(f"{what}: labels must be in [0, {num_classes}) but go up to {top}")


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

    Returns:
        The ``DataBundle``.

    Raises:
        DataError: unknown or missing source, empty dataset, items that are not ``(input, label)`` pairs,
            inputs of the wrong shape, labels out of range.
    """
    if num_samples is not None and num_samples <= 0:
        raise DataError(f"num_samples must be positive, got {num_samples}")
    name, classes, pool, train_pool = _resolve(source, root, download, input_shape)
    total = len(pool.labels)
    if total == 0:
        raise DataError(f"the data source {name!r} is empty")
    if pool.labels.min() < 0:
        raise DataError(f"{name}: labels must be >= 0, got {int(pool.labels.min())}")
    if num_classes is not None and pool.labels.max() >= num_classes:
        raise DataError(f"{name}: labels must be in [0, {num_classes}) but go up to {int(pool.labels.max())}")
    n_val = min(num_samples if num_samples is not None else MAX_DEFAULT_VAL, total)
    val_pos = stratified_indices(pool.labels, n_val, seed)
    val = DataSplit(pool.fetch(val_pos), torch.from_numpy(pool.labels[val_pos]))
    _check(val, f"{name} data", input_shape, num_classes)

    # calibration: from the train split when there is one, else from what val left over, else overlap val
    calib_seed = seed + 1_000_003
    if train_pool is not None and len(train_pool.labels):
        pos = stratified_indices(train_pool.labels, calib_samples, calib_seed)
        calib = DataSplit(train_pool.fetch(pos), torch.from_numpy(train_pool.labels[pos]))
    else:
        pos = stratified_indices(pool.labels, calib_samples, calib_seed, exclude=val_pos)
        missing = min(calib_samples, total) - len(pos)
        if missing > 0:  # small source: top up with val samples (documented overlap)
            extra = stratified_indices(pool.labels, missing, calib_seed, exclude=pos)
            pos = np.concatenate([pos, extra])
        calib = DataSplit(pool.fetch(pos), torch.from_numpy(pool.labels[pos]))
    _check(calib, f"{name} calibration data", input_shape, num_classes)

    train = None
    if train_pool is not None and len(train_pool.labels):
        n_train = train_samples if train_samples is not None else MAX_DEFAULT_TRAIN
        pos = stratified_indices(train_pool.labels, n_train, seed + 2_000_003)
        train = DataSplit(train_pool.fetch(pos), torch.from_numpy(train_pool.labels[pos]))
        _check(train, f"{name} training data", input_shape, num_classes)

    if classes is None:
        top = max(int(pool.labels.max()) + 1, num_classes or 0)
        classes = [str(i) for i in range(top)]
    return DataBundle(name=name, classes=list(classes), val=val, calib=calib, train=train)
