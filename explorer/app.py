"""The explorer app: ``build_app`` (a widget, never displayed by itself), ``show`` and the ``%explore`` magic.

The first render is cheap: the app shows "Loading model…" at once and builds the ``PruningSession``, the
baseline and the views in a thread, then fills itself in. Below the explorer, a tab panel holds the longer
jobs: sensitivity scan and suggested plans, fine-tuning, comparisons and export, and a checkpoint upload.
Whatever goes wrong, the app shows the message in a red box inside itself (and logs the traceback): a Voilà
page never ends up empty.

    import explorer
    explorer.show()                      # digits_cnn, or $PRUNING_EXPLORER_MODEL
    app = explorer.build_app("resnet20_cifar10", num_samples=500)   # display(app) yourself
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w

from explorer.launch_options import MODEL_ENV, LaunchOptions
from explorer.ui.views.lazy import LazyTab, ObserverLog
from explorer.ui.worker import close_at_exit

log = logging.getLogger(__name__)

#: At exit, how long to wait for a session still being built (a thread inside torch must not outlive Python).
EXIT_WAIT_SECONDS = 120.0

_LOADING = (
    "<div style='padding:12px;color:#5f6368;font-size:110%'>"
    "<span style='display:inline-block;animation:spin 1s linear infinite'>⏳</span> {}</div>"
)


def _observers(state: Any, *lessons: Any) -> list[tuple[Any, str, str, Any]]:
    """Every (object, trait, type, handler) observing ``state`` or the parts of it that views observe
    (``state.jobs``, ``state.loader``, ``state.activity``, ``state.network``, ``state.analyses`` and its
    ``plans``); traitlets keeps them in ``_trait_notifiers``."""
    parts = (state.jobs, state.loader, state.activity, state.network, state.analyses, state.analyses.plans)
    return [
        (owner, name, kind, handler)
        for owner in (state, *parts, *lessons)
        for name, kinds in list(owner._trait_notifiers.items())
        for kind, handlers in list(kinds.items())
        for handler in list(handlers)
    ]


class ExplorerApp(w.VBox):
    """The whole explorer as one widget; built by :func:`build_app`.

    Attributes:
        state: the ``ExplorerState`` every view is linked to.
        views: view name → view, once the session is ready (``summary``, ``metrics``, ``controls``, ``job``,
            ``filters``, ``why``, ``overview``, ``trajectory`` (the map of plans), ``gallery``,
            ``analyses``; in the tabs below: ``sensitivity``, ``plans``, ``finetune``, ``compare``,
            ``modes``, ``export``, ``upload``, ``model``). A ``LazyViews`` mapping: the views in the tabs are
            built when their tab is first opened, or on first access here (``app.views["finetune"]``).
        panels: the ``LazyTab`` holding the last eight (``None`` until the session is ready).

    When an uploaded checkpoint replaces the session (``state.session_version`` changes), or the language
    changes (``state.lang``), the views are built again and the old ones stop observing the state.
    """

    def __init__(self, state: Any, explore: bool = False, **kwargs: Any):
        from explorer.ui.lesson import Lesson
        from explorer.ui.views.error import ErrorView
        from explorer.ui.views.glossary import GlossaryView
        from explorer.ui.views.header import HeaderView
        from explorer.ui.views.layout import page_style

        self.state = state
        self.views: Mapping[str, w.Widget] = {}
        self.panels: LazyTab | None = None
        self._view_log = ObserverLog(lambda: _observers(state, self.lesson))
        self._loader: threading.Thread | None = None
        self._exiting = False
        if not state.status_text and state.status == "loading":
            state.status_text = state.t("app.loading")
        self._status = w.HTML(_LOADING.format(state.status_text))
        self._error = ErrorView(state)
        self.header = HeaderView(state)
        self.glossary = GlossaryView(state)
        self.header.add_tool(self.glossary.button)
        self.lesson = Lesson(state, mode="explore" if explore else "lesson")
        self._mode = w.Button(icon="compass", layout=w.Layout(width="auto"))
        self._mode.on_click(
            lambda _b: self.lesson.explore() if self.lesson.mode == "lesson" else self.lesson.resume()
        )
        self.header.add_tool(self._mode)
        self._parts: dict[str, list[w.Widget]] = {}
        self._body = w.VBox()
        self._ready = threading.Event()
        self.build_seconds: float | None = None
        parts = [page_style(), self.header, self.glossary, self._status, self._error, self._body]
        super().__init__(parts, **kwargs)
        self.add_class("pruning-explorer")
        state.observe(self._status_text, names="status_text")
        state.observe(self._session_replaced, names="session_version")
        state.observe(self._session_replaced, names="lang")
        state.observe(self._name_mode, names="lang")
        self.lesson.observe(self._unlock, names=["reached", "mode", "step"])
        self._name_mode()

    @property
    def error_view(self) -> w.Widget:
        """The red error box (hidden while there is no error)."""
        return self._error

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def wait_ready(self, timeout: float = 120.0) -> bool:
        """Block until the session and the views are built (or failed). Returns False on timeout."""
        return self._ready.wait(timeout)

    def start(self, builder: Callable[[], Any], background: bool = True) -> None:
        """Build the session with ``builder`` (in a thread when ``background``) and fill the app in."""
        if background:
            self._loader = threading.Thread(
                target=self._load, args=(builder,), name="pruning-explorer-load", daemon=True
            )
            close_at_exit(self._finish_loading)
            self._loader.start()
        else:
            self._load(builder)

    def _finish_loading(self) -> None:
        """At interpreter exit: let the loading thread finish (it may be in torch), then stop the state."""
        self._exiting = True
        if self._loader is not None and self._loader is not threading.current_thread():
            self._loader.join(EXIT_WAIT_SECONDS)
        self.state.close()

    def _status_text(self, change: dict) -> None:
        self._status.value = _LOADING.format(change["new"]) if change["new"] else ""

    def _load(self, builder: Callable[[], Any]) -> None:
        start = time.perf_counter()
        try:
            session = builder()
            if self._exiting:  # the interpreter is exiting: nobody will see the app
                return
            self.state.status_text = self.state.t("app.scoring")
            self.state.attach(session)
            self._build_views()
        except Exception as error:  # shown in the app: a failing cell would leave Voilà's page empty
            self.state.fail(error)
            self._explain_missing()
            self._status.value = ""
        finally:
            self.build_seconds = time.perf_counter() - start
            self._ready.set()

    def _explain_missing(self) -> None:
        """When the model or data the app was started with is not on this machine, say so in plain words,
        with the command that fetches it, instead of the loader's message."""
        from explorer.ui.loader import unavailable_text
        from explorer.ui.model_choices import find_choice

        current = self.state.loader.current
        choice = find_choice(*current) if current is not None else None
        if choice is not None and not choice.data_ready:
            self.state.error = unavailable_text(choice, self.state.t)

    def _session_replaced(self, _change: dict) -> None:
        if self._ready.is_set():
            self._build_views()

    def _name_mode(self, _change: Any = None) -> None:
        """The header's button leads to the other mode: the free explorer, or back to the lesson."""
        t, lesson = self.state.t, self.lesson.mode == "lesson"
        self._mode.description = t("lesson.to_explore") if lesson else t("lesson.to_lesson")
        self._mode.tooltip = t("lesson.to_explore.hint") if lesson else t("lesson.to_lesson.hint")

    def _unlock(self, change: Any = None) -> None:
        """Show what the lesson has unlocked (everything in explore mode), and the tab its step is about."""
        from explorer.ui.lesson import TABS
        from explorer.ui.views.layout import show_unlocked

        self._name_mode()
        show_unlocked(self._parts, self.lesson.unlocked)
        if self.panels is not None and "panels" in self.lesson.unlocked:
            self.panels.fill()  # the selected tab's views, built once the tabs are shown
        tab = TABS.get(self.lesson.name)
        stepped = change is None or change.get("name") == "step"
        if self.panels is not None and tab is not None and self.lesson.mode == "lesson" and stepped:
            self.panels.selected_index = tab

    def _build_views(self) -> None:
        """Build the views: those on the first screen now, the ones in the tabs and the closed Analyses
        area's content when first opened (or asked for: ``app.views[name]``), see :mod:`~.views.lazy`."""
        from explorer.ui import views as v
        from explorer.ui.views.layout import arrange, build_panels
        from explorer.ui.views.lazy import LazyViews

        state, log = self.state, self._view_log
        log.release()  # the previous session's views, if any, stop observing the state

        def later(make: Callable[[Any], w.Widget]) -> Callable[[], w.Widget]:
            return lambda: log.build(lambda: make(state))

        eager = {
            "summary": v.SummaryView,
            "weights": v.WeightsView,
            "metrics": v.MetricsView,
            "controls": v.ControlsView,
            "job": v.JobView,
            "filters": v.FilterPlotsView,
            "why": v.WhyView,
            "gallery": v.GalleryView,
            "overview": v.OverviewView,
            "trajectory": v.TrajectoryView,
            "analyses": lambda s: v.AnalysesView(s, build=log.build),
            "lesson": lambda s: v.LessonView(s, self.lesson),
        }
        lazy = {
            "sensitivity": v.SensitivityView,
            "plans": v.PlanView,
            "finetune": v.FinetuneView,
            "compare": v.CompareView,
            "modes": v.TrainingModesView,
            "export": v.ExportView,
            "upload": v.UploadView,
            "model": v.ModelView,
        }
        built = log.build(lambda: {name: make(state) for name, make in eager.items()})
        self.views = LazyViews(built, {name: later(make) for name, make in lazy.items()})
        selected = self.panels.selected_index if self.panels is not None else 0  # the upload tab, after one
        self.panels = build_panels(self.views, state.t, selected or 0)
        children, self._parts = arrange(self.views, self.panels, state.t)
        self._body.children = [self.views["lesson"], *children]
        self._unlock()
        self._status.value = ""


