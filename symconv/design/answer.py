"""The answer to a design question: the inequality solved, the exact answer, and the checks on
either side of it; shown as text, Markdown, LaTeX or JSON.

Examples
--------
>>> import sympy
>>> N = sympy.Symbol("N", positive=True, integer=True)
>>> answer = Answer(question="smallest N", inequality=1 / N + sympy.Rational(1, 9) <= sympy.Rational(1, 8),
...                 variable=N, relation=">=", value=sympy.Integer(72),
...                 checks=(("N = 72", "1/8 <= 1/8: holds"),))
>>> print(answer.text())
smallest N
  solved   1/9 + 1/N ≤ 1/8
  answer   N ≥ 72
  N = 72   1/8 <= 1/8: holds
>>> answer.to_dict()["answer"], answer.to_dict()["relation"]
(72, '>=')
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sympy

from symconv.symbols import LATEX_NAMES, UNICODE_NAMES

__all__ = ["Answer", "exact"]

_SIGNS = {">=": "≥", "<=": "≤", "<": "<", ">": ">", "==": "="}
_LATEX_SIGNS = {">=": r"\geq", "<=": r"\leq", "<": "<", ">": ">", "==": "="}


def exact(value: sympy.Expr) -> int | str:
    """An exact number for JSON: an ``int``, or a rational as ``"p/q"``.

    Examples
    --------
    >>> exact(sympy.Integer(72)), exact(sympy.Rational(3, 8))
    (72, '3/8')
    """
    if value.is_Integer:
        return int(value)
    if value.is_Rational:
        return f"{value.p}/{value.q}"
    raise ValueError(f"{value} is not an exact rational")


def _plain(expr: sympy.Basic) -> str:
    text = sympy.sstr(expr)
    for symbol, name in UNICODE_NAMES.items():
        text = text.replace(str(symbol), name)
    for sign in ("<=", ">="):
        text = text.replace(f" {sign} ", f" {_SIGNS[sign]} ")
    return text


def _latex(expr: sympy.Basic) -> str:
    return sympy.latex(expr, symbol_names=LATEX_NAMES)


@dataclass(frozen=True)
class Answer:
    """An exact answer to one design question.

    Attributes
    ----------
    question
        The question, in words.
    inequality
        What was solved, as a SymPy relation in ``variable``.
    variable, relation, value
        The answer reads ``variable relation value`` (``N ≥ 72``, ``α ≤ 80/117``,
        ``α < 3/8``); ``value`` is an exact SymPy integer or rational.
    checks
        ``(label, text)`` lines: the quantity at the answer and just beyond it.
    notes
        Further lines: rules, assumptions, what was searched.
    extra
        Further JSON fields (``intervals`` of a crossover).
    """

    question: str
    inequality: sympy.Basic
    variable: sympy.Symbol
    relation: str
    value: sympy.Expr
    checks: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def statement(self) -> sympy.Basic:
        """``variable relation value`` as a SymPy relation."""
        return sympy.Rel(self.variable, self.value, self.relation)

    def text(self) -> str:
        """Plain text, one fact a line."""
        name = _plain(self.variable)
        rows = [("solved", _plain(self.inequality)),
                ("answer", f"{name} {_SIGNS[self.relation]} {_plain(self.value)}"),
                *self.checks]
        width = max(len(label) for label, _ in rows)
        lines = [self.question, *(f"  {label.ljust(width)}   {text}" for label, text in rows)]
        return "\n".join([*lines, *(f"  {note}" for note in self.notes)])

    def markdown(self) -> str:
        """A Markdown section: the question, the inequality and the answer as math, checks."""
        lines = [f"**{self.question}**", "",
                 f"Solved: ${_latex(self.inequality)}$", "",
                 f"Answer: ${_latex(self.variable)} {_LATEX_SIGNS[self.relation]} "
                 f"{_latex(self.value)}$", ""]
        lines += [f"- {label}: {text}" for label, text in self.checks]
        lines += [f"- {note}" for note in self.notes]
        return "\n".join(lines)

    def latex(self) -> str:
        """LaTeX: the inequality solved and the answer, in an ``align*``."""
        return (f"% {self.question}\n\\begin{{align*}}\n"
                f"&{_latex(self.inequality)} \\\\\n"
                f"\\Longrightarrow\\quad &{_latex(self.variable)} "
                f"{_LATEX_SIGNS[self.relation]} {_latex(self.value)}\n\\end{{align*}}")

    def to_dict(self) -> dict[str, Any]:
        """For JSON: ``answer`` is an int or ``"p/q"``."""
        return {
            "question": self.question,
            "inequality": {"formula": sympy.sstr(self.inequality),
                           "latex": _latex(self.inequality)},
            "variable": str(self.variable), "relation": self.relation,
            "answer": exact(self.value),
            "checks": [{"at": label, "value": text} for label, text in self.checks],
            "notes": list(self.notes), **self.extra,
        }

    def json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    def render(self, format: str) -> str:
        """The answer in ``format``: ``"text"``, ``"markdown"``, ``"latex"`` or ``"json"``."""
        from symconv.errors import SymconvError

        writers = {"text": self.text, "markdown": self.markdown, "latex": self.latex,
                   "json": self.json}
        if format not in writers:
            raise SymconvError(f"format={format!r} is unknown; use one of {', '.join(writers)}")
        return writers[format]()

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {_latex(self.inequality)} \\Longrightarrow " \
               f"{_latex(self.statement)}$"
