"""Executors of :class:`~symconv.layers.products.MatMul` and
:class:`~symconv.layers.products.MulScalar`, fast and reference."""

from __future__ import annotations

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference, second_input
from symconv.layers.products import MatMul, MulScalar

__all__: list[str] = []


@second_input.register
def _(layer: MatMul) -> str:
    return layer.other


def _right(layer: MatMul, x: Array, other: Array) -> Array:
    right = other.swapaxes(-1, -2) if layer.transpose_other else other
    if right.ndim != x.ndim or right.shape[:-2] != x.shape[:-2] or right.shape[-2] != x.shape[-1]:
        raise SymconvError(f"MatMul: x of shape {x.shape} does not multiply stage "
                           f"{layer.other!r} of shape {other.shape}")
    return right


@run_fast.register
def _(layer: MatMul, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """One NumPy matmul (a view of the other operand, transposed where asked)."""
    return counter.matmul(x, _right(layer, x, other))


@run_reference.register
def _(layer: MatMul, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """Plain loops: one dot product per output element."""
    right = _right(layer, x, other)
    lead = x.shape[:-2]
    out = np.empty((*lead, x.shape[-2], right.shape[-1]))
    for index in np.ndindex(*lead):
        rows, columns = counter.scalars(x[index]), counter.scalars(right[index])
        for i, row in enumerate(rows):
            for j in range(len(columns[0])):
                total = row[0] * columns[0][j]
                for t in range(1, len(row)):
                    total += row[t] * columns[t][j]
                position = (*index, i, j)
                out[position] = total
                counter.mults += len(row)
                counter.adds += len(row) - 1
    return out


@run_fast.register
def _(layer: MulScalar, x: Array, params: Params, counter: Counter) -> Array:
    return counter.multiply(x, float(layer.factor))


@run_reference.register
def _(layer: MulScalar, x: Array, params: Params, counter: Counter) -> Array:
    factor = float(layer.factor)
    out = [value * factor for value in counter.flat(x)]
    counter.mults += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape)
