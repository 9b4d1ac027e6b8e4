"""HTML reports: one self-contained page, math as MathML from SymPy's printer, diagrams inline.

:func:`render_report` writes ``symconv report --format html``: the homework answered in one
document (:mod:`symconv.report.homework`). The page loads nothing and runs nothing: no script,
no stylesheet, font or image from elsewhere (a ``Content-Security-Policy`` says so to the
browser), so it opens the same offline, from a mail or from a course's file server. Formulas are
presentation MathML (``sympy.printing.mathml``), which browsers lay out natively; the diagrams
are the SVG files :func:`symconv.render.diagram.stage_images` draws, inlined with their ids made
unique per figure.

The arithmetic of a substitution (``5 × 5 × 3 × 3 × 3 × 64``) is written by
:func:`symconv.render.formula.substituted`, unevaluated, and turned into MathML tokens here: SymPy
would evaluate it.

Examples
--------
>>> from symconv.report.compare import compare
>>> page = render_comparison(compare((7, 7, 3), 64, (3, 3)))
>>> page.startswith("<!DOCTYPE html>"), "<script" in page, page.count("<math")
(True, False, 48)
>>> print(arithmetic("5 × 5 × (3 − 1)"))
<mrow><mn>5</mn><mo>×</mo><mn>5</mn><mo>×</mo><mo>(</mo><mn>3</mn><mo>−</mo><mn>1</mn><mo>)</mo></mrow>
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import sympy
from sympy.printing.mathml import mathml

from symconv.render.catalogue import check_language, message
from symconv.render.formula import substituted
from symconv.render.text import (
    layer_name,
    legend_cells,
    setting_text,
    shape_text,
    verification_rows,
    verification_summary,
    verification_title,
)
from symconv.report.compare import Comparison, RatioResult
from symconv.report.kinds import GeneralFormulas
from symconv.report.legend import Legend, comparison_legend, kind_legend

if TYPE_CHECKING:
    from symconv.report.homework import Homework
    from symconv.verify import Verification

__all__ = ["render_report", "render_comparison", "render_kind", "render_verification", "render_legend",
           "arithmetic", "math", "inline_svg"]

_QUANTITIES = ("mults", "adds", "params")

#: The page may load nothing and run nothing: its own inline style and data images only.
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
       "WenQuanYi Micro Hei", sans-serif; line-height: 1.5; color: #222; margin: 0; }
main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
h1 { margin-bottom: 0.2rem; }
.author { margin-top: 0; color: #555; }
table { border-collapse: collapse; margin: 0.6rem 0 1rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #ddd; text-align: left;
         vertical-align: middle; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
math { font-size: 1.1em; }
math[display="block"] { margin: 0.5rem 0; }
figure { margin: 1rem 0; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.95em; }
.verdict { font-weight: bold; }
"""


def _escape(text: object) -> str:
    return html.escape(str(text), quote=True)


def math(inner: str, *, display: bool = False) -> str:
    """A ``<math>`` element around MathML ``inner``.

    Examples
    --------
    >>> math("<mi>k</mi>")
    '<math><mi>k</mi></math>'
    """
    return f'<math display="block">{inner}</math>' if display else f"<math>{inner}</math>"


def _formula(expr: sympy.Expr) -> str:
    """SymPy's presentation MathML of ``expr``, products written with a centred dot."""
    # SymPy writes subtraction with the hyphen; the minus sign is what a reader expects
    return str(mathml(expr, printer="presentation", mul_symbol="dot")).replace(
        "<mo>-</mo>", "<mo>−</mo>")


def _name(name: str) -> str:
    """A symbol's name as MathML: ``H_o`` as a subscript."""
    base, _, subscript = name.partition("_")
    if subscript:
        return f"<msub><mi>{_escape(base)}</mi><mi>{_escape(subscript)}</mi></msub>"
    return f"<mi>{_escape(base)}</mi>"


_TOKENS = re.compile(r"\d+(?:\.\d+)?|[A-Za-z]\w*|\S")


