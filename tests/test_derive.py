"""Derivation: identities SymPy must prove, and output sizes from the convolution-arithmetic literature.

Expected numbers come from the literature (Dumoulin & Visin, "A guide to convolution arithmetic
for deep learning", 2016) or from arithmetic written out in the comments, never from the code.
"""

from __future__ import annotations

import pytest
import sympy

from symconv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    Sequential,
    SymconvError,
    cost,
    ratio,
)
from symconv.derive import conv_output_size, transposed_output_size
from symconv.symbols import H, M, N, W, a, d, g, k, k_h, k_w, p, s

# (input i, kernel k, stride s, padding p, dilation d, output o): Dumoulin & Visin's figures.
CONV_ARITHMETIC = [
    (4, 3, 1, 0, 1, 2),   # fig 2.1: no padding, unit strides
    (5, 4, 1, 2, 1, 6),   # fig 2.2: arbitrary padding
    (5, 3, 1, 1, 1, 5),   # fig 2.3: half ("same") padding
    (5, 3, 1, 2, 1, 7),   # fig 2.4: full padding
    (5, 3, 2, 0, 1, 2),   # fig 2.6: no padding, strides
    (5, 3, 2, 1, 1, 3),   # fig 2.7: padding and strides
    (6, 3, 2, 1, 1, 3),   # fig 2.8: padding, strides, odd
    (7, 3, 1, 0, 2, 3),   # fig 5.1: dilated, k=3, d=2
    (224, 3, 2, 1, 1, 112),  # MobileNet's first layer
    (224, 7, 2, 3, 1, 112),  # ResNet's stem
]

# (input i, kernel k, stride s, padding p, output_padding a, output o) of transposed convolutions.
TRANSPOSED_ARITHMETIC = [
    (2, 3, 1, 0, 0, 4),   # fig 4.1: transpose of fig 2.1
    (5, 3, 1, 1, 0, 5),   # fig 4.3: half padding, transposed
    (2, 3, 2, 0, 0, 5),   # fig 4.5: transpose of 5 -> 2 with s=2
    (3, 3, 2, 1, 0, 5),   # fig 4.6: transpose of fig 2.7
    (3, 3, 2, 1, 1, 6),   # fig 4.7: transpose of fig 2.8 (odd), output padding 1
]


@pytest.mark.parametrize(("i", "k_", "s_", "p_", "d_", "o"), CONV_ARITHMETIC)
def test_output_size_matches_convolution_arithmetic(i: int, k_: int, s_: int, p_: int, d_: int, o: int) -> None:
    assert conv_output_size(i, k_, s_, p_, d_) == o
    layer = Conv2d(1, 1, k_, stride=s_, padding=p_, dilation=d_)
    assert cost(layer, (i, i, 1)).output_shape == (o, o, 1)


@pytest.mark.parametrize(("i", "k_", "s_", "p_", "a_", "o"), TRANSPOSED_ARITHMETIC)
def test_transposed_output_size(i: int, k_: int, s_: int, p_: int, a_: int, o: int) -> None:
    assert transposed_output_size(i, k_, s_, p_, 1, a_) == o
    layer = ConvTranspose2d(1, 1, k_, stride=s_, padding=p_, output_padding=a_)
    assert cost(layer, (i, i, 1)).output_shape == (o, o, 1)


