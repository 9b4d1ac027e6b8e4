"""The backward pass and training step of a report (``compare`` / ``derive --phase``), laid out
once (:func:`sections`) and written in text, Markdown, LaTeX and HTML (JSON:
:mod:`symconv.render.json`).

A section is a titled list of blocks, one a stage, whose lines are a formula, its substitution
(or the values it adds up) and its value; and the ratios SymPy derived.

Examples
--------
>>> from symconv.report.compare import compare
>>> for line in text(compare((7, 7, 3), 64, (3, 3), phase="backward")).splitlines()[4:11]:
...     print(line)
Standard convolution
  input gradient   multiplications  H_o·W_o·k²·M·N                        = 5 × 5 × 3 × 3 × 3 × 64       = 43200
                   additions        H_o·W_o·k²·M·N                        = 5 × 5 × 3 × 3 × 3 × 64       = 43200
  weight gradient  multiplications  H_o·W_o·k²·M·N                        = 5 × 5 × 3 × 3 × 3 × 64       = 43200
                   additions        k²·M·N·(H_o·W_o − 1)                  = 3 × 3 × 3 × 64 × (5 × 5 − 1) = 41472
  total            multiplications  2·H_o·W_o·k²·M·N                      = 43200 + 43200                = 86400
                   additions        H_o·W_o·k²·M·N + k²·M·N·(H_o·W_o − 1) = 43200 + 41472                = 84672
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy

from symconv.render.catalogue import EN, message
from symconv.render.formula import LATEX, formula, substituted
from symconv.report.compare import Comparison
from symconv.report.kinds import GeneralFormulas
from symconv.report.phase import PhaseCosts, PhaseStage, Ratio, Training

__all__ = ["Line", "Block", "Section", "sections", "text", "markdown_rows", "latex", "html"]

_QUANTITIES = ("mults", "adds")


@dataclass(frozen=True)
class Line:
    """One count: ``label`` (group and quantity), its general formula, the values it adds up
    (empty: a substitution of ``values``), and its value (``None`` without values)."""

    group: str
    quantity: str
    general: sympy.Expr
    parts: tuple[object, ...]
    value: object


@dataclass(frozen=True)
class RatioLine:
    """A ratio of the section: its label and the ratio (general, and value where known)."""

    label: str
    ratio: Ratio


@dataclass(frozen=True)
class Block:
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Section:
    """A phase: title, notes, one block a stage, and the ratios under their own title."""

    title: str
    notes: tuple[str, ...]
    blocks: tuple[Block, ...]
    ratios: tuple[tuple[str, tuple[RatioLine, ...]], ...]


def _gradient(name: str, lang: str) -> str:
    key = f"grad.{name}"
    return message(key, lang) if key in EN else name


def _stage_title(name: str, lang: str) -> str:
    return message(name, lang) if name in EN else name


def _backward_block(stage: PhaseStage, lang: str) -> Block:
    """A stage's gradients (formula, substitution, value) and its total: the gradients' values
    added, or for the separable convolution its stages'."""
    general, value = stage.general, stage.value
    known = dict(value.gradients) if value is not None else {}
    lines: list[Line] = []
    for gradient, part in general.gradients:
        for quantity in _QUANTITIES:
            if getattr(part, quantity) != 0:
                found = known.get(gradient)
                lines.append(Line(_gradient(gradient, lang), message(quantity, lang),
                                  getattr(part, quantity), (),
                                  None if found is None else getattr(found, quantity)))
    pieces = [] if value is None else [part for _, part in value.gradients or value.stages]
    for quantity in _QUANTITIES:
        parts = tuple(getattr(piece, quantity) for piece in pieces
                      if getattr(piece, quantity) != 0 or not value.gradients)  # type: ignore[union-attr]
        lines.append(Line(message("total", lang), message(quantity, lang),
                          getattr(general, quantity), parts if len(parts) > 1 else (),
                          None if value is None else getattr(value, quantity)))
    return Block(_stage_title(stage.name, lang), tuple(lines))


