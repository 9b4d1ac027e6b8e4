"""Run layers with NumPy and count the operations they really perform.

:func:`execute` evaluates a layer on a concrete channels-last ``float64`` array (no batch axis:
``(L, C)``, ``(H, W, C)``, ``(D, H, W, C)``) and counts, while it runs, the scalar operations
it performs. The counts come from the operations actually executed — the shapes of the arrays
each ``einsum``, ``matmul`` or elementwise operation is handed and returns, or one by one in the
reference executor — never from cost formulas: this package imports no :mod:`symconv.derive`, not
even through another module (``tests/test_architecture.py`` checks it), so that
:mod:`symconv.verify` can hold the two against each other.

What is counted (the same definitions as the formulas of :mod:`symconv.derive`):

* **mults** — scalar multiplications of a direct evaluation, products with padding zeros
  included. A transposed convolution in scatter form: every input element times every kernel
  weight of its group.
* **adds** — scalar additions: a dot product of L terms takes L − 1; a bias one per output
  element; in scatter form every product is added once into a zero-initialised output
  (products landing on cropped positions included).
* **divs**, **comparisons** — kept apart (no convolution performs any).

Two executors check each other, and count in two ways:

* ``method="reference"`` is plain Python loops that count every scalar multiplication,
  addition, division and comparison one at a time, where it is performed (for small shapes only:
  more than 5·10⁷ operations are refused, see :mod:`symconv.execute.budget`). It finds the output
  positions by trying window placements, not by the output-size formula.
* ``method="fast"`` (the default, and what :func:`symconv.verify` runs) is vectorised and counts
  each NumPy operation it performs — a ``matmul``, an ``einsum``, an elementwise ``multiply``,
  ``add``, ``maximum`` ... — from the shapes of its operands and result, through a
  :class:`Counter`; it never looks at single scalars. A convolution takes one of three paths:
  small ungrouped ones copy every window into one matrix for a single matmul (im2col); depthwise
  ones multiply each kernel offset's tap per channel and add it in, a block of rows at a time;
  the others run one matmul (an einsum with groups) per kernel offset, on a strided view of the
  padded input. No Python loop runs over positions or channels.

They agree on outputs to float tolerance and on counts exactly; NaN propagates through both as
in PyTorch. Complex and masked arrays are refused, not cut down.

The registry
------------
Executors are registered per layer type with :func:`functools.singledispatch`, so that a new
layer kind is three or four small functions, not an edit of this module's internals:

``parameter_shapes(layer) -> dict[str, tuple[int, ...]]``
    The name and shape of each learned tensor (``{}``, the default, for layers without any).
    :func:`execute` draws them from ``numpy.random.default_rng(seed)`` or checks the user's.
``run_fast(layer, x, params, counter) -> numpy.ndarray``
    The vectorised evaluation; it does its arithmetic through the counting helpers of
    ``counter`` (:meth:`Counter.einsum`, :meth:`Counter.matmul`, :meth:`Counter.multiply`,
    :meth:`Counter.add`, :meth:`Counter.add_into`, :meth:`Counter.divide`,
    :meth:`Counter.maximum`, :meth:`Counter.minimum`, :meth:`Counter.greater`), which call
    NumPy and count from the shapes involved.
``run_reference(layer, x, params, counter) -> numpy.ndarray``
    Plain loops over scalars; adds its tallies to ``counter.mults``, ``counter.adds``, ...

``check_fits(layer, spatial) -> None``
    Optional: raise :class:`~symconv.errors.SymconvError` when the input's spatial sizes do not
    fit the layer (by default every size fits).
``buffer_shapes(layer) -> dict[str, tuple[int, ...]]``
    Optional: tensors the layer reads that are not learned parameters (BatchNorm's running
    mean and variance). They are passed in ``execute(..., buffers=...)`` and returned in
    :attr:`Execution.buffers`, apart from the parameters, so that ``.params`` holds exactly
    what a derived cost counts as parameters.
``second_input(layer) -> str | None``
    Optional: for a stage that reads a tensor besides the previous stage's output, its name —
    ``"input"``, the input of the composite the stage belongs to (the addition closing a
    residual block), or an earlier stage of that composite (a graph's ``Reuse`` and ``Add``);
    its executors get that tensor as the keyword ``other=``.
``train_fast`` / ``train_reference`` (:mod:`symconv.execute.batchnorm_train`)
    Optional: the forward pass in training mode where it differs from inference (BatchNorm's
    batch statistics), run by ``execute(..., training=True)``; it returns the output, what it
    saves for the backward pass and the updated buffers (:attr:`Execution.saved`,
    :attr:`Execution.updated`).

``x`` arrives checked (rank, channels, sizes) and ``params`` as a dict of ``float64`` arrays of
the registered shapes, buffers included under their own names. Composites
(:class:`~symconv.layers.Composite`, anything with ``.stages``, networks included) need no
registration: :func:`execute` runs their stages in order, checks each stage's input as it
comes, and nests the parameters, buffers and results by stage name. The executors of the layers
around convolutions live beside them
(:mod:`symconv.execute.linear`, :mod:`~symconv.execute.elementwise`,
:mod:`~symconv.execute.pooling`).

Examples
--------
The founding example: a depthwise separable convolution turns 7×7×3 into 5×5×64.

>>> import numpy as np
>>> from symconv import Conv2d, DepthwiseSeparableConv2d, execute
>>> x = np.random.default_rng(0).standard_normal((7, 7, 3))
>>> execute(Conv2d(3, 64, 3), x).counts.mults
43200
>>> run = execute(DepthwiseSeparableConv2d(3, 64, 3), x)
>>> run.output.shape, run.counts.mults
((5, 5, 64), 5475)
>>> [(name, stage.counts.mults) for name, stage in run.stages]
[('depthwise', 675), ('pointwise', 4800)]
>>> run.params["depthwise"]["weight"].shape, run.params["pointwise"]["weight"].shape
((3, 3, 1, 3), (1, 1, 3, 64))

Registering an executor for a new layer (here a made-up elementwise scaling layer):

>>> from dataclasses import dataclass
>>> from symconv.layers import Layer
>>> from symconv.execute import parameter_shapes, run_fast, run_reference
>>> @dataclass(frozen=True)
... class Scale(Layer):
...     channels: int
>>> @parameter_shapes.register
... def _(layer: Scale):
...     return {"gamma": (layer.channels,)}
>>> @run_fast.register
... def _(layer: Scale, x, params, counter):
...     return counter.multiply(x, params["gamma"])
>>> run_reference.register(Scale, run_fast.dispatch(Scale))  # elementwise: the same code
<function ...>
>>> execute(Scale(3), np.ones((4, 4, 3))).counts.mults
48
"""

from __future__ import annotations

# The executors of every layer family register themselves when imported.
from symconv.execute import (  # noqa: F401
    activations,
    adaptive,
    attention,
    broadcast,
    conv,
    elementwise,
    learned,
    linear,
    movement,
    norm,
    pooling,
    products,
    reduce,
    resize,
    tokens,
    windows,
)
from symconv.execute.counter import Counter, Counts
from symconv.execute.registry import (
    METHODS,
    Array,
    Params,
    buffer_shapes,
    check_fits,
    parameter_shapes,
    run_fast,
    run_reference,
    second_input,
)
from symconv.execute.run import Execution, execute

__all__ = [
    "Counts", "Counter", "Execution", "execute",
    "parameter_shapes", "buffer_shapes", "run_fast", "run_reference", "check_fits",
    "second_input", "METHODS", "Array", "Params",
]
