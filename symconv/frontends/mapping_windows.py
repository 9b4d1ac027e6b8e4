"""What symconv makes of the functions of windowed attention (Swin, MaxViT): :data:`FUNCTIONS`,
looked up with :mod:`symconv.frontends.mapping_transformer`'s, by role:

* ``"pad"``: ``F.pad`` of spatial axes, a :class:`~symconv.layers.Pad` (Swin pads to a multiple
  of its window; at 224×224 by nothing: the input again);
* ``"roll"``: ``torch.roll``, a :class:`~symconv.layers.windows.Roll`;
* ``"linear"``: ``F.linear(x, weight, bias)`` with a parameter's weight (Swin's attention calls
  its ``qkv`` and ``proj`` weights so), a :class:`FunctionalLinear`;
* ``"normalize"``: ``F.normalize(x, p=2, dim)``, a :class:`~symconv.layers.windows.Normalize`
  (Swin V2's cosine attention);
* ``"einsum"``: ``torch.einsum`` of a batched product (``"...ik,...kj->...ij"`` or
  ``"...ik,...jk->...ij"``, MaxViT's attention), a product of kind ``"einsum"``;
* ``"constant"``: a tensor made from shapes alone (``x.new_zeros((H, W))``,
  ``torch.zeros_like(x)``): not computed from the input's values, so a constant (no stage).

Nothing here imports torch.

Examples
--------
>>> FUNCTIONS["torch.roll"].role, FUNCTIONS["Tensor.new_zeros"].role
('roll', 'constant')
>>> from symconv import cost
>>> c = cost(FunctionalLinear(96, 288), (64, 49, 96))
>>> c.kind, c.mults == 64 * 49 * 96 * 288
('F.linear', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symconv.frontends.mapping import Function
from symconv.layers import Linear

__all__ = ["FUNCTIONS", "FunctionalLinear"]


@dataclass(frozen=True, init=False)
class FunctionalLinear(Linear):
    """``F.linear(x, weight, bias)`` in ``forward``: :class:`~symconv.layers.Linear`'s counts,
    kind ``"F.linear"`` (ptflops leaves the function unpatched, thop and torchinfo see no
    module: docs/conventions.md).

    Examples
    --------
    >>> FunctionalLinear(96, 288).kind
    'F.linear'
    """

    example: ClassVar[str] = "FunctionalLinear(96, 288)"

    @property
    def kind(self) -> str:
        return "F.linear"


def _functions() -> dict[str, Function]:
    table: dict[str, Function] = {}
    for name in ("torch.nn.functional.pad", "torch._C._nn.pad"):
        table[name] = Function("pad")
    for name in ("torch.roll", "Tensor.roll"):
        table[name] = Function("roll")
    for name in ("torch.nn.functional.linear", "torch._C._nn.linear"):
        table[name] = Function("linear")
    table["torch.nn.functional.normalize"] = Function("normalize")
    for name in ("torch.functional.einsum", "torch.einsum"):
        table[name] = Function("einsum")
    for name in ("Tensor.new_zeros", "Tensor.new_ones", "Tensor.new_full", "Tensor.new_empty",
                 "torch.zeros_like", "torch.ones_like", "torch.empty_like", "torch.full_like"):
        table[name] = Function("constant")
    return table


#: Functions by qualified name.
FUNCTIONS = _functions()
