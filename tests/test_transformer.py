"""ConvNeXt and ViT pieces through ``from_torch``: permutes, LayerNorm and Linear on
channels-last tensors, GELU, layer scale, reshapes, a class token, a position embedding,
``nn.MultiheadAttention`` and ``x[:, 0]``.

* a ConvNeXt block (torchvision's ``CNBlock``) and an attention block (torchvision's ViT
  ``EncoderBlock``) counted by hand, and against every peer installed;
* Hypothesis-built token models (patch embedding, reshape, permute or transpose, class token,
  position embedding, LayerNorm, attention as a module and by hand with matmul, a scale and
  softmax, MLP, residuals, head) against every peer;
* the attention's values against PyTorch's in float64, and the refusals.

Skips cleanly without torch; a peer that is not installed is left out. torchvision is imported
through the stub tests/torchvision_models.py explains.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import torch.nn.functional as F  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from torch import nn  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402

from symconv import SymconvError, cost, count, execute, from_torch, verify  # noqa: E402
from symconv.layers.attention import multihead_attention  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402

PEERS_HERE = installed_peers()


def _torchvision() -> Any:
    from torchvision_models import models

    return models()


def _assert_peers(model: nn.Module, chw: tuple[int, ...]) -> None:
    net = from_torch(model, (*chw[1:], chw[0]))
    for peer in PEERS_HERE:
        theirs = peer_count(peer, model, chw)
        ours = count(net, convention=peer)
        assert ours == theirs, f"{peer}: symconv {ours}, {peer} {theirs}\n{model}"


# --- a ConvNeXt block ------------------------------------------------------------------------
C, SIZE = 4, 5


def _cn_block() -> nn.Module:
    _torchvision()
    from torchvision.models.convnext import CNBlock

    return CNBlock(C, layer_scale=1e-6, stochastic_depth_prob=0.1).eval()


def test_convnext_block_by_hand() -> None:
    """torchvision's CNBlock: depthwise 7×7 with bias, permute, LayerNorm(eps=1e-6), Linear
    C→4C, GELU, Linear 4C→C, permute back, layer scale, stochastic depth, ``+=``."""
    net = from_torch(_cn_block(), (SIZE, SIZE, C))
    positions = SIZE * SIZE
    mults = (positions * C * 49 + positions * (3 * C + 1) + positions * 4 * C * C
             + positions * 4 * C * 3 + positions * C * 4 * C + positions * C)
    adds = (positions * C * 49 + positions * (5 * C - 1) + positions * 4 * C * C
            + positions * 4 * C + positions * C * 4 * C + positions * C)
    derived = cost(net)
    assert (derived.mults, derived.adds) == (mults, adds)
    assert derived.transcendentals == positions * (1 + 4 * C)
    assert derived.params == sum(p.numel() for p in _cn_block().parameters())
    assert verify(net).ok


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
def test_convnext_block_every_peer() -> None:
    _assert_peers(_cn_block(), (C, SIZE, SIZE))


def test_convnext_layernorm2d_head_every_peer() -> None:
    """torchvision's LayerNorm2d (permute, F.layer_norm, permute) then Flatten and Linear."""
    _torchvision()
    from torchvision.models.convnext import LayerNorm2d

    model = nn.Sequential(nn.Conv2d(3, 8, 2, 2), LayerNorm2d(8, eps=1e-6),
                          nn.AdaptiveAvgPool2d(1), LayerNorm2d(8), nn.Flatten(1),
                          nn.Linear(8, 5)).eval()
    net = from_torch(model, (6, 6, 3))
    kinds = [row.kind for row in rows(cost(net))]
    assert kinds.count("F.layernorm") == 2
    if PEERS_HERE:
        _assert_peers(model, (3, 6, 6))


# --- an attention block ----------------------------------------------------------------------
E, HEADS, TOKENS = 8, 2, 5


