"""The explorer's user interface: a widget-free state (``state``) and the views drawn from it (``views``).

Data flows one way: a control changes a trait of :class:`~explorer.ui.state.ExplorerState`, the state calls
the session off the kernel's thread, result traits change, and the views redraw. Views never compute.
"""

from __future__ import annotations

from explorer.ui.state import ExplorerState, Gallery, describe_error

__all__ = ["ExplorerState", "Gallery", "describe_error"]
