"""Backward rules of the layer kinds beyond convolutions, BatchNorm and the piecewise activations
(issue 12): the transcendental activations, Softmax/LogSoftmax, LayerNorm, GroupNorm, BatchNorm
without affine parameters or frozen, Mean, Cat, Slice, ChannelShuffle, Pad, Identity/Dropout,
adaptive pooling, LayerScale and the AvgPool/MaxPool options. Counted (fast and reference)
against derived, gradients against finite differences; no torch needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import Conv2d, cost, verify
from symconv.execute import execute
from symconv.execute.backward import execute_backward
from symconv.layers import (
    ACTIVATIONS,
    Activation,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    Add,
    AvgPool2d,
    BatchNorm2d,
    Cat,
    ChannelShuffle,
    Dropout,
    Graph,
    GroupNorm,
    Identity,
    LayerNorm,
    LayerScale,
    LogSoftmax,
    MaxPool2d,
    Mean,
    Pad,
    Reuse,
    Sequential,
    Slice,
    Softmax,
    StochasticDepth,
)
from symconv.symbols import C, H, W
from tests.backward_checks import (
    assert_counted_backward_equals_derived,
    assert_fast_and_reference_gradients_agree,
    at,
    leaves,
    numeric,
    random_input,
    same_tree,
)

TRANSCENDENTAL = ("sigmoid", "silu", "tanh", "gelu", "gelu_tanh", "elu", "softplus", "mish")

CASES = [
    *((Activation(name), (3, 2, 4)) for name in TRANSCENDENTAL),
    (Activation("silu", spelling="F"), (5,)),
    (Softmax(), (3, 4)),
    (Softmax(axis=0), (3, 2, 4)),
    (LogSoftmax(), (2, 2, 5)),
    (LogSoftmax(axis=1), (3, 4, 2)),
    (LayerNorm(4), (3, 4)),
    (LayerNorm(5), (5,)),
    (LayerNorm(4, elementwise_affine=False), (2, 3, 4)),
    (LayerNorm(4, bias=False), (2, 2, 4)),
    (GroupNorm(2, 4), (3, 3, 4)),
    (GroupNorm(3, 3, affine=False), (2, 3, 3)),
    (BatchNorm2d(3, affine=False), (3, 3, 3)),
    (Mean((0, 1)), (3, 3, 2)),
    (Mean((0,), keepdim=True), (3, 2, 2)),
    (Mean(-1, keepdim=True), (2, 2, 3)),
    (Slice(1, 3), (3, 4)),
    (ChannelShuffle(2), (2, 2, 6)),
    (Pad((1, 2)), (4, 3, 2)),
    (Pad((1, 2, 2, 1), mode="reflect"), (4, 4, 2)),
    (Pad((1, 1, 0, 2), mode="replicate"), (3, 3, 2)),
    (Pad((2, 1), mode="circular"), (3, 4, 2)),
    (Identity(), (3, 2)),
    (Dropout(0.2), (3, 2)),
    (StochasticDepth(0.1), (2, 2, 2)),
    (AdaptiveAvgPool2d((3, 2)), (5, 4, 2)),
    (AdaptiveAvgPool2d(1), (3, 3, 2)),
    (AdaptiveMaxPool2d((2, 3)), (5, 4, 2)),
    (LayerScale(4), (3, 3, 4)),
    (AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (7, 7, 2)),
    (AvgPool2d(3, stride=2, padding=1, divisor_override=4), (6, 7, 2)),
    (AvgPool2d(2, ceil_mode=True), (5, 5, 2)),
    (AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (6, 6, 2)),
    (MaxPool2d(2, ceil_mode=True), (5, 5, 2)),
    (MaxPool2d(3, stride=2, padding=1, dilation=2), (9, 9, 2)),
    # a concatenation whose other operand has a second reader: its two gradients meet
    (Graph(("a", Conv2d(2, 3, 1)), ("b", Conv2d(3, 2, 1)), ("cat", Cat("a", (4, 4, 3))),
           ("c", Conv2d(5, 2, 1)), ("back", Reuse("a", (4, 4, 3))),
           ("cat2", Cat("c", (4, 4, 2), other_first=True))), (4, 4, 2)),
    # DenseNet's pattern: a tensor whose readers are all routing stages (a Cat, then an Add):
    # the addition of their gradients is charged to the later one, as derived
    (Graph(("a", Conv2d(2, 3, 1)), ("b", Reuse("input", (4, 4, 2))), ("c", Conv2d(2, 3, 1)),
           ("cat", Cat("a", (4, 4, 3))), ("d", Conv2d(6, 3, 1)), ("add", Add(other="a"))),
     (4, 4, 2)),
    (Sequential(Conv2d(2, 4, 3, padding=1), GroupNorm(2, 4), Activation("silu"),
                LayerScale(4), Activation("gelu"), Mean((0, 1))), (4, 4, 2)),
]


def _ids(case: tuple[object, tuple[int, ...]]) -> str:
    layer = case[0]
    return f"{getattr(layer, 'function', type(layer).__name__)}{case[1]}"


_x = random_input


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("input_grad", [True, False])
def test_counted_backward_equals_derived(case, input_grad):
    assert_counted_backward_equals_derived(*case, input_grad)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fast_and_reference_gradients_agree(case):
    assert_fast_and_reference_gradients_agree(*case)


def _loss(layer, x, params, buffers, grad):
    # the forward pass in training mode, as execute_backward runs it (Dropout: x times the
    # seeded noise; the same draws on every call)
    return float(np.sum(execute(layer, x, params, buffers=buffers, count=False,
                                training=True).output * grad))


# BatchNorm's forward is the folded inference form; its backward uses batch statistics
_DIFFERENTIABLE = [case for case in CASES if not isinstance(case[0], BatchNorm2d)]


@pytest.mark.parametrize("case", _DIFFERENTIABLE, ids=_ids)
def test_gradients_match_finite_differences(case):
    layer, shape = case
    x = _x(shape, seed=3)
    run = execute_backward(layer, x, seed=1, input_grad=True)
    params, buffers, grad = run.params, run.buffers, run.grad_output
    expected = numeric(lambda: _loss(layer, x, params, buffers, grad), x)
    np.testing.assert_allclose(run.grad_input, expected, rtol=1e-5, atol=1e-6)
    for name, held in leaves(params):
        expected = numeric(lambda: _loss(layer, x, params, buffers, grad), held)
        np.testing.assert_allclose(at(run.grads, name), expected, rtol=1e-5, atol=1e-6)


def test_batchnorm_without_affine_is_the_gradient_of_training_statistics():
    layer, x = BatchNorm2d(3, affine=False), _x((4, 4, 3), seed=5)
    run = execute_backward(layer, x, seed=2)
    assert run.grads == {}

    def loss() -> float:
        rows = x.reshape(-1, 3)
        normal = (rows - rows.mean(0)) / np.sqrt(rows.var(0) + 1e-5)
        return float(np.sum(normal.reshape(x.shape) * run.grad_output))

    np.testing.assert_allclose(run.grad_input, numeric(loss, x), rtol=1e-5, atol=1e-6)


def test_frozen_batchnorm_computes_no_parameter_gradient():
    net = Sequential(Conv2d(3, 4, 3, padding=1), BatchNorm2d(4))
    frozen = cost(net, (5, 5, 3), phase="backward", frozen=("1",))
    assert [name for name, _ in dict(frozen.stages)["1"].gradients] == [
        "centre", "sum_g", "dot", "constants", "input_grad"]
    trained = cost(net, (5, 5, 3), phase="backward")
    assert trained.mults - frozen.mults == 4           # dγ = dot·(1/σ), one mult per channel
    run = execute_backward(net, _x((5, 5, 3)), frozen=("1",))
    assert set(run.grads) == {"0"}
    assert verify(net, (5, 5, 3), phase="train", frozen=("1",)).ok


# ------------------------------------------------------------------------- hand counts


def test_batchnorm_backward_counts_x_minus_mean_once_as_the_docs_say():
    """docs/conventions.md: E = 100 elements in C = 4 channels. By hand, per element: x − μ
    (1 add), Σ g (1 add), Σ g·(x − μ) (1 mult, 1 add), (g − Σg/E − (x − μ)·c)·γ/σ (2 mults,
    2 adds); the two sums take one add fewer per channel; per channel dot·(1/σ)², γ/σ and
    dγ: 4 mults. ATen's CPU kernel recomputes x − μ (4 mults, 6 adds per element)."""
    c = cost(BatchNorm2d(4), (5, 5, 4), phase="backward")
    e, channels = 100, 4
    assert (c.mults, c.adds) == (3 * e + 4 * channels, 5 * e - 2 * channels) == (316, 492)
    text = (Path(__file__).resolve().parents[1] / "docs" / "conventions.md").read_text("utf-8")
    assert "`3E + 4C` multiplications and `5E − 2C`" in text and "316 and 492" in text


