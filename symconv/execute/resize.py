"""Executors of :mod:`symconv.layers.resize`: :class:`~symconv.layers.Upsample` (nearest and
bilinear) and :class:`~symconv.layers.PReLU`.

The source positions and weights follow PyTorch's CPU kernels (``UpSample.h``,
``UpSampleKernel.cpp``) so that the values equal PyTorch's in float64:

* nearest: ``min(floor(o · scale), size − 1)`` in single precision, ``scale = 1/scale_factor``
  when a scale factor is passed on (else ``size/out``); ``o`` itself when the sizes are equal,
  ``o >> 1`` when the output is twice the input;
* bilinear: ``real = scale·o`` (``align_corners``, ``scale = (size − 1)/(out − 1)``) or
  ``max(scale·(o + ½) − ½, 0)``; ``i₀ = min(floor(real), size − 1)``, ``i₁ = i₀ + 1`` inside
  the input (else ``i₀``), ``λ₁ = clamp(real − i₀, 0, 1)``, ``λ₀ = 1 − λ₁``; equal sizes copy.

Those come from sizes only and are not counted (``symconv.layers.resize``); the arithmetic on
values is, where it is performed.
"""

from __future__ import annotations

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.conv import _workspace
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference
from symconv.layers import PReLU, Upsample

__all__ = ["nearest_indices", "linear_taps"]


def _scale_value(layer: Upsample, axis: int, size: int, out: int) -> float | None:
    """The scale factor PyTorch passes on to its kernel for ``axis`` (``None``: from sizes)."""
    if layer.scale_factor is None or layer.recompute_scale_factor:
        return None
    return float(layer.scale_factor[axis])


def nearest_indices(size: int, out: int, scale: float | None) -> np.ndarray:
    """PyTorch's ``nearest_idx`` for every output position of one axis.

    Examples
    --------
    >>> nearest_indices(4, 8, 2.0).tolist(), nearest_indices(2, 5, None).tolist()
    ([0, 0, 1, 1, 2, 2, 3, 3], [0, 0, 0, 1, 1])
    """
    positions = np.arange(out)
    if out == size:
        return positions
    if out == 2 * size:
        return positions >> 1
    step = np.float32(1.0 / scale) if scale is not None and scale > 0 else (
        np.float32(size) / np.float32(out))
    chosen = np.floor(positions.astype(np.float32) * step).astype(np.int64)
    return np.minimum(chosen, size - 1)


def linear_taps(size: int, out: int, align_corners: bool, scale: float | None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """PyTorch's ``compute_source_index_and_lambda`` for every output position of one axis:
    ``(i0, i1, lambda0, lambda1)``.

    Examples
    --------
    >>> [a.tolist() for a in linear_taps(2, 4, False, None)]
    [[0, 0, 0, 1], [1, 1, 1, 1], [1.0, 0.75, 0.25, 0.75], [0.0, 0.25, 0.75, 0.25]]
    """
    positions = np.arange(out)
    if out == size:
        return positions, positions, np.ones(out), np.zeros(out)
    if align_corners:
        ratio = (size - 1) / (out - 1) if out > 1 else 0.0
        real = ratio * positions.astype(np.float64)
    else:
        ratio = 1.0 / scale if scale is not None and scale > 0 else size / out
        real = np.maximum(ratio * (positions + 0.5) - 0.5, 0.0)
    first = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), size - 1)
    second = first + (first < size - 1)
    weight1 = np.minimum(np.maximum(real - first, 0.0), 1.0)
    return first, second, 1.0 - weight1, weight1


def _sizes(layer: Upsample, x: Array) -> tuple[int, int]:
    if x.ndim != 3:
        raise SymconvError(f"Upsample takes (H, W, C), not an array of shape {x.shape}")
    out = layer.resized(tuple(int(size) for size in x.shape[:2]))
    return int(out[0]), int(out[1])


