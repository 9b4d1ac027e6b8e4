"""The executor registry: per layer type, its parameter and buffer shapes, its fast and
reference executors, its fit check and its second input (see :mod:`symconv.execute`)."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import Any, Literal, TypeAlias

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.layers import (
    Layer,
)

__all__ = [
    "parameter_shapes", "buffer_shapes", "run_fast", "run_reference", "check_fits", "second_input",
    "METHODS", "Array", "Params",
]


#: The executors :func:`execute` can run.
METHODS = ("fast", "reference")

Method: TypeAlias = Literal["fast", "reference"]
#: Parameters of one layer, or of a composite nested by stage name.
Params: TypeAlias = dict[str, Any]

# --------------------------------------------------------------------------- the registry


@functools.singledispatch
def parameter_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """The name and shape of each learned tensor of a single layer (none by default).

    Examples
    --------
    >>> from symconv import Conv2d, ConvTranspose2d
    >>> parameter_shapes(Conv2d(6, 4, (3, 2), groups=2, bias=True))
    {'weight': (3, 2, 3, 4), 'bias': (4,)}
    >>> parameter_shapes(ConvTranspose2d(6, 4, 3, groups=2))
    {'weight': (3, 3, 6, 2)}
    """
    return {}


@functools.singledispatch
def buffer_shapes(layer: Layer) -> dict[str, tuple[int, ...]]:
    """The name and shape of each buffer of a single layer: a tensor it reads that is not a
    learned parameter (none by default).

    Buffers are kept apart from :func:`parameter_shapes` so that the parameters of an execution
    are exactly those a derived cost counts. When not given they are drawn
    uniformly from [0.5, 1.5) (positive, as a running variance must be).

    Examples
    --------
    >>> from symconv import BatchNorm2d, Conv2d
    >>> buffer_shapes(BatchNorm2d(8)), buffer_shapes(Conv2d(3, 8, 3))
    ({'running_mean': (8,), 'running_var': (8,)}, {})
    """
    return {}


@functools.singledispatch
def second_input(layer: Layer) -> str | None:
    """The name of the tensor a stage reads besides the previous stage's output, if any.

    ``"input"`` is the input of the composite the stage belongs to: the addition closing a
    residual block (:class:`~symconv.layers.ResidualAdd`) adds the block's input to the
    block's output. Any other name is an earlier stage of the same composite, whose output is
    read (a :class:`~symconv.layers.Graph`'s ``Reuse`` and ``Add``). The composite runner calls
    the executors of such a stage with one more keyword argument, ``other=``, that tensor:
    ``run_fast(layer, x, params, counter, other=...)``. ``None`` (the default): none.

    Examples
    --------
    >>> from symconv.layers import ReLU, ResidualAdd
    >>> second_input(ResidualAdd()), second_input(ReLU())
    ('input', None)
    """
    return None


@functools.singledispatch
def run_fast(layer: Layer, x: Array, params: Params, counter: Counter) -> Array:
    """The vectorised executor of a single layer (registered per layer type)."""
    raise SymconvError(
        f"layer={type(layer).__name__} has no executor; register one with "
        "symconv.execute.run_fast.register (see the symconv.execute docstring)"
    )


@functools.singledispatch
def run_reference(layer: Layer, x: Array, params: Params, counter: Counter) -> Array:
    """The plain-loop reference executor of a single layer (registered per layer type)."""
    raise SymconvError(
        f"layer={type(layer).__name__} has no reference executor; register one with "
        "symconv.execute.run_reference.register (see the symconv.execute docstring)"
    )


@functools.singledispatch
def check_fits(layer: Layer, spatial: tuple[int, ...]) -> None:
    """Raise :class:`SymconvError` when an input of these spatial sizes does not fit the layer.

    Every size fits by default; convolutions check that the padded input holds the dilated
    kernel, transposed ones that the padding leaves an output.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> check_fits(Conv2d(3, 8, 3, padding=1), (1, 1))
    >>> check_fits(Conv2d(3, 8, 5), (7, 4))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: x has size 4 along W, but kernel_size=5 with dilation=1 spans 5 > 4 + 2·0 (padding); ...
    """


_RUNNERS = {"fast": run_fast, "reference": run_reference}


# --------------------------------------------------------------------------- convolution


# --------------------------------------------------------------------------- reference helpers


def _positions(shape: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    return itertools.product(*(range(size) for size in shape))


def _from_rows(rows: list[list[float]], shape: tuple[int, ...]) -> Array:
    return np.array(rows, dtype=np.float64).reshape(shape)


# --------------------------------------------------------------------------- Linear
