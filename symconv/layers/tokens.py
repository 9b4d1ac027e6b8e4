"""Layers of token-based models (ViT, Swin) that move data or add learned tensors:
:class:`Reshape`, :class:`Rearrange`, :class:`Select`, :class:`ClassToken`,
:class:`AddParameter`.

None counts a multiplication; :class:`AddParameter` adds once per element. Shapes are fixed
sizes (a reshape names the sizes it gives), so networks with them are counted at one input size.
Traffic follows PyTorch: a reshape or a selection of a contiguous tensor is a view (nothing
read or written), a reshape after a permute copies (``Rearrange``), ``torch.cat`` copies.

Examples
--------
>>> from symconv import cost
>>> cost(Reshape((196, 768)), (14, 14, 768)).output_shape
(196, 768)
>>> c = cost(ClassToken(768), (196, 768))
>>> c.output_shape, c.params, c.mults
((197, 768), 768, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import NOTHING, InputAccess
from symconv.sizes import Size, as_expr, as_size

__all__ = ["Reshape", "Rearrange", "Select", "ClassToken", "AddParameter", "MulParameter"]


def _sizes(shape: object, owner: str) -> tuple[Size, ...]:
    if not isinstance(shape, (tuple, list)) or not shape:
        raise SymconvError(f"{owner}(shape={shape!r}) must be a channels-last shape, like "
                           "(196, 768)")
    return tuple(as_size(size, f"{owner}(shape") for size in shape)


def _numel(shape: tuple[Size, ...]) -> sympy.Expr:
    return sympy.Mul(*(as_expr(size) for size in shape))


def _same_numel(layer: Layer, shape: tuple[Size, ...], into: tuple[Size, ...]) -> None:
    if sympy.Eq(_numel(shape), _numel(into)) is sympy.false:
        raise SymconvError(f"{type(layer).__name__}: an input of shape {tuple(shape)} has "
                           f"{_numel(shape)} elements, the shape {tuple(into)} "
                           f"{_numel(into)}")


@dataclass(frozen=True, init=False)
class Reshape(Layer):
    """The input, row-major, as ``shape`` (channels last): a view, nothing counted, read or
    written. ViT's ``x.reshape(n, hidden, h·w)`` on ``(H, W, C)``: ``Reshape((H·W, C))``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Reshape((4, 2, 8)), (8, 8))
    >>> c.output_shape, c.reads, c.writes
    ((4, 2, 8), 0, 0)
    """

    example: ClassVar[str] = "Reshape((196, 768))"

    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shape: object) -> None:
        object.__setattr__(self, "shape", _sizes(shape, type(self).__name__))

    @property
    def kind(self) -> str:
        return "reshape"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: only the shape changes."""
        _same_numel(self, (*input_spatial, _need_channels(self, in_channels)), self.shape)
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False, access=NOTHING)


@dataclass(frozen=True, init=False)
class Rearrange(Layer):
    """The input's axes put in the order ``axes`` (``numpy.transpose``), then reshaped to
    ``shape``: what PyTorch's reshape of a permuted tensor does (Swin's window partition). A
    copy: nothing counted, every element read and written.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Rearrange((1, 0, 2), (6, 8)), (2, 3, 8))
    >>> c.output_shape, c.mults, c.reads, c.writes
    ((6, 8), 0, 48, 48)
    """

    example: ClassVar[str] = "Rearrange((0, 2, 1, 3, 4), (64, 49, 96))"

    axes: tuple[int, ...]
    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, axes: object, shape: object) -> None:
        if (not isinstance(axes, (tuple, list)) or
                sorted(axes) != list(range(len(axes)))):
            raise SymconvError(f"Rearrange(axes={axes!r}) must be a permutation of the input's "
                               "axes, like (1, 0, 2)")
        object.__setattr__(self, "axes", tuple(int(axis) for axis in axes))
        object.__setattr__(self, "shape", _sizes(shape, "Rearrange"))

    @property
    def kind(self) -> str:
        return "rearrange"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a copy."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        if len(shape) != len(self.axes):
            raise SymconvError(f"Rearrange(axes={self.axes}) orders {len(self.axes)} axes, the "
                               f"input has {len(shape)}")
        _same_numel(self, shape, self.shape)
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False)


