"""How a count is written for a reader: exact (the default), with thousands separators, or in SI
units as the peers print them (``568.74 M``).

Only the *display* is rounded: the exact value stays with the data (JSON, ``.total``). A symbolic
count is written as its formula whatever the units.

Examples
--------
>>> format_count(568740352)
'568740352'
>>> format_count(568740352, "comma")
'568,740,352'
>>> format_count(568740352, "si")
'568.74 M'
>>> format_count(3504872, "si"), format_count(999, "si"), format_count(1500, "si")
('3.5 M', '999', '1.5 k')
>>> import sympy
>>> format_count(sympy.Symbol("H") * 4, "si")
'4*H'
"""

from __future__ import annotations

from fractions import Fraction

import sympy

from symconv.errors import SymconvError

__all__ = ["UNITS", "format_count", "check_units", "format_share"]

#: The ways a count can be written: ``exact`` digits, ``comma`` thousands separators, ``si``
#: prefixes (k, M, G, T, P) with two decimals at most, as ptflops and torchinfo print.
UNITS = ("exact", "comma", "si")

_PREFIXES = ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k"))


def check_units(units: object) -> str:
    """``units`` when it is one of :data:`UNITS`, else a :class:`SymconvError` listing them."""
    if not isinstance(units, str) or units not in UNITS:
        raise SymconvError(f"units={units!r} is unknown; use one of {', '.join(UNITS)}")
    return units


def _decimal(value: Fraction, places: int = 2) -> str:
    """``value`` rounded half up to at most ``places`` decimals, trailing zeros dropped."""
    scaled = value * 10**places
    rounded = int(scaled + Fraction(1, 2)) if scaled >= 0 else -int(-scaled + Fraction(1, 2))
    whole, part = divmod(abs(rounded), 10**places)
    sign = "-" if rounded < 0 else ""
    text = f"{sign}{whole}.{part:0{places}d}".rstrip("0").rstrip(".")
    return text


def format_count(value: object, units: str = "exact") -> str:
    """Write an exact count (an int or SymPy number) in ``units``; formulas stay formulas.

    Rounding is exact (rational arithmetic, half up), never through a float.
    """
    check_units(units)
    if isinstance(value, sympy.Basic) and not value.is_Number:
        return str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        number: sympy.Basic = sympy.Integer(value)
    elif isinstance(value, sympy.Basic) and value.is_Rational:
        number = value
    else:
        raise SymconvError(f"value={value!r} must be an exact number or a SymPy formula")
    exact = Fraction(int(number.p), int(number.q))
    if units == "exact" or (exact.denominator != 1 and units == "comma"):
        return str(number)
    if units == "comma":
        return f"{int(exact):,}"
    for scale, prefix in _PREFIXES:
        if abs(exact) >= scale:
            return f"{_decimal(exact / scale)} {prefix}"
    return _decimal(exact)


def format_share(share: object) -> str:
    """A share of a total as a percentage with one decimal, rounded exactly (half up);
    ``""`` for ``None`` (a symbolic share).

    Examples
    --------
    >>> import sympy
    >>> format_share(sympy.Rational(3, 13)), format_share(sympy.Integer(1)), format_share(None)
    ('23.1 %', '100.0 %', '')
    """
    if share is None:
        return ""
    if not (isinstance(share, sympy.Basic) and share.is_Rational):
        raise SymconvError(f"share={share!r} must be an exact fraction")
    tenths = int(Fraction(int(share.p), int(share.q)) * 1000 + Fraction(1, 2))
    return f"{tenths // 10}.{tenths % 10} %"
