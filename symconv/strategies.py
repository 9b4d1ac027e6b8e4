"""Hypothesis strategies of valid convolution layers and input shapes, for property tests.

Importing :mod:`symconv` does not import Hypothesis; importing this module does (install it
with ``pip install hypothesis``). Every strategy builds valid values by construction — groups
are drawn first and channels as multiples of them, the kernel, dilation and padding before the
input size, which is then drawn at least as large as the layer needs — so none filters or
rejects. Bounds are keyword-only ``min_*``/``max_*`` arguments with small defaults, checked when
the strategy is made; a bad bound raises :class:`~symconv.errors.SymconvError` naming both.

Examples
--------
A user's property test: the multiplications counted while running a layer equal the derived
formula, for every drawn layer and input.

>>> import numpy as np
>>> from hypothesis import given, settings
>>> from symconv import cost, execute
>>> from symconv.strategies import conv_cases
>>> @settings(max_examples=20, derandomize=True, deadline=None)
... @given(conv_cases(kinds=("standard", "separable", "transposed"), dims=(2,), max_size=5))
... def test_counted_mults_match_formula(case):
...     layer, input_shape = case
...     run = execute(layer, np.ones(input_shape))
...     assert run.counts.mults == cost(layer, input_shape).mults
>>> test_counted_mults_match_formula()
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "symconv.strategies needs Hypothesis: pip install hypothesis (or symconv[test])"
    ) from error

from symconv.errors import SymconvError
from symconv.layers import (
    ACTIVATIONS,
    UPSAMPLE_MODES,
    Activation,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvNd,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    ConvTransposeNd,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    Linear,
    MaxPool2d,
    PointwiseConv2d,
    PReLU,
    ReLU,
    ReLU6,
    Residual,
    Sequential,
    Upsample,
)
from symconv.sizes import is_concrete

__all__ = [
    "KINDS", "kernel_sizes", "channels_and_groups", "conv_layers", "input_shapes", "conv_cases",
    "NETWORK_KINDS", "network_cases",
]

#: The kinds of layer :func:`conv_layers` and :func:`conv_cases` draw.
KINDS = ("standard", "grouped", "depthwise", "pointwise", "separable", "transposed")
#: Kinds that exist in 2-D only.
_TWO_D_ONLY = frozenset({"depthwise", "pointwise", "separable"})
#: Kinds with a kernel that must fit the padded input.
_WINDOWED = frozenset({"standard", "grouped", "depthwise", "separable"})

_CONV = {1: Conv1d, 2: Conv2d, 3: Conv3d}
_TRANSPOSED = {1: ConvTranspose1d, 2: ConvTranspose2d, 3: ConvTranspose3d}

Strategy = st.SearchStrategy


# --------------------------------------------------------------------------- checking bounds


def _whole(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SymconvError(f"{name}={value!r} must be an int")
    if value < least:
        raise SymconvError(f"{name}={value} must be at least {least}")
    return value


def _pair(low_name: str, low: object, high_name: str, high: object, least: int) -> None:
    _whole(low_name, low, least)
    _whole(high_name, high, least)
    assert isinstance(low, int) and isinstance(high, int)
    if low > high:
        raise SymconvError(f"{low_name}={low} must not exceed {high_name}={high}")


def _choices(name: str, values: object, allowed: Sequence[Any]) -> tuple[Any, ...]:
    if isinstance(values, (str, int)):
        values = (values,)
    if not isinstance(values, (tuple, list, set, frozenset)) or not values:
        raise SymconvError(f"{name}={values!r} must be a non-empty tuple drawn from {tuple(allowed)}")
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise SymconvError(f"{name}={tuple(values)!r}: {unknown[0]!r} is not one of {tuple(allowed)}")
    return tuple(value for value in allowed if value in values)


def _group_counts(min_groups: int, max_groups: int, min_channels: int,
                  max_channels: int) -> list[int]:
    """The group counts that have a multiple between min_channels and max_channels."""
    return [
        groups for groups in range(min_groups, max_groups + 1)
        if (max_channels // groups) * groups >= min_channels
    ]


# --------------------------------------------------------------------------- finer strategies


def kernel_sizes(dims: int = 2, *, min_kernel: int = 1, max_kernel: int = 3) -> Strategy:
    """Kernel sizes, one per spatial axis (rectangular kernels included).

    Parameters
    ----------
    dims
        The number of spatial axes, 1 to 3.
    min_kernel, max_kernel
        Bounds of each kernel size.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(kernel_sizes(2, max_kernel=3), lambda kernel: kernel[0] > kernel[1])
    (2, 1)
    >>> kernel_sizes(2, min_kernel=4, max_kernel=3)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: min_kernel=4 must not exceed max_kernel=3
    """
    _choices("dims", dims, (1, 2, 3))
    _pair("min_kernel", min_kernel, "max_kernel", max_kernel, 1)
    return st.tuples(*[st.integers(min_kernel, max_kernel)] * dims)


def channels_and_groups(
    *, min_channels: int = 1, max_channels: int = 8, min_groups: int = 1, max_groups: int = 4
) -> Strategy:
    """``(in_channels, out_channels, groups)`` with ``groups`` dividing both channel counts.

    The group count is drawn first (from those with a multiple in the channel bounds), then
    each channel count as a multiple of it.

    Examples
    --------
    >>> from hypothesis import find
    >>> find(channels_and_groups(min_groups=2, max_channels=6), lambda case: case[0] != case[1])
    (2, 4, 2)
    >>> channels_and_groups(min_channels=5, max_channels=6, min_groups=4, max_groups=4)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: no groups from min_groups=4 to max_groups=4 divide a channel count from ...
    """
    _pair("min_channels", min_channels, "max_channels", max_channels, 1)
    _pair("min_groups", min_groups, "max_groups", max_groups, 1)
    counts = _group_counts(min_groups, max_groups, min_channels, max_channels)
    if not counts:
        raise SymconvError(
            f"no groups from min_groups={min_groups} to max_groups={max_groups} divide a channel "
            f"count from min_channels={min_channels} to max_channels={max_channels}; "
            "widen the bounds"
        )

    @st.composite
    def draw_case(draw: Callable[[Strategy], Any]) -> tuple[int, int, int]:
        groups = draw(st.sampled_from(counts))
        multiples = st.integers(-(-min_channels // groups), max_channels // groups)
        return draw(multiples) * groups, draw(multiples) * groups, groups

    return draw_case()


@functools.singledispatch
def _smallest_input(layer: Layer) -> tuple[int, ...]:
    raise SymconvError(
        f"layer={layer!r}: input_shapes knows the input sizes of convolution layers only"
    )


@_smallest_input.register
def _(layer: ConvNd) -> tuple[int, ...]:
    return tuple(
        max(1, int(d) * (int(k) - 1) + 1 - 2 * int(p))
        for k, p, d in zip(layer.kernel_size, layer.padding, layer.dilation)
    )


@_smallest_input.register
def _(layer: ConvTransposeNd) -> tuple[int, ...]:
    # The output (H − 1)·s + d·(k − 1) + a + 1 − 2p must be at least 1.
    return tuple(
        1 + max(0, math.ceil((2 * int(p) - int(d) * (int(k) - 1) - int(a)) / int(s)))
        for k, s, p, d, a in zip(layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                                 layer.output_padding)
    )


@_smallest_input.register
def _(layer: DepthwiseSeparableConv2d) -> tuple[int, ...]:
    return _smallest_input(layer.stages[0][1])  # the pointwise stage takes any size


def input_shapes(layer: Layer, *, min_size: int = 1, max_size: int = 8) -> Strategy:
    """Channels-last input shapes the layer accepts, spatial sizes within the bounds.

    Each spatial size is drawn from at least what the layer needs (its dilated kernel minus the
    padding; for a transposed convolution, enough that the padding leaves an output) up to
    ``max_size``; the channel count is the layer's ``in_channels``.

    Examples
    --------
    >>> from hypothesis import find
    >>> from symconv import Conv2d
    >>> find(input_shapes(Conv2d(3, 8, (3, 5), padding=1)), lambda shape: True)
    (1, 3, 3)
    >>> input_shapes(Conv2d(3, 8, 5), max_size=2)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Conv2d needs inputs of at least 5 along spatial axis 0, more than max_size=2: ...
    """
    _pair("min_size", min_size, "max_size", max_size, 1)
    if not isinstance(layer, Layer):
        raise SymconvError(f"layer={layer!r} must be a symconv layer, like Conv2d(3, 64, 3)")
    smallest = _smallest_input(layer)
    channels = layer.in_channels_expected()
    if channels is None or not is_concrete(channels):
        raise SymconvError(f"layer={layer!r} needs integer in_channels to draw input shapes")
    for axis, size in enumerate(smallest):
        if size > max_size:
            raise SymconvError(
                f"{type(layer).__name__} needs inputs of at least {size} along spatial axis "
                f"{axis}, more than max_size={max_size}: raise max_size, or pass a layer with "
                f"a smaller kernel or dilation or more padding than {layer!r}"
            )
    sizes = [st.integers(max(min_size, size), max_size) for size in smallest]
    return st.tuples(*sizes, st.just(int(channels)))


# --------------------------------------------------------------------------- layers and cases


@st.composite
def _window_axis(draw: Callable[[Strategy], Any], bounds: dict[str, int]) -> tuple[int, ...]:
    """``(kernel, stride, padding, dilation)`` of one axis whose dilated kernel fits max_size."""
    max_size, min_kernel = bounds["max_size"], bounds["min_kernel"]
    padding = draw(st.integers(max(0, -(-(min_kernel - max_size) // 2)), bounds["max_padding"]))
    room = max_size + 2 * padding  # the largest padded input
    kernel = draw(st.integers(min_kernel, min(bounds["max_kernel"], room)))
    widest = bounds["max_dilation"] if kernel == 1 else (room - 1) // (kernel - 1)
    dilation = draw(st.integers(1, max(1, min(bounds["max_dilation"], widest))))
    stride = draw(st.integers(1, bounds["max_stride"]))
    return kernel, stride, padding, dilation


@st.composite
def _transposed_axis(draw: Callable[[Strategy], Any], bounds: dict[str, int]) -> tuple[int, ...]:
    """``(kernel, stride, padding, output_padding, dilation)`` leaving an output at max_size."""
    kernel = draw(st.integers(bounds["min_kernel"], bounds["max_kernel"]))
    stride = draw(st.integers(1, bounds["max_stride"]))
    dilation = draw(st.integers(1, bounds["max_dilation"]))
    extra = draw(st.integers(0, max(stride, dilation) - 1))
    uncropped = (bounds["max_size"] - 1) * stride + dilation * (kernel - 1) + extra + 1
    padding = draw(st.integers(0, min(bounds["max_padding"], (uncropped - 1) // 2)))
    return kernel, stride, padding, extra, dilation


def _per_axis(axes: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """Per-axis tuples of settings -> one tuple per setting."""
    return [tuple(values) for values in zip(*axes)]


@st.composite
def _layer(draw: Callable[[Strategy], Any], kinds: tuple[str, ...], dims: tuple[int, ...],
           bias: bool | None, bounds: dict[str, int], group_counts: list[int]) -> Layer:
    kind = draw(st.sampled_from(kinds))
    rank = 2 if kind in _TWO_D_ONLY else draw(st.sampled_from(dims))
    with_bias = draw(st.booleans()) if bias is None else bias
    low, high = bounds["min_channels"], bounds["max_channels"]
    if kind == "pointwise":
        return PointwiseConv2d(draw(st.integers(low, high)), draw(st.integers(low, high)),
                               with_bias)
    if kind == "transposed":
        in_channels, out_channels, groups = draw(channels_and_groups(
            min_channels=low, max_channels=high, max_groups=bounds["max_groups"]))
        kernel, stride, padding, extra, dilation = _per_axis(
            [draw(_transposed_axis(bounds)) for _ in range(rank)])
        return _TRANSPOSED[rank](in_channels, out_channels, kernel, stride, padding, extra,
                                 dilation, groups, with_bias)
    kernel, stride, padding, dilation = _per_axis([draw(_window_axis(bounds)) for _ in range(rank)])
    if kind == "depthwise":
        return DepthwiseConv2d(draw(st.integers(low, high)), kernel, stride, padding, dilation,
                               with_bias)
    if kind == "separable":
        return DepthwiseSeparableConv2d(draw(st.integers(low, high)), draw(st.integers(low, high)),
                                        kernel, stride, padding, dilation, with_bias)
    if kind == "grouped":
        groups = draw(st.sampled_from(group_counts))
        multiples = st.integers(-(-low // groups), high // groups)
        in_channels, out_channels = draw(multiples) * groups, draw(multiples) * groups
    else:
        in_channels, out_channels, groups = draw(st.integers(low, high)), draw(st.integers(low, high)), 1
    return _CONV[rank](in_channels, out_channels, kernel, stride, padding, dilation, groups,
                       with_bias)


def _layer_strategy(
    kinds: object, dims: object, bias: bool | None, **bounds: int
) -> tuple[Strategy, dict[str, int]]:
    """Check every argument of :func:`conv_layers` at once; return its strategy and the bounds."""
    chosen_kinds = _choices("kinds", kinds, KINDS)
    chosen_dims = _choices("dims", dims, (1, 2, 3))
    if bias is not None and not isinstance(bias, bool):
        raise SymconvError(f"bias={bias!r} must be True, False or None (both)")
    for low, high, least in (("min_size", "max_size", 1), ("min_channels", "max_channels", 1),
                             ("min_kernel", "max_kernel", 1)):
        _pair(low, bounds[low], high, bounds[high], least)
    for name, least in (("max_stride", 1), ("max_dilation", 1), ("max_padding", 0),
                        ("max_groups", 1)):
        _whole(name, bounds[name], least)
    two_d_only = [kind for kind in chosen_kinds if kind in _TWO_D_ONLY]
    if two_d_only and 2 not in chosen_dims:
        raise SymconvError(
            f"kinds includes {two_d_only[0]!r}, which is 2-D only, but dims={chosen_dims!r}; "
            "add 2 to dims or leave it out of kinds"
        )
    largest = bounds["max_size"] + 2 * bounds["max_padding"]
    if any(kind in _WINDOWED for kind in chosen_kinds) and bounds["min_kernel"] > largest:
        raise SymconvError(
            f"min_kernel={bounds['min_kernel']} does not fit an input of at most "
            f"max_size={bounds['max_size']} padded by at most max_padding={bounds['max_padding']}; "
            "lower min_kernel or raise max_size or max_padding"
        )
    group_counts = _group_counts(2, bounds["max_groups"], bounds["min_channels"],
                                 bounds["max_channels"])
    if "grouped" in chosen_kinds and not group_counts:
        raise SymconvError(
            f"kinds includes 'grouped' but no groups from 2 to max_groups={bounds['max_groups']} "
            f"divide a channel count from min_channels={bounds['min_channels']} to "
            f"max_channels={bounds['max_channels']}; raise max_groups or max_channels"
        )
    strategy = _layer(chosen_kinds, chosen_dims, bias, bounds, group_counts)
    return strategy, bounds


def conv_layers(
    *,
    kinds: Sequence[str] = KINDS,
    dims: Sequence[int] = (1, 2, 3),
    bias: bool | None = None,
    min_size: int = 1,
    max_size: int = 8,
    min_channels: int = 1,
    max_channels: int = 8,
    min_kernel: int = 1,
    max_kernel: int = 3,
    max_stride: int = 2,
    max_dilation: int = 2,
    max_padding: int = 1,
    max_groups: int = 4,
) -> Strategy:
    """Valid convolution layers that accept some input of spatial sizes in the size bounds.

    See :func:`conv_cases` for the arguments; a layer drawn here accepts an input from
    :func:`input_shapes` with the same ``min_size`` and ``max_size``.

    Examples
    --------
    >>> from hypothesis import given, settings, strategies as st
    >>> from symconv import cost
    >>> @settings(max_examples=10, derandomize=True, deadline=None)
    ... @given(conv_layers(kinds=("transposed",), dims=(1,), max_size=4), st.data())
    ... def test_fits(layer, data):
    ...     shape = data.draw(input_shapes(layer, max_size=4))
    ...     assert cost(layer, shape).output_shape[0] >= 1
    >>> test_fits()
    """
    strategy, _ = _layer_strategy(**locals())
    return strategy


def conv_cases(
    *,
    kinds: Sequence[str] = KINDS,
    dims: Sequence[int] = (1, 2, 3),
    bias: bool | None = None,
    min_size: int = 1,
    max_size: int = 8,
    min_channels: int = 1,
    max_channels: int = 8,
    min_kernel: int = 1,
    max_kernel: int = 3,
    max_stride: int = 2,
    max_dilation: int = 2,
    max_padding: int = 1,
    max_groups: int = 4,
) -> Strategy:
    """``(layer, input_shape)`` pairs: a valid convolution layer and an input it accepts.

    Parameters
    ----------
    kinds
        Which of :data:`KINDS` to draw: ``"standard"``, ``"grouped"``, ``"depthwise"``,
        ``"pointwise"``, ``"separable"``, ``"transposed"``. Depthwise, pointwise and separable
        layers are 2-D.
    dims
        Spatial ranks to draw standard, grouped and transposed layers in: 1, 2, 3.
    bias
        ``True`` or ``False`` for every layer; ``None`` draws both.
    min_size, max_size
        Bounds of each spatial size of the input (channels last, no batch axis).
    min_channels, max_channels
        Bounds of the input and output channel counts.
    min_kernel, max_kernel
        Bounds of each kernel size (pointwise layers are 1×1 regardless).
    max_stride, max_dilation, max_padding
        Upper bounds of each axis's stride, dilation and padding (lower bounds 1, 1, 0). A
        transposed convolution's output padding is drawn below ``max(stride, dilation)``.
    max_groups
        Upper bound of the groups of grouped and transposed convolutions (a depthwise one has
        as many groups as channels).

    Returns
    -------
    SearchStrategy
        Of ``(layer, input_shape)``; the layer's sizes are ints and the input is large enough
        for its dilated kernel (minus padding), so that :func:`symconv.cost` and
        :func:`symconv.execute` accept every pair.

    Raises
    ------
    SymconvError
        At once, for bounds that are not ints, a ``min_*`` above its ``max_*`` (both named),
        or bounds no layer of a requested kind can meet.

    Examples
    --------
    >>> conv_cases(min_size=5, max_size=3)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: min_size=5 must not exceed max_size=3
    >>> from hypothesis import given, settings
    >>> from symconv import cost
    >>> @settings(max_examples=25, derandomize=True, deadline=None)
    ... @given(conv_cases(kinds=("depthwise", "grouped"), max_size=6))
    ... def test_output_is_never_empty(case):
    ...     layer, input_shape = case
    ...     assert all(size >= 1 for size in cost(layer, input_shape).output_shape)
    >>> test_output_is_never_empty()
    """
    layers, bounds = _layer_strategy(**locals())

    @st.composite
    def draw_case(draw: Callable[[Strategy], Any]) -> tuple[Layer, tuple[int, ...]]:
        layer = draw(layers)
        return layer, draw(input_shapes(layer, min_size=bounds["min_size"],
                                        max_size=bounds["max_size"]))

    return draw_case()


# --------------------------------------------------------------------------- networks

#: The kinds of layer :func:`network_cases` draws on a spatial ``(H, W, C)`` input; after a
#: ``flatten`` only ``batchnorm`` (1-D), ``relu``, ``relu6``, ``activation``, ``prelu`` and
#: ``linear``.
NETWORK_KINDS = ("conv", "depthwise", "separable", "batchnorm", "relu", "relu6", "activation",
                 "avgpool", "maxpool", "residual", "linear", "globalavgpool", "flatten",
                 "upsample", "prelu")
_VECTOR_KINDS = ("batchnorm", "relu", "relu6", "activation", "linear", "prelu")


def _window_output(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _network_layer(draw: Callable[[Strategy], Any], kind: str, shape: tuple[int, ...],
                   channels: Strategy) -> tuple[Layer, tuple[int, ...]]:
    """A layer of ``kind`` that takes ``shape``, built to fit it, and its output shape."""
    *spatial, depth = shape
    if kind in ("conv", "depthwise", "separable", "avgpool", "maxpool"):
        # Padding first, then a kernel the padded input holds and at least twice the padding
        # (PyTorch's rule for pools): every window fits, every output has a size.
        padding = draw(st.integers(0, 1))
        kernel = draw(st.integers(max(1, 2 * padding), min(3, min(spatial) + 2 * padding)))
        stride = draw(st.integers(1, 2))
        dilation = 1
        if kind == "maxpool" and padding == 0 and kernel == 2 and min(spatial) >= 3:
            dilation = draw(st.integers(1, 2))
        out_spatial = tuple(_window_output(size, kernel, stride, padding, dilation) for size in spatial)
        layer: Layer
        if kind == "conv":
            depth_out = draw(channels)
            layer = Conv2d(depth, depth_out, kernel, stride, padding, bias=draw(st.booleans()))
        elif kind == "depthwise":
            depth_out, layer = depth, DepthwiseConv2d(depth, kernel, stride, padding)
        elif kind == "separable":
            depth_out = draw(channels)
            layer = DepthwiseSeparableConv2d(depth, depth_out, kernel, stride, padding)
        elif kind == "avgpool":
            depth_out, layer = depth, AvgPool2d(kernel, stride, padding)
        else:
            depth_out, layer = depth, MaxPool2d(kernel, stride, padding, dilation)
        return layer, (*out_spatial, depth_out)
    if kind == "residual":
        body = Sequential(("conv", Conv2d(depth, depth, 3, padding=1)),
                          ("bn", BatchNorm2d(depth)), ("relu6", ReLU6()))
        return Residual(body if draw(st.booleans()) else Sequential(("inner", body))), shape
    if kind == "globalavgpool":
        return GlobalAvgPool2d(), (1, 1, depth)
    if kind == "prelu":
        return PReLU(draw(st.sampled_from(sorted({1, depth})))), shape
    if kind == "upsample":
        # nearest or bilinear, by an integer scale factor (1 once the input is past 8) or to a
        # size up to 3 larger: upsampling only, as Upsample describes
        mode = draw(st.sampled_from(UPSAMPLE_MODES))
        align = draw(st.booleans()) if mode == "bilinear" else None
        if draw(st.booleans()):
            factor = draw(st.integers(1, 2)) if max(spatial) <= 8 else 1
            return (Upsample(scale_factor=factor, mode=mode, align_corners=align),
                    (*(size * factor for size in spatial), depth))
        sizes = tuple(size + draw(st.integers(0, 3)) for size in spatial)
        return Upsample(size=sizes, mode=mode, align_corners=align), (*sizes, depth)
    if kind == "flatten":
        return Flatten(), (math.prod(shape),)
    if kind == "linear":
        features = draw(channels)
        return Linear(depth, features, bias=draw(st.booleans())), (*spatial, features)
    if kind == "batchnorm":
        # batch statistics (track_running_stats=False) need more than one value per channel
        batch_stats = math.prod(spatial) > 1 and draw(st.booleans())
        norm = BatchNorm2d if spatial else BatchNorm1d
        return norm(depth, affine=draw(st.booleans()),
                    track_running_stats=not batch_stats), shape
    if kind == "activation":
        return Activation(draw(st.sampled_from(sorted(ACTIVATIONS)))), shape
    return (ReLU() if kind == "relu" else ReLU6()), shape


def network_cases(
    *,
    kinds: Sequence[str] = NETWORK_KINDS,
    min_size: int = 1,
    max_size: int = 6,
    min_channels: int = 1,
    max_channels: int = 4,
    min_layers: int = 1,
    max_layers: int = 5,
    nested: bool = True,
) -> Strategy:
    """``(network, input_shape)`` pairs: a small :class:`~symconv.layers.Sequential` and an
    ``(H, W, C)`` input it takes.

    Each layer is built to fit the shape the layers before it give (no filtering): windows never
    larger than the padded input, pools padded by at most half their window, residual blocks
    that keep the shape, channel counts that follow. Layers are named ``"<kind><index>"``
    (``"conv0"``, ``"residual2"``).

    Parameters
    ----------
    kinds
        Which of :data:`NETWORK_KINDS` to draw from (on a flattened input, the ones of them
        that take a vector; when none is left the network stops).
    min_size, max_size
        Bounds of the input's spatial sizes.
    min_channels, max_channels
        Bounds of the input's channels and of every channel or feature count drawn.
    min_layers, max_layers
        Bounds of the number of layers at the top level.
    nested
        Whether the first half of the layers may be wrapped in a nested ``Sequential`` named
        ``"front"`` (dotted names ``"front.conv0"``).

    Raises
    ------
    SymconvError
        At once, for bounds that are not ints, a ``min_*`` above its ``max_*``, or an unknown
        kind.

    Examples
    --------
    A property test of a whole network: every layer's counts equal its derived row.

    >>> from hypothesis import given, settings
    >>> from symconv import verify
    >>> @settings(max_examples=20, derandomize=True, deadline=None)
    ... @given(network_cases(max_layers=4))
    ... def test_every_layer_verifies(case):
    ...     network, input_shape = case
    ...     assert verify(network, input_shape).ok
    >>> test_every_layer_verifies()
    >>> network_cases(min_layers=3, max_layers=2)
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: min_layers=3 must not exceed max_layers=2
    """
    chosen = _choices("kinds", kinds, NETWORK_KINDS)
    _pair("min_size", min_size, "max_size", max_size, 1)
    _pair("min_channels", min_channels, "max_channels", max_channels, 1)
    _pair("min_layers", min_layers, "max_layers", max_layers, 1)
    if not isinstance(nested, bool):
        raise SymconvError(f"nested={nested!r} must be True or False")
    channels = st.integers(min_channels, max_channels)
    vector_kinds = tuple(kind for kind in chosen if kind in _VECTOR_KINDS)

    @st.composite
    def draw_case(draw: Callable[[Strategy], Any]) -> tuple[Sequential, tuple[int, ...]]:
        sizes = st.integers(min_size, max_size)
        start: tuple[int, ...] = (draw(sizes), draw(sizes), draw(channels))
        shape = start
        layers: list[tuple[str, Layer]] = []
        for index in range(draw(st.integers(min_layers, max_layers))):
            available = chosen if len(shape) == 3 else vector_kinds
            if not available:
                break
            kind = draw(st.sampled_from(available))
            layer, shape = _network_layer(draw, kind, shape, channels)
            layers.append((f"{kind}{index}", layer))
        half = len(layers) // 2
        if nested and half and draw(st.booleans()):
            layers = [("front", Sequential(*layers[:half])), *layers[half:]]
        return Sequential(*layers), start

    return draw_case()
