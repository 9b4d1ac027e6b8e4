"""The operation counts of one loop nest, and the counts-only :class:`~symconv.derive.Cost` of a
gradient or a training-mode part. Pure SymPy.

A network's training step at one input size derives hundreds of nests (a BatchNorm alone six
backward and four training-forward ones), so where every size and every operation per point
is an integer the counts are found with Python ints (:func:`whole_counts`) and made SymPy
``Integer`` once; the symbolic path (:func:`symbolic_counts`) gives the same expressions as
SymPy's own arithmetic would.

Examples
--------
>>> from symconv.layers import LoopNest
>>> nest = LoopNest(outer=(4, 4, 8), inner=(3, 3, 2), outputs=(4, 4, 8))
>>> whole_counts(nest)
{'mults': 2304, 'adds': 2176}
>>> from symconv.symbols import H, W
>>> symbolic_counts(LoopNest(outer=(H, W, 8), inner=(3, 3, 2), outputs=(H, W, 8)))["adds"]
136*H*W
"""

from __future__ import annotations

from collections.abc import Iterable

import sympy

from symconv.derive.cost import _DEFAULTS, _ZERO, COUNT_KINDS, Cost, _integer, _product, _sum
from symconv.derive.cost import _SYMPY_INTEGER_CLASSES as _SYMPY_INTEGERS
from symconv.layers.base import LoopNest
from symconv.sizes import as_expr

__all__ = ["whole_counts", "as_integers", "symbolic_counts", "nest_counts", "as_exprs", "parameters",
           "counts_cost", "parts_cost", "INTEGERS"]

_INTEGERS = (int, sympy.Integer)


def _whole(sizes: tuple[object, ...]) -> int | None:
    """The product of ``sizes`` as a Python int, or ``None`` where one is not an integer."""
    whole = 1
    for size in sizes:
        kind = type(size)
        if kind is int:
            whole *= size   # type: ignore[operator]
        elif kind in _SYMPY_INTEGERS:
            whole *= size.p   # type: ignore[attr-defined]
        elif isinstance(size, _INTEGERS):
            whole *= int(size)
        else:
            return None
    return whole


def whole_counts(nest: LoopNest) -> dict[str, int] | None:
    """The counts of ``nest`` as Python ints, the kinds it performs only (a kind it performs
    0 times may be there as 0), where its sizes and its operations per point are integers;
    else ``None``."""
    outer, inner = nest.outer, nest.inner   # no call for an elementwise nest's ()
    points = _whole(outer) if outer else 1
    width = _whole(inner) if inner else 1
    if points is None or width is None:
        return None
    counts: dict[str, int] = {}
    if nest.multiply:
        counts["mults"] = points * width
    if nest.accumulate == "sum":
        counts["adds"] = points * (width - 1)
    elif nest.accumulate == "scatter":
        counts["adds"] = points * width
    else:
        counts["comparisons"] = points * (width - 1)
    if nest.per_output:
        made = _whole(nest.outputs)
        if made is None:
            return None
        for name, per_element in nest.per_output:
            if not isinstance(per_element, _INTEGERS):
                return None
            counts[name] = counts.get(name, 0) + int(per_element) * made
    for name, per_point in nest.per_outer:
        if not isinstance(per_point, _INTEGERS):
            return None
        counts[name] = counts.get(name, 0) + int(per_point) * points
    return counts


def as_integers(counts: dict[str, int]) -> dict[str, sympy.Expr]:
    """Every count kind of :func:`whole_counts`' ``counts`` as a SymPy ``Integer``."""
    made = dict(_ZEROS)
    for name, number in counts.items():
        if number:
            made[name] = sympy.Integer(number)
    return made


_ZEROS = {name: _ZERO for name in COUNT_KINDS}

#: The key under which a walk of one derivation (the backward walk, the training forward) keeps
#: in its memo the ``Integer`` it made of each int, for :func:`parts_cost`: a network's parts
#: share most of their sizes and counts (a few hundred values in a MobileNet's thousand), and
#: each shared one is one object fewer to make and for the garbage collector to follow. Kept
#: for that walk only: the next derivation makes its own.
INTEGERS = ("integers",)
#: A counts-only cost's fields before its counts: the defaults, every count 0.
_ZERO_DEFAULTS = {**_DEFAULTS, **_ZEROS}


def symbolic_counts(nest: LoopNest) -> dict[str, sympy.Expr]:
    """The operation counts of ``nest`` by SymPy arithmetic, whatever its sizes."""
    outer, inner = _product(nest.outer), _product(nest.inner)
    counts = {name: _ZERO for name in COUNT_KINDS}
    if nest.multiply:
        counts["mults"] = outer * inner
    if nest.accumulate == "sum":
        counts["adds"] = outer * (inner - 1)
    elif nest.accumulate == "scatter":
        counts["adds"] = outer * inner
    else:
        counts["comparisons"] = outer * (inner - 1)
    if nest.per_output:
        outputs = _product(nest.outputs)
        for name, per_element in nest.per_output:
            counts[name] = counts[name] + as_expr(per_element) * outputs
    for name, per_point in nest.per_outer:
        counts[name] = counts[name] + as_expr(per_point) * outer
    return counts


def nest_counts(nest: LoopNest) -> dict[str, sympy.Expr]:
    """Every count kind of ``nest``: :func:`whole_counts` made ``Integer`` where it applies,
    else :func:`symbolic_counts`."""
    whole = whole_counts(nest)
    return symbolic_counts(nest) if whole is None else as_integers(whole)


