"""The backward pass against PyTorch (issue 12): gradient values against ``torch.autograd`` in
float64, and ``count(net, convention="torch", phase="train")`` against ``FlopCounterMode``'s
total for ``model(x).sum().backward()``, to the unit. Skipped where torch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv import Conv1d, Conv2d, ConvTranspose2d, SymconvError  # noqa: E402
from symconv.execute.backward import execute_backward  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.layers import (  # noqa: E402
    Activation,
    AvgPool2d,
    BatchNorm2d,
    Linear,
    MaxPool2d,
    ReLU6,
)
from symconv.networks.conventions import count  # noqa: E402
from tests.torchvision_models import models  # noqa: E402

nn = torch.nn
F = torch.nn.functional


def _nchw(x: np.ndarray) -> torch.Tensor:
    return torch.tensor(np.moveaxis(x, -1, 0)[None], dtype=torch.float64, requires_grad=True)


def _back(t: torch.Tensor) -> np.ndarray:
    return np.moveaxis(t.detach().numpy()[0], 0, -1)


def _conv_weight(weight: np.ndarray) -> torch.Tensor:
    """symconv's (*k, C_in/g, C_out) as PyTorch's (C_out, C_in/g, *k)."""
    order = (weight.ndim - 1, weight.ndim - 2, *range(weight.ndim - 2))
    return torch.tensor(weight.transpose(order), requires_grad=True)


def _transposed_weight(weight: np.ndarray) -> torch.Tensor:
    """symconv's (*k, C_in, C_out/g) as PyTorch's (C_in, C_out/g, *k)."""
    order = (weight.ndim - 2, weight.ndim - 1, *range(weight.ndim - 2))
    return torch.tensor(weight.transpose(order), requires_grad=True)


def _from_torch_weight(grad: torch.Tensor, ndim: int, transposed: bool = False) -> np.ndarray:
    array = grad.numpy()
    if transposed:
        return array.transpose((*range(2, ndim), 0, 1))
    return array.transpose((*range(2, ndim), 1, 0))


CONVS = [
    (Conv2d(4, 6, (3, 2), stride=2, padding=1, dilation=(1, 2), groups=2, bias=True), (8, 9, 4)),
    (Conv2d(4, 4, 3, padding=1, groups=4), (5, 5, 4)),
    (Conv1d(2, 4, 3, stride=2, bias=True), (9, 2)),
]


@pytest.mark.parametrize("layer,shape", CONVS)
def test_convolution_gradients_match_autograd(layer, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    run = execute_backward(layer, x, seed=1, input_grad=True)
    tx = _nchw(x)
    weight = _conv_weight(run.params["weight"])
    bias = torch.tensor(run.params["bias"], requires_grad=True) if layer.bias else None
    conv = {1: F.conv1d, 2: F.conv2d}[len(shape) - 1]
    out = conv(tx, weight, bias, stride=layer.stride, padding=layer.padding,
               dilation=layer.dilation, groups=layer.groups)
    out.backward(_nchw(run.grad_output).detach())
    np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(run.grads["weight"],
                               _from_torch_weight(weight.grad, weight.ndim), rtol=1e-10,
                               atol=1e-10)
    if bias is not None:
        np.testing.assert_allclose(run.grads["bias"], bias.grad.numpy(), rtol=1e-10)


def test_transposed_convolution_gradients_match_autograd():
    layer = ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, bias=True)
    x = np.random.default_rng(0).standard_normal((4, 5, 4))
    run = execute_backward(layer, x, seed=1)
    tx = _nchw(x)
    weight = _transposed_weight(run.params["weight"])
    bias = torch.tensor(run.params["bias"], requires_grad=True)
    out = F.conv_transpose2d(tx, weight, bias, stride=2, padding=1, output_padding=1, groups=2)
    out.backward(_nchw(run.grad_output).detach())
    np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(run.grads["weight"],
                               _from_torch_weight(weight.grad, 4, transposed=True), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(run.grads["bias"], bias.grad.numpy(), rtol=1e-10)


def test_linear_and_batchnorm_gradients_match_autograd():
    x = np.random.default_rng(0).standard_normal((2, 3, 5))
    run = execute_backward(Linear(5, 4), x, seed=1)
    tx = torch.tensor(x, requires_grad=True)
    weight = torch.tensor(run.params["weight"], requires_grad=True)
    bias = torch.tensor(run.params["bias"], requires_grad=True)
    (tx @ weight + bias).backward(torch.tensor(run.grad_output))
    np.testing.assert_allclose(run.grad_input, tx.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(run.grads["weight"], weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(run.grads["bias"], bias.grad.numpy(), rtol=1e-10)

    x = np.random.default_rng(2).standard_normal((4, 5, 3))
    run = execute_backward(BatchNorm2d(3), x, seed=3)
    module = nn.BatchNorm2d(3).double().train()
    with torch.no_grad():
        module.weight.copy_(torch.tensor(run.params["weight"]))
        module.bias.copy_(torch.tensor(run.params["bias"]))
    tx = _nchw(x)
    module(tx).backward(_nchw(run.grad_output).detach())
    np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(run.grads["weight"], module.weight.grad.numpy(), rtol=1e-8)
    np.testing.assert_allclose(run.grads["bias"], module.bias.grad.numpy(), rtol=1e-8)


@pytest.mark.parametrize("layer,function", [
    (ReLU6(), F.relu6), (Activation("hardswish"), F.hardswish),
    (Activation("hardsigmoid"), F.hardsigmoid), (Activation("leakyrelu"), F.leaky_relu),
    (MaxPool2d(3, stride=2, padding=1), lambda t: F.max_pool2d(t, 3, 2, 1)),
    (AvgPool2d(3, stride=2, padding=1), lambda t: F.avg_pool2d(t, 3, 2, 1)),
])
def test_elementwise_and_pooling_gradients_match_autograd(layer, function):
    x = np.random.default_rng(0).standard_normal((7, 7, 2)) * 4
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, seed=1, method=method)
        tx = _nchw(x)
        function(tx).backward(_nchw(run.grad_output).detach())
        # PyTorch's hardsigmoid_backward multiplies by 1.0f/6.0f, a float32 constant
        rtol = 1e-7 if isinstance(layer, Activation) and layer.function == "hardsigmoid" else 1e-12
        np.testing.assert_allclose(run.grad_input, _back(tx.grad), rtol=rtol, atol=1e-12)


# ------------------------------------------------------------------------- FlopCounterMode


def _flop_counter_train(model: torch.nn.Module, shape: tuple[int, ...]) -> int:
    x = torch.randn(1, shape[-1], *shape[:-1])
    model.train()
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return int(counter.get_total_flops())


def _small_model() -> torch.nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1, groups=8, bias=False), nn.BatchNorm2d(8),
        nn.ReLU(), nn.Conv2d(8, 16, 1), nn.MaxPool2d(2), nn.ConvTranspose2d(16, 4, 2, stride=2,
                                                                          groups=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 10))


def test_torch_train_count_equals_flop_counter_mode():
    torch.manual_seed(0)
    model = _small_model()
    net = from_torch(model, (16, 16, 3))
    assert count(net, convention="torch", phase="train") == _flop_counter_train(model,
                                                                                (16, 16, 3))


def test_torch_train_count_of_a_frozen_backbone():
    torch.manual_seed(0)
    model = _small_model()
    for parameter in model[:7].parameters():
        parameter.requires_grad_(False)
    net = from_torch(model, (16, 16, 3))
    frozen = [name for name, stage in net.stages if name.split(".")[0] in map(str, range(7))]
    expected = _flop_counter_train(model, (16, 16, 3))
    assert count(net, convention="torch", phase="train", frozen=frozen) == expected
    # from_torch reads requires_grad: the same count without frozen=; unfrozen counts more
    assert count(net, convention="torch", phase="train") == expected
    torch.manual_seed(0)
    assert count(from_torch(_small_model(), (16, 16, 3)), convention="torch",
                 phase="train") > expected


def test_frozen_prefix_of_from_torch_stage_names_counts_as_requires_grad_false():
    from collections import OrderedDict

    torch.manual_seed(0)
    model = nn.Sequential(OrderedDict(
        features=nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                               nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())),
        classifier=nn.Sequential(nn.Flatten(), nn.Linear(8 * 8 * 8, 10))))
    net = from_torch(model, (8, 8, 3))   # flat stages: features.0, features.2.0, ...
    with pytest.raises(SymconvError, match=r"'feature' names no layer.*did you mean 'features'"
                                           r".*top-level names are 'features', 'classifier'"):
        count(net, convention="torch", phase="train", frozen=("feature",))
    by_prefix = count(net, convention="torch", phase="train", frozen=("features",))
    nested = count(net, convention="torch", phase="train", frozen=("features.2",))
    for parameter in model.features.parameters():
        parameter.requires_grad_(False)
    assert by_prefix == _flop_counter_train(model, (8, 8, 3))
    for parameter in model.features[0].parameters():
        parameter.requires_grad_(True)
    assert nested == _flop_counter_train(model, (8, 8, 3))


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "efficientnet_b0"])
def test_torch_train_count_of_torchvision_models(name):
    torch.manual_seed(0)
    model = getattr(models(), name)()
    # skip: parts symconv cannot count (F.adaptive_avg_pool2d, SiLU, sigmoid) are 0 here as in
    # FlopCounterMode, which counts convolutions and matrix products only.
    net = from_torch(model, (64, 64, 3), unsupported="skip")
    assert count(net, convention="torch", phase="train") == _flop_counter_train(model,
                                                                                (64, 64, 3))
