"""Named counting conventions: one registry, :data:`CONVENTIONS`, of small pure functions.

A :class:`~symconv.derive.Cost` keeps every kind of operation apart (mults, adds, divs,
comparisons) for every layer. A *convention* selects and combines them into the one number a
paper or a tool reports; ``docs/conventions.md`` has the table. Each convention is a function
of the network's per-layer rows (:class:`~symconv.network.LayerRow`, single layers only) to a
SymPy number or expression; its docstring's first line describes it.

Examples
--------
>>> from symconv.zoo import mobilenet_v1
>>> net = mobilenet_v1()
>>> count(net, convention="macs")            # what the MobileNet paper reports: 569 million
568740352
>>> count(net, convention="flops")
1137480704
>>> sorted(CONVENTIONS)
['adds', 'comparisons', 'divs', 'flops', 'macs', 'mults', 'ops', 'params']
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sympy

from symconv.derive import Cost
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.network import LayerRow, as_cost, rows

__all__ = ["CONVENTIONS", "MAC_KINDS", "Convention", "count", "breakdown", "describe"]

#: A convention: the rows of a network's single layers to one count.
Convention = Callable[[Sequence[LayerRow]], sympy.Expr]

#: The kinds of layer whose multiplications are multiply-accumulates: convolutions and linear.
MAC_KINDS = frozenset({"standard", "pointwise", "depthwise", "grouped", "transposed", "linear"})


def _sum(layer_rows: Sequence[LayerRow], kind: str) -> sympy.Expr:
    return sympy.Add(*(getattr(row, kind) for row in layer_rows))


def macs(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Multiply-accumulates of convolutions and linear layers only, biases excluded (MobileNet papers)."""
    return _sum([row for row in layer_rows if row.kind in MAC_KINDS], "mults")


def flops(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Twice the MACs: a multiply and an add each (PyTorch, TensorFlow profilers)."""
    return 2 * macs(layer_rows)


def ops(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
    """Every arithmetic operation of every layer: mults + adds + divs + comparisons."""
    return _sum(layer_rows, "ops")


def _total(kind: str, doc: str) -> Convention:
    """The convention that sums one field of every row."""

    def total(layer_rows: Sequence[LayerRow]) -> sympy.Expr:
        return _sum(layer_rows, kind)

    total.__name__ = total.__qualname__ = kind
    total.__doc__ = doc
    return total


#: The one registry of conventions, by name.
CONVENTIONS: dict[str, Convention] = {
    "macs": macs,
    "flops": flops,
    "ops": ops,
    "mults": _total("mults", "Every multiplication of every layer (BatchNorm's included)."),
    "adds": _total("adds", "Every addition of every layer (biases, BatchNorm, pooling, residuals included)."),
    "divs": _total("divs", "Every division (average pooling: one per output element)."),
    "comparisons": _total("comparisons", "Every comparison (ReLU, ReLU6, max pooling)."),
    "params": _total("params", "Learned parameters: weights, biases where present, BatchNorm's γ and β."),
}


def _convention(name: object) -> Convention:
    if not isinstance(name, str) or name not in CONVENTIONS:
        raise SymconvError(
            f"convention={name!r} is unknown; use one of {', '.join(CONVENTIONS)}"
        )
    return CONVENTIONS[name]


def describe(convention: str) -> str:
    """One line saying what a convention counts.

    Examples
    --------
    >>> describe("flops")
    'Twice the MACs: a multiply and an add each (PyTorch, TensorFlow profilers).'
    """
    doc = _convention(convention).__doc__ or convention
    return doc.strip().splitlines()[0]


def count(
    model: Layer | Cost, input_shape: object = None, *, convention: str = "macs"
) -> sympy.Expr:
    """The count of ``model`` under a named convention.

    Parameters
    ----------
    model
        A layer or network (or the :class:`~symconv.derive.Cost` derived from one).
    input_shape
        Channels-last input shape; not needed for networks that carry their own.
    convention
        A name in :data:`CONVENTIONS`: ``"macs"`` (default), ``"flops"``, ``"ops"``,
        ``"mults"``, ``"adds"``, ``"divs"``, ``"comparisons"``, ``"params"``.

    Returns
    -------
    sympy.Expr
        An exact integer for concrete shapes, a closed form for symbolic ones.

    Raises
    ------
    SymconvError
        For an unknown convention (the message lists the known ones) or bad shapes.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.symbols import H, W, M, N, k
    >>> count(Conv2d(M, N, k, bias=True), (H, W, M), convention="flops")
    2*M*N*k**2*(H - k + 1)*(W - k + 1)
    >>> count(Conv2d(3, 64, 3), (7, 7, 3), convention="gflops")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: convention='gflops' is unknown; use one of macs, flops, ops, mults, adds, divs, comparisons, params
    """
    chosen = _convention(convention)
    return chosen(rows(as_cost(model, input_shape)))


def breakdown(
    model: Layer | Cost, input_shape: object = None, *, convention: str = "ops"
) -> dict[str, sympy.Expr]:
    """A convention's count split by kind of layer, in the order the kinds first appear.

    Kinds that count nothing under the convention are left out.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.nnlayers import BatchNorm2d, ReLU6, Sequential
    >>> net = Sequential(Conv2d(3, 8, 3), BatchNorm2d(8), ReLU6())
    >>> breakdown(net, (7, 7, 3))
    {'standard': 10600, 'batchnorm': 400, 'relu6': 400}
    >>> breakdown(net, (7, 7, 3), convention="macs")
    {'standard': 5400}
    """
    chosen = _convention(convention)
    by_kind: dict[str, list[LayerRow]] = {}
    for row in rows(as_cost(model, input_shape)):
        by_kind.setdefault(row.kind, []).append(row)
    counted = {kind: chosen(group) for kind, group in by_kind.items()}
    return {kind: value for kind, value in counted.items() if value != 0}
