"""from_torch keeps ``nn.Dropout1d/2d/3d`` (as ``FeatureDropout``), ``nn.AlphaDropout`` and
``nn.FeatureAlphaDropout`` (issue 12): nothing at inference (every installed peer agrees), their
training-mode operations in a training step (docs/conventions.md, "Dropout and
StochasticDepth in a training step"). The channel dropouts need PyTorch's ``(N, C, *spatial)``
and the ranks ``F.dropout1d`` / ``F.dropout3d`` batch; anything else is refused by name.
Expected numbers are counted by hand beside each test, or come from PyTorch and the peers."""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402

from symconv import SymconvError, count, from_torch, verify  # noqa: E402
from symconv.layers import (  # noqa: E402
    AlphaDropout,
    FeatureAlphaDropout,
    FeatureDropout,
)
from symconv.networks.rows import rows  # noqa: E402

_KINDS = ("featuredropout", "alphadropout", "featurealphadropout")


class _Net(nn.Module):
    """Each kind once, on (N, C, H, W) and on (N, C, L); p = 0 is left out (even on a rank
    Dropout3d would otherwise be refused on)."""

    def __init__(self, drops: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        maybe = (lambda module: module) if drops else (lambda module: nn.Identity())
        self.channels = maybe(nn.Dropout2d(0.3))
        self.alpha = maybe(nn.AlphaDropout(0.2))
        self.feature_alpha = maybe(nn.FeatureAlphaDropout(0.1))
        self.none = nn.Dropout3d(0.0)   # the identity in training too: on any rank
        self.rows = maybe(nn.Dropout1d(0.25))
        self.linear = nn.Linear(64, 5)

    def forward(self, x: Any) -> Any:
        x = self.feature_alpha(self.alpha(self.channels(self.conv(x))))
        x = self.rows(self.none(x).flatten(2))   # (N, 4, 16)
        return self.linear(x.flatten(1))


def test_the_layers_and_their_p() -> None:
    net = from_torch(_Net(), (4, 4, 3))
    kept = [layer for _, layer in net.stages
            if isinstance(layer, (FeatureDropout, AlphaDropout, FeatureAlphaDropout))]
    assert kept == [FeatureDropout(0.3), AlphaDropout(0.2), FeatureAlphaDropout(0.1),
                    FeatureDropout(0.25)]


def test_a_training_step_counts_them_by_hand() -> None:
    """The conv's output is 4·4·4 = 64 elements of 4 channels. Forward: Dropout2d 4 divs, 64
    mults; AlphaDropout 3·64 mults, 3·64 adds; FeatureAlphaDropout 64 + 2·4 mults, 64 + 2·4
    adds; Dropout1d on (N, 4, 16) 4 divs, 64 mults. Backward: 64 mults each."""
    net = from_torch(_Net(), (4, 4, 3))
    counted = [row for row in rows(net, phase="train") if row.kind in _KINDS]
    assert len(counted) == 8                               # 4 forward rows, 4 backward rows
    assert sum(int(row.mults) for row in counted) == (64 + 192 + 72 + 64) + 4 * 64
    assert sum(int(row.adds) for row in counted) == 192 + 72
    assert sum(int(row.divs) for row in counted) == 4 + 4
    without = from_torch(_Net(drops=False), (4, 4, 3))
    assert (int(count(net, convention="ops", phase="train"))
            - int(count(without, convention="ops", phase="train"))) == (
        (64 + 192 + 72 + 64) + 4 * 64 + 192 + 72 + 4 + 4)   # "ops": mults, adds and divs
    assert verify(net, phase="train").ok


def test_nothing_at_inference_for_symconv_and_every_peer() -> None:
    model, without = _Net(), _Net(drops=False)
    net = from_torch(model, (4, 4, 3))
    assert count(net, convention="ops") == count(from_torch(without, (4, 4, 3)),
                                                 convention="ops")
    peers = installed_peers()
    for peer in peers:
        assert count(net, convention=peer) == peer_count(peer, model, (3, 4, 4)), peer
        assert peer_count(peer, model, (3, 4, 4)) == peer_count(peer, without, (3, 4, 4)), peer


def test_torch_convention_equals_flop_counter_mode_in_training() -> None:
    model = _Net()
    net = from_torch(model, (4, 4, 3))
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 4, 4)).sum().backward()
    assert count(net, convention="torch", phase="train") == counter.get_total_flops()


class _Ranked(nn.Module):
    def __init__(self, dropout: nn.Module, permute: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.dropout = dropout
        self.permute = permute

    def forward(self, x: Any) -> Any:
        x = self.conv(x)
        return self.dropout(x.permute(0, 2, 3, 1) if self.permute else x)


@pytest.mark.parametrize(("dropout", "permute", "message"), [
    # F.dropout3d takes a 4-D tensor as one example (C, D, H, W): one draw per batch entry
    (nn.Dropout3d(0.5), False, "nn.Dropout3d gets a tensor of 4 axes"),
    # (N, H, W, C): PyTorch draws per H, not per channel
    (nn.Dropout2d(0.5), True, "axes PyTorch permuted"),
    (nn.FeatureAlphaDropout(0.5), True, "axes PyTorch permuted"),
], ids=["dropout3d-on-4-axes", "dropout2d-permuted", "featurealpha-permuted"])
def test_what_they_cannot_follow_is_refused_by_name(dropout: nn.Module, permute: bool,
                                                    message: str) -> None:
    with pytest.raises(SymconvError, match=message):
        from_torch(_Ranked(dropout, permute), (4, 4, 3))


def test_alpha_dropout_acts_on_elements_alone_so_any_layout() -> None:
    net = from_torch(_Ranked(nn.AlphaDropout(0.5), permute=True), (4, 4, 3))
    assert [layer for _, layer in net.stages if isinstance(layer, AlphaDropout)] == [
        AlphaDropout(0.5)]
