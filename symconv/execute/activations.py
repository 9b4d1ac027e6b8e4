"""Executors of the activations that evaluate transcendental functions (Sigmoid, SiLU, Tanh,
GELU in both forms, ELU, Softplus, Mish) and of :class:`~symconv.layers.Softmax` and
:class:`~symconv.layers.LogSoftmax`, fast and reference.

Each follows PyTorch's CPU formula and counts every operation it performs; a negation (sign
flip) is not counted, a subtraction is an addition. :mod:`symconv.execute.elementwise` hands the
functions of :data:`FAST` and :data:`SCALAR` their :class:`~symconv.layers.Activation`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference
from symconv.layers import Activation, LogSoftmax, Softmax
from symconv.layers.activations import check_axis

__all__ = ["FAST", "SCALAR", "CONSTANTS", "constant"]

#: The activations' constants (PyTorch's defaults: ELU's alpha, Softplus' beta and threshold,
#: LeakyReLU's slope, Hardtanh's range), where the layer carries none.
CONSTANTS = {"alpha": 1.0, "beta": 1.0, "threshold": 20.0,
             "negative_slope": 0.01, "min_val": -1.0, "max_val": 1.0}

#: √½ and √(2/π), as PyTorch's GELU kernels use them.
_SQRT_HALF = math.sqrt(0.5)
_GELU_BETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5
_GELU_KAPPA = 0.044715


def constant(layer: object, name: str) -> float:
    """The layer's constant ``name``, or PyTorch's default from :data:`CONSTANTS`."""
    return float(getattr(layer, name, CONSTANTS[name]))


def _sigmoid(layer: Activation, x: Array, c: Counter) -> Array:
    c.read(x)   # through its negation, which is not counted
    with np.errstate(over="ignore"):  # exp(−x) = inf for x < −709 gives the right 0
        return c.divide(1.0, c.add(c.exp(-x), 1.0))


def _silu(layer: Activation, x: Array, c: Counter) -> Array:
    with np.errstate(over="ignore"):  # exp(−x) = inf for x < −709 gives the right −0
        return c.divide(x, c.add(c.exp(-x), 1.0))


def _tanh(layer: Activation, x: Array, c: Counter) -> Array:
    return c.tanh(x)


def _gelu(layer: Activation, x: Array, c: Counter) -> Array:
    inner = c.add(c.erf(c.multiply(x, _SQRT_HALF)), 1.0)
    return c.multiply(c.multiply(x, 0.5), inner)


def _gelu_tanh(layer: Activation, x: Array, c: Counter) -> Array:
    cube = c.multiply(c.multiply(x, x), x)
    inner = c.multiply(c.add(x, c.multiply(cube, _GELU_KAPPA)), _GELU_BETA)
    return c.multiply(c.multiply(x, 0.5), c.add(c.tanh(inner), 1.0))


def _elu(layer: Activation, x: Array, c: Counter) -> Array:
    with np.errstate(over="ignore"):  # exp(x) = inf only where the selection keeps x
        out = c.multiply(c.add(c.exp(x), -1.0), constant(layer, "alpha"))
    np.copyto(out, x, where=c.greater(x, 0.0))   # a selection, not counted
    return out


def _softplus(layer: Activation, x: Array, c: Counter) -> Array:
    beta = constant(layer, "beta")
    scaled = c.multiply(x, beta)
    with np.errstate(over="ignore"):  # exp overflows where the threshold keeps x anyway
        out = c.divide(c.log1p(c.exp(scaled)), beta)
    np.copyto(out, x, where=c.greater(scaled, constant(layer, "threshold")))
    return out


def _mish(layer: Activation, x: Array, c: Counter) -> Array:
    with np.errstate(over="ignore"):
        return c.multiply(x, c.tanh(c.log1p(c.exp(x))))


#: The vectorised evaluation of each function, by name.
FAST: dict[str, Callable[[Activation, Array, Counter], Array]] = {
    "sigmoid": _sigmoid, "silu": _silu, "tanh": _tanh, "gelu": _gelu, "gelu_tanh": _gelu_tanh,
    "elu": _elu, "softplus": _softplus, "mish": _mish,
}


class _Scalar:
    """One element's operations, each counted where it is performed."""

    def __init__(self, counter: Counter) -> None:
        self.c = counter

    def mul(self, a: float, b: float) -> float:
        self.c.mults += 1
        return a * b

    def add(self, a: float, b: float) -> float:
        self.c.adds += 1
        return a + b

    def div(self, a: float, b: float) -> float:
        self.c.divs += 1
        return a / b

    def greater(self, a: float, b: float) -> bool:
        self.c.comparisons += 1
        return a > b

    def call(self, function: Callable[[float], float], a: float) -> float:
        self.c.transcendentals += 1
        try:
            return function(a)
        except OverflowError:
            return math.inf
        except ValueError:  # math.log of a negative number, NaN in: NaN out, as in PyTorch
            return math.nan


