"""Convolutions described as loop nests: frozen dataclasses with PyTorch's argument names.

A layer knows its hyperparameters and, given the spatial sizes of its input and output, the loop
nest a direct evaluation runs (:class:`LoopNest`): the *outer* domain of independent points, the
*inner* domain each point reduces over (or scatters into), and the parameters it holds. Costs are
derived from that description (:mod:`symconv.derive`), never typed per layer. Shapes are channels
last: ``(L, C)``, ``(H, W, C)``, ``(D, H, W, C)``.

Examples
--------
>>> from symconv import Conv2d, DepthwiseSeparableConv2d
>>> from symconv.symbols import M, N, k
>>> conv = Conv2d(M, N, k)
>>> conv.kernel_size, conv.stride, conv.padding
((k, k), (1, 1), (0, 0))
>>> conv.loop_nest((7, 7), (5, 5)).inner
(k, k, M)
>>> [name for name, _ in DepthwiseSeparableConv2d(3, 64, 3).stages]
['depthwise', 'pointwise']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Composite, Layer, LoopNest, _bias, _channels
from symconv.layers.traffic import windows
from symconv.sizes import Size, as_expr, as_size, check_divides, is_concrete, per_axis

__all__ = [
    "ConvNd", "Conv1d", "Conv2d", "Conv3d",
    "ConvTransposeNd", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "DepthwiseConv2d", "PointwiseConv2d", "DepthwiseSeparableConv2d", "PADDING_STRINGS",
]


#: The padding a convolution may be given as a string, as in PyTorch. The layer keeps the string
#: (:attr:`ConvNd.padding_string`) and its kind ends in it (``"standard:same"``): the products
#: are the same as with the padding written as numbers, but PyTorch then runs another aten op
#: (``aten::_convolution_mode``), which fvcore does not count (``docs/conventions.md``).
PADDING_STRINGS = ("same", "valid")



def _set_conv_fields(
    layer: Layer, in_channels: object, out_channels: object, kernel_size: object, stride: object,
    padding: object, dilation: object, groups: object, bias: object,
) -> None:
    """Check and set the fields every convolution shares, on a frozen dataclass."""
    dims = layer.spatial_dims
    assert dims is not None
    values = {
        "in_channels": _channels(in_channels, "in_channels"),
        "out_channels": _channels(out_channels, "out_channels"),
        "kernel_size": per_axis(kernel_size, "kernel_size", dims),
        "stride": per_axis(stride, "stride", dims),
        "padding": per_axis(padding, "padding", dims, minimum=0),
        "dilation": per_axis(dilation, "dilation", dims),
        "groups": as_size(groups, "groups"),
        "bias": _bias(bias),
    }
    for name, value in values.items():
        object.__setattr__(layer, name, value)
    check_divides(values["groups"], values["in_channels"], "in_channels")
    check_divides(values["groups"], values["out_channels"], "out_channels")


def _string_padding(layer: ConvNd, written: str) -> tuple[Size, ...]:
    """The padding per axis that ``padding="same"`` or ``"valid"`` stands for, as PyTorch
    reads it: ``"valid"`` is none; ``"same"`` (stride 1 only) is ``d·(k − 1)/2`` on each side,
    which must be whole: symconv pads both sides of an axis alike."""
    owner = f"{type(layer).__name__}(padding"
    if written not in PADDING_STRINGS:
        raise SymconvError(f"{owner}={written!r}) is unknown; use one of "
                           f"{', '.join(PADDING_STRINGS)}, or numbers")
    if written == "valid":
        return (0,) * len(layer.kernel_size)
    if any(step != 1 for step in layer.stride):
        raise SymconvError(f"padding='same' needs stride=1 (as in PyTorch), not "
                           f"stride={layer.stride}; give the padding as numbers")
    padding: list[Size] = []
    for kernel, spread in zip(layer.kernel_size, layer.dilation):
        span = as_expr(spread) * (as_expr(kernel) - 1)
        if span.is_odd:
            raise SymconvError(
                f"padding='same' with kernel_size={layer.kernel_size}, dilation={layer.dilation} "
                "pads one side more than the other (an odd dilation·(kernel_size − 1)); symconv "
                "pads both sides alike: give the padding as numbers"
            )
        padding.append(as_size(span / 2, "padding", minimum=0))
    return tuple(padding)


def _with_padding_string(kind: str, padding_string: str | None) -> str:
    return kind if padding_string is None else f"{kind}:{padding_string}"


def _per_group(channels: Size, groups: Size) -> Size:
    if is_concrete(channels) and is_concrete(groups):
        assert isinstance(channels, int) and isinstance(groups, int)
        return channels // groups
    return sympy.Mul(channels, sympy.Pow(groups, -1))


@dataclass(frozen=True, init=False)
class ConvNd(Layer):
    """A convolution over ``spatial_dims`` axes (cross-correlation, as PyTorch computes it).

    Each output element is a dot product over the kernel window and the input channels of its
    group: ``k_h·k_w·M/g`` multiplications and one fewer additions, plus one addition for a bias.
    Output channel ``n`` belongs to group ``n // (N/g)``.
    """

    in_channels: Size
    out_channels: Size
    kernel_size: tuple[Size, ...]
    stride: tuple[Size, ...]
    padding: tuple[Size, ...]
    dilation: tuple[Size, ...]
    groups: Size
    bias: bool
    padding_string: str | None = field(default=None, repr=False)

    spatial_dims: ClassVar[int | None] = 2

    def __init__(
        self,
        in_channels: Size,
        out_channels: Size,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        dilation: object = 1,
        groups: object = 1,
        bias: object = False,
    ) -> None:
        written = padding if isinstance(padding, str) else None
        _set_conv_fields(self, in_channels, out_channels, kernel_size, stride,
                         0 if written is not None else padding, dilation, groups, bias)
        if written is not None:
            object.__setattr__(self, "padding", _string_padding(self, written))
            object.__setattr__(self, "padding_string", written)

    def constructor_arguments(self) -> tuple[tuple[object, ...], dict[str, object]]:
        """As :meth:`Layer.constructor_arguments`, with the padding as written (``"same"``)."""
        args, kwargs = super().constructor_arguments()
        if self.padding_string is not None and "padding" in kwargs:
            kwargs["padding"] = self.padding_string
        return args, kwargs

    @property
    def kind(self) -> str:
        """``"pointwise"``, ``"depthwise"``, ``"grouped"`` or ``"standard"``; followed by
        ``":same"`` or ``":valid"`` when the padding was given as that string."""
        if self.groups == 1:
            base = "pointwise" if all(size == 1 for size in self.kernel_size) else "standard"
        elif self.groups == self.in_channels == self.out_channels:
            base = "depthwise"
        else:
            base = "grouped"
        return _with_padding_string(base, self.padding_string)

    def in_channels_expected(self) -> Size:
        return self.in_channels

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.out_channels

    @property
    def weight_shape(self) -> tuple[Size, ...]:
        """``(*kernel_size, in_channels/groups, out_channels)``: kernel axes first."""
        return (*self.kernel_size, _per_group(self.in_channels, self.groups), self.out_channels)

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: output positions × output channels; inner: kernel window × M/g channels."""
        parameters: tuple[tuple[str, tuple[Size, ...]], ...] = (("weight", self.weight_shape),)
        if self.bias:
            parameters += (("bias", (self.out_channels,)),)
        outputs = (*output_spatial, self.out_channels)
        return LoopNest(
            outer=outputs,
            inner=(*self.kernel_size, _per_group(self.in_channels, self.groups)),
            outputs=outputs,
            accumulate="sum",
            per_output=(("adds", 1),) if self.bias else (),
            parameters=parameters,
            access=windows(input_spatial, output_spatial, self.kernel_size, self.stride,
                           self.dilation, self.padding),
        )


