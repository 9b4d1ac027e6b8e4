"""Swin's shifted-window attention and MaxViT's partition attention through ``from_torch``:
counted by hand, against every peer, and the executors of the new layers (``torch.roll``,
strided views, padding, ``F.normalize``, a product with a constant) against PyTorch in float64.
Skipped without torch (and torchvision, for the blocks).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch_nets import installed_peers, peer_count  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import SymconvError, count, execute, from_torch  # noqa: E402
from symconv.layers import Pad  # noqa: E402
from symconv.layers.tokens import MulParameter  # noqa: E402
from symconv.layers.windows import Normalize, Roll, Strided  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402

# A block of 8 channels, 2 heads of 4, windows of 4×4 shifted by 2, on 8×8: 4 windows of 16
H = W = 8
C, HEADS, WINDOW, SHIFT = 8, 2, 4, 2
TOKENS = WINDOW * WINDOW
WINDOWS = (H // WINDOW) * (W // WINDOW)


def _block(shift: int = SHIFT) -> Any:
    """torchvision's SwinTransformerBlock, after a permute of the NCHW input to NHWC."""
    swin = models().swin_transformer
    torch.manual_seed(0)
    block = swin.SwinTransformerBlock(C, HEADS, [WINDOW, WINDOW], [shift, shift], mlp_ratio=2.0,
                                      dropout=0.0, attention_dropout=0.0,
                                      stochastic_depth_prob=0.0)
    return nn.Sequential(swin.Permute([0, 2, 3, 1]), block).eval()


def test_a_shifted_window_block_counted_by_hand() -> None:
    net = from_torch(_block(), (H, W, C))
    table = rows(net)
    by_kind: dict[str, list[Any]] = {}
    for row in table:
        by_kind.setdefault(row.kind, []).append(row)
    L, d = H * W, C // HEADS
    # the attention's products, by hand: qkv (L·C·3C), q·d^-1/2 (L·C), q kᵀ and attn v
    # (windows · heads · N·N·d each), proj (L·C·C)
    products = sum((row.mults for kind in ("F.linear", "torch.matmul", "mulscalar")
                    for row in by_kind.get(kind, [])), start=0)
    assert products == L * C * 3 * C + L * C + 2 * WINDOWS * HEADS * TOKENS * TOKENS * d \
        + L * C * C
    # the relative position bias and the shifted windows' mask, one add per score each
    assert [row.adds for row in by_kind["addconstant"]] == [WINDOWS * HEADS * TOKENS ** 2] * 2
    # the cyclic shift there and back, a copy of every element each
    assert [(row.mults, row.adds) for row in by_kind["roll"]] == [(0, 0)] * 2
    # softmax over each window's scores: one exp per score
    assert by_kind["F.softmax"][0].transcendentals == WINDOWS * HEADS * TOKENS ** 2
    # the MLP: two nn.Linear of L·C·2C
    assert sum(row.mults for row in by_kind["linear"]) == 2 * L * C * 2 * C


@pytest.mark.parametrize(("shift", "size"), [(SHIFT, H), (0, H), (SHIFT, 6)])
def test_a_swin_block_equals_every_peer(shift: int, size: int) -> None:
    # at 6×6 the block pads to 8×8 (F.pad) and crops back (x[:, :6, :6])
    model = _block(shift)
    net = from_torch(model, (size, size, C))
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (C, size, size)), peer


def _float64(x: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(x))


@pytest.mark.parametrize("method", ["fast", "reference"])
def test_roll_strided_and_pad_equal_pytorch_in_float64(method: str) -> None:
    x = np.random.default_rng(1).standard_normal((7, 6, 3))
    cases = [
        (Roll((-2, 3), (0, 1)), lambda t: torch.roll(t, (-2, 3), (0, 1))),
        (Strided((1, 0), (2, 2)), lambda t: t[1::2, 0::2]),
        (Strided((0, 0), (1, 1), (5, None)), lambda t: t[:5]),
        (Pad((0, 2, 0, 1)), lambda t: torch.nn.functional.pad(t, (0, 0, 0, 2, 0, 1))),
    ]
    for layer, reference in cases:
        run = execute(layer, x, method=method)
        expected = reference(_float64(x)).numpy()
        assert run.output.shape == expected.shape, layer
        assert np.array_equal(run.output, expected), layer
        assert run.counts.mults == run.counts.adds == 0


@pytest.mark.parametrize("method", ["fast", "reference"])
def test_normalize_and_a_product_with_a_parameter_equal_pytorch_in_float64(method: str) -> None:
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    for axis in (0, 1, -1):
        run = execute(Normalize(axis), x, method=method)
        expected = torch.nn.functional.normalize(_float64(x), dim=axis).numpy()
        assert np.allclose(run.output, expected, rtol=1e-14, atol=0)
        # per row of L: L squares, L − 1 adds, a sqrt, a comparison with eps, L divisions
        rows_, length = x.size // x.shape[axis], x.shape[axis]
        assert (run.counts.mults, run.counts.adds, run.counts.transcendentals,
                run.counts.comparisons, run.counts.divs) == (
            x.size, rows_ * (length - 1), rows_, rows_, x.size)
    scale = np.random.default_rng(3).standard_normal((3, 1, 1))
    run = execute(MulParameter((3, 1, 1)), x, {"value": scale}, method=method)
    assert np.array_equal(run.output, (_float64(x) * _float64(scale)).numpy())
    assert run.counts.mults == x.size


