"""Data sources become fixed, stratified, seeded subsets; bad data gives a clear DataError."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from sklearn.datasets import load_digits
from torch.utils.data import DataLoader, Dataset, TensorDataset

from explorer.data import (
    CLASSES,
    NORMALIZATION,
    DataBundle,
    DataSplit,
    load_cifar10_csv,
    load_data,
    read_idx,
    stratified_indices,
)
from explorer.errors import DataError

MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]  # from the data README


def _sorted_rows(x: torch.Tensor) -> np.ndarray:
    rows = x.reshape(x.shape[0], -1).numpy()
    return rows[np.lexsort(rows.T[::-1])]


def _indexed_dataset(labels: list[int]) -> TensorDataset:
    """Inputs that carry their own position, so subsets can be traced back to the source."""
    n = len(labels)
    inputs = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return TensorDataset(inputs, torch.tensor(labels))


def _positions(split: DataSplit) -> list[int]:
    return split.inputs[:, 0, 0, 0].long().tolist()


class PairDataset(Dataset):
    """A plain map-style dataset of ``(tensor [1, 4, 4], int)`` pairs."""

    def __init__(self, n: int = 40, classes: int = 4):
        generator = torch.Generator().manual_seed(0)
        self.inputs = torch.randn(n, 1, 4, 4, generator=generator)
        self.labels = [i % classes for i in range(n)]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int):
        return self.inputs[i], self.labels[i]


class ItemsDataset(Dataset):
    """Yields whatever items it was given (for the error cases)."""

    def __init__(self, items: list):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        return self.items[i]


# --------------------------------------------------------------------------------------------- sampling
def test_stratified_indices_keep_class_shares_and_respect_exclusions():
    labels = np.repeat(np.arange(4), [50, 30, 15, 5])
    picked = stratified_indices(labels, 20, seed=3)
    assert len(set(picked.tolist())) == 20
    counts = np.bincount(labels[picked], minlength=4)
    assert np.all(np.abs(counts - 20 * np.array([50, 30, 15, 5]) / 100) <= 1)
    assert np.array_equal(picked, stratified_indices(labels, 20, seed=3))
    assert not np.array_equal(np.sort(picked), np.sort(stratified_indices(labels, 20, seed=4)))
    rest = stratified_indices(labels, 1000, seed=0, exclude=picked)
    assert len(rest) == 80
    assert not set(rest.tolist()) & set(picked.tolist())


# ------------------------------------------------------------------------------------------------ digits
def test_digits_bundle_sizes_and_fixed_partition():
    bundle = load_data("digits")
    assert isinstance(bundle, DataBundle)
    assert bundle.name == "digits"
    assert bundle.classes == [str(i) for i in range(10)]
    assert bundle.train is not None
    assert bundle.val.inputs.shape == (359, 1, 8, 8)
    assert bundle.train.inputs.shape == (1438, 1, 8, 8)
    assert bundle.calib.inputs.shape == (256, 1, 8, 8)
    for split in (bundle.val, bundle.train, bundle.calib):
        assert split.inputs.dtype == torch.float32
        assert split.labels.dtype == torch.int64
    # val and train partition the 1797 images: together they are exactly the normalised dataset
    digits = load_digits()
    mean, std = NORMALIZATION["digits"]
    everything = (torch.from_numpy(digits.images).float().unsqueeze(1) / 16.0 - mean[0]) / std[0]
    together = torch.cat([bundle.val.inputs, bundle.train.inputs])
    np.testing.assert_allclose(_sorted_rows(together), _sorted_rows(everything), atol=1e-6)
    # normalised: zero mean and unit std over the whole dataset
    assert abs(float(together.mean())) < 0.01
    assert abs(float(together.std()) - 1) < 0.01


def test_digits_val_is_stratified_and_the_same_images_for_every_seed():
    full = np.bincount(load_digits().target, minlength=10)
    a, b = load_data("digits", seed=0), load_data("digits", seed=5)
    counts = torch.bincount(a.val.labels, minlength=10).numpy()
    assert np.all(np.abs(counts - 359 * full / full.sum()) <= 1)
    np.testing.assert_array_equal(_sorted_rows(a.val.inputs), _sorted_rows(b.val.inputs))


def test_digits_subsets_are_seeded_and_deterministic():
    a = load_data("digits", 100, seed=1, calib_samples=50, train_samples=200)
    b = load_data("digits", 100, seed=1, calib_samples=50, train_samples=200)
    c = load_data("digits", 100, seed=2, calib_samples=50, train_samples=200)
    for x, y in ((a.val, b.val), (a.calib, b.calib), (a.train, b.train)):
        assert torch.equal(x.inputs, y.inputs)
        assert torch.equal(x.labels, y.labels)
    assert not torch.equal(a.val.inputs, c.val.inputs)
    assert a.val.labels.shape == (100,)
    assert a.calib.labels.shape == (50,)
    assert a.train.labels.shape == (200,)
    assert torch.bincount(a.val.labels, minlength=10).tolist() == [10] * 10


# ---------------------------------------------------------------------------------------- real files
def test_mnist_from_the_shared_idx_files(shared_data):
    labels = read_idx(shared_data / "mnist" / "t10k-labels-idx1-ubyte.gz")
    assert np.bincount(labels).tolist() == MNIST_TEST_COUNTS
    bundle = load_data("mnist", 500, root=shared_data / "mnist", seed=0)
    assert bundle.name == "mnist"
    assert bundle.train is None  # only the test files are there
    assert bundle.val.inputs.shape == (500, 1, 28, 28)
    counts = torch.bincount(bundle.val.labels, minlength=10).numpy()
    assert np.all(np.abs(counts - 500 * np.array(MNIST_TEST_COUNTS) / 10000) <= 1)
    assert abs(float(bundle.val.inputs.mean())) < 0.05
    assert abs(float(bundle.val.inputs.std()) - 1) < 0.05
    assert bundle.calib.inputs.shape == (256, 1, 28, 28)
    default = load_data("mnist", root=shared_data / "mnist")
    assert default.val.labels.shape == (1000,)  # None: the whole split, capped for big datasets


def test_cifar10_csv(shared_data):
    split = load_cifar10_csv(shared_data / "cifar10-first100" / "cifar10_test.csv")
    assert split.inputs.shape == (100, 3, 32, 32)
    assert split.labels[:10].tolist() == [3, 8, 8, 0, 6, 6, 1, 6, 3, 1]  # the official test order
    mean, std = (torch.tensor(v).view(1, 3, 1, 1) for v in NORMALIZATION["cifar10"])
    pixels = split.inputs * std + mean
    assert float(pixels.min()) >= -1e-5
    assert float(pixels.max()) <= 1 + 1e-5
    bundle = load_data(f"cifar10_csv:{shared_data / 'cifar10-first100' / 'cifar10_test.csv'}")
    assert bundle.name == "cifar10"
    assert bundle.classes == CLASSES["cifar10"]
    assert bundle.val.labels.shape == (100,)
    assert bundle.calib.labels.shape == (100,)  # small source: calib is the same 100 images (overlap rule)
    np.testing.assert_array_equal(_sorted_rows(bundle.calib.inputs), _sorted_rows(split.inputs))


def test_image_folder(tmp_path):
    colours = {"cat": (200, 30, 30), "dog": (30, 30, 200)}
    for name, colour in colours.items():
        (tmp_path / "pets" / name).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (10, 12), tuple(c + i for c in colour)).save(
                tmp_path / "pets" / name / f"{i}.png"
            )
    bundle = load_data(str(tmp_path / "pets"), 8, calib_samples=4)
    assert bundle.name == "pets"
    assert bundle.classes == ["cat", "dog"]
    assert bundle.val.inputs.shape == (8, 3, 12, 10)
    assert torch.bincount(bundle.val.labels).tolist() == [4, 4]
    red = bundle.val.inputs[bundle.val.labels == 0, 0]
    blue = bundle.val.inputs[bundle.val.labels == 1, 0]
    assert float(red.min()) > float(blue.max())  # the red channel tells cats from dogs
    gray = load_data(tmp_path / "pets", input_shape=(1, 4, 4), num_classes=2)
    assert gray.val.inputs.shape == (12, 1, 4, 4)
    Image.new("RGB", (5, 5)).save(tmp_path / "pets" / "cat" / "odd.png")
    with pytest.raises(DataError, match="different shapes"):
        load_data(tmp_path / "pets")


# ---------------------------------------------------------------------------------- user datasets
def test_custom_dataset_and_dataloader_give_the_same_subset():
    dataset = PairDataset()
    a = load_data(dataset, 20, seed=0, calib_samples=8, input_shape=(1, 4, 4), num_classes=4)
    b = load_data(DataLoader(dataset, batch_size=7), 20, seed=0, calib_samples=8)
    assert a.name == b.name == "custom"
    assert a.classes == ["0", "1", "2", "3"]
    assert a.train is None
    assert torch.equal(a.val.inputs, b.val.inputs)
    assert torch.equal(a.val.labels, b.val.labels)
    assert torch.bincount(a.val.labels).tolist() == [5] * 4
    position = {tuple(x.flatten().tolist()): i for i, x in enumerate(dataset.inputs)}
    for x, y in zip(a.val.inputs, a.val.labels, strict=True):
        assert dataset.labels[position[tuple(x.flatten().tolist())]] == int(y)


def test_calibration_is_disjoint_from_val_when_the_source_is_big_enough():
    big = load_data(_indexed_dataset([i % 4 for i in range(100)]), 20, calib_samples=16)
    assert not set(_positions(big.val)) & set(_positions(big.calib))
    assert len(set(_positions(big.calib))) == 16


def test_calibration_overlap_rule_for_small_sources():
    small = load_data(_indexed_dataset([i % 3 for i in range(30)]), 20, calib_samples=16)
    val, calib = set(_positions(small.val)), _positions(small.calib)
    assert len(calib) == len(set(calib)) == 16
    assert set(range(30)) - val <= set(calib)  # every sample left outside val is used first
    assert len(set(calib) & val) == 6  # then val tops it up


def test_held_out_training_uses_exactly_the_samples_left_out_of_validation():
    source = _indexed_dataset([i % 3 for i in range(30)])
    bundle = load_data(source, 20, calib_samples=16, held_out_train=True)
    val, train, calib = set(_positions(bundle.val)), _positions(bundle.train), _positions(bundle.calib)
    assert len(train) == len(set(train)) == 10
    assert set(train) == set(range(30)) - val  # every left-out sample, none of validation
    assert set(calib) <= set(train)  # calibration comes from them too: no overlap with validation any more
    assert len(calib) == 10
    plain = load_data(source, 20, calib_samples=16)
    assert plain.train is None  # without the option a CSV-like source has nothing to train on
    np.testing.assert_array_equal(plain.val.inputs.numpy(), bundle.val.inputs.numpy())  # same validation


def test_held_out_training_needs_samples_outside_validation():
    bundle = load_data(_indexed_dataset([i % 3 for i in range(30)]), None, held_out_train=True)
    assert bundle.train is None  # the whole source is validation: nothing is left to train on


def test_a_pair_of_tensors_is_a_source():
    x, y = torch.randn(30, 2, 5, 5), torch.arange(30) % 3
    bundle = load_data((x, y), 9, calib_samples=3)
    assert bundle.val.inputs.shape == (9, 2, 5, 5)
    assert torch.bincount(bundle.val.labels).tolist() == [3, 3, 3]


# ------------------------------------------------------------------------------------------- errors
def test_wrong_shape_names_expected_and_given():
    with pytest.raises(DataError, match=r"\(1, 8, 8\), expected \(1, 28, 28\)"):
        load_data("digits", input_shape=(1, 28, 28))
    with pytest.raises(DataError, match=r"expects 3 channel\(s\), the data has 1"):
        load_data("digits", input_shape=(3, 8, 8))


def test_labels_out_of_range():
    with pytest.raises(DataError, match=r"\[0, 5\) but go up to 9"):
        load_data("digits", num_classes=5)
    with pytest.raises(DataError, match=">= 0"):
        load_data((torch.randn(4, 1, 2, 2), torch.tensor([0, 1, -1, 0])))
    with pytest.raises(DataError, match="integer class index"):
        load_data(ItemsDataset([(torch.zeros(1, 2, 2), "cat")]))
    with pytest.raises(DataError, match="integer class index"):
        load_data(ItemsDataset([(torch.zeros(1, 2, 2), 0.5)]))


@pytest.mark.parametrize(
    "source",
    [
        ItemsDataset([]),
        TensorDataset(torch.zeros(0, 1, 2, 2), torch.zeros(0, dtype=torch.long)),
        DataLoader(ItemsDataset([]), batch_size=4),
        [],
    ],
    ids=["dataset", "tensor-dataset", "loader", "list"],
)
def test_empty_sources(source):
    with pytest.raises(DataError, match=r"empty|no batches"):
        load_data(source)


@pytest.mark.parametrize(
    "items",
    [[torch.zeros(1, 2, 2)] * 3, [(torch.zeros(1, 2, 2), 0, "extra")] * 3, [{"x": 1}] * 3],
    ids=["bare-tensors", "triples", "dicts"],
)
def test_items_must_be_input_label_pairs(items):
    with pytest.raises(DataError, match=r"\(input, label\) pairs"):
        load_data(ItemsDataset(items))


def test_inputs_must_be_image_tensors():
    with pytest.raises(DataError, match="expected a tensor"):
        load_data(ItemsDataset([("not an image", 0)] * 2))
    with pytest.raises(DataError, match="not an image"):
        load_data(ItemsDataset([(torch.zeros(2, 2, 2, 2), 0)] * 2))


def test_unknown_or_missing_sources(tmp_path):
    with pytest.raises(DataError, match="unknown data source"):
        load_data("imagenette")
    with pytest.raises(DataError, match="download=True"):
        load_data("mnist", root=tmp_path)
    with pytest.raises(DataError, match="CIFAR-10 not found"):
        load_data("cifar10", root=tmp_path)
    with pytest.raises(DataError, match="cannot use"):
        load_data(42)
    with pytest.raises(DataError, match="positive"):
        load_data("digits", 0)


def test_bad_csv_and_idx_files(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("3,1,2,3\n")
    with pytest.raises(DataError, match="3072"):
        load_cifar10_csv(csv)
    idx = tmp_path / "t10k-labels-idx1-ubyte"
    idx.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(DataError, match="truncated"):
        read_idx(idx)