@dataclass(frozen=True, init=False)
class Conv1d(ConvNd):
    """1-D convolution over channels-last inputs ``(L, C)``; arguments as ``nn.Conv1d``."""

    example: ClassVar[str] = 'Conv1d(3, 64, 3)'

    spatial_dims: ClassVar[int | None] = 1


@dataclass(frozen=True, init=False)
class Conv2d(ConvNd):
    """2-D convolution over channels-last inputs ``(H, W, C)``; arguments as ``nn.Conv2d``.

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> cost(Conv2d(3, 64, 3), (7, 7, 3)).mults
    43200

    ``padding="same"`` (stride 1) or ``"valid"``, as in PyTorch: the layer keeps the numbers it
    stands for, and the string in its kind (:data:`PADDING_STRINGS`):

    >>> same = Conv2d(3, 64, 3, padding="same")
    >>> same.padding, same.padding_string, same.kind, cost(same, (7, 7, 3)).output_shape
    ((1, 1), 'same', 'standard:same', (7, 7, 64))
    >>> Conv2d(3, 64, 3, stride=2, padding="same")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: padding='same' needs stride=1 (as in PyTorch), not stride=(2, 2); give the padding as numbers
    """

    example: ClassVar[str] = 'Conv2d(3, 64, 3)'

    spatial_dims: ClassVar[int | None] = 2


