"""Check derived formulas against counts of a real execution, layer by layer.

:func:`verify` runs a layer, composite or whole network with the fast NumPy executor
(:func:`symconv.execute.execute`) on a random input and derives its cost with
:func:`symconv.derive.cost`, then compares, for every single layer (named by its dotted path in
the network), the multiplications, additions, divisions and comparisons counted while running
with the values of the formulas, the output shape of the run with the derived one, and the
number of parameter values used with the derived parameter count.

The fast executor counts each NumPy operation it performs (a matmul, an einsum, an elementwise
operation) from the shapes of its operands, not scalar by scalar; the reference executor
(``execute(..., method="reference")``), which counts every scalar operation where it is
performed, is held against the fast one in the tests. The parameters counted are the elements
of the arrays the executor read (:attr:`~symconv.execute.Execution.params`), whose shapes it
works out from the layer's arguments, not from ``weight_shape``, the property the derivation
reads. A run too big for the machine is refused before the input is drawn (``max_memory``,
``max_operations``; see :mod:`symconv.execute.budget`).

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

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.execute import Counts, Execution, budget, execute
from symconv.layers import Layer

if TYPE_CHECKING:
    from symconv.verify_algorithm import AlgorithmVerification

__all__ = ["StageCheck", "Verification", "verify"]

#: Counts always reported; ``divs``, ``comparisons`` and ``transcendentals`` are reported only
#: where either side has any.
_REPORTED = ("mults", "adds")
_KEPT_APART = ("divs", "comparisons", "transcendentals")


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
        ints); ``"divs"``, ``"comparisons"`` and ``"transcendentals"`` too where either side is
        not zero, and
        ``"params"`` where the parameter counts differ.
    counted_shape, formula_shape
        The output shape of the run and the derived output shape.
    match
        Whether the counts, the output shapes and the parameter counts are all equal.
    counted_params, formula_params
        The number of parameter values the run used (buffers such as BatchNorm's running
        statistics excluded) and the derived parameter count. With tracking (the default), the
        distinct parameter elements the operations read must be as many (else ``counted`` and
        ``formula`` show ``"params_read"``).
    counted_traffic, formula_traffic
        ``{"reads": int, "writes": int}``: the distinct elements the run touched
        (:mod:`symconv.execute.traffic`) and ``Cost.reads``/``Cost.writes``; ``None`` without
        tracking. Shown in ``counted``/``formula`` only where they differ.
    """

    name: str
    counted: dict[str, int]
    formula: dict[str, int]
    counted_shape: tuple[int, ...]
    formula_shape: tuple[int, ...]
    match: bool
    counted_params: int = 0
    formula_params: int = 0
    counted_traffic: dict[str, int] | None = None
    formula_traffic: dict[str, int] | None = None

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

    def __repr__(self) -> str:
        """Short, for a REPL: whether it holds, and which stages do not.

        Examples
        --------
        >>> from symconv import DepthwiseSeparableConv2d, verify
        >>> verify(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
        Verification(ok: 2 of 2 stages match their formulas; .stages for each, .to_dict() for JSON)
        """
        wrong = [check.name for check in self.stages if not check.match]
        verdict = "ok" if self.ok else "MISMATCH in " + ", ".join(wrong)
        matching = len(self.stages) - len(wrong)
        return (f"Verification({verdict}: {matching} of {len(self.stages)} stages match their "
                "formulas; .stages for each, .to_dict() for JSON)")

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
    counted_params = sum(int(np.size(value)) for value in run.params.values())
    counted_traffic = formula_traffic = None
    params_read = counted_params
    if run.traffic is not None:
        if run.layer.reads_parameters:   # (a Parameter stage hands its tensor on, unread)
            params_read = run.traffic.param_elements   # the parameter elements really read
        counted_traffic = {"reads": run.traffic.reads, "writes": run.traffic.writes}
        formula_traffic = {kind: _as_int(getattr(derived, kind), kind) for kind in counted_traffic}
    formula_params = _as_int(derived.params, "params")
    counted = {kind: counted_all[kind] for kind in kinds}
    formula = {kind: formula_all[kind] for kind in kinds}
    if counted_params != formula_params:   # shown in every report only when they differ
        counted["params"], formula["params"] = counted_params, formula_params
    if counted_traffic != formula_traffic and counted_traffic and formula_traffic:
        counted.update(counted_traffic)
        formula.update(formula_traffic)
    if params_read != counted_params:   # a parameter held but not (wholly) read
        counted["params_read"], formula["params_read"] = params_read, formula_params
    return StageCheck(
        name=name,
        counted=counted,
        formula=formula,
        counted_shape=counted_shape,
        formula_shape=formula_shape,
        match=(counted_all == formula_all and counted_shape == formula_shape
               and counted_params == formula_params and counted_traffic == formula_traffic
               and params_read == counted_params),
        counted_params=counted_params,
        formula_params=formula_params,
        counted_traffic=counted_traffic,
        formula_traffic=formula_traffic,
    )


