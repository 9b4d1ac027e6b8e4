"""Backward executors of the transcendental activations (Sigmoid, Tanh, SiLU, GELU in both
forms, ELU, Softplus, Mish) and of ``Softmax`` / ``LogSoftmax``, fast and reference.

Each formula of :mod:`symconv.layers.backward_activations` is written once, over an *ops*
object: :class:`_Vector` applies each operation to whole arrays through the
:class:`~symconv.execute.counter.Counter` (the fast executor), :class:`_Scalar` to one element at
a time, counting each as it goes (the reference executor, element by element). The forward
pass's saved output (Sigmoid's, Tanh's, Softmax's) is recomputed here uncounted, as a training
framework would read it from memory.

The piecewise activations keep their executors in :mod:`symconv.execute.backward_layers`; the
:class:`~symconv.layers.Activation` executors registered here hand those on.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from symconv.execute.activations import constant
from symconv.execute.backward_layers import Gradients, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.layers import Activation, LogSoftmax, Softmax
from symconv.layers.activations import check_axis

__all__ = ["FORMULAS"]

#: √½, 1/√(2π) (GELU's pdf), and the tanh form's β = √(2/π) and κ, as PyTorch's kernels use them.
_SQRT_HALF = math.sqrt(0.5)
_PDF = 2.0 / math.sqrt(math.pi) * math.sqrt(0.5) * 0.5
_BETA = math.sqrt(2.0) * (2.0 / math.sqrt(math.pi)) * 0.5
_KAPPA = 0.044715
_THREE_KAPPA = 3.0 * _KAPPA   # a product of two constants, folded

#: Elements per chunk of the fast executor (its temporaries stay in the cache).
_CHUNK = 32768


class _Vector:
    """Whole-array operations, each counted by the Counter per element of its result."""

    def __init__(self, counter: Counter) -> None:
        self.c = counter

    def mul(self, a: Any, b: Any) -> Any:
        return self.c.multiply(a, b) if type(a) is np.ndarray else self.c.multiply(b, a)

    def add(self, a: Any, b: Any) -> Any:
        return self.c.add(a, b) if type(a) is np.ndarray else self.c.add(b, a)

    def sub(self, a: Any, b: Any) -> Any:
        return self.c.subtract(a, b)

    def div(self, a: Any, b: Any) -> Any:
        return self.c.divide(a, b)

    def greater(self, a: Any, b: Any) -> Any:
        return self.c.greater(a, b)

    def call(self, name: str, a: Any) -> Any:
        with np.errstate(over="ignore"):   # exp overflows where a selection drops the value
            return getattr(self.c, name)(a)

    @staticmethod
    def where(condition: Any, a: Any, b: Any) -> Any:
        return np.where(condition, a, b)


class _Scalar:
    """One element's operations, each counted where it is performed."""

    _FUNCTIONS: ClassVar[dict[str, Callable[[float], float]]] = {
        "exp": math.exp, "erf": math.erf, "tanh": math.tanh, "log1p": math.log1p}

    def __init__(self, counter: Counter) -> None:
        self.c = counter

    def mul(self, a: float, b: float) -> float:
        self.c.mults += 1
        return a * b

    def add(self, a: float, b: float) -> float:
        self.c.adds += 1
        return a + b

    def sub(self, a: float, b: float) -> float:
        self.c.adds += 1
        return a - b

    def div(self, a: float, b: float) -> float:
        self.c.divs += 1
        return a / b if b else math.copysign(math.inf, a) if a else math.nan

    def greater(self, a: float, b: float) -> bool:
        self.c.comparisons += 1
        return a > b

    def call(self, name: str, a: float) -> float:
        self.c.transcendentals += 1
        try:
            return self._FUNCTIONS[name](a)
        except OverflowError:
            return math.inf
        except ValueError:   # NaN in, NaN out
            return math.nan

    @staticmethod
    def where(condition: bool, a: float, b: float) -> float:
        return a if condition else b


