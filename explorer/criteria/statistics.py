"""Gathering the statistics that the data-driven criteria score: activations × gradients, weight gradients,
and the empirical Fisher diagonal.

Every collector follows the same contract:

* the model runs in eval mode, so BatchNorm uses its running statistics and every sample is processed
  independently of the others in its batch (which is what makes per-sample quantities well defined); each
  module's own ``training`` flag is restored afterwards;
* the weights are never written: gradients are obtained with ``torch.autograd.grad`` or ``torch.func``, so no
  ``.grad`` field is created or changed, and a ``requires_grad`` flag switched on to differentiate a frozen
  parameter is switched back off on exit;
* hooks are installed by context managers and removed on exit, even after an error;
* ``loss_fn(logits, labels)`` must return the *mean* loss over the batch, like ``F.cross_entropy``'s default;
  the collectors rescale it where they need sums of per-sample losses;
* ``should_stop()`` is polled between batches; when it returns true, ``ScoringCancelled`` is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from explorer.criteria._exceptions import ScoringCancelled
from explorer.errors import DataError, ExplorerError
from explorer.graph import GroupGraph
from explorer.layers import BATCH_NORMS, channel_dim, out_channels

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

#: Per-sample gradients of a chunk are held at once; cap their size (in numbers) to bound memory.
_PER_SAMPLE_BUDGET = 1 << 25


@dataclass
class ActivationGradients:
    """What ``collect_activation_gradients`` gathered.

    Attributes:
        products: layer name → ``[N, C_layer]`` float64, for every calibration sample n and output channel c
            the signed spatial mean of a·∂ℓ_n/∂a at that layer's output (for a linear layer, the mean over
            every dimension other than the batch and the features).
        direct_successors: layer name → the hooked layers whose input *is* that layer's output tensor (for
            example ``conv1 → {bn1}``); a layer with none is a point where a channel mask acts last.
    """

    products: dict[str, torch.Tensor]
    direct_successors: dict[str, set[str]] = field(default_factory=dict)


def calibration_tensors(calib: Any, criterion: str = "this criterion") -> tuple[torch.Tensor, torch.Tensor]:
    """Check a calibration split (any object with ``.inputs`` and ``.labels``) and return its tensors.

    Raises:
        DataError: ``calib`` is missing, empty or malformed.
    """
    if calib is None:
        raise DataError(
            f"{criterion} needs calibration data (calib=..., an object with .inputs [N, C, H, W] and "
            ".labels [N]); none was given"
        )
    inputs, labels = getattr(calib, "inputs", None), getattr(calib, "labels", None)
    if not isinstance(inputs, torch.Tensor) or not isinstance(labels, torch.Tensor):
        raise DataError(
            f"{criterion}: calibration data must have tensor attributes .inputs and .labels, "
            f"got {type(calib).__name__}"
        )
    if inputs.dim() < 2 or labels.dim() != 1 or inputs.shape[0] != labels.shape[0]:
        raise DataError(
            f"{criterion}: calibration inputs {tuple(inputs.shape)} and labels {tuple(labels.shape)} do not "
            "match (expected [N, ...] and [N])"
        )
    if inputs.shape[0] == 0:
        raise DataError(f"{criterion}: the calibration set is empty")
    return inputs, labels


@contextmanager
def evaluation_mode(model: nn.Module, params: Sequence[nn.Parameter] = ()) -> Iterator[nn.Module]:
    """Eval mode, with ``params`` differentiable, for the duration of the block; everything restored after.

    Args:
        model: the network.
        params: parameters that must require grad inside the block (frozen ones are unfrozen temporarily).
    """
    modes = [(m, m.training) for m in model.modules()]
    flags = [(p, p.requires_grad) for p in params]
    try:
        model.eval()
        for p, _ in flags:
            p.requires_grad_(True)
        # inference_mode would forbid autograd even under enable_grad
        with torch.inference_mode(False), torch.enable_grad():
            yield model
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
        for m, mode in modes:
            m.training = mode


def _device_of(model: nn.Module) -> torch.device:
    for tensor in (*model.parameters(), *model.buffers()):
        return tensor.device
    return torch.device("cpu")


def _batches(
    inputs: torch.Tensor, labels: torch.Tensor, batch_size: int, device: torch.device, should_stop
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, inputs.shape[0], batch_size):
        if should_stop is not None and should_stop():
            raise ScoringCancelled(f"scoring cancelled after {start} of {inputs.shape[0]} samples")
        x = inputs[start : start + batch_size].to(device=device, dtype=torch.float32)
        y = labels[start : start + batch_size].to(device=device)
        yield x, y


def _finite_loss(loss: torch.Tensor) -> torch.Tensor:
    if not bool(torch.isfinite(loss).all()):
        raise ExplorerError(
            f"the calibration loss is {float(loss.detach().sum())}: the model's outputs are not finite, so "
            "gradient-based scores cannot be computed"
        )
    return loss


def _per_channel_mean(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``[B, ..., C, ...] → [B, C]``: the mean over every dimension except the batch and the channel."""
    if t.dim() == 1:
        return t.unsqueeze(1)
    moved = t.movedim(dim % t.dim(), 1)
    return moved.reshape(moved.shape[0], moved.shape[1], -1).mean(dim=2)


