"""Pooling: a window slid over each channel (average, max), and the global average."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Accumulate, Layer, LoopNest, _need_channels
from symconv.layers.traffic import windows
from symconv.sizes import Size, as_size, per_axis

__all__ = ["AvgPool2d", "MaxPool2d", "GlobalAvgPool2d"]


def _check_pool_padding(kernel_size: tuple[Size, ...], padding: tuple[Size, ...]) -> None:
    for kernel, pad in zip(kernel_size, padding):
        half = sympy.floor(sympy.Integer(kernel) / 2) if isinstance(kernel, int) else kernel / 2
        if (sympy.Integer(0) + pad > half) is sympy.true:
            raise SymconvError(
                f"padding={pad} must be at most half of kernel_size={kernel} (as in PyTorch); "
                f"use padding of at most {half}"
            )


def _flag(value: object, argument: str) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"{argument}={value!r}) must be True or False")
    return value


@dataclass(frozen=True, init=False)
class _Pool2d(Layer):
    """A 2-D pooling window slid over each channel (shape arithmetic of a convolution)."""

    kernel_size: tuple[Size, ...]
    stride: tuple[Size, ...]
    padding: tuple[Size, ...]
    ceil_mode: bool

    spatial_dims: ClassVar[int | None] = 2
    #: How a window's terms are combined.
    accumulate: ClassVar[Accumulate] = "sum"
    #: Further operations per output element.
    per_output: ClassVar[tuple[tuple[str, Size], ...]] = ()

    def __init__(self, kernel_size: object, stride: object = None, padding: object = 0,
                 ceil_mode: bool = False) -> None:
        kernel = per_axis(kernel_size, "kernel_size", 2)
        object.__setattr__(self, "kernel_size", kernel)
        object.__setattr__(
            self, "stride", kernel if stride is None else per_axis(stride, "stride", 2)
        )
        object.__setattr__(self, "padding", per_axis(padding, "padding", 2, minimum=0))
        _check_pool_padding(self.kernel_size, self.padding)
        object.__setattr__(self, "ceil_mode", _flag(ceil_mode, f"{type(self).__name__}(ceil_mode"))

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: output positions × channels; inner: the window, combined by
        :attr:`accumulate`; then :attr:`per_output`."""
        outputs = (*output_spatial, _need_channels(self, in_channels))
        return LoopNest(outer=outputs, inner=self.kernel_size, outputs=outputs, multiply=False,
                        accumulate=self.accumulate, per_output=self.per_output,
                        access=windows(input_spatial, output_spatial, self.kernel_size,
                                       self.stride, getattr(self, "dilation", None),
                                       self.padding))


@dataclass(frozen=True, init=False)
class AvgPool2d(_Pool2d):
    """Average pooling: each output sums its ``k_h×k_w`` window and divides by ``k_h·k_w``.

    Per output element: ``k_h·k_w − 1`` additions and **one division**, the full window summed
    (padding zeros included, as a direct evaluation over the window does); ``stride`` defaults
    to ``kernel_size``.

    The divisor follows PyTorch: with ``count_include_pad=True`` (the default) the window's
    extent inside the padded input (smaller only for a ``ceil_mode`` window running past it);
    with ``False`` the number of real input positions in the window; ``divisor_override`` when
    given. It is a constant of the window's place, not counted.

    ``ceil_mode=True`` rounds the output size up, as PyTorch: ``H_o = min(ceil(R/s),
    floor((H + p − 1)/s)) + 1`` with ``R = H + 2p − k``: a last window may start past the
    padded input's last full window, but not in the right padding. Such a window is counted as
    a full one (its positions past the padded input summed as zeros), as padding is.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AvgPool2d(2), (4, 4, 3))
    >>> c.output_shape, c.adds, c.divs
    ((2, 2, 3), 36, 12)
    >>> cost(AvgPool2d(2, ceil_mode=True), (5, 5, 1)).output_shape
    (3, 3, 1)
    """

    example: ClassVar[str] = 'AvgPool2d(2)'

    count_include_pad: bool
    divisor_override: Size | None

    per_output: ClassVar[tuple[tuple[str, Size], ...]] = (("divs", 1),)

    def __init__(self, kernel_size: object, stride: object = None, padding: object = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: object = None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        object.__setattr__(self, "count_include_pad",
                           _flag(count_include_pad, "AvgPool2d(count_include_pad"))
        object.__setattr__(self, "divisor_override", None if divisor_override is None
                           else as_size(divisor_override, "AvgPool2d(divisor_override"))

    @property
    def kind(self) -> str:
        return "avgpool"

    @property
    def dilation(self) -> tuple[Size, ...]:
        """Always 1: average pooling has no dilation."""
        return (1, 1)


@dataclass(frozen=True, init=False)
class MaxPool2d(_Pool2d):
    """Max pooling: each output compares the ``k_h×k_w`` terms of its window.

    Per output element: ``k_h·k_w − 1`` comparisons (padding, which PyTorch fills with −∞,
    included, as a direct evaluation over the full window does). ``stride`` defaults to
    ``kernel_size``. ``ceil_mode`` as :class:`AvgPool2d`'s (a window past the padded input
    compared in full, its outside positions −∞).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(MaxPool2d(3, stride=2, padding=1), (112, 112, 64))
    >>> c.output_shape, c.comparisons
    ((56, 56, 64), 1605632)
    """

    example: ClassVar[str] = 'MaxPool2d(3, stride=2, padding=1)'

    dilation: tuple[Size, ...]

    accumulate: ClassVar[Accumulate] = "max"

    def __init__(
        self, kernel_size: object, stride: object = None, padding: object = 0,
        dilation: object = 1, ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode)
        object.__setattr__(self, "dilation", per_axis(dilation, "dilation", 2))

    @property
    def kind(self) -> str:
        return "maxpool"


@dataclass(frozen=True)
class GlobalAvgPool2d(Layer):
    """The mean of each channel over all positions: ``(H, W, C)`` becomes ``(1, 1, C)``.

    Per channel: ``H·W − 1`` additions and one division. The output keeps its two spatial axes
    of size 1, as MobileNet's table writes it (``1×1×1024``); :class:`Flatten` drops them.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(GlobalAvgPool2d(), (7, 7, 1024))
    >>> c.output_shape, c.adds, c.divs
    ((1, 1, 1024), 49152, 1024)
    """

    example: ClassVar[str] = 'GlobalAvgPool2d()'

    spatial_dims: ClassVar[int | None] = 2

    @property
    def kind(self) -> str:
        return "globalavgpool"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: the channels; inner: every input position, summed, then one division."""
        outputs = (*output_spatial, _need_channels(self, in_channels))
        return LoopNest(outer=outputs, inner=input_spatial, outputs=outputs, multiply=False,
                        per_output=(("divs", 1),))
