"""Training for prunability: Soft Filter Pruning and group lasso, then a hard cut.

Plain masked fine-tuning (``explorer.finetune``) removes the channels first and trains the rest. The two
modes here train *before* the cut, so that the network moves its work out of the channels that go:

* ``soft`` — He, Kang, Dong, Fu & Yang, "Soft Filter Pruning for Accelerating Deep Convolutional Neural
  Networks", IJCAI 2018, https://arxiv.org/abs/1808.06866. Every ``period`` steps (an epoch in the paper),
  each group's filters are ranked by their ℓ2 norm ‖W_c‖₂ (the paper's ℓp, p = 2) and the k lowest are set
  to zero, but they stay in the network and keep being updated, so a zeroed filter can grow back and be
  re-selected out. After the last step, the k lowest-norm filters are cut for good. As in the paper only
  the filters are zeroed. A BatchNorm after a zeroed filter still emits the constant β − γ·μ/σ, which the
  next layers may rely on; the paper reports the network with its filters zeroed, whereas the hard cut
  removes that constant too. Both accuracies are reported (``accuracy_soft`` and ``accuracy_after``).
* ``group_lasso`` — the channel-wise group lasso of Wen, Wu, Wang, Chen & Li, "Learning Structured Sparsity
  in Deep Neural Networks", NeurIPS 2016, https://arxiv.org/abs/1608.03665: the loss becomes
  L + λ·Σ_g Σ_c ‖W_g,c‖₂, where W_g,c gathers every parameter that channel c of group g owns in its "out"
  layers (the filter rows and biases of its convs / linear layers, the γ and β of its BatchNorms), so that
  whole channels, not single weights, are driven towards zero. After the last step, the k channels with the
  smallest ‖W_g,c‖₂ are cut. (‖·‖₂ is made differentiable at 0 as sqrt(‖·‖² + 1e-12).)

k is, per group, the number of channels the current plan removes, so every mode ends at the same MACs. The
optimiser, learning-rate schedule, batches and seed are those of ``explorer.train.fit`` for all modes.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from explorer.data import DataSplit
from explorer.errors import ExplorerError
from explorer.finetune import FinetuneResult, finetune_masked, masked_accuracy
from explorer.graph import PruningGroup
from explorer.layers import BATCH_NORMS, CHANNEL_LAYERS
from explorer.masks import LayerCuts
from explorer.plan import lowest
from explorer.train import compute_accuracy, fit

MODES = ("masked", "soft", "group_lasso")
#: The weights-state kind each mode's result is adopted as ("soft-pruned under plan #N (200 steps)").
KINDS = {"masked": "fine-tuned", "soft": "soft-pruned", "group_lasso": "group-lasso-trained"}
DEFAULT_LAMBDA = 1e-2

CutsOf = Callable[[Mapping[str, Sequence[int]]], LayerCuts]


@dataclass
class ModeResult(FinetuneResult):
    """A run of one training mode (the ``FinetuneResult`` fields, plus what the mode chose).

    Attributes:
        mode: ``"soft"`` or ``"group_lasso"``.
        accuracy_soft: for ``soft``, validation accuracy of the trained network with the final selection's
            filters zeroed but nothing cut (what the paper reports); ``accuracy_after`` is after the cut.
        pruned: group → root channels cut at the end (the hard cut).
        selections: for ``soft``, the channels zeroed at each re-selection, in order (the last is the cut).
        norms_before, norms_after: group → per-channel norms the mode ranks by, before and after training.
    """

    mode: str = ""
    accuracy_soft: float | None = None
    pruned: dict[str, tuple[int, ...]] = field(default_factory=dict)
    selections: list[dict[str, tuple[int, ...]]] = field(default_factory=list)
    norms_before: dict[str, torch.Tensor] = field(default_factory=dict)
    norms_after: dict[str, torch.Tensor] = field(default_factory=dict)

    @classmethod
    def after_cut(
        cls, trained: nn.Module, losses: list[float], steps: int, before: float, after: float, **fields
    ) -> ModeResult:
        """A finished (or cancelled: fewer losses than ``steps``) run, judged before training and after the
        hard cut; ``fields`` are the mode's own (``mode``, ``pruned``, ``selections``, norms...)."""
        curve = [(0, before), (len(losses), after)]
        return cls(trained, losses, curve, before, after, len(losses) < steps, **fields)


def layer_slices(
    model: nn.Module, group: PruningGroup
) -> list[tuple[nn.Module, list[torch.Tensor], torch.Tensor, torch.Tensor]]:
    """Per "out" conv / linear / BatchNorm layer of a group: ``(module, parameters, layer rows, root
    channels)``, the parameters being weight and bias (γ and β for a BatchNorm)."""
    slices = []
    for member in group.members:
        module = model.get_submodule(member.module)
        if member.side != "out" or not isinstance(module, (*CHANNEL_LAYERS, *BATCH_NORMS)):
            continue
        params = [p for p in (module.weight, module.bias) if p is not None]
        layer = torch.tensor(member.idxs, dtype=torch.long)
        roots = torch.tensor(member.root_idxs, dtype=torch.long)
        slices.append((module, params, layer, roots))
    return slices


