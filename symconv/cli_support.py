"""What the ``symconv`` commands share: the checked convolution options, the warnings and the
output, and the one-line failure messages (see :mod:`symconv.cli`, which dispatches).

Examples
--------
>>> line = one_line("x" * 5000)
>>> len(line) < 1100, "characters cut" in line
(True, True)
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from symconv.errors import SymconvError

__all__ = [
    "ConvSetting", "OutputError", "conv_setting", "given", "warn", "show_warnings", "emit",
    "warn_channels_first", "flush_stdout", "memory_limit", "one_line", "os_message",
    "first_line", "exit_text", "fail", "discard_stdout", "internal_error", "EXAMPLES", "describe",
]


@dataclass(frozen=True)
class ConvSetting:
    """The shared convolution options of ``compare``, ``verify`` and ``diagram``, checked."""

    input_shape: tuple[int, int, int]
    out_channels: int
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    bias: bool
    kernel_inferred: bool
    expected_output: tuple[int, int, int] | None


def given(value: str | None, default: str) -> str:
    """An option's text, or its default when it was not given (an empty text stays empty)."""
    return default if value is None else value


def warn(args: argparse.Namespace, message: str) -> None:
    """Keep a warning for stderr: shown before the output, or joined to the error line when
    the command fails (stderr then stays one line)."""
    args.warnings.append(message)


def show_warnings(args: argparse.Namespace) -> None:
    for message in args.warnings:
        print(f"symconv: warning: {message}", file=sys.stderr)
    args.warnings.clear()


def emit(args: argparse.Namespace, text: str) -> None:
    """Print one report on stdout, after the warnings; a failing stdout is :class:`OutputError`."""
    show_warnings(args)
    try:
        print(text)
        sys.stdout.flush()
    except OSError as error:
        raise OutputError(error) from None


def warn_channels_first(args: argparse.Namespace, text: str, sizes: tuple[int, ...]) -> None:
    """Warn when ``--input`` looks typed channels first (``3x224x224``)."""
    from symconv.parse import channels_first_hint

    hint = channels_first_hint(sizes)
    if hint is not None:
        warn(args, f"--input {text} looks channels-first; did you mean "
                    f"{'x'.join(map(str, hint))}?")


def is_model_file(name: str) -> bool:
    """Whether a network argument names a model file (``path.py:factory``,
    ``package.module:factory``) rather than a zoo network."""
    return ":" in name or name.endswith(".py")


def model_file_input(args: argparse.Namespace) -> tuple[int, ...]:
    """A model file's ``--input`` (channels last), parsed; ``--alpha`` and ``--resolution``
    refused (they are the zoo's)."""
    from symconv.errors import shown
    from symconv.parse import parse_axes, parse_shape

    for option in ("alpha", "resolution"):
        if getattr(args, option, None) is not None:
            raise SymconvError(f"--{option} is for the zoo networks; a model file's size is "
                               "--input")
    if args.input is None:
        raise SymconvError(f"network {shown(args.network)} needs --input, the shape of one "
                           "example, channels last: 224x224x3")
    sizes = args.input.replace("×", "x").replace("X", "x").replace("*", "x").count("x")
    shape = (parse_shape(args.input, "--input", dims=sizes) if 1 <= sizes <= 3
             else parse_axes(args.input, "--input", 1))
    if len(shape) > 1:
        warn_channels_first(args, args.input, shape)
    return shape


def conv_setting(args: argparse.Namespace) -> ConvSetting:
    """Turn the shared convolution options into checked values, inferring the kernel."""
    from symconv.parse import parse_axes, parse_shape

    height, width, channels = parse_shape(args.input, "--input")
    warn_channels_first(args, args.input, (height, width, channels))
    stride = parse_axes(given(args.stride, "1"), "--stride", 2)
    written = given(args.padding, "0").strip().lower()
    padding_word = written if written in ("same", "valid") else None
    padding = (0, 0) if padding_word else parse_axes(written, "--padding", 2, minimum=0)
    dilation = parse_axes(given(args.dilation, "1"), "--dilation", 2)
    if padding_word == "same" and args.kernel is None:
        raise SymconvError("--padding same needs --kernel K: with 'same' padding every odd "
                           "kernel keeps the size, so the output cannot tell the kernel")
    output = None
    if args.output is not None:
        out_height, out_width, out_channels = parse_shape(args.output, "--output")
        output = (out_height, out_width, out_channels)
    given_channels = (
        parse_axes(args.out_channels, "--out-channels", 1)[0]
        if args.out_channels is not None else None
    )
    if output is None and given_channels is None:
        raise SymconvError("give --output HxWxC or --out-channels N")
    if output is not None and given_channels is not None and output[2] != given_channels:
        raise SymconvError(
            f"--output {args.output} has {output[2]} channels but --out-channels is "
            f"{given_channels}; give one of them, or make them agree"
        )
    kernel_inferred = args.kernel is None
    if kernel_inferred:
        if output is None:
            raise SymconvError("give --kernel K, or --output HxWxC to infer the kernel")
        from symconv.derive.infer import infer_kernel

        kernel = infer_kernel(
            (height, width), output[:2], stride=stride, padding=padding, dilation=dilation
        )
    else:
        kernel = parse_axes(args.kernel, "--kernel", 2)
    if padding_word is not None:  # PyTorch's words, read as the layers read them
        from symconv.layers import Conv2d

        if padding_word == "same" and tuple(stride) != (1, 1):
            raise SymconvError(f"--padding same needs stride 1 (as in PyTorch), not --stride "
                               f"{args.stride}; give the padding as a number")
        padding = Conv2d(channels, 1, kernel, stride, padding_word, dilation).padding
    if output is not None and not kernel_inferred:
        _check_output_agrees(args, (height, width), output[:2], kernel, stride, padding, dilation)
    return ConvSetting(
        input_shape=(height, width, channels),
        out_channels=output[2] if output is not None else given_channels,  # type: ignore[arg-type]
        kernel=(kernel[0], kernel[1]),
        stride=(stride[0], stride[1]),
        padding=(padding[0], padding[1]),
        dilation=(dilation[0], dilation[1]),
        bias=args.bias,
        kernel_inferred=kernel_inferred,
        expected_output=output,
    )


