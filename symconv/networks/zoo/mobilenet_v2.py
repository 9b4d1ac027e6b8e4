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
from symconv.networks.zoo._common import (
    TOTAL_STRIDE,
    input_size,
    is_symbolic,
    multiplier,
    rounding_for,
    unit,
    whole_width,
)
from symconv.sizes import Size

__all__ = ["mobilenet_v2", "make_divisible", "BOTTLENECKS", "CLASSES", "LAST_CHANNELS", "PAPER_ALPHAS"]

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
#: The width multipliers of the paper's results and TF-slim's checkpoint table.
PAPER_ALPHAS: tuple[sympy.Expr, ...] = (
    sympy.Rational(7, 5), sympy.Rational(13, 10), sympy.Integer(1), sympy.Rational(3, 4),
    sympy.Rational(1, 2), sympy.Rational(7, 20),
)


def make_divisible(value: sympy.Expr, divisor: int = _DIVISOR) -> Size:
    """The reference implementations' channel rounding, exact, for a number or a symbolic value.

    torchvision's and TF-slim's ``_make_divisible(v, 8)``: the multiple of ``divisor`` nearest to
    ``v`` (halves round up), at least ``divisor``, and one ``divisor`` more when that is below
    ``0.9·v``. For ``v > 0`` this is ``Max(d·floor(v/d + 1/2), d·ceiling(9·v/(10·d)))``: when the
    nearest multiple ``r`` is below ``0.9·v``, ``r + d`` is the smallest multiple of ``d`` at
    least ``0.9·v`` (as ``0.9·v ≤ v < r + d/2``), and otherwise that smallest multiple is at most
    ``r``; it is at least ``d``, which covers the floor of ``d``. One expression, so a symbolic
    ``v`` gives a formula in ``alpha`` that is exact at every ``alpha``.

    Returns
    -------
    int or sympy.Expr
        An ``int`` for a number, a ``Max`` of ``floor`` and ``ceiling`` for a symbolic value.

    Examples
    --------
    >>> make_divisible(sympy.Rational(3, 4) * 24), make_divisible(sympy.Rational(7, 20) * 16)
    (24, 8)
    >>> make_divisible(sympy.Rational(13, 10) * 96), make_divisible(sympy.Rational(56, 5))
    (128, 16)
    >>> from symconv.symbols import alpha
    >>> make_divisible(32 * alpha)
    Max(8*ceiling(18*alpha/5), 8*floor(4*alpha + 1/2))
    """
    rounded = sympy.Max(
        divisor * sympy.floor(value / divisor + sympy.Rational(1, 2)),
        divisor * sympy.ceiling(sympy.Rational(9, 10 * divisor) * value),
    )
    return rounded if is_symbolic(rounded) else int(rounded)


def _width(alpha: sympy.Expr, channels: int, layer: str, rounding: str) -> Size:
    if rounding == "none":
        return whole_width(alpha, channels, layer)
    return make_divisible(alpha * channels)


def _last_width(alpha: sympy.Expr, rounding: str) -> Size:
    """torchvision's ``make_divisible(1280·max(1, alpha))``, written ``Max(1280,
    make_divisible(1280·alpha))`` (equal, as make_divisible never decreases and keeps 1280);
    ``"none"`` keeps 1280."""
    if rounding == "none":
        return LAST_CHANNELS
    last = sympy.Max(LAST_CHANNELS, make_divisible(alpha * LAST_CHANNELS))
    return last if is_symbolic(last) else int(last)


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


