"""Backward executors of single layers, fast (vectorised) and reference (scalar loops).

Each takes the layer's input ``x``, its parameters and buffers, the gradient of its output
``g``, a :class:`Counter`, and ``input_grad`` / ``trainable`` (which gradients to compute), and
returns ``(input gradient or None, {"weight": ..., "bias": ...})``. The counts come from the
operations performed (the Counter's helpers, or one by one in the reference loops), never from
formulas; what each layer does is said in :mod:`symconv.layers.backward`. What the forward pass
saves (BatchNorm's batch mean and ``1/σ``, max pooling's index of each window's maximum) is
read here: BatchNorm's from the ``save_mean`` and ``save_invstd`` of the training-mode forward
(:mod:`symconv.execute.batchnorm_train`, which counts them), max pooling's index recomputed
uncounted, as a training framework would read it from memory.
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Any

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.activations import constant
from symconv.execute.backward_depthwise import depthwise_backward
from symconv.execute.conv import _workspace
from symconv.execute.counter import Array, Counter, row_loops
from symconv.execute.geometry import kernel_offsets, placements, taps, window
from symconv.execute.registry import Params
from symconv.layers import (
    Activation,
    BatchNorm2d,
    ConvNd,
    ConvTransposeNd,
    Flatten,
    Layer,
    Linear,
    ReLU,
    ReLU6,
)

__all__ = ["backward_fast", "backward_reference", "Gradients"]

#: What a layer's backward returns: the input gradient (``None`` when not needed) and the
#: parameter gradients by name.
Gradients = tuple[Array | None, dict[str, Array]]


@functools.singledispatch
def backward_fast(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
                  input_grad: bool, trainable: bool) -> Gradients:
    """The vectorised backward pass of a single layer (registered per layer type)."""
    raise SymconvError(f"layer={type(layer).__name__} has no backward executor; register one "
                       "with symconv.execute.backward_layers.backward_fast.register")


@functools.singledispatch
def backward_reference(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
                       input_grad: bool, trainable: bool) -> Gradients:
    """The plain-loop backward pass of a single layer (registered per layer type)."""
    raise SymconvError(f"layer={type(layer).__name__} has no backward reference executor; "
                       "register one with symconv.execute.backward_layers.backward_reference")


def _subtract(counter: Counter, a: Array, b: Array | float) -> Array:
    """``a − b``: one addition (a subtraction) per element of the result."""
    return counter._elementwise(np.subtract, "adds", a, b)


def _both(*functions: Any) -> Any:
    """Register one function as both the fast and the reference backward of some types."""
    def register(function: Any) -> Any:
        for kind in functions:
            backward_fast.register(kind, function)
            backward_reference.register(kind, function)
        return function
    return register


# --------------------------------------------------------------------------- convolutions


def _pad(x: Array, padding: tuple[int, ...]) -> Array:
    """``x`` zero-padded on every spatial axis (a scratch array whose border stays zero; the
    executors only read it), or ``x`` itself without padding."""
    if not any(padding):
        return x
    shape = (*(size + 2 * pad for size, pad in zip(x.shape[:-1], padding)), x.shape[-1])
    padded = _workspace(f"backward padded{padding}", shape, fill=0.0)
    padded[tuple(slice(pad, pad + size) for pad, size in zip(padding, x.shape[:-1]))] = x
    return padded


def _crop(full: Array, padding: tuple[int, ...], sizes: tuple[int, ...]) -> Array:
    return np.ascontiguousarray(full[tuple(slice(p, p + n) for p, n in zip(padding, sizes))])


@backward_fast.register
def _(layer: ConvNd, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per kernel offset: the input gradient gets ``g × W[offset]ᵀ`` scattered into it (one
    addition per product, into zeros); the weight gradient at the offset is ``tapᵀ × g``, a dot
    product over the output positions."""
    shape = window(layer)
    output = g.shape[:-1]
    groups = int(layer.groups)
    weight = params["weight"]                      # (*kernel, M/g, N)
    per_in, channels_out = weight.shape[-2], weight.shape[-1]
    per_out = channels_out // groups
    padded = _pad(x, shape.padding)
    if per_in == 1 and per_out == 1:   # depthwise: blocks of rows, threads for large inputs
        full, dw = depthwise_backward(counter, padded, weight, g, shape, input_grad=input_grad,
                                      trainable=trainable)
        found: dict[str, Array] = {} if dw is None else {"weight": dw}
        if dw is not None and layer.bias:
            found["bias"] = counter.einsum("pn->n", g.reshape(-1, channels_out))
        dx = None if full is None else np.array(
            full[tuple(slice(p, p + n) for p, n in zip(shape.padding, x.shape[:-1]))])
        return dx, found
    positions = math.prod(output)
    g2 = g.reshape(positions, groups, per_out)
    grouped = np.moveaxis(weight.reshape(*weight.shape[:-1], groups, per_out), -2, -3)
    dx = None
    if input_grad:   # scratch arrays (fresh memory is slow to touch); the interior copied out
        dx = _workspace("input gradient", padded.shape)
        dx.fill(0.0)
        back = _workspace("input gradient product", (positions, groups * per_in)) \
            if groups == 1 else None
    dw = np.empty(weight.shape) if trainable else None
    tap = _workspace("weight gradient tap", (*output, groups * per_in)) if trainable else None
    for offset in kernel_offsets(shape.kernel):
        where = taps(offset, shape.dilation, shape.stride, output)
        if dw is not None and tap is not None:
            # contiguous, so that NumPy's matmul and einsum hand it to BLAS
            np.copyto(tap, padded[where])
            rows = tap.reshape(positions, groups, per_in)
            if groups == 1:
                dw[offset] = counter.matmul(rows[:, 0].T, g2[:, 0])
            else:
                part = counter.einsum("pgm,pgn->gmn", rows, g2)          # (g, M/g, N/g)
                dw[offset] = np.moveaxis(part, 0, 1).reshape(per_in, channels_out)
        if dx is not None:
            if back is not None:
                product = counter.matmul(g2[:, 0], grouped[offset][0].T, out=back)
            else:
                product = counter.einsum("pgn,gmn->pgm", g2, grouped[offset])
            counter.add_into(dx[where], product.reshape(*output, groups * per_in))
    grads: dict[str, Array] = {}
    if dw is not None:
        grads["weight"] = dw
        if layer.bias:
            grads["bias"] = counter.einsum("pn->n", g.reshape(positions, channels_out))
    return (None if dx is None else np.array(
        dx[tuple(slice(p, p + n) for p, n in zip(shape.padding, x.shape[:-1]))])), grads


