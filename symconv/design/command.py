"""``symconv solve``: the arguments of each question and what the command prints.

Imports only argparse and the error type at module level, so that building the CLI's parser
stays cheap; the solving is imported when the command runs.

Examples
--------
>>> from symconv.cli import main
>>> main(["solve", "separable", "--kernel", "3", "--saving", "8", "--format", "json"])
... # doctest: +ELLIPSIS
{
  "question": "smallest N for a 3×3 depthwise separable convolution with 8× fewer mults ...",
  ...
  "answer": 72,
...
0
"""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from typing import TYPE_CHECKING

from symconv.errors import SymconvError

if TYPE_CHECKING:
    from symconv.design.answer import Answer

__all__ = ["add_arguments", "run", "parse_count"]

#: Which options each question takes (the others are refused, not ignored).
_OPTIONS = {
    "separable": ("kernel", "saving", "measure"),
    "alpha": ("network", "budget", "convention", "resolution", "dtype_bytes"),
    "resolution": ("network", "budget", "convention", "alpha", "channels", "factory_kwargs",
                   "dtype_bytes"),
    "crossover": ("first", "second", "tile", "channels", "out_channels", "kernel", "padding",
                  "measure", "limit", "complex_mult"),
    "bound": ("vary", "network", "layer", "alpha", "resolution", "input", "factory_kwargs",
              "channels", "out_channels", "kernel", "stride", "padding", "groups", "batch",
              "device", "peak_flops", "bandwidth", "dtype_bytes", "work", "limit"),
}
#: What ``solve bound --vary`` may vary.
VARIED = ("batch", "resolution", "channels")
_SI = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_COUNT = re.compile(r"(\d{1,30})(?:\.(\d{1,30}))?([KMGT]?)", re.IGNORECASE)


