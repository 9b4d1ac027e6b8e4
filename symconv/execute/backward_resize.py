"""Backward executors of :class:`~symconv.layers.Upsample` and :class:`~symconv.layers.PReLU`,
fast and reference, as PyTorch's CPU backward kernels run them (what each counts:
:mod:`symconv.layers.backward_resize`). The source positions and weights are those of the
forward executor (:mod:`symconv.execute.resize`), from sizes only and not counted."""

from __future__ import annotations

import numpy as np

from symconv.execute.backward_layers import Gradients, backward_fast, backward_reference
from symconv.execute.conv import _workspace
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.execute.resize import _scale_value, _sizes, _slopes, linear_taps, nearest_indices
from symconv.layers import PReLU, Upsample

__all__: list[str] = []


def _taps(layer: Upsample, x: Array) -> list[tuple[Array, Array, Array, Array]]:
    """Per tap ``(rows, columns, row weights, column weights)``, rows and columns over the
    output: the 4 taps of bilinear, the one of nearest (weights ``None``)."""
    out_h, out_w = _sizes(layer, x)
    size_h, size_w = x.shape[:2]
    if layer.mode == "nearest":
        rows = nearest_indices(size_h, out_h, _scale_value(layer, 0, size_h, out_h))
        cols = nearest_indices(size_w, out_w, _scale_value(layer, 1, size_w, out_w))
        return [(rows, cols, None, None)]  # type: ignore[list-item]
    h0, h1, lh0, lh1 = linear_taps(size_h, out_h, layer.align_corners,
                                   _scale_value(layer, 0, size_h, out_h))
    w0, w1, lw0, lw1 = linear_taps(size_w, out_w, layer.align_corners,
                                   _scale_value(layer, 1, size_w, out_w))
    return [(h, w, lh, lw) for h, lh in ((h0, lh0), (h1, lh1)) for w, lw in ((w0, lw0), (w1, lw1))]


def _runs(taken: list[int], into: list[int]) -> list[tuple[slice, slice]]:
    """``taken[i] → into[i]`` (``taken`` increasing, ``into`` distinct) as runs evenly spaced
    in both, as slices (a run going down in ``into`` is cut to single positions)."""
    runs, start, count = [], 0, len(taken)
    while start < count:
        end = start + 1
        step_taken = step_into = 1
        if end < count and into[end] > into[start]:
            step_taken, step_into = taken[end] - taken[start], into[end] - into[start]
            while (end + 1 < count and taken[end + 1] - taken[end] == step_taken
                   and into[end + 1] - into[end] == step_into):
                end += 1
            end += 1
        runs.append((slice(taken[start], taken[end - 1] + 1, step_taken),
                     slice(into[start], into[end - 1] + 1, step_into)))
        start = end
    return runs


def scatter_groups(indices: Array) -> list[tuple[slice, slice]]:
    """The output positions of one axis that read input position ``indices[i]``, as
    ``(taken, into)`` slice pairs such that ``dx[into] += g[taken]``, one pair after another,
    adds each element of ``g`` once where it belongs, as ``np.add.at`` would, on whole slices.

    The positions are split by occurrence first (group ``k`` holds each output position that
    is the ``k``-th, from 0, to read its input position: within a group no input position is
    read twice, so one ``+=`` adds every element), then into runs evenly spaced on both sides.

    Examples
    --------
    >>> scatter_groups(np.array([0, 0, 1, 1, 2, 2]))     # nearest, ×2
    [(slice(0, 5, 2), slice(0, 3, 1)), (slice(1, 6, 2), slice(0, 3, 1))]
    >>> scatter_groups(np.array([0, 0, 1, 2, 2, 2]))     # first readers: 0, 2, 3
    ... # doctest: +NORMALIZE_WHITESPACE
    [(slice(0, 3, 2), slice(0, 2, 1)), (slice(3, 4, 1), slice(2, 3, 1)),
     (slice(1, 5, 3), slice(0, 3, 2)), (slice(5, 6, 1), slice(2, 3, 1))]
    """
    order = np.argsort(indices, kind="stable")
    ordered = indices[order]
    first = np.searchsorted(ordered, ordered)        # where each one's run of equals starts
    occurrence = np.empty(len(indices), dtype=np.intp)
    occurrence[order] = np.arange(len(indices)) - first
    pieces = []
    for k in range(int(occurrence.max()) + 1):
        taken = np.flatnonzero(occurrence == k)
        pieces += _runs(taken.tolist(), indices[taken].tolist())
    return pieces


