"""Mean over axes: counts by hand, fast == reference == derived (verify, traffic included),
values equal to PyTorch's in float64 (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.errors import SymconvError
from symconv.layers import Mean

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

# (layer, input shape, output shape, adds, divs) worked by hand.
HAND = [
    (Mean((0, 1)), (5, 4, 3), (3,), 3 * 19, 3),                  # 20 terms per channel
    (Mean((0, 1), keepdim=True), (5, 4, 3), (1, 1, 3), 3 * 19, 3),
    (Mean(0), (5, 4, 3), (4, 3), 12 * 4, 12),                     # 5 terms per (w, c)
    (Mean(-1, keepdim=True), (2, 3, 6), (2, 3, 1), 6 * 5, 6),      # 6 terms per position
    (Mean((0, -1), keepdim=True), (3, 2, 4), (1, 2, 1), 2 * 11, 2),
]


@pytest.mark.parametrize(("layer", "shape", "out", "adds", "divs"), HAND)
def test_counts_by_hand(layer: Mean, shape: tuple[int, ...], out: tuple[int, ...], adds: int,
                        divs: int) -> None:
    x = np.random.default_rng(0).standard_normal(shape)
    fast, reference = execute(layer, x), execute(layer, x, method="reference")
    assert fast.output.shape == out
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-13)
    expected = {kind: 0 for kind in KINDS} | {"adds": adds, "divs": divs}
    assert fast.counts is not None and fast.counts.as_dict() == expected
    assert reference.counts == fast.counts
    derived = cost(layer, shape)
    assert derived.output_shape == out
    assert {kind: int(getattr(derived, kind)) for kind in KINDS} == expected
    assert verify(layer, shape).ok


def test_bad_axes() -> None:
    with pytest.raises(SymconvError, match="distinct"):
        Mean((0, 0))
    with pytest.raises(SymconvError, match="out of range"):
        cost(Mean(3), (4, 4, 2))
    with pytest.raises(SymconvError, match="write it as -1"):
        cost(Mean(2, keepdim=True), (4, 4, 2))


@pytest.mark.parametrize(("axes", "dims", "keepdim"), [((0, 1), [2, 3], False),
                                                       ((0, 1), [2, 3], True),
                                                       ((-1,), [1], True)])
def test_values_equal_torch(axes: tuple[int, ...], dims: list[int], keepdim: bool) -> None:
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(2).standard_normal((5, 7, 3))
    t = torch.from_numpy(np.moveaxis(x, -1, 0)[None].copy())
    expected = t.mean(dims, keepdim=keepdim)[0].numpy()
    if expected.ndim == 3:
        expected = np.moveaxis(expected, 0, -1)
    for method in ("fast", "reference"):
        np.testing.assert_allclose(execute(Mean(axes, keepdim), x, method=method).output,
                                   expected, rtol=1e-13, atol=1e-15)
