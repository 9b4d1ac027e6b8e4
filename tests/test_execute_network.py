"""Executing the layers around convolutions and whole networks: counts worked out by hand,
outputs against independent computations written here, the fast executor against the reference
one, and the counts of every layer against the derived rows (property tests of random networks,
and the MobileNets)."""

from __future__ import annotations

import dataclasses
import importlib
import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy
from hypothesis import given

import symconv.layers
from symconv import (
    AvgPool2d,
    BatchNorm2d,
    Conv2d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Residual,
    Sequential,
    SymconvError,
    cost,
    execute,
    verify,
)
from symconv.layers import Activation, Add, BatchNorm1d, Composite, Graph, Layer, ResidualAdd, Reuse
from symconv.networks.rows import rows
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2
from symconv.strategies import network_cases
from symconv.symbols import rho

ex = importlib.import_module("symconv.execute")
EPS = 1e-5


def _x(shape: tuple[int, ...], seed: int = 0, scale: float = 3.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape) * scale


def _counts(run: Any) -> dict[str, int]:
    """The four counts the tables here give (none of these layers evaluates a transcendental)."""
    counts = run.counts.as_dict()
    assert counts.pop("transcendentals") == 0
    return counts


def _both(layer: Layer, x: np.ndarray, **kwargs: Any) -> Any:
    """Run fast and reference; they must agree on counts exactly and on outputs to tolerance."""
    fast = execute(layer, x, **kwargs)
    reference = execute(layer, x, method="reference", **kwargs)
    assert fast.counts == reference.counts
    # Sums run in another order (BLAS against one product at a time): equal to rounding, relative
    # to the size of the values (deep random networks cancel large terms).
    scale = max(1.0, float(np.abs(reference.output).max()))
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-9, atol=1e-9 * scale)
    return fast


# (layer, input shape, {kind: count}), every number worked out by hand; kinds not named are 0.
HAND_COUNTS = [
    # 2·3 positions × 4 outputs, dot products of 5 terms: 120 mults, 4 adds each + 1 bias = 120.
    (Linear(5, 4), (2, 3, 5), {"mults": 120, "adds": 120}),
    # Without a bias: 4 adds per output, 24 outputs.
    (Linear(5, 4, bias=False), (2, 3, 5), {"mults": 120, "adds": 96}),
    # On a vector: 3 outputs of 1024 terms... kept small: 3 outputs of 6 terms, 5 adds + 1 bias.
    (Linear(6, 3), (6,), {"mults": 18, "adds": 18}),
    # Folded BatchNorm: 4·5·3 = 60 elements, 1 mult and 1 add each, no division.
    (BatchNorm2d(3), (4, 5, 3), {"mults": 60, "adds": 60}),
    (BatchNorm1d(3), (7, 3), {"mults": 21, "adds": 21}),
    (BatchNorm1d(3), (3,), {"mults": 3, "adds": 3}),
    # Activations: 60 elements; ReLU one comparison, ReLU6 two.
    (ReLU(), (4, 5, 3), {"comparisons": 60}),
    (ReLU6(), (4, 5, 3), {"comparisons": 120}),
    # AvgPool 2×2 on 4×4×3: 2·2·3 = 12 outputs, 3 adds and 1 division each.
    (AvgPool2d(2), (4, 4, 3), {"adds": 36, "divs": 12}),
    # AvgPool 3×3, stride 2, padding 1 on 5×5×2: H_o = (5 + 2 − 3)//2 + 1 = 3; 18 outputs,
    # 8 adds each (padding zeros included) and 1 division.
    (AvgPool2d(3, stride=2, padding=1), (5, 5, 2), {"adds": 144, "divs": 18}),
    # MaxPool 3×3 stride 2 padding 1 on 112×112×64 is MobileNet-free ResNet's; small: on 6×6×2,
    # H_o = (6 + 2 − 3)//2 + 1 = 3, 18 outputs of 8 comparisons.
    (MaxPool2d(3, stride=2, padding=1), (6, 6, 2), {"comparisons": 144}),
    # Dilated 2×2 window (reach 3), stride 1 on 5×4: 3·2 positions · 2 channels, 3 comparisons.
    (MaxPool2d(2, stride=1, dilation=2), (5, 4, 2), {"comparisons": 36}),
    # Global average: per channel 3·4 − 1 = 11 adds and one division; 5 channels.
    (GlobalAvgPool2d(), (3, 4, 5), {"adds": 55, "divs": 5}),
    (Flatten(), (3, 4, 5), {}),
    # Residual of (depthwise 3×3 padded, ReLU) on 5×5×8: depthwise 200 outputs × 9 = 1800
    # mults, 8 adds each = 1600; ReLU 200 comparisons; the closing add 200.
    (Residual(Sequential(("depthwise", DepthwiseConv2d(8, 3, padding=1)), ("relu", ReLU()))),
     (5, 5, 8), {"mults": 1800, "adds": 1800, "comparisons": 200}),
]


