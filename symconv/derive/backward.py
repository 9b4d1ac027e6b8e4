"""The backward pass and the training step, derived from loop nests. Pure SymPy.

:func:`backward_cost` walks a layer or network in the order data flows, keeping track of
whether each tensor needs its gradient, and derives each single layer's backward loop nests
(:func:`symconv.layers.backward.backward_nests`) with the generic derivation of forward passes.
The rules:

* the network's input needs no gradient unless ``input_grad=True`` (a single layer's does by
  default; :func:`symconv.derive.cost` passes ``input_grad``);
* a layer's parameters get gradients unless they are frozen (``frozen=`` by dotted path, or a
  layer whose ``trainable`` attribute is ``False``, as ``from_torch`` may set from
  ``requires_grad``);
* a layer's input needs its gradient when something before it is trainable (or the network's
  input needs one): the layers before the first trainable one run no backward at all;
* a tensor read by several layers (a residual block's input, a graph's reused outputs) gets the
  sum of their gradients: one addition per element for each reader beyond the first.

A backward :class:`~symconv.derive.Cost` counts operations only: its ``params``, ``reads`` and
``writes`` are 0 (the training step's parameters and traffic are the forward pass's). A single
layer's backward cost lists its gradients in :attr:`~symconv.derive.Cost.gradients`, each with
its counts only (as the training forward's parts).

Examples
--------
>>> from symconv import Conv2d, cost, ratio
>>> from symconv.symbols import H, W, M, N, k
>>> conv = Conv2d(M, N, k)
>>> ratio(cost(conv, (H, W, M), phase="backward").mults, cost(conv, (H, W, M)).mults)
2
>>> ratio(cost(conv, (H, W, M), phase="backward", input_grad=False).mults,
...       cost(conv, (H, W, M)).mults)
1
>>> [name for name, _ in cost(conv, (H, W, M), phase="backward").gradients]
['input_grad', 'weight_grad']

With ``optimizer=`` a training step ends with one optimizer step on every trainable parameter
(:func:`optimizer_cost`; the operations are :mod:`symconv.layers.optimizers`'):

>>> from symconv.layers import BatchNorm2d, Sequential
>>> net = Sequential(("conv", Conv2d(3, 8, 3)), ("bn", BatchNorm2d(8)))
>>> step = cost(net, (7, 7, 3), phase="train", optimizer="adam").stages[-1][1]
>>> step.kind, step.input_shape, step.mults, step.divs, step.transcendentals  # 216 + 16 params
('optimizer', (232,), 1160, 464, 232)
>>> cost(net, (7, 7, 3), phase="train", optimizer="sgd",
...      frozen=("conv",)).stages[-1][1].mults
16
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sympy

from symconv.derive.cost import _ZERO, COUNT_KINDS, Cost, Source, _built, _sum, _summed
from symconv.derive.nest_counts import INTEGERS, as_integers, counts_cost, nest_counts, parts_cost
from symconv.derive.train_forward import training_forward_cost
from symconv.errors import SymconvError
from symconv.layers import Add, Cat, Composite, Graph, Layer, ResidualAdd, Reuse, Sequential
from symconv.layers.backward import backward_nests

# the rules of the other layer kinds register themselves into backward_nests when imported
from symconv.layers import backward_activations, backward_movement, backward_norm  # noqa: F401  isort: skip
from symconv.layers import backward_resize, backward_windows  # noqa: F401  isort: skip
from symconv.layers.backward_transformer import operand_backward_nests, operand_of
from symconv.layers.base import LoopNest
from symconv.layers.optimizers import optimizer as as_optimizer
from symconv.layers.optimizers import per_element
from symconv.layers.trainable import check_frozen, is_trainable

__all__ = ["backward_cost", "train_cost", "phased_cost", "optimizer_cost", "trainable_parameters",
           "PHASES", "Frozen"]

#: The phases :func:`symconv.derive.cost` derives.
PHASES = ("forward", "backward", "train")

#: Frozen parameters: ``True`` (all), or the dotted paths of frozen layers or blocks.
Frozen = bool | Collection[str]


@dataclass(frozen=True)
class Derivation:
    """The generic derivation this module builds on, handed in by
    :func:`symconv.derive.cost` (so that the two modules import no cycle): the forward
    ``cost``, the cost of one loop nest, and the sum of stages."""

    cost: Callable[..., Cost]
    nest_cost: Callable[..., Cost]
    total: Callable[..., Cost]


_DERIVATION: list[Derivation] = []


#: A backward walk's memo: each layer or block derived, by its key, as ``(cost, needs)``; and
#: under :data:`~symconv.derive.nest_counts.INTEGERS` the walk's Integers.
_Memo = dict[object, Any]


def _derivation() -> Derivation:
    return _DERIVATION[-1]


def total(stages: tuple[tuple[str, Cost], ...], shape: tuple[sympy.Expr, ...],
          kind: str) -> Cost:
    return _derivation().total(stages, shape, kind)


def use(derivation: Derivation) -> None:
    """Set the generic derivation (done once by :mod:`symconv.derive.derivation`)."""
    _DERIVATION.append(derivation)


def _is_frozen(path: str, layer: Layer, frozen: Frozen) -> bool:
    if frozen is True or (frozen and frozen is not False and any(
            path == prefix or path.startswith(prefix + ".") for prefix in frozen)):
        return True   # frozen by name
    if getattr(layer, "partly_frozen", None) is None:   # what is_trainable reads, without
        return getattr(layer, "trainable", True) is False   # building its message's place
    return not is_trainable(layer, f"layer {path}" if path else layer.kind)


def _has_parameters(forward: Cost) -> bool:
    params = forward.params
    if params is _ZERO:
        return False
    if type(params) is sympy.Integer:   # a layer's count of parameters: no SymPy comparison
        return params.p != 0
    return params != 0


def _accumulate(shape: tuple[sympy.Expr, ...], kind: str, source: Cost) -> Cost:
    """One addition per element of ``shape``: a second gradient added into a tensor's."""
    nest = LoopNest(outer=(), inner=(), outputs=shape, multiply=False,
                    per_output=(("adds", 1),))
    return counts_cost(nest, source.input_shape, kind, params=False)[0]


