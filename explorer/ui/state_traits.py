"""``ExplorerTraits``: the traits of :class:`~explorer.ui.state.ExplorerState`, declared apart from its logic.

Input traits are what the controls change; result traits are what the views draw. Views link to these and
observe them; only the state (and the parts it composes) sets the results.
"""

from __future__ import annotations

from traitlets import Any as AnyTrait
from traitlets import Dict, Float, HasTraits, Int, List, Tuple, Unicode


class ExplorerTraits(HasTraits):
    """The explorer state's traits (see :class:`~explorer.ui.state.ExplorerState` for what changes them)."""

    # ------------------------------------------------------------------------------------------ inputs
    lang = Unicode("en", help="the language of every text the app shows ('en' or 'ko', see explorer.ui.i18n)")
    criterion = Unicode("l1", help="the criterion that ranks channels")
    selected_group = Unicode("", help="the group inspected by the plots and the gallery")
    selected_filter = Int(-1, help="the channel explained by the 'why' panel (-1: the first to be pruned)")
    ratios = Dict(help="group → pruning ratio, as the sliders show it (moved through set_ratio)")
    global_ratio = Float(0.0, help="one ratio over all groups")
    compare = Tuple(Unicode(), Unicode(), default_value=("l1", "fpgm"), help="criteria of the scatter plot")

    # ----------------------------------------------------------------------------------------- results
    status = Unicode("loading", help="'loading', 'ready' or 'failed'")
    status_text = Unicode("", help="what the app is doing while it loads ('' when ready)")
    criteria = List(help="[{name, title, url, formula, description, needs_data}] of every criterion")
    groups = List(help="[{name, num_channels, layers, coupled}] of every prunable group")
    summary = Dict(help="session.views.describe() plus the baseline accuracy")
    baseline = Dict(help="metrics of the unpruned model")
    metrics = Dict(help="metrics of the current plan: running while 'final' is False")
    cost = Dict(help="MACs and params of the current plan and of the original")
    pruned = Dict(help="group → sorted list of pruned channels")
    scores = Dict(help="per-channel table of the selected group (see tables.scores_table)")
    layers = Dict(help="per-group overview: channels kept, total, MACs and their share")
    trajectory = List(
        help="[{macs, accuracy, params, key, label, current, kind, before}] of every evaluated plan; kind is "
        "'plan', or 'finetuned' for the plan right after fine-tuning (before: its accuracy before)"
    )
    why = Dict(help="the active criterion's formula filled in for the selected filter (session.explain)")
    gallery = AnyTrait(None, allow_none=True, help="a Gallery of the selected group (session.gallery)")
    latency = Dict(help="{pruned_ms, baseline_ms, speedup, generation} of the last measurement")
    error = Unicode("", help="the last error's message ('' when none)")
    session_version = Int(0, help="increases when a new session replaces the old one (upload, model)")


__all__ = ["ExplorerTraits"]