@pytest.mark.parametrize(("layer", "shape", "expected"), HAND_COUNTS,
                         ids=[f"{type(case[0]).__name__}-{case[1]}" for case in HAND_COUNTS])
def test_counts_by_hand_fast_equals_reference_equals_formula(
    layer: Layer, shape: tuple[int, ...], expected: dict[str, int]
) -> None:
    run = _both(layer, _x(shape))
    assert _counts(run) == {kind: expected.get(kind, 0) for kind in ("mults", "adds", "divs", "comparisons")}
    derived = cost(layer, shape)
    assert _counts(run) == {kind: int(getattr(derived, kind)) for kind in _counts(run)}
    assert run.output.shape == tuple(int(size) for size in derived.output_shape)


def test_linear_by_hand() -> None:
    # [1, 2, 3] · [[1, 0], [0, 1], [1, 1]] = [4, 5]; + [10, 20] = [14, 25]. 2 outputs of 3
    # terms: 6 mults, 2·2 adds + 2 bias adds.
    x = np.array([1.0, 2.0, 3.0])
    params = {"weight": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "bias": [10.0, 20.0]}
    run = _both(Linear(3, 2), x, params=params)
    assert run.output.tolist() == [14.0, 25.0]
    assert _counts(run) == {"mults": 6, "adds": 6, "divs": 0, "comparisons": 0}
    assert run.params["weight"].shape == (3, 2) and run.buffers == {}


def test_linear_maps_every_position_alike() -> None:
    x = _x((2, 3, 4))
    run = _both(Linear(4, 5), x)
    weight, bias = run.params["weight"], run.params["bias"]
    expected = np.array([[[sum(x[i, j, m] * weight[m, n] for m in range(4)) + bias[n]
                           for n in range(5)] for j in range(3)] for i in range(2)])
    np.testing.assert_allclose(run.output, expected, rtol=1e-12)


def test_batchnorm_against_the_unfolded_formula() -> None:
    x = _x((4, 3, 5))
    gamma, beta = np.arange(1.0, 6.0), np.linspace(-1, 1, 5)
    mean, var = np.array([0.5, -0.2, 0.0, 1.0, 3.0]), np.array([1.0, 0.25, 2.0, 0.5, 4.0])
    run = _both(BatchNorm2d(5), x, params={"weight": gamma, "bias": beta},
                buffers={"running_mean": mean, "running_var": var})
    expected = np.empty_like(x)
    for i, j, c in itertools.product(range(4), range(3), range(5)):
        expected[i, j, c] = gamma[c] * (x[i, j, c] - mean[c]) / math.sqrt(var[c] + EPS) + beta[c]
    np.testing.assert_allclose(run.output, expected, rtol=1e-12, atol=1e-12)
    # Folded: one mult and one add per element; a and b computed once, not counted.
    assert _counts(run) == {"mults": 60, "adds": 60, "divs": 0, "comparisons": 0}


