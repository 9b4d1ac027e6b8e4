"""Executors of the layers around convolutions, fast and reference.

The layers of :mod:`symconv.nnlayers`, and the routing stages of :mod:`symconv.graph`.

Each layer registers its parameter (and buffer) shapes, a vectorised executor and a plain-loop
reference executor with the registries of :mod:`symconv.execute`, which imports this module, so
that :func:`~symconv.execute.execute` and :func:`~symconv.verify.verify` run whole networks.
Both executors count while they run — the fast one through the :class:`~symconv.execute.Counter`
helpers, which count from the shapes of the arrays they compute, the reference one scalar by
scalar — and never read a count from a formula. What each layer performs
(``docs/conventions.md``):

=====================  ==========================================================================
layer                  operations performed
=====================  ==========================================================================
``Linear``             per output: a dot product of ``in_features`` terms (as many mults, one
                       fewer adds), one more add for the bias
``BatchNorm2d``        folded ``y = x·a + b``: 1 mult and 1 add per element; ``a = γ/√(σ² + ε)``
                       and ``b = β − μ·a`` are computed once from the parameters and buffers,
                       uncounted, as when the weights are loaded (``BatchNorm1d`` alike)
``ReLU``               ``max(x, 0)``: 1 comparison per element
``ReLU6``              ``min(max(x, 0), 6)``: 2 comparisons per element
``Activation``         per element, what :data:`~symconv.nnlayers.ACTIVATIONS` lists: e.g.
                       ``leakyrelu`` ``x if x > 0 else slope·x`` (1 mult, 1 comparison),
                       ``hardswish`` ``x·min(max(x + 3, 0), 6)/6`` (1 add, 2 comparisons,
                       1 division, 1 mult); constants not on the layer take
                       :data:`ACTIVATION_DEFAULTS`
``AvgPool2d``          zero padding; per output, the window summed (``k_h·k_w − 1`` adds) and
                       divided by ``k_h·k_w`` (1 division; padding counted in the divisor)
``MaxPool2d``          −∞ padding; per output, ``k_h·k_w − 1`` comparisons
``GlobalAvgPool2d``    per channel, ``H·W − 1`` adds and 1 division
``Flatten``            a reshape, channels last; nothing counted
``ResidualAdd``        the block's input added to its output: 1 add per element
``graph.Add``          the output of an earlier stage added: 1 add per element
``graph.Reuse``        the output of an earlier stage, passed on; nothing counted
=====================  ==========================================================================

Parameters and buffers: ``Linear`` has ``weight`` ``(in_features, out_features)`` and, with a
bias, ``bias`` ``(out_features,)``; ``BatchNorm2d`` has ``weight`` (γ) and ``bias`` (β), each
``(channels,)``, and the buffers ``running_mean`` (μ) and ``running_var`` (σ²), which live in
``execute(..., buffers=...)`` and :attr:`~symconv.execute.Execution.buffers`, not in the
parameters. ε is the layer's ``eps`` when it has one, else PyTorch's default :data:`BATCHNORM_EPS`.

Examples
--------
>>> import numpy as np
>>> from symconv import execute
>>> from symconv.layers import Conv2d
>>> from symconv.nnlayers import BatchNorm2d, ReLU6, Residual, Sequential
>>> block = Residual(Sequential(("conv", Conv2d(4, 4, 3, padding=1)), ("bn", BatchNorm2d(4)),
...                             ("relu6", ReLU6())))
>>> run = execute(block, np.ones((5, 5, 4)))
>>> [(name, stage.counts.as_dict()) for name, stage in run.stages]   # doctest: +NORMALIZE_WHITESPACE
[('conv', {'mults': 3600, 'adds': 3500, 'divs': 0, 'comparisons': 0}),
 ('bn', {'mults': 100, 'adds': 100, 'divs': 0, 'comparisons': 0}),
 ('relu6', {'mults': 0, 'adds': 0, 'divs': 0, 'comparisons': 200}),
 ('add', {'mults': 0, 'adds': 100, 'divs': 0, 'comparisons': 0})]
>>> sorted(run.params["bn"]), sorted(run.buffers["bn"])
(['bias', 'weight'], ['running_mean', 'running_var'])
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import numpy as np

from symconv.errors import SymconvError
from symconv.execute import (
    Array,
    Counter,
    Params,
    _check_window_fits,
    _conv_geometry,
    _ints,
    _kernel_offsets,
    _taps,
    buffer_shapes,
    check_fits,
    parameter_shapes,
    run_fast,
    run_reference,
    second_input,
)
from symconv.graph import Add, Reuse
from symconv.layers import Layer
from symconv.nnlayers import (
    Activation,
    AvgPool2d,
    BatchNorm2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    ResidualAdd,
)

__all__ = ["BATCHNORM_EPS", "ACTIVATION_DEFAULTS", "batchnorm_folded"]

#: ε of a BatchNorm layer that does not carry its own ``eps`` (PyTorch's default).
BATCHNORM_EPS = 1e-5


def _positions(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(size) for size in shape))


def _rows(x: Array) -> list[list[float]]:
    """``x`` as a list of channel rows, one per position (plain floats for the reference loops)."""
    rows: list[list[float]] = x.reshape(-1, x.shape[-1]).tolist()
    return rows


def _from_rows(rows: list[list[float]], shape: tuple[int, ...]) -> Array:
    return np.array(rows, dtype=np.float64).reshape(shape)


# --------------------------------------------------------------------------- Linear


@parameter_shapes.register
def _(layer: Linear) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {"weight": (int(layer.in_features), int(layer.out_features))}
    if layer.bias:
        shapes["bias"] = (int(layer.out_features),)
    return shapes


@run_fast.register
def _(layer: Linear, x: Array, params: Params, counter: Counter) -> Array:
    """One matmul over the last axis (dot products of ``in_features`` terms), then the bias."""
    out = counter.matmul(x, params["weight"])
    if layer.bias:
        counter.add(out, params["bias"], out=out)
    return out


@run_reference.register
def _(layer: Linear, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: every output element a dot product accumulated one product at a time."""
    weight: list[list[float]] = params["weight"].tolist()
    bias: list[float] | None = params["bias"].tolist() if layer.bias else None
    features = len(weight[0])
    out: list[list[float]] = []
    for row in _rows(x):
        result = []
        for n in range(features):
            total = row[0] * weight[0][n]
            counter.mults += 1
            for m in range(1, len(row)):
                total += row[m] * weight[m][n]
                counter.mults += 1
                counter.adds += 1
            if bias is not None:
                total += bias[n]
                counter.adds += 1
            result.append(total)
        out.append(result)
    return _from_rows(out, (*x.shape[:-1], features))


