"""Executors of average, max and global average pooling."""

from __future__ import annotations

import itertools

import numpy as np

from symconv.execute.counter import Counter
from symconv.execute.geometry import ints, kernel_offsets, output_sizes, placements, taps, window
from symconv.execute.registry import (
    Array,
    Params,
    run_fast,
    run_reference,
)
from symconv.layers import (
    AvgPool2d,
    GlobalAvgPool2d,
    MaxPool2d,
)


def _starts(layer: AvgPool2d | MaxPool2d, spatial: tuple[int, ...]) -> list[list[int]]:
    """Window starts in the padded input along each axis, found by trying: those that fit, then
    with ``ceil_mode``, where they leave positions of the padded input uncovered, one more if it
    starts inside the input or the left padding (as PyTorch places it)."""
    shape = window(layer)
    found = []
    for size, p, r, s in zip(spatial, shape.padding, shape.reach, shape.stride):
        starts = placements(size, padding=p, reach=r, stride=s)
        if layer.ceil_mode and starts[-1] + r < size + 2 * p and starts[-1] + s < size + p:
            starts.append(starts[-1] + s)
        found.append(starts)
    return found


def _padded(layer: AvgPool2d | MaxPool2d, x: Array, fill: float) -> Array:
    """``x`` padded by ``padding`` on each side, and on the right as far as a ``ceil_mode``
    window reaches past that."""
    padding, shape = ints(layer.padding), window(layer)
    right = [max(p, starts[-1] + r - size - p) for starts, size, p, r
             in zip(_starts(layer, x.shape[:-1]), x.shape[:-1], padding, shape.reach)]
    if not any(padding) and right == list(padding):
        return x
    return np.pad(x, [(p, q) for p, q in zip(padding, right)] + [(0, 0)], constant_values=fill)


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
    starts = _starts(layer, x.shape[:-1])
    padding = _padded(layer, x, fill)
    if counter.tracker is not None and padding is not x:
        counter.tracker.alias(x, padding, tuple(slice(p, p + size) for p, size in
                                                zip(ints(layer.padding), x.shape[:-1])))
    padded = counter.scalars(padding)
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


def _divisors(layer: AvgPool2d, spatial: tuple[int, ...]) -> Array:
    """Each output position's divisor, as PyTorch's ``avg_pool2d``: ``divisor_override``; else
    the window's extent clipped to the padded input (``count_include_pad``) or to the input
    (shape ``(H_o, W_o, 1)``; integers found from the window's place, not counted)."""
    shape = window(layer)
    per_axis = []
    for starts, size, p, k in zip(_starts(layer, spatial), spatial, shape.padding, shape.kernel):
        extents = []
        for start in starts:
            low, high = start - p, min(start - p + k, size + p)
            if not layer.count_include_pad:
                low, high = max(low, 0), min(high, size)
            extents.append(high - low)
        per_axis.append(np.array(extents, dtype=np.float64))
    divisors = np.multiply.outer(per_axis[0], per_axis[1])[..., None]
    if layer.divisor_override is not None:
        divisors[...] = float(int(layer.divisor_override))
    return divisors


@run_fast.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Zero padding; each window summed, then one division per output by its divisor."""
    out = _pool_fast(layer, x, counter, 0.0)
    return counter.divide(out, _divisors(layer, x.shape[:-1]), out=out)


@run_reference.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: each window summed, then divided by its divisor."""
    sums = _pool_reference(layer, x, counter, 0.0)
    divisors = np.broadcast_to(_divisors(layer, x.shape[:-1]), sums.shape).ravel().tolist()
    out = [total / size for total, size in zip(sums.ravel().tolist(), divisors)]
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
    rows = counter.rows(x)
    sums = list(rows[0])
    for row in rows[1:]:
        for c, value in enumerate(row):
            sums[c] += value
            counter.adds += 1
    out = [total / len(rows) for total in sums]
    counter.divs += len(out)
    return np.array(out, dtype=np.float64).reshape(1, 1, -1)


# --------------------------------------------------------------------------- reshaping, residuals