def test_batchnorm_keeps_buffers_apart_from_params() -> None:
    run = execute(BatchNorm2d(4), _x((2, 2, 4)), seed=3)
    assert sorted(run.params) == ["bias", "weight"]
    assert sorted(run.buffers) == ["running_mean", "running_var"]
    # Drawn buffers are positive (a variance must be) and repeatable with the seed.
    assert (run.buffers["running_var"] > 0).all()
    again = execute(BatchNorm2d(4), _x((2, 2, 4)), seed=3)
    np.testing.assert_array_equal(again.buffers["running_var"], run.buffers["running_var"])
    # The parameter count a verification reports excludes the buffers: 2·C.
    check = verify(BatchNorm2d(4), (2, 2, 4))
    assert check.ok and (check.stages[0].counted_params, check.stages[0].formula_params) == (8, 8)


def test_verify_reports_parameters_that_differ_from_the_formula() -> None:
    @dataclasses.dataclass(frozen=True)
    class ReLUWithSlopes(ReLU):   # an executor that holds parameters the derivation does not know
        pass

    ex.parameter_shapes.register(ReLUWithSlopes, lambda layer: {"slope": (3,)})
    check = verify(ReLUWithSlopes(), (2, 2, 3))
    assert not check.ok
    stage = check.stages[0]
    assert (stage.counted["params"], stage.formula["params"], stage.match) == (3, 0, False)
    assert "params" not in verify(ReLU(), (2, 2, 3)).stages[0].counted


def test_relu_and_relu6_by_hand() -> None:
    x = np.array([[-2.0, 0.0, 3.0, 7.5]])
    relu = _both(ReLU(), x)
    assert relu.output.tolist() == [[0.0, 0.0, 3.0, 7.5]] and relu.counts.comparisons == 4
    relu6 = _both(ReLU6(), x)
    assert relu6.output.tolist() == [[0.0, 0.0, 3.0, 6.0]] and relu6.counts.comparisons == 8


