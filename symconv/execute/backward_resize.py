"""Backward executors of :class:`~symconv.layers.Upsample` and :class:`~symconv.layers.PReLU`,
fast and reference, as PyTorch's CPU backward kernels run them (what each counts:
:mod:`symconv.layers.backward_resize`). The source positions and weights are those of the
forward executor (:mod:`symconv.execute.resize`), from sizes only and not counted."""

from __future__ import annotations

import numpy as np

from symconv.execute.backward_layers import Gradients, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.execute.resize import _scale_value, _sizes, _slopes, linear_taps, nearest_indices
from symconv.layers import PReLU, Upsample

__all__: list[str] = []


def _taps(layer: Upsample, x: Array) -> list[tuple[Array, Array, Array, Array]]:
    """Per tap ``(rows, columns, row weights, column weights)``, rows and columns over the
    output: the 4 taps of bilinear, the one of nearest (weights ``None``)."""
    out_h, out_w = _sizes(layer, x)
    size_h, size_w = x.shape[:2]
    if layer.mode == "nearest":
        rows = nearest_indices(size_h, out_h, _scale_value(layer, 0, size_h, out_h))
        cols = nearest_indices(size_w, out_w, _scale_value(layer, 1, size_w, out_w))
        return [(rows, cols, None, None)]  # type: ignore[list-item]
    h0, h1, lh0, lh1 = linear_taps(size_h, out_h, layer.align_corners,
                                   _scale_value(layer, 0, size_h, out_h))
    w0, w1, lw0, lw1 = linear_taps(size_w, out_w, layer.align_corners,
                                   _scale_value(layer, 1, size_w, out_w))
    return [(h, w, lh, lw) for h, lh in ((h0, lh0), (h1, lh1)) for w, lw in ((w0, lw0), (w1, lw1))]


@backward_fast.register
def _(layer: Upsample, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per tap: ``λ_h·λ_w`` for every output element and channel, times ``g``, scattered into
    a zero input gradient with ``np.add.at`` (one addition per output element a tap)."""
    if not input_grad:
        return None, {}
    channels = x.shape[-1]
    dx = np.zeros(x.shape)
    flat = dx.reshape(-1, channels)
    for rows, cols, row_weights, col_weights in _taps(layer, x):
        where = rows[:, None] * x.shape[1] + cols[None, :]
        part = g
        if row_weights is not None:
            weights = counter.multiply(np.broadcast_to(row_weights[:, None, None], g.shape),
                                       col_weights[None, :, None])
            part = counter.multiply(weights, g)
        np.add.at(flat, where.ravel(), part.reshape(-1, channels))
        counter.adds += part.size        # one np.add.at addition per element added
    return dx, {}


@backward_reference.register
def _(layer: Upsample, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """PyTorch's loop: per channel and output element, each tap's ``λ_h·λ_w·g`` added."""
    if not input_grad:
        return None, {}
    taps = [(rows.tolist(), cols.tolist(), None if lh is None else lh.tolist(),
             None if lw is None else lw.tolist()) for rows, cols, lh, lw in _taps(layer, x)]
    size_h, size_w, channels = x.shape
    grads = g.tolist()
    dx = [[[0.0] * channels for _ in range(size_w)] for _ in range(size_h)]
    for c in range(channels):
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                value = grads[i][j][c]
                for rows, cols, lh, lw in taps:
                    if lh is None or lw is None:
                        dx[rows[i]][cols[j]][c] += value
                    else:
                        dx[rows[i]][cols[j]][c] += lh[i] * lw[j] * value
                        counter.mults += 2
                    counter.adds += 1
    return np.array(dx, dtype=np.float64), {}


@backward_fast.register
def _(layer: PReLU, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The mask ``x > 0`` once; ``a·g`` for every element; ``x·g`` for every element, zero
    where the mask holds, summed per slope."""
    slopes = _slopes(layer, x, params)
    if not (input_grad or trainable):
        return None, {}
    mask = counter.greater(x, 0.0)
    dx = None
    if input_grad:
        dx = np.where(mask, g, counter.multiply(g, slopes))
    grads: dict[str, Array] = {}
    if trainable:
        chosen = np.where(mask, 0.0, counter.multiply(x, g))
        if slopes.shape[0] == 1:
            grads["weight"] = counter.einsum("p->", chosen.ravel()).reshape(1)
        else:
            grads["weight"] = counter.einsum("pc->c", chosen.reshape(-1, x.shape[-1]))
    return dx, grads


@backward_reference.register
def _(layer: PReLU, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element, as ``prelu_backward``: the mask, both products, the sums per slope
    one term at a time."""
    slopes = _slopes(layer, x, params).tolist()
    if not (input_grad or trainable):
        return None, {}
    xs, gs = x.reshape(-1, x.shape[-1]).tolist(), g.reshape(-1, g.shape[-1]).tolist()
    dx: list[list[float]] = []
    sums: list[float | None] = [None] * len(slopes)
    for row, grad_row in zip(xs, gs):
        line = []
        for c, (value, grad) in enumerate(zip(row, grad_row)):
            slope = c if len(slopes) > 1 else 0
            positive = value > 0
            counter.comparisons += 1
            if input_grad:
                scaled = slopes[slope] * grad
                counter.mults += 1
                line.append(grad if positive else scaled)
            if trainable:
                term = 0.0 if positive else value * grad
                counter.mults += 1
                current = sums[slope]
                if current is None:
                    sums[slope] = term
                else:
                    sums[slope] = current + term
                    counter.adds += 1
        dx.append(line)
    grads = {"weight": np.array(sums, dtype=np.float64)} if trainable else {}
    return (np.array(dx, dtype=np.float64).reshape(x.shape) if input_grad else None), grads
