"""The model zoo: registered architectures, their specs and their trained weights.

>>> from explorer.zoo import create_model, list_models
>>> "digits_cnn" in list_models()
True
>>> model = create_model("digits_cnn", pretrained=True)  # embedded weights, always available

``list_models(include_torchvision=True)`` adds ``"torchvision/<name>"`` for every torchvision classifier.
New architectures are registered with ``@register_model`` on a tiny constructor function.
"""

from __future__ import annotations

# importing the modules registers their models, in this order (the default model first)
# isort: off
from explorer.zoo import digits as digits
from explorer.zoo import cifar as cifar
from explorer.zoo import digits_vit as digits_vit

# isort: on
from explorer.zoo._registry import get_model_spec, list_models, register_model
from explorer.zoo.building import create_model
from explorer.zoo.cifar import PadShortcut
from explorer.zoo.pretrained import fetch_weights, install_weights
from explorer.zoo.specs import ModelSpec, WeightsSource

__all__ = [
    "ModelSpec",
    "PadShortcut",
    "WeightsSource",
    "create_model",
    "fetch_weights",
    "get_model_spec",
    "install_weights",
    "list_models",
    "register_model",
]
