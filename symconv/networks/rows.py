"""Networks: the shape arithmetic of the layers around convolutions, and per-layer tables.

Importing this module (``import symconv`` does) registers the output sizes of the layers of
:mod:`symconv.layers` with :func:`symconv.derive.output_spatial`, so that
:func:`symconv.derive.cost` derives a :class:`~symconv.layers.Sequential` network like any
layer: totals, and ``.stages`` nested as the network is. :func:`rows` flattens that nesting into
one :class:`LayerRow` per layer, named by dotted paths.

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import Conv2d, DepthwiseSeparableConv2d
>>> from symconv.layers import GlobalAvgPool2d, Linear, ReLU, Sequential
>>> net = Sequential(("conv", Conv2d(3, 8, 3, padding=1)), ("relu", ReLU()),
...                  ("block", DepthwiseSeparableConv2d(8, 16, 3, padding=1)),
...                  ("pool", GlobalAvgPool2d()), ("fc", Linear(16, 10)))
>>> for row in rows(cost(net, (8, 8, 3))):
...     print(f"{row.name:16} {row.kind:14} {row.mults!s:>6} {row.params!s:>4}")
conv             standard        13824  216
relu             relu                0    0
block.depthwise  depthwise        4608   72
block.pointwise  pointwise        8192  128
pool             globalavgpool       0    0
fc               linear            160  170
>>> totals(cost(net, (8, 8, 3))).mults
26784
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from symconv.derive import COUNT_KINDS, Cost, cost
from symconv.derive.derivation import counts_only, total
from symconv.errors import SymconvError
from symconv.layers import (
    Layer,
)

__all__ = ["LayerRow", "rows", "folded_rows", "totals", "as_cost"]

_Spatial = tuple[sympy.Expr, ...]


#: A count of nothing (rows of costs derived before transcendentals were counted).
_ZERO = sympy.Integer(0)


@dataclass(frozen=True)
class LayerRow:
    """What one layer of a network costs, under its dotted name.

    Attributes
    ----------
    name
        Dotted path of the layer in the network (``"block3.depthwise"``); ``"total"`` for
        :func:`totals`.
    kind
        The kind of layer (``"depthwise"``, ``"batchnorm"``, ``"relu6"``, ...).
    input_shape, output_shape
        Channels-last shapes.
    mults, adds, divs, comparisons, params, transcendentals
        As in :class:`~symconv.derive.Cost` (see ``docs/conventions.md``).
    """

    name: str
    kind: str
    input_shape: tuple[sympy.Expr, ...]
    output_shape: tuple[sympy.Expr, ...]
    mults: sympy.Expr
    adds: sympy.Expr
    divs: sympy.Expr
    comparisons: sympy.Expr
    params: sympy.Expr
    transcendentals: sympy.Expr = _ZERO

    @classmethod
    def of(cls, name: str, result: Cost) -> LayerRow:
        """The row of one :class:`~symconv.derive.Cost`, named ``name``."""
        return cls(name, result.kind, result.input_shape, result.output_shape,
                   result.mults, result.adds, result.divs, result.comparisons, result.params,
                   result.transcendentals)

    @property
    def ops(self) -> sympy.Expr:
        """Every arithmetic operation: mults + adds + divs + comparisons + transcendentals."""
        return sympy.Add(*(getattr(self, name) for name in COUNT_KINDS))


def as_cost(model: Layer | Cost, input_shape: object = None, *, traffic: bool = True,
            **phase: object) -> Cost:
    """``model`` itself when it is a :class:`~symconv.derive.Cost`, else its derived cost
    (``phase``: :func:`symconv.derive.cost`'s ``phase``, ``input_grad`` and ``frozen``; with
    ``traffic=False`` and no ``phase``, its forward counts without reads and writes, which no
    counting convention reads: :func:`symconv.derive.derivation.counts_only`)."""
    if isinstance(model, Cost):
        if input_shape is not None:
            raise SymconvError(
                "input_shape is given but model is already a Cost; pass the layer instead"
            )
        return model
    if not isinstance(model, Layer):
        raise SymconvError(
            f"model={model!r} must be a symconv layer or network, or the Cost derived from one"
        )
    if not traffic and not phase:
        return counts_only(model, input_shape)
    return cost(model, input_shape, **phase)  # type: ignore[arg-type]


def rows(
    model: Layer | Cost, input_shape: object = None, *, depth: int | None = None,
    phase: str = "forward", input_grad: bool | None = None, frozen: object = (),
    optimizer: object = None,
) -> tuple[LayerRow, ...]:
    """One row per layer, nested composites flattened into dotted names.

    Parameters
    ----------
    model
        A layer or network, or the :class:`~symconv.derive.Cost` already derived from one.
    input_shape
        Channels-last input shape; not needed for networks that carry their own.
    depth
        ``None`` (default): down to single layers. ``1``: one row per top-level stage, ``2``:
        one level further, and so on; a graph's dotted stage names (``"layer1.0.conv1"``, from
        :func:`symconv.frontends.torch.from_torch`) count one level per part, and a training
        step's ``forward`` and ``backward`` are not a level (:func:`folded_rows`).
    phase, input_grad, frozen
        As for :func:`symconv.derive.cost`: ``phase="backward"`` gives one row per layer of the
        backward pass; ``"train"`` the forward's rows (``"forward.<name>"``) then the
        backward's (``"backward.<name>"``), ``depth`` counted below those two. A ``model`` that
        is already a training step's :class:`~symconv.derive.Cost` needs ``phase="train"``
        too for that (without it, ``forward`` and ``backward`` are the first level).
    optimizer
        With ``phase="train"``: one more row, ``"optimizer"``, for one optimizer step
        (:func:`symconv.derive.cost`'s ``optimizer``).

    Returns
    -------
    tuple of LayerRow
        In the order data flows. A single layer gives one row, named by its kind.

    Examples
    --------
    >>> from symconv.layers import DepthwiseSeparableConv2d
    >>> [(row.name, row.mults) for row in rows(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))]
    [('depthwise', 675), ('pointwise', 4800)]
    >>> [(row.name, row.mults) for row in rows(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3),
    ...                                        depth=0)]
    [('separable', 5475)]
    """
    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 0):
        raise SymconvError(f"depth={depth!r} must be None or an int of at least 0")
    if phase != "forward" or input_grad is not None or frozen != () or optimizer is not None:
        result = as_cost(model, input_shape, phase=phase, input_grad=input_grad, frozen=frozen,
                         optimizer=optimizer)
    else:
        result = as_cost(model, input_shape)
    return tuple(row for row, _ in folded_rows(result, depth, training=phase == "train"))


#: Routing stages of a branching network (``reuse:...``): they fold into the module they sit in.
_ROUTING = frozenset({"reuse"})

_Stage = tuple[str, Cost]


def folded_rows(result: Cost, depth: int | None = None, *, training: bool = False,
                ) -> tuple[tuple[LayerRow, tuple[str, ...]], ...]:
    """:func:`rows` of a derived ``result``, each with the dotted names of the single layers it
    holds (its own name alone for a single layer), in the order data flows.

    Depth counts the levels of the dotted path: a :class:`~symconv.layers.Graph`'s stage ``"layer1.0.conv1"``
    (:func:`symconv.frontends.torch.from_torch` names stages by module path) is three levels
    deep, and ``depth=1`` folds every stage under ``layer1`` into one row ``"layer1"`` of kind
    ``"graph"``, its counts their sums. A routing stage (``reuse:...``) folds into the module
    of the stage after it (or before it, at the end). With ``training`` (``result`` a training
    step's cost, stages ``"forward"``, ``"backward"`` and maybe ``"optimizer"``), depth counts
    below that level: ``depth=1`` gives ``forward.<module>``, ..., ``backward.<module>``, ....

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.layers import Conv2d, Graph, ReLU
    >>> net = Graph(("stem.conv", Conv2d(3, 8, 3)), ("stem.relu", ReLU()),
    ...             ("head.conv", Conv2d(8, 4, 1)))
    >>> [(row.name, row.kind, row.mults, leaves)
    ...  for row, leaves in folded_rows(cost(net, (8, 8, 3)), depth=1)]
    [('stem', 'graph', 7776, ('stem.conv', 'stem.relu')), ('head', 'graph', 1152, ('head.conv',))]
    """
    if not result.stages or depth == 0:
        return ((LayerRow.of(result.kind, result), _leaf_names(result, "")),)
    if training:
        names = [name for name, _ in result.stages]
        if names[:2] != ["forward", "backward"]:
            raise SymconvError("phase='train' needs the cost of a training step (stages "
                               "forward, backward); derive it with cost(..., phase='train')")
        found: list[tuple[LayerRow, tuple[str, ...]]] = []
        for name, stage in result.stages:
            found.extend(_fold(stage, name, depth) if stage.stages
                         else [(LayerRow.of(name, stage), (name,))])
        return tuple(found)
    return tuple(_fold(result, "", depth))


def _leaf_names(result: Cost, path: str) -> tuple[str, ...]:
    """The dotted names of the single layers of ``result``, found under ``path``."""
    if not result.stages:
        return (path or result.kind,)
    return tuple(leaf for name, stage in result.stages
                 for leaf in _leaf_names(stage, f"{path}.{name}" if path else name))


def _groups(stages: tuple[_Stage, ...], depth: int) -> list[tuple[str | None, list[_Stage]]]:
    """Consecutive stages whose dotted names share their first ``depth`` levels, under that
    prefix; a stage no deeper than ``depth`` alone, under ``None``; routing stages joined to
    the group of the stage after them (or before them, at the end)."""
    groups: list[tuple[str | None, list[_Stage]]] = []
    routing: list[_Stage] = []
    for name, stage in stages:
        if stage.kind in _ROUTING:
            routing.append((name, stage))
            continue
        levels = name.split(".")
        key = ".".join(levels[:depth]) if len(levels) > depth else None
        if key is not None and groups and groups[-1][0] == key:
            groups[-1][1].extend([*routing, (name, stage)])
        elif key is not None:
            groups.append((key, [*routing, (name, stage)]))
        else:
            groups.extend((None, [alone]) for alone in [*routing, (name, stage)])
        routing = []
    if routing and groups and groups[-1][0] is not None:
        groups[-1][1].extend(routing)
    else:
        groups.extend((None, [alone]) for alone in routing)
    return groups


def _fold(result: Cost, prefix: str, depth: int | None) -> list[tuple[LayerRow, tuple[str, ...]]]:
    found: list[tuple[LayerRow, tuple[str, ...]]] = []
    if depth is None:
        for name, stage in result.stages:
            path = f"{prefix}.{name}" if prefix else name
            found.extend(_fold(stage, path, None) if stage.stages
                         else [(LayerRow.of(path, stage), (path,))])
        return found
    for key, members in _groups(result.stages, depth):
        if key is not None:
            path = f"{prefix}.{key}" if prefix else key
            group = total(tuple(members), members[0][1].input_shape, "graph")
            leaves = tuple(leaf for name, stage in members
                           for leaf in _leaf_names(stage, f"{prefix}.{name}" if prefix else name))
            found.append((LayerRow.of(path, group), leaves))
            continue
        (name, stage), = members
        path = f"{prefix}.{name}" if prefix else name
        levels = 1 if stage.kind in _ROUTING else len(name.split("."))
        if stage.stages and levels < depth:
            found.extend(_fold(stage, path, depth - levels))
        else:
            found.append((LayerRow.of(path, stage), _leaf_names(stage, path)))
    return found


def totals(model: Layer | Cost, input_shape: object = None) -> LayerRow:
    """The whole network as one row, named ``"total"``.

    Examples
    --------
    >>> from symconv.layers import DepthwiseSeparableConv2d
    >>> row = totals(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    >>> row.name, row.output_shape, row.mults, row.params
    ('total', (5, 5, 64), 5475, 219)
    """
    return LayerRow.of("total", as_cost(model, input_shape))
