"""Normalisation with statistics of the input itself: :class:`LayerNorm` (over the channels) and
:class:`GroupNorm` (over groups of channels and every position).

What is counted, per set of ``R`` values normalised together (a *row*: one position's ``C``
channels for LayerNorm; one group's ``C/G`` channels at every position for GroupNorm), with the
moments in their two-pass form:

* mean: ``R − 1`` additions, 1 division;
* biased variance ``Σ(x − mean)²/R``: ``R`` subtractions (counted as additions), ``R``
  multiplications, ``R − 1`` additions, 1 division;
* ``rstd = 1/sqrt(var + eps)``, as PyTorch's CPU kernels write it: 1 addition, 1 sqrt (a
  transcendental), 1 division.

Then, following PyTorch's CPU kernels (``layer_norm_kernel.cpp``, ``group_norm_kernel.cpp``),
which fold the mean into a shift ``bias = −mean·rstd`` and apply ``x·scale + bias``:

* LayerNorm: per row 1 multiplication (``mean·rstd``; a negation is not counted); per element
  ``x·rstd + bias`` (1 mult, 1 add), then ``·γ`` (1 mult) where there is a weight and ``+ β``
  (1 add) where there is a bias;
* GroupNorm: per channel of a group ``scale = rstd·γ_c``, ``bias = β_c − scale·mean`` (2 mults,
  1 add; without affine per group ``bias = −rstd·mean``, 1 mult); per element ``x·scale + bias``
  (1 mult, 1 add).

PyTorch's ``RowwiseMoments`` computes the same mean and variance with a cascaded Welford update
whose own operation count is not followed here: the moments are counted in the two-pass form
above, which the executors perform. Where ``γ`` or ``β`` is absent PyTorch's LayerNorm kernel
still multiplies by 1 and adds 0; those are not counted.

Parameters: ``γ`` (``weight``) and ``β`` (``bias``), ``C`` each, where present.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.shapes import output_spatial
from symconv.sizes import Size, as_expr, as_size

__all__ = ["LayerNorm", "GroupNorm", "NORM_EPS"]

#: PyTorch's default ε of LayerNorm and GroupNorm.
NORM_EPS = sympy.Rational(1, 10**5)




def _flag(value: object, argument: str) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"{argument}={value!r}) must be True or False")
    return value


def _after_sum(terms: sympy.Expr) -> dict[str, sympy.Expr]:
    """The moments' counts over ``terms`` values beyond the mean's sum (module docstring): the
    mean's division; the variance's ``terms`` subtractions and multiplications, ``terms − 1``
    additions and division; ``rstd``'s addition, sqrt and division."""
    return {"adds": terms + (terms - 1) + 1, "mults": terms, "divs": sympy.Integer(3),
            "transcendentals": sympy.Integer(1)}


