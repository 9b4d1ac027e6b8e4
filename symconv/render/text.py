"""The plain-text report: the arithmetic of every stage written the way a student writes it.

Examples
--------
>>> from symconv.report.compare import compare
>>> print(render_comparison(compare((7, 7, 3), 64, (3, 3), kernel_inferred=True)))
Symbols
  M = 3                input channels
  N = 64               output channels
  k = 3                kernel size (k×k)
  H, W = 7, 7          input height and width
  H_o, W_o = 5, 5      output height and width
  s, p, d = 1, 0, 1    stride, padding, dilation
  D_K = k = 3          kernel size, as the MobileNet paper writes it
  D_F = H_o = W_o = 5  feature-map size, as the MobileNet paper writes it (square maps)
<BLANKLINE>
7×7×3 → 5×5×64: kernel 3×3 inferred (stride 1, padding 0, dilation 1)
Output size  H_o = ⌊(H − d·(k − 1) + 2·p − 1)/s⌋ + 1 = ⌊(7 − 1 × (3 − 1) + 2 × 0 − 1)/1⌋ + 1 = 5
             W_o = ⌊(W − d·(k − 1) + 2·p − 1)/s⌋ + 1 = ⌊(7 − 1 × (3 − 1) + 2 × 0 − 1)/1⌋ + 1 = 5
Counted: scalar multiplications and additions of a direct evaluation (no Winograd or FFT); parameters are weights (no biases).
<BLANKLINE>
Standard convolution (64 kernels of 3×3×3)
  multiplications  H_o·W_o·k²·M·N       = 5 × 5 × 3 × 3 × 3 × 64       = 43200
  additions        H_o·W_o·N·(k²·M − 1) = 5 × 5 × 64 × (3 × 3 × 3 − 1) = 41600
  parameters       k²·M·N               = 3 × 3 × 3 × 64               = 1728
Depthwise stage (3 kernels of 3×3×1, one per channel)
  multiplications  H_o·W_o·k²·M       = 5 × 5 × 3 × 3 × 3       = 675
  additions        H_o·W_o·M·(k² − 1) = 5 × 5 × 3 × (3 × 3 − 1) = 600
  parameters       k²·M               = 3 × 3 × 3               = 27
Pointwise stage (64 kernels of 1×1×3)
  multiplications  H_o·W_o·M·N       = 5 × 5 × 3 × 64       = 4800
  additions        H_o·W_o·N·(M − 1) = 5 × 5 × 64 × (3 − 1) = 3200
  parameters       M·N               = 3 × 64               = 192
Depthwise separable convolution (depthwise then pointwise)
  multiplications  675 + 4800 = 5475
  additions        600 + 3200 = 3800
  parameters       27 + 192   = 219
Separable / standard
  multiplications  1/k² + 1/N = 1/9 + 1/64 = 73/576 ≈ 0.127 (7.9× fewer)
  parameters       1/k² + 1/N = 1/9 + 1/64 = 73/576 ≈ 0.127 (7.9× fewer)
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy

from symconv.derive import Cost
from symconv.errors import escape_controls
from symconv.render.catalogue import CATALOGUES, convention_text, message, reference_text
from symconv.render.formula import formula, substituted
from symconv.render.numbers import format_count, format_share
from symconv.report.compare import Comparison, RatioResult
from symconv.report.kinds import GeneralFormulas
from symconv.report.legend import Legend, LegendRow, comparison_legend, kind_legend

if TYPE_CHECKING:
    from symconv.networks.reconcile import ConventionComparison
    from symconv.report.analysis import NetworkReport
    from symconv.verify import Verification

__all__ = ["escape", "render_legend", "legend_cells", "render_comparison", "shape_text", "axes_text", "setting_text",
           "display_width", "render_kind", "layer_name", "render_verification", "verification_rows", "verification_summary",
           "verification_title", "render_network", "network_rows", "network_header", "count_text",
           "render_conventions"]

_QUANTITIES = ("mults", "adds", "params")


def escape(text: str) -> str:
    r"""A user's string (a layer's name, a model's path) as a terminal should show it: control
    characters, newlines and ANSI escape sequences written as their escapes, never raw.

    Examples
    --------
    >>> print(escape("conv\n\x1b[31m1"))
    conv\n\x1b[31m1
    """
    return escape_controls(text)


def shape_text(shape: tuple[object, ...]) -> str:
    """``7×7×3``; symbolic sizes as formulas (``224·ρ×224·ρ×3``)."""
    return "×".join(formula(size) if isinstance(size, sympy.Expr) else str(size) for size in shape)


def axes_text(values: tuple[int, ...]) -> str:
    """One value when all axes agree (``1``), else ``2×1``."""
    return str(values[0]) if len(set(values)) == 1 else shape_text(values)


def setting_text(result: Comparison, lang: str = "en") -> str:
    """``stride 1, padding 0, dilation 1``."""
    return message(
        "setting", lang, stride=axes_text(result.stride), padding=axes_text(result.padding),
        dilation=axes_text(result.dilation),
    )


def display_width(text: str) -> int:
    """Columns a string takes in a terminal: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def _aligned(rows: list[tuple[str, ...]], label_width: int) -> list[str]:
    """Rows of (label, part, part, ...), columns padded and joined with ``=`` signs."""
    columns = max(len(row) for row in rows)
    widths = [max(display_width(row[i]) for row in rows if len(row) > i) for i in range(columns)]
    lines = []
    for label, *parts in rows:
        cells = [_pad(part, widths[index + 1]) for index, part in enumerate(parts[:-1])]
        lines.append(f"  {_pad(label, label_width)}  " + " = ".join([*cells, parts[-1]]))
    return lines


def legend_cells(row: LegendRow) -> tuple[str, str]:
    """A legend row's symbols (with their other names) and values as text:
    ``("H_o, W_o", "5, 5")``, ``("D_K = k", "3")``; no values ``""``."""
    values = "" if row.values is None else ", ".join(str(value) for value in row.values)
    return " = ".join([", ".join(row.symbols), *row.equals]), values


def render_legend(legend: Legend, lang: str = "en") -> str:
    """The symbol legend as text: ``M = 3`` and what it stands for, one row per line.

    Examples
    --------
    >>> from symconv.report.legend import conv_legend
    >>> print(render_legend(conv_legend((7, 7, 3), 64, (3, 3), output=(5, 5))[:3]))
    Symbols
      M = 3   input channels
      N = 64  output channels
      k = 3   kernel size (k×k)
    """
    cells = []
    for row in legend:
        symbols, values = legend_cells(row)
        cells.append((f"{symbols} = {values}" if values else symbols, message(row.key, lang)))
    width = max(display_width(left) for left, _ in cells)
    return "\n".join([message("legend.title", lang),
                      *(f"  {_pad(left, width)}  {meaning}" for left, meaning in cells)])


def _ratio_parts(result: RatioResult, values: dict[sympy.Symbol, int],
                 lang: str) -> tuple[str, ...]:
    terms = result.general.as_ordered_terms()
    if len(terms) > 1 and all(term.is_Pow or term.is_Mul or term.is_Symbol for term in terms):
        middle = " + ".join(formula(term.subs(values)) for term in terms)
    else:
        middle = substituted(result.general, values)
    value = result.value
    shown = f"{value} ≈ {float(value):.3g}"
    if value < 1:
        shown = message("aside", lang, main=shown,
                        aside=message("fewer", lang, factor=f"{float(1 / value):.1f}"))
    return (formula(result.general), middle, shown)


def render_comparison(result: Comparison, lang: str = "en") -> str:
    """The text report of :func:`symconv.report.compare.compare`, in English or Chinese."""
    kernel = shape_text(result.kernel)
    how = message("inferred" if result.kernel_inferred else "given", lang, kernel=kernel)
    lines = [
        render_legend(comparison_legend(result), lang),
        "",
        message("headline", lang,
                shapes=f"{shape_text(result.input_shape)} → {shape_text(result.output_shape)}",
                how=how, setting=setting_text(result, lang))
    ]
    label = message("output_size", lang)
    for index, (size_formula, symbol) in enumerate(
        zip(result.output_size_formulas, ("H_o", "W_o"))
    ):
        prefix = label if index == 0 else " " * display_width(label)
        lines.append(
            f"{prefix}  {symbol} = {formula(size_formula)} = "
            f"{substituted(size_formula, result.values)} = {result.output_shape[index]}"
        )
    bias = message("with_bias" if result.bias else "no_bias", lang)
    lines.append(message("counting", lang, bias=bias))
    lines.append("")
    label_width = max(display_width(message(quantity, lang)) for quantity in _QUANTITIES)
    sizes = {"N": result.output_shape[2], "M": result.input_shape[2], "k": kernel}
    for stage in result.stages:
        detail = message(stage.name + ".detail", lang, **sizes)
        lines.append(message("aside", lang, main=message(stage.name, lang), aside=detail))
        rows: list[tuple[str, ...]]
        if stage.name == "separable":
            parts = [part for _, part in stage.value.stages]
            rows = [
                (
                    message(quantity, lang),
                    " + ".join(str(getattr(part, quantity)) for part in parts),
                    str(getattr(stage.value, quantity)),
                )
                for quantity in _QUANTITIES
            ]
        else:
            rows = [
                (
                    message(quantity, lang),
                    formula(getattr(stage.general, quantity)),
                    substituted(getattr(stage.general, quantity), result.values),
                    str(getattr(stage.value, quantity)),
                )
                for quantity in _QUANTITIES
            ]
        lines.extend(_aligned(rows, label_width))
    lines.append(message("ratio", lang))
    lines.extend(_aligned(
        [
            (message("mults", lang), *_ratio_parts(result.mults_ratio, result.values, lang)),
            (message("params", lang), *_ratio_parts(result.params_ratio, result.values, lang)),
        ],
        label_width,
    ))
    return "\n".join(lines) + _phase_text(result, lang)


def _phase_text(report: Comparison | GeneralFormulas, lang: str) -> str:
    """The backward pass and training step, after the forward report (``--phase``)."""
    return "" if report.training is None else phase_text(report, lang)


def phase_text(report: Comparison | GeneralFormulas, lang: str = "en") -> str:
    """The phase sections as text ("" for the forward pass)."""
    from symconv.render.phase import middle, of, ratio_cells

    values = report.values if isinstance(report, Comparison) else None
    out: list[str] = []
    for section in of(report, lang):
        out += ["", section.title, *section.notes]
        for block in section.blocks:
            out += [block.title] if block.title else []
            width = max(display_width(line.group) for line in block.lines)
            rows: list[tuple[str, ...]] = []
            previous = None
            for line in block.lines:
                group = line.group if line.group != previous else ""
                previous = line.group
                label = f"{_pad(group, width)}  {line.quantity}"
                cells = [formula(line.general)]
                between = middle(line, values)
                if between is not None:
                    cells += [between, str(line.value)]
                rows.append((label, *cells))
            out += _aligned(rows, max(display_width(row[0]) for row in rows))
        for title, ratio_lines in section.ratios:
            out.append(title)
            width = max(display_width(line.label) for line in ratio_lines)
            out += _aligned([(line.label, *ratio_cells(line.ratio, values))
                             for line in ratio_lines], width)
    return "\n".join(out)


def render_kind(general: GeneralFormulas, lang: str = "en") -> str:
    """The general formulas of one layer kind, as text.

    Examples
    --------
    >>> from symconv.report.kinds import derive_kind
    >>> print(render_kind(derive_kind("pointwise")))
    Symbols
      M         input channels
      N         output channels
      H, W      input height and width
      H_o, W_o  output height and width
    <BLANKLINE>
    PointwiseConv2d on H×W×M
      output size      H_o = H, W_o = W
      multiplications  H·W·M·N
      additions        H·W·N·(M − 1)
      parameters       M·N
    """
    label_width = max(
        display_width(message(name, lang)) for name in (*_QUANTITIES, "output_size")
    )
    sizes = ", ".join(f"{symbol} = {formula(size)}" for symbol, size in general.output_sizes)
    lines = [render_legend(kind_legend(general), lang), "",
             f"{layer_name(general)} on {shape_text(general.input_shape)}",
             f"  {_pad(message('output_size', lang).lower(), label_width)}  {sizes}"]
    blocks: list[tuple[str, Cost]] = [("", general.cost)]
    blocks = [*((name, stage) for name, stage in general.cost.stages), *blocks]
    for name, stage_cost in blocks:
        indent = "  "
        if general.cost.stages:
            title = message(name, lang) if name else message("total", lang)
            lines.append(f"  {title}")
            indent = "    "
        for quantity in _QUANTITIES:
            lines.append(
                f"{indent}{_pad(message(quantity, lang), label_width)}  "
                f"{formula(getattr(stage_cost, quantity))}"
            )
    if general.ratio is not None:
        label = message("aside", lang, main=message("ratio", lang), aside=message("mults", lang))
        lines.append("  " + message("labelled", lang, label=label, text=formula(general.ratio)))
    return "\n".join(lines) + _phase_text(general, lang)


def layer_name(general: GeneralFormulas) -> str:
    """A derived layer's short name: its class (``Conv3d``), or its stages' (``Conv3d + Conv3d``).

    Examples
    --------
    >>> from symconv.report.kinds import derive_kind
    >>> layer_name(derive_kind("grouped", dims=3)), layer_name(derive_kind("separable", dims=1))
    ('Conv3d', 'Conv1d + Conv1d')
    """
    stages = getattr(general.layer, "stages", None)
    if type(general.layer).__name__ == "Sequential" and stages:
        return " + ".join(type(stage).__name__ for _, stage in stages)
    return type(general.layer).__name__


#: The stage names of a convolution's check, translated (a network's stages are its layers'
#: names, the user's, and stay as they are).
_STAGES = ("standard", "depthwise", "pointwise")


_CONVOLUTIONS = ("Conv2d", "DepthwiseConv2d", "PointwiseConv2d", "DepthwiseSeparableConv2d")


def _stage_name(name: str, lang: str, layer: object) -> str:
    """``standard`` in English, ``标准卷积`` in Chinese."""
    if lang != "en" and name in _STAGES and type(layer).__name__ in _CONVOLUTIONS:
        return message(name, lang)
    return name


def verification_rows(results: Sequence[Verification], lang: str) -> list[list[str]]:
    """One row per stage and count: stage, quantity, counted, formula, match."""
    rows = []
    for result in results:
        for stage in result.stages:
            name = _stage_name(stage.name, lang, result.layer)
            for kind, counted in stage.counted.items():
                derived = stage.formula[kind]
                rows.append([name, message(kind, lang), str(counted), str(derived),
                             message("yes" if counted == derived else "no", lang)])
                name = ""
            same = stage.counted_shape == stage.formula_shape
            rows.append(["", message("output_shape", lang), shape_text(stage.counted_shape),
                         shape_text(stage.formula_shape), message("yes" if same else "no", lang)])
    return rows


def verification_summary(results: Sequence[Verification], lang: str) -> str:
    """``All 3 stages match their formulas.`` or how many do not."""
    stages = [stage for result in results for stage in result.stages]
    failed = sum(not stage.match for stage in stages)
    if failed or not all(result.ok for result in results):
        return message("mismatch", lang, count=failed, total=len(stages))
    return message("all_match", lang, count=len(stages))


def verification_title(results: Sequence[Verification], lang: str, seed: int = 0,
                       title: str | None = None) -> str:
    """What was run: the layers (or ``title``), the input shape and the seed."""
    layers = title or " + ".join(type(result.layer).__name__ for result in results)
    return message("verify.title", lang, layer=layers, shape=shape_text(results[0].input_shape),
                   seed=seed)


def render_verification(results: Sequence[Verification], lang: str = "en", seed: int = 0,
                        title: str | None = None, legend: Legend | None = None) -> str:
    """Counted against derived, stage by stage, as an aligned text table, after the symbol
    ``legend`` when one is given.

    Examples
    --------
    >>> from symconv import PointwiseConv2d, verify
    >>> print(render_verification([verify(PointwiseConv2d(3, 64), (5, 5, 3))]))
    Verification: PointwiseConv2d on 5×5×3, executed with NumPy (float64, seed 0); operations counted
    while running (fast executor: per NumPy operation, from the shapes involved)
    stage      quantity         counted  formula  match
    pointwise  multiplications  4800     4800     yes
               additions        3200     3200     yes
               output shape     5×5×64   5×5×64   yes
    All 1 stages match their formulas.
    """
    header = [message(key, lang) for key in ("stage", "quantity", "counted", "derived", "match")]
    rows = [[escape(cell) for cell in row] for row in [header, *verification_rows(results, lang)]]
    widths = [max(display_width(row[column]) for row in rows) for column in range(len(header))]
    lines = [render_legend(legend, lang), ""] if legend else []
    lines.append(escape(verification_title(results, lang, seed, title)))
    for row in rows:
        cells = [_pad(cell, width) for cell, width in zip(row[:-1], widths)]
        lines.append("  ".join([*cells, row[-1]]))
    lines.append(verification_summary(results, lang))
    return "\n".join(lines)


def _quantity_label(name: str, lang: str) -> str:
    return message(name, lang) if name in CATALOGUES["en"] else name


def count_text(value: object, units: str = "exact") -> str:
    """A count as text: exact digits, ``568,740,352`` or ``568.74 M`` (``units``); a formula
    written as :func:`formula` writes it."""
    if isinstance(value, sympy.Basic) and not value.is_Number:
        return formula(value)
    return format_count(value, units)


def network_rows(report: NetworkReport, lang: str, units: str = "exact") -> list[list[str]]:
    """One row per layer: name, kind, input, output, mults, adds, params, and, where the report
    has them, the convention's count and its share of the total."""
    cells = []
    for index, row in enumerate(report.layers):
        line = [row.name, row.kind, shape_text(row.input_shape), shape_text(row.output_shape),
                *(count_text(getattr(row, name), units) for name in ("mults", "adds", "params"))]
        if report.counts:
            line += [count_text(report.counts[index], units), format_share(report.shares[index])]
        cells.append(line)
    return cells


def network_header(lang: str, report: NetworkReport | None = None) -> list[str]:
    """The header of :func:`network_rows` (of ``report``'s, with its convention's columns)."""
    header = [message(key, lang) for key in
              ("layer", "kind", "input", "output", "mults", "adds", "params")]
    if report is not None and report.counts:
        header += [_quantity_label(report.convention, lang), message("share", lang)]
    return header


def render_network(report: NetworkReport, lang: str = "en", units: str = "exact") -> str:
    """A network's totals under a convention, formula beside value, and its layers if asked.

    Examples
    --------
    >>> from symconv.report.analysis import analyse_zoo
    >>> print(render_network(analyse_zoo("mobilenet_v1", alpha="1", resolution="224")))
    MobileNet V1: input 224×224×3
    Convention macs: Multiply-accumulates of convolutions and linear layers only, biases excluded (MobileNet papers).
      MACs             568740352
      multiplications  573783040
      additions        568789504
      divisions        1024
      comparisons      5042688
      parameters       4231976
    """
    lines = [message("labelled", lang, label=escape(report.title),
                     text=message("net.input", lang, shape=shape_text(report.input_shape))),
             message("net.convention", lang, name=report.convention,
                     description=convention_text(report.convention, report.description, lang))]
    labels = {name: _quantity_label(name, lang) for name in report.totals}
    width = max(display_width(label) for label in labels.values())
    if report.symbolic:
        formulas = {name: formula(total.formula) for name, total in report.totals.items()}
        formula_width = max(display_width(text) for text in formulas.values())
        at = message("net.at", lang, point=reference_text(report.reference, lang))
        lines.append(f"  {_pad('', width)}  {_pad('', formula_width)}  {at}")
        for name, total in report.totals.items():
            lines.append(f"  {_pad(labels[name], width)}  {_pad(formulas[name], formula_width)}  "
                         f"{format_count(total.value, units)}")
        lines.append(message("net.exact", lang))
    else:
        for name, total in report.totals.items():
            lines.append(f"  {_pad(labels[name], width)}  {format_count(total.value, units)}")
    if report.layers:
        table = [network_header(lang, report),
                 *([escape(name), escape(kind), *rest] for name, kind, *rest in
                   network_rows(report, lang, units))]
        widths = [max(display_width(row[column]) for row in table)
                  for column in range(len(table[0]))]
        lines.append("")
        for row in table:
            lines.append("  ".join(
                _pad(cell, widths[index]) if index < 4 else " " * (widths[index] - display_width(cell)) + cell
                for index, cell in enumerate(row)
            ).rstrip())
    return "\n".join(lines)


def render_conventions(comparison: ConventionComparison, lang: str = "en") -> str:
    """Every convention's total side by side, then, for each, the kinds of layer it counts
    differently from the baseline and the rule that makes the difference (the rules quote the
    tools' sources, in English).

    Examples
    --------
    >>> from symconv.networks.reconcile import compare_conventions
    >>> from symconv.networks.zoo import mobilenet_v1
    >>> text = render_conventions(compare_conventions("MobileNet V1", mobilenet_v1()))
    >>> print(text.splitlines()[0])
    MobileNet V1: input 224×224×3, every convention, differences from macs by kind of layer
    >>> print("\\n".join(line for line in text.splitlines() if line.startswith("thop")))
    thop = macs + 20221952:
    """
    base = comparison.line(comparison.baseline)
    lines = [message("conventions.title", lang, title=escape(comparison.title),
                     shape=shape_text(comparison.input_shape), baseline=comparison.baseline)]
    name_width = max(display_width(line.name) for line in comparison.lines)
    value_width = max(len(str(line.value)) for line in comparison.lines)
    for line in comparison.lines:
        lines.append(f"  {_pad(line.name, name_width)}  {str(line.value).rjust(value_width)}  "
                     f"{line.description}")
    for line in comparison.lines:
        if not line.differences:
            continue
        lines.extend(["", f"{line.name} = {comparison.baseline} {signed_text(line.value - base.value)}:"])
        kind_width = max(display_width(escape(d.kind)) for d in line.differences)
        change_width = max(len(signed_text(d.value - d.baseline)) for d in line.differences)
        for difference in line.differences:
            lines.append(f"  {_pad(escape(difference.kind), kind_width)}  "
                         f"{signed_text(difference.value - difference.baseline).rjust(change_width)}  "
                         f"{difference.reason}")
    return "\n".join(lines)


def signed_text(value: int) -> str:
    """``+ 5`` or ``− 5``: a difference written for a reader.

    Examples
    --------
    >>> signed_text(5), signed_text(-5)
    ('+ 5', '− 5')
    """
    return f"+ {value}" if value >= 0 else f"− {-value}"
