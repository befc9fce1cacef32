"""Finding the groups with torch-pruning's dependency graph (the only place that uses it).

torch-pruning 1.6.1 is used for its dependency graph only: which channels are coupled (a conv's outputs, its
BatchNorm, the next layers' inputs, residual partners, depthwise convs, concatenations). The groups are read
from that graph here, not with ``get_all_groups``, because that merges the channels of a layer reached from
two root channels and keeps only the first root (see ``explorer.graph.units``). Channel pads are registered
as layers of their own (``ChannelPad``), so the streams they join stay apart. When torch-pruning cannot trace
a model, ``build_groups`` falls back on ``explorer.graph.fallback``.
"""

from __future__ import annotations

import gc
import warnings
from collections.abc import Mapping, Sequence

import torch
import torch_pruning as tp
from torch import fx, nn
from torch_pruning._helpers import UnwrappedParameters, _HybridIndex

from explorer._autograd import autograd_enabled
from explorer.attention import attention_layers
from explorer.errors import CoreText, ModelError
from explorer.graph.fallback import fallback_groups
from explorer.graph.groups import GroupGraph, Member, PruningGroup, lone_group
from explorer.graph.pads import find_channel_pads, swapped
from explorer.graph.refusals import functional_reason, refusal_reason, uncalled_layers
from explorer.graph.units import tie_units
from explorer.guard import BudgetExceeded, WorkBudget, guarded
from explorer.layers import (
    CHANNEL_LAYERS,
    CHANNEL_MAPS,
    CONVS,
    is_depthwise,
)
from explorer.window_attention import is_window_attention


class _ChannelPadPruner(tp.pruner.BasePruningFunc):
    """Tells torch-pruning that a ``ChannelPad``'s input and output channels are separate (two functions)."""

    TARGET_MODULES = CHANNEL_MAPS

    def prune_out_channels(self, layer, idxs):
        layer.remove_outputs(idxs)
        return layer

    def prune_in_channels(self, layer, idxs):
        layer.remove_inputs(idxs)
        return layer

    def get_out_channels(self, layer):
        return layer.out_channels

    def get_in_channels(self, layer):
        return layer.in_channels


def _build_dependency_graph(
    model: nn.Module, example_input: torch.Tensor, functional: Sequence[nn.Parameter] = ()
) -> tp.DependencyGraph:
    """torch-pruning's graph; the ``functional`` parameters (weights of layers the model never calls, used
    by its own code instead) become nodes of their own, so that the groups that reach them can be told."""
    # torch-pruning traces through autograd, so it needs gradients even when the caller disabled them
    pad_types = {type(m) for m in model.modules() if isinstance(m, CHANNEL_MAPS)}
    with warnings.catch_warnings(), autograd_enabled():
        warnings.simplefilter("ignore")
        # an input that requires grad makes autograd record every conv, even when all weights are frozen
        example = example_input.clone().requires_grad_(example_input.is_floating_point())
        return tp.DependencyGraph().build_dependency(
            model,
            example_inputs=example,
            verbose=False,
            customized_pruners={t: _ChannelPadPruner() for t in pad_types},
            unwrapped_parameters=[UnwrappedParameters(p, 0) for p in functional] or None,
        )


def _grouped_sides(model_modules: Mapping[str, nn.Module]) -> dict[tuple[str, str], int]:
    """``(conv, side)`` → channels per conv group, for every grouped (non-depthwise) convolution."""
    sides = {}
    for name, module in model_modules.items():
        if isinstance(module, CONVS) and module.groups > 1 and not is_depthwise(module):
            sides[(name, "in")] = module.in_channels // module.groups
            sides[(name, "out")] = module.out_channels // module.groups
    return sides


class _Unfollowable(Exception):
    """The channels of a group reach more indices than any layer has: torch-pruning lost track of them."""


