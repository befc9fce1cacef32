"""Robustness (issue 8): odd models, bad data, broken weights, hostile files, interrupted jobs, memory.

Complements ``test_checkpoints.py`` (reading checkpoints), ``test_data.py`` (``load_data`` errors),
``test_graph.py`` (``build_groups`` fallback) and ``test_exactness.py`` (random plans on zoo models): here
the same situations are driven through ``PruningSession`` and the files it writes, as a user would meet them.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, Dataset, TensorDataset
from torch.utils.flop_counter import FlopCounterMode
from toy_models import NoConvNet, PlainNet, ResidualNet, seeded

import explorer.graph
from explorer import PruningSession, create_model, load_model, load_pruned, save_pruned
from explorer.checkpoints import load_checkpoint_state_dict
from explorer.criteria import ScoringCancelled, compute_group_scores
from explorer.criteria.fpgm import fpgm_scores
from explorer.errors import CheckpointError, DataError, ExplorerError, ModelError
from explorer.evaluation import EvaluationCancelled
from explorer.plan import GroupChoice, Plan, PlanError

PACKAGE = Path(explorer.__file__).resolve().parent


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """One intra-op thread: on these two shared cores, OpenMP's spin-waiting made this module 2-3x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------------------------------- helpers
def fingerprint(model: nn.Module) -> str:
    """SHA-256 of every parameter and buffer, names included."""
    digest = hashlib.sha256()
    for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def hooked_modules(model: nn.Module) -> list[str]:
    return [n for n, m in model.named_modules() if m._forward_hooks or m._forward_pre_hooks]


def toy_data(n: int = 40, shape=(1, 8, 8), classes: int = 5, seed: int = 0) -> TensorDataset:
    generator = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, *shape, generator=generator), torch.arange(n) % classes)


def digits_session(**kwargs) -> PruningSession:
    return PruningSession("digits_cnn", num_samples=100, **kwargs)


@pytest.fixture
def session() -> PruningSession:
    """A fresh digits_cnn session (trained embedded weights, 100 validation samples)."""
    return digits_session()


class ListDataset(Dataset):
    """A map-style dataset over a list of items, whatever they are."""

    def __init__(self, items):
        self.items = list(items)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


# -------------------------------------------------------------------------------------------- models
def test_a_model_without_convolutions_is_refused_clearly():
    with pytest.raises(ModelError, match="no convolution"):
        PruningSession(NoConvNet(), data=toy_data(classes=10))


def _refuse_to_trace(*_args, **_kwargs):
    raise RuntimeError("torch-pruning cannot follow this graph")


def test_untraceable_model_falls_back_to_per_conv_groups_with_a_visible_warning(monkeypatch):
    """torch-pruning fails: a UserWarning, ``session.warnings``, every conv listed, and the session works."""
    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", _refuse_to_trace)
    with pytest.warns(UserWarning, match="trace"):
        s = PruningSession(seeded(ResidualNet()), data=toy_data())
    assert not s.graph.traced
    assert s.warnings
    assert any("trace" in w for w in s.warnings)
    listed = {layer for g in s.all_groups for layer in g.layers}
    assert {"stem", "conv1", "conv2"} <= listed
    refused = [g for g in s.all_groups if not g.prunable]
    assert refused
    assert all(g.reason for g in refused)
    assert s.groups, "the plain conv1 → bn1 → conv2 chain can still be offered"
    for criterion in ("l1", "fpgm", "bn_scale", "taylor"):
        scores = s.scores(criterion)
        assert {name: v.shape for name, v in scores.items()} == {g.name: (g.num_channels,) for g in s.groups}
    name = s.groups[0].name
    s.set_ratio(name, 0.5)
    metrics = s.evaluate()
    assert metrics.params < s.baseline_cost().params
    if s.graph.exportable:  # the torch.fx fallback can remove channels layer by layer: it must be exact
        exported = s.export()
        assert s.verify_export(exported) <= 1e-4
        assert metrics.params == sum(p.numel() for p in exported.parameters())
    else:
        with pytest.raises(ModelError, match="trac"):
            s.export()


