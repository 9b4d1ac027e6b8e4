"""Counting while computing: :class:`Counter` calls NumPy and counts from the shapes of the
arrays each operation is handed and returns; :class:`Counts` is what it tallied."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np

from symconv.execute.traffic import Tracker

__all__ = ["Counts", "Counter", "row_loops"]


#: A NumPy array (float64 in every executor).
Array: TypeAlias = np.ndarray


@dataclass(frozen=True)
class Counts:
    """Scalar operations counted while a layer ran.

    Attributes
    ----------
    mults, adds
        Scalar multiplications and additions (see the module docstring for what is counted).
    divs, comparisons
        Divisions and comparisons, kept apart from the two above.
    transcendentals
        Evaluations of exp, log, erf, tanh, sqrt, rsqrt and non-integer powers (XLA's category).

    Examples
    --------
    >>> Counts(mults=3, adds=2) + Counts(mults=1, comparisons=4)
    Counts(mults=4, adds=2, divs=0, comparisons=4, transcendentals=0)
    >>> Counts(mults=3, adds=2).as_dict()
    {'mults': 3, 'adds': 2, 'divs': 0, 'comparisons': 0, 'transcendentals': 0}
    """

    mults: int = 0
    adds: int = 0
    divs: int = 0
    comparisons: int = 0
    transcendentals: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            mults=self.mults + other.mults,
            adds=self.adds + other.adds,
            divs=self.divs + other.divs,
            comparisons=self.comparisons + other.comparisons,
            transcendentals=self.transcendentals + other.transcendentals,
        )

    def as_dict(self) -> dict[str, int]:
        """The five counts as a dict, in report order."""
        return dataclasses.asdict(self)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


@contextlib.contextmanager
def row_loops() -> Iterator[None]:
    """NumPy's ufunc buffer at its smallest (16 elements) while the block runs: only the speed
    changes, never a value.

    With the default 8192-element buffer, a broadcast operation on rows shorter than the buffer
    (``x[:, None] * g`` on 1024 rows of 1000) copies its operands through the buffer several
    rows at a time; with the smallest it runs its loop on each row where it lies, several times
    faster for rows of a few hundred elements or more (that outer product: 0.43 → 0.11 ms).
    Rows of a few dozen elements lose by it (their loops are too short): use it only on long
    rows. The setting is NumPy's own, per thread, and put back after.

    Examples
    --------
    >>> import numpy as np
    >>> with row_loops():
    ...     np.getbufsize()
    16
    >>> np.getbufsize()
    8192
    """
    previous = np.setbufsize(16)
    try:
        yield
    finally:
        np.setbufsize(previous)


@functools.lru_cache(maxsize=256)
def _parse_einsum(spec: str, operands: int) -> tuple[tuple[str, ...], str]:
    inputs, arrow, output = spec.replace(" ", "").partition("->")
    terms = tuple(inputs.split(","))
    if not arrow or "." in spec or len(terms) != operands:
        raise ValueError(f"einsum spec {spec!r} must be explicit ('ab,bc->ac') and name each of "
                         f"the {operands} operands")
    return terms, output


@functools.lru_cache(maxsize=256)
def _optimize(spec: str, operands: int) -> bool:
    """Whether ``numpy.einsum`` should plan its contraction (``optimize=True``: BLAS where a
    term pair is a matrix product). Not for one operand, nor for terms that all hold the same
    letters (an elementwise product summed, ``pc,pc->c``), nor where no letter is summed (an
    outer product, ``m,n->mn``): there is no matrix product to find, and the planned path runs
    several times slower than the plain loop.

    Examples
    --------
    >>> _optimize("pm,pn->mn", 2), _optimize("pc,pc->c", 2), _optimize("m,n->mn", 2)
    (True, False, False)
    """
    terms, output = _parse_einsum(spec, operands)
    summed = set("".join(terms)) - set(output)
    return operands > 1 and bool(summed) and len({frozenset(term) for term in terms}) > 1


class Counter:
    """Tallies scalar operations; its helpers call NumPy and count from the shapes involved.

    Parameters
    ----------
    enabled
        With ``False`` the helpers only compute (to measure what counting costs).

    Examples
    --------
    >>> import numpy as np
    >>> counter = Counter()
    >>> a, b = np.ones((4, 5)), np.ones((5, 6))
    >>> counter.einsum("ik,kj->ij", a, b).shape   # 4·6 dot products of 5 terms
    (4, 6)
    >>> counter.counts()
    Counts(mults=120, adds=96, divs=0, comparisons=0, transcendentals=0)
    """

    def __init__(self, *, enabled: bool = True, tracker: Tracker | None = None) -> None:
        self.enabled = enabled
        #: Records the elements each operation touches (``execute(..., track=True)``), or None.
        self.tracker = tracker
        self.mults = 0
        self.adds = 0
        self.divs = 0
        self.comparisons = 0
        self.transcendentals = 0

    def counts(self) -> Counts:
        """A snapshot of the tallies."""
        return Counts(self.mults, self.adds, self.divs, self.comparisons, self.transcendentals)

    def absorb(self, other: Counter) -> None:
        """Add another counter's tallies to these (one counter per thread, added up after).

        Examples
        --------
        >>> total, part = Counter(), Counter()
        >>> part.mults, part.comparisons = 3, 1
        >>> total.absorb(part); total.counts()
        Counts(mults=3, adds=0, divs=0, comparisons=1, transcendentals=0)
        """
        self.mults += other.mults
        self.adds += other.adds
        self.divs += other.divs
        self.comparisons += other.comparisons
        self.transcendentals += other.transcendentals

    def read(self, *arrays: Array) -> None:
        """Mark ``arrays`` (views) as read, where an executor reads them outside the counted
        operations (a copy, a fold); nothing without a tracker."""
        if self.tracker is not None:
            self.tracker.read(arrays)

    def scalars(self, array: Array) -> Any:
        """``array.tolist()`` for the reference executor's loops; with a tracker, reading a
        value from its innermost lists marks that element read
        (:meth:`~symconv.execute.traffic.Tracker.scalars`)."""
        if self.tracker is None:
            return array.tolist()
        return self.tracker.scalars(array)

    def flat(self, array: Array) -> list[float]:
        """The values of ``array`` in C order as one list (``array.ravel().tolist()``), its
        reads recorded as :meth:`scalars` records them."""
        if self.tracker is None:
            return array.ravel().tolist()
        return self.tracker.scalars(array, flat=True)

    def rows(self, array: Array) -> list[list[float]]:
        """``array`` as a list of its last axis' rows (``array.reshape(-1, C).tolist()``), its
        reads recorded as :meth:`scalars` records them."""
        if self.tracker is None:
            return array.reshape(-1, array.shape[-1]).tolist()
        nested = self.tracker.scalars(array)
        for _ in range(array.ndim - 2):
            nested = [row for part in nested for row in part]
        return nested if array.ndim > 1 else [nested]

    def wrote(self, array: Array) -> None:
        """Record that ``array`` was written outside the counted operations."""
        if self.tracker is not None:
            self.tracker.wrote(array)

    def einsum(self, spec: str, *operands: Array) -> Array:
        """``numpy.einsum`` with an explicit ``->``, counting from the operand shapes.

        Every point of the joint index space multiplies its ``n`` operands together
        (``n − 1`` multiplications); every output element sums the products of the indices
        summed over (``R`` terms, ``R − 1`` additions).

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.einsum("i,i->", np.arange(3.0), np.arange(3.0))   # 3 mults, 2 adds
        array(5.)
        >>> counter.einsum("ij->i", np.ones((2, 4)))                  # 2 sums of 4 terms
        array([4., 4.])
        >>> counter.mults, counter.adds
        (3, 8)
        """
        if self.enabled:
            terms, output = _parse_einsum(spec, len(operands))
            extents: dict[str, int] = {}
            for term, operand in zip(terms, operands):
                if len(term) != operand.ndim:
                    raise ValueError(f"einsum term {term!r} does not fit shape {operand.shape}")
                for letter, extent in zip(term, operand.shape):
                    extents[letter] = max(extents.get(letter, 1), int(extent))  # 1 broadcasts
            everything = _size(list(extents.values()))
            kept = _size([extents[letter] for letter in output])
            summed = everything // kept if kept else 0
            self.mults += (len(operands) - 1) * everything
            self.adds += kept * (summed - 1) if summed else 0
        result: Array = np.asarray(np.einsum(spec, *operands,
                                             optimize=_optimize(spec, len(operands))))
        if self.tracker is not None:
            self.tracker.read(operands)
            self.tracker.wrote(result)
        return result

    def matmul(self, a: Array, b: Array, *, out: Array | None = None) -> Array:
        """``a @ b`` (into ``out`` if given): each result element is a dot product of ``a.shape[-1]`` terms.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.matmul(np.ones((2, 3, 4)), np.ones((4, 5))).shape
        (2, 3, 5)
        >>> counter.mults, counter.adds   # 2·3·5 dot products of 4 terms
        (120, 90)
        """
        out = np.matmul(a, b, out=out)
        if self.tracker is not None:
            self.tracker.read((a, b))
            self.tracker.wrote(out)
        if self.enabled:
            terms = np.shape(a)[-1]
            self.mults += out.size * terms
            self.adds += out.size * (terms - 1)
        return out

    def _elementwise(self, operation: np.ufunc, kind: str, a: Array | float, b: Array | float,
                     out: Array | None = None) -> Array:
        """Apply a binary ufunc (into ``out`` if given), counting one ``kind`` per element of the
        broadcast result."""
        result: Array = operation(a, b) if out is None else operation(a, b, out=out)
        if self.tracker is not None:
            self.tracker.read((a, b))
            self.tracker.wrote(result)
        if self.enabled:   # a NumPy scalar has a size too
            self.__dict__[kind] += result.size
        return result

    def multiply(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a * b``: one multiplication per element of the broadcast result."""
        result: Array = np.multiply(a, b) if out is None else np.multiply(a, b, out=out)
        if self.tracker is not None:
            self.tracker.read((a, b))
            self.tracker.wrote(result)
        if self.enabled:
            self.mults += result.size
        return result

    def add(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a + b``: one addition per element of the broadcast result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.add(np.ones((5, 5, 4)), np.ones(4)).shape   # a bias: one add per element
        (5, 5, 4)
        >>> counter.adds
        100
        """
        return self._elementwise(np.add, "adds", a, b, out)

    def add_into(self, target: Array, values: Array) -> None:
        """``target += values`` in place: one addition per element of ``target``.

        Examples
        --------
        >>> import numpy as np
        >>> counter, target = Counter(), np.zeros((3, 2))
        >>> counter.add_into(target[::2], np.ones(2))
        >>> counter.adds, float(target.sum())
        (4, 4.0)
        """
        np.add(target, values, out=target)
        if self.tracker is not None:
            self.tracker.read((target, values))
            self.tracker.wrote(target)
        if self.enabled:
            self.adds += target.size

    def divide(self, a: Array | float, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a / b``: one division per element of the broadcast result."""
        return self._elementwise(np.divide, "divs", a, b, out)

    def greater(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a > b`` (a boolean mask, into ``out`` if given): one comparison per
        element of the result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.greater(np.array([-1.0, 2.0]), 0.0), counter.comparisons
        (array([False,  True]), 2)
        """
        return self._elementwise(np.greater, "comparisons", a, b, out)

    def minimum(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``min(a, b)``: one comparison per element of the broadcast result."""
        return self._elementwise(np.minimum, "comparisons", a, b, out)

    def maximum(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``max(a, b)`` (into ``out`` if given): one comparison per element of the
        broadcast result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.maximum(np.array([1.0, 5.0]), np.array([3.0, 2.0]))
        array([3., 5.])
        >>> counter.divide(np.ones(3), 2.0)
        array([0.5, 0.5, 0.5])
        >>> counter.comparisons, counter.divs
        (2, 3)
        """
        return self._elementwise(np.maximum, "comparisons", a, b, out)

    def subtract(self, a: Array | float, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a - b``: one addition (a subtraction is counted as an addition) per
        element of the broadcast result."""
        return self._elementwise(np.subtract, "adds", a, b, out)

    def _transcendental(self, function: Callable[[Array], Array], x: Array) -> Array:
        result: Array = function(x)
        if self.tracker is not None:
            self.tracker.read((x,))
            self.tracker.wrote(result)
        if self.enabled:
            self.transcendentals += result.size
        return result

    def exp(self, x: Array) -> Array:
        """Elementwise ``exp(x)``: one transcendental per element.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.exp(np.zeros(3)), counter.transcendentals
        (array([1., 1., 1.]), 3)
        """
        return self._transcendental(np.exp, x)

    def log(self, x: Array) -> Array:
        """Elementwise natural ``log(x)``: one transcendental per element."""
        return self._transcendental(np.log, x)

    def log1p(self, x: Array) -> Array:
        """Elementwise ``log(1 + x)`` (one evaluation, as PyTorch's softplus calls it): one
        transcendental per element, no addition."""
        return self._transcendental(np.log1p, x)

    def expm1(self, x: Array) -> Array:
        """Elementwise ``exp(x) - 1`` (one evaluation, as PyTorch's ELU calls it): one
        transcendental per element, no addition."""
        return self._transcendental(np.expm1, x)

    def tanh(self, x: Array) -> Array:
        """Elementwise ``tanh(x)``: one transcendental per element."""
        return self._transcendental(np.tanh, x)

    def erf(self, x: Array) -> Array:
        """Elementwise ``erf(x)`` (:func:`math.erf` per element; NumPy has none): one
        transcendental per element.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.erf(np.array([0.0, 30.0])), counter.transcendentals
        (array([0., 1.]), 2)
        """
        return self._transcendental(_ERF, x)

    def sqrt(self, x: Array) -> Array:
        """Elementwise ``sqrt(x)``: one transcendental per element."""
        return self._transcendental(np.sqrt, x)

    def rsqrt(self, x: Array) -> Array:
        """Elementwise ``1/sqrt(x)`` as one evaluation (PyTorch's ``rsqrt``): one transcendental
        per element, no division."""
        return self._transcendental(lambda values: 1.0 / np.sqrt(values), x)


#: ``erf`` elementwise, as float64 (NumPy has no erf ufunc; math.erf is correctly rounded enough).
_ERF = np.vectorize(math.erf, otypes=[np.float64])
