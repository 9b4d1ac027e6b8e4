"""Activations that reduce along an axis: :class:`Softmax` and :class:`LogSoftmax`.

Both follow PyTorch's CPU kernels (``aten/src/ATen/native/cpu/SoftMaxKernel.cpp``): along the
axis, of length ``L``, the maximum is found (``L − 1`` comparisons) and subtracted for
stability. Elementwise activations (Sigmoid, GELU, ...) are :class:`~symconv.layers.Activation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.sizes import Size, as_expr

__all__ = ["Softmax", "LogSoftmax", "check_axis"]


def check_axis(axis: object, rank: int, owner: str) -> int:
    """``axis`` as an index in ``range(rank)`` (negative counts from the end), or an error naming
    ``owner`` and the axes there are.

    Examples
    --------
    >>> check_axis(-1, 3, "Softmax(axis")
    2
    >>> check_axis(3, 3, "Softmax(axis")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Softmax(axis=3) is out of range for an input of 3 axes; use -3 to 2 (channels last: -1 is C)
    """
    if isinstance(axis, bool) or not isinstance(axis, int) or not -rank <= axis < rank:
        raise SymconvError(f"{owner}={axis!r}) is out of range for an input of {rank} axes; "
                           f"use {-rank} to {rank - 1} (channels last: -1 is C)")
    return axis % rank


def _check_int(axis: object, owner: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise SymconvError(f"{owner}={axis!r}) must be an int axis of the channels-last input "
                           "(-1: channels)")
    return axis




@dataclass(frozen=True, init=False)
class Softmax(Layer):
    """``exp(x − max) / Σ exp(x − max)`` along ``axis`` of the channels-last input.

    Per row of ``L`` elements along the axis, as PyTorch computes it: the maximum,
    ``L − 1`` comparisons; ``x − max``, ``L`` additions; ``exp``, ``L`` transcendentals; the sum,
    ``L − 1`` additions; **one division** for ``1/sum`` and ``L`` multiplications by it (PyTorch
    multiplies by the reciprocal rather than dividing each element).

    Parameters
    ----------
    axis
        The axis of the channels-last input (``-1``, the default: channels; PyTorch's ``dim=1``
        of an ``NCHW`` tensor).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(Softmax(), (H, W, C))
    >>> c.comparisons, c.adds, c.transcendentals, c.divs, c.mults
    (H*W*(C - 1), C*H*W + H*W*(C - 1), C*H*W, H*W, C*H*W)
    >>> cost(Softmax(axis=0), (4, 3)).divs
    3
    """

    example: ClassVar[str] = "Softmax(axis=-1)"
    axis: int

    def __init__(self, axis: int = -1) -> None:
        object.__setattr__(self, "axis", _check_int(axis, f"{type(self).__name__}(axis"))

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()

    def _row(self, input_spatial: tuple[Size, ...], in_channels: Size | None,
             ) -> tuple[tuple[Size, ...], tuple[Size, ...], sympy.Expr]:
        shape = (*input_spatial, _need_channels(self, in_channels))
        axis = check_axis(self.axis, len(shape), f"{type(self).__name__}(axis")
        rows = shape[:axis] + shape[axis + 1:]
        return shape, rows, as_expr(shape[axis])

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every row; inner: its ``L`` elements, compared for the maximum. What a row
        does once (its sum's ``L − 1`` adds, one division) is spread over its ``L`` outputs."""
        shape, rows, length = self._row(input_spatial, in_channels)
        return LoopNest(outer=rows, inner=(length,), outputs=shape, multiply=False,
                        accumulate="max",
                        per_output=(("adds", 1), ("adds", (length - 1) / length),
                                    ("transcendentals", 1), ("divs", 1 / length),
                                    ("mults", 1)))


@dataclass(frozen=True, init=False)
class LogSoftmax(Softmax):
    """``x − max − log Σ exp(x − max)`` along ``axis``.

    Per row of ``L``, as PyTorch computes it: the maximum, ``L − 1`` comparisons;
    ``exp(x − max)``, ``L`` additions and ``L`` transcendentals; the sum, ``L − 1`` additions;
    ``log`` of it, 1 transcendental; ``max + log``, 1 addition; ``x − that``, ``L`` additions:
    ``3L`` additions, ``L + 1`` transcendentals.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(LogSoftmax(), (2, 5))
    >>> c.comparisons, c.adds, c.transcendentals, c.divs, c.mults
    (8, 30, 12, 0, 0)
    """

    example: ClassVar[str] = "LogSoftmax(axis=-1)"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every row; inner: its ``L`` elements, compared for the maximum; the row's
        one ``log`` is spread over its ``L`` outputs."""
        shape, rows, length = self._row(input_spatial, in_channels)
        return LoopNest(outer=rows, inner=(length,), outputs=shape, multiply=False,
                        accumulate="max",
                        per_output=(("adds", 3), ("transcendentals", 1),
                                    ("transcendentals", 1 / length)))


def _same(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    return input_spatial


output_spatial.register(Softmax, _same)
