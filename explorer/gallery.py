"""The filter gallery's images: a group's filters and feature maps as tiles, ready for bokeh's ``image_rgba``.

Pure numpy (and torch only to read a layer's weight); no widgets. ``PruningSession.gallery`` builds one
through :mod:`explorer.inspection`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

#: ``[C, H, W]`` float32 outputs of one layer for one image.
FeatureMaps = np.ndarray


@dataclass(eq=False)
class Gallery:
    """Tiled images of one group's filters and feature maps, ready for bokeh's ``image_rgba``.

    Attributes:
        group: the group (its root layer's name).
        weights: ``[H, W]`` uint32 RGBA, one tile per filter, rows bottom-up as bokeh draws them
            (``None`` when the root is not a convolution).
        maps: ``[H, W]`` uint32 RGBA, one tile per channel of the root's output for one validation image.
        tiles_x, tiles_y: centre of each filter's tile, in pixels of the tiled image.
        map_tiles_x, map_tiles_y: the same for the feature maps.
        channel: the channel index of each tile.
        pruned: whether each channel is pruned in the current plan (its tiles are darkened).
        weight_tile, map_tile: the side of one tile in pixels.
        image_label: the class of the validation image whose feature maps are shown.
        rgb: whether the filters are drawn in colour (a first layer with 3 input channels).
    """

    group: str
    weights: np.ndarray | None
    maps: np.ndarray | None
    tiles_x: list[float] = field(default_factory=list)
    tiles_y: list[float] = field(default_factory=list)
    map_tiles_x: list[float] = field(default_factory=list)
    map_tiles_y: list[float] = field(default_factory=list)
    channel: list[int] = field(default_factory=list)
    pruned: list[bool] = field(default_factory=list)
    weight_tile: int = 0
    map_tile: int = 0
    image_label: str = ""
    rgb: bool = False


def class_name(classes: Sequence[str], label: int | torch.Tensor) -> str:
    """The name of class ``label`` (its number when ``classes`` does not name it)."""
    index = int(label)
    return classes[index] if len(classes) > index else str(index)


def build_gallery(
    group: str,
    num_channels: int,
    root: nn.Module,
    maps: FeatureMaps | None,
    pruned: Sequence[int],
    image_label: str,
) -> Gallery:
    """One group as tiles: the filters of its ``root`` layer (``[C, C_in, h, w]``) and its feature maps.

    Filters with 3 input channels are drawn in colour, the others as their mean over the inputs (red > 0 >
    blue); the channels in ``pruned`` are darkened and framed in red. A root that is not a convolution has
    no filter images.
    """
    removed = set(pruned)
    dark = [i in removed for i in range(num_channels)]
    weight = getattr(root, "weight", None)
    weights_rgb, rgb = None, False
    if isinstance(weight, torch.Tensor) and weight.dim() == 4:
        w = weight.detach().float().cpu().numpy()
        if w.shape[1] == 3:
            rgb = True
            lo = w.min(axis=(1, 2, 3), keepdims=True)
            hi = w.max(axis=(1, 2, 3), keepdims=True)
            weights_rgb = ((w - lo) / np.maximum(hi - lo, 1e-12)).transpose(0, 2, 3, 1)
        else:
            weights_rgb = diverging(w.mean(axis=1))
    gallery = Gallery(
        group, None, None, channel=list(range(num_channels)), pruned=dark, image_label=image_label, rgb=rgb
    )
    if weights_rgb is not None:
        gallery.weights, gallery.tiles_x, gallery.tiles_y, gallery.weight_tile = tile_images(
            weights_rgb, dark
        )
    if maps is not None:
        tiled = tile_images(sequential(maps), dark)
        gallery.maps, gallery.map_tiles_x, gallery.map_tiles_y, gallery.map_tile = tiled
    return gallery


def diverging(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` signed values → ``[C, h, w, 3]`` in [0, 1]: blue < 0 < red, white at 0 (per tile)."""
    scale = np.abs(values).max(axis=(1, 2), keepdims=True)
    v = values / np.maximum(scale, 1e-12)
    pos, neg = np.clip(v, 0, 1), np.clip(-v, 0, 1)
    return np.stack([1 - neg, 1 - pos - neg, 1 - pos], axis=-1).clip(0, 1)


def sequential(values: np.ndarray) -> np.ndarray:
    """``[C, h, w]`` activations → ``[C, h, w, 3]``: dark blue (low) to yellow (high), per tile."""
    lo = values.min(axis=(1, 2), keepdims=True)
    hi = values.max(axis=(1, 2), keepdims=True)
    t = (values - lo) / np.maximum(hi - lo, 1e-12)
    return np.stack([t, 0.2 + 0.7 * t, 0.5 * (1 - t) + 0.1], axis=-1).clip(0, 1)


def tile_images(images: np.ndarray, dark: Sequence[bool]) -> tuple[np.ndarray, list[float], list[float], int]:
    """``[C, h, w, 3]`` in [0, 1] → one RGBA uint32 image (bottom-up rows), tile centres and tile size.

    Tiles fill a near-square grid row by row; the darkened tiles are framed in red, the others in light grey.
    """
    count, h, w = images.shape[:3]
    cols = max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / cols)
    side = max(h, w) + 2
    canvas = np.full((rows * side, cols * side, 4), 255, dtype=np.uint8)
    xs, ys = [], []
    for c in range(count):
        r, k = divmod(c, cols)
        top, left = r * side, k * side
        frame = (200, 40, 40) if dark[c] else (220, 220, 220)
        canvas[top : top + side, left : left + side, :3] = frame
        tile = images[c] * (0.2 if dark[c] else 1.0)
        canvas[top + 1 : top + 1 + h, left + 1 : left + 1 + w, :3] = (tile * 255).astype(np.uint8)
        xs.append(left + side / 2)
        ys.append(rows * side - (top + side / 2))
    flipped = np.ascontiguousarray(canvas[::-1])
    return flipped.view(dtype=np.uint32).reshape(flipped.shape[:2]), xs, ys, side


__all__ = ["FeatureMaps", "Gallery", "build_gallery", "class_name", "diverging", "sequential", "tile_images"]
