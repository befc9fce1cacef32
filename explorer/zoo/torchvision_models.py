"""Bridge to torchvision's classification models: ``"torchvision/<name>"`` in the zoo.

Specs are built on demand (ImageNet, 3x224x224, 1000 classes). Their weights come from the URL of the
model's ``DEFAULT`` weight enum, verified with the SHA-256 prefix in its file name (torch.hub convention).
"""

from __future__ import annotations

import functools
import re

from torch import nn

from explorer.zoo.specs import TORCHVISION_PREFIX, ModelEntry, ModelSpec, WeightsSource

__all__ = ["list_torchvision_models", "torchvision_entry"]

_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")
# torchvision's DenseNet checkpoints predate module names without dots ("norm.1" → "norm1")
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)
# Their pretrained weights expect the input re-normalisation these builders switch on with weights; passing
# init_weights explicitly also silences torchvision's FutureWarning about the default initialisation.
_BUILD_KWARGS: dict[str, dict] = {
    "googlenet": {"transform_input": True, "init_weights": True},
    "inception_v3": {"transform_input": True, "init_weights": True},
}


@functools.cache
def list_torchvision_models() -> list[str]:
    """Sorted names of torchvision's classification models (no prefix)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _fix_densenet_keys(state: dict) -> dict:
    fixed = {}
    for key, value in state.items():
        match = _DENSENET_OLD_KEY.match(key)
        fixed[match.group(1) + match.group(2) if match else key] = value
    return fixed


@functools.cache
def torchvision_entry(name: str) -> ModelEntry:
    """The registry row of torchvision model ``name`` (without the ``"torchvision/"`` prefix)."""
    import torchvision

    weights = torchvision.models.get_model_weights(name).DEFAULT
    url = weights.url
    match = _HASH_IN_NAME.search(url.rsplit("/", 1)[-1])
    source = None
    if match is not None:
        source = WeightsSource(
            url=url, sha256=match.group(1), adapt=_fix_densenet_keys if name.startswith("densenet") else None
        )
    metrics = weights.meta.get("_metrics", {}).get("ImageNet-1K", {})
    top1 = f" ({metrics['acc@1']:.1f} % top-1 with its weights)" if "acc@1" in metrics else ""
    spec = ModelSpec(
        name=TORCHVISION_PREFIX + name,
        dataset="imagenet",
        input_shape=(3, 224, 224),
        num_classes=1000,
        description=f"torchvision {name} for ImageNet{top1}",
        has_pretrained=source is not None,
    )

    def build(num_classes: int = 1000) -> nn.Module:
        return torchvision.models.get_model(
            name, weights=None, num_classes=num_classes, **_BUILD_KWARGS.get(name, {})
        )

    return ModelEntry(spec=spec, build=build, weights=source)
