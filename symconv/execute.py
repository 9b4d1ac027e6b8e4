"""Run layers with NumPy and count the operations they really perform.

:func:`execute` evaluates a layer on a concrete channels-last ``float64`` array (no batch axis:
``(L, C)``, ``(H, W, C)``, ``(D, H, W, C)``) and counts, while it runs, the scalar operations
it performs. The counts come from the operations actually executed — the shapes of the arrays
each ``einsum``, ``matmul`` or elementwise operation is handed and returns, or one by one in the
reference executor — never from cost formulas: this module does not import :mod:`symconv.derive`, so
that :mod:`symconv.verify` can hold the two against each other.

What is counted (the same definitions as the formulas of :mod:`symconv.derive`):

* **mults** — scalar multiplications of a direct evaluation, products with padding zeros
  included. A transposed convolution in scatter form: every input element times every kernel
  weight of its group.
* **adds** — scalar additions: a dot product of L terms takes L − 1; a bias one per output
  element; in scatter form every product is added once into a zero-initialised output
  (products landing on cropped positions included).
* **divs**, **comparisons** — kept apart (no convolution performs any).

Two executors check each other: ``method="reference"`` is plain Python loops that count every
scalar multiplication and addition one at a time (for small shapes only), and
``method="fast"`` (the default) is vectorised — for each kernel offset, one strided view of
every window's tap times that offset's weights through ``matmul``/``einsum``; no Python loop over
positions or channels — and counts from the operand shapes through a :class:`Counter`. They
agree on outputs to float tolerance and on counts exactly.

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

``x`` arrives checked (rank, channels, sizes) and ``params`` as a dict of ``float64`` arrays of
the registered shapes, buffers included under their own names. Composites
(:class:`~symconv.layers.Composite`, anything with ``.stages``, networks included) need no
registration: :func:`execute` runs their stages in order, checks each stage's input as it
comes, and nests the parameters, buffers and results by stage name. The executors of the layers
around convolutions (:mod:`symconv.nnlayers`) live in :mod:`symconv.nnexecute`.

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

import dataclasses
import functools
import itertools
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeAlias

import numpy as np
import sympy

from symconv.errors import SymconvError
from symconv.layers import Composite, ConvNd, ConvTransposeNd, Layer
from symconv.sizes import Size

__all__ = [
    "Counts", "Counter", "Execution", "execute",
    "parameter_shapes", "buffer_shapes", "run_fast", "run_reference", "check_fits",
    "second_input", "METHODS",
]

#: The executors :func:`execute` can run.
METHODS = ("fast", "reference")

Method: TypeAlias = Literal["fast", "reference"]
#: Parameters of one layer, or of a composite nested by stage name.
Params: TypeAlias = dict[str, Any]
Array: TypeAlias = np.ndarray

_AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
# Letters for einsum specifications: output (or input) positions, kernel offsets.
_POSITION_LETTERS = "uvwxyz"
_KERNEL_LETTERS = "ijklst"


@dataclass(frozen=True)
class Counts:
    """Scalar operations counted while a layer ran.

    Attributes
    ----------
    mults, adds
        Scalar multiplications and additions (see the module docstring for what is counted).
    divs, comparisons
        Divisions and comparisons, kept apart from the two above.

    Examples
    --------
    >>> Counts(mults=3, adds=2) + Counts(mults=1, comparisons=4)
    Counts(mults=4, adds=2, divs=0, comparisons=4)
    >>> Counts(mults=3, adds=2).as_dict()
    {'mults': 3, 'adds': 2, 'divs': 0, 'comparisons': 0}
    """

    mults: int = 0
    adds: int = 0
    divs: int = 0
    comparisons: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            mults=self.mults + other.mults,
            adds=self.adds + other.adds,
            divs=self.divs + other.divs,
            comparisons=self.comparisons + other.comparisons,
        )

    def as_dict(self) -> dict[str, int]:
        """The four counts as a dict, in report order."""
        return dataclasses.asdict(self)


def _size(shape: Sequence[int]) -> int:
    return math.prod(shape)


@functools.lru_cache(maxsize=256)
def _parse_einsum(spec: str, operands: int) -> tuple[tuple[str, ...], str]:
    inputs, arrow, output = spec.replace(" ", "").partition("->")
    terms = tuple(inputs.split(","))
    if not arrow or "." in spec or len(terms) != operands:
        raise ValueError(f"einsum spec {spec!r} must be explicit ('ab,bc->ac') and name each of "
                         f"the {operands} operands")
    return terms, output


class Counter:
    """Tallies scalar operations; its helpers call NumPy and count from the shapes involved.

    Parameters
    ----------
    enabled
        With ``False`` the helpers only compute (to measure what counting costs).

    Examples
    --------
    >>> import numpy as np
    >>> counter = Counter()
    >>> a, b = np.ones((4, 5)), np.ones((5, 6))
    >>> counter.einsum("ik,kj->ij", a, b).shape   # 4·6 dot products of 5 terms
    (4, 6)
    >>> counter.counts()
    Counts(mults=120, adds=96, divs=0, comparisons=0)
    """

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.mults = 0
        self.adds = 0
        self.divs = 0
        self.comparisons = 0

    def counts(self) -> Counts:
        """A snapshot of the tallies."""
        return Counts(self.mults, self.adds, self.divs, self.comparisons)

    def einsum(self, spec: str, *operands: Array) -> Array:
        """``numpy.einsum`` with an explicit ``->``, counting from the operand shapes.

        Every point of the joint index space multiplies its ``n`` operands together
        (``n − 1`` multiplications); every output element sums the products of the indices
        summed over (``R`` terms, ``R − 1`` additions).

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.einsum("i,i->", np.arange(3.0), np.arange(3.0))   # 3 mults, 2 adds
        array(5.)
        >>> counter.einsum("ij->i", np.ones((2, 4)))                  # 2 sums of 4 terms
        array([4., 4.])
        >>> counter.mults, counter.adds
        (3, 8)
        """
        if self.enabled:
            terms, output = _parse_einsum(spec, len(operands))
            extents: dict[str, int] = {}
            for term, operand in zip(terms, operands):
                if len(term) != operand.ndim:
                    raise ValueError(f"einsum term {term!r} does not fit shape {operand.shape}")
                for letter, extent in zip(term, operand.shape):
                    extents[letter] = max(extents.get(letter, 1), int(extent))  # 1 broadcasts
            everything = _size(list(extents.values()))
            kept = _size([extents[letter] for letter in output])
            summed = everything // kept if kept else 0
            self.mults += (len(operands) - 1) * everything
            self.adds += kept * (summed - 1) if summed else 0
        return np.einsum(spec, *operands, optimize=len(operands) > 1)

    def matmul(self, a: Array, b: Array, *, out: Array | None = None) -> Array:
        """``a @ b`` (into ``out`` if given): each result element is a dot product of ``a.shape[-1]`` terms.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.matmul(np.ones((2, 3, 4)), np.ones((4, 5))).shape
        (2, 3, 5)
        >>> counter.mults, counter.adds   # 2·3·5 dot products of 4 terms
        (120, 90)
        """
        out = np.matmul(a, b, out=out)
        if self.enabled:
            terms = np.shape(a)[-1]
            self.mults += out.size * terms
            self.adds += out.size * (terms - 1)
        return out

    def _elementwise(self, operation: np.ufunc, kind: str, a: Array | float, b: Array | float,
                     out: Array | None = None) -> Array:
        """Apply a binary ufunc (into ``out`` if given), counting one ``kind`` per element of the
        broadcast result."""
        result: Array = operation(a, b) if out is None else operation(a, b, out=out)
        if self.enabled:
            setattr(self, kind, getattr(self, kind) + np.size(result))
        return result

    def multiply(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a * b``: one multiplication per element of the broadcast result."""
        return self._elementwise(np.multiply, "mults", a, b, out)

    def add(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a + b``: one addition per element of the broadcast result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.add(np.ones((5, 5, 4)), np.ones(4)).shape   # a bias: one add per element
        (5, 5, 4)
        >>> counter.adds
        100
        """
        return self._elementwise(np.add, "adds", a, b, out)

    def add_into(self, target: Array, values: Array) -> None:
        """``target += values`` in place: one addition per element of ``target``.

        Examples
        --------
        >>> import numpy as np
        >>> counter, target = Counter(), np.zeros((3, 2))
        >>> counter.add_into(target[::2], np.ones(2))
        >>> counter.adds, float(target.sum())
        (4, 4.0)
        """
        if self.enabled:
            self.adds += target.size
        np.add(target, values, out=target)

    def divide(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``a / b``: one division per element of the broadcast result."""
        return self._elementwise(np.divide, "divs", a, b, out)

    def greater(self, a: Array, b: Array | float) -> Array:
        """Elementwise ``a > b`` (a boolean mask): one comparison per element of the result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.greater(np.array([-1.0, 2.0]), 0.0), counter.comparisons
        (array([False,  True]), 2)
        """
        return self._elementwise(np.greater, "comparisons", a, b)

    def minimum(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``min(a, b)``: one comparison per element of the broadcast result."""
        return self._elementwise(np.minimum, "comparisons", a, b, out)

    def maximum(self, a: Array, b: Array | float, *, out: Array | None = None) -> Array:
        """Elementwise ``max(a, b)`` (into ``out`` if given): one comparison per element of the
        broadcast result.

        Examples
        --------
        >>> import numpy as np
        >>> counter = Counter()
        >>> counter.maximum(np.array([1.0, 5.0]), np.array([3.0, 2.0]))
        array([3., 5.])
        >>> counter.divide(np.ones(3), 2.0)
        array([0.5, 0.5, 0.5])
        >>> counter.comparisons, counter.divs
        (2, 3)
        """
        return self._elementwise(np.maximum, "comparisons", a, b, out)


@dataclass(frozen=True, eq=False)
class Execution:
    """The result of :func:`execute`: what a layer computed and what it cost to compute it.

    Attributes
    ----------
    output
        The output, ``float64``, channels last.
    counts
        The scalar operations counted while running (``None`` when run with ``count=False``);
        for a composite the sum over its stages.
    params
        The parameters used: ``{"weight": ..., "bias": ...}`` for one convolution, nested by
        stage name for a composite.
    buffers
        The other tensors a layer reads that are not learned parameters, nested as ``params``:
        BatchNorm's ``{"running_mean": ..., "running_var": ...}``; ``{}`` for layers without.
    stages
        ``(name, Execution)`` for each stage of a composite; empty for a single layer.
    layer
        The layer that ran.
    method
        ``"fast"`` or ``"reference"``.
    """

    output: Array
    counts: Counts | None
    params: Params
    stages: tuple[tuple[str, Execution], ...]
    layer: Layer
    method: str
    buffers: Params = dataclasses.field(default_factory=dict)


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
    residual block (:class:`~symconv.nnlayers.ResidualAdd`) adds the block's input to the
    block's output. Any other name is an earlier stage of the same composite, whose output is
    read (a :class:`~symconv.graph.Graph`'s ``Reuse`` and ``Add``). The composite runner calls
    the executors of such a stage with one more keyword argument, ``other=``, that tensor:
    ``run_fast(layer, x, params, counter, other=...)``. ``None`` (the default): none.

    Examples
    --------
    >>> from symconv.nnlayers import ReLU, ResidualAdd
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


def _ints(values: Sequence[Size]) -> tuple[int, ...]:
    return tuple(int(value) for value in values)


class _Windowed(Protocol):
    """A layer that slides a window: a convolution, or a pooling layer."""

    @property
    def kernel_size(self) -> tuple[Size, ...]: ...
    @property
    def stride(self) -> tuple[Size, ...]: ...
    @property
    def padding(self) -> tuple[Size, ...]: ...
    @property
    def dilation(self) -> tuple[Size, ...]: ...


def _conv_geometry(layer: _Windowed, spatial: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Kernel, stride, padding, dilation, the span of a window (``reach``) and the output sizes."""
    kernel, stride = _ints(layer.kernel_size), _ints(layer.stride)
    padding, dilation = _ints(layer.padding), _ints(layer.dilation)
    reach = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    output = tuple((n + 2 * p - r) // s + 1 for n, p, r, s in zip(spatial, padding, reach, stride))
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation,
            "reach": reach, "output": output}


def _check_window_fits(layer: _Windowed, spatial: tuple[int, ...]) -> None:
    """The padded input must hold one (dilated) window along every axis."""
    geometry = _conv_geometry(layer, spatial)
    for axis, size in enumerate(spatial):
        padding, reach = geometry["padding"][axis], geometry["reach"][axis]
        if size + 2 * padding < reach:
            raise SymconvError(
                f"x has size {size} along {_axis_name(len(spatial), axis)}, but "
                f"kernel_size={geometry['kernel'][axis]} with dilation="
                f"{geometry['dilation'][axis]} spans {reach} > {size} + 2·{padding} (padding); "
                "use a larger input, a smaller kernel or dilation, or more padding"
            )


check_fits.register(ConvNd, _check_window_fits)


def _conv_parameter_shapes(layer: ConvNd | ConvTransposeNd) -> dict[str, tuple[int, ...]]:
    shapes = {"weight": _ints(layer.weight_shape)}
    if layer.bias:
        shapes["bias"] = (int(layer.out_channels),)
    return shapes


parameter_shapes.register(ConvNd, _conv_parameter_shapes)
parameter_shapes.register(ConvTransposeNd, _conv_parameter_shapes)


_SCRATCH = threading.local()  # one set of scratch arrays per thread: no thread sees another's
_WORKSPACE_LIMIT = 8


def _workspace(role: str, shape: tuple[int, ...], fill: float | None = None) -> Array:
    """A float64 scratch array kept between calls, for intermediate results only.

    Touching freshly allocated memory is slow (page faults), so the fast executor keeps a few
    scratch arrays of the shapes it last used, keyed by their role. ``fill`` marks arrays whose
    untouched parts (the border of a padded input) must keep that value: they are made once
    filled with it, and callers only ever overwrite the interior. Never returned to users.
    """
    arrays: dict[tuple[object, ...], Array] = _SCRATCH.__dict__.setdefault("arrays", {})
    key = (role, shape, fill)
    array = arrays.get(key)
    if array is None:
        if len(arrays) >= _WORKSPACE_LIMIT:
            arrays.pop(next(iter(arrays)))  # the oldest
        array = np.empty(shape) if fill is None else np.full(shape, fill)
        arrays[key] = array
    return array


def _zero_padded(x: Array, padding: tuple[int, ...]) -> Array:
    """``x`` zero-padded on every spatial axis, in a scratch array whose border stays zero."""
    shape = (*(size + 2 * pad for size, pad in zip(x.shape[:-1], padding)), x.shape[-1])
    padded = _workspace(f"padded{padding}", shape, fill=0.0)
    padded[tuple(slice(pad, pad + size) for pad, size in zip(padding, x.shape[:-1]))] = x
    return padded


def _grouped_matmul(counter: Counter, inputs: Array, weight: Array, groups: int,
                    out: Array | None = None) -> Array:
    """``inputs (..., M) × weight (g, M/g, N/g) -> (..., N)``: channel group by channel group.

    Each output element is a dot product over the ``M/g`` input channels of its group. Without
    groups the result may be written into ``out``, a reused buffer.
    """
    if groups == 1:
        return counter.matmul(inputs, weight[0], out=out)
    spread = inputs.reshape(*inputs.shape[:-1], groups, -1)
    return counter.einsum("...gm,gmn->...gn".replace("...", _POSITION_LETTERS[:inputs.ndim - 1]),
                          spread, weight).reshape(*inputs.shape[:-1], -1)


def _kernel_offsets(kernel: tuple[int, ...]) -> Iterator[tuple[int, ...]]:
    """Every offset of a kernel window, in row-major order."""
    return itertools.product(*(range(size) for size in kernel))


def _taps(offset: tuple[int, ...], dilation: tuple[int, ...], stride: tuple[int, ...],
          count: tuple[int, ...]) -> tuple[slice, ...]:
    """The ``count`` positions ``i·d + o·s`` (``o < count``) along each axis, as slices."""
    return tuple(slice(i * d, i * d + (n - 1) * s + 1, s)
                 for i, d, s, n in zip(offset, dilation, stride, count))


@run_fast.register
def _(layer: ConvNd, x: Array, params: Params, counter: Counter) -> Array:
    """Vectorised over positions and channels; a loop over kernel offsets only.

    For each kernel offset a strided view of the padded input (one tap of every window) is
    multiplied by that offset's weights and summed over the group's input channels; the
    partial sums of the ``k_h·k_w`` offsets are then added up, so that a dot product of ``L``
    terms takes ``L − 1`` additions, as in a direct evaluation.
    """
    geometry = _conv_geometry(layer, x.shape[:-1])
    groups = int(layer.groups)
    padded = _zero_padded(x, geometry["padding"]) if any(geometry["padding"]) else x
    weight = params["weight"]
    # (..., M/g, N) -> (..., g, M/g, N/g): output channel n belongs to group n // (N/g).
    weight = np.moveaxis(weight.reshape(*weight.shape[:-1], groups, -1), -2, -3)
    out: Array | None = None
    part: Array | None = None  # reused for each offset's product: fresh memory is slow to touch
    for offset in _kernel_offsets(geometry["kernel"]):
        window = padded[_taps(offset, geometry["dilation"], geometry["stride"], geometry["output"])]
        if out is None:
            out = _grouped_matmul(counter, window, weight[offset], groups)
            part = _workspace("product", out.shape) if groups == 1 else None
        else:
            counter.add_into(out, _grouped_matmul(counter, window, weight[offset], groups, out=part))
    assert out is not None
    if layer.bias:
        out = counter.add(out, params["bias"])
    return out


@run_reference.register
def _(layer: ConvNd, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: every output element is a dot product, accumulated one product at a time."""
    dims = x.ndim - 1
    geometry = _conv_geometry(layer, x.shape[:-1])
    padded = np.pad(x, [(p, p) for p in geometry["padding"]] + [(0, 0)])
    values, steps = padded.ravel().tolist(), _row_major_steps(padded.shape)
    weight = params["weight"]
    taps, weights = weight.ravel().tolist(), _row_major_steps(weight.shape)
    bias = params["bias"].tolist() if layer.bias else None
    channels_out = weight.shape[-1]
    per_group_in = weight.shape[-2]
    per_group_out = channels_out // int(layer.groups)
    out = np.zeros((*geometry["output"], channels_out))
    mults = adds = 0
    for position in itertools.product(*(range(size) for size in geometry["output"])):
        for n in range(channels_out):
            first_channel = (n // per_group_out) * per_group_in
            total: float | None = None
            for offset in _kernel_offsets(geometry["kernel"]):
                base = sum(
                    (o * s + i * d) * step for o, s, i, d, step in zip(
                        position, geometry["stride"], offset, geometry["dilation"], steps)
                )
                tap = sum(i * step for i, step in zip(offset, weights))
                for m in range(per_group_in):
                    product = values[base + (first_channel + m) * steps[dims]] * taps[
                        tap + m * weights[dims] + n]
                    mults += 1
                    if total is None:
                        total = product
                    else:
                        total += product
                        adds += 1
            assert total is not None
            if bias is not None:
                total += bias[n]
                adds += 1
            index = (*position, n)
            out[index] = total
    counter.mults += mults
    counter.adds += adds
    return out


def _row_major_steps(shape: tuple[int, ...]) -> tuple[int, ...]:
    """How far one step along each axis moves in the flattened (row-major) array."""
    steps = [1] * len(shape)
    for axis in range(len(shape) - 2, -1, -1):
        steps[axis] = steps[axis + 1] * shape[axis + 1]
    return tuple(steps)


# --------------------------------------------------------------------------- transposed


def _transposed_geometry(
    layer: ConvTransposeNd, spatial: tuple[int, ...]
) -> dict[str, tuple[int, ...]]:
    kernel, stride = _ints(layer.kernel_size), _ints(layer.stride)
    padding, dilation = _ints(layer.padding), _ints(layer.dilation)
    extra = _ints(layer.output_padding)
    # Every product lands in `full` (before cropping `padding` off each side).
    full = tuple(
        (n - 1) * s + d * (k - 1) + 1 + a
        for n, s, d, k, a in zip(spatial, stride, dilation, kernel, extra)
    )
    output = tuple(f - 2 * p for f, p in zip(full, padding))
    return {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation,
            "full": full, "output": output}


@check_fits.register
def _(layer: ConvTransposeNd, spatial: tuple[int, ...]) -> None:
    geometry = _transposed_geometry(layer, spatial)
    for axis, size in enumerate(geometry["output"]):
        if size < 1:
            padding = geometry["padding"][axis]
            raise SymconvError(
                f"padding={padding} crops the whole output along "
                f"{_axis_name(len(spatial), axis)} (output size {size}); use padding of at most "
                f"{(size + 2 * padding - 1) // 2}, or a larger input"
            )


@run_fast.register
def _(layer: ConvTransposeNd, x: Array, params: Params, counter: Counter) -> Array:
    """Scatter form, vectorised over positions and channels; a loop over kernel offsets only.

    For each kernel offset, one matmul (an einsum with groups) multiplies every input element
    by the weights of its group and sums over the group's input channels; the sums are then
    added into the zero-initialised output. Per output channel and offset that is ``M/g``
    products accumulated with ``M/g − 1 + 1`` additions — exactly one addition per product, as
    in scatter form.
    """
    geometry = _transposed_geometry(layer, x.shape[:-1])
    groups = int(layer.groups)
    weight = params["weight"]
    # (..., M, N/g) -> (..., g, M/g, N/g): input channel c belongs to group c // (M/g).
    weight = weight.reshape(*weight.shape[:-2], groups, -1, weight.shape[-1])
    full = np.zeros((*geometry["full"], groups * weight.shape[-1]))
    part = np.empty((*x.shape[:-1], full.shape[-1])) if groups == 1 else None  # reused
    for offset in _kernel_offsets(geometry["kernel"]):
        landing = _taps(offset, geometry["dilation"], geometry["stride"], x.shape[:-1])
        counter.add_into(full[landing], _grouped_matmul(counter, x, weight[offset], groups, out=part))
    kept = tuple(slice(p, p + o) for p, o in zip(geometry["padding"], geometry["output"]))
    out = full[kept]
    if layer.bias:
        out = counter.add(out, params["bias"])
    return out


@run_reference.register
def _(layer: ConvTransposeNd, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops in scatter form: every product is added into the zero-initialised output."""
    geometry = _transposed_geometry(layer, x.shape[:-1])
    weight = params["weight"]
    channels_in, per_group_out = weight.shape[-2], weight.shape[-1]
    per_group_in = channels_in // int(layer.groups)
    channels_out = per_group_out * int(layer.groups)
    full = np.zeros((*geometry["full"], channels_out)).tolist()
    values = x.tolist()
    taps = weight.tolist()
    mults = adds = 0
    for position in itertools.product(*(range(size) for size in x.shape[:-1])):
        row = _at(values, position)
        for c in range(channels_in):
            first_out = (c // per_group_in) * per_group_out
            for offset in _kernel_offsets(geometry["kernel"]):
                target = _at(full, tuple(
                    h * s + i * d
                    for h, s, i, d in zip(position, geometry["stride"], offset, geometry["dilation"])
                ))
                kernel_row = _at(taps, offset)[c]
                for o in range(per_group_out):
                    product = row[c] * kernel_row[o]
                    mults += 1
                    target[first_out + o] += product
                    adds += 1
    kept = tuple(slice(p, p + o) for p, o in zip(geometry["padding"], geometry["output"]))
    out = np.ascontiguousarray(np.array(full)[kept])
    if layer.bias:
        bias = params["bias"].tolist()
        flat = out.reshape(-1, channels_out)
        for element in range(flat.shape[0]):
            for n in range(channels_out):
                flat[element, n] += bias[n]
                adds += 1
    counter.mults += mults
    counter.adds += adds
    return out


def _at(nested: Any, index: tuple[int, ...]) -> Any:
    for i in index:
        nested = nested[i]
    return nested


# --------------------------------------------------------------------------- checking


def _axis_name(dims: int, axis: int) -> str:
    return _AXES.get(dims, tuple(f"axis {i}" for i in range(dims)))[axis]


def _symbols_in(value: object) -> set[sympy.Symbol]:
    if isinstance(value, sympy.Basic):
        return set(value.free_symbols)
    if isinstance(value, (tuple, list)):
        return set().union(*(_symbols_in(item) for item in value))
    return set()


def _check_concrete(layer: Layer, path: tuple[str, ...] = ()) -> None:
    """Raise when a single layer, or any stage of a composite, has symbolic sizes."""
    if isinstance(layer, Composite):
        for name, stage in layer.stages:
            _check_concrete(stage, (*path, name))
        return
    if not dataclasses.is_dataclass(layer):
        return
    found: set[sympy.Symbol] = set()
    for field in dataclasses.fields(layer):
        found |= _symbols_in(getattr(layer, field.name))
    if found:
        names = ", ".join(sorted(str(symbol) for symbol in found))
        where = f" (stage {'.'.join(path)})" if path else ""
        raise SymconvError(
            f"layer={layer!r}{where} has symbolic sizes ({names}); execute needs numbers: build "
            f"the layer with ints (substitute a number for {names}), e.g. Conv2d(3, 64, 3)"
        )


def _check_input(layer: Layer, x: object) -> Array:
    try:
        array = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SymconvError(f"x must be an array of real numbers: {error}") from None
    name = type(layer).__name__
    dims = layer.spatial_dims
    if dims is not None and array.ndim != dims + 1:
        axes = ", ".join((*_AXES.get(dims, ()), "C"))
        hint = "; no batch axis: run one example at a time" if array.ndim == dims + 2 else ""
        raise SymconvError(
            f"x has shape {array.shape} but {name} needs {dims + 1} axes ({axes}), "
            f"channels last{hint}"
        )
    if array.ndim == 0 or 0 in array.shape:
        raise SymconvError(
            f"x has shape {array.shape}; it needs a channel axis (last) and no axis of size 0"
        )
    expected = layer.in_channels_expected()
    if expected is not None and array.shape[-1] != expected:
        raise SymconvError(
            f"x has shape {array.shape}: {array.shape[-1]} channels, but {name} expects "
            f"in_channels={expected}; channels go last"
        )
    check_fits(layer, array.shape[:-1])
    return array


#: What a layer holds besides its input, by the name of ``execute``'s argument: the registry
#: of its shapes.
_HELD = {"params": parameter_shapes, "buffers": buffer_shapes}
_SINGULAR = {"params": "parameter", "buffers": "buffer"}
_PLURAL = {"params": "parameters", "buffers": "buffers"}


def _key_path(path: tuple[str, ...], root: str = "params") -> str:
    return root + "".join(f"[{key!r}]" for key in path)


def _holds(layer: Layer, root: str) -> bool:
    """Whether a layer, or any stage of a composite, has parameters (``root="params"``) or
    buffers (``"buffers"``)."""
    if isinstance(layer, Composite):
        return any(_holds(stage, root) for _, stage in layer.stages)
    return bool(_HELD[root](layer))


def _draw(root: str, shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    if root == "buffers":
        return rng.uniform(0.5, 1.5, shape)
    return rng.standard_normal(shape)


def _held(layer: Layer, given: object, rng: np.random.Generator, path: tuple[str, ...],
          root: str) -> Params:
    """Draw a single layer's parameters or buffers, or check and convert the user's."""
    shapes = _HELD[root](layer)
    if given is None:
        return {name: _draw(root, shape, rng) for name, shape in shapes.items()}
    if not isinstance(given, Mapping):
        raise SymconvError(
            f"{_key_path(path, root)} must be a dict of arrays with keys {sorted(shapes)}, "
            f"not {type(given).__name__}"
        )
    extra = sorted(set(given) - set(shapes))
    if extra:
        raise SymconvError(
            f"{_key_path((*path, extra[0]), root)} is not a {_SINGULAR[root]} of {layer!r}; "
            f"its keys are {sorted(shapes)}"
        )
    held: Params = {}
    for name, shape in shapes.items():
        where = _key_path((*path, name), root)
        if name not in given:
            raise SymconvError(f"{where} is missing: {layer!r} needs an array of shape {shape}")
        try:
            array = np.asarray(given[name], dtype=np.float64)
        except (TypeError, ValueError) as error:
            raise SymconvError(f"{where} must be an array of real numbers: {error}") from None
        if array.shape != shape:
            raise SymconvError(
                f"{where} has shape {array.shape} but {type(layer).__name__} expects "
                f"shape {shape}"
            )
        held[name] = array
    return held


def _stage_given(layer: Composite, given: object, name: str, stage: Layer,
                 path: tuple[str, ...], root: str) -> object:
    """The part of a composite's ``params`` (or ``buffers``) that belongs to one stage.

    A stage without any may be left out of the dict.
    """
    if given is None:
        return None
    if not isinstance(given, Mapping):
        raise SymconvError(
            f"{_key_path(path, root)} must be a dict keyed by stage name "
            f"{[stage_name for stage_name, _ in layer.stages]}, not {type(given).__name__}"
        )
    if name in given:
        return given[name]
    if _holds(stage, root):
        raise SymconvError(
            f"{_key_path((*path, name), root)} is missing: pass the {_PLURAL[root]} of every "
            "stage (those without any may be left out)"
        )
    return None


def _at_stage(error: SymconvError, path: tuple[str, ...], layer: Layer) -> SymconvError:
    """The error of a stage, prefixed with the stage's dotted name, as ``cost`` names it."""
    return SymconvError(f"layer {'.'.join(path)} ({layer.kind}): {error}")


def _second(stage: Layer, x: Array, outputs: Mapping[str, Array],
            path: tuple[str, ...]) -> Array | None:
    """The tensor ``stage`` reads besides its input (:func:`second_input`), if any: the
    composite's input ``x`` or an earlier stage's output."""
    name = second_input(stage)
    if name is None:
        return None
    if name == "input":
        return x
    if name not in outputs:
        raise SymconvError(
            f"layer {'.'.join(path)} ({stage.kind}) reads stage {name!r}, which has not run "
            f"before it; the stages that have: {', '.join(['input', *outputs])}"
        )
    return outputs[name]


def _run(layer: Layer, x: Array, given: Mapping[str, object], rng: np.random.Generator,
         method: str, count: bool, path: tuple[str, ...],
         other: Array | None = None) -> Execution:
    if isinstance(layer, Composite):
        names = [name for name, _ in layer.stages]
        for root, value in given.items():
            extra = sorted(set(value) - set(names)) if isinstance(value, Mapping) else []
            if extra:
                raise SymconvError(
                    f"{_key_path((*path, extra[0]), root)} is not a stage of "
                    f"{type(layer).__name__}; its stages are {names}"
                )
        stages: list[tuple[str, Execution]] = []
        outputs: dict[str, Array] = {}
        current = x
        for name, stage in layer.stages:
            parts = {root: _stage_given(layer, value, name, stage, path, root)
                     for root, value in given.items()}
            try:
                checked = _check_input(stage, current)
            except SymconvError as error:
                raise _at_stage(error, (*path, name), stage) from None
            result = _run(stage, checked, parts, rng, method, count, (*path, name),
                          _second(stage, x, outputs, (*path, name)))
            stages.append((name, result))
            current = outputs[name] = result.output
        counts = sum((r.counts or Counts() for _, r in stages), Counts()) if count else None
        return Execution(
            output=current, counts=counts, params={name: r.params for name, r in stages},
            stages=tuple(stages), layer=layer, method=method,
            buffers={name: r.buffers for name, r in stages},
        )
    params = _held(layer, given["params"], rng, path, "params")
    buffers = _held(layer, given["buffers"], rng, path, "buffers")
    counter = Counter(enabled=count)
    runner = _RUNNERS[method]
    try:
        if second_input(layer) is not None:
            if other is None:
                raise SymconvError(
                    f"layer={layer!r} reads {second_input(layer)!r} besides its input; run it as "
                    "a stage of a composite: Residual(block), or a Graph"
                )
            output = runner(layer, x, {**params, **buffers}, counter, other=other)
        else:
            output = runner(layer, x, {**params, **buffers}, counter)
    except SymconvError as error:
        if not path:
            raise
        raise _at_stage(error, path, layer) from None
    return Execution(
        output=np.asarray(output, dtype=np.float64),
        counts=counter.counts() if count else None,
        params=params, stages=(), layer=layer, method=method, buffers=buffers,
    )


def execute(
    layer: Layer,
    x: object,
    params: Mapping[str, Any] | None = None,
    *,
    buffers: Mapping[str, Any] | None = None,
    seed: int = 0,
    method: Method = "fast",
    count: bool = True,
) -> Execution:
    """Run a layer on a concrete input and count the operations it performs.

    Parameters
    ----------
    layer
        A symconv layer or composite whose sizes are all ints (no SymPy symbols).
    x
        A channels-last array without a batch axis: ``(L, C)``, ``(H, W, C)`` or
        ``(D, H, W, C)``; converted to ``float64``.
    params
        ``{"weight": ..., "bias": ...}`` (bias only where ``bias=True``) for one layer, nested
        by stage name for a composite (``{"depthwise": {...}, "pointwise": {...}}``). A
        convolution's weight is ``(*kernel_size, in_channels/groups, out_channels)``, a
        transposed convolution's ``(*kernel_size, in_channels, out_channels/groups)``; a
        :class:`~symconv.nnlayers.Linear` layer's ``(in_features, out_features)``; BatchNorm's
        ``weight`` (γ) and ``bias`` (β) ``(channels,)``. Stages without parameters (activations,
        pooling) may be left out. When ``None``, standard normal values from
        ``numpy.random.default_rng(seed)``.
    buffers
        Tensors that are not learned parameters, nested as ``params``: BatchNorm's
        ``{"running_mean": ..., "running_var": ...}``, each ``(channels,)``. When ``None``,
        uniform on [0.5, 1.5) from the same generator.
    seed
        Seed of the random parameters and buffers.
    method
        ``"fast"`` (vectorised) or ``"reference"`` (plain Python loops over every scalar; for
        small shapes only). Both count the same operations.
    count
        With ``False`` nothing is counted (``.counts`` is ``None``): for measuring the cost of
        counting.

    Returns
    -------
    Execution
        ``.output``, ``.counts`` (mults, adds, divs, comparisons), ``.params``, ``.buffers``,
        ``.stages``.

    Raises
    ------
    SymconvError
        For symbolic sizes, an input of the wrong rank, channels or size, parameters or
        buffers of the wrong keys or shapes, or a residual block that changes the shape.

    Examples
    --------
    >>> import numpy as np
    >>> from symconv import Conv1d, ConvTranspose1d, execute
    >>> x = np.array([[1.0], [2.0], [3.0]])              # L = 3, one channel
    >>> run = execute(Conv1d(1, 1, 2, bias=True), x, {"weight": [[[1.0]], [[10.0]]], "bias": [0.5]})
    >>> run.output.ravel(), run.counts.mults, run.counts.adds
    (array([21.5, 32.5]), 4, 4)
    >>> up = execute(ConvTranspose1d(1, 1, 2, stride=2), x, {"weight": [[[1.0]], [[10.0]]]})
    >>> up.output.ravel(), up.counts.mults, up.counts.adds
    (array([ 1., 10.,  2., 20.,  3., 30.]), 6, 6)
    >>> execute(Conv1d(1, 1, 2), x, method="reference").counts == execute(Conv1d(1, 1, 2), x).counts
    True
    >>> execute(Conv1d(1, 1, 2), x, {"weight": np.ones((2, 1, 2))})
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: params['weight'] has shape (2, 1, 2) but Conv1d expects shape (2, 1, 1)
    """
    if method not in _RUNNERS:
        raise SymconvError(f"method={method!r} must be one of {', '.join(map(repr, METHODS))}")
    if not isinstance(layer, Layer):
        raise SymconvError(f"layer={layer!r} must be a symconv layer, like Conv2d(3, 64, 3)")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise SymconvError(f"seed={seed!r} must be an int")
    _check_concrete(layer)
    array = _check_input(layer, x)
    return _run(layer, array, {"params": params, "buffers": buffers},
                np.random.default_rng(seed), method, count, ())


# The executors of the layers around convolutions register themselves with the registries above.
from symconv import nnexecute as _nnexecute  # noqa: E402, F401
