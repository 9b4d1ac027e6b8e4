"""Which elements a run really touched: :class:`Tracker` keeps a boolean mask per operand (the
input, each parameter, a second input) and sets it through every strided view an operation is
handed; :class:`Traffic` is what it found.

Tracking is switched on with ``execute(..., track=True)``; without it the counting helpers of
:class:`~symconv.execute.counter.Counter` only test that no tracker is attached. What is
recorded:

* **reads** — a view handed to a counted operation (``einsum``, ``matmul``, ``multiply``, ...)
  or marked read by an executor where it copies data outside them (an im2col matrix, the first
  tap of a pooling window, BatchNorm's γ and β folded into a scale and shift) sets the mask of
  the watched array it points into, at exactly the elements the view covers (its byte offset
  and strides, read from the view). A padded copy of the input is watched as an *alias*: a mark
  in its interior is a mark on the input, a mark on the padding is none.
* **reads of single scalars** — the reference executor (``method="reference"``) reads its
  operands as Python lists, one scalar at a time: :meth:`Tracker.scalars` gives ``tolist()``'s
  lists whose rows mark an element of the watched array when that element is read from them,
  by index or by iteration (:class:`Recorded`), and at no other time. A stride-2 window that
  skips a row never reads it, and the row is not marked.
* **writes** — an output in memory the run made (no view of its input or parameters) was
  written whole; an output that is a view of them (a reshape, a reused tensor) counts the
  elements covered by arrays the operations returned or wrote into (``out=``): none for a
  reshape.

No count comes from a shape formula: each is the number of ``True`` elements of a mask set by
the operations performed. This module imports NumPy only.

Examples
--------
>>> import numpy as np
>>> tracker = Tracker()
>>> x = np.arange(16.0).reshape(4, 4, 1)
>>> tracker.watch("input", x)
>>> tracker.read(x[::2, ::2])               # a 1x1 stride-2 tap
>>> tracker.touched("input")
4
>>> rows = tracker.scalars(x)               # the reference executor's lists
>>> rows[3][1][0], rows[3][3][0]           # two scalars read, one at a time
(13.0, 15.0)
>>> tracker.touched("input")
6
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Recorded", "Tracker", "Traffic"]

Array = np.ndarray


@dataclass(frozen=True)
class Traffic:
    """Distinct elements a run touched.

    Attributes
    ----------
    input
        Distinct input elements read (padding excluded); for an addition of two tensors, both.
    params
        Distinct elements read of each parameter, by name (nested by stage for composites in
        :attr:`Execution.stages <symconv.execute.run.Execution>`).
    writes
        Output elements written.

    Examples
    --------
    >>> t = Traffic(input=16, params={"weight": 64}, writes=16)
    >>> t.reads, (t + t).reads
    (80, 160)
    """

    input: int = 0
    params: dict[str, int] = field(default_factory=dict)
    writes: int = 0

    @property
    def reads(self) -> int:
        """Input elements plus parameter elements read."""
        return self.input + sum(self.params.values())

    @property
    def param_elements(self) -> int:
        """Parameter elements read, all parameters together."""
        return sum(self.params.values())

    def __add__(self, other: Traffic) -> Traffic:
        params = dict(self.params)
        for name, value in other.params.items():
            params[name] = params.get(name, 0) + value
        return Traffic(self.input + other.input, params, self.writes + other.writes)


class Recorded(list):
    """A row of an array's values, as ``tolist()`` gives them, that marks the watched element
    behind each value when the value is read: by index (``row[c]``), by iteration, or through a
    slice (``row[1:]`` is a :class:`Recorded` too). Other list operations do not mark.

    ``marks`` holds ``(flat mask, offsets)`` pairs: value ``i`` is element ``offsets[i]`` of that
    mask.

    Examples
    --------
    >>> import numpy as np
    >>> mask = np.zeros(4, dtype=bool)
    >>> row = Recorded([1.0, 2.0, 3.0, 4.0], [(mask, [0, 1, 2, 3])])
    >>> row[2], [value for value in row[:2]]
    (3.0, [1.0, 2.0])
    >>> mask
    array([ True,  True,  True, False])
    """

    __slots__ = ("marks",)

    def __init__(self, values: list[float], marks: list[tuple[Array, list[int]]]) -> None:
        super().__init__(values)
        self.marks = marks

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return Recorded(list.__getitem__(self, index),
                            [(flat, offsets[index]) for flat, offsets in self.marks])
        value = list.__getitem__(self, index)
        for flat, offsets in self.marks:
            flat[offsets[index]] = True
        return value

    def __iter__(self) -> Iterator[Any]:
        for index, value in enumerate(list.__iter__(self)):
            for flat, offsets in self.marks:
                flat[offsets[index]] = True
            yield value


def _nest(items: list[Any], shape: tuple[int, ...]) -> list[Any]:
    """``items`` grouped into nested lists of ``shape`` (outermost first)."""
    for size in reversed(shape[1:]):
        items = [items[start:start + size] for start in range(0, len(items), size)]
    return items


def _address(array: Array) -> int:
    return int(array.__array_interface__["data"][0])


class _Watched:
    """One watched array: its mask, and where its marks go (``region``: the part of an alias
    that stands for the original; ``None``: all of it)."""

    __slots__ = ("array", "end", "flat", "mask", "name", "region", "start")

    def __init__(self, name: str, array: Array, region: tuple[slice, ...] | None) -> None:
        if not array.flags.c_contiguous or array.itemsize != 8:
            raise ValueError("a watched array must be C-contiguous float64")
        self.name, self.array, self.region = name, array, region
        self.mask = np.zeros(array.shape, dtype=bool)
        self.flat = self.mask.reshape(-1)
        self.start = _address(array)
        self.end = self.start + array.nbytes


def _mark(flat: Array, offset: int, view: Array) -> None:
    """Set the elements of ``flat`` (a boolean mask of float64 elements) that ``view`` covers,
    ``view`` starting ``offset`` elements in."""
    strides = tuple(step // 8 for step in view.strides)
    np.lib.stride_tricks.as_strided(flat[offset:], shape=view.shape, strides=strides)[...] = True


class Tracker:
    """Masks of the watched arrays, set by the operations a run performs (module docstring)."""

    def __init__(self) -> None:
        self.watched: list[_Watched] = []
        self.results: list[Array] = []

    def watch(self, name: str, array: Array) -> None:
        """Track the reads of ``array`` under ``name`` (``"input"``, ``"weight"``, ...)."""
        self.watched.append(_Watched(name, array, None))

    def alias(self, source: Array, copy: Array, region: tuple[slice, ...]) -> None:
        """``copy[region]`` holds the values of the watched ``source`` (a padded copy): reads of
        it count as reads of ``source``; reads of the rest of ``copy`` (padding) as none."""
        for watched in list(self.watched):
            if watched.array is source:
                self.watched.append(_Watched(watched.name, copy, region))

    def read(self, arrays: Iterable[object]) -> None:
        """Mark every element of a watched array that one of ``arrays`` (views) covers."""
        for array in arrays:
            if not isinstance(array, np.ndarray) or array.itemsize != 8 or array.size == 0:
                continue
            where = _address(array)
            for watched in self.watched:
                if watched.start <= where < watched.end:
                    _mark(watched.flat, (where - watched.start) // 8, array)

    def scalars(self, view: Array, *, flat: bool = False) -> Any:
        """``view.tolist()``, its innermost lists :class:`Recorded`: a value read from them marks
        the element behind it in every watched array (or alias) that ``view`` points into, at
        the place its byte offset and strides give. A ``view`` into no watched array gives
        plain lists. With ``flat=True``, one list of every value in C order."""
        values = view.ravel().tolist() if flat else view.tolist()
        if view.ndim == 0 or view.size == 0 or view.itemsize != 8:
            return values
        where = _address(view)
        steps = [step // 8 for step in view.strides]
        marks: list[tuple[Array, list[int]]] = []
        for watched in self.watched:
            if watched.start <= where < watched.end:
                offsets = np.full(view.shape, (where - watched.start) // 8, dtype=np.int64)
                for axis, (size, step) in enumerate(zip(view.shape, steps)):
                    offsets += (np.arange(size) * step).reshape(
                        [size if a == axis else 1 for a in range(view.ndim)])
                marks.append((watched.flat, offsets.ravel().tolist()))
        if not marks:
            return values
        every = Recorded(values if flat else view.ravel().tolist(), marks)
        if flat:
            return every
        last = view.shape[-1]
        rows = [every[start:start + last] for start in range(0, view.size, last)]
        return rows[0] if view.ndim == 1 else _nest(rows, view.shape[:-1])

    def wrote(self, array: Array) -> None:
        """Record that an operation wrote every element of ``array``."""
        self.results.append(array)

    def touched(self, name: str) -> int:
        """Distinct elements read of the array(s) watched as ``name``, aliases folded in."""
        total: Array | None = None
        for watched in self.watched:
            if watched.name != name:
                continue
            part = watched.mask if watched.region is None else watched.mask[watched.region]
            total = part.copy() if total is None else total | part
        return 0 if total is None else int(np.count_nonzero(total))

    def written(self, output: Array) -> int:
        """Elements of ``output`` the run wrote: all of it when it is memory the run made (no
        view of its input, a parameter or a second input); else those covered by arrays the
        operations wrote (none for a reshape or a reused tensor)."""
        if not any(np.may_share_memory(output, watched.array)
                   for watched in self.watched if watched.region is None):
            return int(output.size)
        owner = output
        while isinstance(owner.base, np.ndarray):
            owner = owner.base
        if not owner.flags.c_contiguous or owner.itemsize != 8 or output.itemsize != 8:
            return 0
        start, flat = _address(owner), np.zeros(owner.size, dtype=bool)
        end = start + owner.nbytes
        for result in self.results:
            where = _address(result)
            if isinstance(result, np.ndarray) and start <= where < end and result.size:
                _mark(flat, (where - start) // 8, result)
        view = np.lib.stride_tricks.as_strided(
            flat[(_address(output) - start) // 8:], shape=output.shape,
            strides=tuple(step // 8 for step in output.strides))
        return int(np.count_nonzero(view))

    def traffic(self, output: Array, params: Iterable[str]) -> Traffic:
        """What the run touched: the input (and a second input), each parameter, the output."""
        return Traffic(
            input=self.touched("input") + self.touched("other"),
            params={name: self.touched(name) for name in params},
            writes=self.written(output),
        )
