"""What the executors refuse or bound: values they would silently change (NaN, complex numbers,
masks), the scratch memory they keep, and work too big for the machine."""

from __future__ import annotations

import importlib
import math
import tracemalloc
import warnings
from typing import Any

import numpy as np
import pytest

from symconv import (
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    MaxPool2d,
    ReLU,
    ReLU6,
    SymconvError,
    execute,
    verify,
)
from symconv.layers import Activation, BatchNorm2d, Layer
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2

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


# --------------------------------------------------------------------------- the budget

budget = importlib.import_module("symconv.execute.budget")


def test_an_estimate_worked_out_by_hand() -> None:
    # Conv2d(3, 64, 3) on 7×7×3: 5·5·64 outputs of 27 products each, plus one per output.
    need = budget.estimate(Conv2d(3, 64, 3), (7, 7, 3))
    assert need.operations == 5 * 5 * 64 * 27 + 5 * 5 * 64 == 44800
    assert (need.input, need.outputs, need.params, need.buffers) == (7 * 7 * 3 * 8, 5 * 5 * 64 * 8,
                                                                       3 * 3 * 3 * 64 * 8, 0)
    assert need.kernel_offsets == 9
    assert all(type(getattr(need, field)) is int for field in
               ("input", "outputs", "params", "buffers", "scratch", "kept", "operations",
                "kernel_offsets", "memory"))


def test_a_network_estimate_adds_its_layers() -> None:
    # Depthwise 3×3 then pointwise 3 -> 8 on 6×6×3 (4×4 out): every layer's output is kept.
    need = budget.estimate(DepthwiseSeparableConv2d(3, 8, 3), (6, 6, 3))
    assert need.outputs == (4 * 4 * 3 + 4 * 4 * 8) * 8
    assert need.params == (3 * 3 * 3 + 3 * 8) * 8
    assert need.operations == (4 * 4 * 3 * 9 + 4 * 4 * 3) + (4 * 4 * 8 * 3 + 4 * 4 * 8)
    assert need.kernel_offsets == 9 + 1


def _refused(run: Any) -> str:
    """Run, expecting a refusal before anything big is allocated; return its message."""
    tracemalloc.start()
    try:
        with pytest.raises(SymconvError) as error:
            run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"allocated {peak} bytes before refusing"
    return str(error.value)


def test_work_too_big_for_the_machine_is_refused_up_front() -> None:
    # 100000·100000·512 float64s of input alone: 37.3 TiB.
    message = _refused(lambda: verify(Conv2d(512, 64, 3), (100000, 100000, 512)))
    assert "input 37.3 TiB" in message and "of memory available now" in message
    assert "max_memory=<bytes>" in message and "--max-memory" in message
    # 8000×8000×3 -> 64: about 30 GiB of output alone; refused under 8 GiB.
    message = _refused(lambda: verify(Conv2d(3, 64, 3), (8000, 8000, 3), max_memory=8 * 2**30))
    assert "layer outputs 30.5 GiB" in message and "limit is 8.0 GiB (max_memory=8589934592)" in message
    # MobileNet V1 at 4096×4096: tens of GiB of activations.
    net = mobilenet_v1(resolution=4096)
    message = _refused(lambda: verify(net, max_memory=16 * 2**30))
    assert "limit is 16.0 GiB" in message


def test_backward_and_training_verification_too_big_are_refused_up_front() -> None:
    # The backward pass starts with the forward run: 100000·100000·512 float64s of input alone
    # (37.3 TiB) are refused before the input is drawn, as for the forward pass; before, the
    # input was drawn first and NumPy raised MemoryError.
    for phase in ("backward", "train"):
        message = _refused(lambda phase=phase: verify(Conv2d(512, 64, 3), (100000, 100000, 512),
                                                       phase=phase))
        assert "input 37.3 TiB" in message and "max_memory=<bytes>" in message
    # max_memory reaches the backward pass: 8000·8000·64 float64s of output are 30.5 GiB.
    message = _refused(lambda: verify(Conv2d(3, 64, 3), (8000, 8000, 3), phase="backward",
                                      max_memory=8 * 2**30))
    assert "layer outputs 30.5 GiB" in message and "limit is 8.0 GiB" in message
    message = _refused(lambda: verify(mobilenet_v1(resolution=4096), phase="train",
                                      max_memory=16 * 2**30))
    assert "limit is 16.0 GiB" in message


def test_the_default_limit_is_half_the_available_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "_read_available", lambda: 2**30)
    monkeypatch.setattr(budget, "_AVAILABLE_CACHE", [])
    layer = Conv2d(8, 8, 1)
    # 128·128·8 float64s in and out, and a 1 MiB base: about 3 MiB, allowed.
    execute(layer, np.ones((128, 128, 8)))
    # 4096·2048·8 float64s in and as many out: 1 GiB, refused.
    message = _refused(lambda: verify(layer, (4096, 2048, 8)))
    assert "but the limit is 512.0 MiB (half the 1.0 GiB of memory available now)" in message