def _gradients(nests: Sequence[tuple[str, LoopNest]], shape: tuple[sympy.Expr, ...], kind: str,
               extra: Cost | None, integers: dict[int, sympy.Integer] | None = None
               ) -> tuple[tuple[tuple[str, Cost], ...], dict[str, sympy.Expr]]:
    """The gradients of ``nests`` on the layer's input ``shape`` (each its counts only: no
    parameters, no traffic), ``extra`` (an accumulation) after them, and their counts summed:
    in Python ints where every count is an integer (``integers``: the walk's Integers)."""
    gradients, whole = parts_cost(nests, shape, kind, params=False, integers=integers)
    if extra is not None:
        gradients.append(("accumulate", extra))
        if whole is not None and all(getattr(extra, count).is_Integer for count in COUNT_KINDS):
            for count in COUNT_KINDS:
                whole[count] = whole.get(count, 0) + int(getattr(extra, count))
        else:
            whole = None
    if whole is None or len(gradients) == 1:
        return tuple(gradients), _sums(gradients)
    return tuple(gradients), as_integers(whole)


def _leaf(layer: Layer, forward: Cost, path: str, needs: bool, frozen: Frozen,
          extra: Cost | None, memo: _Memo | None = None) -> tuple[Cost, bool]:
    trainable = _has_parameters(forward) and not _is_frozen(path, layer, frozen)
    integers = None if memo is None else memo.get(INTEGERS)
    if memo is None or extra is not None:
        return _leaf_once(layer, forward, path, needs, trainable, extra, integers)
    try:   # an equal layer on an equal input, needing the same gradients: derived once
        key: object = ("leaf", layer, forward.input_shape, needs, trainable)
        found = memo.get(key)
    except TypeError:    # an unhashable layer
        return _leaf_once(layer, forward, path, needs, trainable, extra, integers)
    if found is None:
        found = memo[key] = _leaf_once(layer, forward, path, needs, trainable, extra, integers)
    return found


def _leaf_once(layer: Layer, forward: Cost, path: str, needs: bool, trainable: bool,
               extra: Cost | None, integers: dict[int, sympy.Integer] | None = None
               ) -> tuple[Cost, bool]:
    shape = forward.input_shape
    try:
        # the rule looked up by singledispatch's own cache, without its wrapper's repacking
        nests = backward_nests.dispatch(type(layer))(
            layer, shape[:-1], forward.output_shape[:-1], shape[-1], input_grad=needs,
            trainable=trainable)
    except NotImplementedError:
        where = f"layer {path} ({layer.kind})" if path else layer.kind
        raise SymconvError(f"{where}: no backward pass is known for {type(layer).__name__}; "
                           "register one with symconv.layers.backward.backward_nests") from None
    except SymconvError as error:
        if not path:
            raise
        raise SymconvError(f"layer {path} ({layer.kind}): {error}") from None
    kind = layer.kind   # a property, worked out on each read (a convolution's: a genexpr)
    gradients, sums = _gradients(nests, shape, kind, extra, integers)
    result = _built(params=_ZERO, input_shape=shape, output_shape=forward.output_shape,
                    kind=kind, gradients=gradients, **sums)
    return result, needs or trainable


