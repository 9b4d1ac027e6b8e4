"""The general formulas of each layer kind, for ``symconv derive``.

Each kind is one symbolic layer built from the canonical symbols; its formulas come out of
:func:`symconv.derive.cost`, with the output sizes written as ``H_o, W_o``.

Examples
--------
>>> general = derive_kind("standard")
>>> general.cost.mults
H_o*M*N*W_o*k**2
>>> derive_kind("separable").ratio
k**(-2) + 1/N
>>> derive_kind("transposed").cost.mults
H*M*N*W*k**2
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sympy

from symconv import symbols as sym
from symconv.derive import Cost, cost, in_output_symbols, output_spatial, ratio
from symconv.errors import SymconvError
from symconv.layers import (
    Composite,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Layer,
    PointwiseConv2d,
)

__all__ = ["KINDS", "GeneralFormulas", "derive_kind"]


def _standard(bias: bool) -> Layer:
    return Conv2d(sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, bias=bias)


def _grouped(bias: bool) -> Layer:
    return Conv2d(sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, groups=sym.g, bias=bias)


def _depthwise(bias: bool) -> Layer:
    return DepthwiseConv2d(sym.M, sym.k, sym.s, sym.p, sym.d, bias=bias)


def _pointwise(bias: bool) -> Layer:
    return PointwiseConv2d(sym.M, sym.N, bias=bias)


def _separable(bias: bool) -> Layer:
    return DepthwiseSeparableConv2d(sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, bias=bias)


def _transposed(bias: bool) -> Layer:
    return ConvTranspose2d(sym.M, sym.N, sym.k, sym.s, sym.p, sym.a, sym.d, bias=bias)


#: Each kind ``symconv derive`` knows, and how to build its symbolic layer.
KINDS: dict[str, Callable[[bool], Layer]] = {
    "standard": _standard,
    "grouped": _grouped,
    "depthwise": _depthwise,
    "pointwise": _pointwise,
    "separable": _separable,
    "transposed": _transposed,
}


@dataclass(frozen=True)
class GeneralFormulas:
    """A kind's symbolic layer, its output-size formulas and its costs."""

    kind: str
    layer: Layer
    output_sizes: tuple[tuple[sympy.Symbol, sympy.Expr], ...]
    cost: Cost
    ratio: sympy.Expr | None = None


def derive_kind(kind: str, *, bias: bool = False) -> GeneralFormulas:
    """Derive the general formulas of one layer kind (see :data:`KINDS`).

    The separable kind also carries its ratio to the standard convolution.
    """
    if kind not in KINDS:
        raise SymconvError(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    layer = KINDS[kind](bias)
    shape = (sym.H, sym.W, sym.M)
    first = layer.stages[0][1] if isinstance(layer, Composite) else layer
    sizes = output_spatial(first, shape[:-1])
    output_sizes = tuple(zip((sym.H_o, sym.W_o), sizes))
    general = in_output_symbols(cost(layer, shape))
    separable_ratio = None
    if kind == "separable":
        standard = in_output_symbols(cost(_standard(bias), shape))
        separable_ratio = ratio(general.mults, standard.mults)
    return GeneralFormulas(kind, layer, output_sizes, general, separable_ratio)
