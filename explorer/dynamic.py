"""Dynamic (input-dependent) channel pruning, shown honestly, against static pruning at the same MACs.

Gao, Zhao, Dudziak, Mullins & Xu, "Dynamic Channel Pruning: Feature Boosting and Suppression" (FBS), ICLR
2019, https://arxiv.org/abs/1810.05331: for each input, a small learned predictor guesses each channel's
saliency and only the top-k channels of a layer are computed; different images use different channels.

This module is a **training-free stand-in**, not FBS: the saliency of channel c for input n is its *own*
activation magnitude, s_n,c = mean_m |x_n,c,m| over the M positions of the consumer's input (the channel's
post-activation map, as the next layer reads it), and for every image only the k = C − round(ratio·C)
channels with the largest s_n,c of each group are passed on (the others are zeroed at the inputs of the
layers that read them, per image). The channels still have to be computed to be ranked, so this is an
*oracle* selection that no real predictor beats; it shows how much an input-dependent choice could gain.

Costs: every image keeps exactly k channels per group, so its effective MACs (the skipped channels neither
computed nor read, as FBS would run it, the predictor's own small cost not counted) equal those of a static
plan with the same counts: ``dynamic_macs == static_macs``. ``macs_as_run`` is what this stand-in really
needs (every channel computed, only the readers shrink). Static pruning at the same MACs keeps, for all
images alike, the same number of channels per group, ranked by ``static_criterion`` (default
``mean_activation``: the same saliency, averaged over the calibration set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from explorer.graph import PruningGroup
from explorer.layers import channel_dim
from explorer.masks import LayerCuts, apply_masks
from explorer.plan import count_to_prune

METHOD = (
    "training-free stand-in for FBS (Gao et al., ICLR 2019): each image keeps the top-k channels of each "
    "group by its own activation magnitude"
)
NOTE = (
    "The channels are ranked by their own activations, so they must be computed first: an upper bound for "
    "a learned predictor, not a speed-up. dynamic_macs counts the skipped channels as neither computed nor "
    "read (as FBS runs), without a predictor's cost; macs_as_run is what this stand-in really computes."
)


def _per_channel_magnitude(x: torch.Tensor, dim: int) -> torch.Tensor:
    """``[B, C]``: mean |x| over every dimension but the batch and the channel."""
    moved = x.detach().abs().movedim(dim % x.dim(), 1)
    return moved.reshape(moved.shape[0], moved.shape[1], -1).float().mean(dim=2)


class _Selector:
    """Per forward pass and group, the channels each image keeps (chosen at the group's first reader)."""

    def __init__(self, keep: Mapping[str, int], record: bool):
        self.keep = dict(keep)
        self.current: dict[str, torch.Tensor] = {}  # group → [B, C] bool, this forward pass
        self.record = record
        self.kept: dict[str, list[torch.Tensor]] = {g: [] for g in keep}

    def reset(self) -> None:
        if self.record:
            for group, mask in self.current.items():
                self.kept[group].append(mask.cpu())
        self.current = {}

    def choose(self, group: PruningGroup, member, x: torch.Tensor, dim: int) -> torch.Tensor:
        """``[B, C_root]`` bool for this pass (computed from ``x``, the reader's input, on first call)."""
        mask = self.current.get(group.name)
        if mask is None:
            layer = _per_channel_magnitude(x, dim)
            idxs = torch.tensor(member.idxs, dtype=torch.long)
            roots = torch.tensor(member.root_idxs, dtype=torch.long)
            idxs, roots = idxs.to(layer.device), roots.to(layer.device)
            zeros = torch.zeros(layer.shape[0], group.num_channels, device=layer.device)
            total = zeros.index_add_(1, roots, layer[:, idxs])
            ones = torch.ones(len(roots), device=layer.device)
            count = torch.zeros(group.num_channels, device=layer.device).index_add_(0, roots, ones)
            saliency = total / count.clamp_min(1)
            top = saliency.topk(self.keep[group.name], dim=1).indices
            mask = torch.zeros_like(saliency, dtype=torch.bool).scatter_(1, top, True)
            self.current[group.name] = mask
        return mask


@contextmanager
def dynamic_masks(
    model: nn.Module, groups: Sequence[PruningGroup], keep: Mapping[str, int], *, record: bool = False
) -> Iterator[_Selector]:
    """Per image, only the ``keep[g]`` most active channels of each group reach the layers that read them.

    Yields the selector; with ``record``, ``selector.kept[g]`` collects each pass's ``[B, C]`` choice.
    """
    selector = _Selector(keep, record)
    modules = dict(model.named_modules())
    handles = [model.register_forward_pre_hook(lambda _m, _a: selector.reset())]

    def reader_hook(group: PruningGroup, member, dim: int):
        layer_idxs = torch.tensor(member.idxs, dtype=torch.long)
        roots = torch.tensor(member.root_idxs, dtype=torch.long)

        def hook(_module, args):
            if not args or not isinstance(args[0], torch.Tensor):
                return None
            x = args[0]
            chosen = selector.choose(group, member, x, dim)  # [B, C_root]
            layer_keep = torch.ones(x.shape[0], x.shape[dim], dtype=x.dtype, device=x.device)
            layer_keep[:, layer_idxs] = chosen[:, roots].to(x.dtype)
            shape = [x.shape[0]] + [1] * (x.dim() - 1)
            shape[dim % x.dim()] = x.shape[dim]
            return (x * layer_keep.view(shape), *args[1:])

        return hook

    try:
        for group in groups:
            if keep.get(group.name, group.num_channels) >= group.num_channels:
                continue
            for member in group.members:
                if member.side == "in":
                    module = modules[member.module]
                    handles.append(
                        module.register_forward_pre_hook(reader_hook(group, member, channel_dim(module)))
                    )
        yield selector
    finally:
        for handle in handles:
            handle.remove()
        selector.reset()


@torch.no_grad()
def _run(model: nn.Module, inputs: torch.Tensor, batch_size: int = 200) -> torch.Tensor:
    model.eval()
    return torch.cat([model(inputs[s : s + batch_size]) for s in range(0, int(inputs.shape[0]), batch_size)])


def keep_counts(groups: Sequence[PruningGroup], ratio: float) -> dict[str, int]:
    """group → channels each image keeps: C − round(ratio·C), at least one."""
    return {g.name: g.num_channels - count_to_prune(g.num_channels, ratio, g.name) for g in groups}


def compare_dynamic_static(
    model: nn.Module,
    groups: Sequence[PruningGroup],
    ratio: float,
    val: Any,
    static_pruned: Mapping[str, Sequence[int]],
    cuts_of: Callable[[Mapping[str, Sequence[int]]], LayerCuts],
    count_macs: Callable[[LayerCuts], int],
    static_criterion: str,
) -> dict[str, Any]:
    """Accuracy and average effective MACs per image of dynamic vs static pruning at ``ratio`` per group.

    Args:
        model: the original network (not changed).
        static_pruned: the static plan (same count per group as the dynamic one).
        cuts_of: plan → ``LayerCuts``; ``count_macs``: ``LayerCuts`` → MACs per image.
    """
    keep = keep_counts(groups, ratio)
    static_cuts = cuts_of(static_pruned)

    def accuracy(logits: torch.Tensor) -> float:
        return int((logits.argmax(1) == val.labels).sum()) / max(int(val.labels.shape[0]), 1)

    with dynamic_masks(model, groups, keep, record=True) as selector:
        dynamic_accuracy = accuracy(_run(model, val.inputs))
    with apply_masks(model, static_cuts):
        static_accuracy = accuracy(_run(model, val.inputs))
    baseline_accuracy = accuracy(_run(model, val.inputs))
    use = {g: torch.cat(masks).float().mean(0).tolist() for g, masks in selector.kept.items() if masks}
    return {
        "method": METHOD,
        "note": NOTE,
        "weights": "original",
        "ratio": ratio,
        "keep": keep,
        "dynamic_accuracy": dynamic_accuracy,
        "dynamic_macs": count_macs(static_cuts),
        "macs_as_run": count_macs(LayerCuts(inp=dict(static_cuts.inp))),
        "static_accuracy": static_accuracy,
        "static_macs": count_macs(static_cuts),
        "static_criterion": static_criterion,
        "baseline_accuracy": baseline_accuracy,
        "baseline_macs": count_macs(LayerCuts()),
        "channel_use": use,
    }


def channels_used(
    model: nn.Module, groups: Sequence[PruningGroup], ratio: float, val: Any, indices: Sequence[int]
) -> list[dict[str, Any]]:
    """For each validation image in ``indices``, the channels of each group it keeps under dynamic pruning.

    Returns:
        One dict per image: ``{"index", "label", "prediction", "confidence", "channels": {group: [kept
        root channels]}}``, plain data for a view.
    """
    picked = [int(i) for i in indices]
    with dynamic_masks(model, groups, keep_counts(groups, ratio), record=True) as selector:
        logits = _run(model, val.inputs[picked])
    used = {g: torch.cat(m) for g, m in selector.kept.items() if m}
    probs = torch.softmax(logits.float(), dim=1)
    rows = []
    for row, index in enumerate(picked):
        rows.append(
            {
                "index": index,
                "label": int(val.labels[index]),
                "prediction": int(probs[row].argmax()),
                "confidence": float(probs[row].max()),
                "channels": {g: mask[row].nonzero().flatten().tolist() for g, mask in used.items()},
            }
        )
    return rows


__all__ = ["METHOD", "NOTE", "channels_used", "compare_dynamic_static", "dynamic_masks", "keep_counts"]
