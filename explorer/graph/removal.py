"""Physical channel removal: a smaller copy of the model, without the pruned channels.

Removal reads the same ``LayerCuts`` that masking and cost counting read, so the three cannot disagree on
which channels of which layer a plan removes; the layers are cut one by one, each by the rule of its type.
torch-pruning only finds the groups (``discovery``): it does not cut.

Every layer keeps at least one channel on each side: a plan that would empty one is refused with the layer
named, rather than exported as a layer with a zero-sized weight.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from explorer._autograd import autograd_enabled
from explorer.attention import HeadAttention
from explorer.channel_pad import ChannelPad
from explorer.errors import ModelError
from explorer.graph.discovery import build_groups
from explorer.graph.groups import GroupGraph, LayerCuts, compute_layer_cuts
from explorer.layers import BATCH_NORMS, CONVS, is_depthwise, layer_norm_channels
from explorer.window_attention import HeadWindowAttention, is_window_attention


def _keep(total: int, removed: set[int], what: str) -> list[int]:
    keep = [i for i in range(total) if i not in removed]
    if not keep:
        raise ModelError(f"the plan removes every channel of {what}: at least one must be kept")
    return keep


def _select(param: torch.Tensor | None, dim: int, keep: Sequence[int]) -> nn.Parameter | None:
    if param is None:
        return None
    index = torch.tensor(list(keep), dtype=torch.long, device=param.device)
    return nn.Parameter(param.detach().index_select(dim, index).clone(), requires_grad=param.requires_grad)


def _select_buffer(module: nn.Module, attr: str, keep: Sequence[int]) -> None:
    buffer = getattr(module, attr, None)
    if isinstance(buffer, torch.Tensor) and buffer.dim() > 0:
        index = torch.tensor(list(keep), dtype=torch.long, device=buffer.device)
        setattr(module, attr, buffer.index_select(0, index).clone())


def _uniform_per_group(removed: set[int], per_group: int, groups: int, what: str) -> int:
    counts = [sum(1 for i in removed if i // per_group == g) for g in range(groups)]
    if len(set(counts)) != 1:
        raise ModelError(
            f"{what} is a grouped convolution ({groups} groups): every group must lose the same number of "
            f"channels, but this plan removes {counts}"
        )
    return counts[0]


def _cut_conv(module: nn.Conv2d, out: set[int], inp: set[int], name: str) -> None:
    """Cut a conv's outputs and inputs. A grouped conv keeps ``groups``: every group must lose the same number
    of channels on each side (``explorer.graph.units`` ties the channels at one position in every group into
    one unit, so plans always do), and each output row keeps the inputs its own group keeps."""
    if is_depthwise(module):
        keep = _keep(module.out_channels, out | inp, name)
        module.weight = _select(module.weight, 0, keep)
        module.bias = _select(module.bias, 0, keep)
        module.in_channels = module.out_channels = module.groups = len(keep)
        return
    groups = module.groups
    if out:
        _uniform_per_group(out, module.out_channels // groups, groups, name)
        keep = _keep(module.out_channels, out, f"{name} (outputs)")
        module.weight = _select(module.weight, 0, keep)
        module.bias = _select(module.bias, 0, keep)
        module.out_channels = len(keep)
    if inp:
        per_group = module.in_channels // groups
        lost = _uniform_per_group(inp, per_group, groups, name)
        keep = _keep(module.in_channels, inp, f"{name} (inputs)")
        if groups == 1:
            module.weight = _select(module.weight, 1, keep)
        else:
            # each output row reads its own group's inputs: keep, per row, the positions its group keeps
            positions = [[i - g * per_group for i in keep if i // per_group == g] for g in range(groups)]
            rows_per_group = module.out_channels // groups
            index = torch.tensor(
                [positions[r // rows_per_group] for r in range(module.out_channels)],
                dtype=torch.long,
                device=module.weight.device,
            )
            weight = module.weight.detach()
            index = index.view(*index.shape, *([1] * (weight.dim() - 2))).expand(-1, -1, *weight.shape[2:])
            module.weight = nn.Parameter(weight.gather(1, index).clone(), module.weight.requires_grad)
            assert module.weight.shape[1] == per_group - lost
        module.in_channels = len(keep)


def _cut_linear(module: nn.Linear, out: set[int], inp: set[int], name: str) -> None:
    if out:
        keep = _keep(module.out_features, out, f"{name} (outputs)")
        module.weight = _select(module.weight, 0, keep)
        module.bias = _select(module.bias, 0, keep)
        module.out_features = len(keep)
    if inp:
        keep = _keep(module.in_features, inp, f"{name} (inputs)")
        module.weight = _select(module.weight, 1, keep)
        module.in_features = len(keep)


def _cut_per_channel(module: nn.Module, removed: set[int], name: str) -> None:
    """BatchNorm, LayerNorm over channels, PReLU: one entry per channel in every parameter and buffer."""
    if isinstance(module, nn.PReLU):
        if module.num_parameters > 1:
            keep = _keep(module.num_parameters, removed, name)
            module.weight = _select(module.weight, 0, keep)
            module.num_parameters = len(keep)
        return
    if isinstance(module, nn.LayerNorm):
        keep = _keep(layer_norm_channels(module), removed, name)
        module.normalized_shape = (len(keep),)
    else:
        keep = _keep(module.num_features, removed, name)
        module.num_features = len(keep)
    module.weight = _select(module.weight, 0, keep)
    module.bias = _select(module.bias, 0, keep)
    for attr in ("running_mean", "running_var"):
        _select_buffer(module, attr, keep)


def _cut_module(module: nn.Module, out: set[int], inp: set[int], name: str) -> None:
    if isinstance(module, CONVS):
        _cut_conv(module, out, inp, name)
    elif isinstance(module, nn.Linear):
        _cut_linear(module, out, inp, name)
    elif isinstance(module, (*BATCH_NORMS, nn.LayerNorm, nn.PReLU)):
        _cut_per_channel(module, out | inp, name)
    elif isinstance(module, HeadAttention):
        heads = {(r % (module.num_heads * module.head_dim)) // module.head_dim for r in out | inp}
        if len(heads) >= module.num_heads:
            raise ModelError(f"the plan removes every head of {name}: at least one must be kept")
        module.remove_rows(sorted(out | inp))
    elif isinstance(module, ChannelPad):
        if inp:
            _keep(module.in_channels, inp, f"{name} (inputs)")
            module.remove_inputs(sorted(inp))
        if out:
            _keep(module.out_channels, out, f"{name} (outputs)")
            module.remove_outputs(sorted(out))
    else:
        raise ModelError(f"{name} ({type(module).__name__}): the engine cannot cut channels of this type")


def _cut_param(model: nn.Module, name: str, dim: int, removed: set[int]) -> None:
    owner_name, _, attr = name.rpartition(".")
    owner = model.get_submodule(owner_name)
    param = getattr(owner, attr)
    keep = _keep(param.shape[dim], removed, name)
    setattr(owner, attr, _select(param, dim, keep))


@torch.no_grad()
def apply_cuts(model: nn.Module, cuts: LayerCuts) -> None:
    """Remove, in place, the channels ``cuts`` lists from every layer and bare parameter of ``model``.

    Raises:
        ModelError: a layer would lose all its channels, a grouped conv would lose different numbers of
            channels in different groups, or a layer type has no removal rule.
    """
    for name in cuts.modules():
        # an attention layer losing heads becomes a HeadAttention (HeadWindowAttention for Swin), which can
        # hold fewer heads than its width
        module = model.get_submodule(name)
        parent_name, _, attr = name.rpartition(".")
        if isinstance(module, nn.MultiheadAttention):
            setattr(model.get_submodule(parent_name), attr, HeadAttention.from_attention(module))
        elif attr == "qkv" and is_window_attention(parent := model.get_submodule(parent_name)):
            parent.__class__ = HeadWindowAttention
    modules = dict(model.named_modules())
    for name in sorted(cuts.modules()):
        _cut_module(modules[name], cuts.out.get(name, set()), cuts.inp.get(name, set()), name)
    for name, removed in cuts.params.items():
        _cut_param(model, name, cuts.param_dims[name], removed)
    for module in model.modules():
        if isinstance(module, HeadWindowAttention):
            module.num_heads = module.relative_position_bias_table.shape[1]


@autograd_enabled()
def export_pruned(
    model: nn.Module,
    example_input: torch.Tensor,
    pruned: Mapping[str, Sequence[int]],
    graph: GroupGraph | None = None,
) -> nn.Module:
    """Return a physically smaller copy of ``model`` with the given units removed.

    Args:
        model: the original network (not modified).
        example_input: one batch the model accepts (used to find the groups when ``graph`` is not given).
        pruned: group name → units (root channels) to remove.
        graph: the model's groups, from ``build_groups``; found again when omitted.

    Returns:
        A deep copy, in eval mode, whose layers really have fewer channels.

    Raises:
        ModelError: the model could not be traced at all (no export), or the plan would empty a layer.
    """
    todo = {name: sorted(int(i) for i in idxs) for name, idxs in pruned.items() if len(idxs) > 0}
    if graph is None and todo:
        graph = build_groups(model, example_input)
    smaller = copy.deepcopy(model).eval()
    if not todo:
        return smaller
    if not graph.exportable:
        raise ModelError("this model could not be traced, so its pruned version cannot be exported")
    for name, make in graph.replacements.items():
        parent_name, _, attr = name.rpartition(".")
        setattr(smaller.get_submodule(parent_name), attr, make())
    apply_cuts(smaller, compute_layer_cuts(graph, todo))
    return smaller.eval()
