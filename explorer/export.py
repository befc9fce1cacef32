"""Saving and loading pruned models without pickled code.

A saved pruned model is a folder with two files:

* ``plan.json``: the model name and the plan (removed root channel indices per group);
* ``pruned_state_dict.pt``: the state_dict of the physically smaller network.

``load_pruned`` rebuilds the original architecture from the zoo, removes the same channels again, and loads
the weights with ``weights_only=True``: nothing executable is ever unpickled.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import torch
from torch import nn

from explorer._autograd import autograd_enabled
from explorer.checkpoints import load_checkpoint_state_dict
from explorer.errors import CheckpointError, ModelError
from explorer.graph import build_groups, export_pruned
from explorer.models import load_model
from explorer.plan import Plan
from explorer.zoo import get_model_spec

PLAN_FILE = "plan.json"
WEIGHTS_FILE = "pruned_state_dict.pt"
SUMMARY_FILE = "SUMMARY.md"


def write_atomically(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` so that readers see either the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_pruned(
    session_or_model, path: str | Path, plan: Plan | dict | None = None, extra: dict | None = None
) -> Path:
    """Save a pruned model as ``plan.json``, ``pruned_state_dict.pt`` (and ``SUMMARY.md``) in ``path``.

    The folder is replaced as a whole: after a failure it still holds the previous save, untouched.

    Args:
        session_or_model: a ``PruningSession`` (its plan is exported), or an already exported module
            together with ``plan``.
        path: the folder to write (created if needed).
        plan: the plan of an exported module; ignored for a session.
        extra: JSON-able metadata stored beside the plan (metrics, criteria used...).

    Returns:
        The folder.
    """
    folder = Path(path)
    if hasattr(session_or_model, "export") and hasattr(session_or_model, "plan"):
        session = session_or_model
        module = session.export()
        plan_dict = dict(session.plan)
        plan_dict["model"] = session.model_name
        # lets load_pruned(path, model=...) rebuild a model that is not in the zoo without an example input
        plan_dict["input_shape"] = [int(v) for v in session.example_input.shape[1:]]
    else:
        if plan is None:
            raise ValueError("saving an exported module needs its plan")
        module = session_or_model
        plan_dict = plan.to_dict() if isinstance(plan, Plan) else dict(plan)
    if extra:
        plan_dict["extra"] = extra
    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    files = {WEIGHTS_FILE: buffer.getvalue(), PLAN_FILE: json.dumps(plan_dict, indent=2).encode()}
    if hasattr(session_or_model, "export"):
        files[SUMMARY_FILE] = summarize_markdown(session_or_model).encode()
    _replace_folder(folder, files)
    return folder


def _replace_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Replace ``folder`` by one holding exactly ``files``, so that a failure at any point leaves either the
    old folder or the new one, never a mix of the two (a plan beside weights it does not describe)."""
    if folder.exists() and not {p.name for p in folder.iterdir()} <= {PLAN_FILE, WEIGHTS_FILE, SUMMARY_FILE}:
        raise CheckpointError(
            f"{folder} holds other files; save the pruned model into a new or empty folder",
            code="export.other_files",
            values={"folder": str(folder)},
        )
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.new-"))
    aside = None
    try:
        for name, payload in files.items():
            write_atomically(staging / name, payload)
        if folder.exists():
            aside = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.old-"))
            aside.rmdir()
            os.replace(folder, aside)
        try:
            os.replace(staging, folder)
        except BaseException:
            if aside is not None:
                os.replace(aside, folder)
                aside = None
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)


