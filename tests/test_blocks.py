"""Conformance of the blocks torchvision's models are made of (issue 11, item 5): ShuffleNet V2
units, a DenseNet dense block and a GoogLeNet inception block, as torchvision defines them,
through ``from_torch`` — counted by hand and against every peer tool — and Hypothesis-built
PyTorch models with the movement and resizing kinds (chunk, split, channel shuffle, Upsample,
F.interpolate, PReLU) against every peer. Skips without torch, torchvision or the peers.
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402

from symconv import SymconvError, cost, count, from_torch, verify  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402

PEERS_HERE = installed_peers()
KINDS = ("mults", "adds", "divs", "comparisons", "params")


def _tv() -> Any:
    from torchvision_models import models

    return models()


def _channels_last(chw: tuple[int, ...]) -> tuple[int, ...]:
    return (*chw[1:], chw[0])


# Counted by hand (P: positions; BN: 1 mult and 1 add per element; ReLU: 1 comparison; a
# convolution: k·k·M/g mults and k·k·M/g − 1 adds per output; params: weights, BN's γ and β).
#
# ShuffleNet V2 unit, stride 1, 8 → 8 channels on 6×5 (P = 30): chunk into 4 + 4; branch2 on
# the second half: 1×1 4→4 (480 mults, 360 adds, 16 params), BN (120, 120, 8), ReLU (120),
# depthwise 3×3 (30·4·9 = 1080, 30·4·8 = 960, 36), BN (120, 120, 8), 1×1 (480, 360, 16),
# BN (120, 120, 8), ReLU (120); cat and the shuffle count nothing.
#   mults 480+120+1080+120+480+120 = 2400, adds 360+120+960+120+360+120 = 2040,
#   comparisons 240, params 16+8+36+8+16+8 = 92.
# Unit with stride 2, 8 → 16 on 6×5: both branches give 3×3 (P_o = 9), 8 channels each.
#   branch1: depthwise 3×3 s2 (9·8·9 = 648, 9·8·8 = 576, 72), BN (72, 72, 16), 1×1 8→8 on 9
#   (576, 504, 64), BN (72, 72, 16), ReLU (72);
#   branch2: 1×1 8→8 on 30 (1920, 1680, 64), BN (240, 240, 16), ReLU (240), depthwise s2
#   (648, 576, 72), BN (72, 72, 16), 1×1 (576, 504, 64), BN (72, 72, 16), ReLU (72).
#   mults 1368 + 3528 = 4896, adds 1224 + 3144 = 4368, comparisons 384, params 168 + 248 = 416.
# DenseNet _DenseBlock(2 layers, 8 input features, bn_size 2, growth 4) on 7×6 (P = 42):
#   layer 1 on 8 channels: BN (336, 336, 16), ReLU (336), 1×1 8→8 (2688, 2352, 64), BN (336,
#   336, 16), ReLU (336), 3×3 pad 1 8→4 (42·4·72 = 12096, 42·4·71 = 11928, 288);
#   layer 2 on cat(x, new) = 12 channels: BN (504, 504, 24), ReLU (504), 1×1 12→8 (4032, 3696,
#   96), BN (336, 336, 16), ReLU (336), 3×3 8→4 (12096, 11928, 288); the cats count nothing.
#   mults 15456 + 16968 = 32424, adds 14952 + 16464 = 31416, comparisons 1512,
#   params 384 + 424 = 808.
# GoogLeNet Inception(8, 4, 3, 4, 2, 4, 4) on 7×7 (P = 49), each BasicConv2d a conv without
# bias, BN and F.relu (torchvision's "5×5" branch is a 3×3, padding 1):
#   1×1 8→4: (1568, 1372, 32) + BN (196, 196, 8) + ReLU 196;
#   1×1 8→3: (1176, 1029, 24) + BN (147, 147, 6) + 147; 3×3 3→4: (5292, 5096, 108) + BN (196,
#   196, 8) + 196;
#   1×1 8→2: (784, 686, 16) + BN (98, 98, 4) + 98; 3×3 2→4: (3528, 3332, 72) + BN (196, 196, 8)
#   + 196;
#   max pool 3×3, stride 1, padding 1, ceil_mode: 49·8 outputs of 8 comparisons = 3136; 1×1
#   8→4: (1568, 1372, 32) + BN (196, 196, 8) + 196.
#   mults 1764 + 6811 + 4606 + 1764 = 14945, adds 1568 + 6468 + 4312 + 1568 = 13916,
#   comparisons 196 + 343 + 294 + 3332 = 4165, params 40 + 146 + 100 + 40 = 326.
HAND = {
    "shufflenet unit": {"mults": 2400, "adds": 2040, "divs": 0, "comparisons": 240, "params": 92},
    "shufflenet unit, stride 2": {"mults": 4896, "adds": 4368, "divs": 0, "comparisons": 384,
                                  "params": 416},
    "dense block": {"mults": 32424, "adds": 31416, "divs": 0, "comparisons": 1512,
                    "params": 808},
    "inception block": {"mults": 14945, "adds": 13916, "divs": 0, "comparisons": 4165,
                        "params": 326},
}


def _blocks() -> dict[str, tuple[nn.Module, tuple[int, ...]]]:
    _tv()
    from torchvision.models.densenet import _DenseBlock
    from torchvision.models.googlenet import Inception
    from torchvision.models.shufflenetv2 import InvertedResidual

    return {
        "shufflenet unit": (InvertedResidual(8, 8, 1), (8, 6, 5)),
        "shufflenet unit, stride 2": (InvertedResidual(8, 16, 2), (8, 6, 5)),
        "dense block": (_DenseBlock(2, 8, 2, 4, 0.0), (8, 7, 6)),
        "inception block": (Inception(8, 4, 3, 4, 2, 4, 4), (8, 7, 7)),
    }


@pytest.mark.parametrize("name", sorted(HAND))
def test_blocks_counted_by_hand(name: str) -> None:
    block, chw = _blocks()[name]
    net = from_torch(block.eval(), _channels_last(chw))
    derived = cost(net)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == HAND[name]
    assert verify(net).ok  # executed, counted, traffic tracked


def test_shufflenet_unit_is_slices_a_cat_and_a_channel_shuffle() -> None:
    block, chw = _blocks()["shufflenet unit"]
    kinds = [row.kind for row in rows(from_torch(block.eval(), _channels_last(chw)))
             if row.kind != "reuse"]
    assert kinds[:2] == ["slice", "slice"] and kinds[-2:] == ["cat", "channelshuffle"]


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("name", sorted(HAND))
def test_blocks_against_every_peer(name: str) -> None:
    block, chw = _blocks()[name]
    net = from_torch(block.eval(), _channels_last(chw))
    for peer in PEERS_HERE:
        assert count(net, convention=peer) == peer_count(peer, block, chw), peer


# --- Hypothesis-built models with the movement and resizing kinds ---------------------------

class Shuffle(nn.Module):
    """torchvision's channel_shuffle, written as ShuffleNet V2 writes it."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: Any) -> Any:
        batch, channels, height, width = x.size()
        x = x.view(batch, self.groups, channels // self.groups, height, width)
        x = torch.transpose(x, 1, 2).contiguous()
        return x.view(batch, channels, height, width)


class SplitJoin(nn.Module):
    """Split the channels (chunk or split, as a function or a method), convolve one part, join
    them again with torch.cat (in either order)."""

    def __init__(self, channels: int, how: str, first: int, swap: bool) -> None:
        super().__init__()
        self.how, self.first, self.swap = how, first, swap
        self.conv = nn.Conv2d(channels - first, channels - first, 1)

    def forward(self, x: Any) -> Any:
        if self.how == "x.chunk":
            a, b = x.chunk(2, dim=1)
        elif self.how == "torch.chunk":
            a, b = torch.chunk(x, 2, 1)
        elif self.how == "x.split":
            a, b = x.split([self.first, x.size(1) - self.first], dim=1)
        else:
            a, b = torch.split(x, self.first, dim=1)
        b = self.conv(b)
        return torch.cat((b, a) if self.swap else (a, b), dim=1)


class Interpolate(nn.Module):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def forward(self, x: Any) -> Any:
        return F.interpolate(x, **self.options)


@st.composite
def movement_models(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, int, int]]:
    """A small model of convolutions, BatchNorm and the new kinds; every step fits its input."""
    c = 2 * draw(st.integers(1, 3))
    h, w = draw(st.integers(2, 5)), draw(st.integers(2, 5))
    start = (c, h, w)
    steps: list[nn.Module] = [nn.Conv2d(c, c, 3, padding=1)]
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["shuffle", "split", "upsample", "interpolate", "prelu",
                                     "bn"]))
        if kind == "shuffle":
            steps.append(Shuffle(draw(st.sampled_from([g for g in (2, 3, c) if c % g == 0]))))
        elif kind == "split":
            how = draw(st.sampled_from(["x.chunk", "torch.chunk", "x.split", "torch.split"]))
            # two parts: chunk halves; split by sizes anywhere; split by a part size of at
            # least half the channels
            low = c // 2 if how == "torch.split" else 1
            first = c // 2 if how.endswith("chunk") else draw(st.integers(low, c - 1))
            steps.append(SplitJoin(c, how, first, draw(st.booleans())))
        elif kind in ("upsample", "interpolate"):
            mode = draw(st.sampled_from(["nearest", "bilinear"]))
            options: dict[str, Any] = {"mode": mode}
            if mode == "bilinear":
                options["align_corners"] = draw(st.booleans())
            if draw(st.booleans()) and max(h, w) <= 6:
                options["scale_factor"] = draw(st.sampled_from([1, 2, 2.0, (2, 1)]))
                factor = options["scale_factor"]
                fh, fw = factor if isinstance(factor, tuple) else (factor, factor)
                h, w = int(h * fh), int(w * fw)
            else:
                h, w = h + draw(st.integers(0, 3)), w + draw(st.integers(0, 3))
                options["size"] = (h, w)
            steps.append(nn.Upsample(**options) if kind == "upsample" else Interpolate(**options))
        elif kind == "prelu":
            steps.append(nn.PReLU(draw(st.sampled_from([1, c]))))
        else:
            steps.append(nn.BatchNorm2d(c))
    return nn.Sequential(*steps).eval(), start


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@settings(max_examples=15, deadline=None)
@given(movement_models())
def test_every_peer_on_generated_models_with_movement_and_resizing(
        case: tuple[nn.Module, tuple[int, int, int]]) -> None:
    model, chw = case
    net = from_torch(model, _channels_last(chw))
    for peer in PEERS_HERE:
        assert count(net, convention=peer) == peer_count(peer, model, chw), f"{peer}\n{model}"
    assert verify(net).ok


def test_a_split_channel_axis_used_otherwise_is_refused_by_name() -> None:
    class Grouped(nn.Module):
        def forward(self, x: Any) -> Any:
            return x.view(1, 2, 4, 5, 5).sum(2)

    class Unmerged(nn.Module):
        def forward(self, x: Any) -> Any:
            x.view(1, 2, 4, 5, 5).transpose(1, 2)
            return x

    for model, where in ((Grouped(), "sum"), (Unmerged(), "transpose")):
        with pytest.raises(SymconvError, match=f"{where} .*only as ShuffleNet's channel shuffle"):
            from_torch(model, (5, 5, 8))
