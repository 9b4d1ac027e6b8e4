"""``verify(layer, shape, phase="backward" | "train")``: the backward pass run and counted
(:func:`symconv.execute.backward.execute_backward`) against its derivation
(:func:`symconv.derive.cost` with ``phase=``), single layer by single layer.

Each check compares the mults, adds, divs and comparisons, the output shape, and the number of
parameter-gradient values the run produced against the parameters the derivation gives
gradients (those of a layer whose backward has a ``weight_grad``).

:mod:`symconv.verify` wraps each check in a :class:`~symconv.verify.StageCheck`.

Examples
--------
>>> from symconv import Conv2d
>>> [check] = backward_checks(Conv2d(3, 64, 3, bias=True), (7, 7, 3))
>>> check["name"], check["counted"], check["match"]
('standard', {'mults': 86400, 'adds': 86208}, True)
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.execute.backward import BackwardExecution, execute_backward
from symconv.layers import Layer

__all__ = ["backward_checks"]

#: What one check holds: the keyword arguments of :class:`symconv.verify.StageCheck`.
Check = dict[str, Any]

_REPORTED = ("mults", "adds")
_KEPT_APART = ("divs", "comparisons")


def _int(value: sympy.Expr, what: str) -> int:
    if not value.is_Integer:
        raise SymconvError(f"the derived {what} is {value}, not a number; verify needs a layer "
                           "and input_shape of ints")
    return int(value)


def _trainable_params(forward: Cost, backward: Cost) -> int:
    names = {name for name, _ in backward.gradients}
    return _int(forward.params, "params") if "weight_grad" in names else 0


def _check(name: str, run: BackwardExecution, forward: Cost, backward: Cost) -> Check:
    counts = run.counts.as_dict() if run.counts is not None else {}
    formula_all = {kind: _int(getattr(backward, kind), kind) for kind in counts}
    kinds = [*_REPORTED, *(kind for kind in counts
                           if kind not in _REPORTED and (counts[kind] or formula_all[kind]))]
    counted = {kind: counts[kind] for kind in kinds}
    formula = {kind: formula_all[kind] for kind in kinds}
    counted_params = sum(int(np.size(value)) for value in run.grads.values())
    formula_params = _trainable_params(forward, backward)
    if counted_params != formula_params:
        counted["params"], formula["params"] = counted_params, formula_params
    counted_shape = tuple(int(size) for size in run.output.shape)
    formula_shape = tuple(_int(size, "output size") for size in backward.output_shape)
    return {"name": name, "counted": counted, "formula": formula, "counted_shape": counted_shape,
            "formula_shape": formula_shape,
            "match": (counts == formula_all and counted_shape == formula_shape
                      and counted_params == formula_params),
            "counted_params": counted_params, "formula_params": formula_params}


def _checks(run: BackwardExecution, forward: Cost, backward: Cost,
            path: str) -> list[Check]:
    if not run.stages:
        return [_check(path, run, forward, backward)]
    found: list[Check] = []
    for (name, stage_run), (_, stage_forward), (_, stage_backward) in zip(
            run.stages, forward.stages, backward.stages):
        found += _checks(stage_run, stage_forward, stage_backward,
                         f"{path}.{name}" if path else name)
    if len(run.stages) != len(backward.stages):
        found.append({"name": path or "stages", "counted": {}, "formula": {},
                      "counted_shape": (), "formula_shape": (), "match": False})
    return found


def backward_checks(layer: Layer, input_shape: tuple[int, ...], *, seed: int = 0,
                    input_grad: bool | None = None, frozen: bool | Collection[str] = (),
                    method: str = "fast") -> list[Check]:
    """Run the backward pass on a random input and output gradient (from ``seed``) and compare
    its counts with the derived backward cost, one check per single layer, named by its dotted
    path (by its kind when alone)."""
    x = np.random.default_rng(seed).standard_normal(input_shape)
    run = execute_backward(layer, x, seed=seed, method=method, input_grad=input_grad,
                           frozen=frozen)
    forward = cost(layer, input_shape)
    backward = cost(layer, input_shape, phase="backward", input_grad=input_grad, frozen=frozen)
    return _checks(run, forward, backward, "" if forward.stages else layer.kind)
