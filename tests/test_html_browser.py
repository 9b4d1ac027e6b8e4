"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``), driven over the
DevTools protocol through a pipe (tests/browser.py). The report runs no script of its own; the
test evaluates ``getBoundingClientRect()`` in it to see what the browser laid out.

Skipped where Chromium is not installed (``.ci/run`` installs it where it can).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from symconv.cli import main

browser = pytest.importorskip("browser")  # tests/browser.py, beside this file
np = pytest.importorskip("numpy")
image = pytest.importorskip("matplotlib.image")

CHROMIUM = browser.find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")

WIDTH, HEIGHT = 1000, 800

#: What the test asks the page: the boxes of its math and SVG elements, whether the browser
#: knows MathML, and every element wider than the page (a layout that overflows).
MEASURE = """(() => {
  const box = (element) => { const r = element.getBoundingClientRect();
    return {width: r.width, height: r.height, top: r.top + scrollY, left: r.left}; };
  return {
    math: [...document.querySelectorAll("math")].map(box),
    mathml: typeof MathMLElement !== "undefined"
            && document.querySelector("math") instanceof MathMLElement,
    svg: [...document.querySelectorAll("figure > svg")].map((svg) => ({
      ...box(svg), visible: getComputedStyle(svg).visibility === "visible"
                            && getComputedStyle(svg).display !== "none",
      shapes: svg.querySelectorAll("path, text, use").length})),
    scripts: document.scripts.length,
    page: {width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight},
    text: document.body.innerText,
  };
})()"""


def write_report(tmp_path: Path, capsys: pytest.CaptureFixture[str], lang: str) -> Path:
    code = main(["report", "--input", "7x7x3", "--output", "5x5x64", "--lang", lang,
                 "--title", "Homework 3", "--author", "A. Student"])
    out = capsys.readouterr().out
    assert code == 0
    path = tmp_path / f"report_{lang}.html"
    path.write_text(out, encoding="utf-8")
    return path


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_report_renders_in_chromium(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        lang: str) -> None:
    path = write_report(tmp_path, capsys, lang)
    with browser.Browser(CHROMIUM) as chromium:
        chromium.open(path, WIDTH, HEIGHT)
        page = chromium.evaluate(MEASURE)
        png = chromium.screenshot()
        errors = chromium.errors()
    (tmp_path / f"report_{lang}.png").write_bytes(png)  # kept for a look: pytest --basetemp
    assert errors == []
    assert page["scripts"] == 0
    # MathML laid out by the browser: every formula has a box of its own
    assert page["mathml"] is True
    assert len(page["math"]) >= 40
    assert all(box["width"] > 0 and box["height"] > 0 for box in page["math"]), page["math"]
    # The three figures are visible, drawn, one under the other, and share one width
    figures = page["svg"]
    assert len(figures) == 3
    for figure in figures:
        assert figure["visible"] and figure["shapes"] > 20
        assert figure["width"] > 0.5 * WIDTH * 0.8 and figure["height"] > 100
    assert len({round(figure["width"]) for figure in figures}) == 1
    assert figures[0]["top"] < figures[1]["top"] < figures[2]["top"]
    # Nothing wider than the window, and the numbers a reader looks for are on the page
    assert page["page"]["width"] <= WIDTH
    for number in ("43200", "5475", "1728", "219", "73/576 ≈ 0.127"):
        assert number in page["text"]
    # The screenshot shows something: many shades, not one colour
    pixels = image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[0] > HEIGHT and pixels.shape[1] == WIDTH
    assert pixels[..., :3].std() > 0.05
    assert len(np.unique((pixels[..., :3] * 255).astype(int).reshape(-1, 3), axis=0)) > 50


def test_a_page_with_a_broken_image_reports_the_error(tmp_path: Path) -> None:
    # the test can fail: a missing file shows up among the errors the report test asserts empty
    path = tmp_path / "broken.html"
    path.write_text('<!DOCTYPE html><html><body><img src="missing.png"><math><mi>x</mi></math>'
                    "</body></html>", encoding="utf-8")
    with browser.Browser(CHROMIUM) as chromium:
        chromium.open(path, 400, 300)
        errors = chromium.errors()
    assert any("missing.png" in error or "ERR_FILE_NOT_FOUND" in error for error in errors), errors
