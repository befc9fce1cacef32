"""The explorer state's long jobs: sensitivity scan, plan suggestions, fine-tuning, comparisons, export and
checkpoint upload.

:class:`JobsMixin` is part of :class:`~explorer.ui.state.ExplorerState` (it imports no widget either). Every
job runs on the state's single worker thread, one after the other with the plan changes, so the kernel never
blocks and a job never races a slider. A job publishes its progress (``busy``, ``progress``,
``progress_text`` and ``job``, its name), can be cancelled (:meth:`~explorer.ui.state.ExplorerState.cancel`),
and records how it ended in ``job_status[name]``: ``running``, ``done``, ``cancelled`` or ``failed`` (the
message then goes to the red error box, like any error). A cancelled or failed job leaves the session as it
was and usable.
"""

from __future__ import annotations

import math
import re
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from traitlets import Dict, HasTraits, Int, Unicode, observe

from explorer.criteria import ScoringCancelled
from explorer.errors import CheckpointError, ExplorerError
from explorer.evaluation import EvaluationCancelled

#: Largest checkpoint the upload accepts, in bytes.
MAX_UPLOAD_BYTES = 200 * 2**20
#: File name endings the upload accepts.
CHECKPOINT_SUFFIXES = (".pt", ".pth", ".th")
#: Minimum seconds between two published points of the live fine-tuning curve.
CURVE_INTERVAL = 0.1
#: Plan suggestions (``apply_suggestion``'s ``kind``).
SUGGESTIONS = ("li", "target", "global")

_CANCELLED_TEXT = {
    "sensitivity": "Scan cancelled: nothing changed.",
    "plan": "Cancelled before the plan was applied: nothing changed.",
    "finetune": "Fine-tuning cancelled: the weights are unchanged.",
    "schedules": "Comparison cancelled.",
    "unstructured": "Comparison cancelled.",
    "export": "Export cancelled.",
    "upload": "Upload cancelled: still exploring the previous weights.",
    "model": "Cancelled: still exploring the previous model.",
}


class JobCancelled(Exception):
    """A job noticed the cancel flag (for the jobs whose core call returns instead of raising)."""


_CANCELLED = (JobCancelled, EvaluationCancelled, ScoringCancelled)


def _table_dict(table: Any, seconds: float) -> dict[str, Any]:
    """A ``SensitivityTable`` as the views draw it: its rows, and one curve per group starting at 0 %."""
    curves = {}
    for name in table.groups:
        rows = sorted(table.curve(name), key=lambda r: r["ratio"])
        curves[name] = {
            "ratio": [0.0] + [float(r["ratio"]) for r in rows],
            "accuracy": [float(table.baseline_accuracy)] + [float(r["accuracy"]) for r in rows],
            "loss": [float(table.baseline_loss)] + [float(r["loss"]) for r in rows],
        }
    return {
        "criterion": table.criterion,
        "baseline_accuracy": float(table.baseline_accuracy),
        "baseline_loss": float(table.baseline_loss),
        "baseline_macs": int(table.baseline_macs),
        "groups": list(table.groups),
        "rows": [dict(r) for r in table.rows],
        "curves": curves,
        "seconds": seconds,
        "stale": False,
    }


def _safe_name(name: str) -> str:
    """The uploaded file's base name, reduced to harmless characters (it only names a temporary file)."""
    base = re.sub(r"[^\w.\-]+", "_", Path(name).name).strip("._") or "checkpoint"
    return base[:100]


