"""Layers of windowed attention (Swin): :class:`Roll` (``torch.roll``, the cyclic shift of
shifted windows), :class:`Strided` (``x[..., 0::2, 1::2, :]``, patch merging's four
subsamplings, and crops), :class:`Normalize` (``F.normalize``, Swin V2's cosine attention) and
:class:`Constant` (a table that is not computed from the input, which a layer then runs on:
Swin V2's ``cpb_mlp``).

:class:`Roll` copies (every element read and written, as ``torch.roll`` does); :class:`Strided`
is a view, as PyTorch's basic indexing is (nothing read or written; the next stage that copies
reads it); neither counts an operation, nor does :class:`Constant` (its values are made, written
once).

Examples
--------
>>> from symconv import cost
>>> c = cost(Roll((-3, -3), (0, 1)), (56, 56, 96))
>>> c.output_shape, c.mults, c.reads, c.writes
((56, 56, 96), 0, 301056, 301056)
>>> c = cost(Strided((1, 0), (2, 2)), (56, 56, 96))
>>> c.output_shape, c.reads, c.writes
((28, 28, 96), 0, 0)
>>> cost(Strided((0, 0), (1, 1), stops=(7, None)), (8, 8, 96)).output_shape   # x[:, :7]
(7, 8, 96)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.activations import check_axis
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import NOTHING, InputAccess
from symconv.sizes import Size, as_expr, as_size

__all__ = ["Roll", "Strided", "Normalize", "Constant"]


def _ints(value: object, owner: str, minimum: int | None = None) -> tuple[int, ...]:
    if not isinstance(value, (tuple, list)) or not value or not all(
            isinstance(item, int) and not isinstance(item, bool)
            and (minimum is None or item >= minimum) for item in value):
        least = f" >= {minimum}" if minimum is not None else ""
        raise SymconvError(f"{owner}={value!r} must be a non-empty tuple of ints{least}")
    return tuple(value)


@dataclass(frozen=True, init=False)
class Roll(Layer):
    """The input shifted cyclically by ``shifts[i]`` positions along axis ``axes[i]``
    (``numpy.roll``, ``torch.roll``; axes of the channels-last shape). A copy: nothing counted,
    every element read and written.

    Examples
    --------
    >>> Roll((3,), (0, 1))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Roll(shifts=(3,), axes=(0, 1)) needs one shift per axis
    """

    example: ClassVar[str] = "Roll((-3, -3), (0, 1))"

    shifts: tuple[int, ...]
    axes: tuple[int, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shifts: object, axes: object) -> None:
        shifts_ = _ints(shifts, "Roll(shifts")
        axes_ = _ints(axes, "Roll(axes", minimum=0)
        if len(shifts_) != len(axes_) or len(set(axes_)) != len(axes_):
            raise SymconvError(f"Roll(shifts={shifts_}, axes={axes_}) needs one shift per axis")
        object.__setattr__(self, "shifts", shifts_)
        object.__setattr__(self, "axes", axes_)

    @property
    def kind(self) -> str:
        return "roll"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a copy."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        if max(self.axes) >= len(shape):
            raise SymconvError(f"Roll(axes={self.axes}) needs an input of more than "
                               f"{max(self.axes)} axes; it has {len(shape)}")
        return LoopNest(outer=(), inner=(), outputs=shape, multiply=False)


@dataclass(frozen=True, init=False)
class Strided(Layer):
    """Every ``steps[i]``-th position of spatial axis ``i`` from ``starts[i]`` on, before
    ``stops[i]`` (``None``: to the end; PyTorch's ``x[:, start:stop:step]`` on each spatial
    axis; the channels kept). A view: nothing counted, read or written.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(Strided((0, 1), (2, 2)), (7, 7, 4)).output_shape
    (4, 3, 4)
    """

    example: ClassVar[str] = "Strided((0, 1), (2, 2))"

    starts: tuple[int, ...]
    steps: tuple[int, ...]
    stops: tuple[int | None, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, starts: object, steps: object, stops: object = None) -> None:
        starts_ = _ints(starts, "Strided(starts", minimum=0)
        steps_ = _ints(steps, "Strided(steps", minimum=1)
        stops_ = (None,) * len(starts_) if stops is None else stops
        if not isinstance(stops_, (tuple, list)) or not all(
                item is None or (isinstance(item, int) and not isinstance(item, bool)
                                 and item >= 1) for item in stops_):
            raise SymconvError(f"Strided(stops={stops!r}) must be a tuple of ints >= 1 or None")
        if not len(starts_) == len(steps_) == len(stops_):
            raise SymconvError(f"Strided(starts={starts_}, steps={steps_}, stops={stops}) "
                               "needs one start, step and stop per axis")
        object.__setattr__(self, "starts", starts_)
        object.__setattr__(self, "steps", steps_)
        object.__setattr__(self, "stops", tuple(stops_))

    @property
    def kind(self) -> str:
        return "strided"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: a view."""
        channels = _need_channels(self, in_channels)
        return LoopNest(outer=(), inner=(), outputs=(*output_spatial, channels),
                        multiply=False, access=NOTHING)


