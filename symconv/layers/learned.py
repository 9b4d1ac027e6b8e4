"""Tensors computed from parameters, not from the input, as stages (a *parameter chain*):
:class:`Parameter` (a learned tensor, the chain's source), :class:`Gather` (elements picked by a
fixed index table), :class:`Clamp` and :class:`Exp` (Swin V2's logit scale), and
:class:`Folded`, which wraps each step of a chain: Swin's and MaxViT's relative position bias
``table[index].view(N, N, -1).permute(2, 0, 1)``, Swin V2's ``16·sigmoid(cpb_mlp(coords)[index]
...)`` and ``clamp(logit_scale, max=log 100).exp()``. The chain ends in a broadcast addition or
product with a tensor computed from the input (:class:`~symconv.layers.AddComputed`,
:class:`~symconv.layers.MulComputed`), which counts at inference as the added constant did.

**Inference and training** (docs/conventions.md, "Constants"). At inference the parameters are
fixed, so a compiler computes a chain once, not per example: a :class:`Folded` step counts
nothing, reads nothing and writes nothing (its value is there, as a weight is). In a training
step the parameters change at every step, so nothing folds: the step's forward in training mode
(:func:`~symconv.layers.batchnorm_train.training_nests`) is the wrapped layer's own, and its
backward the wrapped layer's backward. A :class:`Parameter` hands its tensor on (read, not
copied) and owns its elements as parameters, so that a gradient has somewhere to go; its
gradient is the one that reaches it (nothing counted).

:class:`Gather`'s backward is a scatter-add of ``g`` into a zero gradient of its input: an
element gathered ``c`` times gets the sum of its ``c`` gradients, ``c − 1`` additions (a sum
of ``c`` terms, as a bias gradient's), so one addition per gathered position beyond each
element's first; an element never gathered gets 0.

Examples
--------
>>> from symconv import cost
>>> c = cost(Parameter((169, 3)), (56, 56, 96))
>>> c.output_shape, c.params, c.mults
((169, 3), 507, 0)
>>> g = Gather((0, 1, 1, 2, 0, 0), (2, 3))          # elements 0, 1, 2 of a (3,) tensor
>>> cost(g, (3,)).output_shape, cost(g, (3,)).reads, cost(g, (3,)).writes
((2, 3), 3, 6)
>>> cost(g, (3,), phase="backward").adds           # 0 three times, 1 twice: 2 + 1
3
>>> f = Folded(Exp())
>>> cost(f, (3, 1, 1)).transcendentals, cost(f, (3, 1, 1), phase="train").transcendentals
(0, 3)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import ClassVar, cast

import sympy

from symconv.errors import SymconvError, shown
from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import Layer, LoopNest, _need_channels, check_layer
from symconv.layers.batchnorm_train import training_nests
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import NOTHING, InputAccess
from symconv.sizes import Size, as_expr, as_size

__all__ = ["Parameter", "Gather", "Folded", "Clamp", "Exp"]


def _shape(shape: object, owner: str) -> tuple[Size, ...]:
    if not isinstance(shape, (tuple, list)) or not shape:
        raise SymconvError(f"{owner}(shape={shape!r}) must be a channels-last shape, like "
                           "(169, 3)")
    return tuple(as_size(size, f"{owner}(shape") for size in shape)


def _numel(shape: tuple[Size, ...]) -> Size:
    """The number of elements of ``shape``: an int where its sizes are ints."""
    if all(type(size) is int for size in shape):
        return math.prod(cast(tuple[int, ...], shape))
    return sympy.Mul(*(as_expr(size) for size in shape))


@dataclass(frozen=True, init=False)
class Parameter(Layer):
    """A learned tensor of channels-last ``shape`` (an ``nn.Parameter`` a model computes with:
    Swin's ``relative_position_bias_table``, Swin V2's ``logit_scale``), whatever its input:
    the source of a parameter chain. Its elements are parameters (``"value"``), handed on:
    nothing counted, read or written here. The stage that uses the tensor reads it; at
    inference a chain is folded, and the addition or product at its end reads the folded value
    instead, as it would a weight (so the table itself is not read again).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Parameter((3, 1, 1)), (8, 8, 4))
    >>> c.output_shape, c.params, c.reads, c.writes
    ((3, 1, 1), 3, 0, 0)
    """

    example: ClassVar[str] = "Parameter((169, 3))"
    reads_parameters: ClassVar[bool] = False
    reads_input: ClassVar[bool] = False

    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shape: object) -> None:
        object.__setattr__(self, "shape", _shape(shape, "Parameter"))

    @property
    def kind(self) -> str:
        return "parameter"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: the parameter handed on."""
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False,
                        parameters=(("value", self.shape),),
                        access=InputAccess(copies=0, writes=False,
                                           parameters=self.reads_parameters))


