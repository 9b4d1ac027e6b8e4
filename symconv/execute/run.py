"""The driver: :func:`execute` checks a layer and its input, draws or checks its parameters and
buffers, runs it (stage by stage for composites) and returns an :class:`Execution`."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

import symconv.execute.budget as budget
from symconv.errors import SymconvError
from symconv.execute.batchnorm_train import TRAIN_RUNNERS, has_training_forward

# the dropouts' and StochasticDepth's training executors register themselves when imported
import symconv.execute.dropout_train  # noqa: F401  isort: skip
from symconv.execute.counter import Counter, Counts
from symconv.execute.registry import (
    _RUNNERS,
    METHODS,
    Array,
    Method,
    Params,
    buffer_shapes,
    check_fits,
    parameter_shapes,
    second_input,
)
from symconv.execute.traffic import Tracker, Traffic
from symconv.layers import (
    Composite,
    Layer,
)
from symconv.layers.shapes import AXIS_NAMES

__all__ = ["Execution", "execute"]


@dataclass(frozen=True, eq=False)
class Execution:
    """The result of :func:`execute`: what a layer computed and what it cost to compute it.

    Attributes
    ----------
    output
        The output, ``float64``, channels last.
    counts
        The scalar operations counted while running (``None`` when run with ``count=False``);
        for a composite the sum over its stages.
    params
        The parameters used: ``{"weight": ..., "bias": ...}`` for one convolution, nested by
        stage name for a composite.
    buffers
        The other tensors a layer reads that are not learned parameters, nested as ``params``:
        BatchNorm's ``{"running_mean": ..., "running_var": ...}``; ``{}`` for layers without.
    stages
        ``(name, Execution)`` for each stage of a composite; empty for a single layer.
    layer
        The layer that ran.
    method
        ``"fast"`` or ``"reference"``.
    traffic
        With ``track=True``: the distinct input, parameter and output elements the run
        touched (:class:`~symconv.execute.traffic.Traffic`), summed over stages; else ``None``.
    saved, updated
        With ``training=True``, nested as ``params``: what a layer's training-mode forward
        saves for the backward pass (BatchNorm's ``save_mean`` and ``save_invstd``) and its
        buffers after the step (BatchNorm's ``running_mean`` and ``running_var``, updated; the
        arrays in ``buffers`` are left as they were). ``{}`` for layers that run in training
        mode as at inference, and without ``training``.
    """

    output: Array
    counts: Counts | None
    params: Params
    stages: tuple[tuple[str, Execution], ...]
    layer: Layer
    method: str
    buffers: Params = dataclasses.field(default_factory=dict)
    traffic: Traffic | None = None
    saved: Params = dataclasses.field(default_factory=dict)
    updated: Params = dataclasses.field(default_factory=dict)


def _symbols_in(value: object) -> set[sympy.Symbol]:
    if isinstance(value, sympy.Basic):
        return set(value.free_symbols)
    if isinstance(value, (tuple, list)):
        return set().union(*(_symbols_in(item) for item in value))
    return set()


def _check_concrete(layer: Layer) -> None:
    """Raise when a single layer, or any stage of a composite, has symbolic sizes (layers are
    immutable: a layer found concrete once is not searched again)."""
    try:
        if layer in _CONCRETE:
            return
    except TypeError:       # an unhashable layer: search it every time
        _check_concrete_at(layer)
        return
    _check_concrete_at(layer)
    if len(_CONCRETE) > 1024:
        _CONCRETE.clear()
    _CONCRETE.add(layer)


_CONCRETE: set[Layer] = set()


def _check_concrete_at(layer: Layer, path: tuple[str, ...] = ()) -> None:
    if isinstance(layer, Composite):
        for name, stage in layer.stages:
            _check_concrete_at(stage, (*path, name))
        return
    if not dataclasses.is_dataclass(layer):
        return
    found: set[sympy.Symbol] = set()
    for field in dataclasses.fields(layer):
        found |= _symbols_in(getattr(layer, field.name))
    if found:
        names = ", ".join(sorted(str(symbol) for symbol in found))
        where = f" (stage {'.'.join(path)})" if path else ""
        raise SymconvError(
            f"layer={layer!r}{where} has symbolic sizes ({names}); execute needs numbers: build "
            f"the layer with ints (substitute a number for {names}), e.g. Conv2d(3, 64, 3)"
        )


def _real_array(value: object, where: str) -> Array:
    """``value`` as a float64 array; complex values and masked arrays are refused, not cut
    down (NumPy would drop the imaginary part with only a warning, and the mask silently)."""
    if type(value) is np.ndarray and value.dtype == np.float64:   # the common case, at once
        return value
    if isinstance(value, np.ma.MaskedArray):
        raise SymconvError(
            f"{where} is a masked array; its mask would be lost: pass "
            f"{where}.filled(value) or a plain array"
        )
    try:
        raw = np.asarray(value)
        if np.iscomplexobj(raw) or (raw.dtype == object and any(
                isinstance(item, complex) for item in raw.ravel().tolist())):
            raise SymconvError(
                f"{where} holds complex numbers (dtype {raw.dtype}); symconv computes with real "
                f"float64 values: pass {where}.real, or real and imaginary parts as separate runs"
            )
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as error:
        if isinstance(error, SymconvError):
            raise
        raise SymconvError(f"{where} must be an array of real numbers: {error}") from None


def _check_input(layer: Layer, x: object) -> Array:
    array = _real_array(x, "x")
    _check_shape(layer, array.shape)
    return array


def _check_shape(layer: Layer, shape: tuple[int, ...]) -> None:
    """Raise when an input of ``shape`` does not fit ``layer`` (rank, channels, sizes); a pair
    found to fit is remembered (layers are immutable), a misfit is checked again each time."""
    try:
        _shape_fits(layer, shape)
    except TypeError:       # an unhashable layer: checked every time
        _shape_fits.__wrapped__(layer, shape)


@functools.lru_cache(maxsize=1024)
def _shape_fits(layer: Layer, shape: tuple[int, ...]) -> bool:
    name = type(layer).__name__
    dims = layer.spatial_dims
    ndim = len(shape)
    if dims is not None and ndim != dims + 1:
        axes = ", ".join((*AXIS_NAMES.get(dims, ()), "C"))
        hint = "; no batch axis: run one example at a time" if ndim == dims + 2 else ""
        raise SymconvError(
            f"x has shape {shape} but {name} needs {dims + 1} axes ({axes}), "
            f"channels last{hint}"
        )
    if ndim == 0 or 0 in shape:
        raise SymconvError(
            f"x has shape {shape}; it needs a channel axis (last) and no axis of size 0"
        )
    expected = layer.in_channels_expected()
    if expected is not None and shape[-1] != expected:
        raise SymconvError(
            f"x has shape {shape}: {shape[-1]} channels, but {name} expects "
            f"in_channels={expected}; channels go last"
        )
    check_fits(layer, shape[:-1])
    return True


#: What a layer holds besides its input, by the name of ``execute``'s argument: the registry
#: of its shapes.
_HELD = {"params": parameter_shapes, "buffers": buffer_shapes}
_SINGULAR = {"params": "parameter", "buffers": "buffer"}
_PLURAL = {"params": "parameters", "buffers": "buffers"}


def _held_shapes(layer: Layer, root: str) -> dict[str, tuple[int, ...]]:
    """:func:`parameter_shapes` or :func:`buffer_shapes` of a single layer, worked out once per
    layer (read only)."""
    try:
        return _held_shapes_of(layer, root)
    except TypeError:       # an unhashable layer
        return _HELD[root](layer)


@functools.lru_cache(maxsize=1024)
def _held_shapes_of(layer: Layer, root: str) -> dict[str, tuple[int, ...]]:
    return _HELD[root](layer)


def _key_path(path: tuple[str, ...], root: str = "params") -> str:
    return root + "".join(f"[{key!r}]" for key in path)


def _holds(layer: Layer, root: str) -> bool:
    """Whether a layer, or any stage of a composite, has parameters (``root="params"``) or
    buffers (``"buffers"``)."""
    if isinstance(layer, Composite):
        return any(_holds(stage, root) for _, stage in layer.stages)
    return bool(_held_shapes(layer, root))


class _Random:
    """``numpy.random.default_rng(seed)``, made when first needed (most calls with parameters
    given draw nothing)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._generator: np.random.Generator | None = None

    @property
    def generator(self) -> np.random.Generator:
        if self._generator is None:
            self._generator = np.random.default_rng(self.seed)
        return self._generator


def _draw(root: str, shape: tuple[int, ...], rng: _Random) -> Array:
    if root == "buffers":
        return rng.generator.uniform(0.5, 1.5, shape)
    return rng.generator.standard_normal(shape)


def _held(layer: Layer, given: object, rng: _Random, path: tuple[str, ...],
          root: str, shapes: dict[str, tuple[int, ...]]) -> Params:
    """Draw a single layer's parameters or buffers (of ``shapes``), or check and convert the
    user's."""
    if given is None:
        return {name: _draw(root, shape, rng) for name, shape in shapes.items()}
    if type(given) is not dict and not isinstance(given, Mapping):
        raise SymconvError(
            f"{_key_path(path, root)} must be a dict of arrays with keys {sorted(shapes)}, "
            f"not {type(given).__name__}"
        )
    extra = sorted(name for name in given if name not in shapes)
    if extra:
        raise SymconvError(
            f"{_key_path((*path, extra[0]), root)} is not a {_SINGULAR[root]} of {layer!r}; "
            f"its keys are {sorted(shapes)}"
        )
    held: Params = {}
    for name, shape in shapes.items():
        if name not in given:
            raise SymconvError(f"{_key_path((*path, name), root)} is missing: {layer!r} needs an "
                               f"array of shape {shape}")
        array = given[name]
        if type(array) is not np.ndarray or array.dtype != np.float64:
            array = _real_array(array, _key_path((*path, name), root))
        if array.shape != shape:
            raise SymconvError(
                f"{_key_path((*path, name), root)} has shape {array.shape} but "
                f"{type(layer).__name__} expects shape {shape}"
            )
        held[name] = array
    return held


def _stage_given(layer: Composite, given: object, name: str, stage: Layer,
                 path: tuple[str, ...], root: str) -> object:
    """The part of a composite's ``params`` (or ``buffers``) that belongs to one stage.

    A stage without any may be left out of the dict.
    """
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise SymconvError(
            f"{_key_path(path, root)} must be a dict keyed by stage name "
            f"{[stage_name for stage_name, _ in layer.stages]}, not {type(given).__name__}"
        )
    if name in given:
        return given[name]
    if _holds(stage, root):
        raise SymconvError(
            f"{_key_path((*path, name), root)} is missing: pass the {_PLURAL[root]} of every "
            "stage (those without any may be left out)"
        )
    return None


def _at_stage(error: SymconvError, path: tuple[str, ...], layer: Layer) -> SymconvError:
    """The error of a stage, prefixed with the stage's dotted name, as ``cost`` names it."""
    return SymconvError(f"layer {'.'.join(path)} ({layer.kind}): {error}")


def _second(stage: Layer, x: Array, outputs: Mapping[str, Array],
            path: tuple[str, ...]) -> Array | None:
    """The tensor ``stage`` reads besides its input (:func:`second_input`), if any: the
    composite's input ``x`` or an earlier stage's output."""
    name = second_input(stage)
    if name is None:
        return None
    if name == "input":
        return x
    if name not in outputs:
        raise SymconvError(
            f"layer {'.'.join(path)} ({stage.kind}) reads stage {name!r}, which has not run "
            f"before it; the stages that have: {', '.join(['input', *outputs])}"
        )
    return outputs[name]


def _run(layer: Layer, x: Array, given: Mapping[str, object], rng: _Random,
         method: str, count: bool, path: tuple[str, ...],
         other: Array | None = None, track: bool = False,
         known: _Prepared | None = None, training: bool = False) -> Execution:
    if isinstance(layer, Composite):
        names = [name for name, _ in layer.stages]
        for root, value in given.items():
            extra = sorted(set(value) - set(names)) if isinstance(value, Mapping) else []
            if extra:
                raise SymconvError(
                    f"{_key_path((*path, extra[0]), root)} is not a stage of "
                    f"{type(layer).__name__}; its stages are {names}"
                )
        stages: list[tuple[str, Execution]] = []
        outputs: dict[str, Array] = {}
        current = x
        for name, stage in layer.stages:
            parts = {root: _stage_given(layer, value, name, stage, path, root)
                     for root, value in given.items()}
            try:
                checked = _check_input(stage, current)
            except SymconvError as error:
                raise _at_stage(error, (*path, name), stage) from None
            result = _run(stage, checked, parts, rng, method, count, (*path, name),
                          _second(stage, x, outputs, (*path, name)), track, training=training)
            stages.append((name, result))
            current = outputs[name] = result.output
        counts = sum((r.counts or Counts() for _, r in stages), Counts()) if count else None
        return Execution(
            output=current, counts=counts, params={name: r.params for name, r in stages},
            stages=tuple(stages), layer=layer, method=method,
            buffers={name: r.buffers for name, r in stages},
            traffic=sum((r.traffic or Traffic() for _, r in stages), Traffic()) if track else None,
            saved={name: r.saved for name, r in stages if r.saved},
            updated={name: r.updated for name, r in stages if r.updated},
        )
    shapes = known.shapes if known is not None and known.shapes is not None else {
        root: _held_shapes(layer, root) for root in _HELD}
    params = _held(layer, given["params"], rng, path, "params", shapes["params"])
    buffers = _held(layer, given["buffers"], rng, path, "buffers", shapes["buffers"])
    tracker = None
    if track:
        tracker = Tracker()
        x = np.ascontiguousarray(x)
        tracker.watch("input", x)
        params = {name: np.ascontiguousarray(value) for name, value in params.items()}
        for name, value in params.items():
            tracker.watch(name, value)
        if other is not None:
            other = np.ascontiguousarray(other)
            tracker.watch("other", other)
    counter = Counter(enabled=count, tracker=tracker)
    runner = _RUNNERS[method]
    trained = None
    try:
        second = second_input(layer)
        if training and has_training_forward(layer):
            trained = TRAIN_RUNNERS[method](layer, x, {**params, **buffers}, counter)
            output = trained.output
        elif second is not None:
            if other is None:
                raise SymconvError(
                    f"layer={layer!r} reads {second!r} besides its input; run it as "
                    "a stage of a composite: Residual(block), or a Graph"
                )
            output = runner(layer, x, {**params, **buffers}, counter, other=other)
        else:
            output = runner(layer, x, {**params, **buffers}, counter)
    except SymconvError as error:
        if not path:
            raise
        raise _at_stage(error, path, layer) from None
    return Execution(
        output=np.asarray(output, dtype=np.float64),
        counts=counter.counts() if count else None,
        params=params, stages=(), layer=layer, method=method, buffers=buffers,
        traffic=None if tracker is None else tracker.traffic(output, params),
        saved=trained.saved if trained is not None else {},
        updated=trained.updated if trained is not None else {},
    )


def execute(
    layer: Layer,
    x: object,
    params: Mapping[str, Any] | None = None,
    *,
    buffers: Mapping[str, Any] | None = None,
    seed: int = 0,
    method: Method = "fast",
    count: bool = True,
    max_memory: int | None = None,
    max_operations: int | None = None,
    track: bool = False,
    training: bool = False,
) -> Execution:
    """Run a layer on a concrete input and count the operations it performs.

    Parameters
    ----------
    layer
        A symconv layer or composite whose sizes are all ints (no SymPy symbols).
    x
        A channels-last array without a batch axis: ``(L, C)``, ``(H, W, C)`` or
        ``(D, H, W, C)``; converted to ``float64``.
    params
        ``{"weight": ..., "bias": ...}`` (bias only where ``bias=True``) for one layer, nested
        by stage name for a composite (``{"depthwise": {...}, "pointwise": {...}}``). A
        convolution's weight is ``(*kernel_size, in_channels/groups, out_channels)``, a
        transposed convolution's ``(*kernel_size, in_channels, out_channels/groups)``; a
        :class:`~symconv.layers.Linear` layer's ``(in_features, out_features)``; BatchNorm's
        ``weight`` (γ) and ``bias`` (β) ``(channels,)``. Stages without parameters (activations,
        pooling) may be left out. When ``None``, standard normal values from
        ``numpy.random.default_rng(seed)``.
    buffers
        Tensors that are not learned parameters, nested as ``params``: BatchNorm's
        ``{"running_mean": ..., "running_var": ...}``, each ``(channels,)``. When ``None``,
        uniform on [0.5, 1.5) from the same generator.
    seed
        Seed of the random parameters and buffers.
    method
        ``"fast"`` (vectorised: counts each NumPy operation from the shapes of its operands) or
        ``"reference"`` (plain Python loops: counts scalar by scalar, where each operation is
        performed; for small shapes only). Both count the same operations.
    count
        With ``False`` nothing is counted (``.counts`` is ``None``): for measuring the cost of
        counting.
    max_memory
        Bytes the run may take beyond the input (its outputs, parameters, buffers and scratch,
        estimated before it starts by :func:`symconv.execute.budget.estimate`); ``None``: half
        the memory available now. A run estimated above it is refused before it allocates
        anything.
    max_operations
        Scalar operations the run may do; ``None``: 5·10⁷ for ``method="reference"``, 10¹¹ for
        ``"fast"``. The fast executor also refuses kernels of more than 10⁵ offsets in all (it
        loops over them in Python). See :mod:`symconv.execute.budget`.
    track
        With ``True``, record the distinct input, parameter and output elements the run touches
        (:mod:`symconv.execute.traffic`): ``.traffic``. The fast executor marks the views each
        NumPy operation is handed; the reference executor marks each scalar as it reads it.
    training
        With ``True``, the forward pass in training mode (``model.train()``): BatchNorm computes
        the batch statistics, normalises with them and updates its running statistics
        (:mod:`symconv.execute.batchnorm_train`), giving ``.saved`` and ``.updated``; every
        other layer runs as at inference.

    Returns
    -------
    Execution
        ``.output``, ``.counts`` (mults, adds, divs, comparisons), ``.params``, ``.buffers``,
        ``.stages``.

    Raises
    ------
    SymconvError
        For symbolic sizes, an input of the wrong rank, channels or size, complex or masked
        values, parameters or buffers of the wrong keys or shapes, a residual block that
        changes the shape, or a run above ``max_memory`` or ``max_operations``.

    Examples
    --------
    >>> import numpy as np
    >>> from symconv import Conv1d, ConvTranspose1d, execute
    >>> x = np.array([[1.0], [2.0], [3.0]])              # L = 3, one channel
    >>> run = execute(Conv1d(1, 1, 2, bias=True), x, {"weight": [[[1.0]], [[10.0]]], "bias": [0.5]})
    >>> run.output.ravel(), run.counts.mults, run.counts.adds
    (array([21.5, 32.5]), 4, 4)
    >>> up = execute(ConvTranspose1d(1, 1, 2, stride=2), x, {"weight": [[[1.0]], [[10.0]]]})
    >>> up.output.ravel(), up.counts.mults, up.counts.adds
    (array([ 1., 10.,  2., 20.,  3., 30.]), 6, 6)
    >>> execute(Conv1d(1, 1, 2), x, method="reference").counts == execute(Conv1d(1, 1, 2), x).counts
    True
    >>> execute(Conv1d(1, 1, 2), x, {"weight": np.ones((2, 1, 2))})
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: params['weight'] has shape (2, 1, 2) but Conv1d expects shape (2, 1, 1)
    """
    if method not in _RUNNERS:
        raise SymconvError(f"method={method!r} must be one of {', '.join(map(repr, METHODS))}")
    if not isinstance(layer, Layer):
        raise SymconvError(f"layer={layer!r} must be a symconv layer, like Conv2d(3, 64, 3)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SymconvError(f"seed={seed!r} must be an int")
    known = _PREPARED.get(id(layer))
    if known is None or known.layer is not layer:
        _check_concrete(layer)
    array = _real_array(x, "x")
    if known is None or known.layer is not layer or known.shape != array.shape \
            or known.method != method:
        known = _prepare(layer, array.shape, method)
    budget.allowed(known.need, method, max_memory=max_memory, max_operations=max_operations,
                   input_allocated=True)
    if not isinstance(training, bool):
        raise SymconvError(f"training={training!r} must be True or False")
    return _run(layer, array, {"params": params, "buffers": buffers},
                _Random(int(seed)), method, count, (), track=track, known=known,
                training=training)


@dataclass(frozen=True)
class _Prepared:
    """What :func:`execute` found out about a layer and an input shape that passed its checks:
    the estimate of the run, and the shapes of a single layer's parameters and buffers."""

    layer: Layer
    shape: tuple[int, ...]
    method: str
    need: budget.Estimate
    shapes: dict[str, dict[str, tuple[int, ...]]] | None


#: The checks passed by the last runs, by the identity of their layer (layers are immutable,
#: and each entry holds its layer, so that the identity is not reused while it is kept).
_PREPARED: dict[int, _Prepared] = {}


def _prepare(layer: Layer, shape: tuple[int, ...], method: str) -> _Prepared:
    """Check that an input of ``shape`` fits ``layer`` (its sizes are known to be concrete)
    and estimate the run; remembered for the next call with the same layer, shape and method."""
    _check_shape(layer, shape)
    need = budget.estimate(layer, shape, method)
    shapes = None if isinstance(layer, Composite) else {
        root: _held_shapes(layer, root) for root in _HELD}
    known = _Prepared(layer, shape, method, need, shapes)
    if len(_PREPARED) >= 64:
        _PREPARED.clear()
    _PREPARED[id(layer)] = known
    return known
