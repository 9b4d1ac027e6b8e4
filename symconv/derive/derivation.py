"""The one generic derivation: a layer's loop nest becomes its :class:`~symconv.derive.Cost`;
a composite's stages are derived one after the other and summed. Pure SymPy.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from operator import attrgetter
from typing import TypeAlias

import sympy

import symconv.derive.backward as backward
from symconv.derive.cost import _ZERO, COUNT_KINDS, Cost, Source, _sum
from symconv.derive.nest_counts import as_exprs, nest_counts, parameters
from symconv.derive.traffic import nest_traffic
from symconv.errors import SymconvError
from symconv.layers import Composite, Layer, LoopNest
from symconv.layers.base import check_layer
from symconv.layers.shapes import AXIS_NAMES, check_input_shape, output_spatial
from symconv.sizes import check_digits, surely_different
from symconv.symbols import D_o, H_o, L_o, W_o

__all__ = ["cost", "counts_only", "total", "in_output_symbols"]


def _cost_of_nest(
    nest: LoopNest, input_shape: tuple[sympy.Expr, ...], kind: str, source: Source | None = None,
    *, traffic: bool = True,
) -> Cost:
    """The cost of one loop nest; with ``traffic=False`` its counts only (reads, writes 0)."""
    reads, writes = nest_traffic(nest, input_shape) if traffic else (_ZERO, _ZERO)
    return Cost(
        reads=reads,
        writes=writes,
        input_shape=input_shape,
        output_shape=as_exprs(nest.outputs),
        params=parameters(nest.parameters),
        kind=kind,
        source=source,
        **nest_counts(nest),
    )


_TOTALLED = (*COUNT_KINDS, "params", "reads", "writes")


def total(stages: tuple[tuple[str, Cost], ...], input_shape: tuple[sympy.Expr, ...],
          kind: str, source: Source | None = None) -> Cost:
    """The sum of the stages' costs, keeping the stages."""
    costs = [stage for _, stage in stages]
    sums = {name: _sum(list(map(attrgetter(name), costs))) for name in _TOTALLED}
    output_shape = stages[-1][1].output_shape if stages else input_shape
    return Cost(input_shape=input_shape, output_shape=output_shape, stages=stages, kind=kind,
                source=source, **sums)


