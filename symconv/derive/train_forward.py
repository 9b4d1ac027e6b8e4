"""The forward pass of a training step, derived: :func:`training_forward_cost`. Pure SymPy.

A training step runs the forward pass in training mode. For most layers that is the inference
forward; BatchNorm computes its batch statistics and updates its running statistics instead of
applying the folded constants (:mod:`symconv.layers.batchnorm_train`). This walks the forward
cost of a layer or network and replaces the cost of each such layer with its training-mode
cost, derived from its loop nests by the generic derivation; the parts are kept, by name, in
:attr:`~symconv.derive.Cost.parts`. ``cost(..., phase="train")`` uses it for its ``"forward"``
stage; the backward pass reads what this forward saves (BatchNorm's mean and ``1/σ``).

Its ``reads`` and ``writes`` are the inference forward's (input, γ and β read, output written;
buffers and the saved statistics are left out, as the compulsory-traffic model leaves out
BatchNorm's running statistics at inference), except for the dropouts and ``StochasticDepth``
(:mod:`symconv.layers.dropout_train`), the identity at inference, which in training mode read
their input and write their output (the random draws are left out, as BatchNorm's statistics);
the parts carry their counts only (reads and writes 0).

Examples
--------
>>> from symconv import BatchNorm2d, cost
>>> from symconv.symbols import H, W, C
>>> train = dict(cost(BatchNorm2d(C), (H, W, C), phase="train").stages)["forward"]
>>> import sympy
>>> train.mults, sympy.expand(train.adds), train.divs, train.transcendentals
(2*C*H*W + 6*C, 4*C*H*W + 2*C, 4*C, C)
>>> [(name, part.mults, sympy.expand(part.adds), part.divs) for name, part in train.parts]
... # doctest: +NORMALIZE_WHITESPACE
[('statistics', C*H*W, 3*C*H*W - C, 3*C), ('running_stats', 4*C, 2*C, C),
 ('constants', 2*C, C, 0), ('normalise', C*H*W, C*H*W, 0)]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy

from symconv.derive.cost import _SYMPY_INTEGER_CLASSES as _INTEGERS
from symconv.derive.cost import COUNT_KINDS, Cost, _changed, _integer, _sum
from symconv.derive.nest_counts import INTEGERS, as_integers, parts_cost
from symconv.errors import SymconvError
from symconv.layers import Composite, Layer
from symconv.layers.batchnorm_train import has_training_forward, training_nests

# the dropouts' and StochasticDepth's rules register themselves when imported
from symconv.layers import dropout_train  # noqa: F401  isort: skip

__all__ = ["training_forward_cost"]

NestCost = Callable[..., Cost]


def _leaf(layer: Layer, forward: Cost, path: str, nest_cost: NestCost,
          integers: dict[int, sympy.Integer] | None = None) -> Cost:
    shape = forward.input_shape
    try:
        nests = training_nests(layer, shape[:-1], forward.output_shape[:-1], shape[-1])
    except SymconvError as error:
        if not path:
            raise
        raise SymconvError(f"layer {path} ({layer.kind}): {error}") from None
    # each on ``shape``, its counts only
    parts, whole = parts_cost(nests, shape, layer.kind, integers=integers)
    sums = (as_integers(whole) if whole is not None and len(parts) > 1 else
            {kind: _sum([getattr(part, kind) for _, part in parts]) for kind in COUNT_KINDS})
    if nests and forward.reads == 0 and forward.writes == 0:
        # the identity at inference (Dropout, StochasticDepth): in training mode it reads its
        # input and writes its output, as its last part (``apply``) does
        last = nest_cost(nests[-1][1], shape, layer.kind)
        return _changed(forward, parts=tuple(parts), source=None, reads=last.reads,
                        writes=last.writes, **sums)
    return _changed(forward, parts=tuple(parts), source=None, **sums)


def _walk(layer: Layer, forward: Cost, path: str, nest_cost: NestCost,
          memo: dict[object, Any]) -> Cost:
    if not isinstance(layer, Composite) and not has_training_forward(layer):
        return forward   # its inference forward (looked up by type, before any hashing)
    try:   # a repeated block (equal layer, equal input) is derived once
        key: object = (layer, forward.input_shape)
        found = memo.get(key)
    except TypeError:    # an unhashable layer
        key, found = None, None
    if found is not None:
        return found
    if isinstance(layer, Composite):
        result = _composite(layer, forward, path, nest_cost, memo)
    else:
        result = _leaf(layer, forward, path, nest_cost, memo.get(INTEGERS))
    if key is not None:
        memo[key] = result
    return result


def _composite(layer: Composite, forward: Cost, path: str, nest_cost: NestCost,
               memo: dict[object, Any]) -> Cost:
    stages: list[tuple[str, Cost]] = []
    changed: list[tuple[Cost, Cost]] = []
    for (name, stage), pair in zip(layer.stages, forward.stages):
        if not isinstance(stage, Composite) and not has_training_forward(stage):
            stages.append(pair)   # its inference forward: no walk, no path to name
            continue
        old = pair[1]
        new = _walk(stage, old, f"{path}.{name}" if path else name, nest_cost, memo)
        if new is old:
            stages.append(pair)
        else:
            stages.append((name, new))
            changed.append((new, old))
    if not changed:
        return forward
    # only the counts change (params, reads, writes and shapes are the forward's): add the
    # changed stages' differences instead of summing every stage again
    return _changed(forward, stages=tuple(stages), source=None, **_adjusted(forward, changed))


def _adjusted(forward: Cost, changed: list[tuple[Cost, Cost]]) -> dict[str, sympy.Expr]:
    """Each count of ``forward`` with each ``(new, old)`` stage change made: in Python ints
    where all are integers; the count itself where no change touches it (a kind neither form
    performs)."""
    counts: dict[str, sympy.Expr] = {}
    for kind in COUNT_KINDS:
        count = forward.__dict__[kind]
        moved = False
        whole = count.p if type(count) in _INTEGERS else None   # the sum in ints, while it is
        for new, old in changed:     # a plain loop: a network's composites each run it
            after, before = new.__dict__[kind], old.__dict__[kind]
            if after is before:
                continue
            moved = True
            if whole is not None and type(after) in _INTEGERS and type(before) in _INTEGERS:
                whole += after.p - before.p
            else:
                whole = None
        if not moved:
            counts[kind] = count
        elif whole is not None:
            counts[kind] = _integer(whole)
        else:
            counts[kind] = _sum([count, *(new.__dict__[kind] - old.__dict__[kind]
                                          for new, old in changed
                                          if new.__dict__[kind] is not old.__dict__[kind])])
    return counts



def training_forward_cost(layer: Layer, forward: Cost, nest_cost: NestCost) -> Cost:
    """The forward pass of ``layer`` in training mode, given its derived (inference) forward
    cost; ``nest_cost`` is the generic derivation's cost of one loop nest (handed in by
    :mod:`symconv.derive.backward`, which imports no cycle). A layer or network without
    BatchNorm gets ``forward`` itself back."""
    memo: dict[object, Any] = {INTEGERS: {}}   # and the walk's Integers (nest_counts.INTEGERS)
    if isinstance(layer, Composite):   # the whole is derived once: no key to hash
        return _composite(layer, forward, "", nest_cost, memo)
    return _walk(layer, forward, "", nest_cost, memo)
