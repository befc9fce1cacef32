"""The English catalogue: one dict of every text, gathered from its parts (the explorer's texts, and
the criteria and glossary in plain words)."""

from __future__ import annotations

from explorer.ui.i18n.en import analyses, core, device, explorer, lesson, science, words

TEXTS: dict[str, str] = {
    **explorer.TEXTS,
    **words.TEXTS,
    **lesson.TEXTS,
    **core.TEXTS,
    **analyses.TEXTS,
    **science.TEXTS,
    **device.TEXTS,
}

__all__ = ["TEXTS"]
