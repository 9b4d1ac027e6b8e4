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
    backward_fast,
    backward_reference,
    saved_statistics,
)
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


#: Positions per chunk of the fast executor, times the channels: about this many elements (its
#: temporaries stay in the cache).
_CHUNK = 65536


def _accumulate(counter: Counter, total: Array | None, part: Array) -> Array:
    """A sum over chunks: the first chunk's partial sum, then each further one added (one add
    per element), so that a sum of ``n`` terms still takes ``n − 1`` additions."""
    if total is None:
        return part
    counter.add_into(total, part)
    return total


def _norm_fast(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
               input_grad: bool, trainable: bool) -> Gradients:
    """Whole arrays, in the layout ``(P, G, S)``, a chunk of positions at a time; rows reduce
    ``S`` (LayerNorm) or ``P`` and ``S`` (GroupNorm: its sums accumulate over the chunks, and
    the input gradient is a second pass). A dot product is a product, then a one-operand
    ``einsum`` sum (NumPy's two-operand path is slow for these shapes)."""
    shape3, by_position, weight, bias, eps = _layout(layer, x)
    axes = (2,) if by_position else (0, 2)
    rows = "pg" if by_position else "g"
    x3, g3 = x.reshape(shape3), g.reshape(shape3)
    mean, rstd = _statistics(x3, axes, eps)
    weight_grad, bias_grad = trainable and weight, trainable and bias
    gamma = params["weight"].reshape(1, *shape3[1:]) if weight else None
    step = max(1, _CHUNK // (shape3[1] * shape3[2]))
    chunks = [slice(start, start + step) for start in range(0, shape3[0], step)]

    def row(stat: Array, part: slice) -> Array:   # a row statistic of the chunk
        return stat[part] if by_position else stat

    xhat = np.empty(shape3) if input_grad or weight_grad else None
    gg = np.empty(shape3) if input_grad and weight else g3
    sums: list[Array | None] = [None, None]
    grads_total: dict[str, Array | None] = {"weight": None, "bias": None}
    for part in chunks:
        if xhat is not None:
            counter.subtract(x3[part], row(mean, part), out=xhat[part])
            counter.multiply(xhat[part], row(rstd, part), out=xhat[part])
        if input_grad:
            assert xhat is not None
            if gamma is not None:
                counter.multiply(g3[part], gamma, out=gg[part])
            a = counter.einsum(f"pgs->{rows}", gg[part])
            b = counter.einsum(f"pgs->{rows}", counter.multiply(gg[part], xhat[part]))
            if by_position:                 # per position: each chunk its own rows
                first, second = sums
                if first is None or second is None:
                    first, second = np.empty(shape3[:2]), np.empty(shape3[:2])
                first[part], second[part] = a, b
                sums = [first, second]
            else:
                sums = [_accumulate(counter, sums[0], a), _accumulate(counter, sums[1], b)]
        if weight_grad:
            assert xhat is not None
            grads_total["weight"] = _accumulate(counter, grads_total["weight"], counter.einsum(
                "pgs->gs", counter.multiply(g3[part], xhat[part])))
        if bias_grad:
            grads_total["bias"] = _accumulate(counter, grads_total["bias"],
                                              counter.einsum("pgs->gs", g3[part]))
    dx: Array | None = None
    if input_grad:
        assert xhat is not None and sums[0] is not None and sums[1] is not None
        terms = float(np.prod([shape3[axis] for axis in axes]))
        a, b = counter.divide(sums[0], terms), counter.divide(sums[1], terms)
        a, b = (a[..., None], b[..., None]) if by_position else (a[:, None], b[:, None])
        full = np.empty(shape3)
        for part in chunks:
            out = full[part]
            counter.subtract(gg[part], row(a, part), out=out)
            counter.subtract(out, counter.multiply(xhat[part], row(b, part)), out=out)
            counter.multiply(out, row(rstd, part), out=out)
        dx = full.reshape(x.shape)
    grads = {name: total.reshape(-1) for name, total in grads_total.items()
             if total is not None}
    return dx, grads


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