def _frozen_below(path: str, frozen: Frozen) -> object:
    """What of ``frozen`` concerns the layer at ``path`` and below: whether it is frozen
    itself, and the frozen paths inside it, relative to it (a key of :func:`_walk`'s memo)."""
    if isinstance(frozen, bool):
        return frozen
    if not path:
        return frozenset(frozen)
    inside = path + "."
    return (any(path == prefix or path.startswith(prefix + ".") for prefix in frozen),
            frozenset(prefix[len(inside):] for prefix in frozen if prefix.startswith(inside)))


def _sums(gradients: Sequence[tuple[str, Cost]]) -> dict[str, sympy.Expr]:
    """Each count of the gradients, summed (one gradient's own counts: ``Add`` of one term is
    the term)."""
    if len(gradients) == 1:
        only = gradients[0][1]
        return {name: getattr(only, name) for name in COUNT_KINDS}
    return {name: _sum(getattr(part, name) for _, part in gradients) for name in COUNT_KINDS}


def _walk(layer: Layer, forward: Cost, path: str, needs: bool, frozen: Frozen,
          memo: _Memo | None = None) -> tuple[Cost, bool]:
    """The backward cost of ``layer`` (whose forward cost is ``forward``) and whether its
    output's gradient is needed. A repeated block (an equal layer on an equal input, with the
    same gradient needs and the same frozen parts) is derived once, through ``memo``."""
    if memo is None:
        memo = {}
    try:
        key: object = (layer, forward.input_shape, needs, _frozen_below(path, frozen))
        found = memo.get(key)
    except TypeError:    # an unhashable layer
        key, found = None, None
    if found is not None:
        return found
    result = _walk_once(layer, forward, path, needs, frozen, memo)
    if key is not None:
        memo[key] = result
    return result


#: :func:`_role` by stage type, and under ``None`` the number of registrations of
#: :func:`~symconv.layers.backward_transformer.operand_backward_nests` it was worked out with.
_ROLES: dict[type | None, object] = {}


def _role(kind: type) -> tuple[bool, bool, bool, bool, bool, bool]:
    """Whether a stage of type ``kind`` is a ``Reuse``, reads a second operand
    (:func:`~symconv.layers.backward_transformer.reads_operand`), is an ``Add`` or ``Cat``, a
    ``ResidualAdd``, a stage that reads no input (``Layer.reads_input``: a ``Parameter``, a
    ``Constant``), a
    ``Composite``: worked out once per type (six
    ``isinstance`` and two ``singledispatch`` look-ups a stage were a fifth of the walk), and
    again after a registration."""
    registered = len(operand_backward_nests.registry)
    if _ROLES.get(None) != registered:
        _ROLES.clear()
        _ROLES[None] = registered
    found = _ROLES.get(kind)
    if found is None:
        default = operand_backward_nests.dispatch(object)
        found = _ROLES[kind] = (
            issubclass(kind, Reuse), operand_backward_nests.dispatch(kind) is not default,
            issubclass(kind, (Add, Cat)), issubclass(kind, ResidualAdd),
            not getattr(kind, "reads_input", True), issubclass(kind, Composite))
    return found  # type: ignore[return-value]


