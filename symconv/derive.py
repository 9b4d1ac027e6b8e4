"""Pure SymPy derivation: a layer's loop nest becomes its :class:`Cost`; ratios; shape arithmetic.

What is counted (see ``docs/conventions.md``):

* **mults** — scalar multiplications of a direct evaluation, one per output element per
  reduction element, products with padding zeros included; a transposed convolution in scatter
  form: every input element times every kernel weight of its group.
* **adds** — scalar additions of the same evaluation: a dot product of L terms takes L − 1; a
  bias adds one per output element; in scatter form every product is added once.
* **divs**, **comparisons** — kept apart from the two above (pooling, normalisation).
* **params** — weights, plus biases where ``bias=True``.

Examples
--------
>>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
>>> from symconv.symbols import H, W, M, N, k
>>> std = cost(Conv2d(M, N, k), (H, W, M))
>>> std.mults
M*N*k**2*(H - k + 1)*(W - k + 1)
>>> ratio(cost(DepthwiseSeparableConv2d(M, N, k), (H, W, M)).mults, std.mults)
k**(-2) + 1/N
>>> std.subs({H: 7, W: 7, M: 3, N: 64, k: 3}).mults
43200
"""

from __future__ import annotations

import fractions
import functools
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeAlias

import sympy

from symconv.errors import SymconvError
from symconv.layers import Composite, ConvNd, ConvTransposeNd, Layer, LoopNest
from symconv.sizes import Size, as_size
from symconv.symbols import LATEX_NAMES, D_o, H_o, L_o, W_o

__all__ = [
    "Cost", "cost", "ratio", "conv_output_size", "transposed_output_size", "output_spatial",
    "check_input_shape", "in_output_symbols", "COUNT_KINDS",
]

#: The operation counts a :class:`Cost` carries, in report order.
COUNT_KINDS = ("mults", "adds", "divs", "comparisons")

_ZERO = sympy.Integer(0)


def _expr(value: Size) -> sympy.Expr:
    return sympy.Integer(value) if isinstance(value, int) else value


def _product(values: tuple[Size, ...]) -> sympy.Expr:
    if all(isinstance(value, (int, sympy.Integer)) for value in values):
        return sympy.Integer(math.prod(int(value) for value in values))  # one Integer, not a Mul
    return sympy.Mul(*(_expr(value) for value in values))


@dataclass(frozen=True)
class Cost:
    """What one layer, composite or network costs, as SymPy expressions.

    Attributes
    ----------
    mults, adds
        Scalar multiplications and additions of a direct evaluation (see the module docstring).
    params
        Learned parameters: weights, biases where present, BatchNorm's γ and β.
    divs, comparisons
        Divisions and comparisons, kept apart from mults and adds.
    input_shape, output_shape
        Channels-last shapes as tuples of SymPy expressions.
    stages
        ``(name, Cost)`` of each stage of a composite, in order; empty for a single layer.
    kind
        The kind of layer (``"standard"``, ``"depthwise"``, ``"separable"``, ...).

    Examples
    --------
    >>> from symconv import Conv2d, cost
    >>> from symconv.symbols import H, W, k
    >>> c = cost(Conv2d(3, 64, k, bias=True), (H, W, 3))
    >>> c.params
    192*k**2 + 64
    >>> c.subs(H=7, W=7, k=3).adds
    43200
    """

    mults: sympy.Expr
    adds: sympy.Expr
    params: sympy.Expr
    input_shape: tuple[sympy.Expr, ...]
    output_shape: tuple[sympy.Expr, ...]
    divs: sympy.Expr = _ZERO
    comparisons: sympy.Expr = _ZERO
    stages: tuple[tuple[str, Cost], ...] = field(default=())
    kind: str = ""

    def map(self, transform: Callable[[sympy.Expr], sympy.Expr]) -> Cost:
        """Apply ``transform`` to every expression, stages included."""
        return replace(
            self,
            mults=transform(self.mults),
            adds=transform(self.adds),
            params=transform(self.params),
            divs=transform(self.divs),
            comparisons=transform(self.comparisons),
            input_shape=tuple(transform(size) for size in self.input_shape),
            output_shape=tuple(transform(size) for size in self.output_shape),
            stages=tuple((name, stage.map(transform)) for name, stage in self.stages),
        )

    def subs(
        self, values: Mapping[sympy.Basic, object] | None = None, /, **by_name: object
    ) -> Cost:
        """Substitute values for symbols, given as a mapping and/or by symbol name.

        Values must be numbers (ints, fractions) or SymPy expressions; strings are refused, as
        symconv never evaluates text.

        Examples
        --------
        >>> from symconv import Conv2d, cost
        >>> from symconv.symbols import H, W, M, N, k
        >>> c = cost(Conv2d(M, N, k), (H, W, M))
        >>> c.subs({H: 7, W: 7, M: 3}, N=64, k=3).mults
        43200
        """
        mapping = substitution(self._free_symbols(), values, by_name)
        return self.map(lambda expr: expr.subs(mapping))

    def xreplace(self, mapping: Mapping[sympy.Basic, sympy.Basic]) -> Cost:
        """Replace exact subexpressions (for instance output-size expressions by ``H_o``)."""
        return self.map(lambda expr: expr.xreplace(dict(mapping)))

    def _free_symbols(self) -> set[sympy.Symbol]:
        found: set[sympy.Symbol] = set()
        self.map(lambda expr: found.update(expr.free_symbols) or expr)  # type: ignore[func-returns-value]
        return found

    def _latex(self, printer: Any) -> str:
        rows = [
            rf"\text{{{name}}} &= {printer._print(getattr(self, name))}"
            for name in ("mults", "adds", "params")
        ]
        return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"

    def _repr_latex_(self) -> str:
        return "$\\displaystyle " + sympy.latex(self, symbol_names=LATEX_NAMES) + "$"

    def _repr_markdown_(self) -> str | None:
        """A table of the layers for notebooks, when there are stages; else the LaTeX shows."""
        if not self.stages:
            return None
        from symconv.render.notebook import cost_markdown  # display only: render sits above

        return cost_markdown(self)