def _checks(run: Execution, derived: Cost, path: str) -> tuple[list[StageCheck], bool]:
    """One check per single layer, named by its dotted path as :func:`symconv.networks.rows.rows`
    names it, and whether the run and the derivation have the same stages."""
    if not run.stages:
        return [_check(path, run, derived)], not derived.stages
    checks: list[StageCheck] = []
    same = [name for name, _ in run.stages] == [name for name, _ in derived.stages]
    for (name, stage_run), (_, stage_cost) in zip(run.stages, derived.stages):
        found, same_below = _checks(stage_run, stage_cost, f"{path}.{name}" if path else name)
        checks += found
        same = same and same_below
    return checks, same


def _input_shape(layer: Layer, input_shape: object) -> tuple[int, ...]:
    if input_shape is None:
        input_shape = getattr(layer, "input_shape", None)
        if input_shape is None:
            raise SymconvError(
                f"input_shape is needed: {type(layer).__name__} carries none; pass one, "
                "channels last, like verify(layer, (7, 7, 3))"
            )
    if not isinstance(input_shape, (tuple, list)) or not all(
        isinstance(size, (int, np.integer, sympy.Integer)) and not isinstance(size, bool)
        for size in input_shape
    ):
        raise SymconvError(
            f"input_shape={input_shape!r} must be a tuple of ints, channels last, like (7, 7, 3); "
            "substitute numbers for symbols before verifying"
        )
    return tuple(int(size) for size in input_shape)


