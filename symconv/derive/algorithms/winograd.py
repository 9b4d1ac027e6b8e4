"""Winograd's F(m×m, r×r) (Lavin & Gray 2016) as a loop nest, with the Cook–Toom matrices of
:mod:`symconv.layers.winograd_points`. Pure SymPy.

Tiles: the output is cut into ``T = ceil(H_o/m)`` tiles per axis (the last one padded: the input
gets zeros past its end up to ``T·m + r − 1``, and the surplus outputs are dropped); every tile
reads ``n = m + r − 1`` inputs per axis. The stages, per tile:

* ``input_transform``: ``Bᵀ d B`` for each of the ``M`` input channels;
* ``weight_transform``: ``G g Gᵀ`` for each of the ``M/g·N`` kernels, once for the whole input
  (left out with ``precompute_weights=True``);
* ``elementwise``: ``n²`` products per tile per (input, output) channel pair of a group;
* ``channel_reduction``: the ``M/g`` products of each of the ``n²`` positions summed
  (``M/g − 1`` additions) per output channel;
* ``output_transform``: ``Aᵀ Z A`` per tile per output channel;
* ``bias`` with ``bias=True``: one addition per output element.

A transform's operations are those of the matrices built, by the rule of
:mod:`symconv.derive.algorithms.common`, applied along axis 0 and then axis 1.

Examples
--------
The founding layer, 7×7×3 → 5×5×64, with F(2×2, 3×3): ceil(5/2)² = 9 tiles of 4×4 products.

>>> from symconv import Conv2d
>>> c = winograd_cost(Conv2d(3, 64, 3), (7, 7, 3), tile=2)
>>> [(name, stage.mults, stage.adds) for name, stage in c.stages]  # doctest: +NORMALIZE_WHITESPACE
[('input_transform', 0, 864), ('weight_transform', 8064, 5376), ('elementwise', 27648, 0),
 ('channel_reduction', 0, 18432), ('output_transform', 0, 13824)]
>>> elementwise_ratio()
(m + r - 1)**2/(m**2*r**2)
"""

from __future__ import annotations

import sympy

from symconv.derive.algorithms.common import AlgorithmCost, Sizes, separable_ops, sizes_of, stage, total
from symconv.layers.algorithms import WinogradOptions, algorithm_options
from symconv.layers.conv import Conv2d, ConvNd
from symconv.layers.winograd_points import cook_toom

__all__ = ["winograd_cost", "elementwise_ratio", "RULE", "m", "r"]

#: The tile size and the kernel size of F(m, r), for formulas in them.
m = sympy.Symbol("m", positive=True, integer=True)
r = sympy.Symbol("r", positive=True, integer=True)

RULE = ("Winograd: a transform's nonzero entries other than ±1 are multiplications, a row of t "
        "nonzero entries takes t − 1 additions; ceil(H_o/m) tiles per axis")


def _elementwise(sizes: Sizes, tiles: sympy.Expr, points: sympy.Expr) -> tuple[object, object]:
    """``(products, sums)``: the elementwise products and the channel reduction, for ``tiles``
    tiles of ``points`` transformed positions: per tile, position and output channel, a dot
    product over the ``M/g`` input channels of its group."""
    dots = tiles * points * sizes.out_channels
    return dots * sizes.per_group, dots * (sizes.per_group - 1)


def winograd_cost(layer: ConvNd, input_shape: object, **options: object) -> AlgorithmCost:
    """The cost of ``layer`` by Winograd's F(m, r) on every axis.

    Parameters
    ----------
    layer
        A convolution with stride 1 and dilation 1 and a whole kernel size ``r`` per axis.
    input_shape
        Channels last; spatial sizes and channels may be symbols.
    **options
        ``tile`` (``m``, default 2, or one per axis), ``points`` (the Cook–Toom points),
        ``precompute_weights`` (default ``False``); see :mod:`symconv.layers.algorithms`.
    """
    chosen = algorithm_options(layer, "winograd", dict(options))
    assert isinstance(chosen, WinogradOptions)
    sizes = sizes_of(layer, input_shape)
    kernel = tuple(int(size) for size in layer.kernel_size)
    built = [cook_toom(m, r, chosen.points) for m, r in zip(chosen.tile, kernel)]
    widths = tuple(m + r - 1 for m, r in zip(chosen.tile, kernel))
    counts = tuple(sympy.ceiling(out / m) for out, m in zip(sizes.out, chosen.tile))
    tiles = sympy.Mul(*counts)
    points = sympy.Mul(*widths)
    M, N = sizes.channels, sizes.out_channels
    kernels = sizes.per_group * N
    tile_shape = (*counts, *widths)

    each_mults, each_adds = separable_ops([BT for _, _, BT in built], widths)
    stages = [("input_transform", stage(sizes.shape, (*tile_shape, M),
                                        tiles * M * each_mults, tiles * M * each_adds))]
    if not chosen.precompute_weights:
        each_mults, each_adds = separable_ops([G for _, G, _ in built], kernel)
        stages.append(("weight_transform", stage(sizes.shape, (*widths, sizes.per_group, N),
                                                 kernels * each_mults, kernels * each_adds)))
    products, sums = _elementwise(sizes, tiles, points)
    stages += [
        ("elementwise", stage(sizes.shape, (*tile_shape, sizes.per_group, N), mults=products)),
        ("channel_reduction", stage(sizes.shape, (*tile_shape, N), adds=sums)),
    ]
    each_mults, each_adds = separable_ops([AT for AT, _, _ in built], widths)
    stages.append(("output_transform", stage(sizes.shape, sizes.output_shape,
                                             tiles * N * each_mults, tiles * N * each_adds)))
    workspace = points * (tiles * M + kernels + tiles * N)
    tile_text = "×".join(map(str, chosen.tile))
    kernel_text = "×".join(map(str, kernel))
    return total(layer, sizes, stages, "winograd", workspace,
                 f"F({tile_text}, {kernel_text}); {RULE}")


def elementwise_ratio(dims: int = 2) -> sympy.Expr:
    """Winograd's elementwise products over a direct evaluation's, for tile ``m`` and kernel
    ``r`` on every one of ``dims`` axes, derived by SymPy: output sizes ``m·T`` (whole tiles),
    the products of :func:`winograd_cost`'s elementwise stage over those of the convolution's
    own loop nest.

    Examples
    --------
    >>> elementwise_ratio().subs({m: 2, r: 3}), elementwise_ratio().subs({m: 4, r: 3})
    (4/9, 1/4)
    >>> elementwise_ratio(dims=1)
    (m + r - 1)/(m*r)
    """
    from symconv.derive.ratio import ratio
    from symconv.symbols import M, N

    T = sympy.Symbol("T", positive=True, integer=True)
    if dims not in (1, 2, 3):
        from symconv.errors import SymconvError

        raise SymconvError(f"dims={dims!r} must be 1, 2 or 3")
    from symconv.layers.conv import Conv1d, Conv3d

    kind = {1: Conv1d, 2: Conv2d, 3: Conv3d}[dims]
    layer = kind(M, N, r)
    sizes = sizes_of(layer, (m * T + r - 1,) * dims + (M,))
    nest = layer.loop_nest(sizes.spatial, sizes.out)
    direct = sympy.Mul(*nest.outer) * sympy.Mul(*nest.inner)
    tiles = sympy.Mul(*(out / m for out in sizes.out))     # whole tiles: ceil(m·T/m) = T
    products, _ = _elementwise(sizes, tiles, (m + r - 1) ** dims)
    return sympy.factor(ratio(products, direct))