def cost(layer: Layer, input_shape: object = None, algorithm: str = "direct", *,
         phase: str = "forward", input_grad: bool | None = None, frozen: object = (),
         optimizer: object = None, **options: object) -> Cost:
    """Derive what a layer costs on an input of the given channels-last shape.

    Parameters
    ----------
    layer
        Any symconv layer, composite or network.
    input_shape
        ``(H, W, C)`` (``(L, C)`` in 1-D, ``(D, H, W, C)`` in 3-D) of ints or SymPy
        expressions. May be left out for networks that carry their own input shape; when such
        a network also sets ``size_multiple`` (the MobileNets: 32), the symbolic spatial sizes of
        its carried shape are taken to be multiples of it, so that its strides divide them evenly
        and the formulas need no ``floor`` (exact wherever the sizes do divide evenly).
    algorithm
        ``"direct"`` (the default: the definition of mults and adds), or for one convolution
        ``"im2col"``, ``"winograd"`` or ``"fft"``, whose cost comes with its stages and
        ``workspace`` (:mod:`symconv.derive.algorithms`); an algorithm that does not apply is
        refused by name.
    phase
        ``"forward"`` (the default), ``"backward"`` (the gradients: :mod:`symconv.derive.backward`)
        or ``"train"`` (forward plus backward, as stages ``"forward"`` and ``"backward"``);
        backward and train take the direct algorithm only.
    input_grad
        For ``phase="backward"`` or ``"train"``: whether the gradient with respect to the input is
        needed. ``None`` (the default): yes for a single layer or block, no for a network
        (:class:`~symconv.layers.Sequential`, :class:`~symconv.layers.Graph`), whose input is
        data.
    frozen
        For ``phase="backward"`` or ``"train"``: ``True`` (every parameter frozen), or the dotted
        paths of frozen layers or blocks (``("features",)``): they get no gradient. A path that
        names no layer or block of the network is refused (``features`` names ``features.3``).
    optimizer
        For ``phase="train"``: one optimizer step on the trainable parameters, a third stage
        ``"optimizer"`` (``"sgd"``, ``"sgd_momentum"``, ``"adam"``, ``"adamw"``, or an
        :class:`~symconv.layers.optimizers.SGD` / :class:`~symconv.layers.optimizers.Adam`;
        :func:`symconv.derive.backward.optimizer_cost`, convention ``torch.optim`` in ``docs/conventions.md``).
    **options
        The algorithm's options: Winograd's ``tile``, ``points``, ``precompute_weights``; FFT's
        ``complex_mult``, ``precompute_weights`` (:mod:`symconv.layers.algorithms`).

    Returns
    -------
    Cost
        Exact integers when every size is concrete, closed forms (with ``floor`` for strides)
        when symbolic; composites list their stages.

    Raises
    ------
    SymconvError
        For a bad shape; inside a composite the message names the layer by its dotted path, and
        a layer that cannot take the previous layer's output names both layers.

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> from symconv.symbols import H, s
    >>> cost(Conv2d(3, 64, 3, stride=s), (H, H, 3)).output_shape
    (floor((H - 3)/s) + 1, floor((H - 3)/s) + 1, 64)
    >>> cost(Conv2d(3, 64, 3), (7, 7, 3)).mults
    43200
    >>> cost(Conv2d(3, 64, 3), (7, 7, 3), algorithm="winograd", tile=2).stage("elementwise").mults
    27648
    """
    check_layer(layer, "cost(layer")
    if phase != "forward" or input_grad is not None or frozen != () or optimizer is not None:
        if algorithm != "direct" or options:
            raise SymconvError(f"phase={phase!r} takes algorithm='direct' only, without options")
        return backward.phased_cost(layer, input_shape, phase, input_grad=input_grad,
                           frozen=frozen, optimizer=optimizer)  # type: ignore[arg-type]
    if algorithm != "direct" or options:
        from symconv.derive.algorithms import algorithm_cost

        if algorithm == "direct":
            raise SymconvError(f"algorithm='direct' takes no options, not "
                               f"{', '.join(name + '=' for name in options)}")
        if input_shape is None:
            input_shape = getattr(layer, "input_shape", None)
        return algorithm_cost(layer, input_shape, algorithm, **options)
    return _forward(layer, input_shape, traffic=True)


def counts_only(layer: Layer, input_shape: object = None) -> Cost:
    """:func:`cost` of the forward pass by the direct algorithm, without its memory traffic
    (``reads`` and ``writes`` left 0): what a counting convention reads (the counts, params and
    shapes of every stage), without deriving what it does not (``count`` uses it).

    Examples
    --------
    >>> from symconv import Conv2d
    >>> full, counted = cost(Conv2d(3, 8, 3), (7, 7, 3)), counts_only(Conv2d(3, 8, 3), (7, 7, 3))
    >>> (counted.mults, counted.adds, counted.params) == (full.mults, full.adds, full.params)
    True
    >>> full.reads, counted.reads
    (363, 0)
    """
    check_layer(layer, "cost(layer")
    return _forward(layer, input_shape, traffic=False)


