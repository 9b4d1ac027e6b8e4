"""Hostile input to the command line (issues 10 and 16): whatever is typed, symconv ends with one
line on stderr and an exit status, never a traceback, never debris, never a silent default.

Exit statuses: 2 for bad input or an output that cannot be written, 130 for an interrupt, 141 for
a reader that went away, 1 for an internal error (one line asking for a report).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from symconv.cli import build_parser, main

verify_module = importlib.import_module("symconv.verify")
compare_module = importlib.import_module("symconv.report.compare")

BIG = "1" * 5000  # past Python's 4300-digit limit on int(str)
CONV = ["--input", "7x7x3", "--out-channels", "8", "--kernel", "3"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str, prefix: str = "symconv: error: ") -> str:
    """The one line of ``err``, checked: it starts with ``prefix``, is short, has no traceback."""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(prefix), err
    assert "Traceback" not in err and len(err) < 1200
    return err


# --- numbers too long for int() --------------------------------------------------------------

LONG_NUMBERS = [
    ["compare", "--input", f"{BIG}x7x3", "--out-channels", "8", "--kernel", "3"],
    ["compare", "--input", "7x7x3", "--output", f"5x5x{BIG}"],
    ["compare", "--input", "7x7x3", "--out-channels", BIG, "--kernel", "3"],
    ["compare", *CONV[:4], "--kernel", BIG],
    ["compare", *CONV, "--stride", BIG],
    ["compare", *CONV, "--padding", f"1x{BIG}"],
    ["compare", *CONV, "--dilation", BIG],
    ["verify", *CONV, "--seed", BIG],
    ["verify", *CONV, "--max-memory", f"{BIG}G"],
    ["diagram", *CONV, "--kernel", BIG, "--out-dir", "figs"],
    ["net", "mobilenet_v1", "--alpha", BIG],
    ["net", "mobilenet_v1", "--alpha", f"0.{BIG}"],
    ["net", "mobilenet_v1", "--alpha", f"1/{BIG}"],
    ["net", "mobilenet_v1", "--resolution", BIG],
    ["net", "mobilenet_v1", "--verify", "--seed", BIG],
    ["net", "model.py:f", "--input", f"{BIG}x3"],
]


@pytest.mark.parametrize("argv", LONG_NUMBERS, ids=lambda argv: " ".join(argv)[:40])
def test_numbers_of_thousands_of_digits_are_one_short_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert "too large" in line or "too many digits" in line
    assert "characters)" in line  # the value is cut, and says how long it was
    assert os.listdir(tmp_path) == []


# --- empty values ----------------------------------------------------------------------------

def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    commands = next(action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction))
    return dict(commands.choices)


def _options_taking_a_value() -> list[tuple[str, str]]:
    """``(command, option)`` for every option of every command that takes a value."""
    return [(command, action.option_strings[0])
            for command, sub in _commands().items() for action in sub._actions
            if action.option_strings and action.nargs is None and action.dest != "help"]


def _required(command: str, but: str) -> list[str]:
    """Some text for every required argument of ``command`` except ``but``: an empty value is
    refused while the arguments are read, before any of them is checked further."""
    argv = []
    for action in _commands()[command]._actions:
        if action.required and not action.option_strings:
            argv.append("x")
        elif action.required and action.option_strings[0] != but:
            argv += [action.option_strings[0], "x"]
    return argv


@pytest.mark.parametrize(("command", "option"), _options_taking_a_value())
def test_every_empty_option_is_an_error_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    command: str, option: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    for blank in ("", "  "):
        code, out, err = run(capsys, command, *_required(command, option), option, blank)
        assert (code, out) == (2, "")
        assert one_error_line(err).startswith(f"symconv: error: {option} is empty; give a value")
    assert os.listdir(tmp_path) == []  # --out-dir "" wrote nothing into the current directory


def test_the_option_list_covers_the_documented_options() -> None:
    # the parametrisation above is read from the parser: make sure it found them
    options = set(_options_taking_a_value())
    assert {("compare", "--stride"), ("diagram", "--out-dir"), ("net", "--alpha"),
            ("verify", "--max-memory"), ("derive", "--dims")} <= options


@pytest.mark.parametrize("argv", [["net", ""], ["derive", " "]])
def test_empty_positional_arguments(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and " is empty; give a value" in one_error_line(err)


@pytest.mark.parametrize(("argv", "words"), [
    (["net", "mobilenet_v1", "--resolution", "224x224"], "--resolution 224x224: give one size, like 224"),
    (["compare", "--input", "7,7,3", "--out-channels", "8", "--kernel", "3"], "--input 7,7,3: separate sizes with x, like 7x7x3"),
    (["compare", "--input", "7 7 3", "--out-channels", "8", "--kernel", "3"], "separate sizes with x"),
    (["compare", *CONV[:4], "--kernel", "3,3"], "--kernel 3,3: separate sizes with x"),
    (["compare", *CONV, "--stride", "2x2x2"], "--stride 2x2x2: give one size or 2, like 3 or 3x3"),
    (["compare", "--input", "7x7", "--out-channels", "8", "--kernel", "3"], "give 3 sizes, height x width x channels"),
    (["compare", "--input", "7x7\x1b[31mx3", "--out-channels", "8", "--kernel", "3"], "'7\\x1b[31m' is not a whole"),
])
def test_messages_say_what_is_wrong(capsys: pytest.CaptureFixture[str], argv: list[str],
                                    words: str) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and words in one_error_line(err)


# --- channels first --------------------------------------------------------------------------

WARNING = ("symconv: warning: --input 3x224x224 looks channels-first; did you mean 224x224x3?\n")


@pytest.mark.parametrize("command", ["compare", "verify", "diagram"])
def test_channels_first_input_warns_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str,
) -> None:
    if command == "diagram":
        pytest.importorskip("matplotlib")
    extra = ["--out-dir", str(tmp_path)] if command == "diagram" else []
    shape = ["--input", "3x224x224", "--out-channels", "8", "--kernel", "3"]
    if command == "verify":  # keep the execution small: a 3×24 image of 24 channels
        shape[1] = "3x24x24"
    code, out, err = run(capsys, command, *shape, *extra)
    assert code == 0 and out
    expected = WARNING if command != "verify" else WARNING.replace("224", "24")
    assert err == expected


def test_channels_last_input_does_not_warn(capsys: pytest.CaptureFixture[str]) -> None:
    for shape in ("224x224x3", "2x2x64", "1x1x1024", "4x4x512"):
        code, _, err = run(capsys, "compare", "--input", shape, "--out-channels", "8", "--kernel", "1")
        assert (code, err) == (0, "")


def test_channels_first_hint_joins_the_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    # 3 rows cannot hold a 5-row kernel: the likely cause is the channels-first habit
    code, _, err = run(capsys, "compare", "--input", "3x224x224", "--out-channels", "8", "--kernel", "5")
    assert code == 2
    assert one_error_line(err).rstrip().endswith(
        "(note: --input 3x224x224 looks channels-first; did you mean 224x224x3?)")


def test_channels_first_warning_for_a_model_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "model.py"
    path.write_text("from torch import nn\n\ndef model():\n    return nn.Conv2d(224, 4, 1)\n")
    code, out, err = run(capsys, "net", f"{path}:model", "--input", "3x224x224")
    assert code == 0 and out
    assert err == WARNING


def test_channels_first_refusal_for_a_model_file_says_it_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    # the model's first layer takes 3 channels: refused with "did you mean", once (the
    # channels-first warning used to be joined to the line, saying it twice)
    pytest.importorskip("torch")
    path = tmp_path / "model.py"
    path.write_text("from torch import nn\n\ndef model():\n    return nn.Conv2d(3, 4, 1)\n")
    code, _, err = run(capsys, "net", f"{path}:model", "--input", "3x32x32")
    assert code == 2
    line = one_error_line(err)
    assert line.count("did you mean") == 1 and line.rstrip().endswith("did you mean 32x32x3?")


def test_a_model_input_too_big_to_run_is_refused_up_front(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    # 3·99999·99999 float32s: 111.8 GiB for the input alone (3·99999² = 29999400003 elements,
    # ·4 bytes = 119997600012 B); it used to reach torch's allocator and end in "internal error"
    pytest.importorskip("torch")
    path = tmp_path / "model.py"
    path.write_text("from torch import nn\n\ndef model():\n    return nn.Conv2d(3, 4, 1)\n")
    code, _, err = run(capsys, "net", f"{path}:model", "--input", "99999x99999x3")
    assert code == 2
    line = one_error_line(err)
    assert "PyTorch shape 1×3×99999×99999: that input alone takes 111.8 GiB (float32)" in line
    assert "of memory available now" in line


# --- model files that misbehave --------------------------------------------------------------

def test_a_model_path_too_long(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "net", f"/tmp/{'a' * 5000}.py:model", "--input", "8x8x3")
    assert code == 2
    one_error_line(err)


@pytest.mark.parametrize("error", [
    PermissionError(errno.EACCES, "Permission denied", "/models/locked.py"),
    OSError(errno.ENAMETOOLONG, "File name too long", "/" + "a" * 5000),
    OSError(errno.EIO, "Input/output error"),
])
def test_a_model_file_that_cannot_be_read(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error: OSError,
) -> None:
    # root reads every file, so the failure is staged where load_model meets it
    frontend = importlib.import_module("symconv.frontends.torch")

    def load_model(reference: str) -> Any:
        raise error

    monkeypatch.setattr(frontend, "load_model", load_model)
    code, _, err = run(capsys, "net", "/models/locked.py:model", "--input", "8x8x3")
    assert code == 2
    assert error.strerror in one_error_line(err)


@pytest.fixture
def misbehaving(tmp_path: Path) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "misbehaving.py"
    path.write_text(textwrap.dedent("""
        import sys

        def interrupted():
            raise KeyboardInterrupt

        def exits():
            sys.exit(3)

        def exits_quietly():
            sys.exit()

        def exits_with_text():
            sys.exit("usage: train.py [-h]\\nsecond line")

        def generator_exit():
            raise GeneratorExit
    """))
    return path


def test_a_factory_interrupted(capsys: pytest.CaptureFixture[str], misbehaving: Path) -> None:
    code, out, err = run(capsys, "net", f"{misbehaving}:interrupted", "--input", "8x8x3")
    assert (code, out, err) == (130, "", "symconv: interrupted\n")


@pytest.mark.parametrize("factory", ["exits", "exits_quietly", "exits_with_text", "generator_exit"])
def test_a_factory_that_exits(capsys: pytest.CaptureFixture[str], misbehaving: Path,
                              factory: str) -> None:
    code, out, err = run(capsys, "net", f"{misbehaving}:{factory}", "--input", "8x8x3")
    assert (code, out) == (2, "")
    line = one_error_line(err)
    assert "exit" in line.lower() or "GeneratorExit" in line


def test_user_code_exiting_is_named_even_past_load_model(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a forward() that calls sys.exit runs inside from_torch, after load_model
    frontend = importlib.import_module("symconv.frontends.torch")
    monkeypatch.setattr(frontend, "load_model", lambda reference: object())

    def from_torch(model: object, shape: object) -> Any:
        sys.exit(4)

    monkeypatch.setattr(frontend, "from_torch", from_torch)
    code, _, err = run(capsys, "net", "m.py:model", "--input", "8x8x3")
    assert code == 2
    assert one_error_line(err) == "symconv: error: the model file exited: sys.exit(4)\n"


# --- interrupts and internal errors -----------------------------------------------------------

def test_ctrl_c_during_a_verification(capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **keywords: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(verify_module, "verify", interrupted)
    assert run(capsys, "verify", *CONV) == (130, "", "symconv: interrupted\n")
    assert run(capsys, "net", "mobilenet_v1", "--verify", "--alpha", "1/4", "--resolution", "32") \
        == (130, "", "symconv: interrupted\n")


def test_an_internal_error_is_one_line_unless_debugging(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **keywords: object) -> None:
        raise RuntimeError("a bug\nwith a second line")

    monkeypatch.setattr(compare_module, "compare", broken)
    monkeypatch.delenv("SYMCONV_DEBUG", raising=False)
    code, out, err = run(capsys, "compare", *CONV)
    assert (code, out) == (1, "")
    assert one_error_line(err, "symconv: internal error: ") == (
        "symconv: internal error: RuntimeError: a bug (please report; SYMCONV_DEBUG=1 shows the "
        "traceback)\n")
    monkeypatch.setenv("SYMCONV_DEBUG", "1")
    with pytest.raises(RuntimeError, match="a bug"):
        main(["compare", *CONV])


def test_running_out_of_memory_is_one_line(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def too_big(*args: object, **keywords: object) -> None:
        raise MemoryError

    monkeypatch.setattr(verify_module, "verify", too_big)
    code, _, err = run(capsys, "verify", *CONV)
    assert code == 2 and "not enough memory" in one_error_line(err)


# --- standard output that cannot be written ---------------------------------------------------

class _FullStdout:
    """A standard output on a full disk."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        pass


