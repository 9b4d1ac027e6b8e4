"""Where a sliding window goes: the kernel's offsets and span, the output positions.

The two executors find the output positions in two ways, so that they check each other and the
derivation's formula: the fast executor takes the sizes from the layer's own shape arithmetic
(:func:`symconv.layers.shapes.output_spatial`, the ``floor`` formula); the reference executor
tries window placements one after the other (:func:`placements`) and knows no formula.

Examples
--------
>>> from symconv import Conv2d
>>> layer = Conv2d(3, 8, 3, stride=2, padding=1, dilation=2)
>>> window(layer)
Window(kernel=(3, 3), stride=(2, 2), padding=(1, 1), dilation=(2, 2), reach=(5, 5))
>>> placements(7, padding=1, reach=5, stride=2)   # starts in the padded input of 9
[0, 2, 4]
>>> output_sizes(layer, (7, 7))
(3, 3)
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import NamedTuple, Protocol

from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.layers.shapes import axis_name, output_spatial
from symconv.sizes import Size

__all__ = ["Window", "window", "placements", "output_sizes", "check_window_fits",
           "kernel_offsets", "taps", "ints"]


def ints(values: Sequence[Size]) -> tuple[int, ...]:
    """Concrete sizes as Python ints."""
    return tuple(int(value) for value in values)


class Windowed(Protocol):
    """A layer that slides a window: a convolution, or a pooling layer."""

    @property
    def kernel_size(self) -> tuple[Size, ...]: ...
    @property
    def stride(self) -> tuple[Size, ...]: ...
    @property
    def padding(self) -> tuple[Size, ...]: ...
    @property
    def dilation(self) -> tuple[Size, ...]: ...
    def __hash__(self) -> int: ...


class Window(NamedTuple):
    """A window's kernel, stride, padding and dilation per axis, and ``reach``, the number of
    input positions one dilated window spans: ``d·(k − 1) + 1``."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    reach: tuple[int, ...]


@functools.lru_cache(maxsize=1024)
def window(layer: Windowed) -> Window:
    """The window of a convolution or pooling layer with concrete sizes."""
    kernel, dilation = ints(layer.kernel_size), ints(layer.dilation)
    return Window(kernel=kernel, stride=ints(layer.stride), padding=ints(layer.padding),
                  dilation=dilation, reach=tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation)))


def placements(size: int, *, padding: int, reach: int, stride: int) -> list[int]:
    """Where windows start along one axis of the padded input, found by trying: the first at 0,
    each next one ``stride`` further, as long as the window still fits in ``size + 2·padding``.

    Examples
    --------
    >>> placements(5, padding=0, reach=3, stride=1), placements(2, padding=1, reach=3, stride=3)
    ([0, 1, 2], [0])
    """
    starts, start = [], 0
    while start + reach <= size + 2 * padding:
        starts.append(start)
        start += stride
    return starts


@functools.lru_cache(maxsize=1024)
def output_sizes(layer: Layer, spatial: tuple[int, ...]) -> tuple[int, ...]:
    """The spatial output sizes by the layer's own shape arithmetic (for the fast executors)."""
    return tuple(int(size) for size in output_spatial(layer, spatial))


def check_window_fits(layer: Windowed, spatial: tuple[int, ...]) -> None:
    """The padded input must hold one (dilated) window along every axis."""
    shape = window(layer)
    for axis, size in enumerate(spatial):
        padding, reach = shape.padding[axis], shape.reach[axis]
        if size + 2 * padding < reach:
            raise SymconvError(
                f"x has size {size} along {axis_name(len(spatial), axis)}, but "
                f"kernel_size={shape.kernel[axis]} with dilation={shape.dilation[axis]} spans "
                f"{reach} > {size} + 2·{padding} (padding); use a larger input, a smaller kernel "
                "or dilation, or more padding"
            )


def kernel_offsets(kernel: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every offset of a kernel window, in row-major order."""
    return itertools.product(*(range(size) for size in kernel))


def taps(offset: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...],
         count: tuple[int, ...]) -> tuple[slice, ...]:
    """The ``count`` positions ``i·d + o·s`` (``o < count``) along each axis, as slices."""
    return tuple(slice(i * d, i * d + (n - 1) * s + 1, s)
                 for i, d, s, n in zip(offset, dilation, stride, count))
