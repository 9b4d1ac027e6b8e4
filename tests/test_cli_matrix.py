"""Every combination of command, format, ``--standalone``, ``--lang``, ``--verify``,
``--per-layer`` and ``--compare-conventions`` that docs/cli.md allows (issue 16): each one is
either rendered (exit 0, a non-empty report; a standalone LaTeX report is a whole document) or
refused with one line (exit 2). Nothing is silently ignored, and nothing crashes after the work
is done (``net --verify --format latex --standalone`` once did, after running the whole network).

The rules below are written from the documentation, not read from the code: a test that cannot
fail would copy them from ``symconv.cli``.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from symconv.cli import main

FORMATS = ("text", "markdown", "latex", "json")
LANGS = ("en", "zh")
CJK = re.compile(r"[\u4e00-\u9fff]")
TINY = ["--alpha", "0.25", "--resolution", "32"]

#: net's report flags: (verify, per_layer, compare_conventions)
NET_MODES = list(itertools.product((False, True), repeat=3))

MODEL_FILE = """\
from torch import nn


def tiny():
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU6(),
                         nn.Conv2d(4, 4, 3, groups=4), nn.Conv2d(4, 6, 1),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 2))
"""


def refusals(command: str, fmt: str, standalone: bool, verify: bool = False,
             per_layer: bool = False, compare_conventions: bool = False) -> list[str]:
    """What docs/cli.md says is wrong with a combination: the words of each refusal (none: it
    renders)."""
    reasons = []
    if standalone and fmt != "latex":
        reasons.append("--standalone goes with --format latex")
    if command == "net":
        if verify and compare_conventions:
            reasons.append("--verify and --compare-conventions are two different reports")
        if per_layer and (verify or compare_conventions):
            reasons.append("--per-layer does nothing with")
        if compare_conventions and fmt == "latex":  # text, markdown or json only
            reasons.append("--format latex is not available for net")
    return reasons


def check(capsys: pytest.CaptureFixture[str], argv: list[str], reasons: list[str], fmt: str,
          standalone: bool, lang: str) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    if reasons:
        assert (code, out) == (2, ""), argv
        assert err.count("\n") == 1 and err.startswith("symconv: error: "), err
        assert any(reason in err for reason in reasons), (err, reasons)
        return ""
    assert (code, err) == (0, ""), (argv, err)
    assert out.strip(), argv
    if standalone:  # a whole document: comments (which engine to use), then \documentclass
        body = [line for line in out.splitlines() if line and not line.startswith("%")]
        assert body[0].startswith("\\documentclass") and body[-1] == "\\end{document}", out
    if fmt == "json":
        json.loads(out)
    elif lang == "zh":
        assert CJK.search(out), argv  # the report is in Chinese
    else:
        assert not CJK.search(out), argv
    return out


def _conv_cases() -> list[tuple[str, str, bool, str]]:
    return [(command, fmt, standalone, lang)
            for command in ("compare", "verify", "derive")
            for fmt in FORMATS for standalone in (False, True) for lang in LANGS]


@pytest.mark.parametrize(("command", "fmt", "standalone", "lang"), _conv_cases())
def test_compare_verify_derive(capsys: pytest.CaptureFixture[str], command: str, fmt: str,
                               standalone: bool, lang: str) -> None:
    shape = ["separable"] if command == "derive" else ["--input", "7x7x3", "--output", "5x5x64"]
    argv = [command, *shape, "--format", fmt, "--lang", lang, *(["--standalone"] * standalone)]
    check(capsys, argv, refusals(command, fmt, standalone), fmt, standalone, lang)


def _net_argv(network: list[str], fmt: str, standalone: bool, lang: str, verify: bool,
              per_layer: bool, compare_conventions: bool) -> list[str]:
    flags = [flag for flag, on in (("--verify", verify), ("--per-layer", per_layer),
                                   ("--compare-conventions", compare_conventions)) if on]
    return ["net", *network, "--format", fmt, "--lang", lang, *flags,
            *(["--standalone"] * standalone)]


def _net_cases() -> list[tuple[str, bool, str, bool, bool, bool]]:
    return [(fmt, standalone, lang, *mode)
            for fmt in FORMATS for standalone in (False, True) for lang in LANGS
            for mode in NET_MODES]


def _net_id(case: tuple[object, ...]) -> str:
    fmt, standalone, lang, verify, per_layer, compare = case
    flags = "".join(name for name, on in (("+standalone", standalone), ("+verify", verify),
                                          ("+per-layer", per_layer), ("+compare", compare)) if on)
    return f"{fmt}-{lang}{flags}"


NET_CASES = _net_cases()


@pytest.mark.parametrize(("fmt", "standalone", "lang", "verify", "per_layer", "compare"),
                         NET_CASES, ids=[_net_id(case) for case in NET_CASES])
def test_net_zoo(capsys: pytest.CaptureFixture[str], fmt: str, standalone: bool, lang: str,
                 verify: bool, per_layer: bool, compare: bool) -> None:
    network = ["mobilenet_v2" if verify else "mobilenet_v1", *TINY]
    argv = _net_argv(network, fmt, standalone, lang, verify, per_layer, compare)
    reasons = refusals("net", fmt, standalone, verify, per_layer, compare)
    out = check(capsys, argv, reasons, fmt, standalone, lang)
    if out and verify and fmt == "json":
        assert json.loads(out)["ok"] is True


@pytest.mark.parametrize(("fmt", "standalone", "lang"), [
    ("text", False, "en"), ("markdown", False, "zh"), ("json", False, "en"),
    ("latex", False, "zh"), ("latex", True, "en"),
])
def test_net_zoo_symbolic(capsys: pytest.CaptureFixture[str], fmt: str, standalone: bool,
                          lang: str) -> None:
    # without --alpha and --resolution the rows are formulas in alpha and rho (slower to derive:
    # every format once, a language each, rather than the whole matrix again)
    argv = _net_argv(["mobilenet_v1"], fmt, standalone, lang, False, True, False)
    check(capsys, argv, refusals("net", fmt, standalone), fmt, standalone, lang)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    pytest.importorskip("torch")
    path: Path = tmp_path_factory.mktemp("models") / "tiny.py"
    path.write_text(MODEL_FILE)
    return f"{path}:tiny"


@pytest.mark.parametrize(("fmt", "standalone", "lang", "verify", "per_layer", "compare"),
                         NET_CASES, ids=[_net_id(case) for case in NET_CASES])
def test_net_model_file(capsys: pytest.CaptureFixture[str], tiny_model: str, fmt: str,
                        standalone: bool, lang: str, verify: bool, per_layer: bool,
                        compare: bool) -> None:
    argv = _net_argv([tiny_model, "--input", "8x8x3"], fmt, standalone, lang, verify, per_layer,
                     compare)
    reasons = refusals("net", fmt, standalone, verify, per_layer, compare)
    out = check(capsys, argv, reasons, fmt, standalone, lang)
    if out and verify and fmt == "json":
        assert json.loads(out)["ok"] is True


@pytest.mark.parametrize(("argv", "words"), [
    (["net", "mobilenet_v1", *TINY, "--verify", "--convention", "flops"],
     "--convention does nothing with --verify"),
    (["net", "mobilenet_v1", *TINY, "--compare-conventions", "--convention", "thop"],
     "--convention does nothing with --compare-conventions"),
    (["net", "mobilenet_v1", *TINY, "--seed", "3"], "--seed goes with --verify"),
    (["net", "mobilenet_v1", *TINY, "--max-memory", "1G"], "--max-memory goes with --verify"),
])
def test_options_that_would_do_nothing_are_refused(capsys: pytest.CaptureFixture[str],
                                                   argv: list[str], words: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_json_is_the_same_in_every_language(capsys: pytest.CaptureFixture[str]) -> None:
    # JSON carries no prose: --lang is accepted and changes nothing, as docs/cli.md says
    outputs = []
    for lang in LANGS:
        assert main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "json",
                     "--lang", lang]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