def _scatter_add(dx: Array, rows: Array, cols: Array, part: Array, counter: Counter) -> None:
    """``dx[rows[i], cols[j]] += part[i, j]`` for every output position: one addition per
    element of ``part``, a block of rows and columns read once each at a time, in place."""
    column_pieces = scatter_groups(cols)
    for taken_rows, into_rows in scatter_groups(rows):
        for taken_cols, into_cols in column_pieces:
            counter.add_into(dx[into_rows, into_cols], part[taken_rows, taken_cols])


@backward_fast.register
def _(layer: Upsample, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per tap: ``λ_h·λ_w`` for every output element and channel, times ``g``, added into a
    zero input gradient (one addition per output element a tap), a group of output rows and
    columns that read distinct input positions at a time (:func:`scatter_groups`)."""
    if not input_grad:
        return None, {}
    dx = np.zeros(x.shape)
    for rows, cols, row_weights, col_weights in _taps(layer, x):
        part = g
        if row_weights is not None:   # into a kept scratch array (fresh memory page-faults)
            weights = counter.multiply(np.broadcast_to(row_weights[:, None, None], g.shape),
                                       col_weights[None, :, None],
                                       out=_workspace("upsample tap", g.shape))
            part = counter.multiply(weights, g, out=weights)
        _scatter_add(dx, rows, cols, part, counter)
    return dx, {}


@backward_reference.register
def _(layer: Upsample, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """PyTorch's loop: per channel and output element, each tap's ``λ_h·λ_w·g`` added."""
    if not input_grad:
        return None, {}
    taps = [(rows.tolist(), cols.tolist(), None if lh is None else lh.tolist(),
             None if lw is None else lw.tolist()) for rows, cols, lh, lw in _taps(layer, x)]
    size_h, size_w, channels = x.shape
    grads = g.tolist()
    dx = [[[0.0] * channels for _ in range(size_w)] for _ in range(size_h)]
    for c in range(channels):
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                value = grads[i][j][c]
                for rows, cols, lh, lw in taps:
                    if lh is None or lw is None:
                        dx[rows[i]][cols[j]][c] += value
                    else:
                        dx[rows[i]][cols[j]][c] += lh[i] * lw[j] * value
                        counter.mults += 2
                    counter.adds += 1
    return np.array(dx, dtype=np.float64), {}


@backward_fast.register
def _(layer: PReLU, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The mask ``x > 0`` once; ``a·g`` for every element; ``x·g`` for every element, zero
    where the mask holds, summed per slope."""
    slopes = _slopes(layer, x, params)
    if not (input_grad or trainable):
        return None, {}
    mask = counter.greater(x, 0.0)
    dx = None
    if input_grad:
        dx = np.where(mask, g, counter.multiply(g, slopes))
    grads: dict[str, Array] = {}
    if trainable:
        chosen = np.where(mask, 0.0, counter.multiply(x, g))
        if slopes.shape[0] == 1:
            grads["weight"] = counter.einsum("p->", chosen.ravel()).reshape(1)
        else:
            grads["weight"] = counter.einsum("pc->c", chosen.reshape(-1, x.shape[-1]))
    return dx, grads


@backward_reference.register
def _(layer: PReLU, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element, as ``prelu_backward``: the mask, both products, the sums per slope
    one term at a time."""
    slopes = _slopes(layer, x, params).tolist()
    if not (input_grad or trainable):
        return None, {}
    xs, gs = x.reshape(-1, x.shape[-1]).tolist(), g.reshape(-1, g.shape[-1]).tolist()
    dx: list[list[float]] = []
    sums: list[float | None] = [None] * len(slopes)
    for row, grad_row in zip(xs, gs):
        line = []
        for c, (value, grad) in enumerate(zip(row, grad_row)):
            slope = c if len(slopes) > 1 else 0
            positive = value > 0
            counter.comparisons += 1
            if input_grad:
                scaled = slopes[slope] * grad
                counter.mults += 1
                line.append(grad if positive else scaled)
            if trainable:
                term = 0.0 if positive else value * grad
                counter.mults += 1
                current = sums[slope]
                if current is None:
                    sums[slope] = term
                else:
                    sums[slope] = current + term
                    counter.adds += 1
        dx.append(line)
    grads = {"weight": np.array(sums, dtype=np.float64)} if trainable else {}
    return (np.array(dx, dtype=np.float64).reshape(x.shape) if input_grad else None), grads
