"""Widgets and bokeh figures, each linked to an :class:`~explorer.ui.state.ExplorerState`.

Every view subclasses ``ipywidgets.VBox`` or ``HBox``, keeps its children private, reads the state through
``link``/``dlink``/``observe`` and calls the state's methods; none of them computes anything.

The views are imported lazily: the app's first render ("Loading model…" and the error box) must not wait
for bokeh to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_WHERE = {
    "CompareView": "finetune",
    "ControlsView": "controls",
    "ErrorView": "error",
    "ExportView": "files",
    "FilterPlotsView": "plots",
    "FinetuneView": "finetune",
    "GalleryView": "gallery",
    "JobStatus": "controls",
    "JobView": "controls",
    "LessonView": "lesson",
    "MetricsView": "metrics",
    "OverviewView": "plots",
    "PlanView": "sensitivity",
    "SensitivityView": "sensitivity",
    "SummaryView": "summary",
    "TrajectoryView": "plan_map",
    "PlanMapView": "plan_map",
    "WhoPaysView": "analyses",
    "DynamicView": "analyses",
    "TrainingModesView": "analyses",
    "AnalysesView": "analyses",
    "UploadView": "files",
    "ModelView": "files",
    "WeightsView": "weights",
    "WhyView": "why",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
