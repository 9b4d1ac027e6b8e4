"""Traffic (Cost.reads, Cost.writes): the compulsory-traffic model derived from loop nests,
checked against hand-worked values, brute-force enumeration and the executors' tracking."""

from __future__ import annotations

import itertools

import hypothesis.strategies as st
import pytest
import sympy
from hypothesis import given

from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    cost,
)
from symconv.derive.traffic import Touched, touched, traffic_bytes
from symconv.errors import SymconvError
from symconv.layers.tokens import Rearrange, Reshape
from symconv.layers.traffic import AxisWindow
from symconv.symbols import H, M, N, W

# (layer, input shape, reads, writes), each worked out by hand.
CASES = [
    # 1x1 stride 2 on 8x8x8: rows/cols 0, 2, 4, 6 -> 16 positions of 64; weight 8·8
    (Conv2d(8, 8, 1, stride=2), (8, 8, 8), 16 * 8 + 64, 4 * 4 * 8),
    # 3x3, padding 1: every real position; 3·3·3·4 weights, 4 biases
    (Conv2d(3, 4, 3, padding=1, bias=True), (5, 5, 3), 75 + 108 + 4, 100),
    # 2x2 stride 3 on 7: windows {0,1}, {3,4} -> 4 of 7 per axis (position 6 never read)
    (Conv2d(1, 1, 2, stride=3), (7, 7, 1), 16 + 4, 4),
    # depthwise 3x3 stride 2 padding 1 on 6: every position; 9·2 weights
    (DepthwiseConv2d(2, 3, stride=2, padding=1), (6, 6, 2), 72 + 18, 18),
    # transposed (scatter): every input element; weight 3·3·2·5
    (ConvTranspose2d(2, 5, 3, stride=2), (4, 4, 2), 32 + 90, 9 * 9 * 5),
    (MaxPool2d(2), (5, 5, 3), 4 * 4 * 3, 2 * 2 * 3),
    (AvgPool2d(3, stride=2, padding=1), (6, 6, 1), 36, 9),
    (GlobalAvgPool2d(), (7, 7, 4), 196, 4),
    (Linear(10, 3), (10,), 10 + 30 + 3, 3),
    (BatchNorm2d(4), (3, 3, 4), 36 + 8, 36),
    (ReLU(), (3, 3, 4), 36, 36),
    (Flatten(), (1, 1, 4), 0, 0),
    (Reshape((3, 8)), (1, 3, 8), 0, 0),  # a view
    # a declared copy, every element read and written, even where the axes that move have
    # size 1 (no element changes place: the frontend records a Reshape there instead)
    (Rearrange((1, 0, 2), (3, 8)), (1, 3, 8), 24, 24),
    (Rearrange((1, 0, 2), (6, 8)), (2, 3, 8), 48, 48),
]


@pytest.mark.parametrize(("layer", "shape", "reads", "writes"), CASES)
def test_hand_worked(layer, shape, reads, writes):
    c = cost(layer, shape)
    assert (c.reads, c.writes) == (reads, writes)


def test_pointwise_is_shufflenet_v2_mac():
    c = cost(Conv2d(M, N, 1), (H, W, M))
    assert sympy.expand(c.reads + c.writes - (H * W * (M + N) + M * N)) == 0


def test_strided_pointwise_reads_a_quarter():
    c = cost(Conv2d(M, N, 1, stride=2), (H, W, M))
    even = c.subs(H=8, W=8, M=3, N=5)
    assert even.reads - 15 == 3 * 16   # a quarter of 64 positions, 3 channels
    assert c.reads.subs({H: 8, W: 8, M: 3, N: 5}) == even.reads


def test_network_sums_its_layers():
    net = Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), Conv2d(8, 4, 1, stride=2))
    c = cost(net, (6, 6, 3))
    assert c.reads == sum(stage.reads for _, stage in c.stages)
    assert c.reads == (108 + 216) + 288 + (9 * 8 + 32)


