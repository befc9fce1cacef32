"""Widgets and bokeh figures, each linked to an :class:`~explorer.ui.state.ExplorerState`.

Every view subclasses ``ipywidgets.VBox`` or ``HBox``, keeps its children private, reads the state through
``link``/``dlink``/``observe`` and calls the state's methods; none of them computes anything.
"""

from __future__ import annotations

from explorer.ui.views.controls import ControlsView, JobView
from explorer.ui.views.error import ErrorView
from explorer.ui.views.metrics import MetricsView
from explorer.ui.views.plots import FilterPlotsView, GalleryView, OverviewView, TrajectoryView
from explorer.ui.views.summary import SummaryView
from explorer.ui.views.why import WhyView

__all__ = [
    "ControlsView",
    "ErrorView",
    "FilterPlotsView",
    "GalleryView",
    "JobView",
    "MetricsView",
    "OverviewView",
    "SummaryView",
    "TrajectoryView",
    "WhyView",
]
