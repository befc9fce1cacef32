"""The core's small functions against values computed by hand: plans, masks, the cost model, the evaluator.

Fast (toy tensors and toy models only), so that the mutation run (``tools/mutation.sh``) can afford them; the
end-to-end comparisons (masked = exported, MACs = FlopCounterMode) are in ``test_exactness.py``.
"""

from __future__ import annotations

import json
import math
import threading

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from toy_models import DepthwiseNet, GroupedNet, PlainNet, ResidualNet, seeded

from explorer.cost import CostModel
from explorer.evaluation import (
    ActivationCache,
    Estimate,
    EvaluationCancelled,
    Evaluator,
    SegmentedModel,
    _estimate,
    first_batch_size,
    plan_batches,
)
from explorer.graph import build_groups
from explorer.masks import LayerCuts, apply_masks, compute_layer_cuts
from explorer.plan import (
    GroupChoice,
    Plan,
    PlanError,
    choose_global,
    count_to_prune,
    lowest,
    validate_indices,
)


# ---------------------------------------------------------------------------------------------- plans
def test_lowest_by_hand():
    scores = torch.tensor([3.0, 1.0, 2.0, 1.0, 5.0, -1.0])
    assert lowest(scores, 0) == ()
    assert lowest(scores, -2) == ()
    assert lowest(scores, 1) == (5,)
    assert lowest(scores, 2) == (1, 5)
    assert lowest(scores, 3) == (1, 3, 5)  # the tie 1.0 at 1 and 3: both go
    assert lowest(torch.tensor([2.0, 2.0, 2.0]), 2) == (0, 1)  # ties go to the lower index
    assert lowest(scores, 5) == (0, 1, 2, 3, 5)


def test_choose_global_by_hand():
    """Normalised by their ℓ2 norms, ``a`` = [0.6, 0.8] and ``b`` = [0.1, 0.3, 0.5, 0.7, 0.4] (norm 1):
    the 3 lowest of all 7 are b1 (0.1), b3 (0.3) and b4 (0.4)."""
    a = torch.tensor([3.0, 4.0])  # norm 5
    b = torch.tensor([0.1, 0.3, 0.5, 0.7, 0.4]) * 10  # norm 10
    assert choose_global({"a": a, "b": b}, 3 / 7) == {"a": (), "b": (0, 1, 4)}
    assert choose_global({"a": a, "b": b}, 5 / 7) == {"a": (0,), "b": (0, 1, 2, 4)}
    # the cap: b may lose at most floor(0.5 · 5) = 2, so the next lowest come from a (one kept)
    assert choose_global({"a": a, "b": b}, 4 / 7, max_pruning_ratio=0.5) == {"a": (0,), "b": (0, 1)}
    assert choose_global({"a": a, "b": b}, 0.0) == {"a": (), "b": ()}
    assert choose_global({}, 0.5) == {}
    # all-zero scores are not divided by their zero norm
    assert choose_global({"z": torch.zeros(4), "b": b}, 2 / 9) == {"z": (0, 1), "b": ()}
    # a group never loses all its channels, whatever the cap
    assert choose_global({"c": torch.tensor([1.0, 2.0])}, 0.5, max_pruning_ratio=1.0) == {"c": (0,)}
    # ... even when the other groups would let the total reach it: z keeps one of its two zeros
    ones = torch.ones(4)
    assert choose_global({"z": torch.zeros(2), "b": ones}, 0.5, max_pruning_ratio=1.0) == {
        "z": (0,),
        "b": (0, 1),
    }
    # a norm below 1 is divided out too: c = [1, 2, 2] / 10 and d = [2, 1, 2] both become [1/3, 2/3, 2/3]-like
    c, d = torch.tensor([0.1, 0.2, 0.2]), torch.tensor([2.0, 1.0, 2.0])
    assert choose_global({"c": c, "d": d}, 2 / 6) == {"c": (0,), "d": (1,)}
    for cap in (0, 0.0, 1.5, -0.5):
        with pytest.raises(PlanError, match=rf"^max_pruning_ratio must be in \(0, 1\], not {cap!r}$"):
            choose_global({"c": c}, 0.3, max_pruning_ratio=cap)


def test_count_to_prune_by_hand():
    assert count_to_prune(10, 0.0) == 0
    assert count_to_prune(10, 0.25) == 2  # round half to even: 2.5 → 2
    assert count_to_prune(10, 0.35) == 4
    assert count_to_prune(10, 0.99) == 9  # at least one kept
    assert count_to_prune(3, 0.9) == 2
    for bad in (1.0, -0.1, 1.5, float("nan"), float("inf"), "0.5", None):
        with pytest.raises(PlanError, match=r"outside \[0, 1\)"):
            count_to_prune(10, bad, "g")
    message = "is outside [0, 1): a ratio of 1 would remove all 10 channels, "
    message += "and at least one channel is always kept"
    with pytest.raises(PlanError) as error:
        count_to_prune(10, 1.0, "conv7")
    assert str(error.value) == f"ratio 1.0 for conv7 {message}"
    with pytest.raises(PlanError) as error:
        count_to_prune(10, 1.0)
    assert str(error.value) == f"ratio 1.0 {message}"


