"""A ConvNeXt block (torchvision's CNBlock) from the new kinds: depthwise 7×7 convolution, the
NCHW → NHWC permute (the identity in symconv's channels-last layout), LayerNorm, Linear on a
rank-3 tensor, GELU, Linear, the permute back, layer scale, stochastic depth (the identity at
inference) and the residual addition. Counts by hand, verify, values equal to PyTorch's in
float64 (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.layers import (
    Activation,
    Add,
    DepthwiseConv2d,
    Graph,
    Identity,
    LayerNorm,
    LayerScale,
    Linear,
    StochasticDepth,
)

C, SIZE = 4, 5


def _block() -> Graph:
    return Graph(("block.0", DepthwiseConv2d(C, 7, padding=3, bias=True)),
                 ("block.1", Identity()),
                 ("block.2", LayerNorm(C, eps=1e-6)),
                 ("block.3", Linear(C, 4 * C)), ("block.4", Activation("gelu")),
                 ("block.5", Linear(4 * C, C)), ("block.6", Identity()),
                 ("layer_scale", LayerScale(C)), ("stochastic_depth", StochasticDepth(0.1)),
                 ("add", Add("input")))


def test_counts_by_hand() -> None:
    positions = SIZE * SIZE                                   # 25
    mults = (positions * C * 49                               # depthwise 7×7, padded taps
             + positions * (3 * C + 1)                        # LayerNorm with weight and bias
             + positions * 4 * C * C + positions * 4 * C * 3  # Linear C→4C, GELU 3 mults
             + positions * C * 4 * C                          # Linear 4C→C
             + positions * C)                                 # layer scale
    adds = (positions * C * 49                                # 48 per tap sum + 1 bias
            + positions * (5 * C - 1)
            + positions * 4 * C * C + positions * 4 * C       # (C−1) + bias; GELU 1 add
            + positions * C * 4 * C                           # (4C−1) + bias
            + positions * C)                                  # the residual
    net = _block()
    derived = cost(net, (SIZE, SIZE, C))
    assert (int(derived.mults), int(derived.adds)) == (mults, adds)
    assert derived.transcendentals == positions * (1 + 4 * C)   # LayerNorm's sqrt, GELU's erf
    x = np.random.default_rng(0).standard_normal((SIZE, SIZE, C))
    fast, reference = execute(net, x), execute(net, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12)
    assert fast.counts == reference.counts and fast.counts is not None
    assert (fast.counts.mults, fast.counts.adds) == (mults, adds)
    assert verify(net, (SIZE, SIZE, C)).ok


def test_values_equal_torch() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    x = np.random.default_rng(1).standard_normal((SIZE, SIZE, C))
    run = execute(_block(), x)
    p = {name: {key: torch.from_numpy(value) for key, value in held.items()}
         for name, held in run.params.items()}
    t = torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy())
    y = nn.functional.conv2d(t, p["block.0"]["weight"].permute(3, 2, 0, 1), p["block.0"]["bias"],
                             padding=3, groups=C)
    y = y.permute(0, 2, 3, 1)                                  # torchvision's Permute([0, 2, 3, 1])
    y = nn.functional.layer_norm(y, (C,), p["block.2"]["weight"], p["block.2"]["bias"], 1e-6)
    y = nn.functional.linear(y, p["block.3"]["weight"].T, p["block.3"]["bias"])
    y = nn.functional.gelu(y)
    y = nn.functional.linear(y, p["block.5"]["weight"].T, p["block.5"]["bias"])
    y = y.permute(0, 3, 1, 2)
    y = p["layer_scale"]["scale"].reshape(C, 1, 1) * y         # torchvision's layer_scale (C, 1, 1)
    y = y + t                                                  # stochastic depth: eval, identity
    np.testing.assert_allclose(run.output, np.moveaxis(y[0].numpy(), 0, -1), rtol=1e-12,
                               atol=1e-13)
