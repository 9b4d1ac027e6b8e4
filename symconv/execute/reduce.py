"""Executors of :class:`~symconv.layers.Mean`, fast and reference: the reduced axes summed
(``R − 1`` additions per output), then one division per output, as PyTorch's CPU ``mean``."""

from __future__ import annotations

import itertools
import string

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers import Mean

__all__: list[str] = []


def _shapes(layer: Mean, x: Array) -> tuple[list[int], tuple[int, ...]]:
    reduced = sorted(layer._reduced(x.ndim))
    kept = tuple(1 if axis in reduced else size for axis, size in enumerate(x.shape)
                 if layer.keepdim or axis not in reduced)
    return reduced, kept


@run_fast.register
def _(layer: Mean, x: Array, params: Params, counter: Counter) -> Array:
    """One einsum summing the reduced axes, then one division per output element."""
    reduced, kept = _shapes(layer, x)
    letters = string.ascii_lowercase[:x.ndim]
    spec = letters + "->" + "".join(c for axis, c in enumerate(letters) if axis not in reduced)
    sums = counter.einsum(spec, x)
    terms = int(np.prod([x.shape[axis] for axis in reduced]))
    return counter.divide(sums, float(terms), out=sums).reshape(kept)


@run_reference.register
def _(layer: Mean, x: Array, params: Params, counter: Counter) -> Array:
    """Per output element, plain loops over the reduced positions: a running sum, one
    division."""
    reduced, kept = _shapes(layer, x)
    free = [axis for axis in range(x.ndim) if axis not in reduced]
    values = counter.flat(x)
    out = []
    for outer in itertools.product(*(range(x.shape[axis]) for axis in free)):
        index = [0] * x.ndim
        for axis, i in zip(free, outer):
            index[axis] = i
        total = None
        for inner in itertools.product(*(range(x.shape[axis]) for axis in reduced)):
            for axis, i in zip(reduced, inner):
                index[axis] = i
            value = values[int(np.ravel_multi_index(index, x.shape))]
            if total is None:
                total = value
            else:
                total += value
                counter.adds += 1
        assert total is not None
        counter.divs += 1
        out.append(total / int(np.prod([x.shape[axis] for axis in reduced])))
    return np.array(out, dtype=np.float64).reshape(kept)
