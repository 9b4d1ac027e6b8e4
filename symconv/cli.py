"""The ``symconv`` command line: build a parser, parse, dispatch.

Exit codes: 0 on success, 1 when a verification does not match, 2 on bad input (one line on
stderr, no traceback, no usage block). Sizes are parsed with :mod:`symconv.parse`'s strict
grammar; no user text is evaluated. Each command imports only what it needs, so that a run is
dominated by importing SymPy.

Examples
--------
>>> main(["compare", "--input", "7x7x3", "--output", "5x5x64", "--format", "json"]) # doctest: +ELLIPSIS
{
  "input": [
    7,
...
0
>>> main(["compare", "--input", "7x7"])
2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from symconv.errors import SymconvError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`SymconvError` (one line, exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise SymconvError(message)


def _add_conv_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, metavar="HxWxC",
                        help="input shape, channels last, e.g. 7x7x3")
    parser.add_argument("--output", metavar="HxWxC",
                        help="output shape; without --kernel the kernel is inferred")
    parser.add_argument("--out-channels", metavar="N", help="output channels N")
    parser.add_argument("--kernel", metavar="K", help="kernel size: 3 or 3x5")
    parser.add_argument("--stride", metavar="S", help="stride (default 1): 2 or 2x1")
    parser.add_argument("--padding", metavar="P", help="zero padding (default 0): 1 or 1x0")
    parser.add_argument("--dilation", metavar="D", help="dilation (default 1): 2 or 2x1")
    parser.add_argument("--bias", action="store_true", help="give every convolution a bias")


def _add_language(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lang", default="en", help="report language: en or zh")


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
    compare.add_argument("--format", default="text",
                         help="text, json, markdown or latex (default text)")
    compare.add_argument("--standalone", action="store_true",
                         help="wrap LaTeX in a complete document")
    _add_language(compare)
    compare.set_defaults(handler=_run_compare)

    verify = commands.add_parser(
        "verify", help="execute both layers with NumPy and check every formula against the counts"
    )
    _add_conv_arguments(verify)
    verify.add_argument("--format", default="text", help="text, json, markdown, latex")
    verify.add_argument("--standalone", action="store_true",
                        help="wrap LaTeX in a complete document")
    verify.add_argument("--seed", default="0", help="seed of the random input and weights")
    _add_language(verify)
    verify.set_defaults(handler=_run_verify)

    diagram = commands.add_parser(
        "diagram", help="draw the standard, depthwise and pointwise convolution as 3-D blocks"
    )
    _add_conv_arguments(diagram)
    diagram.add_argument("--out-dir", required=True, metavar="DIR",
                         help="existing, writable directory for the three figures")
    diagram.add_argument("--image", default="svg", help="svg, png or pdf (default svg)")
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
    net.add_argument("--convention", default="macs",
                     help="macs (default), flops, ops, mults, adds, divs, comparisons, params, "
                          "or a tool's: ptflops, thop, fvcore, torch, torchinfo")
    net.add_argument("--compare-conventions", action="store_true",
                     help="every convention side by side, with why each tool's number differs "
                          "(text, markdown or json)")
    net.add_argument("--per-layer", action="store_true", help="one row per layer")
    net.add_argument("--verify", action="store_true",
                     help="execute the network with NumPy and check every layer's counts "
                          "(alpha 1 and 224 pixels unless given); exit 1 on a mismatch")
    net.add_argument("--seed", default="0", help="with --verify: seed of the input and weights")
    net.add_argument("--format", default="text", help="text, json, markdown or latex")
    net.add_argument("--standalone", action="store_true", help="wrap LaTeX in a complete document")
    _add_language(net)
    net.set_defaults(handler=_run_net)

    derive = commands.add_parser("derive", help="the general formulas of one layer kind")
    derive.add_argument("kind", help="standard, grouped, depthwise, pointwise, separable or "
                                     "transposed")
    derive.add_argument("--bias", action="store_true", help="with a bias")
    derive.add_argument("--dims", default="2", help="spatial axes: 1 (L), 2 (H, W) or 3 (D, H, W)")
    derive.add_argument("--format", default="text",
                        help="text, json, markdown or latex (default text)")
    derive.add_argument("--standalone", action="store_true",
                        help="wrap LaTeX in a complete document")
    _add_language(derive)
    derive.set_defaults(handler=_run_derive)
    return parser


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


def _conv_setting(args: argparse.Namespace) -> ConvSetting:
    """Turn the shared convolution options into checked values, inferring the kernel."""
    from symconv.parse import parse_axes, parse_shape

    height, width, channels = parse_shape(args.input, "--input")
    stride = parse_axes(args.stride or "1", "--stride", 2)
    padding = parse_axes(args.padding or "0", "--padding", 2, minimum=0)
    dilation = parse_axes(args.dilation or "1", "--dilation", 2)
    output = None
    if args.output:
        out_height, out_width, out_channels = parse_shape(args.output, "--output")
        output = (out_height, out_width, out_channels)
    given_channels = (
        parse_axes(args.out_channels, "--out-channels", 1)[0] if args.out_channels else None
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


def _run_compare(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    render = renderer(args.format)
    setting = _conv_setting(args)
    from symconv.report.compare import compare

    result = compare(
        setting.input_shape, setting.out_channels, setting.kernel, stride=setting.stride,
        padding=setting.padding, dilation=setting.dilation, bias=setting.bias,
        kernel_inferred=setting.kernel_inferred,
    )
    expected = setting.expected_output
    if expected is not None and expected != result.output_shape:
        raise SymconvError(
            f"--output {args.output} disagrees with --kernel {args.kernel}: that kernel gives "
            f"{'x'.join(map(str, result.output_shape))}"
        )
    print(_call(render, "render_comparison", args)(result, args.lang))
    return 0


def _run_verify(args: argparse.Namespace) -> int:
    from symconv.parse import parse_axes
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    render = renderer(args.format)
    seed = parse_axes(args.seed, "--seed", 1, minimum=0)[0]
    setting = _conv_setting(args)
    from symconv.layers import Conv2d, DepthwiseSeparableConv2d
    from symconv.verify import verify

    arguments = (setting.kernel, setting.stride, setting.padding, setting.dilation)
    channels, out_channels = setting.input_shape[2], setting.out_channels
    results = [
        verify(Conv2d(channels, out_channels, *arguments, bias=setting.bias),
               setting.input_shape, seed=seed),
        verify(DepthwiseSeparableConv2d(channels, out_channels, *arguments, bias=setting.bias),
               setting.input_shape, seed=seed),
    ]
    print(_call(render, "render_verification", args)(results, args.lang, seed))
    return 0 if all(result.ok for result in results) else 1


def _run_diagram(args: argparse.Namespace) -> int:
    setting = _conv_setting(args)
    from symconv.render.diagram import draw_separable_stages

    paths = draw_separable_stages(
        setting.input_shape, setting.out_channels, setting.kernel, stride=setting.stride,
        padding=setting.padding, dilation=setting.dilation, out_dir=args.out_dir,
        image=args.image, lang=args.lang,
    )
    for path in paths:
        print(path)
    return 0


def _run_net(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language

    check_language(args.lang)
    render = renderer(args.format)
    if ":" in args.network or args.network.endswith(".py"):
        return _run_net_file(args, render)
    if args.input is not None:
        raise SymconvError(f"--input is for models from a file; {args.network} carries its "
                           "input shape (use --resolution)")
    if args.compare_conventions or args.verify:
        from symconv.networks.reconcile import compare_conventions
        from symconv.networks.zoo import network

        pixels = args.resolution or "224"
        from symconv.parse import parse_axes
        from symconv.report.analysis import _TITLES, parse_multiplier

        model = network(args.network, parse_multiplier(args.alpha or "1", "--alpha"),
                        resolution=parse_axes(pixels, "--resolution", 1)[0])
        title = _TITLES.get(args.network, args.network)
        if args.verify:
            return _verify_network(title, model, args, render)
        comparison = compare_conventions(title, model)
        print(_call(render, "render_conventions", args)(comparison, args.lang))
        return 0
    from symconv.report.analysis import analyse_zoo

    report = analyse_zoo(
        args.network, alpha=args.alpha, resolution=args.resolution, convention=args.convention,
        per_layer=args.per_layer or args.format == "json",
    )
    print(_call(render, "render_network", args)(report, args.lang))
    return 0


def _run_net_file(args: argparse.Namespace, render: object) -> int:
    """``symconv net path/to/model.py:factory --input HxWxC``: a PyTorch model of the user's."""
    from symconv.parse import parse_axes, parse_shape

    for option in ("alpha", "resolution"):
        if getattr(args, option) is not None:
            raise SymconvError(f"--{option} is for the zoo networks; a model file's size is "
                               "--input")
    if args.input is None:
        raise SymconvError(f"{args.network} needs --input, the shape of one example, channels "
                           "last: 224x224x3")
    sizes = args.input.replace("×", "x").replace("X", "x").replace("*", "x").count("x")
    shape = (parse_shape(args.input, "--input", dims=sizes) if 1 <= sizes <= 3
             else parse_axes(args.input, "--input", 1))
    from symconv.frontends.torch import from_torch, load_model

    net = from_torch(load_model(args.network), shape)
    if args.verify:
        return _verify_network(args.network, net, args, render)
    if args.compare_conventions:
        from symconv.networks.reconcile import compare_conventions

        comparison = compare_conventions(args.network, net)
        print(_call(render, "render_conventions", args)(comparison, args.lang))
        return 0
    from symconv.report.analysis import analyse

    report = analyse(args.network, net, convention=args.convention,
                     per_layer=args.per_layer or args.format == "json")
    print(_call(render, "render_network", args)(report, args.lang))
    return 0


