"""The model zoo: registry, architectures, pretrained weights and the weights cache."""

from __future__ import annotations

import copy
import hashlib
import pickle
import re
import shutil

import pytest
import torch
import torchvision
from torch import nn

from explorer.data import load_cifar10_csv, load_data
from explorer.errors import ModelError, WeightsUnavailableError
from explorer.train import compute_accuracy
from explorer.zoo import (
    ModelSpec,
    PadShortcut,
    _registry,
    create_model,
    fetch_weights,
    get_model_spec,
    install_weights,
    list_models,
    register_model,
)
from explorer.zoo.pretrained import CACHE_ENV_VAR, cached_weights_path, get_cache_dir, sha256_file

RESNET20_FILE = "pretrained/resnet20-12fca82f.th"
CIFAR_CSV = "cifar10-first100/cifar10_test.csv"
ZOO = list_models()


def _sha256_from_sums(shared_data, relative: str) -> str:
    for line in (shared_data / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        if name == relative:
            return digest
    raise AssertionError(f"{relative} not in SHA256SUMS")


def _count_macs_params(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """MACs of conv and linear layers (Li et al. convention) by forward hooks, and all parameters."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            macs += output[0].numel() * k
        else:
            macs += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    with torch.no_grad():
        model(x)
    for handle in handles:
        handle.remove()
    return macs, sum(p.numel() for p in model.parameters())


# ------------------------------------------------------------------------------------------ registry
def test_registry_lists_the_zoo_default_first():
    assert ZOO[0] == "digits_cnn"
    assert set(ZOO) >= {"digits_cnn", "vgg16_bn_cifar", "resnet20_cifar", "resnet56_cifar", "resnet110_cifar"}
    assert not any(name.startswith("torchvision/") for name in ZOO)


def test_list_models_with_torchvision_lists_every_classifier():
    names = list_models(include_torchvision=True)
    expected = torchvision.models.list_models(module=torchvision.models)
    assert names[: len(ZOO)] == ZOO
    assert sorted(names[len(ZOO) :]) == sorted(f"torchvision/{n}" for n in expected)
    assert "torchvision/resnet18" in names


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_model_builds_and_runs_on_its_input_shape(name):
    spec = get_model_spec(name)
    assert isinstance(spec, ModelSpec)
    assert spec.name == name
    model = create_model(name)
    assert not model.training
    assert model.explorer_name == name
    assert model.explorer_trained is False
    with torch.no_grad():
        out = model(torch.randn(1, *spec.input_shape))
    assert out.shape == (1, spec.num_classes)
    assert torch.isfinite(out).all()
    assert sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules()) >= 3  # the ViT has one conv


def test_torchvision_model_spec_and_creation():
    spec = get_model_spec("torchvision/resnet18")
    assert (spec.dataset, spec.input_shape, spec.num_classes) == ("imagenet", (3, 224, 224), 1000)
    assert spec.has_pretrained
    model = create_model("torchvision/resnet18")
    assert isinstance(model, torchvision.models.ResNet)
    assert model.explorer_name == "torchvision/resnet18"
    assert not model.training
    assert model.explorer_trained is False
    with torch.no_grad():
        assert model(torch.randn(1, 3, 224, 224)).shape == (1, 1000)


@pytest.mark.parametrize("name", ["resnet21_cifar", "torchvision/resnet19", "digits"])
def test_unknown_model_names_list_close_matches(name):
    with pytest.raises(ModelError, match="unknown model") as info:
        get_model_spec(name)
    assert "Did you mean" in str(info.value)
    with pytest.raises(ModelError):
        create_model(name)


def test_register_model_adds_a_model_and_refuses_duplicates():
    @register_model("tiny_test_cnn", dataset="digits", input_shape=(1, 8, 8), num_classes=3, description="t")
    def tiny(num_classes: int = 3) -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.Linear(144, num_classes))

    try:
        assert "tiny_test_cnn" in list_models()
        assert get_model_spec("tiny_test_cnn").has_pretrained is False
        assert create_model("tiny_test_cnn")(torch.zeros(2, 1, 8, 8)).shape == (2, 3)
        with pytest.raises(ModelError, match="already registered"):
            register_model(
                "tiny_test_cnn", dataset="x", input_shape=(1, 8, 8), num_classes=3, description=""
            )(tiny)
        with pytest.warns(UserWarning, match="no pretrained weights"):
            assert create_model("tiny_test_cnn", pretrained=True).explorer_trained is False
    finally:
        _registry._MODELS.pop("tiny_test_cnn", None)
    with pytest.raises(ModelError, match="reserved"):
        register_model("torchvision/x", dataset="x", input_shape=(1, 8, 8), num_classes=3, description="")


# ------------------------------------------------------------------------------------- architectures
def test_digits_cnn_layout():
    model = create_model("digits_cnn")
    convs = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d)]
    assert [m.out_channels for _, m in convs] == [16, 32, 64]
    assert [n for n, _ in convs] == ["features.0", "features.3", "features.7"]
    modules = dict(model.named_modules())
    for name, _ in convs:
        index = int(name.split(".")[1])
        assert isinstance(modules[f"features.{index + 1}"], nn.BatchNorm2d)
        relu = modules[f"features.{index + 2}"]
        assert isinstance(relu, nn.ReLU)
        assert not relu.inplace


def test_vgg16_cifar_matches_li_et_al_macs_and_params():
    model = create_model("vgg16_bn_cifar")
    macs, params = _count_macs_params(model, torch.zeros(1, 3, 32, 32))
    assert macs == pytest.approx(3.13e8, rel=0.01)
    assert params == pytest.approx(1.5e7, rel=0.01)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in convs] == [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) == 13
    assert [m.out_features for m in model.modules() if isinstance(m, nn.Linear)] == [512, 10]


@pytest.mark.parametrize(
    ("name", "blocks"), [("resnet20_cifar", 3), ("resnet56_cifar", 9), ("resnet110_cifar", 18)]
)
def test_cifar_resnet_depth_and_state_dict_keys(name, blocks):
    model = create_model(name)
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) + 1 == 6 * blocks + 2  # conv layers plus the final linear
    pattern = re.compile(r"^(conv1|bn1|linear|layer[123]\.\d+\.(conv1|bn1|conv2|bn2))\.")
    keys = list(model.state_dict())
    assert all(pattern.match(k) for k in keys), [k for k in keys if not pattern.match(k)]
    assert {int(k.split(".")[1]) for k in keys if k.startswith("layer3.")} == set(range(blocks))
    assert sum(isinstance(m, PadShortcut) for m in model.modules()) == 2
    assert {m.out_channels for m in convs} == {16, 32, 64}


def test_resnet20_is_deepcopyable_and_picklable_with_identical_outputs():
    model = create_model("resnet20_cifar")
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
        for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
            assert torch.equal(clone(x), expected)


def test_pad_shortcut_subsamples_and_pads_new_channels_on_both_sides():
    shortcut = PadShortcut(16, 32, stride=2)
    x = torch.randn(2, 16, 8, 8)
    out = shortcut(x)
    assert out.shape == (2, 32, 4, 4)
    # the public checkpoints' lambda: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, planes // 4, planes // 4))
    assert torch.equal(out[:, 8:24], x[:, :, ::2, ::2])
    assert not out[:, :8].any()
    assert not out[:, 24:].any()
    with pytest.raises(ValueError, match="shrink"):
        PadShortcut(32, 16)


# --------------------------------------------------------------------------------------- pretrained
def test_digits_cnn_embedded_weights_reach_97_percent():
    assert get_model_spec("digits_cnn").has_pretrained
    model = create_model("digits_cnn", pretrained=True)
    assert model.explorer_trained is True
    assert not model.training
    assert all(p.dtype == torch.float32 for p in model.parameters())
    accuracy = compute_accuracy(model, load_data("digits").val)
    assert accuracy >= 0.97


def test_resnet20_pretrained_from_the_shared_file_reaches_90_percent(shared_data, tmp_path):
    cached = install_weights("resnet20_cifar", shared_data / RESNET20_FILE, cache_dir=tmp_path)
    assert cached == tmp_path / "resnet20-12fca82f.th"
    assert sha256_file(cached) == _sha256_from_sums(shared_data, RESNET20_FILE)
    model = create_model("resnet20_cifar", pretrained=True, cache_dir=tmp_path)
    assert model.explorer_trained is True
    split = load_cifar10_csv(shared_data / CIFAR_CSV)
    assert compute_accuracy(model, split) >= 0.90


def test_cache_dir_comes_from_the_environment_variable(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV_VAR, str(tmp_path / "env-cache"))
    assert get_cache_dir() == tmp_path / "env-cache"
    assert get_cache_dir(tmp_path / "explicit") == tmp_path / "explicit"
    assert cached_weights_path("resnet20_cifar") is None
    install_weights("resnet20_cifar", shared_data / RESNET20_FILE)
    assert cached_weights_path("resnet20_cifar") == tmp_path / "env-cache" / "resnet20-12fca82f.th"
    assert create_model("resnet20_cifar", pretrained=True).explorer_trained is True


def test_fetch_weights_downloads_a_file_url_and_checks_its_sha256(shared_data, tmp_path):
    mirror = tmp_path / "mirror" / "resnet20-12fca82f.th"
    mirror.parent.mkdir()
    shutil.copyfile(shared_data / RESNET20_FILE, mirror)
    cache = tmp_path / "cache"
    path = fetch_weights("resnet20_cifar", url=mirror.as_uri(), cache_dir=cache)
    assert path == cache / "resnet20-12fca82f.th"
    assert sha256_file(path) == _sha256_from_sums(shared_data, RESNET20_FILE)
    assert sorted(p.name for p in cache.iterdir()) == ["resnet20-12fca82f.th"]  # no temporary file left
    assert create_model("resnet20_cifar", pretrained=True, cache_dir=cache).explorer_trained is True


def test_a_file_with_the_wrong_sha256_is_rejected_and_not_cached(tmp_path):
    impostor = tmp_path / "resnet20-12fca82f.th"
    torch.save({"state_dict": create_model("resnet20_cifar").state_dict()}, impostor)
    cache = tmp_path / "cache"
    with pytest.raises(WeightsUnavailableError, match="SHA-256"):
        fetch_weights("resnet20_cifar", url=impostor.as_uri(), cache_dir=cache)
    with pytest.raises(WeightsUnavailableError, match="SHA-256"):
        install_weights("resnet20_cifar", impostor, cache_dir=cache)
    assert not cache.exists() or not any(cache.iterdir())


def test_fetch_weights_from_a_missing_url_fails_clearly(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="install_weights"):
        fetch_weights("resnet20_cifar", url=(tmp_path / "nowhere.th").as_uri(), cache_dir=tmp_path / "c")
    with pytest.raises(WeightsUnavailableError, match="embedded"):
        fetch_weights("digits_cnn", cache_dir=tmp_path)


def test_offline_pretrained_request_warns_and_returns_random_weights(tmp_path):
    with pytest.warns(UserWarning, match="not in the cache") as record:
        model = create_model("resnet20_cifar", pretrained=True, cache_dir=tmp_path)
    assert "install_weights" in str(record[0].message)
    assert model.explorer_trained is False
    assert model.explorer_name == "resnet20_cifar"
    with pytest.raises(WeightsUnavailableError, match="not in the cache"):
        create_model("resnet20_cifar", pretrained=True, cache_dir=tmp_path, strict=True)


def test_a_damaged_cache_file_is_not_loaded(shared_data, tmp_path):
    install_weights("resnet20_cifar", shared_data / RESNET20_FILE, cache_dir=tmp_path)
    cached = tmp_path / "resnet20-12fca82f.th"
    cached.write_bytes(cached.read_bytes()[:1000])
    with pytest.warns(UserWarning, match="SHA-256"):
        assert create_model("resnet20_cifar", pretrained=True, cache_dir=tmp_path).explorer_trained is False


def test_torchvision_weights_are_verified_by_the_hash_prefix_in_their_name(tmp_path):
    entry = _registry.get_model_entry("torchvision/resnet18")
    assert entry.weights is not None
    assert entry.weights.filename == "resnet18-f37072fd.pth"
    assert entry.weights.sha256 == "f37072fd"
    fake = tmp_path / "resnet18-f37072fd.pth"
    fake.write_bytes(b"not the weights")
    assert not hashlib.sha256(fake.read_bytes()).hexdigest().startswith("f37072fd")
    with pytest.raises(WeightsUnavailableError, match="f37072fd"):
        fetch_weights("torchvision/resnet18", url=fake.as_uri(), cache_dir=tmp_path / "cache")
