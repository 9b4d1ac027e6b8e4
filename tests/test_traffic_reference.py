"""The reference executor's traffic: it marks each scalar as its loops read it
(``execute(..., method="reference", track=True)``), and ``verify(..., method="reference")`` holds
those reads and writes against ``Cost.reads``/``Cost.writes``.

Expected values are worked out by hand (the table in tests/test_traffic.py, repeated here for the
reference executor) or are the derived formulas, which come from loop nests, not from either
executor; the fast executor's traffic is a second, independent count."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
    execute,
    verify,
)
from symconv.errors import SymconvError
from symconv.strategies import conv_cases, network_cases

# (layer, input shape, reads, writes), each worked out by hand.
HAND = [
    # 1x1 stride 2 on 8x8x8: rows/cols 0, 2, 4, 6 -> 16 positions of 64; weight 8·8
    (Conv2d(8, 8, 1, stride=2), (8, 8, 8), 16 * 8 + 64, 4 * 4 * 8),
    # 2x2 stride 3 on 7: windows {0,1}, {3,4} -> 4 of 7 per axis (position 6 never read)
    (Conv2d(1, 1, 2, stride=3), (7, 7, 1), 16 + 4, 4),
    # 3x3, padding 1: every real position (the padding is no read); 108 weights, 4 biases
    (Conv2d(3, 4, 3, padding=1, bias=True), (5, 5, 3), 75 + 108 + 4, 100),
    (DepthwiseConv2d(2, 3, stride=2, padding=1), (6, 6, 2), 72 + 18, 18),
    (ConvTranspose2d(2, 5, 3, stride=2), (4, 4, 2), 32 + 90, 9 * 9 * 5),
    # 2x2 max pool on 5: the last row and column never read
    (MaxPool2d(2), (5, 5, 3), 4 * 4 * 3, 2 * 2 * 3),
    (AvgPool2d(3, stride=2, padding=1), (6, 6, 1), 36, 9),
    (GlobalAvgPool2d(), (7, 7, 4), 196, 4),
    (Linear(10, 3, bias=True), (10,), 10 + 30 + 3, 3),
    (BatchNorm2d(4), (3, 3, 4), 36 + 8, 36),
    (ReLU(), (3, 3, 4), 36, 36),
]


@pytest.mark.parametrize(("layer", "shape", "reads", "writes"), HAND)
def test_reference_touches_what_was_worked_out_by_hand(layer, shape, reads, writes):
    x = np.random.default_rng(1).standard_normal(shape)
    run = execute(layer, x, method="reference", track=True)
    assert (run.traffic.reads, run.traffic.writes) == (reads, writes)


def test_a_strided_pointwise_reads_exactly_the_even_positions():
    from symconv.execute.counter import Counter
    from symconv.execute.registry import run_reference
    from symconv.execute.traffic import Tracker

    x = np.random.default_rng(0).standard_normal((6, 6, 2))
    tracker = Tracker()
    tracker.watch("input", x)
    run_reference(Conv2d(2, 3, 1, stride=2), x, {"weight": np.ones((1, 1, 2, 3))},
                  Counter(tracker=tracker))
    (watched, *aliases) = [w for w in tracker.watched if w.name == "input"]
    read = np.zeros((6, 6, 2), dtype=bool)
    for alias in aliases:
        read |= alias.mask[alias.region]
    expected = np.zeros((6, 6, 2), dtype=bool)
    expected[::2, ::2] = True
    assert (read | watched.mask).tolist() == expected.tolist()


def test_verify_with_the_reference_executor_reports_traffic():
    check = verify(Conv2d(8, 8, 1, stride=2), (8, 8, 8), method="reference")
    assert check.ok
    assert check.stages[0].counted_traffic == {"reads": 192, "writes": 128}


def test_verify_with_the_reference_catches_a_wrong_read_formula(monkeypatch):
    from symconv.layers.traffic import EVERY_ELEMENT

    original = Conv2d.loop_nest

    def wrong(self, *args, **kwargs):
        nest = original(self, *args, **kwargs)
        return type(nest)(**{**nest.__dict__, "access": EVERY_ELEMENT})

    monkeypatch.setattr(Conv2d, "loop_nest", wrong)
    broken = verify(Conv2d(2, 2, 1, stride=2), (6, 6, 2), method="reference").stages[0]
    assert not broken.match
    assert (broken.counted["reads"], broken.formula["reads"]) == (18 + 4, 72 + 4)


def test_verify_refuses_an_unknown_method_and_reference_backward():
    with pytest.raises(SymconvError, match="method='slow' must be 'fast' or 'reference'"):
        verify(Conv2d(2, 2, 1), (4, 4, 2), method="slow")
    with pytest.raises(SymconvError, match="forward pass of the direct algorithm"):
        verify(Conv2d(2, 2, 1), (4, 4, 2), method="reference", phase="backward")


def _layers_beyond_networks():
    from symconv.layers import (
        AdaptiveAvgPool2d,
        AdaptiveMaxPool2d,
        GroupNorm,
        LayerNorm,
        LayerScale,
        Mean,
        Softmax,
    )

    return [
        (Softmax(axis=-1), (3, 4, 5)),
        (LayerNorm(5), (3, 4, 5)),
        (GroupNorm(2, 4), (3, 3, 4)),
        (Mean(axes=(0, 1)), (3, 4, 2)),
        (AdaptiveAvgPool2d((2, 3)), (5, 7, 2)),
        (AdaptiveMaxPool2d((2, 2)), (5, 5, 2)),
        (LayerScale(4), (3, 3, 4)),
    ]


@pytest.mark.parametrize("index", range(7))
def test_reference_traffic_of_other_layers_matches_the_formulas(index):
    layer, shape = _layers_beyond_networks()[index]
    check = verify(layer, shape, method="reference")
    assert check.ok, check.stages
    fast = verify(layer, shape)
    assert [s.counted_traffic for s in check.stages] == [s.counted_traffic for s in fast.stages]


@settings(max_examples=40)
@given(conv_cases(max_size=7, max_stride=3, max_channels=4))
def test_reference_traffic_of_convolutions_matches_the_formulas(case):
    layer, shape = case
    check = verify(layer, shape, method="reference")
    assert check.ok, check.stages
    assert all(stage.counted_traffic == stage.formula_traffic for stage in check.stages)


@settings(max_examples=25)
@given(network_cases(max_layers=4, max_size=5, max_channels=3))
def test_reference_traffic_of_networks_matches_the_formulas_and_the_fast_executor(case):
    network, shape = case
    check = verify(network, shape, method="reference")
    assert check.ok, [stage for stage in check.stages if not stage.match]
    fast = verify(network, shape)
    assert [s.counted_traffic for s in check.stages] == [s.counted_traffic for s in fast.stages]
