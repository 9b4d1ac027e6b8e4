"""Executors of :class:`~symconv.layers.Linear` and :class:`~symconv.layers.Flatten`."""

from __future__ import annotations

from symconv.execute.counter import Counter
from symconv.execute.registry import (
    Array,
    Params,
    _from_rows,
    parameter_shapes,
    run_fast,
    run_reference,
)
from symconv.layers import (
    Flatten,
    Linear,
)


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
    weight: list[list[float]] = counter.scalars(params["weight"])
    bias: list[float] | None = counter.flat(params["bias"]) if layer.bias else None
    features = params["weight"].shape[1]
    out: list[list[float]] = []
    for row in counter.rows(x):
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



def _flatten(layer: Flatten, x: Array, params: Params, counter: Counter) -> Array:
    """All axes into one, channels last (row-major over ``(H, W, C)``); nothing is counted."""
    return x.reshape(-1)


run_fast.register(Flatten, _flatten)
run_reference.register(Flatten, _flatten)
