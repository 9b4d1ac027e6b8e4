"""Executors of adaptive average and max pooling, fast and reference: each output's window found
with PyTorch's start/end rule (:func:`~symconv.layers.adaptive.window_bounds`), its terms
summed (``len − 1`` additions, one division) or compared (``len − 1`` comparisons) per channel."""

from __future__ import annotations

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from symconv.layers.adaptive import window_bounds

__all__: list[str] = []


def _windows(layer: AdaptiveAvgPool2d, x: Array) -> list[tuple[int, int, Array]]:
    out_h, out_w = (int(size) for size in layer.output_size)
    height, width = x.shape[:2]
    found = []
    for i in range(out_h):
        top, bottom = window_bounds(i, height, out_h)
        for j in range(out_w):
            left, right = window_bounds(j, width, out_w)
            found.append((i, j, x[top:bottom, left:right]))
    return found


@run_fast.register
def _(layer: AdaptiveAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Per window: one einsum sum per channel, then one division per channel; max: the rows
    compared pairwise, then the columns of the result."""
    out = np.empty((*(int(size) for size in layer.output_size), x.shape[-1]))
    for i, j, window in _windows(layer, x):
        target = out[i, j]
        if isinstance(layer, AdaptiveMaxPool2d):
            rows = np.array(window[0])
            counter.read(window[0])
            for u in range(1, window.shape[0]):
                counter.maximum(rows, window[u], out=rows)
            target[...] = rows[0]
            counter.wrote(target)
            for v in range(1, rows.shape[0]):
                counter.maximum(target, rows[v], out=target)
        else:
            sums = counter.einsum("uvc->c", window)
            counter.divide(sums, float(window.shape[0] * window.shape[1]), out=target)
    return out


@run_reference.register
def _(layer: AdaptiveAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops over each window's positions, per channel."""
    out = np.empty((*(int(size) for size in layer.output_size), x.shape[-1]))
    maximum = isinstance(layer, AdaptiveMaxPool2d)
    for i, j, window in _windows(layer, x):
        terms = counter.rows(window)
        for c in range(x.shape[-1]):
            result = terms[0][c]
            for row in terms[1:]:
                if maximum:
                    counter.comparisons += 1
                    result = row[c] if row[c] > result else result
                else:
                    counter.adds += 1
                    result += row[c]
            if not maximum:
                counter.divs += 1
                result /= len(terms)
            out[i, j, c] = result
    return out
