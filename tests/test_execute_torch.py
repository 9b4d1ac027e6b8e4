"""The executors' outputs against PyTorch's convolutions, weights copied over, in float64.

Ours are channels last without a batch axis, ``(*spatial, C)``; PyTorch's ``(1, C, *spatial)``.
Our weights put the kernel axes first: a convolution's ``(*k, C_in/g, C_out)`` is PyTorch's
``(C_out, C_in/g, *k)``; a transposed convolution's ``(*k, C_in, C_out/g)`` is PyTorch's
``(C_in, C_out/g, *k)``. Skipped where PyTorch is not installed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given

from symconv import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    MaxPool2d,
    ReLU,
    ReLU6,
    execute,
)
from symconv.layers import Activation, ConvNd, ConvTransposeNd, Layer
from symconv.strategies import conv_cases

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _to_torch_weight(layer: ConvNd | ConvTransposeNd, weight: np.ndarray) -> Any:
    dims = weight.ndim - 2
    # Both move the two channel axes in front, keeping their order: conv (C_in/g, C_out) ->
    # (C_out, C_in/g) swaps them; transposed (C_in, C_out/g) keeps them.
    channels = (dims + 1, dims) if isinstance(layer, ConvNd) else (dims, dims + 1)
    return torch.from_numpy(np.ascontiguousarray(weight.transpose(*channels, *range(dims))))


def _torch_conv(layer: ConvNd | ConvTransposeNd, x: np.ndarray, params: dict[str, np.ndarray]) -> np.ndarray:
    """PyTorch's convolution of one channels-last example, returned channels last."""
    dims = x.ndim - 1
    tensor = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 0)[None]))
    weight = _to_torch_weight(layer, params["weight"])
    bias = torch.from_numpy(params["bias"]) if "bias" in params else None
    common = {"stride": tuple(int(s) for s in layer.stride), "padding": tuple(int(p) for p in layer.padding),
              "dilation": tuple(int(d) for d in layer.dilation), "groups": int(layer.groups)}
    with torch.no_grad():
        if isinstance(layer, ConvTransposeNd):
            function = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[dims - 1]
            out = function(tensor, weight, bias, output_padding=tuple(int(a) for a in layer.output_padding),
                           **common)
        else:
            function = (F.conv1d, F.conv2d, F.conv3d)[dims - 1]
            out = function(tensor, weight, bias, **common)
    return np.moveaxis(out[0].numpy(), 0, -1)


def _against_torch(layer: Layer, x: np.ndarray, method: Any = "fast") -> None:
    run = execute(layer, x, method=method, seed=11)
    if isinstance(layer, DepthwiseSeparableConv2d):
        expected = x
        for name, stage in layer.stages:
            assert isinstance(stage, ConvNd)
            expected = _torch_conv(stage, expected, run.params[name])
    else:
        assert isinstance(layer, (ConvNd, ConvTransposeNd))
        expected = _torch_conv(layer, x, run.params)
    assert run.output.shape == expected.shape, (layer, run.output.shape, expected.shape)
    np.testing.assert_allclose(run.output, expected, rtol=1e-10, atol=1e-10, err_msg=repr(layer))