class JobsMixin(HasTraits):
    """Long jobs of the explorer state (mixed into ``ExplorerState``; relies on its worker and session)."""

    # ------------------------------------------------------------------------------------------ inputs
    scan_criterion = Unicode("", help="the criterion of the sensitivity scan (follows the active one)")

    # ----------------------------------------------------------------------------------------- results
    job = Unicode("", help="name of the long job running now ('' when none)")
    job_status = Dict(help="job name → {state: running|done|cancelled|failed, text}")
    sensitivity = Dict(help="the last sensitivity scan: rows, a curve per group, baseline (see _table_dict)")
    suggestion = Dict(help="the last plan suggestion applied: ratios, predicted and real accuracy and MACs")
    finetune_curve = Dict(help="live curve of the running fine-tuning: loss and validation accuracy by step")
    finetune = Dict(help="the last fine-tuning: accuracy before and after, steps")
    schedules = Dict(help="one-shot vs iterative pruning (session.compare_schedules)")
    unstructured = Dict(help="filters vs single weights (session.compare_unstructured), with the speed-ups")
    export = Dict(help="the last save: folder, files written, SUMMARY.md text")
    upload = Dict(help="the last checkpoint loaded: name, size")
    session_version = Int(0, help="increases when a new session replaces the old one (uploaded weights)")

    def _init_jobs(self) -> None:
        self._table: Any = None  # the SensitivityTable behind ``sensitivity`` (None when stale)
        self._weights_version = 0  # fine-tunings adopted by the current session
        self._trajectory_lock = threading.RLock()
        self.max_upload_bytes = MAX_UPLOAD_BYTES
        #: builds a session on a checkpoint file (set by ``build_app``; default: the current session's
        #: model and validation data with the new weights)
        self.session_factory: Callable[[Path], Any] | None = None

    # ======================================================================================== actions
    def run_sensitivity(self, criterion: str | None = None, ratios: Sequence[float] | None = None) -> None:
        """Scan every group alone at every ratio (Li et al. 2017, Fig. 2); fills ``sensitivity``.

        Args:
            criterion: ranks the channels (default: ``scan_criterion``, i.e. the active criterion).
            ratios: the grid (default 10 %, 20 % … 90 %).
        """
        name = criterion or self.scan_criterion or self.criterion
        grid = None if ratios is None else tuple(float(r) for r in ratios)

        def body() -> str:
            table = self._scan(name, grid)
            return f"{len(table.rows)} evaluations with {name} in {self.sensitivity['seconds']:.1f} s."

        self._long_job("sensitivity", f"Sensitivity scan with {name}…", body)

    def apply_suggestion(
        self, kind: str, *, epsilon: float = 0.01, reduction: float = 0.3, ratio: float = 0.5
    ) -> None:
        """Apply a suggested plan; the sliders move to it. ``li`` and ``target`` scan first if needed.

        Args:
            kind: ``"li"`` (per group, the largest ratio whose scanned accuracy drop is ≤ ``epsilon``),
                ``"target"`` (``reduction`` fewer MACs at the least predicted accuracy loss) or ``"global"``
                (``ratio`` of all channels, normalised scores).
            epsilon: accuracy drop allowed per group, as a fraction (0.01 = 1 point).
            reduction: fraction of the MACs to remove.
            ratio: the global ratio.
        """
        if kind not in SUGGESTIONS:
            self.error = f"unknown plan suggestion {kind!r}: use one of {', '.join(SUGGESTIONS)}"
            return

        def body() -> str:
            session = self.session
            table = None
            if kind != "global":
                wanted = self.scan_criterion or self.criterion
                table = self._table
                if table is None or table.criterion != wanted:
                    table = self._scan(wanted, None)
                self._set_busy(True, "Applying the plan…")
            criterion = table.criterion if table is not None else self.criterion
            result = session.suggest_plan(
                kind,
                table=table,
                epsilon=float(epsilon),
                reduction=float(reduction),
                ratio=float(ratio),
                criterion=criterion,
            )
            base = session.baseline()
            # set before the evaluation starts: the exact metrics of this generation fill in the real figures
            self.suggestion = {
                "kind": kind,
                "criterion": criterion,
                "epsilon": float(epsilon),
                "reduction": float(reduction),
                "ratio": float(ratio),
                "ratios": {g: float(r) for g, r in result["ratios"].items()},
                "predicted_accuracy": result["predicted_accuracy"],
                "predicted_macs": result["predicted_macs"],
                "target_macs": round(base.macs * (1 - float(reduction))) if kind == "target" else None,
                "baseline_accuracy": base.accuracy,
                "baseline_macs": base.macs,
                "real_accuracy": None,
                "real_macs": None,
                "generation": session.generation,
            }
            self._publish_global(float(ratio) if kind == "global" else 0.0)
            self._plan_changed()
            if criterion != self.criterion:
                self.criterion = criterion  # the plan ranks by the scan's criterion: so do the sliders
            moved = sum(1 for r in result["ratios"].values() if r > 0)
            return f"Applied: {moved} layer(s) pruned."

        self._flush_pending(drop=True)  # the suggestion replaces the whole plan
        self._long_job("plan", "Preparing the suggested plan…", body)

    def run_finetune(self, steps: int = 200, *, lr: float = 3e-3, eval_every: int | None = None) -> None:
        """Fine-tune the pruned network (masked) and adopt the new weights unless cancelled.

        Args:
            steps: training steps (batches of 64).
            lr: learning rate.
            eval_every: measure validation accuracy every this many steps (default: 8 points per run).
        """
        steps = int(steps)
        if steps < 1:
            self.error = f"Fine-tuning needs at least one step (got {steps})."
            return
        every = int(eval_every) if eval_every else max(1, math.ceil(steps / 8))

        def body() -> str:
            session = self.session
            curve: dict[str, Any] = {
                "steps": steps,
                "loss_step": [],
                "loss": [],
                "acc_step": [],
                "accuracy": [],
                "running": True,
            }
            last = [0.0]

            def publish(force: bool = False) -> None:
                now = time.monotonic()
                if force or now - last[0] >= CURVE_INTERVAL:
                    last[0] = now
                    self.finetune_curve = {k: list(v) if isinstance(v, list) else v for k, v in curve.items()}

            def on_step(step: int, total: int, loss: float) -> None:
                curve["loss_step"].append(int(step))
                curve["loss"].append(float(loss))
                self.progress = step / total if total else 0.0
                publish()

            def on_point(step: int, accuracy: float) -> None:
                curve["acc_step"].append(int(step))
                curve["accuracy"].append(float(accuracy))
                publish(force=True)

            publish(force=True)
            pruned = session.pruned
            try:
                result = session.finetune(
                    steps,
                    lr=float(lr),
                    eval_every=every,
                    progress=on_step,
                    on_point=on_point,
                    should_stop=self._cancel.is_set,
                )
            finally:
                curve["running"] = False
                publish(force=True)
            if result.cancelled:
                raise JobCancelled
            cost = session.cost()
            point = {"macs": cost.macs, "params": cost.params}
            with self._trajectory_lock:
                before_key = self._trajectory_key(pruned)
                if not any(p["key"] == before_key for p in self.trajectory):
                    self._add_trajectory_point({**point, "accuracy": result.accuracy_before}, pruned)
                self._weights_changed()
                self._add_trajectory_point(
                    {**point, "accuracy": result.accuracy_after},
                    pruned,
                    kind="finetuned",
                    before=result.accuracy_before,
                    steps=steps,
                )
            self.finetune = {
                "steps": steps,
                "lr": float(lr),
                "accuracy_before": result.accuracy_before,
                "accuracy_after": result.accuracy_after,
                "curve": [list(p) for p in result.curve],
                "macs": cost.macs,
                "generation": session.generation,
            }
            self._plan_changed()
            return f"Fine-tuned {steps} steps."

        self._long_job("finetune", f"Fine-tuning for {steps} steps…", body)

    def compare_schedules(self, ratio: float = 0.5, steps: int = 200, k: int = 4) -> None:
        """One-shot vs iterative (``k`` increments) pruning to a global ``ratio``, on copies."""
        ratio, steps, k = float(ratio), int(steps), int(k)

        def body() -> str:
            polls = [0]
            expected = max(steps + k * (steps // k), 1)

            def should_stop() -> bool:
                # training polls this before each step: the count is the progress
                polls[0] += 1
                self.progress = min(polls[0] / expected, 0.99)
                return self._cancel.is_set()

            result = self.session.compare_schedules(
                ratio=ratio, steps=steps, k=k, criterion=self.criterion, should_stop=should_stop
            )
            if self._cancel.is_set():
                raise JobCancelled
            self.schedules = {**result, "steps": steps, "k": k}
            return ""

        self._long_job("schedules", f"Training one-shot and iterative ({k} steps) plans…", body)

    def compare_unstructured(self) -> None:
        """Filters removed (exported) vs single weights zeroed at the same parameter count: accuracy and
        latency."""

        def body() -> str:
            session = self.session
            removed = sum(len(v) for v in session.pruned.values())
            result = dict(session.compare_unstructured())
            if self._cancel.is_set():
                raise JobCancelled
            dense = result["dense_latency_ms"]
            for name in ("filter", "unstructured"):
                ms = result[f"{name}_latency_ms"]
                result[f"{name}_speedup"] = dense / ms if ms > 0 else math.nan
            result["channels_removed"] = removed
            result["dense_params"] = session.baseline_cost().params
            self.unstructured = result
            return ""

        self._long_job("unstructured", "Exporting, zeroing single weights and timing three models…", body)

    def save(self, folder: str | Path) -> None:
        """Save the pruned model (``plan.json``, ``pruned_state_dict.pt``, ``SUMMARY.md``) into ``folder``."""
        text = str(folder).strip()
        if not text:
            self.error = "Choose a folder to save the pruned model into."
            return

        def body() -> str:
            from explorer.export import SUMMARY_FILE, save_pruned

            session = self.session
            path = Path(text).expanduser()
            path = path if path.is_absolute() else Path.cwd() / path
            out = save_pruned(session, path)
            files = sorted(p for p in out.iterdir() if p.is_file())
            summary = out / SUMMARY_FILE
            self.export = {
                "folder": str(out),
                "files": [{"path": str(p), "name": p.name, "bytes": p.stat().st_size} for p in files],
                "summary": summary.read_text() if summary.is_file() else "",
                "channels_removed": sum(len(v) for v in session.pruned.values()),
                "generation": session.generation,
            }
            return f"Saved to {out}."

        self._long_job("export", "Exporting and saving the pruned model…", body)

    def load_checkpoint(self, name: str, content: bytes | memoryview, size: int | None = None) -> None:
        """Explore uploaded weights: checked, read safely, then a new session replaces the current one.

        The file must end in .pt, .pth or .th and hold at most ``max_bytes`` bytes (``MAX_UPLOAD_BYTES``);
        it is read with :func:`explorer.checkpoints.load_checkpoint_state_dict` (``weights_only``). On any
        error the message is shown and the current session stays as it was.

        Args:
            name: the file's name, as the user chose it.
            content: its bytes.
            size: the size the browser announced (checked as well as ``len(content)``).
        """
        limit = int(self.max_upload_bytes)
        size = max(int(size or 0), len(content))
        problem = ""
        if not name.lower().endswith(CHECKPOINT_SUFFIXES):
            problem = f"{name} is not a PyTorch checkpoint: choose a {', '.join(CHECKPOINT_SUFFIXES)} file."
        elif size > limit:
            problem = (
                f"{name} is {size / 2**20:.1f} MB, more than the upload limit of {limit / 2**20:.0f} MB. "
                "Load bigger checkpoints from Python: explorer.show(model, checkpoint='path/to/file')."
            )
        elif size == 0:
            problem = f"{name} is empty (0 bytes)."
        if problem:
            self.job_status = {**self.job_status, "upload": {"state": "failed", "text": problem}}
            self.error = problem
            return
        data = content if isinstance(content, (bytes, bytearray, memoryview)) else bytes(content)

        def body() -> str:
            with tempfile.TemporaryDirectory(prefix="pruning-explorer-upload-") as folder:
                path = Path(folder) / _safe_name(name)
                path.write_bytes(data)
                try:
                    from explorer.checkpoints import load_checkpoint_state_dict

                    load_checkpoint_state_dict(path, max_bytes=limit)  # refuses before a session is built
                    self._set_busy(True, f"Building a session on {name}…")
                    session = self._build_session(path)
                except ExplorerError as error:
                    # name the user's file, not the temporary copy
                    message = str(error).replace(str(path), name)
                    raise (CheckpointError if isinstance(error, CheckpointError) else ExplorerError)(
                        message
                    ) from error
            if self._cancel.is_set():
                raise JobCancelled
            self._replace_session(session)
            self.upload = {"name": name, "bytes": size, "model": session.model_name}
            return f"Now exploring {name}."

        self._long_job("upload", f"Checking {name}…", body)

    def switch_model(self, name: str) -> None:
        """Explore another zoo model, on its own dataset; on any error the current session stays.

        Offline, a zoo model whose weights or data are not on this machine gets a clear message (the
        Binder image fetches the CIFAR-10 test set and the pretrained ResNet-20 when it is built).
        """

        def body() -> str:
            from explorer.session import PruningSession

            old = self.session
            session = PruningSession(name, criterion=self.criterion, seed=old.seed if old else 0)
            if self._cancel.is_set():
                raise JobCancelled
            self._replace_session(session)
            trained = (
                "" if session.trained else " (untrained: its pretrained weights are not on this machine)"
            )
            return f"Now exploring {name}{trained}."

        self._long_job("model", f"Loading {name}…", body)

    # ======================================================================================== plumbing
    def _long_job(self, name: str, text: str, body: Callable[[], str]) -> None:
        """Run ``body`` on the worker with progress, cancellation and a status line (see the module doc)."""

        def job() -> None:
            self._cancel.clear()
            self._set_job_status(name, "running", text)
            self.job = name
            self._set_busy(True, text)
            try:
                note = body()
            except _CANCELLED:
                self._set_job_status(name, "cancelled", _CANCELLED_TEXT[name])
            except Exception:
                self._set_job_status(name, "failed", "Failed: the message is in the red box above.")
                raise  # the worker shows it and re-publishes the plan
            else:
                self._set_job_status(name, "done", note)
            finally:
                self.job = ""
                self._set_busy(False)

        self._submit(name, job)

    def _set_job_status(self, name: str, state: str, text: str) -> None:
        self.job_status = {**self.job_status, name: {"state": state, "text": text}}

    def _scan(self, criterion: str, ratios: Sequence[float] | None) -> Any:
        """Score (cancellable, with progress) then scan; publishes and returns the table."""
        session = self.session
        start = time.perf_counter()
        if not self._is_cheap(criterion):
            self._set_busy(True, f"Scoring channels with {criterion}…")
            session.group_scores(criterion, progress=self._on_progress, should_stop=self._cancel.is_set)
        self._set_busy(True, f"Sensitivity scan with {criterion}: one layer at a time…")
        table = session.sensitivity(
            ratios, criterion, progress=self._on_progress, should_stop=self._cancel.is_set
        )
        self._table = table
        self.sensitivity = _table_dict(table, time.perf_counter() - start)
        return table

    def _publish_global(self, ratio: float) -> None:
        self._publishing_global = True
        try:
            self.set_trait("global_ratio", ratio)
        finally:
            self._publishing_global = False

    def _weights_changed(self) -> None:
        """The session adopted new weights: everything derived from the old ones is recomputed or stale."""
        self._weights_version += 1
        self._computed.clear()
        self._probe_model = None
        self._feature_maps = {}
        self._table = None
        if self.sensitivity:
            self.sensitivity = {**self.sensitivity, "stale": True}

    def _build_session(self, checkpoint: Path) -> Any:
        if self.session_factory is not None:
            return self.session_factory(checkpoint)
        from explorer.session import PruningSession

        old = self.session
        # a zoo model is rebuilt by name; any other model from the session's copy (its weights are replaced)
        source = old.model_name if getattr(old, "spec", None) is not None else old.model
        return PruningSession(
            source, old.data, checkpoint=checkpoint, criterion=self.criterion, seed=old.seed
        )

    def _replace_session(self, session: Any) -> None:
        """Explore ``session`` instead of the current one: every result of the old one is dropped.

        If the new session cannot even be attached (say its weights make every score NaN), the old one is
        attached again, so the app stays usable, and the error is raised.
        """
        old = self.session
        self._detach()
        try:
            self.attach(session)
        except Exception:
            self._detach()
            self.attach(old)
            raise
        self.session_version += 1

    def _detach(self) -> None:
        """Forget the session's results and stop its evaluation thread (before ``attach``)."""
        live, self._live = self._live, None
        self._ready = False
        if live is not None:
            live.close()
        self._cancel_timer()
        with self._inputs:
            self._dirty.clear()
            self.ratios = {}
        self._global_pending = False
        self._publish_global(0.0)
        self._computed.clear()
        self._probe_model = None
        self._feature_maps = {}
        self._baseline_latency = None
        self._failed_generation = -1
        self._table = None
        self._weights_version = 0
        self.trajectory = []
        self.latency = {}
        self.error = ""
        for trait in ("sensitivity", "suggestion", "finetune_curve", "finetune", "schedules", "unstructured"):
            setattr(self, trait, {})
        self.job_status = {k: v for k, v in self.job_status.items() if k == "upload"}

    # ---------------------------------------------------------------------------------- state hooks
    def _trajectory_key(self, pruned: Mapping[str, Sequence[int]]) -> str:
        from explorer.ui.state import _plan_key

        return f"w{self._weights_version}:{_plan_key(pruned)}"

    def _on_final_metrics(self, published: Mapping[str, Any], generation: int) -> None:
        """Called with the exact metrics of every plan, before they are published."""
        suggestion = self.suggestion
        if suggestion and suggestion.get("generation") == generation and suggestion["real_accuracy"] is None:
            self.suggestion = {
                **suggestion,
                "real_accuracy": published["accuracy"],
                "real_macs": published["macs"],
            }

    @observe("criterion")
    def _scan_follows_criterion(self, change: dict) -> None:
        self.scan_criterion = change["new"]


__all__ = ["CHECKPOINT_SUFFIXES", "MAX_UPLOAD_BYTES", "SUGGESTIONS", "JobCancelled", "JobsMixin"]