def _strided(layer: Layer, spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Strided)
    if len(spatial) != len(layer.steps):
        raise SymconvError(f"Strided(steps={layer.steps}) needs {len(layer.steps)} spatial "
                           f"axes; the input has {len(spatial)}")
    ends = [as_expr(size) if stop is None else sympy.Min(as_expr(size), stop)
            for size, stop in zip(spatial, layer.stops)]
    sizes = tuple(sympy.ceiling((end - start) / step)
                  for end, start, step in zip(ends, layer.starts, layer.steps))
    if any(sympy.Le(size, 0) is sympy.true for size in sizes):
        raise SymconvError(f"Strided(starts={layer.starts}) starts outside an input of spatial "
                           f"sizes {tuple(spatial)}")
    return sizes


@dataclass(frozen=True, init=False)
class Normalize(Layer):
    """``F.normalize(x, p=2, dim)``: ``x / max(‖x‖₂, eps)`` along ``axis`` of the channels-last
    input.

    Per row of ``L`` elements along the axis, as PyTorch computes it (``x.norm(2, dim)``,
    ``.clamp_min(eps)``, ``x / that``): ``L`` squares (mults) and ``L − 1`` additions, one
    square root (a transcendental), one comparison with ``eps``, ``L`` divisions.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Normalize(axis=-1), (3, 4, 8))
    >>> c.mults, c.adds, c.transcendentals, c.comparisons, c.divs
    (96, 84, 12, 12, 96)
    """

    example: ClassVar[str] = "Normalize(axis=-1)"

    axis: int
    eps: sympy.Expr

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, axis: int = -1, eps: object = sympy.Rational(1, 10**12)) -> None:
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise SymconvError(f"Normalize(axis={axis!r}) must be an int")
        if isinstance(eps, float):
            from fractions import Fraction

            fraction = Fraction(repr(eps))
            eps = sympy.Rational(fraction.numerator, fraction.denominator)
        if not isinstance(eps, sympy.Expr) or not eps.is_number or not eps.is_nonnegative:
            raise SymconvError(f"Normalize(eps={eps!r}) must be a number >= 0")
        object.__setattr__(self, "axis", axis)
        object.__setattr__(self, "eps", eps)

    @property
    def kind(self) -> str:
        return "normalize"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every row; inner: its ``L`` squares, summed; per row a square root and a
        comparison; per element a division."""
        shape = (*input_spatial, _need_channels(self, in_channels))
        axis = check_axis(self.axis, len(shape), "Normalize(axis")
        rows = shape[:axis] + shape[axis + 1:]
        return LoopNest(outer=rows, inner=(shape[axis],), outputs=shape,
                        per_outer=(("transcendentals", 1), ("comparisons", 1)),
                        per_output=(("divs", 1),))


@dataclass(frozen=True, init=False)
class Constant(Layer):
    """A tensor of channels-last ``shape`` that is not computed from the input (a buffer, a
    table), whatever its input: the start of a branch that runs layers on it (Swin V2's
    ``cpb_mlp`` on its table of relative coordinates). Nothing counted or read; its elements
    written once (made).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Constant((15, 15, 2)), (56, 56, 96))
    >>> c.output_shape, c.mults, c.reads, c.writes
    ((15, 15, 2), 0, 0, 450)
    """

    example: ClassVar[str] = "Constant((15, 15, 2))"
    reads_input: ClassVar[bool] = False

    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, shape: object) -> None:
        if not isinstance(shape, (tuple, list)) or not shape:
            raise SymconvError(f"Constant(shape={shape!r}) must be a channels-last shape, like "
                               "(15, 15, 2)")
        object.__setattr__(self, "shape",
                           tuple(as_size(size, "Constant(shape") for size in shape))

    @property
    def kind(self) -> str:
        return "constant"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """No loops: its elements made."""
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False,
                        access=InputAccess(copies=0))


output_spatial.register(Roll, lambda layer, spatial: spatial)
output_spatial.register(Normalize, lambda layer, spatial: spatial)
output_spatial.register(Constant, lambda layer, spatial: tuple(as_expr(size)
                                                               for size in layer.shape[:-1]))
output_spatial.register(Strided, _strided)
