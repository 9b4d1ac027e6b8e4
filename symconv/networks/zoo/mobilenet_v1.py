"""MobileNet V1 (Howard et al. 2017, arXiv 1704.04861, Table 1), with its two multipliers.

Examples
--------
>>> from symconv import cost
>>> from symconv.networks.conventions import count
>>> net = mobilenet_v1()
>>> net.input_shape, cost(net).output_shape
((224, 224, 3), (1, 1, 1000))
>>> count(net, convention="macs"), count(net, convention="params")    # paper: 569M, 4.2M
(568740352, 4231976)
"""

from __future__ import annotations

import sympy

from symconv.errors import SymconvError
from symconv.layers import BatchNorm2d, Conv2d, DepthwiseConv2d, GlobalAvgPool2d, Layer, Linear, PointwiseConv2d, ReLU, Sequential
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

__all__ = ["mobilenet_v1", "BLOCKS", "CLASSES", "PAPER_ALPHAS"]

#: ``(stride, out_channels)`` of the 13 depthwise separable blocks of Table 1, in order; each
#: takes the previous block's channels (the first takes the 32 of the first convolution).
BLOCKS: tuple[tuple[int, int], ...] = (
    (1, 64), (2, 128), (1, 128), (2, 256), (1, 256), (2, 512),
    (1, 512), (1, 512), (1, 512), (1, 512), (1, 512),
    (2, 1024), (1, 1024),
)
#: Classes of the ImageNet classifier; never scaled.
CLASSES = 1000
#: The width multipliers of the paper's Table 6.
PAPER_ALPHAS: tuple[sympy.Expr, ...] = (
    sympy.Integer(1), sympy.Rational(3, 4), sympy.Rational(1, 2), sympy.Rational(1, 4),
)


def _width(alpha: sympy.Expr, channels: int, layer: str, rounding: str) -> Size:
    """``floor(alpha·c)`` (``"exact"``, for numbers and symbols alike) or ``alpha·c`` (``"none"``)."""
    if rounding == "none":
        return whole_width(alpha, channels, layer)
    scaled = sympy.floor(alpha * channels)
    if is_symbolic(scaled):
        return scaled
    if scaled < 1:
        raise SymconvError(
            f"alpha={alpha} leaves {layer} with floor({alpha}·{channels}) = 0 channels; "
            f"use alpha of at least 1/{channels}"
        )
    return int(scaled)


