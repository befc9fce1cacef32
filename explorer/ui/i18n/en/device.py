"""English: where the model computes (the Korean catalogue has the same keys)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ---- device (issue 15: GPU, Ray, early stopping)
    "app.device": "Computing on {device}",
    "models.device": "Device",
    "models.device.tip": "Where the model runs: the CPU, or a GPU of this machine (only the ones present)",
    "models.device.absent": (
        "{device} is not on this machine, so the model stays as it is. Choose one of these: {devices}."
    ),
}