def verify(layer: Layer, input_shape: tuple[int, ...] | None = None, *, seed: int = 0,
           max_memory: int | None = None, max_operations: int | None = None,
           algorithm: object = "direct", track: bool = True, phase: str = "forward",
           input_grad: bool | None = None, frozen: object = (), method: str = "fast",
           optimizer: object = None,
           **options: object) -> Verification | AlgorithmVerification:
    """Run a layer on a random input and compare the counts with the derived formulas.

    Parameters
    ----------
    layer
        A symconv layer, composite or network with integer sizes.
    input_shape
        The channels-last input shape: ``(H, W, C)``, ``(L, C)`` or ``(D, H, W, C)``, of ints.
        Not needed for a network that carries its own (``Sequential(..., input_shape=...)``,
        the zoo's networks).
    seed
        The input is ``numpy.random.default_rng(seed).standard_normal(input_shape)`` and the
        parameters and buffers those of ``execute(layer, x, seed=seed)``, so that a run can be
        repeated.
    max_memory
        Bytes the run may take, the random input included (estimated before anything is
        allocated, see :mod:`symconv.execute.budget`); ``None``: half the memory available now.
    max_operations
        Scalar operations the run may do; ``None``: 10¹¹ for the fast executor, 5·10⁷ for the
        reference.
    algorithm, **options
        ``"direct"`` (the default), or ``"im2col"``, ``"winograd"``, ``"fft"`` with their options
        (``tile=``, ...) for one convolution: then the algorithm's executor counts every stage
        against :func:`symconv.cost` with the same algorithm, and its output is checked against
        the direct convolution's within the float64 bound that
        :mod:`symconv.verify_algorithm` states; the result is an
        :class:`~symconv.verify_algorithm.AlgorithmVerification`.
    track
        Whether the run records the elements it touches, to check ``Cost.reads`` and
        ``Cost.writes`` and count parameters from the elements read (direct algorithm only;
        ``False`` skips the check and runs faster).
    method
        ``"fast"`` (the default: vectorised, counts each NumPy operation from its shapes) or
        ``"reference"`` (plain loops that count, and with ``track`` record the elements they
        read, one scalar at a time; for small shapes, see :mod:`symconv.execute.budget`). Both
        are checked against the same formulas, ``Cost.reads``/``writes`` included:

        >>> from symconv import Conv2d
        >>> check = verify(Conv2d(4, 8, 1, stride=2), (8, 8, 4), method="reference")
        >>> check.ok, check.stages[0].counted_traffic   # a quarter of the input, every weight
        (True, {'reads': 96, 'writes': 128})

        The forward direct algorithm only.
    phase, input_grad, frozen
        ``"forward"`` (the default); ``"backward"``: the backward pass run and counted
        (:func:`symconv.execute.backward.execute_backward`) against ``cost(..., phase="backward",
        input_grad=..., frozen=...)`` (:mod:`symconv.verify_backward`), each check named
        ``"<name> (backward)"``; ``"train"``: the forward pass in training mode
        (``execute(..., training=True)``: BatchNorm's batch statistics and running statistics)
        against the ``"forward"`` stage of ``cost(..., phase="train")``, then the backward's.
        ``frozen``: ``True``, or the dotted paths of frozen layers or blocks (a path that names
        none of the network's is refused).

        >>> from symconv import Conv2d
        >>> check = verify(Conv2d(3, 64, 3), (7, 7, 3), phase="backward", input_grad=False)
        >>> check.ok, check.stages[0].counted
        (True, {'mults': 43200, 'adds': 41472})

    optimizer
        With ``phase="train"``: one more check, ``"optimizer"``, a step of that optimizer
        (``"sgd"``, ``"adam"``, ...; :mod:`symconv.layers.optimizers`) executed with NumPy on the
        gradients of the run and counted, against the derived step
        (:func:`symconv.verify_backward.optimizer_check`).

    Returns
    -------
    Verification
        ``.ok``, and per single layer — named by its dotted path in the network, as
        :func:`symconv.networks.rows.rows` names it (``"block3.depthwise"``), or by its kind when the
        layer is alone — the mults, adds, divs and comparisons counted against the formulas'
        values, the output shapes and the parameter counts (see :class:`StageCheck`);
        ``.to_dict()`` for JSON.

    Raises
    ------
    SymconvError
        For symbolic sizes, input shapes that do not fit the layer, and runs estimated above
        ``max_memory`` or ``max_operations``, refused before they start:

        >>> from symconv import Conv2d
        >>> verify(Conv2d(512, 64, 3), (100000, 100000, 512), max_memory=2**30)
        Traceback (most recent call last):
        ...
        symconv.errors.SymconvError: this run would need about ... TiB of memory (input 37.3 TiB, ...) but the limit is 1.0 GiB ...

    Examples
    --------
    >>> from symconv import ConvTranspose2d, verify
    >>> check = verify(ConvTranspose2d(8, 4, 3, stride=2, bias=True), (5, 5, 8))
    >>> check.ok, check.stages[0].name, check.stages[0].counted_shape
    (True, 'transposed', (11, 11, 4))
    >>> check.stages[0].counted   # 5·5·8 inputs × 3·3·4 weights; + one bias add per output
    {'mults': 7200, 'adds': 7684}

    Another algorithm (``algorithm=`` and its options): every stage counted, and the output
    within the float64 bound of the direct convolution's:

    >>> from symconv import Conv2d
    >>> check = verify(Conv2d(3, 64, 3), (7, 7, 3), algorithm="winograd", tile=4)
    >>> check.ok, check.max_error <= check.tolerance
    (True, True)

    A whole network, at a small width and resolution; every layer is checked under its
    dotted name. Block 3 runs on 8×8×8, expanded to 48 channels:

    >>> from symconv.networks.zoo import mobilenet_v2
    >>> check = verify(mobilenet_v2(alpha=0.25, resolution=32))
    >>> check.ok, len(check.stages)
    (True, 152)
    >>> [(stage.name, stage.counted) for stage in check.stages if stage.name.startswith("block3.")]
    ... # doctest: +NORMALIZE_WHITESPACE
    [('block3.expand', {'mults': 24576, 'adds': 21504}),
     ('block3.expand_bn', {'mults': 3072, 'adds': 3072}),
     ('block3.expand_relu6', {'mults': 0, 'adds': 0, 'comparisons': 6144}),
     ('block3.depthwise', {'mults': 27648, 'adds': 24576}),
     ('block3.depthwise_bn', {'mults': 3072, 'adds': 3072}),
     ('block3.depthwise_relu6', {'mults': 0, 'adds': 0, 'comparisons': 6144}),
     ('block3.project', {'mults': 24576, 'adds': 24064}),
     ('block3.project_bn', {'mults': 512, 'adds': 512}),
     ('block3.add', {'mults': 0, 'adds': 512})]
    """
    if method not in ("fast", "reference"):
        raise SymconvError(f"method={method!r} must be 'fast' or 'reference'")
    if method != "fast" and (phase != "forward" or algorithm != "direct" or options
                             or optimizer is not None):
        raise SymconvError(f"method={method!r} verifies the forward pass of the direct algorithm; "
                           "drop phase=, algorithm= and their options, or use method='fast'")
    if phase != "forward" or input_grad is not None or frozen != () or optimizer is not None:
        return _verify_phase(layer, input_shape, phase, seed, input_grad, frozen,
                             algorithm != "direct" or bool(options), optimizer,
                             max_memory=max_memory, max_operations=max_operations)
    if algorithm != "direct" or options:
        from symconv.verify_algorithm import verify_algorithm

        if algorithm == "direct" or not isinstance(algorithm, str):
            raise SymconvError(f"algorithm={algorithm!r} takes no options" if algorithm == "direct"
                               else f"algorithm={algorithm!r} must be a name, like 'winograd'")
        return verify_algorithm(layer, _input_shape(layer, input_shape), algorithm, seed=seed,
                                **options)
    shape = _input_shape(layer, input_shape)
    derived = cost(layer, shape)
    # Refused before the input is drawn, if it is too big.
    budget.check(layer, shape, method, max_memory=max_memory,  # type: ignore[arg-type]
                 max_operations=max_operations)
    x = np.random.default_rng(seed).standard_normal(shape)
    run = execute(layer, x, seed=seed, max_memory=max_memory, max_operations=max_operations,
                  track=track, method=method)  # type: ignore[arg-type]
    checks, same = _checks(run, derived, "" if run.stages else (derived.kind or layer.kind))
    return Verification(
        ok=same and all(check.match for check in checks),
        stages=tuple(checks), layer=layer, input_shape=shape,
    )


