"""Check an algorithm's derived counts against a run that counts, and its output against the
direct convolution: :func:`verify_algorithm`, what ``verify(layer, shape, algorithm=...)`` does.

Like :mod:`symconv.verify`, the one kind of place where derive and execute meet. The run and the
direct evaluation share one random input and the parameters of ``execute(layer, x, seed=seed)``.

The output check is within float64 rounding, bounded as: the largest difference between the
algorithm's output and the direct one must be at most :data:`TOLERANCE` times ``S``, the largest
``Σ|w·x|`` over the output elements (the direct convolution of ``|x|`` with ``|w|``, plus
``|bias|``), that is ``2²⁴`` units of float64's roundoff ``2⁻⁵³`` relative to ``S``. Winograd's
transforms grow the error with the tile (F(2, 3): a few units, F(8, 3): thousands), an FFT's
error grows with ``log P``; both stay far below that bound for every tile symconv builds.

Examples
--------
>>> from symconv import Conv2d
>>> check = verify_algorithm(Conv2d(3, 64, 3), (7, 7, 3), "winograd", tile=2)
>>> check.ok, check.output_ok
(True, True)
>>> [(stage.name, stage.counted["mults"], stage.formula["mults"]) for stage in check.stages]
... # doctest: +NORMALIZE_WHITESPACE
[('input_transform', 0, 0), ('weight_transform', 8064, 8064), ('elementwise', 27648, 27648),
 ('channel_reduction', 0, 0), ('output_transform', 0, 0)]
>>> check.max_error <= check.tolerance
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symconv.derive.algorithms import algorithm_cost
from symconv.errors import SymconvError
from symconv.execute import execute
from symconv.execute.algorithms import run_algorithm
from symconv.layers.algorithms import algorithm_options
from symconv.layers.base import Layer

__all__ = ["TOLERANCE", "AlgorithmStageCheck", "AlgorithmVerification", "verify_algorithm"]

#: The largest |algorithm − direct| allowed, relative to the largest Σ|w·x| of an output.
TOLERANCE = 2.0**-29


@dataclass(frozen=True)
class AlgorithmStageCheck:
    """One stage: counted while running against derived (``{"mults": int, "adds": int}``)."""

    name: str
    counted: dict[str, int]
    formula: dict[str, int]
    match: bool

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "counted": dict(self.counted), "formula": dict(self.formula),
                "match": self.match}


@dataclass(frozen=True)
class AlgorithmVerification:
    """The result of :func:`verify_algorithm`.

    Attributes
    ----------
    ok
        Counts, stage names, workspace and output all agree.
    algorithm, stages
        The algorithm and one :class:`AlgorithmStageCheck` per stage.
    counted_workspace, formula_workspace
        Elements of scratch arrays, from the run's arrays and from the derivation.
    max_error, tolerance, output_ok
        The largest |algorithm − direct| over the output, the bound it must stay within
        (:data:`TOLERANCE` · S, see the module docstring), and whether it does.
    """

    ok: bool
    algorithm: str
    stages: tuple[AlgorithmStageCheck, ...]
    counted_workspace: int
    formula_workspace: int
    max_error: float
    tolerance: float
    output_ok: bool
    layer: Layer
    input_shape: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """For JSON: ``ok``, ``algorithm``, ``stages``, ``workspace``, ``output``."""
        return {
            "ok": self.ok, "algorithm": self.algorithm,
            "stages": [stage.to_dict() for stage in self.stages],
            "workspace": {"counted": self.counted_workspace, "formula": self.formula_workspace},
            "output": {"max_error": self.max_error, "tolerance": self.tolerance,
                       "rule": f"|{self.algorithm} - direct| <= 2**-29 * max sum|w*x|",
                       "match": self.output_ok},
        }


def _as_int(value: sympy.Expr, what: str) -> int:
    if not value.is_Integer:
        raise SymconvError(f"the derived {what} is {value}, not a number; verify needs a layer "
                           "and input_shape of ints, with no SymPy symbols")
    return int(value)


def verify_algorithm(layer: Layer, input_shape: tuple[int, ...], algorithm: str, *,
                     seed: int = 0, **options: object) -> AlgorithmVerification:
    """Run ``layer`` by ``algorithm`` and check counts and output (see the module docstring).

    Raises
    ------
    SymconvError
        When the algorithm does not apply to the layer (named), for symbolic sizes, or for an
        input shape that does not fit.
    """
    algorithm_options(layer, algorithm, dict(options))
    if not isinstance(input_shape, (tuple, list)) or not all(
            isinstance(size, (int, np.integer)) and not isinstance(size, bool)
            for size in input_shape):
        raise SymconvError(f"input_shape={input_shape!r} must be a tuple of ints, channels "
                           "last, like (7, 7, 3)")
    shape = tuple(int(size) for size in input_shape)
    derived = algorithm_cost(layer, shape, algorithm, **options)
    x = np.random.default_rng(seed).standard_normal(shape)
    direct = execute(layer, x, seed=seed)
    params = {name: np.asarray(value) for name, value in direct.params.items()}
    run = run_algorithm(layer, x, params, algorithm, **options)
    magnitudes = execute(layer, np.abs(x), params={name: np.abs(value)
                                                   for name, value in params.items()})
    checks = []
    for (name, counts), (derived_name, stage) in zip(run.stages, derived.stages):
        counted = {"mults": counts.mults, "adds": counts.adds}
        formula = {"mults": _as_int(stage.mults, "mults"), "adds": _as_int(stage.adds, "adds")}
        checks.append(AlgorithmStageCheck(name, counted, formula,
                                          name == derived_name and counted == formula
                                          and counts.divs == counts.comparisons == 0))
    same_stages = len(run.stages) == len(derived.stages)
    workspace = _as_int(derived.workspace, "workspace")
    error = float(np.max(np.abs(run.output - direct.output))) if run.output.size else 0.0
    tolerance = TOLERANCE * float(np.max(magnitudes.output, initial=0.0))
    output_ok = run.output.shape == direct.output.shape and error <= tolerance
    return AlgorithmVerification(
        ok=same_stages and all(check.match for check in checks) and workspace == run.workspace
        and output_ok,
        algorithm=algorithm, stages=tuple(checks), counted_workspace=run.workspace,
        formula_workspace=workspace, max_error=error, tolerance=tolerance, output_ok=output_ok,
        layer=layer, input_shape=shape,
    )
