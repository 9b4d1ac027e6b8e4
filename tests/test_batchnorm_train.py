"""BatchNorm's forward pass in training mode (issue 12's training step): the batch statistics and
the running statistics, derived (``cost(..., phase="train")``'s forward stage), counted by the
fast and reference executors (``execute(..., training=True)``), by hand on a tiny case, on
fuzzed shapes, and with values equal to ``torch.nn.BatchNorm*`` in train mode in float64
(output, running statistics, gradients; skipped without torch; without running statistics
against PyTorch in eval mode). The backward pass reads the statistics this forward saved and
computes none again."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.execute.backward import execute_backward
from symconv.execute.backward_layers import backward_fast, backward_reference
from symconv.execute.counter import Counter
from symconv.layers import BatchNorm1d, BatchNorm2d, Conv2d, ReLU, Sequential
from symconv.layers.trainable import mark_trainable
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")


def _forward(layer, shape):
    """The derived forward stage of a training step."""
    return dict(cost(layer, shape, phase="train").stages)["forward"]


def _derived(part) -> dict[str, int]:
    return {kind: int(getattr(part, kind)) for kind in KINDS}


# ------------------------------------------------------------------ counts by hand


def test_tiny_case_by_hand():
    # BatchNorm2d(2) on 2×3×2: E = 6 values a channel, C = 2 channels.
    # statistics, a channel: Σx 5 adds, /E 1 div; (x − mean) 6 adds, squares 6 mults,
    #   Σ 5 adds; /E 1 div, + eps 1 add, sqrt 1, 1/· 1 div  -> 17 adds, 6 mults, 3 divs, 1 sqrt
    # running stats, a channel: m·mean, (1 − m)·old, + ; var_sum/(E − 1), m·, (1 − m)·old, +
    #   -> 4 mults, 2 adds, 1 div
    # constants, a channel: invstd·γ; β − mean·alpha -> 2 mults, 1 add
    # normalise, an element (12): x·alpha + beta -> 1 mult, 1 add
    by_hand = {"statistics": {"mults": 2 * 6, "adds": 2 * 17, "divs": 2 * 3,
                              "comparisons": 0, "transcendentals": 2},
               "running_stats": {"mults": 2 * 4, "adds": 2 * 2, "divs": 2, "comparisons": 0,
                                 "transcendentals": 0},
               "constants": {"mults": 2 * 2, "adds": 2, "divs": 0, "comparisons": 0,
                             "transcendentals": 0},
               "normalise": {"mults": 12, "adds": 12, "divs": 0, "comparisons": 0,
                             "transcendentals": 0}}
    total = {kind: sum(part[kind] for part in by_hand.values()) for kind in KINDS}
    assert total == {"mults": 36, "adds": 52, "divs": 8, "comparisons": 0, "transcendentals": 2}
    layer = BatchNorm2d(2)
    forward = _forward(layer, (2, 3, 2))
    assert {name: _derived(part) for name, part in forward.parts} == by_hand
    assert _derived(forward) == total and forward.params == 4
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    for method in ("fast", "reference"):
        run = execute(layer, x, training=True, method=method)  # type: ignore[arg-type]
        assert run.counts is not None and run.counts.as_dict() == total
    # at inference: the folded x·a + b only
    assert (cost(layer, (2, 3, 2)).mults, cost(layer, (2, 3, 2)).adds) == (12, 12)


def test_symbolic_formulas():
    forward = _forward(BatchNorm2d(C), (H, W, C))
    e = H * W
    assert sympy.expand(forward.mults - (2 * e * C + 6 * C)) == 0
    assert sympy.expand(forward.adds - (4 * e * C + 2 * C)) == 0
    assert (forward.divs, forward.transcendentals, forward.comparisons) == (4 * C, C, 0)
    # without γ, β: alpha = invstd (nothing), beta = −mean·invstd (1 mult)
    plain = _forward(BatchNorm2d(C, affine=False), (H, W, C))
    assert sympy.expand(forward.mults - plain.mults) == C
    assert sympy.expand(forward.adds - plain.adds) == C and plain.params == 0


def test_one_value_per_channel_is_refused_as_pytorch_does():
    with pytest.raises(SymconvError, match="1 value per channel"):
        cost(BatchNorm1d(4), (4,), phase="train")
    with pytest.raises(SymconvError, match=r"layer 1 \(batchnorm\): .* 1 value per channel"):
        cost(Sequential(Conv2d(3, 4, 3), BatchNorm2d(4)), (3, 3, 3), phase="train")
    with pytest.raises(SymconvError, match="1 value per channel"):
        execute(BatchNorm1d(4), np.ones(4), training=True)
    with pytest.raises(SymconvError, match="1 value per channel"):   # batch statistics' backward
        cost(BatchNorm1d(4), (4,), phase="backward")
    # the forward pass alone (inference) is fine
    assert cost(BatchNorm1d(4), (4,)).mults == 4


def test_training_must_be_a_bool():
    with pytest.raises(SymconvError, match="training=1"):
        execute(BatchNorm2d(2), np.ones((2, 2, 2)), training=1)  # type: ignore[arg-type]


def test_the_backward_reads_the_saved_statistics_and_computes_none():
    layer, x = BatchNorm2d(3), np.random.default_rng(2).standard_normal((4, 4, 3))
    run = execute(layer, x, training=True)
    g = np.random.default_rng(3).standard_normal(x.shape)
    params = {**run.params, **run.buffers}
    for backward in (backward_fast, backward_reference):
        with pytest.raises(SymconvError, match="save_mean"):
            backward(layer, x, params, g, Counter(), input_grad=True, trainable=True)
    # with what the forward saved: the counts are the derived backward's, whose nests
    # hold no statistic (no sqrt; 2 divs a channel: Σg/E and the dot's /E)
    derived = cost(layer, x.shape, phase="backward")
    for backward in (backward_fast, backward_reference):
        counter = Counter()
        backward(layer, x, {**params, **run.saved}, g, counter, input_grad=True,
                 trainable=True)
        assert counter.counts().as_dict() == _derived(derived)
    assert derived.transcendentals == 0 and derived.divs == 2 * 3


# ------------------------------------------------------------------ fuzzed shapes


@st.composite
def _cases(draw):
    channels = draw(st.integers(1, 4))
    affine = draw(st.booleans())
    if draw(st.booleans()):
        spatial = draw(st.lists(st.integers(1, 4), min_size=2, max_size=2))
        layer = BatchNorm2d(channels, affine=affine)
    else:
        spatial = draw(st.lists(st.integers(1, 5), min_size=0, max_size=1))
        layer = BatchNorm1d(channels, affine=affine)
    values = int(np.prod(spatial)) if spatial else 1
    if values < 2:
        spatial = [*spatial[:-1], 2] if spatial else [2]
    return layer, (*spatial, channels)


@settings(max_examples=25, deadline=None)
@given(_cases(), st.integers(0, 3))
def test_fuzzed_counts_equal_the_derivation(case, seed):
    layer, shape = case
    derived = _derived(_forward(layer, shape))
    x = np.random.default_rng(seed).standard_normal(shape)
    fast = execute(layer, x, training=True, seed=seed)
    reference = execute(layer, x, training=True, seed=seed, method="reference")
    assert fast.counts is not None and fast.counts.as_dict() == derived
    assert reference.counts is not None and reference.counts.as_dict() == derived
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12, atol=1e-12)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(fast.updated[name], reference.updated[name], rtol=1e-12)
    assert verify(layer, shape, phase="train", seed=seed).ok


def test_a_network_verifies_its_training_step():
    net = Sequential(("conv", Conv2d(3, 4, 3, padding=1)), ("bn", BatchNorm2d(4)),
                     ("relu", ReLU()))
    check = verify(net, (5, 5, 3), phase="train")
    assert check.ok
    bn = next(stage for stage in check.stages if stage.name == "bn")
    # 25 values a channel, 4 channels: 2·100 + 24 mults, 4·100 + 8 adds, 16 divs, 4 sqrt
    assert bn.counted == {"mults": 224, "adds": 408, "divs": 16, "transcendentals": 4}
    # the buffers handed in are left as they were; the updated ones are new arrays
    run = execute(net, np.ones((5, 5, 3)), training=True)
    assert set(run.updated) == {"bn"} and set(run.saved) == {"bn"}
    assert run.updated["bn"]["running_mean"] is not run.buffers["bn"]["running_mean"]


def test_a_frozen_batchnorm_still_runs_in_training_mode():
    frozen = mark_trainable(BatchNorm2d(4), frozen=("weight", "bias"),
                            parameters=("weight", "bias"))
    net = Sequential(("conv", Conv2d(3, 4, 3)), ("bn", frozen))
    train = cost(net, (5, 5, 3), phase="train")
    trained = cost(Sequential(("conv", Conv2d(3, 4, 3)), ("bn", BatchNorm2d(4))), (5, 5, 3),
                   phase="train")
    forward, backward = dict(train.stages)["forward"], dict(train.stages)["backward"]
    assert dict(forward.stages)["bn"] == dict(dict(trained.stages)["forward"].stages)["bn"]
    assert "weight_grad" not in dict(dict(backward.stages)["bn"].gradients)
    assert verify(net, (5, 5, 3), phase="train").ok


# ------------------------------------------------------------------ against PyTorch

CASES = [
    (BatchNorm2d(3), (4, 5, 3)),
    (BatchNorm2d(3, affine=False), (4, 5, 3)),
    (BatchNorm1d(4), (6, 4)),
    (BatchNorm1d(2, affine=False), (7, 2)),
]


def _module(torch, layer, run):
    """PyTorch's twin of ``layer`` with the parameters and buffers of ``run``, in train mode;
    without running statistics in eval mode (it uses the batch's all the same)."""
    kind = torch.nn.BatchNorm2d if type(layer) is BatchNorm2d else torch.nn.BatchNorm1d
    tracked = layer.track_running_stats
    module = kind(int(layer.channels), affine=layer.affine,
                  track_running_stats=tracked).double().train(tracked)
    with torch.no_grad():
        if tracked:
            module.running_mean.copy_(torch.from_numpy(run.buffers["running_mean"]))
            module.running_var.copy_(torch.from_numpy(run.buffers["running_var"]))
        if layer.affine:
            module.weight.copy_(torch.from_numpy(run.params["weight"]))
            module.bias.copy_(torch.from_numpy(run.params["bias"]))
    return module


def _channels_first(torch, x):
    """symconv's channels-last example as PyTorch's batch of one, channels first."""
    return torch.tensor(np.moveaxis(x, -1, 0)[None].copy(), dtype=torch.float64,
                        requires_grad=True)


def _channels_last(t):
    return np.moveaxis(t.detach().numpy()[0], 0, -1)


@pytest.mark.parametrize("layer,shape", CASES, ids=lambda value: str(value))
@pytest.mark.parametrize("method", ["fast", "reference"])
def test_values_equal_torch_in_train_mode(layer, shape, method):
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal(shape)
    run = execute(layer, x, training=True, seed=6, method=method)
    module = _module(torch, layer, run)
    tx = _channels_first(torch, x)
    out = module(tx)
    np.testing.assert_allclose(run.output, _channels_last(out), rtol=1e-12, atol=1e-12)
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(run.updated[name], getattr(module, name).numpy(),
                                   rtol=1e-12, atol=1e-14)
    # the gradients: execute_backward's forward is this training-mode one
    back = execute_backward(layer, x, seed=6, method=method)
    np.testing.assert_allclose(back.output, run.output, rtol=0, atol=0)
    out.backward(_channels_first(torch, back.grad_output).detach())
    np.testing.assert_allclose(back.grad_input, _channels_last(tx.grad), rtol=1e-10,
                               atol=1e-12)
    if layer.affine:
        np.testing.assert_allclose(back.grads["weight"], module.weight.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(back.grads["bias"], module.bias.grad.numpy(),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("layer,shape", [
    (BatchNorm2d(3, track_running_stats=False), (4, 5, 3)),
    (BatchNorm2d(3, affine=False, track_running_stats=False), (4, 5, 3)),
    (BatchNorm1d(4, track_running_stats=False), (6, 4)),
    (BatchNorm1d(2, affine=False, track_running_stats=False), (7, 2)),
], ids=str)
@pytest.mark.parametrize("method", ["fast", "reference"])
def test_without_running_statistics_values_equal_torch_in_eval_mode(layer, shape, method):
    """``track_running_stats=False`` (tests/test_batchnorm_batch_stats.py): the inference run
    equals ``torch.nn.BatchNorm*d(track_running_stats=False).eval()``, which has no buffers,
    and the backward autograd's gradients."""
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(5).standard_normal(shape) * 2 + 1
    run = execute(layer, x, seed=6, method=method)          # inference
    module = _module(torch, layer, run)
    assert not module.training and dict(module.named_buffers()) == {}
    tx = _channels_first(torch, x)
    out = module(tx)
    np.testing.assert_allclose(run.output, _channels_last(out), rtol=1e-12, atol=1e-12)
    back = execute_backward(layer, x, seed=6, method=method)
    np.testing.assert_allclose(back.output, run.output, rtol=0, atol=1e-15)
    out.backward(_channels_first(torch, back.grad_output).detach())
    np.testing.assert_allclose(back.grad_input, _channels_last(tx.grad), rtol=1e-10,
                               atol=1e-12)
    for name in ("weight", "bias") if layer.affine else ():
        np.testing.assert_allclose(back.grads[name], getattr(module, name).grad.numpy(),
                                   rtol=1e-10, atol=1e-12)


def test_frozen_values_equal_torch_with_requires_grad_false():
    torch = pytest.importorskip("torch")
    from symconv import from_torch

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4))
    for parameter in model[1].parameters():
        parameter.requires_grad_(False)
    net = from_torch(model, (6, 6, 3))
    bn = dict(net.stages)[next(name for name, stage in net.stages if stage.kind == "batchnorm")]
    assert getattr(bn, "trainable", True) is False
    # train mode: batch statistics, running statistics updated, no γ, β gradient
    y = np.random.default_rng(7).standard_normal((4, 4, 4))
    run = execute(bn, y, training=True)
    module = _module(torch, BatchNorm2d(4), run).requires_grad_(False)
    ty = _channels_first(torch, y)
    out = module(ty)
    np.testing.assert_allclose(run.output, _channels_last(out), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(run.updated["running_var"], module.running_var.numpy(),
                               rtol=1e-12)
    back = execute_backward(bn, y)
    assert back.grads == {}
    out.backward(_channels_first(torch, back.grad_output).detach())
    np.testing.assert_allclose(back.grad_input, _channels_last(ty.grad), rtol=1e-10,
                               atol=1e-12)
    assert "weight_grad" not in dict(cost(bn, (4, 4, 4), phase="backward").gradients)
