"""Shape arithmetic every layer owns: output sizes, and the check of an input shape.

:func:`output_spatial` is registered per layer family; convolutions and pooling windows use
``floor((H + 2p − d(k − 1) − 1)/s) + 1``, transposed convolutions
``(H − 1)s − 2p + d(k − 1) + a + 1``. Pure SymPy on layer descriptions; imports only layers and
the vocabulary.

Examples
--------
>>> from symconv import Conv2d
>>> from symconv.symbols import H
>>> output_spatial(Conv2d(3, 8, 3, stride=2), (H, H))
(floor(H/2 - 3/2) + 1, floor(H/2 - 3/2) + 1)
"""

from __future__ import annotations

import functools

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer
from symconv.layers.batchnorm_train import values_per_channel
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Activation, BatchNorm2d, ReLU, ResidualAdd
from symconv.layers.graph import Add, Reuse
from symconv.layers.linear import Flatten, Linear
from symconv.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from symconv.sizes import Size, as_expr, as_size, surely_different

__all__ = ["conv_output_size", "floor_div", "transposed_output_size", "output_spatial", "check_input_shape", "axis_name", "AXIS_NAMES"]


_Spatial = tuple[sympy.Expr, ...]




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
    reach = as_expr(size) + 2 * as_expr(padding) - as_expr(dilation) * (as_expr(kernel) - 1) - 1
    if stride == 1:  # reach is a whole number already; SymPy's floor of a long sum is slow
        return reach + 1
    return floor_div(reach, as_expr(stride)) + 1


def _is_whole(expr: sympy.Expr) -> bool:
    """Whether ``expr`` is an integer by its form alone: integers, integer symbols, floors, and
    sums, products and non-negative integer powers of those (a sufficient condition that asks
    nothing of SymPy's assumptions, which walk the whole expression)."""
    if expr.is_Integer or isinstance(expr, (sympy.floor, sympy.ceiling)):
        return True
    if expr.is_Symbol:
        return bool(expr.is_integer)
    if expr.is_Add or expr.is_Mul:
        return all(_is_whole(arg) for arg in expr.args)
    if expr.is_Pow:
        base, exponent = expr.args
        return bool(exponent.is_Integer and exponent >= 0 and _is_whole(base))
    return False


def floor_div(reach: sympy.Expr, stride: sympy.Expr) -> sympy.Expr:
    """``floor(reach / stride)``, built in time that does not grow with a chain of layers.

    After a symbolic stride an output size holds a floor, and so does the next layer's reach:
    ``floor(y) + c`` with ``c`` whole. For a positive integer stride ``floor(floor(y + c)/s)
    = floor((y + c)/s)``, so the floors collapse into one, over a flat argument: a chain of
    stride-``s`` layers gives ``floor((H - 1)/s**n) + 1`` rather than ``n`` nested floors
    (SymPy's ``floor`` asks questions of its whole argument, and ordering the factors of a cost
    compares the nests, which made a chain quadratic or worse in its length). A reach of any
    other form with floors in it gets the one simplification SymPy would make there, whole terms
    moved out (``floor(x + n) = floor(x) + n``, whole by their form, :func:`_is_whole`), the
    rest kept as an unevaluated ``floor``; a reach without floors is left to SymPy.

    Examples
    --------
    >>> from symconv.symbols import H, s
    >>> floor_div(H - 3, sympy.Integer(2))
    floor(H/2 - 3/2)
    >>> floor_div(sympy.floor((H - 1) / s), s)
    floor((H - 1)/s**2)
    >>> floor_div(sympy.floor((H - 1) / s) + 1, s)
    floor((H + s - 1)/s**2)
    >>> floor_div(sympy.Integer(7), sympy.Integer(2))
    3
    """
    terms = sympy.Add.make_args(reach)
    floors = [term for term in terms if isinstance(term, sympy.floor)]
    if not floors:
        return sympy.floor(reach / stride)
    rest = [term for term in terms if not isinstance(term, sympy.floor)]
    if (len(floors) == 1 and stride.is_integer and stride.is_positive
            and all(_is_whole(term) for term in rest)):
        inner = floors[0].args[0] + sympy.Add(*rest)
        if not inner.has(sympy.floor):
            return sympy.floor(sympy.together(inner / stride))
    whole: list[sympy.Expr] = []
    fractional: list[sympy.Expr] = []
    for term in sympy.Add.make_args(reach / stride):
        (whole if _is_whole(term) else fractional).append(term)
    if not fractional:
        return sympy.Add(*whole)
    return sympy.Add(*whole, sympy.floor(sympy.Add(*fractional), evaluate=False))


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
        (as_expr(size) - 1) * as_expr(stride) - 2 * as_expr(padding)
        + as_expr(dilation) * (as_expr(kernel) - 1) + as_expr(output_padding) + 1
    )


AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_name(dims: int, axis: int) -> str:
    return AXIS_NAMES.get(dims, tuple(f"axis {i}" for i in range(dims)))[axis]



def _definitely(size: sympy.Expr, relation: str, bound: int) -> bool:
    """Whether ``size < bound`` (``relation`` is ``"<"``) is definitely true.

    A size holding the floors of earlier stages (after a symbolic stride) is not asked: SymPy
    decides such a relation by walking the whole nest of floors, which made a chain of layers
    quadratic or worse, and with free symbols in it the answer is "undecidable" in practice.
    Such a condition is accepted, as every undecidable one is, and checked when numbers are
    given (by :func:`symconv.cost` with concrete sizes, or by ``Cost.subs``).
    """
    assert relation == "<"
    if size.is_Integer:
        return bool(size < bound)
    if size.has(sympy.floor, sympy.ceiling):
        return False
    return (size < bound) is sympy.true