def substitution(
    free: set[sympy.Symbol],
    values: Mapping[sympy.Basic, object] | None,
    by_name: Mapping[str, object],
) -> dict[sympy.Basic, sympy.Expr]:
    """Build a checked substitution from a mapping and names of free symbols."""
    mapping: dict[sympy.Basic, sympy.Expr] = {}
    named = {symbol.name: symbol for symbol in free}
    for key, value in (values or {}).items():
        if not isinstance(key, sympy.Basic):
            raise SymconvError(
                f"subs key {key!r} must be a SymPy symbol; pass names as keywords instead"
            )
        mapping[key] = _number(value, str(key))
    for name, value in by_name.items():
        if name not in named:
            known = ", ".join(sorted(named)) or "none"
            raise SymconvError(f"subs({name}=...): no symbol {name!r} here; symbols: {known}")
        mapping[named[name]] = _number(value, name)
    return mapping


def _number(value: object, name: str) -> sympy.Expr:
    if isinstance(value, bool) or isinstance(value, str):
        raise SymconvError(f"{name}={value!r} must be a number or a SymPy expression")
    if isinstance(value, numbers.Integral):
        return sympy.Integer(int(value))
    if isinstance(value, fractions.Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, sympy.Expr):
        if value.is_Float:
            raise SymconvError(f"{name}={value} must be exact; use sympy.Rational")
        return value
    raise SymconvError(
        f"{name}={value!r} must be an int, a Fraction or a SymPy expression "
        f"(floats are not exact: use sympy.Rational)"
    )


def conv_output_size(
    size: Size, kernel: Size, stride: Size, padding: Size, dilation: Size
) -> sympy.Expr:
    """``floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1``.

    Examples
    --------
    >>> conv_output_size(5, 3, 2, 1, 1), conv_output_size(7, 3, 1, 0, 2)
    (3, 3)
    >>> from symconv.symbols import H, k, s, p, d
    >>> conv_output_size(H, k, s, p, d)
    floor((H - d*(k - 1) + 2*p - 1)/s) + 1
    """
    reach = _expr(size) + 2 * _expr(padding) - _expr(dilation) * (_expr(kernel) - 1) - 1
    if stride == 1:  # reach is a whole number already; SymPy's floor of a long sum is slow
        return reach + 1
    return sympy.floor(reach / _expr(stride)) + 1


def transposed_output_size(
    size: Size, kernel: Size, stride: Size, padding: Size, dilation: Size, output_padding: Size
) -> sympy.Expr:
    """``(size − 1)·stride − 2·padding + dilation·(kernel − 1) + output_padding + 1``.

    Examples
    --------
    >>> transposed_output_size(3, 3, 2, 1, 1, 0)
    5
    """
    return (
        (_expr(size) - 1) * _expr(stride) - 2 * _expr(padding)
        + _expr(dilation) * (_expr(kernel) - 1) + _expr(output_padding) + 1
    )


_AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def _axis_name(dims: int, axis: int) -> str:
    return _AXIS_NAMES.get(dims, tuple(f"axis {i}" for i in range(dims)))[axis]


