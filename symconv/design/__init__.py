"""Exact answers to design questions: :func:`solve`.

======================  =======================================================================
question                answers
======================  =======================================================================
``"separable"``         the smallest ``N`` at which a ``k×k`` depthwise separable convolution
                        saves a factor over a standard one (:mod:`~symconv.design.separable`)
``"crossover"``         the sizes at which one algorithm beats another, transforms included
                        (:mod:`~symconv.design.crossover`)
``"alpha"``             the widest MobileNet within a MAC, FLOP or parameter budget, with the
                        network's channel rounding (:mod:`~symconv.design.budget`)
``"resolution"``        the largest input resolution within a budget
======================  =======================================================================

Not yet: the batch at which a layer becomes compute-bound (it needs a roofline model, which
symconv does not have), and budgets of memory or of ``from_torch`` networks.

Every answer is an :class:`~symconv.design.answer.Answer`: the inequality solved, the exact
answer (an integer or a rational), and the counts on either side of it, in text, Markdown,
LaTeX or JSON. Above ``networks`` and ``derive``; imports no NumPy.

Examples
--------
>>> solve("separable", kernel_size=3, saving=8).value
72
>>> print(solve("alpha", network="mobilenet_v2", budget=300_000_000).latex())
% largest width multiplier alpha with macs of mobilenet_v2 at 224×224 pixels ≤ 300000000
\\begin{align*}
&\\operatorname{MACS}{\\left(\\alpha \\right)} \\leq 300000000 \\\\
\\Longrightarrow\\quad &\\alpha < \\frac{79}{80}
\\end{align*}
"""

from __future__ import annotations

from typing import Any

from symconv.design.answer import Answer
from symconv.errors import SymconvError

__all__ = ["solve", "Answer", "QUESTIONS"]

#: The questions :func:`solve` answers.
QUESTIONS = ("separable", "crossover", "alpha", "resolution")


def solve(question: str, **arguments: Any) -> Answer:
    """Answer one design question exactly (see the module docstring for the questions).

    Parameters
    ----------
    question
        ``"separable"`` (``kernel_size``, ``saving``, ``measure="mults"``), ``"crossover"``
        (``layer``, ``input_shape``, ``first``, ``second="direct"``, ``measure``,
        ``first_options``, ``second_options``, ``limit``), ``"alpha"`` (``network``,
        ``budget``, ``convention="macs"``, ``resolution=224``) or ``"resolution"``
        (``network``, ``budget``, ``convention="macs"``, ``alpha=1``).

    Raises
    ------
    SymconvError
        For an unknown question or argument, or a question without an answer (named).
    """
    from symconv.design import budget, crossover, separable

    functions = {
        "separable": separable.smallest_separable_channels,
        "crossover": crossover.crossover,
        "alpha": budget.largest_alpha,
        "resolution": budget.largest_resolution,
    }
    if not isinstance(question, str) or question not in functions:
        raise SymconvError(f"question={question!r} is unknown; use one of {', '.join(QUESTIONS)}")
    if question in ("alpha", "resolution"):
        if "network" not in arguments:
            raise SymconvError(f"solve({question!r}) needs network=, like 'mobilenet_v2'")
        name = arguments.pop("network")
        return _call(functions[question], question, name, **arguments)
    return _call(functions[question], question, **arguments)


def _call(function: Any, question: str, *args: Any, **arguments: Any) -> Answer:
    import inspect

    known = inspect.signature(function).parameters
    for name in arguments:
        if name not in known:
            raise SymconvError(f"solve({question!r}) has no argument {name}=; its arguments: "
                               + ", ".join(p for p in known if p != "name"))
    try:
        answer: Answer = function(*args, **arguments)
    except TypeError as error:
        raise SymconvError(f"solve({question!r}): {error}") from None
    return answer
