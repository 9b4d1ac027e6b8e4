"""The layers around convolutions: counts worked out by hand, shapes, and refused arguments."""

from __future__ import annotations

import pytest

from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    DepthwiseConv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    PointwiseConv2d,
    ReLU,
    ReLU6,
    Residual,
    Sequential,
    SymconvError,
    cost,
)
from symconv.derive import Cost
from symconv.layers import Layer, ResidualAdd
from symconv.symbols import C, H, W, k

# (layer, input shape, output shape, mults, adds, divs, comparisons, params), each by hand.
CASES: list[tuple[Layer, tuple[int, ...], tuple[int, ...], int, int, int, int, int]] = [
    # 3 outputs × 4 terms = 12 mults; 3 × (4 − 1) + 3 bias adds = 12; 4·3 + 3 params.
    (Linear(4, 3), (4,), (3,), 12, 12, 0, 0, 15),
    # The same at each of 2·2 positions, no bias: 48 mults, 4·3·3 = 36 adds.
    (Linear(4, 3, bias=False), (2, 2, 4), (2, 2, 3), 48, 36, 0, 0, 12),
    # 5·5·3 = 75 elements, one mult and one add each; γ and β: 6.
    (BatchNorm2d(3), (5, 5, 3), (5, 5, 3), 75, 75, 0, 0, 6),
    (ReLU(), (5, 5, 3), (5, 5, 3), 0, 0, 0, 75, 0),
    (ReLU(), (10,), (10,), 0, 0, 0, 10, 0),
    # 4·4·2 = 32 elements, two comparisons each.
    (ReLU6(), (4, 4, 2), (4, 4, 2), 0, 0, 0, 64, 0),
    # 2×2 windows: 2·2·3 = 12 outputs, 3 adds and 1 division each.
    (AvgPool2d(2), (4, 4, 3), (2, 2, 3), 0, 36, 12, 0, 0),
    # "same" 3×3 window: 5·5·2 = 50 outputs, 8 adds and 1 division each (padding counted).
    (AvgPool2d(3, stride=1, padding=1), (5, 5, 2), (5, 5, 2), 0, 400, 50, 0, 0),
    # 2×2 windows over 6×6: 3·3 = 9 outputs, 3 comparisons each.
    (MaxPool2d(2), (6, 6, 1), (3, 3, 1), 0, 0, 0, 27, 0),
    # ResNet's stem pool: 56·56·64 outputs, 8 comparisons each.
    (MaxPool2d(3, stride=2, padding=1), (112, 112, 64), (56, 56, 64), 0, 0, 0, 1605632, 0),
    # Dilation 2 spreads a 2×2 window over 3×3: floor((5 − 2 − 1)/2) + 1 = 2 per axis.
    (MaxPool2d(2, dilation=2), (5, 5, 1), (2, 2, 1), 0, 0, 0, 12, 0),
    # 1024 channels, each 49 values summed (48 adds) and divided once.
    (GlobalAvgPool2d(), (7, 7, 1024), (1, 1, 1024), 0, 49152, 1024, 0, 0),
    (Flatten(), (2, 3, 4), (24,), 0, 0, 0, 0, 0),
    (ResidualAdd(), (3, 3, 2), (3, 3, 2), 0, 18, 0, 0, 0),
]


@pytest.mark.parametrize(
    ("layer", "shape", "out", "mults", "adds", "divs", "comparisons", "params"), CASES,
    ids=lambda value: type(value).__name__ if isinstance(value, Layer) else None,
)
def test_counts_by_hand(
    layer: Layer, shape: tuple[int, ...], out: tuple[int, ...],
    mults: int, adds: int, divs: int, comparisons: int, params: int,
) -> None:
    c = cost(layer, shape)
    assert c.output_shape == out
    assert (c.mults, c.adds, c.divs, c.comparisons, c.params) == (
        mults, adds, divs, comparisons, params
    )


