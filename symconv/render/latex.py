r"""LaTeX reports: amsmath environments with, for every stage, the general formula, the
substituted product and the value; then the totals and the ratio as a fraction.

A report is a fragment to ``\input`` into a document that loads ``amsmath``;
:func:`standalone` wraps it into a complete document that compiles with ``pdflatex`` (English)
or ``xelatex`` (Chinese, with ``ctex``).

Examples
--------
>>> from symconv.report.compare import compare
>>> report = render_comparison(compare((7, 7, 3), 64, (3, 3)))
>>> print(report.splitlines()[0])
% symconv: Cost of a depthwise separable convolution
>>> r"&= 5 \times 5 \times 3 \times 3 \times 3 \times 64 \\" in report
True
>>> r"\frac{73}{576}" in report
True
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import sympy

from symconv.derive import Cost
from symconv.errors import escape_controls
from symconv.render.catalogue import CATALOGUES, check_language, convention_text, message, reference_text
from symconv.render.formula import LATEX, formula, latex_name, substituted
from symconv.render.json import latex as sympy_latex
from symconv.render.numbers import format_count, format_share
from symconv.render.text import (
    layer_name,
    legend_cells,
    network_header,
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
    from symconv.report.analysis import NetworkReport
    from symconv.report.homework import Homework
    from symconv.report.phase import Ratio
    from symconv.verify import Verification

__all__ = [
    "render_legend", "render_comparison", "render_report", "render_kind", "render_verification", "render_network", "standalone",
    "escape", "comment", "ENGINES",
]

_QUANTITIES = ("mults", "adds", "params")

#: The engine that compiles a standalone document of each language.
ENGINES = {"en": "pdflatex", "zh": "xelatex"}

_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "×": r"\ensuremath{\times}", "→": r"\ensuremath{\to}", "≈": r"\ensuremath{\approx}",
    "·": r"\ensuremath{\cdot}", "−": "-", "α": r"\ensuremath{\alpha}", "ρ": r"\ensuremath{\rho}",
    **{digit: rf"\textsuperscript{{{index}}}" for index, digit in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")},
}

#: Latin letters beyond ASCII that both engines typeset: Latin-1 and Latin Extended-A (``T1``
#: fonts under pdflatex, Latin Modern under xelatex), less the few that either lacks.
_LATIN = frozenset(chr(code) for code in range(0xA0, 0x180)) - frozenset("ĦħĸĿŀŉŦŧſ")
_PUNCTUATION = frozenset("‘’“”–—…•€†‡‰‹›")
#: Blocks that ``ctex`` typesets under xelatex: CJK punctuation, ideographs, full-width forms.
_CJK = ((0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF))


def _typeset(char: str, lang: str) -> bool:
    """Whether the engine of ``lang`` has a glyph for ``char`` in the standalone document."""
    if " " <= char <= "~" or char in _LATIN or char in _PUNCTUATION:
        return True
    code = ord(char)
    return lang == "zh" and any(low <= code <= high for low, high in _CJK)


def _escape_char(char: str, lang: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if escape_controls(char) != char:  # a control character: its escape, visibly (``\x1b``)
        return r"\textbackslash{}" + escape_controls(char)[1:]
    if _typeset(char, lang):
        return char
    return rf"\texttt{{U+{ord(char):04X}}}"


def escape(text: str, lang: str = "en") -> str:
    r"""Text made safe for LaTeX: special characters escaped, ``×`` and ``→`` as math.

    Control characters are written as their escapes (``\x1b``), and a character that the
    engine of ``lang`` cannot typeset (CJK under pdflatex, emoji under either) as its code point
    (``U+1F600``), so that every string compiles and shows what it holds.

    Examples
    --------
    >>> escape("64 kernels of 3×3×3 (50% & more)")
    '64 kernels of 3\\ensuremath{\\times}3\\ensuremath{\\times}3 (50\\% \\& more)'
    >>> print(escape("a\n卷积😀"), escape("卷积😀", "zh"))
    a\textbackslash{}n\texttt{U+5377}\texttt{U+79EF}\texttt{U+1F600} 卷积\texttt{U+1F600}

    Hyphens stay hyphens (TeX makes ``--`` an en dash, ``---`` an em dash):

    >>> escape("--no-input-grad, ---")
    '-{}-no-input-grad, -{}-{}-'
    """
    escaped = "".join(_escape_char(char, lang) for char in text)
    while "--" in escaped:
        escaped = escaped.replace("--", "-{}-")
    return escaped


def comment(text: str) -> str:
    r"""A ``%`` comment line: control characters escaped, so that nothing ends the comment.

    Examples
    --------
    >>> print(comment("model.py\n\\input{/etc/hostname}"))
    % symconv: model.py\n\input{/etc/hostname}
    """
    return f"% symconv: {escape_controls(text)}"


def _shape(shape: tuple[object, ...]) -> str:
    return r" \times ".join(str(size) for size in shape)


def _label(quantity: str, lang: str) -> str:
    return rf"\text{{{escape(message(quantity, lang), lang)}}}"


def _stage_rows(general: Cost, values: dict[sympy.Symbol, int], value: Cost,
                lang: str) -> list[str]:
    rows = []
    for quantity in _QUANTITIES:
        expr = getattr(general, quantity)
        rows.append(
            rf"{_label(quantity, lang)} &= {formula(expr, style=LATEX)} \\"
            + "\n" + rf"&= {substituted(expr, values, style=LATEX)} \\"
            + "\n" + rf"&= {getattr(value, quantity)}"
        )
    return rows


def needs(*packages: str) -> str:
    r"""The comment line that says which packages a fragment needs.

    Examples
    --------
    >>> print(needs("amsmath", "graphicx"))
    % needs: \usepackage{amsmath} \usepackage{graphicx}
    """
    return "% needs: " + " ".join(rf"\usepackage{{{package}}}" for package in packages)


def render_legend(legend: Legend, lang: str = "en") -> str:
    r"""The symbol legend as a ``tabular``: ``$M = 3$`` and what it stands for.

    Examples
    --------
    >>> from symconv.report.legend import conv_legend
    >>> print(render_legend(conv_legend((7, 7, 3), 64, (3, 3), output=(5, 5))[4:5]))
    \noindent\textbf{Symbols}\par
    \noindent\begin{tabular}{@{}ll@{}}
    $H_{o}, W_{o} = 5, 5$ & output height and width \\
    \end{tabular}\par
    <BLANKLINE>
    """
    rows = []
    for row in legend:
        symbols = " = ".join([", ".join(latex_name(name) for name in row.symbols),
                              *(latex_name(name) for name in row.equals)])
        values = legend_cells(row)[1]
        math = f"${symbols} = {values}$" if values else f"${symbols}$"
        rows.append(rf"{math} & {escape(message(row.key, lang), lang)} \\")
    return "\n".join([rf"\noindent\textbf{{{escape(message('legend.title', lang), lang)}}}\par",
                      r"\noindent\begin{tabular}{@{}ll@{}}", *rows, r"\end{tabular}\par", ""])


#: About how many characters of a formula fit on a line of a standalone document beside the
#: ``align*`` labels, in characters as :func:`visible_length` counts them; each character of
#: the widest label takes about half as much room.
_FORMULA_ROOM = 54


def _label_width(text: str) -> int:
    """A label's width in Latin characters: a CJK character is two."""
    return sum(2 if ord(char) >= 0x2E80 else 1 for char in text)


