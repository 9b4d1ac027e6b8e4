"""``symconv report``: the homework answered in one document (issue 15), as HTML and as LaTeX.

The numbers checked here are the founding example's, worked by hand in DESIGN.md (43200 and
1728 for the standard convolution, 675 + 4800 = 5475 and 27 + 192 = 219 for the separable one,
73/576 for their ratio), never read from the code under test. The browser's view of the HTML
page is tests/test_html_browser.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from symconv.cli import main

FOUNDING = ["--input", "7x7x3", "--output", "5x5x64"]
HAND = ("43200", "1728", "675", "4800", "5475", "27", "192", "219", "41600", "600", "3200",
        "3800")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["report", *argv])
    out, err = capsys.readouterr()
    return code, out, err


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Elements:
    elements = Elements()
    elements.feed(page)
    elements.close()
    return elements


@pytest.fixture(scope="module")
def page_en() -> str:
    import io
    from contextlib import redirect_stdout

    buffer = io.StringIO()
    with redirect_stdout(buffer):
        assert main(["report", *FOUNDING, "--title", "Homework <3>", "--author", "A. Student"]) == 0
    return buffer.getvalue()


def test_html_is_one_self_contained_page_without_script(page_en: str) -> None:
    elements = parse(page_en)
    names = [tag for tag, _ in elements.tags]
    assert page_en.startswith("<!DOCTYPE html>") and names.count("html") == 1
    assert "script" not in names and "link" not in names and "iframe" not in names
    assert "img" not in names and "object" not in names
    for tag, attributes in elements.tags:
        assert not any(name.startswith("on") for name in attributes), (tag, attributes)
        for name in ("src", "href"):
            value = attributes.get(name) or ""
            assert value == "" or value.startswith("#"), (tag, name, value)  # only in-page refs
    assert "@import" not in page_en and "url(http" not in page_en
    policy = [attributes["content"] for tag, attributes in elements.tags
              if tag == "meta" and attributes.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in policy[0]


def test_html_holds_every_part_of_the_answer(page_en: str) -> None:
    elements = parse(page_en)
    sections = [attributes.get("id") for tag, attributes in elements.tags if tag == "section"]
    assert sections == ["symbols", "setting", "diagrams", "stages", "comparison", "ratio",
                        "verification"]
    text = " ".join(" ".join(elements.text).split())
    assert "Homework <3>" in text and "A. Student" in text
    for number in HAND:
        assert re.search(rf"\b{number}\b", text), number
    assert "73/576 ≈ 0.127" in text  # the comparison table's ratio
    assert "All 3 stages match their formulas." in text
    # the legend: M = 3, N = 64, k = 3, H_o = W_o = 5, and the paper's D_K and D_F
    legend = page_en[page_en.index('id="symbols"'):page_en.index('id="setting"')]
    for meaning, value in [("input channels", "3"), ("output channels", "64"),
                           ("kernel size (k×k)", "3"), ("output height and width", "5, 5")]:
        assert f"<td>{meaning}</td><td>{value}</td>" in legend
    assert "<mrow><msub><mi>D</mi><mi>K</mi></msub></mrow><mo>=</mo><mi>k</mi>" in legend
    assert "<msub><mi>D</mi><mi>F</mi></msub>" in legend


def test_html_math_is_mathml_from_sympy(page_en: str) -> None:
    maths = re.findall(r"<math(?: display=\"block\")?>(.*?)</math>", page_en, re.S)
    assert len(maths) >= 40
    assert all(inner.count("<") >= 2 and "$" not in inner and "\\" not in inner for inner in maths)
    # the ratio derived: 1/k² + 1/N as fractions, and its value 73/576
    ratio = page_en[page_en.index('id="ratio"'):page_en.index('id="verification"')]
    assert "<mfrac><mn>1</mn><msup><mi>k</mi><mn>2</mn></msup></mfrac>" in ratio
    assert "<mfrac><mn>1</mn><mi>N</mi></mfrac>" in ratio
    assert "<mfrac><mn>73</mn><mn>576</mn></mfrac>" in ratio
    assert "7.9× fewer" in ratio
    # a substitution is the student's arithmetic, unevaluated
    assert ("<mn>5</mn><mo>×</mo><mn>5</mn><mo>×</mo><mn>3</mn><mo>×</mo><mn>3</mn><mo>×</mo>"
            "<mn>3</mn><mo>×</mo><mn>64</mn>") in page_en


def test_html_embeds_three_svg_figures_with_unique_ids(page_en: str) -> None:
    elements = parse(page_en)
    svgs = [attributes for tag, attributes in elements.tags if tag == "svg"]
    assert len(svgs) == 3
    assert [attributes.get("aria-label") for attributes in svgs] == [
        "Standard convolution", "Depthwise stage", "Pointwise stage"]
    ids = [attributes["id"] for _, attributes in elements.tags if "id" in attributes]
    assert len(ids) == len(set(ids))
    # the three figures are drawn one width (one scale side by side)
    widths = {attributes["width"] for attributes in svgs}
    assert len(widths) == 1
    for label in ("input 7×7×3", "64 kernels 3×3×3", "output 5×5×64", "3 kernels 3×3×1",
                  "64 kernels 1×1×3"):
        assert label in page_en


def test_html_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *FOUNDING, "--lang", "zh")
    assert code == 0
    assert '<html lang="zh-Hans">' in out
    for words in ("符号", "输入通道数", "标准卷积", "深度卷积", "逐点卷积", "执行验证", "全部 3 个阶段与公式一致。"):
        assert words in out, words


def latex_available(engine: str) -> bool:
    return shutil.which(engine) is not None


def test_latex_standalone_writes_the_tex_beside_three_pdf_figures(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "answer"
    code, out, _ = run(capsys, *FOUNDING, "--format", "latex", "--standalone", "--out-dir",
                       str(out_dir), "--title", "Homework 3", "--author", "A. Student")
    assert code == 0
    assert out.splitlines() == [str(out_dir / name) for name in
                                ("report.tex", "standard.pdf", "depthwise.pdf", "pointwise.pdf")]
    tex = (out_dir / "report.tex").read_text(encoding="utf-8")
    for name in ("standard.pdf", "depthwise.pdf", "pointwise.pdf"):
        assert rf"\includegraphics[width=0.95\linewidth]{{{name}}}" in tex
        assert (out_dir / name).read_bytes().startswith(b"%PDF")
    assert r"\maketitle" not in tex and r"\allowdisplaybreaks" not in tex
    assert r"\frac{1}{9} + \frac{1}{64} = \frac{73}{576}" in tex
    if not (latex_available("pdflatex") and latex_available("pdftotext")):
        pytest.skip("pdflatex or pdftotext is not installed")
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                          cwd=out_dir, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    log = (out_dir / "report.log").read_text(encoding="utf-8", errors="replace")
    assert "No \\author given" not in log and "Warning" not in log
    text = subprocess.run(["pdftotext", "-layout", "report.pdf", "-"], cwd=out_dir,
                          capture_output=True, text=True, check=True).stdout
    for number in ("43200", "5475", "1728", "219", "576"):
        assert number in text
    # the figures' own text is in the PDF: they are embedded, not referenced
    assert "64 kernels 3×3×3" in text.replace(" × ", "×") or "64 kernels 3" in text
    assert "Homework 3" in text and "A. Student" in text


def test_pdf_is_compiled_for_the_user(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not (latex_available("xelatex") and latex_available("pdftotext")):
        pytest.skip("xelatex or pdftotext is not installed")
    target = tmp_path / "answer.pdf"
    code, out, err = run(capsys, *FOUNDING, "--lang", "zh", "--pdf", str(target))
    assert code == 0, err
    assert out.strip() == str(target) and target.read_bytes().startswith(b"%PDF")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["answer.pdf"]  # nothing else left
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "深度可分离卷积" in text and "5475" in text


def test_pdf_without_a_tex_engine_says_what_to_install(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *_, **__: None)
    code, out, err = run(capsys, *FOUNDING, "--pdf", str(tmp_path / "answer.pdf"))
    assert code == 2 and out == ""
    assert err.count("\n") == 1
    assert "--pdf needs pdflatex, which is not installed" in err and "apt-get install" in err
    assert not (tmp_path / "answer.pdf").exists()


@pytest.mark.parametrize(("argv", "words"), [
    (["--standalone"], "--standalone goes with --format latex"),
    (["--out-dir", "x"], "--out-dir goes with --format latex"),
    (["--format", "latex"], "--format latex needs --out-dir DIR"),
    (["--format", "markdown"], "--format markdown is not available for report"),
    (["--format", "html", "--pdf", "a.pdf"], "--pdf writes a PDF from LaTeX; drop --format html"),
    (["--pdf", "a.pdf", "--out-dir", "x"], "--pdf makes the complete document itself"),
    (["--pdf", "a.txt"], "should name a .pdf file"),
    (["--lang", "fr"], "--lang fr is not known"),
    (["--seed", "-1"], "--seed"),
])
def test_options_that_do_nothing_together_are_refused(
        capsys: pytest.CaptureFixture[str], argv: list[str], words: str) -> None:
    code, out, err = run(capsys, *FOUNDING, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and words in err, err
