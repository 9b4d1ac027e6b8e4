"""LayerNorm (over the channels) and GroupNorm: counts by hand, fast == reference == derived
(verify, traffic included), values equal to PyTorch's in float64 (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import GroupNorm, Layer, LayerNorm

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

# Worked by hand. LayerNorm on P positions of C channels, per row: mean C−1 adds, 1 div;
# variance C subs, C mults, C−1 adds, 1 div; rstd 1 add, 1 sqrt, 1 div; shift 1 mult; per
# element x·rstd + shift (1 mult, 1 add), ·γ (1 mult), + β (1 add).
# 3×2 positions of 4 channels: adds 6·(3 + 4 + 3 + 1 + 8) = 114, mults 6·(4 + 1 + 8) = 78.
# GroupNorm(2, 4) on 3×2×4: 2 groups of R = 12 terms: adds 2·(11 + 12 + 11 + 1) = 70, mults
# 2·12 = 24, divs 6, sqrt 2; per channel 2 mults, 1 add (4 channels): 8 mults, 4 adds; per
# element 1 mult, 1 add (24): mults 24 + 8 + 24 = 56, adds 70 + 4 + 24 = 98.
HAND = [
    (LayerNorm(4), (3, 2, 4), {"adds": 114, "mults": 78, "divs": 18, "transcendentals": 6}, 8),
    (LayerNorm(4, elementwise_affine=False), (3, 2, 4),
     {"adds": 114 - 24, "mults": 78 - 24, "divs": 18, "transcendentals": 6}, 0),
    (LayerNorm(4, bias=False), (6, 4),
     {"adds": 114 - 24, "mults": 78, "divs": 18, "transcendentals": 6}, 4),
    (GroupNorm(2, 4), (3, 2, 4), {"adds": 98, "mults": 56, "divs": 6, "transcendentals": 2}, 8),
    # without affine: per group 1 mult (−rstd·mean) instead of the per-channel 8 mults, 4 adds
    (GroupNorm(2, 4, affine=False), (3, 2, 4),
     {"adds": 94, "mults": 24 + 2 + 24, "divs": 6, "transcendentals": 2}, 0),
]


@pytest.mark.parametrize(("layer", "shape", "expected", "params"), HAND)
def test_counts_by_hand(layer: Layer, shape: tuple[int, ...], expected: dict[str, int],
                        params: int) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12)
    full = {kind: expected.get(kind, 0) for kind in KINDS}
    assert fast.counts is not None and fast.counts.as_dict() == full
    assert reference.counts == fast.counts
    derived = cost(layer, shape)
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == full
    assert derived.params == params and derived.output_shape == shape
    assert verify(layer, shape).ok


def test_symbolic_and_checks() -> None:
    from symconv.symbols import C, H, W
    c = cost(LayerNorm(C), (H, W, C))
    assert sympy.expand(c.adds - H * W * (5 * C - 1)) == 0
    assert LayerNorm(8, eps=1e-6).eps == sympy.Rational(1, 10**6)
    with pytest.raises(SymconvError, match="must divide"):
        GroupNorm(3, 8)
    with pytest.raises(SymconvError, match="channel axis"):
        LayerNorm((7, 7, 8))
    with pytest.raises(SymconvError, match="channels"):
        cost(LayerNorm(8), (4, 4, 6))


@pytest.mark.parametrize("layer", [LayerNorm(6), LayerNorm(6, eps=1e-6, bias=False),
                                   GroupNorm(3, 6), GroupNorm(2, 6, affine=False)])
def test_values_equal_torch(layer: Layer) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((4, 5, 6))
    for method in ("fast", "reference"):
        run = execute(layer, x, method=method)  # type: ignore[arg-type]
        t = torch.from_numpy(x.copy())
        weight = torch.from_numpy(run.params["weight"]) if "weight" in run.params else None
        bias = torch.from_numpy(run.params["bias"]) if "bias" in run.params else None
        if isinstance(layer, LayerNorm):    # over the last axis: channels-last input as is
            expected = torch.nn.functional.layer_norm(t, (6,), weight, bias, float(layer.eps))
        else:                               # NCHW, as PyTorch runs it
            nchw = t.permute(2, 0, 1)[None]
            assert isinstance(layer, GroupNorm)
            out = torch.nn.functional.group_norm(nchw, int(layer.num_groups), weight, bias,
                                                 float(layer.eps))
            expected = out[0].permute(1, 2, 0)
        np.testing.assert_allclose(run.output, expected.numpy(), rtol=1e-12, atol=1e-13)
