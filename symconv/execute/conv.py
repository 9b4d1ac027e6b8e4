"""Executors of convolutions and transposed convolutions: vectorised over kernel offsets
(fast), and scalar loops (reference)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Counter
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
from symconv.layers.shapes import axis_name
from symconv.sizes import Size

# Letters for einsum specifications: output (or input) positions, kernel offsets.
_POSITION_LETTERS = "uvwxyz"
_KERNEL_LETTERS = "ijklst"



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
                f"x has size {size} along {axis_name(len(spatial), axis)}, but "
                f"kernel_size={geometry['kernel'][axis]} with dilation="
                f"{geometry['dilation'][axis]} spans {reach} > {size} + 2·{padding} (padding); "
                "use a larger input, a smaller kernel or dilation, or more padding"
            )


check_fits.register(ConvNd, _check_window_fits)


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
    kernel, groups = _ints(layer.kernel_size), int(layer.groups)
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


def _workspace(role: str, shape: tuple[int, ...], fill: float | None = None) -> Array:
    """A float64 scratch array kept between calls, for intermediate results only.

    Touching freshly allocated memory is slow (page faults), so the fast executor keeps a few
    scratch arrays of the shapes it last used, keyed by their role. ``fill`` marks arrays whose
    untouched parts (the border of a padded input) must keep that value: they are made once
    filled with it, and callers only ever overwrite the interior. Never returned to users.
    What is kept is bounded: at most 16 arrays; an array above :data:`SCRATCH_ARRAY_LIMIT` bytes is not kept (it
    is freed when the call ends), and the kept arrays of a thread stay within
    :data:`SCRATCH_TOTAL_LIMIT` bytes, the oldest dropped first.
    """
    arrays: dict[tuple[object, ...], Array] = _SCRATCH.__dict__.setdefault("arrays", {})
    key = (role, shape, fill)
    array = arrays.get(key)
    if array is None:
        array = np.empty(shape) if fill is None else np.full(shape, fill)
        if array.nbytes <= SCRATCH_ARRAY_LIMIT:
            while arrays and (len(arrays) >= _SCRATCH_COUNT_LIMIT or sum(
                    kept.nbytes for kept in arrays.values()) + array.nbytes > SCRATCH_TOTAL_LIMIT):
                arrays.pop(next(iter(arrays)))  # the oldest
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
                f"{axis_name(len(spatial), axis)} (output size {size}); use padding of at most "
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