def _forward(layer: Layer, input_shape: object, *, traffic: bool) -> Cost:
    """The direct forward derivation of :func:`cost`; ``traffic=False``: reads, writes 0."""
    derive = cost if traffic else counts_only
    carried = input_shape is None
    if input_shape is None:
        input_shape = getattr(layer, "input_shape", None)
        if input_shape is None:
            raise SymconvError(
                f"input_shape is missing: {type(layer).__name__} needs one, like (7, 7, 3)"
            )
    shape = check_input_shape(layer, input_shape)
    _check_one_symbol_a_name(layer, shape)
    back: dict[sympy.Basic, sympy.Expr] = {}
    multiple = getattr(layer, "size_multiple", 1) if carried else 1
    derived = layer
    if multiple != 1:
        shape, back = _as_multiples(shape, multiple)
        # the sizes a graph records (Reuse, a broadcast operand's shape) as multiples too
        derived = layer.subs({size * multiple: whole * multiple for whole, size in back.items()})
    result, _ = _derive(derived, shape, "", None, traffic)
    if back:
        result = result._map(lambda expr: expr.xreplace(back), keep_source=True)
    return replace(result, source=Source(layer, None if carried else result.input_shape, derive))


def _check_one_symbol_a_name(layer: Layer, shape: tuple[sympy.Expr, ...]) -> None:
    """Raise when two different symbols of the layer and the shape have the same name.

    ``sympy.Symbol("H")`` and :data:`symconv.symbols.H` (a positive integer) print alike, but
    SymPy takes them for two sizes: nothing would cancel between them and the result would be
    silently wrong.
    """
    symbols = set(layer.free_symbols)
    for size in shape:
        symbols.update(size.free_symbols)
    by_name: dict[str, sympy.Symbol] = {}
    for symbol in sorted(symbols, key=sympy.default_sort_key):
        other = by_name.setdefault(symbol.name, symbol)
        if other != symbol:
            raise SymconvError(
                f"two different symbols are named {symbol.name}: {_described(other)} and "
                f"{_described(symbol)}; they print alike but SymPy takes them for two sizes, so "
                f"the result would be wrong: use one of them everywhere (symconv.symbols."
                f"{symbol.name} where it exists)"
            )


def _described(symbol: sympy.Symbol) -> str:
    facts = [name for name in ("integer", "positive", "nonnegative")
             if getattr(symbol, f"is_{name}")]
    kind = "Dummy" if isinstance(symbol, sympy.Dummy) else "Symbol"
    if not facts:
        return f"{kind}({symbol.name!r}) with no assumptions"
    return f"{kind}({symbol.name!r}, " + ", ".join(f"{fact}=True" for fact in facts) + ")"


def _as_multiples(
    shape: tuple[sympy.Expr, ...], multiple: int
) -> tuple[tuple[sympy.Expr, ...], dict[sympy.Basic, sympy.Expr]]:
    """Write each symbolic spatial size S as ``multiple·R`` (R a positive integer) and return the
    way back, ``R -> S/multiple``: strides whose product divides ``multiple`` then need no floor."""
    forward: dict[sympy.Expr, sympy.Expr] = {}
    back: dict[sympy.Basic, sympy.Expr] = {}
    for size in shape[:-1]:
        if size.is_Integer or size in forward:
            continue
        whole = sympy.Dummy("R", positive=True, integer=True)
        forward[size] = multiple * whole
        back[whole] = size / multiple
    return tuple(forward.get(size, size) for size in shape[:-1]) + shape[-1:], back


_Previous: TypeAlias = "tuple[str, Layer] | None"


#: Single layers already derived in one derivation, by ``(layer, input shape)``.
_Memo: TypeAlias = "dict[tuple[Layer, tuple[sympy.Expr, ...]], Cost]"


