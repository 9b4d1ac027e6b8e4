"""Writing formulas the way a student does: factors in a fixed order, and values substituted.

Two walks over a SymPy expression share one set of rules and differ only in their
:class:`Style`: :func:`formula` writes the symbols (``H_o·W_o·k²·M·N``) and :func:`substituted`
writes each symbol's value in its place without evaluating anything
(``5 × 5 × 3 × 3 × 3 × 64``), so a reader can check the arithmetic. Factors follow
:data:`symconv.symbols.SYMBOL_ORDER`: output positions, kernel, input channels, output channels.

Examples
--------
>>> from symconv.symbols import H_o, W_o, M, N, k
>>> formula(H_o * W_o * N * k**2 * M)
'H_o·W_o·k²·M·N'
>>> substituted(H_o * W_o * N * (k**2 * M - 1), {H_o: 5, W_o: 5, N: 64, k: 3, M: 3})
'5 × 5 × 64 × (3 × 3 × 3 − 1)'
>>> formula(1 / N + 1 / k**2)
'1/k² + 1/N'
>>> print(formula(H_o * M * N, style=LATEX))
H_{o} \\cdot M \\cdot N
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from symconv.symbols import LATEX_NAMES, SYMBOL_ORDER, UNICODE_NAMES

__all__ = ["Style", "TEXT", "LATEX", "formula", "substituted", "latex_name"]

_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


@dataclass(frozen=True)
class Style:
    """How one output format writes products, powers, fractions and floors."""

    times_symbolic: str
    times_numeric: str
    minus: str
    latex: bool

    def power(self, base: str, exponent: int) -> str:
        if self.latex:
            return f"{base}^{{{exponent}}}"
        return base + str(exponent).translate(_SUPERSCRIPTS)

    def fraction(self, numerator: str, denominator: str, *, simple: bool) -> str:
        if self.latex:
            return rf"\frac{{{numerator}}}{{{denominator}}}"
        return f"{numerator}/{denominator}" if simple else f"{numerator}/({denominator})"

    def floor(self, inner: str) -> str:
        return rf"\left\lfloor {inner} \right\rfloor" if self.latex else f"⌊{inner}⌋"

    def group(self, inner: str) -> str:
        return rf"\left({inner}\right)" if self.latex else f"({inner})"

    def name(self, symbol: sympy.Symbol) -> str:
        names = LATEX_NAMES if self.latex else UNICODE_NAMES
        return names.get(symbol, symbol.name)


TEXT = Style(times_symbolic="·", times_numeric=" × ", minus="−", latex=False)
LATEX = Style(times_symbolic=r" \cdot ", times_numeric=r" \times ", minus="-", latex=True)

_RANK = {symbol: index for index, symbol in enumerate(SYMBOL_ORDER)}


def _order_key(factor: sympy.Expr) -> tuple[int, str]:
    base, _ = factor.as_base_exp()
    if factor.is_number:
        return (-1, "")
    if base in _RANK:
        return (_RANK[base], "")
    return (len(_RANK), sympy.srepr(factor))


class _Writer:
    def __init__(self, style: Style, values: Mapping[sympy.Basic, object] | None) -> None:
        self.style = style
        self.values = values

    @property
    def times(self) -> str:
        return self.style.times_symbolic if self.values is None else self.style.times_numeric

    def write(self, expr: sympy.Expr) -> str:
        if expr.is_Symbol:
            if self.values is not None and expr in self.values:
                return str(self.values[expr])
            return self.style.name(expr)
        if expr.is_Rational and not expr.is_Integer:
            return self.style.fraction(str(expr.p), str(expr.q), simple=True)
        if expr.is_Number:
            return str(expr)
        if isinstance(expr, sympy.floor):
            return self.style.floor(self.write(expr.args[0]))
        if expr.is_Add:
            return self._add(expr)
        if expr.is_Mul or expr.is_Pow:
            return self._product(expr)
        return sympy.latex(expr) if self.style.latex else str(expr)

    def _add(self, expr: sympy.Expr) -> str:
        text = ""
        for index, term in enumerate(expr.as_ordered_terms()):
            negative = term.could_extract_minus_sign()
            body = self.write(-term if negative else term)
            if index == 0:
                text = (self.style.minus + body) if negative else body
            else:
                text += f" {self.style.minus} {body}" if negative else f" + {body}"
        return text

    def _factor(self, factor: sympy.Expr) -> list[str]:
        base, exponent = factor.as_base_exp()
        inner = self.write(base)
        if base.is_Add or (base.is_Mul and not base.is_number):
            inner = self.style.group(inner)
        if exponent == 1:
            return [inner]
        if exponent.is_Integer and self.values is not None and (base.is_Symbol or base.is_number):
            return [inner] * int(exponent)
        if exponent.is_Integer:
            return [self.style.power(inner, int(exponent))]
        return [self.style.power(inner, exponent)] if self.style.latex else [f"{inner}^{exponent}"]

    def _product(self, expr: sympy.Expr) -> str:
        numerator: list[sympy.Expr] = []
        denominator: list[sympy.Expr] = []
        negative = expr.could_extract_minus_sign()
        if negative:
            expr = -expr
        for factor in sorted(sympy.Mul.make_args(expr), key=_order_key):
            if factor.is_Rational and not factor.is_Integer:
                if factor.p != 1:
                    numerator.append(sympy.Integer(factor.p))
                denominator.append(sympy.Integer(factor.q))
                continue
            base, exponent = factor.as_base_exp()
            if exponent.is_number and exponent.is_negative:
                denominator.append(base ** (-exponent))
            else:
                numerator.append(factor)
        if self.style.latex and denominator and len(numerator) == 1 and numerator[0].is_Add:
            top = self.write(numerator[0])  # \frac{}{} groups its numerator already
        else:
            top = self.times.join(part for factor in numerator for part in self._factor(factor))
        sign = self.style.minus if negative else ""
        if not denominator:
            return sign + top
        bottom_parts = [part for factor in denominator for part in self._factor(factor)]
        bottom = self.times.join(bottom_parts)
        return sign + self.style.fraction(top or "1", bottom, simple=len(bottom_parts) == 1)


def formula(expr: object, *, style: Style = TEXT) -> str:
    """Write an expression with its symbols, factors in the student's order.

    Examples
    --------
    >>> from symconv.symbols import H, W, M, N, k, g
    >>> formula(H * W * M * N * k**2 / g)
    'H·W·k²·M·N/g'
    """
    return _Writer(style, None).write(_as_expr(expr))


def substituted(expr: object, values: Mapping[sympy.Basic, object], *,
                style: Style = TEXT) -> str:
    """Write an expression with each symbol's value in its place, unevaluated.

    Examples
    --------
    >>> from symconv.symbols import M, N, k
    >>> substituted(k**2 * M * N + N, {k: 3, M: 3, N: 64})
    '3 × 3 × 3 × 64 + 64'
    """
    return _Writer(style, values).write(_as_expr(expr))


def _as_expr(expr: object) -> sympy.Expr:
    if isinstance(expr, int):
        return sympy.Integer(expr)
    if not isinstance(expr, sympy.Expr):
        raise TypeError(f"expected a SymPy expression, got {type(expr).__name__}")
    return expr


def latex_name(name: str) -> str:
    """A symbol's name (``H_o``, ``D_K``) in LaTeX, its subscript braced.

    Examples
    --------
    >>> latex_name("H_o"), latex_name("M")
    ('H_{o}', 'M')
    """
    base, _, subscript = name.partition("_")
    return f"{base}_{{{subscript}}}" if subscript else base
