"""The backward rules of tests/test_backward_windows.py against ``torch.autograd`` in float64
(torch.roll, strided views, F.normalize, a broadcast product with a parameter), the
decomposition of ``F.normalize`` the rule counts, and Swin's training step: against
FlopCounterMode (Swin-T at 64×64, including ``F.linear``'s matrix products in the backward)
and proved by execution (a shifted-window block). Skipped where torch is not installed."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision_models import models  # noqa: E402

from symconv import verify  # noqa: E402
from symconv.execute.backward import execute_backward  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.layers.tokens import MulParameter, Reshape  # noqa: E402
from symconv.layers.windows import Normalize, Roll, Strided  # noqa: E402
from symconv.networks.conventions import count  # noqa: E402

F = torch.nn.functional


def _x(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


CASES = [
    (Roll((-1, 2), (0, 1)), (3, 4, 2), lambda t: torch.roll(t, (-1, 2), (0, 1))),
    (Strided((1, 0), (2, 3)), (5, 7, 2), lambda t: t[1::2, 0::3]),
    (Strided((0, 1), (1, 2), stops=(2, None)), (3, 6, 2), lambda t: t[0:2:1, 1::2]),
    (Normalize(axis=-1), (3, 4, 5), lambda t: F.normalize(t, dim=-1)),
    (Normalize(axis=0), (3, 4, 5), lambda t: F.normalize(t, dim=0)),
    (Normalize(axis=1, eps=1.5), (3, 4, 2), lambda t: F.normalize(t, dim=1, eps=1.5)),
]


@pytest.mark.parametrize("layer,shape,function", CASES,
                         ids=[f"{layer.kind}{i}" for i, (layer, _, _) in enumerate(CASES)])
def test_gradients_match_autograd(layer, shape, function):
    x = _x(shape)
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, method=method, input_grad=True, seed=2)
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        function(t).backward(torch.tensor(run.grad_output, dtype=torch.float64))
        np.testing.assert_allclose(run.grad_input, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("learned", [True, False])
def test_mul_parameter_gradients_match_autograd(learned):
    layer, x = MulParameter((3, 1, 1), learned=learned), _x((2, 3, 4, 5))
    run = execute_backward(layer, x, input_grad=True, seed=4)
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    factor = run.params["value"] if learned else np.cos(np.arange(3.0)).reshape(3, 1, 1)
    p = torch.tensor(factor, dtype=torch.float64, requires_grad=True)
    (t * p).backward(torch.tensor(run.grad_output, dtype=torch.float64))
    np.testing.assert_allclose(run.grad_input, t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if learned:
        np.testing.assert_allclose(run.grads["value"], p.grad.numpy(), rtol=1e-10, atol=1e-12)
    else:
        assert run.grads == {}


def test_normalize_backward_runs_the_decomposition_the_rule_counts():
    """``F.normalize``'s autograd graph: a division by the expanded, clamped norm, as
    symconv.layers.backward_windows counts it."""
    t = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    seen: list[str] = []
    node = F.normalize(t, dim=-1).grad_fn
    while node is not None and node.name() != "torch::autograd::AccumulateGrad":
        seen.append(node.name())
        node = next((n for n, _ in node.next_functions[::-1] if n is not None), None)
    assert seen == ["DivBackward0", "ExpandBackward0", "ClampMinBackward0",
                    "LinalgVectorNormBackward0"]


def _flop_counter(model: nn.Module, shape: tuple[int, ...]) -> int:
    """FlopCounterMode's total for ``model(x).sum().backward()`` (forward and backward)."""
    x = torch.randn(1, *shape)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x).sum().backward()
    return int(counter.get_total_flops())


def test_swin_t_training_step_equals_flop_counter_mode():
    """Swin-T at 64×64 (padded to its 7×7 windows): its attention's F.linear and matmuls run
    mm/addmm/bmm forward and backward, which FlopCounterMode counts; rolls, strided views, the
    relative position bias and the softmax count nothing there."""
    torch.manual_seed(0)
    model = models().swin_t().eval()
    net = from_torch(model, (64, 64, 3))
    train = count(net, convention="torch", phase="train")
    assert train == _flop_counter(model, (3, 64, 64))
    # not the forward pass alone, and not without F.linear's backward
    assert train > 2 * count(net, convention="torch")


