"""The memory a network needs: :func:`memory` gives its input, parameter and activation bytes,
derived from the layers' output shapes and the graph's liveness, under a named convention.

``convention="symconv"`` (the default)
    * ``input_bytes``: the input tensor (the caller holds it for the whole forward pass);
    * ``param_bytes``: every parameter (weights, biases, BatchNorm's γ and β);
    * ``activation_bytes``, ``phase="inference"``: the **peak** of the layer outputs alive at
      once. Layers run in order; a tensor lives from the step that makes it to the last step
      that reads it (the next layer; an :class:`~symconv.layers.Add`'s or a residual block's
      second operand; a :class:`~symconv.layers.Reuse`); the network's output lives to the end.
      A reshape (``Flatten``) and a ``Reuse`` make no new tensor: they name one that exists.
    * ``activation_bytes``, ``phase="train"``: the tensors **kept for the backward pass**, each
      counted once. The rule: a layer that needs its input to compute a gradient keeps it —
      convolutions and linear layers (for the weight gradient), BatchNorm, activations (the
      mask or derivative at the input) and max pooling (where the maximum was); additions,
      average pooling, reshapes and reuses keep nothing. The network's output is kept too (the
      loss reads it). The network's input is in ``input_bytes``, not here.
    * ``total_bytes`` = input + parameters + activations.

``convention="torchinfo"``
    torchinfo's ``summary`` (``model_statistics.py`` and ``layer_info.py`` of torchinfo 1.8):
    "Input size" is ``sys.getsizeof`` of the input's storage, its bytes plus the 64 bytes of the
    Python object; "Forward/backward pass size" is twice ("x2 for gradients") the output bytes of
    every leaf module that has parameters — activations, pooling and additions are left out,
    however large; "Params size" is the parameter bytes. Its total is their sum.
    ``docs/conventions.md`` compares it with the peak.

Sizes may be symbols; ``dtype_bytes`` may be a symbol too. Pure SymPy (through
:mod:`symconv.derive`).

Examples
--------
>>> from symconv import Conv2d, ReLU, Sequential
>>> net = Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), Conv2d(8, 4, 1))
>>> m = memory(net, (8, 8, 3), dtype_bytes=4)
>>> m.input_bytes, m.param_bytes, m.activation_bytes   # peak: relu's input and output
(768, 992, 4096)
>>> memory(net, (8, 8, 3), phase="train").activation_bytes   # conv2's and relu's inputs, output
5120
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from symconv.derive import Cost, cost
from symconv.derive.traffic import traffic_bytes
from symconv.errors import SymconvError
from symconv.layers import (
    Activation,
    BatchNorm2d,
    Composite,
    ConvNd,
    ConvTransposeNd,
    Layer,
    Linear,
    MaxPool2d,
    ReLU,
)
from symconv.layers.base import check_layer, one_of
from symconv.layers.graph import Add, Reuse
from symconv.layers.linear import Flatten
from symconv.layers.sequential import Residual
from symconv.sizes import as_expr

__all__ = ["Memory", "memory", "CONVENTIONS", "PHASES", "TORCHINFO_STORAGE_OVERHEAD"]

CONVENTIONS = ("symconv", "torchinfo")
PHASES = ("inference", "train")
#: Bytes ``sys.getsizeof`` adds to a tensor storage's own (the Python object), which torchinfo's
#: "Input size" includes (CPython 3.11, torch 2.x; tests/test_memory.py checks it on torch).
TORCHINFO_STORAGE_OVERHEAD = 64

#: Layers whose backward pass needs their input (see the module docstring).
_KEEP_INPUT = (ConvNd, ConvTransposeNd, Linear, BatchNorm2d, ReLU, Activation, MaxPool2d)


@dataclass(frozen=True)
class Memory:
    """What :func:`memory` found, in bytes (SymPy expressions).

    Attributes
    ----------
    input_bytes, param_bytes, activation_bytes, total_bytes
        See :mod:`symconv.networks.memory` for what each is under each convention.
    convention, phase
        As given.
    peak_at
        For ``convention="symconv"``, ``phase="inference"``: the dotted name of a layer during
        which the activations peak ("" when not decided, for symbols).
    """

    input_bytes: sympy.Expr
    param_bytes: sympy.Expr
    activation_bytes: sympy.Expr
    total_bytes: sympy.Expr
    convention: str
    phase: str
    peak_at: str = ""
    live: tuple[tuple[str, sympy.Expr], ...] = field(default=(), repr=False)


@dataclass
class _Step:
    path: str
    layer: Layer
    cost: Cost
    reads: tuple[int, ...]   # tensor ids
    makes: int               # tensor id (an existing one for an alias)


def _size(shape: tuple[sympy.Expr, ...]) -> sympy.Expr:
    return sympy.Mul(*shape)


class _Walk:
    """The leaf layers in the order they run, with the tensors each reads and makes."""

    def __init__(self, batch: sympy.Expr) -> None:
        self.batch = batch
        self.sizes: list[sympy.Expr] = []   # elements of each tensor, by id
        self.steps: list[_Step] = []

    def tensor(self, shape: tuple[sympy.Expr, ...]) -> int:
        self.sizes.append(self.batch * _size(shape))
        return len(self.sizes) - 1

    def walk(self, layer: Layer, result: Cost, path: str, current: int) -> int:
        if isinstance(layer, Composite):
            names: dict[str, int] = {"input": current}
            block_input = current
            for (name, stage), (_, stage_cost) in zip(layer.stages, result.stages):
                where = f"{path}.{name}" if path else name
                second = None
                if isinstance(stage, Reuse):
                    current = self._named(names, stage.source, where)
                    self.steps.append(_Step(where, stage, stage_cost, (), current))
                    names[name] = current
                    continue
                if isinstance(stage, Add):
                    second = self._named(names, stage.other, where)
                elif stage.kind == "add" and isinstance(layer, Residual):
                    second = block_input
                current = self.walk(stage, stage_cost, where, current) if second is None else \
                    self._leaf(stage, stage_cost, where, (current, second))
                names[name] = current
            return current
        return self._leaf(layer, result, path, (current,))

    def _named(self, names: dict[str, int], name: str, where: str) -> int:
        if name not in names:
            raise SymconvError(f"layer {where} uses {name!r}, which has not run before it")
        return names[name]

    def _leaf(self, layer: Layer, result: Cost, path: str, reads: tuple[int, ...]) -> int:
        made = reads[0] if isinstance(layer, Flatten) else self.tensor(result.output_shape)
        self.steps.append(_Step(path, layer, result, reads, made))
        return made


def memory(net: Layer, input_shape: object = None, dtype_bytes: object = 4, *,
           convention: str = "symconv", phase: str = "inference",
           batch: object = 1) -> Memory:
    """The input, parameter and activation bytes of a network (see the module docstring).

    Parameters
    ----------
    net
        Any symconv layer or network; a network may carry its own ``input_shape``.
    input_shape
        Channels last, without a batch axis; ``None`` for a network that carries one.
    dtype_bytes
        Bytes per element: an int (4 for float32) or a SymPy symbol.
    convention
        ``"symconv"`` (peak of live tensors / kept for backward) or ``"torchinfo"``.
    phase
        ``"inference"`` or ``"train"`` (``"symconv"`` only; torchinfo has one figure).
    batch
        Examples per forward pass (torchinfo's batch axis; 1 by default).

    Examples
    --------
    >>> from symconv.networks.zoo import mobilenet_v2
    >>> m = memory(mobilenet_v2(), convention="torchinfo")
    >>> m.param_bytes, m.activation_bytes
    (14019488, 106857792)
    """
    check_layer(net, "memory(net")
    one_of(convention, CONVENTIONS, "memory(convention")
    one_of(phase, PHASES, "memory(phase")
    if convention == "torchinfo" and phase != "inference":
        raise SymconvError("memory(convention='torchinfo') has one figure: leave phase out")
    if isinstance(batch, bool) or not isinstance(batch, (int, sympy.Expr)) or (
            isinstance(batch, int) and batch < 1):
        raise SymconvError(f"memory(batch={batch!r}) must be a positive int or a SymPy symbol")
    size = traffic_bytes(sympy.Integer(1), dtype_bytes)   # checks dtype_bytes
    derived = cost(net, input_shape)
    batch_expr = as_expr(batch)
    walk = _Walk(batch_expr)
    first = walk.tensor(derived.input_shape)
    last = walk.walk(net, derived, "", first)
    input_bytes = walk.sizes[first] * size
    param_bytes = derived.params * size
    if convention == "torchinfo":
        outputs = sympy.Add(*(walk.sizes[step.makes] for step in walk.steps
                              if step.cost.params != 0))
        activation = 2 * outputs * size
        input_bytes = input_bytes + TORCHINFO_STORAGE_OVERHEAD
        return Memory(input_bytes, param_bytes, activation,
                      input_bytes + param_bytes + activation, convention, phase)
    if phase == "train":
        kept = {step.reads[0] for step in walk.steps if isinstance(step.layer, _KEEP_INPUT)}
        kept.add(last)
        kept.discard(first)
        activation = sympy.Add(*(walk.sizes[t] for t in sorted(kept))) * size
        return Memory(input_bytes, param_bytes, activation,
                      input_bytes + param_bytes + activation, convention, phase)
    activation, peak_at, live = _peak(walk, first, last)
    activation = activation * size
    return Memory(input_bytes, param_bytes, activation, input_bytes + param_bytes + activation,
                  convention, phase, peak_at, tuple((name, value * size) for name, value in live))


def _peak(walk: _Walk, first: int, last: int
          ) -> tuple[sympy.Expr, str, list[tuple[str, sympy.Expr]]]:
    """The most elements of layer outputs alive during one step, where, and each step's."""
    made: dict[int, int] = {}
    used: dict[int, int] = {}
    for index, step in enumerate(walk.steps):
        made.setdefault(step.makes, index)
        for tensor in (*step.reads, step.makes):
            used[tensor] = index
    used[last] = len(walk.steps)
    live: list[tuple[str, sympy.Expr]] = []
    for index, step in enumerate(walk.steps):
        alive = [t for t in made if t != first and made[t] <= index <= used[t]]
        live.append((step.path, sympy.Add(*(walk.sizes[t] for t in alive))))
    if not live:
        return sympy.Integer(0), "", live
    peak = sympy.Max(*_undominated({value for _, value in live}))
    where = next((name for name, value in live if value == peak), "")
    return peak, where, live


def _terms(value: sympy.Expr) -> dict[sympy.Expr, sympy.Expr] | None:
    """``value`` as ``{monomial: coefficient}`` when every monomial is 1 or a product of powers
    of positive symbols (so positive); else ``None``."""
    terms = sympy.expand(value).as_coefficients_dict()
    for monomial in terms:
        positive = all(symbol.is_positive for symbol in monomial.free_symbols)
        if monomial != 1 and not (positive and (monomial.is_Mul or monomial.is_Pow
                                                or monomial.is_Symbol)):
            return None
    return dict(terms)


def _at_least(a: dict[sympy.Expr, sympy.Expr], b: dict[sympy.Expr, sympy.Expr]) -> bool:
    """Whether ``a ≥ b`` for every value of the positive symbols, seen cheaply: every
    coefficient of ``a − b`` is at least 0 (each monomial being positive)."""
    return all(a.get(monomial, 0) - b.get(monomial, 0) >= 0 for monomial in {*a, *b})


def _undominated(values: set[sympy.Expr]) -> list[sympy.Expr]:
    """``values`` without those another is at least (so that ``Max`` compares few)."""
    kept: list[tuple[sympy.Expr, dict[sympy.Expr, sympy.Expr]]] = []
    rest: list[sympy.Expr] = []
    for value in sorted(values, key=sympy.default_sort_key):
        terms = _terms(value)
        if terms is None:
            rest.append(value)
            continue
        if any(_at_least(other, terms) for _, other in kept):
            continue
        kept = [(v, other) for v, other in kept if not _at_least(terms, other)] + [(value, terms)]
    return [value for value, _ in kept] + rest
