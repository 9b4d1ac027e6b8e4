"""The memory and roofline options of the command line: ``symconv net NAME --memory`` (per-layer
traffic, intensity and bound, in every format) and ``symconv roofline NAME --out FILE`` (the
roofline drawn with matplotlib). ``NAME`` is a zoo network (``--alpha``, ``--resolution``) or
a PyTorch model file, ``path/to/model.py:factory`` or ``package.module:factory`` (``--input``,
``--factory-kwargs``, ``--skip-unsupported``), as for ``symconv net``. :mod:`symconv.cli` adds them and dispatches here.

Rates are read exactly, without evaluating anything: an integer, a decimal or an exponent
(``8.1e12``), optionally followed by K, M, G, T or P (powers of 1000): ``8.1T``, ``320G``.

Examples
--------
>>> parse_rate("8.1T", "--peak-flops"), parse_rate("320e9", "--bandwidth")
(8100000000000, 320000000000)
>>> parse_rate("fast", "--bandwidth")
Traceback (most recent call last):
...
symconv.errors.SymconvError: --bandwidth fast is not a rate; give a positive number, like 320G or 3.2e11
"""

from __future__ import annotations

import argparse
import re
from fractions import Fraction
from typing import Any

from symconv import cli_support as support
from symconv.errors import SymconvError

__all__ = ["add_memory_options", "add_roofline_parser", "run_net_memory", "parse_rate",
           "wants_memory", "device_options", "device_setting", "network_setting", "model_file"]

_PREFIXES = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_RATE = re.compile(r"(\d+(?:\.\d*)?(?:[eE][+-]?\d{1,3})?)([KMGTP]?)")


def parse_rate(text: str, option: str) -> int:
    """A positive whole rate (FLOP/s or bytes per second) from ``text``, exactly."""
    match = _RATE.fullmatch(text.strip()) if len(text) < 40 else None
    value = Fraction(match.group(1)) * _PREFIXES[match.group(2)] if match else Fraction(0)
    if value <= 0 or value.denominator != 1:
        raise SymconvError(f"{option} {text} is not a rate; give a positive number, like "
                           "320G or 3.2e11")
    return int(value)


def device_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", help="a device preset: t4, v100, a100, h100, jetson-nano "
                                         "(datasheet figures; default t4)")
    parser.add_argument("--peak-flops", metavar="RATE",
                        help="the device's datasheet peak in FLOP/s (a multiply-add is 2 "
                             "FLOPs), like 8.1T")
    parser.add_argument("--bandwidth", metavar="RATE",
                        help="the device's memory bandwidth in bytes per second, like 320G")
    parser.add_argument("--dtype-bytes", metavar="N", help="bytes per element (default 4)")
    parser.add_argument("--work", metavar="{mults,flops}",
                        help="what intensity counts per byte: mults (default) or flops (2·mults)")


def add_memory_options(net: argparse.ArgumentParser) -> None:
    """``--memory`` and the device options, on ``symconv net``."""
    net.add_argument("--memory", action="store_true",
                     help="per-layer traffic (compulsory reads and writes), arithmetic "
                          "intensity and bound on a device, and the network's memory")
    device_options(net)


def add_roofline_parser(commands: Any) -> None:
    """The ``symconv roofline`` command."""
    roofline = commands.add_parser("roofline", help="draw a network's roofline on a device, "
                                                    "one labelled point per layer")
    roofline.add_argument("network", help="mobilenet_v1, mobilenet_v2, or a PyTorch model built "
                                          "by a function: path/to/model.py:factory or "
                                          "package.module:factory")
    roofline.add_argument("--alpha", help="width multiplier (default 1)")
    roofline.add_argument("--resolution", help="input pixels (default 224)")
    roofline.add_argument("--input", metavar="HxWxC",
                          help="a model file's input, channels last: 224x224x3")
    roofline.add_argument("--factory-kwargs", metavar="JSON",
                          help="a model file's factory arguments as a JSON object")
    roofline.add_argument("--skip-unsupported", action="store_true",
                          help="a model file's parts symconv cannot count are counted as zero "
                               "and listed, instead of refused")
    roofline.add_argument("--out", required=True, metavar="FILE",
                          help="the figure to write: .svg, .png or .pdf")
    device_options(roofline)
    roofline.set_defaults(handler=run_roofline)


def wants_memory(args: argparse.Namespace) -> bool:
    """Whether ``net`` was given ``--memory`` or a device option (refused without it)."""
    return bool(getattr(args, "memory", False)) or any(
        getattr(args, name, None) is not None
        for name in ("device", "peak_flops", "bandwidth", "dtype_bytes", "work"))


