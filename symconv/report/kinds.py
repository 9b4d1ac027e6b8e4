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
from typing import TYPE_CHECKING

import sympy

from symconv import symbols as sym
from symconv.derive import Cost, cost, in_output_symbols, output_spatial, ratio
from symconv.errors import SymconvError, shown
from symconv.layers import (
    Composite,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Layer,
    PointwiseConv2d,
    Sequential,
)

if TYPE_CHECKING:
    from symconv.report.phase import Training

__all__ = ["KINDS", "GeneralFormulas", "derive_kind", "INPUT_SYMBOLS", "OUTPUT_SYMBOLS"]


_CONV = {1: Conv1d, 2: Conv2d, 3: Conv3d}
_TRANSPOSED = {1: ConvTranspose1d, 2: ConvTranspose2d, 3: ConvTranspose3d}
#: The symbols of an input's spatial sizes, and of the output's, per number of spatial axes.
INPUT_SYMBOLS = {1: (sym.L,), 2: (sym.H, sym.W), 3: (sym.D, sym.H, sym.W)}
OUTPUT_SYMBOLS = {1: (sym.L_o,), 2: (sym.H_o, sym.W_o), 3: (sym.D_o, sym.H_o, sym.W_o)}


def _standard(bias: bool, dims: int) -> Layer:
    return _CONV[dims](sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, bias=bias)


def _grouped(bias: bool, dims: int) -> Layer:
    return _CONV[dims](sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, groups=sym.g, bias=bias)


def _depthwise(bias: bool, dims: int) -> Layer:
    if dims == 2:
        return DepthwiseConv2d(sym.M, sym.k, sym.s, sym.p, sym.d, bias=bias)
    return _CONV[dims](sym.M, sym.M, sym.k, sym.s, sym.p, sym.d, groups=sym.M, bias=bias)


def _pointwise(bias: bool, dims: int) -> Layer:
    if dims == 2:
        return PointwiseConv2d(sym.M, sym.N, bias=bias)
    return _CONV[dims](sym.M, sym.N, 1, bias=bias)


def _separable(bias: bool, dims: int) -> Layer:
    if dims == 2:
        return DepthwiseSeparableConv2d(sym.M, sym.N, sym.k, sym.s, sym.p, sym.d, bias=bias)
    return Sequential(("depthwise", _depthwise(bias, dims)), ("pointwise", _pointwise(bias, dims)))


def _transposed(bias: bool, dims: int) -> Layer:
    return _TRANSPOSED[dims](sym.M, sym.N, sym.k, sym.s, sym.p, sym.a, sym.d, bias=bias)


#: Each kind ``symconv derive`` knows, and how to build its symbolic layer of 1, 2 or 3 axes.
KINDS: dict[str, Callable[[bool, int], Layer]] = {
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
    input_shape: tuple[sympy.Symbol, ...] = (sym.H, sym.W, sym.M)
    #: With ``phase="backward"`` or ``"train"``: the backward pass and training step, general
    #: formulas only (:mod:`symconv.report.phase`); ``None`` for the forward pass.
    training: Training | None = None


def derive_kind(kind: str, *, bias: bool = False, dims: int = 2, phase: str = "forward",
                input_grad: bool = True) -> GeneralFormulas:
    """Derive the general formulas of one layer kind (see :data:`KINDS`) over ``dims`` axes.

    The separable kind also carries its ratio to the standard convolution. ``phase="backward"``
    or ``"train"`` adds the backward pass (and training step) with its ratios to the forward
    pass; the layer's input gets its gradient unless ``input_grad=False`` (a network's first
    layer).

    Examples
    --------
    >>> derive_kind("separable", dims=3).ratio
    k**(-3) + 1/N
    >>> derive_kind("standard", dims=1).cost.mults
    L_o*M*N*k
    >>> backward = derive_kind("separable", phase="backward", input_grad=False).training.backward
    >>> [(stage.name, stage.to_forward.general) for stage in backward.stages]
    [('depthwise', 1), ('pointwise', 2), ('separable', (2*N + k**2)/(N + k**2))]
    >>> backward.ratio.general
    2/k**2 + 1/N
    """
    from symconv.report.phase import check_phase, training

    check_phase(phase, input_grad)
    if kind not in KINDS:
        raise SymconvError(f"unknown kind {shown(kind)}; choose one of: {', '.join(KINDS)}")
    if dims not in INPUT_SYMBOLS:
        raise SymconvError(f"dims={shown(dims)} must be 1, 2 or 3 (spatial axes)")
    layer = KINDS[kind](bias, dims)
    shape = (*INPUT_SYMBOLS[dims], sym.M)
    first = layer.stages[0][1] if isinstance(layer, Composite) else layer
    sizes = output_spatial(first, shape[:-1])
    output_sizes = tuple(zip(OUTPUT_SYMBOLS[dims], sizes))
    general = in_output_symbols(cost(layer, shape))
    separable_ratio = None
    standard_layer = _standard(bias, dims)
    if kind == "separable":
        standard = in_output_symbols(cost(standard_layer, shape))
        separable_ratio = ratio(general.mults, standard.mults)
    trained = None
    if phase != "forward":
        name = "separable" if kind == "separable" else kind
        forward = {name: (general, None), **{part: (stage, None) for part, stage in general.stages}}
        others = None
        if kind == "separable":
            other = in_output_symbols(cost(standard_layer, shape, phase="train",
                                           input_grad=input_grad))
            others = {"backward": (other.stages[1][1], None), "train": (other, None)}
        trained = training(phase, input_grad, [(name, layer, None)], (shape, None), forward,
                           others)
    return GeneralFormulas(kind, layer, output_sizes, general, separable_ratio, shape, trained)
