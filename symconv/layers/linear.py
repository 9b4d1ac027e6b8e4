"""The classifier head: :class:`Linear` (a fully connected layer on the last axis) and
:class:`Flatten` (a reshape that costs nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _bias, _need_channels
from symconv.layers.traffic import NOTHING
from symconv.sizes import Size, as_size, product

_Parameters = tuple[tuple[str, tuple[Size, ...]], ...]

__all__ = ["Linear", "Flatten"]


@dataclass(frozen=True, init=False)
class Linear(Layer):
    """A fully connected layer applied to the last axis: ``y = x·W + b``.

    It takes inputs of any rank, ``(C,)`` or ``(..., C)`` with ``C = in_features``, and maps the
    channels at every position alike (on ``(1, 1, C)``, the output of a global pooling, it is a
    1×1 convolution). Each output element is a dot product of ``in_features`` terms:
    ``in_features`` multiplications and ``in_features − 1`` additions, plus one addition for the
    bias. The weight is ``(in_features, out_features)``, the order of a pointwise convolution's
    weight without its kernel axes.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Linear(1024, 1000), (1024,))
    >>> c.output_shape, c.mults, c.adds, c.params
    ((1000,), 1024000, 1024000, 1025000)
    >>> cost(Linear(1024, 1000, bias=False), (1, 1, 1024)).output_shape
    (1, 1, 1000)
    """

    example: ClassVar[str] = 'Linear(1024, 1000)'

    in_features: Size
    out_features: Size
    bias: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, in_features: Size, out_features: Size, bias: object = True) -> None:
        object.__setattr__(self, "in_features", as_size(in_features, "in_features"))
        object.__setattr__(self, "out_features", as_size(out_features, "out_features"))
        object.__setattr__(self, "bias", _bias(bias))

    @property
    def kind(self) -> str:
        return "linear"

    def in_channels_expected(self) -> Size:
        return self.in_features

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.out_features

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: positions × output features; inner: the input features."""
        parameters: _Parameters = (("weight", (self.in_features, self.out_features)),)
        if self.bias:
            parameters += (("bias", (self.out_features,)),)
        outputs = (*output_spatial, self.out_features)
        return LoopNest(
            outer=outputs,
            inner=(self.in_features,),
            outputs=outputs,
            per_output=(("adds", 1),) if self.bias else (),
            parameters=parameters,
        )



@dataclass(frozen=True)
class Flatten(Layer):
    """All axes into one, channels last: ``(H, W, C)`` becomes ``(H·W·C,)``; costs nothing.

    The order is the channels-last one (row-major over ``(H, W, C)``), which differs from
    PyTorch's ``(C, H, W)`` flattening unless ``H = W = 1``; counts are the same either way.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Flatten(), (1, 1, 1024))
    >>> c.output_shape, c.mults, c.adds
    ((1024,), 0, 0)
    """

    example: ClassVar[str] = 'Flatten()'

    spatial_dims: ClassVar[int | None] = None

    @property
    def kind(self) -> str:
        return "flatten"

    def out_channels_for(self, in_channels: Size) -> Size:
        raise SymconvError(
            "Flatten's output size depends on the spatial sizes too; "
            "read it from cost(...).output_shape"
        )

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: only the shape changes."""
        size = product((*input_spatial, _need_channels(self, in_channels)))
        return LoopNest(outer=(), inner=(), outputs=(size,), multiply=False, access=NOTHING)
