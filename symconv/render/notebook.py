"""Rich display in Jupyter/IPython: a network's cost as a Markdown table of its layers.

:class:`~symconv.derive.Cost` shows itself as LaTeX (``_repr_latex_``); a cost with stages
(a composite or a network) also offers this table through ``_repr_markdown_``, which notebooks
prefer. The derivation knows no output format: importing this module (``import symconv`` does)
registers the table with :func:`symconv.derive.register_markdown`.

Examples
--------
>>> from symconv import DepthwiseSeparableConv2d, cost
>>> print(cost_markdown(cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))))
| layer | kind | input | output | mults | adds | params |
|---|---|---|---|---|---|---|
| depthwise | depthwise | 7×7×3 | 5×5×3 | $675$ | $600$ | $27$ |
| pointwise | pointwise | 5×5×3 | 5×5×64 | $4800$ | $3200$ | $192$ |
| **total** | separable | 7×7×3 | 5×5×64 | $5475$ | $3800$ | $219$ |
"""

from __future__ import annotations

from symconv.derive import Cost, register_markdown
from symconv.networks.rows import rows
from symconv.render.formula import LATEX, formula
from symconv.render.markdown import escape, table
from symconv.render.text import shape_text

__all__ = ["cost_markdown"]

_QUANTITIES = ("mults", "adds", "params")


def cost_markdown(result: Cost) -> str:
    """One row per layer (dotted names) and a total row; formulas as ``$...$`` math.

    Names and kinds are escaped (:func:`symconv.render.markdown.escape`): a layer's name is the
    user's, and may hold HTML or Markdown.
    """
    body = [
        [escape(row.name), escape(row.kind), shape_text(row.input_shape), shape_text(row.output_shape),
         *(f"${formula(getattr(row, name), style=LATEX)}$" for name in _QUANTITIES)]
        for row in rows(result)
    ]
    body.append(["**total**", escape(result.kind), shape_text(result.input_shape),
                 shape_text(result.output_shape),
                 *(f"${formula(getattr(result, name), style=LATEX)}$" for name in _QUANTITIES)])
    return table(["layer", "kind", "input", "output", *_QUANTITIES], body)


register_markdown(cost_markdown)
