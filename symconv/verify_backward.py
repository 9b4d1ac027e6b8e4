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

__all__ = ["backward_checks", "optimizer_check"]

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
                    method: str = "fast", optimizer: object = None,
                    max_memory: int | None = None,
                    max_operations: int | None = None) -> list[Check]:
    """Run the backward pass on a random input and output gradient (from ``seed``) and compare
    its counts with the derived backward cost, one check per single layer, named by its dotted
    path (by its kind when alone); with ``optimizer``, one more check, ``"optimizer"``: a step
    of it executed on the gradients the run computed (:func:`optimizer_check`)."""
    x = np.random.default_rng(seed).standard_normal(input_shape)
    run = execute_backward(layer, x, seed=seed, method=method, input_grad=input_grad,
                           frozen=frozen, max_memory=max_memory, max_operations=max_operations)
    forward = cost(layer, input_shape)
    backward = cost(layer, input_shape, phase="backward", input_grad=input_grad, frozen=frozen)
    checks = _checks(run, forward, backward, "" if forward.stages else layer.kind)
    if optimizer is not None:
        derived = cost(layer, input_shape, phase="train", input_grad=input_grad, frozen=frozen,
                       optimizer=optimizer).stages[-1][1]
        checks.append(optimizer_check(run, derived, optimizer))
    return checks


def _parameters(run: BackwardExecution, path: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """Every parameter with a gradient, and its gradient, by dotted path."""
    if run.stages:
        params: dict[str, Any] = {}
        grads: dict[str, Any] = {}
        for name, stage in run.stages:
            found = _parameters(stage, f"{path}.{name}" if path else name)
            params.update(found[0])
            grads.update(found[1])
        return params, grads
    prefix = f"{path}." if path else ""
    grads = {f"{prefix}{name}": value for name, value in run.grads.items()}
    params = {f"{prefix}{name}": np.array(run.params[name]) for name in run.grads}
    return params, grads


def optimizer_check(run: BackwardExecution, derived: Cost, optimizer: object) -> Check:
    """Two steps of ``optimizer`` executed on the gradients of ``run``
    (:func:`symconv.execute.optimizers.step`); the second step's counts (every later step's:
    SGD's momentum buffer exists) against the derived step ``derived``.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> [_, check] = backward_checks(Conv2d(3, 8, 3, bias=True), (5, 5, 3), optimizer="adam")
    >>> check["name"], check["counted"], check["match"]   # 224 parameters
    ('optimizer', {'mults': 1120, 'adds': 1120, 'divs': 448, 'transcendentals': 224}, True)
    """
    from symconv.execute.optimizers import OptimizerState, step
    from symconv.layers.optimizers import optimizer as as_optimizer

    chosen = as_optimizer(optimizer)
    params, grads = _parameters(run)
    state = OptimizerState()
    step(chosen, params, grads, state)
    counts = step(chosen, params, grads, state).as_dict()
    formula_all = {kind: _int(getattr(derived, kind), kind) for kind in counts}
    kinds = [kind for kind in counts if counts[kind] or formula_all[kind] or kind in _REPORTED]
    size = sum(int(np.size(value)) for value in params.values())
    shape = tuple(_int(size_, "parameters") for size_ in derived.output_shape)
    return {"name": "optimizer", "counted": {kind: counts[kind] for kind in kinds},
            "formula": {kind: formula_all[kind] for kind in kinds}, "counted_shape": (size,),
            "formula_shape": shape, "match": counts == formula_all and (size,) == shape}
