"""Backward executors of ``Mean``, ``Slice``, ``ChannelShuffle``, ``Pad``, ``Identity``,
the dropouts and ``StochasticDepth`` (the gradient times the noise their training-mode forward
saved: :mod:`symconv.execute.dropout_train`), adaptive average and max pooling and
``LayerScale``, fast and reference (what each does: :mod:`symconv.layers.backward_movement`,
:mod:`symconv.layers.dropout_train`). ``Cat``'s gradient is split
by the walk of :mod:`symconv.execute.backward`."""

from __future__ import annotations

import itertools
import math

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.backward_layers import Gradients, _both, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.movement import _pad
from symconv.execute.registry import Params
from symconv.layers import (
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    ChannelShuffle,
    Identity,
    LayerScale,
    Mean,
    Pad,
    Slice,
)
from symconv.layers.adaptive import window_bounds
from symconv.layers.dropout_train import NOISY, Noisy

__all__: list[str] = []


@_both(Identity)
def _(layer: Identity, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The gradient itself."""
    return (np.array(g) if input_grad else None), {}


@_both(Slice)
def _(layer: Slice, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g`` copied into channels ``start:stop`` of a zero gradient."""
    if not input_grad:
        return None, {}
    dx = np.zeros(x.shape)
    dx[..., int(layer.start):int(layer.stop)] = g
    return dx, {}


@_both(ChannelShuffle)
def _(layer: ChannelShuffle, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The inverse permutation: ``(…, C/g, g)`` transposed back to ``(…, g, C/g)``."""
    if not input_grad:
        return None, {}
    groups, channels = int(layer.groups), x.shape[-1]
    moved = g.reshape(*g.shape[:-1], channels // groups, groups).swapaxes(-1, -2)
    return np.ascontiguousarray(moved).reshape(x.shape), {}


def _pad_sources(layer: Pad, x: Array) -> tuple[Array, tuple[slice, ...]]:
    """Per element of the padded output, the flat index of the input element it was copied from
    (``-1`` for a constant), and the slices of the interior (where the input itself lies)."""
    index = np.arange(x.size, dtype=np.float64).reshape(x.shape)
    if layer.mode == "constant":
        sources = _pad(Pad(layer.padding, "constant", -1), index, {}, Counter(enabled=False))
    else:
        sources = _pad(layer, index, {}, Counter(enabled=False))
    interior = [slice(None)] * x.ndim
    sizes = [int(size) for size in layer.padding]
    for pair in range(len(sizes) // 2):
        axis = x.ndim - 2 - pair
        interior[axis] = slice(sizes[2 * pair], sizes[2 * pair] + x.shape[axis])
    return sources.astype(np.int64), tuple(interior)


@backward_fast.register
def _(layer: Pad, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The interior of ``g`` copied; each border element's gradient added to its source."""
    if not input_grad:
        return None, {}
    sources, interior = _pad_sources(layer, x)
    dx = np.array(g[interior])
    if layer.mode != "constant":
        border = np.ones(g.shape, dtype=bool)
        border[interior] = False
        np.add.at(dx.reshape(-1), sources[border], g[border])
        counter.adds += int(border.sum())   # one np.add.at addition per border element
    return dx, {}


@backward_reference.register
def _(layer: Pad, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Border element by border element."""
    if not input_grad:
        return None, {}
    sources, interior = _pad_sources(layer, x)
    dx = np.array(g[interior]).reshape(-1)
    if layer.mode != "constant":
        inside = np.zeros(g.shape, dtype=bool)
        inside[interior] = True
        for where in np.ndindex(g.shape):
            if not inside[where]:
                dx[sources[where]] += g[where]
                counter.adds += 1
    return dx.reshape(x.shape), {}


def _kept_shape(layer: Mean, x: Array) -> tuple[int, ...]:
    reduced = layer._reduced(x.ndim)
    return tuple(1 if axis in reduced else size for axis, size in enumerate(x.shape))


@backward_fast.register
def _(layer: Mean, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """One division per output element, the quotient copied to the positions it averaged."""
    if not input_grad:
        return None, {}
    kept = _kept_shape(layer, x)
    share = counter.divide(g, float(x.size // math.prod(kept)))
    return np.broadcast_to(share.reshape(kept), x.shape).copy(), {}


@backward_reference.register
def _(layer: Mean, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Output element by output element: one division, copied."""
    if not input_grad:
        return None, {}
    kept = _kept_shape(layer, x)
    terms = float(x.size // math.prod(kept))
    shares = []
    for grad in g.ravel().tolist():
        shares.append(grad / terms)
        counter.divs += 1
    return np.broadcast_to(np.array(shares).reshape(kept), x.shape).copy(), {}


def _adaptive_windows(layer: AdaptiveAvgPool2d,
                      x: Array) -> list[tuple[tuple[int, int], tuple[slice, slice]]]:
    """Each output position and the slices of its window (PyTorch's start/end rule)."""
    (height, width), (out_h, out_w) = x.shape[:2], (int(s) for s in layer.output_size)
    found = []
    for i, j in itertools.product(range(out_h), range(out_w)):
        top, bottom = window_bounds(i, height, out_h)
        left, right = window_bounds(j, width, out_w)
        found.append(((i, j), (slice(top, bottom), slice(left, right))))
    return found


@backward_fast.register
def _(layer: AdaptiveAvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per output, ``g`` divided by its window's size, added into every window position."""
    if not input_grad:
        return None, {}
    windows = _adaptive_windows(layer, x)
    sizes = np.ones((*g.shape[:-1], 1))
    for (i, j), (rows, cols) in windows:
        sizes[i, j] = (rows.stop - rows.start) * (cols.stop - cols.start)
    share = counter.divide(g, sizes)
    dx = np.zeros(x.shape)
    for (i, j), (rows, cols) in windows:
        counter.add_into(dx[rows, cols], share[i, j])
    return dx, {}


@backward_reference.register
def _(layer: AdaptiveAvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Output by output: one division, then the share added at each window position."""
    if not input_grad:
        return None, {}
    dx = np.zeros(x.shape)
    for (i, j), (rows, cols) in _adaptive_windows(layer, x):
        size = (rows.stop - rows.start) * (cols.stop - cols.start)
        for c in range(x.shape[-1]):
            share = float(g[i, j, c]) / size
            counter.divs += 1
            for h, w in itertools.product(range(rows.start, rows.stop),
                                          range(cols.start, cols.stop)):
                dx[h, w, c] += share
                counter.adds += 1
    return dx, {}


def _adaptive_argmax(layer: AdaptiveMaxPool2d, x: Array) -> list[tuple[tuple[int, int], Array]]:
    """Per output position, the flat input index of each channel's window maximum (the first, or
    a NaN, as PyTorch), what the forward pass saves (not counted)."""
    index = np.arange(x.size).reshape(x.shape)
    found = []
    for (i, j), (rows, cols) in _adaptive_windows(layer, x):
        values = x[rows, cols].reshape(-1, x.shape[-1])
        at = np.argmax(np.where(np.isnan(values), np.inf, values), axis=0)
        found.append(((i, j), index[rows, cols].reshape(-1, x.shape[-1])[at, np.arange(x.shape[-1])]))
    return found


@backward_fast.register
def _(layer: AdaptiveMaxPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Each output's gradient added at its window's maximum: one addition per output element."""
    if not input_grad:
        return None, {}
    flat = np.zeros(x.size)
    where = np.stack([at for _, at in _adaptive_argmax(layer, x)])
    np.add.at(flat, where.ravel(), g.reshape(-1, x.shape[-1]).ravel())
    counter.adds += where.size           # one np.add.at addition per output element
    return flat.reshape(x.shape), {}


@backward_reference.register
def _(layer: AdaptiveMaxPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Output by output, each channel's gradient added at its window's maximum."""
    if not input_grad:
        return None, {}
    flat = [0.0] * x.size
    for (i, j), at in _adaptive_argmax(layer, x):
        for c, target in enumerate(at.tolist()):
            flat[target] += float(g[i, j, c])
            counter.adds += 1
    return np.array(flat).reshape(x.shape), {}


@backward_fast.register
def _(layer: LayerScale, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g·γ``; ``γ``'s gradient a dot product of ``g`` and ``x`` over the positions."""
    dx = counter.multiply(g, params["scale"]) if input_grad else None
    grads = {}
    if trainable:
        grads["scale"] = counter.einsum("pc->c", counter.multiply(g, x).reshape(-1, g.shape[-1]))
    return dx, grads


@backward_reference.register
def _(layer: LayerScale, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element."""
    scale = params["scale"].tolist()
    xs, gs = x.reshape(-1, x.shape[-1]).tolist(), g.reshape(-1, g.shape[-1]).tolist()
    dx = None
    if input_grad:
        dx = np.array([[grad * scale[c] for c, grad in enumerate(row)] for row in gs])
        counter.mults += g.size
        dx = dx.reshape(x.shape)
    grads = {}
    if trainable:
        total = [gs[0][c] * xs[0][c] for c in range(len(scale))]
        counter.mults += len(scale)
        for p in range(1, len(xs)):
            for c in range(len(scale)):
                total[c] += gs[p][c] * xs[p][c]
                counter.mults += 1
                counter.adds += 1
        grads["scale"] = np.array(total)
    return dx, grads


def _noise(layer: Noisy, params: Params) -> Array:
    if "noise" not in params:
        raise SymconvError(
            f"{type(layer).__name__}'s backward multiplies by the noise its training-mode "
            "forward saved: pass params with 'noise' (the .saved of execute(..., "
            "training=True)), or run execute_backward")
    return np.asarray(params["noise"], dtype=np.float64)


def _fast(layer: Noisy, x: Array, params: Params, g: Array, counter: Counter, *,
          input_grad: bool, trainable: bool) -> Gradients:
    """``g·noise``: one multiplication per element; ``p = 0``: ``g`` itself."""
    if not input_grad:
        return None, {}
    if layer.p == 0:
        return np.array(g), {}
    return counter.multiply(g, _noise(layer, params)), {}


def _reference(layer: Noisy, x: Array, params: Params, g: Array, counter: Counter, *,
               input_grad: bool, trainable: bool) -> Gradients:
    """The same, one scalar at a time (the noise broadcast over ``g`` by index)."""
    if not input_grad:
        return None, {}
    if layer.p == 0:
        return np.array(g), {}
    noise = _noise(layer, params)
    index_of = np.broadcast_to(np.arange(noise.size).reshape(noise.shape), g.shape)
    values = noise.ravel().tolist()
    out = []
    for index, value in zip(index_of.ravel().tolist(), g.ravel().tolist()):
        out.append(value * values[index])
        counter.mults += 1
    return np.array(out).reshape(g.shape), {}


for _kind in NOISY:
    backward_fast.register(_kind, _fast)
    backward_reference.register(_kind, _reference)
