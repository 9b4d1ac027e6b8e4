"""Where one algorithm beats another on a convolution, transforms included: the sizes of one
free symbol at which its count is smaller."""

from __future__ import annotations

from typing import Any

import sympy

from symconv.derive import cost
from symconv.derive.algorithms import algorithm_cost
from symconv.design.answer import Answer
from symconv.errors import SymconvError
from symconv.layers.base import Layer
from symconv.sizes import as_expr

__all__ = ["crossover", "MEASURES"]

#: What is compared: multiplications, additions, or both together (``ops``).
MEASURES = ("mults", "adds", "ops")


def _count(layer: Layer, shape: tuple[Any, ...], algorithm: str, options: dict[str, Any],
           measure: str) -> sympy.Expr:
    found = cost(layer, shape) if algorithm == "direct" else algorithm_cost(
        layer, shape, algorithm, **options)
    return found.mults + found.adds if measure == "ops" else getattr(found, measure)


def _runs(values: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for value in values:
        if runs and runs[-1][1] == value - 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def crossover(layer: Layer, input_shape: tuple[Any, ...], first: str, second: str = "direct",
              *, measure: str = "mults", first_options: dict[str, Any] | None = None,
              second_options: dict[str, Any] | None = None, limit: int = 256) -> Answer:
    """The values of the one symbol in ``layer`` and ``input_shape`` at which ``first`` counts
    fewer ``measure`` than ``second``, every stage (transforms included) counted.

    Where the difference is a rational function of the symbol, SymPy solves the inequality for
    every positive integer; where it holds ``ceiling`` (Winograd's tiles) or a power of two
    (FFT sizes), every whole value from 1 to ``limit`` is evaluated exactly. The answer is the
    smallest value from which ``first`` wins up to the end of that range.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.symbols import H, M
    >>> answer = crossover(Conv2d(M, M, 3, padding=1), (14, 14, M), "winograd",
    ...                    first_options={"tile": 2})
    >>> answer.relation, answer.value
    ('>=', 1)
    >>> crossover(Conv2d(16, 16, 3, padding=1), (H, H, 16), "winograd", measure="ops",
    ...           first_options={"tile": 4}).value
    6
    """
    if measure not in MEASURES:
        raise SymconvError(f"measure={measure!r} is unknown; use one of {', '.join(MEASURES)}")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 4096:
        raise SymconvError(f"limit={limit!r} must be an int from 1 to 4096")
    free = set().union(*(as_expr(size).free_symbols for size in input_shape))
    free |= {symbol for value in vars(layer).values()
             for item in (value if isinstance(value, tuple) else (value,))
             if isinstance(item, sympy.Basic) for symbol in item.free_symbols}
    if len(free) != 1:
        names = ", ".join(sorted(map(str, free))) or "none"
        raise SymconvError(f"crossover needs exactly one symbol in the layer and input_shape "
                           f"(the size that varies), found {names}; give numbers for the rest")
    (x,) = free
    ours = _count(layer, input_shape, first, first_options or {}, measure)
    theirs = _count(layer, input_shape, second, second_options or {}, measure)
    inequality = sympy.StrictLessThan(ours, theirs)
    difference = sympy.simplify(ours - theirs)
    notes = [f"{measure} of every stage, transforms included"]
    extra: dict[str, Any] = {}
    if difference.is_rational_function(x):
        region = sympy.solve_univariate_inequality(difference < 0, x, relational=False)
        whole = region.intersect(sympy.Interval(1, sympy.oo))
        if whole.is_empty or whole.sup != sympy.oo:
            raise SymconvError(f"{first} never beats {second} for every large {x}: "
                               f"{first} < {second} holds for {x} in {whole}")
        start = whole.args[-1].inf if isinstance(whole, sympy.Union) else whole.inf
        value = sympy.ceiling(start)
        if value not in whole:
            value += 1
        notes.append(f"solved by SymPy for every {x} > 0: {first} wins for {x} in {whole}")
    else:
        winning = []
        for candidate in range(1, limit + 1):
            try:
                ours_here, theirs_here = (side.xreplace({x: sympy.Integer(candidate)})
                                          for side in (ours, theirs))
            except SymconvError:
                continue
            if ours_here.is_Integer and theirs_here.is_Integer and ours_here < theirs_here:
                winning.append(candidate)
        runs = _runs(winning)
        if not runs or runs[-1][1] != limit:
            raise SymconvError(f"{first} does not beat {second} up to {x} = {limit}; "
                               f"it wins at {runs or 'no value'}")
        value = sympy.Integer(runs[-1][0])
        extra["intervals"] = runs
        notes.append(f"every {x} from 1 to {limit} evaluated exactly; {first} wins on "
                     + ", ".join(f"{lo}..{hi}" for lo, hi in runs))
    at = {side: expr.xreplace({x: value}) for side, expr in (("first", ours), ("second", theirs))}
    checks = [(f"{x} = {value}", f"{first} {at['first']} < {second} {at['second']}")]
    if value > 1:
        before = {side: expr.xreplace({x: value - 1})
                  for side, expr in (("first", ours), ("second", theirs))}
        checks.append((f"{x} = {value - 1}",
                       f"{first} {before['first']} ≥ {second} {before['second']}"))
    return Answer(
        question=f"sizes {x} at which {first} needs fewer {measure} than {second}",
        inequality=inequality, variable=x, relation=">=", value=value, checks=tuple(checks),
        notes=tuple(notes), extra=extra,
    )
