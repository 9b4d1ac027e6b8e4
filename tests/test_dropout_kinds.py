"""The channel dropouts (``FeatureDropout``: ``nn.Dropout1d/2d/3d``) and the alpha dropouts
(``AlphaDropout``, ``FeatureAlphaDropout``) in a training step: derived counts by hand, the
executors' counts (verify), gradients against finite differences, and, where torch is installed,
output and gradient against torch given torch's own draws (replayed from its seed), and
FlopCounterMode counting none of it."""

from __future__ import annotations

import numpy as np
import pytest
from backward_checks import numeric, random_input
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import cost, verify
from symconv.errors import SymconvError
from symconv.execute.backward import execute_backward
from symconv.execute.backward_layers import backward_fast, backward_reference
from symconv.execute.batchnorm_train import train_fast, train_reference
from symconv.execute.counter import Counter
from symconv.layers import (
    AlphaDropout,
    Conv2d,
    FeatureAlphaDropout,
    FeatureDropout,
    ReLU,
    Sequential,
)
from symconv.networks.conventions import count
from symconv.symbols import C, H, W

KINDS = (FeatureDropout, AlphaDropout, FeatureAlphaDropout)


def _phases(layer, shape):
    step = dict(cost(layer, shape, phase="train").stages)
    return step["forward"], step["backward"]


def test_counts_by_hand():
    # FeatureDropout: C draws divided by 1 − p; x·noise per element
    forward, backward = _phases(FeatureDropout(0.2), (H, W, C))
    assert (forward.mults, forward.adds, forward.divs) == (H * W * C, 0, C)
    assert (backward.mults, backward.adds, backward.divs) == (H * W * C, 0, 0)
    # AlphaDropout, per element: b = (noise − 1)·αa + αap (1 mult, 2 adds), noise·a (1 mult),
    # x·noise + b (1 mult, 1 add): 3 mults, 3 adds; backward g·noise
    forward, backward = _phases(AlphaDropout(0.2), (H, W, C))
    assert (forward.mults, forward.adds, forward.divs) == (3 * H * W * C, 3 * H * W * C, 0)
    assert (backward.mults, backward.adds) == (H * W * C, 0)
    # FeatureAlphaDropout: the same on C draws, then x·noise + b per element
    forward, backward = _phases(FeatureAlphaDropout(0.2), (H, W, C))
    assert (forward.mults, forward.adds, forward.divs) == (H * W * C + 2 * C,
                                                           H * W * C + 2 * C, 0)
    assert backward.mults == H * W * C
    # they read their input and write their output in training mode, nothing at inference
    assert (forward.reads, forward.writes) == (H * W * C, H * W * C)
    assert cost(FeatureAlphaDropout(0.2), (H, W, C)).reads == 0


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_the_edges_of_p(kind):
    forward, backward = _phases(kind(1), (H, W, C))   # input * zeros({})
    assert (forward.mults, forward.adds, forward.divs, backward.mults) == (
        H * W * C, 0, 0, H * W * C)
    forward, backward = _phases(kind(0), (H, W, C))   # the input itself
    assert (forward.mults, forward.adds, backward.mults) == (0, 0, 0)


def test_a_network_by_hand():
    # conv on 5×5×3 to 3×3×8: 72 outputs of 27 products, 1944 forward and 1944 for its weight
    # gradient (no input gradient); FeatureDropout on 72 elements of 8 channels: 8 divs,
    # 72 mults forward, 72 backward
    net = Sequential(Conv2d(3, 8, 3), FeatureDropout(0.5))
    step = cost(net, (5, 5, 3), phase="train")
    assert (step.mults, step.divs) == (1944 + 72 + 1944 + 72, 8)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("p", [0.3, 1, 0])
@pytest.mark.parametrize("phase", ["backward", "train"])
def test_executors_count_what_is_derived(kind, p, phase):
    assert verify(kind(p), (3, 3, 4), phase=phase).ok
    assert verify(Sequential(Conv2d(3, 4, 3), kind(p), ReLU()), (5, 5, 3), phase=phase).ok


@settings(max_examples=15, deadline=None)
@given(st.sampled_from(KINDS), st.sampled_from([0.25, 0.5, 1, 0]),
       st.lists(st.integers(1, 4), min_size=1, max_size=4))
