"""The ``symconv`` command line: build a parser, parse, dispatch.

Exit codes: 0 on success, 1 when a verification does not match (or, with one line asking for a
report, an internal error), 2 on bad input or an output that cannot be written (one line on
stderr, no traceback, no usage block), 130 when interrupted (Ctrl-C) and 141 when the reader of
the output went away (a closed pipe). Sizes are parsed with :mod:`symconv.parse`'s strict
grammar; no user text is evaluated. Each command imports only what it needs, so that a run is
dominated by importing SymPy. ``SYMCONV_DEBUG=1`` shows the traceback of an internal error.

Examples
--------
>>> main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "json"]) # doctest: +ELLIPSIS
{
  "input": [
    7,
...
  "symbols": [
...
0
>>> main(["compare", "--input", "7x7"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn, cast

from symconv import cli_phase, cli_roofline
from symconv import cli_support as support
from symconv.errors import SymconvError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`SymconvError` (one line, exit 2), and that
    refuses an empty value (``--stride ""``) instead of taking it for the default."""

    def error(self, message: str) -> NoReturn:
        raise SymconvError(message)

    def _print_message(self, message: str, file: Any = None) -> None:
        """As argparse's (``--help``, ``--version``), without ignoring a failed write."""
        if message:
            try:
                (file or sys.stderr).write(message)
            except OSError as error:
                raise support.OutputError(error) from None

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        parsed, rest = super().parse_known_args(args, namespace)
        for action in self._actions:
            value = getattr(parsed, action.dest, None)
            if isinstance(value, str) and not value.strip():
                name = action.option_strings[0] if action.option_strings else action.dest
                later = "" if action.required or not action.option_strings else (
                    ", or leave the option out")
                raise SymconvError(f"{name} is empty; give a value{later}")
        return parsed, rest


def _add_conv_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, metavar="HxWxC",
                        help="input shape, channels last, e.g. 7x7x3")
    parser.add_argument("--output", metavar="HxWxC",
                        help="output shape; without --kernel the kernel is inferred")
    parser.add_argument("--out-channels", metavar="N", help="output channels N")
    parser.add_argument("--kernel", metavar="K", help="kernel size: 3 or 3x5")
    parser.add_argument("--stride", metavar="S", help="stride (default 1): 2 or 2x1")
    parser.add_argument("--padding", metavar="P",
                        help="zero padding (default 0): 1, 1x0, or PyTorch's same or valid")
    parser.add_argument("--dilation", metavar="D", help="dilation (default 1): 2 or 2x1")
    parser.add_argument("--bias", action="store_true", help="give every convolution a bias")


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", default="en", metavar="{en,zh}",
                        help="report language (default en)")


