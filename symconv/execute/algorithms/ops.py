"""Counted building blocks of the algorithms' executors: a subtraction, an exact matrix applied
along an axis entry by entry, complex arithmetic on (real, imaginary) pairs of arrays.

Every count comes from an operation performed here: :class:`~symconv.execute.Counter`'s helpers
count one operation per element of the arrays they compute, and :func:`subtract` adds one per
element of its result. A sign change is not counted.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np

from symconv.execute.counter import Array, Counter

__all__ = ["subtract", "apply_matrix", "Complex", "complex_multiply", "complex_add",
           "complex_subtract", "scale"]

#: A complex array as its real and imaginary parts, so that every real operation is counted.
Complex: TypeAlias = tuple[Array, Array]


def subtract(counter: Counter, a: Array, b: Array) -> Array:
    """``a − b``, one addition counted per element of the result.

    Examples
    --------
    >>> counter = Counter()
    >>> subtract(counter, np.ones(3), np.ones(3)), counter.adds
    (array([0., 0., 0.]), 3)
    """
    result: Array = np.subtract(a, b)
    if counter.enabled:
        counter.adds += result.size
    return result


def apply_matrix(counter: Counter, matrix: Any, x: Array, axis: int) -> Array:
    """``matrix`` (exact entries: SymPy numbers) applied to every line of ``x`` along ``axis``.

    Row by row, term by term: an entry 0 is skipped, an entry ±1 takes or subtracts the input
    line as it is, any other entry multiplies it (one multiplication per element); each term
    after a row's first is added (one addition per element). Rows without entries give zeros.

    Examples
    --------
    >>> import sympy
    >>> counter = Counter()
    >>> AT = sympy.Matrix([[1, 1, 1, 0], [0, 1, -1, sympy.Rational(1, 2)]])
    >>> apply_matrix(counter, AT, np.arange(8.0).reshape(4, 2), axis=0)
    array([[6. , 9. ],
           [1. , 1.5]])
    >>> counter.mults, counter.adds      # 2 lines: 1 product and 2 + 2 sums each
    (2, 8)
    """
    lines = np.moveaxis(x, axis, 0)
    rows = []
    for i in range(matrix.rows):
        total: Array | None = None
        for j in range(matrix.cols):
            entry = matrix[i, j]
            if entry == 0:
                continue
            negative = entry == -1
            term = lines[j] if entry in (1, -1) else counter.multiply(lines[j], float(entry))
            if total is None:
                total = -term if negative else term
            elif negative:
                total = subtract(counter, total, term)
            else:
                total = counter.add(total, term)
        rows.append(np.zeros(lines.shape[1:]) if total is None else total)
    return np.moveaxis(np.stack(rows), 0, axis)


def complex_multiply(counter: Counter, a: Complex, b: Complex, rule: str) -> Complex:
    """``a·b`` by ``rule``: ``"4m2a"`` ``(ac − bd) + (ad + bc)i``, or ``"3m5a"`` (Gauss)
    ``k1 = c(a + b)``, ``k2 = a(d − c)``, ``k3 = b(c + d)``, ``(k1 − k3) + (k1 + k2)i``.
    Operands are broadcast first: every product of the result is done in full (no sum such as
    ``c + d`` is shared between products).

    Examples
    --------
    >>> counter = Counter()
    >>> complex_multiply(counter, (np.array([1.0]), np.array([2.0])),
    ...                  (np.array([3.0]), np.array([4.0])), "3m5a")     # (1 + 2i)(3 + 4i)
    (array([-5.]), array([10.]))
    >>> counter.mults, counter.adds
    (3, 5)
    """
    re_a, im_a, re_b, im_b = np.broadcast_arrays(*a, *b)   # every product done in full
    if rule == "3m5a":
        k1 = counter.multiply(re_b, counter.add(re_a, im_a))
        k2 = counter.multiply(re_a, subtract(counter, im_b, re_b))
        k3 = counter.multiply(im_a, counter.add(re_b, im_b))
        return subtract(counter, k1, k3), counter.add(k1, k2)
    real = subtract(counter, counter.multiply(re_a, re_b), counter.multiply(im_a, im_b))
    imaginary = counter.add(counter.multiply(re_a, im_b), counter.multiply(im_a, re_b))
    return real, imaginary


def complex_add(counter: Counter, a: Complex, b: Complex) -> Complex:
    """``a + b``: two real additions per element."""
    return counter.add(a[0], b[0]), counter.add(a[1], b[1])


def complex_subtract(counter: Counter, a: Complex, b: Complex) -> Complex:
    """``a − b``: two real additions per element."""
    return subtract(counter, a[0], b[0]), subtract(counter, a[1], b[1])


def scale(counter: Counter, a: Complex, factor: float) -> Complex:
    """``a`` times a real number: two real multiplications per element."""
    return counter.multiply(a[0], factor), counter.multiply(a[1], factor)
