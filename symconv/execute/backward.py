"""Run a layer's backward pass with NumPy and count what it does: :func:`execute_backward`.

The forward pass runs first, in training mode (:func:`symconv.execute.execute` with
``training=True``, uncounted here: BatchNorm saves its batch mean and ``1/σ``, which its
backward reads), then the gradient of
the output (``grad``; random by default) flows back through the stages in reverse order, each
single layer's backward executor (:mod:`symconv.execute.backward_layers`) counting its own
operations. Which gradients are computed follows the same rules as the derivation
(:mod:`symconv.derive.backward`), worked out here again from the layers:

* a layer's parameters get gradients unless frozen (``frozen=`` by dotted path, ``True`` for
  all, or a layer whose ``trainable`` attribute is ``False``);
* a layer computes its input's gradient when something before it is trainable, or when the
  network's input needs one (``input_grad``);
* a tensor read by several stages (a residual block's input, a graph's reused outputs) gets the
  sum of their gradients: one addition per element for each reader beyond the first, counted on
  the routing stage (``Reuse``, ``Add``, the residual ``add``) that read it.

Examples
--------
>>> import numpy as np
>>> from symconv import Conv2d
>>> x = np.random.default_rng(0).standard_normal((7, 7, 3))
>>> run = execute_backward(Conv2d(3, 64, 3), x)
>>> run.counts.mults, run.grad_input.shape, run.grads["weight"].shape
(86400, (7, 7, 3), (3, 3, 3, 64))
>>> execute_backward(Conv2d(3, 64, 3), x, input_grad=False).counts.mults
43200
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.backward_layers import backward_fast, backward_reference

# the pooling executors register themselves when imported
from symconv.execute.backward_pooling import POOLING  # noqa: F401

# so do those of the other layer kinds
from symconv.execute import (  # noqa: F401  isort: skip
    backward_activations, backward_learned, backward_movement, backward_norm, backward_resize,
    backward_windows)
from symconv.execute.backward_transformer import operand_backward, reads_operand
from symconv.execute.counter import Array, Counter, Counts
from symconv.execute.registry import Params, parameter_shapes, second_input
from symconv.execute.run import Execution, execute
from symconv.layers import Composite, Graph, Layer, Sequential
from symconv.layers.trainable import check_frozen, is_trainable

__all__ = ["BackwardExecution", "execute_backward"]

_RUNNERS = {"fast": backward_fast, "reference": backward_reference}


@dataclass(frozen=True, eq=False)
class BackwardExecution:
    """The result of :func:`execute_backward`.

    Attributes
    ----------
    output
        The forward pass's output.
    grad_output
        The gradient the backward pass started from (the output's shape).
    grad_input
        The gradient with respect to the input, or ``None`` when it was not needed.
    grads
        The parameter gradients, nested as ``params`` (``{"weight": ..., "bias": ...}``; ``{}``
        for a layer whose parameters are frozen or that has none).
    counts
        The operations the backward pass counted (``None`` with ``count=False``); for a
        composite, the sum over its stages.
    stages
        ``(name, BackwardExecution)`` for each stage of a composite.
    layer, method
        What ran, and how.
    params, buffers
        The parameters and buffers used (those of the forward run).
    """

    output: Array
    grad_output: Array | None
    grad_input: Array | None
    grads: Params
    counts: Counts | None
    stages: tuple[tuple[str, BackwardExecution], ...]
    layer: Layer
    method: str
    params: Params
    buffers: Params


def _frozen(path: str, layer: Layer, frozen: bool | Collection[str]) -> bool:
    if isinstance(frozen, bool):
        by_name = frozen
    else:
        by_name = any(path == prefix or path.startswith(prefix + ".") for prefix in frozen)
    return by_name or not is_trainable(layer, f"layer {path}" if path else layer.kind)


def _has_parameters(layer: Layer) -> bool:
    if isinstance(layer, Composite):
        return any(_has_parameters(stage) for _, stage in layer.stages)
    return bool(parameter_shapes(layer))


class _Walk:
    """One backward run: its method, frozen parameters and whether to count."""

    def __init__(self, method: str, frozen: bool | Collection[str], count: bool) -> None:
        self.method, self.frozen, self.count = method, frozen, count

    def add(self, a: Array, b: Array, counter: Counter) -> Array:
        """``a + b``, one addition per element (one by one in the reference method)."""
        if self.method == "fast":
            return counter.add(a, b)
        out = a.ravel().tolist()
        for index, value in enumerate(b.ravel().tolist()):
            out[index] += value
            counter.adds += 1
        return np.array(out).reshape(a.shape)

    def leaf(self, layer: Layer, run: Execution, x: Array, g: Array | None, path: str,
             needs: bool) -> tuple[BackwardExecution, bool]:
        trainable = bool(run.params) and not _frozen(path, layer, self.frozen)
        counter = Counter(enabled=self.count)
        dx: Array | None = None
        grads: dict[str, Array] = {}
        if g is not None and (needs or trainable):
            runner = _RUNNERS[self.method]
            try:
                dx, grads = runner(layer, x, {**run.params, **run.buffers, **run.saved}, g, counter,
                                   input_grad=needs, trainable=trainable)
            except SymconvError as error:
                if not path:
                    raise
                raise SymconvError(f"layer {path} ({layer.kind}): {error}") from None
        result = BackwardExecution(
            output=run.output, grad_output=g, grad_input=dx if needs else None, grads=grads,
            counts=counter.counts() if self.count else None, stages=(), layer=layer,
            method=self.method, params=run.params, buffers=run.buffers)
        return result, needs or trainable

    def walk(self, layer: Layer, run: Execution, x: Array, g: Array | None, path: str,
             needs: bool) -> tuple[BackwardExecution, bool]:
        """The backward run of ``layer`` (whose forward run is ``run``, on input ``x``) from the
        output gradient ``g``; and whether the output's gradient was needed."""
        if not isinstance(layer, Composite):
            return self.leaf(layer, run, x, g, path, needs)
        stages = list(zip(layer.stages, run.stages))
        # Forward order: what each stage reads, and whether each tensor needs its gradient.
        flags: dict[str, bool] = {"input": needs}
        inputs: dict[str, tuple[str, Array]] = {}
        current, previous, value = needs, "input", x
        outputs: dict[str, Array] = {}
        for (name, stage), (_, stage_run) in stages:
            outputs[name] = stage_run.output
            read = second_input(stage)
            if type(stage).__name__ == "Reuse":
                current = flags.get(getattr(stage, "source", ""), False)
            elif read is not None and read != "input":
                current = current or flags.get(read, False)
            inputs[name] = (previous, value)
            stage_flag = current
            if not stage.reads_input:   # its values do not depend on its input
                stage_flag = False
            if not read and type(stage).__name__ != "Reuse":
                stage_flag = stage_flag or (_has_parameters(stage) and not _all_frozen(
                    stage, f"{path}.{name}" if path else name, self))
            flags[name] = current = stage_flag
            previous, value = name, stage_run.output
        # Backward order.
        pending: dict[str, list[tuple[str | None, Array]]] = {stages[-1][0][0]: [(None, g)]} \
            if g is not None else {}
        counters: dict[str, Counter] = {}
        results: dict[str, BackwardExecution] = {}
        stage_needs: dict[str, bool] = {}
        for (name, stage), (_, stage_run) in reversed(stages):
            here = self._gather(pending.pop(name, []), counters)
            before, stage_input = inputs[name]
            read = second_input(stage)
            stage_path = f"{path}.{name}" if path else name
            is_reuse = type(stage).__name__ == "Reuse"
            if reads_operand(stage):
                counters[name] = counter = Counter(enabled=self.count)
                other = stage.other  # type: ignore[attr-defined]
                second = outputs[other] if other in outputs else x
                needs_in, needs_other = flags.get(before, False), flags.get(other, False)
                if here is not None:
                    d_in, d_other = operand_backward(stage, stage_input, second, here, counter,
                                                     needs_in, needs_other, self.method)
                    if d_in is not None:
                        pending.setdefault(before, []).append((None, d_in))
                    if d_other is not None:
                        pending.setdefault(other, []).append((name, d_other))
                results[name] = BackwardExecution(
                    output=stage_run.output, grad_output=here, grad_input=None, grads={},
                    counts=None, stages=(), layer=stage, method=self.method,
                    params=stage_run.params, buffers=stage_run.buffers)
                continue
            if read is not None and not is_reuse and type(stage).__name__ not in (
                    "Add", "ResidualAdd", "Cat"):
                raise SymconvError(f"layer {stage_path} ({stage.kind}): no backward executor "
                                   f"for {type(stage).__name__}, which reads stage {read!r}")
            if is_reuse or read is not None:
                counters[name] = Counter(enabled=self.count)
                targets: list[tuple[str, str | None]] = []
                if is_reuse:
                    targets.append((getattr(stage, "source", ""), name))
                else:
                    targets += [(before, None), (read or "input", name)]
                for number, (target, depositor) in enumerate(targets):
                    if here is not None and flags.get(target, False):
                        part = _cat_part(stage, here, stage_input, number) if type(
                            stage).__name__ == "Cat" else here
                        pending.setdefault(target, []).append((depositor, part))
                results[name] = BackwardExecution(
                    output=stage_run.output, grad_output=here, grad_input=None, grads={},
                    counts=None, stages=(), layer=stage, method=self.method,
                    params=stage_run.params, buffers=stage_run.buffers)
                continue
            needs_here = flags.get(before, False) and stage.reads_input
            result, _ = self.walk(stage, stage_run, stage_input, here, stage_path, needs_here)
            stage_needs[name] = needs_here
            results[name] = result
            if result.grad_input is not None:
                pending.setdefault(before, []).append((None, result.grad_input))
        grad_input = self._gather(pending.pop("input", []), counters)
        done = []
        for (name, _), _run in stages:
            result = results[name]
            if name in counters:
                result = BackwardExecution(**{**result.__dict__, "counts": (
                    counters[name].counts() if self.count else None)})
            done.append((name, result))
        counts = sum((r.counts or Counts() for _, r in done), Counts()) if self.count else None
        grads = {name: r.grads for name, r in done if r.grads}
        return BackwardExecution(
            output=run.output, grad_output=g, grad_input=grad_input if needs else None,
            grads=grads, counts=counts, stages=tuple(done), layer=layer, method=self.method,
            params=run.params, buffers=run.buffers), current

    def _gather(self, parts: list[tuple[str | None, Array]],
                counters: dict[str, Counter]) -> Array | None:
        """The sum of the gradients deposited into one tensor; each addition charged to the
        routing stage that deposited the second term."""
        if not parts:
            return None
        # the chain's own first, then the routing stages in forward order (they deposited in
        # backward order): each addition is charged to a reader after the first, as derived
        parts = ([part for part in parts if part[0] is None]
                 + [part for part in parts if part[0] is not None][::-1])
        total = parts[0][1]
        for depositor, part in parts[1:]:
            counter = counters[depositor] if depositor is not None else Counter(enabled=False)
            total = self.add(total, part, counter)
        return total


def _cat_part(stage: Layer, g: Array, x: Array, number: int) -> Array:
    """``Cat``'s gradient for its input (``number`` 0) or its other operand (1): the slice of
    ``g`` along the channels where that operand was copied (a view, nothing counted)."""
    split = g.shape[-1] - x.shape[-1] if getattr(stage, "other_first", False) else x.shape[-1]
    first, second = g[..., :split], g[..., split:]
    if getattr(stage, "other_first", False):
        first, second = second, first
    return first if number == 0 else second


def _all_frozen(layer: Layer, path: str, walk: _Walk) -> bool:
    if isinstance(layer, Composite):
        return all(_all_frozen(stage, f"{path}.{name}", walk) for name, stage in layer.stages)
    return not parameter_shapes(layer) or _frozen(path, layer, walk.frozen)


def execute_backward(
    layer: Layer,
    x: object,
    params: Mapping[str, Any] | None = None,
    grad: object = None,
    *,
    buffers: Mapping[str, Any] | None = None,
    seed: int = 0,
    method: str = "fast",
    input_grad: bool | None = None,
    frozen: bool | Collection[str] = (),
    count: bool = True,
    max_memory: int | None = None,
    max_operations: int | None = None,
) -> BackwardExecution:
    """Run ``layer`` forward (uncounted), then backward from ``grad``, counting the backward.

    Parameters
    ----------
    layer, x, params, buffers, seed, max_memory, max_operations
        As for :func:`symconv.execute.execute` (the forward run, in training mode: its
        operations are counted by ``execute(..., training=True)``, not here).
    grad
        The gradient of the loss with respect to the output (the output's shape); ``None``:
        standard normal values from ``numpy.random.default_rng(seed + 1)``.
    method
        ``"fast"`` (vectorised, counted from the operands' shapes) or ``"reference"`` (plain
        loops, counted one scalar at a time).
    input_grad
        Whether the gradient with respect to the input is computed; ``None``: yes for a single
        layer or block, no for a network (``Sequential``, ``Graph``), whose input is data.
    frozen
        ``True`` (every parameter frozen) or the dotted paths of frozen layers or blocks.
    count
        With ``False`` nothing is counted (to time what counting costs).

    Returns
    -------
    BackwardExecution
    """
    if method not in _RUNNERS:
        raise SymconvError(f"method={method!r} must be one of 'fast', 'reference'")
    if input_grad is None:
        input_grad = not isinstance(layer, (Sequential, Graph))
    if not isinstance(input_grad, bool):
        raise SymconvError(f"input_grad={input_grad!r} must be True or False")
    frozen = check_frozen(layer, frozen)
    run = execute(layer, x, params, buffers=buffers, seed=seed,
                  method=method, count=False,  # type: ignore[arg-type]
                  max_memory=max_memory, max_operations=max_operations, training=True)
    if grad is None:
        g = np.random.default_rng(int(seed) + 1).standard_normal(run.output.shape)
    else:
        g = np.asarray(grad, dtype=np.float64)
        if g.shape != run.output.shape:
            raise SymconvError(f"grad has shape {g.shape} but the output has shape "
                               f"{run.output.shape}; pass the gradient of the output")
    array = np.asarray(x, dtype=np.float64)
    result, _ = _Walk(method, frozen, count).walk(layer, run, array, g, "", input_grad)
    return result