# --------------------------------------------------------------------------- BatchNorm


@parameter_shapes.register
def _(layer: BatchNorm2d) -> dict[str, tuple[int, ...]]:
    return {"weight": (int(layer.channels),), "bias": (int(layer.channels),)}


@buffer_shapes.register
def _(layer: BatchNorm2d) -> dict[str, tuple[int, ...]]:
    return {"running_mean": (int(layer.channels),), "running_var": (int(layer.channels),)}


def batchnorm_folded(layer: BatchNorm2d, params: Params) -> tuple[Array, Array]:
    """The per-channel ``a = γ/√(σ² + ε)`` and ``b = β − μ·a`` of ``y = x·a + b`` (not counted).

    Parameters
    ----------
    layer
        The BatchNorm layer (its ``eps`` if it has one, else :data:`BATCHNORM_EPS`).
    params
        ``weight`` (γ), ``bias`` (β), ``running_mean`` (μ) and ``running_var`` (σ²).

    Examples
    --------
    >>> import numpy as np
    >>> a, b = batchnorm_folded(BatchNorm2d(1), {"weight": np.array([2.0]), "bias": np.array([1.0]),
    ...                         "running_mean": np.array([3.0]), "running_var": np.array([4.0 - 1e-5])})
    >>> a.round(12), b.round(12)
    (array([1.]), array([-2.]))
    """
    eps = float(getattr(layer, "eps", BATCHNORM_EPS))
    scale = params["weight"] / np.sqrt(params["running_var"] + eps)
    shift = params["bias"] - params["running_mean"] * scale
    return scale, shift