# (layer, input shape): each kind the executors handle, with the arguments that change where
# values go.
CASES = [
    # Transposed: output_padding, groups, dilation, stride, padding, bias; 1-D, 2-D and 3-D.
    (ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=1, bias=True), (5, 4, 4)),
    (ConvTranspose2d(6, 4, (2, 3), stride=(3, 2), padding=(1, 0), output_padding=(2, 1), groups=2,
                     dilation=(2, 3)), (4, 5, 6)),
    (ConvTranspose1d(3, 6, 4, stride=3, padding=2, output_padding=2, groups=3, dilation=2, bias=True), (7, 3)),
    (ConvTranspose3d(2, 4, 2, stride=2, padding=1, output_padding=1, groups=2, dilation=2), (3, 4, 3, 2)),
    (ConvTranspose2d(3, 5, 3), (4, 4, 3)),
    # Grouped (not depthwise), dilated, strided, padded; 1-D and 3-D.
    (Conv2d(6, 9, 3, stride=2, padding=1, groups=3, bias=True), (7, 8, 6)),
    (Conv2d(4, 8, 2, groups=4), (5, 5, 4)),                      # depthwise with a multiplier of 2
    (Conv2d(3, 4, 3, dilation=(2, 3), padding=(2, 1)), (9, 9, 3)),
    (Conv2d(4, 4, (3, 1), stride=(1, 3), padding=(0, 2), dilation=(2, 1), groups=2), (8, 7, 4)),
    (Conv1d(4, 6, 5, stride=2, padding=3, dilation=2, groups=2, bias=True), (17, 4)),
    (Conv3d(2, 4, (2, 3, 2), stride=(1, 2, 2), padding=(1, 0, 1), dilation=(2, 1, 1), groups=2,
            bias=True), (5, 6, 5, 2)),
    # Depthwise (the per-channel path of the fast executor), dilated and strided.
    (DepthwiseConv2d(5, 3, stride=2, padding=2, dilation=2, bias=True), (9, 11, 5)),
    (DepthwiseSeparableConv2d(3, 7, 3, stride=2, padding=1, bias=True), (8, 8, 3)),
    # Large enough for the fast executor's per-offset matmul (above its im2col size).
    (Conv2d(32, 16, 3, padding=1, dilation=1), (24, 24, 32)),
]


# The reference executor on every case but the one sized for the fast executor's matmul path.
RUNS = [(layer, shape, "fast") for layer, shape in CASES] + [
    (layer, shape, "reference") for layer, shape in CASES if np.prod(shape) <= 5000]


@pytest.mark.parametrize(("layer", "shape", "method"), RUNS)
def test_convolutions_compute_what_pytorch_computes(layer: Layer, shape: tuple[int, ...], method: Any) -> None:
    _against_torch(layer, np.random.default_rng(3).standard_normal(shape), method)


@given(conv_cases(max_size=7, max_channels=6, max_kernel=3, max_stride=3, max_dilation=3,
                  max_padding=2, max_groups=3))
def test_every_drawn_convolution_computes_what_pytorch_computes(case: tuple[Layer, tuple[int, ...]]) -> None:
    layer, shape = case
    _against_torch(layer, np.random.default_rng(4).standard_normal(shape))


# --------------------------------------------------------------------------- NaN


NAN_LAYERS = [
    (ReLU(), F.relu), (ReLU6(), F.relu6), (Activation("hardtanh"), F.hardtanh),
    (Activation("hardsigmoid"), F.hardsigmoid), (Activation("hardswish"), F.hardswish),
    (Activation("leakyrelu"), F.leaky_relu),
]


@pytest.mark.filterwarnings("ignore:invalid value encountered")   # −∞·0 in hardswish: NaN, as in PyTorch
@pytest.mark.parametrize("method", ["fast", "reference"])
@pytest.mark.parametrize(("layer", "function"), NAN_LAYERS)
def test_nan_and_infinities_go_where_pytorch_puts_them(layer: Layer, function: Any, method: Any) -> None:
    x = np.array([[np.nan, -np.inf, np.inf, -7.0, -0.5, 0.0, 0.5, 7.0]])
    expected = function(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(execute(layer, x, method=method).output, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["fast", "reference"])
def test_max_pool_nan_as_in_pytorch(method: Any) -> None:
    x = np.random.default_rng(0).standard_normal((6, 6, 2))
    x[1, 2, 0] = x[4, 4, 1] = x[0, 0, 1] = np.nan
    layer = MaxPool2d(3, stride=2, padding=1)
    tensor = torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))
    expected = F.max_pool2d(tensor, 3, 2, 1)[0].numpy().transpose(1, 2, 0)
    np.testing.assert_array_equal(execute(layer, x, method=method).output, expected)
