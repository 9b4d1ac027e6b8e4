"""AvgPool2d and MaxPool2d with ceil_mode, count_include_pad and divisor_override: output sizes
and counts by hand, fast == reference == derived (verify), values equal to PyTorch's in float64
(skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import AvgPool2d, Layer, MaxPool2d
from symconv.symbols import H

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

# By hand. 5×5, k=2, s=2, ceil: windows start at 0, 2, 4 (the last at 4 < 5 + 0): 3×3 outputs.
# 6×6, k=3, s=2, p=1, ceil: R = 6 + 2 - 3 = 5, ceil(5/2) = 3, but 3·2 = 6 >= 6 + 1 is false:
# 4 outputs (starts 0, 2, 4, 6 in the padded 8; the last reaches 8, one past).
# 5×5, k=1, s=3, ceil: R = 4, ceil(4/3) = 2, 2·3 = 6 >= 5: one fewer, 2 outputs (PyTorch's rule).
HAND = [
    (MaxPool2d(2, ceil_mode=True), (5, 5, 2), (3, 3, 2), {"comparisons": 18 * 3}),
    (AvgPool2d(3, 2, 1, ceil_mode=True), (6, 6, 1), (4, 4, 1), {"adds": 16 * 8, "divs": 16}),
    (AvgPool2d(1, 3, ceil_mode=True), (5, 5, 1), (2, 2, 1), {"divs": 4}),
    (AvgPool2d(3, 2, 1, count_include_pad=False), (5, 5, 2), (3, 3, 2),
     {"adds": 18 * 8, "divs": 18}),
    (AvgPool2d(2, divisor_override=3), (4, 4, 1), (2, 2, 1), {"adds": 12, "divs": 4}),
]


@pytest.mark.parametrize(("layer", "shape", "out", "expected"), HAND)
def test_counts_by_hand(layer: Layer, shape: tuple[int, ...], out: tuple[int, ...],
                        expected: dict[str, int]) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    assert fast.output.shape == out
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13)
    full = {kind: expected.get(kind, 0) for kind in KINDS}
    assert fast.counts is not None and fast.counts.as_dict() == full
    assert reference.counts == fast.counts
    derived = cost(layer, shape)
    assert derived.output_shape == out
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == full
    assert verify(layer, shape).ok


def test_symbolic_ceil_size() -> None:
    size = cost(MaxPool2d(3, 2, ceil_mode=True), (H, H, 4)).output_shape[0]
    # PyTorch's rule for every H from 3 to 40
    for n in range(3, 41):
        expected = -(-(n - 3) // 2) + 1
        if (expected - 1) * 2 >= n:
            expected -= 1
        assert size.subs(H, n) == expected
    assert isinstance(size, sympy.Expr)
    with pytest.raises(SymconvError, match="ceil_mode"):
        MaxPool2d(2, ceil_mode=1)  # type: ignore[arg-type]


CASES = [
    (dict(kernel_size=3, stride=2, ceil_mode=True), (7, 8, 2)),       # SqueezeNet's, GoogLeNet's
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (6, 9, 2)),
    (dict(kernel_size=3, stride=1, padding=1, count_include_pad=False), (5, 6, 2)),  # Inception
    (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (6, 7, 1)),
    (dict(kernel_size=2, stride=2, divisor_override=5), (4, 6, 1)),
]


@pytest.mark.parametrize(("options", "shape"), CASES)
@pytest.mark.parametrize("maximum", [False, True])
def test_values_equal_torch(options: dict[str, object], shape: tuple[int, ...],
                            maximum: bool) -> None:
    torch = pytest.importorskip("torch")
    if maximum and ("count_include_pad" in options or "divisor_override" in options):
        pytest.skip("average pooling options")
    x = np.random.default_rng(2).standard_normal(shape)
    layer = (MaxPool2d if maximum else AvgPool2d)(**options)  # type: ignore[arg-type]
    module = (torch.nn.MaxPool2d if maximum else torch.nn.AvgPool2d)(**options)
    expected = module(torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy()))
    expected = np.moveaxis(expected[0].numpy(), 0, -1)
    for method in ("fast", "reference"):
        np.testing.assert_allclose(execute(layer, x, method=method).output, expected,  # type: ignore[arg-type]
                                   rtol=1e-13, atol=1e-15)
    assert cost(layer, shape).output_shape == expected.shape
    assert verify(layer, shape).ok
