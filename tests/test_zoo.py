"""The MobileNets against the numbers their papers (and reference implementations) publish.

Expected values are the published ones, never copied from symconv's output: MobileNet V1 paper
(Howard et al. 2017) Tables 6 and 7; MobileNet V2 paper (Sandler et al. 2018) Table 4; the
TF-slim checkpoint tables by the same authors (``research/slim/nets/mobilenet_v1.md`` and
``nets/mobilenet/README.md``); torchvision's ``mobilenet_v2`` metadata.
"""

from __future__ import annotations

import fractions
import functools
import itertools
import math

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import Cost, SymconvError, cost, count
from symconv.networks.conventions import breakdown
from symconv.networks.rows import rows
from symconv.networks.zoo import NETWORKS, approximation_errors, mobilenet_v1, mobilenet_v2, network
from symconv.networks.zoo.mobilenet_v2 import make_divisible
from symconv.symbols import alpha, rho

F = fractions.Fraction


def millions(value: sympy.Expr) -> int:
    """Rounded to the nearest million, in integers."""
    return (int(value) + 500_000) // 1_000_000


def tenths_of_millions(value: sympy.Expr) -> int:
    return (int(value) + 50_000) // 100_000


# (alpha, resolution, paper's million mult-adds, paper's million parameters × 10)
V1_PAPER = [
    (1, 224, 569, 42),       # Table 6 and 7: 1.0 MobileNet-224
    (F(3, 4), 224, 325, 26),  # Table 6
    (F(1, 2), 224, 149, 13),
    (F(1, 4), 224, 41, 5),
    (1, 192, 418, 42),       # Table 7
    (1, 128, 186, 42),
]


@pytest.mark.parametrize(("width", "resolution", "macs", "params"), V1_PAPER)
def test_mobilenet_v1_matches_the_paper(width: F, resolution: int, macs: int, params: int) -> None:
    net = mobilenet_v1(width, resolution=resolution)
    assert millions(count(net, convention="macs")) == macs
    assert tenths_of_millions(count(net, convention="params")) == params


def test_mobilenet_v1_at_160() -> None:
    # Table 7 prints 290 million for 1.0 MobileNet-160; TF-slim's table prints 291. The exact
    # count is between the two: 290.68 million.
    macs = count(mobilenet_v1(resolution=160), convention="macs")
    assert int(macs) // 1_000_000 == 290 and millions(macs) == 291


def test_mobilenet_v1_shapes_follow_table_1() -> None:
    table = {row.name: row for row in rows(mobilenet_v1())}
    assert table["conv1.conv"].output_shape == (112, 112, 32)
    assert table["block1.depthwise"].input_shape == (112, 112, 32)
    assert table["block2.pointwise"].input_shape == (56, 56, 64)
    assert table["block6.pointwise"].input_shape == (14, 14, 256)
    assert table["block12.pointwise"].input_shape == (7, 7, 512)
    assert table["block13.depthwise"].output_shape == (7, 7, 1024)
    assert table["fc"].input_shape == (1, 1, 1024) and table["fc"].output_shape == (1, 1, 1000)
    assert sum(1 for row in table.values() if row.kind == "depthwise") == 13


def test_mobilenet_v1_symbolic_law() -> None:
    macs = count(mobilenet_v1(alpha, rho), convention="macs")
    assert sympy.Poly(macs, alpha, rho).degree(alpha) == 2
    # The first convolution: 3·3·3·32α products at (112ρ)² positions.
    first = rows(mobilenet_v1(alpha, rho))[0]
    assert first.mults == 3 * 3 * 3 * 32 * alpha * (112 * rho) ** 2
    # Separable layers: the paper's D_K·D_K·αM·ρD_F·ρD_F + αM·αN·ρD_F·ρD_F, D_F the output size.
    table = {row.name: row for row in rows(mobilenet_v1(alpha, rho))}
    d_f = 56 * rho
    assert (table["block2.depthwise"].mults + table["block2.pointwise"].mults
            == 3 * 3 * 64 * alpha * d_f * d_f + 64 * alpha * 128 * alpha * d_f * d_f)


