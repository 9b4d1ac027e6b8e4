"""Inferring a convolution's kernel size from the input and output sizes it must connect.

For each spatial axis the kernel sizes ``k`` with
``floor((H + 2p − d(k − 1) − 1)/s) + 1 = H_o`` are found by inverting that formula over the
integers; every candidate is then checked against :func:`symconv.derive.conv_output_size`.
Zero fits and several fits are both errors that say what to change.

Examples
--------
>>> infer_kernel((7, 7), (5, 5))
(3, 3)
>>> infer_kernel((7, 7), (3, 3), stride=(2, 2))
Traceback (most recent call last):
...
symconv.errors.SymconvError: several kernel sizes map H=7 to H_o=3 with stride 2, padding 0, dilation 1: 2, 3; choose one with --kernel
"""

from __future__ import annotations

from symconv.errors import SymconvError
from symconv.layers.shapes import conv_output_size

__all__ = ["kernel_candidates", "infer_kernel"]

_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
_SHOWN = 8


def kernel_candidates(size: int, target: int, stride: int, padding: int, dilation: int) -> range:
    """All kernel sizes that map ``size`` to ``target`` along one axis.

    ``floor(r / s) = H_o − 1`` with ``r = H + 2p − 1 − d(k − 1)`` holds exactly when
    ``s(H_o − 1) ≤ r ≤ s(H_o − 1) + s − 1``, an interval of ``k`` solved with integer division.

    Examples
    --------
    >>> list(kernel_candidates(7, 5, 1, 0, 1))
    [3]
    >>> list(kernel_candidates(224, 112, 2, 1, 1))
    [3, 4]
    """
    reach = size + 2 * padding - 1
    highest = reach - stride * (target - 1)  # largest d(k − 1)
    lowest = max(highest - (stride - 1), 0)  # smallest d(k − 1)
    if highest < 0:
        return range(0)
    first = -(-lowest // dilation) + 1
    last = highest // dilation + 1
    return range(first, last + 1)


def infer_kernel(
    input_spatial: tuple[int, ...],
    output_spatial: tuple[int, ...],
    *,
    stride: tuple[int, ...] | None = None,
    padding: tuple[int, ...] | None = None,
    dilation: tuple[int, ...] | None = None,
) -> tuple[int, ...]:
    """The one kernel size per axis that turns ``input_spatial`` into ``output_spatial``.

    Raises
    ------
    SymconvError
        When no kernel fits an axis (with the largest output reachable), or when several do
        (listing them and asking for ``--kernel``).
    """
    dims = len(input_spatial)
    stride = stride or (1,) * dims
    padding = padding or (0,) * dims
    dilation = dilation or (1,) * dims
    names = _AXES.get(dims, tuple(f"axis{i}" for i in range(dims)))
    kernel = []
    for name, size, target, step, pad, spread in zip(
        names, input_spatial, output_spatial, stride, padding, dilation
    ):
        setting = f"stride {step}, padding {pad}, dilation {spread}"
        candidates = kernel_candidates(size, target, step, pad, spread) if target >= 1 else range(0)
        # Check what is shown against the derived formula (a range holds no surprises between).
        fits = [
            candidate for candidate in (*candidates[:_SHOWN], *candidates[-1:])
            if conv_output_size(size, candidate, step, pad, spread) == target
        ]
        if not fits:
            largest = conv_output_size(size, 1, step, pad, spread)
            raise SymconvError(
                f"no kernel size maps {name}={size} to {name}_o={target} with {setting}: "
                f"the largest output is {largest} (kernel 1); change --output, --stride or "
                "--padding"
            )
        if len(candidates) > 1:
            shown = ", ".join(str(value) for value in candidates[:_SHOWN])
            if len(candidates) > _SHOWN:
                shown += f", … ({len(candidates)} sizes, up to {candidates[-1]})"
            raise SymconvError(
                f"several kernel sizes map {name}={size} to {name}_o={target} with {setting}: "
                f"{shown}; choose one with --kernel"
            )
        kernel.append(fits[0])
    return tuple(kernel)