@functools.singledispatch
def output_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    """The spatial output sizes of a single layer (registered per layer family)."""
    raise SymconvError(f"no shape arithmetic is known for {type(layer).__name__}")


@output_spatial.register
def _(layer: ConvNd, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    sizes = []
    dims = len(input_spatial)
    for axis, (size, kernel, stride, padding, dilation) in enumerate(
        zip(input_spatial, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    ):
        reach = _expr(size) + 2 * _expr(padding) - _expr(dilation) * (_expr(kernel) - 1) - 1
        if (reach < 0) is sympy.true:
            span = _expr(dilation) * (_expr(kernel) - 1) + 1
            room = _expr(size) + 2 * _expr(padding)
            raise SymconvError(
                f"kernel_size={kernel} (spanning {span} with dilation={dilation}) is larger than "
                f"the padded input along {_axis_name(dims, axis)}: {size} + 2·{padding} = {room}; "
                "use a smaller kernel or dilation, or more padding"
            )
        sizes.append(conv_output_size(size, kernel, stride, padding, dilation))
    return tuple(sizes)


@output_spatial.register
def _(layer: ConvTransposeNd, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    sizes = []
    dims = len(input_spatial)
    for axis, (size, kernel, stride, padding, dilation, extra) in enumerate(
        zip(input_spatial, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
            layer.output_padding)
    ):
        out = transposed_output_size(size, kernel, stride, padding, dilation, extra)
        if (out < 1) is sympy.true:
            raise SymconvError(
                f"padding={padding} crops the whole output along {_axis_name(dims, axis)} "
                f"(output size {out}); use padding of at most "
                f"{(out + 2 * _expr(padding) - 1) // 2}"
            )
        sizes.append(out)
    return tuple(sizes)


def check_input_shape(
    layer: Layer, input_shape: object, *, sizes_checked: bool = False
) -> tuple[sympy.Expr, ...]:
    """Check an input shape against a layer and return it as SymPy expressions.

    ``sizes_checked=True`` skips checking each size (a shape derived from a checked one).

    Examples
    --------
    >>> from symconv import Conv2d
    >>> check_input_shape(Conv2d(3, 8, 3), (7, 7))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: input_shape=(7, 7) must have 3 sizes (H, W, C), channels last, for Conv2d
    >>> check_input_shape(Conv2d(3, 8, 3), (7, 7, 4))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: input_shape=(7, 7, 4) has 4 channels but Conv2d expects in_channels=3
    """
    if not isinstance(input_shape, (tuple, list)):
        raise SymconvError(
            f"input_shape={input_shape!r} must be a tuple of sizes, channels last, like (7, 7, 3)"
        )
    dims = layer.spatial_dims
    name = type(layer).__name__
    if dims is not None and len(input_shape) != dims + 1:
        axes = ", ".join((*_AXIS_NAMES.get(dims, ()), "C"))
        raise SymconvError(
            f"input_shape={tuple(input_shape)!r} must have {dims + 1} sizes ({axes}), "
            f"channels last, for {name}"
        )
    sizes = tuple(
        _expr(size if sizes_checked else as_size(size, "input_shape")) for size in input_shape
    )
    expected = layer.in_channels_expected()
    if expected is not None and sympy.Eq(sizes[-1], _expr(expected)) is sympy.false:
        raise SymconvError(
            f"input_shape={tuple(input_shape)!r} has {sizes[-1]} channels but {name} expects "
            f"in_channels={expected}"
        )
    return sizes


def _cost_of_nest(
    nest: LoopNest, input_shape: tuple[sympy.Expr, ...], kind: str
) -> Cost:
    outer = _product(nest.outer)
    inner = _product(nest.inner)
    outputs = _product(nest.outputs)
    counts = {name: _ZERO for name in COUNT_KINDS}
    if nest.multiply:
        counts["mults"] = outer * inner
    if nest.accumulate == "sum":
        counts["adds"] = outer * (inner - 1)
    elif nest.accumulate == "scatter":
        counts["adds"] = outer * inner
    else:
        counts["comparisons"] = outer * (inner - 1)
    for name, per_element in nest.per_output:
        counts[name] = counts[name] + _expr(per_element) * outputs
    params = sympy.Add(*(_product(shape) for _, shape in nest.parameters))
    return Cost(
        input_shape=input_shape,
        output_shape=tuple(_expr(size) for size in nest.outputs),
        params=params,
        kind=kind,
        **counts,
    )


def total(stages: tuple[tuple[str, Cost], ...], input_shape: tuple[sympy.Expr, ...],
          kind: str) -> Cost:
    """The sum of the stages' costs, keeping the stages."""
    sums = {
        name: sympy.Add(*(getattr(stage, name) for _, stage in stages))
        for name in (*COUNT_KINDS, "params")
    }
    output_shape = stages[-1][1].output_shape if stages else input_shape
    return Cost(input_shape=input_shape, output_shape=output_shape, stages=stages, kind=kind,
                **sums)


def cost(layer: Layer, input_shape: object = None) -> Cost:
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
    """
    carried = input_shape is None
    if input_shape is None:
        input_shape = getattr(layer, "input_shape", None)
        if input_shape is None:
            raise SymconvError(
                f"input_shape is missing: {type(layer).__name__} needs one, like (7, 7, 3)"
            )
    shape = check_input_shape(layer, input_shape)
    back: dict[sympy.Basic, sympy.Expr] = {}
    multiple = getattr(layer, "size_multiple", 1) if carried else 1
    if multiple != 1:
        shape, back = _as_multiples(shape, multiple)
    result, _ = _derive(layer, shape, "", None)
    return result.xreplace(back) if back else result


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


def _derive(layer: Layer, shape: tuple[sympy.Expr, ...], path: str,
            previous: _Previous) -> tuple[Cost, _Previous]:
    """Derive ``layer`` at dotted ``path``; ``previous`` is the leaf layer that made ``shape``.

    Returns the cost and the last leaf layer run, for the next stage's error messages.
    """
    if isinstance(layer, Composite):
        stages = []
        current = shape
        for name, stage in layer.stages:
            stage_cost, previous = _derive(stage, current, f"{path}.{name}" if path else name,
                                           previous)
            stages.append((name, stage_cost))
            current = stage_cost.output_shape
        result = total(tuple(stages), shape, layer.kind)
        if layer.preserves_shape and (len(current) != len(shape) or any(
            sympy.Eq(out, size) is sympy.false for out, size in zip(current, shape)
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
    try:
        shape = check_input_shape(layer, shape, sizes_checked=True)
        spatial = shape[:-1]
        nest = layer.loop_nest(spatial, output_spatial(layer, spatial), in_channels=shape[-1])
    except SymconvError as error:
        if not path:
            raise
        raise SymconvError(f"layer {path} ({layer.kind}): {error}") from None
    return _cost_of_nest(nest, shape, layer.kind), (path, layer)


def _shape_text(shape: tuple[sympy.Expr, ...]) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_follows(layer: Layer, shape: tuple[sympy.Expr, ...], path: str,
                   previous: tuple[str, Layer]) -> None:
    """Raise, naming both layers, when ``layer`` cannot take what the previous layer gives."""
    before, earlier = previous
    dims = layer.spatial_dims
    if dims is not None and len(shape) != dims + 1:
        axes = ", ".join((*_AXIS_NAMES.get(dims, ()), "C"))
        raise SymconvError(
            f"layer {path} ({layer.kind}) needs inputs of {dims + 1} sizes ({axes}) but layer "
            f"{before} ({earlier.kind}) gives {_shape_text(shape)}; put a layer in between that "
            "gives that rank"
        )
    expected = layer.in_channels_expected()
    if expected is not None and sympy.Eq(shape[-1], _expr(expected)) is sympy.false:
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


def _monomial_denominators(expr: sympy.Expr) -> bool:
    for term in sympy.Add.make_args(expr):
        _, denominator = term.as_numer_denom()
        if any(factor.is_Add for factor in sympy.Mul.make_args(denominator)):
            return False
        if any(
            base.is_Add for base, _ in (f.as_base_exp() for f in sympy.Mul.make_args(denominator))
        ):
            return False
    return True


def ratio(numerator: object, denominator: object) -> sympy.Expr:
    """Simplify ``numerator / denominator`` to its canonical form.

    The quotient is cancelled; when it splits into terms over monomials (as separable over
    standard does: ``1/N + 1/k**2``) that sum is returned, otherwise the factored quotient.

    Examples
    --------
    >>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
    >>> from symconv.symbols import H, W, M, N, k_h, k_w, s, p, d
    >>> std = cost(Conv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    >>> dsc = cost(DepthwiseSeparableConv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    >>> ratio(dsc.mults, std.mults)
    1/(k_h*k_w) + 1/N
    >>> ratio(43200, 5475)
    576/73
    """
    top = _number(numerator, "numerator")
    bottom = _number(denominator, "denominator")
    if bottom == 0:
        raise SymconvError("ratio: the denominator is zero")
    quotient = sympy.cancel(top / bottom)
    expanded = sympy.expand(quotient)
    if _monomial_denominators(expanded):
        return expanded
    return sympy.factor(quotient)
