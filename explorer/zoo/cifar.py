"""CIFAR-10 networks used in the pruning literature.

- ``vgg16_bn_cifar``: the VGG-16 of Li et al., "Pruning Filters for Efficient ConvNets", ICLR 2017
  (https://arxiv.org/abs/1608.08710), Table 1: 13 conv3x3 + BatchNorm + ReLU, then Linear 512→512, ReLU,
  Linear 512→10. 3.13e8 MACs, 1.5e7 parameters.
- ``resnet{20,56,110}_cifar``: the CIFAR ResNets of He et al., "Deep Residual Learning for Image
  Recognition", CVPR 2016 (https://arxiv.org/abs/1512.03385), section 4.2: three stages of 16/32/64 channels
  with n = 3/9/18 basic blocks and the parameter-free "option A" shortcut. The module names match the public
  checkpoints of Yerlan Idelbayev (https://github.com/akamaster/pytorch_resnet_cifar10), so they load once the
  ``module.`` prefix is stripped. Those checkpoints expect inputs normalised with the ImageNet mean and std.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from explorer.channel_pad import ChannelPad
from explorer.zoo._registry import register_model
from explorer.zoo.specs import WeightsSource

__all__ = [
    "VGG16_CIFAR_CONFIG",
    "BasicBlock",
    "CifarResNet",
    "CifarVGG",
    "PadShortcut",
    "resnet20_cifar",
    "resnet56_cifar",
    "resnet110_cifar",
    "vgg16_bn_cifar",
]

# Li et al. 2017, Table 1: channels of the 13 convs, "M" = 2x2 max-pool.
VGG16_CIFAR_CONFIG: tuple[int | str, ...] = (
    64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M",
)  # fmt: skip

_AKAMASTER = "https://github.com/akamaster/pytorch_resnet_cifar10/raw/master/pretrained_models/"


class CifarVGG(nn.Module):
    """VGG with BatchNorm for 32x32 inputs: ``features`` (conv/BN/ReLU/max-pool) then ``classifier``.

    Args:
        config: conv widths and ``"M"`` for max-pool, e.g. ``VGG16_CIFAR_CONFIG``.
        num_classes: number of logits.
    """

    def __init__(self, config: tuple[int | str, ...] = VGG16_CIFAR_CONFIG, num_classes: int = 10):
        super().__init__()
        layers: list[nn.Module] = []
        channels = 3
        for item in config:
            if item == "M":
                layers.append(nn.MaxPool2d(2))
            else:
                width = int(item)
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU()]
                channels = width
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(channels, 512), nn.ReLU(), nn.Linear(512, num_classes))
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, num_classes]`` of images ``[N, 3, 32, 32]``."""
        return self.classifier(torch.flatten(self.features(x), 1))


class PadShortcut(ChannelPad):
    """He et al.'s parameter-free "option A" shortcut: subsample spatially, zero-pad the new channels.

    The input is subsampled with ``x[:, :, ::stride, ::stride]``; ``pad_front`` zero channels are added
    before it and ``pad_back`` after it (the public checkpoints pad half on each side). A module rather than
    a lambda, so that models can be deep-copied and pickled; it is an ``explorer.channel_pad.ChannelPad``,
    which the engine prunes on each side separately (its input and output belong to different streams).

    Args:
        in_channels: channels of the input.
        out_channels: channels of the output; at least ``in_channels``.
        stride: spatial subsampling step.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 2):
        super().__init__(in_channels, out_channels, stride)


class BasicBlock(nn.Module):
    """Two 3x3 conv + BN with a residual connection: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    Args:
        in_planes: input channels.
        planes: output channels.
        stride: stride of the first conv (2 at the start of stages 2 and 3).
    """

    def __init__(self, in_planes: int, planes: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut: nn.Module
        if stride != 1 or in_planes != planes:
            self.shortcut = PadShortcut(in_planes, planes, stride)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class CifarResNet(nn.Module):
    """ResNet-(6n+2) for CIFAR: conv 3→16, three stages of ``n`` blocks (16/32/64), global pool, ``linear``.

    Args:
        num_blocks: blocks per stage, e.g. ``(3, 3, 3)`` for ResNet-20.
        num_classes: number of logits.
    """

    def __init__(self, num_blocks: tuple[int, int, int] = (3, 3, 3), num_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.in_planes = 16
        self.layer1 = self._make_layer(16, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(32, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(64, num_blocks[2], stride=2)
        self.linear = nn.Linear(64, num_classes)
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.Linear):
                nn.init.kaiming_normal_(module.weight)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        layers = []
        for block_stride in [stride] + [1] * (blocks - 1):
            layers.append(BasicBlock(self.in_planes, planes, block_stride))
            self.in_planes = planes
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[N, num_classes]`` of images ``[N, 3, 32, 32]``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


@register_model(
    "vgg16_bn_cifar",
    dataset="cifar10",
    input_shape=(3, 32, 32),
    num_classes=10,
    description="VGG-16 with BatchNorm for CIFAR-10 (Li et al. 2017: 3.13e8 MACs, 1.5e7 params)",
)
def vgg16_bn_cifar(num_classes: int = 10) -> nn.Module:
    """VGG-16 of Li et al. 2017 for 3x32x32 inputs (no pretrained weights)."""
    return CifarVGG(VGG16_CIFAR_CONFIG, num_classes=num_classes)


@register_model(
    "resnet20_cifar",
    dataset="cifar10",
    input_shape=(3, 32, 32),
    num_classes=10,
    description="ResNet-20 for CIFAR-10 (He et al. 2016; public weights: 91.7 % test accuracy)",
    pretrained=WeightsSource(
        url=_AKAMASTER + "resnet20-12fca82f.th",
        sha256="12fca82f0bebc4135bf1f32f6e3710e61d5108578464b84fd6d7f5c1b04036c8",
    ),
)
def resnet20_cifar(num_classes: int = 10) -> nn.Module:
    """ResNet-20: 3 blocks per stage, 0.27 M parameters."""
    return CifarResNet((3, 3, 3), num_classes=num_classes)


@register_model(
    "resnet56_cifar",
    dataset="cifar10",
    input_shape=(3, 32, 32),
    num_classes=10,
    description="ResNet-56 for CIFAR-10 (He et al. 2016; public weights: ~93 % test accuracy)",
    pretrained=WeightsSource(url=_AKAMASTER + "resnet56-4bfd9763.th", sha256="4bfd9763"),
)
def resnet56_cifar(num_classes: int = 10) -> nn.Module:
    """ResNet-56: 9 blocks per stage, 0.85 M parameters."""
    return CifarResNet((9, 9, 9), num_classes=num_classes)


@register_model(
    "resnet110_cifar",
    dataset="cifar10",
    input_shape=(3, 32, 32),
    num_classes=10,
    description="ResNet-110 for CIFAR-10 (He et al. 2016; public weights: ~94 % test accuracy)",
    pretrained=WeightsSource(url=_AKAMASTER + "resnet110-1d1ed7c2.th", sha256="1d1ed7c2"),
)
def resnet110_cifar(num_classes: int = 10) -> nn.Module:
    """ResNet-110: 18 blocks per stage, 1.7 M parameters."""
    return CifarResNet((18, 18, 18), num_classes=num_classes)
