"""The tutorial notebooks run headless without an error, and are committed clean.

Each tutorial is executed with nbclient in a fresh ``python3`` kernel, in ``notebooks/`` (as a student would
run it), with ``PRUNING_EXPLORER_FAST=1`` so that its first cell picks small settings. The executed copy is
kept in ``test-artifacts/notebooks/`` to look at; the committed files stay without outputs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "test-artifacts" / "notebooks"
TUTORIALS = [
    "01_what_is_pruning.ipynb",
    "02_criteria_vs_oracle.ipynb",
    "03_sensitivity_and_li_plan.ipynb",
    "04_finetune_export_speedup.ipynb",
]
#: Seconds one tutorial may take in fast mode (each takes 10-25 s on a busy 2-core machine).
TIMEOUT = 300

nbformat = pytest.importorskip("nbformat")


def _outputs(nb) -> list[dict]:
    return [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]


def _text(nb) -> str:
    parts = []
    for out in _outputs(nb):
        parts.append(out.get("text", ""))
        parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_is_committed_clean(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a tutorial without code"
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs must be stripped"
    assert nb.cells[0].cell_type == "markdown"
    assert nb.cells[0].source.startswith("# "), "a tutorial starts with its title"
    assert 'os.environ.get("PRUNING_EXPLORER_FAST") == "1"' in code[0].source, "first code cell: settings"


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs_headless(name: str) -> None:
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # One intra-op thread: on a shared 2-core machine, PyTorch's two OpenMP threads wait for each other at
    # every op and digits_cnn then trains and evaluates 10-40x slower (measured: 0.9 s vs 11-39 s for
    # compare_schedules with 40 steps). The notebooks' code is the same either way.
    env = dict(os.environ, PRUNING_EXPLORER_FAST="1", BOKEH_RESOURCES="inline", OMP_NUM_THREADS="1")
    client = nbclient.NotebookClient(
        nb,
        timeout=TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    try:
        # env: the kernel's environment. Raises CellExecutionError, with the cell and traceback, on error.
        client.execute(env=env)
    finally:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(ARTIFACTS / name))
    outputs = _outputs(nb)
    assert not [o for o in outputs if o.output_type == "error"]
    text = _text(nb)
    assert "Traceback" not in text
    # the charts and tables render as pictures and HTML, not as "<Figure ...>" placeholders
    kinds = {k for o in outputs for k in o.get("data", {})}
    assert "image/png" in kinds
    assert "<Figure size" not in text


def test_teaching_helpers_render() -> None:
    from explorer.ui import teaching

    table = teaching.Table(
        [{"layer": "features.0", "rho": 0.781, "note": None}],
        {"layer": "layer", "rho": "ρ", "note": "note"},
        formats={"rho": "{:+.2f}"},
    )
    assert str(table).splitlines()[1].split() == ["features.0", "+0.78", "—"]
    assert "<td>+0.78</td>" in table._repr_html_()
    png_magic = b"\x89PNG"
    assert teaching.bar_chart({"a": 1.0, "b": 2.0}, title="t")._repr_png_().startswith(png_magic)
    scatter = teaching.scatter_against({"l1": [1, 2, 3], "oracle": [1, 3, 2]}, "oracle")
    assert "ρ = +0.50" in scatter.figure.axes[0].get_title()
    line = teaching.line_chart({"x": [(0, 0.5), (1, 0.75)]}, percent=True, ylabel="accuracy")
    assert list(line.figure.axes[0].lines[0].get_ydata()) == [50.0, 75.0]