def _slice_norm(
    params: Sequence[torch.Tensor], layer: torch.Tensor, roots: torch.Tensor, size: int
) -> torch.Tensor:
    """``[size]``: per root channel, sqrt(Σ of the squares of its rows in ``params`` + 1e-12)."""
    device = params[0].device
    squares = torch.zeros(size, dtype=params[0].dtype, device=device)
    layer, roots = layer.to(device), roots.to(device)
    for p in params:
        squares = squares.index_add(0, roots, p[layer].reshape(len(layer), -1).square().sum(dim=1))
    return (squares + 1e-12).sqrt()


def filter_norms(model: nn.Module, groups: Sequence[PruningGroup]) -> dict[str, torch.Tensor]:
    """group → ``[C]`` ℓ2 norm of each channel's conv / linear filter rows (SFP's ranking)."""
    norms = {}
    for group in groups:
        squares = [
            _slice_norm([module.weight], layer, roots, group.num_channels).square()
            for module, _, layer, roots in layer_slices(model, group)
            if isinstance(module, CHANNEL_LAYERS)
        ]
        if squares:
            norms[group.name] = torch.stack(squares).sum(dim=0).sqrt()
    return norms


def lasso_norms(model: nn.Module, groups: Sequence[PruningGroup]) -> dict[str, list[torch.Tensor]]:
    """group → one ``[C]`` per "out" layer: ‖W_l,c‖₂ of channel c's slice in layer l (differentiable)."""
    return {
        group.name: [
            _slice_norm(params, layer, roots, group.num_channels) for _, params, layer, roots in slices
        ]
        for group in groups
        if (slices := layer_slices(model, group))
    }


def gate_norms(model: nn.Module, groups: Sequence[PruningGroup]) -> dict[str, torch.Tensor]:
    """group → ``[C]``: the mean over the group's BatchNorms of ‖(γ_c, β_c)‖₂, or, with no BatchNorm, over
    its filters of ‖(W_c, b_c)‖₂: the slice that switches the channel off when it reaches zero."""
    norms = {}
    for group in groups:
        slices = layer_slices(model, group)
        gates = [s for s in slices if isinstance(s[0], BATCH_NORMS)] or slices
        if gates:
            parts = [
                _slice_norm(params, layer, roots, group.num_channels) for _, params, layer, roots in gates
            ]
            norms[group.name] = torch.stack(parts).mean(dim=0)
    return norms


