"""Backward executors of parameter chains (:mod:`symconv.layers.learned`), fast and reference,
counting what they do:

* :class:`~symconv.layers.learned.Parameter`: its gradient is the one that reaches it; its input,
  not read, gets none;
* :class:`~symconv.layers.learned.Gather`: each element's first gradient copied into a zero
  gradient, every further one added (one addition each, counted as it is added);
* :class:`~symconv.layers.learned.Clamp`: ``g`` masked where ``x`` is out of bounds (one
  comparison per element and bound); :class:`~symconv.layers.learned.Exp`: ``g·exp(x)`` (one
  multiplication; ``exp(x)`` is the saved output, read again uncounted);
* :class:`~symconv.layers.learned.Folded`: its layer's backward.

Examples
--------
>>> import numpy as np
>>> from symconv.execute.counter import Counter
>>> from symconv.layers.learned import Gather
>>> counter = Counter()
>>> dx, _ = backward_fast(Gather((0, 1, 1, 2, 0, 0), (2, 3)), np.zeros(3), {},
...                       np.arange(6.0).reshape(2, 3), counter, input_grad=True, trainable=False)
>>> dx, counter.adds    # 0 + 4 + 5, 1 + 2, 3
(array([9., 3., 3.]), 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from symconv.execute.backward_layers import Gradients, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.learned import positions
from symconv.execute.registry import Params
from symconv.layers.learned import Clamp, Exp, Folded, Gather, Parameter

__all__: list[str] = []


def _folded_backward(runner: Callable[..., Any]) -> Callable[..., Any]:
    def run(layer: Folded, x: Array, params: Params, g: Array, counter: Counter, *,
            input_grad: bool, trainable: bool) -> Gradients:
        """The layer's own backward."""
        result: Gradients = runner(layer.layer, x, params, g, counter,
                                   input_grad=input_grad, trainable=trainable)
        return result
    return run


def _parameter_backward(layer: Parameter, x: Array, params: Params, g: Array, counter: Counter,
                        *, input_grad: bool, trainable: bool) -> Gradients:
    """Its gradient is ``g``, the one that reached it; its input, not read, gets none."""
    return None, ({"value": np.array(g)} if trainable else {})


@backward_fast.register
def _(layer: Gather, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Each element's first gradient copied, every further one added (one addition each)."""
    if not input_grad:
        return None, {}
    index, values = positions(layer), g.reshape(-1)
    dx = np.zeros(x.size)
    _, first = np.unique(index, return_index=True)
    dx[index[first]] = values[first]
    rest = np.ones(index.size, dtype=bool)
    rest[first] = False
    np.add.at(dx, index[rest], values[rest])
    counter.adds += int(rest.sum())
    return dx.reshape(x.shape), {}


@backward_reference.register
def _(layer: Gather, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """One gathered position at a time: copied where its element has no gradient yet, else
    added."""
    if not input_grad:
        return None, {}
    dx: list[float] = [0.0] * x.size
    seen: set[int] = set()
    for at, value in zip(layer.positions(), g.reshape(-1).tolist()):
        if at in seen:
            dx[at] += value
            counter.adds += 1
        else:
            dx[at] = value
            seen.add(at)
    return np.array(dx, dtype=np.float64).reshape(x.shape), {}


@backward_fast.register
def _(layer: Clamp, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g`` where ``low ≤ x ≤ high``, else 0: one comparison per element and bound."""
    if not input_grad:
        return None, {}
    outside = np.zeros(x.shape, dtype=bool)
    if layer.low is not None:   # x < low, as −x > −low (the sign flip is not counted)
        outside |= counter.greater(-x, -float(layer.low))
    if layer.high is not None:
        outside |= counter.greater(x, float(layer.high))
    return np.where(outside, 0.0, g), {}


@backward_reference.register
def _(layer: Clamp, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element."""
    if not input_grad:
        return None, {}
    out = []
    for value, grad in zip(x.reshape(-1).tolist(), g.reshape(-1).tolist()):
        keep = True
        if layer.low is not None:
            keep = keep and not value < float(layer.low)
            counter.comparisons += 1
        if layer.high is not None:
            keep = keep and not value > float(layer.high)
            counter.comparisons += 1
        out.append(grad if keep else 0.0)
    return np.array(out, dtype=np.float64).reshape(x.shape), {}


@backward_fast.register
def _(layer: Exp, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g·y``, ``y = exp(x)`` the saved output."""
    if not input_grad:
        return None, {}
    return counter.multiply(g, np.exp(x)), {}


@backward_reference.register
def _(layer: Exp, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element."""
    if not input_grad:
        return None, {}
    out = [grad * math.exp(value) for value, grad in zip(x.reshape(-1).tolist(),
                                                          g.reshape(-1).tolist())]
    counter.mults += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape), {}


backward_fast.register(Folded, _folded_backward(backward_fast))
backward_reference.register(Folded, _folded_backward(backward_reference))
backward_fast.register(Parameter, _parameter_backward)
backward_reference.register(Parameter, _parameter_backward)
