"""Executors of average, max and global average pooling."""

from __future__ import annotations

import itertools

import numpy as np

from symconv.execute.counter import Counter
from symconv.execute.geometry import ints, kernel_offsets, output_sizes, placements, taps, window
from symconv.execute.registry import (
    Array,
    Params,
    _rows,
    run_fast,
    run_reference,
)
from symconv.layers import (
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool2d,
)


def _padded(layer: AvgPool2d | MaxPool2d, x: Array, fill: float) -> Array:
    padding = ints(layer.padding)
    if not any(padding):
        return x
    return np.pad(x, [(p, p) for p in padding] + [(0, 0)], constant_values=fill)


def _pool_fast(layer: AvgPool2d | MaxPool2d, x: Array, counter: Counter, fill: float) -> Array:
    """The first tap of every window copied, then each further tap combined into it: ``k_h·k_w − 1``
    additions (average) or comparisons (max) per output element."""
    shape, output = window(layer), output_sizes(layer, x.shape[:-1])
    padded = _padded(layer, x, fill)
    if counter.tracker is not None and padded is not x:
        counter.tracker.alias(x, padded, tuple(slice(p, p + size) for p, size in
                                               zip(ints(layer.padding), x.shape[:-1])))
    out: Array | None = None
    for offset in kernel_offsets(shape.kernel):
        tap = padded[taps(offset, shape.dilation, shape.stride, output)]
        if out is None:
            out = np.array(tap)
            counter.read(tap)
            counter.wrote(out)
        elif isinstance(layer, MaxPool2d):
            counter.maximum(out, tap, out=out)
        else:
            counter.add_into(out, tap)
    assert out is not None
    return out


def _pool_reference(layer: AvgPool2d | MaxPool2d, x: Array, counter: Counter, fill: float) -> Array:
    """Loops over output positions, channels and the window, one scalar at a time; the output
    positions are the window placements that fit, found by trying them."""
    shape = window(layer)
    starts = [placements(size, padding=p, reach=r, stride=s)
              for size, p, r, s in zip(x.shape[:-1], shape.padding, shape.reach, shape.stride)]
    padded = _padded(layer, x, fill).tolist()
    channels = x.shape[-1]
    maximum = isinstance(layer, MaxPool2d)
    out = []
    for corner in itertools.product(*starts):
        for c in range(channels):
            total: float | None = None
            for offset in kernel_offsets(shape.kernel):
                row = padded
                for start, i, d in zip(corner, offset, shape.dilation):
                    row = row[start + i * d]
                value = row[c]
                if total is None:
                    total = value
                elif maximum:   # one comparison; NaN wins either way, as in np.maximum and PyTorch
                    total = value if value > total or value != value else total
                    counter.comparisons += 1
                else:
                    total += value
                    counter.adds += 1
            assert total is not None
            out.append(total)
    return np.array(out, dtype=np.float64).reshape(*(len(axis) for axis in starts), channels)


def _window_size(layer: AvgPool2d) -> float:
    return float(np.prod(ints(layer.kernel_size)))


@run_fast.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Zero padding; each window summed, then one division by ``k_h·k_w`` per output."""
    out = _pool_fast(layer, x, counter, 0.0)
    return counter.divide(out, _window_size(layer), out=out)


@run_reference.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: each window summed, then divided by ``k_h·k_w``."""
    sums = _pool_reference(layer, x, counter, 0.0)
    size = _window_size(layer)
    out = [total / size for total in sums.ravel().tolist()]
    counter.divs += len(out)
    return np.array(out, dtype=np.float64).reshape(sums.shape)


@run_fast.register
def _(layer: MaxPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """−∞ padding; each window's terms compared one after the other."""
    return _pool_fast(layer, x, counter, -np.inf)


@run_reference.register
def _(layer: MaxPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: the running maximum of each window."""
    return _pool_reference(layer, x, counter, -np.inf)


@run_fast.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Each channel summed over every position (``H·W − 1`` adds), then one division."""
    sums = counter.einsum("uvc->c", x)
    counter.divide(sums, float(x.shape[0] * x.shape[1]), out=sums)
    return sums.reshape(1, 1, -1)


@run_reference.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: a running sum per channel, then one division."""
    rows = _rows(x)
    sums = list(rows[0])
    for row in rows[1:]:
        for c, value in enumerate(row):
            sums[c] += value
            counter.adds += 1
    out = [total / len(rows) for total in sums]
    counter.divs += len(out)
    return np.array(out, dtype=np.float64).reshape(1, 1, -1)


# --------------------------------------------------------------------------- reshaping, residuals
