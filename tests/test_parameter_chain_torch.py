"""Parameter chains through ``from_torch`` (issue 12's proof gap): Swin's relative position bias
table gathered into the attention, Swin V2's ``16·sigmoid`` of ``cpb_mlp``'s output gathered
so and its clamped, exponentiated logit scale. Their training step proved by execution (every
count, ``cpb_mlp``'s weight gradients and the table's included), counted by hand, their
gradients equal to ``torch.autograd``'s in float64, FlopCounterMode's total unchanged.
Skipped without torch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import cost, count, verify  # noqa: E402
from symconv.execute.backward import execute_backward  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.layers.learned import Folded, Gather, Parameter  # noqa: E402

# 8 channels, 2 heads, windows of 4×4 (N = 16 tokens) shifted by 2, on 8×8: 4 windows
C, HEADS, WINDOW, WINDOWS = 8, 2, 4, 4
TOKENS = WINDOW * WINDOW
ROWS = (2 * WINDOW - 1) ** 2          # the table's relative positions: 49


def _block(v2: bool, shift: int = 2) -> Any:
    swin = models().swin_transformer
    torch.manual_seed(0)
    kind = swin.SwinTransformerBlockV2 if v2 else swin.SwinTransformerBlock
    block = kind(C, HEADS, [WINDOW, WINDOW], [shift, shift], mlp_ratio=2.0, dropout=0.0,
                 attention_dropout=0.0, stochastic_depth_prob=0.0)
    return nn.Sequential(swin.Permute([0, 2, 3, 1]), block, swin.Permute([0, 3, 1, 2])).eval()


def _flop_counter(model: nn.Module, shape: tuple[int, ...], input_grad: bool = False) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        model(torch.randn(1, *shape, requires_grad=input_grad)).sum().backward()
    return int(counter.get_total_flops())


def _by_name(check: Any) -> dict[str, Any]:
    return {stage.name: stage for stage in check.stages}


# Per head, the 16×16 bias of a window gathers offset (dy, dx) of the table (4 − |dy|)·(4 − |dx|)
# times: 256 gradients summed into 49 rows, 256 − 49 additions; the bias is added to the 4
# windows' scores, so its gradient sums 4 terms per element: 3 additions each.
SCATTER_ADDS = (TOKENS * TOKENS - ROWS) * HEADS
BIAS_GRAD_ADDS = (WINDOWS - 1) * HEADS * TOKENS * TOKENS


def test_swin_block_training_step_proves_the_bias_table_gradient() -> None:
    model = _block(v2=False)
    net = from_torch(model, (8, 8, C))
    layers = dict(net.stages)
    assert layers["1.attn.relative_position_bias_table"] == Parameter((ROWS, HEADS))
    check = verify(net, (8, 8, C), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    stages = _by_name(check)
    assert stages["1.attn.add.gather (backward)"].counted["adds"] == SCATTER_ADDS == 414
    assert stages["1.attn.add (backward)"].counted["adds"] == BIAS_GRAD_ADDS == 1536
    # the table's parameters are counted now: 49·2 beside the block's weights
    assert cost(net).params == sum(p.numel() for p in model.parameters())
    assert count(net, (8, 8, C), convention="torch", phase="train") == _flop_counter(
        model, (C, 8, 8))


def test_swin_v2_block_training_step_proves_cpb_mlp_and_the_logit_scale() -> None:
    model = _block(v2=True)
    net = from_torch(model, (8, 8, C))
    layers = dict(net.stages)
    assert layers["1.attn.logit_scale"] == Parameter((HEADS, 1, 1))
    gathers = [layer.layer for layer in layers.values()
               if isinstance(layer, Folded) and isinstance(layer.layer, Gather)]
    assert [tuple(g.shape) for g in gathers] == [(1, HEADS, TOKENS, TOKENS)]
    # by rows of the (49, 2) table, a column per head: 256 rows, not 2·256 positions
    assert [(g.columns, len(g.index)) for g in gathers] == [(HEADS, TOKENS * TOKENS)]
    check = verify(net, (8, 8, C), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    stages = _by_name(check)
    # cpb_mlp on the 49 relative coordinates: Linear(512, 2)'s weight gradient and its input's
    # (49·512·2 each), Linear(2, 512)'s weight gradient (49·2·512) and bias gradient (48·512
    # adds), no gradient into the constant table
    assert stages["1.attn.cpb_mlp.2 (backward)"].counted["mults"] == 2 * ROWS * 512 * HEADS
    assert stages["1.attn.cpb_mlp.0 (backward)"].counted["mults"] == ROWS * 2 * 512
    assert stages["1.attn.sigmoid.gather (backward)"].counted["adds"] == SCATTER_ADDS
    # 16·sigmoid on the gathered (2, 16, 16): forward 1 exp, 1 add, 1 div, then 1 mult per
    # element; backward 2 mults and 1 add, then 1 mult
    bias = HEADS * TOKENS * TOKENS
    assert stages["1.attn.sigmoid"].counted == {"mults": 0, "adds": bias, "divs": bias,
                                                 "transcendentals": bias}
    assert stages["1.attn.sigmoid (backward)"].counted == {"mults": 2 * bias, "adds": bias}
    # the logit scale: per head a comparison (clamp) and an exp forward; backward g·y and the
    # clamp's mask; attn·scale's gradient for the scale: g·attn per score, summed over
    # 4 windows · 16 · 16 scores per head
    assert stages["1.attn.exp"].counted["transcendentals"] == HEADS
    assert stages["1.attn.clamp (backward)"].counted["comparisons"] == HEADS
    scores = WINDOWS * HEADS * TOKENS * TOKENS
    assert stages["1.attn.mul (backward)"].counted == {
        "mults": 2 * scores, "adds": (WINDOWS * TOKENS * TOKENS - 1) * HEADS}
    assert count(net, (8, 8, C), convention="torch", phase="train") == _flop_counter(
        model, (C, 8, 8))


def test_no_gradient_flows_into_the_input_through_a_constant_table() -> None:
    """With the block's input needing its gradient, ``cpb_mlp``'s table (a ``Constant``,
    whose values do not depend on the input) still gets none, nor does ``cpb_mlp``'s first
    layer compute one for it: FlopCounterMode's total with ``x.requires_grad_()``, and the
    executor's counts."""
    model = _block(v2=True)
    net = from_torch(model, (8, 8, C))
    check = verify(net, (8, 8, C), phase="train", input_grad=True)
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    stages = _by_name(check)
    assert stages["1.attn.cpb_mlp.0 (backward)"].counted["mults"] == ROWS * 2 * 512
    assert count(net, (8, 8, C), convention="torch", phase="train", input_grad=True) == (
        _flop_counter(model, (C, 8, 8), input_grad=True))


