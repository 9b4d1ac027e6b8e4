"""Backward executors of average, max and global average pooling, fast and reference (see
:mod:`symconv.execute.backward_layers` for what they take and return)."""

from __future__ import annotations

import itertools
import math

import numpy as np

from symconv.execute.backward_layers import Gradients, _crop, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.geometry import kernel_offsets, output_sizes, taps, window
from symconv.execute.pooling import _divisors, _padded
from symconv.execute.registry import Params
from symconv.layers import AvgPool2d, GlobalAvgPool2d, MaxPool2d

__all__ = ["POOLING"]

#: The layer types whose backward executors this module registers.
POOLING = (AvgPool2d, MaxPool2d, GlobalAvgPool2d)

# --------------------------------------------------------------------------- pooling


@backward_fast.register
def _(layer: AvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g`` divided by its window's divisor (as the forward's: ``count_include_pad``,
    ``divisor_override``, ``ceil_mode`` windows), added into every position of the window."""
    if not input_grad:
        return None, {}
    shape = window(layer)
    share = counter.divide(g, _divisors(layer, x.shape[:-1]))
    full = np.zeros(_padded(layer, x, 0.0).shape)
    for offset in kernel_offsets(shape.kernel):
        counter.add_into(full[taps(offset, shape.dilation, shape.stride, g.shape[:-1])], share)
    return _crop(full, shape.padding, x.shape[:-1]), {}


def _argmax_positions(layer: MaxPool2d, x: Array) -> tuple[Array, tuple[int, ...]]:
    """Per output element, the flat index in the padded input of its window's maximum (what
    the forward pass saves; not counted) and the padded shape."""
    shape = window(layer)
    output = output_sizes(layer, x.shape[:-1])
    padded = _padded(layer, x, -np.inf)
    index = np.arange(padded.size).reshape(padded.shape)
    best = np.full((*output, x.shape[-1]), -np.inf)
    where = np.zeros(best.shape, dtype=np.int64)
    for offset in kernel_offsets(shape.kernel):
        part = taps(offset, shape.dilation, shape.stride, output)
        tap = padded[part]
        better = tap > best
        best = np.where(better, tap, best)
        where = np.where(better, index[part], where)
    return where, padded.shape


@backward_fast.register
def _(layer: MaxPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Each output's gradient added at its window's maximum: one addition per output element."""
    if not input_grad:
        return None, {}
    where, shape = _argmax_positions(layer, x)
    full = np.zeros(math.prod(shape))
    np.add.at(full, where.ravel(), g.ravel())
    counter.adds += where.size           # one np.add.at addition per output element
    padding = window(layer).padding
    return _crop(full.reshape(shape), padding, x.shape[:-1]), {}


@backward_reference.register
def _(layer: MaxPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Output by output, its gradient added at its window's maximum."""
    if not input_grad:
        return None, {}
    where, shape = _argmax_positions(layer, x)
    full = [0.0] * math.prod(shape)
    for index, grad in zip(where.ravel().tolist(), g.ravel().tolist()):
        full[index] += grad
        counter.adds += 1
    padding = window(layer).padding
    return _crop(np.array(full).reshape(shape), padding, x.shape[:-1]), {}


@backward_reference.register
def _(layer: AvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Output by output: one division, then the share added at each window position."""
    if not input_grad:
        return None, {}
    shape = window(layer)
    full = np.zeros(_padded(layer, x, 0.0).shape)
    divisors = _divisors(layer, x.shape[:-1])
    for position in itertools.product(*(range(size) for size in g.shape[:-1])):
        for c in range(g.shape[-1]):
            share = float(g[tuple((*position, c))]) / float(divisors[tuple((*position, 0))])
            counter.divs += 1
            for offset in kernel_offsets(shape.kernel):
                at = tuple(o * s + i for o, s, i in zip(position, shape.stride, offset))
                full[tuple((*at, c))] += share
                counter.adds += 1
    return _crop(full, shape.padding, x.shape[:-1]), {}


@backward_fast.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """One division per channel, copied to every position."""
    if not input_grad:
        return None, {}
    share = counter.divide(g.reshape(-1), float(math.prod(x.shape[:-1])))
    return np.broadcast_to(share, x.shape).copy(), {}


@backward_reference.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Channel by channel: one division, copied."""
    if not input_grad:
        return None, {}
    area = float(math.prod(x.shape[:-1]))
    shares = []
    for grad in g.reshape(-1).tolist():
        shares.append(grad / area)
        counter.divs += 1
    return np.broadcast_to(np.array(shares), x.shape).copy(), {}