class BranchyNet(nn.Module):
    """Data-dependent control flow: which conv runs depends on the sign of the input's mean."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv_pos = nn.Conv2d(6, 8, 3, padding=1)
        self.conv_neg = nn.Conv2d(6, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)

    def forward(self, x):
        h = F.relu(self.bn1(self.conv1(x)))
        h = self.conv_pos(h) if x.mean() > 0 else self.conv_neg(h)
        return self.fc(F.relu(h).mean((2, 3)))


def _positive_data(n: int = 24) -> TensorDataset:
    inputs, labels = toy_data(n, classes=4).tensors
    return TensorDataset(inputs + 1.0, labels)  # every sample takes the conv_pos branch


def test_data_dependent_control_flow_without_any_tracer_falls_back_and_refuses_export(monkeypatch):
    """torch-pruning refused, and torch.fx cannot trace an ``if`` on a tensor: lone groups, no export."""
    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", _refuse_to_trace)
    with pytest.warns(UserWarning, match="trace"):
        s = PruningSession(seeded(BranchyNet()), data=_positive_data())
    assert not s.graph.traced
    assert s.warnings
    assert [g.name for g in s.all_groups] == ["conv1", "conv_pos", "conv_neg"]
    s.set_ratio("conv1", 0.5)
    assert s.evaluate().final
    with pytest.raises(ModelError, match="trac"):
        s.export()


def test_without_any_tracer_an_offered_mask_still_means_removal(monkeypatch):
    """Removing conv1's channels removes them from bn1 too: conv_pos must then see zeros there."""
    monkeypatch.setattr(explorer.graph.discovery, "_build_dependency_graph", _refuse_to_trace)
    model = seeded(BranchyNet())
    with pytest.warns(UserWarning, match="trace"):
        s = PruningSession(model, data=_positive_data())
    conv1 = s.graph["conv1"]
    if not conv1.prunable:  # refusing it is honest too, as long as the reason is shown
        assert conv1.reason
        return
    removed = [0, 2, 4]
    s.set_pruned("conv1", removed)

    def zero_after_bn(_module, _inputs, output):
        output = output.clone()
        output[:, removed] = 0
        return output

    x = _positive_data().tensors[0][:8]
    handle = model.bn1.register_forward_hook(zero_after_bn)
    try:
        with torch.no_grad():
            reference = model(x)
    finally:
        handle.remove()
    assert torch.allclose(s.masked_outputs(x), reference, atol=1e-5)


def test_data_dependent_control_flow_is_never_silently_mis_grouped():
    """A real ``if x.mean() > 0`` forward: warn, list every conv, and never export a model that breaks."""
    data = _positive_data()
    with pytest.warns(UserWarning, match=r"(?i)trac|control flow|branch|reach"):
        s = PruningSession(seeded(BranchyNet()), data=data)
    assert s.warnings
    listed = {layer for g in s.all_groups for layer in g.layers}
    assert {"conv1", "conv_pos", "conv_neg"} <= listed
    assert not s.graph.exportable  # the traced forward never reached conv_neg: nothing to export from
    for group in s.groups:
        s.set_ratio(group.name, 0.5)
    with pytest.raises(ModelError, match="trac"):
        s.export()
    # the masks still mean removal on the branch the tracer never saw: a hand-masked forward agrees
    other_branch = -data.tensors[0][:4]
    model = s.model
    assert set(s.pruned) == {"conv1", "conv_pos", "conv_neg"}
    # conv1's channels are zeroed after its BN; the other two convs feed ReLU and the mean, so zero outputs
    removed = {
        "bn1": list(s.pruned["conv1"]),
        "conv_pos": [*s.pruned["conv_pos"]],
        "conv_neg": [*s.pruned["conv_neg"]],
    }

    def zero(name):
        def hook(_module, _inputs, output):
            output = output.clone()
            output[:, removed[name]] = 0
            return output

        return hook

    handles = [model.get_submodule(name).register_forward_hook(zero(name)) for name in removed]
    try:
        with torch.no_grad():
            reference = model(other_branch)
    finally:
        for handle in handles:
            handle.remove()
    assert torch.allclose(s.masked_outputs(other_branch), reference, atol=1e-5)


@pytest.mark.parametrize("frozen", ["first-conv", "everything"])
def test_frozen_parameters_hide_no_group(frozen):
    """Transfer-learning models often arrive with frozen layers: the grouping must not depend on it."""
    reference = [(g.name, g.prunable, g.layers) for g in digits_session().all_groups]
    model = create_model("digits_cnn", pretrained=True)
    frozen_params = [model.features[0].weight] if frozen == "first-conv" else list(model.parameters())
    for param in frozen_params:
        param.requires_grad_(False)
    s = PruningSession(model, data="digits", num_samples=100)  # a fallback warning would be an error
    assert s.graph.traced
    assert [(g.name, g.prunable, g.layers) for g in s.all_groups] == reference


