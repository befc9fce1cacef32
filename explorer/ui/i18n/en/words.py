"""English: criteria in plain words and the glossary."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # ------------------------------------------------------------------------- criteria, in plain words
    "crit.l1.name": "Filter size (L1)",
    "crit.l1.hint": "Adds up the size of each filter's weights: the smallest filters matter least.",
    "crit.l2.name": "Filter length (L2)",
    "crit.l2.hint": "Like filter size, but squares the weights first, so a few large weights count more.",
    "crit.fpgm.name": "Similarity to others (FPGM)",
    "crit.fpgm.hint": (
        "Filters nearest the middle of their layer (the geometric median) are the easiest for the others "
        "to replace, so they go first."
    ),
    "crit.taylor.name": "Gradient × activation (Taylor)",
    "crit.taylor.hint": (
        "Runs real images through the network and estimates how much the loss would rise without each "
        "filter's output."
    ),
    "crit.taylor_weight.name": "Gradient × weight (Taylor, weights)",
    "crit.taylor_weight.hint": (
        "Estimates the loss change from every weight that disappears with the filter, measured on images."
    ),
    "crit.bn_scale.name": "BatchNorm scale (γ)",
    "crit.bn_scale.hint": "A filter whose BatchNorm multiplies it by a tiny number passes almost nothing on.",
    "crit.apoz.name": "Mostly zero (APoZ)",
    "crit.apoz.hint": "A filter whose output is zero after its ReLU on most images passes little on.",
    "crit.mean_activation.name": "Average output",
    "crit.mean_activation.hint": "A filter whose output after the ReLU is small on average adds little.",
    "crit.hessian.name": "Curvature of the loss (Hessian)",
    "crit.hessian.hint": (
        "Uses how sharply the loss bends around each weight to estimate the cost of removing it."
    ),
    "crit.random.name": "Random (baseline)",
    "crit.random.hint": "Picks filters at random: every real criterion has to beat this.",
    "crit.oracle.name": "True loss change (oracle)",
    "crit.oracle.hint": "Removes each filter alone and measures the loss: exact, but slow.",
    # ---------------------------------------------------------------------------------------- glossary
    "glossary.button": "Glossary",
    "glossary.button.hint": "the words of this page, explained",
    "glossary.title": "Glossary",
    "glossary.filter.term": "Filter",
    "glossary.filter.text": (
        "A small set of weights a convolution layer slides over the image; each filter produces one output "
        "channel (one feature map). Removing a filter removes that channel."
    ),
    "glossary.pruning.term": "Pruning",
    "glossary.pruning.text": (
        "Removing parts of a trained network that matter little, to make it smaller and faster. Here whole "
        "filters go (structured pruning), so the network really shrinks."
    ),
    "glossary.criterion.term": "Criterion",
    "glossary.criterion.text": "The rule that scores each filter; the lowest scores are removed first.",
    "glossary.macs.term": "MACs",
    "glossary.macs.text": (
        "Multiply-accumulate operations: one multiplication and one addition. Counting them for one image "
        "tells how much work the network does (FLOPs are about twice the MACs)."
    ),
    "glossary.params.term": "Parameters",
    "glossary.params.text": (
        "The numbers the network learned (weights and biases); they set its size in memory."
    ),
    "glossary.interval.term": "95 % interval",
    "glossary.interval.text": (
        "While only some images are measured, the accuracy is an estimate: the true value lies within ± "
        "this much 95 times out of 100. Once every image is measured, the value is exact."
    ),
    "glossary.sensitivity.term": "Sensitivity",
    "glossary.sensitivity.text": (
        "How fast a layer's accuracy falls as it loses filters, measured one layer at a time. Sensitive "
        "layers should be pruned gently."
    ),
    "glossary.coupled.term": "Coupled layers",
    "glossary.coupled.text": (
        "Layers whose channels are tied together, e.g. by a residual addition: they must lose the same "
        "channels, so one slider moves them all."
    ),
    "glossary.finetuning.term": "Fine-tuning",
    "glossary.finetuning.text": (
        "A short retraining after pruning, so the remaining filters can take over the work of the removed "
        "ones."
    ),
    # ------------------------------------------------------------------------- greedy oracle (honest science)
    "crit.greedy_oracle.name": "True loss change, one at a time (greedy oracle)",
    "crit.greedy_oracle.hint": (
        "Removes the filter that hurts the loss least, then measures the others again without it, and so on: "
        "it notices when two filters do the same job. Exact, and the slowest."
    ),
}