def _check_output_agrees(args: argparse.Namespace, spatial: tuple[int, int],
                         wanted: tuple[int, ...], kernel: Sequence[int], stride: Sequence[int],
                         padding: Sequence[int], dilation: Sequence[int]) -> None:
    """``--output`` given with ``--kernel`` must be what that kernel makes, for every command."""
    from symconv.layers.shapes import conv_output_size

    made = tuple(int(conv_output_size(*values))
                 for values in zip(spatial, kernel, stride, padding, dilation))
    if made != tuple(wanted):
        raise SymconvError(
            f"--output {args.output} disagrees with --kernel {args.kernel}: that kernel gives "
            f"{'x'.join(map(str, made))}; drop --kernel to infer it, or fix --output"
        )


class OutputError(Exception):
    """Standard output could not be written: a full disk, ``/dev/full``, a closed pipe."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


def flush_stdout() -> None:
    try:
        sys.stdout.flush()
    except OSError as error:
        raise OutputError(error) from None


def memory_limit(args: argparse.Namespace) -> dict[str, Any]:
    """``{"max_memory": bytes}`` for :func:`symconv.verify` when ``--max-memory`` is given."""
    if args.max_memory is None:
        return {}
    from symconv.parse import parse_bytes

    return {"max_memory": parse_bytes(args.max_memory, "--max-memory")}


def one_line(text: str, limit: int = 1000) -> str:
    """``text`` as one line of at most about ``limit`` characters: control characters escaped,
    the middle of a longer text cut (its start and its end, which says the fix, are kept)."""
    from symconv.errors import escape_controls

    line = escape_controls(text)
    if len(line) <= limit:
        return line
    keep = (limit - 40) // 2
    return f"{line[:keep]}…({len(line) - 2 * keep} characters cut)…{line[-keep:]}"


def os_message(error: OSError) -> str:
    """``No space left on device: 'figs/standard.svg'`` from an :class:`OSError`."""
    from symconv.errors import shown

    what = error.strerror or type(error).__name__
    return f"{what}: {shown(os.fsdecode(error.filename))}" if error.filename else what


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def exit_text(exit_: BaseException) -> str:
    if isinstance(exit_, SystemExit):
        code = exit_.code
        return f"sys.exit({code!r})" if code is None or isinstance(code, int) else \
            f"sys.exit: {first_line(exit_)}"
    return f"{type(exit_).__name__}: {first_line(exit_)}"


def fail(args: argparse.Namespace | None, line: str, code: int) -> int:
    """Print ``line`` (and any pending warnings, on the same line) on stderr; return ``code``."""
    if args is not None and getattr(args, "warnings", None):
        line += "".join(f" (note: {message})" for message in args.warnings)
    try:
        print(one_line(line), file=sys.stderr)
        sys.stderr.flush()
    except (OSError, ValueError):  # nowhere left to say it; the exit status still does
        pass
    return code


def discard_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's last flush of what
    could not be written (a full disk, a closed pipe) fails no second time at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        pass


def internal_error(args: argparse.Namespace | None, error: BaseException) -> int:
    if os.environ.get("SYMCONV_DEBUG") == "1":
        raise error
    return fail(args, f"symconv: internal error: {type(error).__name__}: {first_line(error)} "
                       "(please report; SYMCONV_DEBUG=1 shows the traceback)", 1)


#: One example per command, shown at the end of its --help.
EXAMPLES = {
    "compare": ["symconv compare --input 7x7x3 --output 5x5x64",
                "symconv compare --input 56x56x32 --out-channels 64 --kernel 3 --padding same "
                "--format latex --standalone --lang zh"],
    "verify": ["symconv verify --input 7x7x3 --output 5x5x64"],
    "diagram": ["symconv diagram --input 7x7x3 --out-channels 64 --kernel 3 --out-dir figs/"],
    "net": ["symconv net mobilenet_v1 --alpha 0.75 --resolution 160 --per-layer",
            "symconv net model.py:build --input 224x224x3 --convention flops"],
    "solve": ["symconv solve --help"],
    "report": ["symconv report --input 7x7x3 --output 5x5x64 > answer.html",
               "symconv report --input 7x7x3 --output 5x5x64 --lang zh --pdf answer.pdf"],
    "derive": ["symconv derive separable", "symconv derive standard --dims 3 --format latex"],
    "roofline": ["symconv roofline mobilenet_v1 --device t4 --out roofline.svg"],
}


def describe(command: argparse.ArgumentParser, commands: Any, name: str) -> None:
    """Give a sub-command's --help a description (its one-line help) and examples."""
    help_text = next((action.help for action in commands._choices_actions
                      if action.dest == name), None)
    if command.description is None and help_text:
        command.description = help_text[0].upper() + help_text[1:] + "."
    if command.epilog is None and name in EXAMPLES:
        command.epilog = "example:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
        command.formatter_class = argparse.RawDescriptionHelpFormatter
