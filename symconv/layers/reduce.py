"""The mean over axes: :class:`Mean` (PyTorch's ``x.mean([2, 3])``, ``torch.mean(x, dim,
keepdim)``).

Axes are numbered in symconv's channels-last layout: on ``(H, W, C)``, ``(0, 1)`` are the
spatial axes (PyTorch's NCHW dims ``2, 3``) and ``-1`` or ``2`` the channels (PyTorch's dim 1).
PyTorch's CPU ``mean`` sums, then divides the sum by the number of terms: per output element
``R − 1`` additions (``R`` the product of the reduced extents) and one division.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial

__all__ = ["Mean"]


@dataclass(frozen=True, init=False)
class Mean(Layer):
    """The mean over ``axes`` of a channels-last input: per output element, ``R − 1`` additions
    and 1 division, ``R`` the number of terms averaged.

    Parameters
    ----------
    axes
        Axes of the channels-last input (negative counts from the end: ``-1`` is the channels).
        ``(0, 1)`` on ``(H, W, C)`` is PyTorch's ``x.mean([2, 3])``.
    keepdim
        Keep the reduced axes with size 1 (PyTorch's ``keepdim``). The channel axis can be
        reduced only with ``keepdim=True`` (the output keeps a channel axis, last).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(Mean((0, 1)), (H, W, C))            # MNASNet's x.mean([2, 3])
    >>> c.output_shape, c.adds, c.divs
    ((C,), C*(H*W - 1), C)
    >>> cost(Mean((0, 1), keepdim=True), (H, W, C)).output_shape
    (1, 1, C)
    >>> cost(Mean(-1, keepdim=True), (4, 4, 8)).adds       # over the channels, per position
    112
    >>> Mean(-1)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Mean(axes=(-1,), keepdim=False): the channel axis (-1) can be ...
    """

    example: ClassVar[str] = "Mean((0, 1))"

    axes: tuple[int, ...]
    keepdim: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, axes: object, keepdim: bool = False) -> None:
        given = (axes,) if isinstance(axes, int) else axes
        if (not isinstance(given, (tuple, list)) or not given
                or not all(isinstance(a, int) and not isinstance(a, bool) for a in given)
                or len(set(given)) != len(given)):
            raise SymconvError(f"Mean(axes={axes!r}) must be an int or a tuple of distinct ints, "
                               "like (0, 1) for the spatial axes of (H, W, C)")
        if not isinstance(keepdim, bool):
            raise SymconvError(f"Mean(keepdim={keepdim!r}) must be True or False")
        if -1 in given and not keepdim:
            raise SymconvError(
                f"Mean(axes={tuple(given)!r}, keepdim=False): the channel axis (-1) can be reduced "
                "only with keepdim=True; symconv's tensors keep a channel axis, last"
            )
        object.__setattr__(self, "axes", tuple(given))
        object.__setattr__(self, "keepdim", keepdim)

    @property
    def kind(self) -> str:
        return "mean"

    def _reduced(self, rank: int) -> set[int]:
        found = set()
        for axis in self.axes:
            if not -rank <= axis < rank:
                raise SymconvError(f"Mean(axes={self.axes!r}): axis {axis} is out of range for an "
                                   f"input of {rank} axes (channels last)")
            if axis == rank - 1:
                raise SymconvError(f"Mean(axes={self.axes!r}): axis {axis} is the channel axis of "
                                   f"an input of {rank} axes; write it as -1")
            found.add(axis % rank)
        if rank - 1 in found and not self.keepdim:
            raise SymconvError(
                f"Mean(axes={self.axes!r}, keepdim=False): axis {rank - 1} is the channel axis; "
                "it can be reduced only with keepdim=True"
            )
        return found

    def out_channels_for(self, in_channels: int | sympy.Expr) -> int | sympy.Expr:
        # the channel axis is written -1 and reduced only with keepdim
        return 1 if any(axis == -1 for axis in self.axes) else in_channels

    def loop_nest(
        self,
        input_spatial: tuple[int | sympy.Expr, ...],
        output_spatial: tuple[int | sympy.Expr, ...],
        in_channels: int | sympy.Expr | None = None,
    ) -> LoopNest:
        """Outer: every output element; inner: the reduced extents (a sum of ``R`` terms);
        then one division per output."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        reduced = self._reduced(len(shape))
        inner = tuple(size for axis, size in enumerate(shape) if axis in reduced)
        outputs = tuple(1 if axis in reduced else size for axis, size in enumerate(shape)
                        if self.keepdim or axis not in reduced)
        return LoopNest(outer=outputs, inner=inner, outputs=outputs, multiply=False,
                        per_output=(("divs", 1),))


def _mean_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Mean)
    rank = len(input_spatial) + 1
    reduced = layer._reduced(rank)
    return tuple(sympy.Integer(1) if axis in reduced else size
                 for axis, size in enumerate(input_spatial)
                 if layer.keepdim or axis not in reduced)


output_spatial.register(Mean, _mean_spatial)
