"""English: the texts of the core (``explorer.errors.CoreText`` codes and error codes), said in the page's
language; the core keeps its English messages for scripts."""

from __future__ import annotations

TEXTS: dict[str, str] = {
    # texts of the core, said in the page's language (issue 13; the core keeps its English for scripts)
    "core.refusal.output": (
        "no layer uses its channels: they are the network's outputs (the classifier), or they reach the "
        "output through operations that cannot be followed, so they are never pruned"
    ),
    "core.refusal.grouped_conv": (
        "its channels feed only part of the grouped convolution {layer}, whose groups must all lose the "
        "same number of channels"
    ),
    "core.refusal.coupled": (
        "its channels are tied, through an operation that changes the channel count, to {layer} ({channels} "
        "channels vs {reached}), e.g. a zero-padding shortcut written inline with F.pad (written as a "
        "module, it can be pruned)"
    ),
    "core.refusal.cross_norm": (
        "{layer} ({kind}) normalises across channels, so switching a channel off is not the same as removing "
        "it"
    ),
    "core.refusal.layer_type": "{layer} ({kind}) is a kind of layer the explorer cannot account for",
    "core.refusal.functional": (
        "its channels reach {param}, which the model uses in its own code instead of calling {layer}: a mask "
        "cannot act there"
    ),
    "core.refusal.layer_norm_dims": (
        "{layer} (LayerNorm over {shape}) normalises several dimensions at once, so its channels cannot be "
        "removed one by one"
    ),
    "core.refusal.layer_norm_forward": (
        "{layer} ({kind}) is a LayerNorm with its own forward: which dimension it normalises is unknown"
    ),
    "core.refusal.emptying": (
        "{layer} holds channels of only some of the group's units, so keeping one unit could remove all of "
        "its channels"
    ),
    "core.refusal.unfollowable": (
        "its channels go through reshapes that mix them with other dimensions (attention heads, windows…), "
        "which cannot be followed, so what they are tied to is unknown"
    ),
    "core.criterion.no_batch_norm": "{criterion}: no BatchNorm follows {layer}",
    "core.export.other_files": (
        "{folder} holds other files: save the pruned model into a new or empty folder"
    ),
}
