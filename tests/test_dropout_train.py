"""Dropout and StochasticDepth in a training step: derived counts by hand, the executors' counts
(verify), their values against torch given the same draws, and FlopCounterMode counting none of
it (torch tests skip without torch)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import cost, verify
from symconv.errors import SymconvError
from symconv.execute import execute
from symconv.execute.backward import execute_backward
from symconv.execute.backward_layers import backward_fast, backward_reference
from symconv.execute.batchnorm_train import train_fast, train_reference
from symconv.execute.counter import Counter
from symconv.layers import Conv2d, Dropout, ReLU, Sequential, StochasticDepth
from symconv.networks.conventions import count
from symconv.symbols import C, H, W


def _phases(layer, shape):
    step = dict(cost(layer, shape, phase="train").stages)
    return step["forward"], step["backward"]


def test_dropout_counts_by_hand():
    forward, backward = _phases(Dropout(0.2), (H, W, C))
    # forward: noise/(1 − p) per element (1 div), x·noise per element (1 mult)
    assert (forward.mults, forward.divs, forward.adds) == (H * W * C, H * W * C, 0)
    # backward: g·noise per element
    assert (backward.mults, backward.divs, backward.adds) == (H * W * C, 0, 0)
    # it reads its input and writes its output in training mode (nothing at inference)
    assert (forward.reads, forward.writes) == (H * W * C, H * W * C)
    assert (cost(Dropout(0.2), (H, W, C)).reads, cost(Dropout(0.2), (H, W, C)).mults) == (0, 0)


def test_stochastic_depth_counts_by_hand():
    for mode in ("row", "batch"):
        forward, backward = _phases(StochasticDepth(0.1, mode), (H, W, C))
        # one draw at batch 1: 1 div; x·noise per element
        assert (forward.mults, forward.divs) == (H * W * C, 1)
        assert backward.mults == H * W * C


def test_the_edges_of_p():
    # p = 1: Dropout multiplies by zeros({}) (no division), StochasticDepth skips the division
    for layer in (Dropout(1), StochasticDepth(1.0)):
        forward, backward = _phases(layer, (H, W, C))
        assert (forward.mults, forward.divs, backward.mults) == (H * W * C, 0, H * W * C)
    # p = 0: the input itself, forward and backward
    for layer in (Dropout(0), StochasticDepth(0)):
        forward, backward = _phases(layer, (H, W, C))
        assert (forward.mults, forward.divs, backward.mults) == (0, 0, 0)


def test_a_network_by_hand():
    net = Sequential(Conv2d(3, 8, 3), Dropout(0.5))
    # conv on 5×5×3: 3·3·8 = 72 outputs of 27 products: 1944 mults forward, 1944 for its weight
    # gradient (no input gradient: the network's input); dropout on 72 elements: 72 mults
    # forward, 72 backward
    assert cost(net, (5, 5, 3), phase="train").mults == 1944 + 72 + 1944 + 72
    assert cost(net, (5, 5, 3), phase="train").divs == 72


@pytest.mark.parametrize("layer", [Dropout(0.2), Dropout(1), Dropout(0), StochasticDepth(0.3),
                                   StochasticDepth(0.3, "batch"), StochasticDepth(1.0)],
                         ids=repr)
@pytest.mark.parametrize("phase", ["backward", "train"])
def test_executors_count_what_is_derived(layer, phase):
    assert verify(layer, (3, 3, 4), phase=phase).ok
    net = Sequential(Conv2d(3, 4, 3), layer, ReLU())
    assert verify(net, (5, 5, 3), phase=phase).ok


@pytest.mark.parametrize("layer", [Dropout(0.4), StochasticDepth(0.4), Dropout(1)], ids=repr)
def test_fast_and_reference_agree(layer):
    x = np.random.default_rng(2).standard_normal((3, 3, 4))
    runs = [execute_backward(layer, x, method=method) for method in ("fast", "reference")]
    np.testing.assert_allclose(runs[0].grad_input, runs[1].grad_input)
    assert runs[0].counts == runs[1].counts
    forwards = [execute(layer, x, method=method, training=True) for method in ("fast", "reference")]
    np.testing.assert_allclose(forwards[0].output, forwards[1].output)
    assert forwards[0].counts == forwards[1].counts


def test_a_given_mask_is_used_and_checked():
    x = np.arange(1.0, 5.0)
    for runner in (train_fast, train_reference):
        counter = Counter()
        run = runner(Dropout(0.75), x, {"mask": np.array([0, 1, 1, 0])}, counter)
        np.testing.assert_allclose(run.output, [0.0, 8.0, 12.0, 0.0])   # kept × 1/(1 − 0.75)
        assert (counter.divs, counter.mults) == (4, 4)
        with pytest.raises(SymconvError, match="mask"):
            runner(Dropout(0.75), x, {"mask": np.array([0, 2, 1, 0])}, Counter())


def _both_ways(layer, x, mask, g):
    """Output and input gradient of the fast and the reference executors, given the draws."""
    results = []
    for train, backward in ((train_fast, backward_fast), (train_reference, backward_reference)):
        run = train(layer, x, {"mask": mask}, Counter())
        dx, _ = backward(layer, x, run.saved, g, Counter(), input_grad=True, trainable=True)
        results.append((run.output, dx))
    return results


def _torch():
    return pytest.importorskip("torch")   # float64 tensors asked for by dtype, never by default


@pytest.mark.parametrize("p", [0.3, 0.5, 1.0])
def test_dropout_values_equal_torch_given_the_same_draws(p):
    torch = _torch()
    x = torch.rand(3, 3, 4, dtype=torch.float64) + 0.5          # no zero: a zero output is a drop
    x.requires_grad_(True)
    torch.manual_seed(7)
    y = torch.nn.functional.dropout(x, p, training=True)
    g = torch.randn(3, 3, 4, dtype=torch.float64)
    y.backward(g)
    mask = (y.detach() != 0).double().numpy()
    for output, dx in _both_ways(Dropout(p), x.detach().numpy(), mask, g.numpy()):
        np.testing.assert_allclose(output, y.detach().numpy(), rtol=1e-15)
        np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-15)


def test_stochastic_depth_values_equal_torchvision_given_the_same_draw():
    torch = _torch()
    from tests.torchvision_models import models

    models()   # torchvision importable (skips otherwise)
    from torchvision.ops import stochastic_depth

    kept = set()
    for seed in range(8):
        x = (torch.rand(1, 3, 3, 4, dtype=torch.float64) + 0.5).requires_grad_(True)
        torch.manual_seed(seed)
        y = stochastic_depth(x, 0.5, "row", training=True)
        g = torch.randn(1, 3, 3, 4, dtype=torch.float64)
        y.backward(g)
        mask = np.array([float((y.detach() != 0).any())])
        kept.add(mask[0])
        for output, dx in _both_ways(StochasticDepth(0.5), x.detach().numpy()[0], mask,
                                     g.numpy()[0]):
            np.testing.assert_allclose(output, y.detach().numpy()[0], rtol=1e-15)
            np.testing.assert_allclose(dx, x.grad.numpy()[0], rtol=1e-15)
    assert kept == {0.0, 1.0}   # both outcomes seen


def test_flop_counter_counts_none_of_it_so_the_torch_convention_is_unchanged():
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=False), torch.nn.Dropout(0.5))
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 5, 5)).sum().backward()
    with FlopCounterMode(display=False) as alone:
        torch.nn.functional.dropout(torch.randn(4, 5, requires_grad=True), 0.5,
                                    training=True).sum().backward()
    assert alone.get_total_flops() == 0
    net = Sequential(Conv2d(3, 8, 3), Dropout(0.5))
    # 2·1944 forward, 2·1944 weight gradient; nothing for the dropout
    assert count(net, (5, 5, 3), convention="torch", phase="train") == counter.get_total_flops()
    assert counter.get_total_flops() == 4 * 1944
    assert sympy.Integer(count(net, (5, 5, 3), convention="torch", phase="train")) == count(
        Sequential(Conv2d(3, 8, 3)), (5, 5, 3), convention="torch", phase="train")
