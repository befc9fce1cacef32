"""What ``pruning-explorer app`` tells the kernels it starts: model, data, training data, samples, precision,
memory limit, language.

Voilà starts a fresh kernel for every visitor (or preheats one ahead of time), so options reach the kernel
through environment variables set on the server. ``LaunchOptions.from_env()`` reads them back in the kernel.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

MODEL_ENV = "PRUNING_EXPLORER_MODEL"
DATA_ENV = "PRUNING_EXPLORER_DATA"
TRAIN_DATA_ENV = "PRUNING_EXPLORER_TRAIN_DATA"
SAMPLES_ENV = "PRUNING_EXPLORER_SAMPLES"
PRECISION_ENV = "PRUNING_EXPLORER_PRECISION"
MEMORY_ENV = "PRUNING_EXPLORER_MEMORY_LIMIT"  # also read by explorer.memory
LANG_ENV = "PRUNING_EXPLORER_LANG"
EXPLORE_ENV = "PRUNING_EXPLORER_EXPLORE"
DEVICE_ENV = "PRUNING_EXPLORER_DEVICE"
DEFAULT_MODEL = "digits_cnn"


@dataclass(frozen=True)
class LaunchOptions:
    """Options of the app's session.

    Attributes:
        model: a zoo name.
        data: any source ``load_data`` accepts by name or path (``None``: the model's own dataset).
        samples: size of the validation subset (``None``: the session's default).
        precision: ``"auto"``, ``"bf16"`` or ``"fp32"``.
        memory_limit: the kernel's memory limit, e.g. ``"2G"`` (``None``: the cgroup's or the machine's).
        lang: the page's language, ``"en"`` or ``"ko"``.
        explore: open the free explorer instead of the guided lesson.
        train_data: the fine-tuning data: a source as for ``data``, or ``"held-out"`` (the samples of
            ``data`` not in the validation subset); ``None``: the source's own train split, if it has one.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"`` (``None``: the best present).
    """

    model: str = DEFAULT_MODEL
    data: str | None = None
    samples: int | None = None
    precision: str = "auto"
    memory_limit: str | None = None
    lang: str = "en"
    explore: bool = False
    train_data: str | None = None
    device: str | None = None

    def to_env(self) -> dict[str, str]:
        """The environment variables that carry these options (unset options are left out)."""
        pairs = {
            MODEL_ENV: self.model,
            DATA_ENV: self.data,
            TRAIN_DATA_ENV: self.train_data,
            SAMPLES_ENV: None if self.samples is None else str(self.samples),
            PRECISION_ENV: self.precision,
            MEMORY_ENV: self.memory_limit,
            LANG_ENV: self.lang,
            EXPLORE_ENV: "1" if self.explore else None,
            DEVICE_ENV: self.device,
        }
        return {k: v for k, v in pairs.items() if v is not None}

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LaunchOptions:
        env = os.environ if env is None else env
        samples = env.get(SAMPLES_ENV)
        return cls(
            model=env.get(MODEL_ENV) or DEFAULT_MODEL,
            data=env.get(DATA_ENV) or None,
            train_data=env.get(TRAIN_DATA_ENV) or None,
            samples=int(samples) if samples else None,
            precision=env.get(PRECISION_ENV) or "auto",
            memory_limit=env.get(MEMORY_ENV) or None,
            lang=env.get(LANG_ENV) or "en",
            explore=(env.get(EXPLORE_ENV) or "").strip().lower() in ("1", "true", "yes"),
            device=env.get(DEVICE_ENV) or None,
        )

    def session_options(self) -> dict:
        """Keyword arguments for ``PruningSession`` (besides the model)."""
        return {
            "data": self.data,
            "train_data": self.train_data,
            "num_samples": self.samples,
            "precision": self.precision,
            "memory_limit": self.memory_limit,
            "device": self.device,
        }


__all__ = ["DEFAULT_MODEL", "DEVICE_ENV", "EXPLORE_ENV", "LANG_ENV", "MODEL_ENV", "LaunchOptions"]
