"""Pruning Explorer: see and feel what CNN filter pruning does.

The public API, UI-free::

    import explorer
    session = explorer.PruningSession("digits_cnn")
    session.set_ratio(session.groups[0].name, 0.5, criterion="fpgm")
    print(session.evaluate())

In Jupyter, ``explorer.show()`` (or ``%load_ext explorer`` then ``%explore``) opens the app.
"""

from __future__ import annotations

from explorer.criteria import list_criteria
from explorer.data import load_data
from explorer.export import load_pruned, save_pruned
from explorer.models import load_model
from explorer.onnx_export import export_onnx
from explorer.session import Metrics, PruningSession
from explorer.zoo import create_model, get_model_spec, list_models

__version__ = "0.1.0"

__all__ = [
    "Metrics",
    "PruningSession",
    "build_app",
    "create_model",
    "export_onnx",
    "get_model_spec",
    "list_criteria",
    "list_models",
    "load_data",
    "load_model",
    "load_pruned",
    "save_pruned",
    "show",
]


def build_app(*args, **kwargs):
    """Build the explorer widget without displaying it (see ``explorer.app.build_app``)."""
    from explorer.app import build_app as _build_app

    return _build_app(*args, **kwargs)


def show(*args, **kwargs):
    """Display the explorer in the notebook (see ``explorer.app.show``)."""
    from explorer.app import show as _show

    return _show(*args, **kwargs)


def load_ipython_extension(ipython) -> None:
    """``%load_ext explorer`` registers the ``%explore`` magic."""
    from explorer.app import register_magic

    register_magic(ipython)
