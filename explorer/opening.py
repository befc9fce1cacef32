"""Opening a session's inputs: the model (a zoo name or a module), its data, and a check that they fit."""

from __future__ import annotations

import torch
from torch import nn

from explorer.data import DataBundle, DataSplit, load_data, load_train_split, stratified_indices
from explorer.device import move_bundle
from explorer.errors import DataError, ExplorerError, ModelError
from explorer.models import load_model
from explorer.zoo import ModelSpec, get_model_spec

#: ``train_data`` value: train on the data source's samples that are not in the validation subset.
HELD_OUT = "held-out"


def open_model(
    model: str | nn.Module, checkpoint=None, pretrained: bool = True, device: torch.device | None = None
) -> tuple[nn.Module, str, ModelSpec | None]:
    """A private, eval-mode copy of ``model`` (never the user's object) on ``device``, its display name and
    zoo spec."""
    name = model if isinstance(model, str) else getattr(model, "explorer_name", type(model).__name__)
    module = load_model(model, checkpoint, pretrained=pretrained).eval()
    if device is not None:
        module.to(device)  # the copy: the user's model stays where it is
    spec = get_model_spec(model) if isinstance(model, str) else None
    return module, name, spec


def open_data(
    data,
    spec: ModelSpec | None,
    num_samples: int | None,
    *,
    seed: int,
    root,
    calib_samples: int,
    train_data=None,
    device: torch.device | None = None,
) -> DataBundle:
    """``data`` as a ``DataBundle`` whose subsets are on ``device`` (see ``_read_data``)."""
    bundle = _read_data(
        data, spec, num_samples, seed=seed, root=root, calib_samples=calib_samples, train_data=train_data
    )
    return bundle if device is None else move_bundle(bundle, device)


def _read_data(
    data,
    spec: ModelSpec | None,
    num_samples: int | None,
    *,
    seed: int,
    root,
    calib_samples: int,
    train_data=None,
) -> DataBundle:
    """``data`` as a ``DataBundle``: any source ``load_data`` accepts; by default the zoo model's dataset.

    ``train_data`` (any such source) becomes the training subset, and the calibration subset is then drawn
    from it too, so that neither fine-tuning nor the data-driven criteria ever see the validation samples.
    ``train_data="held-out"`` (``HELD_OUT``) trains on the samples of ``data`` left out of the validation
    subset, for a source without a train split such as a CSV of test images.
    """
    held_out = isinstance(train_data, str) and train_data == HELD_OUT
    if isinstance(data, DataBundle):
        if held_out:
            raise ExplorerError('train_data="held-out" needs a data source, not a ready DataBundle')
        bundle = data
    else:
        source = data if data is not None else (spec.dataset if spec is not None else None)
        if source is None:
            raise ExplorerError("a custom model needs data: pass data=... (a dataset, loader or name)")
        bundle = load_data(
            source,
            num_samples,
            seed=seed,
            root=root,
            calib_samples=calib_samples,
            input_shape=spec.input_shape if spec is not None else None,
            num_classes=spec.num_classes if spec is not None else None,
            held_out_train=held_out,
        )
    if train_data is None or held_out:
        return bundle
    train = load_train_split(
        train_data,
        seed=seed,
        root=root,
        input_shape=tuple(bundle.val.inputs.shape[1:]),
        num_classes=spec.num_classes if spec is not None else None,
    )
    labels = train.labels.numpy()
    pos = torch.from_numpy(stratified_indices(labels, min(calib_samples, len(labels)), seed + 1_000_003))
    calib = DataSplit(train.inputs[pos], train.labels[pos])
    return DataBundle(bundle.name, bundle.classes, bundle.val, calib, train)


def check_model_accepts(model: nn.Module, split: DataSplit) -> int:
    """Run ``model`` on two samples of ``split``; returns its number of classes, or says what does not fit."""
    if split.labels.numel() == 0:
        raise DataError("the validation subset is empty", code="data.empty_validation", values={})
    try:
        with torch.no_grad():
            out = model(split.inputs[:2])
    except Exception as error:
        raise ModelError(
            f"the model failed on inputs of shape {tuple(split.inputs.shape[1:])} "
            f"({type(error).__name__}: {error})",
            code="model.failed_on_inputs",
            values={
                "shape": str(tuple(split.inputs.shape[1:])),
                "detail": f"{type(error).__name__}: {error}",
            },
        ) from error
    if not isinstance(out, torch.Tensor) or out.dim() != 2:
        raise ModelError(
            "the model must return class logits of shape [N, num_classes]", code="model.not_logits", values={}
        )
    top = int(split.labels.max())
    if top >= out.shape[1]:
        raise DataError(
            f"labels go up to {top} but the model has only {out.shape[1]} outputs",
            code="data.labels_beyond_outputs",
            values={"top": top, "outputs": int(out.shape[1])},
        )
    return int(out.shape[1])


__all__ = ["HELD_OUT", "check_model_accepts", "open_data", "open_model"]
