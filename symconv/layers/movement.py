"""Data movement without arithmetic: :class:`Cat`, :class:`Slice`, :class:`ChannelShuffle`, and
the layers that are the identity at inference, :class:`Dropout`, :class:`StochasticDepth` and
:class:`Identity` (also :class:`FeatureDropout`, :class:`AlphaDropout` and
:class:`FeatureAlphaDropout`).

No multiplication, addition, division or comparison; no parameters. What they differ in is
traffic (``Cost.reads``, ``Cost.writes``), as PyTorch runs them:

* ``torch.cat`` and a channel shuffle (``view``, ``transpose``, ``contiguous``) copy: every input
  element read once, every output element written;
* a channel slice (``x[:, a:b]``, ``chunk``, ``split``) is a view, and so is the identity
  (``Dropout`` and ``StochasticDepth`` in eval mode return their input): nothing read or written.

A permute between NCHW and NHWC (ConvNeXt's ``x.permute(0, 2, 3, 1)`` and back) is the identity
in symconv's layout: its arrays are channels last whatever PyTorch's logical order, so
``nn.LayerNorm(C)`` and ``nn.Linear`` on the permuted tensor act on the channel axis, as on the
unpermuted one here; the frontend keeps track of the order and maps the permute to
:class:`Identity` (a view in PyTorch: no traffic).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import NOTHING, InputAccess
from symconv.sizes import Size, as_expr, as_size, product, surely_different

__all__ = ["Cat", "Slice", "ChannelShuffle", "Pad", "PAD_MODES", "Dropout", "FeatureDropout", "AlphaDropout",
           "FeatureAlphaDropout", "StochasticDepth", "Identity"]




@dataclass(frozen=True, init=False)
class Cat(Layer):
    """``torch.cat([x, other], dim=1)``: the channels of stage ``other`` after (or, with
    ``other_first``, before) the input's. Nothing counted; reads both, writes the output.

    ``torch.cat([a, b, c])`` is a chain: ``Cat(other="b")`` then ``Cat(other="c")`` on ``a``, or
    from the last branch back with ``other_first=True`` (each link copies, so the chain's
    traffic is that of its two-tensor concatenations).

    Parameters
    ----------
    other
        The stage whose output is concatenated (``"input"``: the network's input).
    shape
        That output's channels-last shape (its spatial sizes must be the input's).
    other_first
        ``torch.cat([other, x])`` rather than ``torch.cat([x, other])``.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W
    >>> c = cost(Cat("input", (H, W, 16)), (H, W, 32))
    >>> c.output_shape, c.mults, c.adds, c.reads, c.writes
    ((H, W, 48), 0, 0, 48*H*W, 48*H*W)
    """

    example: ClassVar[str] = 'Cat("branch1", (28, 28, 64))'

    other: str
    shape: tuple[Size, ...]
    other_first: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, other: str, shape: object, other_first: bool = False) -> None:
        if not isinstance(other, str) or not other:
            raise SymconvError(f"Cat(other={other!r}) must name a stage, or 'input'")
        if not isinstance(shape, (tuple, list)) or not shape:
            raise SymconvError(f"Cat(shape={shape!r}) must be the channels-last shape of stage "
                               f"{other}, like (28, 28, 64)")
        if not isinstance(other_first, bool):
            raise SymconvError(f"Cat(other_first={other_first!r}) must be True or False")
        object.__setattr__(self, "other", other)
        object.__setattr__(self, "shape", tuple(as_size(size, "shape") for size in shape))
        object.__setattr__(self, "other_first", other_first)

    @property
    def kind(self) -> str:
        return "cat"

    def out_channels_for(self, in_channels: Size) -> Size:
        return as_expr(in_channels) + as_expr(self.shape[-1])

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: a copy of both tensors into the output."""
        channels = _need_channels(self, in_channels)
        outputs = (*input_spatial, self.out_channels_for(channels))
        return LoopNest(outer=(), inner=(), outputs=outputs, multiply=False,
                        access=InputAccess(extra=as_expr(product(self.shape))))


def _cat_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Cat)
    theirs = layer.shape[:-1]
    if len(theirs) != len(input_spatial) or any(
            surely_different(a, b) for a, b in zip(input_spatial, theirs)):
        raise SymconvError(
            f"Cat(other={layer.other!r}): its shape {tuple(layer.shape)} must have the input's "
            f"spatial sizes {tuple(input_spatial)}; torch.cat along channels needs them equal"
        )
    return input_spatial


