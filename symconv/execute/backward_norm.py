"""Backward executors of LayerNorm, GroupNorm and BatchNorm without affine parameters, fast and
reference (the formulations of :mod:`symconv.layers.backward_norm` and
:mod:`symconv.layers.backward`).

Each row's mean and ``rstd`` are what the forward pass saves; LayerNorm's and GroupNorm's are
recomputed here uncounted (their forward counts them), BatchNorm's are read from the
``save_mean`` and ``save_invstd`` of its training-mode forward. BatchNorm with ``affine=True`` keeps its
executors in :mod:`symconv.execute.backward_layers`; those registered here hand it on.
"""

from __future__ import annotations

import itertools

import numpy as np

from symconv.execute.backward_layers import (
    Gradients,
    _wide,
    backward_fast,
    backward_reference,
    saved_statistics,
)
from symconv.execute.conv import _workspace
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.layers import BatchNorm2d, GroupNorm, Layer, LayerNorm

__all__: list[str] = []


def _layout(layer: Layer, x: Array) -> tuple[tuple[int, int, int], bool, bool, bool, float]:
    """``(P, G, S)`` (positions, groups, channels per group: LayerNorm has one group), whether
    rows are positions (LayerNorm) or groups, the weight and bias, and ``eps``."""
    positions = x.size // x.shape[-1]
    if isinstance(layer, LayerNorm):
        return ((positions, 1, x.shape[-1]), True, layer.has_weight, layer.has_bias,
                float(layer.eps))
    assert isinstance(layer, GroupNorm)
    groups = int(layer.num_groups)
    return ((positions, groups, x.shape[-1] // groups), False, layer.affine, layer.affine,
            float(layer.eps))


def _statistics(x3: Array, axes: tuple[int, ...], eps: float) -> tuple[Array, Array]:
    """Each row's mean and ``1/√(var + eps)`` (biased variance), as the forward saves them."""
    return (x3.mean(axis=axes, keepdims=True),
            1.0 / np.sqrt(x3.var(axis=axes, keepdims=True) + eps))


def _norm_fast(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
               input_grad: bool, trainable: bool) -> Gradients:
    """Whole arrays, no Python loop over positions. LayerNorm works on ``(P, C)``, its row
    values (mean, rstd, the two means of the input gradient) along each position's channels;
    GroupNorm on wide rows (:func:`~symconv.execute.backward_layers._wide`: ``k`` positions
    side by side), every per-element value there being a channel's (its group's value
    repeated over the group's channels), so each operation runs long loops. A sum over a
    group's ``P·S`` terms is taken down the wide rows, then over their ``k`` channel rows,
    then over the group's ``S`` channels: ``(P/k − 1)·k·C + (k − 1)·C + (S − 1)·G = G·(P·S − 1)``
    additions, as one sum per group takes. The weight and bias gradients of both are such
    column sums. The statistics the forward saves are recomputed uncounted: the mean, then
    ``rstd`` from the counted ``x − μ`` (kept in a scratch array, where ``x̂`` is then made in
    place)."""
    (positions, groups, size), by_position, weight, bias, eps = _layout(layer, x)
    channels = groups * size
    weight_grad, bias_grad = trainable and weight, trainable and bias
    side = _wide(positions, channels)
    rows = x.reshape(positions, channels)
    grad = np.ascontiguousarray(g).reshape(positions, channels)

    def wide(array: Array) -> Array:          # k positions' channel rows side by side
        return array.reshape(-1, side * channels)

    def fold(partial: Array) -> Array:        # the k channel rows of column sums, added
        return counter.einsum("tc->c", partial.reshape(side, channels))

    def per_row(per_channel: Array) -> Array:   # GroupNorm: a group's channels added
        return counter.einsum("gs->g", per_channel.reshape(groups, size))

    if by_position:   # LayerNorm on (P, C): a row value broadcast along the channels
        work, terms = (lambda array: array), channels

        def spread(values: Array) -> Array:
            return values[:, None]

        def row_sum(a: Array) -> Array:
            return counter.einsum("pc->p", a)

        def row_dot(a: Array, b: Array) -> Array:
            return counter.einsum("pc,pc->p", a, b)
    else:             # GroupNorm on wide rows: a group's value repeated along its channels
        work, terms = wide, positions * size

        def spread(values: Array) -> Array:
            return np.tile(np.repeat(values, size), side)

        def row_sum(a: Array) -> Array:
            return per_row(fold(counter.einsum("rc->c", a)))

        def row_dot(a: Array, b: Array) -> Array:
            return per_row(fold(counter.einsum("rc,rc->c", a, b)))

    xw, gw = work(rows), work(grad)
    bias_sum = fold(counter.einsum("rc->c", wide(grad))) if bias_grad else None
    xhat = out = weight_sum = None
    if input_grad or weight_grad:
        # saved by the forward pass (not counted): the mean, then rstd from the centred input
        if by_position:
            mean = np.einsum("pc->p", rows) / terms
        else:
            mean = _group_totals(np.add.reduce(wide(rows), axis=0), side, groups) / terms
        xhat = counter.subtract(xw, spread(mean), out=_workspace("norm centred", xw.shape))
        if by_position:
            squares = np.einsum("pc,pc->p", xhat, xhat)
        else:
            squares = _group_totals(np.einsum("rc,rc->c", xhat, xhat), side, groups)
        rstd = 1.0 / np.sqrt(squares / terms + eps)
        counter.multiply(xhat, spread(rstd), out=xhat)
        if weight_grad:
            weight_sum = fold(counter.einsum("rc,rc->c", wide(grad), wide(xhat)))
    if input_grad:
        assert xhat is not None
        if weight:
            gamma = params["weight"] if by_position else np.tile(params["weight"], side)
            gg = counter.multiply(gw, gamma, out=_workspace("norm scaled", gw.shape))
        else:
            gg = gw
        a = counter.divide(row_sum(gg), float(terms))
        b = counter.divide(row_dot(gg, xhat), float(terms))
        out = counter.subtract(gg, spread(a), out=np.empty(gw.shape))
        counter.subtract(out, counter.multiply(xhat, spread(b), out=xhat), out=out)
        counter.multiply(out, spread(rstd), out=out)
    grads = {name: total for name, total in (("weight", weight_sum), ("bias", bias_sum))
             if total is not None}
    return (None if out is None else out.reshape(x.shape)), grads


def _group_totals(per_column: Array, side: int, groups: int) -> Array:
    """Per group, the total of wide-row column values (``side`` positions of ``groups`` groups
    of channels): uncounted, for the statistics the forward saves."""
    return per_column.reshape(side, groups, -1).sum(axis=(0, 2))


def _norm_reference(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
                    input_grad: bool, trainable: bool) -> Gradients:
    """Element by element, every sum accumulated one term at a time."""
    (positions, groups, size), by_position, weight, bias, eps = _layout(layer, x)
    axes = (2,) if by_position else (0, 2)
    x3 = x.reshape(positions, groups, size)
    mean_, rstd_ = _statistics(x3, axes, eps)
    means, rstds = mean_.ravel().tolist(), rstd_.ravel().tolist()
    gamma = params["weight"].tolist() if weight else None
    xs, gs = x.ravel().tolist(), g.ravel().tolist()
    elements = list(itertools.product(range(positions), range(groups), range(size)))
    rows = [p * groups + k if by_position else k for p, k, _ in elements]
    channels = [k * size + s for _, k, s in elements]
    weight_grad, bias_grad = trainable and weight, trainable and bias
    xhat: list[float] = []
    if input_grad or weight_grad:
        for i, r in enumerate(rows):
            xhat.append((xs[i] - means[r]) * rstds[r])
            counter.adds += 1
            counter.mults += 1
    dx = None
    if input_grad:
        gg = list(gs)
        if gamma is not None:
            gg = [grad * gamma[c] for grad, c in zip(gs, channels)]
            counter.mults += len(gg)
        sums: dict[int, float] = {}
        dots: dict[int, float] = {}
        terms: dict[int, int] = {}
        for i, r in enumerate(rows):
            product = gg[i] * xhat[i]
            counter.mults += 1
            if r in sums:
                sums[r] += gg[i]
                dots[r] += product
                counter.adds += 2
            else:
                sums[r], dots[r], terms[r] = gg[i], product, 0
            terms[r] += 1
        a = {r: sums[r] / terms[r] for r in sums}
        b = {r: dots[r] / terms[r] for r in dots}
        counter.divs += 2 * len(sums)
        out = []
        for i, r in enumerate(rows):
            out.append((gg[i] - a[r] - xhat[i] * b[r]) * rstds[r])
            counter.adds += 2
            counter.mults += 2
        dx = np.array(out, dtype=np.float64).reshape(x.shape)
    grads: dict[str, Array] = {}
    for name, wanted in (("weight", weight_grad), ("bias", bias_grad)):
        if not wanted:
            continue
        total: dict[int, float] = {}
        for i, c in enumerate(channels):
            term = gs[i]
            if name == "weight":
                term *= xhat[i]
                counter.mults += 1
            if c in total:
                total[c] += term
                counter.adds += 1
            else:
                total[c] = term
        grads[name] = np.array([total[c] for c in range(groups * size)], dtype=np.float64)
    return dx, grads


for _kind in (LayerNorm, GroupNorm):
    backward_fast.register(_kind, _norm_fast)
    backward_reference.register(_kind, _norm_reference)


# --------------------------------------------------------------------------- BatchNorm


_AFFINE_FAST = backward_fast.dispatch(BatchNorm2d)
_AFFINE_REFERENCE = backward_reference.dispatch(BatchNorm2d)


@backward_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Without γ: ``(g − Σg/E − (x − μ)·(Σg·(x − μ))·(1/σ)²/E)·(1/σ)``."""
    if layer.affine:
        return _AFFINE_FAST(layer, x, params, g, counter, input_grad=input_grad,
                            trainable=trainable)
    if not input_grad:
        return None, {}
    mean, invstd = saved_statistics(layer, params)
    rows, grad = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
    elements = float(rows.shape[0])
    centred = counter.subtract(rows, mean)
    sum_g = counter.einsum("pc->c", grad)
    dot = counter.einsum("pc,pc->c", grad, centred)
    mean_g = counter.divide(sum_g, elements)
    k = counter.divide(counter.multiply(counter.multiply(invstd, invstd), dot), elements)
    out = counter.subtract(counter.subtract(grad, mean_g), counter.multiply(centred, k))
    return counter.multiply(out, invstd).reshape(x.shape), {}


@backward_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The same, one scalar at a time."""
    if layer.affine:
        return _AFFINE_REFERENCE(layer, x, params, g, counter, input_grad=input_grad,
                                 trainable=trainable)
    if not input_grad:
        return None, {}
    mean, invstd = (values.tolist() for values in saved_statistics(layer, params))
    xs, gs = x.reshape(-1, x.shape[-1]).tolist(), g.reshape(-1, g.shape[-1]).tolist()
    elements, channels = len(xs), len(xs[0])
    centred = [[value - mean[c] for c, value in enumerate(row)] for row in xs]
    counter.adds += elements * channels
    sum_g, dot = list(gs[0]), [gs[0][c] * centred[0][c] for c in range(channels)]
    counter.mults += channels
    for p in range(1, elements):
        for c in range(channels):
            sum_g[c] += gs[p][c]
            dot[c] += gs[p][c] * centred[p][c]
            counter.adds += 2
            counter.mults += 1
    constants = [(sum_g[c] / elements, invstd[c] * invstd[c] * dot[c] / elements)
                 for c in range(channels)]
    counter.divs += 2 * channels
    counter.mults += 2 * channels
    out = [[(gs[p][c] - constants[c][0] - centred[p][c] * constants[c][1]) * invstd[c]
            for c in range(channels)] for p in range(elements)]
    counter.adds += 2 * elements * channels
    counter.mults += 2 * elements * channels
    return np.array(out, dtype=np.float64).reshape(x.shape), {}