def test_maxvit_partition_attention_training_step_equals_flop_counter_mode() -> None:
    maxvit = models().maxvit
    torch.manual_seed(0)
    model = maxvit.PartitionAttentionLayer(8, 4, 2, "window", (4, 4), 2, nn.GELU, nn.LayerNorm,
                                           0.0, 0.0, 0.0).eval()
    net = from_torch(model, (4, 4, 8))
    # a (3·3 = 9, 2) table gathered into (1, 2, 4, 4): 16 gradients into 9 rows per head
    check = verify(net, (4, 4, 8), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    gathered = [stage for stage in check.stages if stage.name.endswith("gather (backward)")]
    assert [stage.counted["adds"] for stage in gathered] == [(16 - 9) * 2]
    assert count(net, (4, 4, 8), convention="torch", phase="train") == _flop_counter(
        model, (8, 4, 4))


# --- gradient values against torch.autograd, float64 ----------------------------------------

def _attention(v2: bool) -> tuple[Any, Any]:
    """torchvision's (shift-free) window attention after an NCHW→NHWC permute, in float64,
    and its network."""
    swin = models().swin_transformer
    torch.manual_seed(0)
    kind = swin.ShiftedWindowAttentionV2 if v2 else swin.ShiftedWindowAttention
    attention = kind(C, [WINDOW, WINDOW], [0, 0], HEADS)
    model = nn.Sequential(swin.Permute([0, 2, 3, 1]), attention).eval()
    net = from_torch(model, (8, 8, C))
    return model.double(), net


def _params(model: Any, net: Any, v2: bool) -> dict[str, Any]:
    """The torch model's weights as the network's stage parameters (Linear's weight is
    ``(in, out)`` in symconv; V2's qkv bias has its keys' third zeroed, as its forward does)."""
    attention = model[1]
    qkv_bias = attention.qkv.bias.detach().clone()
    if v2:
        qkv_bias[C:2 * C] = 0
    found: dict[str, Any] = {
        "1.linear": {"weight": attention.qkv.weight.detach().numpy().T,
                     "bias": qkv_bias.numpy()},
        "1.linear#2": {"weight": attention.proj.weight.detach().numpy().T,
                       "bias": attention.proj.bias.detach().numpy()}}
    if v2:
        found["1.logit_scale"] = {"value": attention.logit_scale.detach().numpy()}
        first, last = attention.cpb_mlp[0], attention.cpb_mlp[2]
        found["1.cpb_mlp.0"] = {"weight": first.weight.detach().numpy().T,
                                "bias": first.bias.detach().numpy()}
        found["1.cpb_mlp.2"] = {"weight": last.weight.detach().numpy().T}
    else:
        found["1.relative_position_bias_table"] = {
            "value": attention.relative_position_bias_table.detach().numpy()}
    assert set(found) == {name for name, layer in net.stages if _has_params(layer)}
    return found


def _has_params(layer: Any) -> bool:
    from symconv.execute.registry import parameter_shapes

    return bool(parameter_shapes(layer))


@pytest.mark.parametrize("v2", [False, True], ids=["swin", "swin_v2"])
def test_chain_gradients_equal_torch_autograd_in_float64(v2: bool) -> None:
    model, net = _attention(v2)
    attention = model[1]
    if v2:   # symconv's Constant holds cos(0), cos(1), ...: the same table for torch
        table = np.cos(np.arange(ROWS * 2, dtype=np.float64)).reshape(1, 7, 7, 2)
        attention.relative_coords_table = torch.from_numpy(table)
    x = np.random.default_rng(0).standard_normal((8, 8, C))
    run = execute_backward(net, x, _params(model, net, v2), seed=3)
    t = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
    out = model(t)
    np.testing.assert_allclose(run.output, out[0].detach().numpy(), rtol=1e-10, atol=1e-12)
    out.backward(torch.from_numpy(run.grad_output[None]))
    if v2:
        first, last = attention.cpb_mlp[0], attention.cpb_mlp[2]
        pairs = [(run.grads["1.logit_scale"]["value"], attention.logit_scale.grad),
                 (run.grads["1.cpb_mlp.0"]["weight"], first.weight.grad.T),
                 (run.grads["1.cpb_mlp.0"]["bias"], first.bias.grad),
                 (run.grads["1.cpb_mlp.2"]["weight"], last.weight.grad.T)]
    else:
        pairs = [(run.grads["1.relative_position_bias_table"]["value"],
                  attention.relative_position_bias_table.grad)]
    for ours, theirs in pairs:
        assert np.abs(theirs.numpy()).max() > 0
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-9, atol=1e-12)


