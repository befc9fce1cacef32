"""The tutorial notebooks run headless without an error, and are committed clean.

Each tutorial is executed with nbclient in a fresh ``python3`` kernel, in ``notebooks/`` (as a student would
run it), with ``PRUNING_EXPLORER_FAST=1`` so that its first cell picks small settings. The executed copy is
kept in ``test-artifacts/notebooks/`` to look at; the committed files stay without outputs. The kernel imports
the package from this checkout (``PYTHONPATH``), not whatever copy is installed.

Tutorials on real data (``NEEDS_SHARED_DATA``) read the ResNet-20 weights and CIFAR-10 images of
``../shared/data`` through the variables a user would set (``PRUNING_EXPLORER_CACHE``,
``PRUNING_EXPLORER_TUTORIAL_DATA``); they skip without that folder, and fail under ``CI=true``.
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
    "05_who_pays.ipynb",
]
#: Tutorials that run on the real pretrained ResNet-20 and CIFAR-10 test images of ``../shared/data``.
NEEDS_SHARED_DATA = {"05_who_pays.ipynb"}
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


def _shared_data_env(shared: Path, cache: Path) -> dict[str, str]:
    """The weights installed in a fresh cache, and the 100 real CIFAR-10 images named as the data source."""
    from explorer.zoo.pretrained import install_weights

    install_weights("resnet20_cifar", shared / "pretrained" / "resnet20-12fca82f.th", cache_dir=cache)
    csv = shared / "cifar10-first100" / "cifar10_test.csv"
    return {"PRUNING_EXPLORER_CACHE": str(cache), "PRUNING_EXPLORER_TUTORIAL_DATA": f"cifar10_csv:{csv}"}


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_runs_headless(name: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # One intra-op thread: on a shared 2-core machine, PyTorch's two OpenMP threads wait for each other at
    # every op and digits_cnn then trains and evaluates 10-40x slower (measured: 0.9 s vs 11-39 s for
    # compare_schedules with 40 steps). The notebooks' code is the same either way.
    env = dict(os.environ, PRUNING_EXPLORER_FAST="1", BOKEH_RESOURCES="inline", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    if name in NEEDS_SHARED_DATA:
        env.update(_shared_data_env(request.getfixturevalue("shared_data"), tmp_path / "weights"))
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
    if name == "05_who_pays.ipynb":  # it ran on the real images and reached its findings
        assert "ResNet-20 on 100 CIFAR-10 test images" in text
        assert "worst class:" in text


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


def test_who_pays_helpers() -> None:
    from explorer.ui import teaching

    def row(c: int, name: str, count: int, right_before: int, right_after: int) -> dict:
        before, after = right_before / count, right_after / count
        return {
            "class": c,
            "name": name,
            "count": count,
            "original_accuracy": before,
            "pruned_accuracy": after,
            "change": 100 * (after - before),
        }

    # 4 + 1 + 5 images: 9 of 10 right before, 5 of 10 after → −40 points over all images (the mean of the
    # per-class changes would be −31.7: the classes weigh by their number of images)
    rows = [row(0, "a", 4, 4, 1), row(1, "b", 1, 1, 1), row(2, "c", 5, 4, 3)]
    assert teaching.overall_change(rows) == pytest.approx(100 * (5 - 9) / 10)
    spread = teaching.class_spread(rows)
    assert (spread["worst"], spread["best"]) == ("a", "b")
    assert spread["worst_change"] == pytest.approx(-75.0)
    assert spread["ratio"] == pytest.approx(75 / 40)
    chart = teaching.class_change_chart(rows, title="t")
    ax = chart.figure.axes[0]
    assert [t.get_text().split("\n")[0] for t in ax.get_xticklabels()] == ["a", "c", "b"]  # most paid first
    assert ax.get_title() == "t"
    assert ax.get_ylabel() == "change of accuracy (points)"
    assert chart._repr_png_().startswith(b"\x89PNG")
    flips = [
        {
            "label_name": "cat",
            "original_name": "cat",
            "original_confidence": 0.97,
            "pruned_name": "dog",
            "pruned_confidence": 0.81,
        }
    ]
    gallery = teaching.flipped_gallery(flips, ["data:image/png;base64,AAAA"])
    assert str(gallery) == "true: cat\noriginal: cat (97%)\npruned: dog (81%)"
    assert gallery._repr_html_().count("<img ") == 1
    with pytest.raises(ValueError, match="captions"):
        teaching.Gallery(["x", "y"], ["one"])
