"""The LaTeX report as files: ``report.tex`` beside its three figures, and, compiled, a PDF.

:func:`write_latex_report` writes ``report.tex`` (:func:`symconv.render.latex.render_report`,
a complete document with ``standalone=True``) and ``standard.pdf``, ``depthwise.pdf`` and
``pointwise.pdf`` (:func:`symconv.render.diagram.draw_separable_stages`) into one directory, so
that ``pdflatex report.tex`` (``xelatex`` for Chinese) compiles there. :func:`write_pdf_report`
does that in a temporary directory, runs the engine, and keeps only the PDF.

Examples
--------
>>> engine_for("zh")
'xelatex'
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import tempfile
from typing import TYPE_CHECKING

from symconv.errors import SymconvError, shown
from symconv.render.latex import ENGINES, render_report
from symconv.render.latex import standalone as wrap

if TYPE_CHECKING:
    from symconv.report.homework import Homework

__all__ = ["write_latex_report", "write_pdf_report", "engine_for"]

#: How to install each engine on Debian or Ubuntu, for the error that says it is missing.
_INSTALL = {
    "pdflatex": "apt-get install texlive-latex-base texlive-latex-recommended",
    "xelatex": "apt-get install texlive-xetex texlive-lang-chinese",
}
#: Seconds a compilation may take before it is stopped.
_TIMEOUT = 300


def engine_for(lang: str) -> str:
    """The TeX engine that compiles a report in ``lang``."""
    return ENGINES[lang]


def write_latex_report(answer: Homework, out_dir: str | os.PathLike[str], lang: str = "en", *,
                       standalone: bool = False) -> list[pathlib.Path]:
    """Write ``report.tex`` and its three figures (PDF) into ``out_dir`` (created if missing);
    return the four paths, the ``.tex`` first."""
    from symconv.render.diagram import draw_separable_stages

    result = answer.comparison
    figures = draw_separable_stages(
        result.input_shape, result.output_shape[2], result.kernel, stride=result.stride,
        padding=result.padding, dilation=result.dilation, bias=result.bias, out_dir=out_dir,
        image="pdf", lang=lang,
    )
    text = render_report(answer, lang, figures=[path.name for path in figures])
    if standalone:
        text = wrap(text, lang, title=answer.title, author=answer.author)
    target = figures[0].parent / "report.tex"
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as error:
        raise SymconvError(f"{shown(str(target))} could not be written ({error.strerror}); "
                           "choose another --out-dir") from None
    return [target, *figures]


def _first_error(log: str) -> str:
    """The first ``! ...`` line of a TeX log, or its last non-empty line."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("!"):
            return line
    return lines[-1] if lines else "no output"


def write_pdf_report(answer: Homework, pdf: str | os.PathLike[str], lang: str = "en") -> pathlib.Path:
    """Compile the complete LaTeX report into ``pdf`` with the engine of ``lang``; a missing
    engine or a failed compilation is a :class:`SymconvError` saying what to do."""
    engine = engine_for(lang)
    target = pathlib.Path(os.fsdecode(os.fspath(pdf)))
    if target.suffix.lower() != ".pdf":   # the user's own argument first, whatever is installed
        raise SymconvError(f"--pdf {shown(str(target))} should name a .pdf file, like report.pdf")
    if target.is_dir():
        raise SymconvError(f"--pdf {shown(str(target))} is a directory; give a file name")
    program = shutil.which(engine)
    if program is None:
        raise SymconvError(f"--pdf needs {engine}, which is not installed: {_INSTALL[engine]}; "
                           "or write the LaTeX with --format latex --standalone --out-dir DIR "
                           "and compile it elsewhere")
    with tempfile.TemporaryDirectory(prefix="symconv-report-") as work:
        tex = write_latex_report(answer, work, lang, standalone=True)[0]
        try:
            done = subprocess.run(
                [program, "-interaction=nonstopmode", "-halt-on-error", tex.name],
                cwd=work, capture_output=True, text=True, errors="replace", timeout=_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise SymconvError(f"{engine} took more than {_TIMEOUT} s and was stopped") from None
        built = tex.with_suffix(".pdf")
        if done.returncode != 0 or not built.is_file():
            raise SymconvError(f"{engine} failed: {_first_error(done.stdout)} (please report; "
                               "--format latex --standalone --out-dir DIR keeps the .tex)")
        try:
            shutil.copyfile(built, target)
        except OSError as error:
            raise SymconvError(f"--pdf {shown(str(target))} could not be written "
                               f"({error.strerror})") from None
    return target