def _verify_network(title: str, model: object, args: argparse.Namespace, render: object) -> int:
    """``net --verify``: execute a concrete network and compare every layer with its row."""
    from symconv.parse import parse_axes
    from symconv.verify import verify

    seed = parse_axes(args.seed, "--seed", 1, minimum=0)[0]
    check = verify(model, seed=seed)  # type: ignore[arg-type]
    print(_call(render, "render_verification", args)([check], args.lang, seed, title=title))
    return 0 if check.ok else 1


def _run_derive(args: argparse.Namespace) -> int:
    from symconv.render import renderer
    from symconv.render.catalogue import check_language
    from symconv.report.kinds import derive_kind

    check_language(args.lang)
    render = renderer(args.format)
    if args.dims not in ("1", "2", "3"):
        raise SymconvError(f"--dims {args.dims} must be 1, 2 or 3")
    general = derive_kind(args.kind, bias=args.bias, dims=int(args.dims))
    print(_call(render, "render_kind", args)(general, args.lang))
    return 0


def _call(module: object, name: str, args: argparse.Namespace) -> Callable[..., str]:
    function = getattr(module, name, None)
    if function is None:
        raise SymconvError(f"--format {args.format} is not available for {args.command}")
    if getattr(args, "standalone", False):
        wrap = getattr(module, "standalone", None)
        if wrap is None:
            raise SymconvError(f"--standalone goes with --format latex, not {args.format}")
        return lambda *values: str(wrap(function(*values), args.lang))
    return function


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``symconv`` command line; returns the exit code.

    Bad input prints ``symconv: error: <message>`` on stderr and returns 2.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        code: int = args.handler(args)
        return code
    except SymconvError as error:
        print(f"symconv: error: {error}", file=sys.stderr)
        return 2
    except SystemExit as exit_:  # --help and --version
        return exit_.code if isinstance(exit_.code, int) else 0
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
