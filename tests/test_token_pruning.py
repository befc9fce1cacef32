"""ViT token pruning (explorer/token_pruning.py), each part checked against an independent computation:
torchvision's own blocks and ``nn.MultiheadAttention``'s attention weights, and ``FlopCounterMode``."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from torchvision.models.vision_transformer import VisionTransformer

from explorer import token_pruning as tp
from explorer.errors import ModelError
from explorer.zoo.digits import DigitsCNN


def small_vit(seed: int = 0) -> nn.Module:
    """A 16 px ViT with 4 × 4 patches (16 tokens), every norm and the (zero-initialised) head randomised."""
    torch.manual_seed(seed)
    model = VisionTransformer(
        image_size=16, patch_size=4, num_layers=4, num_heads=2, hidden_dim=32, mlp_dim=48, num_classes=5
    )
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0, 0.2)
        for p in model.heads.parameters():
            p.normal_(0, 0.5)
        model.class_token.normal_(0, 1)
    return model.eval()


def reference_forward(model: nn.Module, images: torch.Tensor, schedule: list[int]) -> torch.Tensor:
    """Token pruning written out with torchvision's blocks and the attention weights that
    ``nn.MultiheadAttention`` itself returns (need_weights=True, averaged over heads)."""
    x = model._process_input(images)
    x = torch.cat([model.class_token.expand(x.shape[0], -1, -1), x], dim=1) + model.encoder.pos_embedding
    for block, after in zip(model.encoder.layers, schedule, strict=True):
        normed = block.ln_1(x)
        _, weights = block.self_attention(normed, normed, normed, need_weights=True)
        x = block(x)
        if after < x.shape[1] - 1:
            cls_row = weights[:, 0, 1:]
            keep = [sorted(row.argsort(descending=True)[:after].tolist()) for row in cls_row]
            x = torch.stack([torch.cat([x[b, :1], x[b, 1:][k]]) for b, k in enumerate(keep)])
    return model.heads(model.encoder.ln(x)[:, 0])


@pytest.fixture(scope="module")
def vit() -> nn.Module:
    return small_vit()


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    return torch.randn(6, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def test_keeping_every_token_computes_the_model_itself(vit, images):
    parts = tp.find_vit(vit)
    with torch.no_grad():
        logits, kept = tp.run_tokens(parts, images, [16, 16, 16, 16])
        assert torch.allclose(logits, vit(images), atol=1e-5)
    assert kept == []


@pytest.mark.parametrize("keep_ratio", [0.75, 0.5, 0.25])
def test_pruned_tokens_equal_a_plain_loop_over_torchvisions_blocks(vit, images, keep_ratio):
    parts = tp.find_vit(vit)
    schedule = tp.keep_schedule(parts, keep_ratio)
    with torch.no_grad():
        logits, kept = tp.run_tokens(parts, images, schedule, record=True)
        expected = reference_forward(vit, images, schedule)
    assert torch.allclose(logits, expected, atol=1e-5)
    assert [k.shape[1] for k in kept] == sorted(set(schedule), reverse=True)


def test_the_schedule_follows_dynamicvit_stages_by_hand(vit):
    parts = tp.find_vit(vit)
    # depth 4: stages after blocks 0, 1, 2 (the first three quarters); 16 → 8 → 4 → 2 patches
    assert tp.keep_schedule(parts, 0.5) == [8, 4, 2, 2]
    assert tp.keep_schedule(parts, 0.5, stages=[2]) == [16, 16, 8, 8]
    assert tp.keep_schedule(parts, 0.7) == [11, 8, 6, 6]  # round(16·0.7) = 11, round(7.7) = 8, round(5.6) = 6
    assert tp.keep_schedule(parts, 1.0) == [16, 16, 16, 16]
    with pytest.raises(ValueError, match="keep_ratio"):
        tp.keep_schedule(parts, 0.0)
    with pytest.raises(ValueError, match="stage blocks"):
        tp.keep_schedule(parts, 0.5, stages=[4])


@pytest.mark.parametrize("schedule", [[16, 16, 16, 16], [8, 4, 2, 2], [16, 12, 12, 3], [1, 1, 1, 1]])
def test_analytic_macs_equal_flop_counter_mode(vit, images, schedule):
    parts = tp.find_vit(vit)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        tp.run_tokens(parts, images[:1], schedule)
    assert tp.token_macs(parts, schedule) == counter.get_total_flops() // 2


def test_static_tokens_are_the_same_for_every_image_and_follow_the_mean_attention(vit, images):
    parts = tp.find_vit(vit)
    schedule = tp.keep_schedule(parts, 0.5, stages=[1])
    static = tp.static_positions(parts, images, schedule)
    # independent: the class token's mean attention to each patch in block 1, from torchvision's blocks
    with torch.no_grad():
        x = parts.embed(images)
        x = vit.encoder.layers[0](x)
        normed = vit.encoder.layers[1].ln_1(x)
        _, weights = vit.encoder.layers[1].self_attention(normed, normed, normed, need_weights=True)
    expected = sorted(weights[:, 0, 1:].mean(0).argsort(descending=True)[:8].tolist())
    assert len(static) == 1
    assert static[0].tolist() == expected
    with torch.no_grad():
        _, kept = tp.run_tokens(parts, images, schedule, "static", static=static, record=True)
    assert all(row.tolist() == expected for row in kept[0])


def test_tokens_kept_are_original_positions_nested_stage_by_stage(vit, images):
    parts = tp.find_vit(vit)
    schedule = tp.keep_schedule(parts, 0.5)
    with torch.no_grad():
        _, kept = tp.run_tokens(parts, images, schedule, record=True)
    for b in range(images.shape[0]):
        stages = [set(stage[b].tolist()) for stage in kept]
        assert all(0 <= p < 16 for p in stages[0])
        assert stages[1] <= stages[0]
        assert stages[2] <= stages[1]
    # per-image choices: not every image keeps the same first-stage tokens
    assert len({tuple(stage.tolist()) for stage in kept[0]}) > 1


def test_random_tokens_draw_from_the_generator(vit, images):
    parts = tp.find_vit(vit)
    schedule = tp.keep_schedule(parts, 0.5)
    runs = [
        tp.run_tokens(
            parts, images, schedule, "random", generator=torch.Generator().manual_seed(s), record=True
        )
        for s in (0, 0, 1)
    ]
    assert torch.equal(runs[0][1][0], runs[1][1][0])
    assert not torch.equal(runs[0][1][0], runs[2][1][0])


def test_a_cnn_is_refused_in_words():
    with pytest.raises(ModelError, match="Vision Transformer with a class token"):
        tp.find_vit(DigitsCNN())
    assert tp.token_blocks(DigitsCNN()) == 0
    assert tp.token_blocks(small_vit()) == 4


# ------------------------------------------------------------------ the session, on the trained digits_vit
@pytest.fixture(scope="module")
def vit_session():
    from explorer.session import PruningSession

    return PruningSession("digits_vit")


def _accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    return int((logits.argmax(1) == labels).sum()) / int(labels.shape[0])


def test_session_tokens_equal_a_plain_loop_on_the_validation_images(vit_session):
    model, val = vit_session.original_model(), vit_session.data.val
    result = vit_session.tokens(0.3, stages=[2])
    assert result["schedule"] == [64, 64, 19, 19]
    with torch.no_grad():
        dynamic = _accuracy(reference_forward(model, val.inputs, result["schedule"]), val.labels)
        original = _accuracy(model(val.inputs), val.labels)
    assert result["dynamic_accuracy"] == dynamic
    assert result["baseline_accuracy"] == original
    assert result["baseline_accuracy"] == vit_session.evaluate().accuracy
    parts = tp.find_vit(model)
    assert result["macs"] == tp.token_macs(parts, [64, 64, 19, 19])
    assert result["baseline_macs"] == vit_session.baseline_cost().macs
    assert "training-free" in result["method"]


def test_session_tokens_kept_are_the_runs_own_choices(vit_session):
    rows = vit_session.tokens_kept([0, 5], 0.5, stages=[1])
    model, val = vit_session.original_model(), vit_session.data.val
    with torch.no_grad():
        logits = reference_forward(model, val.inputs[[0, 5]], [64, 32, 32, 32])
    assert [r["prediction"] for r in rows] == logits.argmax(1).tolist()
    assert [r["grid"] for r in rows] == [[8, 8], [8, 8]]
    assert all(len(r["stages"]) == 1 and len(r["stages"][0]) == 32 for r in rows)
    assert vit_session.summary()["token_blocks"] == 4
