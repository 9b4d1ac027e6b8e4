"""Broadcast Mul, Sub, Div with an earlier stage: counts by hand, fast == reference == derived
(traffic included, through verify), values equal to PyTorch's in float64 (skipped without
torch)."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import (
    Activation,
    Div,
    GlobalAvgPool2d,
    Graph,
    Layer,
    Mul,
    PointwiseConv2d,
    ReLU,
    Sub,
)
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")


def _se(channels: int = 8, squeeze: int = 2, size: int = 5) -> Graph:
    """torchvision's SqueezeExcitation: scale = sigmoid(fc2(relu(fc1(avgpool(x))))); scale * x."""
    return Graph(("avgpool", GlobalAvgPool2d()),
                 ("fc1", PointwiseConv2d(channels, squeeze, bias=True)), ("relu", ReLU()),
                 ("fc2", PointwiseConv2d(squeeze, channels, bias=True)),
                 ("sigmoid", Activation("sigmoid")),
                 ("scale", Mul("input", shape=(size, size, channels))))


def test_se_block_by_hand() -> None:
    # 5×5×8, squeeze 2. avgpool: 8·24 adds, 8 divs; fc1: 16 mults, 16 adds (2 outputs × (7 + 1
    # bias)); relu 2 comparisons; fc2: 16 mults, 16 adds (8 outputs × (1 + 1 bias)); sigmoid:
    # 8 exp, 8 adds, 8 divs; scale: 5·5·8 = 200 mults.
    net = _se()
    expected = {"mults": 16 + 16 + 200, "adds": 192 + 16 + 16 + 8, "divs": 8 + 8,
                "comparisons": 2, "transcendentals": 8}
    x = np.random.default_rng(0).standard_normal((5, 5, 8))
    fast, reference = execute(net, x), execute(net, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13)
    assert fast.counts is not None and fast.counts.as_dict() == expected
    assert reference.counts == fast.counts
    derived = cost(net, (5, 5, 8))
    assert derived.output_shape == (5, 5, 8)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == expected
    scale = dict(derived.stages)["scale"]
    assert (scale.reads, scale.writes) == (200 + 8, 200)   # both operands read, output written
    assert verify(net, (5, 5, 8)).ok


@pytest.mark.parametrize(("layer", "kind"), [(Mul("input", shape=(1, 1, 3)), "mults"),
                                             (Sub("input", shape=(3,), other_first=True), "adds"),
                                             (Div("input", shape=(4, 1, 3)), "divs")])
def test_one_operation_per_broadcast_element(layer: Layer, kind: str) -> None:
    # On a 4×5×3 input (60 elements) the second operand broadcasts to 4×5×3.
    derived = cost(layer, (4, 5, 3))
    assert getattr(derived, kind) == 60 and derived.output_shape == (4, 5, 3)


def test_recorded_shape_is_checked() -> None:
    net = Graph(("relu", ReLU()), ("op", Mul("input", shape=(1, 1, 3))))
    with pytest.raises(SymconvError, match="records shape"):
        execute(net, np.ones((4, 5, 3)))


def test_symbolic_broadcast() -> None:
    c = cost(Mul("input", shape=(H, W, C)), (1, 1, C))
    assert c.output_shape == (H, W, C) and c.mults == H * W * C
    assert c.reads == H * W * C + C
    with pytest.raises(SymconvError, match="do not broadcast"):
        cost(Mul("input", shape=(4, 4, 8)), (5, 5, 8))
    with pytest.raises(SymconvError, match="other"):
        Mul("")


def _pair_graph(layer: Layer) -> Graph:
    # x -> avgpool (1,1,C) -> op with the input (H,W,C)
    return Graph(("avgpool", GlobalAvgPool2d()), ("op", layer))


@pytest.mark.parametrize("cls", [Mul, Sub, Div])
@pytest.mark.parametrize("other_first", [False, True])
def test_values_equal_torch(cls: type, other_first: bool) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((4, 6, 3)) + 3.0   # no division by ~0
    net = _pair_graph(cls("input", shape=(4, 6, 3), other_first=other_first))
    t = torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy())
    s = t.mean((2, 3), keepdim=True)
    function = {Mul: torch.mul, Sub: torch.sub, Div: torch.div}[cls]
    expected = function(t, s) if other_first else function(s, t)
    expected = np.moveaxis(expected[0].numpy(), 0, -1)
    for method in ("fast", "reference"):
        run = execute(net, x, method=method)
        np.testing.assert_allclose(run.output, expected, rtol=1e-13, atol=1e-15)
        assert run.counts is not None
    assert verify(net, (4, 6, 3)).ok


def test_layer_scale() -> None:
    from symconv.layers import LayerScale
    layer = LayerScale(3)
    c = cost(layer, (4, 5, 3))
    assert (c.mults, c.adds, c.params, c.reads, c.writes) == (60, 0, 3, 63, 60)
    x = np.random.default_rng(3).standard_normal((4, 5, 3))
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    np.testing.assert_array_equal(fast.output, x * fast.params["scale"])
    np.testing.assert_array_equal(reference.output, fast.output)
    assert fast.counts == reference.counts and fast.counts is not None and fast.counts.mults == 60
    assert verify(layer, (4, 5, 3)).ok