def _train_block(phase: PhaseCosts, forward: Mapping[str, object], lang: str) -> Block:
    lines = []
    for stage in phase.stages:
        for quantity in _QUANTITIES:
            before = forward.get(stage.name)
            parts = () if stage.value is None or before is None else (
                getattr(before, quantity), getattr(stage.value, quantity) - getattr(
                    before, quantity))
            lines.append(Line(_stage_title(stage.name, lang), message(quantity, lang),
                              getattr(stage.general, quantity), parts,
                              None if stage.value is None else getattr(stage.value, quantity)))
    return Block("", tuple(lines))


def _ratios(phase: PhaseCosts, key: str, separable_key: str,
            lang: str) -> tuple[tuple[str, tuple[RatioLine, ...]], ...]:
    rows = tuple(RatioLine(_stage_title(stage.name, lang), stage.to_forward)
                 for stage in phase.stages)
    found = [(message(key, lang), rows)]
    if phase.ratio is not None:
        found.append((message(separable_key, lang),
                      (RatioLine(message("mults", lang), phase.ratio),)))
    return tuple(found)


def sections(training: Training, lang: str = "en",
             forward: Mapping[str, object] | None = None) -> list[Section]:
    """The backward section (and the training step's), of a comparison or a kind;
    ``forward``: each stage's forward value, for the training step's sums."""
    notes = (message("phase.inside" if training.input_grad else "phase.first", lang),
             message("phase.counting", lang))
    backward = training.backward
    found = [Section(message("phase.backward", lang), notes,
                     tuple(_backward_block(stage, lang) for stage in backward.stages),
                     _ratios(backward, "phase.to_forward", "phase.ratio", lang))]
    if training.train is not None:
        found.append(Section(message("phase.train", lang),
                             (message("phase.train_counting", lang),),
                             (_train_block(training.train, forward or {}, lang),),
                             _ratios(training.train, "phase.train_to_forward",
                                     "phase.train_ratio", lang)))
    return found


def of(report: Comparison | GeneralFormulas, lang: str) -> list[Section]:
    """The sections of a comparison or a kind; none for the forward pass."""
    if report.training is None:
        return []
    forward: dict[str, object] = {}
    if isinstance(report, Comparison):
        forward = {stage.name: stage.value for stage in report.stages}
    return sections(report.training, lang, forward)


# --- text -----------------------------------------------------------------------------------


def _middle(line: Line, values: Mapping[sympy.Basic, object] | None, style: object = None
            ) -> str | None:
    """The substitution or the sum of the parts; ``None`` without values."""
    if line.parts:
        return " + ".join(str(part) for part in line.parts)
    if values is None:
        return None
    return substituted(line.general, values) if style is None else substituted(
        line.general, values, style=style)  # type: ignore[arg-type]


def _ratio_cells(ratio: Ratio, values: Mapping[sympy.Basic, object] | None,
                 style: object = None) -> list[str]:
    """``formula = substitution = value ≈ decimal``, as cells; a number alone as itself."""
    write = formula if style is None else (lambda expr: formula(expr, style=style))  # type: ignore[arg-type]
    general = ratio.general
    if general.is_Number:
        return [write(general)]
    cells = [write(general)]
    if values is not None and ratio.value is not None:
        terms = general.as_ordered_terms()
        if len(terms) > 1 and all(term.is_Pow or term.is_Mul or term.is_Symbol
                                  for term in terms):   # 1/k² + 1/N = 1/9 + 1/64
            cells.append(" + ".join(write(term.subs(values)) for term in terms))
        else:
            cells.append(substituted(general, values) if style is None else substituted(
                general, values, style=style))  # type: ignore[arg-type]
        cells.append(f"{ratio.value} ≈ {float(ratio.value):.3g}")
    return cells


def text(report: Comparison | GeneralFormulas, lang: str = "en") -> str:
    """The phase sections as text ("" for the forward pass)."""
    from symconv.render.text import _aligned, _pad, display_width

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
                middle = _middle(line, values)
                if middle is not None:
                    cells += [middle, str(line.value)]
                rows.append((label, *cells))
            out += _aligned(rows, max(display_width(row[0]) for row in rows))
        for title, ratio_lines in section.ratios:
            out.append(title)
            width = max(display_width(line.label) for line in ratio_lines)
            out += _aligned([(line.label, *_ratio_cells(line.ratio, values))
                             for line in ratio_lines], width)
    return "\n".join(out)


