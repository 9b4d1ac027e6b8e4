"""Backward executors of the layers of windowed attention, fast and reference (what each counts:
:mod:`symconv.layers.backward_windows`): ``Roll`` (rolled back), ``Strided`` (scattered into
zeros), ``Constant`` (a zero gradient), ``MulParameter`` and ``F.normalize``.

``Normalize``'s backward reads what the forward saved (the norm, and the clamped norm ``d``):
recomputed here uncounted, as the other normalisations' statistics are."""

from __future__ import annotations

import numpy as np

from symconv.execute.backward_broadcast import _reduce_to
from symconv.execute.backward_layers import Gradients, _both, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.execute.tokens import _added
from symconv.layers.activations import check_axis
from symconv.layers.tokens import MulParameter
from symconv.layers.windows import Constant, Normalize, Roll, Strided

__all__: list[str] = []


@_both(Roll)
def _(layer: Roll, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g`` rolled back by the opposite shifts: nothing counted."""
    if not input_grad:
        return None, {}
    return np.roll(g, tuple(-shift for shift in layer.shifts), layer.axes), {}


@_both(Strided)
def _(layer: Strided, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g`` copied into the strided positions of a zero gradient: nothing counted."""
    if not input_grad:
        return None, {}
    dx = np.zeros(x.shape)
    dx[tuple(slice(start, stop, step) for start, stop, step
             in zip(layer.starts, layer.stops, layer.steps))] = g
    return dx, {}


@_both(Constant)
def _(layer: Constant, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Zero: the constant's values do not depend on the input."""
    return (np.zeros(x.shape) if input_grad else None), {}


@backward_fast.register
def _(layer: MulParameter, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g·p``; the learned tensor's ``g·x`` summed over its broadcast axes."""
    grads: dict[str, Array] = {}
    if trainable and layer.learned:
        grads["value"] = _reduce_to(counter, counter.multiply(g, x), params["value"].shape)
    dx = counter.multiply(g, _added(layer, params)) if input_grad else None
    return dx, grads


@backward_reference.register
def _(layer: MulParameter, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element: each ``g·p`` alone; each tensor element's products summed one term
    at a time."""
    grads: dict[str, Array] = {}
    tensor = _added(layer, params)
    if trainable and layer.learned:
        shape = tensor.shape
        padded = (1,) * (g.ndim - len(shape)) + shape
        out, seen = np.zeros(padded), np.zeros(padded, dtype=bool)
        for index in np.ndindex(*g.shape):
            target = tuple(0 if size == 1 else i for i, size in zip(index, padded))
            product = float(g[index]) * float(x[index])
            counter.mults += 1
            if seen[target]:
                out[target] += product
                counter.adds += 1
            else:
                out[target], seen[target] = product, True
        grads["value"] = out.reshape(shape)
    dx = None
    if input_grad:
        values = np.broadcast_to(tensor, g.shape)
        dx = np.array([a * b for a, b in zip(g.ravel().tolist(), values.ravel().tolist())])
        counter.mults += dx.size
        dx = dx.reshape(g.shape)
    return dx, grads


def _saved(layer: Normalize, moved: Array) -> tuple[Array, Array]:
    """The norm of each row and ``d = max(norm, eps)``, as the forward saved them (uncounted)."""
    norm = np.sqrt(np.einsum("...i,...i->...", moved, moved))[..., None]
    return norm, np.maximum(norm, float(layer.eps))


@backward_fast.register
def _(layer: Normalize, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """As PyTorch's autograd through ``x / norm(x).clamp_min(eps).expand_as(x)``."""
    if not input_grad:
        return None, {}
    axis = check_axis(layer.axis, x.ndim, "Normalize(axis")
    moved, grad = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    norm, d = _saved(layer, moved)
    # two arrays of x's size, each operation into one of them (fresh arrays page-fault)
    direct = counter.divide(grad, d)                                     # g/d
    ratio = counter.divide(moved, d)                                     # (x/d)/d
    counter.divide(ratio, d, out=ratio)
    length = moved.shape[-1]                                             # summed by expand_as
    g_d = -counter.einsum("ri,ri->r", np.ascontiguousarray(grad).reshape(-1, length),
                          ratio.reshape(-1, length)).reshape(norm.shape)
    kept = norm >= float(layer.eps)                                      # clamp_min's gradient
    zero = norm == 0.0                                                   # norm_backward's mask
    counter.comparisons += kept.size + zero.size
    g_n = np.where(kept, g_d, 0.0)
    through_norm = counter.divide(moved, norm, out=ratio)                # x/‖x‖, 0 where ‖x‖ = 0
    through_norm[np.broadcast_to(zero, through_norm.shape)] = 0.0
    counter.multiply(through_norm, g_n, out=through_norm)
    dx = counter.add(direct, through_norm, out=direct)
    return np.moveaxis(dx, -1, axis), {}


@backward_reference.register
def _(layer: Normalize, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Row by row, element by element."""
    if not input_grad:
        return None, {}
    axis = check_axis(layer.axis, x.ndim, "Normalize(axis")
    moved, grad = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    norms, ds = _saved(layer, moved)
    eps = float(layer.eps)
    out = np.empty(moved.shape)
    for index in np.ndindex(moved.shape[:-1]):
        row, g_row = moved[index].tolist(), grad[index].tolist()
        norm, d = float(norms[index][0]), float(ds[index][0])
        direct = [gradient / d for gradient in g_row]
        counter.divs += len(row)
        total = 0.0
        for position, (value, gradient) in enumerate(zip(row, g_row)):
            term = gradient * ((value / d) / d)
            counter.divs += 2
            counter.mults += 1
            if position:
                counter.adds += 1
            total += term
        g_n = -total if norm >= eps else 0.0    # clamp_min's gradient
        counter.comparisons += 1
        zero = norm == 0.0                      # norm_backward's mask
        counter.comparisons += 1
        through = []
        for value in row:
            through.append(g_n * (0.0 if zero else value / norm))
        counter.divs += len(row)
        counter.mults += len(row)
        out[index] = [a + b for a, b in zip(direct, through)]
        counter.adds += len(row)
    return np.moveaxis(out, -1, axis), {}
