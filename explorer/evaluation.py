"""Accuracy and loss under a plan: activation cache, progressive estimates, cancellation.

**Segments.** The model is traced once with ``torch.fx`` and cut into a chain of segments at the points where
a single tensor carries everything the rest of the network needs (between the blocks of a ResNet, between
the layers of a VGG). The first segment a mask touches is where a plan change starts to matter: everything
before it is unchanged.

**Cache policy.** The output of every segment boundary is kept, per batch, under a key made of the masks of
all layers upstream of it. Evaluating a plan starts each batch from the deepest boundary whose upstream
masks are unchanged, so moving the slider of a group in block k recomputes only blocks k and later. Entries
are evicted least-recently-used once the cache exceeds its memory budget (1 GiB by default); the prefixes
shared by consecutive plans stay hot because every evaluation reads them. During an evaluation (a *pass*),
an entry the pass itself read or wrote is never evicted to make room for a newer one of the same pass: the
newcomer is dropped instead. Without that, a pass whose activations exceed the budget (ResNet-50 at 224 px
writes about 11 MB per image) evicts its own first batches' entries before the next pass can read them, the
sequential-scan pathology of LRU, and every move recomputes from the input.

**Progressive estimate.** Batches are visited in a fixed, seeded random order, so after ``n`` of ``N``
samples the running accuracy is a simple random sample of the subset. Its 95 % interval is the normal
approximation with the finite-population correction, ``p̂ ± 1.96·sqrt(p̂(1−p̂)/n · (N−n)/(N−1))``, which
shrinks to zero at ``n = N``, where the value is exact.

When tracing fails (data-dependent control flow), the whole model is one segment: no cache, same results.
"""

from __future__ import annotations

import contextlib
import math
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import fx, nn

from explorer.layers import CHANNEL_LAYERS
from explorer.masks import LayerCuts, apply_masks
from explorer.memory import release_freed_memory
from explorer.precision import autocast, fast_layout

DEFAULT_CACHE_BUDGET = 1 << 30


class EvaluationCancelled(Exception):
    """Raised inside an evaluation when ``should_stop()`` turned true."""


@dataclass(frozen=True)
class Estimate:
    """Running metrics after ``seen`` of ``total`` samples.

    Attributes:
        accuracy: top-1 accuracy in [0, 1] over the samples seen.
        accuracy_ci: half-width of the 95 % interval of ``accuracy`` (0 when final).
        top5: top-5 accuracy, or ``None`` with fewer than 5 classes.
        loss: mean cross-entropy over the samples seen.
        loss_ci: half-width of the 95 % interval of ``loss``.
        seen, total: samples evaluated so far and in the subset.
    """

    accuracy: float
    accuracy_ci: float
    top5: float | None
    loss: float
    loss_ci: float
    seen: int
    total: int

    @property
    def final(self) -> bool:
        return self.seen == self.total


@dataclass
class _Segment:
    nodes: list[fx.Node]
    modules: set[str]
    output: fx.Node


class SegmentedModel:
    """A model cut into a chain of segments that can be run one after another.

    Args:
        model: the network; calls go through its own submodules, so hooks installed on them apply.
    """

    def __init__(self, model: nn.Module):
        self.model = model
        self.modules = dict(model.named_modules())
        try:
            graph = fx.symbolic_trace(model).graph
        except Exception:
            self.segments: list[_Segment] = []
            self.traced = False
            return
        self.traced = True
        weighted = {name for name, m in self.modules.items() if isinstance(m, CHANNEL_LAYERS)}
        self.segments = _merge_light_segments(_split_into_segments(list(graph.nodes)), weighted)

    def run(
        self, x: torch.Tensor, start: int, on_boundary: Callable[[int, torch.Tensor], None]
    ) -> torch.Tensor:
        """Run segments ``start..`` on ``x`` (the input of segment ``start``), reporting each boundary."""
        if not self.traced:
            return self.model(x)
        value = x
        for index in range(start, len(self.segments)):
            value = self._run_segment(self.segments[index], value)
            on_boundary(index, value)
        return value

    def _run_segment(self, segment: _Segment, value: torch.Tensor) -> torch.Tensor:
        env: dict[fx.Node, object] = {}
        for node in segment.nodes:
            if node.op == "placeholder":
                env[node] = value
                continue
            args = fx.node.map_arg(node.args, lambda n: env.get(n, value))
            kwargs = fx.node.map_arg(node.kwargs, lambda n: env.get(n, value))
            if node.op == "call_module":
                env[node] = self.modules[node.target](*args, **kwargs)
            elif node.op == "call_function":
                env[node] = node.target(*args, **kwargs)
            elif node.op == "call_method":
                obj, *rest = args
                env[node] = getattr(obj, node.target)(*rest, **kwargs)
            elif node.op == "get_attr":
                env[node] = operator.attrgetter(node.target)(self.model)
            elif node.op == "output":
                env[node] = args[0]
        return env[segment.output]


