"""Which model + data pairs can be explored on this machine, and what would make the others available.

Nothing is loaded or downloaded here: the weights are looked up in the cache (``explorer.zoo.pretrained``),
and the named datasets by their files on disk. A pair that cannot be loaded comes with the exact command that
would make it available (``pruning-explorer fetch resnet20_cifar``, or a launch with ``--data``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from explorer.errors import ExplorerError

#: Datasets that need no file (scikit-learn ships the digits).
BUILT_IN_DATA = ("digits",)
#: Datasets ``pruning-explorer fetch`` can download.
FETCHABLE_DATA = ("cifar10",)
_CSV_PREFIX = "cifar10_csv:"


@dataclass(frozen=True)
class ModelChoice:
    """One model + data pair offered by the Models tab.

    Attributes:
        key: the value of the choice (the model name alone when the data is the model's own dataset).
        model: the zoo model.
        data: the data source (``None``: the model's own dataset).
        dataset: the data's name as shown.
        weights: ``"embedded"``, ``"cached"``, ``"missing"`` (downloadable) or ``"none"`` (none published).
        data_ready: whether the data is on this machine.
        commands: what to run to make the pair available (empty when it is).
    """

    key: str
    model: str
    data: str | None
    dataset: str
    weights: str
    data_ready: bool
    commands: tuple[str, ...]

    @property
    def available(self) -> bool:
        return self.data_ready and self.weights in ("embedded", "cached")


def device_choices() -> list[str]:
    """The devices present on this machine (``"cpu"``, then ``"cuda:0"``... for each GPU PyTorch sees)."""
    from explorer.device import available_devices

    return available_devices()


def data_root() -> Path:
    """Where the named datasets are looked for: ``$PRUNING_EXPLORER_DATA`` or the package's data cache (the
    default of ``explorer.load_data`` and of ``pruning-explorer fetch``)."""
    env = os.environ.get("PRUNING_EXPLORER_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "pruning-explorer" / "data"


def data_ready(source: str) -> bool:
    """Whether ``source`` (a data source name) can be read here without downloading anything."""
    from explorer.data.files import find_idx

    root = data_root()
    if source in BUILT_IN_DATA:
        return True
    if source.startswith(_CSV_PREFIX):
        return Path(source[len(_CSV_PREFIX) :]).expanduser().is_file()
    if source == "cifar10":
        return (root / "cifar-10-batches-py" / "test_batch").is_file()
    if source in ("mnist", "fashion_mnist"):
        return find_idx(root, source, "test") is not None
    return Path(source).expanduser().is_dir()  # an image folder


def weights_status(model: str) -> str:
    """``"embedded"``, ``"cached"``, ``"missing"`` (published but not downloaded) or ``"none"``."""
    from explorer.zoo._registry import get_model_entry
    from explorer.zoo.pretrained import cached_weights_path

    source = get_model_entry(model).weights
    if source is None:
        return "none"
    if source.embedded is not None:
        return "embedded"
    return "cached" if cached_weights_path(model) is not None else "missing"


def _choice(model: str, data: str | None) -> ModelChoice:
    from explorer.zoo import get_model_spec

    spec = get_model_spec(model)
    source = data or spec.dataset
    weights = weights_status(model)
    ready = data_ready(source)
    commands = []
    if weights == "missing":
        commands.append(f"pruning-explorer fetch {model}")
    if not ready:
        if source in FETCHABLE_DATA:
            commands.append(f"pruning-explorer fetch {source}")
        if spec.dataset == "cifar10":
            commands.append(f"pruning-explorer app --model {model} --data cifar10_csv:PATH")
    dataset = "cifar10 (CSV)" if source.startswith(_CSV_PREFIX) else source
    key = model if data is None else f"{model} + {data}"
    return ModelChoice(key, model, data, dataset, weights, ready, tuple(commands))


def list_choices(current: tuple[str, str | None] | None = None) -> list[ModelChoice]:
    """Every zoo model on its own dataset, plus ``current`` (the model and data the app was started with,
    when the data is another source): available pairs first, in zoo order."""
    from explorer.zoo import list_models

    pairs: list[tuple[str, str | None]] = [(name, None) for name in list_models()]
    if current is not None and current[1] is not None and current not in pairs:
        pairs.insert(0, current)
    choices = []
    for model, data in pairs:
        try:
            choices.append(_choice(model, data))
        except ExplorerError:  # a model name the zoo does not know (a module passed from Python)
            continue
    return sorted(choices, key=lambda c: not c.available)


def find_choice(model: str, data: str | None) -> ModelChoice | None:
    """The pair ``(model, data)``, or ``None`` when ``model`` is not a zoo name."""
    try:
        return _choice(model, data)
    except ExplorerError:
        return None


__all__ = ["ModelChoice", "data_ready", "find_choice", "list_choices", "weights_status"]
