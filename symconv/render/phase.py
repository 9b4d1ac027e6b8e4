"""The backward pass and training step of a report (``compare`` / ``derive --phase``), laid out
once (:func:`sections`), for the text, Markdown, LaTeX and HTML renderers to write (JSON:
:mod:`symconv.render.json`).

A section is a titled list of blocks, one a stage, whose lines are a formula, its substitution
(or the values it adds up) and its value; and the ratios SymPy derived.

Examples
--------
>>> from symconv.report.compare import compare
>>> from symconv.render.text import phase_text
>>> for line in phase_text(compare((7, 7, 3), 64, (3, 3), phase="backward")).splitlines()[4:11]:
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

__all__ = ["Line", "Block", "Section", "sections", "of", "middle", "ratio_cells", "markdown_rows"]

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
    backward = training.backward
    # a transposed convolution's input gradient is a direct convolution (gather form)
    transposed = all(stage.general.kind == "transposed" for stage in backward.stages)
    notes = (message("phase.inside" if training.input_grad else "phase.first", lang),
             message("phase.counting_transposed" if transposed else "phase.counting", lang))
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


def middle(line: Line, values: Mapping[sympy.Basic, object] | None, style: object = None
            ) -> str | None:
    """The substitution or the sum of the parts; ``None`` without values."""
    if line.parts:
        return " + ".join(str(part) for part in line.parts)
    if values is None:
        return None
    return substituted(line.general, values) if style is None else substituted(
        line.general, values, style=style)  # type: ignore[arg-type]


def ratio_cells(ratio: Ratio, values: Mapping[sympy.Basic, object] | None,
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


# --- what every format writes -------------------------------------------------------------


def markdown_rows(report: Comparison | GeneralFormulas, lang: str = "en") -> list[list[str]]:
    """Rows of ``[section/block, quantity, $formula$, = ..., value]``."""
    values = report.values if isinstance(report, Comparison) else None
    rows = []
    for section in of(report, lang):
        for block in section.blocks:
            title = f"{section.title}: {block.title}" if block.title else section.title
            for line in block.lines:
                between = middle(line, values)
                rows.append([title, f"{line.group}: {line.quantity}",
                             f"${formula(line.general, style=LATEX)}$", between or "",
                             "" if line.value is None else str(line.value)])
        for ratio_title, ratio_lines in section.ratios:
            for ratio_line in ratio_lines:
                cells = ratio_cells(ratio_line.ratio, values)
                rows.append([ratio_title, ratio_line.label,
                             f"${formula(ratio_line.ratio.general, style=LATEX)}$",
                             cells[1] if len(cells) > 1 else "",
                             cells[2] if len(cells) > 2 else cells[0]])
    return rows