def arithmetic(text: str) -> str:
    """Unevaluated arithmetic written by :func:`symconv.render.formula.substituted` (numbers,
    ``× + − / ( ) ⌊ ⌋ = ≈``) as a MathML row: numbers as ``<mn>``, the rest as ``<mo>``."""
    parts = []
    for token in _TOKENS.findall(text):
        if token[0].isdigit():
            parts.append(f"<mn>{token}</mn>")
        elif token[0].isalpha():
            parts.append(_name(token))
        else:
            parts.append(f"<mo>{_escape(token)}</mo>")
    return "<mrow>" + "".join(parts) + "</mrow>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], numbers: Sequence[int] = ()) -> str:
    """An HTML table; cells are HTML already (escape text before); ``numbers`` are the columns
    aligned right."""
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="number">{cell}</td>' if index in numbers else f"<td>{cell}</td>"
            for index, cell in enumerate(row)
        ) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_legend(legend: Legend, lang: str = "en") -> str:
    """The symbol legend as a table: symbol (MathML), meaning and, where known, value."""
    valued = any(row.values is not None for row in legend)
    header = [message("legend.symbol", lang), message("legend.meaning", lang)]
    if valued:
        header.append(message("value", lang))
    rows = []
    for row in legend:
        names = "<mo>,</mo>".join(_name(name) for name in row.symbols)
        names = "<mo>=</mo>".join([f"<mrow>{names}</mrow>", *(_name(name) for name in row.equals)])
        cells = [math(names), _escape(message(row.key, lang))]
        rows.append([*cells, _escape(legend_cells(row)[1])] if valued else cells)
    return (f'<section id="symbols"><h2>{_escape(message("legend.title", lang))}</h2>'
            + _table(header, rows) + "</section>")


def _setting(result: Comparison, lang: str) -> str:
    kernel = shape_text(result.kernel)
    how = message("inferred" if result.kernel_inferred else "given", lang, kernel=kernel)
    bias = message("with_bias" if result.bias else "no_bias", lang)
    headline = message("headline", lang, how=how, setting=setting_text(result, lang),
                       shapes=f"{shape_text(result.input_shape)} → {shape_text(result.output_shape)}")
    sizes = "".join(
        math(f"<mrow>{_name(name)}<mo>=</mo>{_formula(size)}<mo>=</mo>"
             f"{arithmetic(substituted(size, result.values))}<mo>=</mo><mn>{out}</mn></mrow>",
             display=True)
        for name, size, out in zip(("H_o", "W_o"), result.output_size_formulas, result.output_shape)
    )
    return (f'<section id="setting"><p><strong>{_escape(headline)}</strong></p>'
            f"<p>{_escape(message('counting', lang, bias=bias))}</p>"
            f"<h3>{_escape(message('output_size', lang))}</h3>{sizes}</section>")


def _stages(result: Comparison, lang: str) -> str:
    """Each stage's formula, substitution and value, for mults, adds and params."""
    sizes = {"N": result.output_shape[2], "M": result.input_shape[2], "k": shape_text(result.kernel)}
    parts = [f'<section id="stages"><h2>{_escape(message("report.stages", lang))}</h2>']
    header = [message("quantity", lang), message("formula", lang), message("report.substituted", lang),
              message("value", lang)]
    for stage in result.stages:
        detail = message(stage.name + ".detail", lang, **sizes)
        rows = []
        for quantity in _QUANTITIES:
            value = getattr(stage.value, quantity)
            if stage.name == "separable":
                pieces = [piece for _, piece in stage.value.stages]
                general = "<mo>+</mo>".join(_formula(getattr(piece, quantity))
                                            for _, piece in stage.general.stages)
                product = " + ".join(str(getattr(piece, quantity)) for piece in pieces)
            else:
                general = _formula(getattr(stage.general, quantity))
                product = substituted(getattr(stage.general, quantity), result.values)
            rows.append([_escape(message(quantity, lang)), math(f"<mrow>{general}</mrow>"),
                         math(f"<mrow><mo>=</mo>{arithmetic(product)}</mrow>"),
                         math(f"<mrow><mo>=</mo><mn>{value}</mn></mrow>")])
        parts.append(f"<h3>{_escape(message(stage.name, lang))}</h3><p>{_escape(detail)}</p>"
                     + _table(header, rows))
    parts.append("</section>")
    return "".join(parts)


def _comparison_table(result: Comparison, lang: str) -> str:
    rows = [[_escape(message(stage.name, lang)),
             *(str(getattr(stage.value, quantity)) for quantity in _QUANTITIES)]
            for stage in result.stages]
    ratios = {"mults": result.mults_ratio.value, "params": result.params_ratio.value}
    rows.append([_escape(message("ratio", lang)),
                 *(_escape(f"{ratios[quantity]} ≈ {float(ratios[quantity]):.3g}")
                   if quantity in ratios else "" for quantity in _QUANTITIES)])
    header = ["", *(message(quantity, lang) for quantity in _QUANTITIES)]
    return (f'<section id="comparison"><h2>{_escape(message("report.comparison", lang))}</h2>'
            + _table([_escape(cell) for cell in header], rows, numbers=(1, 2, 3)) + "</section>")


