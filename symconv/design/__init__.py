"""Exact answers to design questions: :func:`solve`.

======================  =======================================================================
question                answers
======================  =======================================================================
``"separable"``         the smallest ``N`` at which a ``k×k`` depthwise separable convolution
                        saves a factor over a standard one (:mod:`~symconv.design.separable`)
``"crossover"``         the sizes at which one algorithm beats another, transforms included
                        (:mod:`~symconv.design.crossover`)
``"alpha"``             the widest MobileNet within a MAC, FLOP, parameter or memory budget
                        (bytes of :func:`symconv.memory`), with the network's channel rounding
                        (:mod:`~symconv.design.budget`)
``"resolution"``        the largest input resolution of a zoo network or a PyTorch model (traced
                        by ``from_torch``) within such a budget
``"bound"``             the smallest batch, resolution or channel count from which a layer is
                        compute-bound on a device (:mod:`~symconv.design.bound`, with the
                        roofline of :mod:`symconv.networks.roofline`)
======================  =======================================================================

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

The batch from which a 1024 → 1024 linear layer (with bias) is compute-bound on a T4 (ridge
405/16 FLOPs per byte, 405/32 mults per byte): ``b`` examples do 2^20·b mults and move
4·(2048·b + 1049600) bytes, and 256·b/(2·b + 1025) ≥ 405/32, that is 7382·b ≥ 415125, from
b = 415125/7382 ≈ 56.2 on:

>>> from symconv import Linear
>>> solve("bound", layer=Linear(1024, 1024), input_shape=(1024,), device="t4").value
57
"""

from __future__ import annotations

from typing import Any

from symconv.design.answer import Answer
from symconv.errors import SymconvError

__all__ = ["solve", "Answer", "QUESTIONS"]

#: The questions :func:`solve` answers.
QUESTIONS = ("separable", "crossover", "alpha", "resolution", "bound")


def solve(question: str, **arguments: Any) -> Answer:
    """Answer one design question exactly (see the module docstring for the questions).

    Parameters
    ----------
    question
        ``"separable"`` (``kernel_size``, ``saving``, ``measure="mults"``), ``"crossover"``
        (``layer``, ``input_shape``, ``first``, ``second="direct"``, ``measure``,
        ``first_options``, ``second_options``, ``limit``), ``"alpha"`` (``network``,
        ``budget``, ``convention="macs"``, ``resolution=224``, ``dtype_bytes=4``),
        ``"resolution"`` (``network`` — a zoo name or a ``torch.nn.Module`` —, ``budget``,
        ``convention="macs"``, ``alpha=1``, ``channels`` for a module, ``dtype_bytes=4``) or
        ``"bound"``
        (``layer``, ``input_shape``, ``vary="batch"``, ``device="t4"``, ``dtype_bytes=4``,
        ``work="mults"``, ``batch=1``, ``limit``, ``name``).

    Raises
    ------
    SymconvError
        For an unknown question or argument, or a question without an answer (named).
    """
    from symconv.design import bound, budget, crossover, separable

    functions = {
        "bound": bound.compute_bound,
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
