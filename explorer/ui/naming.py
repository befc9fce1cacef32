"""Plain names for what the page shows: layers ("Block 1 · conv 1 (16 filters)") and criteria ("Filter size
(L1)"). The code names (``layer1.0.conv1``, ``l1``) stay in the tooltips, for whoever reads the code.

Layer names are read off the module paths the zoo's architectures use: ``layerS.B.convC`` (residual blocks,
numbered through the network), ``features.N`` (a plain stack of convolutions), ``conv1`` (the stem); any
other layer is simply numbered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_BLOCK = re.compile(r"(?:.*\.)?layer(\d+)\.(\d+)\.conv(\d+)")
_STACK = re.compile(r"features\.(\d+)")
_STEM = re.compile(r"conv1|stem.*|conv_stem")


def layer_labels(
    groups: Sequence[Mapping[str, Any]], t: Callable[..., str], counts: bool = True
) -> dict[str, str]:
    """Group name → its plain name, in the order of ``groups`` (the state's ``groups`` rows).

    Args:
        groups: rows with ``name`` and ``num_channels``.
        t: the translator.
        counts: add the number of filters, "(16 filters)".
    """
    names = [g["name"] for g in groups]
    blocks = sorted({(int(m[1]), int(m[2])) for n in names if (m := _BLOCK.fullmatch(n))})
    stack = [n for n in names if _STACK.fullmatch(n)]
    labels = {}
    for index, group in enumerate(groups):
        name = group["name"]
        if match := _BLOCK.fullmatch(name):
            block = blocks.index((int(match[1]), int(match[2]))) + 1
            label = t("layer.block", block=block, conv=int(match[3]))
        elif name in stack:
            label = t("layer.conv", number=stack.index(name) + 1)
        elif _STEM.fullmatch(name):
            label = t("layer.stem")
        else:
            label = t("layer.other", number=index + 1)
        if counts:
            label = t("layer.with_count", label=label, count=group["num_channels"])
        labels[name] = label
    return labels


def criterion_label(name: str, t: Any) -> str:
    """A criterion's plain name, e.g. "Similarity to others (FPGM)"; its code name for one the catalogues do
    not know (registered by a user)."""
    return t.get(f"crit.{name}.name", name)


def criterion_hint(name: str, t: Any, default: str = "") -> str:
    """A criterion's one-line explanation (``default``, the registry's description, for unknown ones)."""
    return t.get(f"crit.{name}.hint", default)


__all__ = ["criterion_hint", "criterion_label", "layer_labels"]
