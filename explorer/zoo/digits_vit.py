"""``digits_vit``: a tiny Vision Transformer for the 8x8 digits, to prune attention heads and tokens.

It is torchvision's ``VisionTransformer`` (Dosovitskiy et al., ICLR 2021) at toy size: every pixel is a
token (64 tokens and a class token), 4 encoder blocks of width 48 with 4 heads of 12 dimensions and an MLP
of 96. Each pixel's token is embedded from its 3 × 3 neighbourhood (a convolutional stem, as in Xiao et al.,
"Early Convolutions Help Transformers See Better", NeurIPS 2021): with the same training, a plain 1 × 1
embedding reached 70.5 % on the validation split, this one 96.1 %. Its trained weights ship with the package
(``weights/digits_vit.pt``, float16, made by ``pruning-explorer train digits_vit --half``).

On it the explorer prunes attention heads and MLP channels like any group, and ``session.tokens()`` shows
token pruning in DynamicViT's spirit: a digit's strokes are a few of the 64 pixels, so most tokens are
background that the class token hardly reads.
"""

from __future__ import annotations

from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from explorer.zoo._registry import register_model
from explorer.zoo.specs import WeightsSource

__all__ = ["digits_vit"]

PATCH, STEM, WIDTH, DEPTH, HEADS, MLP = 1, 3, 48, 4, 4, 96


@register_model(
    "digits_vit",
    dataset="digits",
    input_shape=(1, 8, 8),
    num_classes=10,
    description="tiny ViT for the 8x8 digits, a token per pixel (embedded weights): prune heads and tokens",
    pretrained=WeightsSource(embedded="digits_vit.pt"),
)
def digits_vit(num_classes: int = 10) -> nn.Module:
    """torchvision's ``VisionTransformer`` for 1x8x8 images, one token per pixel from a 3 × 3 stem."""
    model = VisionTransformer(
        image_size=8,
        patch_size=PATCH,
        num_layers=DEPTH,
        num_heads=HEADS,
        hidden_dim=WIDTH,
        mlp_dim=MLP,
        num_classes=num_classes,
    )
    model.conv_proj = nn.Conv2d(1, WIDTH, STEM, PATCH, padding=STEM // 2)
    return model
