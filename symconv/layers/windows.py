"""Data movement of windowed attention (Swin): :class:`Roll` (``torch.roll``, the cyclic shift
of shifted windows) and :class:`Strided` (``x[..., 0::2, 1::2, :]``, patch merging's four
subsamplings).

Neither counts an operation. :class:`Roll` copies (every element read and written, as
``torch.roll`` does); :class:`Strided` is a view, as PyTorch's basic indexing is (nothing read
or written; the next stage that copies reads it).

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
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import NOTHING
from symconv.sizes import Size, as_expr

__all__ = ["Roll", "Strided"]


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


output_spatial.register(Roll, lambda layer, spatial: spatial)
output_spatial.register(Strided, _strided)