def test_transcendentals_are_counted_as_the_backward_computes_them():
    """Per element, from the formulas written out by hand (docs/conventions.md)."""
    per_element = {
        # g·(1 − y)·y from the saved output: no exp
        "sigmoid": {"mults": 2, "adds": 1},
        "tanh": {"mults": 2, "adds": 1},
        # σ = 1/(1 + exp(−x)); g·σ·(1 + x·(1 − σ))
        "silu": {"transcendentals": 1, "adds": 3, "divs": 1, "mults": 3},
        # 0.5·(1 + erf(x·√½)) and c·exp(x·x·(−½)); g·(Φ + x·φ)
        "gelu": {"transcendentals": 2, "adds": 2, "mults": 7},
        "gelu_tanh": {"transcendentals": 1, "adds": 5, "mults": 12},
        "elu": {"transcendentals": 1, "comparisons": 1, "mults": 2},
        "softplus": {"transcendentals": 1, "comparisons": 1, "mults": 2, "adds": 1, "divs": 1},
        "mish": {"transcendentals": 4, "adds": 3, "divs": 1, "mults": 4},
    }
    for name, counts in per_element.items():
        c = cost(Activation(name), (H, W, C), phase="backward")
        for kind in ("mults", "adds", "divs", "comparisons", "transcendentals"):
            assert getattr(c, kind) == counts.get(kind, 0) * H * W * C, (name, kind)
    assert set(per_element) | {"relu", "relu6", "hardtanh", "leakyrelu", "hardsigmoid",
                               "hardswish"} == set(ACTIVATIONS)


