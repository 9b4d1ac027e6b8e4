"""A standard convolution against its depthwise separable twin: the founding example as data.

:func:`compare` derives both layers twice — once with symbols (the general formulas, written in
``H_o, W_o`` once the output sizes are known) and once with the concrete sizes (the values) — and
the ratios of the two. Renderers (:mod:`symconv.render`) turn a :class:`Comparison` into text,
Markdown, LaTeX or JSON.

Examples
--------
>>> result = compare((7, 7, 3), 64, (3, 3))
>>> result.stage("standard").general.mults
H_o*M*N*W_o*k**2
>>> result.stage("standard").value.mults, result.stage("separable").value.mults
(43200, 5475)
>>> result.mults_ratio.general, result.mults_ratio.value
(k**(-2) + 1/N, 73/576)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

from symconv import symbols as sym
from symconv.derive import Cost, conv_output_size, cost, in_output_symbols, ratio
from symconv.layers import Conv2d, DepthwiseSeparableConv2d

if TYPE_CHECKING:
    from symconv.report.phase import Training

__all__ = ["StageCosts", "RatioResult", "Comparison", "compare", "STAGE_NAMES"]

#: The stages of a comparison, in report order.
STAGE_NAMES = ("standard", "depthwise", "pointwise", "separable")


@dataclass(frozen=True)
class StageCosts:
    """One stage's general formulas and its values for the concrete shape."""

    name: str
    general: Cost
    value: Cost


@dataclass(frozen=True)
class RatioResult:
    """Separable over standard: the simplified general ratio and its exact value."""

    general: sympy.Expr
    value: sympy.Rational

    @property
    def terms(self) -> tuple[sympy.Expr, ...]:
        """The terms of the general ratio (``1/N`` and ``1/k**2``), for a report."""
        return sympy.Add.make_args(self.general)


@dataclass(frozen=True)
class Comparison:
    """Everything a report of the founding example shows."""

    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    bias: bool
    kernel_inferred: bool
    stages: tuple[StageCosts, ...]
    mults_ratio: RatioResult
    params_ratio: RatioResult
    values: dict[sympy.Symbol, int]
    output_size_formulas: tuple[sympy.Expr, sympy.Expr]
    #: With ``phase="backward"`` or ``"train"``: the backward pass and training step
    #: (:mod:`symconv.report.phase`); ``None`` for the forward pass.
    training: Training | None = None

    def stage(self, name: str) -> StageCosts:
        """The stage called ``name`` (one of :data:`STAGE_NAMES`)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


def _per_axis_symbols(
    values: tuple[int, int], shared: sympy.Symbol, height: sympy.Symbol, width: sympy.Symbol
) -> tuple[tuple[sympy.Symbol, sympy.Symbol], dict[sympy.Symbol, int]]:
    if values[0] == values[1]:
        return (shared, shared), {shared: values[0]}
    return (height, width), {height: values[0], width: values[1]}


def compare(
    input_shape: tuple[int, int, int],
    out_channels: int,
    kernel: tuple[int, int],
    *,
    stride: tuple[int, int] = (1, 1),
    padding: tuple[int, int] = (0, 0),
    dilation: tuple[int, int] = (1, 1),
    bias: bool = False,
    kernel_inferred: bool = False,
    phase: str = "forward",
    input_grad: bool = True,
) -> Comparison:
    """Derive the standard and the depthwise separable convolution for one concrete shape.

    Parameters
    ----------
    input_shape
        ``(H, W, M)``, channels last.
    out_channels
        ``N``.
    kernel, stride, padding, dilation
        One value per spatial axis; a square setting is written with one symbol (``k``), a
        rectangular one with two (``k_h, k_w``).
    bias
        Whether each convolution has a bias.
    kernel_inferred
        Recorded for the report: whether the kernel came from the output size.
    phase, input_grad
        ``"backward"`` or ``"train"`` add the backward pass (and the training step) of every
        stage (:mod:`symconv.report.phase`); ``input_grad=False`` takes the layer to be a
        network's first, whose input needs no gradient (the default: a layer inside a network).
    """
    from symconv.report.phase import check_phase

    check_phase(phase, input_grad)
    height, width, channels = input_shape
    kernel_symbols, values = _per_axis_symbols(kernel, sym.k, sym.k_h, sym.k_w)
    stride_symbols, stride_values = _per_axis_symbols(stride, sym.s, sym.s_h, sym.s_w)
    padding_symbols, padding_values = _per_axis_symbols(padding, sym.p, sym.p_h, sym.p_w)
    dilation_symbols, dilation_values = _per_axis_symbols(dilation, sym.d, sym.d_h, sym.d_w)
    values.update(stride_values)
    values.update(padding_values)
    values.update(dilation_values)
    values.update({sym.H: height, sym.W: width, sym.M: channels, sym.N: out_channels})
    symbolic_args = (kernel_symbols, stride_symbols, padding_symbols, dilation_symbols)
    concrete_args = (kernel, stride, padding, dilation)
    symbolic_shape = (sym.H, sym.W, sym.M)

    layers = [("standard", Conv2d(sym.M, sym.N, *symbolic_args, bias=bias),
               Conv2d(channels, out_channels, *concrete_args, bias=bias)),
              ("separable", DepthwiseSeparableConv2d(sym.M, sym.N, *symbolic_args, bias=bias),
               DepthwiseSeparableConv2d(channels, out_channels, *concrete_args, bias=bias))]
    standard = in_output_symbols(cost(layers[0][1], symbolic_shape))
    separable = in_output_symbols(cost(layers[1][1], symbolic_shape))
    standard_value = cost(layers[0][2], input_shape)
    separable_value = cost(layers[1][2], input_shape)
    out_height, out_width, _ = (int(size) for size in standard_value.output_shape)
    values.update({sym.H_o: out_height, sym.W_o: out_width})

    stages = [StageCosts("standard", standard, standard_value)]
    for (name, general), (_, value) in zip(separable.stages, separable_value.stages):
        stages.append(StageCosts(name, general, value))
    stages.append(StageCosts("separable", separable, separable_value))

    output_size_formulas = (
        conv_output_size(sym.H, kernel_symbols[0], stride_symbols[0], padding_symbols[0],
                         dilation_symbols[0]),
        conv_output_size(sym.W, kernel_symbols[1], stride_symbols[1], padding_symbols[1],
                         dilation_symbols[1]),
    )
    trained = None
    if phase != "forward":
        from symconv.report.phase import training

        forward = {stage.name: (stage.general, stage.value) for stage in stages}
        trained = training(phase, input_grad, layers, (symbolic_shape, input_shape), forward)
    return Comparison(
        input_shape=input_shape,
        output_shape=(out_height, out_width, out_channels),
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=bias,
        kernel_inferred=kernel_inferred,
        stages=tuple(stages),
        mults_ratio=RatioResult(
            ratio(separable.mults, standard.mults),
            ratio(separable_value.mults, standard_value.mults),
        ),
        params_ratio=RatioResult(
            ratio(separable.params, standard.params),
            ratio(separable_value.params, standard_value.params),
        ),
        values=values,
        output_size_formulas=output_size_formulas,
        training=trained,
    )