def _raw_group(
    dg: tp.DependencyGraph, module: nn.Module, channels: int, max_indices: int
) -> dict[tuple, set[tuple[int, int]]]:
    """``(node, handler)`` → every ``(channel, root channel)`` pair reached from the root's output channels.

    The traversal is torch-pruning's own (``get_pruning_group``), without the final merge that keeps only
    the first root channel of every layer channel.

    Raises:
        _Unfollowable: an index list grew longer than ``max_indices`` (the most inputs or outputs any layer
            has). torch-pruning maps channels through every reshape as if it flattened channels with
            positions; through attention's and window partitions' reshapes the lists multiply at each step
            (Swin-T: 768 → 24,576 → ... until a MemoryError), and no layer can be cut by such a list.
    """
    pruner = dg.get_pruner_of_module(module)
    handler = tp.prune_depthwise_conv_out_channels if is_depthwise(module) else pruner.prune_out_channels
    root = dg.module2node[module]
    start = [_HybridIndex(idx=i, root_idx=i) for i in range(channels)]
    found: dict[tuple, set[tuple[int, int]]] = {(root, handler): {(i, i) for i in range(channels)}}
    seen = {(id(root), handler, tuple(start))}
    stack = [(root, handler, start)]
    while stack:
        node, fn, idxs = stack.pop()
        for dep in node.dependencies:
            if not dep.is_triggered_by(fn):
                continue
            new = idxs
            for mapping in dep.index_mapping:
                if mapping is not None:
                    new = mapping(new)
            if not new:
                continue
            if len(new) > max_indices:
                raise _Unfollowable(f"{len(new)} indices reached {dep.target.name}")
            key = (id(dep.target), dep.handler, tuple(new))
            if key in seen:
                continue
            seen.add(key)
            pairs = found.setdefault((dep.target, dep.handler), set())
            pairs.update((int(i.idx), int(i.root_idx)) for i in new)
            stack.append((dep.target, dep.handler, new))
    return found


def _group_of(
    dg: tp.DependencyGraph,
    module: nn.Module,
    names: Mapping[nn.Module, str],
    modules: Mapping[str, nn.Module],
    grouped: Mapping[tuple[str, str], int],
    max_indices: int,
    param_names: Mapping[nn.Parameter, str],
) -> tuple[PruningGroup, set[nn.Module]]:
    """The group rooted at ``module``, and the modules whose output channels it covers."""
    root_name = names[module]
    channels = dg.get_pruner_of_module(module).get_out_channels(module)
    pairs: dict[tuple[str, str], set[tuple[int, int]]] = {}
    params: dict[str, tuple[int, set[tuple[int, int]]]] = {}
    covered = set()
    try:
        raw = _raw_group(dg, module, channels, max_indices)
    except _Unfollowable:
        group = PruningGroup(
            root_name, channels, [Member(root_name, "out", tuple(range(channels)), tuple(range(channels)))]
        )
        group.prunable = False
        group.reason = CoreText(
            "refusal.unfollowable",
            "its channels reach reshapes that mix them with other dimensions (attention heads, window "
            "partitions...), which the dependency graph cannot follow, so what they are tied to is unknown",
        )
        return group, {module}
    for (node, handler), found in raw.items():
        target = node.module
        side = "out" if dg.is_out_channel_pruning_fn(handler) else "in"
        if isinstance(target, nn.Parameter):
            name = param_names.get(target)
            if name is not None:
                params.setdefault(name, (node.pruning_dim, set()))[1].update(found)
            continue
        if not isinstance(target, nn.Module) or target not in names:
            continue  # torch-pruning's placeholder ops (add, cat, reshape...) carry no weights
        if side == "out":
            covered.add(target)
        pairs.setdefault((names[target], side), set()).update(found)
    partial = [
        name
        for (name, side), found in pairs.items()
        if (name, side) in grouped and len({i for i, _ in found}) < getattr(modules[name], f"{side}_channels")
    ]
    all_pairs = dict(pairs) | {(name, "param"): found for name, (_, found) in params.items()}
    units, mapped = tie_units(channels, all_pairs, {k: v for k, v in grouped.items() if k in pairs})
    members = [
        Member(name, side, tuple(i for i, _ in got), tuple(u for _, u in got))
        for (name, side), got in mapped.items()
        if side != "param"
    ]
    members.sort(key=lambda m: (m.module != root_name, m.side != "out"))
    group = PruningGroup(root_name, units, members)
    group.params = [
        Member(name, "out", tuple(i for i, _ in got), tuple(u for _, u in got), dim=params[name][0])
        for (name, side), got in mapped.items()
        if side == "param"
    ]
    group.reason = refusal_reason(group, modules, partial)
    group.prunable = group.reason is None
    return group, covered