def _add_title(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--title", help="with --standalone: the document's title")


def build_parser() -> argparse.ArgumentParser:
    """The ``symconv`` argument parser with one sub-parser per command."""
    parser = _Parser(
        prog="symconv",
        description="What convolution layers cost, derived as SymPy formulas and checked "
                    "by execution.",
    )
    from symconv import __version__

    parser.add_argument("--version", action="version", version=f"symconv {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    compare = commands.add_parser(
        "compare", help="a standard convolution against its depthwise separable twin"
    )
    _add_conv_arguments(compare)
    compare.add_argument("--format", default="text", metavar="{text,json,markdown,latex,html}",
                         help="report format (default text)")
    compare.add_argument("--standalone", action="store_true",
                         help="wrap LaTeX in a complete document")
    cli_phase.add_phase(compare, layer=True)
    _add_language(compare)
    _add_title(compare)
    compare.set_defaults(handler=_run_compare)

    verify = commands.add_parser(
        "verify", help="execute both layers with NumPy and check every formula against the counts"
    )
    _add_conv_arguments(verify)
    verify.add_argument("--format", default="text", metavar="{text,json,markdown,latex,html}",
                        help="report format (default text)")
    verify.add_argument("--standalone", action="store_true",
                        help="wrap LaTeX in a complete document")
    verify.add_argument("--seed", default="0", help="seed of the random input and weights")
    cli_phase.add_phase(verify, layer=True)
    verify.add_argument("--max-memory", metavar="SIZE",
                        help="the most memory an execution may take, in bytes with an optional "
                             "K, M, G or T (powers of 1024), like 2G")
    _add_language(verify)
    _add_title(verify)
    verify.set_defaults(handler=_run_verify)

    diagram = commands.add_parser(
        "diagram", help="draw the standard, depthwise and pointwise convolution as 3-D blocks"
    )
    _add_conv_arguments(diagram)
    diagram.add_argument("--out-dir", required=True, metavar="DIR",
                         help="directory for the three figures (created if missing); figures "
                              "of the same names in it are replaced")
    diagram.add_argument("--image", default="svg", help="svg, png or pdf (default svg)")
    diagram.add_argument("--scale", default="log", metavar="{log,linear}",
                         help="lengths on a logarithmic scale (default: a 1x1 kernel and a "
                              "224x224 input both readable) or to scale")
    _add_language(diagram)
    diagram.set_defaults(handler=_run_diagram)

    net = commands.add_parser(
        "net", help="a whole network's cost: formula in alpha and rho, value, per layer"
    )
    net.add_argument("network", help="mobilenet_v1, mobilenet_v2, or a PyTorch model built by "
                                     "a function in your file: path/to/model.py:factory")
    net.add_argument("--alpha", help="width multiplier, e.g. 0.75 or 3/4 (default: symbol alpha)")
    net.add_argument("--resolution", help="input pixels, e.g. 160 (default: 224·rho)")
    net.add_argument("--input", metavar="HxWxC",
                     help="a model file's input, channels last: 224x224x3 (LxC in 1-D, F alone)")
    net.add_argument("--factory-kwargs", metavar="JSON",
                     help="a model file's factory arguments as a JSON object, e.g. "
                          "'{\"num_classes\": 10}' (parsed as JSON, never run as code)")
    net.add_argument("--skip-unsupported", action="store_true",
                     help="a model file's parts symconv cannot count are counted as zero and "
                          "listed as uncounted, instead of refused")
    net.add_argument("--convention",
                     help="macs (default), flops, ops, mults, adds, divs, comparisons, transcendentals, "
                          "params, or a tool's: ptflops, thop, fvcore, torch, torchinfo")
    net.add_argument("--compare-conventions", action="store_true",
                     help="every convention side by side, with why each tool's number differs "
                          "(text, markdown or json)")
    net.add_argument("--per-layer", action="store_true",
                     help="one row per layer, with the convention's count and its share")
    net.add_argument("--depth", metavar="N",
                     help="with --per-layer: fold nested modules below depth N (1: one row per "
                          "top-level module)")
    net.add_argument("--units", metavar="{exact,comma,si}",
                     help="how counts are written: exact digits (default), thousands "
                          "separators (568,740,352) or SI prefixes (568.74 M); JSON stays exact")
    net.add_argument("--verify", action="store_true",
                     help="execute the network with NumPy and check every layer's counts "
                          "(alpha 1 and 224 pixels unless given); exit 1 on a mismatch")
    net.add_argument("--seed", help="with --verify: seed of the input and weights (default 0)")
    cli_phase.add_phase(net)
    cli_phase.add_optimizer(net)
    net.add_argument("--max-memory", metavar="SIZE",
                     help="with --verify: the most memory an execution may take, in bytes with "
                          "an optional K, M, G or T (powers of 1024), like 2G")
    net.add_argument("--format", default="text", metavar="{text,json,markdown,latex}",
                     help="report format (default text)")
    net.add_argument("--standalone", action="store_true", help="wrap LaTeX in a complete document")
    _add_language(net)
    _add_title(net)
    net.set_defaults(handler=_run_net)
    cli_roofline.add_memory_options(net)

    solve = commands.add_parser(
        "solve", help="exact answers to design questions: separable N for a saving, the widest "
                      "or largest network within a count or memory budget, where one algorithm "
                      "beats another, the batch from which a layer is compute-bound"
    )
    from symconv.design.command import add_arguments as _add_solve_arguments

    _add_solve_arguments(solve)
    solve.set_defaults(handler=_run_solve)

    report = commands.add_parser(
        "report", help="the homework answered in one document: symbols, diagrams, every "
                       "stage's formula, substitution and value, the ratio, the execution's check"
    )
    _add_conv_arguments(report)
    report.add_argument("--format", metavar="{html,latex}",
                        help="html (default: one self-contained page on standard output) or "
                             "latex (report.tex and the three figures as PDFs in --out-dir)")
    report.add_argument("--standalone", action="store_true",
                        help="with --format latex: a complete document (pdflatex for en, "
                             "xelatex for zh)")
    report.add_argument("--out-dir", metavar="DIR",
                        help="with --format latex: directory for report.tex and the figures")
    report.add_argument("--pdf", metavar="OUT.pdf",
                        help="compile the LaTeX report into OUT.pdf (needs pdflatex, or xelatex "
                             "for --lang zh)")
    report.add_argument("--title", help="the document's title")
    report.add_argument("--author", help="the author shown under the title")
    report.add_argument("--seed", default="0", help="seed of the executed layers' input and weights")
    _add_language(report)
    report.set_defaults(handler=_run_report)

    derive = commands.add_parser("derive", help="the general formulas of one layer kind")
    derive.add_argument("kind", help="standard, grouped, depthwise, pointwise, separable or "
                                     "transposed")
    derive.add_argument("--bias", action="store_true", help="with a bias")
    derive.add_argument("--dims", default="2", help="spatial axes: 1 (L), 2 (H, W) or 3 (D, H, W)")
    derive.add_argument("--format", default="text", metavar="{text,json,markdown,latex}",
                        help="report format (default text)")
    derive.add_argument("--standalone", action="store_true",
                        help="wrap LaTeX in a complete document")
    cli_phase.add_phase(derive, layer=True)
    _add_language(derive)
    _add_title(derive)
    derive.set_defaults(handler=_run_derive)
    cli_roofline.add_roofline_parser(commands)
    for name, command in commands.choices.items():
        support.describe(command, commands, name)
    parser.epilog = "'symconv COMMAND --help' shows a command's options and an example."
    return parser


def _run_compare(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    write = _call(renderer(args.format), "render_comparison", args)
    setting = support.conv_setting(args)
    from symconv.report.compare import compare

    result = compare(
        setting.input_shape, setting.out_channels, setting.kernel, stride=setting.stride,
        padding=setting.padding, dilation=setting.dilation, bias=setting.bias,
        kernel_inferred=setting.kernel_inferred, **cli_phase.phase(args),
    )
    support.emit(args, write(result, args.lang))
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    from symconv.parse import parse_axes
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    write = _call(renderer(args.format), "render_verification", args)
    seed = parse_axes(args.seed, "--seed", 1, minimum=0)[0]
    limit = support.memory_limit(args)
    setting = support.conv_setting(args)
    from symconv.layers import Conv2d, DepthwiseSeparableConv2d
    from symconv.verify import verify

    arguments = (setting.kernel, setting.stride, setting.padding, setting.dilation)
    channels, out_channels = setting.input_shape[2], setting.out_channels
    layers = [Conv2d(channels, out_channels, *arguments, bias=setting.bias),
              DepthwiseSeparableConv2d(channels, out_channels, *arguments, bias=setting.bias)]
    support.show_warnings(args)  # before an execution that may take a while
    results = [verify(layer, setting.input_shape, seed=seed, **cli_phase.phase(args), **limit)
               for layer in layers]
    from symconv.layers.shapes import output_spatial
    from symconv.report.legend import conv_legend

    out_height, out_width = output_spatial(layers[0], setting.input_shape[:2])
    legend = conv_legend(setting.input_shape, out_channels, setting.kernel,
                         output=(int(out_height), int(out_width)), stride=setting.stride,
                         padding=setting.padding, dilation=setting.dilation)
    support.emit(args, write(results, args.lang, seed, legend=legend))
    return 0 if all(result.ok for result in results) else 1


def _run_diagram(args: argparse.Namespace) -> int:
    setting = support.conv_setting(args)
    from symconv.render.diagram import draw_separable_stages

    paths = draw_separable_stages(
        setting.input_shape, setting.out_channels, setting.kernel, stride=setting.stride,
        padding=setting.padding, dilation=setting.dilation, bias=setting.bias,
        out_dir=args.out_dir, image=args.image, lang=args.lang, scale=args.scale,
    )
    support.emit(args, "\n".join(str(path) for path in paths))
    return 0


def _check_report_options(args: argparse.Namespace) -> None:
    """Refuse ``report`` options that would do nothing together."""
    if args.format not in (None, "html", "latex"):
        raise SymconvError(f"--format {args.format} is not available for report; choose html "
                           "or latex")
    if args.pdf is not None:
        if args.format == "html":
            raise SymconvError("--pdf writes a PDF from LaTeX; drop --format html")
        if args.out_dir is not None or args.standalone:
            raise SymconvError("--pdf makes the complete document itself; drop --out-dir and "
                               "--standalone (or drop --pdf to keep the .tex)")
        return
    if args.format in (None, "html"):
        for option, given in (("--standalone", args.standalone), ("--out-dir", args.out_dir)):
            if given:
                raise SymconvError(f"{option} goes with --format latex; an HTML report is one "
                                   "file, written to standard output")
    elif args.out_dir is None:
        raise SymconvError("--format latex needs --out-dir DIR: report.tex and its three "
                           "figures (PDF) are written there")


def _run_report(args: argparse.Namespace) -> int:
    from symconv.parse import parse_axes
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    _check_report_options(args)
    seed = parse_axes(args.seed, "--seed", 1, minimum=0)[0]
    setting = support.conv_setting(args)
    from symconv.report.compare import compare
    from symconv.report.homework import Homework, layers
    from symconv.verify import Verification, verify

    result = compare(
        setting.input_shape, setting.out_channels, setting.kernel, stride=setting.stride,
        padding=setting.padding, dilation=setting.dilation, bias=setting.bias,
        kernel_inferred=setting.kernel_inferred,
    )
    support.show_warnings(args)  # before an execution that may take a while
    checks = tuple(cast("Verification", verify(layer, result.input_shape, seed=seed))
                   for layer in layers(result))
    answer = Homework(result, checks, seed, title=args.title, author=args.author)
    if args.pdf is None and args.format != "latex":
        from symconv.render.html import render_report

        support.emit(args, render_report(answer, args.lang))
    else:
        from symconv.render.document import write_latex_report, write_pdf_report

        if args.pdf is not None:
            support.emit(args, str(write_pdf_report(answer, args.pdf, args.lang)))
        else:
            paths = write_latex_report(answer, args.out_dir, args.lang, standalone=args.standalone)
            support.emit(args, "\n".join(str(path) for path in paths))
    return 0 if answer.ok else 1


def _check_net_options(args: argparse.Namespace) -> None:
    """Refuse options that would do nothing together (rather than ignore one silently)."""
    if args.verify and args.compare_conventions:
        raise SymconvError("--verify and --compare-conventions are two different reports; "
                           "give one of them")
    mode = "--verify" if args.verify else "--compare-conventions" if args.compare_conventions \
        else None
    if args.compare_conventions and args.optimizer is not None:
        raise SymconvError("--optimizer goes with the cost report or --verify, not "
                           "--compare-conventions; drop one")
    cli_phase.optimizer(args)
    if args.compare_conventions:
        cli_phase.forward_only(args, "--compare-conventions", "ptflops, thop, fvcore and "
                               "torchinfo count no backward pass")
    if mode is not None and args.per_layer:
        reason = ("already lists every layer" if args.verify
                  else "compares whole-network totals")
        raise SymconvError(f"--per-layer does nothing with {mode}, which {reason}; drop one")
    if mode is not None and args.convention is not None:
        reason = ("checks every count" if args.verify
                  else "shows every convention side by side")
        raise SymconvError(f"--convention does nothing with {mode}, which {reason}; drop one")
    if args.depth is not None and not args.per_layer:
        raise SymconvError("--depth folds the rows of --per-layer; add --per-layer or drop "
                           "--depth")
    if args.units is not None:
        from symconv.render.numbers import UNITS

        if args.units not in UNITS:
            raise SymconvError(f"--units {args.units} is not known; choose one of "
                               f"{', '.join(UNITS)}")
        if mode is not None or args.format == "json":
            what = mode or "--format json"
            raise SymconvError(f"--units does nothing with {what}, which keeps exact counts; "
                               "drop --units")
    if not args.verify:
        for option in ("seed", "max_memory"):
            if getattr(args, option) is not None:
                raise SymconvError(f"--{option.replace('_', '-')} goes with --verify (it sets "
                                   "how the network is executed); add --verify or drop it")


def _run_net(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    if cli_roofline.wants_memory(args):
        if args.optimizer is not None:
            raise SymconvError("--optimizer goes with the cost report, not --memory; drop one")
        cli_phase.forward_only(args, "--memory", "its bytes and roofline are inference's")
        return cli_roofline.run_net_memory(args)
    _check_net_options(args)
    render = renderer(args.format)
    if ":" in args.network or args.network.endswith(".py"):
        return _run_net_file(args, render)
    if args.input is not None:
        raise SymconvError(f"--input is for models from a file; {args.network} carries its "
                           "input shape (use --resolution)")
    if args.factory_kwargs is not None or args.skip_unsupported:
        flag = "--factory-kwargs" if args.factory_kwargs is not None else "--skip-unsupported"
        raise SymconvError(f"{flag} is for models from a file (path/to/model.py:factory); "
                           f"{args.network} is symconv's own")
    if args.compare_conventions or args.verify:
        from symconv.networks.reconcile import compare_conventions
        from symconv.networks.zoo import network
        from symconv.parse import parse_axes, parse_multiplier
        from symconv.report.analysis import _TITLES

        write = _call(render, "render_verification" if args.verify else "render_conventions",
                      args)
        width = parse_multiplier(support.given(args.alpha, "1"), "--alpha")
        pixels = parse_axes(support.given(args.resolution, "224"), "--resolution", 1)[0]
        model = network(args.network, width, resolution=pixels)
        title = _TITLES.get(args.network, args.network)
        if args.verify:
            return _verify_network(title, model, args, write)
        support.emit(args, write(compare_conventions(title, model), args.lang))
        return 0
    from symconv.report.analysis import analyse_zoo

    write = _call(render, "render_network", args)
    report = analyse_zoo(
        args.network, alpha=args.alpha, resolution=args.resolution,
        convention=support.given(args.convention, "macs"),
        per_layer=args.per_layer or args.format == "json", depth=_depth(args),
        **cli_phase.phase(args), **cli_phase.optimizer(args),
    )
    support.emit(args, write(report, args.lang, **_units(args)))
    return 0


def _depth(args: argparse.Namespace) -> int | None:
    if args.depth is None:
        return None
    from symconv.parse import parse_axes

    return parse_axes(args.depth, "--depth", 1)[0]


def _units(args: argparse.Namespace) -> dict[str, str]:
    """``{"units": ...}`` for a renderer when ``--units`` is given."""
    return {} if args.units is None else {"units": args.units}


def _run_net_file(args: argparse.Namespace, render: object) -> int:
    """``symconv net path/to/model.py:factory --input HxWxC``: a PyTorch model of the user's."""
    from symconv.errors import shown

    shape = support.model_file_input(args)
    name = ("render_verification" if args.verify else
            "render_conventions" if args.compare_conventions else "render_network")
    write = _call(render, name, args)
    from symconv.frontends.command import count_model_file

    args.user_code = True  # the model file's own code runs from here on
    try:
        net, write = count_model_file(args, shape, write)
    except OSError as error:  # a path too long, a file that cannot be read
        raise SymconvError(f"network {shown(args.network)}: {support.os_message(error)}") from None
    args.user_code = False
    if args.verify:
        return _verify_network(args.network, net, args, write)
    if args.compare_conventions:
        from symconv.networks.reconcile import compare_conventions

        support.emit(args, write(compare_conventions(args.network, net), args.lang))
        return 0
    from symconv.report.analysis import analyse

    report = analyse(args.network, net, convention=support.given(args.convention, "macs"),
                     per_layer=args.per_layer or args.format == "json", depth=_depth(args),
                     **cli_phase.phase(args), **cli_phase.optimizer(args))
    support.emit(args, write(report, args.lang, **_units(args)))
    return 0


def _verify_network(title: str, model: object, args: argparse.Namespace,
                    write: Callable[..., str]) -> int:
    """``net --verify``: execute a concrete network and compare every layer with its row."""
    from symconv.parse import parse_axes
    from symconv.verify import verify

    seed = parse_axes(support.given(args.seed, "0"), "--seed", 1, minimum=0)[0]
    limit = support.memory_limit(args)
    support.show_warnings(args)  # before an execution that may take a while
    check = verify(model, seed=seed, **cli_phase.phase(args),  # type: ignore[arg-type]
                   **cli_phase.optimizer(args), **limit)
    support.emit(args, write([check], args.lang, seed, title=title))
    return 0 if check.ok else 1


def _run_solve(args: argparse.Namespace) -> int:
    from symconv.design.command import run

    support.emit(args, run(args))
    return 0


def _run_derive(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language
    from symconv.report.kinds import derive_kind

    check_language(args.lang)
    write = _call(renderer(args.format), "render_kind", args)
    if args.dims not in ("1", "2", "3"):
        raise SymconvError(f"--dims {args.dims} must be 1, 2 or 3")
    general = derive_kind(args.kind, bias=args.bias, dims=int(args.dims),
                          **cli_phase.phase(args))
    support.emit(args, write(general, args.lang))
    return 0


def _mode(args: argparse.Namespace) -> str:
    """The command as the user gave it, with the flag that picks its report: ``net --verify``."""
    flags = [f" --{flag.replace('_', '-')}" for flag in ("verify", "compare_conventions")
             if getattr(args, flag, False)]
    return f"{args.command}{''.join(flags)}"


def _call(module: Any, name: str, args: argparse.Namespace) -> Callable[..., str]:
    """The renderer function ``name`` of ``module``, wrapped in a LaTeX document with
    ``--standalone``; a format or ``--standalone`` that the command lacks is refused here,
    before any work is done."""
    function = getattr(module, name, None)
    if function is None:
        raise SymconvError(f"--format {args.format} is not available for {_mode(args)}")
    title = getattr(args, "title", None)
    if getattr(args, "standalone", False):
        wrap = getattr(module, "standalone", None)
        if wrap is None:
            raise SymconvError(f"--standalone goes with --format latex, not {args.format}")

        def document(*values: Any, **keywords: Any) -> str:
            return str(wrap(function(*values, **keywords), args.lang, title=title))

        return document
    if title is not None:
        raise SymconvError("--title names a complete document; add --format latex --standalone, "
                           "or drop --title")
    return function


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symconv`` command line; returns the exit code.

    Bad input prints ``symconv: error: <message>`` on stderr and returns 2; an interrupt
    (Ctrl-C) ``symconv: interrupted`` and 130. Nothing ends in a traceback: an unexpected error
    is one line ``symconv: internal error: ...`` and exit status 1, unless the environment sets
    ``SYMCONV_DEBUG=1``.
    """
    args: argparse.Namespace | None = None
    try:
        if not (sys.argv[1:] if argv is None else list(argv)):  # bare `symconv`: the commands
            print(build_parser().format_help(), end="")
            support.flush_stdout()
            return 0
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as exit_:  # --help and --version
            support.flush_stdout()
            return exit_.code if isinstance(exit_.code, int) else 0
        args.warnings = []
        args.user_code = False
        code: int = args.handler(args)
        support.show_warnings(args)
        support.flush_stdout()
        return code
    except KeyboardInterrupt:
        return support.fail(None, "symconv: interrupted", 130)
    except support.OutputError as failure:
        support.discard_stdout()
        if isinstance(failure.error, BrokenPipeError):
            return 141  # the reader went away (| head): nothing to say, as for SIGPIPE
        return support.fail(args, "symconv: error: cannot write the output: "
                           f"{failure.error.strerror or failure.error}", 2)
    except SymconvError as error:
        return support.fail(args, f"symconv: error: {error}", 2)
    except OSError as error:  # a path of the user's: too long, not permitted, a full disk
        return support.fail(args, f"symconv: error: {support.os_message(error)}", 2)
    except MemoryError:
        return support.fail(args, "symconv: error: not enough memory for this run; give smaller sizes",
                     2)
    except (SystemExit, GeneratorExit) as exit_:
        if args is not None and args.user_code:
            return support.fail(args, f"symconv: error: the model file exited: {support.exit_text(exit_)}", 2)
        return support.internal_error(args, exit_)
    except Exception as error:
        return support.internal_error(args, error)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
