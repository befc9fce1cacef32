"""The weights inside the session's model copy: which named state is loaded, with the original kept aside.

The session evaluates, scores and exports one private model copy. Switching between the original weights and
a fine-tuned state loads a state dict into that copy, under the session's lock, and tells the caches that
depended on the old weights to forget them.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import threading
from collections.abc import Callable, Iterator, Mapping

import torch
from torch import nn

from explorer.errors import ExplorerError
from explorer.history import WeightsState


def fingerprint(model: nn.Module) -> str:
    """SHA-256 of every tensor of ``model``'s state dict, with its name."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _detached_copy(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in state.items()}


class LiveWeights:
    """Loads named weights states into ``model``.

    Args:
        model: the session's private copy; its weights at construction are the original network.
        lock: held while weights are loaded (the copy is shared with the evaluation thread).
        on_change: called after new weights are loaded (clears caches that depended on the old ones).
    """

    def __init__(self, model: nn.Module, lock: threading.RLock, on_change: Callable[[], None]):
        self._model = model
        self._lock = lock
        self._on_change = on_change
        self.original_state = _detached_copy(model.state_dict())
        self.loaded = WeightsState()
        self.fingerprint = fingerprint(model)

    def load(self, wanted: WeightsState) -> None:
        """Make ``wanted`` the weights in the model copy (nothing happens when it already is)."""
        if wanted is self.loaded:
            return
        with self._lock:
            self._model.load_state_dict(self._state_of(wanted))
            self.loaded = wanted
            self.fingerprint = fingerprint(self._model)
            self._on_change()

    def _state_of(self, weights: WeightsState) -> Mapping[str, torch.Tensor]:
        return self.original_state if weights.is_original else weights.state_dict

    def capture(self, model: nn.Module, **fields) -> WeightsState:
        """A new named state holding a copy of ``model``'s weights (``fields``: see ``WeightsState``)."""
        state = _detached_copy(model.state_dict())
        if state.keys() != self.original_state.keys():
            raise ExplorerError("the adopted weights do not belong to this network (different layers)")
        return WeightsState(state_dict=state, **fields)

    def live_copy(self) -> nn.Module:
        """A copy with the loaded weights, taken under the lock (no evaluation's masks on it)."""
        with self._lock:
            return copy.deepcopy(self._model)

    def original_copy(self) -> nn.Module:
        """A copy of the network with its original weights, whatever weights are loaded."""
        model = self.live_copy()
        model.load_state_dict(self.original_state)
        return model

    @contextlib.contextmanager
    def original_in_place(self) -> Iterator[None]:
        """The original weights in the model copy for the duration, under the lock; caches are not told, so
        use no cache meanwhile."""
        with self._lock:
            if self.loaded.is_original:
                yield
                return
            self._model.load_state_dict(self.original_state)
            try:
                yield
            finally:
                self._model.load_state_dict(self._state_of(self.loaded))

    def unchanged(self) -> bool:
        """True when the model copy holds exactly the loaded state (nothing wrote to it)."""
        return fingerprint(self._model) == self.fingerprint


__all__ = ["LiveWeights", "fingerprint"]