@dataclass(frozen=True, init=False)
class Slice(Layer):
    """The channels ``start`` to ``stop`` (exclusive) of the input: ``x[:, start:stop]``, one
    part of ``chunk`` or ``split``. A view: nothing counted, read or written.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W
    >>> c = cost(Slice(16, 32), (H, W, 32))
    >>> c.output_shape, c.reads, c.writes
    ((H, W, 16), 0, 0)
    >>> cost(Slice(16, 40), (4, 4, 32))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Slice(start=16, stop=40) needs stop <= the input's 32 channels
    """

    example: ClassVar[str] = "Slice(0, 58)"

    start: Size
    stop: Size

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, start: object, stop: object) -> None:
        start_ = as_size(start, "Slice(start", minimum=0)
        stop_ = as_size(stop, "Slice(stop")
        if (stop_ <= start_ if isinstance(stop_, int) and isinstance(start_, int)
                else sympy.Le(as_expr(stop_), as_expr(start_)) is sympy.true):
            raise SymconvError(f"Slice(start={start}, stop={stop}) needs start < stop")
        object.__setattr__(self, "start", start_)
        object.__setattr__(self, "stop", stop_)

    @property
    def kind(self) -> str:
        return "slice"

    def out_channels_for(self, in_channels: Size) -> Size:
        return as_expr(self.stop) - as_expr(self.start)

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: a view of the input's channels."""
        channels = _need_channels(self, in_channels)
        stop = self.stop
        if (stop > int(channels) if isinstance(stop, int) and isinstance(
                channels, (int, sympy.Integer)) else sympy.Gt(as_expr(stop), as_expr(channels))
                is sympy.true):
            raise SymconvError(f"Slice(start={self.start}, stop={self.stop}) needs stop <= the "
                               f"input's {channels} channels")
        return LoopNest(outer=(), inner=(), outputs=(*input_spatial, self.out_channels_for(channels)),
                        multiply=False, access=NOTHING)