def mobilenet_v1(
    alpha: object = 1, rho: object = 1, *, resolution: object = None, rounding: str | None = None,
) -> Sequential:
    """MobileNet V1 as a :class:`~symconv.layers.Sequential` carrying its input shape.

    Layers (Table 1 of the paper): ``conv1`` (3×3 convolution, stride 2, padding 1, then BatchNorm
    and ReLU), ``block1`` ... ``block13`` (a 3×3 depthwise convolution with padding 1, BatchNorm,
    ReLU, a pointwise convolution, BatchNorm, ReLU: stages ``depthwise``, ``depthwise_bn``,
    ``depthwise_relu``, ``pointwise``, ``pointwise_bn``, ``pointwise_relu``), ``pool`` (global
    average pooling: the paper's 7×7 average pool at 224, and what implementations do at other
    resolutions) and ``fc`` (1024 → 1000, with a bias, on the ``1×1×1024`` pooled tensor).
    Convolutions have no bias. The last depthwise convolution has stride 1 (the paper prints
    "s2"; its shapes show s1).

    Parameters
    ----------
    alpha
        Width multiplier: scales every channel count ``c`` (the 3 image channels and the 1000
        classes are not scaled). A number (int, Fraction, float read as its decimal, SymPy
        rational) or a SymPy expression such as :data:`symconv.symbols.alpha`.
    rho
        Resolution multiplier: the input is ``224·rho`` square, which must be a whole number for
        a numeric ``rho`` (6/7, 5/7, 4/7 give 192, 160, 128). A symbol such as
        :data:`symconv.symbols.rho` gives sizes ``224·rho``, ``112·rho``, ..., ``7·rho``.
    resolution
        The input size in pixels, instead of ``rho``.
    rounding
        How ``alpha·c`` becomes a channel count. ``"exact"``: ``floor(alpha·c)``, Keras'
        ``int(filters * alpha)`` (the paper has no rounding; TF-slim also clamps at 8, which only
        matters for ``alpha·c < 8``) — for a symbol the formulas hold ``floor(32*alpha)``, ...,
        and equal the network's counts at every ``alpha ≥ 1/32``. ``"none"``: ``alpha·c``
        unrounded — for a symbol the smooth polynomial of the paper, ``D_K·D_K·αM·ρD_F·ρD_F +
        αM·αN·ρD_F·ρD_F`` summed over the network, which equals the network's counts exactly
        where ``32·alpha`` is whole (every ``c`` is a multiple of 32), the paper's 1, 0.75, 0.5
        and 0.25 included; for a number ``alpha·c`` must be whole. ``None`` (the default):
        ``"exact"`` for a number, ``"none"`` for a symbolic ``alpha``.

    Returns
    -------
    Sequential
        With ``input_shape=(224·rho, 224·rho, 3)`` and ``size_multiple=32``, so ``cost(net)``
        needs no shape. With numbers every count is an exact integer (strides floor as
        PyTorch does). With a symbolic ``rho`` the formulas are polynomials in ``rho``, exact
        where ``224·rho`` is a multiple of 32.

    Raises
    ------
    SymconvError
        For a multiplier that is not positive, a width that leaves a layer without channels (or,
        with ``rounding="none"``, a fractional ``alpha·c``), a ``rho`` that does not give a whole
        number of pixels, or an unknown ``rounding``.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.networks.conventions import count
    >>> from symconv.symbols import alpha, rho
    >>> count(mobilenet_v1(alpha, rho), convention="macs")
    539492352*alpha**2*rho**2 + 28224000*alpha*rho**2 + 1024000*alpha
    >>> count(mobilenet_v1(0.75), convention="macs")              # paper: 325 million
    325400448
    >>> count(mobilenet_v1(resolution=128), convention="macs")    # paper: 186 million
    186400768
    >>> cost(mobilenet_v1(rho=rho)).stages[-3][1].output_shape    # the last block
    (7*rho, 7*rho, 1024)

    The formula exact at every ``alpha``, and the polynomial, which is not even a whole number
    where ``32·alpha`` is not whole (0.3: 9.6 channels, which the network floors to 9):

    >>> exact = count(mobilenet_v1(alpha, rounding="exact"), convention="macs")
    >>> exact.subs(alpha, sympy.Rational(3, 10)), count(mobilenet_v1(0.3), convention="macs")
    (56340656, 56340656)
    >>> count(mobilenet_v1(alpha), convention="macs").subs(alpha, sympy.Rational(3, 10))
    1433217792/25
    """
    width = multiplier(alpha, "alpha")
    mode = rounding_for(rounding, width)
    _, size = input_size(rho, resolution)
    channels = _width(width, 32, "conv1", mode)
    layers: list[tuple[str, Layer]] = [
        ("conv1", unit(Conv2d(3, channels, 3, stride=2, padding=1), channels, ReLU())),
    ]
    for index, (stride, out) in enumerate(BLOCKS, start=1):
        name = f"block{index}"
        out_channels = _width(width, out, name, mode)
        layers.append((name, Sequential(
            ("depthwise", DepthwiseConv2d(channels, 3, stride=stride, padding=1)),
            ("depthwise_bn", BatchNorm2d(channels)),
            ("depthwise_relu", ReLU()),
            ("pointwise", PointwiseConv2d(channels, out_channels)),
            ("pointwise_bn", BatchNorm2d(out_channels)),
            ("pointwise_relu", ReLU()),
        )))
        channels = out_channels
    layers += [("pool", GlobalAvgPool2d()), ("fc", Linear(channels, CLASSES))]
    return Sequential(*layers, input_shape=(size, size, 3), size_multiple=TOTAL_STRIDE)
