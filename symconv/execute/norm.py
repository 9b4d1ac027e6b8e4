"""Executors of :class:`~symconv.layers.LayerNorm` and :class:`~symconv.layers.GroupNorm`, fast
and reference, performing the operations :mod:`symconv.layers.norm` lists: two-pass moments,
``rstd = 1/sqrt(var + eps)``, then PyTorch's folded ``x·scale + bias`` and the affine step."""

from __future__ import annotations

import math

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference
from symconv.layers import GroupNorm, LayerNorm

__all__: list[str] = []


@parameter_shapes.register
def _(layer: LayerNorm) -> dict[str, tuple[int, ...]]:
    channels = int(layer.normalized_shape)
    return {name: (channels,) for name, present
            in (("weight", layer.has_weight), ("bias", layer.has_bias)) if present}


@parameter_shapes.register
def _(layer: GroupNorm) -> dict[str, tuple[int, ...]]:
    channels = int(layer.num_channels)
    return {"weight": (channels,), "bias": (channels,)} if layer.affine else {}


def _rstd_fast(rows: Array, eps: float, counter: Counter) -> tuple[Array, Array]:
    """Mean and ``1/sqrt(var + eps)`` over the last axis of ``rows`` (two passes)."""
    terms = float(rows.shape[-1])
    spec = "pr->p" if rows.ndim == 2 else "pgr->pg"
    mean = counter.divide(counter.einsum(spec, rows), terms)
    centred = counter.subtract(rows, mean[..., None])
    squares = counter.multiply(centred, centred, out=centred)
    var = counter.divide(counter.einsum(spec, squares), terms)
    root = counter.sqrt(counter.add(var, eps, out=var))
    return mean, counter.divide(1.0, root)


@run_fast.register
def _(layer: LayerNorm, x: Array, params: Params, counter: Counter) -> Array:
    """Per position: the moments over its channels, then ``x·rstd + (−mean·rstd)``, ``·γ``,
    ``+ β``."""
    rows = x.reshape(-1, x.shape[-1])
    mean, rstd = _rstd_fast(rows, float(layer.eps), counter)
    shift = np.negative(counter.multiply(mean, rstd))    # a sign flip is not counted
    out = counter.multiply(rows, rstd[:, None])
    counter.add(out, shift[:, None], out=out)
    if layer.has_weight:
        counter.multiply(out, params["weight"], out=out)
    if layer.has_bias:
        counter.add(out, params["bias"], out=out)
    return out.reshape(x.shape)


@run_fast.register
def _(layer: GroupNorm, x: Array, params: Params, counter: Counter) -> Array:
    """Per group: the moments over its channels at every position; per channel ``scale`` and
    ``bias``; per element ``x·scale + bias``."""
    groups, channels = int(layer.num_groups), x.shape[-1]
    size = channels // groups
    # (group, position·channel-in-group): one row of terms per group
    grouped = np.ascontiguousarray(np.moveaxis(x.reshape(-1, groups, size), 1, 0))
    counter.read(x)
    mean, rstd = _rstd_fast(grouped.reshape(groups, -1), float(layer.eps), counter)
    if layer.affine:
        scale = counter.multiply(rstd[:, None], params["weight"].reshape(groups, size))
        bias = counter.subtract(params["bias"].reshape(groups, size),
                                counter.multiply(scale, mean[:, None]))
    else:
        scale = np.repeat(rstd[:, None], size, axis=1)
        bias = np.repeat(np.negative(counter.multiply(rstd, mean))[:, None], size, axis=1)
    out = counter.multiply(x, scale.reshape(channels))
    return counter.add(out, bias.reshape(channels), out=out)


def _moments_reference(values: list[float], eps: float, counter: Counter) -> tuple[float, float]:
    """Mean and rstd of ``values``, each scalar operation counted."""
    total = values[0]
    for value in values[1:]:
        total += value
        counter.adds += 1
    mean = total / len(values)
    counter.divs += 1
    squares = 0.0
    for index, value in enumerate(values):
        centred = value - mean
        counter.adds += 1
        square = centred * centred
        counter.mults += 1
        if index:
            squares += square
            counter.adds += 1
        else:
            squares = square
    var = squares / len(values)
    counter.divs += 1
    root = math.sqrt(var + eps)
    counter.adds += 1
    counter.transcendentals += 1
    counter.divs += 1
    return mean, 1.0 / root


@run_reference.register
def _(layer: LayerNorm, x: Array, params: Params, counter: Counter) -> Array:
    """Row by row, element by element."""
    weight = counter.flat(params["weight"]) if layer.has_weight else None
    bias = counter.flat(params["bias"]) if layer.has_bias else None
    out = []
    for row in counter.rows(x):
        mean, rstd = _moments_reference(row, float(layer.eps), counter)
        shift = -(mean * rstd)
        counter.mults += 1
        result = []
        for c, value in enumerate(row):
            y = value * rstd + shift
            counter.mults += 1
            counter.adds += 1
            if weight is not None:
                y *= weight[c]
                counter.mults += 1
            if bias is not None:
                y += bias[c]
                counter.adds += 1
            result.append(y)
        out.append(result)
    return np.array(out, dtype=np.float64).reshape(x.shape)


@run_reference.register
def _(layer: GroupNorm, x: Array, params: Params, counter: Counter) -> Array:
    """Group by group: its moments, each channel's scale and bias, then each element."""
    groups, channels = int(layer.num_groups), x.shape[-1]
    size = channels // groups
    rows = counter.rows(x)
    out = [[0.0] * channels for _ in rows]
    if layer.affine:
        weight, bias = counter.flat(params["weight"]), counter.flat(params["bias"])
    for g in range(groups):
        members = range(g * size, (g + 1) * size)
        mean, rstd = _moments_reference([row[c] for row in rows for c in members],
                                        float(layer.eps), counter)
        if not layer.affine:
            shift = -(rstd * mean)
            counter.mults += 1
        for c in members:
            if layer.affine:
                scale = rstd * weight[c]
                shift = bias[c] - scale * mean
                counter.mults += 2
                counter.adds += 1
            else:
                scale = rstd
            for p, row in enumerate(rows):
                out[p][c] = row[c] * scale + shift
                counter.mults += 1
                counter.adds += 1
    return np.array(out, dtype=np.float64).reshape(x.shape)