def device_setting(args: argparse.Namespace) -> tuple[Any, str, int]:
    """The device (``--device``, or ``--peak-flops`` and ``--bandwidth``; default t4),
    ``--work`` and ``--dtype-bytes`` of a command, checked."""
    from symconv.networks.roofline import WORKS, device
    from symconv.parse import parse_axes

    if args.device is not None and (args.peak_flops is not None or args.bandwidth is not None):
        raise SymconvError("--device has its own figures; give --device, or --peak-flops and "
                           "--bandwidth, not both")
    if (args.peak_flops is None) != (args.bandwidth is None):
        raise SymconvError("--peak-flops and --bandwidth go together; give both, or --device")
    if args.peak_flops is not None:
        chosen = device(peak=parse_rate(args.peak_flops, "--peak-flops"),
                        bandwidth=parse_rate(args.bandwidth, "--bandwidth"))
    else:
        chosen = device(support.given(args.device, "t4"))
    work = support.given(args.work, "mults")
    if work not in WORKS:
        raise SymconvError(f"--work {work} is unknown; use mults or flops")
    dtype = parse_axes(support.given(args.dtype_bytes, "4"), "--dtype-bytes", 1)[0]
    return chosen, work, dtype


def network_setting(args: argparse.Namespace) -> dict[str, Any]:
    """``{"model", "uncounted"}``: the zoo network ``args.network`` (``--alpha``,
    ``--resolution``) or the model file's (``--input``, ``--factory-kwargs``,
    ``--skip-unsupported``), the options of the other kind refused."""
    from symconv.networks.zoo import network
    from symconv.parse import parse_axes, parse_multiplier

    if support.is_model_file(args.network):
        return model_file(args)
    for option in ("input", "factory_kwargs"):
        if getattr(args, option, None) is not None:
            raise SymconvError(f"--{option.replace('_', '-')} is for models from a file "
                               f"(path/to/model.py:factory); {args.network} is symconv's own")
    if getattr(args, "skip_unsupported", False):
        raise SymconvError(f"--skip-unsupported is for models from a file "
                           f"(path/to/model.py:factory); {args.network} is symconv's own")
    width = parse_multiplier(support.given(args.alpha, "1"), "--alpha")
    pixels = parse_axes(support.given(args.resolution, "224"), "--resolution", 1)[0]
    return {"model": network(args.network, width, resolution=pixels), "uncounted": []}


def _setting(args: argparse.Namespace) -> dict[str, Any]:
    chosen, work, dtype = device_setting(args)
    return {"device": chosen, "work": work, "dtype": dtype, **network_setting(args)}


def model_file(args: argparse.Namespace) -> dict[str, Any]:
    """A model file's network (``--input``, ``--factory-kwargs``, ``--skip-unsupported``) and
    the parts left uncounted."""
    from symconv.errors import shown
    from symconv.frontends.build import uncounted
    from symconv.frontends.command import load_model_file

    shape = support.model_file_input(args)
    args.user_code = True  # the model file's own code runs from here on
    try:
        net = load_model_file(args, shape)
    except OSError as error:
        raise SymconvError(f"network {shown(args.network)}: {support.os_message(error)}") from None
    args.user_code = False
    return {"model": net, "uncounted": uncounted(net)}


def run_net_memory(args: argparse.Namespace) -> int:
    """``symconv net NAME --memory``: the per-layer table in ``--format``."""
    if not args.memory:
        raise SymconvError("--device, --peak-flops, --bandwidth, --dtype-bytes and --work go "
                           "with --memory; add --memory")
    for option in ("verify", "compare_conventions", "per_layer"):
        if getattr(args, option, False):
            raise SymconvError(f"--{option.replace('_', '-')} and --memory are two different "
                               "reports; give one of them")
    if args.convention is not None:
        raise SymconvError("--convention does nothing with --memory, which counts bytes; use "
                           "--work mults or flops")
    from symconv.networks.memory import memory
    from symconv.networks.roofline import roofline
    from symconv.render.roofline import render_memory

    setting = _setting(args)
    model, chosen = setting["model"], setting["device"]
    rows = roofline(model, device_=chosen, dtype_bytes=setting["dtype"], work=setting["work"])
    used = memory(model, dtype_bytes=setting["dtype"])
    text = render_memory(args.format, args.network, rows, chosen, used,
                         work=setting["work"], dtype_bytes=setting["dtype"])
    if support.is_model_file(args.network):
        from symconv.frontends.command import with_notes

        text = with_notes(text, args.format, setting["uncounted"])
    support.emit(args, text)
    return 0


def run_roofline(args: argparse.Namespace) -> int:
    """``symconv roofline NAME --out FILE``."""
    from symconv.networks.roofline import roofline
    from symconv.render.roofline import plot_roofline

    if not args.out.lower().endswith((".svg", ".png", ".pdf")):
        raise SymconvError(f"--out {args.out} must end in .svg, .png or .pdf")
    setting = _setting(args)
    rows = roofline(setting["model"], device_=setting["device"], dtype_bytes=setting["dtype"],
                    work=setting["work"])
    path = plot_roofline(rows, setting["device"], args.out, work=setting["work"],
                         title=f"{args.network} on {setting['device'].name}")
    for part in setting["uncounted"]:
        support.warn(args, f"not counted (--skip-unsupported): {part}")
    support.emit(args, str(path))
    return 0