@run_fast.register
def _(layer: Upsample, x: Array, params: Params, counter: Counter) -> Array:
    """Gather the taps; bilinear: along W (4 mults, 2 adds per output), then along H (2 mults,
    1 add)."""
    out_h, out_w = _sizes(layer, x)
    size_h, size_w = x.shape[:2]
    counter.read(x)
    if layer.mode == "nearest":
        rows = nearest_indices(size_h, out_h, _scale_value(layer, 0, size_h, out_h))
        cols = nearest_indices(size_w, out_w, _scale_value(layer, 1, size_w, out_w))
        result: Array = x[rows][:, cols]
        counter.wrote(result)
        return result
    h0, h1, lh0, lh1 = linear_taps(size_h, out_h, layer.align_corners,
                                   _scale_value(layer, 0, size_h, out_h))
    w0, w1, lw0, lw1 = linear_taps(size_w, out_w, layer.align_corners,
                                   _scale_value(layer, 1, size_w, out_w))
    weight0, weight1 = lw0[None, :, None], lw1[None, :, None]
    # kept scratch arrays for the taps (fresh memory page-faults: 22 MB a call on 28×28×128)
    shape = (out_h, out_w, x.shape[2])
    out, lower = np.empty(shape), _workspace("upsample lower", shape)
    left, right = _workspace("upsample left", shape), _workspace("upsample right", shape)
    picked = _workspace("upsample rows", (out_h, size_w, x.shape[2]))
    for rows, along in ((h0, out), (h1, lower)):
        # mode="clip": the indices are in range; the default "raise" buffers its output
        np.take(x, rows, axis=0, out=picked, mode="clip")
        np.take(picked, w0, axis=1, out=left, mode="clip")
        np.take(picked, w1, axis=1, out=right, mode="clip")
        counter.add(counter.multiply(left, weight0, out=left),
                    counter.multiply(right, weight1, out=right), out=along)
    top = counter.multiply(out, lh0[:, None, None], out=out)
    bottom = counter.multiply(lower, lh1[:, None, None], out=lower)
    return counter.add(top, bottom, out=top)


@run_reference.register
def _(layer: Upsample, x: Array, params: Params, counter: Counter) -> Array:
    """Output element by output element, each product and sum counted."""
    out_h, out_w = _sizes(layer, x)
    size_h, size_w = x.shape[:2]
    channels = x.shape[2]
    values = counter.scalars(x)  # each value marked read as the loops read it
    result = []
    if layer.mode == "nearest":
        rows = nearest_indices(size_h, out_h, _scale_value(layer, 0, size_h, out_h)).tolist()
        cols = nearest_indices(size_w, out_w, _scale_value(layer, 1, size_w, out_w)).tolist()
        for i in rows:
            result.append([list(values[i][j]) for j in cols])
        return np.array(result, dtype=np.float64).reshape(out_h, out_w, channels)
    h0, h1, lh0, lh1 = (a.tolist() for a in linear_taps(
        size_h, out_h, layer.align_corners, _scale_value(layer, 0, size_h, out_h)))
    w0, w1, lw0, lw1 = (a.tolist() for a in linear_taps(
        size_w, out_w, layer.align_corners, _scale_value(layer, 1, size_w, out_w)))
    for i in range(out_h):
        line = []
        for j in range(out_w):
            pixel = []
            for c in range(channels):
                upper = values[h0[i]][w0[j]][c] * lw0[j] + values[h0[i]][w1[j]][c] * lw1[j]
                lower = values[h1[i]][w0[j]][c] * lw0[j] + values[h1[i]][w1[j]][c] * lw1[j]
                pixel.append(upper * lh0[i] + lower * lh1[i])
                counter.mults += 6
                counter.adds += 3
            line.append(pixel)
        result.append(line)
    return np.array(result, dtype=np.float64).reshape(out_h, out_w, channels)


@parameter_shapes.register
def _(layer: PReLU) -> dict[str, tuple[int, ...]]:
    return {"weight": (int(layer.num_parameters),)}


def _slopes(layer: PReLU, x: Array, params: Params) -> Array:
    weight: Array = params["weight"]
    if weight.shape[0] not in (1, x.shape[-1]):
        raise SymconvError(f"PReLU(num_parameters={layer.num_parameters}) must be 1 or the "
                           f"input's {x.shape[-1]} channels")
    return weight


@run_fast.register
def _(layer: PReLU, x: Array, params: Params, counter: Counter) -> Array:
    """Every element times its channel's slope, kept where ``x > 0`` is false."""
    scaled = counter.multiply(x, _slopes(layer, x, params))
    chosen: Array = np.where(counter.greater(x, 0.0), x, scaled)
    counter.wrote(chosen)
    return chosen


@run_reference.register
def _(layer: PReLU, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element: the product, then the comparison (NaN compares false: kept)."""
    slopes = counter.flat(_slopes(layer, x, params))
    rows = counter.rows(x)
    out = []
    for row in rows:
        line = []
        for c, value in enumerate(row):
            scaled = value * slopes[c if len(slopes) > 1 else 0]
            counter.mults += 1
            counter.comparisons += 1
            line.append(value if value > 0 else scaled)
        out.append(line)
    return np.array(out, dtype=np.float64).reshape(x.shape)
