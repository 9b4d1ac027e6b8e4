"""The executors: counts worked out by hand, outputs against an independent convolution, and
property tests holding the fast executor, the reference executor and the derived formulas
against each other."""

from __future__ import annotations

import importlib
import importlib.util
import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from symconv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    SymconvError,
    cost,
    execute,
)
from symconv.layers import ConvNd, ConvTransposeNd, Layer
from symconv.strategies import conv_cases
from symconv.symbols import M, k

ex = importlib.import_module("symconv.execute")

# (layer, input shape, mults, adds), every number worked out by hand.
HAND_COUNTS = [
    # The founding example: 5·5 positions · 64 channels · 3·3·3 taps = 43200; 26 adds per dot.
    (Conv2d(3, 64, 3), (7, 7, 3), 43200, 5 * 5 * 64 * 26),
    # A bias adds one per output element: 41600 + 5·5·64 = 43200.
    (Conv2d(3, 64, 3, bias=True), (7, 7, 3), 43200, 43200),
    # Depthwise: 5·5·3 outputs of 3·3·1 taps = 675 mults, 8 adds each = 600.
    (DepthwiseConv2d(3, 3), (7, 7, 3), 675, 600),
    # Pointwise: 5·5·64 outputs of 3 taps = 4800 mults, 2 adds each = 3200.
    (PointwiseConv2d(3, 64), (5, 5, 3), 4800, 3200),
    # Separable: 675 + 4800 = 5475 mults, 600 + 3200 = 3800 adds.
    (DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3), 5475, 3800),
    # Grouped, strided, padded: H_o = floor((5 + 2 − 3)/2) + 1 = 3; 3·3·6 outputs of
    # 3·3·(4/2) = 18 taps (padding zeros included): 972 mults, 17 adds each = 918.
    (Conv2d(4, 6, 3, stride=2, padding=1, groups=2), (5, 5, 4), 972, 918),
    # Rectangular kernel 2×3 on 4×5: 3·3 positions · 2 channels · 2·3·1 taps = 108; 5 adds each.
    (Conv2d(1, 2, (2, 3)), (4, 5, 1), 108, 3 * 3 * 2 * 5),
    # Dilated 1-D: reach 2·(3 − 1) + 1 = 5, L_o = 7 − 5 + 1 = 3; 3·3 outputs of 3·2 taps = 54.
    (Conv1d(2, 3, 3, dilation=2), (7, 2), 54, 3 * 3 * 5),
    # 3-D: 2·2·2 positions · 2 channels = 16 outputs of 2·2·2 taps: 128 mults, 7 adds each.
    (Conv3d(1, 2, 2), (3, 3, 3, 1), 128, 16 * 7),
    # Transposed, scatter form: 5·5·8 inputs × 3·3·4 weights = 7200 mults, one add each.
    (ConvTranspose2d(8, 4, 3, stride=2), (5, 5, 8), 7200, 7200),
    # Transposed, grouped, cropped, with bias: L_o = (4 − 1)·2 − 2 + 2 + 1 + 1 = 8;
    # 4 positions · 4 channels × 3 taps · 6/2 channels = 144 mults; 144 + 8·6 bias = 192 adds.
    (ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=True),
     (4, 4), 144, 192),
    # Products landing on cropped positions count: 2 inputs × 3 taps = 6, though L_o = 2.
    (ConvTranspose1d(1, 1, 3, padding=1), (2, 1), 6, 6),
]


@pytest.mark.parametrize("method", ["fast", "reference"])
@pytest.mark.parametrize(("layer", "shape", "mults", "adds"), HAND_COUNTS)
def test_counts_worked_out_by_hand(layer: Layer, shape: tuple[int, ...], mults: int, adds: int,
                                   method: Any) -> None:
    counts = execute(layer, np.ones(shape), method=method).counts
    assert counts is not None
    assert (counts.mults, counts.adds, counts.divs, counts.comparisons) == (mults, adds, 0, 0)
    assert type(counts.mults) is int and type(counts.adds) is int