@functools.singledispatch
def output_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    """The spatial output sizes of a single layer (registered per layer family)."""
    raise SymconvError(f"no shape arithmetic is known for {type(layer).__name__}")


_WHOLE = (int, sympy.Integer)


def _integer_sizes(input_spatial: tuple[sympy.Expr, ...], layer: ConvNd) -> tuple[sympy.Expr, ...] | None:
    """A window's output sizes where every size and hyperparameter is an integer (Python ints,
    without SymPy: a network at one input size has hundreds of them); ``None`` otherwise, or
    where the window does not fit (the general arithmetic then says why)."""
    sizes = []
    for size, kernel, stride, padding, dilation in zip(
            input_spatial, layer.kernel_size, layer.stride, layer.padding, layer.dilation):
        if not (isinstance(size, _WHOLE) and isinstance(kernel, _WHOLE) and isinstance(stride, _WHOLE)
                and isinstance(padding, _WHOLE) and isinstance(dilation, _WHOLE)):
            return None
        reach = int(size) + 2 * int(padding) - int(dilation) * (int(kernel) - 1) - 1
        if reach < 0:
            return None
        sizes.append(sympy.Integer(reach // int(stride) + 1))
    return tuple(sizes)


@output_spatial.register
def _(layer: ConvNd, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    integers = _integer_sizes(input_spatial, layer)
    if integers is not None and len(integers) == len(input_spatial):
        return integers
    sizes = []
    dims = len(input_spatial)
    for axis, (size, kernel, stride, padding, dilation) in enumerate(
        zip(input_spatial, layer.kernel_size, layer.stride, layer.padding, layer.dilation)
    ):
        numbers = (size, kernel, stride, padding, dilation)
        if all(isinstance(value, (int, sympy.Integer)) for value in numbers):
            whole = [int(value) for value in numbers]  # concrete: Python ints, no SymPy floor
            reach_int = whole[0] + 2 * whole[3] - whole[4] * (whole[1] - 1) - 1
            if reach_int >= 0:
                sizes.append(sympy.Integer(reach_int // whole[2] + 1))
                continue
        reach = as_expr(size) + 2 * as_expr(padding) - as_expr(dilation) * (as_expr(kernel) - 1) - 1
        if _definitely(reach, "<", 0):
            span = as_expr(dilation) * (as_expr(kernel) - 1) + 1
            room = as_expr(size) + 2 * as_expr(padding)
            raise SymconvError(
                f"kernel_size={kernel} (spanning {span} with dilation={dilation}) is larger than "
                f"the padded input along {axis_name(dims, axis)}: {size} + 2·{padding} = {room}; "
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
        if _definitely(out, "<", 1):
            raise SymconvError(
                f"padding={padding} crops the whole output along {axis_name(dims, axis)} "
                f"(output size {out}); use padding of at most "
                f"{(out + 2 * as_expr(padding) - 1) // 2}"
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
        axes = ", ".join((*AXIS_NAMES.get(dims, ()), "C"))
        raise SymconvError(
            f"input_shape={tuple(input_shape)!r} must have {dims + 1} sizes ({axes}), "
            f"channels last, for {name}"
        )
    sizes = tuple(
        as_expr(size if sizes_checked else as_size(size, "input_shape")) for size in input_shape
    )
    expected = layer.in_channels_expected()
    if expected is not None and surely_different(sizes[-1], expected):
        raise SymconvError(
            f"input_shape={tuple(input_shape)!r} has {sizes[-1]} channels but {name} expects "
            f"in_channels={expected}"
        )
    return sizes



def _same(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return input_spatial


def _flattened(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return ()


def _pooled_to_one(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return (sympy.Integer(1),) * len(input_spatial)


def _normalised(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    """BatchNorm keeps the size; without running statistics it normalises with the batch's
    statistics at inference too, which PyTorch refuses on one value per channel."""
    assert isinstance(layer, BatchNorm2d)
    if not layer.track_running_stats:
        values_per_channel(layer, input_spatial)
    return input_spatial


for _keeps_size in (Linear, ReLU, Activation, ResidualAdd):
    output_spatial.register(_keeps_size, _same)
output_spatial.register(BatchNorm2d, _normalised)
output_spatial.register(Flatten, _flattened)
output_spatial.register(GlobalAvgPool2d, _pooled_to_one)
# A pooling window slides as a convolution's kernel does: the same arithmetic and checks;
# with ceil_mode PyTorch's rounding up (AvgPool2d's docstring).
def _pooled(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    assert isinstance(layer, (AvgPool2d, MaxPool2d))
    floor_sizes = output_spatial.dispatch(ConvNd)(layer, input_spatial)
    if not layer.ceil_mode:
        return floor_sizes
    sizes = []
    for size, kernel, stride, padding, dilation in zip(
            input_spatial, layer.kernel_size, layer.stride, layer.padding, layer.dilation):
        reach = as_expr(size) + 2 * as_expr(padding) - as_expr(dilation) * (as_expr(kernel) - 1) - 1
        last = sympy.Min(sympy.ceiling(reach / as_expr(stride)),
                         floor_div(as_expr(size) + as_expr(padding) - 1, as_expr(stride)))
        sizes.append(last + 1)
    return tuple(sizes)


for _pool in (AvgPool2d, MaxPool2d):
    output_spatial.register(_pool, _pooled)



def _recorded(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Reuse)
    return tuple(sympy.Integer(size) if isinstance(size, int) else size
                 for size in layer.shape[:-1])



output_spatial.register(Reuse, _recorded)
output_spatial.register(Add, _same)