def test_symbolic_batchnorm_and_pooling() -> None:
    assert cost(BatchNorm2d(C), (H, W, C)).mults == C * H * W
    pooled = cost(AvgPool2d(k), (H, W, C))
    # stride defaults to the kernel: floor((H − k)/k) + 1 outputs per axis, k² − 1 adds each.
    assert pooled.output_shape[0].equals((H - k) // k + 1)
    assert pooled.divs.equals(C * ((H - k) // k + 1) * ((W - k) // k + 1))
    assert cost(GlobalAvgPool2d(), (H, W, C)).adds == C * (H * W - 1)


def test_residual_adds_its_input() -> None:
    block = Sequential(("pointwise", PointwiseConv2d(8, 8)), ("relu", ReLU()))
    c = cost(Residual(block), (4, 4, 8))
    # 1×1 conv: 16 positions × 8 outputs × 8 terms = 1024 mults, 16·8·7 = 896 adds; the
    # residual adds one per element: 128.
    assert [name for name, _ in c.stages] == ["pointwise", "relu", "add"]
    assert (c.mults, c.adds, c.comparisons) == (1024, 896 + 128, 128)
    single = cost(Residual(ReLU()), (2, 2, 1))
    assert [name for name, _ in single.stages] == ["block", "add"]
    # A residual of a residual keeps the inner one whole, so that names stay unique.
    twice = cost(Residual(Residual(block)), (4, 4, 8))
    assert [name for name, _ in twice.stages] == ["block", "add"] and twice.adds == 896 + 2 * 128


def test_residual_refuses_a_block_that_changes_the_shape() -> None:
    with pytest.raises(SymconvError, match="takes 8 channels but gives 16"):
        Residual(PointwiseConv2d(8, 16))
    strided = Residual(DepthwiseConv2d(8, 3, stride=2, padding=1))
    with pytest.raises(SymconvError, match=r"output \(3, 3, 8\) must have the shape of its input \(5, 5, 8\)"):
        cost(strided, (5, 5, 8))
    with pytest.raises(SymconvError, match="must be a symconv layer"):
        Residual("conv")  # type: ignore[arg-type]


def test_sequential_names() -> None:
    conv, relu = Conv2d(3, 8, 3), ReLU()
    assert [name for name, _ in Sequential(conv, relu).stages] == ["0", "1"]
    assert [name for name, _ in Sequential(("conv", conv), ("relu", relu)).stages] == ["conv", "relu"]
    assert [name for name, _ in Sequential({"conv": conv, "relu": relu}).stages] == ["conv", "relu"]
    net = Sequential(("conv", conv), ("relu", relu))
    assert net["relu"] is relu and net[0] is conv and len(net) == 2 and list(net) == [conv, relu]
    with pytest.raises(KeyError, match="names: conv, relu"):
        net["bn"]


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ((("a", ReLU()), ("a", ReLU())), "'a' is used twice"),
        ((("a.b", ReLU()),), "without '.'"),
        ((("", ReLU()),), "must be non-empty"),
        (("relu",), "pass layers, \\(name, layer\\) pairs"),
        (((1, ReLU()),), "pass layers"),
    ],
)
def test_sequential_refuses(layers: tuple[object, ...], message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        Sequential(*layers)  # type: ignore[arg-type]


def test_sequential_keywords_are_checked() -> None:
    with pytest.raises(SymconvError, match="size_multiple=0 must be a positive int"):
        Sequential(ReLU(), size_multiple=0)
    with pytest.raises(SymconvError, match="input_shape=7 must be a tuple"):
        Sequential(ReLU(), input_shape=7)
    with pytest.raises(SymconvError, match="input_shape=0 must be at least 1"):
        Sequential(ReLU(), input_shape=(0, 3))


def test_sequential_channels() -> None:
    net = Sequential(ReLU(), BatchNorm2d(8), PointwiseConv2d(8, 4))
    assert net.in_channels_expected() == 8
    assert net.out_channels_for(8) == 4
    assert Sequential(Flatten(), Linear(12, 3)).in_channels_expected() is None
    assert Sequential(ReLU()).in_channels_expected() is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Linear(0, 3), "in_features=0 must be at least 1"),
        (lambda: Linear(4, 3, bias=1), "bias=1 must be True or False"),
        (lambda: BatchNorm2d(2.5), "channels=2.5 must be a whole number"),
        (lambda: AvgPool2d(3, padding=2), "padding=2 must be at most half of kernel_size=3"),
        (lambda: MaxPool2d(2, stride=0), "stride=0 must be at least 1"),
        (lambda: MaxPool2d((2, 2, 2)), "must be one size or a tuple of 2"),
    ],
)
def test_bad_arguments(make: object, message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        make()  # type: ignore[operator]


def test_bad_shapes() -> None:
    with pytest.raises(SymconvError, match=r"kernel_size=7 .* larger than the padded input along H"):
        cost(MaxPool2d(7), (5, 5, 3))
    with pytest.raises(SymconvError, match="must have 3 sizes"):
        cost(BatchNorm2d(3), (3,))
    with pytest.raises(SymconvError, match="has 4 channels but Linear expects in_channels=3"):
        cost(Linear(3, 2), (4,))
    with pytest.raises(SymconvError, match="needs in_channels="):
        ReLU().loop_nest((2, 2), (2, 2))
    with pytest.raises(SymconvError, match="read it from cost"):
        Flatten().out_channels_for(3)


def test_layers_are_values() -> None:
    assert ReLU() == ReLU() and ReLU() != ReLU6()
    assert Linear(4, 3) == Linear(4, 3) and hash(Linear(4, 3)) == hash(Linear(4, 3))
    assert [layer.kind for layer in (Linear(1, 1), BatchNorm2d(1), ReLU(), ReLU6(), AvgPool2d(1),
                                     MaxPool2d(1), GlobalAvgPool2d(), Flatten(), Residual(ReLU()),
                                     Sequential())] == [
        "linear", "batchnorm", "relu", "relu6", "avgpool", "maxpool", "globalavgpool", "flatten",
        "residual", "sequential",
    ]
    assert BatchNorm2d(4).num_features == 4 and AvgPool2d(2).dilation == (1, 1)


def test_empty_sequential_costs_nothing() -> None:
    c = cost(Sequential(), (3, 3, 2))
    assert isinstance(c, Cost) and c.output_shape == (3, 3, 2) and c.mults == 0
