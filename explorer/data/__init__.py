"""Turn any dataset or loader into fixed, stratified, seeded in-memory subsets.

``load_data`` returns a ``DataBundle`` with three splits, all float32 ``[N, C, H, W]`` inputs already
normalised for the model and int64 ``[N]`` labels:

- ``val``: the validation subset, drawn from the source's test split (digits: a fixed 20 % hold-out);
- ``calib``: the calibration subset used for data-driven criteria. It comes from the train split when there
  is one, else from the test-split samples not in ``val``. Overlap rule for small sources: when fewer than
  ``calib_samples`` samples are left outside ``val``, ``calib`` takes them all and is topped up with ``val``
  samples, so ``calib`` then overlaps ``val``. It never holds a sample twice.
- ``train``: the train split (digits: the fixed 80 %), or ``None`` when the source has none available locally;
  with ``held_out_train=True``, a source without a train split trains on the samples not in ``val`` (and
  ``calib`` is drawn from them).

Every subset is stratified (each class keeps its share, to within one sample) and seeded: the same source
and seed give identical tensors. Normalisation constants live in ``NORMALIZATION``.

Sources: a registered name (``list_sources()``: ``"digits"``, ``"mnist"``, ``"fashion_mnist"``, ``"cifar10"``,
``"imagenet"``, ``"cifar10_csv:<path>"``; add one with ``register_source``), a path to an ImageFolder
directory, any ``Dataset`` yielding ``(input, label)``, any ``DataLoader`` yielding ``(inputs, labels)``
batches, or an ``(inputs, labels)`` pair of tensors.
"""

from __future__ import annotations

from explorer.data._registry import SourceOptions, list_sources, register_source
from explorer.data.files import load_cifar10_csv, read_idx
from explorer.data.loading import MAX_DEFAULT_TRAIN, MAX_DEFAULT_VAL, load_data, load_train_split
from explorer.data.named import DIGITS_SPLIT_SEED, DIGITS_VAL_FRACTION
from explorer.data.sampling import stratified_indices
from explorer.data.splits import (
    CLASSES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    NORMALIZATION,
    DataBundle,
    DataSplit,
    Pool,
    SourcePools,
)

__all__ = [
    "CLASSES",
    "DIGITS_SPLIT_SEED",
    "DIGITS_VAL_FRACTION",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "MAX_DEFAULT_TRAIN",
    "MAX_DEFAULT_VAL",
    "NORMALIZATION",
    "DataBundle",
    "DataSplit",
    "Pool",
    "SourceOptions",
    "SourcePools",
    "list_sources",
    "load_cifar10_csv",
    "load_data",
    "load_train_split",
    "read_idx",
    "register_source",
    "stratified_indices",
]
