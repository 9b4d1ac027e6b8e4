"""Resizing and the learned leaky ReLU of segmentation heads: :class:`Upsample`
(``nn.Upsample``, ``F.interpolate``, nearest and bilinear) and :class:`PReLU`.

What is counted, as PyTorch's CPU kernels compute (``UpSampleKernel.cpp``; ``docs/conventions.md``):

* **nearest**: nothing. Each output element is a copy of one input element; which one is index
  arithmetic on sizes (``floor(o·scale)``, in single precision as PyTorch's ``nearest_idx``),
  which symconv does not count for any layer (a convolution's window positions are not counted
  either).
* **bilinear**: per output element, PyTorch's separable evaluation
  ``(x₀₀·w₀ + x₀₁·w₁)·h₀ + (x₁₀·w₀ + x₁₁·w₁)·h₁``: 6 multiplications and 3 additions. The four
  taps and their weights ``w₀, w₁`` (along W) and ``h₀, h₁`` (along H) come from sizes only, once
  per output column and row (``align_corners`` chooses the rule); computing them is not counted.
  At the last row or column both taps are the same element (``i₁ = i₀``), multiplied all the
  same.
* **PReLU**: per element ``x if x > 0 else a·x``: 1 comparison and 1 multiplication (the
  product is counted for every element, as for LeakyReLU: a count that does not depend on the
  values); parameters ``a``, one (``num_parameters=1``) or one per channel.

Only upsampling is described (every output size at least the input's, as in segmentation
heads and feature pyramids): every input element is then read (``Cost.reads``), which is what
the traffic model derives; a smaller output is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import sympy

from symconv.errors import SymconvError, shown
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.sizes import Size, as_expr, as_size

__all__ = ["Upsample", "PReLU", "UPSAMPLE_MODES"]

#: The modes :class:`Upsample` describes.
UPSAMPLE_MODES = ("nearest", "bilinear")


def _scale(value: object) -> sympy.Rational:
    """A scale factor as an exact rational: an int, a fraction, or a float whose binary value
    times any size below 2³² is exact in double precision (0.5, 1.5, 2.0, ...: PyTorch's
    ``floor(float(size) · scale)`` is then ``floor(size · scale)`` exactly)."""
    if isinstance(value, bool):
        raise SymconvError(f"Upsample(scale_factor={value!r}) must be a positive number")
    if isinstance(value, int):
        exact = Fraction(value)
    elif isinstance(value, Fraction):
        exact = value
    elif isinstance(value, sympy.Rational):
        exact = Fraction(int(value.p), int(value.q))
    elif isinstance(value, float) and value == value and abs(value) != float("inf"):
        exact = Fraction(value)
        if exact.denominator > 2 ** 20:
            raise SymconvError(
                f"Upsample(scale_factor={value!r}) is not exact in binary (its double is "
                f"{exact}); PyTorch's output size floor(size·{value}) then depends on rounding: "
                "give size=... instead, or a scale like 0.5, 1.5, 2"
            )
    else:
        raise SymconvError(f"Upsample(scale_factor={shown(value, 40)}) must be a positive number "
                           "(an int, a fraction, or a float like 1.5)")
    if exact <= 0:
        raise SymconvError(f"Upsample(scale_factor={value!r}) must be positive")
    return sympy.Rational(exact.numerator, exact.denominator)


def _pair(value: object) -> tuple[object, object]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise SymconvError(f"Upsample: {shown(value, 40)} must be one value or two (H, W)")
        return value[0], value[1]
    return value, value


@dataclass(frozen=True, init=False)
class Upsample(Layer):
    """``nn.Upsample(size, scale_factor, mode, align_corners)`` and ``F.interpolate`` on
    ``(H, W, C)``: nearest (nothing counted) or bilinear (6 mults and 3 adds per output
    element); see the module docstring.

    Parameters
    ----------
    size
        The output's ``(H_o, W_o)`` (or one size for both); or
    scale_factor
        ``H_o = floor(H·s)``: an int, a fraction, or a float exact in binary; one or ``(s_h,
        s_w)``.
    mode
        ``"nearest"`` or ``"bilinear"``.
    align_corners
        Bilinear only (PyTorch's default ``False``): the corner pixels' centres aligned.
    recompute_scale_factor
        PyTorch's: the source positions from the sizes rather than from ``scale_factor``
        (changes values, not counts).
    spelling
        ``"module"`` (``nn.Upsample``) or ``"F"`` (``F.interpolate`` in ``forward``): one peer
        counts the two differently, so the kind keeps it (``"upsample:bilinear"``,
        ``"F.interpolate:bilinear"``).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(Upsample(scale_factor=2, mode="bilinear"), (H, W, C))
    >>> c.output_shape, c.mults, c.adds, c.kind
    ((2*H, 2*W, C), 24*C*H*W, 12*C*H*W, 'upsample:bilinear')
    >>> c = cost(Upsample(size=(8, 12)), (4, 6, 3))
    >>> c.output_shape, c.mults, c.reads, c.writes
    ((8, 12, 3), 0, 72, 288)
    >>> cost(Upsample(scale_factor=0.5), (4, 4, 3))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Upsample(scale_factor=(1/2, 1/2)) makes 2×2 from 4×4: symconv describes upsampling only ...
    """

    example: ClassVar[str] = 'Upsample(scale_factor=2, mode="bilinear")'
    spatial_dims: ClassVar[int | None] = 2

    size: tuple[Size, Size] | None
    scale_factor: tuple[sympy.Rational, sympy.Rational] | None
    mode: str
    align_corners: bool
    recompute_scale_factor: bool
    spelling: str

    def __init__(self, size: object = None, scale_factor: object = None, mode: str = "nearest",
                 align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                 spelling: str = "module") -> None:
        if (size is None) == (scale_factor is None):
            raise SymconvError("Upsample: give exactly one of size=(H_o, W_o) and scale_factor "
                               f"(given size={shown(size, 30)}, scale_factor="
                               f"{shown(scale_factor, 30)})")
        if mode not in UPSAMPLE_MODES:
            raise SymconvError(f"Upsample(mode={mode!r}) is not described; use one of "
                               f"{', '.join(UPSAMPLE_MODES)}")
        if align_corners is not None and not isinstance(align_corners, bool):
            raise SymconvError(f"Upsample(align_corners={align_corners!r}) must be True, False "
                               "or None")
        if align_corners and mode == "nearest":
            raise SymconvError("Upsample(align_corners=True) applies to bilinear mode only "
                               "(PyTorch refuses it with nearest)")
        if spelling not in ("module", "F"):
            raise SymconvError(f"Upsample(spelling={spelling!r}) must be 'module' or 'F'")
        sizes = (None if size is None else
                 tuple(as_size(value, "Upsample(size") for value in _pair(size)))
        scales = (None if scale_factor is None else
                  tuple(_scale(value) for value in _pair(scale_factor)))
        object.__setattr__(self, "size", sizes)
        object.__setattr__(self, "scale_factor", scales)
        object.__setattr__(self, "mode", mode)
        object.__setattr__(self, "align_corners", bool(align_corners))
        object.__setattr__(self, "recompute_scale_factor", bool(recompute_scale_factor))
        object.__setattr__(self, "spelling", spelling)

    @property
    def kind(self) -> str:
        return f"{'upsample' if self.spelling == 'module' else 'F.interpolate'}:{self.mode}"

    def resized(self, input_spatial: tuple[Size, ...]) -> tuple[sympy.Expr, ...]:
        """The output's ``(H_o, W_o)``; refused where it is smaller than the input."""
        if len(input_spatial) != 2:
            raise SymconvError(f"Upsample takes (H, W, C), not a tensor of "
                               f"{len(input_spatial)} spatial axes")
        if self.size is not None:
            out = tuple(as_expr(value) for value in self.size)
            given = f"size={tuple(self.size)}"
        else:
            assert self.scale_factor is not None
            out = tuple(sympy.floor(as_expr(value) * scale)
                        for value, scale in zip(input_spatial, self.scale_factor))
            given = f"scale_factor={tuple(self.scale_factor)}"
        for before, after in zip(input_spatial, out):
            if sympy.Lt(after, as_expr(before)) is sympy.true or (
                    self.scale_factor is not None and min(self.scale_factor) < 1):
                raise SymconvError(
                    f"Upsample({given}) makes {'×'.join(map(str, out))} from "
                    f"{'×'.join(map(str, input_spatial))}: symconv describes upsampling only "
                    "(every output size at least the input's)")
        return out

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every output element. Nearest: a copy. Bilinear: inner, the 2×2 taps, each
        times its W weight and summed (4 mults, 3 adds), and per output the two row sums times
        their H weights (2 mults)."""
        outputs = (*self.resized(input_spatial), _need_channels(self, in_channels))
        if self.mode == "nearest":
            return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=False)
        return LoopNest(outer=outputs, inner=(2, 2), outputs=outputs, multiply=True,
                        per_output=(("mults", 2),))


@dataclass(frozen=True, init=False)
class PReLU(Layer):
    """``nn.PReLU(num_parameters)``: ``x if x > 0 else a·x`` with a learned slope ``a``, one for
    every channel or one shared (``num_parameters=1``). Per element 1 comparison and
    1 multiplication; parameters ``num_parameters``.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(PReLU(C), (H, W, C))
    >>> c.mults, c.comparisons, c.params, c.kind
    (C*H*W, C*H*W, C, 'prelu')
    >>> cost(PReLU(), (4, 4, 8)).params
    1
    >>> cost(PReLU(3), (4, 4, 8))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: PReLU(num_parameters=3) must be 1 or the input's 8 channels
    """

    example: ClassVar[str] = "PReLU(64)"
    spatial_dims: ClassVar[int | None] = None

    num_parameters: Size

    def __init__(self, num_parameters: object = 1) -> None:
        object.__setattr__(self, "num_parameters", as_size(num_parameters, "PReLU(num_parameters"))

    @property
    def kind(self) -> str:
        return "prelu"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every element, compared with 0 and multiplied by its slope."""
        channels = _need_channels(self, in_channels)
        count = as_expr(self.num_parameters)
        if count != 1 and sympy.Eq(count, as_expr(channels)) is sympy.false:
            raise SymconvError(f"PReLU(num_parameters={self.num_parameters}) must be 1 or the "
                               f"input's {channels} channels")
        outputs = (*input_spatial, channels)
        return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=True,
                        per_output=(("comparisons", 1),),
                        parameters=(("weight", (self.num_parameters,)),))


output_spatial.register(Upsample, lambda layer, input_spatial: layer.resized(input_spatial))
output_spatial.register(PReLU, lambda layer, input_spatial: input_spatial)