def test_founding_example_stages() -> None:
    run = execute(DepthwiseSeparableConv2d(3, 64, 3), np.ones((7, 7, 3)))
    assert [(name, stage.counts.mults) for name, stage in run.stages if stage.counts] == [
        ("depthwise", 675), ("pointwise", 4800)]
    assert run.output.shape == (5, 5, 64)
    assert run.stages[0][1].output.shape == (5, 5, 3)
    assert run.params["depthwise"]["weight"].shape == (3, 3, 1, 3)
    assert run.params["pointwise"]["weight"].shape == (1, 1, 3, 64)


# (layer, x, params, expected output), computed by hand.
HAND_OUTPUTS = [
    # out[i, j] = x[i, j] − x[i + 1, j + 1] = −4 everywhere for x = 1..9 row by row.
    (Conv2d(1, 1, 2), np.arange(1.0, 10.0).reshape(3, 3, 1),
     {"weight": np.array([[1.0, 0.0], [0.0, -1.0]]).reshape(2, 2, 1, 1)},
     np.full((2, 2, 1), -4.0)),
    # Padding 1 around a 2×2 of ones, all-ones 3×3 kernel: every window holds the four ones.
    (Conv2d(1, 1, 3, padding=1), np.ones((2, 2, 1)), {"weight": np.ones((3, 3, 1, 1))},
     np.full((2, 2, 1), 4.0)),
    # Stride 2, dilation 2, bias 0.5 in 1-D: x = 0..6, taps x[2o] + 10·x[2o + 2] (+ 0.5).
    (Conv1d(1, 1, 2, stride=2, dilation=2, bias=True), np.arange(7.0).reshape(7, 1),
     {"weight": np.array([1.0, 10.0]).reshape(2, 1, 1), "bias": np.array([0.5])},
     np.array([[20.5], [42.5], [64.5]])),
    # Two groups of one channel: channel 0 doubles, channel 1 triples.
    (Conv1d(2, 2, 1, groups=2), np.array([[1.0, 1.0], [2.0, 5.0]]),
     {"weight": np.array([2.0, 3.0]).reshape(1, 1, 2)}, np.array([[2.0, 3.0], [4.0, 15.0]])),
    # Transposed, stride 2: full = [1, 10, 100 + 2, 20, 200]; padding 1 crops one each side.
    (ConvTranspose1d(1, 1, 3, stride=2, padding=1), np.array([[1.0], [2.0]]),
     {"weight": np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)}, np.array([[10.0], [102.0], [20.0]])),
    # Transposed, output_padding 1 adds a position that receives nothing: [1, 10, 2, 20, 0].
    (ConvTranspose1d(1, 1, 2, stride=2, padding=0, output_padding=1), np.array([[1.0], [2.0]]),
     {"weight": np.array([1.0, 10.0]).reshape(2, 1, 1)}, np.array([[1.0], [10.0], [2.0], [20.0], [0.0]])),
    # Transposed, two groups: channel 0 scatters to output 0 times 2, channel 1 to output 1 times 3.
    (ConvTranspose1d(2, 2, 1, groups=2), np.array([[1.0, 1.0], [2.0, 5.0]]),
     {"weight": np.array([2.0, 3.0]).reshape(1, 2, 1)}, np.array([[2.0, 3.0], [4.0, 15.0]])),
]


@pytest.mark.parametrize("method", ["fast", "reference"])
@pytest.mark.parametrize(("layer", "x", "params", "expected"), HAND_OUTPUTS)
def test_outputs_worked_out_by_hand(layer: Layer, x: np.ndarray, params: dict[str, np.ndarray],
                                    expected: np.ndarray, method: Any) -> None:
    run = execute(layer, x, params, method=method)
    assert run.output.dtype == np.float64
    np.testing.assert_allclose(run.output, expected)


