"""One call for a model, as PyTorch users expect: :func:`summary`.

``summary(model, (1, 3, 224, 224))`` takes a PyTorch model (through :func:`symconv.from_torch`) or
a symconv network, an input size in PyTorch's layout — ``(N, C, H, W)`` or ``(C, H, W)``, as
torchinfo and ptflops take it, ``(N, C, D, H, W)`` in 3-D — and a counting convention, and gives
an object whose ``str()`` is a per-layer table with totals and units, as torchinfo prints. The
numbers stay exact (``.total``, ``.params``, ``.to_dict()``); only the table rounds them
(``units="si"``: ``568.74 M``).

The batch ``N`` multiplies each example's count, as every peer does (symconv counts one example);
parameters do not depend on it. This module sits on top of the pipeline, beside the CLI: it reads
the front end, the networks and the renderers.

Examples
--------
>>> from symconv import summary
>>> from symconv.zoo import mobilenet_v1
>>> result = summary(mobilenet_v1(), (1, 3, 224, 224), depth=1)
>>> result.total, result.params
(568740352, 4231976)
>>> result
Summary(macs=568740352, params=4231976, 16 rows; print() it for the table)
>>> print(result)  # doctest: +ELLIPSIS
Sequential: input 1×3×224×224 (N×C×H×W), convention macs
layer    kind           input         output        MACs     params    share
-------  -------------  ------------  ------------  -------  --------  -----
conv1    sequential     1×3×224×224   1×32×112×112  10.84 M  928       1.9 %
block1   sequential     1×32×112×112  1×64×112×112  29.3 M   2.53 k    5.2 %
...
fc       linear         1×1024×1×1    1×1000×1×1    1.02 M   1.03 M    0.2 %
Total MACs: 568.74 M (568740352); params: 4.23 M (4231976)
Counts per example × batch 1; MACs: Multiply-accumulates of convolutions and linear layers only, ...
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.networks.conventions import CONVENTIONS, count, describe
from symconv.networks.rows import LayerRow, rows
from symconv.networks.training import torch_backward
from symconv.render.markdown import table as markdown_table
from symconv.render.numbers import check_units, format_count
from symconv.render.text import display_width, shape_text
from symconv.sizes import as_expr, as_size

__all__ = ["Summary", "SummaryRow", "summary"]

#: How each convention is headed in a table.
_HEADINGS = {"macs": "MACs", "flops": "FLOPs", "ops": "ops"}
#: Routing stages of a branching network: no operation, no parameter; not shown.
_HIDDEN_KINDS = frozenset({"reuse"})


@dataclass(frozen=True)
class SummaryRow:
    """One layer (or one folded module) of a :class:`Summary`.

    Attributes
    ----------
    name, kind
        The dotted module path and the kind of layer (``"folded"`` kinds list their parts).
    input_shape, output_shape
        In PyTorch's layout, batch first: ``(N, C, H, W)``; ``(N, F)`` for features.
    count
        The convention's count for the whole batch.
    params
        Parameters (independent of the batch).
    share
        ``count / total``, exact; ``None`` when either is symbolic or the total is zero.
    """

    name: str
    kind: str
    input_shape: tuple[sympy.Expr, ...]
    output_shape: tuple[sympy.Expr, ...]
    count: sympy.Expr
    params: sympy.Expr
    share: sympy.Expr | None


@dataclass(frozen=True)
class Summary:
    """What :func:`summary` returns: rows, exact totals, and the table as ``str()``."""

    title: str
    convention: str
    input_size: tuple[sympy.Expr, ...]
    rows: tuple[SummaryRow, ...]
    total: sympy.Expr
    params: sympy.Expr
    units: str = "si"
    #: The parts ``unsupported="skip"`` counted as zero, each with why (:func:`~symconv.frontends.build.uncounted`).
    uncounted: tuple[str, ...] = ()

    @property
    def batch(self) -> sympy.Expr:
        """The batch ``N`` every count was multiplied by."""
        return self.input_size[0]

    def _heading(self) -> str:
        return _HEADINGS.get(self.convention, self.convention)

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        header = ["layer", "kind", "input", "output", self._heading(), "params", "share"]
        body = [
            [row.name, row.kind, shape_text(row.input_shape), shape_text(row.output_shape),
             format_count(row.count, self.units), format_count(row.params, self.units),
             _percent(row.share)]
            for row in self.rows
        ]
        return header, body

    def _footer(self) -> list[str]:
        heading = self._heading()
        total = format_count(self.total, self.units)
        params = format_count(self.params, self.units)
        exact_total = "" if total == str(self.total) else f" ({self.total})"
        exact_params = "" if params == str(self.params) else f" ({self.params})"
        skipped = ([f"Not counted (unsupported='skip': 0 in every count), {len(self.uncounted)} "
                    f"part{'s' if len(self.uncounted) != 1 else ''}: {'; '.join(self.uncounted)}"]
                   if self.uncounted else [])
        return [
            f"Total {heading}: {total}{exact_total}; params: {params}{exact_params}",
            f"Counts per example × batch {self.batch}; {heading}: {describe(self.convention)}",
            *skipped,
        ]

    def __str__(self) -> str:
        header, body = self._cells()
        widths = [max(display_width(line[i]) for line in (header, *body)) for i in range(len(header))]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(cell + " " * (width - display_width(cell))
                             for cell, width in zip(cells, widths)).rstrip()

        lines = [f"{self.title}: input {shape_text(self.input_size)} "
                 f"({_layout_letters(len(self.input_size))}), "
                 f"convention {self.convention}",
                 line(header), line(["-" * width for width in widths]),
                 *(line(cells) for cells in body), *self._footer()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"Summary({self.convention}={self.total}, params={self.params}, "
                f"{len(self.rows)} rows; print() it for the table)")

    def _repr_markdown_(self) -> str:
        header, body = self._cells()
        return markdown_table(header, body) + "\n\n" + "  \n".join(self._footer()) + "\n"

    def _repr_html_(self) -> str:
        header, body = self._cells()
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
        rows_html = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"
            for cells in body
        )
        footer = "".join(f"<p>{html.escape(text)}</p>" for text in self._footer())
        return (f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"
                f"{footer}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: exact integers, rationals as ``"p/q"``, formulas as SymPy syntax."""
        return {
            "title": self.title,
            "convention": self.convention,
            "input_size": [_json(size) for size in self.input_size],
            "total": _json(self.total),
            "params": _json(self.params),
            "rows": [
                {"name": row.name, "kind": row.kind,
                 "input": [_json(size) for size in row.input_shape],
                 "output": [_json(size) for size in row.output_shape],
                 "count": _json(row.count), "params": _json(row.params),
                 "share": None if row.share is None else _json(row.share)}
                for row in self.rows
            ],
            "uncounted": list(self.uncounted),
        }


