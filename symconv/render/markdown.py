r"""Markdown reports: tables a README or a notebook can show, formulas as ``$...$`` math.

Examples
--------
>>> from symconv.report.compare import compare
>>> report = render_comparison(compare((7, 7, 3), 64, (3, 3)))
>>> print(report.splitlines()[0])
**Symbols**
>>> print([line for line in report.splitlines() if line.startswith("**7")][0])
**7×7×3 → 5×5×64**: kernel 3×3 (stride 1, padding 0, dilation 1)
>>> print([line for line in report.splitlines() if "43200" in line][0])
| Standard convolution | multiplications | $H_{o} \cdot W_{o} \cdot k^{2} \cdot M \cdot N$ | 5 × 5 × 3 × 3 × 3 × 64 | 43200 |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy

from symconv.errors import escape_controls
from symconv.networks.rows import LayerRow
from symconv.render.catalogue import CATALOGUES, check_language, convention_text, message, reference_text
from symconv.render.formula import LATEX, formula, latex_name, substituted
from symconv.render.numbers import format_count, format_share
from symconv.render.text import (
    layer_name,
    legend_cells,
    setting_text,
    shape_text,
    signed_text,
    verification_rows,
    verification_summary,
    verification_title,
)
from symconv.report.compare import Comparison, RatioResult
from symconv.report.kinds import GeneralFormulas
from symconv.report.legend import Legend, comparison_legend, kind_legend

if TYPE_CHECKING:
    from symconv.networks.reconcile import ConventionComparison
    from symconv.report.analysis import NetworkReport
    from symconv.verify import Verification

__all__ = ["render_legend", "layers_table", "count_cell", "render_comparison", "render_kind", "render_verification", "render_network",
           "render_conventions", "table", "escape"]

_QUANTITIES = ("mults", "adds", "params")


#: Characters that Markdown reads as markup, and what stands for each: HTML's as entities, the
#: rest behind a backslash. ``|`` is escaped by :func:`table`, where it matters.
_MARKUP = {"&": "&amp;", "<": "&lt;", ">": "&gt;",
           **{char: "\\" + char for char in "\\`*_[]$~"}}


def escape(text: str) -> str:
    r"""A user's string (a layer's name, a model's path) as Markdown text that shows it as is.

    No HTML, emphasis, link, code span or math can start in it, and no newline can end a table
    row: control characters are written as their escapes (``\n``, ``\x1b``).

    Examples
    --------
    >>> print(escape("<img src=x onerror=alert(1)> *a_b* `c` [d](e)\n"))
    &lt;img src=x onerror=alert(1)&gt; \*a\_b\* \`c\` \[d\](e)\\n
    """
    return "".join(_MARKUP.get(char, char) for char in escape_controls(text))


def table(header: list[str], rows: list[list[str]]) -> str:
    r"""A Markdown table; ``|`` inside cells is escaped, and a control character (a newline
    would end the row) is written as its escape.

    Examples
    --------
    >>> print(table(["a", "b"], [["1", "x|y"]]))
    | a | b |
    |---|---|
    | 1 | x\|y |
    """
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(
            escape_controls(cell).replace("|", r"\|") for cell in cells
        ) + " |"

    return "\n".join([line(header), "|" + "---|" * len(header), *(line(row) for row in rows)])


def render_legend(legend: Legend, lang: str = "en") -> str:
    r"""The symbol legend as a Markdown table (symbol, meaning and, where known, value).

    Examples
    --------
    >>> from symconv.report.legend import conv_legend
    >>> print(render_legend(conv_legend((7, 7, 3), 64, (3, 3), output=(5, 5))[3:5]))
    **Symbols**
    <BLANKLINE>
    | symbol | meaning | value |
    |---|---|---|
    | $H, W$ | input height and width | 7, 7 |
    | $H_{o}, W_{o}$ | output height and width | 5, 5 |
    """
    header = [message("legend.symbol", lang), message("legend.meaning", lang)]
    valued = any(row.values is not None for row in legend)
    if valued:
        header.append(message("value", lang))
    rows = []
    for row in legend:
        cells = ["$" + " = ".join([", ".join(latex_name(name) for name in row.symbols),
                                   *(latex_name(name) for name in row.equals)]) + "$",
                 message(row.key, lang)]
        rows.append([*cells, legend_cells(row)[1]] if valued else cells)
    return f"**{message('legend.title', lang)}**\n\n" + table(header, rows)


def _math(expr: object) -> str:
    return f"${formula(expr, style=LATEX)}$"


def _ratio_row(label: str, result: RatioResult, values: dict) -> list[str]:
    terms = result.general.as_ordered_terms()
    if len(terms) > 1 and all(term.is_Pow or term.is_Mul or term.is_Symbol for term in terms):
        middle = " + ".join(formula(term.subs(values)) for term in terms)
    else:
        middle = substituted(result.general, values)
    return [label, _math(result.general), middle, f"{result.value} ≈ {float(result.value):.3g}"]


def render_comparison(result: Comparison, lang: str = "en") -> str:
    """The comparison as Markdown: a heading line, what is counted, and one table."""
    check_language(lang)
    kernel = shape_text(result.kernel)
    how = message("inferred" if result.kernel_inferred else "given", lang, kernel=kernel)
    bias = message("with_bias" if result.bias else "no_bias", lang)
    rows: list[list[str]] = []
    for stage in result.stages:
        name = message(stage.name, lang)
        for quantity in _QUANTITIES:
            value = str(getattr(stage.value, quantity))
            general = _math(getattr(stage.general, quantity))
            if stage.name == "separable":
                pieces = [piece for _, piece in stage.value.stages]
                product = " + ".join(str(getattr(piece, quantity)) for piece in pieces)
                general = " + ".join(  # in stage order, beside the stages' values
                    _math(getattr(piece, quantity)) for _, piece in stage.general.stages
                )
            else:
                product = substituted(getattr(stage.general, quantity), result.values)
            rows.append([name, message(quantity, lang), general, product, value])
    ratio_name = message("ratio", lang)
    rows.append([ratio_name, *_ratio_row(message("mults", lang), result.mults_ratio,
                                         result.values)])
    rows.append([ratio_name, *_ratio_row(message("params", lang), result.params_ratio,
                                         result.values)])
    rows += _phase_rows(result, lang)
    header = [message(key, lang) for key in ("stage", "quantity", "formula")]
    header += ["=", message("value", lang)]
    return "\n".join([
        render_legend(comparison_legend(result), lang),
        "",
        message("headline", lang,
                shapes=f"**{shape_text(result.input_shape)} → {shape_text(result.output_shape)}**",
                how=how, setting=setting_text(result, lang)),
        "",
        message("counting", lang, bias=bias),
        "",
        *_phase_notes(result, lang),
        table(header, rows),
    ]) + "\n"


def _phase_rows(report: Comparison | GeneralFormulas, lang: str) -> list[list[str]]:
    """The backward pass's and training step's rows (``--phase``), escaped."""
    if report.training is None:
        return []
    from symconv.render.phase import markdown_rows

    return [[cell if cell.startswith("$") else escape(cell) for cell in row]
            for row in markdown_rows(report, lang)]


def _phase_notes(report: Comparison | GeneralFormulas, lang: str) -> list[str]:
    """What the backward pass counts, before the table (``--phase``)."""
    if report.training is None:
        return []
    from symconv.render.phase import of

    notes = dict.fromkeys(note for section in of(report, lang) for note in section.notes)
    return [escape(note) + "\n" for note in notes]


def render_kind(general: GeneralFormulas, lang: str = "en") -> str:
    r"""The general formulas of one layer kind as a Markdown table.

    Examples
    --------
    >>> from symconv.report.kinds import derive_kind
    >>> print(render_kind(derive_kind("pointwise")).splitlines()[-1])
    | parameters | $M \cdot N$ |
    """
    check_language(lang)
    rows = [[f"${LATEX.name(symbol)}$", _math(size)] for symbol, size in general.output_sizes]
    for name, stage_cost in [*general.cost.stages, ("", general.cost)]:
        prefix = f"{message(name, lang)}: " if name else ""
        rows += [[prefix + message(quantity, lang), _math(getattr(stage_cost, quantity))]
                 for quantity in _QUANTITIES]
    if general.ratio is not None:
        rows.append([message("ratio", lang), _math(general.ratio)])
    rows += [[f"{row[0]}: {row[1]}", row[2]] for row in _phase_rows(general, lang)]
    notes = "".join(note + "\n" for note in _phase_notes(general, lang))
    return render_legend(kind_legend(general), lang) + f"\n\n`{layer_name(general)}`\n\n" + notes + table(
        [message("quantity", lang), message("formula", lang)], rows
    ) + "\n"


def render_verification(results: Sequence[Verification], lang: str = "en", seed: int = 0,
                        title: str | None = None, legend: Legend | None = None) -> str:
    """Counted against derived as a Markdown table, with what was run and the verdict, after
    the symbol ``legend`` when one is given."""
    header = [message(key, lang) for key in ("stage", "quantity", "counted", "derived", "match")]
    rows = [[escape(cell) for cell in row] for row in verification_rows(results, lang)]
    return "\n\n".join([
        *([render_legend(legend, lang)] if legend else []),
        verification_title(results, lang, seed, None if title is None else escape(title)),
        table(header, rows),
        f"**{verification_summary(results, lang)}**",
    ]) + "\n"


def count_cell(value: object, units: str = "exact") -> str:
    """A count in a table: its digits (in ``units``), or a formula as ``$...$`` math."""
    if isinstance(value, sympy.Basic) and not value.is_Number:
        return _math(value)
    return format_count(value, units)


def layers_table(layers: Sequence[LayerRow], lang: str = "en", *, units: str = "exact",
                 total: LayerRow | None = None, convention: str | None = None,
                 counts: Sequence[object] = (), shares: Sequence[object] = ()) -> str:
    r"""One row per layer (name, kind, input, output, mults, adds, params, and the convention's
    count and share where given), then the ``total`` row: the one table of ``--format
    markdown`` and of a notebook's ``_repr_markdown_``.

    Examples
    --------
    >>> from symconv import DepthwiseSeparableConv2d, cost
    >>> from symconv.networks.rows import LayerRow, rows
    >>> result = cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    >>> print(layers_table(rows(result), total=LayerRow.of("**total**", result)))
    | layer | kind | input | output | multiplications | additions | parameters |
    |---|---|---|---|---|---|---|
    | depthwise | depthwise | 7×7×3 | 5×5×3 | 675 | 600 | 27 |
    | pointwise | pointwise | 5×5×3 | 5×5×64 | 4800 | 3200 | 192 |
    | **total** | separable | 7×7×3 | 5×5×64 | 5475 | 3800 | 219 |
    """
    header = [message(key, lang) for key in
              ("layer", "kind", "input", "output", "mults", "adds", "params")]
    if convention is not None:
        header += [message(convention, lang) if convention in CATALOGUES["en"] else convention,
                   message("share", lang)]
    body = []
    for index, row in enumerate([*layers, *([total] if total is not None else [])]):
        name = row.name if row is total else escape(row.name)
        cells = [name, escape(row.kind), shape_text(row.input_shape), shape_text(row.output_shape),
                 *(count_cell(getattr(row, quantity), units) for quantity in _QUANTITIES)]
        if convention is not None:
            inside = index < len(layers)
            cells += [count_cell(counts[index], units) if inside else "",
                      format_share(shares[index]) if inside else ""]
        body.append(cells)
    return table(header, body)


def render_network(report: NetworkReport, lang: str = "en", units: str = "exact") -> str:
    """A network's totals (formula and value) and, if asked, one table row per layer."""
    check_language(lang)
    lines = [
        message("labelled", lang, label=f"**{escape(report.title)}**",
                text=message("net.input", lang, shape=shape_text(report.input_shape))),
        "",
        message("net.convention", lang, name=report.convention, description=convention_text(report.convention, report.description, lang)),
        "",
    ]
    labels = {name: message(name, lang) if name in CATALOGUES["en"] else name
              for name in report.totals}
    if report.symbolic:
        at = message("net.at", lang, point=reference_text(report.reference, lang))
        lines.append(table(
            [message("quantity", lang), message("formula", lang), at],
            [[labels[name], _math(total.formula), format_count(total.value, units)]
             for name, total in report.totals.items()],
        ))
        lines += ["", message("net.exact", lang)]
    else:
        lines.append(table(
            [message("quantity", lang), message("value", lang)],
            [[labels[name], format_count(total.value, units)]
             for name, total in report.totals.items()],
        ))
    if report.layers:
        lines += ["", layers_table(report.layers, lang, units=units,
                                   convention=report.convention if report.counts else None,
                                   counts=report.counts, shares=report.shares)]
    return "\n".join(lines) + "\n"


def render_conventions(comparison: ConventionComparison, lang: str = "en") -> str:
    r"""Every convention's total in one table (convention, value, what it counts), then, for
    each convention that counts some kind of layer differently from the baseline, a table of
    those kinds with both counts and the rule that makes the difference (the rules quote the
    tools' sources, in English).

    Examples
    --------
    >>> from symconv.networks.reconcile import compare_conventions
    >>> from symconv.networks.zoo import mobilenet_v1
    >>> text = render_conventions(compare_conventions("MobileNet V1", mobilenet_v1()))
    >>> print("\n".join(text.splitlines()[:5]))
    **MobileNet V1: input 224×224×3, every convention, differences from macs by kind of layer**
    <BLANKLINE>
    | convention | value | what it counts |
    |---|---|---|
    | macs | 568740352 | Multiply-accumulates of convolutions and linear layers only, biases excluded (MobileNet papers). |
    >>> print("\n".join(line for line in text.splitlines() if line.startswith("**thop")))
    **thop = macs + 20221952**
    >>> row = [line for line in text.splitlines() if line.startswith("| globalavgpool | 51200")][0]
    >>> row.split(" | ")[:4], row.split(" | ")[4].split(":")[0]
    (['| globalavgpool', '51200', '0', '+ 51200'], 'count_adap_avgpool')
    """
    check_language(lang)
    base = comparison.line(comparison.baseline)
    title = message("conventions.title", lang, title=escape(comparison.title),
                    shape=shape_text(comparison.input_shape), baseline=comparison.baseline)
    parts = [f"**{title}**", table(
        [message(key, lang) for key in ("conventions.convention", "value",
                                        "conventions.description")],
        [[line.name, str(line.value), line.description] for line in comparison.lines],
    )]
    for line in comparison.lines:
        if not line.differences:
            continue
        parts.append(f"**{line.name} = {comparison.baseline} {signed_text(line.value - base.value)}**")
        parts.append(table(
            [message("kind", lang), line.name, comparison.baseline,
             message("conventions.difference", lang), message("conventions.reason", lang)],
            [[escape(d.kind), str(d.value), str(d.baseline), signed_text(d.value - d.baseline), d.reason]
             for d in line.differences],
        ))
    return "\n\n".join(parts) + "\n"
