"""Executors of :mod:`symconv.layers.windows`: a cyclic shift, a strided view and a constant,
fast and reference (the same: none performs an operation; the shift reads every element), and
``F.normalize``, fast (NumPy, row by row along the axis) and reference (element by element)."""

from __future__ import annotations

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers.activations import check_axis
from symconv.layers.windows import Constant, Normalize, Roll, Strided

__all__: list[str] = []


def _roll(layer: Roll, x: Array, params: Params, counter: Counter) -> Array:
    """``numpy.roll``: a copy."""
    counter.read(x)
    return np.roll(x, layer.shifts, layer.axes)


def _strided(layer: Strided, x: Array, params: Params, counter: Counter) -> Array:
    """A view of every ``step``-th position of each spatial axis."""
    index = tuple(slice(start, stop, step)
                  for start, stop, step in zip(layer.starts, layer.stops, layer.steps))
    return x[index]


def _constant(layer: Constant, x: Array, params: Params, counter: Counter) -> Array:
    """Fixed values of the layer's shape (the table is not computed from the input)."""
    shape = tuple(int(size) for size in layer.shape)
    return np.cos(np.arange(int(np.prod(shape)), dtype=np.float64)).reshape(shape)


@run_fast.register
def _(layer: Normalize, x: Array, params: Params, counter: Counter) -> Array:
    """Per row: ``L`` squares summed, a square root, ``max`` with eps, ``L`` divisions."""
    axis = check_axis(layer.axis, x.ndim, "Normalize(axis")
    moved = np.moveaxis(x, axis, -1)
    squares = counter.multiply(moved, moved)
    total = squares[..., :1].copy()
    for j in range(1, squares.shape[-1]):   # L − 1 additions per row
        counter.add_into(total, squares[..., j:j + 1])
    norm = counter.maximum(counter.sqrt(total), float(layer.eps))
    return np.moveaxis(counter.divide(moved, norm), -1, axis)


@run_reference.register
def _(layer: Normalize, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element over each row."""
    axis = check_axis(layer.axis, x.ndim, "Normalize(axis")
    moved = np.moveaxis(x, axis, -1)
    out = np.empty(moved.shape, dtype=np.float64)
    eps = float(layer.eps)
    for index, row in zip(np.ndindex(moved.shape[:-1]), counter.rows(moved)):
        total = row[0] * row[0]
        for value in row[1:]:
            total += value * value
        norm = max(float(np.sqrt(total)), eps)
        out[index] = [value / norm for value in row]
        counter.mults += len(row)
        counter.adds += len(row) - 1
        counter.transcendentals += 1
        counter.comparisons += 1
        counter.divs += len(row)
    counter.wrote(out)
    return np.moveaxis(out, -1, axis)


for _runner in (run_fast, run_reference):
    _runner.register(Roll, _roll)
    _runner.register(Strided, _strided)
    _runner.register(Constant, _constant)