def _json(value: sympy.Expr) -> int | str:
    if value.is_Integer:
        return int(value)
    return str(value)


def _percent(share: sympy.Expr | None) -> str:
    if share is None:
        return ""
    tenths = Fraction(int(share.p), int(share.q)) * 1000
    rounded = int(tenths + Fraction(1, 2))
    return f"{rounded // 10}.{rounded % 10} %"


def _layout_letters(rank: int) -> str:
    return {2: "N×F", 3: "N×C×L", 4: "N×C×H×W", 5: "N×C×D×H×W"}.get(rank, "")


def _channels_last(input_size: object) -> tuple[sympy.Expr, tuple[sympy.Expr, ...]]:
    """``(batch, channels-last shape of one example)`` from PyTorch's ``(N, C, ...)``."""
    if not isinstance(input_size, (tuple, list)) or not 3 <= len(input_size) <= 5:
        raise SymconvError(
            f"input_size={input_size!r} must be PyTorch's (N, C, H, W) or (C, H, W) "
            "((N, C, D, H, W) in 3-D), like (1, 3, 224, 224)"
        )
    sizes = tuple(as_expr(as_size(size, "input_size")) for size in input_size)
    if len(sizes) == 3:
        sizes = (sympy.Integer(1), *sizes)
    batch, channels, *spatial = sizes
    return batch, (*spatial, channels)




