"""Reports: LaTeX that compiles, formulas that parse back, Markdown tables, the language catalogue."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy

from symconv import symbols
from symconv.cli import main
from symconv.render import FORMATS, renderer
from symconv.render.catalogue import CATALOGUES
from symconv.render.json import latex
from symconv.render.latex import ENGINES, render_comparison, standalone
from symconv.report.compare import compare
from symconv.report.kinds import KINDS, derive_kind

FOUNDING = compare((7, 7, 3), 64, (3, 3), kernel_inferred=True)
CANONICAL = {str(symbol): symbol for symbol in vars(symbols).values() if isinstance(symbol, sympy.Symbol)}
CANONICAL.update({name: symbol for symbol, name in symbols.LATEX_NAMES.items()})


def parse_back(text: str) -> sympy.Expr:
    parse_latex = pytest.importorskip("sympy.parsing.latex").parse_latex
    try:
        parsed = parse_latex(text)
    except ImportError as error:  # antlr4 missing or of the wrong version
        pytest.skip(f"SymPy's LaTeX parser is unavailable: {error}")
    return parsed.xreplace({free: CANONICAL[free.name] for free in parsed.free_symbols})


def every_formula() -> list[sympy.Expr]:
    found = []
    for stage in FOUNDING.stages:
        found += [stage.general.mults, stage.general.adds, stage.general.params]
    found += [FOUNDING.mults_ratio.general, FOUNDING.params_ratio.general]
    for kind in KINDS:
        general = derive_kind(kind, bias=True).cost
        found += [general.mults, general.adds, general.params]
    found += [symbols.alpha**2 * symbols.rho**2 * 569, compare((7, 7, 3), 64, (3, 3), bias=True).params_ratio.general]
    return found


@pytest.mark.parametrize("expr", every_formula(), ids=str)
def test_json_latex_parses_back_to_the_same_expression(expr: sympy.Expr) -> None:
    back = parse_back(latex(expr))
    assert sympy.expand(back - expr) == 0


def test_latex_names_print_nicely() -> None:
    text = latex(symbols.H_o * symbols.k**2 * symbols.alpha)
    assert "H_{o}" in text and "k^{2}" in text and r"\alpha" in text


def test_latex_report_shows_formula_product_and_value() -> None:
    report = render_comparison(FOUNDING)
    assert r"H_{o} \cdot W_{o} \cdot k^{2} \cdot M \cdot N" in report
    assert r"&= 5 \times 5 \times 3 \times 3 \times 3 \times 64 \\" in report
    assert "&= 43200" in report and "&= 675" in report and "&= 4800" in report
    assert "675 + 4800 = 5475" in report
    assert r"\frac{73}{576}" in report and r"\frac{1}{k^{2}} + \frac{1}{N}" in report
    assert report.count(r"\begin{align*}") == report.count(r"\end{align*}")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_standalone_documents_compile(tmp_path: Path, lang: str) -> None:
    engine = ENGINES[lang]
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed (.ci/run installs TeX Live where apt-get works)")
    document = standalone(render_comparison(FOUNDING, lang), lang)
    (tmp_path / "report.tex").write_text(document, encoding="utf-8")
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "report.pdf").stat().st_size > 1000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "report.pdf", "-"], cwd=tmp_path, capture_output=True,
                              text=True, check=True).stdout
        assert "43200" in text and "5475" in text
        if lang == "zh":
            assert "深度可分离卷积" in text


def test_derive_latex_compiles_as_a_fragment(tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    for kind in KINDS:
        fragment = renderer("latex").render_kind(derive_kind(kind), "en")
        (tmp_path / f"{kind}.tex").write_text(standalone(fragment), encoding="utf-8")
        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{kind}.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
        assert done.returncode == 0, (kind, done.stdout[-2000:])


def test_markdown_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    legend, report = out.split("**7×7×3 → 5×5×64**")
    assert legend.startswith("**Symbols**")
    assert "| $M$ | input channels | 3 |" in legend
    assert "| $D_{F} = H_{o} = W_{o}$ | feature-map size, as the MobileNet paper writes it (square maps) | 5 |" in legend
    rows = [line for line in report.splitlines() if line.startswith("|")]
    assert rows[1] == "|---|---|---|---|---|"
    assert all(row.count(" | ") == 4 for row in rows if not row.startswith("|-"))
    assert any("5 × 5 × 3 × 3 × 3 × 64 | 43200" in row for row in rows)
    assert any("675 + 4800 | 5475" in row for row in rows)


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize("lang", sorted(CATALOGUES))
def test_every_format_and_language_renders(capsys: pytest.CaptureFixture[str], fmt: str, lang: str) -> None:
    assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", fmt, "--lang", lang]) == 0
    assert "5475" in capsys.readouterr().out
    assert main(["derive", "separable", "--format", fmt, "--lang", lang]) == 0
    capsys.readouterr()


def test_chinese_uses_the_course_terms(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "markdown", "latex"):
        main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", fmt, "--lang", "zh"])
        out = capsys.readouterr().out
        for term in ("标准卷积", "深度卷积", "逐点卷积", "深度可分离卷积", "参数量", "计算量"):
            assert term in out, (fmt, term)


def test_catalogues_have_the_same_keys() -> None:
    assert set(CATALOGUES["zh"]) == set(CATALOGUES["en"])


def test_standalone_needs_latex(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--standalone"]) == 2
    assert "--standalone goes with --format latex" in capsys.readouterr().err
    assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "latex", "--standalone"]) == 0
    assert capsys.readouterr().out.rstrip().endswith(r"\end{document}")


def test_notebook_display() -> None:
    from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
    from symconv.networks.zoo import mobilenet_v1

    single = cost(Conv2d(symbols.M, symbols.N, symbols.k), (symbols.H, symbols.W, symbols.M))
    assert single._repr_markdown_() is None  # a notebook then shows the LaTeX
    assert single._repr_latex_().startswith("$\\displaystyle")
    separable = cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    table = separable._repr_markdown_()
    assert table is not None and "| depthwise | depthwise | 7×7×3 | 5×5×3 | 675 |" in table
    assert "| **total** | separable | 7×7×3 | 5×5×64 | 5475 | 3800 | 219 |" in table
    network = cost(mobilenet_v1(symbols.alpha, symbols.rho))._repr_markdown_()
    assert network is not None and r"\alpha" in network and network.count("\n") > 50
    assert "frac" in ratio(separable.mults, cost(Conv2d(3, 64, 3), (7, 7, 3)).mults)._repr_latex_()


@pytest.mark.parametrize(
    ("argv", "lang"),
    [
        (["net", "mobilenet_v1", "--per-layer"], "en"),
        (["net", "mobilenet_v2", "--alpha", "1/2", "--per-layer"], "zh"),
        (["verify", "--input", "7x7x3", "--output", "5x5x64"], "en"),
    ],
)
def test_net_and_verify_documents_compile(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          argv: list[str], lang: str) -> None:
    engine = ENGINES[lang]
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    assert main([*argv, "--format", "latex", "--standalone", "--lang", lang]) == 0
    (tmp_path / "report.tex").write_text(capsys.readouterr().out, encoding="utf-8")
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:]


def test_latex_fragments_say_what_they_need_and_keep_fewer(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["compare", "--input", "7x7x3", "--output", "5x5x64"], ["derive", "separable"],
                 ["verify", "--input", "7x7x3", "--output", "5x5x64"],
                 ["net", "mobilenet_v1", "--alpha", "1", "--resolution", "128", "--per-layer"]):
        assert main([*argv, "--format", "latex"]) == 0
        lines = capsys.readouterr().out.splitlines()
        needs = [line for line in lines if line.startswith("% needs:")]
        if argv[0] != "verify":  # a tabular needs nothing beyond LaTeX itself
            assert needs and r"\usepackage{amsmath}" in needs[0], argv
        if argv[0] == "net":
            assert r"\usepackage{longtable}" in needs[0]
        if argv[0] == "compare":
            assert any(r"\quad\text{(7.9\ensuremath{\times} fewer)}" in line for line in lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_derivation_is_never_split_across_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  lang: str) -> None:
    engine = {"en": "pdflatex", "zh": "xelatex"}[lang]
    if shutil.which(engine) is None or shutil.which("pdftotext") is None:
        pytest.skip(f"{engine} or pdftotext is not installed")
    assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "latex",
                 "--standalone", "--lang", lang]) == 0
    document = capsys.readouterr().out
    # amsmath keeps each align* on one page unless \allowdisplaybreaks says otherwise (issue 15:
    # compare_zh.pdf split "= 5×5×3×(3×3−1)" from "= 600"); the pages below are the proof
    assert "\\allowdisplaybreaks" not in document and "\\maketitle" not in document
    (tmp_path / "compare.tex").write_text(document, encoding="utf-8")
    done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "compare.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (tmp_path / "compare.log").read_text(encoding="utf-8", errors="replace")
    assert "No \\author given" not in log
    pages = subprocess.run(["pdftotext", "-layout", "compare.pdf", "-"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.split("\f")
    assert len([page for page in pages if page.strip()]) >= 2  # the test means something
    # each derivation: its formula, its substitution and its value on one page
    for substitution, value in [("5 × 5 × 3 × (3 × 3 − 1)", "= 600"),
                                ("5 × 5 × 64 × (3 × 3 × 3 − 1)", "= 41600"),
                                ("5 × 5 × 64 × (3 − 1)", "= 3200"), ("5 × 5 × 3 × 64", "= 4800")]:
        holding = [page for page in pages if substitution in " ".join(page.split())]
        assert len(holding) == 1, substitution
        assert value in " ".join(holding[0].split()), (substitution, value)


def test_notebook_and_cli_markdown_tables_are_the_same(capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: _repr_markdown_ and --format markdown wrote two different tables
    from symconv import cost
    from symconv.networks.zoo import mobilenet_v1

    notebook = cost(mobilenet_v1(1, resolution=128))._repr_markdown_()
    assert main(["net", "mobilenet_v1", "--alpha", "1", "--resolution", "128", "--per-layer",
                 "--format", "markdown"]) == 0
    cli = capsys.readouterr().out
    notebook_rows = notebook.splitlines()
    header = notebook_rows[0]
    cli_rows = [line for line in cli.splitlines() if line.startswith("| ")]
    cli_header = next(line for line in cli_rows if line.startswith("| layer |"))
    # the CLI adds the convention's count and share to the same columns
    assert cli_header.startswith(header.removesuffix(" |"))
    assert cli_header.endswith("| MACs | share |")
    layers = [line for line in cli_rows[cli_rows.index(cli_header) + 1:]]
    body = notebook_rows[2:-1]  # less the separator and the total row
    assert len(layers) == len(body)
    for mine, theirs in zip(layers, body):
        assert mine.startswith(theirs.removesuffix(" |"))


def test_per_layer_rows_carry_the_convention_and_its_share(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["net", "mobilenet_v1", "--alpha", "1", "--resolution", "224", "--per-layer"]
    assert main([*argv, "--depth", "1", "--format", "json"]) == 0
    import json

    report = json.loads(capsys.readouterr().out)
    layers = report["layers"]
    assert [layer["name"] for layer in layers][:3] == ["conv1", "block1", "block2"]
    # MobileNet V1's 568740352 MACs (the paper's 569 M) split over its 16 top-level modules
    assert len(layers) == 16 and sum(layer["macs"] for layer in layers) == 568740352
    # conv1: 112·112·32 outputs of 3·3·3 products each = 10838016, of 568740352
    assert layers[0]["macs"] == 112 * 112 * 32 * 27
    assert layers[0]["share"] == str(sympy.Rational(112 * 112 * 32 * 27, 568740352))
    assert main([*argv, "--depth", "1", "--units", "si"]) == 0
    text = capsys.readouterr().out
    assert "  MACs             568.74 M" in text
    conv1 = next(line for line in text.splitlines() if line.startswith("conv1 "))
    assert conv1.split()[-3:] == ["10.84", "M", "1.9"] or conv1.endswith("10.84 M  1.9 %")
    assert main([*argv, "--units", "comma"]) == 0
    assert "568,740,352" in capsys.readouterr().out


def test_a_branch_s_routing_rows_are_hidden() -> None:
    from symconv.derive import cost
    from symconv.layers import Conv2d, ReLU, Sequential
    from symconv.layers.graph import Reuse
    from symconv.report.analysis import layer_counts

    # a branch goes back to the conv's output: the routing stage counts nothing and is hidden
    net = Sequential(("conv", Conv2d(3, 4, 1)), ("reuse:conv", Reuse("conv", (4, 4, 4))),
                     ("relu", ReLU()))
    layers, _ = layer_counts(cost(net, (4, 4, 3)), "macs")
    assert [row.name for row in layers] == ["conv", "relu"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_training_step_fits_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                         lang: str) -> None:
    # compare --phase train: the separable convolution's training-step additions,
    # 3·H_o·W_o·M·N + 3·H_o·W_o·k²·M − H_o·W_o·M − H_o·W_o·N − M·N − k²·M beside its label, ran
    # 106 pt past the right margin (cut off in the PDF); long formulas now break before a sign
    engine = {"en": "pdflatex", "zh": "xelatex"}[lang]
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    for phase in ("backward", "train"):
        assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--phase", phase,
                     "--format", "latex", "--standalone", "--lang", lang]) == 0
        (tmp_path / "phase.tex").write_text(capsys.readouterr().out, encoding="utf-8")
        done = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "phase.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=240,
                              check=False)
        assert done.returncode == 0, done.stdout[-2000:]
        log = (tmp_path / "phase.log").read_text(encoding="utf-8", errors="replace")
        assert "Overfull \\hbox" not in log, (phase, log[log.find("Overfull"):][:300])


def test_a_symbolic_per_layer_table_stays_on_the_paper(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    # net mobilenet_v2 --phase train --per-layer: the rows' formulas in alpha and rho made the
    # table 225 pt and 315 pt wider than the text, past the 2 cm margin (56.9 pt), so that the
    # last columns were cut off the page; the count columns now wrap their formulas
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed")
    assert main(["net", "mobilenet_v2", "--phase", "train", "--optimizer", "adam",
                 "--per-layer", "--format", "latex", "--standalone"]) == 0
    (tmp_path / "net.tex").write_text(capsys.readouterr().out, encoding="utf-8")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "net.tex"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (tmp_path / "net.log").read_text(encoding="utf-8", errors="replace")
    over = [float(points) for points in re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\)", log)]
    assert max(over, default=0.0) < 56.9, max(over)
