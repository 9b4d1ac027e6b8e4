"""What a run will take, estimated before it starts, and the refusal of what the machine cannot
give.

:func:`estimate` walks a layer (a composite stage by stage) through its shape arithmetic and
loop nests (:mod:`symconv.layers` only) and adds up, in bytes, the input, the output of every
single layer (an :class:`~symconv.execute.Execution` keeps them all), the parameters and
buffers, and the largest transient memory of any one layer (padded copies, the product
buffers and temporaries of the fast executor; Python lists of the reference one); and, as
counts, the scalar operations (every iteration of a layer's inner loop, plus one per output
element) and the kernel offsets the fast executor loops over in Python. Every number is an int.

:func:`check` refuses, with :class:`~symconv.errors.SymconvError`, before anything is allocated:

* more memory than ``max_memory`` bytes — by default half the memory available now
  (``MemAvailable`` of ``/proc/meminfo`` on Linux; elsewhere the free physical pages of
  ``os.sysconf``; else :data:`FALLBACK_AVAILABLE`);
* more scalar operations than ``max_operations`` — by default
  :data:`REFERENCE_MAX_OPERATIONS` (5·10⁷, about a minute of the reference executor's Python
  loops) or :data:`FAST_MAX_OPERATIONS` (10¹¹, tens of seconds of NumPy);
* for the fast executor, more than :data:`FAST_MAX_KERNEL_OFFSETS` (10⁵) kernel offsets summed
  over the layers: it runs one Python iteration per offset, so a kernel of 5001×5001 would
  loop for hours however small its arithmetic.

MobileNet V1 and V2 at 224×224 pass every bound with the fast executor.

Examples
--------
>>> from symconv import Conv2d
>>> need = estimate(Conv2d(3, 64, 3), (7, 7, 3))
>>> need.operations            # 5·5·64 outputs × 27 products, + 1 per output element
44800
>>> need.input, need.outputs, need.params   # bytes: 7·7·3, 5·5·64 and 3·3·3·64 float64s
(1176, 12800, 13824)
>>> check(Conv2d(512, 64, 3), (100000, 100000, 512))
Traceback (most recent call last):
...
symconv.errors.SymconvError: this run would need about ... TiB of memory (input 37.3 TiB, ...
"""

from __future__ import annotations

import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import symconv.execute.conv as conv
from symconv.errors import SymconvError
from symconv.execute.registry import Method, buffer_shapes, parameter_shapes
from symconv.layers import Composite, ConvNd, ConvTransposeNd, Layer
from symconv.layers.shapes import output_spatial

__all__ = ["Estimate", "estimate", "check", "allowed", "available_memory", "readable_bytes",
           "REFERENCE_MAX_OPERATIONS", "FAST_MAX_OPERATIONS", "FAST_MAX_KERNEL_OFFSETS",
           "FALLBACK_AVAILABLE"]

#: Scalar operations the reference executor (plain Python loops) may run by default.
REFERENCE_MAX_OPERATIONS = 5 * 10**7
#: Scalar operations the fast executor may run by default.
FAST_MAX_OPERATIONS = 10**11
#: Kernel offsets, summed over the layers, that the fast executor may loop over in Python.
FAST_MAX_KERNEL_OFFSETS = 10**5
#: The memory taken as available where the system does not say (bytes): 8 GiB.
FALLBACK_AVAILABLE = 8 * 2**30

_FLOAT = 8            # bytes of one float64
_PYTHON_FLOAT = 64    # bytes of one value held in Python (pointer, float object, list or dict slack)
#: Bytes taken by any run besides its arrays (Python objects, the results' bookkeeping).
BASE_MEMORY = 2**20


@dataclass(frozen=True)
class Estimate:
    """What a run will take (every field an int).

    Attributes
    ----------
    input, outputs, params, buffers
        Bytes of the input, of the outputs of every single layer, of the parameters and of
        the buffers.
    scratch
        Bytes of the largest transient memory of any one layer.
    kept
        Bytes of scratch arrays the fast executor may keep from layer to layer (padded inputs,
        product buffers), counted up to its bound of 64 MiB per thread.
    operations
        Scalar operations: every inner-loop iteration of every layer's loop nest, plus one per
        output element.
    kernel_offsets
        Kernel offsets, summed over the layers with a window, that the fast executor loops over.
    """

    input: int = 0
    outputs: int = 0
    params: int = 0
    buffers: int = 0
    scratch: int = 0
    kept: int = 0
    operations: int = 0
    kernel_offsets: int = 0

    @property
    def memory(self) -> int:
        """Bytes in all: input, outputs, parameters, buffers, the largest scratch, and
        :data:`BASE_MEMORY`."""
        return (self.input + self.outputs + self.params + self.buffers + self.scratch
                + min(self.kept, conv.SCRATCH_TOTAL_LIMIT) + BASE_MEMORY)

    def __add__(self, other: Estimate) -> Estimate:
        """The estimate of two runs one after the other: sizes add up, scratch does not."""
        return Estimate(input=self.input + other.input, outputs=self.outputs + other.outputs,
                        params=self.params + other.params, buffers=self.buffers + other.buffers,
                        scratch=max(self.scratch, other.scratch), kept=self.kept + other.kept,
                        operations=self.operations + other.operations,
                        kernel_offsets=self.kernel_offsets + other.kernel_offsets)


