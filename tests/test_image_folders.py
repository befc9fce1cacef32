"""ImageNet-style validation folders (one sub-folder per class), as the README's worked example reads them:
a folder path, and torchvision's ``ImageFolder`` with the transforms of a model's weights enum."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from explorer.data import load_data
from explorer.session import PruningSession

CLASSES = ("n01440764", "n01443537", "n01484850")  # ImageNet synset folder names, sorted


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 4 JPEGs of assorted sizes, like a (tiny) ImageNet val/ folder."""
    from PIL import Image

    root = tmp_path_factory.mktemp("imagenet") / "val"
    rng = np.random.default_rng(0)
    for c, synset in enumerate(CLASSES):
        (root / synset).mkdir(parents=True)
        for i in range(4):
            size = (int(rng.integers(240, 400)), int(rng.integers(240, 400)))
            pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
            pixels[..., c] = 255  # a class-dependent colour
            Image.fromarray(pixels).save(root / synset / f"ILSVRC2012_val_{c}{i:07d}.JPEG", quality=95)
    return root


def test_a_folder_path_is_resized_and_normalised_for_the_model(image_folder: Path):
    bundle = load_data(str(image_folder), input_shape=(3, 224, 224), calib_samples=3)
    assert bundle.classes == list(CLASSES)
    assert tuple(bundle.val.inputs.shape) == (12, 3, 224, 224)
    assert sorted(bundle.val.labels.tolist()) == [0] * 4 + [1] * 4 + [2] * 4
    assert abs(float(bundle.val.inputs.mean())) < 3  # normalised, not raw 0..255


def test_the_weights_enum_transforms_are_used_as_they_are(image_folder: Path):
    from torchvision.datasets import ImageFolder
    from torchvision.models import ResNet50_Weights

    transform = ResNet50_Weights.IMAGENET1K_V2.transforms()  # resize 232, centre crop 224, ImageNet norm
    folder = ImageFolder(str(image_folder), transform=transform)
    bundle = load_data(folder, num_samples=6, calib_samples=3)
    assert bundle.classes == list(CLASSES)
    assert tuple(bundle.val.inputs.shape) == (6, 3, 224, 224)
    # each validation input is exactly the enum's transform of one of the files (an independent reading)
    expected = [transform(folder.loader(path)) for path, _ in folder.samples]
    for x, y in zip(bundle.val.inputs, bundle.val.labels, strict=True):
        assert any(torch.equal(x, e) and folder.targets[i] == int(y) for i, e in enumerate(expected))


def test_a_torchvision_resnet50_session_on_the_folder(image_folder: Path):
    from torchvision.datasets import ImageFolder
    from torchvision.models import ResNet50_Weights

    folder = ImageFolder(str(image_folder), transform=ResNet50_Weights.IMAGENET1K_V2.transforms())
    s = PruningSession("torchvision/resnet50", data=folder, pretrained=False, device="cpu", verify=False)
    assert s.data.val.inputs.shape[1:] == (3, 224, 224)
    assert s.baseline_cost().macs == pytest.approx(4.09e9, rel=0.01)  # ResNet-50's 4.1 GMACs per image
    metrics = s.evaluate()
    assert metrics.total == 12
    assert metrics.device == "cpu"
