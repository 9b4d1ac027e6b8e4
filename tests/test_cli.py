"""The command line: the founding example end to end, the JSON contract, and every bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction

import pytest
import sympy

from symconv import symbols
from symconv.cli import main

FOUNDING = ["compare", "--input", "7x7x3", "--output", "5x5x64"]
SYMBOLS = {name: getattr(symbols, name) for name in symbols.__all__ if name[0].isalpha() and name.isidentifier()
           and isinstance(getattr(symbols, name), sympy.Symbol)}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_founding_example_text_shows_the_students_arithmetic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *FOUNDING)
    assert (code, err) == (0, "")
    assert "kernel 3×3 inferred (stride 1, padding 0, dilation 1)" in out
    assert "5 × 5 × 3 × 3 × 3 × 64" in out and "= 43200" in out
    assert "5 × 5 × 3 × 3 × 3       = 675" in out
    assert "5 × 5 × 3 × 64       = 4800" in out
    assert "675 + 4800 = 5475" in out
    assert "27 + 192   = 219" in out
    assert "= 1728" in out
    assert "73/576" in out and "1/k² + 1/N" in out


def test_founding_example_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *FOUNDING, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert list(report)[:7] == ["input", "output", "kernel", "stride", "padding", "dilation", "bias"]
    assert list(report)[-1] == "symbols"  # the legend after the keys of the JSON contract
    assert report["input"] == [7, 7, 3] and report["output"] == [5, 5, 64]
    assert report["kernel"] == [3, 3] and report["stride"] == [1, 1]
    assert report["padding"] == [0, 0] and report["dilation"] == [1, 1] and report["bias"] is False
    expected = {
        "standard": {"mults": 43200, "params": 1728},
        "depthwise": {"mults": 675, "params": 27},
        "pointwise": {"mults": 4800, "params": 192},
        "separable": {"mults": 5475, "params": 219},
    }
    values = {symbols.H: 7, symbols.W: 7, symbols.M: 3, symbols.N: 64, symbols.k: 3,
              symbols.H_o: 5, symbols.W_o: 5}
    for stage, numbers in expected.items():
        for quantity, value in numbers.items():
            entry = report[stage][quantity]
            assert set(entry) == {"formula", "latex", "value"}
            assert entry["value"] == value
            # the formula, read back with the canonical symbols, gives the value
            assert sympy.sympify(entry["formula"], locals=SYMBOLS).subs(values) == value
        assert isinstance(report[stage]["adds"]["value"], int)
    assert report["ratio"]["mults"]["value"] == "73/576"
    assert report["ratio"]["params"]["value"] == "73/576"
    assert sympy.sympify(report["ratio"]["mults"]["formula"], locals=SYMBOLS) == 1 / symbols.N + 1 / symbols.k**2
    assert Fraction(report["ratio"]["mults"]["value"]) == Fraction(5475, 43200)


def test_compare_with_explicit_kernel_and_setting(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--input", "224x224x32", "--out-channels", "64", "--kernel", "3",
                       "--stride", "2", "--padding", "1", "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["output"] == [112, 112, 64]
    # 112·112·64·3·3·32 standard; 112·112·32·9 + 112·112·32·64 separable
    assert report["standard"]["mults"]["value"] == 112 * 112 * 64 * 9 * 32
    assert report["separable"]["mults"]["value"] == 112 * 112 * 32 * 9 + 112 * 112 * 32 * 64


def test_compare_with_bias_and_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *FOUNDING, "--bias", "--lang", "zh")
    assert code == 0
    assert "标准卷积" in out and "深度卷积" in out and "逐点卷积" in out and "参数量" in out
    assert "= 1792" in out  # 1728 weights + 64 biases


def test_output_and_kernel_must_agree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *FOUNDING, "--kernel", "3")
    assert code == 0 and "kernel 3×3 (" in out


BAD_INPUTS = [
    (["compare", "--input", "7x7"], "give 3 sizes"),
    (["compare", "--input", "7x7x0", "--out-channels", "8", "--kernel", "3"], "at least 1, and 0 is not"),
    (["compare", "--input", "7x-7x3", "--out-channels", "8", "--kernel", "3"], "'-7' is not a whole number"),
    (["compare", "--input", "7.5x7x3", "--out-channels", "8", "--kernel", "3"], "'7.5' is not a whole number"),
    (["compare", "--input", "axbxc", "--out-channels", "8", "--kernel", "3"], "'a' is not a whole number"),
    (["compare", "--input", "__import__('os')x7x3", "--out-channels", "8", "--kernel", "3"], "is not a whole number"),
    (["compare", "--input", "1" + "0" * 30 + "x7x3", "--out-channels", "8", "--kernel", "3"], "is too large"),
    (["compare", "--input", "7x7x3"], "give --output HxWxC or --out-channels N"),
    (["compare", "--input", "7x7x3", "--out-channels", "64"], "give --kernel K, or --output HxWxC"),
    (["compare", "--input", "7x7x3", "--output", "9x9x64"], "no kernel size maps H=7 to H_o=9"),
    (["compare", "--input", "7x7x3", "--output", "3x3x64", "--stride", "2"], "several kernel sizes map H=7 to H_o=3"),
    (["compare", "--input", "7x7x3", "--output", "5x5x64", "--kernel", "2"], "disagrees with --kernel 2"),
    (["compare", "--input", "7x7x3", "--output", "5x5x64", "--out-channels", "32"], "has 64 channels but --out-channels is 32"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "9"], "larger than the padded input"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--stride", "0"], "--stride 0"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--padding", "-1"], "--padding -1"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3x3x3"], "give one size or 2"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--format", "yaml"], "--format yaml is not known"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--lang", "fr"], "--lang fr is not known"),
    (["compare", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--frobnicate"], "unrecognized arguments"),
    (["derive", "hexagonal"], "unknown kind 'hexagonal'"),
    (["launch"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("symconv: error: ")
    assert message in err
    assert "Traceback" not in err and "usage:" not in err


@pytest.mark.parametrize("kind", ["standard", "grouped", "depthwise", "pointwise", "separable", "transposed"])
def test_derive_every_kind(capsys: pytest.CaptureFixture[str], kind: str) -> None:
    code, out, _ = run(capsys, "derive", kind, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["kind"] == kind
    assert {"mults", "adds", "params"} <= set(report)


def test_derive_separable_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "derive", "separable")
    assert code == 0 and "1/k² + 1/N" in out and "H_o·W_o·k²·M" in out


def test_python_dash_m_and_help_exit_codes() -> None:
    done = subprocess.run([sys.executable, "-m", "symconv", *FOUNDING], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "43200" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "symconv", "compare", "--input", "7x7x3"],
                         capture_output=True, text=True, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    assert main(["--help"]) == 0


@pytest.mark.parametrize(("dims", "ratio_text"), [("1", "k**(-1) + 1/N"), ("3", "k**(-3) + 1/N")])
def test_derive_other_ranks(capsys: pytest.CaptureFixture[str], dims: str, ratio_text: str) -> None:
    code, out, _ = run(capsys, "derive", "separable", "--dims", dims, "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["input"][-1] == "M" and len(report["input"]) == int(dims) + 1
    # depthwise over k^dims taps, pointwise 1×…×1: the ratio is 1/N + 1/k^dims
    assert sympy.sympify(report["ratio"]["mults"]["formula"], locals=SYMBOLS) == \
        sympy.sympify(ratio_text, locals=SYMBOLS)


def test_derive_bad_dims(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "derive", "standard", "--dims", "4")
    assert code == 2 and "--dims 4 must be 1, 2 or 3" in err


def test_bare_symconv_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0 and err == ""
    commands = [line.split()[0] for line in out.splitlines() if line.startswith("    ") and
                not line.startswith("     ")]
    assert commands == ["compare", "verify", "diagram", "net", "solve", "report", "derive",
                        "roofline"]


def commands() -> list[str]:
    """Every sub-command the parser knows, in its order."""
    from symconv.cli import build_parser

    return list(build_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]


@pytest.mark.parametrize("command", commands())
def test_every_command_has_a_description_and_an_example(capsys: pytest.CaptureFixture[str],
                                                        command: str) -> None:
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    usage, description, *_ = out.split("\n\n")
    assert usage.startswith(f"usage: symconv {command}")
    assert len(description.split()) >= 4 and description.rstrip().endswith(".")
    example = out.split("example:\n", 1)[1]
    assert example.lstrip().startswith(f"symconv {command}")


@pytest.mark.parametrize("command", ["compare", "verify", "net", "derive", "report"])
def test_format_and_lang_show_their_choices(capsys: pytest.CaptureFixture[str], command: str) -> None:
    _, out, _ = run(capsys, command, "--help")
    usage = " ".join(out.split("\n\n")[0].split())
    assert "--lang {en,zh}" in usage
    assert "--format {" in usage and ("latex" in usage.split("--format {")[1].split("}")[0])


def test_padding_same_works_on_the_cli_as_in_python(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "compare", "--input", "56x56x32", "--out-channels", "64",
                       "--kernel", "5", "--dilation", "2", "--padding", "same", "--format", "json")
    assert code == 0
    report = json.loads(out)
    # PyTorch's 'same' with k = 5, d = 2: 2·(5 − 1)/2 = 4 on each side, the size kept
    assert report["padding"] == [4, 4] and report["output"] == [56, 56, 64]
    for argv, words in [
        (["--kernel", "3", "--stride", "2"], "--padding same needs stride 1"),
        (["--output", "56x56x64"], "--padding same needs --kernel K"),
        (["--kernel", "4"], "pads one side more than the other"),
    ]:
        code, _, err = run(capsys, "compare", "--input", "56x56x32", "--padding", "same",
                           *(["--out-channels", "64"] if "--output" not in argv else []), *argv)
        assert code == 2 and words in err, err


def test_title_names_a_standalone_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "net", "mobilenet_v1", "--alpha", "1", "--resolution", "128",
                       "--format", "latex", "--standalone", "--title", "Net & more")
    assert code == 0 and r"{\Large\bfseries Net \& more\par}" in out
    code, _, err = run(capsys, "derive", "standard", "--title", "x")
    assert code == 2 and "--title names a complete document" in err


@pytest.mark.parametrize("dims", ["1", "3"])
def test_derive_header_shows_the_layer_short_name(capsys: pytest.CaptureFixture[str], dims: str) -> None:
    code, out, _ = run(capsys, "derive", "separable", "--dims", dims)
    assert code == 0
    assert f"Conv{dims}d + Conv{dims}d on " in out and "in_channels=" not in out
