"""The symbol legend every report begins with: what ``M``, ``N``, ``k``, ``H_o`` ... stand for, and,
for a concrete layer, their values.

A legend is data: rows of symbol names (``("H_o", "W_o")``), the catalogue key of their meaning
(:mod:`symconv.render.catalogue`, ``legend.*``) and their values, if known. Renderers write it in
their format. The MobileNet paper (Howard et al. 2017) writes the kernel size ``D_K`` and the
feature map's size ``D_F`` (square maps that keep their size); a concrete legend maps them onto
``k`` and ``H_o = W_o`` where the shapes are square.

Examples
--------
>>> for row in conv_legend((7, 7, 3), 64, (3, 3), output=(5, 5)):
...     print(", ".join(row.symbols), "|", row.key, "|", row.values)
M | legend.M | (3,)
N | legend.N | (64,)
k | legend.k2 | (3,)
H, W | legend.HW | (7, 7)
H_o, W_o | legend.out | (5, 5)
s, p, d | legend.spd | (1, 0, 1)
D_K | legend.D_K | (3,)
D_F | legend.D_F | (5,)
>>> from symconv.report.kinds import derive_kind
>>> [row.symbols for row in kind_legend(derive_kind("pointwise"))]
[('M',), ('N',), ('H', 'W'), ('H_o', 'W_o')]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sympy

if TYPE_CHECKING:
    from symconv.report.compare import Comparison
    from symconv.report.kinds import GeneralFormulas

__all__ = ["LegendRow", "Legend", "conv_legend", "comparison_legend", "kind_legend"]


@dataclass(frozen=True)
class LegendRow:
    """Symbols that share one meaning (``H, W``: input height and width), and their values."""

    symbols: tuple[str, ...]
    key: str
    values: tuple[int, ...] | None = None
    #: Other names of the same quantity (``D_K`` is ``k``).
    equals: tuple[str, ...] = ()


#: A legend: its rows, in the order a reader meets the symbols.
Legend = tuple[LegendRow, ...]


def _axes(names: tuple[str, str], values: tuple[int, int], shared: str) -> tuple[tuple[str, ...],
                                                                              tuple[int, ...]]:
    """One symbol when both axes agree (``k``), else one per axis (``k_h, k_w``)."""
    if values[0] == values[1]:
        return (shared,), (values[0],)
    return names, values


def conv_legend(input_shape: tuple[int, int, int], out_channels: int, kernel: tuple[int, int],
                *, output: tuple[int, int], stride: tuple[int, int] = (1, 1),
                padding: tuple[int, int] = (0, 0),
                dilation: tuple[int, int] = (1, 1)) -> Legend:
    """The legend of a concrete 2-D convolution (``compare``, ``verify``, ``report``)."""
    height, width, channels = input_shape
    kernel_symbols, kernel_values = _axes(("k_h", "k_w"), kernel, "k")
    rows = [
        LegendRow(("M",), "legend.M", (channels,)),
        LegendRow(("N",), "legend.N", (out_channels,)),
        LegendRow(kernel_symbols, "legend.k2" if len(kernel_symbols) == 1 else "legend.kk",
                  kernel_values),
        LegendRow(("H", "W"), "legend.HW", (height, width)),
        LegendRow(("H_o", "W_o"), "legend.out", output),
    ]
    geometry = [_axes((f"{name}_h", f"{name}_w"), values, name)
                for name, values in (("s", stride), ("p", padding), ("d", dilation))]
    if all(len(symbols) == 1 for symbols, _ in geometry):
        rows.append(LegendRow(("s", "p", "d"), "legend.spd",
                              tuple(values[0] for _, values in geometry)))
    else:
        for (symbols, values), key in zip(geometry, ("legend.s", "legend.p", "legend.d")):
            rows.append(LegendRow(symbols, key, values))
    if len(kernel_symbols) == 1:
        rows.append(LegendRow(("D_K",), "legend.D_K", kernel_values, ("k",)))
    if output[0] == output[1]:
        rows.append(LegendRow(("D_F",), "legend.D_F", (output[0],), ("H_o", "W_o")))
    return tuple(rows)


def comparison_legend(result: Comparison) -> Legend:
    """The legend of :func:`symconv.report.compare.compare`'s result, values included."""
    return conv_legend(result.input_shape, result.output_shape[2], result.kernel,
                       output=result.output_shape[:2], stride=result.stride,
                       padding=result.padding, dilation=result.dilation)


#: Each symbol of a general formula and the catalogue key of its meaning; symbols of one
#: group (the input's sizes, the output's) share one row.
_GROUPS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("M",), "legend.M"), (("N",), "legend.N"), (("k",), "legend.k"), (("g",), "legend.g"),
    (("L",), "legend.L"), (("H", "W"), "legend.HW"), (("D", "H", "W"), "legend.DHW"),
    (("L_o",), "legend.L_o"), (("H_o", "W_o"), "legend.out"), (("D_o", "H_o", "W_o"), "legend.out3"),
    (("s",), "legend.s"), (("p",), "legend.p"), (("d",), "legend.d"), (("a",), "legend.a"),
)


def kind_legend(general: GeneralFormulas) -> Legend:
    """The legend of ``symconv derive``'s general formulas: the symbols they use, no values."""
    used: set[str] = {str(size) for size in general.input_shape}
    used.update(str(symbol) for symbol, _ in general.output_sizes)
    expressions: list[sympy.Expr] = [size for _, size in general.output_sizes]
    expressions += [getattr(general.cost, name) for name in ("mults", "adds", "params")]
    for expr in expressions:
        used.update(str(symbol) for symbol in expr.free_symbols)
    present = [(symbols, key) for symbols, key in _GROUPS if set(symbols) <= used]
    return tuple(  # a group inside a larger one that is present (H, W in D, H, W) is left out
        LegendRow(symbols, key) for symbols, key in present
        if not any(set(symbols) < set(other) for other, _ in present)
    )
