"""Broadcast elementwise arithmetic between two tensors: :class:`Mul`, :class:`Sub`, :class:`Div`.

The second operand is the output of an earlier stage of a :class:`~symconv.layers.Graph` (or
``"input"``, the network's input), named as :class:`~symconv.layers.Add` names it; its
channels-last ``shape`` is recorded when it differs from the input's (an SE block's scale
``(1, 1, C)`` times the block's input ``(H, W, C)``). The sizes broadcast as NumPy's and
PyTorch's do, right-aligned: equal, or one of them 1. PyTorch's NCHW ``(N, C, 1, 1)`` is
``(1, 1, C)`` here.

One operation per element of the *broadcast* output: a multiplication, an addition (a
subtraction is counted as an addition) or a division. No parameters. Traffic: every element of
both operands read once, every output element written.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import InputAccess
from symconv.sizes import Size, as_expr, as_size, surely_different

__all__ = ["Mul", "Sub", "Div", "AddComputed", "MulComputed", "LayerScale", "broadcast_sizes"]




def broadcast_sizes(a: tuple[Size, ...], b: tuple[Size, ...], what: str = "") -> tuple[Size, ...]:
    """The broadcast of two shapes, right-aligned (NumPy's and PyTorch's rule).

    A pair of sizes broadcasts when they are equal or one of them is 1; a pair that SymPy cannot
    decide is taken to be equal (the larger rank's size is kept).

    Examples
    --------
    >>> broadcast_sizes((7, 7, 16), (1, 1, 16))
    (7, 7, 16)
    >>> from symconv.symbols import H, W, C
    >>> broadcast_sizes((1, 1, C), (H, W, C))
    (H, W, C)
    >>> broadcast_sizes((4, 3), (5, 3), "Mul")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Mul: shapes (4, 3) and (5, 3) do not broadcast: sizes 4 and 5 differ and neither is 1
    """
    rank = max(len(a), len(b))
    left = (1,) * (rank - len(a)) + tuple(a)
    right = (1,) * (rank - len(b)) + tuple(b)
    out: list[Size] = []
    for x, y in zip(left, right):
        if as_expr(x) == 1:
            out.append(y)
        elif as_expr(y) == 1 or not surely_different(x, y):
            out.append(x)
        else:
            raise SymconvError(
                f"{what + ': ' if what else ''}shapes {tuple(a)} and {tuple(b)} do not broadcast: "
                f"sizes {x} and {y} differ and neither is 1"
            )
    return tuple(out)


@dataclass(frozen=True, init=False)
class _Binary(Layer):
    """``x ∘ other`` (or ``other ∘ x``), broadcast; one operation per output element."""

    other: str
    shape: tuple[Size, ...] | None
    other_first: bool

    spatial_dims: ClassVar[int | None] = None
    #: Whether the operation is a multiplication (else :attr:`per_element` says what it is).
    multiply: ClassVar[bool] = False
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = ()
    #: The operator, for reports and errors.
    symbol: ClassVar[str] = "?"

    def __init__(self, other: str, shape: object = None, other_first: bool = False) -> None:
        name = type(self).__name__
        if not isinstance(other, str) or not other:
            raise SymconvError(f"{name}(other={other!r}) must name a stage, or 'input'")
        if shape is not None:
            if not isinstance(shape, (tuple, list)) or not shape:
                raise SymconvError(
                    f"{name}(shape={shape!r}) must be the channels-last shape of stage {other}, "
                    "like (1, 1, 64), or None when it is the shape of the input"
                )
            shape = tuple(as_size(size, "shape") for size in shape)
        if not isinstance(other_first, bool):
            raise SymconvError(f"{name}(other_first={other_first!r}) must be True or False")
        object.__setattr__(self, "other", other)
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "other_first", other_first)

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    def out_channels_for(self, in_channels: Size) -> Size:
        if self.shape is None:
            return in_channels
        return broadcast_sizes((in_channels,), self.shape[-1:], type(self).__name__)[0]

    def output_shape(self, input_shape: tuple[Size, ...]) -> tuple[Size, ...]:
        """The broadcast of the input's shape and :attr:`shape`."""
        if self.shape is None:
            return tuple(input_shape)
        return broadcast_sizes(tuple(input_shape), self.shape, type(self).__name__)

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every element of the broadcast output; inner: nothing; reads both operands
        whole (the second as :attr:`InputAccess.extra`)."""
        channels = _need_channels(self, in_channels)
        outputs = self.output_shape((*input_spatial, channels))
        own = self.shape if self.shape is not None else (*input_spatial, channels)
        extra = sympy.Mul(*(as_expr(size) for size in own))
        return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=self.multiply,
                        per_output=self.per_element, access=InputAccess(extra=extra))


@dataclass(frozen=True, init=False)
class Mul(_Binary):
    """``x * other``, broadcast (an SE block's scaling): one multiplication per output element.

    Parameters
    ----------
    other
        The stage whose output is the second operand (``"input"``: the network's input).
    shape
        That operand's channels-last shape, where it is not the input's (``(1, 1, C)`` for an SE
        scale); ``None``: the input's.
    other_first
        ``other * x`` rather than ``x * other`` (the same count; :class:`Sub` and :class:`Div`
        depend on the order).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(Mul("input", shape=(H, W, C)), (1, 1, C))    # torchvision's scale * input
    >>> c.output_shape, c.mults, c.adds, c.reads, c.writes
    ((H, W, C), C*H*W, 0, C*H*W + C, C*H*W)
    """

    example: ClassVar[str] = 'Mul("input", shape=(1, 1, 64))'
    multiply: ClassVar[bool] = True
    symbol: ClassVar[str] = "*"


@dataclass(frozen=True, init=False)
class Sub(_Binary):
    """``x - other`` (``other - x`` with ``other_first=True``), broadcast: one addition per
    output element (a subtraction is counted as an addition). Arguments as :class:`Mul`'s.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Sub("input"), (4, 4, 8))
    >>> c.adds, c.mults, c.kind
    (128, 0, 'sub')
    """

    example: ClassVar[str] = 'Sub("input")'
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)
    symbol: ClassVar[str] = "-"


@dataclass(frozen=True, init=False)
class Div(_Binary):
    """``x / other`` (``other / x`` with ``other_first=True``), broadcast: one division per
    output element. Arguments as :class:`Mul`'s.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Div("input", shape=(8,)), (4, 4, 8))
    >>> c.divs, c.output_shape
    (128, (4, 4, 8))
    """

    example: ClassVar[str] = 'Div("input", shape=(1, 1, 64))'
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("divs", 1),)
    symbol: ClassVar[str] = "/"


@dataclass(frozen=True, init=False)
class AddComputed(_Binary):
    """``x + other``, ``other`` a tensor computed from parameters, not from the input (the last
    stage of a parameter chain, :mod:`symconv.layers.learned`: Swin's relative position bias),
    broadcast onto ``x``: one addition per output element, as the constant it is at inference
    (kind ``"addconstant"``, as :class:`~symconv.layers.tokens.AddParameter`'s). Its backward
    hands ``g`` to ``x`` and ``g`` summed over the broadcast axes to ``other``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AddComputed("bias", shape=(1, 3, 4, 4)), (2, 3, 4, 4))
    >>> c.adds, c.kind, c.output_shape
    (96, 'addconstant', (2, 3, 4, 4))
    """

    example: ClassVar[str] = 'AddComputed("bias", shape=(1, 3, 49, 49))'
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)
    symbol: ClassVar[str] = "+"

    @property
    def kind(self) -> str:
        return "addconstant"


@dataclass(frozen=True, init=False)
class MulComputed(Mul):
    """``x * other``, ``other`` computed from parameters (Swin V2's clamped, exponentiated logit
    scale), broadcast: :class:`Mul`'s counts and backward, kind ``"mulconstant"`` (as
    :class:`~symconv.layers.tokens.MulParameter`'s).

    Examples
    --------
    >>> from symconv import cost
    >>> cost(MulComputed("scale", shape=(3, 1, 1)), (2, 3, 4, 4)).mults
    96
    """

    example: ClassVar[str] = 'MulComputed("scale", shape=(3, 1, 1))'

    @property
    def kind(self) -> str:
        return "mulconstant"


@dataclass(frozen=True, init=False)
class LayerScale(Layer):
    """A learned per-channel scale (ConvNeXt's ``layer_scale * x``, CaiT's and Swin's layer
    scale): one multiplication per element; parameters ``C`` (``scale``).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(LayerScale(C), (H, W, C))
    >>> c.mults, c.adds, c.params, c.kind
    (C*H*W, 0, C, 'layerscale')
    """

    example: ClassVar[str] = "LayerScale(96)"

    channels: Size

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, channels: object) -> None:
        object.__setattr__(self, "channels", as_size(channels, "LayerScale(channels"))

    @property
    def kind(self) -> str:
        return "layerscale"

    def in_channels_expected(self) -> Size:
        return self.channels

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every element, multiplied once by its channel's scale."""
        outputs = (*input_spatial, self.channels)
        return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=True,
                        parameters=(("scale", (self.channels,)),))


def _broadcast_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]
                       ) -> tuple[sympy.Expr, ...]:
    """The broadcast output without its channel axis (channels are the last axis of both
    operands, so the spatial parts broadcast apart)."""
    assert isinstance(layer, _Binary)
    if layer.shape is None:
        return input_spatial
    return tuple(as_expr(size) for size in broadcast_sizes(input_spatial, layer.shape[:-1],
                                                      type(layer).__name__))


output_spatial.register(_Binary, _broadcast_spatial)
output_spatial.register(LayerScale, lambda layer, input_spatial: input_spatial)
