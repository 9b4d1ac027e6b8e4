"""Winograd's F(m, r), executed tile by tile with the exact Cook–Toom matrices of
:mod:`symconv.layers.winograd_points`, every transform applied entry by entry
(:func:`~symconv.execute.algorithms.ops.apply_matrix`) so that its operations are counted as
they are done."""

from __future__ import annotations

import numpy as np

from symconv.execute.algorithms.common import (
    AlgorithmRun,
    bias_stage,
    check_run,
    elements,
    finish,
    padded,
    reduce_channels,
)
from symconv.execute.algorithms.ops import apply_matrix
from symconv.execute.counter import Array, Counter
from symconv.execute.geometry import ints, placements
from symconv.layers.algorithms import WinogradOptions
from symconv.layers.conv import ConvNd
from symconv.layers.winograd_points import cook_toom

__all__ = ["run_winograd"]


def _transform(counter: Counter, matrices: list[object], block: Array, first_axis: int) -> Array:
    """Apply ``matrices[a]`` along axis ``first_axis + a`` of ``block``, axis by axis."""
    for axis, matrix in enumerate(matrices):
        block = apply_matrix(counter, matrix, block, first_axis + axis)
    return block


def run_winograd(layer: ConvNd, x: Array, params: dict[str, Array],
                 options: WinogradOptions) -> AlgorithmRun:
    """Evaluate ``layer`` (stride 1, dilation 1) on ``x`` by F(m, r) on every axis, counting.

    The output is cut into ``ceil(O/m)`` tiles per axis; the input gets zeros past its end so
    that the last tile has its ``m + r − 1`` inputs, and the surplus outputs are dropped.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.layers.algorithms import algorithm_options
    >>> layer, rng = Conv2d(3, 64, 3), np.random.default_rng(0)
    >>> run = run_winograd(layer, rng.standard_normal((7, 7, 3)),
    ...                    {"weight": rng.standard_normal((3, 3, 3, 64))},
    ...                    algorithm_options(layer, "winograd", {"tile": 2}))
    >>> [(name, counts.mults) for name, counts in run.stages]   # doctest: +NORMALIZE_WHITESPACE
    [('input_transform', 0), ('weight_transform', 8064), ('elementwise', 27648),
     ('channel_reduction', 0), ('output_transform', 0)]
    """
    dims = x.ndim - 1
    kernel, padding = ints(layer.kernel_size), ints(layer.padding)
    tile = options.tile
    built = [cook_toom(m, r, options.points) for m, r in zip(tile, kernel)]
    widths = tuple(m + r - 1 for m, r in zip(tile, kernel))
    out = tuple(len(placements(size, padding=pad, reach=r, stride=1))
                for size, pad, r in zip(x.shape[:-1], padding, kernel))
    counts = tuple(-(-size // m) for size, m in zip(out, tile))      # ceil(O/m) tiles
    channels, groups = x.shape[-1], int(layer.groups)
    weight = params["weight"]
    per_group, out_channels = weight.shape[-2], weight.shape[-1]
    per_out = out_channels // groups
    check_run(layer, x, params, elements(*counts, *widths, per_group, out_channels),
              elements(*counts, *widths, channels))
    # zeros: the padding on both sides, then past the end up to T·m + r − 1
    extra = tuple(count * m + r - 1 - (size + 2 * pad) for count, m, r, size, pad
                  in zip(counts, tile, kernel, x.shape[:-1], padding))
    source = padded(x, padding, tuple(pad + more for pad, more in zip(padding, extra)))
    windows = np.lib.stride_tricks.sliding_window_view(source, widths, axis=tuple(range(dims)))
    tiles = np.ascontiguousarray(windows[tuple(slice(None, None, m) for m in tile)])
    # tiles: (*counts, M, *widths)

    stages: list[tuple[str, Counter]] = []
    counter = Counter()
    stages.append(("input_transform", counter))
    V = _transform(counter, [BT for _, _, BT in built], tiles, dims + 1)
    if options.precompute_weights:
        U = _transform(Counter(enabled=False), [G for _, G, _ in built], weight, 0)
    else:
        counter = Counter()
        stages.append(("weight_transform", counter))
        U = _transform(counter, [G for _, G, _ in built], weight, 0)
    # U: (*widths, M/g, N) -> (g, M/g, N/g, *widths); V: (*counts, M, *widths) -> grouped
    U = U.reshape(*widths, per_group, groups, per_out).transpose(
        dims + 1, dims, dims + 2, *range(dims))
    V = V.reshape(*counts, groups, per_group, *widths)
    counter = Counter()
    stages.append(("elementwise", counter))
    products = counter.multiply(np.expand_dims(V, dims + 2), U)   # (*counts, g, M/g, N/g, *w)
    counter = Counter()
    stages.append(("channel_reduction", counter))
    sums = reduce_channels(counter, products, dims + 1)            # (*counts, g, N/g, *widths)
    sums = sums.reshape(*counts, out_channels, *widths)
    counter = Counter()
    stages.append(("output_transform", counter))
    Y = _transform(counter, [AT for AT, _, _ in built], sums, dims + 1)   # (*counts, N, *m)
    order = [axis for pair in zip(range(dims), range(dims + 1, 2 * dims + 1)) for axis in pair]
    Y = Y.transpose(*order, dims).reshape(*(count * m for count, m in zip(counts, tile)), -1)
    output = np.ascontiguousarray(Y[tuple(slice(0, size) for size in out)])
    output = bias_stage(layer, output, params, stages)
    return finish(output, stages, int(V.size + U.size + sums.size))
