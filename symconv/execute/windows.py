"""Executors of :mod:`symconv.layers.windows`: a cyclic shift and a strided view, fast and
reference (the same: neither performs an operation; the shift reads every element)."""

from __future__ import annotations

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers.windows import Roll, Strided

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


for _runner in (run_fast, run_reference):
    _runner.register(Roll, _roll)
    _runner.register(Strided, _strided)
