"""Backward executors of the transformer kinds, fast and reference (what each counts:
:mod:`symconv.layers.backward_transformer`): ``MulScalar``, the attention's scaling, the token
layers, and — through :func:`operand_backward` — the kinds that read a second tensor:
``MatMul``, the attention's scores and context, and ``Mul``, ``Sub``, ``Div``."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from symconv.execute.backward_broadcast import _reduce_to, binary_backward
from symconv.execute.backward_layers import Gradients, _both, backward_fast, backward_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.layers import Layer
from symconv.layers.attention import AttentionContext, AttentionScale, AttentionScores
from symconv.layers.broadcast import _Binary
from symconv.layers.products import MatMul, MulScalar
from symconv.layers.tokens import AddParameter, ClassToken, Rearrange, Reshape, Select

__all__ = ["operand_backward", "reads_operand"]

Pair = tuple[Array | None, Array | None]


def _scale(counter: Counter, g: Array, factor: float, method: str) -> Array:
    """``g·factor``: one multiplication per element (one at a time in the reference)."""
    if method == "fast":
        return counter.multiply(g, factor)
    out = [value * factor for value in g.ravel().tolist()]
    counter.mults += len(out)
    return np.array(out, dtype=np.float64).reshape(g.shape)


def _matmul(counter: Counter, a: Array, b: Array, method: str) -> Array:
    """``a @ b`` over the last two axes (the leading ones alike): NumPy's, or plain loops with
    one dot product per element, counted term by term."""
    if method == "fast":
        return counter.matmul(a, b)
    lead = a.shape[:-2]
    out = np.empty((*lead, a.shape[-2], b.shape[-1]))
    for index in np.ndindex(*lead):
        rows, columns = a[index].tolist(), b[index].tolist()
        for i, row in enumerate(rows):
            for j in range(len(columns[0])):
                total = row[0] * columns[0][j]
                counter.mults += 1
                for t in range(1, len(row)):
                    total += row[t] * columns[t][j]
                    counter.mults += 1
                    counter.adds += 1
                position = (*index, i, j)
                out[position] = total
    return out


def _register(kind: type, function: Any) -> None:
    """Register ``function`` (which takes ``method=``) as the fast and reference backward of
    ``kind``."""
    backward_fast.register(kind, functools.partial(function, method="fast"))
    backward_reference.register(kind, functools.partial(function, method="reference"))


def _mul_scalar(layer: MulScalar, x: Array, params: Params, g: Array, counter: Counter, *,
                input_grad: bool, trainable: bool, method: str) -> Gradients:
    """``g·factor``."""
    return (_scale(counter, g, float(layer.factor), method) if input_grad else None), {}


def _attention_scale(layer: AttentionScale, x: Array, params: Params, g: Array,
                     counter: Counter, *, input_grad: bool, trainable: bool,
                     method: str) -> Gradients:
    """The queries' ``g·(1/√D)``; zero for the keys and values."""
    if not input_grad:
        return None, {}
    factor = 1.0 / math.sqrt(int(layer.embed_dim) // int(layer.num_heads))
    dx = np.zeros(x.shape)
    dx[:, :int(layer.embed_dim)] = _scale(counter, g, factor, method)
    return dx, {}


def _add_parameter(layer: AddParameter, x: Array, params: Params, g: Array, counter: Counter,
                   *, input_grad: bool, trainable: bool, method: str) -> Gradients:
    """``g`` itself; the learned tensor's gradient ``g`` summed over its broadcast axes."""
    grads: dict[str, Array] = {}
    if trainable and layer.learned:
        shape = tuple(int(size) for size in layer.shape)
        if method == "fast":
            grads["value"] = _reduce_to(counter, g, shape)
        else:
            grads["value"] = _reduce_loops(counter, g, shape)
    return (np.array(g) if input_grad else None), grads


def _reduce_loops(counter: Counter, g: Array, shape: tuple[int, ...]) -> Array:
    """``g`` summed into ``shape`` (broadcast onto it) one term at a time."""
    padded = (1,) * (g.ndim - len(shape)) + shape
    out = np.zeros(padded)
    seen = np.zeros(padded, dtype=bool)
    for index in np.ndindex(*g.shape):
        target = tuple(0 if size == 1 else i for i, size in zip(index, padded))
        if seen[target]:
            out[target] += g[index]
            counter.adds += 1
        else:
            out[target], seen[target] = g[index], True
    return out.reshape(shape)


_register(MulScalar, _mul_scalar)
_register(AttentionScale, _attention_scale)
_register(AddParameter, _add_parameter)


@_both(Reshape, Rearrange, Select, ClassToken)
def _moved(layer: Layer, x: Array, params: Params, g: Array, counter: Counter, *,
           input_grad: bool, trainable: bool) -> Gradients:
    """Nothing counted: ``g`` reshaped back, permuted back, copied into a zero gradient, or
    split into the token's gradient and the input's."""
    grads: dict[str, Array] = {}
    dx: Array
    if isinstance(layer, Reshape):
        dx = g.reshape(x.shape)
    elif isinstance(layer, Rearrange):
        permuted = tuple(x.shape[axis] for axis in layer.axes)
        dx = np.ascontiguousarray(g.reshape(permuted).transpose(np.argsort(layer.axes)))
    elif isinstance(layer, Select):
        dx = np.zeros(x.shape)
        dx[(slice(None),) * layer.axis + (layer.index,)] = g
    else:
        dx = np.array(g[1:])
        if trainable:
            grads["token"] = np.array(g[0])
    return (dx if input_grad else None), grads


# --------------------------------------------------------------------------- two operands


@functools.singledispatch
def operand_backward(layer: Layer, x: Array, other: Array, g: Array, counter: Counter,
                     input_grad: bool, other_grad: bool, method: str) -> Pair:
    """The gradients of ``x`` and of ``other`` (stage ``layer.other``'s output, whole) through
    a layer that reads both, each where needed; counted as it runs."""
    raise NotImplementedError(type(layer).__name__)


def reads_operand(layer: Layer) -> bool:
    """Whether ``layer``'s backward runs through :func:`operand_backward`."""
    return operand_backward.dispatch(type(layer)) is not operand_backward.dispatch(object)


@operand_backward.register
def _(layer: _Binary, x: Array, other: Array, g: Array, counter: Counter, input_grad: bool,
      other_grad: bool, method: str) -> Pair:
    return binary_backward(layer, x, other, g, counter, input_grad, other_grad, method)


@operand_backward.register
def _(layer: MatMul, x: Array, other: Array, g: Array, counter: Counter, input_grad: bool,
      other_grad: bool, method: str) -> Pair:
    """``g·Bᵀ`` and ``xᵀ·g`` (transposed back where ``B`` is ``otherᵀ``)."""
    right = other.swapaxes(-1, -2) if layer.transpose_other else other
    dx = _matmul(counter, g, np.ascontiguousarray(right.swapaxes(-1, -2)), method) \
        if input_grad else None
    d_other = None
    if other_grad:
        d_right = _matmul(counter, np.ascontiguousarray(x.swapaxes(-1, -2)), g, method)
        d_other = np.ascontiguousarray(d_right.swapaxes(-1, -2)) if layer.transpose_other \
            else d_right
    return dx, d_other


def _heads(x: Array, heads: int) -> Array:
    """``(L, E)`` as ``(h, L, D)``."""
    return np.ascontiguousarray(x.reshape(x.shape[0], heads, -1).transpose(1, 0, 2))


def _joined(x: Array) -> Array:
    """``(h, L, D)`` as ``(L, E)``, the heads side by side."""
    return x.transpose(1, 0, 2).reshape(x.shape[1], -1)


@operand_backward.register
def _(layer: AttentionScores, x: Array, other: Array, g: Array, counter: Counter,
      input_grad: bool, other_grad: bool, method: str) -> Pair:
    """Per head ``g·k_h`` for the queries and ``gᵀ·q_h`` for the keys."""
    heads, embed = int(layer.num_heads), x.shape[-1]
    dx = d_other = None
    if input_grad:
        keys = _heads(other[:, embed:2 * embed], heads)
        dx = _joined(_matmul(counter, g, keys, method))
    if other_grad:
        d_keys = _matmul(counter, np.ascontiguousarray(g.transpose(0, 2, 1)),
                         _heads(x, heads), method)
        d_other = np.zeros(other.shape)
        d_other[:, embed:2 * embed] = _joined(d_keys)
    return dx, d_other


@operand_backward.register
def _(layer: AttentionContext, x: Array, other: Array, g: Array, counter: Counter,
      input_grad: bool, other_grad: bool, method: str) -> Pair:
    """Per head ``g_h·v_hᵀ`` for the weights and ``attn_hᵀ·g_h`` for the values."""
    heads, embed = x.shape[0], other.shape[-1] // 3
    grads = _heads(g, heads)
    dx = d_other = None
    if input_grad:
        values = _heads(other[:, 2 * embed:], heads)
        dx = _matmul(counter, grads, np.ascontiguousarray(values.transpose(0, 2, 1)), method)
    if other_grad:
        d_values = _matmul(counter, np.ascontiguousarray(x.transpose(0, 2, 1)), grads, method)
        d_other = np.zeros(other.shape)
        d_other[:, 2 * embed:] = _joined(d_values)
    return dx, d_other
