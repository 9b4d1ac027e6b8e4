"""From a recorded run (:class:`~symconv.frontends.trace.Trace`) to a symconv
:class:`~symconv.layers.Graph`: :func:`build`.

The layers come from the calls' hyperparameters, never from the shapes PyTorch recorded; the
shapes are derived again by symconv's own arithmetic from the (possibly symbolic) input shape,
and checked against every shape PyTorch produced at the sizes it ran at. A branch becomes a
:class:`~symconv.layers.Reuse` stage, an addition an :class:`~symconv.layers.Add`.

Examples
--------
>>> from symconv.frontends.trace import Call, Sum, Trace
>>> from symconv.layers import Conv2d
>>> run = Trace((Call("conv", Conv2d(4, 4, 3, padding=1), (-1,), (5, 5, 4)),
...              Call("add", Sum("+"), (0, -1), (5, 5, 4))), output=1, refused=())
>>> build([({}, run)], (5, 5, 4)).stages
(('conv', Conv2d(...)), ('add', Add(other='input', spelling='+')))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.derive.derivation import _as_multiples
from symconv.errors import SymconvError
from symconv.frontends.functions import Product
from symconv.frontends.trace import INPUT, Binary, Concat, Skipped, Sum, Trace
from symconv.layers import Add, Cat, Composite, Div, Flatten, Graph, Layer, Mul, Reuse, Sub
from symconv.layers.products import MatMul
from symconv.layers.shapes import output_spatial
from symconv.sizes import as_expr, product, surely_different, surely_equal

__all__ = ["build", "Uncounted", "uncounted"]


@dataclass(frozen=True, init=False)
class Uncounted(Reuse):
    """A part of a PyTorch model symconv cannot count, counted as zero because the user asked
    (``from_torch(..., unsupported="skip")``): it continues from stage ``source`` with a tensor
    of the ``shape`` PyTorch produced. Its kind is ``"uncounted"``; ``what`` says what it is and
    why it is not counted, and :func:`uncounted` lists every one, so that none is silently zero.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Uncounted("input", (4, 4, 8), "act (nn.Mish: ...)"), (4, 4, 8))
    >>> c.kind, c.mults, c.output_shape
    ('uncounted', 0, (4, 4, 8))
    """

    example: ClassVar[str] = 'Uncounted("input", (4, 4, 8), "act (nn.Mish: ...)")'

    what: str

    def __init__(self, source: str, shape: object, what: str) -> None:
        super().__init__(source, shape)
        object.__setattr__(self, "what", what)

    @property
    def kind(self) -> str:
        return "uncounted"


def uncounted(net: Layer) -> list[str]:
    """Every part of ``net`` counted as zero because symconv cannot count it (its
    :class:`Uncounted` stages' descriptions, in order); empty for a network counted in full.

    Examples
    --------
    >>> from symconv.layers import Graph, ReLU
    >>> net = Graph(("relu", ReLU()), ("act", Uncounted("relu", (4, 4, 8), "act (nn.Mish: ...)")),
    ...             input_shape=(4, 4, 8))
    >>> uncounted(net)
    ['act (nn.Mish: ...)']
    """
    found: list[str] = []
    for _, stage in getattr(net, "stages", ()):
        if isinstance(stage, Uncounted):
            found.append(stage.what)
        else:
            found.extend(uncounted(stage))
    return found

_Shape = tuple[sympy.Expr, ...]




def _next_shape(layer: Layer, shape: _Shape) -> _Shape:
    if isinstance(layer, Flatten):
        return (as_expr(product(shape)),)
    if isinstance(layer, Composite):  # an attention: its stages' own arithmetic
        from symconv.derive import cost

        return tuple(cost(layer, shape).output_shape)
    spatial = output_spatial(layer, shape[:-1])
    return (*spatial, as_expr(layer.out_channels_for(shape[-1])))


@dataclass(frozen=True)
class _Value:
    """A tensor while building: the stage that made it (``"input"``) and its shape."""

    producer: str
    shape: _Shape


class _Builder:
    """The stages of a :class:`~symconv.layers.Graph`, with a :class:`Reuse` wherever a stage
    does not take the previous stage's output."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, Layer]] = []
        self.names: set[str] = {"input"}
        self.current = "input"

    def _unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.names:
            candidate, number = f"{name}#{number}", number + 1
        self.names.add(candidate)
        return candidate

    def feed(self, value: _Value) -> None:
        if value.producer != self.current:
            self.stages.append((self._unique(f"reuse:{value.producer}"),
                                Reuse(value.producer, value.shape)))
            self.current = value.producer

    def emit(self, name: str, layer: Layer, value: _Value) -> _Value:
        self.feed(value)
        try:
            shape = _next_shape(layer, value.shape)
        except SymconvError as error:
            raise SymconvError(f"from_torch: {name}: {error}") from None
        self.names.add(name)
        self.stages.append((name, layer))
        self.current = name
        return _Value(name, shape)

    def binary(self, name: str, kind: str, first: _Value, second: _Value) -> _Value:
        """``first op second`` with broadcasting: the operand of the output's shape flows in
        (the other is the layer's ``other``, with its shape where it differs)."""
        def covers(big: _Shape, small: _Shape) -> bool:
            return len(big) == len(small) and all(
                s == 1 or surely_equal(b, s) for b, s in zip(big, small))

        other_first = not covers(first.shape, second.shape)
        if other_first and not covers(second.shape, first.shape):
            raise SymconvError(f"from_torch: {name} combines shapes {first.shape} and "
                               f"{second.shape}; symconv broadcasts one onto the other only")
        flowing, other = (second, first) if other_first else (first, second)
        if kind == "mul" and flowing.shape == other.shape and other.producer == self.current:
            flowing, other = other, flowing  # no Reuse needed
        layer = {"mul": Mul, "sub": Sub, "div": Div}[kind](
            other.producer, shape=None if other.shape == flowing.shape else other.shape,
            other_first=other_first)
        return self.emit(name, layer, flowing)

    def concat(self, name: str, parts: list[_Value]) -> _Value:
        """``torch.cat(parts, dim=1)`` as a chain of :class:`Cat` stages on the first part
        (``name:1``, ``name:2``, ..., the last one ``name``)."""
        value = parts[0]
        for number, other in enumerate(parts[1:], start=1):
            link = name if number == len(parts) - 1 else f"{name}:{number}"
            value = self.emit(link, Cat(other.producer, other.shape), value)
        if len(parts) == 1:
            raise SymconvError(f"from_torch: {name} concatenates one tensor; symconv follows "
                               "two or more")
        return value

    def skip(self, name: str, what: str, source: _Value, shape: _Shape) -> _Value:
        self.names.add(name)
        self.stages.append((name, Uncounted(source.producer, shape, what)))
        self.current = name
        return _Value(name, shape)

    def add(self, name: str, spelling: str, first: _Value, second: _Value) -> _Value:
        if len(first.shape) != len(second.shape) or any(
            surely_different(a, b) for a, b in zip(first.shape, second.shape)
        ):
            raise SymconvError(f"from_torch: {name} adds tensors of shapes {first.shape} and "
                               f"{second.shape}; symconv adds tensors of one shape")
        if second.producer == self.current:
            first, second = second, first
        self.feed(first)
        self.names.add(name)
        self.stages.append((name, Add(second.producer, spelling)))
        self.current = name
        return _Value(name, first.shape)


def build(runs: Sequence[tuple[Mapping[sympy.Symbol, int], Trace]], shape: _Shape, *,
          size_multiple: int = 1) -> Graph:
    """The symconv network of a model's recorded runs, on an input of channels-last ``shape``.

    Parameters
    ----------
    runs
        Each run recorded (of one structure, with no refused part), with the value of each
        symbol of ``shape`` it ran at (``{}`` for a concrete ``shape``). The stages are the
        first run's calls; every shape symconv derives must equal PyTorch's in every run.
    shape
        The input shape, channels last; symbolic sizes give formulas.
    size_multiple
        As :func:`~symconv.from_torch`'s.

    Raises
    ------
    SymconvError
        Where symconv's arithmetic gives another shape than PyTorch's, naming the stage.
    """
    # Symbolic sizes S as size_multiple·R while building (so Reuse shapes need no floor), the
    # shapes recorded back in S: derive does the same with the carried input shape.
    forward, back = _as_multiples(shape, size_multiple) if size_multiple != 1 else (shape, {})
    builder = _Builder()
    first = runs[0][1]
    values: dict[int, _Value] = {INPUT: _Value("input", forward)}
    for index, call in enumerate(first.calls):
        sources = [values[source] for source in call.inputs]
        if isinstance(call.op, Sum):
            value = builder.add(call.name, call.op.spelling, sources[0], sources[1])
        elif isinstance(call.op, Concat):
            value = builder.concat(call.name, sources)
        elif isinstance(call.op, Binary):
            value = builder.binary(call.name, call.op.kind, sources[0], sources[1])
        elif isinstance(call.op, Product):
            value = builder.emit(call.name, MatMul(sources[1].producer, sources[1].shape,
                                                   call.op.transpose_other, call.op.spelling),
                                 sources[0])
        elif isinstance(call.op, Skipped):
            shape_out = _skipped_shape(call.name, sources[0], back,
                                       [(at, run.calls[index].shape) for at, run in runs])
            value = builder.skip(call.name, call.op.what, sources[0], shape_out)
        else:
            value = builder.emit(call.name, call.op, sources[0])
        _check(call.name, value.shape, back, [(at, run.calls[index].shape) for at, run in runs])
        values[index] = value
    builder.feed(values[first.output])
    stages = [(name, _back(layer, back)) for name, layer in builder.stages]
    return Graph(*stages, input_shape=shape, size_multiple=size_multiple, not_run=first.not_run)


def _back(layer: Layer, back: Mapping[sympy.Basic, sympy.Expr]) -> Layer:
    """A stage with its recorded shapes in the input's symbols (they were built as multiples)."""
    if not back:
        return layer
    if isinstance(layer, Reuse):
        shape = tuple(as_expr(size).xreplace(back) for size in layer.shape)
        if isinstance(layer, Uncounted):
            return Uncounted(layer.source, shape, layer.what)
        return Reuse(layer.source, shape)
    if isinstance(layer, Cat):
        return Cat(layer.other, tuple(as_expr(size).xreplace(back) for size in layer.shape),
                   layer.other_first)
    if isinstance(layer, (Mul, Sub, Div)) and layer.shape is not None:
        return type(layer)(layer.other, tuple(as_expr(size).xreplace(back) for size in layer.shape),
                           layer.other_first)
    return layer


def _skipped_shape(name: str, source: _Value, back: Mapping[sympy.Basic, sympy.Expr],
                   runs: Sequence[tuple[Mapping[sympy.Symbol, int], tuple[int, ...]]]) -> _Shape:
    """The shape of a skipped part's output, which symconv has no arithmetic for, axis by axis:
    PyTorch's size where it is the same at every size traced (channels; any axis of a concrete
    input); the input's axis where PyTorch's equals it at every size (spatial axes kept, as by
    an activation, a concatenation along channels, SE's scaling); refused otherwise."""
    shapes = [ran for _, ran in runs]
    if len(set(shapes)) == 1:
        return tuple(sympy.Integer(size) for size in shapes[0])
    sized = [tuple(int(as_expr(size).xreplace(back).subs(at)) for size in source.shape)
             for at, _ in runs]
    axes: list[sympy.Expr] = []
    for axis in range(len(shapes[0])):
        if len({ran[axis] for ran in shapes}) == 1:
            axes.append(sympy.Integer(shapes[0][axis]))
        elif len(source.shape) == len(shapes[0]) and all(
                ran[axis] == got[axis] for ran, got in zip(shapes, sized)):
            axes.append(source.shape[axis])
        else:
            raise SymconvError(
                f"from_torch: {name} is not counted (unsupported='skip'), and its output's "
                "shape depends on the input size in a way symconv has no arithmetic for "
                f"({', '.join(map(str, shapes))}); give a concrete input_shape"
            )
    return tuple(axes)


def _check(name: str, derived: _Shape, back: Mapping[sympy.Basic, sympy.Expr],
           runs: Sequence[tuple[Mapping[sympy.Symbol, int], tuple[int, ...]]]) -> None:
    """Raise unless ``derived`` is the shape PyTorch produced in each run."""
    concrete = all(isinstance(size, sympy.Integer) for size in derived)
    for at, ran in runs:
        sizes = (tuple(int(size) for size in derived) if concrete else
                 tuple(int(as_expr(size).xreplace(back).subs(at)) for size in derived))
        if sizes != ran:
            where = ", ".join(f"{symbol}={value}" for symbol, value in at.items())
            raise SymconvError(
                f"from_torch: {name}: PyTorch made a tensor of shape {ran} (channels last)"
                f"{' at ' + where if where else ''}, symconv's arithmetic gives {sizes}; "
                "symconv cannot count this model faithfully"
            )
