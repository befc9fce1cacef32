"""Zero-padding shortcuts written as user code, recognised by what they compute, swapped for ``ChannelPad``.

The CIFAR ResNets people train themselves usually write He et al.'s "option A" shortcut as a lambda wrapped
in a module (``LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, p, p)))``). torch-pruning treats
the pad as channel-preserving and merges the residual streams it joins into one invalid group. A
parameter-free module whose output, on the example input, is exactly a ``ChannelPad`` of its input is
therefore replaced by one while the groups are traced, and in every exported copy; the masked model keeps the
user's module, whose input and output are masked like a ``ChannelPad``'s.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from explorer.channel_pad import ChannelPad


def _candidates(model: nn.Module) -> dict[str, nn.Module]:
    """Leaf modules defined outside torch, without parameters or buffers: what a lambda wrapper looks like."""
    found = {}
    for name, module in model.named_modules():
        if not name or isinstance(module, ChannelPad) or next(module.children(), None) is not None:
            continue
        if type(module).__module__.startswith("torch."):
            continue
        if next(module.parameters(recurse=False), None) is None and next(module.buffers(False), None) is None:
            found[name] = module
    return found


def _as_channel_pad(x: torch.Tensor, y: torch.Tensor) -> tuple[int, int, int, int] | None:
    """``(in, out, stride, pad_front)`` when ``y`` is exactly ``ChannelPad(...)(x)``, else ``None``."""
    if x.dim() != 4 or y.dim() != 4 or y.shape[0] != x.shape[0] or y.shape[1] <= x.shape[1]:
        return None
    for stride in range(1, max(x.shape[2], 1) + 1):
        if x[:, :, ::stride, ::stride].shape[2:] != y.shape[2:]:
            continue
        for front in range(y.shape[1] - x.shape[1] + 1):
            pad = ChannelPad(x.shape[1], y.shape[1], stride, front)
            if torch.equal(pad(x), y):
                return x.shape[1], y.shape[1], stride, front
        return None
    return None


def find_channel_pads(model: nn.Module, example_input: torch.Tensor) -> dict[str, Callable[[], nn.Module]]:
    """Module name → a factory of the ``ChannelPad`` that computes what the module computed on the example.

    Only parameter-free leaf modules defined outside torch are looked at; none found costs no forward pass.
    """
    candidates = _candidates(model)
    if not candidates:
        return {}
    seen: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def record(name):
        def hook(_module, inputs, output):
            if inputs and isinstance(inputs[0], torch.Tensor) and isinstance(output, torch.Tensor):
                seen.setdefault(name, (inputs[0].detach(), output.detach()))

        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in candidates.items()]
    try:
        with torch.no_grad():
            model(example_input)
    except Exception:
        return {}
    finally:
        for handle in handles:
            handle.remove()
    found = {}
    generator = torch.Generator().manual_seed(0)
    for name, (x, y) in seen.items():
        if _as_channel_pad(x, y) is None:
            continue
        # the example's activations may hold equal (e.g. all-zero) channels, which several layouts fit:
        # decide on random inputs of the same shape, where only the true layout does
        probe = torch.randn(x.shape, generator=generator, dtype=x.dtype).to(x.device)
        try:
            with torch.no_grad():
                shape = _as_channel_pad(probe, candidates[name](probe))
        except Exception:
            continue
        if shape is not None:
            found[name] = functools.partial(ChannelPad, *shape)
    return found


@contextmanager
def swapped(model: nn.Module, replacements: dict[str, Callable[[], nn.Module]]) -> Iterator[nn.Module]:
    """Put the replacements in place for the ``with`` block, and the original modules back afterwards."""
    originals = {}
    try:
        for name, make in replacements.items():
            parent_name, _, attr = name.rpartition(".")
            parent = model.get_submodule(parent_name)
            originals[name] = getattr(parent, attr)
            setattr(parent, attr, make())
        yield model
    finally:
        for name, module in originals.items():
            parent_name, _, attr = name.rpartition(".")
            setattr(model.get_submodule(parent_name), attr, module)
