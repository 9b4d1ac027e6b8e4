"""Networks: shapes propagated, per-layer rows under dotted names, mismatches naming both layers."""

from __future__ import annotations

import pytest
import sympy

from symconv import (
    BatchNorm2d,
    Conv2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    PointwiseConv2d,
    ReLU,
    Residual,
    Sequential,
    SymconvError,
    cost,
)
from symconv.networks.rows import LayerRow, rows, totals
from symconv.symbols import H, M, N, W, rho


def small_net() -> Sequential:
    return Sequential(
        ("features", Sequential(
            ("stem", Sequential(("conv", Conv2d(3, 8, 3, stride=2, padding=1)),
                                ("bn", BatchNorm2d(8)), ("relu", ReLU()))),
            ("3", DepthwiseSeparableConv2d(8, 16, 3, padding=1)),
            ("res", Residual(Sequential(("pointwise", PointwiseConv2d(16, 16)), ("relu", ReLU())))),
        )),
        ("pool", GlobalAvgPool2d()),
        ("flatten", Flatten()),
        ("fc", Linear(16, 10)),
    )


def test_rows_flatten_nesting_into_dotted_names() -> None:
    names = [row.name for row in rows(small_net(), (8, 8, 3))]
    assert names == [
        "features.stem.conv", "features.stem.bn", "features.stem.relu",
        "features.3.depthwise", "features.3.pointwise",
        "features.res.pointwise", "features.res.relu", "features.res.add",
        "pool", "flatten", "fc",
    ]


def test_rows_by_hand() -> None:
    table = {row.name: row for row in rows(small_net(), (8, 8, 3))}
    # Stride-2 3×3 conv, padding 1, on 8×8: floor((8 + 2 − 3)/2) + 1 = 4; 4·4·8 = 128 outputs
    # of 27 products each.
    stem = table["features.stem.conv"]
    assert (stem.input_shape, stem.output_shape, stem.mults, stem.params) == ((8, 8, 3), (4, 4, 8), 3456, 216)
    # Depthwise 3×3 on 4×4×8: 128 outputs × 9; pointwise 8 → 16 on 16 positions: 16·16·8.
    assert table["features.3.depthwise"].mults == 1152
    assert table["features.3.pointwise"].mults == 2048
    # The residual adds its input, 4·4·16 elements.
    assert table["features.res.add"].adds == 256 and table["features.res.add"].kind == "add"
    assert table["flatten"].output_shape == (16,)
    # 10 outputs of 16 terms: 160 mults, 10·15 + 10 (bias) = 160 adds, 170 params.
    fc = table["fc"]
    assert (fc.kind, fc.mults, fc.adds, fc.params, fc.ops) == ("linear", 160, 160, 170, 320)


def test_totals_by_hand() -> None:
    # small_net on 8×8×3, layer by layer (h = w = 4 after the stride-2 stem):
    #   stem conv   4·4·8 outputs × 27 products: 3456 mults, 128·26 = 3328 adds, 216 params
    #   stem bn     128 elements: 128 mults, 128 adds, 16 params;  stem relu: 128 comparisons
    #   depthwise   128 outputs × 9: 1152 mults, 128·8 = 1024 adds, 72 params
    #   pointwise   256 outputs × 8: 2048 mults, 256·7 = 1792 adds, 128 params
    #   res         256 outputs × 16: 4096 mults, 256·15 = 3840 adds, 256 params; relu 256
    #               comparisons; the residual addition 256 adds
    #   pool        16 channels × (16 − 1) adds = 240, 16 divisions;  flatten: nothing
    #   fc          160 mults, 10·15 + 10 = 160 adds, 170 params
    expected = {"mults": 11040, "adds": 10768, "divs": 16, "comparisons": 384, "params": 858}
    result = cost(small_net(), (8, 8, 3))
    assert {kind: getattr(result, kind) for kind in expected} == expected
    total = totals(result)
    assert isinstance(total, LayerRow) and total.name == "total"
    assert {kind: getattr(total, kind) for kind in expected} == expected
    assert {kind: sum(getattr(row, kind) for row in rows(result)) for kind in expected} == expected
    assert total.output_shape == (10,)


def test_symbolic_totals_by_hand() -> None:
    # The same network on (H, W, 3): the stem gives h = floor((H − 1)/2) + 1 rows (and w
    # columns); per output position the layers above do 216 + 8 + 72 + 128 + 256 = 680 mults
    # and 208 + 8 + 64 + 112 + 240 + 16 + 16 = 664 adds (the pool's 16·(hw − 1) included as
    # 16 per position less 16), 8 + 16 comparisons; the head adds 160 mults and 160 adds.
    h = sympy.floor((H - 1) / 2) + 1
    w = sympy.floor((W - 1) / 2) + 1
    result = cost(small_net(), (H, W, 3))
    assert sympy.expand(result.mults - (680 * h * w + 160)) == 0
    assert sympy.expand(result.adds - (664 * h * w - 16 + 160)) == 0
    assert sympy.expand(result.comparisons - 24 * h * w) == 0
    assert (result.divs, result.params) == (16, 858)
    # ... and at H = W = 8 they are the numbers of the test above.
    assert result.mults.subs({H: 8, W: 8}) == 11040 and result.adds.subs({H: 8, W: 8}) == 10768