def test_swin_t_at_224_the_chains_backward_counted_by_hand() -> None:
    """Swin-T (windows of 7: N = 49 tokens, a 13² = 169-row table per block; heads 3, 6, 12, 24
    in 2, 2, 6, 2 blocks on maps of 56, 28, 14, 7: 64, 16, 4, 1 windows)."""
    from symconv.networks.rows import rows

    torch.manual_seed(0)
    net = from_torch(models().swin_t().eval(), (224, 224, 3))
    table = rows(cost(net, phase="backward"))
    gathers = [row for row in table if row.kind == "folded"]
    biases = [row for row in table if row.kind == "addconstant" and row.adds > 0]
    heads = [3] * 2 + [6] * 2 + [12] * 6 + [24] * 2
    windows = [64] * 2 + [16] * 2 + [4] * 6 + [1] * 2
    # the scatter-add: 49² gradients into 169 rows per head
    assert [row.adds for row in gathers] == [(49 * 49 - 169) * h for h in heads]
    assert sum(row.adds for row in gathers) == 2232 * 138 == 308_016
    # the bias's gradient, g summed over the windows (none in the last stage: one window; the
    # shifted windows' mask, a constant, gets none)
    assert [row.adds for row in biases] == [(w - 1) * h * 49 * 49 for w, h in
                                            zip(windows, heads) if w > 1]
    assert sum(row.adds for row in biases) == 2401 * 774 == 1_858_374


