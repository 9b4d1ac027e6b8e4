"""``from_torch`` maps ``nn.BatchNorm2d(affine=False)`` (no γ, β): the five peers' counts of a
small model, and its training step against FlopCounterMode (skipped without torch)."""

from __future__ import annotations

import pytest

from symconv import cost, verify
from symconv.networks.conventions import count


def _model(affine: bool):
    nn = pytest.importorskip("torch").nn
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8, affine=affine), nn.ReLU(),
        nn.Conv2d(8, 8, 3, groups=8, bias=False), nn.BatchNorm2d(8, affine=affine), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))


def _net(affine: bool):
    from symconv import from_torch

    return from_torch(_model(affine), (9, 9, 3))


def test_it_is_mapped_without_parameters():
    net = _net(affine=False)
    batchnorms = [stage for _, stage in net.stages if stage.kind == "batchnorm"]
    assert [layer.affine for layer in batchnorms] == [False, False]
    # 8 channels each: no γ, β; the convolutions 3·3·3·8 + 3·3·8 and the linear layer 8·5 + 5
    assert cost(net).params == 216 + 72 + 45
    assert verify(net, (9, 9, 3)).ok
    assert verify(net, (9, 9, 3), phase="train").ok


def test_every_peer_counts_what_symconv_says_it_counts():
    from torch_nets import installed_peers, peer_count

    peers = installed_peers()
    if not peers:
        pytest.skip("no peer installed")
    for peer in peers:
        assert count(_net(False), convention=peer) == peer_count(peer, _model(False),
                                                                 (3, 9, 9)), peer
    # the two BatchNorms see 9·9·8 = 648 and 7·7·8 = 392 elements: 1040. Without γ, β ptflops'
    # bn_flops_counter_hook and fvcore's batchnorm_flop_jit count 1 per element (2 with affine),
    # thop's count_normalization 2 (4 with affine), torchinfo the parameters (0; 2·8 with affine)
    difference = {"ptflops": 1040, "fvcore": 1040, "thop": 2 * 1040, "torchinfo": 2 * 16,
                  "torch": 0}
    for peer in peers:
        assert count(_net(True), convention=peer) - count(_net(False), convention=peer) == \
            difference[peer], peer


def test_the_training_step_equals_flop_counter_mode():
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = _model(False).train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 9, 9)).sum().backward()
    # convolutions: 9·9·8·27 = 17496 and 7·7·8·9 = 3528 products, the linear layer 40; forward
    # 2·(17496 + 3528 + 40) = 42128; backward: the first convolution's weight gradient only
    # (its input is data) 2·17496, the depthwise input gradient 2·3528 and its weight gradient
    # counted by FlopCounterMode without the groups, 8 times: 2·8·3528; the linear layer's two
    # gradients 2·40 each
    expected = 42128 + 2 * 17496 + 2 * 3528 + 2 * 8 * 3528 + 4 * 40
    assert counter.get_total_flops() == expected == 140784
    assert count(_net(False), convention="torch", phase="train") == expected


@pytest.mark.parametrize("rank", [1, 2])
def test_batch_statistics_in_eval_mode_are_counted_as_pytorch_runs_them(rank):
    """``track_running_stats=False``: PyTorch normalises with the batch's statistics in eval
    mode too (shown against NumPy's mean and biased variance below), not with the folded
    ``x·a + b``; from_torch maps it to the BatchNorm that does the same (issue 12,
    tests/test_batchnorm_batch_stats.py), whose run gives NumPy's values."""
    import numpy as np

    from symconv import execute, from_torch

    torch = pytest.importorskip("torch")
    norm = (torch.nn.BatchNorm1d if rank == 1 else torch.nn.BatchNorm2d)(
        4, track_running_stats=False).double().eval()
    x = torch.rand(3, 4, *((5,) * rank), dtype=torch.float64) * 3 + 1
    axes = (0, *range(2, 2 + rank))
    values = x.numpy()
    mean = values.mean(axis=axes, keepdims=True)
    variance = ((values - mean) ** 2).mean(axis=axes, keepdims=True)
    expected = (values - mean) / np.sqrt(variance + norm.eps)   # γ = 1, β = 0 at creation
    with torch.no_grad():
        np.testing.assert_allclose(norm(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    net = from_torch(norm.float(), (5,) * rank + (4,))
    [(_, layer)] = net.stages
    assert layer.kind == "batchnorm:batch_stats" and not layer.track_running_stats
    # symconv has no batch axis: one example of 5 (5×5) positions, channels last
    example = np.moveaxis(values[0], 0, -1)
    run = execute(layer, example, {"weight": np.ones(4), "bias": np.zeros(4)})
    centred = example - example.reshape(-1, 4).mean(axis=0)
    by_numpy = centred / np.sqrt((centred.reshape(-1, 4) ** 2).mean(axis=0) + norm.eps)
    np.testing.assert_allclose(run.output, by_numpy, rtol=1e-12, atol=1e-12)
