"""Token pruning of a Vision Transformer, in the Analyses area: which tokens each image keeps.

Shown only for models that ``session.tokens`` runs on (``summary["token_blocks"] > 0``). The data is
``state.analyses.tokens``: per image, the token positions kept after the chosen block, drawn as a grid beside
the image, and the accuracy of choosing by the class token's attention against the same tokens for every
image and random ones, all at the same MACs.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from explorer.ui.format import escape, format_percent
from explorer.ui.views.cards import IMAGE, NOTE, WIDE_CARD, ImagesJobView, ratio_slider
from explorer.ui.views.plots import KEPT, PRUNED

_CELL = "<span style='display:inline-block;width:6px;height:6px;margin:0 1px 1px 0;background:{}'></span>"


def token_grid(grid: list[int], kept: list[int]) -> str:
    """HTML: one cell per token position, row by row, blue where the image kept it, grey where dropped."""
    rows, cols = grid
    used = set(kept)
    lines = (
        "".join(_CELL.format(KEPT if r * cols + c in used else PRUNED) for c in range(cols))
        for r in range(rows)
    )
    return "".join(f"<div style='line-height:7px'>{line}</div>" for line in lines)


class TokensView(ImagesJobView):
    """Keep a share of a ViT's tokens after one block: per image by attention, against static and random."""

    def __init__(self, state: Any, **kwargs: Any):
        t = state.t
        depth = int(state.summary.get("token_blocks", 0))
        self._ratio = ratio_slider(t("tokens.keep"))
        blocks = [(t("tokens.block", block=b + 1, depth=depth), b) for b in range(max(depth - 1, 0))]
        self._block = w.Dropdown(
            options=blocks,
            value=blocks[len(blocks) // 2][1] if blocks else None,
            description=t("tokens.after"),
            style={"description_width": "initial"},
            layout=w.Layout(width="260px"),
        )
        texts = (t("tokens.title"), t("tokens.help"), t("tokens.run"), t("tokens.run.hint"))
        super().__init__(state, "tokens", texts, [self._ratio, self._block], self._show, **kwargs)

    def _show(self) -> None:
        self._state.analyses.show_tokens(self._ratio.value, self._block.value)

    @property
    def ratio(self) -> w.FloatSlider:
        return self._ratio

    @property
    def block(self) -> w.Dropdown:
        return self._block

    def render(self, d: dict) -> str:
        t, s = self._t, d["summary"]
        grid = s["grid"]
        head = t(
            "tokens.summary",
            kept=s["schedule"][-1],
            total=grid[0] * grid[1],
            block=d["block"] + 1,
            share=format_percent(s["macs"] / s["baseline_macs"]),
            dynamic=format_percent(s["dynamic_accuracy"]),
            static=format_percent(s["static_accuracy"]),
            random=format_percent(s["random_accuracy"]),
            original=format_percent(s["baseline_accuracy"]),
        )
        cards = []
        for row in d["images"]:
            caption = t("dynamic.image", label=row["label"], prediction=row["prediction"])
            kept = token_grid(row["grid"], row["stages"][-1] if row["stages"] else [])
            cards.append(WIDE_CARD.format(IMAGE.format(row["image"]) + kept + escape(caption)))
        return NOTE.format(escape(head)) + "".join(cards) + NOTE.format(escape(t("tokens.legend")))


__all__ = ["TokensView", "token_grid"]