@backward_reference.register
def _(layer: ConvNd, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Plain loops over output positions, channels, kernel offsets and the group's input
    channels; the output positions are the window placements that fit, found by trying."""
    shape = window(layer)
    starts = [placements(size, padding=p, reach=r, stride=s)
              for size, p, r, s in zip(x.shape[:-1], shape.padding, shape.reach, shape.stride)]
    padded = _pad(x, shape.padding)
    weight = params["weight"]
    per_in, channels_out = weight.shape[-2], weight.shape[-1]
    per_out = channels_out // int(layer.groups)
    dx = np.zeros(padded.shape)
    dw = np.zeros(weight.shape)
    seen: set[tuple[int, ...]] = set()
    db = [0.0] * channels_out
    db_terms = [0] * channels_out
    mults = adds = 0
    for position in itertools.product(*(range(len(axis)) for axis in starts)):
        corner = [axis[o] for axis, o in zip(starts, position)]
        for n in range(channels_out):
            grad = float(g[tuple((*position, n))])
            if trainable and layer.bias:
                db[n] += grad
                adds += 1 if db_terms[n] else 0
                db_terms[n] += 1
            first = (n // per_out) * per_in
            for offset in kernel_offsets(shape.kernel):
                at = tuple(c + i * d for c, i, d in zip(corner, offset, shape.dilation))
                for m in range(per_in):
                    if input_grad:
                        dx[tuple((*at, first + m))] += grad * float(weight[tuple((*offset, m, n))])
                        mults += 1
                        adds += 1
                    if trainable:
                        key = (*offset, m, n)
                        dw[key] += float(padded[tuple((*at, first + m))]) * grad
                        mults += 1
                        if key in seen:
                            adds += 1
                        else:
                            seen.add(key)
    counter.mults += mults
    counter.adds += adds
    grads: dict[str, Array] = {}
    if trainable:
        grads["weight"] = dw
        if layer.bias:
            grads["bias"] = np.array(db)
    return (_crop(dx, shape.padding, x.shape[:-1]) if input_grad else None), grads


@backward_fast.register
def _(layer: ConvTransposeNd, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per kernel offset, the output gradient at the positions that offset's products landed
    on (the cropped ones hold 0): the input gradient sums ``tap × W[offset]ᵀ`` over offsets,
    the weight gradient at the offset is ``xᵀ × tap``."""
    shape = window(layer)
    groups = int(layer.groups)
    weight = params["weight"]                      # (*kernel, M, N/g)
    channels_in, per_out = weight.shape[-2], weight.shape[-1]
    per_in = channels_in // groups
    positions = math.prod(x.shape[:-1])
    full = _pad(g, shape.padding)
    x2 = x.reshape(positions, groups, per_in)
    grouped = weight.reshape(*weight.shape[:-2], groups, per_in, per_out)
    dx: Array | None = None
    dw = np.empty(weight.shape) if trainable else None
    for offset in kernel_offsets(shape.kernel):
        tap = full[taps(offset, shape.dilation, shape.stride, x.shape[:-1])]
        tap = tap.reshape(positions, groups, per_out)
        if input_grad:
            back = counter.einsum("pgn,gmn->pgm", tap, grouped[offset])
            if dx is None:
                dx = back
            else:
                counter.add_into(dx, back)
        if dw is not None:
            dw[offset] = counter.einsum("pgm,pgn->gmn", x2, tap).reshape(channels_in, per_out)
    grads: dict[str, Array] = {}
    if dw is not None:
        grads["weight"] = dw
        if layer.bias:
            grads["bias"] = counter.einsum("pn->n", g.reshape(-1, g.shape[-1]))
    return (None if dx is None else dx.reshape(x.shape)), grads


@backward_reference.register
def _(layer: ConvTransposeNd, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Plain loops over input positions, channels, kernel offsets and the group's output
    channels: each product of the forward scatter, read back from where it landed."""
    shape = window(layer)
    weight = params["weight"]
    channels_in, per_out = weight.shape[-2], weight.shape[-1]
    per_in = channels_in // int(layer.groups)
    full = _pad(g, shape.padding)
    dx = np.zeros(x.shape)
    dw = np.zeros(weight.shape)
    seen: set[tuple[int, ...]] = set()
    mults = adds = 0
    for position in itertools.product(*(range(size) for size in x.shape[:-1])):
        for c in range(channels_in):
            first = (c // per_in) * per_out
            total: float | None = None
            for offset in kernel_offsets(shape.kernel):
                at = tuple(h * s + i * d for h, s, i, d in
                           zip(position, shape.stride, offset, shape.dilation))
                for o in range(per_out):
                    grad = float(full[tuple((*at, first + o))])
                    if input_grad:
                        product = grad * float(weight[tuple((*offset, c, o))])
                        mults += 1
                        if total is None:
                            total = product
                        else:
                            total += product
                            adds += 1
                    if trainable:
                        key = (*offset, c, o)
                        dw[key] += float(x[tuple((*position, c))]) * grad
                        mults += 1
                        if key in seen:
                            adds += 1
                        else:
                            seen.add(key)
            if total is not None:
                dx[tuple((*position, c))] = total
    grads: dict[str, Array] = {}
    if trainable:
        grads["weight"] = dw
        if layer.bias:
            grads["bias"] = _sum_rows(g.reshape(-1, g.shape[-1]), counter)
    counter.mults += mults
    counter.adds += adds
    return (dx if input_grad else None), grads


def _sum_rows(rows: Array, counter: Counter) -> Array:
    """Per column, the sum of the rows one addition at a time."""
    values = rows.tolist()
    out = list(values[0])
    for row in values[1:]:
        for n, value in enumerate(row):
            out[n] += value
            counter.adds += 1
    return np.array(out)


# --------------------------------------------------------------------------- Linear


@backward_fast.register
def _(layer: Linear, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """``g × Wᵀ``; ``xᵀ × g`` over the leading positions; the bias gradient sums ``g`` there."""
    weight = params["weight"]
    dx = counter.matmul(g, weight.T) if input_grad else None
    grads: dict[str, Array] = {}
    if trainable:
        x2, g2 = x.reshape(-1, x.shape[-1]), g.reshape(-1, g.shape[-1])
        if x2.shape[0] == 1:   # one position: each weight's gradient is one product (an
            with row_loops():  # outer product, on long rows: NumPy's loop on each in place
                grads["weight"] = counter.multiply(x2.T, g2)
        else:
            grads["weight"] = counter.matmul(x2.T, g2)
        if layer.bias:
            grads["bias"] = counter.einsum("pn->n", g2)
    return dx, grads


@backward_reference.register
def _(layer: Linear, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Every dot product accumulated one product at a time."""
    weight = params["weight"].tolist()
    xs = x.reshape(-1, x.shape[-1]).tolist()
    gs = g.reshape(-1, g.shape[-1]).tolist()
    features_in, features_out = len(weight), len(weight[0])
    dx = None
    if input_grad:
        rows = []
        for grad in gs:
            row = []
            for m in range(features_in):
                total = grad[0] * weight[m][0]
                counter.mults += 1
                for n in range(1, features_out):
                    total += grad[n] * weight[m][n]
                    counter.mults += 1
                    counter.adds += 1
                row.append(total)
            rows.append(row)
        dx = np.array(rows).reshape(x.shape)
    grads: dict[str, Array] = {}
    if trainable:
        dw = np.zeros((features_in, features_out))
        for m in range(features_in):
            for n in range(features_out):
                total = xs[0][m] * gs[0][n]
                counter.mults += 1
                for p in range(1, len(xs)):
                    total += xs[p][m] * gs[p][n]
                    counter.mults += 1
                    counter.adds += 1
                dw[m, n] = total
        grads["weight"] = dw
        if layer.bias:
            grads["bias"] = _sum_rows(np.array(gs), counter)
    return dx, grads


@_both(Flatten)
def _flatten(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
             input_grad: bool, trainable: bool) -> Gradients:
    """A reshape back: nothing counted."""
    return (g.reshape(x.shape) if input_grad else None), {}


# --------------------------------------------------------------------------- BatchNorm


def saved_statistics(layer: BatchNorm2d, params: Params) -> tuple[Array, Array]:
    """The batch mean and ``1/√(σ² + ε)`` per channel that the forward pass in training mode
    saved (``save_mean``, ``save_invstd``: :mod:`symconv.execute.batchnorm_train`, counted
    there); the backward reads them and computes no statistic again."""
    if "save_mean" not in params or "save_invstd" not in params:
        raise SymconvError(
            f"{type(layer).__name__}'s backward reads the batch mean and 1/σ its training-mode "
            "forward saved: pass params with 'save_mean' and 'save_invstd' (the .saved of "
            "execute(..., training=True)), or run execute_backward")
    return params["save_mean"], params["save_invstd"]


#: Elements a wide row of BatchNorm's backward holds at most (see :func:`_wide`).
WIDE_ROW = 8192


def _wide(positions: int, channels: int) -> int:
    """How many positions' channel rows to lay side by side in one wide row: the largest
    divisor ``k`` of ``positions`` with ``k·channels ≤`` :data:`WIDE_ROW` (at least 1).

    NumPy runs a per-channel operation on ``(P, C)`` as ``P`` short loops of ``C``; on
    ``(P/k, k·C)`` with the per-channel values repeated ``k`` times, as ``P/k`` long ones —
    the same operations, in about two thirds of the time.

    Examples
    --------
    >>> _wide(3136, 64), _wide(7, 64), _wide(10**6, 10**5)
    (112, 7, 1)
    """
    most = max(1, WIDE_ROW // channels)
    return max(k for k in range(1, min(most, positions) + 1) if positions % k == 0)


@backward_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """PyTorch's ``native_batch_norm_backward`` with batch statistics (the nests of
    :mod:`symconv.layers.backward`), on wide rows (:func:`_wide`).

    A sum over positions is taken down the wide rows, then over the ``k`` channel rows that
    sit side by side: ``(P/k − 1)·k·C + (k − 1)·C = (P − 1)·C`` additions, as one sum takes.
    The mean and ``1/σ`` are those the training-mode forward saved (:func:`saved_statistics`);
    ``x − μ`` is counted and kept in a scratch array. The input gradient is worked out in place
    in one fresh array."""
    if not (input_grad or trainable):
        return None, {}
    channels = x.shape[-1]
    elements = x.size // channels
    side = _wide(elements, channels)
    rows, grad = x.reshape(-1, side * channels), g.reshape(-1, side * channels)

    def spread(values: Array) -> Array:     # per-channel values along a wide row (a copy)
        return np.tile(values, side)

    def fold(partial: Array) -> Array:      # the k channel rows of a wide row's sums, added
        return counter.einsum("tc->c", partial.reshape(side, channels))

    mean, invstd = saved_statistics(layer, params)
    centred = counter.subtract(rows, spread(mean), out=_workspace("centred", rows.shape))
    sum_g = fold(counter.einsum("rc->c", grad))
    dot = fold(counter.einsum("rc,rc->c", grad, centred))
    dx = None
    if input_grad:
        mean_g = counter.divide(sum_g, float(elements))
        k = counter.multiply(invstd, invstd)
        k = counter.divide(counter.multiply(k, dot), float(elements))
        scale = counter.multiply(invstd, params["weight"])
        out = counter.subtract(grad, spread(mean_g))
        counter.subtract(out, counter.multiply(centred, spread(k), out=centred), out=out)
        dx = counter.multiply(out, spread(scale), out=out).reshape(x.shape)
    grads: dict[str, Array] = {}
    if trainable:
        grads = {"weight": counter.multiply(dot, invstd), "bias": sum_g}
    return dx, grads


@backward_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The same formulation, one scalar at a time."""
    if not (input_grad or trainable):
        return None, {}
    mean, invstd = (values.tolist() for values in saved_statistics(layer, params))
    gamma = params["weight"].tolist()
    xs, gs = x.reshape(-1, x.shape[-1]).tolist(), g.reshape(-1, g.shape[-1]).tolist()
    elements, channels = len(xs), len(xs[0])
    centred = []
    for row in xs:
        centred.append([value - mean[c] for c, value in enumerate(row)])
        counter.adds += channels
    sum_g, dot = list(gs[0]), []
    for c in range(channels):
        dot.append(gs[0][c] * centred[0][c])
        counter.mults += 1
    for p in range(1, elements):
        for c in range(channels):
            sum_g[c] += gs[p][c]
            dot[c] += gs[p][c] * centred[p][c]
            counter.adds += 2
            counter.mults += 1
    dx = None
    if input_grad:
        out = []
        constants = []
        for c in range(channels):
            mean_g = sum_g[c] / elements
            k = invstd[c] * invstd[c] * dot[c] / elements
            constants.append((mean_g, k, invstd[c] * gamma[c]))
            counter.divs += 2
            counter.mults += 3
        for p in range(elements):
            row = []
            for c in range(channels):
                mean_g, k, scale = constants[c]
                row.append((gs[p][c] - mean_g - centred[p][c] * k) * scale)
                counter.adds += 2
                counter.mults += 2
            out.append(row)
        dx = np.array(out).reshape(x.shape)
    grads: dict[str, Array] = {}
    if trainable:
        weight = []
        for c in range(channels):
            weight.append(dot[c] * invstd[c])
            counter.mults += 1
        grads = {"weight": np.array(weight), "bias": np.array(sum_g)}
    return dx, grads


# --------------------------------------------------------------------------- activations


def _select(mask: Array, chosen: Array, other: Array | None = None) -> Array:
    """``chosen`` where ``mask`` holds, else ``other`` (``+0.0`` when ``None``), in a fresh
    array: a select, no arithmetic, so nothing is counted.

    Done on the values' bits: an AND with a word of all ones where ``mask`` holds and all zeros
    elsewhere (and an OR of the two sides), which copies each value exactly, NaN included;
    NumPy's own ``where`` and masked copies take several times as long.

    Examples
    --------
    >>> import numpy as np
    >>> _select(np.array([True, False]), np.array([2.5, -1.0]))
    array([2.5, 0. ])
    >>> _select(np.array([True, False]), np.array([2.5, -1.0]), np.array([7.0, 8.0]))
    array([2.5, 8. ])
    """
    words = _workspace("select", mask.shape, dtype=np.int64)
    np.negative(mask.view(np.int8), out=words)          # True -> all ones, False -> 0
    picked = np.empty(mask.shape, dtype=np.int64)
    np.bitwise_and(np.asarray(chosen, dtype=np.float64).view(np.int64), words, out=picked)
    if other is not None:
        np.invert(words, out=words)
        np.bitwise_and(np.asarray(other, dtype=np.float64).view(np.int64), words, out=words)
        np.bitwise_or(picked, words, out=picked)
    return picked.view(np.float64)


def _mask(counter: Counter, x: Array, low: float, high: float | None = None) -> Array:
    """``low < x`` (and ``x < high``), counted, in a boolean scratch array."""
    inside = counter.greater(x, low, out=_workspace("above", x.shape, dtype=np.bool_))
    if high is not None:
        inside &= counter._elementwise(np.less, "comparisons", x, high,
                                       _workspace("below", x.shape, dtype=np.bool_))
    return inside


def _bounds(layer: Layer) -> tuple[float, float] | None:
    """The open interval where a clamping activation passes its input through."""
    function = layer.function if isinstance(layer, Activation) else type(layer).__name__.lower()
    if function in ("relu6",):
        return 0.0, 6.0
    if function == "hardtanh":
        return constant(layer, "min_val"), constant(layer, "max_val")
    if function in ("hardsigmoid", "hardswish"):
        return -3.0, 3.0
    return None


@backward_fast.register(ReLU)
@backward_fast.register(ReLU6)
@backward_fast.register(Activation)
def _(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """A select by comparisons with the input, and what the function's slope needs."""
    if not input_grad:
        return None, {}
    function = layer.function if isinstance(layer, Activation) else type(layer).__name__.lower()
    if function == "relu":
        return _select(_mask(counter, x, 0.0), g), {}
    if function == "leakyrelu":
        slope = constant(layer, "negative_slope")
        return _select(_mask(counter, x, 0.0), g, counter.multiply(g, slope)), {}
    bounds = _bounds(layer)
    assert bounds is not None
    low, high = bounds
    inside = _mask(counter, x, low, high)
    if function in ("relu6", "hardtanh"):
        return _select(inside, g), {}
    if function == "hardsigmoid":
        return _select(inside, counter.divide(g, 6.0)), {}
    if function == "hardswish":   # hardswish_backward: g·(x/3 + 1/2) inside, g above, 0 below
        factor = counter.add(counter.divide(x, 3.0), 0.5)
        return _select(inside, counter.multiply(g, factor), _select(x >= high, g)), {}
    raise SymconvError(f"Activation(function={function!r}) has no backward executor")


@backward_reference.register(ReLU)
@backward_reference.register(ReLU6)
@backward_reference.register(Activation)
def _(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Element by element, each comparison and arithmetic operation counted."""
    if not input_grad:
        return None, {}
    function = layer.function if isinstance(layer, Activation) else type(layer).__name__.lower()
    bounds = _bounds(layer)
    slope = constant(layer, "negative_slope")
    out = []
    for value, grad in zip(x.ravel().tolist(), g.ravel().tolist()):
        if bounds is None:
            other = 0.0
            if function == "leakyrelu":
                other = grad * slope
                counter.mults += 1
            counter.comparisons += 1
            out.append(grad if value > 0.0 else other)
            continue
        low, high = bounds
        counter.comparisons += 2
        inside = value > low and value < high
        if function == "hardsigmoid":
            counter.divs += 1
            out.append(grad / 6.0 if inside else 0.0)
        elif function == "hardswish":
            scaled = grad * (value / 3.0 + 0.5)
            counter.divs += 1
            counter.adds += 1
            counter.mults += 1
            out.append(scaled if inside else (grad if value >= high else 0.0))
        else:
            out.append(grad if inside else 0.0)
    return np.array(out, dtype=np.float64).reshape(x.shape), {}