# --- Markdown, LaTeX, HTML --------------------------------------------------------------------


def markdown_rows(report: Comparison | GeneralFormulas, lang: str = "en") -> list[list[str]]:
    """Rows of ``[section/block, quantity, $formula$, = ..., value]``."""
    values = report.values if isinstance(report, Comparison) else None
    rows = []
    for section in of(report, lang):
        for block in section.blocks:
            title = f"{section.title}: {block.title}" if block.title else section.title
            for line in block.lines:
                middle = _middle(line, values)
                rows.append([title, f"{line.group}: {line.quantity}",
                             f"${formula(line.general, style=LATEX)}$", middle or "",
                             "" if line.value is None else str(line.value)])
        for ratio_title, ratio_lines in section.ratios:
            for ratio_line in ratio_lines:
                cells = _ratio_cells(ratio_line.ratio, values)
                rows.append([ratio_title, ratio_line.label,
                             f"${formula(ratio_line.ratio.general, style=LATEX)}$",
                             cells[1] if len(cells) > 1 else "",
                             cells[2] if len(cells) > 2 else cells[0]])
    return rows


def latex(report: Comparison | GeneralFormulas, lang: str = "en") -> list[str]:
    """The phase sections as LaTeX paragraphs and ``align*`` blocks."""
    from symconv.render.latex import _align, escape

    values = report.values if isinstance(report, Comparison) else None
    parts: list[str] = []
    for section in of(report, lang):
        parts.append(rf"\medskip\noindent\textbf{{{escape(section.title, lang)}}}\par")
        parts += [rf"\noindent {escape(note, lang)}" + "\n" for note in section.notes]
        for block in section.blocks:
            parts += [rf"\paragraph{{{escape(block.title, lang)}}}"] if block.title else []
            rows = []
            for line in block.lines:
                label = rf"\text{{{escape(f'{line.group}, {line.quantity}', lang)}}}"
                row = rf"{label} &= {formula(line.general, style=LATEX)}"
                middle = _middle(line, values, LATEX)
                if middle is not None:
                    row += r" \\" + "\n" + rf"&= {middle} = {line.value}"
                rows.append(row)
            parts.append(_align(rows))
        for title, ratio_lines in section.ratios:
            parts.append(rf"\paragraph{{{escape(title, lang)}}}")
            parts.append(_align([
                rf"\text{{{escape(line.label, lang)}}} &= "
                + " = ".join(_latex_ratio(line.ratio, values)) for line in ratio_lines]))
    return parts


def _latex_ratio(ratio: Ratio, values: Mapping[sympy.Basic, object] | None) -> list[str]:
    cells = _ratio_cells(ratio, values, LATEX)
    if len(cells) == 3:
        cells[2] = (sympy.latex(ratio.value) + rf" \approx {float(ratio.value):.3g}")  # type: ignore[arg-type]
    return cells


def html(report: Comparison | GeneralFormulas, lang: str = "en") -> str:
    """The phase sections as HTML: a section each, a table a block, MathML formulas."""
    from symconv.render.html import _escape, _formula, _table, arithmetic, math

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
                middle = _middle(line, values)
                if middle is not None:
                    row += [math(f"<mrow><mo>=</mo>{arithmetic(middle)}</mrow>"),
                            math(f"<mrow><mo>=</mo><mn>{line.value}</mn></mrow>")]
                rows.append(row)
            out.append((f"<h3>{_escape(block.title)}</h3>" if block.title else "") + _table(
                [_escape(cell) for cell in header], rows))
        for title, ratio_lines in section.ratios:
            rows = []
            for ratio_line in ratio_lines:
                cells = _ratio_cells(ratio_line.ratio, values)
                row = [_escape(ratio_line.label), math(_formula(ratio_line.ratio.general))]
                if values is not None:
                    row += [math(f"<mrow><mo>=</mo>{arithmetic(cells[1])}</mrow>")
                            if len(cells) > 1 else "", _escape(cells[-1])]
                rows.append(row)
            out.append(f"<h3>{_escape(title)}</h3>" + _table(
                [_escape(cell) for cell in header], rows))
        out.append("</section>")
    return "".join(out)