def _avg_pool_loops(x: np.ndarray, k: int, s: int, p: int) -> np.ndarray:
    """Average pooling by explicit loops, zero padding counted in the divisor."""
    height, width, channels = x.shape
    out_h, out_w = (height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1
    out = np.zeros((out_h, out_w, channels))
    for i, j, c in itertools.product(range(out_h), range(out_w), range(channels)):
        total = 0.0
        for a, b in itertools.product(range(k), range(k)):
            row, col = i * s + a - p, j * s + b - p
            if 0 <= row < height and 0 <= col < width:
                total += x[row, col, c]
        out[i, j, c] = total / (k * k)
    return out


def _max_pool_loops(x: np.ndarray, k: int, s: int, p: int, d: int) -> np.ndarray:
    """Max pooling by explicit loops over the positions inside the input (padding is −∞)."""
    height, width, channels = x.shape
    reach = d * (k - 1) + 1
    out_h, out_w = (height + 2 * p - reach) // s + 1, (width + 2 * p - reach) // s + 1
    out = np.full((out_h, out_w, channels), -np.inf)
    for i, j, c in itertools.product(range(out_h), range(out_w), range(channels)):
        for a, b in itertools.product(range(k), range(k)):
            row, col = i * s + a * d - p, j * s + b * d - p
            if 0 <= row < height and 0 <= col < width:
                out[i, j, c] = max(out[i, j, c], x[row, col, c])
    return out


def test_avg_pool_by_hand() -> None:
    x = np.arange(16.0).reshape(4, 4, 1)
    run = _both(AvgPool2d(2), x)
    assert run.output[..., 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    assert _counts(run) == {"mults": 0, "adds": 12, "divs": 4, "comparisons": 0}


@pytest.mark.parametrize(("k", "s", "p"), [(2, 2, 0), (3, 2, 1), (3, 1, 1), (2, 1, 1), (3, 3, 0)])
def test_avg_pool_against_loops(k: int, s: int, p: int) -> None:
    x = _x((5, 6, 3))
    run = _both(AvgPool2d(k, stride=s, padding=p), x)
    np.testing.assert_allclose(run.output, _avg_pool_loops(x, k, s, p), rtol=1e-12)
    outputs = run.output.size
    assert _counts(run) == {"mults": 0, "adds": (k * k - 1) * outputs, "divs": outputs, "comparisons": 0}


@pytest.mark.parametrize(("k", "s", "p", "d"), [(2, 2, 0, 1), (3, 2, 1, 1), (3, 1, 1, 1), (2, 1, 1, 2), (3, 1, 1, 2)])
def test_max_pool_against_loops(k: int, s: int, p: int, d: int) -> None:
    x = _x((6, 7, 2))
    run = _both(MaxPool2d(k, stride=s, padding=p, dilation=d), x)
    np.testing.assert_array_equal(run.output, _max_pool_loops(x, k, s, p, d))
    assert _counts(run) == {"mults": 0, "adds": 0, "divs": 0, "comparisons": (k * k - 1) * run.output.size}


def test_pool_window_larger_than_the_input_is_refused() -> None:
    with pytest.raises(SymconvError, match="x has size 2 along H, but kernel_size=3"):
        execute(MaxPool2d(3), np.ones((2, 5, 1)))


def test_global_avg_pool_and_flatten_by_hand() -> None:
    x = _x((3, 4, 5))
    pooled = _both(GlobalAvgPool2d(), x)
    assert pooled.output.shape == (1, 1, 5)
    expected = [sum(x[i, j, c] for i in range(3) for j in range(4)) / 12 for c in range(5)]
    np.testing.assert_allclose(pooled.output.ravel(), expected, rtol=1e-12)
    flat = _both(Flatten(), x)
    assert flat.output.tolist() == [x[i, j, c] for i in range(3) for j in range(4) for c in range(5)]
    assert _counts(flat) == {"mults": 0, "adds": 0, "divs": 0, "comparisons": 0}


# What each Activation computes, written out here; the slope and limits are PyTorch's defaults.
ACTIVATION_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "relu": lambda v: max(v, 0.0),
    "relu6": lambda v: min(max(v, 0.0), 6.0),
    "hardtanh": lambda v: min(max(v, -1.0), 1.0),
    "leakyrelu": lambda v: v if v > 0 else 0.01 * v,
    "hardsigmoid": lambda v: min(max(v + 3.0, 0.0), 6.0) / 6.0,
    "hardswish": lambda v: v * min(max(v + 3.0, 0.0), 6.0) / 6.0,
}


# Operations per element, read off the definitions above (not from the layer's own table):
# (mults, adds, divs, comparisons).
ACTIVATION_COUNTS = {
    "relu": (0, 0, 0, 1),            # one max
    "relu6": (0, 0, 0, 2),           # a max and a min
    "hardtanh": (0, 0, 0, 2),        # a max and a min
    "leakyrelu": (1, 0, 0, 1),       # slope·x, and x > 0
    "hardsigmoid": (0, 1, 1, 2),     # x + 3, a max and a min, / 6
    "hardswish": (1, 1, 1, 2),       # hardsigmoid, then times x
}


@pytest.mark.parametrize("function", sorted(ACTIVATION_FUNCTIONS))  # the rest: test_transcendentals
def test_activations_against_their_definition(function: str) -> None:
    x = _x((3, 4, 2), scale=5.0)
    run = _both(Activation(function), x)
    expected = np.vectorize(ACTIVATION_FUNCTIONS[function])(x)
    np.testing.assert_allclose(run.output, expected, rtol=1e-12, atol=1e-15)
    per_element = dict(zip(("mults", "adds", "divs", "comparisons"), ACTIVATION_COUNTS[function]))
    assert _counts(run) == {kind: count * 24 for kind, count in per_element.items()}
    assert verify(Activation(function, spelling="F"), (3, 4, 2)).ok


def test_residual_adds_the_block_input() -> None:
    block = Sequential(("conv", Conv2d(4, 4, 3, padding=1)), ("bn", BatchNorm2d(4)), ("relu6", ReLU6()))
    x = _x((5, 5, 4))
    run = _both(Residual(block), x)
    without_add = {name: value for name, value in run.params.items() if name != "add"}
    inner = execute(block, x, params=without_add,
                    buffers={name: value for name, value in run.buffers.items() if name != "add"})
    np.testing.assert_allclose(run.output, inner.output + x, rtol=1e-12)
    assert [name for name, _ in run.stages] == ["conv", "bn", "relu6", "add"]
    assert _counts(run.stages[-1][1]) == {"mults": 0, "adds": 100, "divs": 0, "comparisons": 0}
    # A block that is not a Sequential keeps its name, "block".
    separable = Residual(DepthwiseSeparableConv2d(4, 4, 3, padding=1))
    wrapped = _both(separable, x)
    assert [name for name, _ in wrapped.stages] == ["block", "add"]
    np.testing.assert_allclose(wrapped.output, wrapped.stages[0][1].output + x, rtol=1e-12)


def test_residual_whose_block_changes_the_shape_names_the_stage() -> None:
    net = Sequential(("block", Residual(Sequential(("conv", DepthwiseConv2d(8, 3))))))
    with pytest.raises(SymconvError, match=r"layer block\.add \(add\): the block's output \(3, 3, 8\) "
                                           r"must have the shape of its input \(5, 5, 8\)"):
        execute(net, np.ones((5, 5, 8)))


def test_residual_add_alone_is_refused() -> None:
    with pytest.raises(SymconvError, match="reads 'input' besides its input; run it as a stage"):
        execute(ResidualAdd(), np.ones((2, 2, 3)))


def test_nested_sequential_names_params_and_counts() -> None:
    net = Sequential(
        ("stem", Sequential(("conv", Conv2d(3, 8, 3, stride=2, padding=1)), ("bn", BatchNorm2d(8)),
                            ("relu", ReLU()))),
        ("block", DepthwiseSeparableConv2d(8, 16, 3, padding=1)),
        ("pool", GlobalAvgPool2d()), ("flatten", Flatten()), ("fc", Linear(16, 10)),
    )
    x = _x((8, 8, 3))
    run = _both(net, x)
    assert run.output.shape == (10,)
    assert set(run.params) == {"stem", "block", "pool", "flatten", "fc"}
    assert run.params["stem"]["conv"]["weight"].shape == (3, 3, 3, 8)
    assert run.params["block"]["pointwise"]["weight"].shape == (1, 1, 8, 16)
    assert run.buffers["stem"]["bn"]["running_mean"].shape == (8,)
    # The output, layer by layer with the same parameters, written with plain NumPy here.
    stem = run.stages[0][1]
    np.testing.assert_allclose(run.stages[1][1].output.mean(axis=(0, 1)), run.stages[2][1].output.ravel())
    fc = run.params["fc"]
    np.testing.assert_allclose(run.output, run.stages[2][1].output.ravel() @ fc["weight"] + fc["bias"])
    assert stem.stages[2][1].output.min() >= 0.0
    # Totals worked out by hand. stem.conv: H_o = (8 + 2 − 3)//2 + 1 = 4, 4·4·8 = 128 outputs
    # of 27 products (3456 mults, 3328 adds); bn 128 mults and adds; relu 128 comparisons;
    # depthwise 128 outputs of 9 (1152, 1024); pointwise 4·4·16 = 256 outputs of 8 (2048, 1792);
    # pool 16 channels of 16 terms (240 adds, 16 divs); fc 10 outputs of 16 terms + bias
    # (160, 160).
    assert run.counts == ex.Counts(mults=3456 + 128 + 1152 + 2048 + 160,
                                   adds=3328 + 128 + 1024 + 1792 + 240 + 160, divs=16,
                                   comparisons=128)


def test_params_and_buffers_round_trip_and_stages_without_params_may_be_left_out() -> None:
    net = Sequential(("conv", Conv2d(2, 3, 1)), ("bn", BatchNorm2d(3)), ("relu", ReLU()),
                     ("pool", GlobalAvgPool2d()))
    x = _x((3, 3, 2))
    first = execute(net, x, seed=1)
    params = {"conv": first.params["conv"], "bn": first.params["bn"]}       # relu, pool left out
    again = execute(net, x, params, buffers={"bn": first.buffers["bn"]}, seed=99)
    np.testing.assert_array_equal(again.output, first.output)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"params": {"bn": {"weight": np.ones(3), "bias": np.ones(3)}}},
     r"params\['conv'\] is missing: pass the parameters of every stage"),
    ({"buffers": {"bn": {"running_mean": np.ones(3), "running_var": np.ones(4)}}},
     r"buffers\['bn'\]\['running_var'\] has shape \(4,\) but BatchNorm2d expects shape \(3,\)"),
    ({"buffers": {"bn": {"running_mean": np.ones(3)}}},
     r"buffers\['bn'\]\['running_var'\] is missing"),
    ({"buffers": {"bn": {"running_mean": np.ones(3), "running_var": np.ones(3), "momentum": 1.0}}},
     r"buffers\['bn'\]\['momentum'\] is not a buffer of BatchNorm2d"),
    ({"buffers": {"relu6": {}}}, r"buffers\['relu6'\] is not a stage of Sequential"),
])
def test_bad_params_and_buffers_name_the_key(kwargs: dict[str, Any], message: str) -> None:
    net = Sequential(("conv", Conv2d(2, 3, 1)), ("bn", BatchNorm2d(3)), ("relu", ReLU()))
    with pytest.raises(SymconvError, match=message):
        execute(net, np.ones((2, 2, 2)), **kwargs)


