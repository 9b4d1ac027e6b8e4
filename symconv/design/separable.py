"""The smallest output channel count at which a depthwise separable convolution saves a given
factor over a standard one, from the ratio SymPy derives of the two costs."""

from __future__ import annotations

import fractions
import numbers

import sympy

from symconv.derive import cost, ratio
from symconv.design.answer import Answer
from symconv.errors import SymconvError
from symconv.layers.conv import Conv2d, DepthwiseSeparableConv2d
from symconv.symbols import H, M, N, W

__all__ = ["smallest_separable_channels"]

MEASURES = ("mults", "params")


def _rational(value: object, name: str) -> sympy.Rational:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, fractions.Fraction,
                                                         sympy.Rational)):
        raise SymconvError(f"{name}={value!r} must be an int or a Fraction (exact), like 8")
    exact = sympy.Rational(value.numerator, value.denominator) if isinstance(
        value, fractions.Fraction) else sympy.Rational(value)
    if exact <= 0:
        raise SymconvError(f"{name}={value} must be positive, like 8")
    return exact


def smallest_separable_channels(kernel_size: object, saving: object, *,
                                measure: str = "mults") -> Answer:
    """The smallest ``N`` for which a ``k×k`` depthwise separable convolution needs at most
    ``1/saving`` of a standard convolution's multiplications (or parameters).

    The ratio is derived (``1/N + 1/k²`` for both measures, at every input size and channel
    count ``M``), and the inequality ``ratio ≤ 1/saving`` solved by SymPy for ``N``.

    Raises
    ------
    SymconvError
        When no ``N`` reaches the saving (it must be below ``k²``), or for bad arguments.

    Examples
    --------
    >>> answer = smallest_separable_channels(3, 8)
    >>> answer.inequality, answer.value
    (1/9 + 1/N <= 1/8, 72)
    >>> smallest_separable_channels(3, 9)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: saving=9 cannot be reached with kernel_size=3: ... a saving below k² = 9 can
    """
    if isinstance(kernel_size, bool) or not isinstance(kernel_size, int) or kernel_size < 1:
        raise SymconvError(f"kernel_size={kernel_size!r} must be a positive int, like 3")
    if measure not in MEASURES:
        raise SymconvError(f"measure={measure!r} is unknown; use one of {', '.join(MEASURES)}")
    target = _rational(saving, "saving")
    standard = cost(Conv2d(M, N, kernel_size), (H, W, M))
    separable = cost(DepthwiseSeparableConv2d(M, N, kernel_size), (H, W, M))
    derived = ratio(getattr(separable, measure), getattr(standard, measure))
    if derived.free_symbols - {N}:
        raise SymconvError(f"the {measure} ratio {derived} depends on more than N")
    inequality = derived <= 1 / target
    solutions = sympy.solve_univariate_inequality(inequality, N, relational=False)
    whole = solutions.intersect(sympy.Interval(1, sympy.oo))
    if whole.is_empty:
        raise SymconvError(
            f"saving={target} cannot be reached with kernel_size={kernel_size}: "
            f"separable/standard = {derived} stays above {derived.subs(N, sympy.oo)} for every N; "
            f"a saving below k² = {kernel_size**2} can"
        )
    smallest = sympy.ceiling(whole.inf)
    if smallest not in whole:
        smallest += 1
    at, below = derived.subs(N, smallest), derived.subs(N, smallest - 1)
    checks = [(f"N = {smallest}", f"{derived} = {at} ≤ {1 / target}")]
    if smallest > 1:
        checks.append((f"N = {smallest - 1}", f"{derived} = {below} > {1 / target}"))
    return Answer(
        question=f"smallest N for a {kernel_size}×{kernel_size} depthwise separable convolution "
                 f"with {target}× fewer {measure} than a standard one",
        inequality=inequality, variable=N, relation=">=", value=smallest,
        checks=tuple(checks),
        notes=(f"separable/standard {measure} = {derived}, derived from both costs "
               "(the same at every H, W and M)",),
    )