def _ratio(label: str, result: RatioResult, separable: sympy.Expr, standard: sympy.Expr,
           values: dict[sympy.Symbol, int], lang: str) -> str:
    """separable / standard = the simplified ratio = its terms' values = the value ≈ decimal."""
    terms = result.general.as_ordered_terms()
    middle = "<mo>+</mo>".join(_formula(term.subs(values)) for term in terms)
    value = result.value
    fewer = ""
    if value < 1:
        fewer = _escape(message("aside", lang, main="",
                                aside=message("fewer", lang, factor=f"{float(1 / value):.1f}")))
    row = (f"<mrow><mfrac><mrow>{_formula(separable)}</mrow><mrow>{_formula(standard)}</mrow></mfrac>"
           f"<mo>=</mo>{_formula(result.general)}<mo>=</mo><mrow>{middle}</mrow><mo>=</mo>"
           f"{_formula(value)}<mo>≈</mo><mn>{float(value):.3g}</mn></mrow>")
    return f"<h3>{_escape(label)}</h3>{math(row, display=True)}<p>{fewer.strip()}</p>"


def _ratios(result: Comparison, lang: str) -> str:
    standard, separable = result.stage("standard").general, result.stage("separable").general
    return (f'<section id="ratio"><h2>{_escape(message("ratio", lang))}</h2>'
            + _ratio(message("mults", lang), result.mults_ratio, separable.mults, standard.mults,
                     result.values, lang)
            + _ratio(message("params", lang), result.params_ratio, separable.params,
                     standard.params, result.values, lang)
            + "</section>")


def _verification(results: Sequence[Verification], lang: str, seed: int,
                  title: str | None = None) -> str:
    header = [message(key, lang) for key in ("stage", "quantity", "counted", "derived", "match")]
    rows = [[_escape(cell) for cell in row] for row in verification_rows(results, lang)]
    return (f'<section id="verification"><h2>{_escape(message("report.verification", lang))}</h2>'
            f"<p>{_escape(verification_title(results, lang, seed, title))}</p>"
            + _table([_escape(cell) for cell in header], rows, numbers=(2, 3))
            + f'<p class="verdict">{_escape(verification_summary(results, lang))}</p></section>')


_ID = re.compile(r'\bid="([^"]+)"')


def inline_svg(svg: bytes | str, prefix: str, label: str) -> str:
    """An SVG file as an element to put inside HTML: without its XML declaration and doctype,
    every ``id`` (and every reference to one) prefixed, so that figures on one page never share
    an id, and labelled for screen readers.

    Examples
    --------
    >>> print(inline_svg('<?xml version="1.0"?><svg a="1"><g id="p1"/><use href="#p1"/></svg>',
    ...                  "fig", "A & B"))
    <svg role="img" aria-label="A &amp; B" a="1"><g id="fig-p1"/><use href="#fig-p1"/></svg>
    """
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    text = text[text.index("<svg"):]
    for name in set(_ID.findall(text)):
        text = text.replace(f'id="{name}"', f'id="{prefix}-{name}"')
        text = text.replace(f'"#{name}"', f'"#{prefix}-{name}"')
        text = text.replace(f"url(#{name})", f"url(#{prefix}-{name})")
    return text.replace("<svg", f'<svg role="img" aria-label="{_escape(label)}"', 1)


def _figures(answer: Homework, lang: str) -> str:
    from symconv.render.diagram import STAGES, stage_images

    result = answer.comparison
    images = stage_images(result.input_shape, result.output_shape[2], result.kernel,
                          stride=result.stride, padding=result.padding,
                          dilation=result.dilation, bias=result.bias, image="svg", lang=lang)
    figures = "".join(
        f'<figure id="figure-{stage}">{inline_svg(image, stage, message(stage, lang))}</figure>'
        for stage, image in zip(STAGES, images)
    )
    return f'<section id="diagrams"><h2>{_escape(message("report.diagrams", lang))}</h2>{figures}</section>'


def _page(title: str, body: str, lang: str, author: str | None = None) -> str:
    byline = f'<p class="author">{_escape(author)}</p>' if author else ""
    return "\n".join([
        "<!DOCTYPE html>",
        f'<html lang="{"zh-Hans" if lang == "zh" else "en"}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body><main>",
        f"<h1>{_escape(title)}</h1>{byline}",
        body,
        "</main></body>",
        "</html>",
        "",
    ])