def visible_length(latex: str) -> int:
    r"""About how many characters ``latex`` shows: a command (``\cdot``) is one, braces and
    sub- and superscript marks none, an operator with its spacing two.

    >>> visible_length(r"3 \cdot H_{o} - k^{2}")   # 3, ·, H, o, k, 2 and a spaced minus
    8
    """
    text = re.sub(r"\\(left|right)\b", "", latex)
    text = re.sub(r"\\[A-Za-z]+\s*|\\.", "#", text)
    text = re.sub(r"[{}_^ ]", "", text)
    return len(text) + sum(text.count(sign) for sign in "+-=")


def broken(latex: str, room: int) -> str:
    r"""``latex`` broken into ``align*`` lines of about ``room`` characters
    (:func:`visible_length`) before a ``+``, ``-`` or ``=`` outside any brackets; as it is when
    it fits.

    >>> print(broken(r"a + b - c = 12", 5))
    a + b \\
    &\quad - c \\
    &\quad = 12
    """
    if visible_length(latex) <= room:
        return latex
    pieces, depth, start = [], 0, 0
    for at, char in enumerate(latex):
        depth += char in "{([" and (at == 0 or latex[at - 1] != "\\")
        depth -= char in "})]" and (at == 0 or latex[at - 1] != "\\")
        if depth == 0 and latex[at:at + 3] in (" + ", " - ", " = ") and at > start:
            pieces.append(latex[start:at])
            start = at + 1
    pieces.append(latex[start:])
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if visible_length(lines[-1] + " " + piece) > room:
            lines.append(piece)
        else:
            lines[-1] += " " + piece
    return " \\\\\n&\\quad ".join(lines)


