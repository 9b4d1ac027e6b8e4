"""The result of a derivation: :class:`Cost`, its substitution, and the counts it carries.

What is counted is said in :mod:`symconv.derive`. Pure SymPy.
"""

from __future__ import annotations

import fractions
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import sympy

from symconv.errors import SymconvError
from symconv.sizes import Size
from symconv.symbols import LATEX_NAMES

__all__ = ["Cost", "COUNT_KINDS", "substitution", "register_markdown"]


#: The operation counts a :class:`Cost` carries, in report order.
COUNT_KINDS = ("mults", "adds", "divs", "comparisons")

_ZERO = sympy.Integer(0)


def _expr(value: Size) -> sympy.Expr:
    return sympy.Integer(value) if isinstance(value, int) else value


def _product(values: tuple[Size, ...]) -> sympy.Expr:
    if all(isinstance(value, (int, sympy.Integer)) for value in values):
        return sympy.Integer(math.prod(int(value) for value in values))  # one Integer, not a Mul
    return sympy.Mul(*(_expr(value) for value in values))


@dataclass(frozen=True)
class Cost:
    """What one layer, composite or network costs, as SymPy expressions.

    Attributes
    ----------
    mults, adds
        Scalar multiplications and additions of a direct evaluation (see the module docstring).
    params
        Learned parameters: weights, biases where present, BatchNorm's γ and β.
    divs, comparisons
        Divisions and comparisons, kept apart from mults and adds.
    input_shape, output_shape
        Channels-last shapes as tuples of SymPy expressions.
    stages
        ``(name, Cost)`` of each stage of a composite, in order; empty for a single layer.
    kind
        The kind of layer (``"standard"``, ``"depthwise"``, ``"separable"``, ...).

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> from symconv.symbols import H, W, k
    >>> c = cost(Conv2d(3, 64, k, bias=True), (H, W, 3))
    >>> c.params
    192*k**2 + 64
    >>> c.subs(H=7, W=7, k=3).adds
    43200
    """

    mults: sympy.Expr
    adds: sympy.Expr
    params: sympy.Expr
    input_shape: tuple[sympy.Expr, ...]
    output_shape: tuple[sympy.Expr, ...]
    divs: sympy.Expr = _ZERO
    comparisons: sympy.Expr = _ZERO
    stages: tuple[tuple[str, Cost], ...] = field(default=())
    kind: str = ""

    def map(self, transform: Callable[[sympy.Expr], sympy.Expr]) -> Cost:
        """Apply ``transform`` to every expression, stages included."""
        return replace(
            self,
            mults=transform(self.mults),
            adds=transform(self.adds),
            params=transform(self.params),
            divs=transform(self.divs),
            comparisons=transform(self.comparisons),
            input_shape=tuple(transform(size) for size in self.input_shape),
            output_shape=tuple(transform(size) for size in self.output_shape),
            stages=tuple((name, stage.map(transform)) for name, stage in self.stages),
        )

    def subs(
        self, values: Mapping[sympy.Basic, object] | None = None, /, **by_name: object
    ) -> Cost:
        """Substitute values for symbols, given as a mapping and/or by symbol name.

        Values must be numbers (ints, fractions) or SymPy expressions; strings are refused, as
        symconv never evaluates text.

        Examples
        --------
        >>> from symconv import Conv2d, cost
        >>> from symconv.symbols import H, W, M, N, k
        >>> c = cost(Conv2d(M, N, k), (H, W, M))
        >>> c.subs({H: 7, W: 7, M: 3}, N=64, k=3).mults
        43200
        """
        mapping = substitution(self._free_symbols(), values, by_name)
        return self.map(lambda expr: expr.subs(mapping))

    def xreplace(self, mapping: Mapping[sympy.Basic, sympy.Basic]) -> Cost:
        """Replace exact subexpressions (for instance output-size expressions by ``H_o``)."""
        return self.map(lambda expr: expr.xreplace(dict(mapping)))

    def _free_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        self.map(lambda expr: found.update(expr.free_symbols) or expr)  # type: ignore[func-returns-value]
        return found

    def _latex(self, printer: Any) -> str:
        rows = [
            rf"\text{{{name}}} &= {printer._print(getattr(self, name))}"
            for name in ("mults", "adds", "params")
        ]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + sympy.latex(self, symbol_names=LATEX_NAMES) + "$"


    def _repr_markdown_(self) -> str | None:
        """A table of the layers for notebooks, when there are stages and a display is
        registered (:func:`register_markdown`); else the LaTeX shows."""
        if not self.stages or not _MARKDOWN_DISPLAY:
            return None
        return _MARKDOWN_DISPLAY[-1](self)


#: How a cost with stages shows as Markdown in a notebook. The derivation knows no output format:
#: :mod:`symconv.render.notebook` registers the table when it is imported (``import symconv``
#: does).
_MARKDOWN_DISPLAY: list[Callable[[Cost], str]] = []


def register_markdown(display: Callable[[Cost], str]) -> None:
    """Make ``display(cost)`` the Markdown a composite's or network's cost shows in notebooks."""
    _MARKDOWN_DISPLAY.append(display)



def substitution(
    free: set[sympy.Symbol],
    values: Mapping[sympy.Basic, object] | None,
    by_name: Mapping[str, object],
) -> dict[sympy.Basic, sympy.Expr]:
    """Build a checked substitution from a mapping and names of free symbols."""
    mapping: dict[sympy.Basic, sympy.Expr] = {}
    named = {symbol.name: symbol for symbol in free}
    for key, value in (values or {}).items():
        if not isinstance(key, sympy.Basic):
            raise SymconvError(
                f"subs key {key!r} must be a SymPy symbol; pass names as keywords instead"
            )
        mapping[key] = _number(value, str(key))
    for name, value in by_name.items():
        if name not in named:
            known = ", ".join(sorted(named)) or "none"
            raise SymconvError(f"subs({name}=...): no symbol {name!r} here; symbols: {known}")
        mapping[named[name]] = _number(value, name)
    return mapping


def _number(value: object, name: str) -> sympy.Expr:
    if isinstance(value, bool) or isinstance(value, str):
        raise SymconvError(f"{name}={value!r} must be a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, fractions.Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Expr):
        if value.is_Float:
            raise SymconvError(f"{name}={value} must be exact; use sympy.Rational")
        return value
    raise SymconvError(
        f"{name}={value!r} must be an int, a Fraction or a SymPy expression "
        f"(floats are not exact: use sympy.Rational)"
    )
