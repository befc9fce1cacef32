"""User data (a ``Dataset``, a ``DataLoader``, a pair of tensors) as pools; bad items get clear errors."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, TensorDataset

from explorer.data.splits import Pool, SourcePools
from explorer.errors import DataError


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


def dataset_pool(dataset: Dataset, labels: np.ndarray | None = None) -> Pool:
    try:
        size = len(dataset)  # type: ignore[arg-type]
    except TypeError as error:
        raise DataError("the dataset has no length; wrap an iterable dataset in a DataLoader") from error
    if size == 0:
        raise DataError("the dataset is empty", code="data.empty_dataset", values={})
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

    return Pool(labels, fetch)


def _stack(inputs: list[torch.Tensor]) -> torch.Tensor:
    shapes = {tuple(x.shape) for x in inputs}
    if len(shapes) > 1:
        raise DataError(
            f"the inputs have different shapes {sorted(shapes)[:4]}; resize them to one shape",
            code="data.mixed_shapes",
            values={"shapes": ", ".join(str(s) for s in sorted(shapes)[:4])},
        )
    return torch.stack(inputs)


def tensor_pool(inputs: torch.Tensor, labels: torch.Tensor, where: str) -> Pool:
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
    return Pool(y, lambda p: x[torch.from_numpy(p)].clone())


def loader_pool(loader: DataLoader) -> Pool:
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
    return tensor_pool(inputs, torch.cat(ys), "the DataLoader")


def read_object(source: object) -> SourcePools:
    """The pools of a user object: a ``DataLoader``, an ``(inputs, labels)`` pair, or a ``Dataset`` (or list).

    Raises:
        DataError: the object is none of these, or its items are not ``(input, label)`` pairs.
    """
    if isinstance(source, DataLoader):
        return SourcePools("custom", None, loader_pool(source), None)
    if isinstance(source, tuple) and len(source) == 2 and all(isinstance(t, torch.Tensor) for t in source):
        return SourcePools(
            "custom", None, tensor_pool(source[0], source[1], "the (inputs, labels) pair"), None
        )
    if isinstance(source, TensorDataset) and len(source.tensors) == 2:  # read it without a Python loop
        return SourcePools("custom", None, tensor_pool(*source.tensors, "the TensorDataset"), None)
    if isinstance(source, Dataset | list):
        classes = getattr(source, "classes", None)
        pool = dataset_pool(source)  # type: ignore[arg-type]
        return SourcePools("custom", list(classes) if classes is not None else None, pool, None)
    raise DataError(
        f"cannot use a {type(source).__name__} as data: pass a dataset name, a path, a Dataset yielding "
        "(input, label) or a DataLoader"
    )
