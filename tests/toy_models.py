"""Tiny models with known structure, shared by the engine tests."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def seeded(module: nn.Module, seed: int = 0) -> nn.Module:
    """Re-initialise every parameter and BN statistic from ``seed``, with non-trivial BN values.

    Weights are uniform in ±sqrt(3 / fan_in) (unit-variance activations, so deep nets stay finite); BN scales,
    shifts and running statistics are random too, so that masking a channel visibly matters.
    """
    generator = torch.Generator().manual_seed(seed)

    def uniform(shape, low, high):
        return torch.rand(shape, generator=generator) * (high - low) + low

    with torch.no_grad():
        for name, tensor in [*module.named_parameters(), *module.named_buffers()]:
            if not tensor.dtype.is_floating_point:
                continue
            if tensor.dim() > 1:
                bound = (3.0 / tensor[0].numel()) ** 0.5
                tensor.copy_(uniform(tensor.shape, -bound, bound))
            elif name.endswith("running_var") or name.endswith("weight"):
                tensor.copy_(uniform(tensor.shape, 0.5, 1.5))
            else:
                tensor.copy_(uniform(tensor.shape, -0.2, 0.2))
    return module.eval()


class PlainNet(nn.Module):
    """conv-BN-ReLU ×3, pooling, linear: three independent groups and a classifier."""

    def __init__(self, channels=(4, 6, 8), num_classes: int = 5):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1),
            nn.BatchNorm2d(c1),
            nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1),
            nn.BatchNorm2d(c2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1),
            nn.BatchNorm2d(c3),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.classifier = nn.Linear(c3, num_classes)

    def forward(self, x):
        return self.classifier(self.features(x))


class ResidualNet(nn.Module):
    """A stem and one identity-shortcut block: the stem conv and the block's second conv are coupled."""

    def __init__(self, width: int = 6, num_classes: int = 5):
        super().__init__()
        self.stem = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(width)
        self.conv1 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(y)) + x)
        return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))


class FunctionalNet(nn.Module):
    """A conv applied through ``F.conv2d`` with a free parameter, then a module conv and a linear."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 1, 3, 3))
        self.conv = nn.Conv2d(4, 6, 3, padding=1)
        self.bn = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        x = F.relu(F.conv2d(x, self.weight, padding=1))
        x = F.relu(self.bn(self.conv(x)))
        return F.linear(x.mean((2, 3)), self.fc.weight, self.fc.bias)


class NoConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        return self.fc(x.flatten(1))


class LambdaLayer(nn.Module):
    """The wrapper most CIFAR ResNet code uses for its "option A" shortcut (akamaster's ``LambdaLayer``)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class LambdaPadResNet(nn.Module):
    """Two stages (4 → 8 channels) joined by a zero-padding shortcut written as a lambda, as people do."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.stem_bn = nn.BatchNorm2d(4)
        self.conv1 = nn.Conv2d(4, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.shortcut = LambdaLayer(lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2), "constant", 0))
        self.head = nn.Linear(8, num_classes)

    def forward(self, x):
        x = F.relu(self.stem_bn(self.stem(x)))
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)) + self.shortcut(x))
        return self.head(y.mean((2, 3)))


class GhostSENet(nn.Module):
    """A GhostNet-style block: a conv's output concatenated with a depthwise conv of it, then
    squeeze-excitation. Channels ``i`` and ``12 + i`` of the concatenation both come from channel ``i`` of
    ``primary``, so they can only be removed together."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.primary = nn.Sequential(nn.Conv2d(16, 12, 1), nn.BatchNorm2d(12), nn.ReLU())
        self.cheap = nn.Sequential(nn.Conv2d(12, 12, 3, padding=1, groups=12), nn.BatchNorm2d(12), nn.ReLU())
        self.reduce = nn.Conv2d(24, 6, 1)
        self.expand = nn.Conv2d(6, 24, 1)
        self.mix = nn.Conv2d(24, 20, 1)
        self.head = nn.Linear(20, num_classes)

    def forward(self, x):
        a = self.primary(self.stem(x))
        y = torch.cat([a, self.cheap(a)], 1)
        y = y * torch.sigmoid(self.expand(F.relu(self.reduce(y.mean((2, 3), keepdim=True)))))
        return self.head(self.mix(y).mean((2, 3)))


class TinyViT(nn.Module):
    """Patches → tokens → one pre-norm encoder block (self-attention with 4 heads, MLP) → class token."""

    def __init__(self, width: int = 16, heads: int = 4, num_classes: int = 5):
        super().__init__()
        self.patch = nn.Conv2d(1, width, 2, stride=2)
        self.cls = nn.Parameter(torch.zeros(1, 1, width))
        self.norm1 = nn.LayerNorm(width)
        self.attention = nn.MultiheadAttention(width, heads, batch_first=True)
        self.norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2)
        tokens = torch.cat([self.cls.expand(tokens.shape[0], -1, -1), tokens], dim=1)
        y = self.norm1(tokens)
        tokens = tokens + self.attention(y, y, y, need_weights=False)[0]
        tokens = tokens + self.mlp(self.norm2(tokens))
        return self.head(tokens[:, 0])


class GroupedNet(nn.Module):
    """ResNeXt-style: a conv with ``groups=2`` (each output channel sees half the input channels) between
    plain convs, so the MACs of the middle conv are H·W·k²·(C_in / 2)·C_out."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 12, 3, padding=1, groups=2, bias=False)
        self.bn2 = nn.BatchNorm2d(12)
        self.conv3 = nn.Conv2d(12, 6, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.grouped(x)))
        x = F.relu(self.bn3(self.conv3(x)))
        return self.fc(x.mean((2, 3)))


class DepthwiseNet(nn.Module):
    """MobileNet-style depthwise-separable block: a 3×3 depthwise conv (``groups = C``) then a 1×1 pointwise
    conv; the depthwise conv and its BN lose whatever channels the conv before them loses."""

    def __init__(self, num_classes: int = 5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.pointwise = nn.Conv2d(8, 10, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(10)
        self.fc = nn.Linear(10, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.depthwise(x)))
        x = F.relu(self.bn3(self.pointwise(x)))
        return self.fc(x.mean((2, 3)))
