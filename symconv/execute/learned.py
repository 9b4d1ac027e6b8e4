"""Executors of parameter chains (:mod:`symconv.layers.learned`), forward and training-mode
forward, fast and reference, counting what they do:

* :class:`~symconv.layers.learned.Parameter` hands its tensor on (the stage that uses it reads
  it);
* :class:`~symconv.layers.learned.Gather` copies the picked elements;
* :class:`~symconv.layers.learned.Clamp`, :class:`~symconv.layers.learned.Exp`: one comparison
  per element and bound, one exp;
* :class:`~symconv.layers.learned.Folded` runs its layer uncounted at inference (its value is
  there: nothing read or written either), counted in training mode.

The backward executors are :mod:`symconv.execute.backward_learned`'s.

Examples
--------
>>> import numpy as np
>>> from symconv.execute import execute
>>> from symconv.layers.learned import Folded, Gather
>>> run = execute(Folded(Gather((0, 2, 2), (3,))), np.array([1.0, 2.0, 3.0]))
>>> run.output, run.counts.adds
(array([1., 3., 3.]), 0)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symconv.execute.batchnorm_train import Trained, train_fast, train_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference
from symconv.layers.learned import Clamp, Exp, Folded, Gather, Parameter

__all__ = ["positions"]


@parameter_shapes.register
def _(layer: Parameter) -> dict[str, tuple[int, ...]]:
    return {"value": tuple(int(size) for size in layer.shape)}


def _parameter(layer: Parameter, x: Array, params: Params, counter: Counter) -> Array:
    """The parameter itself, handed on (the stage that uses it reads it)."""
    return params["value"]


def positions(layer: Gather) -> Array:
    """The input position of every output element, in order (:meth:`Gather.positions`, as
    an integer array)."""
    rows = np.asarray(layer.index, dtype=np.int64)
    if layer.columns == 1:
        return rows
    width = layer.columns
    return (rows[None, :] * width + np.arange(width, dtype=np.int64)[:, None]).reshape(-1)


def _picked_read(layer: Gather, flat: Array, counter: Counter) -> None:
    """Mark the picked elements read (views, so that a tracker sees them)."""
    if counter.tracker is None:
        return
    if layer.picked == flat.size:
        counter.read(flat)
        return
    for at in np.unique(positions(layer)).tolist():
        counter.read(flat[at:at + 1])


def _gather(layer: Gather, x: Array, params: Params, counter: Counter) -> Array:
    """``x.flat[index]`` in the layer's shape: a copy, nothing counted."""
    flat = x.reshape(-1)
    _picked_read(layer, flat, counter)
    return flat[positions(layer)].reshape(tuple(int(size) for size in layer.shape))


def _folded(runner: Callable[..., Any]) -> Callable[..., Any]:
    def run(layer: Folded, x: Array, params: Params, counter: Counter) -> Array:
        """The value a compiler folds: computed uncounted, nothing read or written (held as
        a weight is)."""
        output: Array = runner(layer.layer, x, params, Counter(enabled=False))
        if counter.tracker is not None:
            counter.tracker.watch("folded", output)
        return output
    return run


@run_fast.register
def _(layer: Clamp, x: Array, params: Params, counter: Counter) -> Array:
    """``min(max(x, low), high)``: one comparison per element and bound."""
    out = x
    if layer.low is not None:
        out = counter.maximum(out, float(layer.low))
    if layer.high is not None:
        out = counter.minimum(out, float(layer.high))
    return out


@run_reference.register
def _(layer: Clamp, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element, a comparison per bound."""
    out = []
    for value in counter.flat(x):
        if layer.low is not None:
            value = max(value, float(layer.low))
            counter.comparisons += 1
        if layer.high is not None:
            value = min(value, float(layer.high))
            counter.comparisons += 1
        out.append(value)
    return np.array(out, dtype=np.float64).reshape(x.shape)


@run_fast.register
def _(layer: Exp, x: Array, params: Params, counter: Counter) -> Array:
    """``exp(x)``: one transcendental per element."""
    return counter.exp(x)


@run_reference.register
def _(layer: Exp, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element."""
    out = [math.exp(value) for value in counter.flat(x)]
    counter.transcendentals += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape)


for _runner in (run_fast, run_reference):
    _runner.register(Parameter, _parameter)
    _runner.register(Gather, _gather)
    _runner.register(Folded, _folded(_runner))


def _trained(runner: Callable[..., Any]) -> Callable[..., Any]:
    def run(layer: Folded, x: Array, params: Params, counter: Counter) -> Trained:
        """Nothing folds in training: the layer's own forward, counted."""
        return Trained(output=runner(layer.layer, x, params, counter),
                       saved={}, updated={})
    return run


train_fast.register(Folded, _trained(run_fast))
train_reference.register(Folded, _trained(run_reference))