def _error_widget(error: BaseException, lang: str = "en") -> w.Widget:
    """A red box with the message, for when not even the app could be built."""
    from explorer.ui.format import describe_error, escape
    from explorer.ui.i18n import translate
    from explorer.ui.views.error import BOX_STYLE

    title = escape(translate(lang, "error.title"))
    box = w.HTML(f'<div style="{BOX_STYLE}"><b>{title}</b> {escape(describe_error(error))}</div>')
    return w.VBox([w.HTML(f"<h2 style='margin:4px 0'>{escape(translate(lang, 'app.title'))}</h2>"), box])


def build_app(
    model: Any = None,
    data: Any = None,
    *,
    session: Any = None,
    background: bool | None = None,
    debounce: float | None = None,
    lang: str | None = None,
    explore: bool | None = None,
    **options: Any,
) -> w.Widget:
    """Build the explorer widget; it is not displayed (see :func:`show`).

    Args:
        model: a zoo name or an ``nn.Module``; default: the options of ``pruning-explorer app``
            (``explorer.launch_options``: model, data, samples, precision, memory limit), else
            ``"digits_cnn"``.
        data: anything ``PruningSession`` accepts as data (default: the zoo model's dataset).
        session: a ready ``PruningSession`` to explore instead of building one.
        background: build the session in a thread and show "Loading model…" meanwhile; ``False`` builds
            it before returning. Default: in a thread, except in a kernel Voilà preheats (``VOILA_PREHEAT``):
            there the page is rendered before anyone visits, and a build still running when the visitor's
            page fetches the widgets loses some of them ("widget model not found", seen in Chromium).
        debounce: seconds of slider quiet before a change is applied (default 0.06).
        lang: the page's language, ``"en"`` or ``"ko"`` (default: ``pruning-explorer app --lang``, i.e.
            ``$PRUNING_EXPLORER_LANG``, else English); the page has a switch too.
        explore: open the free explorer (``True``) rather than the guided lesson (default:
            ``pruning-explorer app --explore``, i.e. ``$PRUNING_EXPLORER_EXPLORE``, else the lesson); the
            other one is a click away.
        **options: passed to ``PruningSession`` (``num_samples``, ``checkpoint``, ``criterion``, ``seed``,
            ``device`` ("cpu", "cuda", "cuda:1"; default ``pruning-explorer app --device``, else the best
            present)...).

    Returns:
        An :class:`ExplorerApp`, or, if even the app cannot be built, a widget with the error message.
    """
    launched = LaunchOptions.from_env()
    lang = lang or launched.lang
    explore = launched.explore if explore is None else bool(explore)
    try:
        from explorer.ui.i18n import check_lang
        from explorer.ui.state import DEBOUNCE_SECONDS, ExplorerState

        check_lang(lang)
        factory = None
        if session is None:
            if model is None:  # served by `pruning-explorer app`: its options come through the environment
                launch = LaunchOptions.from_env()
                model, given = launch.model, launch.session_options()
                data = data if data is not None else given.pop("data")
                options = {**{k: v for k, v in given.items() if k != "data" and v is not None}, **options}

            def builder() -> Any:
                from explorer.session import PruningSession

                return PruningSession(model, data, **options)

            def factory(checkpoint: Any) -> Any:
                """The same session on an uploaded checkpoint."""
                from explorer.session import PruningSession

                return PruningSession(model, data, **{**options, "checkpoint": checkpoint})

        else:

            def builder() -> Any:
                return session

        criterion = options.get("criterion") or getattr(session, "criterion", None) or "l1"
        state = ExplorerState(
            debounce=DEBOUNCE_SECONDS if debounce is None else debounce, criterion=criterion, lang=lang
        )
        state.loader.session_factory = factory  # None: rebuilt from the given session (see SessionLoader)
        if isinstance(model, str) and (data is None or isinstance(data, str)):
            state.loader.current = (model, data)
        app = ExplorerApp(state, explore=explore)
        if background is None:
            background = os.environ.get("VOILA_PREHEAT", "False") != "True"
        app.start(builder, background=background)
        return app
    except Exception as error:
        log.error("pruning explorer: the app could not be built", exc_info=error)
        return _error_widget(error, lang if lang in ("en", "ko") else "en")


