"""Executors of :class:`~symconv.layers.Mul`, :class:`~symconv.layers.Sub` and
:class:`~symconv.layers.Div`, fast and reference: the second operand (``other=``) is the output of
the stage the layer names; one operation per element of the broadcast result."""

from __future__ import annotations

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference, second_input
from symconv.layers import AddComputed, Div, LayerScale, Mul, Sub
from symconv.layers.broadcast import _Binary

__all__: list[str] = []


@second_input.register
def _(layer: _Binary) -> str:
    return layer.other


def _operands(layer: _Binary, x: Array, other: Array) -> tuple[Array, Array]:
    recorded = None if layer.shape is None else tuple(int(size) for size in layer.shape)
    if other.shape != (recorded or x.shape):
        what = f"records shape {recorded}" if recorded else f"has no shape= (so {x.shape}, x's)"
        raise SymconvError(
            f"{type(layer).__name__}(other={layer.other!r}) {what} but that stage's output has "
            f"shape {other.shape}; give shape={other.shape}"
        )
    try:
        np.broadcast_shapes(x.shape, other.shape)
    except ValueError:
        raise SymconvError(
            f"{type(layer).__name__}: x of shape {x.shape} and stage {layer.other!r} of shape "
            f"{other.shape} do not broadcast; sizes must be equal or 1, right-aligned"
        ) from None
    return (other, x) if layer.other_first else (x, other)


@run_fast.register
def _(layer: _Binary, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """One NumPy ufunc over the broadcast operands, counted per result element."""
    a, b = _operands(layer, x, other)
    if isinstance(layer, Mul):
        return counter.multiply(a, b)
    if isinstance(layer, Sub):
        return counter.subtract(a, b)
    if isinstance(layer, AddComputed):
        return counter.add(a, b)
    assert isinstance(layer, Div)
    return counter.divide(a, b)


@run_reference.register
def _(layer: _Binary, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """Element by element over the broadcast pairs, one operation counted each."""
    a, b = _operands(layer, x, other)
    shape = np.broadcast_shapes(a.shape, b.shape)
    left = counter.flat(np.broadcast_to(a, shape))
    right = counter.flat(np.broadcast_to(b, shape))
    out = []
    for u, v in zip(left, right):
        if isinstance(layer, Mul):
            out.append(u * v)
            counter.mults += 1
        elif isinstance(layer, Sub):
            out.append(u - v)
            counter.adds += 1
        elif isinstance(layer, AddComputed):
            out.append(u + v)
            counter.adds += 1
        else:
            out.append(u / v if v != 0.0 else np.float64(u) / np.float64(v))
            counter.divs += 1
    return np.array(out, dtype=np.float64).reshape(shape)


@parameter_shapes.register
def _(layer: LayerScale) -> dict[str, tuple[int, ...]]:
    return {"scale": (int(layer.channels),)}


@run_fast.register
def _(layer: LayerScale, x: Array, params: Params, counter: Counter) -> Array:
    """One multiplication per element by its channel's scale."""
    return counter.multiply(x, params["scale"])


@run_reference.register
def _(layer: LayerScale, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element."""
    scale = counter.flat(params["scale"])
    rows = counter.rows(x)
    out = []
    for row in rows:
        out.append([value * scale[c] for c, value in enumerate(row)])
        counter.mults += len(row)
    return np.array(out, dtype=np.float64).reshape(x.shape)