def test_a_stage_that_does_not_fit_is_named_by_its_dotted_path() -> None:
    net = Sequential(("features", Sequential(("conv", Conv2d(3, 8, 3)))), ("fc", Linear(5, 2)))
    with pytest.raises(SymconvError, match=r"layer fc \(linear\): x has shape \(3, 3, 8\): 8 channels, "
                                           r"but Linear expects in_channels=5"):
        execute(net, np.ones((5, 5, 3)))


def test_a_symbolic_stage_is_refused_with_its_path() -> None:
    net = Sequential(("block", Sequential(("conv", Conv2d(3, sympy.Symbol("N", positive=True, integer=True), 3)))))
    with pytest.raises(SymconvError, match=r"\(stage block\.conv\) has symbolic sizes \(N\)"):
        execute(net, np.ones((5, 5, 3)))


def test_graph_reuse_and_add() -> None:
    # A projection shortcut: conv(x) + shortcut(x), then a Hardswish.
    net = Graph(("conv", Conv2d(4, 6, 1)), ("from input", Reuse("input", (3, 3, 4))),
                ("shortcut", Conv2d(4, 6, 1, bias=True)), ("add", Add(other="conv")),
                ("act", Activation("hardswish", spelling="F")))
    x = _x((3, 3, 4))
    run = _both(net, x)
    conv, shortcut = run.params["conv"], run.params["shortcut"]
    summed = x @ conv["weight"][0, 0] + x @ shortcut["weight"][0, 0] + shortcut["bias"]
    np.testing.assert_allclose(run.output, np.vectorize(ACTIVATION_FUNCTIONS["hardswish"])(summed), rtol=1e-12)
    assert _counts(run.stages[3][1]) == {"mults": 0, "adds": 54, "divs": 0, "comparisons": 0}
    assert _counts(run.stages[1][1]) == {"mults": 0, "adds": 0, "divs": 0, "comparisons": 0}
    check = verify(net, (3, 3, 4))
    assert check.ok and [stage.name for stage in check.stages] == [name for name, _ in net.stages]


