"""Executors of parameter chains (:mod:`symconv.layers.learned`), forward, training-mode forward
and backward, fast and reference, counting what they do:

* :class:`~symconv.layers.learned.Parameter` hands its tensor on (read); its gradient is the one
  that reaches it;
* :class:`~symconv.layers.learned.Gather` copies the picked elements; its backward copies each
  element's first gradient into a zero gradient and adds every further one (one addition each,
  counted as it is added);
* :class:`~symconv.layers.learned.Clamp`, :class:`~symconv.layers.learned.Exp`: one comparison
  per element and bound, one exp; backward ``g`` masked where ``x`` is out of bounds (one
  comparison per element and bound), ``g·exp(x)`` (one multiplication; ``exp(x)`` is the saved
  output, read again uncounted);
* :class:`~symconv.layers.learned.Folded` runs its layer uncounted at inference (its value is
  there: nothing read or written either), counted in training mode and backward.

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

import numpy as np

from symconv.execute.backward_layers import Gradients, backward_fast, backward_reference
from symconv.execute.batchnorm_train import Trained, train_fast, train_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference
from symconv.layers.learned import Clamp, Exp, Folded, Gather, Parameter

__all__: list[str] = []


@parameter_shapes.register
def _(layer: Parameter) -> dict[str, tuple[int, ...]]:
    return {"value": tuple(int(size) for size in layer.shape)}


def _parameter(layer: Parameter, x: Array, params: Params, counter: Counter) -> Array:
    """The parameter itself, read once."""
    counter.read(params["value"])
    return params["value"]


def _picked_read(layer: Gather, flat: Array, counter: Counter) -> None:
    """Mark the picked elements read (views, so that a tracker sees them)."""
    if counter.tracker is None:
        return
    if layer.picked() == flat.size:
        counter.read(flat)
        return
    for at in sorted(set(layer.index)):
        counter.read(flat[at:at + 1])


def _gather(layer: Gather, x: Array, params: Params, counter: Counter) -> Array:
    """``x.flat[index]`` in the layer's shape: a copy, nothing counted."""
    flat = x.reshape(-1)
    _picked_read(layer, flat, counter)
    return flat[np.asarray(layer.index)].reshape(tuple(int(size) for size in layer.shape))


def _folded(runner: object) -> object:
    def run(layer: Folded, x: Array, params: Params, counter: Counter) -> Array:
        """The value a compiler folds: computed uncounted, nothing read or written (held as
        a weight is)."""
        output: Array = runner(layer.layer, x, params, Counter(enabled=False))  # type: ignore[operator]
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


def _trained(runner: object) -> object:
    def run(layer: Folded, x: Array, params: Params, counter: Counter) -> Trained:
        """Nothing folds in training: the layer's own forward, counted."""
        return Trained(output=runner(layer.layer, x, params, counter),  # type: ignore[operator]
                       saved={}, updated={})
    return run


train_fast.register(Folded, _trained(run_fast))
train_reference.register(Folded, _trained(run_reference))


# --- backward ------------------------------------------------------------------------------

def _folded_backward(runner: object) -> object:
    def run(layer: Folded, x: Array, params: Params, g: Array, counter: Counter, *,
            input_grad: bool, trainable: bool) -> Gradients:
        """The layer's own backward."""
        result: Gradients = runner(layer.layer, x, params, g, counter,  # type: ignore[operator]
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
    index, values = np.asarray(layer.index), g.reshape(-1)
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
    for at, value in zip(layer.index, g.reshape(-1).tolist()):
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