def render_comparison(result: Comparison, lang: str = "en") -> str:
    """The comparison as an HTML page: legend, setting, every stage, the table and the ratio."""
    check_language(lang)
    body = (render_legend(comparison_legend(result), lang) + _setting(result, lang)
            + _stages(result, lang) + _comparison_table(result, lang) + _ratios(result, lang)
            + _phase(result, lang))
    return _page(message("title", lang), body, lang)


def _phase(report: Comparison | GeneralFormulas, lang: str) -> str:
    """The backward pass and training step (``--phase``), after the forward report."""
    return "" if report.training is None else phase_html(report, lang)


def phase_html(report: Comparison | GeneralFormulas, lang: str = "en") -> str:
    """The phase sections as HTML: a section each, a table a block, MathML formulas."""
    from symconv.render.phase import middle, of, ratio_cells

    values = report.values if isinstance(report, Comparison) else None
    header = [message(key, lang) for key in ("quantity", "formula")]
    if values is not None:
        header += [message("report.substituted", lang), message("value", lang)]
    out = []
    for number, section in enumerate(of(report, lang)):
        out.append(f'<section id="phase-{number}"><h2>{_escape(section.title)}</h2>'
                   + "".join(f"<p>{_escape(note)}</p>" for note in section.notes))
        for block in section.blocks:
            rows = []
            for line in block.lines:
                row = [_escape(f"{line.group}: {line.quantity}"), math(_formula(line.general))]
                between = middle(line, values)
                if between is not None:
                    row += [math(f"<mrow><mo>=</mo>{arithmetic(between)}</mrow>"),
                            math(f"<mrow><mo>=</mo><mn>{line.value}</mn></mrow>")]
                rows.append(row)
            out.append((f"<h3>{_escape(block.title)}</h3>" if block.title else "") + _table(
                [_escape(cell) for cell in header], rows))
        for title, ratio_lines in section.ratios:
            rows = []
            for ratio_line in ratio_lines:
                cells = ratio_cells(ratio_line.ratio, values)
                row = [_escape(ratio_line.label), math(_formula(ratio_line.ratio.general))]
                if values is not None:
                    row += [math(f"<mrow><mo>=</mo>{arithmetic(cells[1])}</mrow>")
                            if len(cells) > 1 else "", _escape(cells[-1])]
                rows.append(row)
            out.append(f"<h3>{_escape(title)}</h3>" + _table(
                [_escape(cell) for cell in header], rows))
        out.append("</section>")
    return "".join(out)


def render_verification(results: Sequence[Verification], lang: str = "en", seed: int = 0,
                        title: str | None = None, legend: Legend | None = None) -> str:
    """Counted against derived as an HTML page, after the symbol ``legend`` when one is given."""
    check_language(lang)
    body = (render_legend(legend, lang) if legend else "") + _verification(results, lang, seed,
                                                                           title)
    return _page(message("title.verify", lang), body, lang)


def render_kind(general: GeneralFormulas, lang: str = "en") -> str:
    """The general formulas of one layer kind as an HTML page: legend, then one row per
    output size and per quantity of each stage, as MathML."""
    check_language(lang)
    rows = [[math(_name(str(symbol))), math(_formula(size))] for symbol, size in general.output_sizes]
    for name, stage_cost in [*general.cost.stages, ("", general.cost)]:
        prefix = message("labelled", lang, label=message(name, lang), text="") if name else ""
        rows += [[_escape(prefix + message(quantity, lang)),
                  math(_formula(getattr(stage_cost, quantity)))] for quantity in _QUANTITIES]
    if general.ratio is not None:
        rows.append([_escape(message("ratio", lang)), math(_formula(general.ratio))])
    body = (render_legend(kind_legend(general), lang)
            + f"<p><strong>{_escape(layer_name(general))}</strong></p>"
            + _table([_escape(message("quantity", lang)), _escape(message("formula", lang))], rows)
            + _phase(general, lang))
    return _page(message("title.derive", lang, kind=message(general.kind, lang)), body, lang)


def render_report(answer: Homework, lang: str = "en") -> str:
    """The homework answered in one page: legend, setting, the three diagrams, every stage's
    formula, substitution and value, the comparison table, the ratio and its derivation, and
    the execution's check. Needs matplotlib (the diagrams)."""
    check_language(lang)
    result = answer.comparison
    body = (render_legend(answer.legend, lang) + _setting(result, lang) + _figures(answer, lang)
            + _stages(result, lang) + _comparison_table(result, lang) + _ratios(result, lang)
            + _verification(answer.checks, lang, answer.seed))
    return _page(answer.title or message("title", lang), body, lang, answer.author)
