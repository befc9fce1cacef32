"""Plan provenance: every evaluated plan, with its numbers and where it came from, as plain JSON data.

A record says which channels a plan removed, which criteria chose them, where the plan came from (a slider,
a suggestion, a file...), which weights it ran on, and what it measured: accuracy, MACs and parameters. The
log is a list of such records, one per (plan number, weights, source); a UI can draw it as a map (accuracy
against MACs, coloured by source or criterion), and any record's ``plan`` can be applied again.

File format (JSON)::

    {"format": "pruning-explorer-provenance", "version": 1, "model": "digits_cnn",
     "records": [{"plan_number": 3, "source": "slider", "criteria": ["l1"], "weights": "original",
                  "accuracy": 0.95, "macs": 412345, "params": 20123, "macs_fraction": 0.69,
                  "plan": {... explorer.plan.Plan.to_dict() ...}}, ...]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from explorer.export import write_atomically
from explorer.plan import Plan, PlanError

PROVENANCE_FORMAT = "pruning-explorer-provenance"
PROVENANCE_VERSION = 1
#: Records a log keeps; the oldest go first. A record holds its plan's removed indices (a few KB on
#: ResNet-20), so a long class session stays within a few MB.
MAX_RECORDS = 1000
_NUMBERS = ("accuracy", "macs", "params", "macs_fraction")


def make_record(
    plan: Plan,
    number: int,
    *,
    source: str,
    weights: str,
    accuracy: float,
    macs: int,
    params: int,
    base_macs: int,
) -> dict[str, Any]:
    """One record (plain data) for an evaluated plan."""
    return {
        "plan_number": int(number),
        "source": str(source),
        "criteria": sorted({c.criterion for c in plan.choices.values() if c.pruned}),
        "weights": str(weights),
        "accuracy": float(accuracy),
        "macs": int(macs),
        "params": int(params),
        "macs_fraction": macs / base_macs if base_macs else 1.0,
        "removed": sum(len(c.pruned) for c in plan.choices.values()),
        "plan": plan.to_dict(),
    }


class ProvenanceLog:
    """The records of one session, at most one per (plan number, weights, source), in recording order; at
    most ``max_records`` (the oldest are dropped)."""

    def __init__(self, model: str | None, max_records: int = MAX_RECORDS):
        self.model = model
        self.max_records = int(max_records)
        self._records: dict[tuple[int, str, str], dict[str, Any]] = {}

    def add(self, record: Mapping[str, Any]) -> None:
        key = (int(record["plan_number"]), str(record["weights"]), str(record["source"]))
        self._records.pop(key, None)  # re-recording moves it to the end, with its new numbers
        self._records[key] = dict(record)
        while len(self._records) > self.max_records:
            self._records.pop(next(iter(self._records)))

    def records(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._records.values()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PROVENANCE_FORMAT,
            "version": PROVENANCE_VERSION,
            "model": self.model,
            "records": self.records(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def save(self, path: str | Path) -> None:
        """Write the log as JSON (atomically)."""
        write_atomically(Path(path), self.to_json().encode())

    def load(self, path: str | Path) -> list[dict[str, Any]]:
        """Add the records of a saved log (checked first: nothing is added if any is malformed)."""
        try:
            text = Path(path).read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise PlanError(
                f"cannot read the provenance file {path}: {error}",
                code="provenance.unreadable",
                values={"path": str(path), "detail": str(error)},
            ) from error
        records = parse_records(text, self.model)
        for record in records:
            self.add(record)
        return records


def parse_records(text: str, model: str | None = None) -> list[dict[str, Any]]:
    """The records of a provenance file, checked: format, numbers, and every record's plan.

    Raises:
        PlanError: not JSON, not a provenance file, another model's, or a malformed record.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(
            f"the provenance file is not valid JSON: {error}",
            code="provenance.not_json",
            values={"detail": str(error)},
        ) from error
    if not isinstance(data, Mapping) or data.get("format") != PROVENANCE_FORMAT:
        raise PlanError(
            f"not a plan provenance file (expected format {PROVENANCE_FORMAT!r})",
            code="provenance.not_history",
            values={},
        )
    if model is not None and data.get("model") not in (None, model):
        raise PlanError(
            f"the provenance file is for {data.get('model')!r}, not {model!r}",
            code="provenance.other_model",
            values={"found": str(data.get("model")), "model": str(model)},
        )
    records = data.get("records")
    if not isinstance(records, Sequence) or isinstance(records, str):
        raise PlanError(
            "the provenance file's 'records' must be a list", code="provenance.records_not_list", values={}
        )
    checked = []
    for i, record in enumerate(records):
        if not isinstance(record, Mapping):
            raise PlanError(
                f"provenance record {i} is not an object",
                code="provenance.record_not_object",
                values={"record": i},
            )
        for name in _NUMBERS:
            value = record.get(name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
                raise PlanError(
                    f"provenance record {i}: {name!r} must be a finite number, not {value!r}",
                    code="provenance.record_not_number",
                    values={"record": i, "field": name, "value": repr(value)},
                )
        for name in ("source", "weights"):
            if not isinstance(record.get(name), str):
                raise PlanError(
                    f"provenance record {i}: {name!r} must be a string",
                    code="provenance.record_not_text",
                    values={"record": i, "field": name},
                )
        if not isinstance(record.get("plan_number"), int):
            raise PlanError(
                f"provenance record {i}: 'plan_number' must be an integer",
                code="provenance.record_plan_number",
                values={"record": i},
            )
        Plan.from_dict(record.get("plan"))  # raises PlanError with the reason
        checked.append(dict(record))
    return checked


__all__ = ["MAX_RECORDS", "PROVENANCE_FORMAT", "ProvenanceLog", "make_record", "parse_records"]