# --------------------------------------------------------------------------- independent


def direct_conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, layer: ConvNd) -> np.ndarray:
    """A convolution written apart from symconv: zero-insert the kernel (dilation), zero-pad the
    input, and for every output position sum the elementwise product of window and kernel."""
    kernel = tuple(int(size) for size in layer.kernel_size)
    stride = tuple(int(size) for size in layer.stride)
    padding = tuple(int(size) for size in layer.padding)
    dilation = tuple(int(size) for size in layer.dilation)
    groups = int(layer.groups)
    reach = tuple(d * (kk - 1) + 1 for kk, d in zip(kernel, dilation))
    spread = np.zeros((*reach, *weight.shape[-2:]))
    spread[tuple(slice(None, None, d) for d in dilation)] = weight
    padded = np.pad(x, [(p, p) for p in padding] + [(0, 0)])
    out_sizes = [(n - r) // s + 1 for n, r, s in zip(padded.shape[:-1], reach, stride)]
    channels_out = weight.shape[-1]
    per_in, per_out = x.shape[-1] // groups, channels_out // groups
    out = np.zeros((*out_sizes, channels_out))
    for position in itertools.product(*(range(size) for size in out_sizes)):
        window = padded[tuple(slice(o * s, o * s + r) for o, s, r in zip(position, stride, reach))]
        for n in range(channels_out):
            group = n // per_out
            out[(*position, n)] = np.sum(window[..., group * per_in:(group + 1) * per_in] * spread[..., n])
    return out if bias is None else out + bias


def direct_transposed(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
                      layer: ConvTransposeNd) -> np.ndarray:
    """A transposed convolution as the textbook identity: insert stride − 1 zeros between input
    elements, pad by d·(k − 1) (plus output_padding at the end), correlate with the flipped
    kernel at stride 1, and crop the padding off each side."""
    dims = x.ndim - 1
    kernel = tuple(int(size) for size in layer.kernel_size)
    stride = tuple(int(size) for size in layer.stride)
    padding = tuple(int(size) for size in layer.padding)
    dilation = tuple(int(size) for size in layer.dilation)
    extra = tuple(int(size) for size in layer.output_padding)
    groups = int(layer.groups)
    inserted = np.zeros((*((n - 1) * s + 1 for n, s in zip(x.shape[:-1], stride)), x.shape[-1]))
    inserted[tuple(slice(None, None, s) for s in stride)] = x
    widened = np.pad(inserted, [(d * (kk - 1), d * (kk - 1) + a) for kk, d, a in zip(kernel, dilation, extra)]
                     + [(0, 0)])
    # Conv weight (k..., M/g, N) from the transposed (k..., M, N/g): flip, regroup per group.
    channels_in, per_out = weight.shape[-2], weight.shape[-1]
    per_in = channels_in // groups
    flipped = weight[tuple(slice(None, None, -1) for _ in range(dims))]
    conv_weight = np.zeros((*kernel, per_in, per_out * groups))
    for group in range(groups):
        conv_weight[..., group * per_out:(group + 1) * per_out] = flipped[..., group * per_in:(group + 1) * per_in, :]
    conv = Conv1d if dims == 1 else Conv2d if dims == 2 else Conv3d
    full = direct_conv(widened, conv_weight, None,
                       conv(channels_in, per_out * groups, kernel, dilation=dilation, groups=groups))
    out = full[tuple(slice(p, full.shape[axis] - p) for axis, p in enumerate(padding))]
    return out if bias is None else out + bias


def independent(layer: Layer, x: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    if isinstance(layer, DepthwiseSeparableConv2d):
        for name, stage in layer.stages:
            x = independent(stage, x, params[name])
        return x
    if isinstance(layer, ConvTransposeNd):
        return direct_transposed(x, params["weight"], params.get("bias"), layer)
    assert isinstance(layer, ConvNd)
    return direct_conv(x, params["weight"], params.get("bias"), layer)


def test_independent_convolution_agrees_with_numpy_correlate() -> None:
    # The test's own convolution, checked in 1-D against numpy.correlate per channel pair.
    rng = np.random.default_rng(5)
    x, weight = rng.standard_normal((9, 2)), rng.standard_normal((3, 2, 4))
    layer = Conv1d(2, 4, 3, dilation=2)
    expected = np.zeros((5, 4))
    for n, m in itertools.product(range(4), range(2)):
        spread = np.zeros(5)
        spread[::2] = weight[:, m, n]
        expected[:, n] += np.correlate(x[:, m], spread, mode="valid")
    np.testing.assert_allclose(direct_conv(x, weight, None, layer), expected)


SMALL_CASES = conv_cases(max_size=5, max_channels=4, max_kernel=3, max_groups=2)


@given(SMALL_CASES, st.integers(0, 2**16))
def test_fast_reference_formula_and_independent_agree(case: tuple[Layer, tuple[int, ...]], seed: int) -> None:
    layer, shape = case
    x = np.random.default_rng(seed).standard_normal(shape)
    fast = execute(layer, x, seed=seed)
    reference = execute(layer, x, method="reference", seed=seed)
    derived = cost(layer, shape)
    assert fast.counts == reference.counts
    assert fast.counts is not None
    assert (fast.counts.mults, fast.counts.adds) == (derived.mults, derived.adds)
    assert fast.output.shape == reference.output.shape == tuple(int(size) for size in derived.output_shape)
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fast.output, independent(layer, x, fast.params), rtol=1e-10, atol=1e-10)
    for (name, stage), (stage_name, stage_cost) in zip(fast.stages, derived.stages):
        assert name == stage_name
        assert stage.counts is not None
        assert (stage.counts.mults, stage.counts.adds) == (stage_cost.mults, stage_cost.adds)


@given(conv_cases(max_size=6, max_channels=6))
def test_count_false_computes_the_same_output(case: tuple[Layer, tuple[int, ...]]) -> None:
    layer, shape = case
    x = np.random.default_rng(1).standard_normal(shape)
    counted, uncounted = execute(layer, x), execute(layer, x, count=False)
    assert uncounted.counts is None
    np.testing.assert_array_equal(counted.output, uncounted.output)


# --------------------------------------------------------------------------- parameters


def test_params_are_seeded_standard_normals() -> None:
    layer, x = Conv2d(3, 4, 3, bias=True), np.ones((5, 5, 3))
    first, again, other = execute(layer, x, seed=7), execute(layer, x, seed=7), execute(layer, x, seed=8)
    np.testing.assert_array_equal(first.params["weight"], again.params["weight"])
    np.testing.assert_array_equal(first.output, again.output)
    assert not np.array_equal(first.params["weight"], other.params["weight"])
    assert first.params["weight"].shape == (3, 3, 3, 4) and first.params["bias"].shape == (4,)
    assert first.params["weight"].dtype == np.float64


def test_transposed_weight_has_pytorch_order_kernel_first() -> None:
    run = execute(ConvTranspose2d(6, 4, (2, 3), groups=2, bias=True), np.ones((3, 3, 6)))
    assert run.params["weight"].shape == (2, 3, 6, 2)
    assert run.params["bias"].shape == (4,)


def test_user_params_are_used_and_converted() -> None:
    weight = [[[[1, 2]]]]  # ints, nested lists: (1, 1, 1, 2)
    run = execute(PointwiseConv2d(1, 2), np.full((2, 2, 1), 3), {"weight": weight})
    np.testing.assert_array_equal(run.output, np.tile([3.0, 6.0], (2, 2, 1)))
    assert run.params["weight"].dtype == np.float64


def test_composite_params_nested_by_stage() -> None:
    layer = DepthwiseSeparableConv2d(2, 3, 1, bias=True)
    params = {
        "depthwise": {"weight": np.array([2.0, 3.0]).reshape(1, 1, 1, 2), "bias": np.zeros(2)},
        "pointwise": {"weight": np.ones((1, 1, 2, 3)), "bias": np.array([0.0, 1.0, 2.0])},
    }
    run = execute(layer, np.ones((1, 1, 2)), params)
    # depthwise: [2, 3]; pointwise: 2 + 3 = 5 plus bias [0, 1, 2].
    np.testing.assert_allclose(run.output.ravel(), [5.0, 6.0, 7.0])


BAD_PARAMS = [
    (Conv2d(3, 8, 3), {"weight": np.ones((3, 3, 3, 4))},
     "params['weight'] has shape (3, 3, 3, 4) but Conv2d expects shape (3, 3, 3, 8)"),
    (Conv2d(3, 8, 3, bias=True), {"weight": np.ones((3, 3, 3, 8))},
     "params['bias'] is missing: Conv2d("),
    (Conv2d(3, 8, 3), {"weight": np.ones((3, 3, 3, 8)), "bias": np.ones(8)},
     "params['bias'] is not a parameter of Conv2d("),
    (Conv2d(3, 8, 3), [np.ones((3, 3, 3, 8))], "params must be a dict of arrays with keys ['weight']"),
    (Conv2d(3, 8, 3), {"weight": "heavy"}, "params['weight'] must be an array of real numbers"),
    (DepthwiseSeparableConv2d(3, 8, 3), {"depthwise": {"weight": np.ones((3, 3, 1, 3))}},
     "params['pointwise'] is missing: pass the parameters of every stage"),
    (DepthwiseSeparableConv2d(3, 8, 3),
     {"depthwise": {"weight": np.ones((3, 3, 1, 3))}, "pointwise": {"weight": np.ones((1, 1, 3, 3))}},
     "params['pointwise']['weight'] has shape (1, 1, 3, 3) but PointwiseConv2d expects shape (1, 1, 3, 8)"),
    (DepthwiseSeparableConv2d(3, 8, 3), {"middle": {}},
     "params['middle'] is not a stage of DepthwiseSeparableConv2d; its stages are ['depthwise', 'pointwise']"),
]


@pytest.mark.parametrize(("layer", "params", "message"), BAD_PARAMS)
def test_bad_params_name_key_expected_and_given(layer: Layer, params: Any, message: str) -> None:
    with pytest.raises(SymconvError) as error:
        execute(layer, np.ones((7, 7, 3)), params)
    assert message in str(error.value)


# --------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    (Conv2d(M, 8, 3), np.ones((7, 7, 3)), "has symbolic sizes (M); execute needs numbers"),
    (Conv2d(3, 8, k), np.ones((7, 7, 3)), "substitute a number for k"),
    (Conv2d(3, 8, 3), np.ones((7, 7)), "x has shape (7, 7) but Conv2d needs 3 axes (H, W, C), channels last"),
    (Conv2d(3, 8, 3), np.ones((1, 7, 7, 3)), "no batch axis"),
    (Conv1d(3, 8, 3), np.ones((7, 7, 3)), "needs 2 axes (L, C)"),
    (Conv2d(3, 8, 3), np.ones((3, 7, 7)), "x has shape (3, 7, 7): 7 channels, but Conv2d expects in_channels=3"),
    (Conv2d(3, 8, 3, dilation=2), np.ones((4, 7, 3)),
     "x has size 4 along H, but kernel_size=3 with dilation=2 spans 5 > 4 + 2·0 (padding)"),
    (ConvTranspose1d(1, 1, 1, padding=1), np.ones((1, 1)), "padding=1 crops the whole output along L"),
    (Conv2d(3, 8, 3), np.ones((0, 7, 3)), "x has shape (0, 7, 3); it needs a channel axis (last) and no axis of size 0"),
    (Conv2d(3, 8, 3), "pixels", "x must be an array of real numbers"),
    (DepthwiseSeparableConv2d(3, 8, 5), np.ones((4, 4, 3)), "x has size 4 along H"),
]