def test_available_memory_is_read_from_meminfo_with_fallbacks(monkeypatch: pytest.MonkeyPatch,
                                                              tmp_path: Any) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  100 kB\nMemAvailable:   2048 kB\n")
    monkeypatch.setattr(budget, "_MEMINFO", meminfo)
    assert budget._read_available() == 2048 * 1024
    monkeypatch.setattr(budget, "_MEMINFO", tmp_path / "absent")
    monkeypatch.setattr(budget.os, "sysconf", lambda name: {"SC_AVPHYS_PAGES": 10, "SC_PAGE_SIZE": 4096}[name])
    assert budget._read_available() == 40960

    def no_sysconf(name: str) -> int:
        raise ValueError(name)

    monkeypatch.setattr(budget.os, "sysconf", no_sysconf)
    assert budget._read_available() == budget.FALLBACK_AVAILABLE == 8 * 2**30


def test_max_memory_changes_the_limit() -> None:
    layer, x = Conv2d(8, 8, 3), np.ones((64, 64, 8))
    need = budget.estimate(layer, x.shape).memory - x.nbytes     # execute: x exists already
    assert execute(layer, x, max_memory=need).output.shape == (62, 62, 8)
    message = _refused(lambda: execute(layer, x, max_memory=need - 1))
    assert f"limit is {budget.readable_bytes(need - 1)} (max_memory={need - 1})" in message


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "1G"])
def test_bad_limits_are_named(value: Any) -> None:
    for name in ("max_memory", "max_operations"):
        with pytest.raises(SymconvError, match=f"{name}={value!r} must be a positive int"):
            execute(Conv2d(1, 1, 1), np.ones((2, 2, 1)), **{name: value})


def test_slow_work_is_refused_by_operations() -> None:
    # The reference executor: 62·62·64 outputs × 576 products ≈ 1.4·10⁸ > 5·10⁷.
    message = _refused(lambda: execute(Conv2d(64, 64, 3), np.ones((64, 64, 64)), method="reference"))
    assert "1.42e+08 scalar operations with method='reference'" in message
    assert "method='fast'" in message and "max_operations=<count>" in message
    # Any method, below a given max_operations: 2·2 outputs × 1 product + 4 = 8 operations.
    layer, x = Conv2d(1, 1, 1), np.ones((2, 2, 1))
    assert execute(layer, x, max_operations=8, method="reference").counts is not None
    assert "max_operations=7" in _refused(lambda: execute(layer, x, max_operations=7))


def test_kernels_with_too_many_offsets_are_refused_by_the_fast_executor() -> None:
    # 400·400 = 160000 offsets, one Python step each; a 5001-long 1-D kernel (5001) runs.
    message = _refused(lambda: execute(Conv2d(1, 1, 400), np.ones((400, 400, 1))))
    assert "160000 offsets in all, above the fast executor's limit of 100000" in message
    run = execute(Conv1d(1, 1, 5001), np.ones((5001, 1)))
    assert run.counts is not None and run.counts.mults == 5001


ESTIMATED_RUNS = [
    (Conv2d(64, 64, 3, padding=1), (56, 56, 64), "fast"),             # one matmul per offset
    (Conv2d(8, 16, 3, padding=1, bias=True), (16, 16, 8), "fast"),      # im2col
    (DepthwiseConv2d(64, 3, padding=1), (64, 64, 64), "fast"),
    (Conv2d(64, 64, 3, groups=4, padding=2, dilation=2, bias=True), (40, 40, 64), "fast"),
    (ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1, bias=True), (40, 40, 32), "fast"),
    (ConvTranspose2d(32, 16, 3, stride=2, groups=4), (40, 40, 32), "fast"),
    (MaxPool2d(3, stride=2, padding=1), (80, 80, 32), "fast"),
    (Activation("leakyrelu"), (80, 80, 32), "fast"),
    (BatchNorm2d(32), (80, 80, 32), "fast"),
    (Conv2d(4, 4, 3, padding=1), (8, 8, 4), "reference"),
    (ConvTranspose2d(4, 4, 3, stride=2), (6, 6, 4), "reference"),
    (DepthwiseSeparableConv2d(4, 8, 3, padding=1), (8, 8, 4), "reference"),
]


@pytest.mark.parametrize(("layer", "shape", "method"), ESTIMATED_RUNS)
def test_the_estimate_covers_what_a_run_allocates(layer: Layer, shape: tuple[int, ...], method: Any) -> None:
    # tracemalloc sees NumPy's allocations: the peak of drawing the input and running must stay
    # within the estimate, and the estimate within 4× the peak (plus the 1 MiB base).
    conv_module._SCRATCH.__dict__.clear()
    tracemalloc.start()
    try:
        execute(layer, np.random.default_rng(0).standard_normal(shape), method=method)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    need = budget.estimate(layer, shape, method).memory
    assert peak <= need <= 4 * peak + budget.BASE_MEMORY, (peak, need)


def test_mobilenets_at_224_pass_every_default_bound() -> None:
    for net in (mobilenet_v1(), mobilenet_v2()):
        need = budget.check(net, net.input_shape, "fast", max_memory=2**31)
        assert need.operations < budget.FAST_MAX_OPERATIONS
        assert need.kernel_offsets < budget.FAST_MAX_KERNEL_OFFSETS
