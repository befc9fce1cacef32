"""Plan history: the current plan and the weights it runs on, with undo, redo and reset.

A pruning plan says which channels are removed; the weights say what the kept channels compute. The two are
kept apart on purpose. Weights fine-tuned (or otherwise retrained) under a plan's masks only mean something
together with those masks: applying "nothing pruned" to them once gave 22 % instead of the original 98.3 % on
``digits_cnn``. So the original network is a fixed reference, and any other weights are a named
``WeightsState`` that remembers the plan it was trained under.

Every step of the history is a ``(plan, weights)`` pair: undo and redo walk through plan edits and
fine-tuning alike, and reset returns to the original network (original weights, nothing pruned).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from explorer.plan import Plan

ORIGINAL = "original"


@dataclass(frozen=True, eq=False)
class WeightsState:
    """A named set of weights of the session's network.

    Attributes:
        kind: ``"original"`` for the loaded network, ``"fine-tuned"`` for weights trained under a plan.
        plan_number: the number of the plan the weights were trained under (``None`` for the original).
        trained_under: that plan's removed channels, group → root indices.
        steps: training steps that produced them (0 for the original).
        state_dict: the weights themselves (``None`` for the original: the session keeps that one).
    """

    kind: str = ORIGINAL
    plan_number: int | None = None
    trained_under: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    steps: int = 0
    state_dict: Mapping[str, torch.Tensor] | None = None

    @property
    def is_original(self) -> bool:
        return self.kind == ORIGINAL

    @property
    def label(self) -> str:
        """How the page names these weights, e.g. ``fine-tuned under plan #7 (200 steps)``, or
        ``reconstructed under plan #7`` for weights made without a training step."""
        if self.is_original:
            return ORIGINAL
        if self.kind == "reconstructed" and not self.steps:
            return f"{self.kind} under plan #{self.plan_number}"
        return f"{self.kind} under plan #{self.plan_number} ({self.steps} steps)"

    def fits(self, pruned: Mapping[str, tuple[int, ...]]) -> bool:
        """True when ``pruned`` removes at least every channel these weights were trained without.

        Restoring a channel that training ran without puts back a filter the rest of the network has
        learned to do without, so the numbers would describe neither network.
        """
        return all(set(idxs) <= set(pruned.get(group, ())) for group, idxs in self.trained_under.items())

    def describe(self) -> dict:
        """Plain data for display and for reports."""
        return {
            "kind": self.kind,
            "label": self.label,
            "plan_number": self.plan_number,
            "steps": self.steps,
            "trained_under": {g: list(i) for g, i in self.trained_under.items()},
        }


@dataclass(frozen=True)
class Step:
    """One point of the history: a plan, the weights it runs on, and its number."""

    plan: Plan
    weights: WeightsState
    number: int


class PlanHistory:
    """The current ``(plan, weights)`` step, with undo/redo stacks and a generation counter.

    ``generation`` increases with every change, so work started for an older step (a running evaluation)
    can notice it is stale and stop.
    """

    def __init__(self, model_name: str | None, max_steps: int = 200):
        self._original = WeightsState()
        self._current = Step(Plan(model=model_name), self._original, 0)
        self._undo: list[Step] = []
        self._redo: list[Step] = []
        self._numbers = 0
        self._max_steps = max_steps
        self.generation = 0

    @property
    def plan(self) -> Plan:
        return self._current.plan

    @property
    def weights(self) -> WeightsState:
        return self._current.weights

    @property
    def original(self) -> WeightsState:
        return self._original

    @property
    def number(self) -> int:
        """The current plan's number (``#N`` in the page)."""
        return self._current.number

    def commit(self, plan: Plan, weights: WeightsState | None = None) -> None:
        """Make ``plan`` (and ``weights``, by default the current ones) the new current step."""
        self._numbers += 1
        self._undo.append(self._current)
        del self._undo[: -self._max_steps]
        self._redo.clear()
        self._current = Step(plan, weights if weights is not None else self.weights, self._numbers)
        self.generation += 1

    def reset(self) -> None:
        """Back to the original network: nothing pruned, original weights (undoable)."""
        self.commit(Plan(model=self.plan.model), self._original)

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self._current)
        self._current = self._undo.pop()
        self.generation += 1
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self._current)
        self._current = self._redo.pop()
        self.generation += 1
        return True

    def restore(self, number: int) -> bool:
        """Make step ``number`` (its plan and the weights it ran on), still in the undo or redo stack, the
        current step again, as a new step (undoable). Returns False when no kept step has that number."""
        step = next((s for s in [*self._undo, self._current, *self._redo] if s.number == number), None)
        if step is None:
            return False
        self.commit(step.plan, step.weights)
        return True

    def touch(self) -> None:
        """Something the current step's numbers depend on changed (e.g. the precision): a new generation."""
        self.generation += 1

    def __len__(self) -> int:
        """How many steps undo can go back."""
        return len(self._undo)


__all__ = ["ORIGINAL", "PlanHistory", "Step", "WeightsState"]