def _align(rows: list[str]) -> str:
    return "\\begin{align*}\n" + " \\\\[4pt]\n".join(rows) + "\n\\end{align*}"


def _ratio_rows(label: str, result: RatioResult, values: dict[sympy.Symbol, int],
                lang: str = "en") -> str:
    terms = result.general.as_ordered_terms()
    if len(terms) > 1 and all(term.is_Pow or term.is_Mul or term.is_Symbol for term in terms):
        middle = " + ".join(sympy_latex(term.subs(values)) for term in terms)
    else:
        middle = substituted(result.general, values, style=LATEX)
    return (
        rf"{label} &= {formula(result.general, style=LATEX)} \\" + "\n"
        + rf"&= {middle} = {sympy_latex(result.value)} \approx {float(result.value):.3g}"
        + _fewer(result, lang)
    )


def _fewer(result: RatioResult, lang: str) -> str:
    r"""``\quad\text{(7.9× fewer)}`` after a ratio below one, as the text report writes it."""
    if result.value >= 1:
        return ""
    factor = f"{float(1 / result.value):.1f}"
    text = message("aside", lang, main="", aside=message("fewer", lang, factor=factor)).strip()
    return rf"\quad\text{{{escape(text, lang)}}}"


def _setting_parts(result: Comparison, lang: str) -> list[str]:
    """The headline, what is counted, and the output size's derivation."""
    kernel = shape_text(result.kernel)
    how = message("inferred" if result.kernel_inferred else "given", lang, kernel=kernel)
    setting = setting_text(result, lang)
    bias = message("with_bias" if result.bias else "no_bias", lang)
    shapes = "SHAPES"
    headline = escape(message("headline", lang, shapes=shapes, how=how, setting=setting), lang)
    return [
        r"\noindent " + headline.replace(
            shapes, rf"${_shape(result.input_shape)} \to {_shape(result.output_shape)}$"),
        "",
        rf"\noindent {escape(message('counting', lang, bias=bias), lang)}",
        "",
        rf"\paragraph{{{escape(message('output_size', lang), lang)}}}",
        _align([
            rf"{name} &= {formula(size, style=LATEX)} \\" + "\n"
            + rf"&= {substituted(size, result.values, style=LATEX)} = {out}"
            for name, size, out in zip(
                ("H_{o}", "W_{o}"), result.output_size_formulas, result.output_shape
            )
        ]),
    ]


def _stage_parts(result: Comparison, lang: str) -> list[str]:
    """Every stage's formula, substitution and value, one unbreakable block per stage."""
    parts = []
    sizes = {"N": result.output_shape[2], "M": result.input_shape[2],
             "k": shape_text(result.kernel)}
    for stage in result.stages:
        detail = message(stage.name + ".detail", lang, **sizes)
        parts.append(
            rf"\paragraph{{{escape(message(stage.name, lang), lang)}}} {escape(detail, lang)}"
        )
        if stage.name == "separable":
            pieces = [piece for _, piece in stage.value.stages]
            parts.append(_align([
                rf"{_label(quantity, lang)} &= "
                + " + ".join(str(getattr(piece, quantity)) for piece in pieces)
                + f" = {getattr(stage.value, quantity)}"
                for quantity in _QUANTITIES
            ]))
            continue
        parts.append(_align(_stage_rows(stage.general, result.values, stage.value, lang)))
    return parts


def _ratio_parts(result: Comparison, lang: str, derivation: bool = False) -> list[str]:
    """The ratios; with ``derivation``, each starts from separable over standard."""
    rows = []
    for quantity, ratio in (("mults", result.mults_ratio), ("params", result.params_ratio)):
        row = _ratio_rows(_label(quantity, lang), ratio, result.values, lang)
        if derivation:
            separable = getattr(result.stage("separable").general, quantity)
            standard = getattr(result.stage("standard").general, quantity)
            fraction = (rf"\frac{{{formula(separable, style=LATEX)}}}"
                        rf"{{{formula(standard, style=LATEX)}}}")
            row = row.replace(" &= ", rf" &= {fraction} \\" + "\n&= ", 1)
        rows.append(row)
    return [rf"\paragraph{{{escape(message('ratio', lang), lang)}}}", _align(rows)]