def _out_layers(graph: GroupGraph, group_names: Sequence[str]) -> list[str]:
    layers: list[str] = []
    for name in group_names:
        layers.extend(m.module for m in graph[name].members if m.side == "out")
    return list(dict.fromkeys(layers))


def collect_activation_gradients(
    model: nn.Module,
    graph: GroupGraph,
    group_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "taylor",
) -> ActivationGradients:
    """Per sample, the spatial mean of activation × gradient at the output of every "out" member layer.

    The loss differentiated for a batch is Σ_n ℓ_n (the mean times the batch size): in eval mode samples do
    not interact, so ∂(Σ_n ℓ_n)/∂a_n = ∂ℓ_n/∂a_n is exactly sample n's own gradient, and the result does not
    depend on ``batch_size``.

    The activation is taken as the layer's output *before* anything downstream can modify it in place
    (a ``ReLU(inplace=True)`` after a BatchNorm, say): the value is copied in the forward hook and the
    gradient is read by a tensor hook registered at the same moment, which PyTorch defines as the gradient
    with respect to that pre-modification value.

    Args:
        model: the network (restored on exit).
        graph: its groups.
        group_names: the groups whose "out" member layers are hooked.
        calib: calibration split with ``.inputs [N, ...]`` and ``.labels [N]``.
        loss_fn: ``(logits, labels) → mean loss``.
        batch_size: samples per forward/backward pass.
        should_stop: polled between batches.
        criterion: the criterion's name, for error messages.

    Returns:
        The products per layer and which hooked layers feed which directly.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    modules = dict(model.named_modules())
    layers = _out_layers(graph, group_names)
    device = _device_of(model)
    chunks: dict[str, list[torch.Tensor]] = {name: [] for name in layers}
    successors: dict[str, set[str]] = {name: set() for name in layers}
    current: dict[str, torch.Tensor] = {}  # layer → this batch's [B, C] sum over calls of the products
    produced: dict[int, tuple[str, torch.Tensor]] = {}  # id(output) → (layer, output), kept alive per batch

    def forward_hook(name: str, dim: int):
        def hook(_module, _inputs, output):
            if not isinstance(output, torch.Tensor) or not output.requires_grad:
                return
            produced[id(output)] = (name, output)
            value = output.detach().clone()
            current.setdefault(
                name, torch.zeros(value.shape[0], value.shape[dim], dtype=torch.float64, device=value.device)
            )

            def grad_hook(grad: torch.Tensor) -> None:
                current[name] += _per_channel_mean((value * grad).double(), dim)

            output.register_hook(grad_hook)

        return hook

    def pre_hook(name: str):
        def hook(_module, args):
            if args and isinstance(args[0], torch.Tensor):
                source = produced.get(id(args[0]))
                if source is not None and source[1] is args[0]:
                    successors[source[0]].add(name)

        return hook

    handles = []
    try:
        for name in layers:
            module = modules[name]
            handles.append(module.register_forward_pre_hook(pre_hook(name)))
            handles.append(module.register_forward_hook(forward_hook(name, channel_dim(module))))
        with evaluation_mode(model):
            for x, y in _batches(inputs, labels, batch_size, device, should_stop):
                current.clear()
                produced.clear()
                # A differentiable input makes every activation part of the graph, even if all the
                # parameters are frozen; the gradient with respect to it is simply discarded.
                x = x.detach().requires_grad_(True)
                loss = _finite_loss(loss_fn(model(x), y)) * x.shape[0]
                torch.autograd.grad(loss, x)
                for name in layers:
                    got = current.get(name)
                    if got is None:  # the layer was not called on this input
                        channels = out_channels(modules[name])
                        got = torch.zeros(x.shape[0], channels, dtype=torch.float64, device=x.device)
                    chunks[name].append(got.cpu())
                produced.clear()
    finally:
        for handle in handles:
            handle.remove()
    return ActivationGradients({n: torch.cat(c) for n, c in chunks.items()}, successors)


def collect_weight_gradients(
    model: nn.Module,
    param_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    batch_size: int = 128,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "taylor_weight",
) -> dict[str, torch.Tensor]:
    """The gradient of the mean calibration loss, (1/N) Σ_n ∂ℓ_n/∂w, for the named parameters.

    It is accumulated over batches (each batch's mean loss weighted by its share of the samples), so it is the
    full-calibration-set gradient whatever ``batch_size`` is. The parameters' ``.grad`` are not touched.

    Args:
        model: the network.
        param_names: dotted parameter names (``"conv1.weight"``...).
        calib: calibration split with ``.inputs`` and ``.labels``.
        loss_fn: ``(logits, labels) → mean loss``.
        batch_size: samples per pass.
        should_stop: polled between batches.
        criterion: the criterion's name, for error messages.

    Returns:
        name → gradient, float64, shaped like the parameter.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    named = dict(model.named_parameters())
    params = [named[n] for n in param_names]
    total = inputs.shape[0]
    sums = [torch.zeros_like(p, dtype=torch.float64) for p in params]
    with evaluation_mode(model, params):
        for x, y in _batches(inputs, labels, batch_size, _device_of(model), should_stop):
            loss = _finite_loss(loss_fn(model(x), y)) * (x.shape[0] / total)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for acc, g in zip(sums, grads, strict=True):
                if g is not None:
                    acc += g.double()
    return {n: s.cpu() for n, s in zip(param_names, sums, strict=True)}


def collect_fisher_diagonal(
    model: nn.Module,
    param_names: Sequence[str],
    calib: Any,
    loss_fn: LossFn = F.cross_entropy,
    should_stop: Callable[[], bool] | None = None,
    *,
    criterion: str = "hessian",
) -> dict[str, torch.Tensor]:
    """The empirical Fisher diagonal F_ii = (1/N) Σ_n (∂ℓ_n/∂w_i)² from exact per-sample gradients.

    The per-sample gradients are exact whichever way they are obtained; the first that applies is used:

    1. *layer formulas* (the fast path): one ordinary backward pass per chunk of samples, with hooks that
       rebuild each sample's gradient from the layer's input and output gradient (for a convolution, a
       convolution-weight gradient with the samples as groups; for a linear layer, an outer product; for an
       eval-mode BatchNorm, Σ g·x̂ and Σ g; for PReLU, Σ g·min(x, 0)). Used when every wanted parameter
       belongs to such a layer and is used by no other module;
    2. ``torch.func.vmap(torch.func.grad(...))``, each sample run as a batch of one (its first use in a
       process imports ``torch._dynamo``, about 1.5 s);
    3. a loop of one backward pass per sample, for models ``vmap`` cannot batch.

    Args:
        model: the network.
        param_names: dotted names of the parameters whose diagonal is wanted.
        calib: calibration split with ``.inputs`` and ``.labels``.
        loss_fn: ``(logits, labels) → mean loss`` (on a batch of one, the sample's loss).
        should_stop: polled between chunks.
        criterion: the criterion's name, for error messages.

    Returns:
        name → F diagonal, float64, shaped like the parameter.
    """
    inputs, labels = calibration_tensors(calib, criterion)
    named = dict(model.named_parameters())
    wanted = {n: named[n] for n in param_names}
    numel = max(1, sum(p.numel() for p in wanted.values()))
    chunk = max(1, min(64, _PER_SAMPLE_BUDGET // numel))
    total = inputs.shape[0]

    def zeros() -> dict[str, torch.Tensor]:
        return {n: torch.zeros_like(p, dtype=torch.float64) for n, p in wanted.items()}

    sums = zeros()
    with evaluation_mode(model):
        if _layer_formulas_apply(model, wanted):
            _hooked_per_sample_squares(model, wanted, loss_fn, inputs, labels, chunk, sums, should_stop)
        else:
            try:
                per_sample = _vmap_per_sample_grads(model, wanted, loss_fn)
                for x, y in _batches(inputs, labels, chunk, _device_of(model), should_stop):
                    for n, g in per_sample(x, y).items():
                        sums[n] += g.double().square().sum(dim=0)
            except ExplorerError:  # cancelled, or a non-finite loss: the loop would fail the same way
                raise
            except Exception:  # vmap cannot batch some models (data-dependent control flow, .item()...)
                sums = zeros()
                _loop_per_sample_squares(model, wanted, loss_fn, inputs, labels, sums, should_stop)
    return {n: (s / total).cpu() for n, s in sums.items()}


# ------------------------------------------------------------------- per-sample gradients by layer formulas
_CONV_WEIGHT_GRAD = {
    nn.Conv1d: torch.nn.grad.conv1d_weight,
    nn.Conv2d: torch.nn.grad.conv2d_weight,
    nn.Conv3d: torch.nn.grad.conv3d_weight,
}


def _formula_supports(module: nn.Module) -> bool:
    if type(module) in _CONV_WEIGHT_GRAD:
        # String paddings ("same") and non-zero padding modes pad differently from conv*_weight.
        return module.padding_mode == "zeros" and not isinstance(module.padding, str)
    if type(module) is nn.Linear or type(module) is nn.PReLU:
        return True
    # In eval mode a BatchNorm with running statistics treats every sample on its own.
    return type(module) in BATCH_NORMS and module.running_mean is not None and module.running_var is not None


def _layer_formulas_apply(model: nn.Module, wanted: dict[str, nn.Parameter]) -> bool:
    owners: dict[int, int] = {}
    for module in model.modules():
        for p in module.parameters(recurse=False):
            owners[id(p)] = owners.get(id(p), 0) + 1
    modules = dict(model.named_modules())
    for name, p in wanted.items():
        owner = modules[name.rpartition(".")[0]]
        # A tied weight gets gradient through another module, which the hooks on its owner would miss.
        if owners.get(id(p), 0) != 1 or not _formula_supports(owner):
            return False
    return True


def _sum_except(t: torch.Tensor, keep: tuple[int, ...]) -> torch.Tensor:
    dims = [d for d in range(t.dim()) if d not in keep]
    return t.sum(dim=dims) if dims else t


def _per_sample_grads(module: nn.Module, x: torch.Tensor, g: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each sample's gradient of every parameter of ``module``, ``[N, *param.shape]``.

    Args:
        module: a layer ``_formula_supports``.
        x: ``[N, ...]`` its input.
        g: ``[N, ...]`` the gradient of Σ_n ℓ_n with respect to its output, so that row n is ∂ℓ_n/∂output_n.
    """
    n = x.shape[0]
    out: dict[str, torch.Tensor] = {}
    if type(module) in _CONV_WEIGHT_GRAD:
        # The samples become groups of one big convolution, so one call yields every sample's weight gradient.
        weight = module.weight
        size = (n * weight.shape[0], *weight.shape[1:])
        grad_w = _CONV_WEIGHT_GRAD[type(module)](
            x.reshape(1, n * x.shape[1], *x.shape[2:]),
            size,
            g.reshape(1, n * g.shape[1], *g.shape[2:]),
            module.stride,
            module.padding,
            module.dilation,
            n * module.groups,
        )
        out["weight"] = grad_w.reshape(n, *weight.shape)
        if module.bias is not None:
            out["bias"] = _sum_except(g, (0, 1))
    elif isinstance(module, nn.Linear):
        a = x.reshape(n, -1, x.shape[-1])
        b = g.reshape(n, -1, g.shape[-1])
        out["weight"] = torch.einsum("nlo,nli->noi", b, a)
        if module.bias is not None:
            out["bias"] = b.sum(dim=1)
    elif isinstance(module, nn.PReLU):
        contribution = g * x.clamp(max=0)
        if module.weight.numel() == 1:
            out["weight"] = contribution.reshape(n, -1).sum(dim=1, keepdim=True)
        else:
            out["weight"] = _sum_except(contribution, (0, 1))
    else:  # eval-mode BatchNorm: y = γ·x̂ + β with x̂ from the running statistics
        shape = [1, -1] + [1] * (x.dim() - 2)
        std = torch.sqrt(module.running_var.view(shape) + module.eps)
        x_hat = (x - module.running_mean.view(shape)) / std
        if module.weight is not None:
            out["weight"] = _sum_except(g * x_hat, (0, 1))
        if module.bias is not None:
            out["bias"] = _sum_except(g, (0, 1))
    return out


def _hooked_per_sample_squares(model, wanted, loss_fn, inputs, labels, chunk, sums, should_stop) -> None:
    modules = dict(model.named_modules())
    attrs: dict[str, list[str]] = {}
    for name in wanted:
        owner, _, attr = name.rpartition(".")
        attrs.setdefault(owner, []).append(attr)
    per_batch: dict[str, torch.Tensor] = {}  # param name → this chunk's [N, *shape], summed over calls

    def forward_hook(owner: str):
        def hook(module, args, output):
            if not args or not isinstance(output, torch.Tensor) or not output.requires_grad:
                return
            # Copied now, before any later in-place op on the input can change it.
            x = args[0].detach().clone()

            def grad_hook(grad: torch.Tensor) -> None:
                grads = _per_sample_grads(module, x, grad.detach())
                for attr in attrs[owner]:
                    key = f"{owner}.{attr}"
                    per_batch[key] = per_batch[key] + grads[attr] if key in per_batch else grads[attr]

            output.register_hook(grad_hook)

        return hook

    handles = [modules[owner].register_forward_hook(forward_hook(owner)) for owner in attrs]
    try:
        for x, y in _batches(inputs, labels, chunk, _device_of(model), should_stop):
            per_batch.clear()
            x = x.detach().requires_grad_(True)  # makes every output differentiable, frozen weights or not
            # Σ_n ℓ_n: samples do not interact in eval mode, so row n of each output gradient is ∂ℓ_n/∂out_n.
            loss = _finite_loss(loss_fn(model(x), y)) * x.shape[0]
            torch.autograd.grad(loss, x)
            for name, g in per_batch.items():
                if not bool(torch.isfinite(g).all()):
                    _finite_loss(torch.tensor(float("nan")))
                sums[name] += g.double().square().sum(dim=0)
            per_batch.clear()
    finally:
        for handle in handles:
            handle.remove()


# ------------------------------------------------------------------------- per-sample gradients, generic
def _vmap_per_sample_grads(model: nn.Module, wanted: dict[str, nn.Parameter], loss_fn: LossFn):
    from torch.func import functional_call, grad, vmap

    fixed = {n: p.detach() for n, p in model.named_parameters() if n not in wanted}
    fixed.update({n: b.detach() for n, b in model.named_buffers()})
    live = {n: p.detach() for n, p in wanted.items()}

    def sample_loss(params: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, {**fixed, **params}, (x.unsqueeze(0),))
        return loss_fn(out, y.unsqueeze(0))

    batched = vmap(grad(sample_loss), in_dims=(None, 0, 0))

    def run(x: torch.Tensor, y: torch.Tensor) -> dict[str, torch.Tensor]:
        grads = batched(live, x, y)
        for g in grads.values():
            if not bool(torch.isfinite(g).all()):
                _finite_loss(torch.tensor(float("nan")))
        return grads

    return run


def _loop_per_sample_squares(model, wanted, loss_fn, inputs, labels, sums, should_stop) -> None:
    names = list(wanted)
    params = [wanted[n] for n in names]
    with evaluation_mode(model, params):
        for x, y in _batches(inputs, labels, 1, _device_of(model), should_stop):
            loss = _finite_loss(loss_fn(model(x), y))
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            for n, g in zip(names, grads, strict=True):
                if g is not None:
                    sums[n] += g.double().square()