# Table 1 of the V1 paper, written out: (M, N, D_F) of each separable layer, D_F its output size.
V1_TABLE_1 = [
    (32, 64, 112), (64, 128, 56), (128, 128, 56), (128, 256, 28), (256, 256, 28), (256, 512, 14),
    *[(512, 512, 14)] * 5, (512, 1024, 7), (1024, 1024, 7),
]


def test_mobilenet_v1_is_the_papers_law_summed() -> None:
    # First conv 3×3×3×32 at 112×112, the paper's D_K·D_K·αM·ρD_F·ρD_F + αM·αN·ρD_F·ρD_F per
    # separable layer, and the 1024 × 1000 fully connected layer.
    law = 3 * 3 * 3 * 32 * alpha * (112 * rho) ** 2 + 1024 * alpha * 1000
    for m, n, d_f in V1_TABLE_1:
        law += (3 * 3 * alpha * m + alpha * m * alpha * n) * (rho * d_f) ** 2
    assert sympy.expand(count(mobilenet_v1(alpha, rho), convention="macs") - law) == 0


# (alpha, resolution) pairs where every size divides evenly: 224ρ a multiple of 32.
V1_GRID = [(a, r) for a in (1, F(3, 4), F(1, 2), F(1, 4)) for r in (224, 192, 160, 128)]


def test_mobilenet_v1_symbolic_equals_numeric_where_sizes_divide() -> None:
    symbolic = cost(mobilenet_v1(alpha, rho))
    for width, resolution in V1_GRID:
        numeric = cost(mobilenet_v1(width, resolution=resolution))
        at = {alpha: sympy.Rational(width), rho: sympy.Rational(resolution, 224)}
        for kind in ("mults", "adds", "divs", "comparisons", "params"):
            assert getattr(symbolic, kind).xreplace(at) == getattr(numeric, kind), (width, resolution, kind)


# (alpha, resolution, TF-slim's million MACs): nets/mobilenet/README.md. That table cuts after
# the digits shown (1.0-224: 300.77 → 300; 0.5-96: 18.89 → 18).
V2_SLIM = [
    (F(7, 5), 224, 582), (F(3, 4), 224, 209), (F(1, 2), 224, 97), (F(7, 20), 224, 59),
    (1, 192, 221), (1, 160, 154), (1, 128, 99), (1, 96, 56),
    (1, 224, 300), (F(3, 4), 128, 69), (F(1, 2), 96, 18), (F(7, 20), 96, 11),
]


def test_mobilenet_v2_matches_the_paper() -> None:
    net = mobilenet_v2()
    macs = count(net, convention="macs")
    params = count(net, convention="params")
    # Table 4: 300M MAdds and 3.4M parameters, both cut after the digits shown: the exact counts
    # are 300.77M and 3.47M weights (TF-slim's table: 300 and 3.47).
    assert int(macs) // 1_000_000 == 300
    weights = params - breakdown(net, convention="params")["batchnorm"]
    assert int(weights) // 100_000 == 34 and (int(weights) + 5_000) // 10_000 == 347
    # torchvision's mobilenet_v2 (BatchNorm γ and β included, Linear classifier with a bias).
    assert params == 3504872


@pytest.mark.parametrize(("width", "resolution", "macs"), V2_SLIM)
def test_mobilenet_v2_matches_tf_slim(width: F, resolution: int, macs: int) -> None:
    assert int(count(mobilenet_v2(width, resolution=resolution), convention="macs")) // 1_000_000 == macs


def test_mobilenet_v2_blocks_follow_table_2() -> None:
    result = cost(mobilenet_v2())
    stages = dict(result.stages)
    assert len([name for name in stages if name.startswith("block")]) == 17
    residual = [name for name, stage in result.stages if stage.kind == "residual"]
    assert residual == ["block3", "block5", "block6", "block8", "block9", "block10", "block12",
                        "block13", "block15", "block16"]
    assert stages["block1"].stages[0][0] == "depthwise"  # t = 1: no expansion
    assert stages["block2"].output_shape == (56, 56, 24)
    assert stages["block4"].output_shape == (28, 28, 32)
    assert stages["block7"].output_shape == (14, 14, 64)
    assert stages["block11"].output_shape == (14, 14, 96)
    assert stages["block14"].output_shape == (7, 7, 160)
    assert stages["block17"].output_shape == (7, 7, 320)
    assert stages["conv_last"].output_shape == (7, 7, 1280)
    # The expansion of block 2: 16 → 6·16 = 96 channels.
    assert dict(stages["block2"].stages)["expand"].output_shape == (112, 112, 96)


