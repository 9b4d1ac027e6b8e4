"""Executors of :mod:`symconv.layers.tokens`: reshapes, selections, a class token and an added
tensor, fast and reference (the same: nothing but :class:`~symconv.layers.tokens.AddParameter`'s
additions is counted, and those are counted per element by the counter)."""

from __future__ import annotations

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, parameter_shapes, run_fast, run_reference
from symconv.layers.tokens import (
    AddParameter,
    ClassToken,
    MulParameter,
    Rearrange,
    Reshape,
    Select,
)

__all__: list[str] = []


def _shape(layer: Reshape | Rearrange) -> tuple[int, ...]:
    return tuple(int(size) for size in layer.shape)


def _reshape(layer: Reshape, x: Array, params: Params, counter: Counter) -> Array:
    """A view of ``x`` in the new shape."""
    if x.size != int(np.prod(_shape(layer))):
        raise SymconvError(f"Reshape(shape={_shape(layer)}) does not fit x of shape {x.shape}")
    return x.reshape(_shape(layer))


def _rearrange(layer: Rearrange, x: Array, params: Params, counter: Counter) -> Array:
    """``x`` transposed, copied, reshaped: a copy even where the transpose moves only axes of
    size 1 (``numpy.ascontiguousarray`` would return a view there); the frontend records a
    :class:`~symconv.layers.tokens.Reshape` where PyTorch takes a view."""
    if len(layer.axes) != x.ndim or x.size != int(np.prod(_shape(layer))):
        raise SymconvError(f"Rearrange(axes={layer.axes}, shape={_shape(layer)}) does not fit x "
                           f"of shape {x.shape}")
    counter.read(x)
    return np.array(x.transpose(layer.axes), order="C", copy=True).reshape(_shape(layer))


def _select(layer: Select, x: Array, params: Params, counter: Counter) -> Array:
    """A view of one position along the axis."""
    return x[(slice(None),) * layer.axis + (layer.index,)]


@parameter_shapes.register
def _(layer: ClassToken) -> dict[str, tuple[int, ...]]:
    return {"token": (int(layer.channels),)}


def _class_token(layer: ClassToken, x: Array, params: Params, counter: Counter) -> Array:
    """The learned token, then the tokens (a copy of both)."""
    counter.read(x, params["token"])
    return np.concatenate([params["token"][None], x], axis=0)


@parameter_shapes.register(AddParameter)
@parameter_shapes.register(MulParameter)
def _(layer: AddParameter | MulParameter) -> dict[str, tuple[int, ...]]:
    return {"value": tuple(int(size) for size in layer.shape)} if layer.learned else {}


def _added(layer: AddParameter | MulParameter, params: Params) -> Array:
    if layer.learned:
        return params["value"]
    # a tensor computed from parameters the layer does not own: fixed values, as a constant
    shape = tuple(int(size) for size in layer.shape)
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape)


def _operand(layer: AddParameter | MulParameter, params: Params, counter: Counter) -> Array:
    added = _added(layer, params)
    if not layer.learned and counter.tracker is not None:  # a second operand, read once
        counter.tracker.watch("other", added)
        counter.read(added)
    return added


@run_fast.register
def _(layer: AddParameter, x: Array, params: Params, counter: Counter) -> Array:
    """One addition per element, broadcast."""
    return counter.add(x, _operand(layer, params, counter))


@run_reference.register
def _(layer: AddParameter, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element over the broadcast pairs."""
    other = counter.flat(np.broadcast_to(_operand(layer, params, counter), x.shape))
    out = [value + extra for value, extra in zip(counter.flat(x), other)]
    counter.adds += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape)


@run_fast.register
def _(layer: MulParameter, x: Array, params: Params, counter: Counter) -> Array:
    """One multiplication per element, broadcast."""
    return counter.multiply(x, _operand(layer, params, counter))


@run_reference.register
def _(layer: MulParameter, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element over the broadcast pairs."""
    other = counter.flat(np.broadcast_to(_operand(layer, params, counter), x.shape))
    out = [value * extra for value, extra in zip(counter.flat(x), other)]
    counter.mults += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape)


for _runner in (run_fast, run_reference):
    _runner.register(Reshape, _reshape)
    _runner.register(Rearrange, _rearrange)
    _runner.register(Select, _select)
    _runner.register(ClassToken, _class_token)