@pytest.mark.parametrize(("layer", "x", "message"), BAD_INPUTS)
def test_bad_inputs_say_what_and_how_to_fix(layer: Layer, x: Any, message: str) -> None:
    with pytest.raises(SymconvError) as error:
        execute(layer, x)
    assert message in str(error.value)


@pytest.mark.parametrize(("keywords", "message"), [
    ({"method": "slow"}, "method='slow' must be one of 'fast', 'reference'"),
    ({"seed": 1.5}, "seed=1.5 must be an int"),
])
def test_bad_options(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        execute(Conv2d(3, 8, 3), np.ones((7, 7, 3)), **keywords)


def test_not_a_layer() -> None:
    with pytest.raises(SymconvError, match="must be a symconv layer"):
        execute("conv", np.ones((7, 7, 3)))  # type: ignore[arg-type]


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Halve(Layer):
    """A layer only these tests know: divides every element by 2."""


@dataclass(frozen=True)
class Unknown(Layer):
    """A layer nobody registered an executor for."""


@ex.run_fast.register
def _(layer: Halve, x: np.ndarray, params: dict[str, Any], counter: Any) -> np.ndarray:
    return counter.divide(x, 2.0)


def test_registered_executor_runs_and_counts() -> None:
    run = execute(Halve(), np.ones((4, 4, 3)))
    np.testing.assert_array_equal(run.output, np.full((4, 4, 3), 0.5))
    assert run.counts == ex.Counts(divs=48) and run.params == {}


def test_unregistered_layer_is_refused() -> None:
    with pytest.raises(SymconvError, match="layer=Unknown has no executor; register one"):
        execute(Unknown(), np.ones((2, 2)))
    with pytest.raises(SymconvError, match="layer=Halve has no reference executor"):
        execute(Halve(), np.ones((2, 2)), method="reference")


# (helper, operands, expected counts), by hand.
COUNTER_CASES = [
    # 2 × 3 outputs, each a dot product of 4: 24 mults, 18 adds.
    ("einsum", ("ik,kj->ij", np.ones((2, 4)), np.ones((4, 3))), ex.Counts(mults=24, adds=18)),
    # Three operands: 2 mults per point of 5; a sum of 5 terms: 4 adds.
    ("einsum", ("i,i,i->", np.ones(5), np.ones(5), np.ones(5)), ex.Counts(mults=10, adds=4)),
    # Nothing summed: an outer product is 6 mults, no adds.
    ("einsum", ("i,j->ij", np.ones(2), np.ones(3)), ex.Counts(mults=6)),
    # Batched: 3 batches × 2·5 outputs of 4 terms: 120 mults, 90 adds.
    ("matmul", (np.ones((3, 2, 4)), np.ones((4, 5))), ex.Counts(mults=120, adds=90)),
    ("multiply", (np.ones((2, 3)), np.ones(3)), ex.Counts(mults=6)),
    ("add", (np.ones((2, 3)), 1.0), ex.Counts(adds=6)),
    ("divide", (np.ones(4), np.ones(4)), ex.Counts(divs=4)),
    ("maximum", (np.ones((2, 2)), 0.0), ex.Counts(comparisons=4)),
]


@pytest.mark.parametrize(("helper", "operands", "expected"), COUNTER_CASES)
def test_counter_helpers_count_from_shapes(helper: str, operands: tuple[Any, ...], expected: Any) -> None:
    counter = ex.Counter()
    result = getattr(counter, helper)(*operands)
    assert counter.counts() == expected
    silent = ex.Counter(enabled=False)
    np.testing.assert_array_equal(getattr(silent, helper)(*operands), result)
    assert silent.counts() == ex.Counts()


def test_counter_add_into_counts_each_target_element() -> None:
    counter, target = ex.Counter(), np.zeros((4, 3))
    counter.add_into(target[1:3], np.ones(3))
    assert counter.counts() == ex.Counts(adds=6)
    assert target.sum() == 6.0


def test_counter_matmul_into_a_buffer() -> None:
    counter, buffer = ex.Counter(), np.empty((2, 5))
    result = counter.matmul(np.ones((2, 3)), np.ones((3, 5)), out=buffer)
    assert result is buffer and float(buffer.sum()) == 30.0
    assert counter.counts() == ex.Counts(mults=30, adds=20)  # 2·5 dot products of 3 terms


def test_counter_einsum_refuses_implicit_specs() -> None:
    with pytest.raises(ValueError, match="must be explicit"):
        ex.Counter().einsum("ij,jk", np.ones((2, 2)), np.ones((2, 2)))


def test_scratch_arrays_never_leak_into_results() -> None:
    # The fast executor keeps its padded input and product buffers between calls: a result must
    # never alias them, and a second call must not change the first call's output.
    from concurrent.futures import ThreadPoolExecutor

    layer = Conv2d(8, 8, 3, padding=1)
    rng = np.random.default_rng(7)
    inputs = [rng.standard_normal((12, 12, 8)) for _ in range(6)]
    params = execute(layer, inputs[0]).params
    first = execute(layer, inputs[0], params).output
    kept = first.copy()
    second = execute(layer, inputs[1], params).output
    assert np.array_equal(first, kept)
    assert not np.shares_memory(first, second)
    reference = [execute(layer, x, params, method="reference").output for x in inputs]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda x: execute(layer, x, params).output, inputs * 4))
    for got, want in zip(threaded, reference * 4):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- output positions