def _training_forward_checks(layer: Layer, shape: tuple[int, ...], seed: int,
                             max_memory: int | None = None,
                             max_operations: int | None = None) -> list[StageCheck]:
    """The forward pass in training mode (``execute(..., training=True)``), tracked, against
    the ``"forward"`` stage of ``cost(..., phase="train")``."""
    derived = dict(cost(layer, shape, phase="train").stages)["forward"]
    budget.check(layer, shape, "fast", max_memory=max_memory, max_operations=max_operations)
    x = np.random.default_rng(seed).standard_normal(shape)
    run = execute(layer, x, seed=seed, track=True, training=True, max_memory=max_memory,
                  max_operations=max_operations)
    checks, same = _checks(run, derived, "" if run.stages else (derived.kind or layer.kind))
    if not same:
        checks.append(StageCheck(name="stages", counted={}, formula={}, counted_shape=(),
                                 formula_shape=(), match=False))
    return checks


def _verify_phase(layer: Layer, input_shape: object, phase: str, seed: int,
                  input_grad: bool | None,
                  frozen: object, algorithm: bool, optimizer: object = None, *,
                  max_memory: int | None = None,
                  max_operations: int | None = None) -> Verification:
    """``verify(..., phase="backward" | "train")`` (see :mod:`symconv.verify_backward`); a run
    too big is refused before its input is drawn, by the estimate of the forward run the
    backward pass starts with."""
    from symconv.verify_backward import backward_checks

    if phase not in ("forward", "backward", "train"):
        raise SymconvError(f"phase={phase!r} is unknown; use one of forward, backward, train")
    if optimizer is not None and phase != "train":
        raise SymconvError(f"optimizer={optimizer!r} is a step of training: it goes with "
                           f"phase='train', not phase={phase!r}")
    if algorithm:
        raise SymconvError(f"phase={phase!r} verifies the direct algorithm only, without options")
    shape = _input_shape(layer, input_shape)
    budget.check(layer, shape, "fast", max_memory=max_memory, max_operations=max_operations)
    checks = [StageCheck(**check) for check in backward_checks(
        layer, shape, seed=seed, input_grad=input_grad, frozen=frozen,  # type: ignore[arg-type]
        optimizer=optimizer, max_memory=max_memory, max_operations=max_operations)]
    checks = [check if check.name == "optimizer" and optimizer is not None
              else replace(check, name=f"{check.name} (backward)") for check in checks]
    if phase == "train":   # the forward pass in training mode (BatchNorm: batch statistics)
        checks = [*_training_forward_checks(layer, shape, seed, max_memory, max_operations),
                  *checks]
    return Verification(ok=all(check.match for check in checks), stages=tuple(checks),
                        layer=layer, input_shape=shape)
