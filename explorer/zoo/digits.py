"""``digits_cnn``: the small default model for scikit-learn's 8x8 handwritten digits.

Three conv + BatchNorm + ReLU stages (16, 32 and 64 filters) are enough to reach about 98 % on the digits
validation split. The network trains in seconds on a laptop CPU, so every pruning decision can be felt live.
Its trained weights ship with the package (``weights/digits_cnn.pt``, made by ``explorer.train``).
"""

from __future__ import annotations

import torch
from torch import nn

from explorer.zoo._registry import register_model
from explorer.zoo.specs import WeightsSource

__all__ = ["DigitsCNN", "digits_cnn"]


class DigitsCNN(nn.Module):
    """conv 1→16 → conv 16→32 → max-pool → conv 32→64 → global average pool → linear 64→classes.

    Each conv is followed by ``BatchNorm2d`` and an ``nn.ReLU`` module. Layers sit in ``features`` (indices 0,
    3 and 7 are the convs) and ``classifier``.

    Args:
        num_classes: number of logits.
        in_channels: channels of the input images.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 16, 3, padding=1, bias=False),
            nn.BatchNorm2d(16),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, num_classes]`` of images ``[N, C, 8, 8]`` (other sizes work too)."""
        return self.classifier(torch.flatten(self.features(x), 1))


@register_model(
    "digits_cnn",
    dataset="digits",
    input_shape=(1, 8, 8),
    num_classes=10,
    description="3-conv CNN for scikit-learn's 8x8 digits (embedded weights, ~98 % val accuracy)",
    pretrained=WeightsSource(embedded="digits_cnn.pt"),
)
def digits_cnn(num_classes: int = 10) -> nn.Module:
    """The default model: ``DigitsCNN`` for 1x8x8 digits."""
    return DigitsCNN(num_classes=num_classes)