def test_fuzzed_shapes_count_what_is_derived(kind, p, shape):
    """Any rank, any sizes: the training step's counts (fast and reference) are the derived
    ones (a draw per channel: the last size)."""
    assert verify(kind(p), tuple(shape), phase="train").ok


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("shape", [(6,), (5, 3), (3, 2, 4), (2, 2, 3, 3)], ids=str)
def test_fast_and_reference_agree(kind, shape):
    layer = kind(0.4)
    x = random_input(shape, seed=2)
    runs = [execute_backward(layer, x, method=method) for method in ("fast", "reference")]
    np.testing.assert_allclose(runs[0].grad_input, runs[1].grad_input, rtol=1e-15)
    assert runs[0].counts == runs[1].counts
    mask = np.array([1.0, 0.0] * 18)[:int(np.prod(shape if kind is AlphaDropout else shape[-1:]))]
    results = []
    for train in (train_fast, train_reference):
        counter = Counter()
        results.append((train(layer, x, {"mask": mask}, counter).output, counter.counts()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-15)
    assert results[0][1] == results[1][1]


def test_feature_draws_are_per_channel_and_checked():
    x = np.arange(1.0, 13.0).reshape(2, 3, 2)   # 2 channels
    for runner in (train_fast, train_reference):
        counter = Counter()
        run = runner(FeatureDropout(0.75), x, {"mask": np.array([0, 1])}, counter)
        # channel 0 dropped, channel 1 kept × 1/(1 − 0.75) = 4, at every position
        np.testing.assert_allclose(run.output[..., 0], 0)
        np.testing.assert_allclose(run.output[..., 1], 4 * x[..., 1])
        assert (counter.divs, counter.mults) == (2, 12)
        with pytest.raises(SymconvError, match="mask of shape"):
            runner(FeatureDropout(0.75), x, {"mask": np.ones(12)}, Counter())


def test_alpha_dropout_keeps_zero_mean_unit_variance_values_by_hand():
    """p = 0.5: a = 1/sqrt((α²/2 + 1)/2), a kept x becomes a·x + α·a/2, a dropped one
    −α·a/2, with α = 1.7580993408473766 (written here from ATen's source, not the module)."""
    alpha, p = 1.7580993408473766, 0.5
    a = 1 / np.sqrt((alpha * alpha * p + 1) * (1 - p))
    x = np.array([0.5, -1.0, 2.0, 3.0])
    for runner in (train_fast, train_reference):
        run = runner(AlphaDropout(p), x, {"mask": np.array([1, 0, 1, 0])}, Counter())
        np.testing.assert_allclose(run.output, [a * 0.5 + alpha * a * p, -alpha * a * p,
                                                a * 2.0 + alpha * a * p, -alpha * a * p],
                                   rtol=1e-15)


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
def test_gradients_match_finite_differences_given_the_draws(kind):
    shape = (3, 2, 4)
    layer = kind(0.3)
    x, g = random_input(shape, seed=3), random_input(shape, seed=4)
    mask = np.array([1.0, 0.0, 1.0, 1.0] * 6)[:int(np.prod(shape if kind is AlphaDropout
                                                           else shape[-1:]))]

    def loss() -> float:
        return float(np.sum(train_fast(layer, x, {"mask": mask}, Counter()).output * g))

    run = train_fast(layer, x, {"mask": mask}, Counter())
    for backward in (backward_fast, backward_reference):
        dx, grads = backward(layer, x, run.saved, g, Counter(), input_grad=True,
                             trainable=True)
        np.testing.assert_allclose(dx, numeric(loss, x), rtol=1e-6, atol=1e-8)
        assert grads == {}


def _torch():
    return pytest.importorskip("torch")   # float64 tensors asked for by dtype


_FUNCTIONS = {  # torch function, its noise shape for an input of (1, C, *spatial)
    FeatureDropout: ("dropout2d", lambda shape: (*shape[:2], *(1 for _ in shape[2:]))),
    AlphaDropout: ("alpha_dropout", lambda shape: shape),
    FeatureAlphaDropout: ("feature_alpha_dropout",
                          lambda shape: (*shape[:2], *(1 for _ in shape[2:]))),
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.__name__)
@pytest.mark.parametrize("p", [0.3, 0.5, 1.0])
def test_values_equal_torch_given_its_draws(kind, p):
    torch = _torch()
    name, noise_shape = _FUNCTIONS[kind]
    function = getattr(torch.nn.functional, name)
    for seed in range(3):
        x = torch.randn(1, 4, 3, 2, dtype=torch.float64, requires_grad=True)
        g = torch.randn(1, 4, 3, 2, dtype=torch.float64)
        torch.manual_seed(seed)
        # ATen's _dropout_impl: noise = new_empty(noise shape).bernoulli_(1 - p), nothing
        # drawn before it; p = 1 draws nothing
        draws = torch.empty(noise_shape(tuple(x.shape)), dtype=torch.float64).bernoulli_(1 - p)
        torch.manual_seed(seed)
        y = function(x, p, training=True)
        y.backward(g)
        to_ours = (0, 2, 3, 1)   # (1, C, H, W) → (H, W, C)
        ours_x = x.detach().permute(*to_ours).numpy()[0]
        mask = draws.permute(*to_ours).numpy()[0].ravel()
        for train, backward in ((train_fast, backward_fast),
                                (train_reference, backward_reference)):
            run = train(kind(p), ours_x, {"mask": mask}, Counter())
            dx, _ = backward(kind(p), ours_x, run.saved, g.permute(*to_ours).numpy()[0],
                             Counter(), input_grad=True, trainable=True)
            np.testing.assert_allclose(run.output, y.detach().permute(*to_ours).numpy()[0],
                                       rtol=1e-15, atol=1e-15)
            np.testing.assert_allclose(dx, x.grad.permute(*to_ours).numpy()[0], rtol=1e-15)


def test_flop_counter_counts_none_of_it_so_the_torch_convention_is_unchanged():
    torch = _torch()
    from torch.utils.flop_counter import FlopCounterMode

    for name in ("dropout1d", "dropout2d", "alpha_dropout", "feature_alpha_dropout"):
        x = torch.randn(1, 4, 5, 6 if name != "dropout1d" else 1, requires_grad=True)
        with FlopCounterMode(display=False) as counter:
            getattr(torch.nn.functional, name)(x[..., 0] if name == "dropout1d" else x, 0.5,
                                               training=True).sum().backward()
        assert counter.get_total_flops() == 0, name
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=False),
                                torch.nn.Dropout2d(0.5), torch.nn.AlphaDropout(0.2))
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 5, 5)).sum().backward()
    net = Sequential(Conv2d(3, 8, 3), FeatureDropout(0.5), AlphaDropout(0.2))
    # 2·1944 forward, 2·1944 weight gradient; nothing for the dropouts
    assert counter.get_total_flops() == 4 * 1944
    assert count(net, (5, 5, 3), convention="torch", phase="train") == 4 * 1944
