"""Token pruning for Vision Transformers, shown honestly: each image keeps the tokens its class token reads.

Rao, Zhao, Liu, Lu, Zhou & Hsieh, "DynamicViT: Efficient Vision Transformers with Dynamic Token
Sparsification", NeurIPS 2021, https://arxiv.org/abs/2106.02034: after some blocks ("stages"), a small
*learned* prediction module scores every token of every image and only the top ones go on, so that later
blocks work on fewer tokens (keep ratio ρ per stage: ρ, ρ², ρ³ of the tokens after three stages).

This module is a **training-free stand-in**, not DynamicViT: the score of patch token j for an image is how
much the class token attends to it in the block just run (the "attentiveness" of EViT, Liang et al., ICLR
2022, https://arxiv.org/abs/2202.07800),

    a_j = (1/H) Σ_h softmax_j( q_cls,h · k_j,h / √d ),

and after each stage block the ``k`` patch tokens with the largest a_j stay (the class token always stays).
No predictor is trained, and no fine-tuning adapts the network to fewer tokens, so it shows what the class
token's own attention can already tell, a lower bound for DynamicViT.

Unlike per-input *channel* pruning (``explorer.dynamic``), this does save work on ordinary hardware: every
image keeps the same *number* of tokens, so a batch stays a dense ``[B, k + 1, D]`` tensor and later blocks
are plainly smaller. The scores cost one extra softmax row per head (the class token's), counted in
``token_macs``. Two baselines run on the same schedule, hence the same MACs: **static** (the same positions
for every image, ranked by the class token's attention averaged over the calibration images) and
**random** (a random choice per image).

Only torchvision's ``VisionTransformer`` layout (``class_token``, ``encoder.layers`` of blocks with
``ln_1``, ``self_attention``, ``ln_2``, ``mlp``, then ``encoder.ln`` and ``heads``) is recognised.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from explorer.attention import head_attention
from explorer.errors import ModelError

__all__ = [
    "METHOD",
    "NOTE",
    "ViTParts",
    "compare_token_pruning",
    "find_vit",
    "keep_schedule",
    "run_tokens",
    "static_positions",
    "token_blocks",
    "token_macs",
    "tokens_kept",
]

METHOD = (
    "training-free stand-in for DynamicViT (Rao et al., NeurIPS 2021): after each stage block, every image "
    "keeps the patch tokens its class token attends to most (EViT's attentiveness, Liang et al. 2022)"
)
NOTE = (
    "No predictor is trained and the network is not fine-tuned for fewer tokens. Every image keeps the same "
    "number of tokens, so batches stay dense and the later blocks really are smaller: the MACs saved are "
    "real on ordinary hardware, unlike per-input channel pruning."
)


@dataclass(frozen=True)
class ViTParts:
    """The pieces of a torchvision ``VisionTransformer`` that token pruning runs one by one."""

    model: nn.Module
    blocks: tuple[nn.Module, ...]
    grid: tuple[int, int]  # patches per column and per row
    hidden: int
    patch_macs: int  # MACs of the patch embedding, per image

    @property
    def num_patches(self) -> int:
        return self.grid[0] * self.grid[1]

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 1 + N, D]``: the class token and the patch tokens, position embeddings added."""
        tokens = self.model._process_input(images)
        cls = self.model.class_token.expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1) + self.model.encoder.pos_embedding

    def head(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits from the class token after the final norm."""
        return self.model.heads(self.model.encoder.ln(tokens)[:, 0])


def _is_block(block: nn.Module) -> bool:
    attention = getattr(block, "self_attention", None)
    return (
        all(hasattr(block, name) for name in ("ln_1", "ln_2", "mlp"))
        and isinstance(attention, nn.MultiheadAttention)
        and attention.batch_first
        and attention.in_proj_weight is not None
    )


def find_vit(model: nn.Module) -> ViTParts:
    """The ``ViTParts`` of a torchvision-style ViT, or ``ModelError`` saying what token pruning needs."""
    encoder = getattr(model, "encoder", None)
    layers = getattr(encoder, "layers", None)
    needs = ("class_token", "_process_input", "conv_proj", "heads", "image_size", "patch_size")
    if (
        layers is None
        or not all(hasattr(model, name) for name in needs)
        or not hasattr(encoder, "pos_embedding")
        or not all(_is_block(b) for b in layers)
    ):
        raise ModelError(
            "Token pruning needs a Vision Transformer with a class token (torchvision's VisionTransformer "
            "layout); this model is not one."
        )
    side = model.image_size // model.patch_size
    conv = model.conv_proj
    kernel = conv.kernel_size[0] * conv.kernel_size[1]
    patch_macs = side * side * conv.out_channels * (conv.in_channels // conv.groups) * kernel
    return ViTParts(model, tuple(layers), (side, side), int(model.hidden_dim), int(patch_macs))


def token_blocks(model: nn.Module) -> int:
    """The number of encoder blocks of a ViT that token pruning can run on; 0 for any other model."""
    try:
        return len(find_vit(model).blocks)
    except ModelError:
        return 0


def keep_schedule(parts: ViTParts, keep_ratio: float, stages: Sequence[int] | None = None) -> list[int]:
    """Patch tokens left after each block: × ``keep_ratio`` after each stage block, unchanged elsewhere.

    ``stages``: block indices after which tokens are dropped. Default: DynamicViT's, the blocks ending the
    first three quarters of the depth (3, 6, 9 of 12 → indices 2, 5, 8), at least one.
    """
    if not 0.0 < keep_ratio <= 1.0:
        raise ValueError(f"keep_ratio must be in (0, 1], got {keep_ratio}")
    depth = len(parts.blocks)
    if stages is None:
        stages = sorted({max(0, depth * q // 4 - 1) for q in (1, 2, 3)})
    stages = sorted({int(s) for s in stages})
    if any(not 0 <= s < depth for s in stages):
        raise ValueError(f"stage blocks must be in 0..{depth - 1}, got {list(stages)}")
    count, schedule = parts.num_patches, []
    for index in range(depth):
        if index in stages:
            count = max(1, round(count * keep_ratio))
        schedule.append(count)
    return schedule


def token_macs(parts: ViTParts, schedule: Sequence[int]) -> int:
    """MACs per image of a forward pass that keeps ``schedule[i]`` patch tokens after block ``i``.

    A block fed n tokens (the class token included) of width D, MLP width M: n·3D² (query, key, value),
    n²·D (scores), n²·D (weighted values), n·D² (output projection), 2·n·D·M (MLP). Plus the patch
    embedding and the head's linear layers. Layer norms, softmax and additions are not multiply-accumulates.
    """
    d = parts.hidden
    head = sum(
        m.in_features * m.out_features for m in parts.model.heads.modules() if isinstance(m, nn.Linear)
    )
    total, tokens = parts.patch_macs + head, parts.num_patches + 1
    for block, after in zip(parts.blocks, schedule, strict=True):
        mlp = sum(m.in_features * m.out_features for m in block.mlp.modules() if isinstance(m, nn.Linear))
        total += tokens * 4 * d * d + 2 * tokens * tokens * d + tokens * mlp
        tokens = after + 1
    return int(total)


def _block(block: nn.Module, x: torch.Tensor, want_scores: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One encoder block, as torchvision computes it, and the class token's attention to each patch."""
    attention = block.self_attention
    mixed, weights = head_attention(
        block.ln_1(x),
        attention.in_proj_weight,
        attention.in_proj_bias,
        attention.out_proj,
        attention.num_heads,
        batch_first=True,
        need_weights=want_scores,
    )
    x = x + block.dropout(mixed)
    x = x + block.mlp(block.ln_2(x))
    return x, (weights[:, 0, 1:] if weights is not None else None)


def _gather(x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """The class token and the patch tokens ``keep`` ([B, k] indices into the current patches)."""
    patches = torch.gather(x[:, 1:], 1, keep.unsqueeze(-1).expand(-1, -1, x.shape[-1]))
    return torch.cat([x[:, :1], patches], dim=1)


def run_tokens(
    parts: ViTParts,
    images: torch.Tensor,
    schedule: Sequence[int],
    select: str = "attention",
    *,
    static: Sequence[torch.Tensor] | None = None,
    generator: torch.Generator | None = None,
    record: bool = False,
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Logits of ``images`` when only ``schedule[i]`` patch tokens go on after block ``i``.

    Args:
        select: ``"attention"`` (per image, the top ones by the class token's attention), ``"static"``
            (``static[s]``: the same current-token indices for every image at stage ``s``) or ``"random"``.
        record: also return, per stage, ``[B, k]`` original patch positions (0 … N−1, row-major) kept.
    """
    x = parts.embed(images)
    positions = torch.arange(parts.num_patches).expand(x.shape[0], -1)
    kept: list[torch.Tensor] = []
    stage = 0
    for block, after in zip(parts.blocks, schedule, strict=True):
        drop = after < x.shape[1] - 1
        x, scores = _block(block, x, want_scores=drop and select == "attention")
        if not drop:
            continue
        if select == "attention":
            keep = scores.topk(after, dim=1).indices.sort(dim=1).values
        elif select == "static":
            keep = static[stage].expand(x.shape[0], -1)
        elif select == "random":
            noise = torch.rand(x.shape[0], x.shape[1] - 1, generator=generator)
            keep = noise.topk(after, dim=1).indices.sort(dim=1).values
        else:
            raise ValueError(f"unknown token selection {select!r}")
        x, positions = _gather(x, keep), torch.gather(positions, 1, keep)
        if record:
            kept.append(positions)
        stage += 1
    return parts.head(x), kept


def static_positions(parts: ViTParts, calib: torch.Tensor, schedule: Sequence[int]) -> list[torch.Tensor]:
    """Per stage, the token indices every image keeps under static pruning: the top ones by the class token's
    attention averaged over ``calib``, chosen stage by stage on the tokens the earlier stages left."""
    chosen: list[torch.Tensor] = []
    x = parts.embed(calib)
    for block, after in zip(parts.blocks, schedule, strict=True):
        drop = after < x.shape[1] - 1
        x, scores = _block(block, x, want_scores=drop)
        if drop:
            keep = scores.mean(dim=0).topk(after).indices.sort().values
            chosen.append(keep)
            x = _gather(x, keep.expand(x.shape[0], -1))
    return chosen


_BATCH = 200


@torch.no_grad()
def compare_token_pruning(
    model: nn.Module,
    val: Any,
    calib: torch.Tensor,
    keep_ratio: float,
    *,
    stages: Sequence[int] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Accuracy of per-image (attention), static and random token pruning on the same schedule and MACs.

    Returns plain data: ``method``, ``note``, ``schedule`` (patch tokens after each block),
    ``dynamic_accuracy``, ``static_accuracy``, ``random_accuracy``, ``baseline_accuracy``, ``macs`` (per
    image, the same for all three) and ``baseline_macs``.
    """
    parts = find_vit(model)
    schedule = keep_schedule(parts, keep_ratio, stages)
    full = [parts.num_patches] * len(parts.blocks)
    static = static_positions(parts, calib, schedule)
    generator = torch.Generator().manual_seed(seed)
    labels = val.labels
    correct = dict.fromkeys(("dynamic", "static", "random", "baseline"), 0)
    for start in range(0, int(labels.shape[0]), _BATCH):
        images, truth = val.inputs[start : start + _BATCH], labels[start : start + _BATCH]
        runs: Mapping[str, torch.Tensor] = {
            "dynamic": run_tokens(parts, images, schedule)[0],
            "static": run_tokens(parts, images, schedule, "static", static=static)[0],
            "random": run_tokens(parts, images, schedule, "random", generator=generator)[0],
            "baseline": run_tokens(parts, images, full)[0],
        }
        for name, logits in runs.items():
            correct[name] += int((logits.argmax(1) == truth).sum())
    n = max(int(labels.shape[0]), 1)
    return {
        "method": METHOD,
        "note": NOTE,
        "keep_ratio": keep_ratio,
        "schedule": schedule,
        "grid": list(parts.grid),
        **{f"{name}_accuracy": count / n for name, count in correct.items()},
        "macs": token_macs(parts, schedule),
        "baseline_macs": token_macs(parts, full),
    }


@torch.no_grad()
def tokens_kept(
    model: nn.Module, val: Any, indices: Sequence[int], keep_ratio: float, stages: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """For each validation image in ``indices``, the patch positions it keeps after each stage.

    Returns:
        One dict per image: ``{"index", "label", "prediction", "confidence", "grid": [rows, cols],
        "stages": [[kept positions, row-major], ...]}``, plain data for a view.
    """
    parts = find_vit(model)
    picked = [int(i) for i in indices]
    logits, kept = run_tokens(
        parts, val.inputs[picked], keep_schedule(parts, keep_ratio, stages), record=True
    )
    probs = torch.softmax(logits.float(), dim=1)
    return [
        {
            "index": index,
            "label": int(val.labels[index]),
            "prediction": int(probs[row].argmax()),
            "confidence": float(probs[row].max()),
            "grid": list(parts.grid),
            "stages": [stage[row].tolist() for stage in kept],
        }
        for row, index in enumerate(picked)
    ]
