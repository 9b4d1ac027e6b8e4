"""Adaptive average and max pooling: windows by PyTorch's start/end rule, counts by hand,
fast == reference == derived, values equal to PyTorch's in float64 (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import cost, execute, verify
from symconv.layers import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from symconv.layers.adaptive import window_total
from symconv.symbols import C, H, W

# (layer, input shape, expected counts) worked by hand:
# 7×5 pooled to 4×4: rows [0,2) [1,4) [3,6) [5,7) = 2+3+3+2 = 10; columns [0,2) [1,3) [2,4) [3,5)
# = 8; so 10·8 − 16 = 64 terms beyond the first of each window, per channel.
HAND = [
    (AdaptiveAvgPool2d(1), (5, 4, 3), {"adds": 3 * 19, "divs": 3}),
    (AdaptiveAvgPool2d((3, 2)), (5, 4, 2), {"adds": 2 * (7 * 4 - 6), "divs": 12}),
    (AdaptiveMaxPool2d(4), (7, 5, 2), {"comparisons": 2 * 64}),
    (AdaptiveAvgPool2d(7), (7, 7, 2), {"divs": 98}),            # windows of one element
    # 13 → 6: [0,3) [2,5) [4,7) [6,9) [8,11) [10,13), lengths 3, total 18 per axis.
    (AdaptiveAvgPool2d(6), (13, 13, 1), {"adds": 18 * 18 - 36, "divs": 36}),
]


@pytest.mark.parametrize(("layer", "shape", "expected"), HAND)
def test_counts_by_hand(layer: AdaptiveAvgPool2d, shape: tuple[int, ...],
                        expected: dict[str, int]) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13)
    assert fast.counts == reference.counts
    kinds = ("mults", "adds", "divs", "comparisons", "transcendentals")
    assert fast.counts is not None
    assert fast.counts.as_dict() == {kind: expected.get(kind, 0) for kind in kinds}
    derived = cost(layer, shape)
    assert {kind: int(getattr(derived, kind)) for kind in kinds} == fast.counts.as_dict()
    assert verify(layer, shape).ok


def test_window_totals_by_hand() -> None:
    # 13 → 6: [0,3) [2,5) [4,7) [6,9) [8,11) [10,13): six windows of 3.
    assert window_total(13, 6) == 18
    assert window_total(H, 1) == H
    c = cost(AdaptiveAvgPool2d((2, 1)), (H, W, C))
    assert c.output_shape == (2, 1, C)
    # Symbolic H pooled to 2: windows [0, ceil(H/2)) and [floor(H/2), H).
    assert sympy.simplify(c.adds - C * ((H + sympy.ceiling(H / 2) - sympy.floor(H / 2)) * W - 2)) == 0
    assert c.subs(H=7, W=3, C=2).adds == 2 * (8 * 3 - 2)
    with pytest.raises(ValueError, match="output_size"):
        cost(AdaptiveAvgPool2d(sympy.Symbol("n", positive=True, integer=True)), (H, W, C))


@pytest.mark.parametrize("output", [1, 2, 3, (5, 2), 7])
@pytest.mark.parametrize("maximum", [False, True])
def test_values_equal_torch(output: object, maximum: bool) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((7, 9, 3))
    layer = (AdaptiveMaxPool2d if maximum else AdaptiveAvgPool2d)(output)
    function = (torch.nn.functional.adaptive_max_pool2d if maximum
                else torch.nn.functional.adaptive_avg_pool2d)
    expected = function(torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()), output)
    expected = np.moveaxis(expected[0].numpy(), 0, -1)
    for method in ("fast", "reference"):
        np.testing.assert_allclose(execute(layer, x, method=method).output, expected,  # type: ignore[arg-type]
                                   rtol=1e-13, atol=1e-15)