@dataclass(frozen=True, init=False)
class ChannelShuffle(Layer):
    """ShuffleNet's channel shuffle in ``groups``: channel ``g·(C/groups) + i`` goes to
    ``i·groups + g`` (``view``, ``transpose``, ``contiguous``, as torchvision and
    ``nn.ChannelShuffle`` do). A copy: nothing counted, every element read and written.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W
    >>> c = cost(ChannelShuffle(2), (H, W, 116))
    >>> c.output_shape, c.mults, c.reads, c.writes
    ((H, W, 116), 0, 116*H*W, 116*H*W)
    """

    example: ClassVar[str] = "ChannelShuffle(2)"

    groups: Size

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, groups: object) -> None:
        object.__setattr__(self, "groups", as_size(groups, "ChannelShuffle(groups"))

    @property
    def kind(self) -> str:
        return "channelshuffle"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: every element copied to its new channel."""
        channels = _need_channels(self, in_channels)
        if (as_expr(channels) / as_expr(self.groups)).is_integer is False:
            raise SymconvError(f"ChannelShuffle(groups={self.groups}) must divide the input's "
                               f"{channels} channels")
        return LoopNest(outer=(), inner=(), outputs=(*input_spatial, channels), multiply=False)


#: ``F.pad``'s modes: what fills the border (nothing is counted either way).
PAD_MODES = ("constant", "reflect", "replicate", "circular")


@dataclass(frozen=True, init=False)
class Pad(Layer):
    """``F.pad(x, padding, mode, value)`` on the spatial axes (``nn.ZeroPad2d``,
    ``nn.ConstantPad2d``, ``nn.ReflectionPad2d``, ...): a copy into a larger tensor. Nothing
    counted; every input element read, every output element written.

    Parameters
    ----------
    padding
        PyTorch's order, from the last spatial axis back: ``(left, right)`` for ``W`` (or ``L``),
        then ``(top, bottom)`` for ``H``, ... — at most two pairs per spatial axis, none on the
        channels (PyTorch's dim 1).
    mode
        One of :data:`PAD_MODES`.
    value
        The fill of ``"constant"`` mode (0 by default); a number, kept as given.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(Pad((0, 1, 0, 1)), (H, W, C))     # F.pad(x, (0, 1, 0, 1)): right and bottom
    >>> c.output_shape, c.mults, c.reads, c.writes
    ((H + 1, W + 1, C), 0, C*H*W, C*(H + 1)*(W + 1))
    """

    example: ClassVar[str] = "Pad((1, 1, 1, 1))"

    padding: tuple[Size, ...]
    mode: str
    value: float | int

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, padding: object, mode: str = "constant", value: object = 0) -> None:
        if not isinstance(padding, (tuple, list)) or not padding or len(padding) % 2:
            raise SymconvError(f"Pad(padding={padding!r}) must be pairs (left, right, top, "
                               "bottom, ...), from the last spatial axis back")
        if mode not in PAD_MODES:
            raise SymconvError(f"Pad(mode={mode!r}) is unknown; use one of {', '.join(PAD_MODES)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SymconvError(f"Pad(value={value!r}) must be a number")
        object.__setattr__(self, "padding",
                           tuple(as_size(size, "Pad(padding", minimum=0) for size in padding))
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "value", value)

    @property
    def kind(self) -> str:
        return "pad"

    def padded(self, input_spatial: tuple[Size, ...]) -> tuple[sympy.Expr, ...]:
        """The spatial sizes after padding."""
        pairs = len(self.padding) // 2
        if pairs > len(input_spatial):
            raise SymconvError(
                f"Pad(padding={self.padding!r}) pads {pairs} axes but the input has "
                f"{len(input_spatial)} spatial axes; symconv does not pad the channels"
            )
        sizes = [as_expr(size) for size in input_spatial]
        for pair in range(pairs):
            axis = len(sizes) - 1 - pair
            sizes[axis] += as_expr(self.padding[2 * pair]) + as_expr(self.padding[2 * pair + 1])
        return tuple(sizes)

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: the input copied into the padded output."""
        outputs = (*self.padded(input_spatial), _need_channels(self, in_channels))
        return LoopNest(outer=(), inner=(), outputs=outputs, multiply=False)


@dataclass(frozen=True)
class Identity(Layer):
    """The input itself (``nn.Identity``; a permute between NCHW and NHWC, see the module
    docstring): nothing counted, read or written.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Identity(), (4, 4, 8))
    >>> c.output_shape, c.reads, c.writes, c.kind
    ((4, 4, 8), 0, 0, 'identity')
    """

    example: ClassVar[str] = "Identity()"
    spatial_dims: ClassVar[int | None] = None

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: the output is the input's memory."""
        return LoopNest(outer=(), inner=(), outputs=(*input_spatial, _need_channels(self, in_channels)),
                        multiply=False, access=NOTHING)


def _probability(value: object, owner: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SymconvError(f"{owner}(p={value!r}) must be a probability, a number from 0 to 1")
    return value


@dataclass(frozen=True, init=False)
class _Dropping(Identity):
    """A dropout of probability ``p``: the identity at inference; what it runs in training is
    in :mod:`symconv.layers.dropout_train`. ``p`` is kept as given (a float is a probability,
    not a size)."""

    p: float | int

    def __init__(self, p: object = 0.5) -> None:
        object.__setattr__(self, "p", _probability(p, type(self).__name__))


@dataclass(frozen=True, init=False)
class Dropout(_Dropping):
    """``nn.Dropout(p)`` at inference: the identity (PyTorch returns the input in eval mode).
    Nothing counted, read or written; its own kind (``"dropout"``) so that peers can rule on it.

    ``p`` is kept as given (a float is a probability, not a size).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Dropout(0.2), (10,))
    >>> c.kind, c.mults, c.writes
    ('dropout', 0, 0)
    """

    example: ClassVar[str] = "Dropout(0.5)"


@dataclass(frozen=True, init=False)
class FeatureDropout(_Dropping):
    """``nn.Dropout1d/2d/3d(p)`` (ATen's ``feature_dropout``) at inference: the identity. In
    training it draws one value per channel (per example and channel in PyTorch), broadcast over
    the spatial axes. Kind ``"featuredropout"``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(FeatureDropout(0.2), (7, 7, 16))
    >>> c.kind, c.mults, c.writes
    ('featuredropout', 0, 0)
    """

    example: ClassVar[str] = "FeatureDropout(0.5)"


@dataclass(frozen=True, init=False)
class AlphaDropout(_Dropping):
    """``nn.AlphaDropout(p)`` at inference: the identity. In training it draws one value per
    element and keeps the mean and variance of SELU's output (``x·a·noise + b``). Kind
    ``"alphadropout"``.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(AlphaDropout(0.1), (32,)).kind
    'alphadropout'
    """

    example: ClassVar[str] = "AlphaDropout(0.5)"


@dataclass(frozen=True, init=False)
class FeatureAlphaDropout(_Dropping):
    """``nn.FeatureAlphaDropout(p)`` at inference: the identity. In training it is
    :class:`AlphaDropout` with one draw per channel, as :class:`FeatureDropout`. Kind
    ``"featurealphadropout"``.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(FeatureAlphaDropout(0.1), (4, 4, 8)).kind
    'featurealphadropout'
    """

    example: ClassVar[str] = "FeatureAlphaDropout(0.5)"


@dataclass(frozen=True, init=False)
class StochasticDepth(Identity):
    """torchvision's ``StochasticDepth(p, mode)`` at inference: the identity (it returns its
    input unless training). Kind ``"stochasticdepth"``.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(StochasticDepth(0.1, "row"), (7, 7, 96)).kind
    'stochasticdepth'
    """

    example: ClassVar[str] = 'StochasticDepth(0.1, "row")'

    p: float | int
    mode: str

    def __init__(self, p: object, mode: str = "row") -> None:
        if mode not in ("row", "batch"):
            raise SymconvError(f"StochasticDepth(mode={mode!r}) is unknown; use one of row, batch")
        object.__setattr__(self, "p", _probability(p, "StochasticDepth"))
        object.__setattr__(self, "mode", mode)


def _same(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    return input_spatial


output_spatial.register(Cat, _cat_spatial)
output_spatial.register(Pad, lambda layer, input_spatial: layer.padded(input_spatial))
for _kind in (Slice, ChannelShuffle, Identity):
    output_spatial.register(_kind, _same)