def test_every_layer_kind_has_both_executors() -> None:
    """Every layer description of symconv.layers needs executors too; this lists the missing."""
    missing = []
    for module in (symconv.layers,):
        for name in module.__all__:
            kind = getattr(module, name)
            if not (isinstance(kind, type) and issubclass(kind, Layer)) or issubclass(kind, Composite) or kind is Layer:
                continue
            for runner in (ex.run_fast, ex.run_reference):
                if runner.dispatch(kind) is runner.dispatch(Layer):
                    missing.append(f"{runner.__name__}({name})")
    assert missing == []


# --------------------------------------------------------------------------- random networks


def test_a_flatten_nested_in_a_sequential() -> None:
    net = Sequential(("front", Sequential(("flatten", Flatten()))), ("bn", BatchNorm1d(2)))
    assert cost(net, (1, 2, 1)).output_shape == (2,)
    assert verify(net, (1, 2, 1)).ok


@given(network_cases())
def test_random_networks_counted_per_layer_equal_derived_rows(case: tuple[Sequential, tuple[int, ...]]) -> None:
    net, shape = case
    check = verify(net, shape)
    assert check.ok, [stage for stage in check.stages if not stage.match]
    derived = rows(cost(net, shape))
    assert [stage.name for stage in check.stages] == [row.name for row in derived]
    for stage, row in zip(check.stages, derived):
        for kind in ("mults", "adds", "divs", "comparisons"):
            assert stage.counted.get(kind, 0) == int(getattr(row, kind))
        assert stage.counted_params == int(row.params)