def build_groups(
    model: nn.Module, example_input: torch.Tensor, budget: WorkBudget | str | None = "default"
) -> GroupGraph:
    """Find the prunable channel groups of ``model``.

    Args:
        model: the network; it is not modified (a zero-padding module is swapped for a ``ChannelPad`` while
            it is traced, then put back).
        example_input: one batch ``[N, C, H, W]`` the model accepts.
        budget: time and memory the grouping may take (``explorer.guard``); ``"default"`` derives it from
            the process's memory limit, ``None`` runs unguarded.

    Returns:
        The groups, root first in module order. When torch-pruning cannot trace the model, or goes over the
        budget, the groups come from ``explorer.graph.fallback`` (``traced=False``) and a warning says so.

    Raises:
        ModelError: the model has no conv layer, or even the fallback went over the budget.
    """
    if budget == "default":
        budget = WorkBudget.from_limit()
    modules = dict(model.named_modules())
    convs = [name for name, m in modules.items() if isinstance(m, CONVS)]
    if not convs:
        raise ModelError(
            f"{type(model).__name__} has no convolution layer: the explorer prunes conv filters, "
            "so there is nothing to prune."
        )
    why = None
    uncalled: list[str] = []
    try:
        with guarded("finding the groups with torch-pruning", budget):
            replacements = find_channel_pads(model, example_input)
            with swapped(model, replacements):
                traced_modules = dict(model.named_modules())
                uncalled = uncalled_layers(model, example_input)
                functional = [p for n in uncalled for p in traced_modules[n].parameters()]
                dg = (
                    _build_dependency_graph(model, example_input, functional)
                    if functional
                    else _build_dependency_graph(model, example_input)
                )
                groups, unreached = _read_groups(dg, traced_modules, convs, uncalled)
                del dg
    except BudgetExceeded as error:
        why = str(error)
    except Exception as error:  # torch-pruning raises many kinds of errors on odd graphs
        why = f"{type(error).__name__}: {error}"
        if uncalled:
            shown = ", ".join(uncalled[:3]) + (f" and {len(uncalled) - 3} more" if len(uncalled) > 3 else "")
            why += f"; the model uses the weights of {shown} in its own code instead of calling them"
    if why is not None:
        # outside the except block, so that the traceback (and torch-pruning's graph) is freed first
        gc.collect()
        return _fallback(model, example_input, convs, why, budget)
    if unreached and not _statically_unused(model, unreached):
        # torch-pruning records only the ops the example input went through: a conv it never saw sits on a
        # branch of data-dependent control flow, and what its channels are coupled to is unknown
        return _fallback(
            model,
            example_input,
            convs,
            f"the traced forward never reached {', '.join(unreached)} (data-dependent control flow)",
            budget,
        )
    for name in unreached:
        groups.append(
            lone_group(
                name, modules[name], "the forward pass never uses it (e.g. an auxiliary head in eval mode)"
            )
        )
    groups += head_groups(model, example_input)
    order = {name: i for i, name in enumerate(modules)}
    groups.sort(key=lambda g: order[g.name])
    return GroupGraph(groups, traced=True, replacements=replacements)