def _pytorch_layout(batch: sympy.Expr, shape: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    return (batch, shape[-1], *shape[:-1])


def _named_leaves(result: Cost, prefix: str = "") -> dict[str, Cost]:
    """The single layers of a cost by dotted name, as :func:`symconv.network.rows` names them."""
    if not result.stages:
        return {prefix or result.kind: result}
    found: dict[str, Cost] = {}
    for name, stage in result.stages:
        found.update(_named_leaves(stage, f"{prefix}.{name}" if prefix else name))
    return found


def _leaf_counts(network: Layer, shape: tuple[sympy.Expr, ...] | None, forward: Cost,
                 convention: str, phase: str) -> dict[str, sympy.Expr]:
    """The convention's count of every single layer in ``phase``: its forward, its backward
    (FlopCounterMode's rules under ``"torch"``; :mod:`symconv.networks.training`), or both."""
    chosen = CONVENTIONS[convention]
    counts: dict[str, sympy.Expr] = {}
    if phase in ("forward", "train"):
        counts = {row.name: chosen([row]) for row in rows(forward)}
    if phase in ("backward", "train"):
        backward = cost(network, shape, phase="backward")
        backward_rows = {row.name: row for row in rows(backward)}
        for name, leaf in _named_leaves(backward).items():
            extra = (torch_backward(leaf) if convention == "torch"
                     else chosen([backward_rows[name]]))
            counts[name] = counts.get(name, sympy.Integer(0)) + extra
    return counts


def _fold(counts: dict[str, sympy.Expr], folded: Sequence[LayerRow],
          batch: sympy.Expr) -> list[tuple[LayerRow, sympy.Expr]]:
    """Each folded row with the count of the single layers inside it, times the batch."""
    result = []
    for row in folded:
        inside = [count for name, count in counts.items()
                  if name == row.name or name.startswith(row.name + ".")]
        result.append((row, batch * sympy.Add(*inside)))
    return result


def summary(model: object, input_size: object = None, *, convention: str = "macs",
            depth: int | None = None, phase: str = "forward", units: str = "si",
            unsupported: str = "refuse") -> Summary:
    """A per-layer table of a PyTorch model or symconv network, with exact totals.

    Parameters
    ----------
    model
        A ``torch.nn.Module`` (counted through :func:`symconv.from_torch`; needs torch) or a
        symconv layer or network (a :mod:`symconv.zoo` network needs no ``input_size``).
    input_size
        PyTorch's layout: ``(N, C, H, W)``, or ``(C, H, W)`` for a batch of one;
        ``(N, C, D, H, W)`` in 3-D. Sizes may be SymPy symbols: ``(1, 3, H, W)``.
    convention
        A name in :data:`symconv.conventions.CONVENTIONS`: ``"macs"`` (default), ``"flops"``,
        ``"ops"``, ``"params"``, or a peer's: ``"ptflops"``, ``"thop"``, ``"fvcore"``,
        ``"torch"``, ``"torchinfo"``.
    depth
        Fold nested modules below this depth (``1``: one row per top-level module);
        ``None`` shows every layer.
    phase
        ``"forward"`` (default), ``"backward"`` or ``"train"`` (forward and backward, the
        network's input needing no gradient: :mod:`symconv.networks.training`). Only the
        ``torch`` peer counts a backward pass; the other peers refuse it.
    units
        How the table writes counts: ``"si"`` (``568.74 M``, default), ``"comma"``, ``"exact"``.
        The attributes stay exact whatever the units.
    unsupported
        For a PyTorch model, as :func:`symconv.from_torch` takes it: ``"refuse"`` (default) or
        ``"skip"``, which counts what symconv cannot count as zero and lists it
        (``.uncounted``, the table's last line, ``to_dict()["uncounted"]``).

    Returns
    -------
    Summary
        ``.total``, ``.params``, ``.rows``, ``.uncounted``, ``.to_dict()``; ``str()`` is the
        table.

    Raises
    ------
    SymconvError
        For a bad input size, convention, depth or units, a model symconv cannot count (named),
        or a PyTorch model when torch is not installed.

    Examples
    --------
    >>> from symconv import Conv2d, DepthwiseSeparableConv2d, Sequential, summary
    >>> from symconv.symbols import H, W
    >>> net = Sequential(("conv", Conv2d(3, 32, 3, padding=1)),
    ...                  ("block", DepthwiseSeparableConv2d(32, 64, 3, padding=1)))
    >>> summary(net, (8, 3, 7, 7)).total      # 8 examples of 42336 + 14112 + 100352 MACs
    1254400
    >>> summary(net, (1, 3, H, W)).total
    3200*H*W
    >>> [(row.name, row.count) for row in summary(net, (3, 7, 7), depth=1).rows]
    [('conv', 42336), ('block', 114464)]
    """
    if phase not in ("forward", "backward", "train"):
        raise SymconvError(f"phase={phase!r} is unknown; use one of forward, backward, train")
    if convention not in CONVENTIONS:
        raise SymconvError(f"convention={convention!r} is unknown; use one of {', '.join(CONVENTIONS)}")
    check_units(units)
    if unsupported not in ("refuse", "skip"):
        raise SymconvError(f"summary(unsupported={unsupported!r}) must be 'refuse' (the default) "
                           "or 'skip' (count unsupported parts as zero, listed)")
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise SymconvError(f"depth={depth!r} must be None or an int of at least 1")
    if input_size is None:
        carried = getattr(model, "input_shape", None) if isinstance(model, Layer) else None
        if carried is None:
            raise SymconvError("input_size is missing: give PyTorch's (N, C, H, W), like (1, 3, 224, 224)")
        batch, shape = sympy.Integer(1), tuple(as_expr(size) for size in carried)
    else:
        batch, shape = _channels_last(input_size)
    if isinstance(model, Layer):
        network: Layer = model
        title = type(model).__name__
        derived: Cost = cost(model, shape)
    else:
        from symconv.frontends.torch import from_torch

        network = from_torch(model, shape, unsupported=unsupported)
        title = type(model).__name__
        derived = cost(network)
    # the total as count() gives it (a peer that counts no backward refuses here, by name)
    given = shape if isinstance(model, Layer) else None   # a traced network carries its shape
    total = batch * count(network, given, convention=convention, phase=phase)
    counts = _leaf_counts(network, given, derived, convention, phase)
    folded = rows(derived) if depth is None else rows(derived, depth=depth)
    counted = _fold(counts, folded, batch)
    shown = []
    for row, layer_count in counted:
        if row.kind in _HIDDEN_KINDS and layer_count == 0 and row.params == 0:
            continue
        share = (layer_count / total if layer_count.is_Number and total.is_Number and total != 0
                 else None)
        shown.append(SummaryRow(row.name, row.kind, _pytorch_layout(batch, row.input_shape),
                                _pytorch_layout(batch, row.output_shape), layer_count,
                                row.params, share))
    from symconv.frontends.build import uncounted

    return Summary(title=title, convention=convention, input_size=_pytorch_layout(batch, shape),
                   rows=tuple(shown), total=total, params=derived.params, units=units,
                   uncounted=tuple(uncounted(network)))
