"""Data movement (Cat, Slice, ChannelShuffle) and the identity at inference (Identity, Dropout,
StochasticDepth): nothing counted, shapes and traffic by hand, verify on a ShuffleNet V2 unit,
values equal to PyTorch's (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import (
    Cat,
    ChannelShuffle,
    DepthwiseConv2d,
    Dropout,
    Graph,
    Identity,
    Layer,
    PointwiseConv2d,
    ReLU,
    Reuse,
    Slice,
    StochasticDepth,
)

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")


def _shufflenet_unit(channels: int = 8, size: int = 4) -> Graph:
    """torchvision's InvertedResidual with stride 1: x1, x2 = x.chunk(2, dim=1);
    cat((x1, branch2(x2)), dim=1); channel_shuffle(out, 2)."""
    half = channels // 2
    return Graph(("x1", Slice(0, half)), ("from input", Reuse("input", (size, size, channels))),
                 ("x2", Slice(half, channels)),
                 ("branch2.0", PointwiseConv2d(half, half)), ("branch2.2", ReLU()),
                 ("branch2.3", DepthwiseConv2d(half, 3, padding=1)),
                 ("branch2.5", PointwiseConv2d(half, half)),
                 ("cat", Cat("x1", (size, size, half), other_first=True)),
                 ("shuffle", ChannelShuffle(2)))


def test_shufflenet_unit_by_hand() -> None:
    # 4×4×8: two 1×1 convs 4→4 on 16 positions: 2·256 mults, 2·16·4·3 adds; depthwise 3×3 on
    # 4 channels: 16·4·9 = 576 mults, 16·4·8 = 512 adds; relu 64 comparisons. Slices and the
    # Reuse move nothing; cat reads 64 + 64 and writes 128; the shuffle reads and writes 128.
    net = _shufflenet_unit()
    expected = {"mults": 2 * 256 + 576, "adds": 2 * 192 + 512, "divs": 0, "comparisons": 64,
                "transcendentals": 0}
    x = np.random.default_rng(0).standard_normal((4, 4, 8))
    fast, reference = execute(net, x), execute(net, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13)
    assert fast.counts is not None and fast.counts.as_dict() == expected
    assert reference.counts == fast.counts
    derived = cost(net, (4, 4, 8))
    assert derived.output_shape == (4, 4, 8)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == expected
    stages = dict(derived.stages)
    assert (stages["x1"].reads, stages["x1"].writes) == (0, 0)
    assert (stages["cat"].reads, stages["cat"].writes) == (128, 128)
    assert (stages["shuffle"].reads, stages["shuffle"].writes) == (128, 128)
    assert verify(net, (4, 4, 8)).ok


@pytest.mark.parametrize("layer", [Identity(), Dropout(0.3), StochasticDepth(0.1, "row")])
def test_identity_at_inference(layer: Layer) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4, 5))
    for method in ("fast", "reference"):
        run = execute(layer, x, method=method)  # type: ignore[arg-type]
        np.testing.assert_array_equal(run.output, x)
        assert run.counts is not None and sum(run.counts.as_dict().values()) == 0
    c = cost(layer, (3, 4, 5))
    assert (c.output_shape, c.reads, c.writes, c.params) == ((3, 4, 5), 0, 0, 0)
    assert verify(layer, (3, 4, 5)).ok


def test_bad_arguments() -> None:
    with pytest.raises(SymconvError, match="probability"):
        Dropout(1.5)
    with pytest.raises(SymconvError, match="start < stop"):
        Slice(4, 2)
    with pytest.raises(SymconvError, match="must divide"):
        cost(ChannelShuffle(3), (4, 4, 8))
    with pytest.raises(SymconvError, match="spatial sizes"):
        cost(Cat("input", (5, 5, 8)), (4, 4, 8))
    with pytest.raises(SymconvError, match="records shape"):
        execute(Graph(("relu", ReLU()), ("cat", Cat("input", (4, 4, 3)))), np.ones((4, 4, 8)))


def test_values_equal_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((4, 5, 6))
    net = Graph(("x1", Slice(0, 3)), ("from input", Reuse("input", (4, 5, 6))),
                ("x2", Slice(3, 6)), ("relu", ReLU()),
                ("cat", Cat("x1", (4, 5, 3), other_first=True)), ("shuffle", ChannelShuffle(3)))
    t = torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy())
    x1, x2 = t.chunk(2, dim=1)
    out = torch.cat((x1, torch.relu(x2)), dim=1)
    out = out.view(1, 3, 2, 4, 5).transpose(1, 2).contiguous().view(1, 6, 4, 5)  # torchvision's
    expected = np.moveaxis(out[0].numpy(), 0, -1)
    np.testing.assert_array_equal(
        np.moveaxis(torch.nn.ChannelShuffle(3)(torch.cat((x1, torch.relu(x2)), 1))[0].numpy(), 0, -1),
        expected)
    for method in ("fast", "reference"):
        np.testing.assert_array_equal(execute(net, x, method=method).output, expected)  # type: ignore[arg-type]
    assert verify(net, (4, 5, 6)).ok


def test_graph_names_a_missing_second_input() -> None:
    from symconv.layers import Mul
    for layer in (Cat("branch", (4, 4, 2)), Mul("branch")):
        with pytest.raises(SymconvError, match="no earlier stage"):
            Graph(("relu", ReLU()), ("join", layer))


@pytest.mark.parametrize(("padding", "mode"), [((0, 1, 0, 1), "constant"), ((1, 2, 2, 0), "reflect"),
                                               ((2, 1, 1, 1), "replicate"),
                                               ((1, 1, 2, 2), "circular"), ((3, 1), "constant")])
def test_pad(padding: tuple[int, ...], mode: str) -> None:
    from symconv.layers import Pad
    layer = Pad(padding, mode, value=0)
    x = np.random.default_rng(4).standard_normal((4, 5, 2))
    out = (4 + (padding[2] + padding[3] if len(padding) == 4 else 0), 5 + padding[0] + padding[1], 2)
    c = cost(layer, (4, 5, 2))
    assert (c.output_shape, c.mults, c.adds, c.reads, c.writes) == (out, 0, 0, 40, out[0] * out[1] * 2)
    run = execute(layer, x)
    assert run.output.shape == out and run.counts is not None
    assert sum(run.counts.as_dict().values()) == 0
    assert verify(layer, (4, 5, 2)).ok
    torch = pytest.importorskip("torch")
    t = torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy())
    expected = torch.nn.functional.pad(t, padding, mode=mode)
    np.testing.assert_array_equal(run.output, np.moveaxis(expected[0].numpy(), 0, -1))
