"""Rich display in Jupyter/IPython: a network's cost as a Markdown table of its layers.

:class:`~symconv.derive.Cost` shows itself as LaTeX (``_repr_latex_``); a cost with stages
(a composite or a network) also offers this table through ``_repr_markdown_``, which notebooks
prefer. The derivation knows no output format: importing this module (``import symconv`` does)
registers the table with :func:`symconv.derive.register_markdown`.

Examples
--------
>>> from symconv import DepthwiseSeparableConv2d, cost
>>> print(cost_markdown(cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))))
| layer | kind | input | output | multiplications | additions | parameters |
|---|---|---|---|---|---|---|
| depthwise | depthwise | 7×7×3 | 5×5×3 | 675 | 600 | 27 |
| pointwise | pointwise | 5×5×3 | 5×5×64 | 4800 | 3200 | 192 |
| **total** | separable | 7×7×3 | 5×5×64 | 5475 | 3800 | 219 |
"""

from __future__ import annotations

from symconv.derive import Cost, register_markdown
from symconv.networks.rows import LayerRow, rows
from symconv.render.markdown import layers_table

__all__ = ["cost_markdown"]

def cost_markdown(result: Cost) -> str:
    """One row per layer (dotted names) and a total row: the table ``symconv net --format
    markdown --per-layer`` writes (:func:`symconv.render.markdown.layers_table`).

    Names and kinds are escaped (:func:`symconv.render.markdown.escape`): a layer's name is the
    user's, and may hold HTML or Markdown.
    """
    return layers_table(rows(result), total=LayerRow.of("**total**", result))


register_markdown(cost_markdown)
