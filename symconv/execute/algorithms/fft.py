"""FFT convolution, executed: an iterative radix-2 FFT written with counted real arithmetic on
(real, imaginary) pairs of arrays, so that every butterfly's operations are counted as they run.

The rules (the same as :mod:`symconv.layers.algorithms` names): the twiddle ``w^0 = 1`` is not
multiplied, every other twiddle is; a complex multiplication is done by the chosen rule
(``"4m2a"`` or ``"3m5a"``); a complex addition is two real ones; a conjugate is free.
"""

from __future__ import annotations

import numpy as np

from symconv.execute.algorithms.common import (
    AlgorithmRun,
    bias_stage,
    check_run,
    elements,
    finish,
    padded,
    reduce_complex,
)
from symconv.execute.algorithms.ops import (
    Complex,
    complex_add,
    complex_multiply,
    complex_subtract,
    scale,
)
from symconv.execute.counter import Array, Counter
from symconv.execute.geometry import ints, placements
from symconv.layers.algorithms import FFTOptions
from symconv.layers.conv import ConvNd

__all__ = ["run_fft", "fft_axis"]


def _bit_reversed(size: int) -> Array:
    bits = size.bit_length() - 1
    return np.array([int(format(index, f"0{bits}b")[::-1], 2) if bits else 0
                     for index in range(size)])


