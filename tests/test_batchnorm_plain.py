"""BatchNorm2d(affine=False): no γ or β (params 0), still folded into one multiply-add per
element; values equal to PyTorch's in eval mode (skipped without torch); its backward pass is
refused by name."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import BatchNorm2d, Conv2d, Sequential


def test_counts_and_params_by_hand() -> None:
    layer = BatchNorm2d(4, affine=False)
    c = cost(layer, (3, 5, 4))                      # 60 elements: x·a + b each
    assert (c.mults, c.adds, c.divs, c.params) == (60, 60, 0, 0)
    x = np.random.default_rng(0).standard_normal((3, 5, 4))
    for method in ("fast", "reference"):
        run = execute(layer, x, method=method)  # type: ignore[arg-type]
        assert run.params == {} and run.counts is not None
        assert (run.counts.mults, run.counts.adds) == (60, 60)
    assert verify(layer, (3, 5, 4)).ok
    # its backward (batch statistics, no γ): no parameter gradient, proved by execution
    net = Sequential(Conv2d(4, 4, 1), layer)
    backward = cost(net, (3, 5, 4), phase="backward")
    assert "weight_grad" not in dict(dict(backward.stages)["1"].gradients)
    assert verify(net, (3, 5, 4), phase="train").ok
    with pytest.raises(SymconvError, match="affine"):
        BatchNorm2d(4, affine=1)  # type: ignore[arg-type]


def test_values_equal_torch() -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((3, 5, 4))
    layer = BatchNorm2d(4, affine=False)
    for method in ("fast", "reference"):
        run = execute(layer, x, method=method)  # type: ignore[arg-type]
        module = torch.nn.BatchNorm2d(4, affine=False).double().eval()
        module.running_mean.copy_(torch.from_numpy(run.buffers["running_mean"]))
        module.running_var.copy_(torch.from_numpy(run.buffers["running_var"]))
        expected = module(torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()))
        np.testing.assert_allclose(run.output, np.moveaxis(expected[0].numpy(), 0, -1),
                                   rtol=1e-13, atol=1e-14)
