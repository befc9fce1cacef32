"""The small HTML pieces the analyses' galleries share: an image card, the image in it, a grey note."""

from __future__ import annotations

CARD = (
    "<div style='display:inline-block;width:150px;margin:3px;padding:4px;border:1px solid #e8eaed;"
    "border-radius:4px;font-size:85%;vertical-align:top'>{}</div>"
)
IMAGE = "<img src='{}' style='width:56px;height:56px;image-rendering:pixelated;display:block'>"
NOTE = "<div style='color:#5f6368;font-size:90%'>{}</div>"

__all__ = ["CARD", "IMAGE", "NOTE"]