def _sigmoid(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    return o.mul(o.mul(g, o.sub(1.0, y)), y)


def _tanh(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    return o.mul(g, o.sub(1.0, o.mul(y, y)))


def _silu(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    sigma = o.div(1.0, o.add(o.call("exp", -x), 1.0))
    return o.mul(o.mul(g, sigma), o.add(o.mul(x, o.sub(1.0, sigma)), 1.0))


def _gelu(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    cdf = o.mul(o.add(o.call("erf", o.mul(x, _SQRT_HALF)), 1.0), 0.5)
    pdf = o.mul(o.call("exp", o.mul(o.mul(x, x), -0.5)), _PDF)
    return o.mul(g, o.add(cdf, o.mul(x, pdf)))


def _gelu_tanh(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    square = o.mul(x, x)
    cube = o.mul(square, x)
    inner = o.mul(o.add(x, o.mul(cube, _KAPPA)), _BETA)
    t = o.call("tanh", inner)
    left = o.mul(x, 0.5)
    left_derivative = o.mul(o.add(t, 1.0), 0.5)
    tanh_derivative = o.sub(1.0, o.mul(t, t))
    inner_derivative = o.mul(o.add(o.mul(square, _THREE_KAPPA), 1.0), _BETA)
    right_derivative = o.mul(o.mul(left, tanh_derivative), inner_derivative)
    return o.mul(g, o.add(left_derivative, right_derivative))


def _elu(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    negative = o.mul(o.mul(g, constant(layer, "alpha")), o.call("exp", x))
    return o.where(o.greater(x, 0.0), g, negative)


def _softplus(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    scaled = o.mul(x, constant(layer, "beta"))
    z = o.call("exp", scaled)
    smooth = o.div(o.mul(g, z), o.add(z, 1.0))
    return o.where(o.greater(scaled, constant(layer, "threshold")), g, smooth)


def _mish(o: Any, layer: Activation, x: Any, y: Any, g: Any) -> Any:
    sigma = o.div(1.0, o.add(o.call("exp", -x), 1.0))
    t = o.call("tanh", o.call("log1p", o.call("exp", x)))
    slope = o.mul(o.mul(x, sigma), o.sub(1.0, o.mul(t, t)))
    return o.mul(g, o.add(t, slope))


#: Each function's backward, ``formula(ops, layer, x, saved output, g)``.
FORMULAS: dict[str, Callable[..., Any]] = {
    "sigmoid": _sigmoid, "tanh": _tanh, "silu": _silu, "gelu": _gelu, "gelu_tanh": _gelu_tanh,
    "elu": _elu, "softplus": _softplus, "mish": _mish,
}


def _saved_output(function: str, x: Array) -> Array | None:
    """Sigmoid's and Tanh's forward output, which their backward reads (not counted)."""
    if function == "sigmoid":
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-x))
    if function == "tanh":
        return np.tanh(x)
    return None


_PIECEWISE_FAST = backward_fast.dispatch(Activation)
_PIECEWISE_REFERENCE = backward_reference.dispatch(Activation)


@backward_fast.register
def _(layer: Activation, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The formula on whole arrays."""
    if layer.function not in FORMULAS:
        return _PIECEWISE_FAST(layer, x, params, g, counter, input_grad=input_grad,
                               trainable=trainable)
    if not input_grad:
        return None, {}
    y = _saved_output(layer.function, x)
    formula, ops = FORMULAS[layer.function], _Vector(counter)
    flat_x, flat_g = x.reshape(-1), np.ascontiguousarray(g).reshape(-1)
    flat_y = None if y is None else y.reshape(-1)
    out = np.empty(x.size)
    # in chunks that stay in cache (the temporaries of a long formula are many); every element
    # still goes through every operation once, counted per element of each result
    for start in range(0, x.size, _CHUNK):
        part = slice(start, start + _CHUNK)
        out[part] = formula(ops, layer, flat_x[part], None if flat_y is None else flat_y[part],
                            flat_g[part])
    return out.reshape(x.shape), {}


@backward_reference.register
def _(layer: Activation, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """The formula element by element."""
    if layer.function not in FORMULAS:
        return _PIECEWISE_REFERENCE(layer, x, params, g, counter, input_grad=input_grad,
                                    trainable=trainable)
    if not input_grad:
        return None, {}
    formula, ops = FORMULAS[layer.function], _Scalar(counter)
    saved = _saved_output(layer.function, x)
    ys = saved.ravel().tolist() if saved is not None else [None] * x.size
    out = [formula(ops, layer, value, y, grad)
           for value, y, grad in zip(x.ravel().tolist(), ys, g.ravel().tolist())]
    return np.array(out, dtype=np.float64).reshape(x.shape), {}


# --------------------------------------------------------------------------- softmax


def _softmax_output(layer: Softmax, moved: Array) -> Array:
    """The forward pass's output along the last axis (saved by the forward; not counted)."""
    shifted = moved - moved.max(axis=-1, keepdims=True)
    if isinstance(layer, LogSoftmax):
        return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)


@backward_fast.register
def _(layer: Softmax, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Per row: Softmax ``y·(g − Σ g·y)``; LogSoftmax ``g − exp(y)·Σ g``."""
    if not input_grad:
        return None, {}
    axis = check_axis(layer.axis, x.ndim, f"{type(layer).__name__}(axis")
    moved, grad = np.moveaxis(x, axis, -1), np.moveaxis(g, axis, -1)
    length = moved.shape[-1]
    y = _softmax_output(layer, moved).reshape(-1, length)
    rows = np.ascontiguousarray(grad).reshape(-1, length)
    if isinstance(layer, LogSoftmax):
        total = counter.einsum("rl->r", rows)[:, None]
        out = counter.subtract(rows, counter.multiply(counter.exp(y), total))
    else:
        total = counter.einsum("rl,rl->r", rows, y)[:, None]
        out = counter.multiply(y, counter.subtract(rows, total))
    return np.ascontiguousarray(np.moveaxis(out.reshape(moved.shape), -1, axis)), {}


@backward_reference.register
def _(layer: Softmax, x: Array, params: Params, g: Array, counter: Counter, *,
      input_grad: bool, trainable: bool) -> Gradients:
    """Row by row, element by element."""
    if not input_grad:
        return None, {}
    axis = check_axis(layer.axis, x.ndim, f"{type(layer).__name__}(axis")
    moved = np.moveaxis(x, axis, -1)
    y_rows = _softmax_output(layer, moved).reshape(-1, moved.shape[-1]).tolist()
    g_rows = np.moveaxis(g, axis, -1).reshape(-1, moved.shape[-1]).tolist()
    s = _Scalar(counter)
    out = []
    for ys, gs in zip(y_rows, g_rows):
        if isinstance(layer, LogSoftmax):
            total = gs[0]
            for value in gs[1:]:
                total = s.add(total, value)
            out.append([s.sub(grad, s.mul(s.call("exp", y), total)) for y, grad in zip(ys, gs)])
        else:
            total = s.mul(gs[0], ys[0])
            for y, grad in zip(ys[1:], gs[1:]):
                total = s.add(total, s.mul(grad, y))
            out.append([s.mul(y, s.sub(grad, total)) for y, grad in zip(ys, gs)])
    result = np.array(out, dtype=np.float64).reshape(moved.shape)
    return np.ascontiguousarray(np.moveaxis(result, -1, axis)), {}