class Tokens(nn.Module):
    """``(N, E, L)`` as ``(N, L, E)`` tokens, then ``inner``."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.permute(0, 2, 1))


def _encoder_block(mlp: int = 16) -> nn.Module:
    _torchvision()
    from torchvision.models.vision_transformer import EncoderBlock

    return Tokens(EncoderBlock(HEADS, E, mlp, 0.0, 0.0)).eval()


def test_attention_block_by_hand() -> None:
    """ViT's EncoderBlock on 5 tokens of 8 channels, 2 heads, MLP 16."""
    net = from_torch(_encoder_block(), (TOKENS, E))
    L, D = TOKENS, E // HEADS
    layer_norm = (L * (3 * E + 1), L * (5 * E - 1))              # mults, adds, each LayerNorm
    attention = (L * 3 * E * E + L * E + HEADS * L * L * D + HEADS * L * L + HEADS * L * L * D
                 + L * E * E,
                 L * 3 * E * E + HEADS * L * L * (D - 1) + HEADS * L * (2 * L - 1)
                 + HEADS * L * D * (L - 1) + L * E * E)
    mlp = (L * 16 * E + L * 16 * 3 + L * E * 16, L * 16 * E + L * 16 + L * E * 16)
    residuals = (0, 2 * L * E)
    derived = cost(net)
    assert derived.mults == 2 * layer_norm[0] + attention[0] + mlp[0] + residuals[0]
    assert derived.adds == 2 * layer_norm[1] + attention[1] + mlp[1] + residuals[1]
    assert derived.transcendentals == 2 * L + HEADS * L * L + L * 16
    assert derived.params == sum(p.numel() for p in _encoder_block().parameters())
    assert verify(net).ok


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("heads", [2, 1])
def test_attention_every_peer(bias: bool, heads: int) -> None:
    """Fused (input bias, an even number of heads) and not: what each tool sees differs."""
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.LayerNorm(E)
            self.attention = nn.MultiheadAttention(E, heads, bias=bias, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.norm(x)
            y, _ = self.attention(y, y, y, need_weights=False)
            return x + y

    _assert_peers(Tokens(Block()).eval(), (E, TOKENS))


def test_attention_values_equal_torch() -> None:
    net = multihead_attention(E, HEADS, tokens=TOKENS)
    x = np.random.default_rng(3).standard_normal((TOKENS, E))
    fast, reference = execute(net, x), execute(net, x, method="reference")
    assert fast.counts == reference.counts
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12, atol=1e-13)
    module = nn.MultiheadAttention(E, HEADS, batch_first=True).double().eval()
    p = fast.params
    with torch.no_grad():
        module.in_proj_weight.copy_(torch.from_numpy(p["in_proj"]["weight"].T))
        module.in_proj_bias.copy_(torch.from_numpy(p["in_proj"]["bias"]))
        module.out_proj.weight.copy_(torch.from_numpy(p["out_proj"]["weight"].T))
        module.out_proj.bias.copy_(torch.from_numpy(p["out_proj"]["bias"]))
        t = torch.from_numpy(x)[None]
        y, _ = module(t, t, t, need_weights=False)
    np.testing.assert_allclose(fast.output, y[0].numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("call", "words"), [
    (lambda m, y: m(y, y, y), "need_weights=False"),
    (lambda m, y: m(y, y.clone(), y, need_weights=False), "self-attention"),
])
def test_attention_refusals(call: Any, words: str) -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = nn.MultiheadAttention(E, HEADS, batch_first=True)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return call(self.attention, x)[0]

    with pytest.raises(SymconvError, match=words):
        from_torch(Tokens(Block()), (TOKENS, E))