geometry = importlib.import_module("symconv.execute.geometry")

STRIDED_CASES = conv_cases(kinds=("standard", "grouped", "depthwise", "transposed"), max_size=7,
                           max_channels=2, max_kernel=3, max_stride=3, max_dilation=3,
                           max_padding=2, max_groups=2)


@given(STRIDED_CASES)
def test_reference_finds_the_output_positions_the_fast_executor_computes(
        case: tuple[Layer, tuple[int, ...]]) -> None:
    # The fast executor takes its output sizes from the layer's shape arithmetic, the reference
    # one by trying window placements (or, transposed, by where the products land).
    layer, shape = case
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    assert fast.output.shape == reference.output.shape
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-10, atol=1e-10)


@st.composite
def _pool_cases(draw: st.DrawFn) -> tuple[Layer, tuple[int, ...]]:
    from symconv import AvgPool2d, MaxPool2d

    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = tuple(draw(st.integers(0, size // 2)) for size in kernel)
    if draw(st.booleans()):
        dilation = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
        layer: Layer = MaxPool2d(kernel, stride, padding, dilation=dilation)
    else:
        dilation = (1, 1)
        layer = AvgPool2d(kernel, stride, padding)
    reach = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    sizes = [draw(st.integers(max(1, r - 2 * p), 8)) for r, p in zip(reach, padding)]
    return layer, (*sizes, draw(st.integers(1, 2)))


@given(_pool_cases())
def test_pooling_reference_finds_the_output_positions_the_fast_executor_computes(
        case: tuple[Layer, tuple[int, ...]]) -> None:
    layer, shape = case
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    assert fast.output.shape == reference.output.shape
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12, atol=1e-12)
    assert fast.counts == reference.counts


@pytest.mark.parametrize(("size", "padding", "reach", "stride", "starts"), [
    (7, 0, 3, 1, [0, 1, 2, 3, 4]),     # 7 − 3 + 1 = 5 placements
    (7, 1, 5, 2, [0, 2, 4]),           # padded 9: starts 0, 2, 4 (6 + 5 > 9)
    (5, 0, 5, 3, [0]),                 # exactly one window fits
    (4, 1, 3, 4, [0]),                 # padded 6: a window at 4 would need 4 + 3 = 7
    (2, 2, 1, 2, [0, 2, 4]),           # padded 6, a 1-wide window: 0, 2, 4
])
def test_placements_by_hand(size: int, padding: int, reach: int, stride: int, starts: list[int]) -> None:
    assert geometry.placements(size, padding=padding, reach=reach, stride=stride) == starts


def test_the_reference_executor_does_not_use_the_shape_arithmetic(monkeypatch: pytest.MonkeyPatch) -> None:
    # Break the shape arithmetic the fast executor reads: the reference one still finds the
    # 3 output positions of L = 7, k = 3, s = 2 (starts 0, 2, 4); the fast one follows the lie.
    import sympy

    layer, x = Conv1d(1, 1, 3, stride=2), np.arange(7.0).reshape(7, 1)
    monkeypatch.setattr(geometry, "output_spatial", lambda layer, spatial: (sympy.Integer(2),))
    geometry.output_sizes.cache_clear()
    try:
        assert execute(layer, x, method="reference").output.shape == (3, 1)
        assert execute(layer, x).output.shape == (2, 1)
    finally:
        geometry.output_sizes.cache_clear()


# --------------------------------------------------------------------------- every fast path

conv_module = importlib.import_module("symconv.execute.conv")

# (IM2COL_LIMIT, DEPTHWISE_BLOCK): the defaults; no im2col and one row per depthwise block;
# im2col for everything.
FAST_PATH_SETTINGS = [(conv_module.IM2COL_LIMIT, conv_module.DEPTHWISE_BLOCK), (0, 1), (2**40, 2**40)]


@given(conv_cases(max_size=6, max_channels=4, max_kernel=3, max_stride=2, max_dilation=2,
                  max_padding=2, max_groups=2),
       st.sampled_from(FAST_PATH_SETTINGS))
def test_every_fast_path_agrees_with_the_reference(case: tuple[Layer, tuple[int, ...]],
                                                   setting: tuple[int, int]) -> None:
    # Small layers without groups take im2col, larger ones one matmul per kernel offset,
    # depthwise ones a per-channel multiply-add in blocks of rows: each must compute and count
    # what the reference executor does.
    layer, shape = case
    x = np.random.default_rng(2).standard_normal(shape)
    reference = execute(layer, x, method="reference")
    kept = conv_module.IM2COL_LIMIT, conv_module.DEPTHWISE_BLOCK
    conv_module.IM2COL_LIMIT, conv_module.DEPTHWISE_BLOCK = setting
    try:
        fast = execute(layer, x)
    finally:
        conv_module.IM2COL_LIMIT, conv_module.DEPTHWISE_BLOCK = kept
    assert fast.counts == reference.counts
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_the_depthwise_path_split_over_threads_counts_every_block(threads: int) -> None:
    # One row per block, 37 rows: split over threads, each with its own counter, added up after.
    layer, x = DepthwiseConv2d(4, 3, stride=(1, 2), padding=1, dilation=2), np.random.default_rng(1).standard_normal((39, 9, 4))
    reference = execute(layer, x, method="reference")
    kept = conv_module.DEPTHWISE_BLOCK, conv_module.THREADS
    conv_module.DEPTHWISE_BLOCK, conv_module.THREADS = 1, threads
    try:
        fast = execute(layer, x)
    finally:
        conv_module.DEPTHWISE_BLOCK, conv_module.THREADS = kept
    assert fast.output.shape == reference.output.shape == (37, 4, 4)
    # 37·4·4 outputs of 9 products: 5328 mults, 8 adds each.
    assert fast.counts == reference.counts == ex.Counts(mults=37 * 4 * 4 * 9, adds=37 * 4 * 4 * 8)
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12, atol=1e-12)