def test_validate_indices_by_hand():
    assert validate_indices("g", 5, [3, 1, 3, 0]) == (0, 1, 3)
    assert validate_indices("g", 5, []) == ()
    with pytest.raises(PlanError, match=r"indices \[-1, 5\] are out of range"):
        validate_indices("g", 5, [5, -1, 2])
    with pytest.raises(PlanError, match="removes all 3 channels of g"):
        validate_indices("g", 3, [0, 1, 2])
    assert validate_indices("g", 3, [0, 2]) == (0, 2)


def test_plan_json_round_trip_and_fields():
    plan = Plan({"a": GroupChoice((1, 4), 0.5, "l1"), "b": GroupChoice((), 0.0, "l1")}, model="m")
    data = json.loads(plan.to_json())
    assert data == {
        "format": "pruning-explorer-plan",
        "version": 1,
        "model": "m",
        "groups": {
            "a": {"pruned": [1, 4], "ratio": 0.5, "criterion": "l1"},
            "b": {"pruned": [], "ratio": 0.0, "criterion": "l1"},
        },
    }
    assert plan.pruned() == {"a": (1, 4)}
    assert plan.to_json() == json.dumps(plan.to_dict(), indent=2)  # a saved plan is indented, for reading
    assert plan.to_json(indent=None) == json.dumps(plan.to_dict())
    again = Plan.from_json(plan.to_json(indent=None))
    assert again == plan
    loose = Plan.from_dict({"groups": {"a": {"pruned": [4, 1]}}, "model": 3})
    assert loose == Plan({"a": GroupChoice((1, 4), 0.0, "manual")}, None)
    assert isinstance(loose.choices["a"].ratio, float)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "^not a pruning plan: expected a JSON object whose 'groups' is an object$"),
        ({"groups": []}, "^not a pruning plan: expected a JSON object"),
        ({"format": "other", "groups": {}}, "format is 'other'"),
        ({"groups": {"a": {"pruned": 3}}}, "needs a 'pruned' list"),
        ({"groups": {"a": [1]}}, "needs a 'pruned' list"),
        ({"groups": {"a": {"pruned": [1.5]}}}, "integer channel indices"),
        ({"groups": {"a": {"pruned": [True]}}}, "integer channel indices"),
        ({"groups": {"a": {"pruned": [], "ratio": "x"}}}, "'ratio' must be a number"),
        ({"groups": {"a": {"pruned": [], "ratio": True}}}, "'ratio' must be a number"),
        ({"groups": {"a": {"pruned": [], "criterion": 1}}}, "'criterion' must be a string"),
    ],
)
def test_plan_from_dict_refuses_what_is_not_a_plan(data, match):
    with pytest.raises(PlanError, match=match):
        Plan.from_dict(data)


def test_plan_from_json_refuses_bad_json():
    with pytest.raises(PlanError, match="not valid JSON"):
        Plan.from_json("{")


