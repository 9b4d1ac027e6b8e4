"""What the MobileNets share: exact width/resolution multipliers and conv-BN-activation units."""

from __future__ import annotations

import decimal
import fractions
import math
import numbers

import sympy

from symconv.errors import SymconvError
from symconv.layers import BatchNorm2d, Layer, ReLU, Sequential
from symconv.sizes import Size

__all__ = [
    "multiplier", "input_size", "is_symbolic", "rounding_for", "whole_width", "unit",
    "BASE_RESOLUTION", "TOTAL_STRIDE", "ROUNDINGS",
]

#: The resolution both papers build for; ``rho`` scales it.
BASE_RESOLUTION = 224
#: The product of the strides of both MobileNets: five stride-2 layers.
TOTAL_STRIDE = 32
#: How a builder turns ``alpha·c`` into a channel count: ``"exact"`` rounds as the network itself
#: does (for a symbol too: the formulas then hold floor/ceiling/Max), ``"none"`` keeps ``alpha·c``
#: (for a symbol: the smooth polynomial; for a number it must be whole).
ROUNDINGS = ("exact", "none")


def multiplier(value: object, name: str) -> sympy.Expr:
    """A width or resolution multiplier as an exact positive SymPy number, or a SymPy expression.

    Ints, :class:`fractions.Fraction`, :class:`decimal.Decimal` and SymPy rationals are taken as
    they are. A float is read as the decimal it prints as (``0.75`` → ``3/4``, ``0.1`` →
    ``1/10``), never through its binary value; a multiplier like 6/7 has no exact decimal, so pass
    ``Fraction(6, 7)`` (or ``resolution=192``). SymPy expressions with symbols (``alpha``,
    ``rho``) are kept symbolic.

    Examples
    --------
    >>> multiplier(0.75, "alpha"), multiplier(fractions.Fraction(6, 7), "rho")
    (3/4, 6/7)
    >>> multiplier(0, "alpha")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: alpha=0 must be positive, like 1, 0.75 or Fraction(6, 7)
    """
    exact: sympy.Expr
    if isinstance(value, (bool, str)):
        raise SymconvError(f"{name}={value!r} must be a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        exact = sympy.Integer(int(value))
    elif isinstance(value, fractions.Fraction):
        exact = sympy.Rational(value.numerator, value.denominator)
    elif isinstance(value, decimal.Decimal) and value.is_finite():
        ratio = fractions.Fraction(value)
        exact = sympy.Rational(ratio.numerator, ratio.denominator)
    elif isinstance(value, (float, sympy.Float)):
        number = float(value)
        if not math.isfinite(number):
            raise SymconvError(f"{name}={value!r} must be a finite number")
        ratio = fractions.Fraction(repr(number))
        exact = sympy.Rational(ratio.numerator, ratio.denominator)
    elif isinstance(value, sympy.Expr):
        exact = value
    else:
        raise SymconvError(
            f"{name}={value!r} must be an int, a Fraction, a float or a SymPy expression"
        )
    if exact.is_positive is False or (exact.is_number and not exact.is_extended_real):
        raise SymconvError(f"{name}={value} must be positive, like 1, 0.75 or Fraction(6, 7)")
    return exact


def is_symbolic(value: sympy.Expr) -> bool:
    """Whether a multiplier holds symbols."""
    return bool(value.free_symbols)


def rounding_for(rounding: object, alpha: sympy.Expr) -> str:
    """The rounding a builder applies: ``rounding`` itself, or for ``None`` the default —
    ``"exact"`` for a number, ``"none"`` (the smooth polynomial) for a symbolic ``alpha``.

    Examples
    --------
    >>> from symconv.symbols import alpha
    >>> rounding_for(None, sympy.Rational(3, 4)), rounding_for(None, alpha), rounding_for("exact", alpha)
    ('exact', 'none', 'exact')
    >>> rounding_for("round", alpha)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: rounding='round' is unknown; use 'exact' (the network's own channel rounding) or 'none' (alpha·c unrounded)
    """
    if rounding is None:
        return "none" if is_symbolic(alpha) else "exact"
    if not isinstance(rounding, str) or rounding not in ROUNDINGS:
        raise SymconvError(
            f"rounding={rounding!r} is unknown; use 'exact' (the network's own channel rounding) "
            "or 'none' (alpha·c unrounded)"
        )
    return rounding


def whole_width(alpha: sympy.Expr, channels: int, layer: str) -> Size:
    """``alpha·channels`` unrounded (``rounding="none"``): kept for a symbol, a whole number of at
    least 1 for a number.

    Examples
    --------
    >>> whole_width(sympy.Rational(3, 4), 32, "conv1")
    24
    >>> whole_width(sympy.Rational(3, 10), 32, "conv1")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: alpha=3/10 gives conv1 3/10·32 = 48/5 channels, not a whole number; ...
    """
    scaled = alpha * channels
    if is_symbolic(scaled):
        return scaled
    if not scaled.is_Integer:
        raise SymconvError(
            f"alpha={alpha} gives {layer} {alpha}·{channels} = {scaled} channels, not a whole "
            "number; rounding='none' needs alpha·c whole, or use rounding='exact' (the network's "
            "own rounding)"
        )
    return int(scaled)


def input_size(rho: object, resolution: object) -> tuple[sympy.Expr, Size]:
    """``(rho, 224·rho)`` from either ``rho`` or ``resolution``; the size is a whole number.

    Examples
    --------
    >>> input_size(fractions.Fraction(6, 7), None)
    (6/7, 192)
    >>> input_size(1, 160)
    (5/7, 160)
    >>> input_size(sympy.Rational(1, 3), None)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: rho=1/3 gives an input of 224/3 pixels, not a whole number; use rho=R/224 ...
    """
    exact = multiplier(rho, "rho")
    if resolution is not None:
        if exact != 1:
            raise SymconvError(
                f"rho={rho} and resolution={resolution} are both given; pass one of them"
            )
        if isinstance(resolution, bool) or not isinstance(resolution, (numbers.Integral, sympy.Expr)):
            raise SymconvError(f"resolution={resolution!r} must be a whole number of pixels")
        pixels = multiplier(resolution, "resolution")
        if pixels.is_integer is False:
            raise SymconvError(f"resolution={resolution} must be a whole number of pixels")
        exact = pixels / BASE_RESOLUTION
    size = BASE_RESOLUTION * exact
    if is_symbolic(size):
        return exact, size
    if not size.is_Integer:
        raise SymconvError(
            f"rho={exact} gives an input of {size} pixels, not a whole number; use rho=R/224 for "
            "a whole R (6/7 for 192), or resolution=R"
        )
    return exact, int(size)


def unit(conv: Layer, channels: Size, activation: ReLU) -> Sequential:
    """A convolution followed by BatchNorm and an activation: stages ``conv, bn, relu(6)``."""
    return Sequential(("conv", conv), ("bn", BatchNorm2d(channels)), (activation.kind, activation))
