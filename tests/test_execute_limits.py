"""What the executors refuse or bound: values they would silently change (NaN, complex numbers,
masks), the scratch memory they keep, and work too big for the machine."""

from __future__ import annotations

import importlib
import math
import warnings
from typing import Any

import numpy as np
import pytest

from symconv import (
    Conv2d,
    DepthwiseSeparableConv2d,
    MaxPool2d,
    ReLU,
    ReLU6,
    SymconvError,
    execute,
)
from symconv.layers import Activation, BatchNorm2d, Layer

conv_module = importlib.import_module("symconv.execute.conv")

NAN = math.nan

# (layer, one row of inputs, what PyTorch gives, comparisons per element): NaN propagates in
# torch.relu, relu6, hardtanh, hardsigmoid, hardswish, leaky_relu and max_pool (checked against
# torch itself in tests/test_execute_torch.py).
NAN_CASES: list[tuple[Layer, list[float], list[float], int]] = [
    (ReLU(), [NAN, -1.0, 2.0], [NAN, 0.0, 2.0], 1),
    (ReLU6(), [NAN, -1.0, 7.0], [NAN, 0.0, 6.0], 2),
    (Activation("relu"), [NAN, -1.0, 2.0], [NAN, 0.0, 2.0], 1),
    (Activation("relu6"), [NAN, -1.0, 7.0], [NAN, 0.0, 6.0], 2),
    (Activation("hardtanh"), [NAN, -3.0, 0.5], [NAN, -1.0, 0.5], 2),
    (Activation("hardsigmoid"), [NAN, -4.0, 3.0], [NAN, 0.0, 1.0], 2),
    (Activation("leakyrelu"), [NAN, -1.0, 2.0], [NAN, -0.01, 2.0], 1),
]


@pytest.mark.parametrize("method", ["fast", "reference"])
@pytest.mark.parametrize(("layer", "row", "expected", "comparisons"), NAN_CASES)
def test_nan_propagates_as_in_pytorch(layer: Layer, row: list[float], expected: list[float],
                                      comparisons: int, method: Any) -> None:
    run = execute(layer, np.array([row]), method=method)
    np.testing.assert_array_equal(run.output, np.array([expected]))   # NaN == NaN here
    assert run.counts is not None and run.counts.comparisons == comparisons * len(row)


@pytest.mark.parametrize("method", ["fast", "reference"])
def test_max_pool_keeps_a_nan_wherever_it_is_in_the_window(method: Any) -> None:
    # Windows of 2 along W, stride 1; channel 0 has NaN second in its first window, channel 1 first.
    x = np.array([[1.0, NAN, 3.0, 0.0], [NAN, 1.0, 3.0, 0.0]]).T.reshape(1, 4, 2)
    run = execute(MaxPool2d((1, 2), stride=1), x, method=method)
    np.testing.assert_array_equal(run.output[0].T, [[NAN, NAN, 3.0], [NAN, 3.0, 3.0]])
    assert run.counts is not None and run.counts.comparisons == 2 * 3


COMPLEX_OR_MASKED = [
    ("x", lambda: np.ones((3, 3, 2)) * (1 + 2j), None, "x holds complex numbers"),
    ("x", lambda: [[[1.0, 1j]] * 3] * 3, None, "x holds complex numbers"),
    ("x", lambda: np.ma.masked_array(np.ones((3, 3, 2)), mask=np.eye(3)[..., None].repeat(2, -1)),
     None, "x is a masked array; its mask would be lost"),
    ("params", lambda: np.ones((3, 3, 2)), {"weight": np.ones((1, 1, 2, 4)) * 1j},
     "params['weight'] holds complex numbers"),
    ("params", lambda: np.ones((3, 3, 2)),
     {"weight": np.ma.masked_array(np.ones((1, 1, 2, 4)), mask=True)},
     "params['weight'] is a masked array"),
]


@pytest.mark.parametrize(("what", "make_x", "params", "message"), COMPLEX_OR_MASKED)
def test_complex_and_masked_values_are_refused_not_cut_down(what: str, make_x: Any, params: Any,
                                                            message: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")       # not a ComplexWarning: an error
        with pytest.raises(SymconvError, match=message.replace("[", r"\[").replace("]", r"\]")):
            execute(Conv2d(2, 4, 1), make_x(), params)


def test_complex_and_masked_buffers_are_refused() -> None:
    good = np.ones(2)
    for bad, message in ((good * 1j, "holds complex numbers"),
                         (np.ma.masked_array(good, mask=[True, False]), "is a masked array")):
        with pytest.raises(SymconvError, match=r"buffers\['running_var'\] " + message):
            execute(BatchNorm2d(2), np.ones((2, 2, 2)),
                    buffers={"running_mean": good, "running_var": bad})


def _kept() -> list[int]:
    return [array.nbytes for array in getattr(conv_module._SCRATCH, "arrays", {}).values()]


def test_scratch_kept_after_a_large_convolution_is_bounded() -> None:
    # Two calls, each with a scratch array above the 16 MiB limit, cheap to compute: a padded
    # input of 102·102·256·8 B ≈ 20.3 MiB, and a product buffer (one per kernel offset after the
    # first) of 100·101·256·8 B ≈ 19.7 MiB. Each is made for its call, then freed.
    execute(Conv2d(256, 1, 1, padding=1), np.ones((100, 100, 256)), count=False)
    assert all(size <= conv_module.SCRATCH_ARRAY_LIMIT for size in _kept())
    execute(Conv2d(1, 256, (1, 2)), np.ones((100, 102, 1)), count=False)
    assert all(size <= conv_module.SCRATCH_ARRAY_LIMIT for size in _kept())
    assert sum(_kept()) <= conv_module.SCRATCH_TOTAL_LIMIT
    assert 100 * 101 * 256 * 8 > conv_module.SCRATCH_ARRAY_LIMIT == 16 * 2**20
    # Small arrays are still kept (the point of the scratch): a 24×24×64 call leaves its padded
    # input and product buffer.
    execute(Conv2d(64, 64, 3, padding=1), np.ones((24, 24, 64)))
    assert 26 * 26 * 64 * 8 in _kept() and 24 * 24 * 64 * 8 in _kept()


def test_scratch_kept_stays_within_its_total_over_many_shapes() -> None:
    # Ten padded inputs of 10–12 MiB each (102² to 111² positions × 128 channels × 8 B): keeping
    # the last eight would hold ~88 MiB without the total bound.
    for size in range(100, 110):
        execute(DepthwiseSeparableConv2d(128, 8, 3, padding=1), np.ones((size, size, 128)), count=False)
        assert sum(_kept()) <= conv_module.SCRATCH_TOTAL_LIMIT
        assert len(_kept()) <= 16