def render_comparison(result: Comparison, lang: str = "en") -> str:
    """The comparison as a LaTeX fragment (needs ``amsmath``)."""
    check_language(lang)
    parts = [
        comment(message("title", lang)),
        needs("amsmath"),
        render_legend(comparison_legend(result), lang),
        *_setting_parts(result, lang),
        *_stage_parts(result, lang),
        *_ratio_parts(result, lang),
        *_phase_parts(result, lang),
    ]
    return "\n".join(parts) + "\n"


def _phase_parts(report: Comparison | GeneralFormulas, lang: str) -> list[str]:
    """The backward pass and training step (``--phase``), after the forward report."""
    return [] if report.training is None else phase_latex(report, lang)


def phase_latex(report: Comparison | GeneralFormulas, lang: str = "en") -> list[str]:
    """The phase sections as LaTeX paragraphs and ``align*`` blocks."""
    from symconv.render.phase import middle, of

    values = report.values if isinstance(report, Comparison) else None
    parts: list[str] = []
    for section in of(report, lang):
        parts.append(rf"\medskip\noindent\textbf{{{escape(section.title, lang)}}}\par")
        parts += [rf"\noindent {escape(note, lang)}" + "\n" for note in section.notes]
        for block in section.blocks:
            parts += [rf"\paragraph{{{escape(block.title, lang)}}}"] if block.title else []
            rows = []
            labels = [f"{line.group}, {line.quantity}" for line in block.lines]
            room = _FORMULA_ROOM - max(map(_label_width, labels), default=0) // 2
            for text, line in zip(labels, block.lines):
                label = rf"\text{{{escape(text, lang)}}}"
                row = rf"{label} &= {broken(formula(line.general, style=LATEX), room)}"
                between = middle(line, values, LATEX)
                if between is not None:
                    row += r" \\" + "\n" + rf"&= {broken(f'{between} = {line.value}', room)}"
                rows.append(row)
            parts.append(_align(rows))
        for title, ratio_lines in section.ratios:
            parts.append(rf"\paragraph{{{escape(title, lang)}}}")
            parts.append(_align([
                rf"\text{{{escape(line.label, lang)}}} &= "
                + " = ".join(_latex_ratio(line.ratio, values)) for line in ratio_lines]))
    return parts


def _latex_ratio(ratio: Ratio, values: Mapping[sympy.Basic, object] | None) -> list[str]:
    """A ratio's cells in LaTeX: formula, substitution, exact value ≈ decimal."""
    from symconv.render.phase import ratio_cells

    cells = ratio_cells(ratio, values, LATEX)
    if len(cells) == 3 and ratio.value is not None:
        cells[2] = sympy.latex(ratio.value) + rf" \approx {float(ratio.value):.3g}"
    return cells


def _comparison_table(result: Comparison, lang: str) -> list[str]:
    header = ["", *(message(quantity, lang) for quantity in _QUANTITIES)]
    rows = [" & ".join([escape(message(stage.name, lang), lang),
                        *(str(getattr(stage.value, quantity)) for quantity in _QUANTITIES)])
            + r" \\" for stage in result.stages]
    ratio = " & ".join([escape(message("ratio", lang), lang),
                        f"${sympy_latex(result.mults_ratio.value)}$", "",
                        f"${sympy_latex(result.params_ratio.value)}$"]) + r" \\"
    return [
        rf"\paragraph{{{escape(message('report.comparison', lang), lang)}}}",
        "",
        r"\begin{center}",
        r"\begin{tabular}{lrrr}",
        r"\hline",
        " & ".join(escape(cell, lang) for cell in header) + r" \\",
        r"\hline",
        *rows,
        ratio,
        r"\hline",
        r"\end{tabular}",
        r"\end{center}",
    ]


def render_report(answer: Homework, lang: str = "en",
                  figures: Sequence[str] = ("standard.pdf", "depthwise.pdf", "pointwise.pdf")
                  ) -> str:
    r"""The homework answered in one LaTeX fragment (needs ``amsmath`` and ``graphicx``): legend,
    setting, the three ``figures`` (file names for ``\includegraphics``, drawn one width, shown
    one width), every stage, the comparison table, the ratio from its definition, and the
    execution's check. :func:`standalone` makes it a document.
    """
    check_language(lang)
    result = answer.comparison
    title = answer.title or message("title", lang)
    pictures = [rf"\paragraph{{{escape(message('report.diagrams', lang), lang)}}}", ""]
    for name in figures:
        pictures += [r"\begin{center}", rf"\includegraphics[width=0.95\linewidth]{{{name}}}",
                     r"\end{center}"]
    check = render_verification(answer.checks, lang, answer.seed).split("\n", 1)[1]
    parts = [
        comment(title),
        needs("amsmath", "graphicx"),
        render_legend(answer.legend, lang),
        *_setting_parts(result, lang),
        *pictures,
        *_stage_parts(result, lang),
        *_comparison_table(result, lang),
        *_ratio_parts(result, lang, derivation=True),
        rf"\paragraph{{{escape(message('report.verification', lang), lang)}}}",
        "",
        check,
    ]
    return "\n".join(parts) + "\n"