def _block() -> Any:
    """torchvision's SwinTransformerBlock of 8 channels, 2 heads, 4×4 windows shifted by 2, on
    8×8, between NCHW permutes."""
    swin = models().swin_transformer
    torch.manual_seed(0)
    block = swin.SwinTransformerBlock(8, 2, [4, 4], [2, 2], mlp_ratio=2.0, dropout=0.0,
                                      attention_dropout=0.0, stochastic_depth_prob=0.0)
    return nn.Sequential(swin.Permute([0, 2, 3, 1]), block, swin.Permute([0, 3, 1, 2])).eval()


def test_swin_block_training_step_is_proved_by_execution():
    model = _block()
    net = from_torch(model, (8, 8, 8))
    check = verify(net, (8, 8, 8), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    backward = {stage.name for stage in check.stages if stage.name.endswith("(backward)")}
    # the cyclic shift and its inverse, and F.linear's qkv and proj, checked backward too
    assert {"1.attn.roll (backward)", "1.attn.roll#2 (backward)", "1.attn.linear (backward)",
            "1.attn.linear#2 (backward)"} <= backward
    assert count(net, (8, 8, 8), convention="torch", phase="train") == _flop_counter(
        model, (8, 8, 8))


def _tiny_swin() -> Any:
    """A two-stage SwinTransformer on 8×8 (patches of 2, windows of 2): the second stage's map,
    2×2, is one window."""
    torch.manual_seed(0)
    return models().swin_transformer.SwinTransformer(
        patch_size=[2, 2], embed_dim=8, depths=[1, 1], num_heads=[2, 2], window_size=[2, 2],
        num_classes=5).eval()


def _window_partition(x: Any) -> Any:
    """torchvision's window partition of a (1, 2, 2, C) map into windows of 2×2 (one window)."""
    return x.view(1, 1, 2, 1, 2, x.shape[-1]).permute(0, 1, 3, 2, 4, 5).reshape(1, 4, x.shape[-1])


class _WindowsOfTheWholeMap(nn.Module):
    def forward(self, x: Any) -> Any:
        return _window_partition(x.permute(0, 2, 3, 1) * 2.0)


def test_a_window_of_the_whole_map_is_a_view_as_in_torch():
    """The permute moves only axes of size 1: torch's reshape returns a view (shares the
    input's storage), so the traced layer is a Reshape, and nothing is read or written."""
    x = torch.randn(1, 2, 2, 3)
    assert _window_partition(x).untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    net = from_torch(_WindowsOfTheWholeMap(), (2, 2, 3))
    leaves = _leaf_layers(net)
    assert isinstance(leaves[-1], Reshape), leaves
    check = verify(net, (2, 2, 3))
    assert check.ok, [stage for stage in check.stages if not stage.match]
    assert check.stages[-1].counted_traffic == {"reads": 0, "writes": 0}


def test_tiny_swin_forward_traffic_is_proved_by_execution():
    """The second stage's window partition and its inverse, of a map one window wide, are views
    in torch: counted and derived as views (traffic checked)."""
    net = from_torch(_tiny_swin(), (8, 8, 3))
    check = verify(net, (8, 8, 3))
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    stages = {stage.name: stage for stage in check.stages}
    for name in ("features.3.0.attn.reshape", "features.3.0.attn.reshape#4"):
        assert stages[name].counted_traffic == {"reads": 0, "writes": 0}
    # the first stage's 4×4 map has four windows: there the partition copies
    assert stages["features.1.0.attn.reshape"].counted_traffic["writes"] == 4 * 4 * 8


def test_tiny_swin_backward_with_patch_merging_is_proved_by_execution():
    """A two-stage SwinTransformer on 8×8 (patches of 2, windows of 2): patch merging's four
    strided views scatter their gradients back; every backward stage counted as derived."""
    model = _tiny_swin()
    net = from_torch(model, (8, 8, 3))
    assert sum(isinstance(layer, Strided) for layer in _leaf_layers(net)) == 4
    check = verify(net, (8, 8, 3), phase="train")
    backward = [stage for stage in check.stages if stage.name.endswith("(backward)")]
    assert len(backward) > 50
    assert all(stage.match for stage in backward), [s.name for s in backward if not s.match]
    assert count(net, (8, 8, 3), convention="torch", phase="train") == _flop_counter(
        model, (3, 8, 8))


def _leaf_layers(layer: Any) -> list[Any]:
    from symconv.layers import Composite

    if isinstance(layer, Composite):
        return [leaf for _, stage in layer.stages for leaf in _leaf_layers(stage)]
    return [layer]