def head_groups(model: nn.Module, example_input: torch.Tensor) -> list[PruningGroup]:
    """One group per ``nn.MultiheadAttention`` whose unit is the head (see ``explorer.attention``): its
    query, key and value rows and its output-projection columns."""
    modules = dict(model.named_modules())
    groups = []
    for name, why in attention_layers(model, example_input).items():
        layer = modules[name]
        window = is_window_attention(layer)
        heads = layer.relative_position_bias_table.shape[1] if window else layer.num_heads
        width = layer.qkv.out_features // 3 if window else layer.embed_dim
        head_dim = width // heads
        rows, cols = tuple(range(3 * width)), tuple(range(width))
        # Swin's projections are modules of the layer; nn.MultiheadAttention holds its in_proj_weight itself
        members = [
            Member(
                f"{name}.qkv" if window else name, "out", rows, tuple((r % width) // head_dim for r in rows)
            ),
            Member(
                f"{name}.proj" if window else f"{name}.out_proj",
                "in",
                cols,
                tuple(c // head_dim for c in cols),
            ),
        ]
        group = PruningGroup(name, heads, members, unit="head")
        if window:  # one column of relative position biases per head
            table = tuple(range(heads))
            group.params = [Member(f"{name}.relative_position_bias_table", "out", table, table, dim=1)]
        if why is not None:
            group.prunable = False
            group.reason = f"its heads are not offered: {why}"
        groups.append(group)
    return groups


def _fallback(
    model: nn.Module, example_input: torch.Tensor, convs: list[str], why: str, budget: WorkBudget | None
) -> GroupGraph:
    """The torch.fx groups, under the same kind of budget; a clear error when even they cannot be found."""
    fresh = None if budget is None else WorkBudget.from_limit(budget.limit, budget.seconds)
    try:
        with guarded("finding the groups with torch.fx", fresh):
            graph = fallback_groups(model, example_input, convs, why)
            graph.groups += head_groups(model, example_input)
            order = {name: i for i, name in enumerate(dict(model.named_modules()))}
            graph.groups.sort(key=lambda g: order[g.name])
            return graph
    except BudgetExceeded as error:
        raise ModelError(
            f"the explorer cannot find this model's groups within the machine's memory and time: {why}; "
            f"then {error}. Try a smaller input size or a larger memory limit."
        ) from error


def _read_groups(
    dg: tp.DependencyGraph, modules: Mapping[str, nn.Module], convs: list[str], uncalled: Sequence[str] = ()
) -> tuple[list[PruningGroup], list[str]]:
    """One group per conv or linear whose output channels no earlier group covers; and the unreached convs."""
    names = {m: n for n, m in modules.items()}
    param_names = {p: n for n, p in dg.model.named_parameters()}
    grouped = _grouped_sides(modules)
    max_indices = max(
        [getattr(m, a, 0) for m in modules.values() for a in ("in_features", "in_channels", "out_features")]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Maximum recursive depth reached!" and the like
        tp.dependency.index_mapping.update_index_mapping(dg)
    groups = []
    covered: set[nn.Module] = set()
    for module in list(dg.module2node):
        if not isinstance(module, CHANNEL_LAYERS) or module in covered or module not in names:
            continue
        group, reached = _group_of(dg, module, names, modules, grouped, max_indices, param_names)
        if group.prunable:
            group.reason = functional_reason(group, uncalled)
            group.prunable = group.reason is None
        covered |= reached
        groups.append(group)
    unreached = [name for name in convs if modules[name] not in dg.module2node]
    return groups, unreached


def _statically_unused(model: nn.Module, names: list[str]) -> bool:
    """True when torch.fx can trace ``model`` and its graph never calls any of ``names``: the layers are
    unused in this mode (an auxiliary head in eval mode), not hidden behind data-dependent control flow."""
    try:
        called = {str(n.target) for n in fx.symbolic_trace(model).graph.nodes if n.op == "call_module"}
    except Exception:
        return False
    return not called.intersection(names)