def test_softmax_and_norm_backward_by_hand():
    L = sympy.Symbol("L", positive=True, integer=True)
    c = cost(Softmax(), (H, L), phase="backward")            # rows: H, each of L
    assert sympy.expand(c.mults - 2 * H * L) == 0
    assert sympy.expand(c.adds - H * (2 * L - 1)) == 0
    c = cost(LogSoftmax(), (H, L), phase="backward")
    assert (c.transcendentals, c.mults) == (H * L, H * L)
    assert sympy.expand(c.adds - H * (2 * L - 1)) == 0
    # GroupNorm(G, C) on (H, W, C), E = H·W·C: x̂ E adds and mults; g·γ E mults; per group
    # sums of E/G terms (2·(E/G − 1) adds, E/G mults), 2 divs; dx 2 mults 2 adds per element;
    # dγ per channel H·W mults, H·W − 1 adds; dβ H·W − 1 adds.
    G = sympy.Symbol("G", positive=True, integer=True)
    E = H * W * C
    c = cost(GroupNorm(G, C), (H, W, C), phase="backward")
    assert sympy.simplify(c.mults - (E + E + E + 2 * E + C * H * W)) == 0
    assert sympy.simplify(c.adds - (E + 2 * (E - G) + 2 * E + 2 * C * (H * W - 1))) == 0
    assert c.divs == 2 * G
    frozen = cost(GroupNorm(G, C), (H, W, C), phase="backward", frozen=True)
    assert sympy.simplify(c.mults - frozen.mults - C * H * W) == 0
    c = cost(BatchNorm2d(C, affine=False), (H, W, C), phase="backward")
    assert sympy.expand(c.mults - (E + 2 * C + 2 * E)) == 0


def test_movement_backward_by_hand():
    assert cost(Pad((1, 1, 1, 1)), (H, W, C), phase="backward").adds == 0
    border = cost(Pad((1, 1, 1, 1), mode="reflect"), (H, W, C), phase="backward").adds
    assert sympy.expand(border - C * ((H + 2) * (W + 2) - H * W)) == 0
    for layer in (Slice(0, 2), ChannelShuffle(2), Identity(), Dropout(0)):
        c = cost(layer, (H, W, 4), phase="backward")
        assert (c.mults, c.adds, c.divs) == (0, 0, 0)
    # in training Dropout multiplies: g·noise, one mult per element (tests/test_dropout_train.py)
    assert cost(Dropout(0.5), (H, W, 4), phase="backward").mults == 4 * H * W
    assert cost(Mean((0, 1)), (H, W, C), phase="backward").divs == C
    c = cost(AdaptiveAvgPool2d(1), (H, W, C), phase="backward")
    assert (c.divs, c.adds) == (C, C * H * W)
    assert cost(AdaptiveMaxPool2d((2, 2)), (H, W, C), phase="backward").adds == 4 * C
    c = cost(LayerScale(C), (H, W, C), phase="backward")
    assert sympy.expand(c.mults - 2 * H * W * C) == 0
    assert sympy.expand(c.adds - C * (H * W - 1)) == 0