def _split_into_segments(nodes: list[fx.Node]) -> list[_Segment]:
    position = {node: i for i, node in enumerate(nodes)}
    last_use = {node: max((position[u] for u in node.users), default=position[node]) for node in nodes}
    segments: list[_Segment] = []
    current: list[fx.Node] = []
    live: set[fx.Node] = set()  # values defined so far that a later node still reads
    for i, node in enumerate(nodes):
        current.append(node)
        if node.op == "output":
            segments.append(_make_segment(current, node))
            break
        live = {n for n in live if last_use[n] > i}
        if last_use[node] > i and node.op != "get_attr":
            live.add(node)
        is_cut = live == {node} and node.op != "placeholder"
        if is_cut and any(n.op == "call_module" for n in current):
            segments.append(_make_segment(current, node))
            current = []
    return segments


def _merge_light_segments(segments: list[_Segment], weighted: set[str]) -> list[_Segment]:
    # A boundary is only worth caching right before a conv or linear: masks act on those layers and the
    # layers just after them, so finer cuts would cost memory and save no compute.
    merged: list[_Segment] = []
    for segment in segments:
        if merged and not (segment.modules & weighted):
            last = merged[-1]
            merged[-1] = _Segment(last.nodes + segment.nodes, last.modules | segment.modules, segment.output)
        else:
            merged.append(segment)
    return merged


def _make_segment(nodes: list[fx.Node], output: fx.Node) -> _Segment:
    modules = {str(n.target) for n in nodes if n.op == "call_module"}
    return _Segment(nodes=list(nodes), modules=modules, output=output)


class ActivationCache:
    """LRU store of segment-boundary activations under a memory budget (bytes)."""

    def __init__(self, budget_bytes: int = DEFAULT_CACHE_BUDGET):
        self.budget = budget_bytes
        self.used = 0
        self._store: OrderedDict[tuple, torch.Tensor] = OrderedDict()
        self._stamp: dict[tuple, int] = {}  # key → the pass that last read or wrote it
        self._pass = 0
        self._open = 0  # passes running now
        self.hits = 0
        self.misses = 0

    @contextlib.contextmanager
    def evaluation_pass(self) -> Iterator[None]:
        """One evaluation: while it runs, the entries it reads or writes are kept over newer ones."""
        self._pass += 1
        self._open += 1
        try:
            yield
        finally:
            self._open -= 1

    def get(self, key: tuple) -> torch.Tensor | None:
        value = self._store.get(key)
        if value is None:
            self.misses += 1
            return None
        self._store.move_to_end(key)
        self._stamp[key] = self._pass
        self.hits += 1
        return value

    def put(self, key: tuple, value: torch.Tensor) -> None:
        size = value.numel() * value.element_size()
        if size > self.budget or key in self._store:
            return
        while self.used + size > self.budget and self._store:
            oldest = next(iter(self._store))
            if self._open and self._stamp.get(oldest) == self._pass:
                return  # all that is left serves this pass: keep it, drop the newcomer
            self._drop(oldest)
        self._store[key] = value
        self._stamp[key] = self._pass
        self.used += size

    def _drop(self, key: tuple) -> None:
        old = self._store.pop(key)
        self._stamp.pop(key, None)
        self.used -= old.numel() * old.element_size()

    def _evict(self) -> None:
        while self.used > self.budget and self._store:
            self._drop(next(iter(self._store)))

    def clear(self) -> None:
        self._store.clear()
        self._stamp.clear()
        self.used = 0

    def resize(self, budget_bytes: int) -> None:
        """A new budget; least-recently-used entries go until it holds."""
        self.budget = budget_bytes
        self._evict()


