"""Check derived formulas against counts of a real execution, stage by stage.

:func:`verify` runs a layer with the fast NumPy executor (:func:`symconv.execute.execute`) on a
random input and derives its cost with :func:`symconv.derive.cost`, then compares, per stage, the
multiplications and additions counted while running with the values of the formulas, and the
output shape of the run with the derived one.

Examples
--------
>>> from symconv import Conv2d, DepthwiseSeparableConv2d, verify
>>> check = verify(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
>>> check.ok
True
>>> [(stage.name, stage.counted["mults"], stage.formula["mults"]) for stage in check.stages]
[('depthwise', 675, 675), ('pointwise', 4800, 4800)]
>>> verify(Conv2d(3, 64, 3), (7, 7, 3)).to_dict()
{'ok': True, 'stages': [{'name': 'standard', 'counted': {'mults': 43200, 'adds': 41600},
                         'formula': {'mults': 43200, 'adds': 41600}, 'match': True}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.execute import Counts, Execution, execute
from symconv.layers import Layer

__all__ = ["StageCheck", "Verification", "verify"]

#: Counts always reported; ``divs`` and ``comparisons`` are reported only where either side has any.
_REPORTED = ("mults", "adds")
_KEPT_APART = ("divs", "comparisons")


@dataclass(frozen=True)
class StageCheck:
    """One stage: what the executor counted against what the formulas give.

    Attributes
    ----------
    name
        The stage name (``"depthwise"``, ``"pointwise"``, ...) or, for a single layer, its kind
        (``"standard"``, ``"grouped"``, ``"transposed"``, ...).
    counted, formula
        ``{"mults": int, "adds": int}`` counted while running and derived (the SymPy values as
        ints); ``"divs"`` and ``"comparisons"`` too where either side is not zero.
    counted_shape, formula_shape
        The output shape of the run and the derived output shape.
    match
        Whether the counts and the output shapes are all equal.
    """

    name: str
    counted: dict[str, int]
    formula: dict[str, int]
    counted_shape: tuple[int, ...]
    formula_shape: tuple[int, ...]
    match: bool

    def to_dict(self) -> dict[str, Any]:
        """``{"name", "counted", "formula", "match"}``, for JSON reports."""
        return {"name": self.name, "counted": dict(self.counted), "formula": dict(self.formula),
                "match": self.match}


@dataclass(frozen=True)
class Verification:
    """The result of :func:`verify`.

    Attributes
    ----------
    ok
        Whether every stage matches.
    stages
        One :class:`StageCheck` per stage of a composite, or one for a single layer.
    layer, input_shape
        What was verified.
    """

    ok: bool
    stages: tuple[StageCheck, ...]
    layer: Layer
    input_shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"ok": bool, "stages": [{"name", "counted", "formula", "match"}, ...]}`` for JSON.

        Examples
        --------
        >>> import json
        >>> from symconv import PointwiseConv2d, verify
        >>> print(json.dumps(verify(PointwiseConv2d(3, 64), (5, 5, 3)).to_dict(), indent=1))
        {
         "ok": true,
         "stages": [
          {
           "name": "pointwise",
           "counted": {
            "mults": 4800,
            "adds": 3200
           },
           "formula": {
            "mults": 4800,
            "adds": 3200
           },
           "match": true
          }
         ]
        }
        """
        return {"ok": self.ok, "stages": [stage.to_dict() for stage in self.stages]}


def _as_int(value: sympy.Expr, what: str) -> int:
    if not value.is_Integer:
        raise SymconvError(
            f"the derived {what} is {value}, not a number; verify needs a layer and input_shape "
            "of ints, with no SymPy symbols"
        )
    return int(value)


def _check(name: str, run: Execution, derived: Cost) -> StageCheck:
    counts = run.counts if run.counts is not None else Counts()
    counted_all = counts.as_dict()
    formula_all = {kind: _as_int(getattr(derived, kind), kind) for kind in counted_all}
    kinds = [*_REPORTED,
             *(kind for kind in _KEPT_APART if counted_all[kind] or formula_all[kind])]
    counted_shape = tuple(int(size) for size in run.output.shape)
    formula_shape = tuple(_as_int(size, "output size") for size in derived.output_shape)
    return StageCheck(
        name=name,
        counted={kind: counted_all[kind] for kind in kinds},
        formula={kind: formula_all[kind] for kind in kinds},
        counted_shape=counted_shape,
        formula_shape=formula_shape,
        match=counted_all == formula_all and counted_shape == formula_shape,
    )


def verify(layer: Layer, input_shape: tuple[int, ...], *, seed: int = 0) -> Verification:
    """Run a layer on a random input and compare the counts with the derived formulas.

    Parameters
    ----------
    layer
        A symconv layer or composite with integer sizes.
    input_shape
        The channels-last input shape: ``(H, W, C)``, ``(L, C)`` or ``(D, H, W, C)``, of ints.
    seed
        The input is ``numpy.random.default_rng(seed).standard_normal(input_shape)`` and the
        parameters those of ``execute(layer, x, seed=seed)``, so that a run can be repeated.

    Returns
    -------
    Verification
        ``.ok``, and per stage the mults and adds counted against the formulas' values
        (see :class:`StageCheck`); ``.to_dict()`` for JSON.

    Raises
    ------
    SymconvError
        For symbolic sizes and input shapes that do not fit the layer.

    Examples
    --------
    >>> from symconv import ConvTranspose2d, verify
    >>> check = verify(ConvTranspose2d(8, 4, 3, stride=2, bias=True), (5, 5, 8))
    >>> check.ok, check.stages[0].name, check.stages[0].counted_shape
    (True, 'transposed', (11, 11, 4))
    >>> check.stages[0].counted   # 5·5·8 inputs × 3·3·4 weights; + one bias add per output
    {'mults': 7200, 'adds': 7684}
    """
    if not isinstance(input_shape, (tuple, list)) or not all(
        isinstance(size, (int, np.integer)) and not isinstance(size, bool) for size in input_shape
    ):
        raise SymconvError(
            f"input_shape={input_shape!r} must be a tuple of ints, channels last, like (7, 7, 3); "
            "substitute numbers for symbols before verifying"
        )
    shape = tuple(int(size) for size in input_shape)
    derived = cost(layer, shape)
    x = np.random.default_rng(seed).standard_normal(shape)
    run = execute(layer, x, seed=seed)
    if run.stages:
        pairs = [
            (name, stage_run, stage_cost)
            for (name, stage_run), (_, stage_cost) in zip(run.stages, derived.stages)
        ]
    else:
        pairs = [(derived.kind or layer.kind, run, derived)]
    stages = tuple(_check(name, stage_run, stage_cost) for name, stage_run, stage_cost in pairs)
    return Verification(
        ok=all(stage.match for stage in stages) and len(run.stages) == len(derived.stages),
        stages=stages, layer=layer, input_shape=shape,
    )
