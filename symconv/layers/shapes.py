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
from symconv.layers.conv import ConvNd, ConvTransposeNd
from symconv.layers.elementwise import Activation, BatchNorm2d, ReLU, ResidualAdd
from symconv.layers.graph import Add, Reuse
from symconv.layers.linear import Flatten, Linear
from symconv.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from symconv.sizes import Size, as_size

__all__ = ["conv_output_size", "transposed_output_size", "output_spatial", "check_input_shape", "axis_name", "AXIS_NAMES"]


_Spatial = tuple[sympy.Expr, ...]


def _expr(value: Size) -> sympy.Expr:
    return sympy.Integer(value) if isinstance(value, int) else value


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


AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def axis_name(dims: int, axis: int) -> str:
    return AXIS_NAMES.get(dims, tuple(f"axis {i}" for i in range(dims)))[axis]



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
        if (out < 1) is sympy.true:
            raise SymconvError(
                f"padding={padding} crops the whole output along {axis_name(dims, axis)} "
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
        axes = ", ".join((*AXIS_NAMES.get(dims, ()), "C"))
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



def _same(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return input_spatial


def _flattened(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return ()


def _pooled_to_one(layer: Layer, input_spatial: _Spatial) -> _Spatial:
    return (sympy.Integer(1),) * len(input_spatial)


for _keeps_size in (Linear, BatchNorm2d, ReLU, Activation, ResidualAdd):
    output_spatial.register(_keeps_size, _same)
output_spatial.register(Flatten, _flattened)
output_spatial.register(GlobalAvgPool2d, _pooled_to_one)
# A pooling window slides as a convolution's kernel does: the same arithmetic and checks.
for _pool in (AvgPool2d, MaxPool2d):
    output_spatial.register(_pool, output_spatial.dispatch(ConvNd))



def _recorded(layer: Layer, input_spatial: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, Reuse)
    return tuple(sympy.Integer(size) if isinstance(size, int) else size
                 for size in layer.shape[:-1])



output_spatial.register(Reuse, _recorded)
output_spatial.register(Add, _same)