def test_mobilenet_v2_width_rounding() -> None:
    # Nearest multiple of 8, never below 8, never more than 10% below α·c.
    assert make_divisible(sympy.Rational(56, 5)) == 16      # 0.35·32 = 11.2: 8 is > 10% below
    assert make_divisible(sympy.Integer(12)) == 16           # 0.5·24 = 12: halfway rounds up
    assert make_divisible(sympy.Rational(28, 5)) == 8        # 0.35·16 = 5.6: at least 8
    assert make_divisible(sympy.Rational(1792)) == 1792      # 1.4·1280
    stages = dict(cost(mobilenet_v2(F(7, 20))).stages)
    assert stages["conv1"].output_shape[-1] == 16
    assert stages["conv_last"].output_shape[-1] == 1280       # kept for α ≤ 1
    assert dict(cost(mobilenet_v2(F(7, 5))).stages)["conv_last"].output_shape[-1] == 1792


def test_mobilenet_v2_symbolic_equals_numeric_where_sizes_divide() -> None:
    symbolic = cost(mobilenet_v2(alpha, rho))
    for resolution in (224, 192, 160, 128, 96):
        numeric = cost(mobilenet_v2(resolution=resolution))
        at = {alpha: sympy.Integer(1), rho: sympy.Rational(resolution, 224)}
        for kind in ("mults", "adds", "divs", "comparisons", "params"):
            assert getattr(symbolic, kind).xreplace(at) == getattr(numeric, kind), (resolution, kind)
    assert symbolic.output_shape == (1, 1, 1000)


def test_multipliers_are_exact() -> None:
    assert mobilenet_v1(0.75) == mobilenet_v1(F(3, 4)) == mobilenet_v1(sympy.Rational(3, 4))
    assert mobilenet_v2(0.35) == mobilenet_v2(F(7, 20))
    assert mobilenet_v1(rho=F(6, 7)).input_shape == (192, 192, 3)
    assert mobilenet_v1(resolution=160) == mobilenet_v1(rho=F(5, 7))
    assert mobilenet_v1(alpha, rho).input_shape == (224 * rho, 224 * rho, 3)
    # An input that is not a multiple of 32 floors as PyTorch does: 100 → 50 → 25 → 13 → 7 → 4.
    assert cost(mobilenet_v1(resolution=100)).stages[-3][1].output_shape == (4, 4, 1024)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: mobilenet_v1(0), "alpha=0 must be positive"),
        (lambda: mobilenet_v2(-1), "alpha=-1 must be positive"),
        (lambda: mobilenet_v1(-alpha), "alpha=-alpha must be positive"),
        (lambda: mobilenet_v1("1"), "alpha='1' must be a number"),
        (lambda: mobilenet_v1(True), "alpha=True must be a number"),
        (lambda: mobilenet_v1(math.nan), "alpha=nan must be a finite number"),
        (lambda: mobilenet_v1([1]), "alpha=\\[1\\] must be an int"),
        (lambda: mobilenet_v1(F(1, 64)), "leaves conv1 with floor\\(1/64·32\\) = 0 channels"),
        (lambda: mobilenet_v1(rho=F(1, 3)), "rho=1/3 gives an input of 224/3 pixels"),
        (lambda: mobilenet_v1(rho=F(1, 448)), "rho=1/448 gives an input of 1/2 pixels"),
        (lambda: mobilenet_v1(rho=0), "rho=0 must be positive"),
        (lambda: mobilenet_v2(rho=F(6, 7), resolution=192), "both given"),
        (lambda: mobilenet_v2(resolution=0), "resolution=0 must be positive"),
        (lambda: mobilenet_v2(resolution=100.5), "resolution=100.5 must be a whole number"),
        (lambda: network("resnet50"), "network='resnet50' is unknown; use one of mobilenet_v1, mobilenet_v2"),
        (lambda: mobilenet_v2(alpha, rounding="round"), "rounding='round' is unknown; use 'exact'"),
        (lambda: mobilenet_v1(rounding=True), "rounding=True is unknown"),  # type: ignore[arg-type]
        (lambda: mobilenet_v1(0.3, rounding="none"), "alpha=3/10 gives conv1 3/10·32 = 48/5 channels, not a whole"),
        (lambda: mobilenet_v2(F(1, 16), rounding="none"), "alpha=1/16 gives block2 1/16·24 = 3/2 channels"),
        (lambda: approximation_errors("resnet50"), "network='resnet50' is unknown"),
    ],
)
def test_bad_input(make: object, message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        make()  # type: ignore[operator]


def test_network_registry() -> None:
    assert set(NETWORKS) == {"mobilenet_v1", "mobilenet_v2"}
    assert network("mobilenet_v1", F(1, 2), resolution=128) == mobilenet_v1(F(1, 2), resolution=128)


# Issue 10: formulas in alpha that are exact at every alpha (rounding="exact"), beside the smooth
# polynomial (rounding="none"). The oracle is the reference implementations' rule, written again
# here in plain Python with exact Fractions — torchvision's ``_make_divisible``
# (torchvision/models/_utils.py; TF-slim's ``_make_divisible`` is the same) and the channel
# plan of ``torchvision.models.MobileNetV2.__init__`` — never symconv's code.
V2_TABLE_2 = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
              (6, 160, 3, 2), (6, 320, 1, 1)]
