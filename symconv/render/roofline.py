"""The per-layer traffic, intensity and bound of ``symconv net ... --memory`` in each format
(text, markdown, latex, json), and the roofline drawn with matplotlib (``symconv roofline``).

Counts and bytes are exact; intensities are exact fractions, shown with a 3-digit decimal beside
them in text, Markdown and LaTeX; times are lower bounds in seconds (3 digits). The device's
rate and ridge are given in the unit of the intensity (``work``: mults or FLOPs), the datasheet's
FLOP/s beside them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import sympy

from symconv.errors import SymconvError
from symconv.networks.memory import Memory
from symconv.networks.roofline import UNITS, Device, RooflineRow

__all__ = ["render_memory", "plot_roofline", "MEMORY_FORMATS"]

MEMORY_FORMATS = ("text", "markdown", "latex", "json")


def _approx(value: sympy.Expr | int) -> str:
    value = sympy.Integer(value) if isinstance(value, int) else value
    if value is sympy.oo:
        return "∞"
    if not value.is_number:
        return str(value)
    return f"{float(value):.3g}"


def _table(rows: Sequence[RooflineRow], work: str) -> tuple[list[str], list[list[str]]]:
    head = ["layer", "kind", "reads", "writes", "bytes", f"{UNITS[work]}/byte", "bound",
            "time (s)"]
    body = [[row.name, row.kind, str(row.reads), str(row.writes), str(row.bytes),
             _approx(row.intensity), row.bound, _approx(row.seconds)] for row in rows]
    return head, body


def _summary(title: str, device: Device, memory: Memory, work: str,
             dtype_bytes: object) -> list[tuple[str, str]]:
    return [
        ("network", title),
        ("device", f"{device.name} ({device.source}); peak {_approx(device.peak)} FLOP/s, "
                   f"{_approx(device.rate(work))} {UNITS[work]}/s; ridge "
                   f"{device.ridge_text(work, _approx)}"),
        ("model", f"compulsory traffic, {dtype_bytes} bytes per element; intensity = {work} "
                  f"per byte; time = max({work}/rate, bytes/bandwidth), a multiply-add being "
                  "2 FLOPs"),
        ("input bytes", str(memory.input_bytes)),
        ("parameter bytes", str(memory.param_bytes)),
        ("activation bytes (peak of live tensors)", str(memory.activation_bytes)),
        ("total bytes", str(memory.total_bytes)),
    ]


def render_memory(fmt: str, title: str, rows: Sequence[RooflineRow], device: Device,
                  memory: Memory, *, work: str = "mults", dtype_bytes: object = 4) -> str:
    """The report of ``symconv net ... --memory`` in format ``fmt``.

    Examples
    --------
    >>> from symconv import Conv2d, Sequential
    >>> from symconv.networks.memory import memory
    >>> from symconv.networks.roofline import device, roofline
    >>> net = Sequential(("pw", Conv2d(8, 8, 1)))
    >>> t4 = device("t4")
    >>> print(render_memory("markdown", "tiny", roofline(net, (4, 4, 8), device_=t4), t4,
    ...                     memory(net, (4, 4, 8))).splitlines()[-1])
    | pw | pointwise | 192 | 128 | 1280 | 0.8 | memory | 4e-09 |
    """
    if fmt not in MEMORY_FORMATS:
        raise SymconvError(f"--format {fmt} is not available with --memory; choose one of "
                           f"{', '.join(MEMORY_FORMATS)}")
    summary = _summary(title, device, memory, work, dtype_bytes)
    head, body = _table(rows, work)
    if fmt == "json":
        return json.dumps({
            "network": title,
            "device": {"name": device.name, "peak_flops": device.peak,
                       "bandwidth": device.bandwidth, "source": device.source,
                       "rate": str(device.rate(work)), "rate_unit": f"{UNITS[work]}/s",
                       "ridge": str(device.ridge_in(work)), "ridge_unit": f"{UNITS[work]}/byte",
                       "ridge_flops": str(device.ridge)},
            "work": work, "dtype_bytes": str(dtype_bytes),
            "memory": {name: str(getattr(memory, name)) for name in
                       ("input_bytes", "param_bytes", "activation_bytes", "total_bytes")},
            "layers": [{"name": row.name, "kind": row.kind, "work": str(row.work),
                        "reads": str(row.reads), "writes": str(row.writes),
                        "bytes": str(row.bytes), "intensity": str(row.intensity),
                        "bound": row.bound, "seconds": str(row.seconds)} for row in rows],
        }, indent=2, ensure_ascii=False)
    if fmt == "markdown":
        lines = [f"**{name}**: {value}  " for name, value in summary] + [""]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    if fmt == "latex":
        def esc(text: str) -> str:
            return (text.replace("\\", r"\textbackslash{}").replace("_", r"\_")
                    .replace("&", r"\&").replace("%", r"\%").replace("#", r"\#")
                    .replace("∞", r"$\infty$"))
        lines = [r"\begin{tabular}{ll}"] + [
            f"{esc(name)} & {esc(value)} \\\\" for name, value in summary] + [r"\end{tabular}",
                                                                         "", r"\begin{tabular}{llrrrrlr}",
                                                                         " & ".join(head) + r" \\ \hline"]
        lines += [" & ".join(esc(cell) for cell in cells) + r" \\" for cells in body]
        lines.append(r"\end{tabular}")
        return "\n".join(lines)
    widths = [max(len(head[i]), *(len(cells[i]) for cells in body)) for i in range(len(head))]
    lines = [f"{name}: {value}" for name, value in summary] + [""]
    lines.append("  ".join(cell.ljust(width) for cell, width in zip(head, widths)).rstrip())
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(cells, widths)).rstrip()
              for cells in body]
    return "\n".join(lines)


def plot_roofline(rows: Sequence[RooflineRow], device: Device, path: str | Path, *,
                  title: str = "", work: str = "mults") -> Path:
    """Draw the device's roofline and one labelled point per layer (numeric rows only) into
    ``path`` (format from its suffix: .svg, .png, .pdf), both axes in ``work`` (the rows'
    unit): the roof is :meth:`~symconv.networks.roofline.Device.rate` ``(work)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = [(row.name, float(row.intensity), float(row.work / row.seconds))
              for row in rows if row.intensity.is_number and row.intensity is not sympy.oo
              and row.intensity > 0 and row.seconds.is_number]
    if not points:
        raise SymconvError("no layer has a numeric intensity to plot; give numbers for the sizes")
    roof, ridge = float(device.rate(work)), float(device.ridge_in(work))
    low = min(min(x for _, x, _ in points), ridge) / 4
    high = max(max(x for _, x, _ in points), ridge) * 4
    figure, axes = plt.subplots(figsize=(9, 6))
    axes.loglog([low, ridge, high], [low * device.bandwidth, roof, roof], color="black",
                label=f"{device.name} roofline (ridge {device.ridge_text(work, _approx)})")
    for name, x, y in points:
        axes.scatter([x], [y], s=12)
        axes.annotate(name, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    axes.set_xlabel(f"arithmetic intensity ({UNITS[work]} per byte)")
    axes.set_ylabel(f"attainable {UNITS[work]} per second (lower-bound time)")
    axes.set_title(title or f"roofline on {device.name}")
    axes.legend(loc="lower right")
    out = Path(path)
    with matplotlib.rc_context({"svg.fonttype": "none"}):   # labels stay text in an SVG
        figure.savefig(out, bbox_inches="tight")
    plt.close(figure)
    return out
