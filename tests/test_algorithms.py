"""im2col, Winograd and FFT: derived stage by stage, proved by counting executions.

Expected numbers come from the papers (Lavin & Gray 2016: F(2×2, 3×3) needs 2.25× fewer
multiplications, F(4×4, 3×3) 4×) or are worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import Conv1d, Conv2d, Conv3d, ConvTranspose2d, DepthwiseSeparableConv2d, SymconvError
from symconv.derive.algorithms import algorithm_cost, elementwise_ratio
from symconv.derive.algorithms import common as derive_common
from symconv.derive.algorithms.fft import fft_ops
from symconv.derive.algorithms.winograd import m, r
from symconv.execute.algorithms import run_algorithm
from symconv.layers.winograd_points import cook_toom
from symconv.strategies import conv_cases
from symconv.symbols import H, M, N, W
from symconv.verify_algorithm import verify_algorithm

FOUNDING = Conv2d(3, 64, 3)
FOUNDING_SHAPE = (7, 7, 3)

# (tile, saving of the elementwise stage over direct products): Lavin & Gray, Table/§4.
PAPER_SAVINGS = [(2, sympy.Rational(9, 4)), (4, sympy.Integer(4))]


@pytest.mark.parametrize(("tile", "saving"), PAPER_SAVINGS)
def test_elementwise_saving_is_the_papers(tile: int, saving: sympy.Expr) -> None:
    assert elementwise_ratio().subs({m: tile, r: 3}) == 1 / saving
    T = sympy.Symbol("T", positive=True, integer=True)
    size = tile * T + 2                         # whole tiles of a 3×3 kernel
    winograd = algorithm_cost(Conv2d(M, N, 3), (size, size, M), "winograd", tile=tile)
    direct_products = M * N * 9 * (tile * T) ** 2
    assert sympy.simplify(winograd.stage("elementwise").mults / direct_products) == 1 / saving


def test_elementwise_ratio_is_the_formula_of_the_issue() -> None:
    assert sympy.simplify(elementwise_ratio() - (m + r - 1) ** 2 / (m**2 * r**2)) == 0


@pytest.mark.parametrize(("tile", "taps", "points"), [
    (2, 3, None), (4, 3, None), (3, 2, None), (1, 4, None), (5, 1, None), (2, 2, (0, 1)),
    (2, 3, (0, sympy.Rational(1, 2), -3)),
])
def test_cook_toom_matrices_compute_the_correlation_exactly(tile: int, taps: int,
                                                             points: object) -> None:
    AT, G, BT = cook_toom(tile, taps, points)
    g = sympy.Matrix(sympy.symbols(f"g0:{taps}"))
    d = sympy.Matrix(sympy.symbols(f"d0:{tile + taps - 1}"))
    fast = AT * (G * g).multiply_elementwise(BT * d)
    direct = sympy.Matrix([sum(g[k] * d[i + k] for k in range(taps)) for i in range(tile)])
    assert sympy.expand(fast - direct) == sympy.zeros(tile, 1)


def test_founding_layer_f23_counts_by_hand() -> None:
    c = algorithm_cost(FOUNDING, FOUNDING_SHAPE, "winograd", tile=2)
    stages = {name: (stage.mults, stage.adds) for name, stage in c.stages}
    # 5×5 outputs: ceil(5/2)² = 9 tiles of 4×4; 3·64 channel pairs.
    assert stages["elementwise"] == (9 * 16 * 3 * 64, 0)
    assert stages["channel_reduction"] == (0, 9 * 16 * 64 * 2)
    # Bᵀ from 0, 1, −1, ∞ has rows of 2 nonzero ±1 entries: 4 additions per 4-vector; Bᵀ d B
    # transforms 4 columns then 4 rows: 32 additions per tile and input channel.
    assert stages["input_transform"] == (0, 9 * 3 * 32)
    # Aᵀ = [[1, 1, 1, 0], [0, 1, −1, 1]]: 4 additions; 4 columns then 2 rows: 24 per tile.
    assert stages["output_transform"] == (0, 9 * 64 * 24)
    # G has six entries ±1/2 (rows 2 and 3): 6 mults, 2 + 2 adds; 3 columns then 4 rows.
    assert stages["weight_transform"] == (192 * (3 * 6 + 4 * 6), 192 * (3 * 4 + 4 * 4))
    assert c.params == 1728


def test_precomputed_weights_leave_the_weight_transform_out() -> None:
    counted = algorithm_cost(FOUNDING, FOUNDING_SHAPE, "winograd", tile=2)
    free = algorithm_cost(FOUNDING, FOUNDING_SHAPE, "winograd", tile=2, precompute_weights=True)
    assert "weight_transform" not in [name for name, _ in free.stages]
    assert counted.mults - free.mults == counted.stage("weight_transform").mults
    assert verify_algorithm(FOUNDING, FOUNDING_SHAPE, "winograd", tile=2,
                            precompute_weights=True).ok


def test_im2col_has_the_direct_products_and_its_buffer() -> None:
    c = algorithm_cost(Conv2d(M, N, 3), (H, W, M), "im2col")
    assert sympy.expand(c.mults - M * N * 9 * (H - 2) * (W - 2)) == 0
    assert sympy.expand(c.workspace - 9 * M * (H - 2) * (W - 2)) == 0
    assert algorithm_cost(FOUNDING, FOUNDING_SHAPE, "im2col").workspace == 25 * 27


def test_fft_counts_by_hand() -> None:
    # 8 points: stages of span 2, 4, 8 have 4·0, 2·1, 1·3 nontrivial twiddles; 3·8 adds.
    assert fft_ops(8) == (5, 24)
    c = algorithm_cost(FOUNDING, FOUNDING_SHAPE, "fft")
    # 7×7 padded to 8×8; one 2-D FFT: 16 FFTs of 8 → 80 complex mults, 384 complex adds,
    # in real operations (4m2a): 320 mults, 2·80 + 2·384 = 928 adds; 3 input channels.
    assert (c.stage("input_transform").mults, c.stage("input_transform").adds) == (960, 2784)
    three = algorithm_cost(FOUNDING, FOUNDING_SHAPE, "fft", complex_mult="3m5a")
    assert three.stage("elementwise").mults == 64 * 3 * 64 * 3


def test_symbolic_costs_substitute_to_the_concrete_ones() -> None:
    for algorithm, options in [("winograd", {"tile": 3}), ("fft", {}), ("im2col", {})]:
        layer = Conv2d(M, N, 3, padding=1, bias=True)
        symbolic = algorithm_cost(layer, (H, W, M), algorithm, **options)
        concrete = algorithm_cost(Conv2d(4, 6, 3, padding=1, bias=True), (11, 9, 4), algorithm,
                                  **options)
        values = symbolic.subs({H: 11, W: 9, M: 4, N: 6})
        assert (values.mults, values.adds, values.workspace) == (
            concrete.mults, concrete.adds, concrete.workspace)


@pytest.mark.parametrize(("layer", "algorithm", "options", "words"), [
    (Conv2d(3, 8, 3, stride=2), "winograd", {}, "stride"),
    (Conv2d(3, 8, 3, dilation=2), "winograd", {}, "dilation"),
    (Conv2d(3, 8, 3, stride=2), "fft", {}, "stride"),
    (ConvTranspose2d(3, 8, 3), "im2col", {}, "ConvTranspose2d"),
    (DepthwiseSeparableConv2d(3, 8, 3), "winograd", {}, "DepthwiseSeparableConv2d"),
    (Conv2d(3, 8, 3), "winograd", {"tile": 0}, "tile=0"),
    (Conv2d(3, 8, 3), "winograd", {"tiles": 2}, "tiles="),
    (Conv2d(3, 8, 3), "winograd", {"points": (0, 1)}, "points="),
    (Conv2d(3, 8, 3), "fft", {"complex_mult": "2m"}, "complex_mult='2m'"),
    (Conv2d(3, 8, 3), "strassen", {}, "algorithm='strassen'"),
    (Conv2d(3, 8, 3), "winograd", {"tile": 20}, "interpolation points"),
])
def test_an_algorithm_that_does_not_apply_is_refused_by_name(
        layer: object, algorithm: str, options: dict[str, object], words: str) -> None:
    with pytest.raises(SymconvError, match=r"(?s).*" + words.replace("(", r"\(")):
        algorithm_cost(layer, (9, 9, 3), algorithm, **options)  # type: ignore[arg-type]
    with pytest.raises(SymconvError):
        run_algorithm(layer, np.zeros((9, 9, 3)), {}, algorithm, **options)  # type: ignore[arg-type]


def test_a_wrong_counting_rule_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """If the derivation counted a ±1 entry as a multiplication, verification would fail."""
    def counts_every_entry(matrix: sympy.Matrix) -> tuple[int, int]:
        mults, adds = original(matrix)
        return mults + sum(1 for entry in matrix if abs(entry) == 1), adds

    original = derive_common.matrix_ops
    monkeypatch.setattr(derive_common, "matrix_ops", counts_every_entry)
    check = verify_algorithm(FOUNDING, FOUNDING_SHAPE, "winograd", tile=2)
    assert not check.ok and not check.stages[0].match and check.output_ok


def test_one_dimensional_and_three_dimensional_layers() -> None:
    assert verify_algorithm(Conv1d(2, 3, 3, groups=1), (10, 2), "winograd", tile=4).ok
    assert verify_algorithm(Conv3d(2, 2, 2, padding=1), (3, 4, 2, 2), "fft").ok


@settings(max_examples=15)
@given(conv_cases(kinds=("standard", "grouped", "depthwise", "pointwise"), dims=(1, 2),
                  max_size=7, max_channels=4, max_kernel=3, max_stride=2, max_dilation=2))
def test_im2col_matches_on_fuzzed_convolutions(case: tuple[object, tuple[int, ...]]) -> None:
    layer, shape = case
    assert verify_algorithm(layer, shape, "im2col").ok  # type: ignore[arg-type]


@st.composite
def winograd_cases(draw: st.DrawFn) -> tuple[Conv2d, tuple[int, ...], dict[str, object]]:
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    groups = draw(st.sampled_from((1, 2)))
    channels, out_channels = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    padding = draw(st.integers(0, 1))
    size = tuple(k + draw(st.integers(0, 5)) for k in kernel)
    layer = Conv2d(channels, out_channels, kernel, padding=padding, groups=groups,
                   bias=draw(st.booleans()))
    options: dict[str, object] = {"tile": (draw(st.integers(1, 4)), draw(st.integers(1, 4))),
                                  "precompute_weights": draw(st.booleans())}
    return layer, (*size, channels), options


@settings(max_examples=15)
@given(winograd_cases())
def test_winograd_matches_on_fuzzed_shapes_and_tiles(
        case: tuple[Conv2d, tuple[int, ...], dict[str, object]]) -> None:
    layer, shape, options = case
    check = verify_algorithm(layer, shape, "winograd", **options)
    assert check.ok, check.to_dict()


@settings(max_examples=10)
@given(winograd_cases(), st.sampled_from(("4m2a", "3m5a")))
def test_fft_matches_on_fuzzed_shapes(case: tuple[Conv2d, tuple[int, ...], dict[str, object]],
                                      rule: str) -> None:
    layer, shape, options = case
    check = verify_algorithm(layer, shape, "fft", complex_mult=rule,
                             precompute_weights=options["precompute_weights"])
    assert check.ok, check.to_dict()
