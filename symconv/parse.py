"""A strict grammar for the sizes users type on the command line.

Shapes are ``HxWxC`` with ``x`` or ``×`` between positive decimal integers; per-axis
hyperparameters are one integer or ``AxB``; multipliers are ``0.75`` or ``3/4``; memory sizes
are an integer with an optional binary suffix ``K``, ``M``, ``G`` or ``T``. Nothing is ever
evaluated: text that is not digits and separators is refused with a
:class:`~symconv.errors.SymconvError` naming the option. Empty text is an error, never a default,
and every number has at most :data:`MAX_DIGITS` digits, so that nothing reaches Python's limit on
converting long digit strings.

Examples
--------
>>> parse_shape("7x7x3", "--input")
(7, 7, 3)
>>> parse_shape("224×224×3", "--input")
(224, 224, 3)
>>> parse_axes("3", "--kernel", 2)
(3, 3)
>>> parse_axes("1x0", "--padding", 2, minimum=0)
(1, 0)
>>> parse_shape("7x7x0", "--input")
Traceback (most recent call last):
...
symconv.errors.SymconvError: --input 7x7x0: every size must be at least 1, and 0 is not
>>> parse_multiplier("0.75", "--alpha"), parse_bytes("512M", "--max-memory")
(Fraction(3, 4), 536870912)
"""

from __future__ import annotations

import re
from fractions import Fraction

from symconv.errors import SymconvError, escape_controls

__all__ = [
    "parse_shape", "parse_axes", "parse_multiplier", "parse_bytes", "channels_first_hint",
    "MAX_DIGITS",
]

#: Sizes have at most this many digits: anything longer is a typo, not a tensor.
MAX_DIGITS = 18
#: A value longer than this is cut in messages (its start, an ellipsis and its length).
_SHOWN = 40
_SEPARATOR = re.compile(r"[x×X*]")
_OTHER_SEPARATOR = re.compile(r"[0-9]\s*[,;:/\s]\s*[0-9]")
_INTEGER = re.compile(r"[0-9]+")
_MULTIPLIER = re.compile(r"([0-9]+)(?:\.([0-9]+))?|([0-9]+)/([0-9]+)")
_BYTES = re.compile(r"([0-9]+)([KMGT]?)", re.IGNORECASE)
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def _shown(text: str) -> str:
    """``text`` as a message shows it, unquoted: control characters escaped, long text cut.

    Examples
    --------
    >>> _shown("7x7x3")
    '7x7x3'
    >>> _shown("1" * 5000)
    '1111111111111111111111111111111111111111… (5000 characters)'
    """
    if len(text) <= _SHOWN:
        return escape_controls(text)
    return f"{escape_controls(text[:_SHOWN])}… ({len(text)} characters)"


def _empty(option: str, example: str) -> SymconvError:
    return SymconvError(f"{option} is empty; give a value, like {example}")


def _integer(text: str, option: str, whole: str, minimum: int) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        hint = "a whole number" if text else "a number between the separators"
        raise SymconvError(
            f"{option} {_shown(whole)}: '{_shown(text)}' is not {hint}; write sizes like 7x7x3"
        )
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise SymconvError(
            f"{option} {_shown(whole)}: {_shown(text)} is too large; sizes have at most "
            f"{MAX_DIGITS} digits"
        )
    value = int(text)
    if value < minimum:
        least = "at least 1" if minimum == 1 else f"at least {minimum}"
        raise SymconvError(f"{option} {whole}: every size must be {least}, and {value} is not")
    return value


def _separated_otherwise(text: str, option: str, example: str) -> None:
    """Refuse ``7,7,3`` or ``7 7 3``: sizes are separated with ``x``."""
    if _OTHER_SEPARATOR.search(text):
        raise SymconvError(f"{option} {_shown(text)}: separate sizes with x, like {example}")


def parse_shape(text: str, option: str, *, dims: int = 2) -> tuple[int, ...]:
    """Parse ``HxWxC`` (``dims`` spatial sizes then channels) into ints.

    Examples
    --------
    >>> parse_shape("7x7", "--input")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --input 7x7: give 3 sizes, height x width x channels, like 7x7x3
    >>> parse_shape("7,7,3", "--input")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --input 7,7,3: separate sizes with x, like 7x7x3
    """
    examples = {1: ("length x channels", "32x3"), 2: ("height x width x channels", "7x7x3"),
                3: ("depth x height x width x channels", "8x7x7x3")}
    names, example = examples[dims]
    if not text.strip():
        raise _empty(option, example)
    parts = _SEPARATOR.split(text.strip())
    if len(parts) != dims + 1:
        _separated_otherwise(text, option, example)
        raise SymconvError(f"{option} {_shown(text)}: give {dims + 1} sizes, {names}, like {example}")
    return tuple(_integer(part, option, text, 1) for part in parts)


