"""The criterion registry: every criterion registers itself by name, nobody dispatches on strings.

A criterion is registered with what it *needs* (which statistics the scoring entry point must gather for it)
and with the text a student sees next to it: the paper title, its URL, the formula and one plain sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from explorer.errors import ExplorerError

#: What a criterion needs from the model, in the order the statistics are cheapest to gather.
NEEDS = ("none", "weights", "bn", "gradients", "per_sample_gradients", "loss_oracle")

#: The order ``list_criteria`` reports, whatever the import order of the modules.
_ORDER = ("l1", "l2", "fpgm", "taylor", "taylor_weight", "bn_scale", "hessian", "random", "oracle")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CriterionInfo:
    """A registered criterion.

    Attributes:
        name: the registry key (``"l1"``, ``"fpgm"``...).
        fn: the pure scoring function; it takes tensors (or gathered statistics) and returns ``Tensor[C]``.
        needs: one of ``NEEDS``: what ``compute_group_scores`` must gather before calling ``fn``.
        title: the paper's title (with authors and venue).
        url: where to read the paper.
        formula: the score of channel ``c`` as a human-readable unicode formula.
        description: one student-friendly sentence.
    """

    name: str
    fn: Callable[..., Any]
    needs: str
    title: str
    url: str
    formula: str
    description: str

    @property
    def needs_data(self) -> bool:
        """Whether scoring needs calibration data (or the engine's masked loss)."""
        return self.needs in ("gradients", "per_sample_gradients", "loss_oracle")


_CRITERIA: dict[str, CriterionInfo] = {}


def register_criterion(
    name: str, *, needs: str, title: str, url: str, formula: str, description: str
) -> Callable[[F], F]:
    """Register the decorated pure function as criterion ``name``.

    Args:
        name: the registry key.
        needs: what the scoring entry point must gather, one of ``NEEDS``.
        title: the paper's title.
        url: the paper's URL.
        formula: the score as a unicode formula.
        description: one plain sentence for students.

    Returns:
        The decorator; it returns the function unchanged.

    Raises:
        ExplorerError: ``needs`` is unknown or ``name`` is already taken.
    """
    if needs not in NEEDS:
        raise ExplorerError(f"criterion {name!r}: needs={needs!r} is not one of {list(NEEDS)}")

    def decorator(fn: F) -> F:
        if name in _CRITERIA and _CRITERIA[name].fn is not fn:
            raise ExplorerError(f"a criterion named {name!r} is already registered")
        _CRITERIA[name] = CriterionInfo(name, fn, needs, title, url, formula, description)
        return fn

    return decorator


def list_criteria() -> list[str]:
    """Names of the registered criteria: the built-in ones in their teaching order, then any others."""
    known = [n for n in _ORDER if n in _CRITERIA]
    return known + sorted(n for n in _CRITERIA if n not in _ORDER)


def get_criterion(name: str) -> CriterionInfo:
    """The registered criterion ``name``.

    Raises:
        ExplorerError: no criterion has that name; the message lists the known ones.
    """
    try:
        return _CRITERIA[name]
    except KeyError:
        raise ExplorerError(
            f"unknown criterion {name!r}; known criteria: {', '.join(list_criteria())}"
        ) from None