@given(network_cases(max_layers=4))
def test_random_networks_fast_equals_reference(case: tuple[Sequential, tuple[int, ...]]) -> None:
    net, shape = case
    _both(net, _x(shape))


@given(network_cases(kinds=("conv", "maxpool", "flatten", "linear"), min_layers=4, max_layers=4,
                     min_size=3, max_size=3, min_channels=2, max_channels=2, nested=False))
def test_network_cases_keep_to_their_bounds(case: tuple[Sequential, tuple[int, ...]]) -> None:
    net, shape = case
    assert shape == (3, 3, 2)
    assert 1 <= len(net) <= 4 and all(name[:-1] in ("conv", "maxpool", "flatten", "linear") for name, _ in net.stages)
    widths = [layer.out_channels for layer in net if isinstance(layer, Conv2d)]
    assert all(width == 2 for width in widths)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kinds": ("conv", "softmax")}, "'softmax' is not one of"),
    ({"min_size": 0}, "min_size=0 must be at least 1"),
    ({"min_channels": 5, "max_channels": 4}, "min_channels=5 must not exceed max_channels=4"),
    ({"nested": 1}, "nested=1 must be True or False"),
])
def test_network_cases_check_their_arguments_at_once(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        network_cases(**kwargs)


# --------------------------------------------------------------------------- the MobileNets


@pytest.mark.parametrize(("build", "resolution"), [(mobilenet_v1, 32), (mobilenet_v2, 32), (mobilenet_v1, 64)])
def test_mobilenets_verify_at_a_small_size(build: Callable[..., Sequential], resolution: int) -> None:
    net = build(alpha=0.25, resolution=resolution)
    check = verify(net)
    assert check.ok
    assert check.input_shape == (resolution, resolution, 3)
    assert [stage.name for stage in check.stages] == [row.name for row in rows(net)]
    kinds = {row.kind for row in rows(net)}
    assert {"batchnorm", "depthwise", "pointwise", "globalavgpool"} <= kinds
    if build is mobilenet_v2:
        assert "block3.add" in {stage.name for stage in check.stages}
        assert check.stages[-1].counted_params == 1280 * 1000 + 1000


def test_mobilenet_v2_fast_equals_reference() -> None:
    net = mobilenet_v2(alpha=0.25, resolution=32)
    _both(net, _x(net.input_shape, scale=1.0))


def test_verify_needs_a_shape_it_can_use() -> None:
    with pytest.raises(SymconvError, match=r"input_shape is needed: Sequential carries none"):
        verify(Sequential(ReLU()))
    with pytest.raises(SymconvError, match=r"must be a tuple of ints, channels last"):
        verify(mobilenet_v1(rho=rho))


# --------------------------------------------------------------------------- against PyTorch


def _torch_pairs(torch: Any) -> list[tuple[Layer, Any, tuple[int, ...]]]:
    """(symconv layer, the PyTorch module computing the same, input shape) pairs."""
    nn = torch.nn
    return [
        (Conv2d(3, 8, 3, stride=2, padding=1, bias=True), nn.Conv2d(3, 8, 3, 2, 1, bias=True), (9, 8, 3)),
        (DepthwiseConv2d(4, 3, padding=1), nn.Conv2d(4, 4, 3, 1, 1, groups=4, bias=False), (5, 5, 4)),
        (BatchNorm2d(4), nn.BatchNorm2d(4), (5, 5, 4)),
        (BatchNorm1d(4), nn.BatchNorm1d(4), (4,)),
        (ReLU6(), nn.ReLU6(), (5, 5, 4)),
        (AvgPool2d(3, stride=2, padding=1), nn.AvgPool2d(3, 2, 1), (7, 6, 2)),
        (MaxPool2d(3, stride=2, padding=1), nn.MaxPool2d(3, 2, 1), (7, 6, 2)),
        (MaxPool2d(2, stride=1, padding=1, dilation=2), nn.MaxPool2d(2, 1, 1, dilation=2), (5, 6, 2)),
        (GlobalAvgPool2d(), nn.AdaptiveAvgPool2d(1), (5, 3, 4)),
        (Linear(6, 3), nn.Linear(6, 3), (6,)),
        (Activation("leakyrelu"), nn.LeakyReLU(), (5, 5, 2)),
        (Activation("hardtanh"), nn.Hardtanh(), (5, 5, 2)),
        (Activation("hardsigmoid"), nn.Hardsigmoid(), (5, 5, 2)),
        (Activation("hardswish"), nn.Hardswish(), (5, 5, 2)),
    ]


def _load_into(torch: Any, module: Any, params: dict[str, np.ndarray], buffers: dict[str, np.ndarray]) -> None:
    """Copy symconv's parameters (channels last, kernel axes first) into a PyTorch module."""
    state = {}
    for name, value in {**params, **buffers}.items():
        if name == "weight" and value.ndim == 4:      # (k_h, k_w, C_in/g, C_out) -> (C_out, C_in/g, k_h, k_w)
            value = value.transpose(3, 2, 0, 1)
        elif name == "weight" and value.ndim == 2:    # Linear: (in, out) -> (out, in)
            value = value.T
        state[name] = torch.from_numpy(np.ascontiguousarray(value))
    loaded = module.load_state_dict(state, strict=False)
    assert not loaded.unexpected_keys and set(loaded.missing_keys) <= {"num_batches_tracked"}


def _torch_run(torch: Any, module: Any, x: np.ndarray) -> np.ndarray:
    """Run a module on one channels-last example: (H, W, C) goes in as (1, C, H, W)."""
    spatial = x.ndim == 3
    tensor = torch.from_numpy(x.transpose(2, 0, 1)[None] if spatial else x[None])
    with torch.no_grad():
        out = module.double().eval()(tensor).numpy()[0]
    return out.transpose(1, 2, 0) if spatial else out


def test_each_layer_computes_what_pytorch_computes() -> None:
    torch = pytest.importorskip("torch")
    for layer, module, shape in _torch_pairs(torch):
        x = _x(shape, seed=5)
        run = _both(layer, x)
        _load_into(torch, module.double(), run.params, run.buffers)
        np.testing.assert_allclose(run.output, _torch_run(torch, module, x), rtol=1e-10, atol=1e-12,
                                   err_msg=f"{layer!r} against {module!r}")


def test_a_residual_network_computes_what_pytorch_computes() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    net = Sequential(
        ("stem", Sequential(("conv", Conv2d(3, 4, 3, stride=2, padding=1)), ("bn", BatchNorm2d(4)),
                            ("relu6", ReLU6()))),
        ("block", Residual(Sequential(("conv", Conv2d(4, 4, 3, padding=1)), ("bn", BatchNorm2d(4)),
                                      ("relu", ReLU())))),
        ("pool", GlobalAvgPool2d()), ("flatten", Flatten()), ("fc", Linear(4, 3)),
    )
    x = _x((8, 8, 3), seed=2)
    run = _both(net, x)
    stem = nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU6()).double()
    block = nn.Sequential(nn.Conv2d(4, 4, 3, 1, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU()).double()
    fc = nn.Linear(4, 3).double()
    for modules, name in ((stem, "stem"), (block, "block")):
        _load_into(torch, modules[0], run.params[name]["conv"], {})
        _load_into(torch, modules[1], run.params[name]["bn"], run.buffers[name]["bn"])
    _load_into(torch, fc, run.params["fc"], {})
    with torch.no_grad():
        h = stem.eval()(torch.from_numpy(x.transpose(2, 0, 1)[None].copy()))
        h = h + block.eval()(h)
        expected = fc(h.mean(dim=(2, 3)))[0].numpy()
    np.testing.assert_allclose(run.output, expected, rtol=1e-10, atol=1e-12)
