"""Every user-controlled string is escaped for its format (issue 16).

A network whose layers carry hostile names (HTML, newlines, ANSI escapes, NUL, CJK, emoji, the
LaTeX and Markdown specials) and whose title — the model path ``symconv net`` reports — tries to
end a LaTeX comment and ``\\input`` a file, is rendered in every format. Each report must keep
one line per row, show every name visibly, carry no raw control character, and (LaTeX) compile
without reading the file; JSON must give every name back exactly. Then: error messages are one
short line, and every ``latex`` field of ``derive`` and ``compare --format json`` parses back.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sympy

from symconv import symbols
from symconv.cli import main
from symconv.errors import MESSAGE_LIMIT, SymconvError, shown
from symconv.layers import Conv2d, ReLU, Sequential
from symconv.networks.reconcile import compare_conventions
from symconv.render import json as json_render
from symconv.render import latex, markdown, text
from symconv.render.notebook import cost_markdown
from symconv.report.analysis import analyse
from symconv.report.kinds import KINDS
from symconv.verify import verify

#: Layer names a user's PyTorch model can carry (``add_module`` takes any string without '.').
NAMES = (
    "<img src=x onerror=alert(1)>", "evil\nname", "\x1b[31mred\x1b[0m", "nul\x00byte", "卷积层",
    "emoji😀", "50%", "back\\slash", "{braces}", "$m$ & #h ^ _ ~",
    "`t` *s* [l](javascript:x) |p|", "\u202eevil", "del\x7f c1\x9b", "line\u2028sep",
    "tab\there\r", "sur\udcffrogate", "\\input{/etc/hostname}",
)
BENIGN = tuple(f"layer{index}" for index in range(len(NAMES)))
SECRET_TEXT = "TOPSECRETCONTENT"


def hostile_title(secret: Path) -> str:
    """A model path that ends a comment and reads ``secret``, then tries to run a command."""
    return (f"model\n\\input{{{secret}}}\n\\write18{{touch {secret.parent / 'pwned'}}}\r"
            ".py:factory\x1b[2J")


def network(names: tuple[str, ...]) -> Sequential:
    layers = [("first", Conv2d(3, 4, 3, padding=1)), *((name, ReLU()) for name in names)]
    return Sequential(*layers, input_shape=(4, 4, 3))


def reports(module: object, title: str, names: tuple[str, ...], lang: str = "en") -> Iterator[str]:
    """The network, verification and conventions reports that ``module`` offers."""
    net = network(names)
    yield module.render_network(analyse(title, net, per_layer=True), lang)  # type: ignore[attr-defined]
    yield module.render_verification([verify(net)], lang, 0, title=title)  # type: ignore[attr-defined]
    if hasattr(module, "render_conventions"):
        yield module.render_conventions(compare_conventions(title, net), lang)


def hidden(char: str) -> bool:
    """A character that must never reach a terminal or a document raw."""
    return (unicodedata.category(char) in {"Cc", "Cs", "Zl", "Zp"} and char != "\n") or (
        char in "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    )


def raw_controls(report: str) -> list[str]:
    return sorted({repr(char) for char in report if hidden(char)})


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("module", [text, markdown], ids=["text", "markdown"])
def test_names_never_add_lines_or_reach_the_terminal_raw(tmp_path: Path, module: object,
                                                        lang: str) -> None:
    title = hostile_title(tmp_path / "secret")
    for index, (hostile, benign) in enumerate(zip(
        reports(module, title, NAMES, lang), reports(module, "model.py:factory", BENIGN, lang)
    )):
        assert raw_controls(hostile) == []
        assert len(hostile.splitlines()) == len(benign.splitlines())
        assert module.escape(title) in hostile  # type: ignore[attr-defined]
        hostile.encode("utf-8")  # a lone surrogate would make print() fail
        if index == 2:  # the conventions report names kinds of layer, not layers
            continue
        for name in NAMES:
            escaped = module.escape(name)  # type: ignore[attr-defined]
            assert escaped in hostile or escaped.replace("|", r"\|") in hostile, name


def pipes(line: str) -> int:
    """The cell separators of a Markdown table row: ``|`` not escaped by a backslash."""
    count, index = 0, 0
    while index < len(line):
        if line[index] == "\\":
            index += 2
            continue
        count += line[index] == "|"
        index += 1
    return count


def markdown_reports(tmp_path: Path) -> Iterator[str]:
    from symconv import cost

    yield from reports(markdown, hostile_title(tmp_path / "secret"), NAMES)
    yield cost_markdown(cost(network(NAMES)))


def test_markdown_tables_keep_their_rows_and_cells(tmp_path: Path) -> None:
    for report in markdown_reports(tmp_path):
        for block in report.split("\n\n"):
            lines = block.splitlines()
            if len(lines) < 2 or not lines[1].startswith("|---"):
                continue
            assert {pipes(line) for line in lines} == {pipes(lines[0])}, block


def test_markdown_shows_names_as_text_not_markup(tmp_path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    parser = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table")
    for report in markdown_reports(tmp_path):
        html = parser.render(report)
        assert "<img" not in html and "<em>" not in html and "<code>" not in html
        assert "<a " not in html and "<br" not in html
        if "onerror" not in html:  # the conventions report names kinds of layer, not layers
            continue
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert "*s*" in html and "[l](javascript:x)" in html and "$m$ &amp; #h ^ _ ~" in html
        assert "back\\slash" in html and "`t`" in html


def test_escapes_are_visible() -> None:
    assert text.escape("evil\nname\x1b[31m\x00\x7f\x9b\u202e") == r"evil\nname\x1b[31m\x00\x7f\x9b\u202e"
    assert markdown.escape("evil\nname") == r"evil\\nname"  # shows as evil\nname
    assert text.escape("卷积😀 ok") == "卷积😀 ok"


def test_markdown_escape_shows_each_special_character() -> None:
    assert markdown.escape("a|b") == "a|b"  # table() escapes the pipe, once
    assert markdown.table(["x"], [[markdown.escape("a|b\\")]]).splitlines()[2] == r"| a\|b\\ |"
    assert markdown.escape("snake_case") == r"snake\_case"
    assert markdown.escape("&lt;") == "&amp;lt;"


ENGINE_CASES = [("en", "pdflatex"), ("zh", "xelatex")]


@pytest.mark.parametrize(("lang", "engine"), ENGINE_CASES)
def test_latex_with_hostile_names_compiles_and_reads_no_file(tmp_path: Path, lang: str,
                                                             engine: str) -> None:
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed")
    secret = tmp_path / "secret"
    secret.with_suffix(".tex").write_text(SECRET_TEXT + "\n", encoding="utf-8")
    secret.write_text(SECRET_TEXT + "\n", encoding="utf-8")
    title = hostile_title(secret)
    for index, fragment in enumerate(reports(latex, title, NAMES, lang)):
        document = latex.standalone(fragment, lang)
        assert raw_controls(document) == []
        for line in document.splitlines():
            assert not line.startswith((r"\input", r"\write18")), line
        name = f"report{index}"
        (tmp_path / f"{name}.tex").write_text(document, encoding="utf-8")
        done = subprocess.run(
            [engine, "-shell-escape", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"],
            cwd=tmp_path, capture_output=True, timeout=240, check=False,
        )
        log = done.stdout.decode("utf-8", "replace")
        assert done.returncode == 0, log[-2000:]
        assert SECRET_TEXT not in log
        assert not (tmp_path / "pwned").exists()
        if shutil.which("pdftotext"):
            shown_text = subprocess.run(["pdftotext", f"{name}.pdf", "-"], cwd=tmp_path,
                                        capture_output=True, check=True).stdout.decode()
            assert SECRET_TEXT not in shown_text
            assert "input{" in shown_text and "onerror" in shown_text


def test_latex_escape_writes_what_the_engine_cannot_typeset_as_code_points() -> None:
    assert latex.escape("卷积😀", "en") == r"\texttt{U+5377}\texttt{U+79EF}\texttt{U+1F600}"
    assert latex.escape("卷积😀", "zh") == r"卷积\texttt{U+1F600}"
    assert latex.escape("a\x1b\n", "zh") == r"a\textbackslash{}x1b\textbackslash{}n"
    assert latex.escape("é ß Ł") == "é ß Ł"
    assert latex.comment("a\nb\rc") == r"% symconv: a\nb\rc"


@pytest.mark.parametrize("render", [json_render.render_network, json_render.render_verification,
                                    json_render.render_conventions])
def test_json_gives_every_name_back_exactly(tmp_path: Path,
                                            render: Callable[..., str]) -> None:
    title = hostile_title(tmp_path / "secret")
    net = network(NAMES)
    if render is json_render.render_network:
        report = render(analyse(title, net, per_layer=True))
        assert raw_controls(report) == []
        loaded = json.loads(report)
        assert loaded["network"] == title
        assert [layer["name"] for layer in loaded["layers"]] == ["first", *NAMES]
    elif render is json_render.render_verification:
        report = render([verify(net)], "en", 0, title=title)
        loaded = json.loads(report)
        assert [stage["name"] for stage in loaded["stages"]] == ["first", *NAMES]
    else:
        report = render(compare_conventions(title, net))
        assert json.loads(report)["network"] == title
    assert raw_controls(report) == []
    report.encode("utf-8")


def test_an_error_message_is_one_short_line() -> None:
    message = "bad value 'a\nb\x00c\x1b[2J" + "x" * 1_000_000 + "'"
    written = str(SymconvError(message))
    assert len(written) <= MESSAGE_LIMIT and raw_controls(written) == []
    assert "\n" not in written and r"a\nb\x00c\x1b[2J" in written
    left_out = re.fullmatch(r".*…\((\d+) more characters\)", written)
    assert left_out is not None and 999_000 < int(left_out.group(1)) < len(message)
    assert str(SymconvError("groups=4 must divide in_channels=6")) == \
        "groups=4 must divide in_channels=6"
    assert shown("a\nb" + "y" * 200) == repr("a\nb" + "y" * 77) + "…(123 more characters)"


@pytest.mark.parametrize("argv", [
    ["derive", "standard", "--lang", "e\nn\x1b[2J" + "x" * 1_000_000],
    ["derive", "standard", "--format", "te\x00xt\n" * 100_000],
    ["compare", "--input", "7x7x3\n\x1b[31m" + "9" * 1_000_000, "--output", "5x5x64"],
])
def test_cli_errors_are_one_short_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("symconv: error: ") and err.count("\n") == 1 and err.endswith("\n")
    assert len(err) < 1100 and raw_controls(err) == []


CANONICAL = {str(symbol): symbol for symbol in vars(symbols).values()
             if isinstance(symbol, sympy.Symbol)}
CANONICAL.update({name: symbol for symbol, name in symbols.LATEX_NAMES.items()})


def latex_fields(report: object) -> Iterator[tuple[str, str]]:
    """Every ``{"formula", "latex"}`` pair of a JSON report, at any depth."""
    if isinstance(report, dict):
        if "latex" in report:
            yield report["formula"], report["latex"]
        for value in report.values():
            yield from latex_fields(value)
    elif isinstance(report, list):
        for value in report:
            yield from latex_fields(value)


DERIVE = [["derive", kind, *bias, "--dims", dims]
          for kind in KINDS for bias in ([], ["--bias"]) for dims in ("1", "2", "3")]
COMPARE = [
    ["compare", "--input", "7x7x3", "--output", "5x5x64"],
    ["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--stride", "2",
     "--padding", "1", "--dilation", "2", "--bias"],
    ["compare", "--input", "9x11x4", "--out-channels", "8", "--kernel", "3x5"],
]


@pytest.mark.parametrize("argv", DERIVE + COMPARE, ids=" ".join)
def test_every_json_latex_field_parses_back(capsys: pytest.CaptureFixture[str],
                                            argv: list[str]) -> None:
    parse_latex = pytest.importorskip("sympy.parsing.latex").parse_latex
    assert main([*argv, "--format", "json"]) == 0
    fields = list(latex_fields(json.loads(capsys.readouterr().out)))
    assert len(fields) >= 3
    for written, text_latex in fields:
        try:
            back = parse_latex(text_latex)
        except ImportError as error:  # antlr4 missing or of the wrong version
            pytest.skip(f"SymPy's LaTeX parser is unavailable: {error}")
        unknown = {free.name for free in back.free_symbols} - set(CANONICAL)
        assert not unknown, (text_latex, unknown)
        back = back.xreplace({free: CANONICAL[free.name] for free in back.free_symbols})
        expected = sympy.sympify(written, locals=CANONICAL)  # the test's own, trusted text
        assert sympy.simplify(back - expected) == 0, (text_latex, written)
