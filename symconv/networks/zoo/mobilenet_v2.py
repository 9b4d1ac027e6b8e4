"""MobileNet V2 (Sandler et al. 2018, arXiv 1801.04381, Table 2), with its two multipliers.

Examples
--------
>>> from symconv import cost
>>> from symconv.networks.conventions import count
>>> net = mobilenet_v2()
>>> net.input_shape, cost(net).output_shape
((224, 224, 3), (1, 1, 1000))
>>> count(net, convention="macs"), count(net, convention="params")    # paper: 300M, 3.4M
(300774272, 3504872)
"""

from __future__ import annotations

import sympy

from symconv.layers import BatchNorm2d, Conv2d, DepthwiseConv2d, GlobalAvgPool2d, Layer, PointwiseConv2d, ReLU6, Residual, Sequential
from symconv.networks.zoo._common import TOTAL_STRIDE, input_size, is_symbolic, multiplier, unit
from symconv.sizes import Size

__all__ = ["mobilenet_v2", "make_divisible", "BOTTLENECKS", "CLASSES", "LAST_CHANNELS"]

#: ``(t, c, n, s)`` of each bottleneck row of Table 2: expansion factor, output channels,
#: repeats, stride of the first repeat (the others have stride 1).
BOTTLENECKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
    (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
#: Output channels of the first convolution.
FIRST_CHANNELS = 32
#: Output channels of the last 1×1 convolution (kept for alpha ≤ 1).
LAST_CHANNELS = 1280
#: Classes of the ImageNet classifier; never scaled.
CLASSES = 1000
_DIVISOR = 8


def make_divisible(value: sympy.Expr, divisor: int = _DIVISOR) -> int:
    """The multiple of ``divisor`` nearest to ``value``, at least ``divisor``, and not more than
    10% below ``value`` (then one ``divisor`` more): the reference implementations' rounding,
    computed exactly.

    Examples
    --------
    >>> make_divisible(sympy.Rational(3, 4) * 24), make_divisible(sympy.Rational(7, 20) * 16)
    (24, 8)
    >>> make_divisible(sympy.Rational(13, 10) * 96)
    128
    """
    rounded = max(divisor, int(sympy.floor((value + sympy.Rational(divisor, 2)) / divisor)) * divisor)
    if rounded < sympy.Rational(9, 10) * value:
        rounded += divisor
    return rounded


def _width(alpha: sympy.Expr, channels: int) -> Size:
    return alpha * channels if is_symbolic(alpha) else make_divisible(alpha * channels)


def _last_width(alpha: sympy.Expr) -> Size:
    if is_symbolic(alpha) or (alpha <= 1) is sympy.true:
        return LAST_CHANNELS
    return make_divisible(alpha * LAST_CHANNELS)


def _bottleneck(in_channels: Size, out_channels: Size, stride: int, expansion: int) -> Layer:
    """The inverted residual block: expand (left out when t = 1), depthwise, linear projection."""
    hidden = expansion * in_channels
    stages: list[tuple[str, Layer]] = []
    if expansion != 1:
        stages += [
            ("expand", PointwiseConv2d(in_channels, hidden)),
            ("expand_bn", BatchNorm2d(hidden)),
            ("expand_relu6", ReLU6()),
        ]
    stages += [
        ("depthwise", DepthwiseConv2d(hidden, 3, stride=stride, padding=1)),
        ("depthwise_bn", BatchNorm2d(hidden)),
        ("depthwise_relu6", ReLU6()),
        ("project", PointwiseConv2d(hidden, out_channels)),
        ("project_bn", BatchNorm2d(out_channels)),
    ]
    block = Sequential(*stages)
    if stride == 1 and sympy.Eq(sympy.Integer(0) + in_channels, out_channels) is sympy.true:
        return Residual(block)
    return block


def mobilenet_v2(alpha: object = 1, rho: object = 1, *, resolution: object = None) -> Sequential:
    """MobileNet V2 as a :class:`~symconv.layers.Sequential` carrying its input shape.

    Layers (Table 2 of the paper): ``conv1`` (3×3 convolution, stride 2, padding 1, BatchNorm,
    ReLU6), ``block1`` ... ``block17`` (bottlenecks: stages ``expand``, ``expand_bn``,
    ``expand_relu6`` — left out when t = 1 —, ``depthwise`` (3×3, padding 1), ``depthwise_bn``,
    ``depthwise_relu6``, ``project``, ``project_bn``; a :class:`~symconv.layers.Residual`
    with a last stage ``add`` when the stride is 1 and the channel counts match), ``conv_last``
    (1×1 convolution to 1280, BatchNorm, ReLU6), ``pool`` (global average pooling) and
    ``classifier`` (a 1×1 convolution to 1000 classes with a bias, on ``1×1×1280``).
    Convolutions other than the classifier have no bias.

    Parameters
    ----------
    alpha
        Width multiplier. For a number, each channel count ``c`` becomes the multiple of 8
        nearest to ``alpha·c`` (never below 8, never more than 10% below ``alpha·c``:
        :func:`make_divisible`); expansions are ``t`` times the rounded count; the last
        convolution keeps 1280 channels for ``alpha ≤ 1`` and rounds ``1280·alpha`` above. A
        SymPy expression such as :data:`symconv.symbols.alpha` gives channel counts ``alpha·c``
        (no rounding, 1280 kept: the formulas are for ``alpha ≤ 1``, and exact where ``alpha·c``
        is a multiple of 8). Numbers are read exactly (a float as its decimal: ``0.35`` → 7/20).
    rho
        Resolution multiplier: the input is ``224·rho`` square, a whole number for numbers; a
        symbol gives sizes ``224·rho``, ``112·rho``, ..., ``7·rho``.
    resolution
        The input size in pixels, instead of ``rho``.

    Returns
    -------
    Sequential
        With ``input_shape=(224·rho, 224·rho, 3)`` and ``size_multiple=32``, so ``cost(net)``
        needs no shape. Numbers give exact integers (strides floor as PyTorch does); symbols give
        polynomials in ``alpha`` and ``rho``, exact wherever the sizes divide evenly
        (``224·rho`` a multiple of 32).

    Raises
    ------
    SymconvError
        For a multiplier that is not positive or a ``rho`` that does not give whole pixels.

    Examples
    --------
    >>> from symconv.networks.conventions import count
    >>> from symconv.symbols import alpha, rho
    >>> count(mobilenet_v2(alpha, rho), convention="macs")
    247869440*alpha**2*rho**2 + 51624832*alpha*rho**2 + 1280000
    >>> count(mobilenet_v2(1.4), convention="macs")    # TF-slim's table: 582 million
    582195824
    """
    width = multiplier(alpha, "alpha")
    _, size = input_size(rho, resolution)
    channels = _width(width, FIRST_CHANNELS)
    layers: list[tuple[str, Layer]] = [
        ("conv1", unit(Conv2d(3, channels, 3, stride=2, padding=1), channels, ReLU6())),
    ]
    index = 0
    for expansion, out, repeats, first_stride in BOTTLENECKS:
        out_channels = _width(width, out)
        for repeat in range(repeats):
            index += 1
            stride = first_stride if repeat == 0 else 1
            layers.append((f"block{index}", _bottleneck(channels, out_channels, stride, expansion)))
            channels = out_channels
    last = _last_width(width)
    layers += [
        ("conv_last", unit(PointwiseConv2d(channels, last), last, ReLU6())),
        ("pool", GlobalAvgPool2d()),
        ("classifier", PointwiseConv2d(last, CLASSES, bias=True)),
    ]
    return Sequential(*layers, input_shape=(size, size, 3), size_multiple=TOTAL_STRIDE)
