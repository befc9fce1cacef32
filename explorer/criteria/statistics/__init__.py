"""Gathering the statistics that the data-driven criteria score: activations × gradients, weight gradients,
the empirical Fisher diagonal, and per-channel statistics of the activation after the ReLU.

Every collector follows the same contract:

* the model runs in eval mode, so BatchNorm uses its running statistics and every sample is processed
  independently of the others in its batch (which is what makes per-sample quantities well defined); each
  module's own ``training`` flag is restored afterwards;
* the weights are never written: gradients are obtained with ``torch.autograd.grad`` or ``torch.func``, so no
  ``.grad`` field is created or changed, and a ``requires_grad`` flag switched on to differentiate a frozen
  parameter is switched back off on exit;
* hooks are installed by context managers and removed on exit, even after an error;
* ``loss_fn(logits, labels)`` must return the *mean* loss over the batch, like ``F.cross_entropy``'s default;
  the collectors rescale it where they need sums of per-sample losses;
* ``should_stop()`` is polled between batches; when it returns true, ``ScoringCancelled`` is raised.
"""

from __future__ import annotations

from explorer.criteria.statistics.activations import ActivationGradients, collect_activation_gradients
from explorer.criteria.statistics.calibration import LossFn, calibration_tensors, evaluation_mode
from explorer.criteria.statistics.fisher import collect_fisher_diagonal
from explorer.criteria.statistics.heads import collect_head_gradients
from explorer.criteria.statistics.per_sample import layer_formulas_apply
from explorer.criteria.statistics.post_relu import ActivationStatistics, collect_post_relu_statistics
from explorer.criteria.statistics.weight_gradients import collect_weight_gradients

# The name earlier callers (and tests) use for ``layer_formulas_apply``.
_layer_formulas_apply = layer_formulas_apply

__all__ = [
    "ActivationGradients",
    "ActivationStatistics",
    "LossFn",
    "calibration_tensors",
    "collect_activation_gradients",
    "collect_fisher_diagonal",
    "collect_head_gradients",
    "collect_post_relu_statistics",
    "collect_weight_gradients",
    "evaluation_mode",
    "layer_formulas_apply",
]
