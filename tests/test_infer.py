"""Kernel inference: every fitting kernel, cross-checked by brute force over the output-size formula."""

from __future__ import annotations

import pytest

from symconv import SymconvError
from symconv.derive.infer import infer_kernel, kernel_candidates


def brute_force(size: int, target: int, stride: int, padding: int, dilation: int) -> list[int]:
    # independent of the code under test: try every kernel with integer arithmetic
    return [
        kernel for kernel in range(1, size + 2 * padding + 2)
        if size + 2 * padding - dilation * (kernel - 1) - 1 >= 0
        and (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1 == target
    ]


@pytest.mark.parametrize("size", [1, 2, 5, 7, 16])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("padding", [0, 1, 2])
@pytest.mark.parametrize("dilation", [1, 2])
def test_candidates_match_brute_force(size: int, stride: int, padding: int, dilation: int) -> None:
    for target in range(1, size + 2 * padding + 2):
        assert list(kernel_candidates(size, target, stride, padding, dilation)) == brute_force(
            size, target, stride, padding, dilation
        )


def test_founding_example() -> None:
    assert infer_kernel((7, 7), (5, 5)) == (3, 3)
    assert infer_kernel((7, 9), (5, 5)) == (3, 5)
    # ResNet's stem: 224 -> 112 with stride 2, padding 3 fits kernels 7 and 8 (floor)
    with pytest.raises(SymconvError, match="7, 8; choose one"):
        infer_kernel((224, 224), (112, 112), stride=(2, 2), padding=(3, 3))
    # dilated: 7 -> 3 with d=2 needs d(k-1) = 4, so k = 3 alone
    assert infer_kernel((7, 7), (3, 3), dilation=(2, 2)) == (3, 3)


def test_several_fits_are_listed() -> None:
    with pytest.raises(SymconvError, match=r"2, 3; choose one with --kernel"):
        infer_kernel((7, 7), (3, 3), stride=(2, 2))


def test_no_fit_explains() -> None:
    with pytest.raises(SymconvError, match="the largest output is 7"):
        infer_kernel((7, 7), (8, 8))


def test_many_fits_are_summarised() -> None:
    with pytest.raises(SymconvError, match=r"… \(100 sizes, up to 100\)"):
        infer_kernel((100, 100), (1, 1), stride=(1000, 1000))
