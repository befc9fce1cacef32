"""Sensitivity analysis and plan suggestions (Li et al. 2017, https://arxiv.org/abs/1608.08710, §4.1, Fig. 2).

For every group and every ratio of a grid, prune *only that group* (all its coupled channels together) by the
chosen criterion and measure accuracy and loss on the validation subset. Layers whose accuracy barely moves
are safe to prune; steep curves mark sensitive layers.

Each evaluation reuses the activation cache: everything upstream of the pruned group is the unpruned
network, whose boundary activations were cached by the baseline run.

Suggestions built on the table:

* ``li``: for each group, the largest ratio whose accuracy drop is ≤ ε (Li et al.'s rule);
* ``target``: reach a MACs reduction with the least *predicted* accuracy loss, greedily: repeatedly take the
  next ratio step (of any group) that costs the least predicted accuracy per MAC saved; the predicted loss
  assumes per-group drops add up, and the real figure is measured afterwards.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import torch

from explorer.cost import Cost
from explorer.errors import ExplorerError
from explorer.evaluation import EvaluationCancelled, Evaluator
from explorer.graph import PruningGroup
from explorer.masks import LayerCuts
from explorer.plan import PlanError, count_to_prune, lowest
from explorer.scan_cells import Cell, evaluate_cell, row_of

DEFAULT_RATIOS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
COLUMNS = ("group", "ratio", "accuracy", "loss", "macs", "params")


class ScanHost(Protocol):
    """What a sensitivity scan and the plan suggestions need of a session (``PruningSession`` is one)."""

    @property
    def groups(self) -> list[PruningGroup]: ...

    @property
    def evaluator(self) -> Evaluator: ...

    def group(self, name: str) -> PruningGroup: ...

    def scores(
        self, criterion: str | None = None, groups: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]: ...

    def baseline(self): ...

    def layer_cuts(self, pruned: Mapping[str, Sequence[int]] | None = None) -> LayerCuts: ...

    def cost(self, pruned: Mapping[str, Sequence[int]] | None = None) -> Cost: ...


@dataclass
class SensitivityTable:
    """Rows ``{group, ratio, accuracy, loss, macs, params}``, plus the baseline they compare against."""

    criterion: str
    rows: list[dict]
    baseline_accuracy: float
    baseline_loss: float
    baseline_macs: int

    def curve(self, group: str) -> list[dict]:
        return [r for r in self.rows if r["group"] == group]

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(r["group"] for r in self.rows))

    def write_csv(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows({k: row[k] for k in COLUMNS} for row in self.rows)
        return path


def run_sensitivity(
    session: ScanHost,
    ratios: Sequence[float] | None = None,
    criterion: str = "l1",
    groups: Sequence[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    use_cache: bool = True,
    *,
    tolerance: float | None = None,
    executor: str = "local",
    address: str | None = None,
    on_row: Callable[[dict], None] | None = None,
) -> SensitivityTable:
    """Measure every (group, ratio) with only that group pruned.

    Args:
        tolerance: stop each cell's evaluation once its accuracy's 95 % interval half-width is at most this
            (a fraction: 0.01 = one point); ``None`` evaluates every sample (exact).
        executor: ``"local"`` (this process, with the session's activation cache) or ``"ray"`` (cells in
            blocks on a Ray cluster, see ``explorer.ray_scan``).
        address: the Ray cluster to join (``None`` starts a local one).
        on_row: called with each row as soon as it is measured (rows of a Ray scan arrive as blocks finish).

    Raises:
        EvaluationCancelled: ``should_stop()`` turned true; the session is left as it was.
    """
    ratios = tuple(ratios) if ratios is not None else DEFAULT_RATIOS
    names = list(groups) if groups is not None else [g.name for g in session.groups]
    scores = session.scores(criterion, groups=names)
    base = session.baseline()
    cells = []
    for name in names:
        size = session.group(name).num_channels
        cells += [Cell(name, float(r), lowest(scores[name], count_to_prune(size, r, name))) for r in ratios]
    done: list[dict] = []

    def deliver(row: dict) -> None:
        done.append(row)
        if on_row is not None:
            on_row(row)
        if progress is not None:
            progress(len(done), len(cells))

    if executor == "ray":
        from explorer.ray_scan import run_cells_on_ray

        cuts = [session.layer_cuts({c.group: c.pruned}) for c in cells]
        costs = [session.cost({c.group: c.pruned}) for c in cells]
        run_cells_on_ray(session.evaluator, cells, cuts, costs, deliver, tolerance, address, should_stop)
    elif executor == "local":
        for cell in cells:
            if should_stop is not None and should_stop():
                raise EvaluationCancelled
            pruned = {cell.group: cell.pruned}
            estimate = evaluate_cell(
                session.evaluator,
                session.layer_cuts(pruned),
                tolerance=tolerance,
                use_cache=use_cache,
                should_stop=should_stop,
            )
            deliver(row_of(cell, estimate, session.cost(pruned)))
    else:
        raise ExplorerError(f"unknown executor {executor!r}: use 'local' or 'ray'")
    order = {(c.group, c.ratio): i for i, c in enumerate(cells)}
    rows = sorted(done, key=lambda r: order[(r["group"], r["ratio"])])
    return SensitivityTable(criterion, rows, base.accuracy, base.loss, base.macs)


class ScanCache:
    """Finished scans by key (weights, criterion, ratios, groups); the oldest go beyond ``keep``."""

    def __init__(self, keep: int = 8):
        self._keep = keep
        self._tables: dict[tuple, SensitivityTable] = {}

    def get(self, key: tuple, run: Callable[[], SensitivityTable]) -> SensitivityTable:
        """The table of ``key``, running ``run()`` when there is none (a cancelled run stores nothing)."""
        if key not in self._tables:
            table = run()
            while len(self._tables) >= self._keep:
                self._tables.pop(next(iter(self._tables)))
            self._tables[key] = table
        return self._tables[key]

    def __len__(self) -> int:
        return len(self._tables)


def suggest_li(table: SensitivityTable, epsilon: float) -> dict[str, float]:
    """Per group, the largest ratio whose accuracy drop (in accuracy fraction) is ≤ ``epsilon``."""
    plan = {}
    for name in table.groups:
        safe = [r["ratio"] for r in table.curve(name) if table.baseline_accuracy - r["accuracy"] <= epsilon]
        plan[name] = max(safe, default=0.0)
    return plan


@dataclass(frozen=True)
class TargetSuggestion:
    """A plan for a MACs target, with the accuracy the sensitivity curves predict for it."""

    ratios: dict[str, float]
    predicted_accuracy: float
    predicted_macs: int
    reached: bool


def suggest_for_macs(session: ScanHost, table: SensitivityTable, reduction: float) -> TargetSuggestion:
    """Greedy plan reaching ``reduction`` (0.3 = 30 % fewer MACs) at the least predicted accuracy loss."""
    scores = session.scores(table.criterion, groups=table.groups)
    curves = {name: sorted(table.curve(name), key=lambda r: r["ratio"]) for name in table.groups}
    step = dict.fromkeys(curves, -1)  # index into each curve; -1 = unpruned
    target = table.baseline_macs * (1 - reduction)

    def drop(name: str, index: int) -> float:
        return 0.0 if index < 0 else table.baseline_accuracy - curves[name][index]["accuracy"]

    def plan_of(steps: dict[str, int]) -> dict[str, tuple[int, ...]]:
        out = {}
        for name, index in steps.items():
            if index >= 0:
                group = session.group(name)
                out[name] = lowest(
                    scores[name], count_to_prune(group.num_channels, curves[name][index]["ratio"])
                )
        return out

    macs = table.baseline_macs
    while macs > target:
        best = None
        for name, index in step.items():
            if index + 1 >= len(curves[name]):
                continue
            trial = dict(step, **{name: index + 1})
            trial_macs = session.cost(plan_of(trial)).macs
            saved = macs - trial_macs
            if saved <= 0:
                continue
            price = max(drop(name, index + 1) - drop(name, index), 0.0) / saved
            if best is None or price < best[0]:
                best = (price, name, trial_macs)
        if best is None:
            break
        _, name, macs = best
        step[name] += 1
    predicted = table.baseline_accuracy - sum(drop(n, i) for n, i in step.items())
    ratios = {n: (curves[n][i]["ratio"] if i >= 0 else 0.0) for n, i in step.items()}
    return TargetSuggestion(ratios, predicted, macs, macs <= target)


def suggest_ratios(
    session: ScanHost, kind: str, table: SensitivityTable, *, epsilon: float, reduction: float
) -> dict:
    """``{"ratios", "predicted_accuracy", "predicted_macs"}`` of the ``"li"`` or ``"target"`` suggestion (the
    predictions only for ``"target"``, ``None`` otherwise)."""
    if kind == "li":
        return {"ratios": suggest_li(table, epsilon), "predicted_accuracy": None, "predicted_macs": None}
    if kind == "target":
        target = suggest_for_macs(session, table, reduction)
        return {
            "ratios": target.ratios,
            "predicted_accuracy": target.predicted_accuracy,
            "predicted_macs": target.predicted_macs,
        }
    raise PlanError(f"unknown suggestion {kind!r}: use 'li', 'target' or 'global'")


def plot_sensitivity(table: SensitivityTable, path: str | Path) -> Path:
    """Li et al. 2017 Fig. 2 style: accuracy against ratio pruned, one line per group, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    for name in table.groups:
        curve = table.curve(name)
        ax.plot(
            [0.0] + [r["ratio"] * 100 for r in curve],
            [table.baseline_accuracy * 100] + [r["accuracy"] * 100 for r in curve],
            marker="o",
            ms=3,
            label=name,
        )
    ax.set_xlabel("filters pruned away (%)")
    ax.set_ylabel("validation accuracy (%)")
    ax.set_title(f"Sensitivity to pruning, one group at a time (criterion: {table.criterion})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
