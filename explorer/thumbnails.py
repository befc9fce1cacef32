"""Validation images as small PNG data URIs, for the app's galleries (who pays, dynamic channels).

Each image is scaled to its own min–max for display (the normalisation of a user's data is unknown); three
channels are drawn in colour, one in grey, any other number as their mean. The PNG is written here with
``zlib`` (no imaging library needed).
"""

from __future__ import annotations

import base64
import struct
import zlib

import torch


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def encode_png(pixels: torch.Tensor) -> bytes:
    """``[H, W]`` (grey) or ``[H, W, 3]`` (RGB) uint8 → PNG bytes (8 bits per sample, no filter)."""
    height, width = int(pixels.shape[0]), int(pixels.shape[1])
    colour = 2 if pixels.dim() == 3 else 0
    rows = pixels.contiguous().numpy()
    raw = b"".join(b"\x00" + rows[y].tobytes() for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


def to_pixels(image: torch.Tensor) -> torch.Tensor:
    """``[C, H, W]`` float → uint8 ``[H, W, 3]`` (C = 3) or ``[H, W]``, scaled to the image's min–max."""
    x = image.detach().float().cpu()
    x = x.permute(1, 2, 0) if x.shape[0] == 3 else x.mean(0)
    low, high = float(x.min()), float(x.max())
    x = (x - low) / (high - low) if high > low else torch.zeros_like(x)
    return (x * 255).round().clamp(0, 255).to(torch.uint8)


def image_uris(inputs: torch.Tensor, indices: list[int]) -> list[str]:
    """``data:image/png;base64,…`` of ``inputs[i]`` (``[N, C, H, W]``) for each ``i`` in ``indices``."""
    return [
        "data:image/png;base64," + base64.b64encode(encode_png(to_pixels(inputs[int(i)]))).decode("ascii")
        for i in indices
    ]


__all__ = ["encode_png", "image_uris", "to_pixels"]
