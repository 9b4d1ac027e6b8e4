"""What the algorithms' executors share: their result, the check of their inputs, zero padding,
and the products of a grouped channel reduction done one input channel at a time."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.algorithms.ops import Complex, complex_add
from symconv.execute.counter import Array, Counter, Counts
from symconv.execute.geometry import ints
from symconv.layers.conv import ConvNd

__all__ = ["AlgorithmRun", "check_run", "padded", "bias_stage", "MAX_ELEMENTS"]

#: The most elements any array of an algorithm's run may hold (2**25 float64 values: 256 MiB).
MAX_ELEMENTS = 2**25


@dataclass(frozen=True, eq=False)
class AlgorithmRun:
    """What an algorithm computed and what it counted, stage by stage.

    Attributes
    ----------
    output
        ``float64``, channels last.
    stages
        ``(name, Counts)`` per stage, counted while that stage ran.
    counts
        The sum over the stages.
    workspace
        Elements of the scratch arrays the run filled (im2col: the column matrix; Winograd:
        the transformed tiles, weights and product sums; FFT: the three spectra, two real values
        per complex one), read from the arrays themselves.
    """

    output: Array
    stages: tuple[tuple[str, Counts], ...]
    counts: Counts
    workspace: int


def finish(output: Array, stages: list[tuple[str, Counter]], workspace: int) -> AlgorithmRun:
    counted = tuple((name, counter.counts()) for name, counter in stages)
    summed = Counts()
    for _, counts in counted:
        summed = summed + counts
    return AlgorithmRun(output=output, stages=counted, counts=summed, workspace=workspace)


def check_run(layer: ConvNd, x: Array, params: dict[str, Array], *sizes: int) -> None:
    """Refuse an input that does not fit, parameters of the wrong shapes, or arrays above
    :data:`MAX_ELEMENTS` (``sizes``: the element counts of the arrays the run will make)."""
    dims = layer.spatial_dims
    if x.ndim != (dims or 0) + 1 or x.shape[-1] != layer.in_channels:
        raise SymconvError(f"x of shape {x.shape} does not fit {type(layer).__name__} with "
                           f"in_channels={layer.in_channels}; give (spatial..., channels)")
    kernel, groups = ints(layer.kernel_size), int(layer.groups)
    expected = {"weight": (*kernel, int(layer.in_channels) // groups, int(layer.out_channels))}
    if layer.bias:
        expected["bias"] = (int(layer.out_channels),)
    for name, shape in expected.items():
        if name not in params or params[name].shape != shape:
            raise SymconvError(f"params[{name!r}] must have shape {shape}")
    biggest = max(sizes, default=0)
    if biggest > MAX_ELEMENTS:
        raise SymconvError(
            f"this run would make an array of {biggest} elements, more than {MAX_ELEMENTS}; "
            "use a smaller input or fewer channels"
        )


def padded(x: Array, before: tuple[int, ...], after: tuple[int, ...]) -> Array:
    """``x`` with zeros before and after each spatial axis (a copy: no arithmetic)."""
    return np.pad(x, [*zip(before, after), (0, 0)])


def reduce_channels(counter: Counter, products: Array, axis: int) -> Array:
    """The sum over ``axis``, one input channel at a time: ``L − 1`` additions per sum."""
    total = np.take(products, 0, axis=axis)
    for index in range(1, products.shape[axis]):
        total = counter.add(total, np.take(products, index, axis=axis))
    return total


def reduce_complex(counter: Counter, products: Complex, axis: int) -> Complex:
    """As :func:`reduce_channels`, for complex values: 2 real additions per complex one."""
    real, imaginary = products
    total = (np.take(real, 0, axis=axis), np.take(imaginary, 0, axis=axis))
    for index in range(1, real.shape[axis]):
        total = complex_add(counter, total, (np.take(real, index, axis=axis),
                                             np.take(imaginary, index, axis=axis)))
    return total


def bias_stage(layer: ConvNd, output: Array, params: dict[str, Array],
               stages: list[tuple[str, Counter]]) -> Array:
    """Add the bias (one addition per output element), as stage ``bias``, when there is one."""
    if not layer.bias:
        return output
    counter = Counter()
    stages.append(("bias", counter))
    return counter.add(output, params["bias"])


def elements(*shape: int) -> int:
    return math.prod(shape)
