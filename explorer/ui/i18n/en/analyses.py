"""English texts of the analyses: the map of plans, who pays, reconstruction, training modes and dynamic
channels (issue #16's app side)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ---- the map of plans
    "map.help": (
        "Click a point to go back to that plan, with the weights it ran on. The black steps join the plans "
        "no other plan beats (the Pareto front: nothing more accurate for as few MACs). The lines are "
        "references computed once per criterion: the same ratio for every layer, one global threshold, "
        "random filters, and Li et al.'s plan once a sensitivity scan exists. Click a legend entry to hide "
        "it."
    ),
    "map.order": "order tried",
    "map.front": "Pareto front",
    "map.recovery": "before → after retraining",
    "map.ref.uniform": "same ratio per layer",
    "map.ref.global": "global threshold",
    "map.ref.random": "random filters",
    "map.ref.li": "Li et al. (from the scan)",
    "map.after_reconstruction": ", after reconstruction",
    "map.after_reconstruction_status": "after reconstruction",
    "map.loaded": "from a saved history",
    "map.from_file": " (from a file)",
    "map.source_tip": "came from",
    "map.criteria_tip": "criterion",
    "map.weights_tip": "weights",
    "map.setting_tip": "setting",
    "map.number_tip": "plan number",
    "map.epsilon": "drop ≤ {points} pts per layer",
    "map.clicked": "The plan you clicked",
    "map.current": "The current plan",
    "map.reapplied": (
        "The history no longer holds this step, so its plan was applied again on the live weights."
    ),
    "map.source.original": "the original network",
    "map.source.slider": "the slider of {detail}",
    "map.source.sliders": "the sliders of {detail}",
    "map.source.global": "the global slider",
    "map.source.filter": "a filter clicked in {detail}",
    "map.source.suggestion": "a suggestion: {detail}",
    "map.source.undo": "undo",
    "map.source.redo": "redo",
    "map.source.reset": "back to the original",
    "map.source.criterion": "a change of criterion",
    "map.source.finetune": "fine-tuning",
    "map.source.reconstruct": "reconstruction",
    "map.source.map": "a click on the map",
    "map.source.precision": "a change of precision",
    "map.source.other": "another action",
    "map.suggestion.li": "Li et al.",
    "map.suggestion.target": "MACs target",
    "map.suggestion.global": "global ratio",
    "map.file": "History file",
    "map.file.hint": "a JSON file on the server, relative to the folder the app runs in",
    "map.save": "Save history",
    "map.save.hint": "write every plan tried, with its numbers and where it came from, as JSON",
    "map.load": "Load history",
    "map.load.hint": "add the plans of a saved history to the map (click one to apply it)",
    "map.saved": "Saved {count} plan(s) to {path}.",
    "map.loaded_file": "Loaded {count} plan(s) from {path}; {added} new on the map.",
    "map.no_file": "Give a file name for the history of plans.",
    # ---- who pays
    "analyses.title": "Analyses: who pays for the pruning, and dynamic pruning",
    "whopays.title": "Change in accuracy per class against the original network",
    "whopays.x": "class",
    "whopays.y": "change (points)",
    "whopays.help": (
        "The average accuracy hides who pays: pruning often costs a few classes, and a few unusual images, "
        "far more than the rest (Hooker et al. 2019, <a href='https://arxiv.org/abs/1911.05248' "
        "target='_blank'>What Do Compressed Deep Neural Networks Forget?</a>). This follows the sliders "
        "while the area is open, once each plan's exact accuracy is known."
    ),
    "whopays.waiting": "Computing who pays for the current plan…",
    "whopays.class_tip": "class",
    "whopays.original_tip": "original network",
    "whopays.pruned_tip": "this plan",
    "whopays.change_tip": "change (points)",
    "whopays.count_tip": "validation images",
    "whopays.lost_bar": "class lost accuracy",
    "whopays.gained_bar": "class gained or kept",
    "whopays.summary": "{lost} image(s) the original got right are now wrong; {gained} are now right.",
    "whopays.worst": "The class that pays most: {name} ({change}).",
    "whopays.lost": "Lost: right before, wrong now ({shown} of {count})",
    "whopays.gained": "Gained: wrong before, right now ({shown} of {count})",
    "whopays.none": "None.",
    "whopays.label": "true class: {name}",
    "whopays.before": "original: {name} ({confidence})",
    "whopays.after": "pruned: {name} ({confidence})",
    # ---- dynamic channels
    "dynamic.title": "Dynamic pruning: each image keeps its own channels",
    "dynamic.help": (
        "Here each image keeps, in every layer, only the channels it activates most, so different images use "
        "different filters. This needs no training, so it is an upper bound of what a learned gate (Gao et "
        "al. 2019, Feature Boosting and Suppression) could do, not a speed-up: it only pays on hardware or "
        "kernels that skip different channels for each input, because ordinary dense kernels still compute "
        "every channel and then throw the rest away."
    ),
    "dynamic.ratio": "Channels dropped per image",
    "dynamic.run": "Show the channels used",
    "dynamic.run.hint": "for the first validation images, on the original weights",
    "dynamic.summary": (
        "At the same average MACs ({share} of the original): dynamic {dynamic}, static {static}, original "
        "{original}."
    ),
    "dynamic.image": "class {label}, predicted {prediction}",
    "dynamic.legend": "One row per layer, one cell per channel: blue = used by this image, grey = skipped.",
    "analyses.dynamic.running": "Finding the channels each image uses…",
    "analyses.cancelled.dynamic": "Cancelled.",
    # ---- reconstruction
    "reconstruct.run": "Reconstruct",
    "reconstruct.run.hint": "win accuracy back without training (least squares on calibration images)",
    "reconstruct.help": (
        "Reconstruct refits, without any training step, each layer that reads pruned channels so that it "
        "reproduces the original layer's output from the channels kept (He, Zhang & Sun 2017, <a "
        "href='https://arxiv.org/abs/1707.06168' target='_blank'>Channel Pruning for Accelerating Very Deep "
        "Neural Networks</a>). It starts from the original weights; the result becomes the live weights."
    ),
    "reconstruct.result": (
        "Reconstruction: {before} → {after} ({change}) without training; {layers} layer(s) refitted on "
        "{samples} calibration images."
    ),
    "analyses.reconstruct.running": "Reconstructing the layers after the pruned channels…",
    "analyses.reconstruct.done": "Done: {layers} layer(s) refitted.",
    "analyses.reconstruct.nothing": "Nothing is pruned: there is nothing to reconstruct.",
    "analyses.cancelled.reconstruct": "Reconstruction cancelled: the weights are as they were.",
    # ---- training modes
    "modes.title": "Training for prunability: plain vs soft vs group lasso",
    "modes.help": (
        "Three ways to train towards the current plan's size, the same steps each, all from the original "
        "weights: plain fine-tuning with the plan's filters removed; Soft Filter Pruning (He et al. 2018), "
        "which zeroes the weakest filters every epoch but keeps training them; and a group-lasso penalty "
        "that pushes whole filters towards zero before the cut. Runs on copies: your plan and weights stay."
    ),
    "modes.steps": "Steps each",
    "modes.run": "Compare the training modes",
    "modes.run.hint": "three trainings of the given steps: this takes a while",
    "modes.masked": "plain fine-tuning (masked)",
    "modes.soft": "Soft Filter Pruning",
    "modes.group_lasso": "group lasso",
    "modes.column.mode": "training",
    "modes.column.before": "cut, before training",
    "modes.column.after": "after training and the cut",
    "modes.column.overlap": "same filters as the plan",
    "modes.note": "{steps} steps each; every network ends with {share} of the original MACs.",
    "analyses.modes.running": "Training three ways, {steps} steps each…",
    "analyses.cancelled.modes": "Comparison cancelled.",
    # ---- tokens (Vision Transformers)
    "tokens.title": "Token pruning: each image keeps the tokens its class token looks at",
    "tokens.help": (
        "A Vision Transformer cuts the image into tokens (here one per pixel). DynamicViT (Rao et al. 2021) "
        "learns which tokens to drop after some blocks. Here nothing is trained: each image keeps the tokens "
        "that the class token attended to most in that block (Liang et al. 2022). Unlike dynamic channels, "
        "this saves real work on ordinary hardware: every image keeps the same number of tokens, so the "
        "later blocks simply run on fewer. It is compared with keeping the same tokens for every image, and "
        "random ones, at the same MACs. Try an early block and a late one."
    ),
    "tokens.keep": "Tokens kept",
    "tokens.after": "Drop the rest after",
    "tokens.block": "block {block} of {depth}",
    "tokens.run": "Show the tokens kept",
    "tokens.run.hint": "for the first validation images, on the original weights",
    "tokens.summary": (
        "After block {block}, {kept} of {total} tokens go on; {share} of the original MACs. Accuracy: chosen "
        "per image by attention {dynamic}, the same tokens for every image {static}, random tokens {random}, "
        "original {original}."
    ),
    "tokens.legend": "One cell per token, in the image's layout: blue = kept by this image, grey = dropped.",
    "analyses.tokens.running": "Finding the tokens each image keeps…",
}
