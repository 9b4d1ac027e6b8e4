"""The one error type of symconv, and how an error message shows a user's value.

An error message is one short line: :func:`shown` writes a user's value repr-style (control
characters escaped) and cut to a readable length, and :class:`SymconvError` itself never lets a
newline, a control character or a megabyte of text through ``str()``, whatever it was given.
"""

from __future__ import annotations

__all__ = ["SymconvError", "shown", "escape_controls", "MESSAGE_LIMIT"]

#: The longest message ``str(SymconvError(...))`` returns.
MESSAGE_LIMIT = 1000

#: Characters that must not reach a terminal or a document raw: the bidirectional controls
#: (the rest of the dangerous characters are found by Unicode category).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Unicode categories written as escapes: controls (C0, DEL, C1), lone surrogates (which cannot
#: be encoded), line and paragraph separators.
_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _hidden(char: str) -> bool:
    import unicodedata

    return char in _BIDI or unicodedata.category(char) in _CATEGORIES


def escape_controls(text: str) -> str:
    r"""``text`` with every control character written as its escape (``\n``, ``\x1b``, ...).

    Control characters (C0, DEL, C1), lone surrogates, line and paragraph separators and the
    bidirectional controls are replaced by their Python escapes; every other character,
    CJK and emoji included, is kept as it is. The result is one line that a terminal prints as
    it reads.

    Examples
    --------
    >>> print(escape_controls("conv\n\x1b[31mred\x00 卷积 😀"))
    conv\n\x1b[31mred\x00 卷积 😀
    """
    if text.isprintable():  # the common case, fast: no control or separator at all
        return text
    return "".join(repr(char)[1:-1] if _hidden(char) else char for char in text)


def shown(value: object, limit: int = 80, *, bare: bool = False) -> str:
    """A user's value as an error message shows it: repr-style, escaped, cut to ``limit``.

    Strings are quoted like ``repr`` (control characters escaped); anything longer than
    ``limit`` characters is cut, and the message says how much was left out. With ``bare``, a
    string that needs neither (printable, short) is written as it is, without quotes.

    Examples
    --------
    >>> print(shown("conv\\n1"))
    'conv\\n1'
    >>> print(shown("x" * 100, limit=5))
    'xxxxx'…(95 more characters)
    >>> print(shown(3))
    3
    >>> print(shown("fr", bare=True), shown("f\\r", bare=True))
    fr 'f\\r'
    """
    if bare and isinstance(value, str) and len(value) <= limit and value.isprintable():
        return value
    text = value if isinstance(value, str) else repr(value)
    rest = len(text) - limit
    if rest > 0:
        text = text[:limit]
    written = repr(text) if isinstance(value, str) else escape_controls(text)
    return written + (f"…({rest} more characters)" if rest > 0 else "")


class SymconvError(ValueError):
    """Bad input to symconv: the message names the argument, the value and the fix.

    ``str()`` of the error is always one line of at most :data:`MESSAGE_LIMIT` characters:
    control characters in the message are escaped and a longer message is cut (``args`` keeps
    what was given).

    Examples
    --------
    >>> from symconv import Conv2d, SymconvError
    >>> try:
    ...     Conv2d(6, 8, 3, groups=4)
    ... except SymconvError as error:
    ...     print(error)
    groups=4 must divide in_channels=6; divisors of 6: 1, 2, 3, 6
    >>> print(SymconvError("name 'a\\nb' is bad"))
    name 'a\\nb' is bad
    """

    def __str__(self) -> str:
        text = super().__str__()
        if len(text) <= MESSAGE_LIMIT and text.isprintable():
            return text
        pieces = [escape_controls(char) for char in text[:MESSAGE_LIMIT]]
        if len(text) <= MESSAGE_LIMIT and sum(map(len, pieces)) <= MESSAGE_LIMIT:
            return "".join(pieces)
        budget, written = MESSAGE_LIMIT - 40, 0  # room for "…(N more characters)"
        for used, piece in enumerate(pieces):
            if written + len(piece) > budget:
                return "".join(pieces[:used]) + f"…({len(text) - used} more characters)"
            written += len(piece)
        raise AssertionError("unreachable: the budget is below the limit")  # pragma: no cover