def test_founding_example_numbers() -> None:
    # 64·3·3·3·5·5 = 43200 mults, 3·3·3·64 = 1728 params (DESIGN.md)
    standard = cost(Conv2d(3, 64, 3), (7, 7, 3))
    assert (standard.mults, standard.params, standard.output_shape) == (43200, 1728, (5, 5, 64))
    separable = cost(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    stages = dict(separable.stages)
    assert stages["depthwise"].mults == 3 * 3 * 3 * 5 * 5 == 675
    assert stages["pointwise"].mults == 64 * 1 * 1 * 3 * 5 * 5 == 4800
    assert separable.mults == 5475
    assert separable.params == 3 * 3 * 3 + 3 * 64 == 219
    assert ratio(separable.mults, standard.mults) == sympy.Rational(73, 576)


def test_adds_of_a_dot_product() -> None:
    # each of the 5·5·64 outputs sums 27 products: 26 additions; a bias adds one more
    assert cost(Conv2d(3, 64, 3), (7, 7, 3)).adds == 5 * 5 * 64 * 26
    assert cost(Conv2d(3, 64, 3, bias=True), (7, 7, 3)).adds == 5 * 5 * 64 * 27
    assert cost(Conv2d(3, 64, 3, bias=True), (7, 7, 3)).params == 1728 + 64


SYMBOLIC_SETTINGS = [
    {},
    {"stride": s},
    {"stride": s, "padding": p},
    {"stride": s, "padding": p, "dilation": d},
    {"stride": 2, "padding": 1},
    {"dilation": 3},
]


@pytest.mark.parametrize("setting", SYMBOLIC_SETTINGS)
def test_separable_over_standard_is_one_over_n_plus_one_over_k_squared(setting: dict) -> None:
    standard = cost(Conv2d(M, N, k, **setting), (H, W, M))
    separable = cost(DepthwiseSeparableConv2d(M, N, k, **setting), (H, W, M))
    assert ratio(separable.mults, standard.mults) == 1 / N + 1 / k**2
    assert ratio(separable.params, standard.params) == 1 / N + 1 / k**2


def test_rectangular_kernels_give_one_over_kh_kw() -> None:
    standard = cost(Conv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    separable = cost(DepthwiseSeparableConv2d(M, N, (k_h, k_w), s, p, d), (H, W, M))
    assert ratio(separable.mults, standard.mults) == 1 / N + 1 / (k_h * k_w)


def test_ratio_with_biases_is_the_exact_other_form() -> None:
    standard = cost(Conv2d(M, N, k, bias=True), (H, W, M))
    separable = cost(DepthwiseSeparableConv2d(M, N, k, bias=True), (H, W, M))
    params = ratio(separable.params, standard.params)
    # (k²M + M + MN + N) / (k²MN + N)
    expected = (k**2 * M + M + M * N + N) / (k**2 * M * N + N)
    assert sympy.simplify(params - expected) == 0
    assert params != 1 / N + 1 / k**2
    # biases add no multiplications
    assert ratio(separable.mults, standard.mults) == 1 / N + 1 / k**2


def _windows(size: int, kernel: int, stride: int, padding: int, dilation: int) -> list[int]:
    """The start of every window position along one axis, found by sliding: a window starting
    at ``i·stride`` reaches ``i·stride + dilation·(kernel − 1)``, which must stay inside the
    padded input (``size + 2·padding`` positions)."""
    starts = []
    while len(starts) * stride + dilation * (kernel - 1) <= size + 2 * padding - 1:
        starts.append(len(starts) * stride)
    return starts


def brute_force_conv(shape: tuple[int, int, int], out_channels: int, kernel: tuple[int, int],
                     stride: int, padding: int, dilation: int, groups: int,
                     bias: bool) -> tuple[tuple[int, int, int], int, int, int]:
    """``(output_shape, mults, adds, params)`` of a direct convolution, by enumerating every
    (output element, reduction element) pair with nested loops — no symconv code, only the
    definition: output channel ``n`` reads the input channels of group ``n // (N/g)``."""
    height, width, channels = shape
    rows = _windows(height, kernel[0], stride, padding, dilation)
    cols = _windows(width, kernel[1], stride, padding, dilation)
    per_group_in, per_group_out = channels // groups, out_channels // groups
    mults = adds = 0
    weights = set()
    for _ in rows:
        for _ in cols:
            for n in range(out_channels):
                group = n // per_group_out
                terms = 0
                for u in range(kernel[0]):
                    for v in range(kernel[1]):
                        for c in range(group * per_group_in, (group + 1) * per_group_in):
                            terms += 1  # one product input × weight, padding zeros included
                            weights.add((u, v, c - group * per_group_in, n))
                mults += terms
                adds += terms - 1 + (1 if bias else 0)
    params = len(weights) + (out_channels if bias else 0)
    return (len(rows), len(cols), out_channels), mults, adds, params


CONV_CASES = [
    # (input shape, out channels, kernel, stride, padding, dilation, groups, bias)
    ((7, 7, 3), 64, (3, 3), 1, 0, 1, 1, False),   # the founding example
    ((5, 6, 4), 6, (2, 3), 1, 0, 1, 2, False),    # rectangular kernel, two groups
    ((7, 5, 6), 6, (3, 3), 2, 1, 1, 3, True),     # strided, padded, grouped, bias
    ((9, 9, 4), 8, (3, 2), 3, 2, 2, 4, False),    # dilated, stride 3
    ((6, 6, 4), 4, (3, 3), 1, 1, 1, 4, False),    # depthwise
    ((6, 6, 5), 3, (1, 1), 1, 0, 1, 1, True),     # pointwise
    ((8, 4, 2), 2, (4, 1), 2, 0, 1, 2, False),
]


@pytest.mark.parametrize(("shape", "out", "kernel", "stride", "padding", "dilation", "groups", "bias"),
                         CONV_CASES)
def test_counts_match_a_brute_force_enumeration(
    shape: tuple[int, int, int], out: int, kernel: tuple[int, int], stride: int, padding: int,
    dilation: int, groups: int, bias: bool,
) -> None:
    expected_shape, mults, adds, params = brute_force_conv(shape, out, kernel, stride, padding,
                                                           dilation, groups, bias)
    layer = Conv2d(shape[-1], out, kernel, stride, padding, dilation, groups=groups, bias=bias)
    concrete = cost(layer, shape)
    assert (concrete.output_shape, concrete.mults, concrete.adds, concrete.params) == (
        expected_shape, mults, adds, params)
    # The general formula, with every hyperparameter a symbol, evaluated at the same numbers
    # (expression substitution, not a new derivation).
    general = cost(Conv2d(M, N, (k_h, k_w), s, p, d, groups=g, bias=bias), (H, W, M))
    values = {H: shape[0], W: shape[1], M: shape[2], N: out, k_h: kernel[0], k_w: kernel[1],
              s: stride, p: padding, d: dilation, g: groups}
    assert [size.subs(values) for size in general.output_shape] == list(expected_shape)
    assert (general.mults.subs(values), general.adds.subs(values), general.params.subs(values)) == (
        mults, adds, params)


@pytest.mark.parametrize(("shape", "out", "kernel", "stride", "padding", "dilation"), [
    ((7, 7, 3), 64, 3, 1, 0, 1),
    ((9, 8, 4), 6, 3, 2, 1, 1),
    ((7, 7, 2), 5, 3, 1, 2, 2),
])
def test_depthwise_pointwise_and_separable_match_brute_force(
    shape: tuple[int, int, int], out: int, kernel: int, stride: int, padding: int, dilation: int
) -> None:
    channels = shape[-1]
    depthwise_shape, dw_mults, dw_adds, dw_params = brute_force_conv(
        shape, channels, (kernel, kernel), stride, padding, dilation, channels, False)
    _, pw_mults, pw_adds, pw_params = brute_force_conv((*depthwise_shape[:2], channels), out,
                                                       (1, 1), 1, 0, 1, 1, False)
    depthwise = cost(DepthwiseConv2d(channels, kernel, stride, padding, dilation), shape)
    assert (depthwise.output_shape, depthwise.mults, depthwise.adds, depthwise.params) == (
        depthwise_shape, dw_mults, dw_adds, dw_params)
    pointwise = cost(PointwiseConv2d(channels, out), (*depthwise_shape[:2], channels))
    assert (pointwise.mults, pointwise.adds, pointwise.params) == (pw_mults, pw_adds, pw_params)
    separable = cost(DepthwiseSeparableConv2d(channels, out, kernel, stride, padding, dilation),
                     shape)
    assert [(name, stage.mults) for name, stage in separable.stages] == [
        ("depthwise", dw_mults), ("pointwise", pw_mults)]
    assert (separable.mults, separable.adds, separable.params) == (
        dw_mults + pw_mults, dw_adds + pw_adds, dw_params + pw_params)


def brute_force_transposed(shape: tuple[int, int, int], out_channels: int, kernel: int,
                           stride: int, padding: int, output_padding: int,
                           groups: int) -> tuple[tuple[int, int], int]:
    """``((H_o, W_o), mults)`` of a transposed convolution in scatter form: every input element
    times every weight of its group lands at ``i·stride + a − padding``; the output spans the
    positions hit before cropping, plus the output padding, less the padding on both sides."""
    height, width, channels = shape
    per_group_in, per_group_out = channels // groups, out_channels // groups
    mults = 0
    furthest = [0, 0]
    for i in range(height):
        for j in range(width):
            for c in range(channels):
                group = c // per_group_in
                for u in range(kernel):
                    for v in range(kernel):
                        for _ in range(group * per_group_out, (group + 1) * per_group_out):
                            mults += 1
                            furthest = [max(furthest[0], i * stride + u),
                                        max(furthest[1], j * stride + v)]
    sizes = tuple(reach + 1 + output_padding - 2 * padding for reach in furthest)
    return (sizes[0], sizes[1]), mults


@pytest.mark.parametrize(("shape", "out", "kernel", "stride", "padding", "extra", "groups"), [
    ((5, 5, 4), 8, 3, 2, 1, 0, 1),
    ((3, 4, 4), 6, 3, 2, 1, 1, 2),
    ((2, 2, 3), 3, 4, 3, 0, 2, 3),
])
def test_transposed_matches_brute_force(shape: tuple[int, int, int], out: int, kernel: int,
                                        stride: int, padding: int, extra: int,
                                        groups: int) -> None:
    sizes, mults = brute_force_transposed(shape, out, kernel, stride, padding, extra, groups)
    result = cost(ConvTranspose2d(shape[-1], out, kernel, stride, padding, extra, groups=groups),
                  shape)
    assert result.output_shape == (*sizes, out)
    assert result.mults == mults
    assert result.adds == mults  # scatter form: each product added once, no bias


def test_transposed_twin_has_the_same_products() -> None:
    # A stride-s conv maps H to H_o; its transposed twin maps H_o back to H (with output padding
    # making up the floor). Both multiply every (input, weight) pair once: same products.
    forward = cost(Conv2d(8, 4, 3, stride=2, padding=1), (9, 9, 8))
    assert forward.output_shape == (5, 5, 4)
    twin = cost(ConvTranspose2d(4, 8, 3, stride=2, padding=1), (5, 5, 4))
    assert twin.output_shape == (9, 9, 8)
    # forward: 5·5·4 outputs × 3·3·8; scatter: 5·5·4 inputs × 3·3·8 weights
    assert forward.mults == twin.mults == 5 * 5 * 4 * 3 * 3 * 8
    assert forward.params == twin.params == 3 * 3 * 8 * 4


def test_transposed_scatter_adds() -> None:
    # every product added once into a zero-initialised output, plus one per output for a bias
    layer = ConvTranspose2d(M, N, k, s, p, a, d, groups=g, bias=True)
    c = cost(layer, (H, W, M))
    assert sympy.simplify(c.mults - H * W * M * (N / g) * k**2) == 0
    h_o = (H - 1) * s - 2 * p + d * (k - 1) + a + 1
    w_o = (W - 1) * s - 2 * p + d * (k - 1) + a + 1
    assert sympy.simplify(c.adds - c.mults - h_o * w_o * N) == 0


@pytest.mark.parametrize(
    ("layer", "shape", "mults"),
    [
        (Conv1d(2, 3, 3), (10, 2), 8 * 3 * 3 * 2),                 # 8 outputs × 3 ch × (3·2)
        (Conv3d(2, 4, 3), (5, 6, 7, 2), 3 * 4 * 5 * 4 * 27 * 2),   # 3·4·5 positions × 4 × 3³·2
        (ConvTranspose1d(2, 3, 3, stride=2), (4, 2), 4 * 2 * 3 * 3),
        (ConvTranspose3d(2, 2, 2), (2, 2, 2, 2), 8 * 2 * 8 * 2),
        (Conv2d(6, 4, 3, groups=2), (5, 5, 6), 3 * 3 * 4 * 9 * 3),  # M/g = 3
    ],
)
def test_other_ranks_and_groups(layer: object, shape: tuple, mults: int) -> None:
    assert cost(layer, shape).mults == mults  # type: ignore[arg-type]


def test_huge_shapes_stay_exact() -> None:
    result = cost(Conv2d(4096, 4096, 3, padding=1), (10**5, 10**5, 4096))
    exact = 10**5 * 10**5 * 4096 * 9 * 4096
    assert result.mults == exact
    assert isinstance(result.mults, sympy.Integer)
    assert int(result.mults) == exact


def test_subs_by_name_and_mapping() -> None:
    c = cost(Conv2d(M, N, k), (H, W, M))
    assert c.subs(H=7, W=7, M=3, N=64, k=3).mults == 43200
    with pytest.raises(SymconvError, match="no symbol 'Q'"):
        c.subs(Q=1)
    with pytest.raises(SymconvError, match="must be"):
        c.subs(H="7")
    with pytest.raises(SymconvError, match="exact"):
        c.subs(H=7.0)


def test_symbolic_stride_keeps_floor() -> None:
    c = cost(Conv2d(M, N, k, stride=s), (H, W, M))
    assert c.output_shape[0] == sympy.floor((H - k) / s) + 1
    assert c.subs(H=224, W=224, M=3, N=32, k=3, s=2).output_shape == (111, 111, 32)


def test_repr_latex_is_math() -> None:
    text = cost(Conv2d(M, N, k), (H, W, M))._repr_latex_()
    assert text.startswith("$") and text.endswith("$")
    assert "k^{2}" in text


CHAINS = [  # (kernel, padding, dilation) of every layer of a chain with a symbolic stride
    (3, 1, 1),  # the floors collapse exactly: floor((H - 1)/s**n) + 1
    (2, 0, 1),  # reach = floor(y) - 1 at every layer
    (3, 0, 2),  # dilated
    (1, 0, 1),  # 1×1: reach = floor(y)
    (5, 1, 1),  # shrinks
]


@pytest.mark.parametrize(("kernel", "padding", "dilation"), CHAINS)
def test_a_chain_with_a_symbolic_stride_gives_each_layers_output_size(
    kernel: int, padding: int, dilation: int
) -> None:
    # The symbolic output size after four layers, at numbers, against the size worked out one
    # layer at a time with Python's integer division (H_o = (H + 2p - d(k - 1) - 1) // s + 1).
    chain = [Conv2d(2, 2, kernel, stride=s, padding=padding, dilation=dilation)] * 4
    symbolic = cost(Sequential(*chain), (H, W, 2)).output_shape
    for height, width, step in ((97, 64, 2), (500, 400, 3), (1000, 700, 4), (40, 39, 1)):
        sizes = [height, width]
        for _ in chain:
            sizes = [(size + 2 * padding - dilation * (kernel - 1) - 1) // step + 1
                     for size in sizes]
            assert min(sizes) >= 1
        assert [int(size.subs({H: height, W: width, s: step})) for size in symbolic[:2]] == sizes
