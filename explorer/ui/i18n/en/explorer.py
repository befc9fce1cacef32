"""English: the explorer's texts (``str.format`` patterns; the Korean catalogue has the same keys)."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ----------------------------------------------------------------------------------------- the app
    "app.title": "Pruning Explorer",
    "app.intro": "Remove filters from a convolutional network and see, live, what it costs and saves.",
    "app.loading": "Loading model…",
    "app.scoring": "Scoring filters and measuring the original accuracy…",
    "error.title": "Error:",
    "error.dismiss": "Dismiss",
    "unit.points": "pts",
    "sections.layer": "Inside the selected layer",
    "sections.gallery": "Filter gallery",
    "sections.network": "The whole network",
    "sections.further": "Go further: sensitivity, suggested plans, fine-tuning, export",
    "panels.sensitivity": "Sensitivity & plans",
    "panels.finetune": "Fine-tune & export",
    "panels.models": "Models & weights",
    # ------------------------------------------------------------------------------------ weights bar
    "weights.live": "Live weights: {label}",
    "weights.live.hint": "The weights the numbers below are computed with.",
    "weights.original": "original",
    "weights.finetuned": "fine-tuned under plan #{plan} ({steps} steps)",
    "weights.reconstructed": "reconstructed under plan #{plan}",
    "weights.plan": " · plan #{number}",
    "weights.undo": "Undo",
    "weights.undo.hint": "undo the last change or fine-tuning",
    "weights.redo": "Redo",
    "weights.redo.hint": "redo what Undo undid",
    "weights.reset": "Back to the original network",
    "weights.reset.hint": "original weights, nothing pruned (Undo comes back)",
    "weights.misfit": (
        "This plan puts back filters that the live weights were trained without, so the numbers describe "
        "neither network. Prune those filters again, press Undo, or go back to the original network."
    ),
    "weights.precision": "Live metrics computed in",
    "weights.bf16": "fast (bf16)",
    "weights.bf16.hint": "bfloat16 on this CPU: about 3× faster, the same answer on almost every image",
    "weights.fp32": "exact (fp32)",
    "weights.fp32.hint": "32-bit floats: exact, slower",
    "state.precision": "Measuring again…",
    "state.latency": "Exporting and timing the pruned model…",
    "state.scoring_cancelled": "Scoring with {new} was cancelled; still ranking by {old}.",
    # --------------------------------------------------------------------------------------- controls
    "controls.criterion": "Criterion",
    "controls.needs_data": "Needs a pass over calibration data (may take a while).",
    "controls.slider.hint": "fraction of the {count} filters of {layer} to remove",
    "controls.also_cuts": "also cuts {layers}",
    "controls.removed": "{removed} of {total} channels removed",
    "controls.sliders.help": (
        "Each slider removes that fraction of a layer's filters: the ones the criterion scores lowest. "
        "Layers joined by BatchNorm or a residual add lose the same channels (hover a layer's name)."
    ),
    "controls.global": "All layers",
    "controls.selected": "Selected layer",
    "controls.selected.hint": "fraction of the selected layer's filters to remove",
    "controls.every_layer": "Every layer",
    "controls.code_name": "in the code: {name}",
    "controls.criterion.hint": "in the code: {name} · {formula}",
    "layer.block": "Block {block} · conv {conv}",
    "layer.conv": "Conv layer {number}",
    "layer.stem": "First conv",
    "layer.other": "Layer {number}",
    "layer.with_count": "{label} ({count} filters)",
    "controls.global.help": (
        "The global slider removes one fraction of all filters at once, taking the lowest scores after "
        "dividing each layer's scores by their overall size, so layers are compared on one scale."
    ),
    "job.cancel": "Cancel",
    "job.failed": "Failed: {message}",
    # ---------------------------------------------------------------------------------------- metrics
    "metrics.accuracy.title": "Top-1 accuracy",
    "metrics.accuracy.hint": "Share of the validation images whose most likely class is the right one.",
    "metrics.change.title": "Change from original",
    "metrics.change.hint": "Accuracy now minus the original network's, in percentage points.",
    "metrics.change.note": "original: {accuracy}",
    "metrics.macs.title": "MACs per image",
    "metrics.macs.hint": "Multiply-accumulate operations of the conv and linear layers for one image.",
    "metrics.params.title": "Parameters",
    "metrics.params.hint": "Number of weights and biases the pruned network keeps.",
    "metrics.latency.title": "Exported latency (CPU, 1 image)",
    "metrics.latency.hint": "Time one image takes through the physically smaller network, on this CPU.",
    "metrics.exact": "exact",
    "metrics.estimate": "estimate from {seen} of {total} images",
    "metrics.of_original": "{share} of original",
    "metrics.latency.button": "Measure latency",
    "metrics.latency.button_hint": "export the pruned model and time it on CPU",
    "metrics.latency.note": "original {baseline} ms: speed-up ×{speedup}{stale}",
    "metrics.latency.stale": " (an earlier plan)",
    "metrics.latency.none": "press the button to measure",
    "metrics.help": (
        "Accuracy is measured on the validation subset after every change: the first estimate comes with "
        "its 95 % interval, then it is exact. The pruned model is really that small once exported."
    ),
    # ---------------------------------------------------------------------------------------- summary
    "summary.untrained": "untrained",
    "summary.untrained.hint": (
        "These weights were not trained: accuracy is near chance, so scores and accuracy changes mean little."
    ),
    "summary.architecture": "Architecture: {architecture} with {layers} convolution and linear layers.",
    "summary.data": (
        "Data: {dataset}, {classes} classes; validation subset of {samples} images. Original network: "
        "accuracy {accuracy}, {macs} MACs per image, {params} parameters; {groups} layer(s) can be pruned."
    ),
    "summary.refused": "{count} layer(s) that cannot be pruned, and why",
    # ------------------------------------------------------------------------------------------ plots
    "plot.kept": "kept",
    "plot.pruned": "pruned",
    "plot.original": "original",
    "plot.now": "now",
    "plot.layer_tip": "layer",
    "plot.filter_tip": "filter",
    "plot.rank_tip": "rank",
    "plot.status_tip": "status",
    "plot.accuracy_tip": "top-1 accuracy",
    "plot.accuracy_short_tip": "accuracy",
    "plot.accuracy_axis": "top-1 accuracy (%)",
    "filters.layer": "Layer",
    "filters.compare": "Compare:",
    "filters.help": (
        "The bars: the layer's filters, lowest score first; grey ones are pruned. Click a bar (or a point) "
        "to prune or restore that filter by hand."
    ),
    "filters.compare_help": (
        "The points: do two criteria agree? Spearman ρ near 1 means they rank the filters alike."
    ),
    "filters.plot.title": "Filters by score",
    # two lines: a 375 px plot cut the one-line title after a long criterion name
    "filters.plot.title_for": "{layer}: {count} filters\nby {criterion} score",
    "filters.plot.x": "rank (1 = removed first)",
    "filters.plot.y": "score",
    "filters.plot.score": "{criterion} score",
    "filters.scatter.title": "Two criteria",
    "filters.scatter.title_for": "{layer}: {x}\nvs {y}, Spearman ρ = {rho}",
    "filters.no_rho": "not computed yet",
    "overview.channels.title": "Channels kept per layer",
    "overview.channels.y": "channels",
    "overview.kept_tip": "@kept of @total",
    "overview.macs.title": "Share of the network's MACs",
    "overview.macs.y": "share of MACs (%)",
    "overview.macs_tip": "MACs",
    "overview.share_tip": "share",
    "overview.help": (
        "Where the compute is: pruning a layer that holds a large share of the MACs saves the most. Click "
        "a layer's bar to inspect it."
    ),
    "trajectory.title": "Every plan you tried",
    "trajectory.x": "MACs per image (millions)",
    "trajectory.plan_tip": "plan",
    "trajectory.after_finetuning": "after fine-tuning",
    "trajectory.current": "current plan",
    "trajectory.earlier": "earlier plan",
    "trajectory.help": (
        "Each point is a plan you evaluated: the best plans sit top-left (accurate and cheap). The red "
        "point is the current plan; a star is a plan after fine-tuning, joined by a green line to the same "
        "plan before it."
    ),
    "trajectory.original": "original",
    "trajectory.pruned": "{count} channel(s) pruned",
    "trajectory.after_steps": ", after fine-tuning ({steps} steps)",
    "trajectory.after": ", after fine-tuning",
    "trajectory.finetuned_weights": ", fine-tuned weights",
    "gallery.weights": "Filters (weights)",
    "gallery.maps": "Feature maps",
    "gallery.channel_tip": "channel",
    "gallery.rgb": "RGB",
    "gallery.mean": "mean over inputs",
    "gallery.weights_for": "{layer} filters ({kind})",
    "gallery.maps_for": "{layer} outputs, one '{label}'",
    "gallery.in_colour": "in colour",
    "gallery.averaged": "averaged over its input channels, red &gt; 0 &gt; blue",
    "gallery.help": (
        "Each tile is one filter (left: its weights, {how}) and what it detects in one validation image "
        "(right). Pruned channels are dark, framed in red."
    ),
    "gallery.not_conv": "{layer} is not a convolution: no filter images.",
    # ------------------------------------------------------------------------------------------- why
    "why.title": "Why this filter?",
    "why.filter": "Filter #",
    "why.for_filter": "For filter {channel} of {layer}",
    "why.terms": "{count} terms",
    "why.measured": (
        "this score is measured on calibration data (or at random), so it has no weights to add up; its "
        "value is below."
    ),
    "why.members": "Layers of the group ({reduction}): {parts}",
    "why.group_score": "Group score: {score}",
    "why.rank": (
        "Rank {rank} of {count} (1 = removed first). Pruned at this ratio ({ratio}): {by_ratio}; pruned in "
        "the current plan: {in_plan}."
    ),
    "why.yes": "yes",
    "why.no": "no",
    # ---------------------------------------------------------------------------------- sensitivity
    "scan.title": "Sensitivity: which layers can lose filters?",
    "scan.help": (
        "The scan prunes <b>one layer at a time</b> (10 %, 20 % … 90 % of its filters, the lowest scores "
        "first) while every other layer stays intact, and measures the accuracy each time, as in Fig. 2 of "
        "Li et al. 2017, <a href='https://arxiv.org/abs/1608.08710' target='_blank'>Pruning Filters for "
        "Efficient ConvNets</a>. A flat curve means the layer is robust: prune it hard. A curve that drops "
        "early marks a sensitive layer: spare it. Hover a point for its numbers."
    ),
    "scan.rank_by": "Rank by",
    "scan.rank_by.hint": "the criterion that picks the filters removed at each step",
    "scan.run": "Run sensitivity scan",
    "scan.run.hint": "prune each layer alone at 10 %, 20 % … 90 % and measure the accuracy",
    "scan.plot.title": "Sensitivity to pruning, one layer at a time",
    "scan.plot.title_done": (
        "Sensitivity to pruning, one layer at a time (criterion: {criterion}; dashed: unpruned)"
    ),
    "scan.plot.x": "filters pruned away (%)",
    "scan.plot.y": "validation accuracy (%)",
    "scan.plot.pruned_tip": "pruned",
    "scan.plot.loss_tip": "loss",
    "scan.note": "Unpruned accuracy {accuracy}; {count} evaluations, ranked by {criterion}.",
    "scan.stale": "<b>Measured on other weights</b>: run it again for the live ones.",
    "jobs.scan.running": "Sensitivity scan with {criterion}…",
    "jobs.scan.scanning": "Sensitivity scan with {criterion}: one layer at a time…",
    "jobs.scan.done": "{count} evaluations with {criterion} in {seconds} s.",
    "jobs.scoring": "Scoring channels with {criterion}…",
    "plans.title": "Suggested plans",
    "plans.help": (
        "Each button replaces the current plan and moves the sliders above (Undo goes back). <b>Li et "
        "al.</b>: in every layer, the largest ratio whose accuracy drop in the scan is at most ε points. "
        "<b>MACs target</b>: repeatedly cut where the scan predicts the least accuracy lost per MAC saved, "
        "until the target is met; the prediction adds up the single-layer drops, so compare it with the "
        "real, evaluated figure. <b>Global</b>: one ratio over all layers. The first two run the scan "
        "first if there is none."
    ),
    "plans.epsilon": "ε (points)",
    "plans.epsilon.hint": "accuracy drop allowed per layer, in percentage points",
    "plans.reduction": "MACs cut (%)",
    "plans.reduction.hint": "the share of the MACs to remove",
    "plans.ratio": "Global ratio",
    "plans.ratio.hint": "the share of all filters to remove, lowest normalised scores first",
    "plans.li": "Apply Li et al. plan",
    "plans.target": "Apply MACs target",
    "plans.global": "Apply global ratio",
    "plans.done.li": "Li et al. plan, ε = {epsilon} points, ranked by {criterion}",
    "plans.done.target": "Plan for {reduction} % fewer MACs, ranked by {criterion}",
    "plans.done.global": "Global plan, {ratio} % of all filters, ranked by {criterion}",
    "plans.moved": "Sliders moved to: {ratios}.",
    "plans.nothing": "nothing pruned",
    "plans.measuring": "measuring…",
    "plans.predicted": "predicted (from the scan)",
    "plans.real": "real (evaluated)",
    "plans.evaluated": "evaluated",
    "plans.macs_row": "MACs per image",
    "plans.unreachable": (
        "The scan's ratios cannot reach the target: this is as far as they go (target {target} MACs)."
    ),
    "jobs.plan.unknown": "unknown plan suggestion {kind}: use one of {kinds}",
    "jobs.plan.running": "Preparing the suggested plan…",
    "jobs.plan.applying": "Applying the plan…",
    "jobs.plan.done": "Applied: {count} layer(s) pruned.",
    "jobs.cancelled.sensitivity": "Scan cancelled: the plan is unchanged; the curves measured so far stay.",
    "jobs.cancelled.plan": "Cancelled before the plan was applied: nothing changed.",
    "jobs.cancelled.finetune": "Fine-tuning cancelled: the weights are unchanged.",
    "jobs.cancelled.compare": "Comparison cancelled.",
    "jobs.cancelled.export": "Export cancelled.",
    # ----------------------------------------------------------------------------------- fine-tuning
    "finetune.title": "Fine-tune the pruned network",
    "finetune.help": (
        "Removing filters costs accuracy; a little retraining lets the remaining filters take over their "
        "work (Han et al. 2015, <a href='https://arxiv.org/abs/1506.02626' target='_blank'>Learning both "
        "Weights and Connections</a>). Training runs on the training split with the pruned filters kept at "
        "zero, so it is the same as training the smaller network. When it finishes the explorer goes on "
        "with the new weights: the 'Every plan you tried' plot gets a star for the result. Cancel keeps "
        "the old weights."
    ),
    "finetune.steps": "Steps",
    "finetune.steps.hint": "training steps, one batch of 64 images each",
    "finetune.lr": "Learning rate",
    "finetune.lr.hint": "how big each training step is",
    "finetune.run": "Fine-tune",
    "finetune.run.hint": "retrain the plan",
    "finetune.plot.step": "step",
    "finetune.plot.loss": "Training loss",
    "finetune.plot.loss_axis": "cross-entropy",
    "finetune.plot.loss_tip": "loss",
    "finetune.plot.accuracy": "Validation accuracy",
    "finetune.result": (
        "After {steps} steps: accuracy {before} → {after} ({change}), at {macs} MACs per image. The "
        "explorer now uses the fine-tuned weights: every plan from here on is evaluated with them."
    ),
    "jobs.finetune.no_steps": "Fine-tuning needs at least one step (got {steps}).",
    "jobs.finetune.running": "Fine-tuning for {steps} steps…",
    "jobs.finetune.done": "Fine-tuned {steps} steps.",
    "compare.schedules.title": "One-shot or iterative pruning?",
    "compare.schedules.help": (
        "Prune the whole ratio at once and train, or reach it in k smaller steps with training after each "
        "(the same number of training steps in total)? Both run on copies: your plan and weights stay as "
        "they are."
    ),
    "compare.ratio": "Prune to",
    "compare.ratio.hint": "the global share of filters both schedules remove",
    "compare.k": "k steps",
    "compare.k.hint": "how many smaller steps the iterative schedule takes",
    "compare.steps": "Train steps",
    "compare.schedules": "One-shot vs iterative",
    "compare.unstructured": "Filters vs single weights",
    "compare.at_once": "pruned to {ratio} % at once, not trained",
    "compare.one_shot": "one-shot, then {steps} training steps",
    "compare.each_step": "After each iterative step: {steps}",
    "compare.unstructured.title": "Remove filters, or zero single weights?",
    "compare.unstructured.help": (
        "Compares the current plan, exported (the filters are really gone), with zeroing the smallest "
        "single weights until the same number of parameters is left (Han et al. 2015), without retraining. "
        "Zeroed weights keep every layer's shape, so a dense CPU or GPU does exactly the same work: no "
        "speed-up without special sparse kernels. Removed filters make every layer smaller: fewer "
        "operations, really faster."
    ),
    "compare.dense": "dense original",
    "compare.filters": "filters removed (exported)",
    "compare.weights": "single weights zeroed",
    "compare.nonzero": "{count} non-zero",
    "compare.column.params": "parameters",
    "compare.column.latency": "latency",
    "compare.column.speedup": "speed-up",
    "compare.nothing_pruned": "Nothing is pruned yet: move some sliders first, then compare again.",
    "compare.latency_note": (
        "Latency: median of repeated runs on a batch of 128 validation images, on this CPU. On a small "
        "network or a busy machine the difference can drown in timing noise: prune more and compare again."
    ),
    "jobs.schedules.running": "Training one-shot and iterative ({k} steps) plans…",
    "jobs.unstructured.running": "Exporting, zeroing single weights and timing three models…",
    # ---------------------------------------------------------------------------------------- export
    "export.title": "Export",
    "export.help": (
        "Saves the network with the pruned filters physically removed: <code>plan.json</code> (which "
        "filters went), <code>pruned_state_dict.pt</code> (the smaller weights) and "
        "<code>SUMMARY.md</code> (plan, metrics and criteria, readable). The folder is replaced as a "
        "whole; a folder holding other files is refused."
    ),
    "export.folder": "Folder",
    "export.folder.placeholder": "folder (relative to the notebook's folder, or absolute)",
    "export.save": "Save pruned model",
    "export.written": "Written:",
    "jobs.export.no_folder": "Choose a folder to save the pruned model into.",
    "jobs.export.running": "Exporting and saving the pruned model…",
    "jobs.export.done": "Saved to {folder}.",
    # ------------------------------------------------------------------------------ models and upload
    "models.title": "Another model",
    "models.help": (
        "Pick a model and the data it is measured on. Pairs marked “not on this machine” need their "
        "trained weights or their data first: run the command shown in a terminal, then reload the page."
    ),
    "models.model": "Model",
    "models.explore": "Explore this model",
    "models.not_here": "(not on this machine)",
    "models.ready": "ready",
    "models.no_weights": "no published weights",
    "models.column.model": "model",
    "models.column.data": "data",
    "models.column.here": "on this machine?",
    "models.unavailable": "{model} cannot be explored on this machine yet. Missing: {missing}.",
    "models.missing.weights": "its trained weights",
    "models.missing.no_weights": "trained weights (none are published for {model})",
    "models.missing.data": "the {dataset} data",
    "models.and": ", ",
    "models.or": " or ",
    "models.run": "To get them, run in a terminal: {commands} (then reload the page).",
    "loader.loading": "Loading {name}…",
    "loader.now_exploring": "Now exploring {name}.",
    "loader.cancelled.model": "Cancelled: still exploring the previous model.",
    "loader.cancelled.upload": "Upload cancelled: still exploring the previous weights.",
    "loader.not_checkpoint": "{name} is not a PyTorch checkpoint: choose a {suffixes} file.",
    "loader.too_big": "{name} is {size} MB, more than the upload limit of {limit} MB.",
    "loader.empty": "{name} is empty (0 bytes).",
    "loader.checking": "Checking {name}…",
    "loader.building": "Building a session on {name}…",
    "upload.title": "Explore your own weights",
    "upload.help": (
        "Upload a checkpoint of {model} trained by you: a <code>state_dict</code> file ({suffixes}) of at "
        "most {limit}. Only tensors are read: a file holding other Python objects is refused. The explorer "
        "then starts again on the new weights (the plan, history and results of the current ones are "
        "dropped); if anything is wrong, it says why and keeps the current weights."
    ),
    "upload.too_big": (
        "If nothing happens after you choose a large file, this server does not accept files that big: ask "
        "whoever runs it to load the checkpoint for you."
    ),
    "upload.button": "Upload checkpoint",
    "upload.button.hint": "a state_dict file ({suffixes}), at most {limit}",
    "upload.exploring": "Exploring the weights of {name} ({size}).",
    # long jobs show partial results (issue 13)
    "job.eta.seconds": "about {seconds} s",
    "job.eta.minutes": "about {minutes} min",
    "job.with_eta": "{text} ({left} left)",
    "jobs.scan.layer": "Sensitivity scan with {criterion}: layer {layer} of {layers}…",
    "scan.plot.title_running": (
        "Sensitivity to pruning, one layer at a time (criterion: {criterion}): running…"
    ),
    "scan.running": "Measured so far: layer {layer} of {layers}; the curves grow as the scan runs.",
    "scan.partial": (
        "<b>Cancelled after layer {layer} of {layers}</b>: the curves drawn are the part measured."
    ),
    # tile grids without pixel axes (issue 13)
    "gallery.weights_tiles": "One tile per filter, numbered by channel, row by row.",
    "gallery.maps_tiles": "One tile per channel: the filter's output for this image.",
    "gallery.legend.kept": "kept (grey frame)",
    "gallery.legend.pruned": "pruned (dark, red frame)",
    # export downloads in the browser (issue 13)
    "export.download": "Download {name} ({size})",
    "export.download.hint": "the saved files (plan, pruned weights, SUMMARY.md) in one zip, from the page",
    "export.too_big": (
        "{name} is {size}: too big to download from the page (a link holds at most 1.5 MB). It is saved on "
        "the server, in the folder above."
    ),
    "export.weights": "Weights exported: {label}.",
    "export.summary": "SUMMARY.md (saved with the model)",
}