def _scalar(layer: Activation, counter: Counter) -> Callable[[float], float]:
    s = _Scalar(counter)
    function = layer.function
    if function == "sigmoid":
        return lambda v: s.div(1.0, s.add(s.call(math.exp, -v), 1.0))
    if function == "silu":
        return lambda v: s.div(v, s.add(s.call(math.exp, -v), 1.0))
    if function == "tanh":
        return lambda v: s.call(math.tanh, v)
    if function == "gelu":
        return lambda v: s.mul(s.mul(v, 0.5), s.add(s.call(math.erf, s.mul(v, _SQRT_HALF)), 1.0))
    if function == "gelu_tanh":
        def gelu_tanh(v: float) -> float:
            cube = s.mul(s.mul(v, v), v)
            inner = s.mul(s.add(v, s.mul(cube, _GELU_KAPPA)), _GELU_BETA)
            return s.mul(s.mul(v, 0.5), s.add(s.call(math.tanh, inner), 1.0))
        return gelu_tanh
    if function == "elu":
        alpha = constant(layer, "alpha")

        def elu(v: float) -> float:
            negative = s.mul(s.add(s.call(math.exp, v), -1.0), alpha)
            return v if s.greater(v, 0.0) else negative
        return elu
    if function == "softplus":
        beta, threshold = constant(layer, "beta"), constant(layer, "threshold")

        def softplus(v: float) -> float:
            scaled = s.mul(v, beta)
            smooth = s.div(s.call(math.log1p, s.call(math.exp, scaled)), beta)
            return v if s.greater(scaled, threshold) else smooth
        return softplus
    if function == "mish":
        return lambda v: s.mul(v, s.call(math.tanh, s.call(math.log1p, s.call(math.exp, v))))
    raise KeyError(function)


#: The one-element evaluation of each function, by name, counting as it goes.
SCALAR: dict[str, Callable[[Activation, Counter], Callable[[float], float]]] = {
    name: _scalar for name in FAST
}


# --------------------------------------------------------------------------- softmax


@run_fast.register
def _(layer: Softmax, x: Array, params: Params, counter: Counter) -> Array:
    """Per row: max, ``x − max``, ``exp``, sum, one reciprocal, ``L`` multiplications
    (log-softmax: ``x − (max + log sum)``)."""
    axis = check_axis(layer.axis, x.ndim, f"{type(layer).__name__}(axis")
    moved = np.moveaxis(x, axis, -1)
    length = moved.shape[-1]
    peak = moved[..., :1].copy()
    for j in range(1, length):   # the maximum: L − 1 comparisons per row
        counter.maximum(peak, moved[..., j:j + 1], out=peak)
    shifted = counter.subtract(moved, peak)
    exps = counter.exp(shifted)
    total = exps[..., :1].copy()
    for j in range(1, length):   # the sum: L − 1 additions per row
        counter.add_into(total, exps[..., j:j + 1])
    out = np.empty_like(x)
    target = np.moveaxis(out, axis, -1)   # written in place, in the input's layout
    if isinstance(layer, LogSoftmax):
        offset = counter.add(peak, counter.log(total))
        counter.subtract(moved, offset, out=target)
    else:
        counter.multiply(exps, counter.divide(1.0, total), out=target)
    return out


@run_reference.register
def _(layer: Softmax, x: Array, params: Params, counter: Counter) -> Array:
    """Row by row, element by element, each operation counted."""
    axis = check_axis(layer.axis, x.ndim, f"{type(layer).__name__}(axis")
    moved = np.moveaxis(x, axis, -1)
    rows = counter.rows(moved)
    s = _Scalar(counter)
    out = []
    for row in rows:
        peak = row[0]
        for value in row[1:]:
            peak = value if s.greater(value, peak) else peak
        exps = [s.call(math.exp, s.add(value, -peak)) for value in row]
        total = exps[0]
        for value in exps[1:]:
            total = s.add(total, value)
        if isinstance(layer, LogSoftmax):
            offset = s.add(peak, s.call(math.log, total))
            out.append([s.add(value, -offset) for value in row])
        else:
            inverse = s.div(1.0, total)
            out.append([s.mul(value, inverse) for value in exps])
    result = np.array(out, dtype=np.float64).reshape(moved.shape)
    return np.moveaxis(result, -1, axis)