# ------------------------------------------------------------------------- fuzzed shapes


def _kinds(channels: int, spatial: tuple[int, ...]) -> list[object]:
    layers: list[object] = [Activation(name) for name in TRANSCENDENTAL]
    layers += [Softmax(), LogSoftmax(axis=0), LayerNorm(channels), Mean((0,), keepdim=True),
               Slice(0, channels), LayerScale(channels), Pad((1, 0), mode="replicate"),
               GroupNorm(1, channels)]
    if len(spatial) == 2:
        layers += [BatchNorm2d(channels, affine=False), AdaptiveAvgPool2d((max(1, spatial[0] - 1), 1)),
                   AdaptiveMaxPool2d((1, max(1, spatial[1] - 1)))]
    return layers


@settings(max_examples=12, deadline=None)
@given(st.data(), st.integers(1, 3), st.lists(st.integers(2, 4), min_size=1, max_size=2),
       st.booleans())
def test_fuzzed_shapes_verify_backward(data, channels, spatial, input_grad):
    layer = data.draw(st.sampled_from(_kinds(channels, tuple(spatial))))
    shape = (*spatial, channels)
    check = verify(layer, shape, phase="backward", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]
    fast = execute_backward(layer, _x(shape), method="fast", input_grad=input_grad)
    slow = execute_backward(layer, _x(shape), method="reference", input_grad=input_grad)
    assert fast.counts == slow.counts


@pytest.mark.parametrize("layer,shape", [
    (LayerNorm(4), (5, 3, 4)), (GroupNorm(2, 4), (5, 3, 4)), (Activation("mish"), (5, 3, 4)),
    (LayerNorm(4, elementwise_affine=False), (7, 4))])
def test_fast_executors_in_chunks_count_and_compute_as_in_one(monkeypatch, layer, shape):
    """The activations' fast executor works a chunk of elements at a time; with tiny chunks
    (several per input) its counts and gradients are the reference's (the norms, on whole
    arrays, alongside: see also the wide-row test below)."""
    import importlib

    monkeypatch.setattr(importlib.import_module("symconv.execute.backward_activations"),
                        "_CHUNK", 7)
    fast = execute_backward(layer, _x(shape), method="fast")
    slow = execute_backward(layer, _x(shape), method="reference")
    assert fast.counts == slow.counts
    np.testing.assert_allclose(fast.grad_input, slow.grad_input, rtol=1e-10, atol=1e-12)
    same_tree(fast.grads, slow.grads)


@pytest.mark.parametrize("wide_row", [4, 12, 8192])
@pytest.mark.parametrize("layer,shape", [
    (LayerNorm(4), (5, 3, 4)), (GroupNorm(2, 4), (5, 3, 4)),
    (GroupNorm(3, 3, affine=False), (2, 5, 3)), (LayerNorm(4, bias=False), (15, 4))])
@pytest.mark.parametrize("input_grad", [True, False])
def test_norms_on_wide_rows_count_and_compute_as_the_reference(monkeypatch, layer, shape,
                                                                wide_row, input_grad):
    """The fast LayerNorm/GroupNorm lay ``k`` positions side by side (k = 1, 3 and all 15
    here) and fold their column sums back; counts and gradients are the reference's."""
    import importlib

    monkeypatch.setattr(importlib.import_module("symconv.execute.backward_layers"), "WIDE_ROW",
                        wide_row)
    x = _x(shape, seed=3)
    fast = execute_backward(layer, x, method="fast", input_grad=input_grad)
    slow = execute_backward(layer, x, method="reference", input_grad=input_grad)
    assert fast.counts == slow.counts
    if input_grad:
        np.testing.assert_allclose(fast.grad_input, slow.grad_input, rtol=1e-10, atol=1e-12)
    else:
        assert fast.grad_input is None
    same_tree(fast.grads, slow.grads)

