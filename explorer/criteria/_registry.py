"""The criterion registry: every criterion registers itself by name, nobody dispatches on strings.

A criterion is registered with its pure formula, what it *needs*, the strategy that gathers those statistics
and scores groups with the formula (by default, the one for its ``needs`` in ``explorer.criteria.generic``),
the explanation of one channel's score, and the text a student sees next to it: the paper title, its URL,
the formula and one plain sentence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from explorer.criteria.base import Explainer, Scorer, explain_value
from explorer.criteria.generic import DEFAULT_SCORERS
from explorer.errors import ExplorerError

#: What a criterion needs from the model, in the order the statistics are cheapest to gather.
NEEDS = ("none", "weights", "bn", "activations", "gradients", "per_sample_gradients", "loss_oracle")

#: The order ``list_criteria`` reports, whatever the import order of the modules.
_ORDER = (
    "l1",
    "l2",
    "fpgm",
    "taylor",
    "taylor_weight",
    "bn_scale",
    "apoz",
    "mean_activation",
    "hessian",
    "random",
    "oracle",
    "greedy_oracle",
)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CriterionInfo:
    """A registered criterion.

    Attributes:
        name: the registry key (``"l1"``, ``"fpgm"``...).
        fn: the pure formula; it takes tensors (or gathered statistics) and returns ``Tensor[C]``; its
            signature is the one ``explorer.criteria.generic`` documents for ``needs`` unless the criterion
            brings its own ``score`` strategy.
        needs: one of ``NEEDS``: what must be gathered before calling ``fn``.
        title: the paper's title (with authors and venue).
        url: where to read the paper.
        formula: the score of channel ``c`` as a human-readable unicode formula.
        description: one student-friendly sentence.
        score: the strategy: ``ScoringRequest → (group → GroupScores, group → why not scored)``.
        explain: ``(model, group, scores, channel) → {"kind", "terms", "n_terms", "layer_value"}``.
    """

    name: str
    fn: Callable[..., Any]
    needs: str
    title: str
    url: str
    formula: str
    description: str
    score: Scorer
    explain: Explainer = explain_value

    @property
    def needs_data(self) -> bool:
        """Whether scoring needs calibration data (or the engine's masked loss)."""
        return self.needs in ("activations", "gradients", "per_sample_gradients", "loss_oracle")


_CRITERIA: dict[str, CriterionInfo] = {}


def register_criterion(
    name: str,
    *,
    needs: str,
    title: str,
    url: str,
    formula: str,
    description: str,
    score: Scorer | None = None,
    explain: Explainer | None = None,
) -> Callable[[F], F]:
    """Register the decorated pure function as criterion ``name``.

    Example (a criterion of your own; see the README's "Add your own criterion")::

        @register_criterion("grad_l1", needs="gradients", title=..., url=..., formula=..., description=...)
        def grad_l1(weight, grad):  # [C_out, ...] each → [C_out]
            return (weight * grad).abs().reshape(weight.shape[0], -1).sum(dim=1)

    Args:
        name: the registry key.
        needs: what must be gathered, one of ``NEEDS``; it fixes the formula's signature (see
            ``explorer.criteria.generic``) unless ``score`` is given.
        title: the paper's title.
        url: the paper's URL.
        formula: the score as a unicode formula.
        description: one plain sentence for students.
        score: the strategy that gathers the statistics and calls the formula; default, the one for ``needs``.
        explain: one channel's per-term numbers for the "why" panel; default, none (kind ``"value"``).

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
        _CRITERIA[name] = CriterionInfo(
            name,
            fn,
            needs,
            title,
            url,
            formula,
            description,
            score or DEFAULT_SCORERS[needs],
            explain or explain_value,
        )
        return fn

    return decorator


def unregister_criterion(name: str) -> None:
    """Remove criterion ``name`` from the registry (for example to register a new version of your own).

    Raises:
        ExplorerError: no criterion has that name.
    """
    get_criterion(name)
    del _CRITERIA[name]


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
