"""BatchNorm's forward pass in training mode, fast and reference, counting what it computes:
the parts of :mod:`symconv.layers.batchnorm_train` (batch statistics, running statistics, the
per-channel constants, then ``x·alpha + beta``), as PyTorch's CPU kernel runs them. Without
running statistics (``track_running_stats=False``) nothing is updated, and the inference
forward is the same run (its :func:`~symconv.execute.registry.run_fast` and
:func:`~symconv.execute.registry.run_reference`, registered here).

Each executor takes the layer, its input ``x``, its parameters and buffers (``running_mean``,
``running_var``) and a :class:`~symconv.execute.counter.Counter`, and returns a
:class:`Trained`: the output, what the forward saves for the backward pass (``save_mean``,
``save_invstd``, PyTorch's names) and the running statistics after the update. Nothing is
updated in place: the buffers handed in are left as they were.

:func:`symconv.execute.execute` runs these with ``training=True``;
:func:`symconv.execute.backward.execute_backward` runs its forward pass so, and BatchNorm's
backward reads ``save_mean`` and ``save_invstd`` instead of computing them again.

Examples
--------
>>> import numpy as np
>>> from symconv.execute.counter import Counter
>>> from symconv.layers import BatchNorm1d
>>> x = np.array([[1.0], [2.0], [3.0], [6.0]])           # 4 values of one channel
>>> params = {"weight": np.array([2.0]), "bias": np.array([1.0]),
...           "running_mean": np.array([0.0]), "running_var": np.array([1.0])}
>>> counter = Counter()
>>> run = train_fast(BatchNorm1d(1), x, params, counter)
>>> run.saved["save_mean"], run.updated["running_mean"]     # mean 3, 0.1·3 + 0.9·0
(array([3.]), array([0.3]))
>>> run.updated["running_var"]                              # 0.1·14/3 + 0.9·1
array([1.36666667])
>>> counter.mults, counter.adds, counter.divs, counter.transcendentals   # 2·4 + 6; 4·4 + 2
(14, 18, 4, 1)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.execute.elementwise import BATCHNORM_EPS
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers import BatchNorm2d, Layer
from symconv.layers.batchnorm_train import (
    BATCHNORM_MOMENTUM,
    has_training_forward,
    one_value_per_channel,
)

__all__ = ["Trained", "train_fast", "train_reference", "TRAIN_RUNNERS", "has_training_forward"]


@dataclass(frozen=True, eq=False)
class Trained:
    """What a training-mode forward pass gives: ``output``; ``saved`` for the backward pass
    (BatchNorm: ``save_mean``, ``save_invstd``); ``updated`` buffers (``running_mean``,
    ``running_var`` after the step)."""

    output: Array
    saved: Params
    updated: Params


@functools.singledispatch
def train_fast(layer: Layer, x: Array, params: Params, counter: Counter) -> Trained:
    """The vectorised training-mode forward of a single layer (registered per layer type)."""
    raise SymconvError(f"layer={type(layer).__name__} has no training-mode forward executor")


@functools.singledispatch
def train_reference(layer: Layer, x: Array, params: Params, counter: Counter) -> Trained:
    """The plain-loop training-mode forward of a single layer (registered per layer type)."""
    raise SymconvError(f"layer={type(layer).__name__} has no training-mode forward executor")


#: The training-mode executors by method.
TRAIN_RUNNERS = {"fast": train_fast, "reference": train_reference}


def _constants(layer: BatchNorm2d, values: int) -> tuple[float, float, float]:
    """``eps``, the momentum and ``1 − momentum`` (constants of the layer, not counted); raise
    for a single value per channel, as PyTorch does."""
    if values < 2:
        raise SymconvError(one_value_per_channel(layer))
    momentum = float(getattr(layer, "momentum", BATCHNORM_MOMENTUM))
    return float(getattr(layer, "eps", BATCHNORM_EPS)), momentum, 1.0 - momentum


@train_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Trained:
    """Two passes over each channel's values (sum, then squared deviations), per channel
    ``invstd``, the running statistics and ``alpha``, ``beta``; per element ``x·alpha + beta``."""
    rows = x.reshape(-1, x.shape[-1])
    values = rows.shape[0]
    eps, momentum, keep = _constants(layer, values)
    # statistics
    mean = counter.divide(counter.einsum("pc->c", rows), float(values))
    centred = counter.subtract(rows, mean)
    var_sum = counter.einsum("pc,pc->c", centred, centred)
    del centred
    variance = counter.divide(var_sum, float(values))
    invstd = counter.divide(1.0, counter.sqrt(counter.add(variance, eps, out=variance)))
    updated: Params = {}
    if layer.track_running_stats:
        # running statistics: momentum·new + (1 − momentum)·old, the variance unbiased
        running_mean = counter.add(counter.multiply(mean, momentum),
                                   counter.multiply(params["running_mean"], keep))
        unbiased = counter.divide(var_sum, float(values - 1))
        running_var = counter.add(counter.multiply(unbiased, momentum),
                                  counter.multiply(params["running_var"], keep))
        updated = {"running_mean": running_mean, "running_var": running_var}
    # the per-channel constants of x·alpha + beta
    if layer.affine:
        alpha = counter.multiply(invstd, params["weight"])
        beta = counter.subtract(params["bias"], counter.multiply(mean, alpha))
    else:
        alpha, beta = invstd, np.negative(counter.multiply(mean, invstd))  # a sign flip: free
    out = counter.multiply(rows, alpha)
    counter.add(out, beta, out=out)
    return Trained(output=out.reshape(x.shape),
                   saved={"save_mean": mean, "save_invstd": invstd}, updated=updated)


@train_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Trained:
    """The same, one scalar at a time, channel by channel as PyTorch's contiguous kernel."""
    xs = counter.rows(x)
    values, channels = len(xs), len(xs[0])
    eps, momentum, keep = _constants(layer, values)
    tracked = layer.track_running_stats
    old_mean, old_var = ((params["running_mean"].tolist(), params["running_var"].tolist())
                         if tracked else ([], []))
    if layer.affine:
        counter.read(params["weight"], params["bias"])
    gamma = params["weight"].tolist() if layer.affine else None
    beta_in = params["bias"].tolist() if layer.affine else None
    means, invstds, new_mean, new_var, alphas, betas = ([0.0] * channels for _ in range(6))
    for c in range(channels):
        total = xs[0][c]
        for p in range(1, values):
            total += xs[p][c]
            counter.adds += 1
        mean = total / values
        var_sum = 0.0
        for p in range(values):
            deviation = xs[p][c] - mean
            square = deviation * deviation
            var_sum = square if p == 0 else var_sum + square
            counter.adds += 1 if p == 0 else 2
            counter.mults += 1
        invstd = 1.0 / np.sqrt(var_sum / values + eps)
        counter.divs += 3
        counter.adds += 1
        counter.transcendentals += 1
        means[c], invstds[c] = mean, float(invstd)
        if tracked:
            new_mean[c] = momentum * mean + keep * old_mean[c]
            new_var[c] = momentum * (var_sum / (values - 1)) + keep * old_var[c]
            counter.mults += 4
            counter.adds += 2
            counter.divs += 1
        if gamma is not None and beta_in is not None:
            alphas[c] = invstds[c] * gamma[c]
            betas[c] = beta_in[c] - mean * alphas[c]
            counter.mults += 2
            counter.adds += 1
        else:
            alphas[c], betas[c] = invstds[c], -(mean * invstds[c])
            counter.mults += 1
    out = []
    for row in xs:
        result = []
        for c, value in enumerate(row):
            result.append(value * alphas[c] + betas[c])
            counter.mults += 1
            counter.adds += 1
        out.append(result)
    return Trained(output=np.array(out, dtype=np.float64).reshape(x.shape),
                   saved={"save_mean": np.array(means), "save_invstd": np.array(invstds)},
                   updated={"running_mean": np.array(new_mean),
                            "running_var": np.array(new_var)} if tracked else {})


# ----------------------------------------------------------- without running statistics
# BatchNorm2d(track_running_stats=False) runs its inference forward as its training forward:
# the batch statistics (nothing to update); the folded executors serve the others.
_FOLDED_FAST = run_fast.dispatch(BatchNorm2d)
_FOLDED_REFERENCE = run_reference.dispatch(BatchNorm2d)


@run_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded (:mod:`symconv.execute.elementwise`); without running statistics, with the
    batch's: :func:`train_fast`'s output."""
    if layer.track_running_stats:
        return _FOLDED_FAST(layer, x, params, counter)
    return train_fast(layer, x, params, counter).output


@run_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded, element by element; without running statistics :func:`train_reference`'s
    output."""
    if layer.track_running_stats:
        return _FOLDED_REFERENCE(layer, x, params, counter)
    return train_reference(layer, x, params, counter).output