def parse_axes(text: str, option: str, dims: int, *, minimum: int = 1) -> tuple[int, ...]:
    """Parse one integer, or one per spatial axis (``3`` or ``3x5``), into a tuple of ``dims``.

    Examples
    --------
    >>> parse_axes("2.5", "--stride", 2)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --stride 2.5: '2.5' is not a whole number; write sizes like 7x7x3
    >>> parse_axes("224x224", "--resolution", 1)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --resolution 224x224: give one size, like 224
    """
    example = "3" if dims == 1 else f"3 or {'x'.join(['3'] * dims)}"
    if not text.strip():
        raise _empty(option, example)
    parts = _SEPARATOR.split(text.strip())
    if len(parts) == 1:
        _separated_otherwise(text, option, example)
        return (_integer(parts[0], option, text, minimum),) * dims
    if len(parts) != dims:
        if dims == 1:
            first = parts[0].strip()
            like = first if _INTEGER.fullmatch(first) and len(first) <= MAX_DIGITS else "3"
            raise SymconvError(f"{option} {_shown(text)}: give one size, like {like}")
        raise SymconvError(f"{option} {_shown(text)}: give one size or {dims}, like {example}")
    return tuple(_integer(part, option, text, minimum) for part in parts)


def parse_multiplier(text: str, option: str) -> Fraction:
    """Read ``0.75`` or ``3/4`` exactly; anything else is refused, nothing is evaluated.

    Examples
    --------
    >>> parse_multiplier("0.75", "--alpha"), parse_multiplier("6/7", "--alpha")
    (Fraction(3, 4), Fraction(6, 7))
    >>> parse_multiplier("0", "--alpha")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --alpha 0 must be greater than 0, like 0.75 or 3/4
    """
    text = text.strip()
    if not text:
        raise _empty(option, "0.75 or 3/4")
    match = _MULTIPLIER.fullmatch(text)
    if not match:
        raise SymconvError(f"{option} '{_shown(text)}' is not a number; write it like 0.75 or 3/4")
    if any(len(part.lstrip("0")) > MAX_DIGITS for part in match.groups() if part):
        raise SymconvError(f"{option} {_shown(text)} has too many digits; numbers here have at "
                           f"most {MAX_DIGITS} digits on each side of the point or slash")
    whole, decimals, numerator, denominator = match.groups()
    if denominator is not None and int(denominator) == 0:
        raise SymconvError(f"{option} {text} divides by zero; write it like 0.75 or 3/4")
    if denominator is not None:
        value = Fraction(int(numerator), int(denominator))
    else:
        decimals = decimals or ""
        value = Fraction(int(whole + decimals), 10 ** len(decimals))
    if value <= 0:
        raise SymconvError(f"{option} {text} must be greater than 0, like 0.75 or 3/4")
    return value


def parse_bytes(text: str, option: str) -> int:
    """Read a number of bytes: an integer with an optional binary suffix, ``K`` (1024), ``M``,
    ``G`` or ``T``. No fractions: ``1536M``, not ``1.5G``.

    Examples
    --------
    >>> parse_bytes("2G", "--max-memory"), parse_bytes("1000", "--max-memory")
    (2147483648, 1000)
    >>> parse_bytes("1.5G", "--max-memory")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --max-memory 1.5G is not a size; write a whole number of bytes ...
    """
    if not text.strip():
        raise _empty(option, "512M or 2G")
    match = _BYTES.fullmatch(text.strip())
    if not match:
        raise SymconvError(
            f"{option} {_shown(text)} is not a size; write a whole number of bytes with an "
            "optional K, M, G or T (powers of 1024), like 512M or 2G"
        )
    digits, unit = match.groups()
    if len(digits.lstrip("0")) > MAX_DIGITS:
        raise SymconvError(f"{option} {_shown(text)} is too large; at most {MAX_DIGITS} digits")
    value = int(digits) * _UNITS[unit.upper()]
    if value < 1:
        raise SymconvError(f"{option} {text} must be at least 1 byte, like 512M or 2G")
    return value


def channels_first_hint(sizes: tuple[int, ...]) -> tuple[int, ...] | None:
    """The channels-last shape ``sizes`` would be if it was typed channels first, or ``None``.

    ``3x224x224`` reads as a 3×224 image of 224 channels; a PyTorch habit (``C, H, W``) is the
    likelier cause. Suspected when the first size is at most 4 and every other size is at least
    8 times as large; a shape of one size is never suspected.

    Examples
    --------
    >>> channels_first_hint((3, 224, 224))
    (224, 224, 3)
    >>> channels_first_hint((224, 224, 3)), channels_first_hint((2, 2, 64))
    (None, None)
    """
    first, rest = sizes[0], sizes[1:]
    if rest and first <= 4 and min(rest) >= 8 * first:
        return (*rest, first)
    return None