def _walk_once(layer: Layer, forward: Cost, path: str, needs: bool, frozen: Frozen,
               memo: _Memo) -> tuple[Cost, bool]:
    if not isinstance(layer, Composite):
        return _leaf(layer, forward, path, needs, frozen, None, memo)
    flags: dict[str, bool] = {"input": needs}
    readers: dict[str, int] = {"input": 0}
    shapes: dict[str, tuple[sympy.Expr, ...]] = {"input": forward.input_shape}
    current, previous = needs, "input"
    stages: list[tuple[str, Cost]] = []
    layers = layer.stages
    for index, ((name, stage), (_, stage_forward)) in enumerate(zip(layers, forward.stages)):
        reuse, binary, add_or_cat, residual, no_input, composite = _role(type(stage))
        extra: Cost | None = None
        if reuse:
            read = stage.source  # type: ignore[attr-defined]
            current = flags.get(read, False)
        else:
            read = previous
        if binary:
            result = _binary(stage, stage_forward, current, flags, readers, shapes, read)
            current = current or flags.get(operand_of(stage), False)
            stages.append((name, result))
            flags[name], readers[name], shapes[name] = current, 0, stage_forward.output_shape
            previous = name
            continue
        if add_or_cat:   # g to both operands (Cat: a slice to each)
            readers[read] = readers.get(read, 0) + 1
            other = stage.other  # type: ignore[attr-defined]
            current = current or flags.get(other, False)
            readers[other] = readers.get(other, 0) + 1
            if readers[other] > 1 and flags.get(other, False):
                extra = _accumulate(shapes[other], stage.kind, stage_forward)
        elif residual:
            readers["input"] += 1
            if flags["input"]:
                extra = _accumulate(shapes["input"], stage.kind, stage_forward)
        if reuse:
            # a Reuse before a stage that reads no input (traced on the network's input) is
            # no reader: no gradient comes back through it
            if index + 1 == len(layers) or not _role(type(layers[index + 1][1]))[4]:
                readers[read] = readers.get(read, 0) + 1
                if readers[read] > 1 and flags.get(read, False):
                    extra = _accumulate(shapes[read], stage.kind, stage_forward)
        elif not (add_or_cat or residual or no_input):  # a Parameter, a Constant read none
            readers[read] = readers.get(read, 0) + 1
        if no_input:   # its values do not depend on its input: no gradient flows back there
            current = False
        stage_path = f"{path}.{name}" if path else name
        if composite:
            result, current = _walk(stage, stage_forward, stage_path, current, frozen, memo)
        elif add_or_cat or reuse or residual:
            result = _extra_only(stage, stage_forward, extra)
        else:
            result, current = _leaf(stage, stage_forward, stage_path, current, frozen, extra,
                                    memo)
        stages.append((name, result))
        flags[name], readers[name], shapes[name] = current, 0, stage_forward.output_shape
        previous = name
    # the stages' counts summed; their params, reads and writes are all 0 (counts only)
    sums = _summed([stage for _, stage in stages], COUNT_KINDS)
    output_shape = stages[-1][1].output_shape if stages else forward.input_shape
    return _built(params=_ZERO, input_shape=forward.input_shape, output_shape=output_shape,
                  stages=tuple(stages), kind=layer.kind, **sums), current


def _binary(stage: Layer, forward: Cost, needs: bool, flags: dict[str, bool],
            readers: dict[str, int], shapes: dict[str, tuple[sympy.Expr, ...]],
            read: str) -> Cost:
    """A stage that reads the previous stage's output and stage ``other``'s (``Mul``, ``Sub``,
    ``Div``, ``MatMul``, an attention's scores and context): the gradient of each operand that
    needs one, and an accumulation where ``other`` has another reader."""
    other = operand_of(stage)
    readers[read] = readers.get(read, 0) + 1
    readers[other] = readers.get(other, 0) + 1
    needs_other = flags.get(other, False)
    nests = operand_backward_nests(stage, forward.input_shape, forward.output_shape,
                                   input_grad=needs, other_grad=needs_other)
    extra = (_accumulate(shapes[other], stage.kind, forward)
             if readers[other] > 1 and needs_other else None)
    gradients, sums = _gradients(nests, forward.input_shape, stage.kind, extra)
    return _built(params=_ZERO, input_shape=forward.input_shape,
                  output_shape=forward.output_shape, kind=stage.kind, gradients=gradients,
                  **sums)


def _extra_only(stage: Layer, forward: Cost, extra: Cost | None) -> Cost:
    """A routing stage's backward: the gradient copied; plus an accumulation where a tensor it
    reads has another reader."""
    gradients = (("accumulate", extra),) if extra is not None else ()
    sums = _sums(gradients)
    return _built(params=_ZERO, input_shape=forward.input_shape,
                  output_shape=forward.output_shape, kind=stage.kind, gradients=gradients,
                  **sums)


def backward_cost(layer: Layer, forward: Cost, *, input_grad: bool = True,
                  frozen: Frozen = ()) -> Cost:
    """The backward pass of ``layer``, given its derived forward cost.

    Parameters
    ----------
    layer
        The layer or network ``forward`` was derived from.
    forward
        Its forward cost (:func:`symconv.derive.cost`).
    input_grad
        Whether the gradient with respect to the input is needed (``False`` for a network's
        first layer in training).
    frozen
        ``True`` to freeze every parameter, or the dotted paths of frozen layers or blocks.
    """
    return _backward(layer, forward, input_grad, check_frozen(layer, frozen))


def _backward(layer: Layer, forward: Cost, input_grad: bool, frozen: Frozen) -> Cost:
    """:func:`backward_cost` with ``frozen`` checked."""
    memo: _Memo = {INTEGERS: {}}   # and the walk's Integers (nest_counts.INTEGERS)
    result, _ = _walk_once(layer, forward, "", input_grad, frozen, memo)  # the whole: no key
    return result