def _derive(layer: Layer, shape: tuple[sympy.Expr, ...], path: str,
            previous: _Previous, traffic: bool = True,
            memo: _Memo | None = None) -> tuple[Cost, _Previous]:
    """Derive ``layer`` at dotted ``path``; ``previous`` is the leaf layer that made ``shape``
    (``traffic=False``: reads and writes left 0). ``memo`` keeps the single layers derived so
    far: an equal layer on an equal shape (a network's hundred ReLUs of a few shapes) costs the
    same, and is derived once.

    Returns the cost and the last leaf layer run, for the next stage's error messages.
    """
    if memo is None:
        memo = {}
    if isinstance(layer, Composite):
        stages = []
        current = shape
        for name, stage in layer.stages:
            stage_cost, previous = _derive(stage, current, f"{path}.{name}" if path else name,
                                           previous, traffic, memo)
            stages.append((name, stage_cost))
            current = stage_cost.output_shape
        result = total(tuple(stages), shape, layer.kind,
                       Source(layer, shape, cost if traffic else counts_only))
        if layer.preserves_shape and (len(current) != len(shape) or any(
            surely_different(out, size) for out, size in zip(current, shape)
        )):
            where = f"layer {path} ({layer.kind})" if path else layer.kind
            raise SymconvError(
                f"{where}: the block's output {_shape_text(current)} must have the shape of its "
                f"input {_shape_text(shape)} to be added to it; make the block keep the shape, "
                "or drop the residual connection"
            )
        return result, previous
    if previous is not None:
        _check_follows(layer, shape, path, previous)
    derive = cost if traffic else counts_only
    try:
        known = memo.get((layer, shape))
    except TypeError:  # a layer that cannot be hashed: derived afresh
        known = None
    if known is not None:
        if known.source is not None and known.source.layer is layer:
            return known, (path, layer)
        return replace(known, source=Source(layer, shape, derive)), (path, layer)
    try:
        for size in shape:  # sizes made by earlier layers (a chain of transposed convolutions)
            if size.is_Integer:
                check_digits(int(size), "its input size")
        shape = check_input_shape(layer, shape, sizes_checked=True)
        spatial = shape[:-1]
        nest = layer.loop_nest(spatial, output_spatial(layer, spatial), in_channels=shape[-1])
    except SymconvError as error:
        if not path:
            raise
        raise SymconvError(f"layer {path} ({layer.kind}): {error}") from None
    result = _cost_of_nest(nest, shape, layer.kind, Source(layer, shape, derive), traffic=traffic)
    with contextlib.suppress(TypeError):
        memo[(layer, shape)] = result
    return result, (path, layer)


def _shape_text(shape: tuple[sympy.Expr, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_follows(layer: Layer, shape: tuple[sympy.Expr, ...], path: str,
                   previous: tuple[str, Layer]) -> None:
    """Raise, naming both layers, when ``layer`` cannot take what the previous layer gives."""
    before, earlier = previous
    dims = layer.spatial_dims
    if dims is not None and len(shape) != dims + 1:
        axes = ", ".join((*AXIS_NAMES.get(dims, ()), "C"))
        raise SymconvError(
            f"layer {path} ({layer.kind}) needs inputs of {dims + 1} sizes ({axes}) but layer "
            f"{before} ({earlier.kind}) gives {_shape_text(shape)}; put a layer in between that "
            "gives that rank"
        )
    expected = layer.in_channels_expected()
    if expected is not None and surely_different(shape[-1], expected):
        raise SymconvError(
            f"layer {path} ({layer.kind}, in_channels={expected}) cannot follow layer {before} "
            f"({earlier.kind}, {shape[-1]} channels out); make in_channels={shape[-1]} or change "
            f"layer {before}"
        )


_OUTPUT_SYMBOLS = {1: (L_o,), 2: (H_o, W_o), 3: (D_o, H_o, W_o)}


def in_output_symbols(result: Cost) -> Cost:
    """Write the output spatial sizes as ``H_o``, ``W_o`` (``L_o``; ``D_o``) where they appear.

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> from symconv.symbols import H, W, M, N, k, s
    >>> in_output_symbols(cost(Conv2d(M, N, k, stride=s), (H, W, M))).mults
    H_o*M*N*W_o*k**2
    """
    spatial = result.output_shape[:-1]
    names = _OUTPUT_SYMBOLS.get(len(spatial), ())
    mapping = {
        size: symbol for size, symbol in zip(spatial, names)
        if not (size.is_Symbol or size.is_Integer)
    }
    return result.xreplace(mapping)


backward.use(backward.Derivation(cost=cost, nest_cost=_cost_of_nest, total=total))