def _cut_signature(cuts: LayerCuts, modules: set[str]) -> tuple:
    return tuple(
        (name, side, tuple(sorted(table[name])))
        for name in sorted(modules)
        for side, table in (("out", cuts.out), ("in", cuts.inp))
        if name in table
    )


class Evaluator:
    """Evaluates a model under layer cuts, with a segment cache and progressive estimates.

    Args:
        model: the engine's private copy of the network (hooks are installed on it temporarily).
        inputs: ``[N, C, H, W]`` validation inputs, already in the seeded random visiting order.
        labels: ``[N]`` class indices.
        batch_sizes: sizes of consecutive batches (a small first batch gives a fast first estimate).
        cache_budget: bytes of activations kept.
        precision: ``"fp32"`` or ``"bf16"`` (autocast; see ``explorer.precision``); the cache then holds
            bfloat16 activations, half the bytes.
    """

    def __init__(
        self,
        model: nn.Module,
        inputs: torch.Tensor,
        labels: torch.Tensor,
        batch_sizes: list[int],
        cache_budget: int = DEFAULT_CACHE_BUDGET,
        lock: threading.RLock | None = None,
        precision: str = "fp32",
    ):
        self.model = model
        self.precision = precision
        self.lock = lock if lock is not None else threading.RLock()
        self.segmented = SegmentedModel(model)
        self.cache = ActivationCache(cache_budget)
        self.batches: list[tuple[torch.Tensor, torch.Tensor]] = []
        start = 0
        for size in batch_sizes:
            self.batches.append((fast_layout(inputs[start : start + size]), labels[start : start + size]))
            start += size
        self.total = int(labels.shape[0])

    @classmethod
    def shuffled(
        cls,
        model: nn.Module,
        split,
        seed: int,
        batch_sizes: list[int],
        cache_budget: int,
        lock: threading.RLock,
        precision: str = "fp32",
    ) -> Evaluator:
        """An evaluator visiting ``split`` (``.inputs``, ``.labels``) in a seeded random order, so that the
        running estimate after any number of batches is a simple random sample."""
        order = torch.randperm(split.labels.shape[0], generator=torch.Generator().manual_seed(seed))
        order = order.to(split.labels.device)
        inputs, labels = split.inputs[order], split.labels[order]
        return cls(model, inputs, labels, batch_sizes, cache_budget, lock, precision)

    def _upstream_keys(self, cuts: LayerCuts) -> list[tuple]:
        keys, key = [], ()
        for segment in self.segmented.segments:
            key = (key, _cut_signature(cuts, segment.modules))
            keys.append(key)
        return keys

    def _logits(self, batch_index: int, x: torch.Tensor, keys: list[tuple], use_cache: bool) -> torch.Tensor:
        if not use_cache or not self.segmented.traced:
            return self.segmented.run(x, 0, lambda *_: None)
        start, value = 0, x
        for index in range(len(keys) - 1, -1, -1):
            cached = self.cache.get((index, batch_index, keys[index]))
            if cached is not None:
                start, value = index + 1, cached
                break
        if start == len(keys):
            return value

        def remember(index: int, out: torch.Tensor) -> None:
            if isinstance(out, torch.Tensor):
                self.cache.put((index, batch_index, keys[index]), out)

        return self.segmented.run(value, start, remember)

    def iter_estimates(
        self, cuts: LayerCuts, *, use_cache: bool = True, should_stop: Callable[[], bool] | None = None
    ) -> Iterator[Estimate]:
        """Yield a running :class:`Estimate` after each batch; the last one is exact.

        Raises:
            EvaluationCancelled: when ``should_stop()`` returns true between batches.
        """
        try:
            with self.cache.evaluation_pass():
                yield from self._estimates(cuts, use_cache, should_stop)
        finally:
            release_freed_memory()  # the activations this evaluation freed go back to the system

    def _estimates(self, cuts: LayerCuts, use_cache: bool, should_stop) -> Iterator[Estimate]:
        keys = self._upstream_keys(cuts)
        correct = correct5 = 0
        loss_sum = loss_sq = 0.0
        seen = 0
        for batch_index, (x, y) in enumerate(self.batches):
            if should_stop is not None and should_stop():
                raise EvaluationCancelled
            # masks are installed per batch, under the lock, so that other users of the model (scores,
            # export) never see them and are never blocked for longer than one batch
            on = autocast(self.precision, x.device.type)
            with self.lock, torch.inference_mode(), apply_masks(self.model, cuts), on:
                logits = self._logits(batch_index, x, keys, use_cache).float()
            with torch.inference_mode():
                losses = F.cross_entropy(logits, y, reduction="none").double()
                correct += int((logits.argmax(1) == y).sum())
                if logits.shape[1] >= 5:
                    top5 = logits.topk(5, dim=1).indices
                    correct5 += int((top5 == y[:, None]).any(1).sum())
                loss_sum += float(losses.sum())
                loss_sq += float((losses * losses).sum())
            seen += int(y.shape[0])
            yield _estimate(correct, correct5, loss_sum, loss_sq, seen, self.total, logits.shape[1] >= 5)

    def release_cache(self) -> None:
        """Empty the activation cache and hand its memory back to the system: before training, whose working
        set needs the room under the same memory limit (and whose new weights make the entries stale)."""
        with self.lock:
            self.cache.clear()
        release_freed_memory()

    def evaluate(self, cuts: LayerCuts, *, use_cache: bool = True, should_stop=None) -> Estimate:
        """The exact metrics over the whole subset."""
        *_, last = self.iter_estimates(cuts, use_cache=use_cache, should_stop=should_stop)
        return last