@pytest.mark.filterwarnings("ignore:Implicit dimension choice for softmax")
def test_nn_softmax_is_mapped_along_its_dim_and_equals_every_peer() -> None:
    for dim in (1, -1):
        model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softmax(dim=dim)).eval()
        net = from_torch(model, (5, 6, 3))
        assert rows(net)[-1].kind == "softmax"
        for peer in installed_peers():
            assert count(net, convention=peer) == peer_count(peer, model, (3, 5, 6)), (dim, peer)
    with pytest.raises(SymconvError, match=r"nn\.Softmax\(\) without dim"):
        from_torch(nn.Sequential(nn.Conv2d(3, 4, 1), nn.Softmax()), (5, 6, 3))


def test_a_refused_function_keeps_its_own_name() -> None:
    class Model(nn.Module):
        def forward(self, x: Any) -> Any:
            return x.mean(dim=None)  # refused while its layer is built

    with pytest.raises(SymconvError, match=r"model: mean \(Tensor\.mean") as error:
        from_torch(Model(), (4, 4, 3))
    assert "mean#2" not in str(error.value)


# --- MaxViT: its partition attention (window and grid), einsum, chunk of tokens ------------

def _partition_layer(kind: str) -> Any:
    """torchvision's PartitionAttentionLayer of MaxViT: 8 channels, heads of 4, partitions of
    2 on a 4×4 grid (4 groups of 4 tokens), MLP ×2."""
    maxvit = models().maxvit
    torch.manual_seed(0)
    return maxvit.PartitionAttentionLayer(8, 4, 2, kind, (4, 4), 2, nn.GELU, nn.LayerNorm,
                                          0.0, 0.0, 0.0).eval()


@pytest.mark.parametrize("kind", ["window", "grid"])
def test_maxvit_partition_attention_by_hand_and_against_every_peer(kind: str) -> None:
    model = _partition_layer(kind)
    net = from_torch(model, (4, 4, 8))
    table = rows(net)
    groups, tokens, heads, head = 4, 4, 2, 4
    # q kᵀ and attn v as einsum: groups · heads · tokens² · head each
    assert [row.mults for row in table if row.kind == "einsum"] == [
        groups * heads * tokens * tokens * head] * 2
    # torch.chunk(qkv, 3, dim=-1): three slices of the channels-last tokens
    assert [tuple(row.output_shape) for row in table if row.kind == "slice"] == [
        (groups, tokens, 8)] * 3
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (8, 4, 4)), peer


class _Einsum(nn.Module):
    def __init__(self, equation: str) -> None:
        super().__init__()
        self.equation = equation

    def forward(self, x: Any) -> Any:
        tokens = x.permute(0, 2, 3, 1)                    # (N, H, W, C)
        return torch.einsum(self.equation, tokens, tokens)


def test_einsum_counts_and_fvcore_rounds_as_numpy_prints() -> None:
    # (1, 3, 37, 41) with itself: 3·37·37·41 = 168,387 mults; fvcore reads numpy's
    # "Optimized FLOP count: 3.368e+05" and halves it: 168,400
    model = _Einsum("bhik,bhjk->bhij").eval()
    net = from_torch(model, (3, 37, 41))
    assert [row.mults for row in rows(net) if row.kind == "einsum"] == [3 * 37 * 37 * 41]
    if "fvcore" in installed_peers():
        assert count(net, convention="fvcore") == peer_count("fvcore", model, (41, 3, 37)) \
            == 168_400
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (41, 3, 37)), peer


def test_an_einsum_symconv_cannot_follow_is_refused_by_name() -> None:
    with pytest.raises(SymconvError, match=r"einsum \(torch\.functional\.einsum: "
                                           r"equation='bhik,bhjk->bhji'"):
        from_torch(_Einsum("bhik,bhjk->bhji"), (3, 5, 4))


# --- Swin V2: cosine attention, its logit scale, cpb_mlp on a constant table ---------------

def test_a_swin_v2_block_by_hand_and_against_every_peer() -> None:
    swin = models().swin_transformer
    torch.manual_seed(0)
    block = swin.SwinTransformerBlockV2(C, HEADS, [WINDOW, WINDOW], [SHIFT, SHIFT],
                                        mlp_ratio=2.0, dropout=0.0, attention_dropout=0.0,
                                        stochastic_depth_prob=0.0)
    model = nn.Sequential(swin.Permute([0, 2, 3, 1]), block).eval()
    net = from_torch(model, (H, W, C))
    table = rows(net)
    # cpb_mlp on the (2·4 − 1)² = 49 relative coordinates: Linear(2, 512), ReLU,
    # Linear(512, heads), after a Constant stage of the table's shape
    constant = [row for row in table if row.kind == "constant"]
    assert [tuple(row.output_shape) for row in constant] == [(7, 7, 2)]
    cpb = [row.mults for row in table if row.name.startswith("1.attn.cpb_mlp")]
    assert cpb == [0, 49 * 2 * 512, 0, 49 * 512 * HEADS]
    # F.normalize of q and k: per token and head, d squares and divisions, one sqrt
    normalized = [row for row in table if row.kind == "normalize"]
    assert [(row.mults, row.transcendentals) for row in normalized] == [
        (H * W * C, H * W * HEADS)] * 2
    # attn · logit_scale, one multiplication per score
    assert [row.mults for row in table if row.kind == "mulconstant"] == [
        WINDOWS * HEADS * TOKENS ** 2]
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (C, H, W)), peer