def parameters(shapes: tuple[tuple[str, tuple[object, ...]], ...]) -> sympy.Expr:
    """The parameters of a nest's ``(name, shape)`` pairs: one ``Integer`` summed in Python
    where every size is an integer."""
    whole = 0
    for _, shape in shapes:
        size = _whole(shape)
        if size is None:
            return _sum(_product(shape) for _, shape in shapes)
        whole += size
    return sympy.Integer(whole) if whole else _ZERO


def as_exprs(sizes: tuple[object, ...]) -> tuple[sympy.Expr, ...]:
    """``sizes`` as SymPy expressions: the tuple itself where they all are."""
    for size in sizes:
        if not isinstance(size, sympy.Basic):
            return tuple(as_expr(size) for size in sizes)
    return sizes


def counts_cost(nest: LoopNest, input_shape: tuple[sympy.Expr, ...], kind: str, *,
                params: bool = True) -> tuple[Cost, dict[str, int] | None]:
    """The cost of ``nest`` on ``input_shape``, its counts only (``reads``, ``writes`` 0;
    ``params=False``: its parameters left 0 too, as a gradient's), and its counts as Python
    ints where :func:`whole_counts` applies (``None`` otherwise), for the caller to sum.

    Examples
    --------
    >>> part, whole = counts_cost(LoopNest(outer=(2, 3), inner=(4,), outputs=(2, 3),
    ...                                    parameters=(("weight", (4,)),)), (2, 4), "x",
    ...                           params=False)
    >>> part.mults, part.adds, part.params, part.reads, whole
    (24, 18, 0, 0, {'mults': 24, 'adds': 18})
    """
    return _part(nest, input_shape, kind, params, _sympy_sizes(nest.outputs, {}), {}, {})


def _sympy_sizes(sizes: tuple[object, ...], integers: dict[int, sympy.Integer]
                 ) -> tuple[sympy.Expr, ...]:
    """:func:`as_exprs`, an int made ``Integer`` once per ``integers`` (:func:`_integer`)."""
    for size in sizes:
        if not isinstance(size, sympy.Basic):
            return tuple([_shared(size, integers) if type(size) is int else as_expr(size)
                          for size in sizes])
    return sizes


def _shared(number: int, integers: dict[int, sympy.Integer]) -> sympy.Integer:
    """``sympy.Integer(number)``, the one in ``integers`` where there is one (a layer's parts
    share many of their sizes and counts: a BatchNorm's ``C``, ``H·W·C``)."""
    found = integers.get(number)
    if found is None:
        found = integers[number] = _integer(number)
    return found


def _part(nest: LoopNest, input_shape: tuple[sympy.Expr, ...], kind: str, params: bool,
          outputs: tuple[sympy.Expr, ...], whole: dict[str, int] | None,
          integers: dict[int, sympy.Integer]) -> tuple[Cost, dict[str, int] | None]:
    """:func:`counts_cost`, given ``nest``'s outputs as SymPy sizes, its counts added into
    ``whole`` (Python ints, the kinds performed only), returned; ``None`` where ``whole`` is
    ``None`` or a count is not an integer; its counts made ``Integer`` once per ``integers``.
    What :func:`as_integers` and :func:`~symconv.derive.cost._built` do, inline: this runs
    for every gradient."""
    counts = whole_counts(nest)
    made = object.__new__(Cost)
    fields = made.__dict__
    fields.update(_ZERO_DEFAULTS)
    if counts is None:
        fields.update(symbolic_counts(nest))
    else:
        for name, number in counts.items():
            if number:
                found = integers.get(number)   # _shared, inline
                if found is None:
                    found = integers[number] = _integer(number)
                fields[name] = found
                if whole is not None:
                    whole[name] = whole.get(name, 0) + number
    fields["input_shape"], fields["output_shape"], fields["kind"] = input_shape, outputs, kind
    fields["params"] = parameters(nest.parameters) if params and nest.parameters else _ZERO
    return made, None if counts is None else whole


def parts_cost(nests: Iterable[tuple[str, LoopNest]], input_shape: tuple[sympy.Expr, ...], kind: str, *,
               params: bool = True, integers: dict[int, sympy.Integer] | None = None
               ) -> tuple[list[tuple[str, Cost]], dict[str, int] | None]:
    """:func:`counts_cost` of each ``(name, nest)`` of ``nests`` on ``input_shape``, and their
    counts summed as Python ints where every part's are (``None`` otherwise). Each size or
    count is made ``Integer`` once, kept in ``integers`` (a walk's table, :data:`INTEGERS`;
    one for these parts alone by default).

    Examples
    --------
    >>> nest = LoopNest(outer=(2,), inner=(3,), outputs=(2,))
    >>> parts, whole = parts_cost((("a", nest), ("b", nest)), (3,), "x")
    >>> [name for name, _ in parts], whole
    (['a', 'b'], {'mults': 12, 'adds': 8})
    """
    parts: list[tuple[str, Cost]] = []
    whole: dict[str, int] | None = {}
    # each outputs tuple made SymPy once, by its id (a layer's parts share their shapes), kept
    # with the tuple itself (alive, so that no other tuple takes its id meanwhile)
    shapes: dict[int, tuple[tuple[object, ...], tuple[sympy.Expr, ...]]] = {}
    if integers is None:
        integers = {}
    for name, nest in nests:
        sizes = nest.outputs
        known = shapes.get(id(sizes))
        if known is None:
            known = shapes[id(sizes)] = (sizes, _sympy_sizes(sizes, integers))
        part, whole = _part(nest, input_shape, kind, params, known[1], whole, integers)
        parts.append((name, part))
    return parts, whole