def _detached(norms: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {g: n.detach().clone() for g, n in norms.items()}


def _select(norms: Mapping[str, torch.Tensor], counts: Mapping[str, int]) -> dict[str, tuple[int, ...]]:
    return {g: lowest(norms[g].detach(), counts[g]) for g in counts if counts[g] > 0 and g in norms}


@torch.no_grad()
def _zero_filters(
    model: nn.Module, groups: Sequence[PruningGroup], chosen: Mapping[str, Sequence[int]]
) -> None:
    """SFP's soft pruning: the chosen channels' conv / linear filter rows are set to zero (nothing else)."""
    for group in groups:
        removed = set(chosen.get(group.name, ()))
        for module, _, layer, roots in layer_slices(model, group):
            if isinstance(module, CHANNEL_LAYERS):
                module.weight[[int(i) for i, r in zip(layer, roots, strict=True) if int(r) in removed]] = 0


def _fit_copy(
    model: nn.Module, train: DataSplit, steps: int, hooks: Callable[[nn.Module], dict], **options
) -> tuple[nn.Module, list[float]]:
    """Train a copy of ``model`` (``hooks(copy)`` gives ``fit``'s ``penalty`` / ``after_step`` for it);
    returns the frozen copy and the losses."""
    trained = copy.deepcopy(model)
    for p in trained.parameters():
        p.requires_grad_(True)
    losses = fit(trained, train, steps, **hooks(trained), **options)
    for p in trained.parameters():
        p.requires_grad_(False)
    return trained, losses


def soft_filter_pruning(
    model: nn.Module,
    groups: Sequence[PruningGroup],
    counts: Mapping[str, int],
    cuts_of: CutsOf,
    train: DataSplit,
    val: DataSplit,
    steps: int,
    *,
    period: int | None = None,
    **options,
) -> ModeResult:
    """Soft Filter Pruning (He et al. 2018) of a copy of ``model``, then the hard cut.

    Args:
        groups: the groups that lose channels; ``counts``: how many each loses.
        cuts_of: ``pruned → LayerCuts`` (the session's ``layer_cuts``), for the hard cut's masks.
        period: steps between re-selections (default: one epoch of ``train``).
        options: ``lr``, ``batch_size``, ``seed``, ``progress``, ``should_stop`` for ``explorer.train.fit``.
    """
    groups = [g for g in groups if counts.get(g.name, 0) > 0]
    work = copy.deepcopy(model)
    if period is None:
        period = max(1, math.ceil(int(train.labels.shape[0]) / options.get("batch_size", 64)))
    norms_before = _detached(filter_norms(work, groups))
    selections = [_select(norms_before, counts)]
    before = masked_accuracy(work, cuts_of(selections[0]), val)

    def reselect(trained: nn.Module) -> None:
        with torch.no_grad():
            chosen = _select(filter_norms(trained, groups), counts)
        selections.append(chosen)
        _zero_filters(trained, groups, chosen)

    _zero_filters(work, groups, selections[0])

    def hooks(trained: nn.Module) -> dict:
        def after_step(done: int) -> None:
            if done % period == 0 and done < steps:
                reselect(trained)

        return {"after_step": after_step}

    trained, losses = _fit_copy(work, train, steps, hooks, **options)
    final = _select(filter_norms(trained, groups), counts)
    selections.append(final)
    norms_after = _detached(filter_norms(trained, groups))
    after = masked_accuracy(trained, cuts_of(final), val)
    zeroed = copy.deepcopy(trained)
    _zero_filters(zeroed, groups, final)
    soft = compute_accuracy(zeroed, val)
    return ModeResult.after_cut(
        trained,
        losses,
        steps,
        before,
        after,
        mode="soft",
        accuracy_soft=soft,
        pruned=final,
        selections=selections,
        norms_before=norms_before,
        norms_after=norms_after,
    )


def group_lasso(
    model: nn.Module,
    groups: Sequence[PruningGroup],
    counts: Mapping[str, int],
    cuts_of: CutsOf,
    train: DataSplit,
    val: DataSplit,
    steps: int,
    *,
    lam: float = DEFAULT_LAMBDA,
    **options,
) -> ModeResult:
    """Train a copy of ``model`` with the channel group lasso λ·Σ‖W_g,c‖₂ added to the loss, then the hard cut
    of the ``counts[g]`` smallest channels of each group (arguments as in ``soft_filter_pruning``)."""
    groups = [g for g in groups if counts.get(g.name, 0) > 0]
    norms_before = _detached(gate_norms(model, groups))
    first = _select(norms_before, counts)
    before = masked_accuracy(model, cuts_of(first), val)

    def hooks(trained: nn.Module) -> dict:
        def penalty() -> torch.Tensor:
            terms = lasso_norms(trained, groups).values()
            return lam * sum(norm.sum() for layers in terms for norm in layers)

        return {"penalty": penalty}

    trained, losses = _fit_copy(model, train, steps, hooks, **options)
    norms_after = _detached(gate_norms(trained, groups))
    final = _select(norms_after, counts)
    after = masked_accuracy(trained, cuts_of(final), val)
    return ModeResult.after_cut(
        trained,
        losses,
        steps,
        before,
        after,
        mode="group_lasso",
        pruned=final,
        selections=[first, final],
        norms_before=norms_before,
        norms_after=norms_after,
    )


def train_mode(
    mode: str,
    model: nn.Module,
    groups: Sequence[PruningGroup],
    pruned: Mapping[str, Sequence[int]],
    cuts_of: CutsOf,
    train: DataSplit,
    val: DataSplit,
    steps: int,
    *,
    lam: float = DEFAULT_LAMBDA,
    period: int | None = None,
    **options,
) -> FinetuneResult:
    """Run ``mode`` (one of ``MODES``) to the per-group channel counts of ``pruned``.

    ``"masked"`` is plain fine-tuning under ``pruned``'s own channels (``explorer.finetune``); the other two
    choose their channels themselves (see the module docstring).
    """
    if mode == "masked":
        return finetune_masked(model, cuts_of(pruned), train, val, steps, **options)
    counts = {g.name: len(pruned.get(g.name, ())) for g in groups}
    if mode == "soft":
        return soft_filter_pruning(
            model, groups, counts, cuts_of, train, val, steps, period=period, **options
        )
    if mode == "group_lasso":
        return group_lasso(model, groups, counts, cuts_of, train, val, steps, lam=lam, **options)
    raise ExplorerError(f"unknown training mode {mode!r}; choose one of {', '.join(MODES)}")


__all__ = [
    "DEFAULT_LAMBDA",
    "KINDS",
    "MODES",
    "ModeResult",
    "filter_norms",
    "gate_norms",
    "group_lasso",
    "lasso_norms",
    "layer_slices",
    "soft_filter_pruning",
    "train_mode",
]
