"""Products of two tensors computed from the input, and a scale by a number:
:class:`MatMul` (``a @ b``, ``a.matmul(b)``, ``torch.bmm``: a hand-written attention's
``q @ k.transpose(-2, -1)`` and ``attn @ v``) and :class:`MulScalar` (``q * 0.125``).

The second operand of a :class:`MatMul` is the output of an earlier stage ``other`` of a
:class:`~symconv.layers.Graph`, its channels-last ``shape`` recorded. Both are channels last:
the product contracts the input's last axis (its channels) with the other's second-to-last
(or, with ``transpose_other``, its last: ``q @ k.transpose(-2, -1)`` without the transpose's
copy). Leading axes must be equal (no broadcasting).

Examples
--------
>>> from symconv import cost
>>> c = cost(MatMul("k", (2, 5, 4), transpose_other=True), (2, 5, 4))   # q kᵀ per head
>>> c.output_shape, c.mults, c.adds
((2, 5, 5), 200, 150)
>>> cost(MulScalar(0.125), (2, 5, 4)).mults
40
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import InputAccess
from symconv.sizes import Size, as_expr, as_size

__all__ = ["MatMul", "MulScalar", "MATMUL_SPELLINGS"]

#: How a product is written: ``"@"`` (``Tensor.__matmul__``), a call, ``"torch.matmul"``
#: (``torch.matmul``, ``x.matmul(y)``, ``torch.bmm``, ``x.bmm(y)``), or ``"einsum"``
#: (``torch.einsum("...ik,...kj->...ij", a, b)``, MaxViT's). ptflops patches the matmul calls,
#: not the operator nor einsum, and fvcore has its own handle for einsum, so the kind keeps it:
#: ``"matmul"``, ``"torch.matmul"``, ``"einsum"``.
MATMUL_SPELLINGS = ("@", "torch.matmul", "einsum")


@dataclass(frozen=True, init=False)
class MatMul(Layer):
    """``x @ other`` (``x @ otherᵀ`` with ``transpose_other``) over the last two axes, the
    leading ones alike: one dot product of ``k`` terms (``k`` mults, ``k − 1`` adds) per output
    element.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(MatMul("attn", (3, 7, 4)), (3, 2, 7))
    >>> c.output_shape, c.mults, c.kind
    ((3, 2, 4), 168, 'matmul')
    """

    example: ClassVar[str] = 'MatMul("k", (3, 49, 32), transpose_other=True)'

    other: str
    shape: tuple[Size, ...]
    transpose_other: bool
    spelling: str

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, other: str, shape: object, transpose_other: bool = False,
                 spelling: str = "@") -> None:
        if not isinstance(other, str) or not other:
            raise SymconvError(f"MatMul(other={other!r}) must name a stage, or 'input'")
        if not isinstance(shape, (tuple, list)) or len(shape) < 2:
            raise SymconvError(f"MatMul(shape={shape!r}) must be the channels-last shape of "
                               f"stage {other}, of two axes or more, like (49, 32)")
        if not isinstance(transpose_other, bool):
            raise SymconvError(f"MatMul(transpose_other={transpose_other!r}) must be True or "
                               "False")
        if spelling not in MATMUL_SPELLINGS:
            raise SymconvError(f"MatMul(spelling={spelling!r}) is unknown; use one of "
                               f"{', '.join(MATMUL_SPELLINGS)}")
        object.__setattr__(self, "other", other)
        object.__setattr__(self, "shape", tuple(as_size(size, "MatMul(shape") for size in shape))
        object.__setattr__(self, "transpose_other", transpose_other)
        object.__setattr__(self, "spelling", spelling)

    @property
    def kind(self) -> str:
        return "matmul" if self.spelling == "@" else self.spelling

    def _sizes(self) -> tuple[Size, Size]:
        """``(k, m)``: the contracted size and the output's last."""
        last, before = self.shape[-1], self.shape[-2]
        return (last, before) if self.transpose_other else (before, last)

    def out_channels_for(self, in_channels: Size) -> Size:
        return self._sizes()[1]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every output element; inner: the contracted axis. Reads both operands."""
        channels = _need_channels(self, in_channels)
        contracted, columns = self._sizes()
        lead = tuple(input_spatial[:-1])
        if (len(lead) != len(self.shape) - 2 or not input_spatial
                or sympy.Eq(as_expr(contracted), as_expr(channels)) is sympy.false
                or any(sympy.Eq(as_expr(a), as_expr(b)) is sympy.false
                       for a, b in zip(lead, self.shape[:-2]))):
            raise SymconvError(f"MatMul: an input of shape {(*input_spatial, channels)} does "
                               f"not multiply stage {self.other}'s {tuple(self.shape)}"
                               f"{' transposed' if self.transpose_other else ''}")
        outputs = (*input_spatial, columns)
        other = sympy.Mul(*(as_expr(size) for size in self.shape))
        return LoopNest(outer=outputs, inner=(channels,), outputs=outputs,
                        access=InputAccess(extra=other))


@dataclass(frozen=True, init=False)
class MulScalar(Layer):
    """``x * factor`` with ``factor`` a number (kept exact: a float at its shortest decimal):
    one multiplication per element.

    Examples
    --------
    >>> MulScalar(0.125).factor
    1/8
    """

    example: ClassVar[str] = "MulScalar(0.125)"

    factor: sympy.Expr

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, factor: object) -> None:
        if isinstance(factor, float):
            fraction = Fraction(repr(factor))
            factor = sympy.Rational(fraction.numerator, fraction.denominator)
        elif isinstance(factor, int) and not isinstance(factor, bool):
            factor = sympy.Integer(factor)
        if not isinstance(factor, sympy.Expr) or not factor.is_number or not factor.is_real:
            raise SymconvError(f"MulScalar(factor={factor!r}) must be a real number")
        object.__setattr__(self, "factor", factor)

    @property
    def kind(self) -> str:
        return "mulscalar"

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every element, one multiplication."""
        outputs = (*input_spatial, _need_channels(self, in_channels))
        return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=True)


output_spatial.register(MatMul, lambda layer, spatial: spatial)
output_spatial.register(MulScalar, lambda layer, spatial: spatial)
