"""Executors of the attention stages (:mod:`symconv.layers.attention`), fast and reference:
the scaling of the queries, the per-head products with the keys and with the values. The
projections run as :class:`~symconv.layers.Linear`, the softmax as
:class:`~symconv.layers.Softmax`."""

from __future__ import annotations

import math

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference, second_input
from symconv.layers.attention import AttentionContext, AttentionScale, AttentionScores

__all__: list[str] = []


@second_input.register
def _(layer: AttentionScores) -> str:
    return layer.other


@second_input.register
def _(layer: AttentionContext) -> str:
    return layer.other


def _factor(layer: AttentionScale) -> float:
    return 1.0 / math.sqrt(int(layer.embed_dim) // int(layer.num_heads))


@run_fast.register
def _(layer: AttentionScale, x: Array, params: Params, counter: Counter) -> Array:
    """The queries times ``1/√D``, one multiplication each."""
    return counter.multiply(x[:, :int(layer.embed_dim)], _factor(layer))


@run_reference.register
def _(layer: AttentionScale, x: Array, params: Params, counter: Counter) -> Array:
    """Element by element."""
    factor, embed = _factor(layer), int(layer.embed_dim)
    out = [[value * factor for value in row] for row in counter.scalars(x[:, :embed])]
    counter.mults += x.shape[0] * embed
    return np.array(out, dtype=np.float64).reshape(x.shape[0], embed)


def _heads(x: Array, heads: int) -> Array:
    """``(L, E)`` as ``(h, L, D)``."""
    return x.reshape(x.shape[0], heads, -1).transpose(1, 0, 2)


@run_fast.register
def _(layer: AttentionScores, x: Array, params: Params, counter: Counter, *,
      other: Array) -> Array:
    """Per head, one matmul of the queries with the keys transposed."""
    heads, embed = int(layer.num_heads), x.shape[-1]
    keys = _heads(other[:, embed:2 * embed], heads)
    return counter.matmul(_heads(x, heads), keys.transpose(0, 2, 1))


@run_reference.register
def _(layer: AttentionScores, x: Array, params: Params, counter: Counter, *,
      other: Array) -> Array:
    """Plain loops: one dot product of ``D`` terms per head, query and key."""
    heads, embed = int(layer.num_heads), x.shape[-1]
    size = embed // heads
    q, k = counter.scalars(x), counter.scalars(other[:, embed:2 * embed])
    out = []
    for head in range(heads):
        channels = range(head * size, (head + 1) * size)
        for row in q:
            line = []
            for key in k:
                total = 0.0
                for number, c in enumerate(channels):
                    total = row[c] * key[c] if number == 0 else total + row[c] * key[c]
                    counter.mults += 1
                    counter.adds += number > 0
                line.append(total)
            out.append(line)
    return np.array(out, dtype=np.float64).reshape(heads, len(q), len(k))


@run_fast.register
def _(layer: AttentionContext, x: Array, params: Params, counter: Counter, *,
      other: Array) -> Array:
    """Per head, one matmul of the weights with the values; the heads side by side."""
    heads, embed = x.shape[0], other.shape[-1] // 3
    values = _heads(other[:, 2 * embed:], heads)
    out = counter.matmul(x, values)            # (h, L, D)
    return np.ascontiguousarray(out.transpose(1, 0, 2).reshape(x.shape[1], embed))


@run_reference.register
def _(layer: AttentionContext, x: Array, params: Params, counter: Counter, *,
      other: Array) -> Array:
    """Plain loops: one dot product over the keys per query and channel."""
    heads, embed = x.shape[0], other.shape[-1] // 3
    size = embed // heads
    weights, v = counter.scalars(x), counter.scalars(other[:, 2 * embed:])
    out = []
    for query in range(x.shape[1]):
        line = []
        for c in range(embed):
            row = weights[c // size][query]
            total = 0.0
            for key, weight in enumerate(row):
                total = weight * v[key][c] if key == 0 else total + weight * v[key][c]
                counter.mults += 1
                counter.adds += key > 0
            line.append(total)
        out.append(line)
    return np.array(out, dtype=np.float64)