# ---------------------------------------------------------------------------------------------- masks
def test_masks_zero_exactly_the_removed_channels_and_leave_no_hook():
    model = seeded(PlainNet())
    x = torch.randn(2, 1, 8, 8)
    cuts = LayerCuts()
    cuts.add("features.1", "out", [1, 3])  # the first BN's outputs 1 and 3
    cuts.add("classifier", "inp", [0, 7])  # the classifier's inputs 0 and 7
    seen = {}
    with apply_masks(model, cuts):
        handles = [
            model.features[1].register_forward_hook(lambda _m, _i, o: seen.__setitem__("bn", o)),
            model.classifier.register_forward_pre_hook(lambda _m, i: seen.__setitem__("fc", i[0])),
        ]
        with torch.no_grad():
            masked = model(x)
        for h in handles:
            h.remove()
    with torch.no_grad():
        want = model.features[1](model.features[0](x))
        want[:, [1, 3]] = 0  # the BN's output, zeroed after the BN (its shift would survive a zeroed input)
        assert torch.equal(seen["bn"], want)
        for layer in list(model.features)[2:]:
            want = layer(want)
        want[:, [0, 7]] = 0
        assert torch.allclose(seen["fc"], want, atol=1e-6)
        assert torch.allclose(masked, model.classifier(want), atol=1e-6)
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_masks_are_removed_after_an_error():
    model = seeded(PlainNet())
    cuts = LayerCuts()
    cuts.add("features.0", "out", [0])
    cuts.add("features.3", "inp", [0])
    installed = []

    def fail_inside() -> None:
        with apply_masks(model, cuts):
            installed.append(bool(model.features[0]._forward_hooks and model.features[3]._forward_pre_hooks))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fail_inside()
    assert installed == [True]
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_a_mask_follows_the_shape_dtype_and_channel_dim_it_meets():
    """One hook, several calls: each shape gets its own 0/1 vector, along the layer's channel dimension."""
    linear = nn.Linear(4, 6)
    cuts = LayerCuts()
    cuts.add("", "out", [0, 5])
    with apply_masks(linear, cuts), torch.no_grad():
        a = linear(torch.randn(3, 4))
        b = linear(torch.randn(2, 7, 4)).double()
        c = linear.double()(torch.randn(2, 4, dtype=torch.double))
    for out in (a, b, c):
        assert (out[..., [0, 5]] == 0).all()
        assert (out[..., 1:5] != 0).all()
    assert c.dtype == torch.double
    with apply_masks(linear, cuts), torch.no_grad():
        d = linear.bfloat16()(torch.randn(2, 4, dtype=torch.bfloat16))
    assert d.dtype == torch.bfloat16  # the vector follows the dtype: no promotion to a wider one
    assert (d[:, [0, 5]] == 0).all()
    norm = nn.BatchNorm1d(4).eval()  # along dim 1 of [N, C] and of [N, C, L]: two shapes, two vectors
    cuts = LayerCuts()
    cuts.add("", "out", [2])
    with apply_masks(norm, cuts), torch.no_grad():
        flat, seq = norm(torch.ones(3, 4)), norm(torch.ones(3, 4, 5))
    assert flat.shape == (3, 4)
    assert seq.shape == (3, 4, 5)
    assert (flat[:, 2] == 0).all()
    assert (seq[:, 2] == 0).all()
    assert (flat[:, [0, 1, 3]] != 0).all()
    assert (seq[:, [0, 1, 3]] != 0).all()


def test_layer_norm_is_recomputed_over_its_kept_channels():
    norm = nn.LayerNorm(6)
    with torch.no_grad():
        norm.weight.copy_(torch.linspace(0.5, 1.5, 6))
        norm.bias.copy_(torch.linspace(-0.2, 0.3, 6))
    x = torch.randn(3, 5, 6)
    cuts = LayerCuts()
    cuts.add("", "out", [1])
    cuts.add("", "inp", [4])
    with apply_masks(norm, cuts), torch.no_grad():
        masked = norm(x)
    kept = [0, 2, 3, 5]
    want = F.layer_norm(x[..., kept], (4,), norm.weight[kept], norm.bias[kept], norm.eps)
    assert torch.allclose(masked[..., kept], want, atol=1e-6)
    assert (masked[..., [1, 4]] == 0).all()
    with apply_masks(norm.double(), cuts), torch.no_grad():  # computed in float32, returned in the model's
        wide = norm(x.double())
    assert wide.dtype == torch.float64
    assert torch.allclose(wide, masked.double(), atol=1e-6)


# ----------------------------------------------------------------------------------------------- cost
def test_cost_of_plain_convs_and_linears_by_hand():
    """PlainNet: convs 1→4→6 at 8×8, 6→8 at 4×4 (after pooling), linear 8→5."""
    model = seeded(PlainNet())
    x = torch.randn(1, 1, 8, 8)
    graph = build_groups(model, x)
    cost = CostModel(model, x)
    full = 64 * 9 * (1 * 4 + 4 * 6) + 16 * 9 * 6 * 8 + 8 * 5
    params = (9 * 4 + 4) + 2 * 4 + (9 * 4 * 6 + 6) + 2 * 6 + (9 * 6 * 8 + 8) + 2 * 8 + (8 * 5 + 5)
    assert cost.count(compute_layer_cuts(graph, {})) == (cost.count(LayerCuts()))
    assert cost.count(LayerCuts()).macs == full
    assert cost.count(LayerCuts()).params == params
    assert cost.count(LayerCuts()).flops == 2 * full
    plan = {"features.0": (0,), "features.7": (1, 2, 3)}  # 4→3 and 8→5 channels
    cut = cost.count(compute_layer_cuts(graph, plan))
    assert cut.macs == 64 * 9 * (1 * 3 + 3 * 6) + 16 * 9 * 6 * 5 + 5 * 5
    assert cut.params == (9 * 3 + 3) + 2 * 3 + (9 * 3 * 6 + 6) + 2 * 6 + (9 * 6 * 5 + 5) + 2 * 5 + (5 * 5 + 5)
    assert type(cut.params) is int
    per_layer = cost.count_macs_per_layer(compute_layer_cuts(graph, plan))
    assert per_layer == {
        "features.0": 64 * 9 * 3,
        "features.3": 64 * 9 * 3 * 6,
        "features.7": 16 * 9 * 6 * 5,
        "classifier": 5 * 5,
    }