@dataclass(frozen=True, init=False, repr=False)
class Gather(Layer):
    """The elements of the input (row-major) at ``index``, as a tensor of channels-last
    ``shape``: ``out.flat[i] = x.flat[index[i]]`` (``table[index]`` and the views and copies
    after it, composed into one index). A copy: nothing counted; each element picked read once,
    every output element written.

    With ``columns=c`` (an int > 1) the input is a table of rows of ``c`` elements and ``index``
    picks rows: the output holds column 0 of the picked rows, then column 1, and so on,
    ``out.flat[k·len(index) + i] = x.flat[index[i]·c + k]`` (``table[index].T``: Swin's
    relative position bias ``table[index].view(N, N, -1).permute(2, 0, 1)``, one column per
    head). The same gather as the index of every position, ``c`` times shorter.

    Examples
    --------
    >>> Gather((0, 3), (2,))
    Gather(<2 positions>, shape=(2,))
    >>> g = Gather((2, 0, 2), (2, 3), columns=2)      # rows 2, 0, 2 of a (3, 2) table
    >>> g, g.positions()
    (Gather(<3 rows>, shape=(2, 3), columns=2), (4, 0, 4, 5, 1, 5))
    >>> from symconv import cost
    >>> cost(g, (3, 2)).reads, cost(g, (3, 2), phase="backward").adds     # 4 read, 2 repeats
    (4, 2)
    >>> cost(Gather((0, 3), (2,)), (3,))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Gather: index 3 is outside an input of 3 elements
    """

    example: ClassVar[str] = "Gather((0, 1, 1, 0), (2, 2))"

    index: tuple[int, ...]
    shape: tuple[Size, ...]
    columns: int

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, index: object, shape: object, columns: object = 1) -> None:
        given: tuple[object, ...] = tuple(index) if isinstance(index, (tuple, list)) else ()
        items = cast(tuple[int, ...], given)
        distinct = set(items) if given and set(map(type, given)) == {int} else {-1}
        if min(distinct) < 0:
            raise SymconvError(f"Gather(index={shown(index, 40)}) must be a non-empty tuple of "
                               "ints >= 0, one position of the input per output element (with "
                               "columns > 1, one row of the input per column's element)")
        if type(columns) is not int or columns < 1:
            raise SymconvError(f"Gather(columns={columns!r}) must be an int >= 1: the length of "
                               "the rows index picks (1: index picks elements)")
        shape_ = _shape(shape, "Gather")
        total = _numel(shape_)
        if (total != columns * len(items) if type(total) is int
                else sympy.Eq(total, columns * len(items)) is not sympy.true):
            per = "" if columns == 1 else f" rows × {columns} columns"
            raise SymconvError(f"Gather(shape={shape_}) holds {_numel(shape_)} elements; index "
                               f"has {len(items)}{per}: give one index per output element"
                               + ("" if columns == 1 else " and column"))
        object.__setattr__(self, "index", items)
        object.__setattr__(self, "shape", shape_)
        object.__setattr__(self, "columns", columns)
        self.__dict__["picked"] = len(distinct) * columns
        self.__dict__["largest"] = max(distinct) * columns + columns - 1

    def __repr__(self) -> str:
        if self.columns == 1:
            return f"Gather(<{len(self.index)} positions>, shape={tuple(self.shape)})"
        return (f"Gather(<{len(self.index)} rows>, shape={tuple(self.shape)}, "
                f"columns={self.columns})")

    def __hash__(self) -> int:   # its index is long: hashed once
        return self._hash

    @functools.cached_property
    def _hash(self) -> int:
        return hash((self.index, self.shape, self.columns))

    @property
    def kind(self) -> str:
        return "gather"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def positions(self) -> tuple[int, ...]:
        """The input position of every output element, in order (``index`` itself where
        ``columns`` is 1)."""
        if self.columns == 1:
            return self.index
        width = self.columns
        return tuple(row * width + column for column in range(width) for row in self.index)

    @functools.cached_property
    def picked(self) -> int:
        """How many distinct input elements the index picks."""
        return len(set(self.index)) * self.columns

    @functools.cached_property
    def largest(self) -> int:
        """The largest input position picked."""
        return max(self.index) * self.columns + self.columns - 1

    @property
    def free_symbols(self) -> set[sympy.Symbol]:
        """The symbols of its shape (the index holds ints only)."""
        return set().union(*(as_expr(size).free_symbols for size in self.shape))

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a copy of the picked elements."""
        size = _numel((*input_spatial, _need_channels(self, in_channels)))
        if (self.largest + 1 > size if type(size) is int
                else sympy.Gt(self.largest + 1, size) is sympy.true):
            what = "index" if self.columns == 1 else "position"
            raise SymconvError(f"Gather: {what} {self.largest} is outside an input of {size} "
                               "elements")
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False,
                        access=InputAccess(copies=0, extra=self.picked))


@dataclass(frozen=True, init=False)
class Clamp(Layer):
    """``torch.clamp(x, min=low, max=high)``, one bound or both (exact numbers): one comparison
    per element and bound.

    Examples
    --------
    >>> from symconv import cost
    >>> import sympy
    >>> cost(Clamp(high=sympy.log(100)), (3, 1, 1)).comparisons
    3
    """

    example: ClassVar[str] = "Clamp(high=4)"

    low: sympy.Expr | None
    high: sympy.Expr | None

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, low: object = None, high: object = None) -> None:
        bounds = []
        for name, value in (("low", low), ("high", high)):
            if value is not None and not (isinstance(value, sympy.Expr) and value.is_real):
                raise SymconvError(f"Clamp({name}={value!r}) must be an exact real number "
                                   "(a SymPy number, or an int), or None")
            bounds.append(value)
        if low is None and high is None:
            raise SymconvError("Clamp(low=None, high=None) clamps nothing; give low, high or both")
        object.__setattr__(self, "low", bounds[0])
        object.__setattr__(self, "high", bounds[1])

    @property
    def kind(self) -> str:
        return "clamp"

    def bounds(self) -> int:
        """How many bounds it compares with (1 or 2)."""
        return (self.low is not None) + (self.high is not None)

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Every element, one comparison per bound."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        return _elements(shape, (("comparisons", self.bounds()),))


@dataclass(frozen=True, init=False)
class Exp(Layer):
    """``x.exp()``: one transcendental per element.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(Exp(), (3, 1, 1)).transcendentals
    3
    """

    example: ClassVar[str] = "Exp()"

    spatial_dims: ClassVar[int | None] = None

    def __init__(self) -> None:
        pass

    @property
    def kind(self) -> str:
        return "exp"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Every element, one exp."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        return _elements(shape, (("transcendentals", 1),))


@dataclass(frozen=True, init=False)
class Folded(Layer):
    """A step of a parameter chain, ``layer``, which a compiler folds at inference: nothing
    counted, read or written there (the value is computed once, not per example); in a training
    step ``layer``'s own forward and backward. Its kind is ``"folded"``.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.layers import Activation
    >>> step = Folded(Activation("sigmoid", spelling="torch"))
    >>> c = cost(step, (1, 3, 4, 4))
    >>> c.kind, c.transcendentals, c.reads, c.writes
    ('folded', 0, 0, 0)
    >>> train = cost(step, (1, 3, 4, 4), phase="train")
    >>> [(name, part.transcendentals, part.adds, part.divs) for name, part in train.stages]
    [('forward', 48, 48, 48), ('backward', 0, 48, 0)]
    """

    example: ClassVar[str] = "Folded(Exp())"

    layer: Layer

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, layer: Layer) -> None:
        check_layer(layer, "Folded(layer")
        object.__setattr__(self, "layer", layer)

    @property
    def kind(self) -> str:
        return "folded"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.layer.out_channels_for(in_channels)

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: the folded value is there."""
        nest = self.layer.loop_nest(input_spatial, output_spatial, in_channels)
        return LoopNest(outer=(), inner=(), outputs=nest.outputs, multiply=False, access=NOTHING)