def _elements(shape: tuple[object, ...]) -> int:
    return math.prod(int(size) for size in shape)  # type: ignore[call-overload]


def _has_shape_arithmetic(layer: Layer) -> bool:
    return output_spatial.dispatch(type(layer)) is not output_spatial.dispatch(Layer)


def _single(layer: Layer, shape: tuple[int, ...], method: Method) -> tuple[Estimate, tuple[int, ...]]:
    """The estimate of one layer without its input, and its output shape."""
    spatial, channels = shape[:-1], shape[-1]
    params = sum(_elements(size) for size in parameter_shapes(layer).values())
    buffers = sum(_elements(size) for size in buffer_shapes(layer).values())
    if _has_shape_arithmetic(layer):
        out_spatial = tuple(int(size) for size in output_spatial(layer, spatial))
        nest = layer.loop_nest(spatial, out_spatial, in_channels=channels)
        out_shape = tuple(int(size) for size in nest.outputs)
        iterations = _elements(nest.outer) * _elements(nest.inner)
    else:   # a layer registered only with the executors: taken as elementwise
        out_shape, iterations = shape, _elements(shape)
    inputs, outputs = _elements(shape), _elements(out_shape)
    kernel = tuple(int(size) for size in getattr(layer, "kernel_size", ()))
    padding = tuple(int(size) for size in getattr(layer, "padding", ()))
    padded = inputs
    if kernel and not isinstance(layer, ConvTransposeNd) and any(padding):
        padded = _elements(tuple(n + 2 * p for n, p in zip(spatial, padding))) * channels
    copy = padded if padded != inputs else 0     # the padded copy, where there is padding
    if method == "reference":
        # Python lists of the (padded) input, the weights and the output, beside NumPy copies.
        scratch = (_PYTHON_FLOAT + _FLOAT) * (padded + outputs + params + buffers)
    elif isinstance(layer, ConvTransposeNd):
        # The zero-initialised output before cropping, the product buffer and the group
        # einsum's temporaries (each input positions × output channels).
        cropped = tuple(o + 2 * int(p) for o, p in zip(out_shape[:-1], layer.padding))
        products = _elements(spatial) * out_shape[-1]
        scratch = _FLOAT * (_elements(cropped) * out_shape[-1] + 3 * products)
    elif isinstance(layer, ConvNd):
        positions, groups = _elements(out_shape[:-1]), int(layer.groups)
        columns = positions * _elements(kernel) * (channels // groups)
        if channels == groups == out_shape[-1]:      # depthwise: a block of rows at a time
            scratch = _FLOAT * copy + min(conv.THREADS * conv.DEPTHWISE_BLOCK, _FLOAT * outputs)
        elif groups == 1 and _FLOAT * columns <= conv.IM2COL_LIMIT:   # im2col: one matrix
            scratch = _FLOAT * (copy + columns)
        elif groups == 1:   # a product buffer reused per offset; matmul's copy of a strided tap
            scratch = _FLOAT * (copy + outputs + positions * channels)
        else:   # per offset: the regrouped tap and the einsum's result and temporaries
            scratch = _FLOAT * (copy + positions * channels + 2 * outputs + params)
    else:       # elementwise and pooling: a padded copy, temporaries the size of the output
        scratch = _FLOAT * (copy + 2 * outputs)
    return Estimate(
        outputs=_FLOAT * outputs, params=_FLOAT * params, buffers=_FLOAT * buffers,
        scratch=scratch, kept=scratch if method == "fast" else 0,
        operations=iterations + outputs,
        kernel_offsets=_elements(kernel) if kernel else 0,
    ), out_shape


def _walk(layer: Layer, shape: tuple[int, ...],
          method: Method) -> tuple[Estimate, tuple[int, ...], bool]:
    """The estimate of a layer or composite; its output shape; whether every stage was sized.

    A stage whose input does not fit it, or that has symbolic sizes, ends the walk: the estimate
    covers the stages before it, and the executor names the stage and the problem.
    """
    if isinstance(layer, Composite):
        total, current = Estimate(), shape
        for _, stage in layer.stages:
            part, current, whole = _walk(stage, current, method)
            total += part
            if not whole:
                return total, current, False
        return total, current, True
    try:
        part, out_shape = _single(layer, shape, method)
    except (SymconvError, TypeError):   # a size that does not fit, or a symbol: execute says which
        return Estimate(), shape, False
    return part, out_shape, True


@functools.lru_cache(maxsize=256)
def estimate(layer: Layer, input_shape: tuple[int, ...], method: Method = "fast") -> Estimate:
    """What running ``layer`` on an input of ``input_shape`` will take (see the module docstring).

    Layers whose sizes do not fit from some stage on are estimated up to that stage.
    """
    found, _, _ = _walk(layer, tuple(int(size) for size in input_shape), method)
    return Estimate(input=_FLOAT * _elements(input_shape), outputs=found.outputs,
                    params=found.params, buffers=found.buffers, scratch=found.scratch,
                    kept=found.kept,
                    operations=found.operations, kernel_offsets=found.kernel_offsets)


_MEMINFO = Path("/proc/meminfo")
_AVAILABLE_CACHE: list[tuple[float, int]] = []


def _read_available() -> int:
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024   # kB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return FALLBACK_AVAILABLE


def available_memory() -> int:
    """Bytes of memory available now (read at most once a second).

    ``MemAvailable`` of ``/proc/meminfo`` on Linux; elsewhere the free physical pages that
    ``os.sysconf`` reports; where neither exists, :data:`FALLBACK_AVAILABLE`.
    """
    now = time.monotonic()
    if not _AVAILABLE_CACHE or now - _AVAILABLE_CACHE[0][0] > 1.0:
        _AVAILABLE_CACHE[:] = [(now, _read_available())]
    return _AVAILABLE_CACHE[0][1]


def readable_bytes(size: int) -> str:
    """Bytes in binary units with one decimal.

    Examples
    --------
    >>> readable_bytes(512), readable_bytes(1536), readable_bytes(37 * 2**40 + 2**39)
    ('512 B', '1.5 KiB', '37.5 TiB')
    """
    value, unit = float(size), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"


def _limit(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SymconvError(f"{name}={value!r} must be a positive int (or None for the default)")
    return value


def check(layer: Layer, input_shape: tuple[int, ...], method: Method = "fast", *,
          max_memory: int | None = None, max_operations: int | None = None,
          input_allocated: bool = False) -> Estimate:
    """Refuse a run that needs more memory, operations or kernel offsets than allowed.

    Parameters
    ----------
    layer, input_shape, method
        The run.
    max_memory
        Bytes the run may take; ``None``: half the memory available now.
    max_operations
        Scalar operations the run may do; ``None``: :data:`REFERENCE_MAX_OPERATIONS` or
        :data:`FAST_MAX_OPERATIONS` by ``method``.
    input_allocated
        Whether the input exists already (it is then left out of the memory needed).

    Returns
    -------
    Estimate
        When the run is allowed.

    Raises
    ------
    SymconvError
        Naming the estimate, the limit and how to change it.
    """
    need = estimate(layer, tuple(input_shape), method)
    return allowed(need, method, max_memory=max_memory, max_operations=max_operations,
                   input_allocated=input_allocated)


def allowed(need: Estimate, method: Method = "fast", *, max_memory: int | None = None,
            max_operations: int | None = None, input_allocated: bool = False) -> Estimate:
    """:func:`check` of an estimate made before (``execute`` keeps it per layer and input
    shape): the same limits, the same errors."""
    memory_limit = _limit(max_memory, "max_memory")
    operations_limit = _limit(max_operations, "max_operations")
    memory = need.memory - (need.input if input_allocated else 0)
    available = available_memory() if memory_limit is None else 0
    if memory > (available // 2 if memory_limit is None else memory_limit):
        if memory_limit is None:
            memory_limit = available // 2
            source = f"half the {readable_bytes(available)} of memory available now"
        else:
            source = f"max_memory={memory_limit}"
        parts = ", ".join(f"{name} {readable_bytes(size)}" for name, size in (
            ("input", 0 if input_allocated else need.input), ("layer outputs", need.outputs),
            ("parameters and buffers", need.params + need.buffers),
            ("scratch", need.scratch + min(need.kept, conv.SCRATCH_TOTAL_LIMIT))) if size)
        raise SymconvError(
            f"this run would need about {readable_bytes(memory)} of memory ({parts}) but the "
            f"limit is {readable_bytes(memory_limit)} ({source}); use a smaller input, or pass "
            f"max_memory=<bytes> (on the command line --max-memory) to allow more"
        )
    if operations_limit is None:
        operations_limit = REFERENCE_MAX_OPERATIONS if method == "reference" else FAST_MAX_OPERATIONS
        default = f"the {method} executor's default"
    else:
        default = f"max_operations={operations_limit}"
    if need.operations > operations_limit:
        hint = ("; method='fast' runs about a thousand times faster" if method == "reference"
                else "")
        raise SymconvError(
            f"this run would do about {need.operations:.2e} scalar operations with method="
            f"{method!r}, above the limit of {operations_limit:.0e} ({default}), which would take "
            f"minutes or more; use a smaller input{hint}, or pass max_operations=<count> to "
            "allow more"
        )
    if method == "fast" and need.kernel_offsets > FAST_MAX_KERNEL_OFFSETS:
        raise SymconvError(
            f"the kernels of this run have {need.kernel_offsets} offsets in all, above the fast "
            f"executor's limit of {FAST_MAX_KERNEL_OFFSETS} (it loops over kernel offsets in "
            "Python, one step each); use smaller kernels"
        )
    return need
