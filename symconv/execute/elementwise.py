"""Executors of the layers around convolutions, fast and reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import symconv.execute.activations as activations
from symconv.errors import SymconvError
from symconv.execute.counter import Counter
from symconv.execute.geometry import check_window_fits
from symconv.execute.registry import (
    Array,
    Params,
    _from_rows,
    buffer_shapes,
    check_fits,
    parameter_shapes,
    run_fast,
    run_reference,
    second_input,
)
from symconv.layers import (
    Activation,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Layer,
    MaxPool2d,
    ReLU,
    ReLU6,
    ResidualAdd,
    Reuse,
)

__all__ = ["BATCHNORM_EPS", "batchnorm_folded"]


#: ε of a BatchNorm layer that does not carry its own ``eps`` (PyTorch's default).
BATCHNORM_EPS = 1e-5



@parameter_shapes.register
def _(layer: BatchNorm2d) -> dict[str, tuple[int, ...]]:
    if not layer.affine:
        return {}
    return {"weight": (int(layer.channels),), "bias": (int(layer.channels),)}


@buffer_shapes.register
def _(layer: BatchNorm2d) -> dict[str, tuple[int, ...]]:
    if not layer.track_running_stats:   # batch statistics: no buffers
        return {}
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
    scale = 1.0 / np.sqrt(params["running_var"] + eps)
    if "weight" in params:     # affine=False: γ = 1, β = 0
        scale = params["weight"] * scale
    shift = -params["running_mean"] * scale
    if "bias" in params:
        shift = params["bias"] + shift
    return scale, shift


@run_fast.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded: one multiplication and one addition per element (without running statistics,
    :mod:`symconv.execute.batchnorm_train` runs it with the batch's)."""
    scale, shift = batchnorm_folded(layer, params)
    if layer.affine:
        counter.read(params["weight"], params["bias"])   # γ and β, folded into scale and shift
    out = counter.multiply(x, scale)
    return counter.add(out, shift, out=out)


@run_reference.register
def _(layer: BatchNorm2d, x: Array, params: Params, counter: Counter) -> Array:
    """Folded, element by element: ``x·a + b``."""
    scale, shift = (values.tolist() for values in batchnorm_folded(layer, params))
    if layer.affine:
        counter.read(params["weight"], params["bias"])   # γ and β, folded into scale and shift
    out = []
    for row in counter.rows(x):
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
    """Element by element, one comparison each; NaN stays NaN, as in PyTorch and ``np.maximum``."""
    out = []
    for value in counter.flat(x):
        out.append(0.0 if value < 0.0 else value)
        counter.comparisons += 1
    return np.array(out, dtype=np.float64).reshape(x.shape)


@run_reference.register
def _(layer: ReLU6, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element: ``max(x, 0)`` then ``min(·, 6)``, two comparisons each; NaN stays
    NaN, as in PyTorch."""
    out = []
    for value in counter.flat(x):
        low = 0.0 if value < 0.0 else value
        out.append(6.0 if low > 6.0 else low)
        counter.comparisons += 2
    return np.array(out, dtype=np.float64).reshape(x.shape)




def _hardsigmoid_fast(x: Array, counter: Counter) -> Array:
    """``min(max(x + 3, 0), 6) / 6``: 1 add, 2 comparisons, 1 division per element."""
    out = counter.add(x, 3.0)
    counter.maximum(out, 0.0, out=out)
    counter.minimum(out, 6.0, out=out)
    return counter.divide(out, 6.0, out=out)


@run_fast.register
def _(layer: Activation, x: Array, params: Params, counter: Counter) -> Array:
    """The function of :data:`~symconv.layers.ACTIVATIONS`, vectorised.

    ``leakyrelu`` multiplies every element by the slope and keeps ``x`` where ``x > 0``;
    ``hardswish`` is ``x·hardsigmoid(x)``.
    """
    function = layer.function
    if function == "relu":
        return counter.maximum(x, 0.0)
    if function in ("relu6", "hardtanh"):
        low, high = (0.0, 6.0) if function == "relu6" else (activations.constant(layer, "min_val"),
                                                            activations.constant(layer, "max_val"))
        out = counter.maximum(x, low)
        return counter.minimum(out, high, out=out)
    if function == "leakyrelu":
        scaled = counter.multiply(x, activations.constant(layer, "negative_slope"))
        chosen = np.where(counter.greater(x, 0.0), x, scaled)
        counter.wrote(chosen)
        return chosen
    if function == "hardsigmoid":
        return _hardsigmoid_fast(x, counter)
    if function == "hardswish":
        out = _hardsigmoid_fast(x, counter)
        return counter.multiply(x, out, out=out)
    if function in activations.FAST:   # the transcendental ones
        return activations.FAST[function](layer, x, counter)
    raise SymconvError(f"Activation(function={function!r}) has no executor; add one to "
                       "symconv.execute.elementwise")


def _activation_scalar(layer: Activation, counter: Counter) -> Callable[[float], float]:
    """One element's evaluation, counting each scalar operation where it is performed.

    A comparison with NaN is false, so every branch keeps ``v`` unless the comparison holds:
    NaN propagates, as in PyTorch.
    """
    function = layer.function

    def greater(a: float, b: float) -> bool:
        counter.comparisons += 1
        return a > b

    def clamp(v: float, low: float, high: float) -> float:
        v = low if greater(low, v) else v
        return high if greater(v, high) else v

    def hardsigmoid(v: float) -> float:
        counter.adds += 1
        counter.divs += 1
        return clamp(v + 3.0, 0.0, 6.0) / 6.0

    def times(a: float, b: float) -> float:
        counter.mults += 1
        return a * b

    if function == "relu":
        return lambda v: 0.0 if greater(0.0, v) else v
    if function in ("relu6", "hardtanh"):
        low, high = (0.0, 6.0) if function == "relu6" else (activations.constant(layer, "min_val"),
                                                            activations.constant(layer, "max_val"))
        return lambda v: clamp(v, low, high)
    if function == "leakyrelu":
        slope = activations.constant(layer, "negative_slope")
        return lambda v: (lambda scaled: v if greater(v, 0.0) else scaled)(times(v, slope))
    if function == "hardsigmoid":
        return hardsigmoid
    if function == "hardswish":
        return lambda v: times(v, hardsigmoid(v))
    if function in activations.SCALAR:   # the transcendental ones
        return activations.SCALAR[function](layer, counter)
    raise SymconvError(f"Activation(function={function!r}) has no reference executor; add one to "
                       "symconv.execute.elementwise")


@run_reference.register
def _(layer: Activation, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element, each operation of the function counted."""
    evaluate = _activation_scalar(layer, counter)
    out = [evaluate(value) for value in counter.flat(x)]
    return np.array(out, dtype=np.float64).reshape(x.shape)


# --------------------------------------------------------------------------- pooling

check_fits.register(AvgPool2d, check_window_fits)
check_fits.register(MaxPool2d, check_window_fits)



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
    out = [a + b for a, b in zip(counter.flat(x), counter.flat(other))]
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
    """The output of stage :attr:`~symconv.layers.Reuse.source`, unchanged; nothing is counted."""
    recorded = tuple(int(size) for size in layer.shape)
    if other.shape != recorded:
        raise SymconvError(
            f"Reuse(source={layer.source!r}) records shape {recorded} but that stage's output "
            f"has shape {other.shape}; record the shape it has"
        )
    return other


run_fast.register(Reuse, _reuse)
run_reference.register(Reuse, _reuse)