def test_separable_symbolic():
    c = cost(DepthwiseSeparableConv2d(M, N, 3, padding=1), (H, W, M))
    assert sympy.expand(c.reads - (2 * H * W * M + 9 * M + M * N)) == 0
    assert sympy.expand(c.writes - (H * W * M + H * W * N)) == 0


def _brute(size, kernel, stride, dilation, padding, placements):
    seen = {o * stride + j * dilation - padding for o in range(placements) for j in range(kernel)}
    return sum(1 for x in seen if 0 <= x < size)


@given(size=st.integers(1, 20), kernel=st.integers(1, 5), stride=st.integers(1, 4),
       dilation=st.integers(1, 3), padding=st.integers(0, 3))
def test_touched_against_enumeration(size, kernel, stride, dilation, padding):
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        return
    placements = (size + 2 * padding - span) // stride + 1
    axis = AxisWindow(size, placements, kernel, stride, dilation, padding)
    assert touched(axis) == _brute(size, kernel, stride, dilation, padding, placements)


def test_symbolic_touched_evaluates_at_numbers():
    s, d = sympy.symbols("s d", positive=True, integer=True)
    c = cost(Conv1d(1, 1, 3, stride=s, dilation=d), (H, 1))
    assert c.reads.has(Touched)
    for size, step, spread in itertools.product((9, 10, 11), (2, 3), (2, 3)):
        value = c.reads.subs({H: size, s: step, d: spread})
        assert value == cost(Conv1d(1, 1, 3, stride=step, dilation=spread), (size, 1)).reads


def test_bytes():
    c = cost(Conv2d(8, 8, 1), (4, 4, 8))
    assert traffic_bytes(c.reads, 4) == 4 * (128 + 64)
    with pytest.raises(SymconvError, match="dtype_bytes"):
        traffic_bytes(c.reads, 0)


# ------------------------------------------------------------------ proof by execution

import numpy as np  # noqa: E402

from symconv import execute, verify  # noqa: E402
from symconv.strategies import conv_cases  # noqa: E402


@pytest.mark.parametrize(("layer", "shape", "reads", "writes"), CASES)
def test_tracked_run_touches_what_was_worked_out(layer, shape, reads, writes):
    run = execute(layer, np.random.default_rng(0).standard_normal(shape), track=True)
    assert (run.traffic.reads, run.traffic.writes) == (reads, writes)


@given(conv_cases(max_size=9, max_stride=3))
def test_tracked_convolutions_match_the_formulas(case):
    layer, shape = case
    check = verify(layer, shape)
    assert check.ok, check.stages
    assert all(stage.counted_traffic == stage.formula_traffic for stage in check.stages)


def test_verify_catches_a_wrong_read_formula(monkeypatch):
    # A loop nest that claims every input element is read, for a 1x1 stride-2 conv.
    from symconv.layers.traffic import EVERY_ELEMENT

    layer = Conv2d(2, 2, 1, stride=2)
    honest = verify(layer, (6, 6, 2))
    assert honest.ok and honest.stages[0].counted_traffic == {"reads": 18 + 4, "writes": 18}
    original = Conv2d.loop_nest

    def wrong(self, *args, **kwargs):
        nest = original(self, *args, **kwargs)
        return type(nest)(**{**nest.__dict__, "access": EVERY_ELEMENT})

    monkeypatch.setattr(Conv2d, "loop_nest", wrong)
    broken = verify(layer, (6, 6, 2)).stages[0]
    assert not broken.match
    assert (broken.counted["reads"], broken.formula["reads"]) == (22, 72 + 4)


def test_tracking_is_optional():
    x = np.ones((5, 5, 3))
    assert execute(Conv2d(3, 4, 3), x).traffic is None
    assert execute(Conv2d(3, 4, 3), x, method="reference").traffic is None


def test_mobilenet_v2_small_verifies_traffic():
    from symconv.networks.zoo import mobilenet_v2

    check = verify(mobilenet_v2(alpha=0.25, resolution=32))
    assert check.ok
    assert all(stage.counted_traffic is not None for stage in check.stages)
