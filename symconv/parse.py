"""A strict grammar for the sizes users type on the command line.

Shapes are ``HxWxC`` with ``x`` or ``×`` between positive decimal integers; per-axis
hyperparameters are one integer or ``AxB``. Nothing is ever evaluated: text that is not digits
and separators is refused with a :class:`~symconv.errors.SymconvError` naming the option.

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
"""

from __future__ import annotations

import re

from symconv.errors import SymconvError

__all__ = ["parse_shape", "parse_axes", "MAX_DIGITS"]

#: Sizes have at most this many digits: anything longer is a typo, not a tensor.
MAX_DIGITS = 18
_SEPARATOR = re.compile(r"[x×X*]")
_INTEGER = re.compile(r"[0-9]+")


def _integer(text: str, option: str, whole: str, minimum: int) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        hint = "a whole number" if text else "a number between the separators"
        raise SymconvError(f"{option} {whole}: {text!r} is not {hint}; write sizes like 7x7x3")
    if len(text.lstrip("0")) > MAX_DIGITS:
        raise SymconvError(
            f"{option} {whole}: {text} is too large; sizes have at most {MAX_DIGITS} digits"
        )
    value = int(text)
    if value < minimum:
        least = "at least 1" if minimum == 1 else f"at least {minimum}"
        raise SymconvError(f"{option} {whole}: every size must be {least}, and {value} is not")
    return value


def parse_shape(text: str, option: str, *, dims: int = 2) -> tuple[int, ...]:
    """Parse ``HxWxC`` (``dims`` spatial sizes then channels) into ints.

    Examples
    --------
    >>> parse_shape("7x7", "--input")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --input 7x7: give 3 sizes, height x width x channels, like 7x7x3
    """
    parts = _SEPARATOR.split(text.strip())
    if len(parts) != dims + 1:
        names = {1: "length x channels, like 32x3", 2: "height x width x channels, like 7x7x3",
                 3: "depth x height x width x channels, like 8x7x7x3"}[dims]
        raise SymconvError(f"{option} {text}: give {dims + 1} sizes, {names}")
    return tuple(_integer(part, option, text, 1) for part in parts)


def parse_axes(text: str, option: str, dims: int, *, minimum: int = 1) -> tuple[int, ...]:
    """Parse one integer, or one per spatial axis (``3`` or ``3x5``), into a tuple of ``dims``.

    Examples
    --------
    >>> parse_axes("2.5", "--stride", 2)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --stride 2.5: '2.5' is not a whole number; write sizes like 7x7x3
    """
    parts = _SEPARATOR.split(text.strip())
    if len(parts) == 1:
        return (_integer(parts[0], option, text, minimum),) * dims
    if len(parts) != dims:
        raise SymconvError(f"{option} {text}: give one size or {dims}, like 3 or 3x3")
    return tuple(_integer(part, option, text, minimum) for part in parts)