def test_rows_to_a_depth() -> None:
    assert [row.name for row in rows(small_net(), (8, 8, 3), depth=1)] == ["features", "pool", "flatten", "fc"]
    assert [row.name for row in rows(small_net(), (8, 8, 3), depth=2)][:3] == [
        "features.stem", "features.3", "features.res"
    ]
    only = rows(small_net(), (8, 8, 3), depth=0)
    assert [(row.name, row.kind) for row in only] == [("sequential", "sequential")]
    assert [row.name for row in rows(Conv2d(3, 8, 3), (5, 5, 3))] == ["standard"]
    with pytest.raises(SymconvError, match="depth=-1 must be None or an int"):
        rows(small_net(), (8, 8, 3), depth=-1)


def test_symbolic_network() -> None:
    net = Sequential(Conv2d(M, N, 3, padding=1), BatchNorm2d(N), ReLU())
    c = cost(net, (H, W, M))
    # "same" 3×3 conv: 9·M mults per output, H·W·N outputs; BatchNorm one more per element.
    assert sympy.expand(c.mults - (9 * M * N * H * W + N * H * W)) == 0
    assert c.comparisons == H * W * N and c.output_shape == (H, W, N)
    assert c.params == 9 * M * N + 2 * N


def test_the_network_carries_its_shape() -> None:
    net = Sequential(Conv2d(3, 8, 3, stride=2, padding=1), input_shape=(224, 224, 3))
    assert cost(net).output_shape == (112, 112, 8)
    assert cost(net, (32, 32, 3)).output_shape == (16, 16, 8)
    with pytest.raises(SymconvError, match="input_shape is missing"):
        cost(Sequential(ReLU()))


def test_size_multiple_drops_the_floors() -> None:
    layers = (Conv2d(3, 8, 3, stride=2, padding=1), DepthwiseConv2d(8, 3, stride=2, padding=1))
    plain = cost(Sequential(*layers, input_shape=(32 * rho, 32 * rho, 3)))
    assert plain.output_shape[0].has(sympy.floor)
    exact = cost(Sequential(*layers, input_shape=(32 * rho, 32 * rho, 3), size_multiple=4))
    assert exact.output_shape == (8 * rho, 8 * rho, 8)
    assert exact.input_shape == (32 * rho, 32 * rho, 3)
    # 16ρ·16ρ·8 outputs × 27 + 8ρ·8ρ·8 outputs × 9.
    assert exact.mults == 27 * 8 * 256 * rho**2 + 9 * 8 * 64 * rho**2
    # Given explicitly, a shape is taken as it is: floors stay.
    assert cost(Sequential(*layers, size_multiple=4), (32 * rho, 32 * rho, 3)).output_shape[0].has(sympy.floor)


def test_a_mismatch_names_both_layers() -> None:
    net = Sequential(Conv2d(3, 32, 3), DepthwiseConv2d(32, 3), PointwiseConv2d(64, 64))
    with pytest.raises(SymconvError) as caught:
        cost(net, (9, 9, 3))
    assert str(caught.value) == (
        "layer 2 (pointwise, in_channels=64) cannot follow layer 1 (depthwise, 32 channels out); "
        "make in_channels=32 or change layer 1"
    )


def test_a_mismatch_across_nesting_names_the_leaves() -> None:
    net = Sequential(
        ("features", Sequential(Conv2d(3, 32, 3), DepthwiseSeparableConv2d(32, 64, 3))),
        ("head", Sequential(("fc", Linear(128, 10)))),
    )
    with pytest.raises(SymconvError, match=r"layer head\.fc \(linear, in_channels=128\) cannot follow "
                                           r"layer features\.1\.pointwise \(pointwise, 64 channels out\)"):
        cost(net, (9, 9, 3))


def test_a_rank_mismatch_names_both_layers() -> None:
    net = Sequential(("flatten", Flatten()), ("bn", BatchNorm2d(12)))
    with pytest.raises(SymconvError, match=r"layer bn \(batchnorm\) needs inputs of 3 sizes \(H, W, C\) but "
                                           r"layer flatten \(flatten\) gives \(12,\)"):
        cost(net, (2, 2, 3))


def test_errors_inside_a_network_name_the_layer() -> None:
    net = Sequential(("conv", Conv2d(3, 8, 3)), ("pool", MaxPool2d(7)))
    with pytest.raises(SymconvError, match=r"^layer pool \(maxpool\): kernel_size=7"):
        cost(net, (7, 7, 3))
    with pytest.raises(SymconvError, match="has 4 channels but Sequential expects in_channels=3"):
        cost(net, (7, 7, 4))


def test_a_residual_in_a_network_names_its_path() -> None:
    net = Sequential(("block", Residual(DepthwiseConv2d(8, 3, stride=2, padding=1))))
    with pytest.raises(SymconvError, match=r"^layer block \(residual\): the block's output \(3, 3, 8\)"):
        cost(net, (5, 5, 8))


def test_rows_take_layers_or_costs() -> None:
    result = cost(small_net(), (8, 8, 3))
    assert rows(result) == rows(small_net(), (8, 8, 3))
    with pytest.raises(SymconvError, match="already a Cost"):
        rows(result, (8, 8, 3))
    with pytest.raises(SymconvError, match="must be a symconv layer"):
        rows("mobilenet")  # type: ignore[arg-type]