@dataclass(frozen=True, init=False)
class Conv3d(ConvNd):
    """3-D convolution over channels-last inputs ``(D, H, W, C)``; arguments as ``nn.Conv3d``."""

    example: ClassVar[str] = 'Conv3d(3, 64, 3)'

    spatial_dims: ClassVar[int | None] = 3


@dataclass(frozen=True, init=False)
class ConvTransposeNd(Layer):
    """A transposed convolution, counted in scatter form.

    Every input element is multiplied by every kernel weight of its group and each product is
    added once into a zero-initialised output (products landing on cropped positions included):
    ``H·W·M·(N/g)·k_h·k_w`` multiplications and as many additions, plus one addition per output
    element for a bias. The weight has PyTorch's order with kernel axes first:
    ``(*kernel_size, in_channels, out_channels/groups)``.
    """

    in_channels: Size
    out_channels: Size
    kernel_size: tuple[Size, ...]
    stride: tuple[Size, ...]
    padding: tuple[Size, ...]
    output_padding: tuple[Size, ...]
    dilation: tuple[Size, ...]
    groups: Size
    bias: bool

    spatial_dims: ClassVar[int | None] = 2

    def __init__(
        self,
        in_channels: Size,
        out_channels: Size,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        output_padding: object = 0,
        dilation: object = 1,
        groups: object = 1,
        bias: object = False,
    ) -> None:
        _set_conv_fields(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias)
        assert self.spatial_dims is not None
        object.__setattr__(
            self, "output_padding",
            per_axis(output_padding, "output_padding", self.spatial_dims, minimum=0),
        )
        for extra, step, spread in zip(self.output_padding, self.stride, self.dilation):
            bound = sympy.Max(step, spread)
            if (sympy.Integer(0) + extra < bound) is sympy.false:
                raise SymconvError(
                    f"output_padding={extra} must be smaller than stride={step} or "
                    f"dilation={spread}; use 0 to {bound - 1}"
                )

    @property
    def kind(self) -> str:
        return "transposed"

    def in_channels_expected(self) -> Size:
        return self.in_channels

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.out_channels

    @property
    def weight_shape(self) -> tuple[Size, ...]:
        """``(*kernel_size, in_channels, out_channels/groups)``."""
        return (*self.kernel_size, self.in_channels, _per_group(self.out_channels, self.groups))

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: input positions × input channels; inner: kernel window × N/g (scatter)."""
        parameters: tuple[tuple[str, tuple[Size, ...]], ...] = (("weight", self.weight_shape),)
        if self.bias:
            parameters += (("bias", (self.out_channels,)),)
        return LoopNest(
            outer=(*input_spatial, self.in_channels),
            inner=(*self.kernel_size, _per_group(self.out_channels, self.groups)),
            outputs=(*output_spatial, self.out_channels),
            accumulate="scatter",
            per_output=(("adds", 1),) if self.bias else (),
            parameters=parameters,
        )


@dataclass(frozen=True, init=False)
class ConvTranspose1d(ConvTransposeNd):
    """1-D transposed convolution; arguments as ``nn.ConvTranspose1d``."""

    example: ClassVar[str] = 'ConvTranspose1d(64, 3, 3, stride=2)'

    spatial_dims: ClassVar[int | None] = 1


@dataclass(frozen=True, init=False)
class ConvTranspose2d(ConvTransposeNd):
    """2-D transposed convolution; arguments as ``nn.ConvTranspose2d``.

    Examples
    --------
    >>> from symconv import ConvTranspose2d, cost
    >>> c = cost(ConvTranspose2d(8, 4, 3, stride=2), (5, 5, 8))
    >>> c.output_shape, c.mults
    ((11, 11, 4), 7200)
    """

    example: ClassVar[str] = 'ConvTranspose2d(64, 3, 3, stride=2)'

    spatial_dims: ClassVar[int | None] = 2


@dataclass(frozen=True, init=False)
class ConvTranspose3d(ConvTransposeNd):
    """3-D transposed convolution; arguments as ``nn.ConvTranspose3d``."""

    example: ClassVar[str] = 'ConvTranspose3d(64, 3, 3, stride=2)'

    spatial_dims: ClassVar[int | None] = 3


@dataclass(frozen=True, init=False, repr=False)
class DepthwiseConv2d(Conv2d):
    """A depthwise convolution: one ``k×k×1`` kernel per channel (``groups = channels``).

    Examples
    --------
    >>> from symconv import DepthwiseConv2d, cost
    >>> DepthwiseConv2d(3, 3)
    DepthwiseConv2d(channels=3, kernel_size=(3, 3), stride=(1, 1), padding=(0, 0), dilation=(1, 1), bias=False)
    >>> cost(DepthwiseConv2d(3, 3), (7, 7, 3)).mults
    675
    """

    example: ClassVar[str] = 'DepthwiseConv2d(32, 3)'

    def __init__(
        self,
        channels: Size,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        dilation: object = 1,
        bias: object = False,
    ) -> None:
        channels = _channels(channels, "channels")  # named as the caller wrote it
        super().__init__(
            channels, channels, kernel_size, stride, padding, dilation, groups=channels, bias=bias
        )

    @property
    def channels(self) -> Size:
        """The number of channels, in and out."""
        return self.in_channels

    @property
    def kind(self) -> str:
        return _with_padding_string("depthwise", self.padding_string)

    def __repr__(self) -> str:
        return (
            f"DepthwiseConv2d(channels={self.channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
            f"bias={self.bias})"
        )


@dataclass(frozen=True, init=False, repr=False)
class PointwiseConv2d(Conv2d):
    """A pointwise (1×1) convolution: ``N`` kernels of ``1×1×M``.

    Examples
    --------
    >>> from symconv import PointwiseConv2d, cost
    >>> PointwiseConv2d(3, 64)
    PointwiseConv2d(in_channels=3, out_channels=64, bias=False)
    >>> cost(PointwiseConv2d(3, 64), (5, 5, 3)).mults
    4800
    """

    example: ClassVar[str] = 'PointwiseConv2d(32, 64)'

    def __init__(self, in_channels: Size, out_channels: Size, bias: object = False) -> None:
        super().__init__(in_channels, out_channels, 1, bias=bias)

    @property
    def kind(self) -> str:
        return "pointwise"

    def __repr__(self) -> str:
        return (
            f"PointwiseConv2d(in_channels={self.in_channels}, out_channels={self.out_channels}, "
            f"bias={self.bias})"
        )


@dataclass(frozen=True, init=False)
class DepthwiseSeparableConv2d(Composite):
    """A depthwise convolution followed by a pointwise one (MobileNet's building block).

    Stride, padding and dilation belong to the depthwise stage; the pointwise stage is 1×1 with
    stride 1. ``bias=True`` gives each stage a bias, as two ``nn.Conv2d(bias=True)`` would.

    Examples
    --------
    >>> from symconv import DepthwiseSeparableConv2d, cost
    >>> c = cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    >>> c.mults, c.params, [(name, stage.mults) for name, stage in c.stages]
    (5475, 219, [('depthwise', 675), ('pointwise', 4800)])
    """

    example: ClassVar[str] = 'DepthwiseSeparableConv2d(3, 64, 3)'

    in_channels: Size
    out_channels: Size
    kernel_size: tuple[Size, ...]
    stride: tuple[Size, ...]
    padding: tuple[Size, ...]
    dilation: tuple[Size, ...]
    bias: bool

    spatial_dims: ClassVar[int | None] = 2

    def __init__(
        self,
        in_channels: Size,
        out_channels: Size,
        kernel_size: object,
        stride: object = 1,
        padding: object = 0,
        dilation: object = 1,
        bias: object = False,
    ) -> None:
        in_channels = _channels(in_channels, "in_channels")  # named as the caller wrote it
        depthwise = DepthwiseConv2d(in_channels, kernel_size, stride, padding, dilation, bias)
        pointwise = PointwiseConv2d(in_channels, out_channels, bias)
        values = {
            "in_channels": depthwise.in_channels,
            "out_channels": pointwise.out_channels,
            "kernel_size": depthwise.kernel_size,
            "stride": depthwise.stride,
            "padding": depthwise.padding,
            "dilation": depthwise.dilation,
            "bias": depthwise.bias,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @property
    def kind(self) -> str:
        return "separable"

    def in_channels_expected(self) -> Size:
        return self.in_channels

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.out_channels

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        return (
            (
                "depthwise",
                DepthwiseConv2d(
                    self.in_channels, self.kernel_size, self.stride, self.padding,
                    self.dilation, self.bias,
                ),
            ),
            ("pointwise", PointwiseConv2d(self.in_channels, self.out_channels, self.bias)),
        )
