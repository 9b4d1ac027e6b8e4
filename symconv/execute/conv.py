"""Executors of convolutions and transposed convolutions: vectorised over kernel offsets
(fast), and scalar loops (reference)."""

from __future__ import annotations

import concurrent.futures
import functools
import itertools
import math
import os
import threading
from typing import Any

import numpy as np

from symconv.execute.counter import Counter
from symconv.execute.geometry import (
    Window,
    check_window_fits,
    ints,
    kernel_offsets,
    output_sizes,
    placements,
    taps,
    window,
)
from symconv.execute.registry import (
    Array,
    Params,
    check_fits,
    parameter_shapes,
    run_fast,
    run_reference,
)
from symconv.layers import (
    ConvNd,
    ConvTransposeNd,
)

# Letters for einsum specifications: output (or input) positions.
_POSITION_LETTERS = "uvwxyz"

check_fits.register(ConvNd, check_window_fits)


def _conv_parameter_shapes(layer: ConvNd | ConvTransposeNd) -> dict[str, tuple[int, ...]]:
    """The weight (and bias) the executors read, from the layer's defining arguments.

    Worked out here from ``kernel_size``, ``in_channels``, ``out_channels`` and ``groups``, not
    read from ``layer.weight_shape`` (the property the derivation reads), so that
    :func:`symconv.verify` compares the derived parameter count with the number of values the
    executor really multiplied by: a wrong ``weight_shape`` shows as a mismatch.
    A convolution's weight is ``(*kernel, in/groups, out)``: each output channel reads the input
    channels of its group; a transposed one's ``(*kernel, in, out/groups)``: each input channel
    scatters into the output channels of its group.
    """
    kernel, groups = ints(layer.kernel_size), int(layer.groups)
    channels_in, channels_out = int(layer.in_channels), int(layer.out_channels)
    if isinstance(layer, ConvTransposeNd):
        shapes = {"weight": (*kernel, channels_in, channels_out // groups)}
    else:
        shapes = {"weight": (*kernel, channels_in // groups, channels_out)}
    if layer.bias:
        shapes["bias"] = (channels_out,)
    return shapes


parameter_shapes.register(ConvNd, _conv_parameter_shapes)
parameter_shapes.register(ConvTransposeNd, _conv_parameter_shapes)


_SCRATCH = threading.local()  # one set of scratch arrays per thread: no thread sees another's
#: A scratch array larger than this (bytes) is made for one call and freed after it, not kept.
SCRATCH_ARRAY_LIMIT = 16 * 2**20
#: At most this many bytes of scratch arrays are kept per thread (the oldest go first).
SCRATCH_TOTAL_LIMIT = 64 * 2**20
_SCRATCH_COUNT_LIMIT = 16


def _workspace(role: str, shape: tuple[int, ...], fill: float | None = None,
               dtype: type = np.float64) -> Array:
    """A scratch array (float64 unless ``dtype`` says) kept between calls, for intermediate
    results only.

    Touching freshly allocated memory is slow (page faults), so the fast executor keeps a few
    scratch arrays of the shapes it last used, keyed by their role. ``fill`` marks arrays whose
    untouched parts (the border of a padded input) must keep that value: they are made once
    filled with it, and callers only ever overwrite the interior. Never returned to users.
    What is kept is bounded: at most 16 arrays; an array above :data:`SCRATCH_ARRAY_LIMIT` bytes is not kept (it
    is freed when the call ends), and the kept arrays of a thread stay within
    :data:`SCRATCH_TOTAL_LIMIT` bytes, the oldest dropped first.
    """
    arrays: dict[tuple[object, ...], Array] = _SCRATCH.__dict__.setdefault("arrays", {})
    key = (role, shape, fill, dtype)
    array = arrays.get(key)
    if array is None:
        array = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        if array.nbytes <= SCRATCH_ARRAY_LIMIT:
            while arrays and (len(arrays) >= _SCRATCH_COUNT_LIMIT or sum(
                    kept.nbytes for kept in arrays.values()) + array.nbytes > SCRATCH_TOTAL_LIMIT):
                arrays.pop(next(iter(arrays)))  # the oldest
                _SCRATCH.__dict__.pop("views", None)   # views of it would keep it alive
            arrays[key] = array
    return array


def _interior(padding: tuple[int, ...], shape: tuple[int, ...]) -> tuple[slice, ...]:
    """Where an input of ``shape`` sits in its zero-padded copy."""
    return tuple(slice(pad, pad + size) for pad, size in zip(padding, shape[:-1]))


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


#: Largest im2col matrix (bytes) the fast executor builds: below it, one matmul of every
#: window's taps replaces one matmul per kernel offset (fewer NumPy calls for small layers).
IM2COL_LIMIT = 2**20
#: Bytes of output the depthwise path works on at a time, so that the block stays in cache
#: while every kernel offset is multiplied and added into it.
DEPTHWISE_BLOCK = 2**18


def _windows(padded: Array, shape: Window, output: tuple[int, ...]) -> Array:
    """Every window of the padded input as a read-only strided view ``(*output, *kernel, C)``."""
    steps = padded.strides
    return np.lib.stride_tricks.as_strided(
        padded,
        shape=(*output, *shape.kernel, padded.shape[-1]),
        strides=(*(s * step for s, step in zip(shape.stride, steps)),
                 *(d * step for d, step in zip(shape.dilation, steps)), steps[-1]),
        writeable=False,
    )


def _depthwise_rows(counter: Counter, views: list[Array], factors: list[Array], out: Array,
                    rows: int, first: int, last: int) -> None:
    """Rows ``first:last`` of a depthwise output, ``rows`` at a time (see :func:`_depthwise`)."""
    part = _workspace("depthwise", (min(rows, last - first), *out.shape[1:]))
    for start in range(first, last, rows):
        stop = min(start + rows, last)
        block, product = out[start:stop], part[:stop - start]
        counter.multiply(views[0][start:stop], factors[0], out=block)
        for view, factor in zip(views[1:], factors[1:]):
            counter.multiply(view[start:stop], factor, out=product)
            counter.add_into(block, product)


def _depthwise(counter: Counter, padded: Array, weight: Array, shape: Window,
               output: tuple[int, ...]) -> Array:
    """One input and one output channel per group: for each kernel offset, its tap of every
    window times its weight per channel, added into the output (``k_h·k_w`` multiplications and
    ``k_h·k_w − 1`` additions per output element), a block of rows at a time so that the block
    stays in cache across the offsets.

    Large outputs are split in :data:`THREADS` runs of rows, one thread each (NumPy releases the
    GIL in its loops), each with its own :class:`Counter`, whose tallies are added up after.
    """
    channels = weight.shape[-1]
    offsets = list(kernel_offsets(shape.kernel))
    views = [padded[taps(offset, shape.dilation, shape.stride, output)] for offset in offsets]
    factors = [weight[offset].reshape(channels) for offset in offsets]
    out = np.empty((*output, channels))
    rows = max(1, DEPTHWISE_BLOCK // max(1, out[0].nbytes))
    blocks = -(-output[0] // rows)
    if THREADS < 2 or blocks < 4 * THREADS:
        tracker, counter.tracker = counter.tracker, None
        if tracker is not None:   # the blocks together read every view whole: marked once
            tracker.read((*views, *factors))
        try:
            _depthwise_rows(counter, views, factors, out, rows, 0, output[0])
        finally:
            counter.tracker = tracker
        return out
    counter.read(*views, *factors)   # the threads' counters track nothing: marked here once
    per_thread = -(-blocks // THREADS) * rows
    counters = [Counter(enabled=counter.enabled) for _ in range(THREADS)]
    futures = [_pool().submit(_depthwise_rows, part, views, factors, out, rows, first,
                              min(first + per_thread, output[0]))
               for part, first in zip(counters, range(0, output[0], per_thread))]
    for future in futures:
        future.result()
    for part in counters:
        counter.absorb(part)
    return out


#: Threads the depthwise path runs on for large outputs (as many as PyTorch's default on a
#: machine of up to 2 cores; at most 2).
THREADS = min(2, os.cpu_count() or 1)
_POOL: list[concurrent.futures.ThreadPoolExecutor] = []


def _pool() -> concurrent.futures.ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(concurrent.futures.ThreadPoolExecutor(2, thread_name_prefix="symconv"))
    return _POOL[0]


class _Plan:
    """What the fast path of one convolution on one input size works out once: its window and
    output sizes, the path it takes and where the input sits in its padded copy. Only geometry
    is kept here, never a count: every count still comes from the operations each call
    performs."""

    def __init__(self, layer: ConvNd, spatial: tuple[int, ...], weight: tuple[int, ...]) -> None:
        self.shape = window(layer)
        self.output = output_sizes(layer, spatial)
        self.groups = int(layer.groups)
        self.bias = bool(layer.bias)
        self.padded = any(self.shape.padding)
        self.interior = _interior(self.shape.padding, (*spatial, 0))
        self.role = f"padded{self.shape.padding}"
        self.padded_shape = (*(size + 2 * pad for size, pad in zip(spatial, self.shape.padding)),
                             weight[-2] * self.groups)
        columns = math.prod(self.output) * math.prod(weight[:-1])
        if weight[-2] == 1 and weight[-1] == self.groups:
            self.path = "depthwise"
        elif self.groups == 1 and columns * 8 <= IM2COL_LIMIT:
            self.path = "im2col"
        else:
            self.path = "offsets"
        self.columns_shape = (math.prod(self.output), math.prod(weight[:-1]))


#: The plan of the last call, found by the layer's identity without hashing it.
_LAST_PLAN: list[tuple[Any, ...]] = [(None, (), (), None)]


@functools.lru_cache(maxsize=1024)
def _plan(layer: ConvNd, spatial: tuple[int, ...], weight: tuple[int, ...]) -> _Plan:
    return _Plan(layer, spatial, weight)


def _im2col_columns(counter: Counter, plan: _Plan, padded: Array) -> Array:
    """Every window's taps copied into a ``(positions, k·M)`` scratch matrix.

    The strided view of the windows of a padded scratch array is made once and kept beside the
    scratch arrays (dropped with them); a view of the user's own input, without padding, is
    made each call."""
    columns = _workspace("columns", plan.columns_shape)
    views: dict[_Plan, tuple[Array, ...]] = _SCRATCH.__dict__.setdefault("views", {})
    kept = views.get(plan)
    if kept is not None and kept[0] is padded and kept[2] is columns:
        every, target = kept[1], kept[3]
    else:
        every = _windows(padded, plan.shape, plan.output)
        target = columns.reshape(every.shape)
        if plan.padded:
            if len(views) >= _SCRATCH_COUNT_LIMIT:
                views.clear()
            views[plan] = (padded, every, columns, target)
    counter.read(every)
    np.copyto(target, every)
    return columns


@run_fast.register
def _(layer: ConvNd, x: Array, params: Params, counter: Counter) -> Array:
    """Vectorised over positions and channels; a loop over kernel offsets at most.

    For each kernel offset a strided view of the padded input (one tap of every window) is
    multiplied by that offset's weights and summed over the group's input channels; the
    partial sums of the ``k_h·k_w`` offsets are then added up, so that a dot product of ``L``
    terms takes ``L − 1`` additions, as in a direct evaluation. Small layers without groups
    instead copy every window's taps into one matrix (im2col, up to :data:`IM2COL_LIMIT` bytes)
    for one matmul; depthwise layers multiply and add per channel, a block of rows at a time.
    Either way each NumPy operation is counted from its operand shapes.
    """
    weight = params["weight"]
    last = _LAST_PLAN[0]
    if last[0] is layer and last[1] == x.shape and last[2] == weight.shape:
        plan = last[3]
    else:
        try:
            plan = _plan(layer, x.shape[:-1], weight.shape)
        except TypeError:   # an unhashable layer: worked out each call
            plan = _Plan(layer, x.shape[:-1], weight.shape)
        _LAST_PLAN[0] = (layer, x.shape, weight.shape, plan)
    shape, output, groups = plan.shape, plan.output, plan.groups
    if plan.padded:
        padded = _workspace(plan.role, plan.padded_shape, fill=0.0)
        padded[plan.interior] = x
        if counter.tracker is not None:
            counter.tracker.alias(x, padded, plan.interior)
    else:
        padded = x
    out: Array | None = None
    if plan.path == "depthwise":
        out = _depthwise(counter, padded, weight, shape, output)
    elif plan.path == "im2col":
        columns = _im2col_columns(counter, plan, padded)
        out = counter.matmul(columns, weight.reshape(columns.shape[-1], -1))
        out = out.reshape(*output, weight.shape[-1])
    else:
        # (..., M/g, N) -> (..., g, M/g, N/g): output channel n belongs to group n // (N/g).
        grouped = weight.reshape(*weight.shape[:-2], 1, *weight.shape[-2:]) if groups == 1 else \
            np.moveaxis(weight.reshape(*weight.shape[:-1], groups, -1), -2, -3)
        part: Array | None = None  # reused for each offset's product: fresh memory is slow to touch
        for offset in kernel_offsets(shape.kernel):
            tap = padded[taps(offset, shape.dilation, shape.stride, output)]
            if out is None:
                out = _grouped_matmul(counter, tap, grouped[offset], groups)
                part = _workspace("product", out.shape) if groups == 1 else None
            else:
                counter.add_into(out, _grouped_matmul(counter, tap, grouped[offset], groups, out=part))
    assert out is not None
    if plan.bias:
        counter.add(out, params["bias"], out=out)
    return out


@run_reference.register
def _(layer: ConvNd, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops: every output element is a dot product, accumulated one product at a time.

    The output positions are the window placements that fit in the padded input, found by
    trying them (:func:`~symconv.execute.geometry.placements`), not by the output-size formula.
    """
    dims = x.ndim - 1
    shape = window(layer)
    starts = [placements(size, padding=p, reach=r, stride=s)
              for size, p, r, s in zip(x.shape[:-1], shape.padding, shape.reach, shape.stride)]
    padded = np.pad(x, [(p, p) for p in shape.padding] + [(0, 0)])
    if counter.tracker is not None:    # reads of the padded copy's interior are reads of x
        counter.tracker.alias(x, padded, _interior(shape.padding, x.shape))
    values, steps = counter.flat(padded), _row_major_steps(padded.shape)
    weight = params["weight"]
    taps, weights = counter.flat(weight), _row_major_steps(weight.shape)
    bias = counter.flat(params["bias"]) if layer.bias else None
    channels_out = weight.shape[-1]
    per_group_in = weight.shape[-2]
    per_group_out = channels_out // int(layer.groups)
    out = np.zeros((*(len(axis) for axis in starts), channels_out))
    mults = adds = 0
    for position in itertools.product(*(range(len(axis)) for axis in starts)):
        corner = [axis[o] for axis, o in zip(starts, position)]
        for n in range(channels_out):
            first_channel = (n // per_group_out) * per_group_in
            total: float | None = None
            for offset in kernel_offsets(shape.kernel):
                base = sum(
                    (start + i * d) * step
                    for start, i, d, step in zip(corner, offset, shape.dilation, steps)
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


def _scatter_window(layer: ConvTransposeNd) -> tuple[Window, tuple[int, ...]]:
    """The kernel's window (its ``padding`` is cropped off the output, not added to the input)
    and the output padding."""
    return window(layer), ints(layer.output_padding)


@check_fits.register
def _(layer: ConvTransposeNd, spatial: tuple[int, ...]) -> None:
    output_sizes(layer, spatial)   # the layer's shape arithmetic refuses an output cropped away


@run_fast.register
def _(layer: ConvTransposeNd, x: Array, params: Params, counter: Counter) -> Array:
    """Scatter form, vectorised over positions and channels; a loop over kernel offsets only.

    For each kernel offset, one matmul (an einsum with groups) multiplies every input element
    by the weights of its group and sums over the group's input channels; the sums are then
    added into the zero-initialised output. Per output channel and offset that is ``M/g``
    products accumulated with ``M/g − 1 + 1`` additions — exactly one addition per product, as
    in scatter form. The output sizes are the layer's shape arithmetic; every product lands
    in the output before ``padding`` is cropped off each side.
    """
    shape, _ = _scatter_window(layer)
    output = output_sizes(layer, x.shape[:-1])
    groups = int(layer.groups)
    weight = params["weight"]
    # (..., M, N/g) -> (..., g, M/g, N/g): input channel c belongs to group c // (M/g).
    weight = weight.reshape(*weight.shape[:-2], groups, -1, weight.shape[-1])
    full = np.zeros((*(o + 2 * p for o, p in zip(output, shape.padding)),
                     groups * weight.shape[-1]))
    counter.wrote(full)   # zero-initialised: every element written (output_padding's too)
    part = np.empty((*x.shape[:-1], full.shape[-1])) if groups == 1 else None  # reused
    for offset in kernel_offsets(shape.kernel):
        landing = taps(offset, shape.dilation, shape.stride, x.shape[:-1])
        counter.add_into(full[landing], _grouped_matmul(counter, x, weight[offset], groups, out=part))
    kept = tuple(slice(p, p + o) for p, o in zip(shape.padding, output))
    out = full[kept]
    if layer.bias:
        out = counter.add(out, params["bias"])
    return out


@run_reference.register
def _(layer: ConvTransposeNd, x: Array, params: Params, counter: Counter) -> Array:
    """Plain loops in scatter form: every product is added into the zero-initialised output.

    The output is as long as the products reach: the last position any product lands on, plus
    ``output_padding`` positions that receive none, with ``padding`` cropped off each side —
    found by scattering, not by the output-size formula.
    """
    shape, extra = _scatter_window(layer)
    weight = params["weight"]
    channels_in, per_group_out = weight.shape[-2], weight.shape[-1]
    per_group_in = channels_in // int(layer.groups)
    channels_out = per_group_out * int(layer.groups)
    landed: dict[tuple[int, ...], list[float]] = {}   # position -> its output channels
    values = counter.scalars(x)
    kernel_values = counter.scalars(weight)
    mults = adds = 0
    for position in itertools.product(*(range(size) for size in x.shape[:-1])):
        row = _at(values, position)
        for c in range(channels_in):
            first_out = (c // per_group_in) * per_group_out
            for offset in kernel_offsets(shape.kernel):
                where = tuple(h * s + i * d for h, s, i, d in
                              zip(position, shape.stride, offset, shape.dilation))
                target = landed.setdefault(where, [0.0] * channels_out)
                kernel_row = _at(kernel_values, offset)[c]
                for o in range(per_group_out):
                    product = row[c] * kernel_row[o]
                    mults += 1
                    target[first_out + o] += product
                    adds += 1
    reached = [max(where[axis] for where in landed) + 1 for axis in range(x.ndim - 1)]
    full = np.zeros((*(r + a for r, a in zip(reached, extra)), channels_out))
    for where, target in landed.items():
        full[where] = target
    kept = tuple(slice(p, size - p) for p, size in zip(shape.padding, full.shape))
    out = np.ascontiguousarray(full[kept])
    if layer.bias:
        bias = counter.flat(params["bias"])
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
