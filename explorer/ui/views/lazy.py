"""Views built the first time they are needed: the tabs below the explorer and the closed Analyses area.

Constructing an ipywidget opens its comm, and the browser then creates and renders its model: on digits_cnn
the app had 697 widget models, and the front end spent about 2.8 s on them before the first slider showed.
The views nobody sees at first (the unselected tabs, the closed Analyses area) are therefore not built at
start: their page holds an empty box, and the view is built, and put in that box, when its page is first
selected, or when a script asks for it (``app.views["finetune"]``). Each view reads the current state in its
``__init__``, so a view built late shows what was done before (a scan, a fine-tuning run).

``ObserverLog`` remembers which observers each build added to the state, so that the app can remove them
when the session or the language changes and the views are built again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import ipywidgets as w

T = TypeVar("T")
#: (object, trait name, notification type, handler): one observer.
Observer = tuple[Any, str, str, Any]


class ObserverLog:
    """The observers added by builds (the views' ``observe`` calls), to remove them all at once later.

    Args:
        snapshot: every observer now registered on the objects the views observe.
    """

    def __init__(self, snapshot: Callable[[], list[Observer]]):
        self._snapshot = snapshot
        self._added: list[Observer] = []

    def build(self, make: Callable[[], T]) -> T:
        """``make()``, remembering the observers it added."""
        known = {id(handler) for *_, handler in self._snapshot()}
        try:
            return make()
        finally:
            self._added += [o for o in self._snapshot() if id(o[3]) not in known]

    def release(self) -> None:
        """Remove every observer remembered so far."""
        for owner, name, kind, handler in self._added:
            owner.unobserve(handler, names=name, type=kind)
        self._added = []


class LazyViews(Mapping[str, Any]):
    """View name → view; the views given as factories are built on first access.

    Args:
        built: views already built, in display order.
        factories: name → a function that builds the view, for the others.
    """

    def __init__(self, built: dict[str, Any], factories: dict[str, Callable[[], Any]]):
        self._built = dict(built)
        self._factories = dict(factories)
        self._names = [*built, *(name for name in factories if name not in built)]
        self._lock = threading.RLock()
        self._hooks: list[Callable[[str, Any], None]] = []

    def __getitem__(self, name: str) -> Any:
        with self._lock:
            if name not in self._built:
                view = self._built[name] = self._factories[name]()  # KeyError for an unknown name
                for hook in self._hooks:
                    hook(name, view)
            return self._built[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    @property
    def built(self) -> frozenset[str]:
        """The names of the views built so far."""
        return frozenset(self._built)

    def peek(self, name: str) -> Any:
        """The view if it is built, else ``None`` (builds nothing)."""
        return self._built.get(name)

    def on_build(self, hook: Callable[[str, Any], None]) -> None:
        """Call ``hook(name, view)`` after each view is built."""
        self._hooks.append(hook)


class LazyTab(w.Tab):
    """A ``Tab`` whose pages are filled with their views when first selected (and shown: see ``fill``).

    Args:
        views: the app's views (a ``LazyViews``, or any mapping).
        pages: for each page, the names of its views, top to bottom.
    """

    def __init__(self, views: Mapping[str, Any], pages: tuple[tuple[str, ...], ...], **kwargs: Any):
        self._views, self._names = views, pages
        super().__init__([w.VBox() for _ in pages], **kwargs)
        self.observe(lambda change: self.fill(change["new"]), names="selected_index")
        if isinstance(views, LazyViews):
            views.on_build(self._attach)

    def fill(self, index: int | None = None) -> None:
        """Build the views of page ``index`` (default: the selected one) and put them on it."""
        index = self.selected_index if index is None else index
        if index is not None:
            for name in self._names[index]:
                self._views[name]
            self._attach()

    def _attach(self, name: str | None = None, _view: Any = None) -> None:
        """Put the views built so far on their pages, in order (a script may build one before its page)."""
        for page, names in zip(self.children, self._names, strict=True):
            if name is None or name in names:
                peek = getattr(self._views, "peek", self._views.get)
                children = tuple(v for v in (peek(n) for n in names) if v is not None)
                if children != page.children:
                    page.children = children


__all__ = ["LazyTab", "LazyViews", "ObserverLog"]