def test_a_full_standard_output_in_process(capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", _FullStdout())
    code = main(["compare", *CONV])
    err = capsys.readouterr().err
    assert code == 2
    assert one_error_line(err) == "symconv: error: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv", [["compare", *CONV], ["--help"], ["--version"]])
def test_dev_full(argv: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([sys.executable, "-m", "symconv", *argv], stdout=full,
                              stderr=subprocess.PIPE, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr == "symconv: error: cannot write the output: No space left on device\n"


def test_a_closed_pipe_is_quiet() -> None:
    reader, writer = os.pipe()
    os.close(reader)  # nobody will read: the first write fails with EPIPE
    try:
        done = subprocess.run([sys.executable, "-m", "symconv", "compare", *CONV], stdout=writer,
                              stderr=subprocess.PIPE, text=True, check=False)
    finally:
        os.close(writer)
    assert (done.returncode, done.stderr) == (141, "")


# --- diagram files ----------------------------------------------------------------------------

def diagram(*extra: str) -> list[str]:
    return ["diagram", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3", *extra]


def test_diagram_refuses_a_directory_standing_where_a_figure_goes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    pytest.importorskip("matplotlib")
    (tmp_path / "standard.svg").write_text("kept")
    (tmp_path / "depthwise.svg").mkdir()
    code, out, err = run(capsys, *diagram("--out-dir", str(tmp_path)))
    assert (code, out) == (2, "")
    assert "depthwise.svg' is a directory" in one_error_line(err)
    assert sorted(os.listdir(tmp_path)) == ["depthwise.svg", "standard.svg"]
    assert (tmp_path / "standard.svg").read_text() == "kept"


@pytest.mark.parametrize("out_dir", ["/proc/self/figs", "a" * 5000, "/dev/null/figs"])
def test_diagram_directories_that_cannot_be(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch, out_dir: str) -> None:
    pytest.importorskip("matplotlib")
    if out_dir.startswith("/proc") and not os.path.isdir("/proc/self"):
        pytest.skip("needs Linux's /proc, where nobody can create a directory")
    if out_dir.startswith("/dev/null") and not os.path.exists("/dev/null"):
        pytest.skip("needs /dev/null")
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, *diagram("--out-dir", out_dir))
    assert (code, out) == (2, "")
    assert "choose another" in one_error_line(err)
    assert os.listdir(tmp_path) == []


def test_diagram_bias_is_still_accepted(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    # --bias changes no figure (another issue); it must not break the command
    assert run(capsys, *diagram("--bias", "--out-dir", str(tmp_path)))[0] == 0


# --- memory limit -----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "size"), [
    ("1000", 1000), ("1K", 1024), ("512M", 512 * 2**20), ("2g", 2 * 2**30), ("1T", 2**40),
])
def test_max_memory_reaches_verify(capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, text: str, size: int) -> None:
    seen = []
    real = verify_module.verify

    def spy(*args: Any, **keywords: Any) -> Any:
        seen.append(keywords.pop("max_memory", None))
        return real(*args, **keywords)

    monkeypatch.setattr(verify_module, "verify", spy)
    assert run(capsys, "verify", *CONV, "--max-memory", text)[0] == 0
    assert run(capsys, "net", "mobilenet_v1", "--verify", "--alpha", "1/4", "--resolution", "32",
               "--max-memory", text)[0] == 0
    assert seen == [size, size, size]  # two layers for verify, one network


@pytest.mark.parametrize("text", ["1.5G", "-1", "0", "2GB", "2 G", "1e9", "0x10", "G"])
def test_max_memory_grammar(capsys: pytest.CaptureFixture[str], text: str) -> None:
    code, _, err = run(capsys, "verify", *CONV, "--max-memory", text)
    assert code == 2 and "--max-memory" in one_error_line(err)


def test_max_memory_refuses_a_verification_that_does_not_fit(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "verify", "--input", "64x64x64", "--out-channels", "64",
                         "--kernel", "3", "--max-memory", "1K")
    assert (code, out) == (2, "")
    assert "the limit is 1.0 KiB" in one_error_line(err)
    code, out, err = run(capsys, "net", "mobilenet_v1", "--verify", "--alpha", "1/4",
                         "--resolution", "32", "--max-memory", "64K")
    assert (code, out) == (2, "")
    assert "the limit is 64.0 KiB" in one_error_line(err)


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT as a terminal's Ctrl-C does")
def test_ctrl_c_stops_a_model_file_that_loops_forever(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import signal
    import time

    started = tmp_path / "started"
    path = tmp_path / "forever.py"
    path.write_text(f"import pathlib\n\ndef model():\n    pathlib.Path({str(started)!r}).touch()\n"
                    "    while True:\n        pass\n")
    process = subprocess.Popen([sys.executable, "-m", "symconv", "net", f"{path}:model",
                                "--input", "8x8x3"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), process.communicate()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert (process.returncode, out, err) == (130, "", "symconv: interrupted\n")
