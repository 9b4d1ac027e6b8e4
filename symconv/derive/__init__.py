"""Pure SymPy derivation: a layer's loop nest becomes its :class:`Cost`; ratios; kernel inference.

May import: layers and the vocabulary; never NumPy, execute, networks or render. Modules:
``cost`` (the :class:`Cost` result), ``derivation`` (the one generic derivation), ``ratio``,
``infer`` (a kernel size from input and output sizes).

What is counted (see ``docs/conventions.md``):

* **mults** — scalar multiplications of a direct evaluation, one per output element per
  reduction element, products with padding zeros included; a transposed convolution in scatter
  form: every input element times every kernel weight of its group.
* **adds** — scalar additions of the same evaluation: a dot product of L terms takes L − 1; a
  bias adds one per output element; in scatter form every product is added once.
* **divs**, **comparisons** — kept apart from the two above (pooling, normalisation).
* **params** — weights, plus biases where ``bias=True``.

Examples
--------
>>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
>>> from symconv.symbols import H, W, M, N, k
>>> std = cost(Conv2d(M, N, k), (H, W, M))
>>> std.mults
M*N*k**2*(H - k + 1)*(W - k + 1)
>>> ratio(cost(DepthwiseSeparableConv2d(M, N, k), (H, W, M)).mults, std.mults)
k**(-2) + 1/N
>>> std.subs({H: 7, W: 7, M: 3, N: 64, k: 3}).mults
43200
"""

from __future__ import annotations

from symconv.derive.cost import COUNT_KINDS, Cost, register_markdown, substitution
from symconv.derive.derivation import cost, in_output_symbols, total
from symconv.derive.ratio import ratio
from symconv.layers.shapes import (
    check_input_shape,
    conv_output_size,
    output_spatial,
    transposed_output_size,
)

__all__ = [
    "Cost", "cost", "ratio", "conv_output_size", "transposed_output_size", "output_spatial",
    "check_input_shape", "in_output_symbols", "COUNT_KINDS", "total", "substitution",
    "register_markdown",
]