def parse_count(text: str, option: str) -> int:
    """A whole count with an optional SI suffix: ``300M`` = 300 000 000, ``3.4M``; exact.

    Examples
    --------
    >>> parse_count("300M", "--budget"), parse_count("3.4M", "--budget"), parse_count("1000", "--budget")
    (300000000, 3400000, 1000)
    >>> parse_count("1.5", "--budget")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: --budget 1.5 is not a whole count; write it like 300M or 300000000
    """
    match = _COUNT.fullmatch(text.strip())
    fix = "write it like 300M or 300000000"
    if not match:
        raise SymconvError(f"--budget {text!r} is not a count; {fix}".replace("--budget", option))
    whole, decimals, unit = match.groups()
    value = Fraction(int(whole + (decimals or "")), 10 ** len(decimals or "")) * _SI[unit.upper()]
    if value.denominator != 1 or value < 1:
        raise SymconvError(f"{option} {text.strip()} is not a whole count; {fix}")
    return int(value)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``symconv solve``."""
    parser.add_argument("question", help="separable, alpha, resolution, crossover or bound")
    parser.add_argument("--kernel", help="separable, crossover: kernel size k (e.g. 3)")
    parser.add_argument("--saving", help="separable: the factor to save, e.g. 8 or 15/2")
    parser.add_argument("--measure", help="separable: mults or params; crossover: mults, "
                                          "adds or ops (default mults)")
    parser.add_argument("--network", help="alpha: mobilenet_v1 or mobilenet_v2; resolution, "
                                          "bound: those or a PyTorch model file "
                                          "(path.py:factory or package.module:factory)")
    parser.add_argument("--budget", help="alpha, resolution: the largest count, or bytes for "
                                         "the memory conventions, e.g. 300M (SI: M = 10^6)")
    parser.add_argument("--convention", help="alpha, resolution: macs (default), flops, mults, "
                                             "params (alpha only), or bytes of symconv.memory: "
                                             "param_bytes (alpha only), activation_bytes (the "
                                             "peak at inference), total_bytes")
    parser.add_argument("--resolution", help="alpha, bound: input pixels (default 224)")
    parser.add_argument("--alpha", help="resolution: width multiplier (default 1)")
    parser.add_argument("--first", help="crossover: im2col, winograd, fft or direct")
    parser.add_argument("--second", help="crossover: the algorithm to beat (default direct)")
    parser.add_argument("--tile", help="crossover: Winograd's tile m (default 2)")
    parser.add_argument("--complex-mult", help="crossover: FFT's rule, 4m2a or 3m5a")
    parser.add_argument("--channels", help="crossover, bound: input channels M; resolution: "
                                           "a model file's input channels")
    parser.add_argument("--out-channels", help="crossover, bound: output channels N")
    parser.add_argument("--padding", help="crossover, bound: zero padding (default 0)")
    parser.add_argument("--limit", help="crossover: the largest input size tried (default 256); "
                                        "bound: where SymPy cannot solve (default 1024)")
    parser.add_argument("--vary", help="bound: batch (default), resolution or channels")
    parser.add_argument("--layer", help="bound: the dotted name of a layer of --network, like "
                                        "block3.depthwise")
    parser.add_argument("--input", metavar="HxWxC", help="bound: a model file's input")
    parser.add_argument("--factory-kwargs", metavar="JSON",
                        help="resolution, bound: a model file's factory arguments as a JSON "
                             "object")
    parser.add_argument("--stride", help="bound: the convolution's stride (default 1)")
    parser.add_argument("--groups", help="bound: the convolution's groups (default 1)")
    parser.add_argument("--batch", help="bound: the batch when it does not vary (default 1)")
    from symconv.cli_roofline import device_options

    device_options(parser)
    parser.add_argument("--format", default="text", help="text, markdown, latex or json")


def _refuse_others(args: argparse.Namespace) -> None:
    allowed = _OPTIONS[args.question]
    for name in {name for names in _OPTIONS.values() for name in names}:
        if name not in allowed and getattr(args, name) is not None:
            option = "--" + name.replace("_", "-")
            raise SymconvError(f"{option} is not an option of 'solve {args.question}'; its "
                               "options: " + ", ".join("--" + n.replace("_", "-")
                                                       for n in allowed))


def _needed(args: argparse.Namespace, name: str, example: str) -> str:
    value = getattr(args, name)
    if value is None:
        raise SymconvError(f"solve {args.question} needs --{name.replace('_', '-')}, "
                           f"like {example}")
    return str(value)


def _one(text: str, option: str, minimum: int = 1) -> int:
    from symconv.parse import parse_axes

    return parse_axes(text, option, 1, minimum=minimum)[0]


def run(args: argparse.Namespace) -> str:
    """Solve what ``args`` asks and render it in ``args.format``."""
    from symconv.design import QUESTIONS, solve
    from symconv.parse import parse_multiplier

    if args.question not in QUESTIONS:
        raise SymconvError(f"solve: question {args.question!r} is unknown; use one of "
                           f"{', '.join(QUESTIONS)}")
    if args.format not in ("text", "markdown", "latex", "json"):
        raise SymconvError(f"--format {args.format!r} is unknown; use text, markdown, latex "
                           "or json")
    _refuse_others(args)
    if args.question == "separable":
        answer = solve("separable", kernel_size=_one(_needed(args, "kernel", "3"), "--kernel"),
                       saving=parse_multiplier(_needed(args, "saving", "8"), "--saving"),
                       measure=args.measure or "mults")
    elif args.question in ("alpha", "resolution"):
        keywords: dict[str, object] = {
            "network": _needed(args, "network", "mobilenet_v2"),
            "budget": parse_count(_needed(args, "budget", "300M"), "--budget"),
            "convention": args.convention or "macs",
        }
        if args.resolution is not None:
            keywords["resolution"] = _one(args.resolution, "--resolution")
        if args.alpha is not None:
            keywords["alpha"] = parse_multiplier(args.alpha, "--alpha")
        if args.dtype_bytes is not None:
            keywords["dtype_bytes"] = _one(args.dtype_bytes, "--dtype-bytes")
        if _is_model_file(str(keywords["network"])):
            keywords.update(_torch_model(args))
        elif args.channels is not None or args.factory_kwargs is not None:
            option = "--channels" if args.channels is not None else "--factory-kwargs"
            raise SymconvError(f"{option} is for a PyTorch model file "
                               f"(path/to/model.py:factory); {keywords['network']} is "
                               "symconv's own")
        answer = solve(args.question, **keywords)
    elif args.question == "bound":
        answer = _bound(args)
    else:
        from symconv.layers.conv import Conv2d
        from symconv.symbols import H

        first = _needed(args, "first", "winograd")
        layer = Conv2d(_one(_needed(args, "channels", "16"), "--channels"),
                       _one(_needed(args, "out_channels", "16"), "--out-channels"),
                       _one(_needed(args, "kernel", "3"), "--kernel"),
                       padding=_one(args.padding or "0", "--padding", minimum=0))
        options: dict[str, dict[str, object]] = {"winograd": {}, "fft": {}}
        if args.tile is not None:
            options["winograd"]["tile"] = _one(args.tile, "--tile")
        if args.complex_mult is not None:
            options["fft"]["complex_mult"] = args.complex_mult
        second = args.second or "direct"
        answer = solve("crossover", layer=layer, input_shape=(H, H, layer.in_channels),
                       first=first, second=second, measure=args.measure or "mults",
                       first_options=options.get(first, {}),
                       second_options=options.get(second, {}),
                       limit=_one(args.limit or "256", "--limit"))
    return answer.render(args.format)


def _is_model_file(name: str) -> bool:
    return ":" in name or name.endswith(".py")


def _torch_model(args: argparse.Namespace) -> dict[str, object]:
    """``solve resolution|alpha --network path.py:factory``: the PyTorch model loaded (its
    factory run with ``--factory-kwargs``) and ``--channels``; alpha refused by name."""
    from symconv.errors import shown

    if args.question == "alpha":
        raise SymconvError(f"solve alpha: --network {shown(args.network)} is a PyTorch model, "
                           "which has no width multiplier alpha (only the zoo's MobileNets "
                           "do); ask for its largest resolution: solve resolution --network "
                           f"{shown(args.network)} --channels 3 --budget ...")
    if args.alpha is not None:
        raise SymconvError("--alpha is the zoo's width multiplier; a PyTorch model has none")
    from symconv.frontends.command import factory_kwargs
    from symconv.frontends.torch import load_model

    channels = _one(_needed(args, "channels", "3"), "--channels")
    keywords = factory_kwargs(args.factory_kwargs)
    args.user_code = True  # the model file's own code runs from here on (and when traced)
    try:
        model = load_model(args.network) if keywords is None else load_model(args.network,
                                                                            keywords)
    except OSError as error:
        raise SymconvError(f"network {shown(args.network)}: {error.strerror or error}") from None
    return {"network": model, "channels": channels}


def _bound(args: argparse.Namespace) -> Answer:
    """``solve bound``: a layer of ``--network`` (``--layer``; the batch varies), or one
    convolution given by its options (``--vary batch | resolution | channels``)."""
    from symconv.cli_roofline import device_setting
    from symconv.design import solve

    vary = args.vary or "batch"
    if vary not in VARIED:
        raise SymconvError(f"--vary {vary} is unknown; use one of {', '.join(VARIED)}")
    chosen, work, dtype = device_setting(args)
    keywords: dict[str, object] = {"device": chosen, "work": work, "dtype_bytes": dtype}
    if args.limit is not None:
        keywords["limit"] = _one(args.limit, "--limit")
    if args.batch is not None:
        if vary == "batch":
            raise SymconvError("--batch is what --vary batch varies; drop --batch, or vary "
                               "resolution or channels")
        keywords["batch"] = _one(args.batch, "--batch")
    if args.network is not None or args.layer is not None:
        return solve("bound", **_network_layer(args, vary), **keywords)
    import sympy

    from symconv.layers.conv import Conv2d
    from symconv.symbols import H

    for option in ("alpha", "input", "factory_kwargs"):
        if getattr(args, option) is not None:
            raise SymconvError(f"--{option.replace('_', '-')} goes with --network; one "
                               "convolution is given by --channels, --out-channels, --kernel")
    varied = {"batch": "batch", "resolution": H, "channels": sympy.Symbol("C", positive=True, integer=True)}[vary]
    if vary == "resolution" and args.resolution is not None:
        raise SymconvError("--resolution is what --vary resolution varies; drop --resolution")
    pixels = H if vary == "resolution" else _one(args.resolution or "224", "--resolution")
    sizes = []
    for name, example in (("channels", "64"), ("out_channels", "64")):
        given = getattr(args, name)
        if given is None and vary != "channels":
            _needed(args, name, example)
        sizes.append(varied if given is None else _one(given, "--" + name.replace("_", "-")))
    if vary == "channels" and all(getattr(args, name) is not None
                                  for name in ("channels", "out_channels")):
        raise SymconvError("--vary channels varies --channels or --out-channels (or both); "
                           "leave out the one that varies")
    layer = Conv2d(sizes[0], sizes[1], _one(args.kernel or "1", "--kernel"),
                   stride=_one(args.stride or "1", "--stride"),
                   padding=_one(args.padding or "0", "--padding", minimum=0),
                   groups=_one(args.groups or "1", "--groups"))
    return solve("bound", layer=layer, input_shape=(pixels, pixels, sizes[0]),
                 vary=varied, **keywords)


def _network_layer(args: argparse.Namespace, vary: str) -> dict[str, object]:
    """``{"layer": its Cost, "name"}`` for ``--network NAME --layer DOTTED``."""
    from symconv.cli_roofline import network_setting
    from symconv.derive import cost
    from symconv.errors import shown
    from symconv.networks.roofline import leaves

    if args.network is None or args.layer is None:
        raise SymconvError("solve bound: --layer names a layer of --network; give both, like "
                           "--network mobilenet_v2 --layer block3.depthwise")
    if vary != "batch":
        raise SymconvError(f"--vary {vary} needs one convolution (--channels, --out-channels, "
                           "--kernel); a layer of --network varies with the batch only")
    for option in ("channels", "out_channels", "kernel", "stride", "padding", "groups"):
        if getattr(args, option) is not None:
            raise SymconvError(f"--{option.replace('_', '-')} describes one convolution; the "
                               "layer of --network has its own")
    model = network_setting(args)["model"]
    found = dict(leaves(cost(model)))
    if args.layer not in found:
        names = list(found)
        raise SymconvError(f"--layer {shown(args.layer)} is not a layer of {shown(args.network)};"
                           f" its layers: {', '.join(names[:6])}{', ...' if len(names) > 6 else ''}")
    return {"layer": found[args.layer], "name": f"{args.network} {args.layer}"}
