"""Ratios of costs, simplified by SymPy to their canonical form."""

from __future__ import annotations

import sympy

from symconv.derive.cost import _number
from symconv.errors import SymconvError

__all__ = ["ratio"]


def _monomial_denominators(expr: sympy.Expr) -> bool:
    for term in sympy.Add.make_args(expr):
        _, denominator = term.as_numer_denom()
        if any(factor.is_Add for factor in sympy.Mul.make_args(denominator)):
            return False
        if any(
            base.is_Add for base, _ in (f.as_base_exp() for f in sympy.Mul.make_args(denominator))
        ):
            return False
    return True


def ratio(numerator: object, denominator: object) -> sympy.Expr:
    """Simplify ``numerator / denominator`` to its canonical form.

    The quotient is cancelled; when it splits into terms over monomials (as separable over
    standard does: ``1/N + 1/k**2``) that sum is returned, otherwise the factored quotient.

    Examples
    --------
    >>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
    >>> from symconv.symbols import H, W, M, N, k_h, k_w, s, p, d
    >>> std = cost(Conv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    >>> dsc = cost(DepthwiseSeparableConv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    >>> ratio(dsc.mults, std.mults)
    1/(k_h*k_w) + 1/N
    >>> ratio(43200, 5475)
    576/73
    """
    top = _number(numerator, "numerator")
    bottom = _number(denominator, "denominator")
    if bottom == 0:
        raise SymconvError("ratio: the denominator is zero")
    quotient = sympy.cancel(top / bottom)
    expanded = sympy.expand(quotient)
    if _monomial_denominators(expanded):
        return expanded
    return sympy.factor(quotient)