def load_bokehjs() -> None:
    """Put BokehJS on the page, inline (no CDN: the machines may be offline); jupyter_bokeh needs it.

    Only the core and WebGL bundles are inlined: the plots use no bokeh widgets, tables or MathJax, and
    leaving them out keeps the page 5 MB lighter than ``bokeh.resources.INLINE``.
    """
    try:
        from bokeh.io import output_notebook
        from bokeh.resources import Resources

        output_notebook(
            resources=Resources(mode="inline", components=["bokeh", "bokeh-gl"]), hide_banner=True
        )
    except Exception as error:  # plots will be blank, the rest of the app still works
        log.warning("pruning explorer: could not load BokehJS: %s", error)


_shown: list[w.Widget] = []


def current_app() -> w.Widget | None:
    """The app :func:`show` (or ``%explore``) displayed last in this kernel, to script or inspect it."""
    return _shown[-1] if _shown else None


def show(model: Any = None, data: Any = None, **options: Any) -> None:
    """Display the explorer in the notebook (JupyterLab or Voilà); arguments as for :func:`build_app`:
    ``show(lang="ko")`` in Korean, ``show(explore=True)`` the free explorer rather than the guided lesson."""
    from IPython.display import display

    load_bokehjs()
    app = build_app(model, data, **options)
    _shown[:] = [app]  # keep one: an app holds a model and its activation cache
    display(app)