def test_a_learned_tensor_added() -> None:
    """``x + p`` with ``p`` a parameter (a position embedding): one add per element, ``p``'s
    elements as parameters."""
    class Model(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 3, 1)
            self.position = nn.Parameter(torch.ones(1, 3, 4, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.conv(x) + self.position

    net = from_torch(Model(), (4, 4, 3))
    c = cost(net)
    assert c.adds == 4 * 4 * 3 * 3 + 4 * 4 * 3   # conv: 2 adds + bias per output; the addition
    assert c.params == 12 + 12
    if PEERS_HERE:
        _assert_peers(Model().eval(), (3, 4, 4))


class HandAttention(nn.Module):
    """Single-head attention written by hand: projections, ``q @ kᵀ`` (operator or
    ``torch.matmul``), a scale by a number, ``F.softmax`` or ``x.softmax``, ``attn @ v``."""

    def __init__(self, channels: int, operator: bool, functional: bool) -> None:
        super().__init__()
        self.q, self.k = nn.Linear(channels, channels), nn.Linear(channels, channels)
        self.v = nn.Linear(channels, channels, bias=False)
        self.operator, self.functional = operator, functional
        self.factor = channels ** -0.5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = q @ k.transpose(-2, -1) if self.operator else torch.matmul(q, k.transpose(1, 2))
        scores = scores * self.factor
        weights = F.softmax(scores, dim=-1) if self.functional else scores.softmax(-1)
        return weights @ v if self.operator else weights.matmul(v)


def test_hand_written_attention_by_hand() -> None:
    net = from_torch(Tokens(HandAttention(E, True, True)), (TOKENS, E))
    L = TOKENS
    projections = (3 * L * E * E, 3 * L * E * E - L * E)            # q, k with a bias; v none
    products = (2 * L * L * E, L * L * (E - 1) + L * E * (L - 1))
    scale, softmax = (L * L, 0), (L * L, L * (2 * L - 1))
    c = cost(net)
    assert c.mults == projections[0] + products[0] + scale[0] + softmax[0]
    assert c.adds == projections[1] + products[1] + softmax[1]
    assert (c.transcendentals, c.divs, c.comparisons) == (L * L, L, L * (L - 1))
    assert verify(net).ok and verify(net, method="reference").ok


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@pytest.mark.parametrize("operator", [True, False])
@pytest.mark.parametrize("functional", [True, False])
def test_hand_written_attention_every_peer(operator: bool, functional: bool) -> None:
    """ptflops counts torch.matmul / x.matmul and F.softmax, not @ or x.softmax."""
    _assert_peers(Tokens(HandAttention(E, operator, functional)).eval(), (E, TOKENS))


def test_linear_on_spatial_axis_still_refused() -> None:
    with pytest.raises(SymconvError, match="flatten before it"):
        from_torch(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Linear(5, 2)), (5, 5, 3))


# --- Hypothesis-built token models --------------------------------------------------------------
class Patches(nn.Module):
    """ViT's front: a patch convolution, reshape (or flatten(2)) and permute (or transpose),
    an optional class token and position embedding; then ``body``; then ``x[:, 0]`` or not."""

    def __init__(self, channels: int, size: int, patch: int, spelling: str, token: bool,
                 position: bool, body: list[nn.Module], head: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, channels, patch, patch)
        self.spelling = spelling
        tokens = (size // patch) ** 2 + token
        self.token = nn.Parameter(torch.randn(1, 1, channels)) if token else None
        self.position = nn.Parameter(torch.randn(1, tokens, channels)) if position else None
        self.body = nn.Sequential(*body)
        self.head = nn.Linear(channels, head) if head else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        n, c = x.shape[0], x.shape[1]
        if self.spelling == "reshape":
            x = x.reshape(n, c, -1).permute(0, 2, 1)
        else:
            x = x.flatten(2).transpose(1, 2)
        if self.token is not None:
            x = torch.cat([self.token.expand(n, -1, -1), x], dim=1)
        if self.position is not None:
            x = x + self.position
        x = self.body(x)
        if self.head is not None:
            x = self.head(x[:, 0])
        return x


class Attend(nn.Module):
    """``x + attention(norm(x))``."""

    def __init__(self, channels: int, heads: int, bias: bool) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels, eps=1e-6)
        self.attention = nn.MultiheadAttention(channels, heads, bias=bias, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.norm(x)
        y, _ = self.attention(y, y, y, need_weights=False)
        return x + y


class Gelu(nn.Module):
    def __init__(self, approximate: str) -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x, approximate=self.approximate)


class Scale(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.rand(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x


@st.composite
def token_models(draw: st.DrawFn) -> tuple[nn.Module, tuple[int, int, int]]:
    heads = draw(st.integers(1, 2))
    channels = heads * draw(st.integers(1, 3))
    patch, grid = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    size = patch * grid
    body: list[nn.Module] = []
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["attend", "hand", "norm", "linear", "gelu", "scale",
                                     "drop"]))
        if kind == "attend":
            body.append(Attend(channels, heads, draw(st.booleans())))
        elif kind == "hand":
            body.append(HandAttention(channels, draw(st.booleans()), draw(st.booleans())))
        elif kind == "norm":
            body.append(nn.LayerNorm(channels, elementwise_affine=draw(st.booleans())))
        elif kind == "linear":
            body.append(nn.Linear(channels, channels, bias=draw(st.booleans())))
        elif kind == "gelu":
            body.append(draw(st.sampled_from([nn.GELU(), nn.GELU("tanh"), Gelu("none"),
                                              Gelu("tanh")])))
        elif kind == "scale":
            body.append(Scale(channels))
        else:
            body.append(nn.Dropout())
    model = Patches(channels, size, patch, draw(st.sampled_from(["reshape", "flatten"])),
                    draw(st.booleans()), draw(st.booleans()), body,
                    draw(st.integers(0, 3)))
    return model.eval(), (3, size, size)


@pytest.mark.skipif(not PEERS_HERE, reason="no peer installed")
@settings(max_examples=15)
@given(token_models())
def test_every_peer_on_token_models(case: tuple[nn.Module, tuple[int, int, int]]) -> None:
    model, chw = case
    _assert_peers(model, chw)