def _estimate(correct, correct5, loss_sum, loss_sq, seen, total, has_top5) -> Estimate:
    accuracy = correct / seen
    fpc = (total - seen) / (total - 1) if total > 1 else 0.0
    accuracy_ci = 1.96 * math.sqrt(max(accuracy * (1 - accuracy), 0.0) / seen * fpc)
    loss = loss_sum / seen
    variance = max(loss_sq / seen - loss * loss, 0.0) * seen / max(seen - 1, 1)
    loss_ci = 1.96 * math.sqrt(variance / seen * fpc)
    return Estimate(
        accuracy=accuracy,
        accuracy_ci=accuracy_ci,
        top5=correct5 / seen if has_top5 else None,
        loss=loss,
        loss_ci=loss_ci,
        seen=seen,
        total=total,
    )


FIRST_BATCH = 64
# Multiply-accumulates the first batch may cost: 64 images of ResNet-20 (2.6e9) fit, while ResNet-50 at 224 px
# (4.1e9 per image) gets 8, so that its first estimate is a fraction of a second on a CPU, not several.
FIRST_BATCH_MACS = 32e9


def first_batch_size(macs_per_sample: int, largest: int = FIRST_BATCH) -> int:
    """The first batch's size: at most ``largest`` and ``FIRST_BATCH_MACS`` worth of samples, at least 8."""
    return max(8, min(largest, int(FIRST_BATCH_MACS // max(int(macs_per_sample), 1))))


def plan_batches(total: int, batch_size: int = 200, first_batch: int = 64) -> list[int]:
    """Batch sizes covering ``total`` samples: a small first batch, then ``batch_size`` each."""
    sizes, left = [], total
    if left > 0:
        sizes.append(min(first_batch, left))
        left -= sizes[0]
    while left > 0:
        sizes.append(min(batch_size, left))
        left -= sizes[-1]
    return sizes
