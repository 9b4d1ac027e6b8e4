"""Adaptive pooling: :class:`AdaptiveAvgPool2d` and :class:`AdaptiveMaxPool2d` to any output size,
with PyTorch's windows.

Along an axis of ``In`` positions pooled to ``Out``, output ``i`` covers the positions
``start = floor(i·In/Out)`` to ``end = ceil((i + 1)·In/Out)`` (exclusive), as PyTorch's
``adaptive_avg_pool2d`` and ``adaptive_max_pool2d`` do. Windows differ in length (and overlap)
where ``Out`` does not divide ``In``; the sum of their lengths along an axis,
:func:`window_total`, is what the counts are made of.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Accumulate, Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.sizes import Size, as_expr, per_axis

__all__ = ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "window_bounds", "window_total"]


def window_bounds(index: int, size: int, out: int) -> tuple[int, int]:
    """``(start, end)`` of output ``index``'s window along an axis of ``size`` pooled to ``out``.

    Examples
    --------
    >>> [window_bounds(i, 5, 3) for i in range(3)]
    [(0, 2), (1, 4), (3, 5)]
    """
    return (index * size) // out, -((-(index + 1) * size) // out)


def window_total(size: Size, out: Size) -> sympy.Expr:
    """The sum of the window lengths along an axis of ``size`` pooled to ``out``:
    ``Σ_i ceil((i + 1)·size/out) − floor(i·size/out)``.

    ``size`` when ``out`` divides it (the windows tile the axis) or ``out`` is 1; a sum of
    ``out`` floors and ceilings for a symbolic ``size`` and a concrete ``out``; a symbolic
    ``out`` is refused unless it divides ``size`` by its form.

    Examples
    --------
    >>> window_total(5, 3), window_total(6, 3), window_total(7, 7)
    (7, 6, 7)
    >>> from symconv.symbols import H
    >>> window_total(H, 1), window_total(2 * H, 2)
    (H, 2*H)
    >>> window_total(H, 2)
    H + ceiling(H/2) - floor(H/2)
    """
    size_ = as_expr(size)
    out_ = as_expr(out)
    if out_ == 1 or (size_ / out_).is_integer:
        return size_
    if not out_.is_Integer:
        raise SymconvError(
            f"output_size={out} must be a number (or divide the input size {size}) for the "
            "adaptive windows to be counted; give a concrete output size"
        )
    count = int(out_)
    return sympy.Add(*(sympy.ceiling((i + 1) * size_ / count) - sympy.floor(i * size_ / count)
                       for i in range(count)))


@dataclass(frozen=True, init=False)
class AdaptiveAvgPool2d(Layer):
    """Average over PyTorch's adaptive windows (module docstring), to ``output_size``.

    Per output element: the window's ``len_h·len_w − 1`` additions and one division. Summed:
    ``C·(T_h·T_w − H_o·W_o)`` additions, where ``T`` is :func:`window_total` along each axis
    (``T = H`` when ``H_o`` divides ``H``), and ``C·H_o·W_o`` divisions.

    Parameters
    ----------
    output_size
        One size for both axes or ``(H_o, W_o)``.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(AdaptiveAvgPool2d(1), (H, W, C))
    >>> c.output_shape, c.adds, c.divs
    ((1, 1, C), C*(H*W - 1), C)
    >>> c = cost(AdaptiveAvgPool2d((3, 2)), (5, 4, 1))   # rows 0-1, 1-3, 3-4: lengths 2, 3, 2
    >>> c.adds, c.divs
    (22, 6)
    """

    example: ClassVar[str] = "AdaptiveAvgPool2d((7, 7))"

    output_size: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = 2
    accumulate: ClassVar[Accumulate] = "sum"
    per_output: ClassVar[tuple[tuple[str, Size], ...]] = (("divs", 1),)

    def __init__(self, output_size: object) -> None:
        object.__setattr__(self, "output_size", per_axis(output_size, "output_size", 2))

    @property
    def kind(self) -> str:
        return "adaptiveavgpool"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every output element; inner: the *mean* window length along each axis,
        ``T/Out`` (the windows' lengths differ, their total does not), so that outer × inner is
        every term of every window."""
        outputs = (*self.output_size, _need_channels(self, in_channels))
        inner = tuple(window_total(size, out) / as_expr(out)
                      for size, out in zip(input_spatial, self.output_size))
        return LoopNest(outer=outputs, inner=inner, outputs=outputs, multiply=False,
                        accumulate=self.accumulate, per_output=self.per_output)


@dataclass(frozen=True, init=False)
class AdaptiveMaxPool2d(AdaptiveAvgPool2d):
    """The maximum over PyTorch's adaptive windows: ``len_h·len_w − 1`` comparisons per output.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(AdaptiveMaxPool2d((3, 2)), (5, 4, 1)).comparisons
    22
    """

    example: ClassVar[str] = "AdaptiveMaxPool2d((7, 7))"
    accumulate: ClassVar[Accumulate] = "max"
    per_output: ClassVar[tuple[tuple[str, Size], ...]] = ()

    @property
    def kind(self) -> str:
        return "adaptivemaxpool"


def _adaptive(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, AdaptiveAvgPool2d)
    return tuple(as_expr(size) for size in layer.output_size)


output_spatial.register(AdaptiveAvgPool2d, _adaptive)