def test_cost_of_grouped_and_depthwise_convs_by_hand():
    x = torch.randn(1, 1, 8, 8)
    grouped = seeded(GroupedNet())
    cost = CostModel(grouped, x)
    cuts = LayerCuts()
    cuts.add("grouped", "inp", [0, 1, 4, 5])  # two inputs of each of the 2 groups
    cuts.add("grouped", "out", [0, 6])
    per_layer = cost.count_macs_per_layer(cuts)
    assert per_layer["grouped"] == 64 * 9 * (4 // 2) * 10
    weight = 10 * (4 // 2) * 9  # [C_out, C_in / groups, 3, 3]
    assert cost.count(cuts).params - cost.count(LayerCuts()).params == weight - 12 * 4 * 9
    assert type(cost.count(cuts).params) is int
    assert type(cost.count(cuts).macs) is int
    depthwise = seeded(DepthwiseNet())
    cost = CostModel(depthwise, x)
    cuts = LayerCuts()
    cuts.add("depthwise", "out", [2, 3])
    cuts.add("depthwise", "inp", [3, 7])  # either side removes the channel: 3 of 8 go
    assert cost.count_macs_per_layer(cuts)["depthwise"] == 64 * 9 * 5
    assert cost.count(cuts).params - cost.count(LayerCuts()).params == -3 * 9
    assert type(cost.count(cuts).params) is int
    pair = nn.Conv2d(2, 2, 3, padding=1, groups=2)  # depthwise with two channels
    cuts = LayerCuts()
    cuts.add("", "inp", [0])
    assert CostModel(pair, x.repeat(1, 2, 1, 1)).count_macs(cuts) == 64 * 9 * 1


def test_transposed_conv_is_counted():
    class Up(nn.Module):
        def __init__(self):
            super().__init__()
            self.up = nn.ConvTranspose2d(4, 6, 2, stride=2)
            self.fc = nn.Linear(6, 3)

        def forward(self, x):
            y = self.up(x)  # 4×4 → 8×8
            return self.fc(y.mean((2, 3)))

    model = Up()
    x = torch.randn(2, 4, 4, 4)
    cost = CostModel(model, x)
    # transposed conv: each input pixel meets the whole kernel: H_in·W_in·k²·C_in·C_out
    assert cost.count(LayerCuts()).macs == 16 * 4 * 4 * 6 + 6 * 3
    assert cost.count(LayerCuts()).macs == counted_macs(model, x)
    assert type(cost.count(LayerCuts()).macs) is int
    single = nn.Sequential(nn.ConvTranspose2d(1, 1, 3, stride=2), nn.Conv1d(1, 2, 3))  # 1 sample, 1 channel
    one = torch.randn(1, 1, 4, 4)
    cost = CostModel(single[0], one)
    assert cost.count(LayerCuts()).macs == 16 * 9 == counted_macs(single[0], one)
    line = torch.randn(1, 1, 10)  # Conv1d: L_out · k · C_in · C_out
    assert (
        CostModel(single[1], line).count(LayerCuts()).macs == 8 * 3 * 1 * 2 == counted_macs(single[1], line)
    )
    # (a transposed conv is never cut: the graph refuses any group that holds one)


class Scalar(nn.Module):
    """A layer whose only parameter is a 0-dim tensor (a learnt temperature)."""

    def __init__(self):
        super().__init__()
        self.t = nn.Parameter(torch.tensor(2.0))

    def forward(self, x):
        return x * self.t


class OddShapes(nn.Module):
    """One output filter, linears whose input width is odd, a matmul between activations, a bare parameter."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 1, 3, padding=1)
        self.fc = nn.Linear(25, 3)
        self.gamma = nn.Parameter(torch.tensor([1.0, 2.0, 3.0]))
        self.head = nn.Linear(9, 4, bias=False)  # a matmul without bias: mm, not addmm
        self.temp = Scalar()

    def forward(self, x):
        y = self.fc(self.conv(x).flatten(1)) * self.gamma
        z = torch.bmm(y.unsqueeze(2), y.unsqueeze(1))  # [N, 3, 3]: no weight, its cost is fixed
        return self.temp(self.head(z.flatten(1)))


def test_cost_of_odd_shapes_by_hand():
    """A batch of 2 is divided out even where a row count is odd; the counts are ints."""
    model = seeded(OddShapes())
    x = torch.randn(2, 3, 5, 5)
    cost = CostModel(model, x)
    full = cost.count(LayerCuts())
    macs = 25 * 9 * 3 * 1 + 25 * 3 + 3 * 3 + 9 * 4  # conv, fc, bmm (3×1 by 1×3), head
    params = (27 + 1) + (75 + 3) + 3 + 36 + 1
    assert (full.macs, full.params) == (macs, params)
    assert type(full.macs) is int
    assert type(full.params) is int
    assert full.macs == counted_macs(model, x)
    assert cost.count_macs_per_layer(LayerCuts())[None] == 9  # the matmul belongs to no layer
    cuts = LayerCuts()
    cuts.add("fc", "inp", [0, 1, 2, 3, 4])
    cuts.add_param("gamma", 0, [1])  # a bare parameter loses one entry along its dimension 0
    cuts.add("temp", "out", [0])  # a 0-dim parameter has no channel to lose
    cuts.add("head", "inp", [0])
    cut = cost.count(cuts)
    assert cut.macs == macs - 5 * 3 - 4
    assert cut.params == params - 5 * 3 - 1 - 4
    assert cost.count_macs_per_layer(cuts) == {"conv": 25 * 9 * 3, "fc": 20 * 3, None: 9, "head": 8 * 4}
    assert type(cut.macs) is int
    assert type(cut.params) is int


def counted_macs(model: nn.Module, x: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x[:1])
    return counter.get_total_flops() // 2


def test_recording_the_cost_computes_what_the_model_computes():
    """The recording pass runs every op with its keyword arguments (``alpha=``, ``approximate=``)."""

    class Keywords(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)
            self.out = nn.Linear(4, 2)

        def forward(self, x):
            h = torch.add(x, self.fc(x), alpha=3.0)
            return self.out(F.gelu(h, approximate="tanh"))

    model = seeded(Keywords())
    x = torch.randn(3, 4)
    seen = []
    model.out.register_forward_hook(lambda _m, _i, out: seen.append(out.detach().clone()))
    CostModel(model, x)
    with torch.no_grad():
        h = x + 3.0 * model.fc(x)
        want = model.out(0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h**3))))
    assert torch.allclose(seen[0], want, atol=1e-6)


# ------------------------------------------------------------------------------------------ evaluation
def test_estimate_by_hand():
    """7 right of 10 seen, of 25: p̂ ± 1.96·sqrt(p̂(1−p̂)/n·(N−n)/(N−1)); loss: sample variance."""
    losses = [0.5, 1.0, 0.2, 2.0, 0.1, 0.3, 0.9, 1.5, 0.05, 0.4]
    total_sq = sum(v * v for v in losses)
    est = _estimate(7, 9, sum(losses), total_sq, 10, 25, True)
    fpc = (25 - 10) / (25 - 1)
    assert est.accuracy == 0.7
    assert est.accuracy_ci == pytest.approx(1.96 * math.sqrt(0.7 * 0.3 / 10 * fpc), rel=1e-12)
    mean = sum(losses) / 10
    var = sum((v - mean) ** 2 for v in losses) / 9
    assert est.loss == pytest.approx(mean, rel=1e-12)
    assert est.loss_ci == pytest.approx(1.96 * math.sqrt(var / 10 * fpc), rel=1e-9)
    assert est.top5 == 0.9
    assert (est.seen, est.total, est.final) == (10, 25, False)
    assert _estimate(7, 9, sum(losses), total_sq, 10, 25, False).top5 is None
    final = _estimate(7, 9, sum(losses), total_sq, 10, 10, True)
    assert (final.accuracy_ci, final.loss_ci, final.final) == (0.0, 0.0, True)
    single = _estimate(1, 1, 0.5, 0.25, 1, 1, True)  # one sample in all: no division by N − 1 = 0
    assert (single.accuracy_ci, single.loss_ci) == (0.0, 0.0)
    two = _estimate(1, 1, 1.5, 1.25, 2, 9, True)  # losses 0.5 and 1.0: sample variance 0.125 (n − 1 = 1)
    assert two.loss_ci == pytest.approx(1.96 * math.sqrt(0.125 / 2 * (9 - 2) / 8), rel=1e-12)
    one_of_many = _estimate(0, 0, 0.5, 0.25, 1, 9, True)  # one seen: the variance's n − 1 is kept ≥ 1
    assert one_of_many.loss_ci == 0.0
    assert one_of_many.accuracy_ci == 0.0


def test_plan_batches_by_hand():
    assert plan_batches(0) == []
    assert plan_batches(50) == [50]
    assert plan_batches(64) == [64]
    assert plan_batches(65) == [64, 1]
    assert plan_batches(500) == [64, 200, 200, 36]
    assert plan_batches(10, batch_size=4, first_batch=3) == [3, 4, 3]


def test_first_batch_size_by_hand():
    """32e9 MACs' worth of samples, between 8 and ``largest``."""
    assert first_batch_size(10**15) == 8  # never below 8
    assert first_batch_size(int(32e9 // 9)) == 9
    assert first_batch_size(int(32e9 // 20)) == 20
    assert first_batch_size(1) == 64
    assert first_batch_size(0) == 64  # a model that costs nothing: no division by zero
    assert first_batch_size(1, largest=16) == 16


def test_activation_cache_is_lru_within_its_budget():
    cache = ActivationCache(budget_bytes=100)  # float32: 25 values
    cache.put(("a",), torch.zeros(10))  # 40 bytes
    cache.put(("b",), torch.zeros(10))  # 80
    assert cache.get(("a",)) is not None  # a is now the most recently used
    cache.put(("c",), torch.zeros(5))  # 100: fits exactly, nothing evicted
    assert cache.used == 100
    cache.put(("d",), torch.zeros(1))  # 104: evicts the least recently used, b
    assert cache.get(("b",)) is None
    assert cache.get(("a",)) is not None
    assert cache.get(("c",)) is not None
    assert cache.get(("d",)) is not None
    assert cache.used == 64
    assert (cache.hits, cache.misses) == (4, 1)
    cache.put(("big",), torch.zeros(26))  # larger than the whole budget: not stored, nothing evicted
    assert cache.get(("big",)) is None
    assert cache.used == 64
    cache.put(("a",), torch.zeros(20))  # an existing key is not replaced nor counted twice
    assert cache.used == 64
    assert cache.get(("a",)).numel() == 10
    # recency now, oldest first: c, d, a (read last): shrinking drops c (20 bytes), then d (4), keeps a
    cache.resize(43)
    assert cache.used == 40
    assert cache.budget == 43
    assert cache.get(("c",)) is None
    assert cache.get(("d",)) is None
    assert cache.get(("a",)) is not None
    cache.clear()
    assert cache.used == 0
    assert cache.get(("a",)) is None


def test_an_evaluation_pass_keeps_its_own_entries():
    """Within a pass, the entries it wrote are kept and a newcomer that does not fit is dropped; outside
    any pass, plain LRU."""
    cache = ActivationCache(budget_bytes=80)  # two entries of 40 bytes
    with cache.evaluation_pass():
        cache.put(("a",), torch.zeros(10))
        cache.put(("b",), torch.zeros(10))
        cache.put(("c",), torch.zeros(10))  # would evict a, which this pass wrote: c is dropped instead
        assert [k for k in (("a",), ("b",), ("c",)) if cache.get(k) is not None] == [("a",), ("b",)]
    with cache.evaluation_pass():  # a new pass: the old one's entries give way
        cache.put(("c",), torch.zeros(10))
        assert cache.get(("c",)) is not None
        assert cache.get(("a",)) is None
    with cache.evaluation_pass():  # what a pass reads is kept as well: b is read, a gives way, then nothing
        assert cache.get(("b",)) is not None
        cache.put(("a",), torch.zeros(10))
        cache.put(("d",), torch.zeros(10))
        assert [k for k in (("a",), ("b",), ("c",), ("d",)) if cache.get(k) is not None] == [("a",), ("b",)]
    cache.put(("d",), torch.zeros(10))  # no pass open: LRU evicts a, read before b
    assert cache.get(("a",)) is None
    assert cache.used == 80
    cache.resize(80)  # exactly what is held: nothing goes
    assert cache.used == 80
    exact = ActivationCache(budget_bytes=40)
    exact.put(("e",), torch.zeros(10))  # exactly the budget: kept
    assert exact.used == 40


def test_segments_cut_between_blocks_and_run_like_the_model():
    model = seeded(ResidualNet())
    segmented = SegmentedModel(model)
    assert segmented.traced
    # the residual block's two convs stay together: the stem / the block / the head
    assert [sorted(s.modules & {"stem", "conv1", "conv2", "head"}) for s in segmented.segments] == [
        ["stem"],
        ["conv1", "conv2"],
        ["head"],
    ]
    x = torch.randn(2, 1, 8, 8)
    seen: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        out = segmented.run(x, 0, seen.__setitem__)
        assert torch.allclose(out, model(x), atol=1e-6)
        assert sorted(seen) == [0, 1, 2]
        assert torch.equal(seen[2], out)
        # from a boundary: the rest of the network on the cached value, and only the rest is reported
        later: dict[int, torch.Tensor] = {}
        assert torch.equal(segmented.run(seen[0], 1, later.__setitem__), out)
        assert sorted(later) == [1, 2]
        assert torch.equal(segmented.run(seen[1], 2, lambda *_: None), out)
        stem = model.stem_bn(model.stem(x))  # the boundary sits before the ReLU (a function, not a module)
        assert torch.allclose(seen[0], stem, atol=1e-6)


class Traced(nn.Module):
    """Every kind of traced node a segment must replay: a parameter read directly (get_attr), a node passed
    by keyword to a function and to a method, a value computed and never used, and a function after the last
    layer."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.scale = nn.Parameter(torch.tensor([0.5, -1.0, 2.0, 3.0]).view(1, 4, 1, 1))
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        h = self.conv(x)
        h.sum()  # dead: traced, never read
        h = torch.add(h, other=h * self.scale)
        h = self.conv2(h).relu()
        return self.fc(input=h.mean(dim=(2, 3))) * 2.0 - 1.0  # a layer called by keyword, on a boundary


def by_hand(model: Traced, x: torch.Tensor) -> torch.Tensor:
    h = F.conv2d(x, model.conv.weight, model.conv.bias, padding=1)
    h = h + h * model.scale
    h = F.conv2d(h, model.conv2.weight, model.conv2.bias, padding=1).clamp_min(0)
    return (h.mean((2, 3)) @ model.fc.weight.T + model.fc.bias) * 2.0 - 1.0


def test_segments_replay_every_kind_of_traced_node():
    model = seeded(Traced())
    segmented = SegmentedModel(model)
    assert segmented.traced
    assert [sorted(s.modules) for s in segmented.segments] == [["conv"], ["conv2"], ["fc"]]
    x = torch.randn(2, 1, 6, 6)
    seen: dict[int, torch.Tensor] = {}
    with torch.no_grad():
        want = by_hand(model, x)
        assert torch.allclose(segmented.run(x, 0, seen.__setitem__), want, atol=1e-5)
        assert torch.allclose(seen[0], model.conv(x), atol=1e-6)  # the boundary right after the first layer
        assert torch.allclose(segmented.run(seen[0], 1, lambda *_: None), want, atol=1e-5)
        assert torch.allclose(segmented.run(seen[1], 2, lambda *_: None), want, atol=1e-5)


def _toy_evaluator(model, n=23, batches=(5, 8, 10), budget=1 << 20, seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(n, 1, 8, 8, generator=generator)
    labels = torch.randint(0, 5, (n,), generator=generator)
    return Evaluator(model, inputs, labels, list(batches), cache_budget=budget), inputs, labels


@pytest.mark.parametrize("toy", [PlainNet, ResidualNet])
def test_evaluator_equals_a_plain_loop_under_the_masks(toy):
    model = seeded(toy())
    evaluator, inputs, labels = _toy_evaluator(model)
    graph = build_groups(model, inputs[:2])
    plan = {g.name: (0, 2) for g in graph.prunable}
    cuts = compute_layer_cuts(graph, plan)
    estimates = list(evaluator.iter_estimates(cuts))
    with torch.no_grad(), apply_masks(model, cuts):
        logits = model(inputs)
    losses = F.cross_entropy(logits, labels, reduction="none").double()
    right = logits.argmax(1) == labels
    top5 = (logits.topk(5, 1).indices == labels[:, None]).any(1)
    assert [e.seen for e in estimates] == [5, 13, 23]
    for est in estimates:
        n = est.seen
        assert est.accuracy == int(right[:n].sum()) / n
        assert est.top5 == int(top5[:n].sum()) / n
        assert est.loss == pytest.approx(float(losses[:n].mean()), rel=1e-5)
        if n < 23:
            p, fpc = est.accuracy, (23 - n) / 22
            assert est.accuracy_ci == pytest.approx(1.96 * math.sqrt(p * (1 - p) / n * fpc), rel=1e-12)
            sd = float(losses[:n].std())  # the sample standard deviation (n − 1)
            assert est.loss_ci == pytest.approx(1.96 * sd / math.sqrt(n) * math.sqrt(fpc), rel=1e-4)
    assert estimates[-1].accuracy_ci == 0.0
    assert evaluator.evaluate(cuts) == estimates[-1]
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_top5_counts_the_label_among_the_five_highest_of_ten():
    model = seeded(PlainNet(num_classes=10))
    generator = torch.Generator().manual_seed(1)
    inputs = torch.randn(16, 1, 8, 8, generator=generator)
    labels = torch.randint(0, 10, (16,), generator=generator)
    evaluator = Evaluator(model, inputs, labels, [16])
    with torch.no_grad():
        ranked = model(inputs).argsort(dim=1, descending=True)[:, :5].tolist()
    hits = sum(int(y) in row for row, y in zip(ranked, labels.tolist(), strict=True))
    assert 0 < hits < 16  # neither all nor none: the count can be wrong both ways
    assert evaluator.evaluate(LayerCuts()).top5 == hits / 16
    list(evaluator.iter_estimates(LayerCuts()))  # iter_estimates uses the cache unless told not to
    assert evaluator.cache.hits == 1  # the second pass reads the logits the first one left


def test_the_cache_starts_at_the_first_changed_segment():
    """Counting the calls of each layer: a change in the head reruns only the head; a change in the block
    reruns the block and the head; the cached result equals the uncached one."""
    model = seeded(ResidualNet())
    evaluator, inputs, _ = _toy_evaluator(model)
    graph = build_groups(model, inputs[:2])
    calls = {"stem": 0, "conv1": 0, "head": 0}
    for name in calls:
        model.get_submodule(name).register_forward_hook(
            lambda *_a, name=name: calls.__setitem__(name, calls[name] + 1)
        )
    batches = len(evaluator.batches)
    empty = evaluator.evaluate(LayerCuts())
    assert calls == {"stem": batches, "conv1": batches, "head": batches}
    block = next(g.name for g in graph.prunable if "conv1" in g.layers and "stem" not in g.layers)
    cuts = compute_layer_cuts(graph, {block: (1,)})
    cached = evaluator.evaluate(cuts)
    assert calls == {"stem": batches, "conv1": 2 * batches, "head": 2 * batches}
    again = evaluator.evaluate(cuts)  # everything is cached, even the logits
    assert calls == {"stem": batches, "conv1": 2 * batches, "head": 2 * batches}
    assert cached == again == evaluator.evaluate(cuts, use_cache=False)
    assert calls == {"stem": 2 * batches, "conv1": 3 * batches, "head": 3 * batches}
    assert evaluator.evaluate(LayerCuts()) == empty
    assert evaluator.cache.hits > 0
    head = LayerCuts()
    head.add("head", "inp", [0])  # a change in the last segment only: the block's outputs are reused
    before = dict(calls)
    evaluator.evaluate(head)
    assert calls == {"stem": before["stem"], "conv1": before["conv1"], "head": before["head"] + batches}


def test_cancelling_stops_between_batches():
    model = seeded(PlainNet())
    evaluator, _, _ = _toy_evaluator(model)
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 2

    running = evaluator.iter_estimates(LayerCuts(), should_stop=stop)
    assert next(running).seen == 5
    assert next(running).seen == 13
    with pytest.raises(EvaluationCancelled):
        next(running)
    with pytest.raises(EvaluationCancelled):
        evaluator.evaluate(LayerCuts(), should_stop=lambda: True)


def test_bf16_evaluation_runs_under_autocast():
    """precision="bf16": the logits are what autocast to bfloat16 computes, batch by batch, not fp32's."""
    model = seeded(PlainNet())
    generator = torch.Generator().manual_seed(0)
    inputs = torch.randn(12, 1, 8, 8, generator=generator)
    labels = torch.randint(0, 5, (12,), generator=generator)
    got = Evaluator(model, inputs, labels, [5, 7], precision="bf16").evaluate(LayerCuts())
    losses = []
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        for part, y in ((slice(0, 5), labels[:5]), (slice(5, 12), labels[5:])):
            x = inputs[part].contiguous(memory_format=torch.channels_last)
            losses.append(F.cross_entropy(model(x).float(), y, reduction="none").double())
    want = float(torch.cat(losses).mean())
    assert got.loss == pytest.approx(want, rel=1e-6)
    fp32 = Evaluator(model, inputs, labels, [5, 7]).evaluate(LayerCuts()).loss
    assert abs(fp32 - want) > 1e-4 * abs(want)  # bf16's rounding shows: the check above can fail


def test_shuffled_visits_a_seeded_permutation():
    model = seeded(PlainNet())

    class Split:
        inputs = torch.randn(12, 1, 8, 8)
        labels = torch.arange(12) % 5

    lock = threading.RLock()
    a = Evaluator.shuffled(model, Split, 3, [4, 8], 1 << 20, lock)
    assert a.lock is lock  # the session's lock: its scorers never see the evaluation's masks
    assert (a.precision, Evaluator.shuffled(model, Split, 3, [12], 1 << 20, lock, "bf16").precision) == (
        "fp32",
        "bf16",
    )
    order = torch.randperm(12, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat([y for _, y in a.batches]), Split.labels[order])
    assert torch.equal(torch.cat([x for x, _ in a.batches]), Split.inputs[order])
    assert a.total == 12
    assert isinstance(a.evaluate(LayerCuts()), Estimate)
