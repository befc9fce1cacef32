"""English: the guided lesson (six steps, each with a question checked live)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    "lesson.step": "Step {number} of {total}",
    "lesson.back": "Back",
    "lesson.next": "Next",
    "lesson.ask": "Your turn:",
    "lesson.waiting": "Not answered yet: the page checks as you go.",
    "lesson.tutorial": "To go further: {notebook}",
    "lesson.to_explore": "Free explorer",
    "lesson.to_explore.hint": "every part of the explorer at once; the lesson keeps your place",
    "lesson.to_lesson": "Guided lesson",
    "lesson.to_lesson.hint": "back to the lesson, where you left it",
    # 1
    "lesson.filter.title": "What a filter is, and what removing one costs",
    "lesson.filter.text": (
        "A convolution layer is a set of small <b>filters</b>. Each one slides over the image and makes "
        "one feature map: the gallery below shows every filter of the selected layer and what it picks up "
        "in one image. Removing a filter removes its feature map and the work of computing it: fewer "
        "<b>MACs</b> (multiply-accumulates) and fewer <b>parameters</b>. The price may be some "
        "<b>accuracy</b>."
    ),
    "lesson.filter.task": "Click one bar of the filter plot to remove that filter, and watch the cards.",
    "lesson.filter.done": (
        "You removed {removed} filter(s): accuracy {change}, MACs now {macs} of the original."
    ),
    # 2
    "lesson.slider.title": "One layer's slider: MACs against accuracy",
    "lesson.slider.text": (
        "A slider removes a share of a layer's filters at once, the lowest scores first. Layers differ: "
        "some hold most of the MACs, some hardly matter for accuracy. The plot “Every plan you tried” "
        "keeps a point for each plan: top-left is best."
    ),
    "lesson.slider.task": (
        "Find a layer you can cut by half (50 % or more) and lose less than 10 points. Try each layer: do "
        "they all behave alike?"
    ),
    "lesson.slider.done": (
        "{layer} at half or more: accuracy {change}, MACs {macs} of the original. Did the other layers "
        "hold up as well?"
    ),
    # 3
    "lesson.criteria.title": "Which filters go first? Three criteria",
    "lesson.criteria.text": (
        "A <b>criterion</b> scores every filter, and the lowest go first. <b>Filter size (L1)</b> trusts "
        "small weights to matter little. <b>Similarity to others (FPGM)</b> removes the filters the others "
        "can best replace. <b>Gradient × activation (Taylor)</b> runs real images and estimates how much "
        "the loss would rise without each filter. “Why this filter?” fills in the formula with one "
        "filter's numbers."
    ),
    "lesson.criteria.task": "Switch the criterion to FPGM or Taylor, then click a bar and read why.",
    "lesson.criteria.done": "{criterion}: filter {channel} ranks {rank}. Where did Filter size (L1) put it?",
    # 4
    "lesson.sensitivity.title": "Sensitivity: which layers can take it?",
    "lesson.sensitivity.text": (
        "Li et al. (2017) pruned <b>one layer at a time</b>, 10 %, 20 % … 90 % of its filters, and "
        "measured the accuracy each time. A flat curve marks a robust layer, a steep one a sensitive "
        "layer. Their plan then prunes each layer as far as its own curve allows."
    ),
    "lesson.sensitivity.task": (
        "In “Sensitivity & plans” below, run the sensitivity scan, then apply Li et al.'s plan."
    ),
    "lesson.sensitivity.done": "Li et al.'s plan: accuracy {change}, MACs {macs} of the original.",
    # 5
    "lesson.finetune.title": "Winning accuracy back: reconstruct or fine-tune",
    "lesson.finetune.text": (
        "After pruning, the network can win back much of the lost accuracy in two ways. "
        "<b>Reconstruction</b> needs no training: each layer that read the removed filters refits its "
        "weights, by least squares on a few images, so that from the kept channels its output matches the "
        "original layer's. "
        "<b>Fine-tuning</b> retrains the whole network for a few hundred steps: every remaining filter can "
        "change, so it usually goes further, at the price of the training. Both keep the plan, so the MACs "
        "stay the same. The new weights belong to this plan: the page names them, and Undo walks back "
        "through them too."
    ),
    "lesson.finetune.task": (
        "Prune the second layer by half, press Fine-tune in “Fine-tune & export” below, then Reconstruct, "
        "and compare the three rows of the table."
    ),
    "lesson.finetune.done": (
        "The same plan: {pruned} pruned only, {reconstructed} reconstructed, {finetuned} fine-tuned."
    ),
    # 6
    "lesson.export.title": "Export, and the real speed-up",
    "lesson.export.text": (
        "So far the removed filters were only switched off. <b>Exporting</b> removes them for real: the "
        "network becomes physically smaller and computes exactly what this page showed. Whether it runs "
        "faster depends on the hardware and on how much you removed."
    ),
    "lesson.export.task": "Press “Measure latency” beside the cards: how much faster is it here?",
    "lesson.export.done": "The exported network runs ×{speedup} as fast as the original on this CPU.",
    # ---- step 5's comparison: prune, prune + reconstruct, prune + fine-tune (issue #16)
    "lesson.recovery.caption": "The plan you pruned, under three weights (the same MACs for all three):",
    "lesson.recovery.no_plan": "Nothing is pruned yet: the table will compare one plan under three weights.",
    "lesson.recovery.weights": "Weights",
    "lesson.recovery.accuracy": "Accuracy",
    "lesson.recovery.change": "Against the original",
    "lesson.recovery.macs": "MACs (of the original)",
    "lesson.recovery.pruned": "Pruned only (original weights)",
    "lesson.recovery.reconstructed": "Reconstructed (no training)",
    "lesson.recovery.finetuned": "Fine-tuned ({steps} steps)",
    "lesson.recovery.finetuned_other": "Fine-tuned ({steps} steps), starting from weights already changed",
    "lesson.recovery.not_yet": "not yet",
}