def is_network(layer: Layer) -> bool:
    """Whether ``layer`` is a network (whose input is data, needing no gradient by default)."""
    return isinstance(layer, (Sequential, Graph))


def phased_cost(layer: Layer, input_shape: object, phase: str, *, input_grad: bool | None = None,
                frozen: Frozen = (), optimizer: object = None) -> Cost:
    """``cost(layer, input_shape, phase=...)``: the forward pass, the backward pass, or both;
    with ``optimizer`` (``phase="train"`` only), one optimizer step as a third stage.

    ``"train"``'s forward stage is the forward pass in training mode
    (:mod:`symconv.derive.train_forward`: BatchNorm computes and saves its batch statistics and
    updates its running statistics); ``"backward"`` counts the backward pass alone, which reads
    the statistics that forward saved."""
    cost = _derivation().cost
    if phase not in PHASES:
        raise SymconvError(f"phase={phase!r} is unknown; use one of {', '.join(PHASES)}")
    if optimizer is not None and phase != "train":
        raise SymconvError(f"optimizer={optimizer!r} is a step of training: it goes with "
                           f"phase='train', not phase={phase!r}")
    if input_grad is None:
        input_grad = not is_network(layer)
    if not isinstance(input_grad, bool):
        raise SymconvError(f"input_grad={input_grad!r} must be True or False")
    frozen = check_frozen(layer, frozen)   # once, here: not in the walks
    forward = cost(layer, input_shape)
    if phase == "forward":
        return forward
    backward = _backward(layer, forward, input_grad, frozen)
    step = None if optimizer is None else _optimizer(layer, forward, optimizer, frozen)
    if phase == "backward":
        result = backward
    else:   # the forward pass in training mode (BatchNorm: batch statistics), then backward
        training = training_forward_cost(layer, forward, _derivation().nest_cost)
        result = train_cost(training, backward, step)

    def again(layer: Layer, shape: object) -> Cost:
        return phased_cost(layer, shape, phase, input_grad=input_grad, frozen=frozen,
                           optimizer=optimizer)

    carried = forward.source is not None and forward.source.shape is None
    return replace(result, source=Source(layer, None if carried else forward.input_shape, again))


def train_cost(forward: Cost, backward: Cost, step: Cost | None = None) -> Cost:
    """Forward plus backward, as two stages named ``"forward"`` and ``"backward"`` (and an
    optimizer ``step``, a third stage ``"optimizer"``, when given)."""
    stages: tuple[tuple[str, Cost], ...] = (("forward", forward), ("backward", backward))
    if step is not None:
        stages += (("optimizer", step),)
    result = total(stages, forward.input_shape, forward.kind)
    return replace(result, params=forward.params, output_shape=forward.output_shape)


def trainable_parameters(layer: Layer, forward: Cost, frozen: Frozen = (),
                         path: str = "") -> sympy.Expr:
    """The parameters of ``layer`` (whose forward cost is ``forward``) that get gradients."""
    if isinstance(layer, Composite):
        return sympy.Add(*(
            trainable_parameters(stage, stage_cost, frozen, f"{path}.{name}" if path else name)
            for (name, stage), (_, stage_cost) in zip(layer.stages, forward.stages)))
    if forward.params == 0 or _is_frozen(path, layer, frozen):
        return _ZERO
    return forward.params


def optimizer_cost(layer: Layer, forward: Cost, spec: object, frozen: Frozen = ()) -> Cost:
    """One step of optimizer ``spec`` (a name or :class:`~symconv.layers.optimizers.SGD` /
    :class:`~symconv.layers.optimizers.Adam`) on the trainable parameters of ``layer``: a
    :class:`Cost` of kind ``"optimizer"`` whose input and output shape is ``(P,)``, ``P`` the
    number of trainable parameters; it adds no parameters."""
    return _optimizer(layer, forward, spec, check_frozen(layer, frozen))


def _optimizer(layer: Layer, forward: Cost, spec: object, frozen: Frozen) -> Cost:
    """:func:`optimizer_cost` with ``frozen`` checked."""
    chosen = as_optimizer(spec)
    count = trainable_parameters(layer, forward, frozen)
    table = tuple((kind, number) for kind, number in per_element(chosen).items() if number)
    nest = LoopNest(outer=(), inner=(), outputs=(count,), multiply=False, per_output=table)
    sums = nest_counts(nest)
    return Cost(params=_ZERO, input_shape=(count,), output_shape=(count,), kind="optimizer",
                **sums)