class _SigmoidBias(nn.Module):
    """``x + sigmoid(p).view(6, 1, 1)``: a chain with a step and no gather, whose value is put
    in symconv's channels-last order by a view."""

    def __init__(self, frozen: bool = False, written: bool = False) -> None:
        super().__init__()
        self.p = nn.Parameter(torch.randn(2, 3), requires_grad=not frozen)
        self.written = written

    def forward(self, x: Any) -> Any:
        bias = torch.sigmoid(self.p)
        if self.written:
            bias[0].zero_()
        return x + bias.view(6, 1, 1)


def test_a_chain_without_a_gather_and_its_ends() -> None:
    from torch_nets import installed_peers, peer_count

    from symconv.networks.conventions import PEERS

    model = _SigmoidBias()
    net = from_torch(model, (4, 4, 6))
    kinds = [layer.kind for _, layer in net.stages if layer.kind != "reuse"]
    assert kinds == ["parameter", "folded", "folded", "addconstant"]   # sigmoid, then a view
    for peer in installed_peers():
        assert peer in PEERS
        assert count(net, convention=peer) == peer_count(peer, model, (6, 4, 4)), peer
    check = verify(net, (4, 4, 6), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    x = np.random.default_rng(1).standard_normal((4, 4, 6))
    run = execute_backward(net, x, {"p": {"value": model.p.detach().double().numpy()}})
    p = model.p.detach().double().requires_grad_()
    t = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
    (t + torch.sigmoid(p).view(6, 1, 1)).backward(
        torch.from_numpy(run.grad_output.transpose(2, 0, 1)[None].copy()))
    np.testing.assert_allclose(run.grads["p"]["value"], p.grad.numpy(), rtol=1e-12)
    # a frozen parameter, or a value written in place, leaves a constant (no stage), as before
    for ended in (_SigmoidBias(frozen=True), _SigmoidBias(written=True)):
        assert [layer.kind for _, layer in from_torch(ended, (4, 4, 6)).stages] == [
            "addconstant"]


class _TableBias(nn.Module):
    """``x + table[index].reshape(6, 1, 1)``: rows 4, 0, 4 of a (5, 2) table, taken row by row
    (not column by column as Swin's heads are): a gather by positions; ``transposed``, column
    by column through ``.transpose(0, 1).contiguous().view(6, 1, 1)``."""

    def __init__(self, transposed: bool) -> None:
        super().__init__()
        self.table = nn.Parameter(torch.randn(5, 2))
        self.register_buffer("index", torch.tensor([4, 0, 4]))
        self.transposed = transposed

    def bias(self, table: Any) -> Any:
        rows = table[self.index]
        if self.transposed:
            return rows.transpose(0, 1).contiguous().view(6, 1, 1)
        return rows.reshape(6, 1, 1)

    def forward(self, x: Any) -> Any:
        return x + self.bias(self.table)


@pytest.mark.parametrize(("transposed", "positions"), [(False, (8, 9, 0, 1, 8, 9)),
                                                       (True, (8, 0, 8, 9, 1, 9))])
def test_table_rows_gathered_by_positions(transposed: bool, positions: tuple[int, ...]) -> None:
    model = _TableBias(transposed)
    net = from_torch(model, (4, 4, 6))
    gathers = [layer.layer for _, layer in net.stages
               if isinstance(layer, Folded) and isinstance(layer.layer, Gather)]
    # row r of the table is elements 2r, 2r + 1
    assert [(g.columns, g.index) for g in gathers] == [(1, positions)]
    check = verify(net, (4, 4, 6), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    # row 4 twice: its 2 elements' second gradients added
    assert _by_name(check)["add.gather (backward)"].counted["adds"] == 2
    x = np.random.default_rng(2).standard_normal((4, 4, 6))
    run = execute_backward(net, x, {"table": {"value": model.table.detach().double().numpy()}})
    table = model.table.detach().double().requires_grad_()
    t = torch.from_numpy(x.transpose(2, 0, 1)[None].copy())
    (t + model.bias(table)).backward(
        torch.from_numpy(run.grad_output.transpose(2, 0, 1)[None].copy()))
    np.testing.assert_allclose(run.grads["table"]["value"], table.grad.numpy(), rtol=1e-12)


class _MovedBias(nn.Module):
    """``x + p.view(6, 1, 1)`` (``source="parameter"``) or ``x + mlp(table).permute(0, 3, 1, 2)``
    (``"layer"``: a layer's output on a constant buffer): chains that only move; or, as the
    twin to compare with, ``x + p`` with ``p`` of shape ``(6, 1, 1)`` already (``"direct"``)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source
        self.p = nn.Parameter(torch.randn(*((6, 1, 1) if source == "direct" else (2, 3))))
        self.register_buffer("table", torch.randn(1, 4, 4, 2))
        self.mlp = nn.Linear(2, 6)

    def forward(self, x: Any) -> Any:
        if self.source == "layer":
            return x + self.mlp(self.table).permute(0, 3, 1, 2)
        return x + (self.p if self.source == "direct" else self.p.view(6, 1, 1))


def test_a_moved_parameter_gets_its_gradient_as_the_parameter_itself() -> None:
    """``x + p.view(6, 1, 1)`` on 4×4×6 trains as ``x + p``: ``p``'s gradient sums the output's
    over the 16 positions of each channel, 15·6 = 90 additions (a view moves nothing)."""
    moved = from_torch(_MovedBias("parameter"), (4, 4, 6))
    direct = from_torch(_MovedBias("direct"), (4, 4, 6))
    for convention in ("ops", "adds", "macs", "torch"):
        assert count(moved, convention=convention) == count(direct, convention=convention)
        assert (count(moved, convention=convention, phase="train")
                == count(direct, convention=convention, phase="train")), convention
    # the forward's 96 additions (x + p), then p's gradient; x's is not needed
    assert count(moved, convention="adds", phase="train") == 96 + 15 * 6
    # at inference x and p are read once each (p by the addition: the Parameter stage hands it
    # on), the sum written
    for net in (moved, direct):
        assert (cost(net).reads, cost(net).writes) == (96 + 6, 96)
    check = verify(moved, (4, 4, 6), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]


def test_a_layer_on_a_constant_then_moved_is_proved_in_a_training_step() -> None:
    """``x + mlp(table).permute(...)``: the Linear's weight and bias gradients are counted by
    the derivation and by the executor alike, and FlopCounterMode's total is equal."""
    from torch_nets import installed_peers, peer_count

    model = _MovedBias("layer")
    net = from_torch(model, (4, 4, 6))
    check = verify(net, (4, 4, 6), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    # the weight gradient: per weight a dot product of the 16 positions; no input gradient
    assert _by_name(check)["mlp (backward)"].counted["mults"] == 16 * 2 * 6
    assert count(net, (4, 4, 6), convention="torch", phase="train") == _flop_counter(
        model, (6, 4, 4))
    for peer in installed_peers():
        assert count(net, convention=peer) == peer_count(peer, model, (6, 4, 4)), peer
