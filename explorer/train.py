"""Deterministic training of the embedded default model, plus a small generic ``fit`` loop.

``train_digits_model`` made ``explorer/zoo/weights/digits_cnn.pt`` and ``digits_vit.pt``; rerun it with
``pruning-explorer train digits_cnn --out explorer/zoo/weights/digits_cnn.pt`` (or ``digits_vit``, with
``--half``). With the same seed and the
same torch build it gives the same weights: it runs on one thread (another thread count changes the order of
floating-point sums) and draws every random number from seeded generators.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from explorer._autograd import autograd_enabled
from explorer.data import DataSplit, load_data

__all__ = ["DIGITS_RECIPES", "compute_accuracy", "fit", "random_shift", "train_digits_model"]

_DIGITS_BATCH = 32
# zoo model → (epochs, peak learning rate): the small CNN learns fast; the ViT needs a gentler, longer run
DIGITS_RECIPES = {"digits_cnn": (30, 2e-2), "digits_vit": (60, 1e-3)}


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def random_shift(inputs: torch.Tensor, generator: torch.Generator, max_shift: int = 1) -> torch.Tensor:
    """Translate each image by up to ``max_shift`` pixels, filling with its own border value.

    Args:
        inputs: ``[N, C, H, W]`` images.
        generator: source of the random shifts.
        max_shift: largest shift, in pixels, along each axis.

    Returns:
        ``[N, C, H, W]`` shifted images.
    """
    n, _, h, w = inputs.shape
    padded = F.pad(inputs, (max_shift,) * 4, mode="replicate")
    offsets = torch.randint(0, 2 * max_shift + 1, (n, 2), generator=generator).to(inputs.device)
    rows = (
        (offsets[:, 0, None] + torch.arange(h, device=inputs.device))
        .view(n, 1, h, 1)
        .expand(n, inputs.shape[1], h, w + 2 * max_shift)
    )
    picked = padded.gather(2, rows)
    cols = offsets[:, 1, None] + torch.arange(w, device=inputs.device)
    cols = cols.view(n, 1, 1, w).expand(n, inputs.shape[1], h, w)
    return picked.gather(3, cols)


@autograd_enabled()
def fit(
    model: nn.Module,
    train: DataSplit,
    steps: int,
    lr: float = 3e-3,
    *,
    batch_size: int = 64,
    weight_decay: float = 1e-4,
    seed: int = 0,
    augment: Callable[[torch.Tensor, torch.Generator], torch.Tensor] | None = None,
    progress: Callable[[int, int, float], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    penalty: Callable[[], torch.Tensor] | None = None,
    after_step: Callable[[int], None] | None = None,
) -> list[float]:
    """Train ``model`` in place with AdamW and a cosine learning-rate decay, on seeded mini-batches.

    Args:
        model: the network; it is left in eval mode.
        train: the training samples.
        steps: number of optimiser steps.
        lr: peak learning rate.
        batch_size: samples per step (the split is reshuffled each time it is used up).
        weight_decay: AdamW weight decay.
        seed: seeds the batch order and the augmentation.
        augment: optional ``fn(inputs [B, C, H, W], generator) -> inputs`` applied to each batch.
        progress: called after each step as ``progress(step, steps, loss)``, steps counted from 1.
        should_stop: polled before each step; training stops early when it returns ``True``.
        penalty: a regulariser added to each step's loss (``() → scalar``, e.g. a group lasso).
        after_step: called after each optimiser step with the number of steps done (e.g. to zero filters).

    Returns:
        The loss of every step done (the data loss, without the penalty).
    """
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    n = int(train.labels.shape[0])
    order = torch.randperm(n, generator=generator)
    cursor = 0
    losses: list[float] = []
    model.train()
    try:
        for step in range(steps):
            if should_stop is not None and should_stop():
                break
            if cursor + batch_size > n:
                order, cursor = torch.randperm(n, generator=generator), 0
            batch = order[cursor : cursor + batch_size]
            cursor += batch_size
            inputs = train.inputs[batch]
            if augment is not None:
                inputs = augment(inputs, generator)
            for group in optimizer.param_groups:
                group["lr"] = lr * 0.5 * (1 + math.cos(math.pi * step / max(steps, 1)))
            loss = F.cross_entropy(model(inputs), train.labels[batch])
            optimizer.zero_grad(set_to_none=True)
            (loss + penalty() if penalty is not None else loss).backward()
            optimizer.step()
            if after_step is not None:
                after_step(step + 1)
            losses.append(loss.item())
            if progress is not None:
                progress(step + 1, steps, losses[-1])
    finally:
        model.eval()
    return losses


@torch.no_grad()
def compute_accuracy(model: nn.Module, split: DataSplit, batch_size: int = 500) -> float:
    """Top-1 accuracy of ``model`` on ``split``, in eval mode, in ``[0, 1]``."""
    was_training = model.training
    model.eval()
    correct = 0
    for start in range(0, int(split.labels.shape[0]), batch_size):
        logits = model(split.inputs[start : start + batch_size])
        correct += int((logits.argmax(1) == split.labels[start : start + batch_size]).sum())
    model.train(was_training)
    return correct / max(int(split.labels.shape[0]), 1)


def train_digits_model(
    name: str = "digits_cnn",
    seed: int = 0,
    epochs: int | None = None,
    out_path: str | os.PathLike | None = None,
    *,
    half: bool = False,
) -> float:
    """Train a digits zoo model (``digits_cnn`` or ``digits_vit``) from scratch on the digits train split,
    deterministically.

    Light augmentation (random shifts of one pixel) helps the small train split (about 1440 images).

    Args:
        name: the zoo model, a key of ``DIGITS_RECIPES``.
        seed: seeds the initial weights, the batch order and the augmentation.
        epochs: passes over the train split (batches of 32); default: the model's recipe.
        out_path: when given, the state_dict is written there (atomically).
        half: store floating-point tensors as float16 (halves the file; they load back as float32).

    Returns:
        Accuracy on the digits validation split, in ``[0, 1]``.
    """
    from explorer.zoo import create_model

    data = load_data("digits", seed=seed)
    assert data.train is not None
    with _single_thread():
        torch.manual_seed(seed)
        recipe_epochs, lr = DIGITS_RECIPES[name]
        model = create_model(name, pretrained=False)
        steps = (epochs or recipe_epochs) * math.ceil(int(data.train.labels.shape[0]) / _DIGITS_BATCH)
        fit(model, data.train, steps, lr=lr, batch_size=_DIGITS_BATCH, seed=seed, augment=random_shift)
        accuracy = compute_accuracy(model, data.val)
    if out_path is not None:
        state = {
            k: (v.half() if half and v.is_floating_point() else v).clone()
            for k, v in model.state_dict().items()
        }
        out = Path(out_path)
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".part", delete=False) as handle:
            temp = Path(handle.name)
        try:
            torch.save(state, temp)
            temp.chmod(0o644)  # NamedTemporaryFile creates 0600; the weights are meant to be shipped
            os.replace(temp, out)
        finally:
            temp.unlink(missing_ok=True)
    return accuracy
