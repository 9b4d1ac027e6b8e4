"""The one error type of symconv."""

from __future__ import annotations

__all__ = ["SymconvError"]


class SymconvError(ValueError):
    """Bad input to symconv: the message names the argument, the value and the fix.

    Examples
    --------
    >>> from symconv import Conv2d, SymconvError
    >>> try:
    ...     Conv2d(6, 8, 3, groups=4)
    ... except SymconvError as error:
    ...     print(error)
    groups=4 must divide in_channels=6; divisors of 6: 1, 2, 3, 6
    """