def render_kind(general: GeneralFormulas, lang: str = "en") -> str:
    r"""The general formulas of one layer kind as a LaTeX fragment.

    Examples
    --------
    >>> from symconv.report.kinds import derive_kind
    >>> print(render_kind(derive_kind("pointwise")).splitlines()[-2])
    \text{parameters} &= M \cdot N
    """
    check_language(lang)
    rows = [
        rf"{LATEX.name(symbol)} &= {formula(size, style=LATEX)}"
        for symbol, size in general.output_sizes
    ]
    blocks = [*general.cost.stages, ("total" if general.cost.stages else "", general.cost)]
    for name, stage_cost in blocks:
        prefix = rf"\text{{{escape(message(name, lang), lang)}}}\colon\ " if name else ""
        for quantity in _QUANTITIES:
            rows.append(
                rf"{prefix}{_label(quantity, lang)} &= "
                f"{formula(getattr(stage_cost, quantity), style=LATEX)}"
            )
    if general.ratio is not None:
        rows.append(rf"\text{{{escape(message('ratio', lang), lang)}}} &= "
                    f"{formula(general.ratio, style=LATEX)}")
    return (
        comment(message("title.derive", lang, kind=message(general.kind, lang))) + "\n"
        + needs("amsmath") + "\n" + render_legend(kind_legend(general), lang) + "\n"
        + rf"\noindent {escape(layer_name(general), lang)}" + "\n"
        + "\\begin{align*}\n" + " \\\\\n".join(rows) + "\n\\end{align*}\n"
        + "".join(part + "\n" for part in _phase_parts(general, lang))
    )


def standalone(fragment: str, lang: str = "en", title: str | None = None,
               author: str | None = None) -> str:
    r"""Wrap a fragment into a complete document: ``article`` (pdflatex) or ``ctexart`` (xelatex).

    The title is the fragment's first comment (or ``title``), set as a heading with the author
    under it, if given: no ``\maketitle``, so no empty author and date block, and no warning.
    Display math never breaks across pages (no ``\allowdisplaybreaks``): a derivation stays in
    one piece.

    Examples
    --------
    >>> print(standalone("x", "zh").splitlines()[0])
    % Compile with xelatex.
    >>> document = standalone("% symconv: Cost\nx", author="Ada")
    >>> print(document[document.index("\\begin{center}"):document.index("% symconv")])
    \begin{center}
    {\Large\bfseries Cost\par}
    \medskip
    Ada
    \end{center}
    <BLANKLINE>
    """
    check_language(lang)
    first = fragment.split("\n", 1)[0]
    if title is None:
        title = first.removeprefix("% symconv: ") if first.startswith("% symconv: ") else "symconv"
    if lang == "zh":
        preamble = [r"\documentclass[UTF8]{ctexart}"]
    else:
        preamble = [r"\documentclass{article}", r"\usepackage[T1]{fontenc}"]
    preamble += [
        r"\usepackage{amsmath}",
        r"\usepackage{longtable}",
        r"\usepackage{graphicx}",
        r"\usepackage[margin=2cm]{geometry}",
    ]
    heading = [r"\begin{center}", rf"{{\Large\bfseries {escape(title, lang)}\par}}"]
    if author:
        heading += [r"\medskip", escape(author, lang)]
    heading += [r"\end{center}"]
    return "\n".join([
        f"% Compile with {ENGINES[lang]}.",
        *preamble,
        r"\begin{document}",
        *heading,
        fragment.rstrip("\n"),
        r"\end{document}",
        "",
    ])


