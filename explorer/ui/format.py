"""Text formatting for the views: numbers as a student reads them ("1.23 M", "97.1 %", "−2.4 pts").

Pure string functions with no widget or torch imports, so the views stay free of logic and the tests can
compare a label's text with the state's numbers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

from explorer.errors import ExplorerError

_SUFFIXES = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def format_count(value: float | None) -> str:
    """A count with an SI suffix: ``1234567 → "1.23 M"``, ``950 → "950"``."""
    if value is None or not math.isfinite(value):
        return "—"
    for scale, suffix in _SUFFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.2f} {suffix}"
    return f"{value:.0f}"


def format_percent(fraction: float | None, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.9712 → "97.1 %"``."""
    if fraction is None or not math.isfinite(fraction):
        return "—"
    return f"{100 * fraction:.{digits}f} %"


def format_points(delta: float | None, unit: str = "pts") -> str:
    """A change of a fraction in percentage points, signed: ``-0.024 → "−2.4 pts"`` (``unit``: the
    language's word for percentage points, ``t("unit.points")``)."""
    if delta is None or not math.isfinite(delta):
        return "—"
    points = 100 * delta
    if abs(points) < 0.05:
        return f"±0.0 {unit}"
    sign = "+" if points > 0 else "−"
    return f"{sign}{abs(points):.1f} {unit}"


def format_accuracy(accuracy: float | None, ci: float = 0.0, final: bool = True) -> str:
    """Accuracy with its running 95 % interval while the estimate is still partial."""
    if accuracy is None:
        return "—"
    if final or not ci:
        return format_percent(accuracy)
    return f"{100 * accuracy:.1f} ± {100 * ci:.1f} %"


def format_number(value: float, digits: int = 3) -> str:
    """A score for the "why" panel: fixed point for ordinary magnitudes, scientific otherwise."""
    if value == 0 or 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}f}"
    return f"{value:.{digits - 1}e}"


def format_terms(
    terms: Sequence[float], total_terms: int, op: str = " + ", shown: int = 4, more: str = "{count} terms"
) -> str:
    """The first ``shown`` terms of a sum, then "… (n terms)" (``more``: that pattern in the language)."""
    parts = [format_number(t) for t in terms[:shown]]
    text = op.join(parts)
    if total_terms > shown:
        text += f"{op}… ({more.format(count=total_terms)})"
    return text


def format_ms(value: float | None) -> str:
    """A latency: ``4.3176 → "4.32 ms"``."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.2f} ms"


def format_bytes(count: float | None) -> str:
    """A file size: ``47463 → "46.4 KiB"``."""
    if count is None or not math.isfinite(count):
        return "—"
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count:.0f} B"


def escape(text: object) -> str:
    """HTML-escape any value for an ``ipywidgets.HTML``."""
    return html.escape(str(text))


def say(text: object, t: Any = None) -> str:
    """A text from the core in the page's language: a :class:`~explorer.errors.CoreText` through the
    catalogues (``core.<code>``, filled in with its values), anything else (or a code the catalogues do not
    know) as it is."""
    code = getattr(text, "code", None)
    if t is None or not isinstance(code, str):
        return str(text)
    return t.get(f"core.{code}", str(text), **getattr(text, "values", {}))


def describe_error(error: BaseException, t: Any = None) -> str:
    """The user-facing message of an error: the explorer's own in the page's language when it carries a code
    the catalogues know (``t`` given), else ``str(e)``; type and text for any other error."""
    if isinstance(error, ExplorerError):
        code = getattr(error, "code", None)
        if t is not None and isinstance(code, str):
            return t.get(f"core.{code}", str(error), **getattr(error, "values", {}))
        return str(error)
    return f"{type(error).__name__}: {error}"


__all__ = [
    "describe_error",
    "escape",
    "format_accuracy",
    "format_bytes",
    "format_count",
    "format_ms",
    "format_number",
    "format_percent",
    "format_points",
    "format_terms",
    "say",
]