class MixedNet(nn.Module):
    """A grouped conv (pruned by position in its groups) and a GroupNorm (refused), beside ordinary convs."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.grouped = nn.Conv2d(8, 8, 3, padding=1, groups=2)
        self.bn2 = nn.BatchNorm2d(8)
        self.conv3 = nn.Conv2d(8, 8, 3, padding=1)
        self.gn = nn.GroupNorm(2, 8)
        self.conv4 = nn.Conv2d(8, 6, 3, padding=1)
        self.bn4 = nn.BatchNorm2d(6)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.grouped(x)))
        x = F.relu(self.gn(self.conv3(x)))
        x = F.relu(self.bn4(self.conv4(x)))
        return self.fc(x.mean((2, 3)))


def test_layers_the_engine_cannot_prune_are_left_out_with_the_reason_shown():
    s = PruningSession(seeded(MixedNet()), data=toy_data())
    reasons = {g.name: g.reason for g in s.all_groups if not g.prunable}
    # the grouped conv's input and output channels are pruned by their position in its two groups
    assert [g.name for g in s.groups] == ["conv1", "grouped", "conv4"]
    assert s.group("conv1").num_channels == s.group("grouped").num_channels == 4
    assert "GroupNorm" in reasons["conv3"]
    assert "classifier" in reasons["fc"]
    assert s.summary()["refused_groups"] == reasons
    with pytest.raises(PlanError, match="GroupNorm"):
        s.set_ratio("conv3", 0.5)
    assert s.pruned == {}


_NO_GRAD_GAPS = (
    "graph.build_groups/export_pruned trace with autograd under the caller's grad mode (build_groups then "
    "falls back with a UserWarning, export_pruned raises a bare AssertionError); train.fit and "
    "finetune.finetune_masked train under it too; cost.CostModel counts 0 MACs under inference_mode"
)


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode], ids=["no_grad", "inference_mode"])
def test_the_whole_workflow_runs_inside_no_grad_and_inference_mode(tmp_path, mode):
    """Users wrap inference code in these contexts: nothing may silently degrade or crash there."""
    model = create_model("digits_cnn", pretrained=True)
    reference = PruningSession(model, data="digits", num_samples=50)
    with mode():
        s = PruningSession(model, data="digits", num_samples=50)  # a fallback warning would be an error
        assert s.graph.traced
        assert s.warnings == []
        assert s.baseline_cost() == reference.baseline_cost()
        s.scores("taylor")
        s.set_global_ratio(0.3)
        x = s.data.val.inputs[:16]
        assert s.verify_export() <= 1e-4
        rebuilt = load_pruned(save_pruned(s, tmp_path / "saved"), model=model, example_input=x)
        assert torch.allclose(rebuilt(x), s.masked_outputs(x), atol=1e-4)
        assert not s.finetune(3, eval_every=0).cancelled


# ---------------------------------------------------------------------------------------------- data
@pytest.mark.parametrize(
    ("model", "data", "error", "patterns"),
    [
        ("digits_cnn", toy_data(20, (3, 32, 32), 10), DataError, [r"\(3, 32, 32\)", r"\(1, 8, 8\)"]),
        (
            "digits_cnn",
            ListDataset((torch.zeros(3, 32, 32), i % 10) for i in range(20)),
            DataError,
            [r"\(3, 32, 32\)", r"\(1, 8, 8\)"],
        ),
        ("plain", toy_data(20, (3, 32, 32)), ModelError, [r"\(3, 32, 32\)", r"\b1 channel"]),
        ("plain", toy_data(20, classes=9), ExplorerError, [r"\b8\b", r"\b5 outputs"]),
        ("digits_cnn", toy_data(30, classes=30), DataError, [r"\[0, 10\)", r"\b29\b"]),
        ("plain", ListDataset([]), DataError, ["empty"]),
        ("plain", DataLoader(ListDataset([]), batch_size=4), DataError, ["no batches"]),
        ("plain", ListDataset([torch.zeros(1, 8, 8)] * 4), DataError, [r"\(input, label\) pairs"]),
        (
            "plain",
            DataLoader(ListDataset([{"image": torch.zeros(1, 8, 8), "label": 0}] * 4), batch_size=2),
            DataError,
            [r"\(input, label\) pairs"],
        ),
    ],
    ids=[
        "zoo-tensor-dataset-3x32x32",
        "zoo-dataset-3x32x32",
        "custom-3-channels",
        "labels-beyond-outputs",
        "labels-beyond-zoo-classes",
        "empty-dataset",
        "empty-loader",
        "bare-tensors",
        "dict-batches",
    ],
)
def test_bad_data_gets_a_message_naming_expected_and_given(model, data, error, patterns):
    source = model if model == "digits_cnn" else seeded(PlainNet())
    with pytest.raises(error) as info:
        PruningSession(source, data=data)
    for pattern in patterns:
        assert info.match(pattern)


# ------------------------------------------------------------------------------------ broken weights
def test_inf_in_batchnorm_statistics_is_named_by_every_criterion():
    model = create_model("digits_cnn", pretrained=True)
    with torch.no_grad():
        model.features[1].running_var[3] = float("inf")
    s = PruningSession(model, data="digits", num_samples=100)
    for criterion in ("l1", "fpgm", "bn_scale", "taylor"):
        with pytest.raises(ModelError, match=r"features\.1\.running_var"):
            s.scores(criterion)
    with pytest.raises(ModelError, match=r"features\.1\.running_var"):
        s.set_ratio("features.0", 0.5, criterion="l1")
    assert s.pruned == {}
    # a group whose layers are all finite is still scored
    assert s.scores("l1", groups=["features.7"])["features.7"].isfinite().all()


def test_nan_weights_are_named_when_scoring_the_graph_directly():
    model = create_model("digits_cnn", pretrained=True)
    with torch.no_grad():
        model.features[3].weight[2, 0, 0, 0] = float("nan")
    graph = explorer.graph.build_groups(model, torch.zeros(2, 1, 8, 8))
    for criterion in ("l1", "l2", "fpgm", "bn_scale", "random"):
        with pytest.raises(ModelError, match=r"features\.3\.weight"):
            compute_group_scores(criterion, model, graph)
    assert compute_group_scores("l1", model, graph, groups=["features.7"])  # untouched layers still score


def test_nan_weights_make_the_session_name_the_layer_when_scoring():
    model = create_model("digits_cnn", pretrained=True)
    with torch.no_grad():
        model.features[3].weight[2, 0, 0, 0] = float("nan")
    s = PruningSession(model, data="digits", num_samples=100)
    assert not any("masking it does not reproduce" in (g.reason or "") for g in s.all_groups)
    with pytest.raises(ExplorerError, match=r"features\.3\.weight"):
        s.scores("l1")


def test_fpgm_stays_exact_for_near_duplicate_filters_of_large_norm():
    """The fast Gram-matrix path must not lose the tiny distances FPGM ranks by."""
    generator = torch.Generator().manual_seed(0)
    centre = 1000.0 * torch.randn(1, 4, 3, 3, generator=generator, dtype=torch.float64)
    near = centre + 1e-6 * torch.randn(12, 4, 3, 3, generator=generator, dtype=torch.float64)
    far = torch.randn(20, 4, 3, 3, generator=generator, dtype=torch.float64)
    weight = torch.cat([near, far])
    flat = weight.flatten(1)
    exact = torch.stack([(flat[i] - flat).norm(dim=1).sum() for i in range(flat.shape[0])])
    scores = fpgm_scores(weight)
    assert torch.allclose(scores.double(), exact, rtol=1e-6)
    # within the near-duplicates (whole distances ≈ 1e-5 over sums ≈ 2e4), the ranking is the exact one
    near_only = flat[:12]
    exact_near = torch.stack([(near_only[i] - near_only).norm(dim=1).sum() for i in range(12)])
    assert torch.equal(fpgm_scores(near).argsort(), exact_near.argsort())


# ---------------------------------------------------------------------------------------------- files
def _small_state(seed: int = 1) -> dict:
    torch.manual_seed(seed)
    return create_model("digits_cnn").state_dict()


class CreateFile:
    """Unpickling this creates a file: what a malicious checkpoint would do (and worse)."""

    def __init__(self, target: Path):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_every_torch_load_in_the_package_is_weights_only():
    """A static guard: no ``torch.load`` call anywhere in ``explorer`` without ``weights_only=True``."""
    calls = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "load":
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id == "torch":
                    flags = {k.arg: k.value for k in node.keywords}
                    safe = (
                        isinstance(flags.get("weights_only"), ast.Constant)
                        and flags["weights_only"].value is True
                    )
                    calls.append((f"{path.name}:{node.lineno}", safe))
    assert calls, "expected at least one torch.load call"
    assert [where for where, safe in calls if not safe] == []


def test_user_checkpoints_are_only_read_weights_only(tmp_path, monkeypatch):
    """Every path a user file takes (load_model, PruningSession, load_pruned) reads it weights-only."""
    seen = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    path = tmp_path / "state.pt"
    torch.save(_small_state(), path)
    load_model("digits_cnn", checkpoint=path)
    s = PruningSession("digits_cnn", checkpoint=path, num_samples=50)
    s.set_global_ratio(0.3)
    load_pruned(save_pruned(s, tmp_path / "saved"))
    assert len(seen) >= 3
    assert all(flag is True for flag in seen)


def test_a_pickled_whole_module_is_refused_on_every_entry_point(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(create_model("digits_cnn"), path)
    for load in (
        lambda: load_model("digits_cnn", checkpoint=path),
        lambda: load_model(create_model("digits_cnn"), checkpoint=path),
        lambda: PruningSession("digits_cnn", checkpoint=path),
    ):
        with pytest.raises(CheckpointError, match=r"refused.*state_dict"):
            load()


@pytest.mark.parametrize("nesting", ["top-level", "inside-a-state-dict"])
def test_a_malicious_pickle_never_runs(tmp_path, nesting):
    """Also via PruningSession and load_pruned; the payload is proven real at the end."""
    target = tmp_path / "pwned.txt"
    payload = CreateFile(target)
    obj = payload if nesting == "top-level" else {"features.0.weight": torch.zeros(1), "x": payload}
    path = tmp_path / "evil.pt"
    torch.save(obj, path)
    saved = tmp_path / "saved"
    s = digits_session()
    s.set_global_ratio(0.3)
    save_pruned(s, saved)
    (saved / "pruned_state_dict.pt").write_bytes(path.read_bytes())
    attempts = [
        lambda: load_checkpoint_state_dict(path),
        lambda: load_model("digits_cnn", checkpoint=path),
        lambda: PruningSession("digits_cnn", checkpoint=path),
        lambda: load_pruned(saved),
    ]
    for attempt in attempts:
        with pytest.raises(CheckpointError, match="refused"):
            attempt()
        assert not target.exists()
    loaded = torch.load(path, weights_only=False)  # an unsafe load does run it
    (loaded if nesting == "top-level" else loaded["x"]).close()
    assert target.exists()


def _flip_byte_in_largest_zip_entry(data: bytes) -> bytes:
    import io
    import struct
    import zipfile

    entry = max(zipfile.ZipFile(io.BytesIO(data)).infolist(), key=lambda info: info.file_size)
    name_len, extra_len = struct.unpack("<HH", data[entry.header_offset + 26 : entry.header_offset + 30])
    start = entry.header_offset + 30 + name_len + extra_len
    damaged = bytearray(data)
    damaged[start + entry.file_size // 2] ^= 0x40
    return bytes(damaged)


def test_corrupted_checkpoints_get_a_clear_message(tmp_path, shared_data):
    """Bit rot in a tensor, a damaged legacy header, truncation: CheckpointError, never silent weights."""
    zipped = tmp_path / "state.pt"
    torch.save(_small_state(), zipped)
    rotten = tmp_path / "rotten.pt"
    rotten.write_bytes(_flip_byte_in_largest_zip_entry(zipped.read_bytes()))
    with pytest.raises(CheckpointError, match=r"corrupt.*checksum"):
        load_model("digits_cnn", checkpoint=rotten)

    real = (shared_data / "pretrained" / "resnet20-12fca82f.th").read_bytes()  # legacy, non-zip format
    header = bytearray(real)
    header[50] ^= 0xFF
    damaged = tmp_path / "damaged.th"
    damaged.write_bytes(bytes(header))
    with pytest.raises(CheckpointError, match="corrupt") as info:
        load_model("resnet20_cifar", checkpoint=damaged)
    assert "refused" not in str(info.value)  # damage is not reported as a hostile pickle
    for size in (len(real) // 2, len(real) - 1):
        damaged.write_bytes(real[:size])
        with pytest.raises(CheckpointError, match="truncated"):
            load_model("resnet20_cifar", checkpoint=damaged)
    # and the undamaged file still loads
    assert load_model("resnet20_cifar", checkpoint=shared_data / "pretrained" / "resnet20-12fca82f.th")


def test_size_limit_refuses_before_reading(tmp_path, monkeypatch):
    path = tmp_path / "state.pt"
    torch.save(_small_state(), path)
    size = path.stat().st_size
    assert load_model("digits_cnn", checkpoint=path, max_bytes=size)
    monkeypatch.setattr(torch, "load", lambda *a, **k: pytest.fail("read a file over the size limit"))
    with pytest.raises(CheckpointError, match=f"{size:,} bytes, more than the limit of {size - 1:,}"):
        load_model("digits_cnn", checkpoint=path, max_bytes=size - 1)


def test_a_mismatched_state_dict_is_listed_through_the_session(tmp_path):
    state = _small_state()
    state.pop("features.3.weight")
    state["head.weight"] = torch.zeros(10, 64)
    path = tmp_path / "other.pt"
    torch.save(state, path)
    with pytest.raises(CheckpointError, match=r"missing keys \['features\.3\.weight'\]") as info:
        PruningSession("digits_cnn", checkpoint=path)
    assert info.match(r"unexpected keys \['head\.weight'\]")


# ---------------------------------------------------------------------------- the user's work is kept
def test_the_users_model_is_never_mutated_by_a_whole_session(tmp_path):
    model = create_model("digits_cnn", pretrained=True).train()
    model.classifier.bias.requires_grad_(False)  # a frozen parameter must stay frozen
    flags = [p.requires_grad for p in model.parameters()]
    before = fingerprint(model)
    s = PruningSession(model, data="digits", num_samples=100)
    for criterion in ("l1", "fpgm", "taylor"):
        s.scores(criterion)
    s.set_global_ratio(0.4, criterion="fpgm")
    s.evaluate()
    assert s.sensitivity(ratios=[0.5], criterion="l1").rows
    result = s.finetune(5, eval_every=0)
    assert not result.cancelled
    assert len(result.losses) == 5
    assert fingerprint(s.model) != before  # the session's own copy did train
    s.export()
    save_pruned(s, tmp_path / "out")
    assert fingerprint(model) == before
    assert model.training
    assert [p.requires_grad for p in model.parameters()] == flags
    assert all(p.grad is None for p in model.parameters())
    assert hooked_modules(model) == []


def _state_of(s: PruningSession):
    return s.plan, s.generation, fingerprint(s.model), s.evaluate()


def test_a_scan_stopped_midway_leaves_the_session_consistent(session):
    session.set_ratio("features.3", 0.5)
    plan, generation, weights, metrics = _state_of(session)
    ticks = []
    with pytest.raises(EvaluationCancelled):
        session.sensitivity(
            ratios=[0.25, 0.5],
            criterion="l1",
            progress=lambda done, total: ticks.append((done, total)),
            should_stop=lambda: len(ticks) >= 3,
        )
    assert ticks == [(1, 6), (2, 6), (3, 6)]  # stopped in the middle
    assert _state_of(session) == (plan, generation, weights, metrics)
    assert session.evaluate(use_cache=False) == metrics
    assert hooked_modules(session.model) == []
    table = session.sensitivity(ratios=[0.25, 0.5], criterion="l1")  # nothing partial was cached
    assert len(table.rows) == 6
    row = table.rows[-1]  # a row is the network with only that group pruned
    session.reset()
    session.set_ratio(row["group"], row["ratio"], criterion="l1")
    assert session.evaluate().accuracy == row["accuracy"]


def test_cancelled_scoring_caches_nothing(session):
    with pytest.raises(ScoringCancelled):
        session.group_scores("taylor", should_stop=lambda: True)
    scores = session.scores("taylor")
    assert set(scores) == {g.name for g in session.groups}


def test_a_failing_progress_callback_leaves_the_session_consistent(session):
    session.set_ratio("features.0", 0.25)
    before = _state_of(session)

    def broken(*_args):
        raise RuntimeError("the progress display crashed")

    with pytest.raises(RuntimeError, match="display crashed"):
        session.sensitivity(ratios=[0.5], criterion="l2", progress=broken)
    with pytest.raises(RuntimeError, match="display crashed"):
        session.finetune(5, progress=broken)
    assert _state_of(session) == before
    assert session.unchanged()
    assert hooked_modules(session.model) == []
    assert len(session.sensitivity(ratios=[0.5], criterion="l2").rows) == len(session.groups)


def test_a_finetune_stopped_midway_changes_nothing_and_can_be_rerun(session):
    session.set_global_ratio(0.5)
    before = _state_of(session)
    steps = []
    result = session.finetune(
        5,
        eval_every=0,
        progress=lambda step, total, loss: steps.append(step),
        should_stop=lambda: len(steps) >= 2,
    )
    assert result.cancelled
    assert len(result.losses) == 2
    assert _state_of(session) == before
    assert hooked_modules(session.model) == []
    again = session.finetune(3, eval_every=0)
    assert not again.cancelled
    assert fingerprint(session.model) != before[2]
    assert session.evaluate().accuracy == pytest.approx(again.accuracy_after)


def test_a_saved_plan_restores_the_same_network_in_a_new_session(session, tmp_path):
    session.set_ratio("features.0", 0.25, criterion="fpgm")
    session.set_pruned("features.3", [0, 5, 7])
    path = tmp_path / "plan.json"
    session.save_plan(path)
    other = digits_session(seed=1)  # another validation subset: the plan must not depend on it
    other.load_plan(path)
    assert other.pruned == session.pruned
    assert other.plan["groups"] == session.plan["groups"]
    x = session.data.val.inputs[:32]
    assert torch.equal(other.masked_outputs(x), session.masked_outputs(x))
    assert other.cost() == session.cost()
    assert other.undo()  # loading a plan is one undoable step
    assert other.pruned == {}


@pytest.mark.parametrize(
    "content",
    [
        "not json {",
        "[1, 2]",
        '{"groups": {"features.9": {"pruned": [0]}}}',
        '{"groups": {"features.0": {"pruned": [16]}}}',
        json.dumps({"groups": {"features.0": {"pruned": list(range(16))}}}),
        '{"groups": [1]}',
        '{"groups": null}',
        '{"groups": {"features.0": {"pruned": 3}}}',
        '{"groups": {"features.0": {"pruned": ["x"]}}}',
        '{"groups": {"features.0": {"pruned": [1.5]}}}',
        '{"groups": {"features.0": {"pruned": [1], "ratio": "half"}}}',
        None,
    ],
    ids=[
        "not-json",
        "a-list",
        "unknown-group",
        "index-out-of-range",
        "every-channel",
        "groups-a-list",
        "groups-null",
        "pruned-an-int",
        "pruned-strings",
        "pruned-floats",
        "ratio-a-string",
        "missing-file",
    ],
)
def test_a_bad_plan_file_is_refused_and_keeps_the_current_plan(session, tmp_path, content):
    session.set_ratio("features.7", 0.5)
    before = session.plan
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PlanError):
        session.load_plan(path)
    assert session.plan == before


@pytest.fixture
def fail_os_call(monkeypatch):
    """``fail_os_call("rename", 2)``: the 2nd rename (``os.replace`` or ``os.rename``) raises ENOSPC.

    ``"fsync"`` counts ``os.fsync`` calls instead, i.e. a write that cannot reach the disk. Other calls run.
    """

    def install(kind: str, at: int) -> None:
        calls = []
        for name in {"rename": ("replace", "rename"), "fsync": ("fsync",)}[kind]:
            real = getattr(os, name)

            def failing(*args, _real=real, _name=name, **kwargs):
                calls.append(_name)
                if len(calls) == at:
                    raise OSError(28, f"No space left on device (injected into os.{_name})")
                return _real(*args, **kwargs)

            monkeypatch.setattr(os, name, failing)

    return install


@pytest.mark.parametrize("call", ["rename", "fsync"])
def test_a_failed_plan_save_keeps_the_old_file(session, tmp_path, fail_os_call, call):
    path = tmp_path / "plan.json"
    session.set_ratio("features.0", 0.25)
    session.save_plan(path)
    old = path.read_bytes()
    session.set_ratio("features.0", 0.75)
    fail_os_call(call, 1)
    with pytest.raises(OSError, match="injected"):
        session.save_plan(path)
    assert path.read_bytes() == old
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize(
    ("call", "at"),
    [("rename", 1), ("fsync", 1), ("rename", 2), ("fsync", 2), ("rename", 3), ("fsync", 3)],
)
def test_a_failed_export_keeps_the_old_saved_model(session, tmp_path, fail_os_call, call, at):
    """The old folder stays byte-for-byte intact and loadable, and no temporary file is left behind."""
    folder = tmp_path / "pruned"
    session.set_global_ratio(0.3)
    save_pruned(session, folder)
    old = {p.name: p.read_bytes() for p in folder.iterdir()}
    x = session.data.val.inputs[:16]
    old_outputs = load_pruned(folder)(x)
    session.set_global_ratio(0.6)
    fail_os_call(call, at)
    with pytest.raises(OSError, match="injected"):
        save_pruned(session, folder)
    assert list(tmp_path.iterdir()) == [folder]
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == old
    assert torch.equal(load_pruned(folder)(x), old_outputs)


# ------------------------------------------------------------------------------------ property tests
_choices = st.builds(
    GroupChoice,
    pruned=st.lists(st.integers(0, 4095), unique=True, max_size=20).map(lambda v: tuple(sorted(v))),
    ratio=st.floats(0.0, 1.0, exclude_max=True),
    criterion=st.sampled_from(["l1", "fpgm", "taylor", "manual"]) | st.text(max_size=12),
)
_plans = st.builds(
    Plan,
    choices=st.dictionaries(st.text(min_size=1, max_size=24), _choices, max_size=6),
    model=st.none() | st.text(max_size=24),
)


@settings(max_examples=60, deadline=None)
@given(plan=_plans)
def test_plan_json_round_trip(plan):
    for indent in (2, None):
        assert Plan.from_json(plan.to_json(indent=indent)) == plan
    assert Plan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan


@pytest.fixture(scope="module")
def shared_digits() -> PruningSession:
    return digits_session()


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_random_valid_plans_apply_and_export_exactly(shared_digits, data):
    s = shared_digits
    groups = {}
    for group in s.groups:
        removed = data.draw(
            st.lists(st.integers(0, group.num_channels - 1), unique=True, max_size=group.num_channels - 1),
            label=group.name,
        )
        groups[group.name] = {"pruned": removed, "ratio": len(removed) / group.num_channels}
    s.apply_plan({"groups": groups})
    assert s.pruned == {name: tuple(sorted(g["pruned"])) for name, g in groups.items() if g["pruned"]}
    exported = s.export()
    modules = dict(exported.named_modules())
    for group in s.groups:  # at least one channel kept everywhere, and exactly the plan's count
        assert modules[group.name].out_channels == group.num_channels - len(groups[group.name]["pruned"]) >= 1
    x = s.data.val.inputs[:32]
    with torch.no_grad():
        physical = exported(x)
    masked = s.masked_outputs(x)
    assert (masked - physical).abs().max().item() <= 1e-4 * max(1.0, physical.abs().max().item())
    cost = s.cost()
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        exported(x[:1])
    assert cost.macs == counter.get_total_flops() // 2
    assert cost.params == sum(p.numel() for p in exported.parameters())


# --------------------------------------------------------------------------------------------- memory
def test_activation_cache_keeps_a_1mb_budget_on_resnet20(monkeypatch):
    """Checked after every insertion, while far more than the budget flows through the cache."""
    budget = 1 << 20
    s = PruningSession(
        "resnet20_cifar",
        data=toy_data(64, (3, 32, 32), 10),
        pretrained=False,
        cache_budget=budget,
        batch_size=8,  # 8 x 16 x 32 x 32 floats = 512 KiB per boundary: the cache holds one or two
        first_batch=8,
    )
    cache = s.evaluator.cache
    offered = []
    real_put = cache.put

    def checked_put(key, value):
        real_put(key, value)
        offered.append(value.numel() * value.element_size())
        assert cache.used <= budget
        assert cache.used == sum(v.numel() * v.element_size() for v in cache._store.values())

    monkeypatch.setattr(cache, "put", checked_put)
    assert len(s.evaluator.batches) == 8
    assert s.baseline().final
    for group, ratio in zip(s.groups[::4], (0.25, 0.5, 0.75), strict=False):
        s.set_ratio(group.name, ratio)
        assert s.evaluate() == s.evaluate(use_cache=False)
    assert 0 < cache.used <= budget
    assert sum(offered) > 10 * budget  # the budget really was under pressure
    assert max(offered) <= budget // 2  # and single entries fit, so eviction (not refusal) kept it
