"""The backward pass (issue 12): derived from loop nests, proved by counting executors, gradient
values checked against finite differences (no torch needed)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    SymconvError,
    cost,
    ratio,
    verify,
)
from symconv.execute import execute
from symconv.execute.backward import execute_backward
from symconv.layers import (
    Activation,
    Add,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Flatten,
    GlobalAvgPool2d,
    Graph,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Residual,
    Reuse,
    Sequential,
)
from symconv.layers.broadcast import Div, Mul, Sub
from symconv.networks.conventions import count
from symconv.networks.rows import rows
from symconv.networks.zoo import mobilenet_v1
from symconv.strategies import conv_cases
from symconv.symbols import H, M, N, W, d, g, k, p, s
from tests.backward_checks import at, leaves, numeric, random_input

# Every layer kind, with a small input: (layer, input shape).
CASES = [
    (Conv2d(3, 8, 3, bias=True), (7, 7, 3)),
    (Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=True), (8, 9, 4)),
    (DepthwiseConv2d(4, 3, stride=2, padding=1), (7, 7, 4)),
    (PointwiseConv2d(3, 5, bias=True), (4, 4, 3)),
    (Conv1d(2, 4, 3, stride=2), (9, 2)),
    (Conv3d(2, 4, 2, padding=1, bias=True), (3, 4, 3, 2)),
    (ConvTranspose1d(2, 3, 3, stride=2), (4, 2)),
    (ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=True),
     (4, 5, 4)),
    (ConvTranspose3d(2, 2, 2, stride=2), (2, 2, 2, 2)),
    (Linear(5, 3), (5,)),
    (Linear(5, 3, bias=False), (2, 2, 5)),
    (BatchNorm2d(3), (4, 4, 3)),
    (BatchNorm1d(3), (5, 3)),
    (ReLU(), (4, 4, 3)),
    (ReLU6(), (4, 4, 3)),
    (Activation("hardswish"), (3, 3, 2)),
    (Activation("hardsigmoid"), (3, 3, 2)),
    (Activation("leakyrelu"), (3, 3, 2)),
    (Activation("hardtanh"), (3, 3, 2)),
    (AvgPool2d(3, stride=2, padding=1), (7, 7, 2)),
    (MaxPool2d(3, stride=2, padding=1), (7, 7, 2)),
    (GlobalAvgPool2d(), (3, 3, 2)),
    (DepthwiseSeparableConv2d(3, 4, 3, padding=1, bias=True), (5, 5, 3)),
    (Sequential(Conv2d(3, 4, 3, padding=1), BatchNorm2d(4), ReLU(),
                Residual(Sequential(Conv2d(4, 4, 3, padding=1), ReLU6())),
                GlobalAvgPool2d(), Flatten(), Linear(4, 2)), (5, 5, 3)),
    (Graph(("conv", Conv2d(3, 4, 1)), ("from input", Reuse("input", (5, 5, 3))),
           ("shortcut", Conv2d(3, 4, 1)), ("add", Add(other="conv"))), (5, 5, 3)),
    # an SE block: the pooled scale times the block's input, both orders of broadcasting
    (Graph(("conv", Conv2d(3, 4, 3, padding=1)), ("pool", GlobalAvgPool2d()),
           ("back", Reuse("conv", (5, 5, 4))), ("scale", Mul("pool", shape=(1, 1, 4))),
           ("sub", Sub("conv", other_first=True))), (5, 5, 3)),
    (Graph(("pool", GlobalAvgPool2d()), ("scale", Mul("input", shape=(4, 4, 3))),
           ("conv", Conv2d(3, 2, 1))), (4, 4, 3)),
    (Graph(("conv", Conv2d(3, 3, 1)), ("div", Div("input")),
           ("inverse", Div("conv", other_first=True))), (3, 3, 3)),
]


def _ids(case: tuple[object, tuple[int, ...]]) -> str:
    return f"{type(case[0]).__name__}{case[1]}"


_x = random_input


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("input_grad", [True, False])
def test_counted_backward_equals_derived(case, input_grad):
    layer, shape = case
    derived = cost(layer, shape, phase="backward", input_grad=input_grad)
    for method in ("fast", "reference"):
        run = execute_backward(layer, _x(shape), method=method, input_grad=input_grad)
        assert run.counts is not None
        assert run.counts.as_dict() == {kind: int(getattr(derived, kind))
                                        for kind in run.counts.as_dict()}, method
    check = verify(layer, shape, phase="backward", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fast_and_reference_gradients_agree(case):
    layer, shape = case
    fast = execute_backward(layer, _x(shape), method="fast", input_grad=True)
    slow = execute_backward(layer, _x(shape), method="reference", input_grad=True)
    np.testing.assert_allclose(fast.grad_input, slow.grad_input, atol=1e-9)
    _same_tree(fast.grads, slow.grads)


def _same_tree(a: object, b: object) -> None:
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b)
        for key in a:
            _same_tree(a[key], b[key])
    else:
        np.testing.assert_allclose(a, b, atol=1e-9)


def _loss(layer, x, params, buffers, grad):
    return float(np.sum(execute(layer, x, params, buffers=buffers, count=False).output * grad))


# BatchNorm's forward in symconv is the folded inference form; its backward uses batch
# statistics (training mode), checked separately below.
_DIFFERENTIABLE = [case for case in CASES if not isinstance(case[0], (BatchNorm2d, Sequential))]


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


def _batchnorm_train(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    rows = x.reshape(-1, x.shape[-1])
    normal = (rows - rows.mean(0)) / np.sqrt(rows.var(0) + 1e-5)
    return (normal * gamma + beta).reshape(x.shape)


def test_batchnorm_gradients_are_those_of_training_statistics():
    layer, x = BatchNorm2d(3), _x((4, 4, 3), seed=5)
    run = execute_backward(layer, x, seed=2)
    gamma, beta, grad = run.params["weight"], run.params["bias"], run.grad_output

    def loss() -> float:
        return float(np.sum(_batchnorm_train(x, gamma, beta) * grad))

    np.testing.assert_allclose(run.grad_input, numeric(loss, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.grads["weight"], numeric(loss, gamma), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(run.grads["bias"], numeric(loss, beta), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- derived ratios

CONVOLUTIONS = [
    (Conv2d(M, N, k), (H, W, M)),
    (Conv2d(M, N, k, stride=s, padding=p, dilation=d, groups=g, bias=True), (H, W, M)),
    (DepthwiseConv2d(M, k, stride=s, padding=p), (H, W, M)),
    (PointwiseConv2d(M, N), (H, W, M)),
    (Conv1d(M, N, k, stride=s), (H, M)),
    (Conv3d(M, N, k, padding=p), (H, H, W, M)),
    (ConvTranspose2d(M, N, k, stride=s, groups=g), (H, W, M)),
    (ConvTranspose1d(M, N, k, stride=s, bias=True), (H, M)),
]


@pytest.mark.parametrize("case", CONVOLUTIONS, ids=_ids)
def test_backward_of_a_convolution_is_twice_its_forward(case):
    layer, shape = case
    forward = cost(layer, shape)
    assert ratio(cost(layer, shape, phase="backward").mults, forward.mults) == 2
    assert ratio(cost(layer, shape, phase="backward", input_grad=False).mults,
                 forward.mults) == 1
    assert ratio(cost(layer, shape, phase="train").mults, forward.mults) == 3
    assert cost(layer, shape, phase="backward", frozen=True).mults == forward.mults


def test_gradients_are_named_and_sum_to_the_backward():
    derived = cost(Conv2d(3, 8, 3, bias=True), (7, 7, 3), phase="backward")
    assert [name for name, _ in derived.gradients] == ["input_grad", "weight_grad", "bias_grad"]
    assert dict((name, part.mults) for name, part in derived.gradients) == {
        "input_grad": 5 * 5 * 8 * 27, "weight_grad": 27 * 8 * 25, "bias_grad": 0}
    assert derived.stages == ()
    assert derived.adds == 5 * 5 * 8 * 27 + 27 * 8 * 24 + 8 * 24


def test_backward_of_batchnorm_states_its_formulation():
    c = cost(BatchNorm2d(N), (H, W, N), phase="backward")
    # centre 1 add/elt; Σg and Σg·(x−μ) per channel; 3 mults + 2 divs per channel;
    # 2 mults + 2 adds per element for the input gradient; 1 mult per channel for γ.
    assert sympy.expand(c.mults - (H * W * N + 3 * N + 2 * H * W * N + N)) == 0
    assert sympy.expand(c.adds - (H * W * N + 2 * N * (H * W - 1) + 2 * H * W * N)) == 0
    assert c.divs == 2 * N
    frozen = cost(BatchNorm2d(N), (H, W, N), phase="backward", frozen=True)
    assert sympy.expand(c.mults - frozen.mults) == N


def test_activations_select_without_multiplying():
    c = cost(ReLU(), (H, W, N), phase="backward")
    assert (c.mults, c.adds, c.comparisons) == (0, 0, H * W * N)
    assert cost(ReLU6(), (H, W, N), phase="backward").comparisons == 2 * H * W * N
    assert cost(ReLU(), (H, W, N), phase="backward", input_grad=False).comparisons == 0


def test_pooling_backward():
    avg = cost(AvgPool2d(2), (4, 4, 3), phase="backward")
    assert (avg.divs, avg.adds) == (12, 48)
    top = cost(MaxPool2d(2), (4, 4, 3), phase="backward")
    assert (top.adds, top.comparisons) == (12, 0)
    assert cost(GlobalAvgPool2d(), (7, 7, 8), phase="backward").divs == 8


def test_a_residual_block_adds_the_two_gradients_at_its_input():
    block = Residual(Sequential(ReLU()))
    c = cost(block, (3, 3, 2), phase="backward")
    assert [(name, stage.adds) for name, stage in c.stages] == [("0", 0), ("add", 18)]
    assert cost(block, (3, 3, 2), phase="backward", input_grad=False).adds == 0


def test_a_network_input_needs_no_gradient_by_default():
    net = Sequential(Conv2d(3, 4, 3))
    assert cost(net, (5, 5, 3), phase="backward").mults == cost(net, (5, 5, 3)).mults
    assert cost(Conv2d(3, 4, 3), (5, 5, 3), phase="backward").mults == 2 * 9 * 3 * 4 * 9
    assert execute_backward(net, _x((5, 5, 3))).grad_input is None


def test_train_is_forward_plus_backward():
    net = Sequential(Conv2d(3, 4, 3), BatchNorm2d(4), ReLU())
    train = cost(net, (6, 6, 3), phase="train")
    forward, backward = cost(net, (6, 6, 3)), cost(net, (6, 6, 3), phase="backward")
    assert [name for name, _ in train.stages] == ["forward", "backward"]
    # the forward stage runs BatchNorm in training mode: on 4×4×4 (E = 16 values a channel,
    # C = 4) batch statistics (E mults, 3E − 1 adds, 3 divs, 1 sqrt a channel), running
    # statistics (4 mults, 2 adds, 1 div), constants (2 mults, 1 add), then x·alpha + beta
    # (1 mult, 1 add an element) instead of the folded x·a + b (1 mult, 1 add an element)
    more = {"mults": 4 * (16 + 4 + 2), "adds": 4 * (3 * 16 - 1 + 2 + 1), "divs": 4 * (3 + 1),
            "comparisons": 0, "transcendentals": 4}
    assert more == {"mults": 88, "adds": 200, "divs": 16, "comparisons": 0, "transcendentals": 4}
    for kind in ("mults", "adds", "divs", "comparisons", "transcendentals"):
        assert getattr(train, kind) == (getattr(forward, kind) + more[kind]
                                        + getattr(backward, kind))
    assert dict(train.stages)["backward"] == backward
    assert train.params == forward.params and backward.params == 0
    # without BatchNorm the training forward is the inference forward itself
    plain = Sequential(Conv2d(3, 4, 3), ReLU())
    assert dict(cost(plain, (6, 6, 3), phase="train").stages)["forward"] == cost(plain, (6, 6, 3))


def test_symbolic_train_cost_substitutes():
    c = cost(Conv2d(M, N, k), (H, W, M), phase="train")
    assert c.subs({H: 7, W: 7, M: 3, N: 64, k: 3}).mults == 3 * 43200


# ------------------------------------------------------------------------- networks

def test_layers_before_the_first_trainable_one_run_no_backward():
    net = Sequential(("stem", Conv2d(3, 4, 3, padding=1)), ("relu", ReLU()),
                     ("head", Conv2d(4, 2, 1)))
    frozen = cost(net, (5, 5, 3), phase="backward", input_grad=False, frozen=("stem",))
    by_name = dict(frozen.stages)
    assert by_name["stem"].mults == 0 and by_name["relu"].comparisons == 0
    head = dict(by_name["head"].gradients)
    assert list(head) == ["weight_grad"]            # its input needs no gradient either
    run = execute_backward(net, _x((5, 5, 3)), input_grad=False, frozen=("stem",))
    assert run.counts.as_dict() == {kind: int(getattr(frozen, kind))
                                    for kind in run.counts.as_dict()}
    assert set(run.grads) == {"head"}
    assert verify(net, (5, 5, 3), phase="train", input_grad=False, frozen=("stem",)).ok


def _nested() -> Sequential:
    return Sequential(("features", Sequential(("conv", Conv2d(3, 4, 3, padding=1)),
                                              ("relu", ReLU()))),
                      ("head", Conv2d(4, 2, 1)))


def test_frozen_paths_name_blocks_and_nested_layers():
    net = _nested()
    # by hand, 5×5 positions: features.conv's weight gradient 25·4·27 = 2700 mults, head's
    # weight and input gradients 25·2·4 = 200 each; frozen, features.conv runs no backward and
    # head's input needs no gradient (nothing before it is trainable): 200
    assert cost(net, (5, 5, 3), phase="backward").mults == 3100
    block = cost(net, (5, 5, 3), phase="backward", frozen=("features",))
    nested = cost(net, (5, 5, 3), phase="backward", frozen=("features.conv",))
    assert block.mults == nested.mults == 200
    assert block == cost(net, (5, 5, 3), phase="backward",
                         frozen=("features.conv", "features.relu"))
    run = execute_backward(net, _x((5, 5, 3)), frozen=("features.conv",))
    assert run.counts.mults == 200 and set(run.grads) == {"head"}


@pytest.mark.parametrize("frozen", [("nonexistent",), ("feature",), ("features.cnv",),
                                    ("features.conv.weight",), ("",)])
def test_a_frozen_path_that_names_nothing_is_refused(frozen):
    net, shape = _nested(), (5, 5, 3)
    message = f"{frozen[0]!r} names no layer or block of the network"
    calls = [lambda: cost(net, shape, phase="backward", frozen=frozen),
             lambda: cost(net, shape, phase="train", optimizer="sgd", frozen=frozen),
             lambda: cost(net, shape, frozen=frozen),
             lambda: count(net, shape, convention="macs", phase="train", frozen=frozen),
             lambda: count(net, shape, convention="macs", frozen=frozen),
             lambda: rows(net, shape, frozen=frozen),
             lambda: verify(net, shape, frozen=frozen),
             lambda: execute_backward(net, _x(shape), frozen=frozen)]
    for call in calls:
        with pytest.raises(SymconvError, match=message) as caught:
            call()
        assert "its top-level names are 'features', 'head'" in str(caught.value)


def test_a_frozen_typo_on_a_zoo_network_is_refused_with_close_matches():
    net = mobilenet_v1(1, resolution=224)
    with pytest.raises(SymconvError, match=r"'block1\.dw' names no layer.*did you mean 'block1'"):
        count(net, (224, 224, 3), convention="macs", phase="train", frozen=("block1.dw",))
    with pytest.raises(SymconvError, match="'typo' names nothing: a single layer"):
        verify(Conv2d(3, 4, 3), (5, 5, 3), frozen=("typo",))


def test_a_layer_marked_not_trainable_is_frozen():
    class Fixed(Conv2d):
        trainable = False

    fixed = Fixed(3, 4, 3)
    net = Sequential(Conv2d(3, 3, 1), fixed)
    derived = dict(cost(net, (5, 5, 3), phase="backward").stages)
    assert [name for name, _ in derived["1"].gradients] == ["input_grad"]


def test_bad_phase_arguments_are_refused():
    with pytest.raises(SymconvError, match="phase='sideways' is unknown"):
        cost(Conv2d(3, 4, 3), (5, 5, 3), phase="sideways")
    with pytest.raises(SymconvError, match="frozen="):
        cost(Conv2d(3, 4, 3), (5, 5, 3), phase="backward", frozen="stem")
    with pytest.raises(SymconvError, match="direct"):
        cost(Conv2d(3, 4, 3), (5, 5, 3), phase="backward", algorithm="winograd")
    with pytest.raises(SymconvError, match="grad has shape"):
        execute_backward(Conv2d(3, 4, 3), _x((5, 5, 3)), grad=np.ones((2, 2, 4)))


@settings(max_examples=15)
@given(conv_cases(dims=(1, 2), max_size=5, max_channels=4), st.booleans())
def test_fuzzed_convolutions_verify_backward(case, input_grad):
    layer, shape = case
    check = verify(layer, shape, phase="backward", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]


# ------------------------------------------------------------------------- CLI


def test_cli_net_and_verify_take_a_phase(capsys):
    from symconv.cli import main

    assert main(["net", "mobilenet_v1", "--alpha", "1", "--resolution", "224", "--phase",
                 "train", "--format", "json"]) == 0
    text = capsys.readouterr().out
    expected = count(mobilenet_v1(1, resolution=224), convention="macs", phase="train")
    assert str(expected) in text and "training step" in text
    assert main(["verify", "--input", "7x7x3", "--output", "5x5x64", "--phase", "backward",
                 "--format", "json"]) == 0
    text = capsys.readouterr().out
    assert '"standard (backward)"' in text and "86400" in text
    assert main(["net", "mobilenet_v1", "--phase", "sideways"]) == 2
    assert "--phase sideways is unknown" in capsys.readouterr().err


# --------------------------------------------------------------------------- fast paths

_conv_module = __import__("symconv.execute.conv", fromlist=["THREADS"])
_depthwise_module = __import__("symconv.execute.backward_depthwise", fromlist=["BLOCK"])


@pytest.mark.parametrize("threads, block", [(1, 1), (2, 1), (3, 1), (2, 2**40), (1, 2**18)])
@pytest.mark.parametrize("layer, shape", [
    (DepthwiseConv2d(4, 3, stride=(1, 2), padding=1, dilation=2, bias=True), (39, 9, 4)),
    (DepthwiseConv2d(3, (2, 3), stride=(3, 1), padding=(0, 2)), (40, 6, 3)),
    (Conv1d(3, 3, 3, stride=2, padding=1, groups=3), (41, 3)),
    (Conv3d(2, 2, 2, padding=1, groups=2), (33, 3, 2, 2)),
])
def test_the_depthwise_backward_in_blocks_and_threads_agrees_with_the_reference(
        threads, block, layer, shape):
    # The depthwise backward runs in blocks of input-gradient rows, split over threads for
    # large inputs, each thread with its own counter and partial weight sums added up after:
    # whatever the split, the values and counts of the plain loops, and the derived counts.
    # (The rows are split over threads when the forward's are: its blocks set at one row.)
    x = _x(shape)
    kept = _depthwise_module.BLOCK, _conv_module.THREADS, _conv_module.DEPTHWISE_BLOCK
    _depthwise_module.BLOCK, _conv_module.THREADS, _conv_module.DEPTHWISE_BLOCK = (
        block, threads, 1)
    try:
        assert _depthwise_module._threaded(_x((shape[0], 1)), shape[0] // 2) == (threads > 1)
        runs = {input_grad: execute_backward(layer, x, method="fast", input_grad=input_grad)
                for input_grad in (True, False)}
    finally:
        (_depthwise_module.BLOCK, _conv_module.THREADS,
         _conv_module.DEPTHWISE_BLOCK) = kept
    for input_grad, fast in runs.items():
        slow = execute_backward(layer, x, method="reference", input_grad=input_grad)
        derived = cost(layer, shape, phase="backward", input_grad=input_grad)
        assert fast.counts == slow.counts
        assert fast.counts.mults == int(derived.mults) and fast.counts.adds == int(derived.adds)
        if input_grad:
            np.testing.assert_allclose(fast.grad_input, slow.grad_input, atol=1e-9)
        _same_tree(fast.grads, slow.grads)


@pytest.mark.parametrize("layer, shape", [
    (DepthwiseConv2d(4, 3, padding=1), (6, 6, 4)), (Conv2d(3, 4, 3, padding=1), (6, 6, 3)),
    (ReLU6(), (5, 5, 3)), (Activation("leakyrelu"), (5, 5, 3)), (BatchNorm2d(3), (5, 5, 3)),
])
def test_gradients_returned_are_not_scratch_arrays_reused_by_the_next_call(layer, shape):
    # The fast backward keeps scratch arrays between calls; none may be handed back.
    first = execute_backward(layer, _x(shape), input_grad=True)
    kept = first.grad_input.copy()
    execute_backward(layer, _x(shape) + 1.0, input_grad=True)
    np.testing.assert_array_equal(first.grad_input, kept)


def test_the_bitwise_select_copies_every_value_as_numpy_where_does():
    # The activations' backward selects on the values' bits, not with np.where: the same
    # values, bit for bit, for NaN, infinities, signed zeros and subnormals.
    from symconv.execute.backward_layers import _select
    chosen = np.array([np.nan, -np.inf, np.inf, -0.0, 0.0, 5e-324, -1.5, 2.0])
    other = chosen[::-1].copy()
    mask = np.array([True, False, True, True, False, True, False, True])
    for picked, expected in ((_select(mask, chosen), np.where(mask, chosen, 0.0)),
                             (_select(mask, chosen, other), np.where(mask, chosen, other))):
        np.testing.assert_array_equal(picked.view(np.int64), expected.view(np.int64))