output_spatial.register(Parameter, lambda layer, spatial: tuple(as_expr(size)
                                                                for size in layer.shape[:-1]))
output_spatial.register(Gather, lambda layer, spatial: tuple(as_expr(size)
                                                             for size in layer.shape[:-1]))
output_spatial.register(Clamp, lambda layer, spatial: spatial)
output_spatial.register(Exp, lambda layer, spatial: spatial)
output_spatial.register(Folded, lambda layer, spatial: output_spatial(layer.layer, spatial))


# --- training mode and backward ---------------------------------------------------------------

@training_nests.register
def _(layer: Folded, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None) -> Nests:
    """Nothing folds while the parameters change: the wrapped layer's forward."""
    return (("forward", layer.layer.loop_nest(input_spatial, output_spatial, in_channels)),)


@backward_nests.register
def _(layer: Folded, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    return backward_nests(layer.layer, input_spatial, output_spatial, in_channels,
                          input_grad=input_grad, trainable=trainable)


@backward_nests.register
def _(layer: Parameter, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """Its gradient is the one that reaches it: nothing counted."""
    return (("weight_grad", _elements(layer.shape, ())),) if trainable else ()


@backward_nests.register
def _(layer: Gather, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """A scatter-add: one addition per gathered position beyond each element's first."""
    if not input_grad:
        return ()
    repeated = len(layer.index) * layer.columns - layer.picked
    return (("input_grad", _elements((repeated,), (("adds", 1),)) if repeated else
             _elements((1,), ())),)


@backward_nests.register
def _(layer: Clamp, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """``g`` where ``x`` is within the bounds, else 0 (``clamp_backward``): a comparison per
    element and bound."""
    if not input_grad:
        return ()
    shape = (*input_spatial, _need_channels(layer, in_channels))
    return (("input_grad", _elements(shape, (("comparisons", layer.bounds()),))),)


@backward_nests.register
def _(layer: Exp, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """``g·exp(x)``, the saved output: one multiplication per element."""
    if not input_grad:
        return ()
    shape = (*input_spatial, _need_channels(layer, in_channels))
    return (("input_grad", _elements(shape, (("mults", 1),))),)

