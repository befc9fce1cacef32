"""English: the honest-science texts: the greedy oracle, fair schedules, the global slider's cap (the
Korean catalogue has the same keys)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ------------------------------------------------------------------------- greedy oracle (honest science)
    "why.greedy": (
        "Removed alone, this filter raises the loss by {alone}: that is the single-filter oracle's score. "
        "Removed at step {step} of {searched}, after the {before} filters that go before it, it raises the "
        "loss by {at_removal} in total."
    ),
    "why.greedy.redundant": (
        "The single-filter oracle judges each filter with all the others still there. When two filters do "
        "the same job, each looks harmless alone, so at high ratios both go and the loss jumps; that is why "
        "it can lose to random. This search measures again after every removal."
    ),
    "why.greedy.unsearched": (
        "Removed alone, this filter raises the loss by {alone}. It comes after the {searched} filters the "
        "search ordered one at a time; the rest are ordered by the loss measured at the last step."
    ),
    # ---------------------------------------------------------------------- fair schedules (honest science)
    "compare.iterative.fair": "iterative: {k} rounds, {steps} training steps in all",
    "compare.plot.title": "Accuracy along each schedule",
    "compare.plot.steps": "training steps done",
    "compare.plot.stage": "round",
    "compare.plot.one_shot": "one-shot",
    "compare.plot.iterative": "iterative",
    "compare.plot.pruned": "just after removing filters",
    "compare.plot.trained": "after training",
    "compare.plot.fair": (
        "Both schedules train for the same number of steps (the iterative rounds share them evenly, any "
        "remainder going to the last round); the final numbers are measured after the last training."
    ),
    # ------------------------------------------------------------------- global slider cap (honest science)
    "controls.cap": "At most, per layer",
    "controls.cap.hint": (
        "The largest share of any one layer's filters the global slider may remove (max_pruning_ratio)"
    ),
    "controls.global.explain": (
        "How “All layers” chooses: each layer's scores are divided by that layer's overall score size, then "
        "the lowest filters of the whole network go first. This puts layers on one scale but does not share "
        "the cut evenly: a layer with a few strong filters and many weak ones can lose most of its filters "
        "while others lose none. “At most, per layer” caps what any one layer can lose."
    ),
}