def mobilenet_v2(
    alpha: object = 1, rho: object = 1, *, resolution: object = None, rounding: str | None = None,
) -> Sequential:
    """MobileNet V2 as a :class:`~symconv.layers.Sequential` carrying its input shape.

    Layers (Table 2 of the paper): ``conv1`` (3×3 convolution, stride 2, padding 1, BatchNorm,
    ReLU6), ``block1`` ... ``block17`` (bottlenecks: stages ``expand``, ``expand_bn``,
    ``expand_relu6`` — left out when t = 1 —, ``depthwise`` (3×3, padding 1), ``depthwise_bn``,
    ``depthwise_relu6``, ``project``, ``project_bn``; a :class:`~symconv.layers.Residual`
    with a last stage ``add`` when the stride is 1 and the channel counts match), ``conv_last``
    (1×1 convolution to 1280, BatchNorm, ReLU6), ``pool`` (global average pooling) and
    ``classifier`` (a 1×1 convolution to 1000 classes with a bias, on ``1×1×1280``).
    Convolutions other than the classifier have no bias.

    This is the paper's network, with the pooling as a layer — what a PyTorch model with an
    ``nn.AdaptiveAvgPool2d(1)`` module describes. torchvision's ``mobilenet_v2`` has the same
    convolutions, BatchNorms, channel counts (at every ``width_mult``) and parameters (its
    classifier is a ``Linear(1280, 1000)`` after dropout, the same products), so symconv's own
    counts (``macs``, ``params``, ...) agree; but it pools by calling ``F.adaptive_avg_pool2d``
    in ``forward``, which ptflops and thop count differently from the module (ptflops prints
    320,300,008 for it, against this network's 320,362,728: ``docs/conventions.md``). To count
    torchvision's model itself, trace it with :func:`symconv.from_torch` once that maps
    ``F.adaptive_avg_pool2d`` (today it refuses it); ``symconv net
    torchvision.models:mobilenet_v2`` is planned.

    Parameters
    ----------
    alpha
        Width multiplier: scales the channel count ``c`` of every layer; expansions are ``t``
        times the block's input count. Numbers are read exactly (a float as its decimal:
        ``0.35`` → 7/20); a SymPy expression such as :data:`symconv.symbols.alpha` gives
        formulas in ``alpha``.
    rho
        Resolution multiplier: the input is ``224·rho`` square, a whole number for numbers; a
        symbol gives sizes ``224·rho``, ``112·rho``, ..., ``7·rho``.
    resolution
        The input size in pixels, instead of ``rho``.
    rounding
        How ``alpha·c`` becomes a channel count. ``"exact"``: as the network rounds it — the
        multiple of 8 nearest to ``alpha·c``, never below 8 and never more than 10% below
        (:func:`make_divisible`), and ``make_divisible(1280·max(1, alpha))`` last channels
        (1280 for ``alpha ≤ 1``). For a symbol the formulas hold those ``floor``, ``ceiling``
        and ``Max`` terms and equal the network's counts at every ``alpha > 0`` — additions
        (and conventions that count them) at every ``alpha > 5/18``: below it some blocks
        whose ``c`` differ round to the same count, and the network adds a residual connection
        that a symbolic build cannot decide. ``"none"``: ``alpha·c`` unrounded and 1280 last
        channels — for a symbol the smooth polynomial, an approximation that equals the network
        only at ``alpha = 1`` (:func:`symconv.networks.zoo.approximation_errors` gives its errors
        at :data:`PAPER_ALPHAS`); for a number every ``alpha·c`` must be whole. ``None``
        (the default): ``"exact"`` for a number, ``"none"`` for a symbolic ``alpha``.

    Returns
    -------
    Sequential
        With ``input_shape=(224·rho, 224·rho, 3)`` and ``size_multiple=32``, so ``cost(net)``
        needs no shape. Numbers give exact integers (strides floor as PyTorch does); a symbolic
        ``rho`` gives polynomials in ``rho``, exact where ``224·rho`` is a multiple of 32.

    Raises
    ------
    SymconvError
        For a multiplier that is not positive, a ``rho`` that does not give whole pixels, an
        unknown ``rounding``, or, with ``rounding="none"``, a fractional ``alpha·c``.

    Examples
    --------
    >>> from symconv.networks.conventions import count
    >>> from symconv.symbols import alpha, rho
    >>> count(mobilenet_v2(alpha, rho), convention="macs")          # the smooth polynomial
    247869440*alpha**2*rho**2 + 51624832*alpha*rho**2 + 1280000
    >>> count(mobilenet_v2(1.4), convention="macs")    # TF-slim's table: 582 million
    582195824

    The exact formula in ``alpha`` gives the network's count at any ``alpha``; the polynomial
    does not:

    >>> exact = count(mobilenet_v2(alpha, rounding="exact"), convention="macs")
    >>> exact.subs(alpha, sympy.Rational(3, 4)), count(mobilenet_v2(0.75), convention="macs")
    (209069792, 209069792)
    >>> count(mobilenet_v2(alpha), convention="macs").subs(alpha, sympy.Rational(3, 4))
    179425184
    """
    width = multiplier(alpha, "alpha")
    mode = rounding_for(rounding, width)
    _, size = input_size(rho, resolution)
    channels = _width(width, FIRST_CHANNELS, "conv1", mode)
    layers: list[tuple[str, Layer]] = [
        ("conv1", unit(Conv2d(3, channels, 3, stride=2, padding=1), channels, ReLU6())),
    ]
    index = 0
    for expansion, out, repeats, first_stride in BOTTLENECKS:
        out_channels = _width(width, out, f"block{index + 1}", mode)
        for repeat in range(repeats):
            index += 1
            stride = first_stride if repeat == 0 else 1
            layers.append((f"block{index}", _bottleneck(channels, out_channels, stride, expansion)))
            channels = out_channels
    last = _last_width(width, mode)
    layers += [
        ("conv_last", unit(PointwiseConv2d(channels, last), last, ReLU6())),
        ("pool", GlobalAvgPool2d()),
        ("classifier", PointwiseConv2d(last, CLASSES, bias=True)),
    ]
    return Sequential(*layers, input_shape=(size, size, 3), size_multiple=TOTAL_STRIDE)
