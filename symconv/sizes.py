"""Checking and normalising the sizes users pass: ints, per-axis tuples or SymPy expressions.

A size is kept as a Python ``int`` when it is concrete and as a SymPy expression otherwise.
A condition that SymPy cannot decide for symbols is accepted; one that is definitely false
raises :class:`~symconv.errors.SymconvError` naming the argument, the value and the fix.

Examples
--------
>>> from symconv.sizes import as_size, per_axis
>>> from symconv.symbols import k
>>> per_axis(3, "kernel_size", 2, minimum=1)
(3, 3)
>>> per_axis((k, 5), "kernel_size", 2, minimum=1)
(k, 5)
>>> as_size(0, "stride", minimum=1)
Traceback (most recent call last):
...
symconv.errors.SymconvError: stride=0 must be at least 1
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import TypeAlias

import sympy

from symconv.errors import SymconvError

__all__ = [
    "as_expr",
    "Size", "SizeArg", "as_size", "per_axis", "is_concrete", "divisors_text", "check_divides",
    "product", "MAX_DIGITS", "digits", "check_digits",
]

#: The most digits a size may have. Python refuses to print an integer of more than 4300 digits
#: (``sys.get_int_max_str_digits()``, a guard against slow conversions), and a count multiplies
#: up to nine sizes (a grouped 3-D convolution: three output sizes, output channels, three kernel
#: sizes, input channels per group): nine sizes of 400 digits make at most 3600, so every count
#: of a layer prints. No real tensor comes near: 400 digits is 10**400 elements along one axis.
MAX_DIGITS = 400
_LIMIT = 10**MAX_DIGITS
#: SymPy's integer classes (small integers are singletons of their own classes).
_SYMPY_INTEGERS = frozenset({type(sympy.Integer(n)) for n in (-1, 0, 1, 2)})

#: One size: a Python int when concrete, a SymPy expression when symbolic.
Size: TypeAlias = int | sympy.Expr
#: What users may pass for a size argument: one size or one per spatial axis.
SizeArg: TypeAlias = int | sympy.Expr | tuple[int | sympy.Expr, ...] | list[int | sympy.Expr]


def as_expr(value: object) -> sympy.Expr:
    """A size or count as a SymPy expression: an int becomes an ``Integer``, an exact fraction a
    ``Rational``, a SymPy expression stays itself. Text is never parsed (unlike ``sympify``):
    anything else raises :class:`SymconvError`.

    Examples
    --------
    >>> as_expr(7), as_expr(sympy.Symbol("H") + 1)
    (7, H + 1)
    >>> as_expr("7")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: '7' must be an int or a SymPy expression, not str
    """
    if isinstance(value, sympy.Basic):
        return value
    if type(value) is int:   # the common case, without the slower abstract-class check below
        return sympy.Integer(value)
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, numbers.Rational):
        return sympy.Rational(int(value.numerator), int(value.denominator))
    raise SymconvError(f"{value!r} must be an int or a SymPy expression, not {type(value).__name__}")


def surely_different(a: Size, b: Size) -> bool:
    """Whether two sizes are surely unequal: integers compared as integers (without SymPy's
    relational machinery, slow when a network checks thousands of them), else when
    ``sympy.Eq`` is false.

    Examples
    --------
    >>> from symconv.symbols import H
    >>> surely_different(3, sympy.Integer(4)), surely_different(H, 4), surely_different(H + 1, H)
    (True, False, True)
    """
    if isinstance(a, (int, sympy.Integer)) and isinstance(b, (int, sympy.Integer)):
        return int(a) != int(b)
    return sympy.Eq(as_expr(a), as_expr(b)) is sympy.false


def surely_equal(a: Size, b: Size) -> bool:
    """Whether two sizes are surely equal: integers compared as integers, else when
    ``sympy.Eq`` is true (the counterpart of :func:`surely_different`).

    Examples
    --------
    >>> from symconv.symbols import H
    >>> surely_equal(4, sympy.Integer(4)), surely_equal(H, 4), surely_equal(2 * H, H + H)
    (True, False, True)
    """
    if isinstance(a, (int, sympy.Integer)) and isinstance(b, (int, sympy.Integer)):
        return int(a) == int(b)
    return sympy.Eq(as_expr(a), as_expr(b)) is sympy.true


def is_concrete(value: Size) -> bool:
    """Whether a size is a plain integer (not a symbolic expression)."""
    return isinstance(value, int)


def digits(number: int) -> int:
    """The number of decimal digits of an integer, without converting it to text (Python refuses
    to print integers of more than 4300 digits).

    Examples
    --------
    >>> digits(0), digits(-999), digits(10**5000)
    (1, 3, 5001)
    """
    number = abs(number)
    count = max(1, (number.bit_length() * 30103) // 100000)  # log10(2) ≈ 0.30103, from below
    while 10**count <= number:
        count += 1
    return count


def check_digits(number: int, name: str, *, limit: int = MAX_DIGITS) -> None:
    """Raise when an integer has more than ``limit`` digits (:data:`MAX_DIGITS` for a size).

    Examples
    --------
    >>> check_digits(10**500, "H")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: H is an integer of 501 digits; sizes must have at most 400 digits
    (a count multiplies up to nine sizes, and Python prints integers of at most 4300 digits)
    """
    if abs(number) < (_LIMIT if limit == MAX_DIGITS else 10**limit):
        return
    what = "sizes" if limit == MAX_DIGITS else "numbers here"
    raise SymconvError(
        f"{name} is an integer of {digits(number)} digits; {what} must have at most {limit} "
        "digits (a count multiplies up to nine sizes, and Python prints integers of at most "
        "4300 digits)"
    )


def _check_expr_digits(value: sympy.Expr, name: str, limit: int = MAX_DIGITS) -> None:
    for number in value.atoms(sympy.Rational):
        check_digits(int(number.p), name, limit=limit)
        check_digits(int(number.q), name, limit=limit)


def as_size(value: object, name: str, *, minimum: int = 1) -> Size:
    """Check one size and return it as an ``int`` or a SymPy expression.

    Parameters
    ----------
    value
        An ``int`` (NumPy integers too), a SymPy integer or a SymPy expression.
    name
        The argument's name, for the error message.
    minimum
        The smallest value allowed: 1 for sizes, 0 for padding.

    Returns
    -------
    int or sympy.Expr
        Concrete sizes come back as Python ints.

    Raises
    ------
    SymconvError
        For booleans, floats, strings, non-integers and values definitely below ``minimum``.

    Examples
    --------
    >>> from symconv.symbols import H
    >>> as_size(sympy.Integer(7), "H")
    7
    >>> as_size(2 * H, "H")
    2*H
    >>> as_size(2.5, "kernel_size")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: kernel_size=2.5 must be a whole number; sizes are exact integers, never floats
    """
    if type(value) is int or type(value) in _SYMPY_INTEGERS:  # the common case, fast
        number = int(value)  # type: ignore[call-overload]
        if minimum <= number < _LIMIT:
            return number
    least = "at least 1" if minimum == 1 else f"at least {minimum}"
    if isinstance(value, bool):
        raise SymconvError(f"{name}={value!r} must be an integer, not a boolean")
    if isinstance(value, numbers.Integral):
        number = int(value)
        check_digits(number, name)
        if number < minimum:
            raise SymconvError(f"{name}={number} must be {least}")
        return number
    if isinstance(value, float) or (
        isinstance(value, numbers.Real) and not isinstance(value, (sympy.Basic, numbers.Rational))
    ):
        raise SymconvError(
            f"{name}={value!r} must be a whole number; sizes are exact integers, never floats"
        )
    if isinstance(value, numbers.Rational) and not isinstance(value, sympy.Basic):
        raise SymconvError(f"{name}={value!r} must be a whole number, given as an int")
    if isinstance(value, sympy.Expr):
        if value.is_Integer:
            return as_size(int(value), name, minimum=minimum)
        _check_expr_digits(value, name)
        if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo):
            raise SymconvError(f"{name}={value} must be a finite whole number")
        if value.has(sympy.Float):
            raise SymconvError(
                f"{name}={value} holds a float; sizes are exact integers, never floats: use "
                "integers or sympy.Rational"
            )
        if value.is_number or value.is_integer is False:
            raise SymconvError(f"{name}={value} must be a whole number")
        if value.free_symbols and (value < minimum) is sympy.true:
            raise SymconvError(f"{name}={value} must be {least}")
        return value
    if isinstance(value, type):
        raise SymconvError(
            f"{name}={value.__name__} must be an int or a SymPy expression, not the class "
            f"{value.__name__}"
        )
    raise SymconvError(
        f"{name}={value!r} must be an int or a SymPy expression, not {type(value).__name__}"
    )


def per_axis(value: object, name: str, dims: int, *, minimum: int = 1) -> tuple[Size, ...]:
    """Expand one size, or check a tuple of them, to one size per spatial axis.

    Examples
    --------
    >>> per_axis([1, 2], "stride", 2)
    (1, 2)
    >>> per_axis((1, 2, 3), "stride", 2)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: stride=(1, 2, 3) must be one size or a tuple of 2, one per spatial axis
    """
    if isinstance(value, (tuple, list)):
        if len(value) != dims:
            raise SymconvError(
                f"{name}={tuple(value)!r} must be one size or a tuple of {dims}, "
                "one per spatial axis"
            )
        return tuple(as_size(item, name, minimum=minimum) for item in value)
    single = as_size(value, name, minimum=minimum)
    return (single,) * dims


def divisors_text(number: int) -> str:
    """The divisors of a positive integer as ``"1, 2, 3, 6"``."""
    return ", ".join(str(item) for item in sorted(sympy.divisors(number)))


def check_divides(groups: Size, channels: Size, channels_name: str) -> None:
    """Raise when ``groups`` definitely does not divide ``channels``.

    Examples
    --------
    >>> check_divides(4, 6, "in_channels")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: groups=4 must divide in_channels=6; divisors of 6: 1, 2, 3, 6
    """
    if is_concrete(groups) and is_concrete(channels):
        assert isinstance(groups, int) and isinstance(channels, int)
        if channels % groups:
            raise SymconvError(
                f"groups={groups} must divide {channels_name}={channels}; "
                f"divisors of {channels}: {divisors_text(channels)}"
            )
        return
    if sympy.Mul(channels, sympy.Pow(groups, -1)).is_integer is False:
        raise SymconvError(f"groups={groups} must divide {channels_name}={channels}")


def product(values: Iterable[Size]) -> Size:
    """The exact product of sizes: an ``int`` when all are ints, else a SymPy expression."""
    result: Size = 1
    for value in values:
        result = result * value
    return result
