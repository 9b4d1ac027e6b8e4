"""The backward rules of tests/test_backward_kinds.py against ``torch.autograd`` in float64, and
EfficientNet-B0's training step counted by execution. Skipped where torch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from symconv import verify  # noqa: E402
from symconv.errors import SymconvError  # noqa: E402
from symconv.execute import execute  # noqa: E402
from symconv.execute.backward import execute_backward  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.layers import (  # noqa: E402
    Activation,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AvgPool2d,
    BatchNorm2d,
    GroupNorm,
    LayerNorm,
    LayerScale,
    LogSoftmax,
    MaxPool2d,
    Mean,
    Pad,
    Softmax,
)
from symconv.networks.conventions import count  # noqa: E402
from tests.torchvision_models import models  # noqa: E402

F = torch.nn.functional


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.moveaxis(x, -1, 0)[None], dtype=torch.float64, requires_grad=True)


def _back(t: torch.Tensor) -> np.ndarray:
    return np.moveaxis(t.detach().numpy()[0], 0, -1)


ELEMENTWISE = [
    ("sigmoid", torch.sigmoid), ("silu", F.silu), ("tanh", torch.tanh), ("gelu", F.gelu),
    ("gelu_tanh", lambda t: F.gelu(t, approximate="tanh")), ("elu", F.elu),
    ("softplus", F.softplus), ("mish", F.mish),
]


@pytest.mark.parametrize("name,function", ELEMENTWISE, ids=[name for name, _ in ELEMENTWISE])
def test_activation_gradients_match_autograd(name, function):
    x = np.random.default_rng(0).standard_normal((4, 5, 3)) * 4
    x[0, 0, 0] = 30.0                       # past softplus's threshold
    for method in ("fast", "reference"):
        run = execute_backward(Activation(name), x, seed=1, method=method)
        tx = torch.tensor(x, requires_grad=True)
        function(tx).backward(torch.tensor(run.grad_output))
        np.testing.assert_allclose(run.grad_input, tx.grad.numpy(), rtol=1e-12, atol=1e-14)


NCHW = [
    (Softmax(), lambda t: F.softmax(t, dim=1)),
    (LogSoftmax(axis=0), lambda t: F.log_softmax(t, dim=2)),
    (BatchNorm2d(3, affine=False), lambda t: F.batch_norm(t, None, None, training=True)),
    (GroupNorm(3, 3, affine=False), lambda t: F.group_norm(t, 3)),
    (Mean((0, 1)), lambda t: t.mean((2, 3))[..., None, None]),
    (AdaptiveAvgPool2d((3, 2)), lambda t: F.adaptive_avg_pool2d(t, (3, 2))),
    (AdaptiveMaxPool2d((2, 3)), lambda t: F.adaptive_max_pool2d(t, (2, 3))),
    (Pad((1, 2, 2, 1), mode="reflect"), lambda t: F.pad(t, (1, 2, 2, 1), mode="reflect")),
    (Pad((1, 1, 0, 2), mode="replicate"), lambda t: F.pad(t, (1, 1, 0, 2), mode="replicate")),
    (Pad((2, 1, 1, 0), mode="circular"), lambda t: F.pad(t, (2, 1, 1, 0), mode="circular")),
    (AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
     lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False)),
    (AvgPool2d(3, stride=2, padding=1, divisor_override=4),
     lambda t: F.avg_pool2d(t, 3, 2, 1, divisor_override=4)),
    (AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
     lambda t: F.avg_pool2d(t, 3, 2, 1, ceil_mode=True, count_include_pad=False)),
    (MaxPool2d(2, ceil_mode=True), lambda t: F.max_pool2d(t, 2, ceil_mode=True)),
]


@pytest.mark.parametrize("layer,function", NCHW, ids=[type(layer).__name__ for layer, _ in NCHW])
def test_nchw_gradients_match_autograd(layer, function):
    x = np.random.default_rng(0).standard_normal((6, 5, 3))
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, seed=1, method=method)
        tx = _nchw(x)
        out = function(tx)
        grad = run.grad_output.reshape(_back(out).shape) if out.ndim == 4 else run.grad_output
        out.backward(_nchw(grad).detach())
        np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-10, atol=1e-12)


def test_affine_norm_and_layer_scale_gradients_match_autograd():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 4, 6))
    for layer, torch_call in (
            (LayerNorm(6), lambda t, w, b: F.layer_norm(t, (6,), w, b)),
            (GroupNorm(2, 6), None),
            (LayerScale(6), lambda t, w, b: t * w)):
        run = execute_backward(layer, x, seed=3)
        weight_name = "scale" if isinstance(layer, LayerScale) else "weight"
        weight = torch.tensor(run.params[weight_name], requires_grad=True)
        bias = (torch.tensor(run.params["bias"], requires_grad=True) if "bias" in run.params
                else None)
        if torch_call is None:        # GroupNorm runs on NCHW
            tx = _nchw(x)
            F.group_norm(tx, 2, weight, bias).backward(_nchw(run.grad_output).detach())
            grad_x = _back(tx.grad)
        else:
            tx = torch.tensor(x, requires_grad=True)
            torch_call(tx, weight, bias).backward(torch.tensor(run.grad_output))
            grad_x = tx.grad.numpy()
        np.testing.assert_allclose(run.grad_input, grad_x, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(run.grads[weight_name], weight.grad.numpy(), rtol=1e-10)
        if bias is not None:
            np.testing.assert_allclose(run.grads["bias"], bias.grad.numpy(), rtol=1e-10)


def test_efficientnet_b0_training_step_is_proved_by_execution():
    """symconv's own counts of EfficientNet-B0's training step at 64×64, every layer's forward
    (in training mode) and backward counted while running against its derivation. (At 32×32
    its last blocks run on 1×1: one value per channel, on which PyTorch refuses to train
    BatchNorm, and so does symconv.)"""
    torch.manual_seed(0)
    with pytest.raises(SymconvError, match="1 value per channel"):
        count(from_torch(models().efficientnet_b0(), (32, 32, 3)), convention="mults",
              phase="train")
    net = from_torch(models().efficientnet_b0(), (64, 64, 3))
    check = verify(net, (64, 64, 3), phase="train")
    assert check.ok, [stage.name for stage in check.stages if not stage.match]
    x = np.random.default_rng(0).standard_normal((64, 64, 3))
    counted = (execute(net, x, training=True).counts.mults
               + execute_backward(net, x).counts.mults)
    assert counted == count(net, (64, 64, 3), convention="mults", phase="train")