@dataclass(frozen=True, init=False)
class Select(Layer):
    """Position ``index`` of spatial axis ``axis``, that axis dropped: ViT's ``x[:, 0]`` (the
    class token) is ``Select(0, 0)`` on ``(L, C)``. A view: nothing counted, read or written.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(Select(0, 0), (197, 768)).output_shape
    (768,)
    """

    example: ClassVar[str] = "Select(0, 0)"

    axis: int
    index: int

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, axis: int, index: int) -> None:
        for name, value in (("axis", axis), ("index", index)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise SymconvError(f"Select({name}={value!r}) must be an int >= 0")
        object.__setattr__(self, "axis", axis)
        object.__setattr__(self, "index", index)

    @property
    def kind(self) -> str:
        return "select"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a view."""
        channels = _need_channels(self, in_channels)
        return LoopNest(outer=(), inner=(), outputs=(*output_spatial, channels),
                        multiply=False, access=NOTHING)


@dataclass(frozen=True, init=False)
class ClassToken(Layer):
    """A learned token of ``channels`` put before the tokens ``(L, C)``: ViT's
    ``torch.cat([class_token.expand(n, -1, -1), x], dim=1)``, ``(L + 1, C)``. Nothing counted;
    parameters ``C``; a copy (the tokens and the learned one read, the output written).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(ClassToken(8), (5, 8))
    >>> c.output_shape, c.reads, c.writes, c.params
    ((6, 8), 48, 48, 8)
    """

    example: ClassVar[str] = "ClassToken(768)"

    channels: Size

    spatial_dims: ClassVar[int | None] = 1

    def __init__(self, channels: object) -> None:
        object.__setattr__(self, "channels", as_size(channels, "ClassToken(channels"))

    @property
    def kind(self) -> str:
        return "classtoken"

    def in_channels_expected(self) -> Size:
        return self.channels

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a copy of the tokens after the learned one."""
        outputs = (*output_spatial, self.channels)
        return LoopNest(outer=(), inner=(), outputs=outputs, multiply=False,
                        parameters=(("token", (self.channels,)),))


@dataclass(frozen=True, init=False)
class AddParameter(Layer):
    """The input plus a tensor of ``shape`` (channels last) that is not computed from it,
    broadcast: ViT's learned position embedding ``x + pos_embedding`` (``learned=True``: its
    elements are parameters), Swin's relative position bias gathered from a table
    (``learned=False``: computed from parameters the layer does not own). One addition per
    output element.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AddParameter((197, 768)), (197, 768))
    >>> c.adds, c.params, c.kind
    (151296, 151296, 'addparameter')
    >>> cost(AddParameter((3, 49, 49), learned=False), (2, 3, 49, 49)).params
    0
    """

    example: ClassVar[str] = "AddParameter((197, 768))"

    shape: tuple[Size, ...]
    learned: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shape: object, learned: bool = True) -> None:
        object.__setattr__(self, "shape", _sizes(shape, "AddParameter"))
        if not isinstance(learned, bool):
            raise SymconvError(f"AddParameter(learned={learned!r}) must be True or False")
        object.__setattr__(self, "learned", learned)

    @property
    def kind(self) -> str:
        return "addparameter" if self.learned else "addconstant"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every element, one addition; the tensor added read once."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        if len(self.shape) > len(shape) or any(
                as_expr(b) != 1 and sympy.Eq(as_expr(a), as_expr(b)) is sympy.false
                for a, b in zip(shape[::-1], self.shape[::-1])):
            raise SymconvError(f"AddParameter(shape={tuple(self.shape)}) does not broadcast "
                               f"onto an input of shape {shape}")
        # a learned tensor is read as a parameter; a computed one as a second operand
        parameters = (("value", self.shape),) if self.learned else ()
        extra = 0 if self.learned else _numel(self.shape)
        return LoopNest(outer=shape, inner=(), outputs=shape, multiply=False,
                        per_output=(("adds", 1),), parameters=parameters,
                        access=InputAccess(extra=extra))


@dataclass(frozen=True, init=False)
class MulParameter(Layer):
    """The input times a tensor of ``shape`` (channels last) that is not computed from it,
    broadcast: Swin V2's ``attn * logit_scale`` (the scale clamped and exponentiated from a
    parameter the layer does not own: ``learned=False``). One multiplication per output element.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(MulParameter((3, 1, 1), learned=False), (4, 3, 49, 49))
    >>> c.mults, c.adds, c.params, c.kind
    (28812, 0, 0, 'mulconstant')
    """

    example: ClassVar[str] = "MulParameter((3, 1, 1), learned=False)"

    shape: tuple[Size, ...]
    learned: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shape: object, learned: bool = True) -> None:
        object.__setattr__(self, "shape", _sizes(shape, "MulParameter"))
        if not isinstance(learned, bool):
            raise SymconvError(f"MulParameter(learned={learned!r}) must be True or False")
        object.__setattr__(self, "learned", learned)

    @property
    def kind(self) -> str:
        return "mulparameter" if self.learned else "mulconstant"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every element, one multiplication; the tensor read once."""
        nest = AddParameter(self.shape, self.learned).loop_nest(input_spatial, output_spatial,
                                                                in_channels)
        return LoopNest(outer=nest.outer, inner=(), outputs=nest.outputs, multiply=True,
                        parameters=nest.parameters, access=nest.access)


def _reshaped(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, (Reshape, Rearrange))
    return tuple(as_expr(size) for size in layer.shape[:-1])


def _selected(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Select)
    if layer.axis >= len(input_spatial):
        raise SymconvError(f"Select(axis={layer.axis}) needs a spatial axis; the input has "
                           f"{len(input_spatial)}")
    if sympy.Ge(layer.index, as_expr(input_spatial[layer.axis])) is sympy.true:
        raise SymconvError(f"Select(index={layer.index}) is outside the axis's "
                           f"{input_spatial[layer.axis]} positions")
    return input_spatial[:layer.axis] + input_spatial[layer.axis + 1:]


output_spatial.register(Reshape, _reshaped)
output_spatial.register(Rearrange, _reshaped)
output_spatial.register(Select, _selected)
output_spatial.register(ClassToken, lambda layer, spatial: (spatial[0] + 1,))
output_spatial.register(AddParameter, lambda layer, spatial: spatial)
output_spatial.register(MulParameter, lambda layer, spatial: spatial)