def render_verification(results: Sequence[Verification], lang: str = "en", seed: int = 0,
                        title: str | None = None, legend: Legend | None = None) -> str:
    """Counted against derived as a LaTeX ``tabular``, with what was run and the verdict, after
    the symbol ``legend`` when one is given."""
    check_language(lang)
    header = [message(key, lang) for key in ("stage", "quantity", "counted", "derived", "match")]
    body = [
        " & ".join(escape(cell, lang) for cell in row) + r" \\"
        for row in verification_rows(results, lang)
    ]
    return "\n".join([
        comment(message("title.verify", lang)),
        *([render_legend(legend, lang)] if legend else []),
        rf"\noindent {escape(verification_title(results, lang, seed, title), lang)}",
        "",
        r"\begin{center}",
        r"\begin{tabular}{llrrl}",
        r"\hline",
        " & ".join(escape(cell, lang) for cell in header) + r" \\",
        r"\hline",
        *body,
        r"\hline",
        r"\end{tabular}",
        r"\end{center}",
        rf"\noindent\textbf{{{escape(verification_summary(results, lang), lang)}}}",
        "",
    ])


def _math_shape(shape: tuple[object, ...]) -> str:
    return "$" + r" \times ".join(formula(size, style=LATEX) for size in shape) + "$"


def _count(value: object, units: str) -> str:
    """A count as math: its digits in ``units``, or its formula."""
    if isinstance(value, sympy.Basic) and not value.is_Number:
        return f"${formula(value, style=LATEX)}$"
    return escape(format_count(value, units))


def _network_cells(report: NetworkReport, lang: str, units: str = "exact") -> list[list[str]]:
    """One row per layer (name, kind, output shape, mults, adds, params, and the convention's
    count and share where the report has them).

    The input shape is the previous row's output: left out, so that the table fits the page.
    """
    cells = []
    for index, row in enumerate(report.layers):
        line = [escape(row.name, lang), escape(row.kind, lang), _math_shape(row.output_shape),
                *(_count(getattr(row, name), units) for name in ("mults", "adds", "params"))]
        if report.counts:
            line += [_count(report.counts[index], units),
                     escape(format_share(report.shares[index]))]
        cells.append(line)
    return cells


def render_network(report: NetworkReport, lang: str = "en", units: str = "exact") -> str:
    """A network's totals as an ``align*`` block (formula = value) and its layers as a table."""
    check_language(lang)
    rows = []
    for name, total in report.totals.items():
        label = escape(message(name, lang) if name in CATALOGUES["en"] else name, lang)
        if report.symbolic:
            rows.append(rf"\text{{{label}}} &= {sympy_latex(total.formula)} \\" + "\n"
                        + rf"&= {escape(format_count(total.value, units))}")
        else:
            rows.append(rf"\text{{{label}}} &= {escape(format_count(total.value, units))}")
    parts = [
        comment(report.title),
        needs("amsmath", "longtable") if report.layers else needs("amsmath"),
        r"\noindent " + escape(message("labelled", lang, label=report.title,
                                       text=message("net.input", lang, shape="SHAPE")),
                               lang).replace("SHAPE", _math_shape(report.input_shape)),
        "",
        r"\noindent " + escape(message("net.convention", lang, name=report.convention,
                                       description=convention_text(report.convention, report.description, lang)), lang),
        "",
    ]
    if report.symbolic:
        parts += [r"\noindent " + escape(message("net.at", lang, point=reference_text(report.reference, lang)), lang) + ":"]
    parts += [_align(rows)]
    if report.symbolic:
        parts += [r"\noindent " + escape(message("net.exact", lang), lang), ""]
    if report.layers:
        header = [cell for index, cell in enumerate(network_header(lang, report)) if index != 2]
        counts = len(header) - 3
        if report.symbolic:
            # formulas wrap after + and − in fixed-width columns (counts right-aligned), instead
            # of running off the page; a row then ends in \tabularnewline, as \raggedleft needs
            width = rf"p{{{0.42 / counts:.3f}\linewidth}}"
            columns = r"llp{0.15\linewidth}" + width * counts
            left, end = r"\raggedleft ", r" \tabularnewline"
        else:
            columns, left, end = "lll" + "r" * counts, "", r" \\"
        parts += [
            r"{\scriptsize\setlength{\tabcolsep}{3pt}",
            rf"\begin{{longtable}}{{{columns}}}",
            " & ".join(escape(cell, lang) if index < 3 else left + escape(cell, lang)
                       for index, cell in enumerate(header)) + end + r" \hline",
            *(" & ".join(cell if index < 3 else left + cell for index, cell in enumerate(row))
              + end for row in _network_cells(report, lang, units)),
            r"\end{longtable}}",
        ]
    return "\n".join(parts) + "\n"
