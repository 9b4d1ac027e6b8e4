"""BatchNorm without running statistics (``track_running_stats=False``, issue 12): PyTorch
normalises with the batch's own mean and biased variance in eval mode too, so symconv counts its
inference forward as the training forward without the running-statistics update (statistics,
constants, normalise), its training forward the same, its backward as BatchNorm's in training.
Counts by hand, executors against the derivation, ``from_torch``, the five peers
run for real and the training step against FlopCounterMode (torch tests skip without torch);
values and gradients against PyTorch in eval mode are in tests/test_batchnorm_train.py."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import BatchNorm1d, BatchNorm2d, Conv2d, Sequential
from symconv.networks.conventions import count
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")


def _counts(c) -> dict[str, int]:
    return {kind: int(getattr(c, kind)) for kind in KINDS}


# ------------------------------------------------------------------ the layer


def test_the_layer_has_no_buffers_and_its_own_kind():
    layer = BatchNorm2d(4, track_running_stats=False)
    assert layer.kind == "batchnorm:batch_stats" and BatchNorm2d(4).kind == "batchnorm"
    assert repr(layer) == "BatchNorm2d(channels=4, affine=True, track_running_stats=False)"
    assert layer != BatchNorm2d(4) and layer == BatchNorm2d(4, track_running_stats=False)
    assert cost(layer, (3, 3, 4)).params == 8
    assert cost(BatchNorm1d(4, affine=False, track_running_stats=False), (3, 4)).params == 0
    run = execute(layer, np.ones((3, 3, 4)) + np.arange(9.0).reshape(3, 3, 1))
    assert run.buffers == {} and set(run.params) == {"weight", "bias"}
    with pytest.raises(SymconvError, match="track_running_stats=0"):
        BatchNorm2d(4, track_running_stats=0)  # type: ignore[arg-type]


# ------------------------------------------------------------------ counts by hand


def _by_hand(values: int, channels: int, affine: bool) -> dict[str, dict[str, int]]:
    """docs/conventions.md's BatchNorm training table, per channel of ``values`` elements:
    statistics ``3E − 1`` adds, ``E`` mults, 3 divs, 1 sqrt; constants 2 mults, 1 add (1 mult
    without γ, β); normalise 1 mult, 1 add per element; no running statistics."""
    zero = dict.fromkeys(KINDS, 0)
    return {
        "statistics": {**zero, "adds": channels * (3 * values - 1), "mults": channels * values,
                       "divs": 3 * channels, "transcendentals": channels},
        "constants": {**zero, "mults": channels * (2 if affine else 1),
                      "adds": channels if affine else 0},
        "normalise": {**zero, "mults": channels * values, "adds": channels * values},
    }


@pytest.mark.parametrize("affine", [True, False])
def test_tiny_case_by_hand(affine):
    # BatchNorm2d(2) on 2×3×2: E = 6 values a channel, C = 2 channels.
    # statistics, a channel: Σx 5 adds, /E 1 div; (x − mean) 6 adds, squares 6 mults, Σ 5 adds;
    #   /E 1 div, + eps 1 add, sqrt 1, 1/· 1 div -> 17 adds, 6 mults, 3 divs, 1 sqrt
    # constants, a channel: invstd·γ, β − mean·alpha -> 2 mults, 1 add (−mean·invstd: 1 mult)
    # normalise, 12 elements: x·alpha + beta -> 1 mult, 1 add each
    by_hand = _by_hand(6, 2, affine)
    assert by_hand["statistics"]["adds"] == 2 * 17
    total = {kind: sum(part[kind] for part in by_hand.values()) for kind in KINDS}
    assert total == ({"mults": 28, "adds": 48, "divs": 6, "comparisons": 0,
                      "transcendentals": 2} if affine else
                     {"mults": 26, "adds": 46, "divs": 6, "comparisons": 0,
                      "transcendentals": 2})
    layer = BatchNorm2d(2, affine=affine, track_running_stats=False)
    # at inference: the batch statistics too, nothing folded
    assert _counts(cost(layer, (2, 3, 2))) == total
    # in a training step: the same parts, no running_stats
    forward = dict(cost(layer, (2, 3, 2), phase="train").stages)["forward"]
    assert {name: _counts(part) for name, part in forward.parts} == by_hand
    assert _counts(forward) == total
    x = np.random.default_rng(0).standard_normal((2, 3, 2))
    for method in ("fast", "reference"):
        for training in (False, True):
            run = execute(layer, x, training=training, method=method)  # type: ignore[arg-type]
            assert run.counts is not None and run.counts.as_dict() == total, (method, training)
            assert run.updated == {}


@settings(max_examples=25, deadline=None)
@given(spatial=st.lists(st.integers(1, 4), min_size=1, max_size=2),
       channels=st.integers(1, 4), affine=st.booleans(), seed=st.integers(0, 2**16))
def test_fuzzed_counts_equal_the_table(spatial, channels, affine, seed):
    values = int(np.prod(spatial))
    assume(values > 1)
    rank = len(spatial)
    layer = (BatchNorm2d if rank == 2 else BatchNorm1d)(channels, affine=affine,
                                                        track_running_stats=False)
    shape = (*spatial, channels)
    total = {kind: sum(part[kind] for part in _by_hand(values, channels, affine).values())
             for kind in KINDS}
    assert _counts(cost(layer, shape)) == total
    x = np.random.default_rng(seed).standard_normal(shape)
    for method in ("fast", "reference"):
        run = execute(layer, x, method=method)  # type: ignore[arg-type]
        assert run.counts is not None and run.counts.as_dict() == total
    assert verify(layer, shape, seed=seed).ok


def test_symbolic_formulas():
    e = H * W
    c = cost(BatchNorm2d(C, track_running_stats=False), (H, W, C))
    assert sympy.expand(c.mults - (2 * e * C + 2 * C)) == 0
    assert sympy.expand(c.adds - 4 * e * C) == 0
    assert (c.divs, c.transcendentals, c.comparisons, c.params) == (3 * C, C, 0, 2 * C)
    plain = cost(BatchNorm2d(C, affine=False, track_running_stats=False), (H, W, C))
    assert sympy.expand(plain.mults - (2 * e * C + C)) == 0
    assert sympy.expand(plain.adds - (4 * e * C - C)) == 0 and plain.params == 0


@pytest.mark.parametrize("affine", [True, False])
def test_the_backward_is_batchnorms_in_training(affine):
    # docs: centre E·C adds; sum_g C·(E − 1) adds; dot C·E mults, C·(E − 1) adds; constants
    # per channel 2 divs and 3 mults (2 without γ); input_grad 2 mults, 2 adds per element;
    # weight_grad 1 mult per channel (with γ); bias_grad is sum_g (nothing more)
    e, channels = 12, 3
    layer = BatchNorm2d(channels, affine=affine, track_running_stats=False)
    back = dict(cost(layer, (3, 4, channels), phase="train").stages)["backward"]
    mults = channels * e + channels * (3 if affine else 2) + 2 * channels * e + \
        (channels if affine else 0)
    adds = channels * e + 2 * channels * (e - 1) + 2 * channels * e
    assert (back.mults, back.adds, back.divs) == (mults, adds, 2 * channels)


def test_one_value_per_channel_is_refused_at_inference_too_as_pytorch_does():
    with pytest.raises(SymconvError, match=r"track_running_stats=False.*1 value per channel"):
        cost(BatchNorm1d(4, track_running_stats=False), (4,))
    with pytest.raises(SymconvError, match="1 value per channel"):
        cost(Sequential(Conv2d(3, 4, 3), BatchNorm2d(4, track_running_stats=False)), (3, 3, 3))
    with pytest.raises(SymconvError, match="1 value per channel"):
        execute(BatchNorm1d(4, track_running_stats=False), np.ones(4))
    # with running statistics the folded inference forward takes one value
    assert cost(BatchNorm1d(4), (4,)).mults == 4
    torch = pytest.importorskip("torch")
    norm = torch.nn.BatchNorm1d(4, track_running_stats=False).eval()
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        norm(torch.ones(1, 4))


@pytest.mark.parametrize("layer,shape", [
    (BatchNorm2d(3, track_running_stats=False), (4, 5, 3)),
    (BatchNorm2d(2, affine=False, track_running_stats=False), (3, 2, 2)),
    (BatchNorm1d(4, track_running_stats=False), (6, 4)),
    (BatchNorm1d(2, affine=False, track_running_stats=False), (7, 2)),
], ids=str)
@pytest.mark.parametrize("phase", ["forward", "train", "backward"])
def test_every_phase_verifies(layer, shape, phase):
    assert verify(layer, shape, phase=phase).ok


# ------------------------------------------------------------------ against PyTorch


def _model(rank: int, affine: bool, track: bool = False):
    """conv → BatchNorm(track_running_stats=track) → ReLU → pool → linear (2-D), or
    conv → BatchNorm1d → ReLU → flatten → linear (1-D on length 6)."""
    nn = pytest.importorskip("torch").nn
    if rank == 2:
        return nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False),
            nn.BatchNorm2d(8, affine=affine, track_running_stats=track), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    return nn.Sequential(
        nn.Conv1d(3, 8, 3, padding=1, bias=False),
        nn.BatchNorm1d(8, affine=affine, track_running_stats=track), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 6, 5))


_INPUT = {2: (9, 9, 3), 1: (6, 3)}


def _net(rank: int, affine: bool, track: bool = False):
    from symconv import from_torch

    return from_torch(_model(rank, affine, track), _INPUT[rank])


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("affine", [True, False])
def test_from_torch_maps_it(rank, affine):
    net = _net(rank, affine)
    norms = [stage for _, stage in net.stages if stage.kind == "batchnorm:batch_stats"]
    assert len(norms) == 1 and norms[0].affine is affine
    assert type(norms[0]) is (BatchNorm2d if rank == 2 else BatchNorm1d)
    assert verify(net, _INPUT[rank]).ok
    assert verify(net, _INPUT[rank], phase="train").ok


@pytest.mark.parametrize("rank", [1, 2])
def test_every_peer_counts_what_symconv_says_it_counts(rank):
    from torch_nets import installed_peers, peer_count

    peers = installed_peers()
    if not peers:
        pytest.skip("no peer installed")
    chw = (_INPUT[rank][-1], *_INPUT[rank][:-1])
    for affine in (True, False):
        for peer in peers:
            assert count(_net(rank, affine), convention=peer) == peer_count(
                peer, _model(rank, affine), chw), (peer, affine)
    # the BatchNorm sees 9·9·8 = 648 elements (1-D: 6·8 = 48). Without running statistics
    # fvcore's batchnorm_flop_jit sees training=True: norm_flop_counter's 5 per element with
    # affine, 4 without, instead of 2 and 1; ptflops, thop, torchinfo and torch do not read it
    elements = 648 if rank == 2 else 48
    for affine in (True, False):
        difference = {"ptflops": 0, "thop": 0, "torchinfo": 0, "torch": 0,
                      "fvcore": 3 * elements}
        for peer in peers:
            assert count(_net(rank, affine), convention=peer) - count(
                _net(rank, affine, track=True), convention=peer) == difference[peer], peer


@pytest.mark.parametrize("rank", [1, 2])
@pytest.mark.parametrize("affine", [True, False])
def test_the_training_step_equals_flop_counter_mode(rank, affine):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = _model(rank, affine).train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, *(_INPUT[rank][-1], *_INPUT[rank][:-1]))).sum().backward()
    # the convolution's products: 2-D 9·9·8·27 = 17496, 1-D 6·8·9 = 432; the linear layer's
    # 8·5 = 40 (1-D: 48·5 = 240). Forward 2·both; backward the convolution's weight gradient
    # (its input is data) 2·conv and the linear layer's two gradients 2·linear each;
    # BatchNorm nothing (no formula in FlopCounterMode's registry)
    conv, linear = (17496, 40) if rank == 2 else (432, 240)
    expected = 2 * (conv + linear) + 2 * conv + 4 * linear
    assert counter.get_total_flops() == expected
    assert count(_net(rank, affine), convention="torch", phase="train") == expected
