"""The backward rules of tests/test_backward_transformer.py against ``torch.autograd`` in
float64 (Upsample, PReLU, nn.MultiheadAttention), and training steps against FlopCounterMode
(ViT-B/16, ConvNeXt-T, a segmentation head with Upsample and PReLU, a hand-written attention)
and proved by execution (a small ViT). Skipped where torch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv import verify  # noqa: E402
from symconv.execute.backward import execute_backward  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.layers import PReLU, Upsample  # noqa: E402
from symconv.layers.attention import multihead_attention  # noqa: E402
from symconv.networks.conventions import count  # noqa: E402
from tests.torchvision_models import models  # noqa: E402

F = torch.nn.functional
nn = torch.nn


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.moveaxis(x, -1, 0)[None], dtype=torch.float64, requires_grad=True)


def _back(t: torch.Tensor) -> np.ndarray:
    return np.moveaxis(t.detach().numpy()[0], 0, -1)


UPSAMPLE = [
    (Upsample(scale_factor=2), lambda t: F.interpolate(t, scale_factor=2)),
    (Upsample(size=(7, 9)), lambda t: F.interpolate(t, size=(7, 9))),
    (Upsample(scale_factor=1.5), lambda t: F.interpolate(t, scale_factor=1.5)),
    (Upsample(scale_factor=2, mode="bilinear"),
     lambda t: F.interpolate(t, scale_factor=2, mode="bilinear")),
    (Upsample(size=(7, 9), mode="bilinear"),
     lambda t: F.interpolate(t, size=(7, 9), mode="bilinear")),
    (Upsample(size=(7, 9), mode="bilinear", align_corners=True),
     lambda t: F.interpolate(t, size=(7, 9), mode="bilinear", align_corners=True)),
]


@pytest.mark.parametrize("layer,function", UPSAMPLE, ids=[f"{layer.mode}{i}" for i, (layer, _)
                                                           in enumerate(UPSAMPLE)])
def test_upsample_gradients_match_autograd(layer, function):
    x = np.random.default_rng(0).standard_normal((4, 5, 3))
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, seed=1, method=method)
        tx = _nchw(x)
        function(tx).backward(_nchw(run.grad_output).detach())
        np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("slopes", [1, 3])
def test_prelu_gradients_match_autograd(slopes):
    x = np.random.default_rng(0).standard_normal((4, 5, 3))
    for method in ("fast", "reference"):
        run = execute_backward(PReLU(slopes), x, seed=1, method=method)
        tx = _nchw(x)
        weight = torch.tensor(run.params["weight"], requires_grad=True)
        F.prelu(tx, weight).backward(_nchw(run.grad_output).detach())
        np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(run.grads["weight"], weight.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("bias", [True, False])
def test_multihead_attention_gradients_match_autograd(bias):
    """symconv's attention graph, run with nn.MultiheadAttention's own weights (kept ``(in,
    out)``): the input's and every projection's gradient equal autograd's."""
    torch.manual_seed(0)
    module = nn.MultiheadAttention(6, 3, bias=bias, batch_first=True, dtype=torch.float64)
    params = {"in_proj": {"weight": module.in_proj_weight.detach().numpy().T.copy()},
              "out_proj": {"weight": module.out_proj.weight.detach().numpy().T.copy()}}
    if bias:
        params["in_proj"]["bias"] = module.in_proj_bias.detach().numpy().copy()
        params["out_proj"]["bias"] = module.out_proj.bias.detach().numpy().copy()
    x = np.random.default_rng(2).standard_normal((4, 6))
    layer = multihead_attention(6, 3, bias, tokens=4)
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, params, seed=3, method=method, input_grad=True)
        module.zero_grad()
        tx = torch.tensor(x[None], requires_grad=True)
        out, _ = module(tx, tx, tx, need_weights=False)
        np.testing.assert_allclose(run.output, out.detach().numpy()[0], rtol=1e-12)
        out.backward(torch.tensor(run.grad_output[None]))
        np.testing.assert_allclose(run.grad_input, tx.grad.numpy()[0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(run.grads["in_proj"]["weight"],
                                   module.in_proj_weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(run.grads["out_proj"]["weight"],
                                   module.out_proj.weight.grad.numpy().T, rtol=1e-10, atol=1e-12)
        if bias:
            np.testing.assert_allclose(run.grads["in_proj"]["bias"],
                                       module.in_proj_bias.grad.numpy(), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ FlopCounterMode's totals


def _flop_counter(model: torch.nn.Module, shape: tuple[int, ...]) -> int:
    """FlopCounterMode's total for ``model(x).sum().backward()`` (forward and backward)."""
    x = torch.randn(1, *shape)
    counter = FlopCounterMode(display=False)
    with counter:
        model(x).sum().backward()
    return int(counter.get_total_flops())


def _torch_train(model: torch.nn.Module, shape: tuple[int, ...]) -> int:
    ours = (shape[1], shape[2], shape[0])
    return int(count(from_torch(model, ours), ours, convention="torch", phase="train"))


class _Segmentation(nn.Module):
    """A segmentation head: strided convolution, PReLU, bilinear ×2, convolution, shared PReLU,
    nearest ×2 (F.interpolate), upsampling with align_corners to a size."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.act = nn.PReLU(4)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.shared = nn.PReLU()
        self.last = nn.Upsample(size=(23, 21), mode="bilinear", align_corners=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.shared(self.conv(self.up(self.act(self.down(x)))))
        return self.last(F.interpolate(y, scale_factor=2))


class _HandAttention(nn.Module):
    """Attention written out: a @ b, torch.matmul, a scale and a softmax."""

    def __init__(self) -> None:
        super().__init__()
        self.q, self.k, self.v = nn.Linear(8, 8), nn.Linear(8, 8), nn.Linear(8, 8)
        self.head = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = x.flatten(2).transpose(1, 2)                       # (1, 16, 8)
        q, k, v = self.q(tokens), self.k(tokens), self.v(tokens)
        weights = (q @ k.transpose(-2, -1) * 0.25).softmax(dim=-1)
        mixed = torch.matmul(weights, v)
        return self.head(mixed.transpose(1, 2).reshape(1, 8, 4, 4))


def test_segmentation_head_training_step_equals_flop_counter_mode():
    """Upsample and PReLU have no FlopCounterMode formula, forward or backward: only the
    convolutions count (the first one's input gradient not needed)."""
    torch.manual_seed(0)
    model = _Segmentation()
    assert _torch_train(model, (3, 10, 9)) == _flop_counter(model, (3, 10, 9))


def test_hand_written_attention_training_step_equals_flop_counter_mode():
    """a @ b and torch.matmul: their gradients are bmm, 2 per multiply-add each."""
    torch.manual_seed(0)
    model = _HandAttention()
    assert _torch_train(model, (8, 4, 4)) == _flop_counter(model, (8, 4, 4))


def test_vit_b_16_training_step_equals_flop_counter_mode():
    """With gradients on, nn.MultiheadAttention runs unfused: FlopCounterMode counts its
    projections (addmm forward, mm backward) and nothing of the scaled-dot-product kernel."""
    torch.manual_seed(0)
    model = models().vit_b_16()
    assert _torch_train(model, (3, 224, 224)) == _flop_counter(model, (3, 224, 224))


def test_convnext_tiny_training_step_equals_flop_counter_mode():
    torch.manual_seed(0)
    model = models().convnext_tiny()
    assert _torch_train(model, (3, 64, 64)) == _flop_counter(model, (3, 64, 64))


def test_small_vit_training_step_is_proved_by_execution():
    """torchvision's VisionTransformer at 32×32 (patches of 8, 2 layers, hidden 16): every
    layer's forward and backward counted while running against its derivation."""
    torch.manual_seed(0)
    model = models().VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2,
                                       hidden_dim=16, mlp_dim=32, num_classes=10)
    net = from_torch(model, (32, 32, 3))
    check = verify(net, (32, 32, 3), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    assert any("attention" in stage.name or "self_attention" in stage.name
               for stage in check.stages)
    assert count(net, (32, 32, 3), convention="torch", phase="train") == _flop_counter(
        model, (3, 32, 32))