def _parse_explore(line: str) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="%explore", add_help=False)
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--samples", type=int, default=None, dest="num_samples")
    parser.add_argument("--criterion", default=None)
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(shlex.split(line))
    options = {k: v for k, v in vars(args).items() if v is not None and k not in ("model", "data")}
    return {"model": args.model, "data": args.data, **options}


def register_magic(ipython: Any) -> None:
    """Register ``%explore [model] [--data D] [--samples N] [--criterion C] [--checkpoint F] [--device D]``
    (the device: cpu, cuda or cuda:1)."""

    def explore(line: str = "") -> None:
        """Open the Pruning Explorer: ``%explore resnet20_cifar10 --samples 500``."""
        try:
            kwargs = _parse_explore(line)
        except SystemExit:  # argparse's way of saying the line is wrong
            print(
                "usage: %explore [model] [--data DATA] [--samples N] [--criterion C] [--checkpoint FILE] "
                "[--device cpu|cuda|cuda:1]"
            )
            return
        show(explore=True, **kwargs)  # the magic opens the free explorer; explorer.show() the lesson

    ipython.register_magic_function(explore, magic_kind="line", magic_name="explore")


__all__ = [
    "MODEL_ENV",
    "ExplorerApp",
    "build_app",
    "current_app",
    "load_bokehjs",
    "register_magic",
    "show",
]