@dataclass(frozen=True, init=False)
class LayerNorm(Layer):
    """``nn.LayerNorm(C)`` over the channel axis (the last: ConvNeXt's ``LayerNorm2d`` on NCHW
    and ``nn.LayerNorm`` on its channels-last tensors, ViT's on ``(L, C)`` tokens).

    Per row of ``C`` (one position): ``5C − 1`` additions, ``3C + 1`` multiplications,
    3 divisions and 1 sqrt with weight and bias (the module docstring says each); ``C`` fewer
    multiplications without the weight and ``C`` fewer additions without the bias.

    Parameters
    ----------
    normalized_shape
        The channel count ``C`` (PyTorch's ``normalized_shape`` of one size).
    eps
        Added to the variance; PyTorch's ``1e-5`` by default (kept exact, a SymPy rational).
    elementwise_affine, bias
        PyTorch's: a weight ``γ`` where ``elementwise_affine``, a bias ``β`` where both are true.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> import sympy
    >>> c = cost(LayerNorm(C), (H, W, C))
    >>> sympy.factor(c.adds), sympy.factor(c.mults), c.divs, c.transcendentals, c.params
    (H*W*(5*C - 1), H*W*(3*C + 1), 3*H*W, H*W, 2*C)
    >>> c = cost(LayerNorm(8, elementwise_affine=False), (4, 8))
    >>> c.adds, c.mults, c.params
    (124, 68, 0)
    """

    example: ClassVar[str] = "LayerNorm(96)"

    normalized_shape: Size
    eps: sympy.Expr
    elementwise_affine: bool
    bias: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, normalized_shape: object, eps: object = NORM_EPS,
                 elementwise_affine: bool = True, bias: bool = True) -> None:
        shape = normalized_shape
        if isinstance(shape, (tuple, list)):
            if len(shape) != 1:
                raise SymconvError(
                    f"LayerNorm(normalized_shape={shape!r}): only the channel axis can be "
                    "normalised here; give one size, the channel count"
                )
            shape = shape[0]
        object.__setattr__(self, "normalized_shape", as_size(shape, "LayerNorm(normalized_shape"))
        object.__setattr__(self, "eps", _eps(eps, "LayerNorm"))
        object.__setattr__(self, "elementwise_affine",
                           _flag(elementwise_affine, "LayerNorm(elementwise_affine"))
        object.__setattr__(self, "bias", _flag(bias, "LayerNorm(bias"))

    @property
    def kind(self) -> str:
        return "layernorm"

    def in_channels_expected(self) -> Size:
        return self.normalized_shape

    @property
    def has_weight(self) -> bool:
        return self.elementwise_affine

    @property
    def has_bias(self) -> bool:
        return self.elementwise_affine and self.bias

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every position (a row); inner: its ``C`` channels, summed for the mean; per
        row the rest of the moments and ``−mean·rstd`` (:attr:`LoopNest.per_outer`); per element
        ``x·rstd + shift`` and the affine step."""
        channels = as_expr(self.normalized_shape)
        row = _after_sum(channels)
        row["mults"] += 1                     # shift = −mean·rstd
        per_element = (("mults", 1 + int(self.has_weight)), ("adds", 1 + int(self.has_bias)))
        parameters = tuple((name, (self.normalized_shape,)) for name, present
                           in (("weight", self.has_weight), ("bias", self.has_bias)) if present)
        return LoopNest(outer=tuple(input_spatial), inner=(channels,),
                        outputs=(*input_spatial, channels), multiply=False,
                        per_output=per_element, per_outer=tuple(row.items()),
                        parameters=parameters)


@dataclass(frozen=True, init=False)
class GroupNorm(Layer):
    """``nn.GroupNorm(num_groups, num_channels)``: each group of ``C/G`` channels normalised over
    its channels and every position.

    With ``E`` elements (``H·W·C``), ``G`` groups, ``a = 1`` with affine (else 0): ``4E − G +
    a·C`` additions, ``2E + 2C`` multiplications with affine (``2E + G`` without), ``3G``
    divisions and ``G`` sqrt (module docstring).

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W
    >>> c = cost(GroupNorm(4, 32), (H, W, 32))
    >>> c.adds, c.mults, c.divs, c.transcendentals, c.params
    (128*H*W + 28, 64*H*W + 64, 12, 4, 64)
    """

    example: ClassVar[str] = "GroupNorm(32, 256)"

    num_groups: Size
    num_channels: Size
    eps: sympy.Expr
    affine: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, num_groups: object, num_channels: object, eps: object = NORM_EPS,
                 affine: bool = True) -> None:
        groups = as_size(num_groups, "GroupNorm(num_groups")
        channels = as_size(num_channels, "GroupNorm(num_channels")
        if (as_expr(channels) / as_expr(groups)).is_integer is False:
            raise SymconvError(f"GroupNorm(num_groups={groups}) must divide "
                               f"num_channels={channels}")
        object.__setattr__(self, "num_groups", groups)
        object.__setattr__(self, "num_channels", channels)
        object.__setattr__(self, "eps", _eps(eps, "GroupNorm"))
        object.__setattr__(self, "affine", _flag(affine, "GroupNorm(affine"))

    @property
    def kind(self) -> str:
        return "groupnorm"

    def in_channels_expected(self) -> Size:
        return self.num_channels

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: the groups; inner: a group's positions and channels, summed for the mean;
        per group the rest of the moments and its channels' ``scale`` and ``bias``
        (:attr:`LoopNest.per_outer`); per element ``x·scale + bias``."""
        groups, channels = as_expr(self.num_groups), as_expr(_need_channels(self, self.num_channels))
        size = channels / groups
        group = _after_sum(sympy.Mul(*(as_expr(n) for n in input_spatial)) * size)
        if self.affine:                       # per channel: rstd·γ, scale·mean, β − ·
            group["mults"] += 2 * size
            group["adds"] += size
        else:                                 # per group: −rstd·mean
            group["mults"] += 1
        parameters = ((("weight", (self.num_channels,)), ("bias", (self.num_channels,)))
                      if self.affine else ())
        return LoopNest(outer=(groups,), inner=(*input_spatial, size),
                        outputs=(*input_spatial, channels), multiply=False,
                        per_output=(("mults", 1), ("adds", 1)), per_outer=tuple(group.items()),
                        parameters=parameters)


def _eps(value: object, owner: str) -> sympy.Expr:
    """``eps`` exact: an int, a SymPy rational, or a float taken at its shortest decimal
    (``1e-5`` is ``1/100000``)."""
    if isinstance(value, bool):
        raise SymconvError(f"{owner}(eps={value!r}) must be a small positive number, like 1e-5")
    if isinstance(value, float):
        fraction = Fraction(repr(value))
        value = sympy.Rational(fraction.numerator, fraction.denominator)
    if isinstance(value, int):
        value = sympy.Integer(value)
    if not isinstance(value, sympy.Expr) or value.is_positive is False:
        raise SymconvError(f"{owner}(eps={value!r}) must be a small positive number, like 1e-5")
    return value


def _same(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    return input_spatial


for _kind in (LayerNorm, GroupNorm):
    output_spatial.register(_kind, _same)
