"""from_torch keeps ``nn.Dropout`` and torchvision's ``StochasticDepth`` (issue 12): nothing at
inference, their training-mode operations in a training step (docs/conventions.md, "Dropout and
StochasticDepth in a training step"), on any layout of the tensor. Expected numbers are counted
by hand beside each test, or come from PyTorch (``FlopCounterMode``, which counts none of them).
"""

from __future__ import annotations

from typing import Any

import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import count, from_torch, verify  # noqa: E402
from symconv.layers import Dropout, FeatureDropout, StochasticDepth  # noqa: E402
from symconv.networks.rows import rows  # noqa: E402

_KINDS = ("dropout", "stochasticdepth")


class _Block(nn.Module):
    """A residual block with stochastic depth, as torchvision's MBConv and CNBlock write it."""

    def __init__(self, depth: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 1)
        self.stochastic_depth = depth

    def forward(self, x: Any) -> Any:
        return x + self.stochastic_depth(self.conv(x))


def _model(dropout: Any = nn.Dropout) -> nn.Module:
    models()  # torchvision importable (else skipped)
    from torchvision.ops import StochasticDepth as TorchStochasticDepth

    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), dropout(0.25), nn.ReLU(),
        _Block(TorchStochasticDepth(0.5, "row")), _Block(TorchStochasticDepth(0.0, "row")),
        nn.Dropout(0.0), nn.Dropout2d(0.3), nn.Flatten(), nn.Linear(64, 2), dropout(0.5))


def _train_rows(net: Any) -> list[Any]:
    return [row for row in rows(net, phase="train") if row.kind in _KINDS]


def test_dropout_and_stochastic_depth_are_layers_with_p_from_the_module() -> None:
    torch.manual_seed(0)
    net = from_torch(_model(), (4, 4, 3))
    kept = [layer for _, layer in net.stages if isinstance(layer, (Dropout, StochasticDepth))]
    # p = 0 (Dropout(0.0), StochasticDepth(0.0)) is the identity in training too; Dropout2d is
    # a FeatureDropout (one draw per channel: tests/test_dropout_kinds_from_torch.py)
    assert kept == [Dropout(0.25), StochasticDepth(0.5, "row"), Dropout(0.5)]
    assert [layer for _, layer in net.stages if isinstance(layer, FeatureDropout)] == [
        FeatureDropout(0.3)]


def test_they_count_nothing_at_inference_and_change_no_forward_count() -> None:
    torch.manual_seed(0)
    net = from_torch(_model(), (4, 4, 3))
    torch.manual_seed(0)
    without = from_torch(_model(lambda p: nn.Identity()), (4, 4, 3))
    for convention in ("ops", "macs", "torch", "ptflops", "thop", "fvcore", "torchinfo"):
        assert count(net, convention=convention) == count(without, convention=convention)


def test_a_training_step_counts_them_by_hand() -> None:
    """Per element of the input: Dropout 1 div + 1 mult forward, 1 mult backward;
    StochasticDepth 1 mult forward (1 div for its one draw), 1 mult backward.
    Dropout(0.25) on 4·4·4 = 64: 3·64 = 192; StochasticDepth(0.5) on 64: 2·64 + 1 = 129;
    Dropout(0.5) on 2 features: 3·2 = 6. 327 in all."""
    torch.manual_seed(0)
    net = from_torch(_model(), (4, 4, 3))
    counted = _train_rows(net)
    assert len(counted) == 6                               # 3 forward rows, 3 backward rows
    assert sum(int(row.mults + row.adds + row.divs) for row in counted) == 327
    assert sum(int(row.divs) for row in counted) == 64 + 1 + 2
    torch.manual_seed(0)
    without = from_torch(_model(lambda p: nn.Identity()), (4, 4, 3))
    assert (int(count(net, convention="ops", phase="train"))
            - int(count(without, convention="ops", phase="train"))) == 192 + 6
    # `without` keeps the StochasticDepth (only the Dropouts go): the two Dropouts' 192 + 6


def test_torch_convention_still_equals_flop_counter_mode_in_training() -> None:
    torch.manual_seed(0)
    model = _model()
    net = from_torch(model, (4, 4, 3))
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 4, 4)).sum().backward()
    assert count(net, convention="torch", phase="train") == counter.get_total_flops()


def test_verify_proves_the_training_step() -> None:
    torch.manual_seed(0)
    assert verify(from_torch(_model(), (4, 4, 3)), phase="train").ok


class _Tokens(nn.Module):
    """Dropout on a ViT's tokens (N, L, E) and on ConvNeXt's channels-last permutation."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 2, stride=2)
        self.norm = nn.LayerNorm(6)
        self.linear = nn.Linear(6, 6)
        self.dropout = nn.Dropout(0.1)
        self.dropout_tokens = nn.Dropout(0.2)

    def forward(self, x: Any) -> Any:
        x = self.conv(x).permute(0, 2, 3, 1)           # (N, H, W, C)
        x = self.norm(self.dropout(x)).permute(0, 3, 1, 2)
        tokens = x.flatten(2).transpose(1, 2)          # (N, L, E)
        return self.linear(self.dropout_tokens(tokens))


def test_dropout_on_permuted_and_token_layouts() -> None:
    """Elementwise, so any order of the axes: 2·2·6 = 24 elements each; 3·24 for each
    Dropout."""
    torch.manual_seed(0)
    net = from_torch(_Tokens(), (4, 4, 3))
    assert [layer for _, layer in net.stages if isinstance(layer, Dropout)] == [
        Dropout(0.1), Dropout(0.2)]
    assert sum(int(row.mults + row.adds + row.divs) for row in _train_rows(net)) == 2 * 3 * 24
    assert verify(net, phase="train").ok