def summarize_markdown(session) -> str:
    """A human-readable Markdown report of a session's plan: per-group choices, metrics, criteria used."""
    base = session.baseline()
    now = session.evaluate()
    base_cost = session.baseline_cost()
    lines = [
        f"# Pruned {session.model_name}",
        "",
        f"Data: {session.data.name}, {now.total} validation samples."
        + ("" if session.trained else " The model is UNTRAINED: accuracy figures are meaningless."),
        "",
        f"Weights exported: {session.weights.label}. The original column is the original network (original "
        "weights, nothing pruned).",
        "",
        "| metric | original | pruned |",
        "|---|---|---|",
        f"| top-1 accuracy | {base.accuracy:.2%} | {now.accuracy:.2%} |",
        f"| loss | {base.loss:.4f} | {now.loss:.4f} |",
        f"| MACs | {base_cost.macs:,} | {now.macs:,} ({now.macs / base_cost.macs:.1%}) |",
        f"| params | {base_cost.params:,} | {now.params:,} ({now.params / base_cost.params:.1%}) |",
        "",
        "| group | channels | removed | ratio | criterion |",
        "|---|---|---|---|---|",
    ]
    choices = session.plan["groups"]
    for group in session.groups:
        choice = choices.get(group.name)
        removed = len(choice["pruned"]) if choice else 0
        criterion = choice["criterion"] if choice else "-"
        lines.append(
            f"| {group.name} | {group.num_channels} | {removed} | {removed / group.num_channels:.0%} "
            f"| {criterion} |"
        )
    used = sorted({c["criterion"] for c in choices.values()})
    lines += ["", f"Criteria used: {', '.join(used) if used else 'none'}.", ""]
    return "\n".join(lines)


@autograd_enabled()
def load_pruned(
    path: str | Path, model: nn.Module | None = None, example_input: torch.Tensor | None = None
) -> nn.Module:
    """Rebuild a pruned model saved by ``save_pruned``.

    Args:
        path: the folder written by ``save_pruned``.
        model: the original (unpruned) architecture, needed when the plan's model is not a zoo name (your
            own module, e.g. ``load_pruned(path, model=MyNet())``); its weights do not matter.
        example_input: an input batch for tracing; defaults to zeros of the input shape saved with the plan
            (or of the zoo model's input shape).

    Raises:
        CheckpointError: missing files, a plan of a model that is not in the zoo without ``model=``, or
            weights that do not fit the rebuilt architecture.
    """
    folder = Path(path)
    try:
        plan_dict = json.loads((folder / PLAN_FILE).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise CheckpointError(
            f"cannot read {folder / PLAN_FILE}: {error}",
            code="export.unreadable_plan",
            values={"file": str(folder / PLAN_FILE), "detail": str(error)},
        ) from error
    plan = Plan.from_dict(plan_dict)
    shape = plan_dict.get("input_shape")
    if example_input is None and isinstance(shape, list) and all(isinstance(v, int) for v in shape):
        example_input = torch.zeros(1, *shape)
    if model is None:
        try:
            spec = get_model_spec(plan.model) if plan.model else None
        except ModelError:
            spec = None
        if spec is None:
            raise CheckpointError(
                f"the plan was saved from {plan.model or 'a model'!r}, which is not a zoo model: pass the "
                "original (unpruned) architecture, e.g. load_pruned(path, model=MyNet()); its weights do "
                "not matter",
                code="export.not_zoo_model",
                values={"model": str(plan.model or "?")},
            )
        model = load_model(plan.model, pretrained=False)
        if example_input is None:
            example_input = torch.zeros(1, *spec.input_shape)
    if example_input is None:
        raise CheckpointError("pass example_input= (one input batch) to rebuild a custom model")
    smaller = export_pruned(model, example_input, plan.pruned(), build_groups(model, example_input))
    state = load_checkpoint_state_dict(folder / WEIGHTS_FILE)
    result = smaller.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(
            f"the saved weights do not fit the pruned architecture: missing {result.missing_keys}, "
            f"unexpected {result.unexpected_keys}",
            code="export.weights_mismatch",
            values={
                "missing": ", ".join(result.missing_keys) or "-",
                "unexpected": ", ".join(result.unexpected_keys) or "-",
            },
        )
    return smaller.eval()