@run_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded: one multiplication and one addition per element."""
    scale, shift = batchnorm_folded(layer, params)
    out = counter.multiply(x, scale)
    return counter.add(out, shift, out=out)


@run_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded, element by element: ``x·a + b``."""
    scale, shift = (values.tolist() for values in batchnorm_folded(layer, params))
    out = []
    for row in _rows(x):
        result = []
        for c, value in enumerate(row):
            product = value * scale[c]
            counter.mults += 1
            result.append(product + shift[c])
            counter.adds += 1
        out.append(result)
    return _from_rows(out, x.shape)


# --------------------------------------------------------------------------- activations


@run_fast.register
def _(layer: ReLU, x: Array, params: Params, counter: Counter) -> Array:
    """``max(x, 0)``: one comparison per element."""
    return counter.maximum(x, 0.0)


@run_fast.register
def _(layer: ReLU6, x: Array, params: Params, counter: Counter) -> Array:
    """``min(max(x, 0), 6)``: two comparisons per element."""
    out = counter.maximum(x, 0.0)
    return counter.minimum(out, 6.0, out=out)


@run_reference.register
def _(layer: ReLU, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element, one comparison each."""
    out = []
    for value in x.ravel().tolist():
        out.append(value if value > 0.0 else 0.0)
        counter.comparisons += 1
    return np.array(out, dtype=np.float64).reshape(x.shape)


@run_reference.register
def _(layer: ReLU6, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element: ``max(x, 0)`` then ``min(·, 6)``, two comparisons each."""
    out = []
    for value in x.ravel().tolist():
        low = value if value > 0.0 else 0.0
        out.append(low if low < 6.0 else 6.0)
        counter.comparisons += 2
    return np.array(out, dtype=np.float64).reshape(x.shape)


#: The constants of :class:`~symconv.nnlayers.Activation` functions that have some, when the
#: layer does not carry its own (PyTorch's defaults).
ACTIVATION_DEFAULTS = {"negative_slope": 0.01, "min_val": -1.0, "max_val": 1.0}


def _constant(layer: Activation, name: str) -> float:
    return float(getattr(layer, name, ACTIVATION_DEFAULTS[name]))


def _hardsigmoid_fast(x: Array, counter: Counter) -> Array:
    """``min(max(x + 3, 0), 6) / 6``: 1 add, 2 comparisons, 1 division per element."""
    out = counter.add(x, 3.0)
    counter.maximum(out, 0.0, out=out)
    counter.minimum(out, 6.0, out=out)
    return counter.divide(out, 6.0, out=out)


@run_fast.register
def _(layer: Activation, x: Array, params: Params, counter: Counter) -> Array:
    """The function of :data:`~symconv.nnlayers.ACTIVATIONS`, vectorised.

    ``leakyrelu`` multiplies every element by the slope and keeps ``x`` where ``x > 0``;
    ``hardswish`` is ``x·hardsigmoid(x)``.
    """
    function = layer.function
    if function == "relu":
        return counter.maximum(x, 0.0)
    if function in ("relu6", "hardtanh"):
        low, high = (0.0, 6.0) if function == "relu6" else (_constant(layer, "min_val"),
                                                            _constant(layer, "max_val"))
        out = counter.maximum(x, low)
        return counter.minimum(out, high, out=out)
    if function == "leakyrelu":
        scaled = counter.multiply(x, _constant(layer, "negative_slope"))
        return np.where(counter.greater(x, 0.0), x, scaled)
    if function == "hardsigmoid":
        return _hardsigmoid_fast(x, counter)
    if function == "hardswish":
        out = _hardsigmoid_fast(x, counter)
        return counter.multiply(x, out, out=out)
    raise SymconvError(f"Activation(function={function!r}) has no executor; add one to "
                       "symconv.nnexecute")


def _activation_scalar(layer: Activation, counter: Counter) -> Callable[[float], float]:
    """One element's evaluation, counting each scalar operation where it is performed."""
    function = layer.function

    def greater(a: float, b: float) -> bool:
        counter.comparisons += 1
        return a > b

    def clamp(v: float, low: float, high: float) -> float:
        v = v if greater(v, low) else low
        return high if greater(v, high) else v

    def hardsigmoid(v: float) -> float:
        counter.adds += 1
        counter.divs += 1
        return clamp(v + 3.0, 0.0, 6.0) / 6.0

    def times(a: float, b: float) -> float:
        counter.mults += 1
        return a * b

    if function == "relu":
        return lambda v: v if greater(v, 0.0) else 0.0
    if function in ("relu6", "hardtanh"):
        low, high = (0.0, 6.0) if function == "relu6" else (_constant(layer, "min_val"),
                                                            _constant(layer, "max_val"))
        return lambda v: clamp(v, low, high)
    if function == "leakyrelu":
        slope = _constant(layer, "negative_slope")
        return lambda v: (lambda scaled: v if greater(v, 0.0) else scaled)(times(v, slope))
    if function == "hardsigmoid":
        return hardsigmoid
    if function == "hardswish":
        return lambda v: times(v, hardsigmoid(v))
    raise SymconvError(f"Activation(function={function!r}) has no reference executor; add one to "
                       "symconv.nnexecute")


@run_reference.register
def _(layer: Activation, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element, each operation of the function counted."""
    evaluate = _activation_scalar(layer, counter)
    out = [evaluate(value) for value in x.ravel().tolist()]
    return np.array(out, dtype=np.float64).reshape(x.shape)


# --------------------------------------------------------------------------- pooling

check_fits.register(AvgPool2d, _check_window_fits)
check_fits.register(MaxPool2d, _check_window_fits)


def _padded(layer: AvgPool2d | MaxPool2d, x: Array, fill: float) -> Array:
    padding = _ints(layer.padding)
    if not any(padding):
        return x
    return np.pad(x, [(p, p) for p in padding] + [(0, 0)], constant_values=fill)


def _pool_fast(layer: AvgPool2d | MaxPool2d, x: Array, counter: Counter, fill: float) -> Array:
    """The first tap of every window copied, then each further tap combined into it: ``k_h·k_w − 1``
    additions (average) or comparisons (max) per output element."""
    geometry = _conv_geometry(layer, x.shape[:-1])
    padded = _padded(layer, x, fill)
    out: Array | None = None
    for offset in _kernel_offsets(geometry["kernel"]):
        window = padded[_taps(offset, geometry["dilation"], geometry["stride"], geometry["output"])]
        if out is None:
            out = np.array(window)
        elif isinstance(layer, MaxPool2d):
            counter.maximum(out, window, out=out)
        else:
            counter.add_into(out, window)
    assert out is not None
    return out


def _pool_reference(layer: AvgPool2d | MaxPool2d, x: Array, counter: Counter, fill: float) -> Array:
    """Loops over output positions, channels and the window, one scalar at a time."""
    geometry = _conv_geometry(layer, x.shape[:-1])
    padded = _padded(layer, x, fill).tolist()
    channels = x.shape[-1]
    maximum = isinstance(layer, MaxPool2d)
    out = []
    for position in _positions(geometry["output"]):
        for c in range(channels):
            total: float | None = None
            for offset in _kernel_offsets(geometry["kernel"]):
                row = padded
                for o, s, i, d in zip(position, geometry["stride"], offset, geometry["dilation"]):
                    row = row[o * s + i * d]
                value = row[c]
                if total is None:
                    total = value
                elif maximum:
                    total = value if value > total else total
                    counter.comparisons += 1
                else:
                    total += value
                    counter.adds += 1
            assert total is not None
            out.append(total)
    return np.array(out, dtype=np.float64).reshape(*geometry["output"], channels)


def _window_size(layer: AvgPool2d) -> float:
    return float(np.prod(_ints(layer.kernel_size)))


@run_fast.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Zero padding; each window summed, then one division by ``k_h·k_w`` per output."""
    out = _pool_fast(layer, x, counter, 0.0)
    return counter.divide(out, _window_size(layer), out=out)


@run_reference.register
def _(layer: AvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: each window summed, then divided by ``k_h·k_w``."""
    sums = _pool_reference(layer, x, counter, 0.0)
    size = _window_size(layer)
    out = [total / size for total in sums.ravel().tolist()]
    counter.divs += len(out)
    return np.array(out, dtype=np.float64).reshape(sums.shape)


@run_fast.register
def _(layer: MaxPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """−∞ padding; each window's terms compared one after the other."""
    return _pool_fast(layer, x, counter, -np.inf)


@run_reference.register
def _(layer: MaxPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: the running maximum of each window."""
    return _pool_reference(layer, x, counter, -np.inf)


@run_fast.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Each channel summed over every position (``H·W − 1`` adds), then one division."""
    sums = counter.einsum("uvc->c", x)
    counter.divide(sums, float(x.shape[0] * x.shape[1]), out=sums)
    return sums.reshape(1, 1, -1)


@run_reference.register
def _(layer: GlobalAvgPool2d, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: a running sum per channel, then one division."""
    rows = _rows(x)
    sums = list(rows[0])
    for row in rows[1:]:
        for c, value in enumerate(row):
            sums[c] += value
            counter.adds += 1
    out = [total / len(rows) for total in sums]
    counter.divs += len(out)
    return np.array(out, dtype=np.float64).reshape(1, 1, -1)


# --------------------------------------------------------------------------- reshaping, residuals


def _flatten(layer: Flatten, x: Array, params: Params, counter: Counter) -> Array:
    """All axes into one, channels last (row-major over ``(H, W, C)``); nothing is counted."""
    return x.reshape(-1)


run_fast.register(Flatten, _flatten)
run_reference.register(Flatten, _flatten)


@second_input.register
def _(layer: ResidualAdd) -> str:
    return "input"


def _check_same_shape(layer: Layer, x: Array, other: Array) -> None:
    if x.shape != other.shape:
        name = second_input(layer)
        if name == "input":
            raise SymconvError(
                f"the block's output {x.shape} must have the shape of its input {other.shape} "
                "to be added to it; make the block keep the shape (padding=k//2, stride 1, the "
                "same channels), or drop the residual connection"
            )
        raise SymconvError(
            f"x has shape {x.shape} but the output of stage {name!r} added to it has shape "
            f"{other.shape}; both must have the same shape"
        )


def _add_fast(layer: Layer, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """``x + other``: one addition per element."""
    _check_same_shape(layer, x, other)
    return counter.add(x, other)


def _add_reference(layer: Layer, x: Array, params: Params, counter: Counter, *,
                   other: Array) -> Array:
    """Element by element, one addition each."""
    _check_same_shape(layer, x, other)
    out = [a + b for a, b in zip(x.ravel().tolist(), other.ravel().tolist())]
    counter.adds += len(out)
    return np.array(out, dtype=np.float64).reshape(x.shape)


run_fast.register(ResidualAdd, _add_fast)
run_reference.register(ResidualAdd, _add_reference)


@second_input.register
def _(layer: Add) -> str:
    return layer.other


@second_input.register
def _(layer: Reuse) -> str:
    return layer.source


run_fast.register(Add, _add_fast)
run_reference.register(Add, _add_reference)


def _reuse(layer: Reuse, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """The output of stage :attr:`~symconv.graph.Reuse.source`, unchanged; nothing is counted."""
    recorded = tuple(int(size) for size in layer.shape)
    if other.shape != recorded:
        raise SymconvError(
            f"Reuse(source={layer.source!r}) records shape {recorded} but that stage's output "
            f"has shape {other.shape}; record the shape it has"
        )
    return other


run_fast.register(Reuse, _reuse)
run_reference.register(Reuse, _reuse)