def fft_axis(counter: Counter, values: Complex, axis: int, rule: str, *,
             inverse: bool = False) -> Complex:
    """The radix-2 FFT (decimation in time) of every line of ``values`` along ``axis``; the
    inverse without its ``1/P`` (the caller scales). The length must be a power of two.

    Examples
    --------
    >>> counter = Counter()
    >>> real, imaginary = fft_axis(counter, (np.arange(4.0), np.zeros(4)), 0, "4m2a")
    >>> np.allclose(real + 1j * imaginary, np.fft.fft(np.arange(4.0)))
    True
    >>> counter.mults, counter.adds    # 1 twiddle product (4 mults, 2 adds), 8 complex adds
    (4, 18)
    """
    real, imaginary = (np.moveaxis(part, axis, -1) for part in values)
    size = real.shape[-1]
    order = _bit_reversed(size)
    real, imaginary = real[..., order], imaginary[..., order]
    span = 2
    sign = 1.0 if inverse else -1.0
    while span <= size:
        half = span // 2
        shape = (*real.shape[:-1], size // span, span)
        real, imaginary = real.reshape(shape), imaginary.reshape(shape)
        even = (real[..., :half], imaginary[..., :half])
        odd_real, odd_imaginary = real[..., half:].copy(), imaginary[..., half:].copy()
        if half > 1:   # twiddles w^j, j = 1 … half − 1 (w^0 = 1 is not multiplied)
            angles = sign * 2.0 * np.pi * np.arange(1, half) / span
            twiddle = (np.cos(angles), np.sin(angles))
            odd_real[..., 1:], odd_imaginary[..., 1:] = complex_multiply(
                counter, (odd_real[..., 1:], odd_imaginary[..., 1:]), twiddle, rule)
        top = complex_add(counter, even, (odd_real, odd_imaginary))
        bottom = complex_subtract(counter, even, (odd_real, odd_imaginary))
        real = np.concatenate([top[0], bottom[0]], axis=-1).reshape(*shape[:-2], size)
        imaginary = np.concatenate([top[1], bottom[1]], axis=-1).reshape(*shape[:-2], size)
        span *= 2
    return np.moveaxis(real, -1, axis), np.moveaxis(imaginary, -1, axis)


def _fft_nd(counter: Counter, values: Complex, dims: int, rule: str, *,
            inverse: bool = False) -> Complex:
    for axis in range(dims):
        values = fft_axis(counter, values, axis, rule, inverse=inverse)
    return values


def run_fft(layer: ConvNd, x: Array, params: dict[str, Array],
            options: FFTOptions) -> AlgorithmRun:
    """Evaluate ``layer`` (stride 1, dilation 1) on ``x`` by FFT convolution, counting.

    Each padded axis ``H + 2p`` is padded again to a power of two ``P``; the input's and the
    kernels' spectra are multiplied (the kernel's conjugate: a correlation), summed over the
    input channels of each group, transformed back, and cropped.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> from symconv.layers.algorithms import algorithm_options
    >>> layer, rng = Conv2d(3, 64, 3), np.random.default_rng(0)
    >>> run = run_fft(layer, rng.standard_normal((7, 7, 3)),
    ...               {"weight": rng.standard_normal((3, 3, 3, 64))},
    ...               algorithm_options(layer, "fft", {}))
    >>> dict(run.stages)["elementwise"]
    Counts(mults=49152, adds=24576, divs=0, comparisons=0, transcendentals=0)
    """
    dims = x.ndim - 1
    kernel, padding = ints(layer.kernel_size), ints(layer.padding)
    rule = options.complex_mult
    out = tuple(len(placements(size, padding=pad, reach=r, stride=1))
                for size, pad, r in zip(x.shape[:-1], padding, kernel))
    spectrum = tuple(1 << (size + 2 * pad - 1).bit_length()
                     for size, pad in zip(x.shape[:-1], padding))
    channels, groups = x.shape[-1], int(layer.groups)
    weight = params["weight"]
    per_group, out_channels = weight.shape[-2], weight.shape[-1]
    per_out = out_channels // groups
    check_run(layer, x, params, elements(*spectrum, per_group, out_channels),
              elements(*spectrum, channels))
    source = padded(x, padding, tuple(size - (extent + pad) for size, extent, pad
                                      in zip(spectrum, x.shape[:-1], padding)))
    stages: list[tuple[str, Counter]] = []
    counter = Counter()
    stages.append(("input_transform", counter))
    X = _fft_nd(counter, (source, np.zeros_like(source)), dims, rule)
    kernels = np.pad(weight, [*((0, size - r) for size, r in zip(spectrum, kernel)), (0, 0), (0, 0)])
    counter = Counter(enabled=not options.precompute_weights)
    if not options.precompute_weights:
        stages.append(("weight_transform", counter))
    K = _fft_nd(counter, (kernels, np.zeros_like(kernels)), dims, rule)
    K = scale(counter, K, 1.0 / elements(*spectrum))         # the inverse FFT's 1/ΠP
    K = (K[0], -K[1])                                          # conjugate: a correlation
    # X: (*P, M) -> (*P, g, M/g, 1); K: (*P, M/g, N) -> (*P, M/g, g, N/g) -> (*P, g, M/g, N/g)
    X = (X[0].reshape(*spectrum, groups, per_group, 1),
         X[1].reshape(*spectrum, groups, per_group, 1))
    K = (np.swapaxes(K[0].reshape(*spectrum, per_group, groups, per_out), -3, -2),
         np.swapaxes(K[1].reshape(*spectrum, per_group, groups, per_out), -3, -2))
    counter = Counter()
    stages.append(("elementwise", counter))
    products = complex_multiply(counter, X, K, rule)           # (*P, g, M/g, N/g)
    counter = Counter()
    stages.append(("channel_reduction", counter))
    sums = reduce_complex(counter, products, dims + 1)         # (*P, g, N/g)
    sums = (sums[0].reshape(*spectrum, out_channels), sums[1].reshape(*spectrum, out_channels))
    counter = Counter()
    stages.append(("output_transform", counter))
    real, _ = _fft_nd(counter, sums, dims, rule, inverse=True)
    output = np.ascontiguousarray(real[tuple(slice(0, size) for size in out)])
    output = bias_stage(layer, output, params, stages)
    workspace = 2 * (X[0].size + K[0].size + sums[0].size)
    return finish(output, stages, int(workspace))
