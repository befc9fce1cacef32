"""Where a session computes: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, or ``None`` for the best one present.

A session puts its private model copy and its data subsets (validation, calibration, training) on one device,
so the masks, the activation cache, the criteria statistics, evaluation, fine-tuning, reconstruction and the
masked = exported checks all run there. The user's model is never moved: the session works on a copy.

A device that is unknown or absent (``"cuda"`` on a machine without an NVIDIA GPU, ``"cuda:3"`` on a
two-GPU machine) is refused when the session starts, with the devices that are present named.
"""

from __future__ import annotations

import torch

from explorer.data import DataBundle, DataSplit
from explorer.errors import ExplorerError


class DeviceError(ExplorerError):
    """A device that is unknown or not present on this machine."""


def available_devices() -> list[str]:
    """The devices present here, best first after the CPU: ``["cpu", "cuda:0", "cuda:1", ...]``."""
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return devices


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``device`` as a ``torch.device`` that is present here; ``None`` (or ``"auto"``) → the first GPU when
    there is one, else the CPU.

    Raises:
        DeviceError: the name is not a device, or the device is not on this machine.
    """
    if device is None or device == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    try:
        wanted = torch.device(device)
    except (RuntimeError, TypeError):
        raise DeviceError(
            f"{device!r} is not a device name: write cpu, cuda or cuda:1 (present here: "
            f"{', '.join(available_devices())})"
        ) from None
    if wanted.type == "cpu":
        return torch.device("cpu")
    if wanted.type != "cuda":
        present = ", ".join(available_devices())
        raise DeviceError(f"the explorer runs on cpu or cuda, not {wanted.type}: choose one of {present}")
    if not torch.cuda.is_available():
        raise DeviceError(
            f"{device!r} asks for an NVIDIA GPU, but this machine has none that PyTorch can use (a CPU-only "
            "PyTorch, or no GPU driver): choose cpu, or run on a machine with a GPU"
        )
    index = 0 if wanted.index is None else wanted.index
    if index >= torch.cuda.device_count():
        raise DeviceError(
            f"{device!r} is not present: this machine has {torch.cuda.device_count()} GPU(s), "
            f"choose one of {', '.join(available_devices())}"
        )
    return torch.device("cuda", index)


def device_label(device: torch.device) -> str:
    """A short human name: ``"CPU"``, or ``"cuda:0 (NVIDIA H200)"``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return "CPU"


def move_split(split: DataSplit | None, device: torch.device) -> DataSplit | None:
    """``split`` with its tensors on ``device`` (the same object when they already are)."""
    if split is None or split.inputs.device == device:
        return split
    return DataSplit(split.inputs.to(device), split.labels.to(device))


def move_bundle(bundle: DataBundle, device: torch.device) -> DataBundle:
    """A bundle whose validation, calibration and training subsets are on ``device``."""
    val, calib, train = (move_split(s, device) for s in (bundle.val, bundle.calib, bundle.train))
    return DataBundle(bundle.name, bundle.classes, val, calib, train)


__all__ = ["DeviceError", "available_devices", "device_label", "move_bundle", "move_split", "resolve_device"]