QUANTITIES = ("mults", "adds", "divs", "comparisons", "params")


def torchvision_make_divisible(v: F, divisor: int = 8) -> int:
    new_v = max(divisor, int(v + F(divisor, 2)) // divisor * divisor)
    if new_v < F(9, 10) * v:
        new_v += divisor
    return new_v


def torchvision_v2_plan(width: F) -> tuple[list[int], int]:
    """Output channels of every convolution of MobileNetV2(width_mult=width) in order (its
    Linear classifier as the last, 1000), and how many blocks add their input."""
    channels = torchvision_make_divisible(32 * width)
    plan, residuals = [channels], 0
    for t, c, n, s in V2_TABLE_2:
        out = torchvision_make_divisible(c * width)
        for i in range(n):
            hidden = channels * t
            plan += ([hidden] if t != 1 else []) + [hidden, out]
            residuals += (s if i == 0 else 1) == 1 and channels == out
            channels = out
    return [*plan, torchvision_make_divisible(1280 * max(F(1), width)), 1000], residuals


def keras_v1_plan(width: F) -> list[int]:
    """Output channels of every convolution of Keras' MobileNet(alpha=width): int(c * alpha)."""
    plan = [int(32 * width)]
    for out in (64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024):
        plan += [plan[-1], int(out * width)]
    return [*plan, 1000]


def conv_channels(derived: Cost) -> list[int]:
    return [int(row.output_shape[-1]) for row in rows(derived)
            if row.kind in ("standard", "depthwise", "pointwise", "linear")]


@functools.cache
def exact_formula(name: str) -> Cost:
    return cost(network(name, alpha, rounding="exact"))


def at(formula: Cost, width: F) -> dict[str, sympy.Expr]:
    return {kind: getattr(formula, kind).xreplace({alpha: sympy.Rational(width)})
            for kind in QUANTITIES}


def numeric(derived: Cost) -> dict[str, sympy.Expr]:
    return {kind: getattr(derived, kind) for kind in QUANTITIES}


# The largest alpha at which two consecutive V2 blocks with different c round to the same count
# with stride 1, so that the network adds a residual the symbolic build cannot see (the
# docstring of mobilenet_v2 states it).
V2_RESIDUAL_BOUND = F(5, 18)
V2_ALPHAS = [F(7, 5), F(13, 10), F(1), F(3, 4), F(1, 2), F(7, 20), F(2), F(3), F(1, 10), F(1, 4),
             F(5, 18), F(3, 10), F(3, 5), F(1, 3), F(11, 10), F(641, 640), F(1, 1000)]


@pytest.mark.parametrize("width", V2_ALPHAS)
def test_mobilenet_v2_exact_formula_is_the_network_at_every_alpha(width: F) -> None:
    plan, residuals = torchvision_v2_plan(width)
    derived = cost(mobilenet_v2(width))
    assert conv_channels(derived) == plan
    assert sum(stage.kind == "residual" for _, stage in derived.stages) == residuals
    formula, counted = at(exact_formula("mobilenet_v2"), width), numeric(derived)
    for kind in ("mults", "divs", "comparisons", "params"):
        assert formula[kind] == counted[kind], (width, kind)
    # Additions: exact unless blocks with different c round to one count and add a residual
    # (10 residual blocks otherwise, as at alpha = 1), which happens at alpha ≤ 5/18 only.
    assert (formula["adds"] == counted["adds"]) == (residuals == 10), width
    if width > V2_RESIDUAL_BOUND:
        assert residuals == 10


def test_mobilenet_v2_extra_residuals_stop_at_5_18() -> None:
    # Every alpha at which a block's rounded count can change: c·alpha = 8m − 4 (nearest
    # multiple) or 80m/9 (the 10% rule), and the midpoints between them, up to alpha = 3.
    points = sorted({v / c for c in (16, 24, 32, 64, 96, 160, 320)
                     for m in range(1, 130) for v in (F(8 * m - 4), F(80 * m, 9)) if v / c <= 3})
    points += [(a + b) / 2 for a, b in itertools.pairwise(points)]
    extra = [width for width in points if torchvision_v2_plan(width)[1] > 10]
    assert max(extra) == V2_RESIDUAL_BOUND


@settings(max_examples=15)
@given(st.fractions(min_value=F(1, 50), max_value=F(5, 2), max_denominator=400))
def test_mobilenet_v2_exact_formula_hypothesis(width: F) -> None:
    derived = cost(mobilenet_v2(width))
    assert conv_channels(derived) == torchvision_v2_plan(width)[0]
    formula = exact_formula("mobilenet_v2")
    assert count(formula, convention="macs").xreplace({alpha: sympy.Rational(width)}) == \
        count(derived, convention="macs")
    assert formula.params.xreplace({alpha: sympy.Rational(width)}) == derived.params


@functools.cache
def symbolic_make_divisible(channels: int) -> sympy.Expr:
    return make_divisible(channels * alpha)


@given(st.fractions(min_value=F(1, 100), max_value=F(5, 2), max_denominator=1000))
def test_make_divisible_is_torchvisions_rule(width: F) -> None:
    for c in (16, 24, 32, 64, 96, 160, 320, 1280):
        assert make_divisible(sympy.Rational(c * width)) == torchvision_make_divisible(c * width)
        assert symbolic_make_divisible(c).xreplace({alpha: sympy.Rational(width)}) == \
            torchvision_make_divisible(c * width)


@pytest.mark.parametrize("width", [F(1), F(3, 4), F(1, 2), F(1, 4), F(3, 10), F(1, 3), F(1, 32),
                                   F(2), F(13, 10), F(99, 100)])
def test_mobilenet_v1_exact_formula_is_the_network(width: F) -> None:
    derived = cost(mobilenet_v1(width))
    assert conv_channels(derived) == keras_v1_plan(width)
    assert at(exact_formula("mobilenet_v1"), width) == numeric(derived)


def test_polynomials_are_exact_only_where_rounding_changes_nothing() -> None:
    v1 = count(mobilenet_v1(alpha), convention="macs")
    for k in range(2, 41):  # alpha = k/64 from 1/32 to 5/8: exact iff 32·alpha is whole
        width = F(k, 64)
        exact = v1.xreplace({alpha: sympy.Rational(width)}) == count(mobilenet_v1(width), convention="macs")
        assert exact == (k % 2 == 0), width
    v2 = count(mobilenet_v2(alpha), convention="macs")
    for k in range(1, 25):  # alpha = k/16 up to 3/2: exact at 1 only
        width = F(k, 16)
        exact = v2.xreplace({alpha: sympy.Rational(width)}) == count(mobilenet_v2(width), convention="macs")
        assert exact == (width == 1), width


def test_the_polynomial_is_the_unrounded_network() -> None:
    # rounding="none" with a number builds the network of unrounded channels alpha·c; where they
    # are all whole its count, derived with numbers, is the polynomial's value.
    for name, width in [("mobilenet_v2", F(3, 4)), ("mobilenet_v2", F(1, 2)), ("mobilenet_v1", F(3, 8))]:
        polynomial = cost(network(name, alpha))
        unrounded = numeric(cost(network(name, width, rounding="none")))
        assert {kind: getattr(polynomial, kind).xreplace({alpha: sympy.Rational(width)})
                for kind in QUANTITIES} == unrounded
    assert conv_channels(cost(mobilenet_v2(F(3, 4), rounding="none")))[:3] == [24, 24, 12]


def test_approximation_errors() -> None:
    # TF-slim's table: 209 million MACs for 0.75 MobileNet V2 (cut after the digits); the
    # unrounded network (all alpha·c whole at 3/4) counts fewer than 180 million.
    unrounded = count(mobilenet_v2(F(3, 4), rounding="none"), convention="macs")
    assert unrounded < 180_000_000 and int(count(mobilenet_v2(F(3, 4)), convention="macs")) // 10**6 == 209
    errors = approximation_errors("mobilenet_v2")
    assert list(errors) == [sympy.Rational(a) for a in (F(7, 5), F(13, 10), 1, F(3, 4), F(1, 2), F(7, 20))]
    assert errors[sympy.Rational(3, 4)] == sympy.Rational(int(unrounded), 209069792) - 1
    assert errors[1] == 0 and all(error < 0 for width, error in errors.items() if width != 1)
    assert max(abs(error) for error in errors.values()) > sympy.Rational(16, 100)
    params = approximation_errors("mobilenet_v2", convention="params", alphas=[2])
    assert params[2] < sympy.Rational(-18, 100)  # 1280 last channels kept: too few at alpha = 2
    assert set(approximation_errors("mobilenet_v1").values()) == {0}  # 32·alpha whole for all
    assert approximation_errors("mobilenet_v1", alphas=[0.3])[sympy.Rational(3, 10)] > 0


def test_symbolic_default_is_the_polynomial_and_numbers_round() -> None:
    assert mobilenet_v2(alpha) == mobilenet_v2(alpha, rounding="none")
    assert mobilenet_v1(alpha, rho) == mobilenet_v1(alpha, rho, rounding="none")
    assert mobilenet_v2(F(7, 20)) == mobilenet_v2(F(7, 20), rounding="exact")
    assert mobilenet_v2(1, rounding="none") == mobilenet_v2(1)
    assert mobilenet_v1(F(1, 2), rounding="none") == mobilenet_v1(F(1, 2))


def test_torchvision_mobilenet_v2_has_the_zoos_channels() -> None:
    # torchvision's own definition (skipped where it cannot be imported), at the paper's
    # multipliers as floats, the way torchvision computes them.
    from torchvision_models import models

    torch = pytest.importorskip("torch")
    tv = models()
    for width in (1.4, 1.3, 1.0, 0.75, 0.5, 0.35, 0.1, 2.0):
        with torch.device("meta"):  # shapes only: no weights drawn
            model = tv.mobilenet_v2(width_mult=width)
        channels = [module.out_channels for module in model.modules() if isinstance(module, torch.nn.Conv2d)]
        assert [*channels, 1000] == conv_channels(cost(mobilenet_v2(width))), width
        weights = sum(parameter.numel() for parameter in model.parameters())
        assert weights == count(mobilenet_v2(width), convention="params")
        assert weights == exact_formula("mobilenet_v2").params.xreplace({alpha: sympy.Rational(F(repr(width)))})


@pytest.mark.parametrize("peer", ["ptflops", "thop"])
def test_torchvision_mobilenet_v2_pools_with_a_function(peer: str) -> None:
    # docs/conventions.md: torchvision's forward calls F.adaptive_avg_pool2d, which ptflops counts
    # once (n_in) instead of twice and thop not at all (n_in + n_out less), so the tools print
    # less for it than for the zoo's network, whose pooling is a module. At 64 pixels (2×2 pool).
    from torch_nets import installed_peers, peer_count
    from torchvision_models import models

    if peer not in installed_peers():
        pytest.skip(f"{peer} is not installed")
    tool = peer_count(peer, models().mobilenet_v2(), (3, 64, 64))
    pooled = 2 * 2 * 1280
    assert tool == count(mobilenet_v2(resolution=64), convention=peer) - {
        "ptflops": pooled, "thop": pooled + 1280}[peer]
