"""im2col: every window copied into one row of a column matrix, then one matrix product per
group. The products are those of a direct evaluation (derived from the same loop nest); what
im2col adds is its workspace, the column matrix of ``H_o·W_o`` rows of ``k_h·k_w·M`` values.

Examples
--------
>>> from symconv import Conv2d
>>> from symconv.symbols import H, W, M, N, k
>>> c = im2col_cost(Conv2d(M, N, k), (H, W, M))
>>> c.workspace
M*k**2*(H - k + 1)*(W - k + 1)
>>> c.stage("gemm").mults == M*N*k**2*(H - k + 1)*(W - k + 1)
True
"""

from __future__ import annotations

import sympy

from symconv.derive.algorithms.common import AlgorithmCost, sizes_of, stage, total
from symconv.derive.cost import _product
from symconv.layers.algorithms import algorithm_options
from symconv.layers.conv import ConvNd

__all__ = ["im2col_cost", "RULE"]

RULE = ("im2col: the gather copies (no arithmetic); the GEMM's dot products of k·M/g terms take "
        "k·M/g multiplications and one fewer additions, as a direct evaluation")


def im2col_cost(layer: ConvNd, input_shape: object, **options: object) -> AlgorithmCost:
    """The cost of ``layer`` by im2col and GEMM: stages ``im2col`` (copies only), ``gemm`` and,
    with a bias, ``bias``; ``workspace`` is the column matrix's size in elements."""
    algorithm_options(layer, "im2col", dict(options))
    sizes = sizes_of(layer, input_shape)
    nest = layer.loop_nest(sizes.spatial, sizes.out)
    dots, terms = _product(nest.outer), _product(nest.inner)
    rows = sympy.Mul(*sizes.out)
    width = sympy.Mul(*sizes.kernel) * sizes.channels
    stages = [
        ("im2col", stage(sizes.shape, (rows, width))),
        ("gemm", stage(sizes.shape, sizes.output_shape, mults=dots * terms,
                       adds=dots * (terms - 1))),
    ]
    return total(layer, sizes, stages, "im2col", rows * width, RULE)
