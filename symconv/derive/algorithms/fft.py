"""FFT convolution as a loop nest: radix-2 FFTs of every axis, products of spectra, inverse FFTs.
Pure SymPy.

Each axis is padded with zeros to ``P``, the power of two at least its padded input size
``H + 2p`` (no product wraps around then: output ``i`` reads inputs ``i … i + k − 1 < P``).

* One FFT of size ``P = 2^q`` is the iterative radix-2 decimation in time: at stage
  ``s = 1 … q``, ``P/2^s`` groups of ``2^(s−1)`` butterflies; butterfly ``j`` multiplies by the
  twiddle ``w^j`` (``j = 0``, ``w^0 = 1``, is skipped; every other twiddle, ``−i`` included, is
  multiplied) and does one complex addition and one subtraction. Its counts are summed by SymPy
  over that loop nest. An N-D FFT transforms axis 0, then axis 1, … (``P_1·P_2`` values: ``P_1``
  FFTs of size ``P_2`` and ``P_2`` of size ``P_1``).
* Complex arithmetic becomes real operations by a named rule (``complex_mult``, see
  :data:`symconv.layers.algorithms.COMPLEX_MULT_RULES`); a complex addition is 2 real
  additions; a conjugate is free. Every FFT is a full complex one, on real inputs too (a
  real-to-complex FFT would do about half: not modelled).

Stages: ``input_transform`` (FFT of each of the ``M`` input channels), ``weight_transform``
(FFT of each of the ``M/g·N`` zero-padded kernels, and their scaling by ``1/ΠP``, a complex
times a real: 2 real multiplications per value; left out with ``precompute_weights=True``),
``elementwise`` (``ΠP`` complex products per (input, output) channel pair of a group, the input
spectrum times the kernel's conjugate), ``channel_reduction`` (``M/g − 1`` complex additions
per frequency per output channel), ``output_transform`` (inverse FFT of each output channel; its
real part, cropped, is the output), ``bias``.

Examples
--------
>>> fft_ops(8)                      # complex (mults, adds) of one FFT of 8 values
(5, 24)
>>> from symconv import Conv2d
>>> c = fft_cost(Conv2d(3, 64, 3), (7, 7, 3))      # padded to 8×8
>>> c.stage("elementwise").mults, c.stage("elementwise").adds     # 8·8·3·64 complex products
(49152, 24576)
"""

from __future__ import annotations

import functools

import sympy

from symconv.derive.algorithms.common import AlgorithmCost, Sizes, sizes_of, stage, total
from symconv.layers.algorithms import COMPLEX_MULT_RULES, FFTOptions, algorithm_options
from symconv.layers.conv import ConvNd
from symconv.sizes import as_expr

__all__ = ["fft_cost", "fft_ops", "fft_size", "RULE"]

RULE = ("FFT: radix-2 decimation in time, the twiddle 1 skipped; complex additions 2 real "
        "additions; every FFT complex; each axis padded to a power of two")

_q = sympy.Symbol("q", nonnegative=True, integer=True)
_s = sympy.Symbol("s", positive=True, integer=True)


@functools.cache
def _summed() -> tuple[sympy.Expr, sympy.Expr]:
    """Complex ``(mults, adds)`` of one FFT of ``2^q`` values, summed over its loop nest."""
    groups, butterflies = 2**_q / 2**_s, 2 ** (_s - 1)
    mults = sympy.summation(groups * (butterflies - 1), (_s, 1, _q))   # twiddle j = 0 skipped
    adds = sympy.summation(groups * butterflies * 2, (_s, 1, _q))     # + and − per butterfly
    return sympy.simplify(mults), sympy.simplify(adds)


def fft_ops(size: sympy.Expr | int) -> tuple[sympy.Expr, sympy.Expr]:
    """Complex ``(mults, adds)`` of one radix-2 FFT of ``size`` values (a power of two).

    Examples
    --------
    >>> fft_ops(1), fft_ops(2), fft_ops(4)
    ((0, 0), (0, 2), (1, 8))
    >>> P = sympy.Symbol("P", positive=True, integer=True)
    >>> fft_ops(P)
    (P*log(P)/(2*log(2)) - P + 1, P*log(P)/log(2))
    """
    size = as_expr(size)
    exponent = sympy.log(size, 2)
    if size.is_Integer:
        exponent = sympy.Integer(int(size).bit_length() - 1)
    mults, adds = _summed()
    return (sympy.expand(mults.subs(_q, exponent)), sympy.expand(adds.subs(_q, exponent)))


def fft_size(padded: sympy.Expr) -> sympy.Expr:
    """The smallest power of two at least ``padded`` (``2**ceiling(log2(padded))`` for a symbol).

    Examples
    --------
    >>> fft_size(sympy.Integer(7)), fft_size(sympy.Integer(8)), fft_size(sympy.Integer(1))
    (8, 8, 1)
    """
    if padded.is_Integer:
        return sympy.Integer(1 << (int(padded) - 1).bit_length())
    return 2 ** sympy.ceiling(sympy.log(padded, 2))


def _fft_nd(sizes: tuple[sympy.Expr, ...]) -> tuple[sympy.Expr, sympy.Expr]:
    """Complex ``(mults, adds)`` of one N-D FFT: along each axis, one FFT per line."""
    mults = adds = sympy.Integer(0)
    for axis, size in enumerate(sizes):
        lines = sympy.Mul(*(other for index, other in enumerate(sizes) if index != axis))
        each_mults, each_adds = fft_ops(size)
        mults += lines * each_mults
        adds += lines * each_adds
    return mults, adds


def _real(complex_mults: sympy.Expr, complex_adds: sympy.Expr, rule: str
          ) -> tuple[sympy.Expr, sympy.Expr]:
    per_mult, per_add = COMPLEX_MULT_RULES[rule]
    return per_mult * complex_mults, per_add * complex_mults + 2 * complex_adds


def fft_cost(layer: ConvNd, input_shape: object, **options: object) -> AlgorithmCost:
    """The cost of ``layer`` by FFT convolution (stride 1, dilation 1).

    Options: ``complex_mult`` (``"4m2a"``, the default, or ``"3m5a"``) and
    ``precompute_weights`` (default ``False``); see :mod:`symconv.layers.algorithms`.
    """
    chosen = algorithm_options(layer, "fft", dict(options))
    assert isinstance(chosen, FFTOptions)
    sizes: Sizes = sizes_of(layer, input_shape)
    padded = tuple(size + 2 * pad for size, pad in zip(sizes.spatial, sizes.padding))
    spectrum = tuple(fft_size(size) for size in padded)
    values = sympy.Mul(*spectrum)
    M, N = sizes.channels, sizes.out_channels
    kernels = sizes.per_group * N
    one_mults, one_adds = _real(*_fft_nd(spectrum), chosen.complex_mult)
    stages = [("input_transform", stage(sizes.shape, (*spectrum, M),
                                        M * one_mults, M * one_adds))]
    if not chosen.precompute_weights:
        stages.append(("weight_transform", stage(
            sizes.shape, (*spectrum, sizes.per_group, N),
            kernels * (one_mults + 2 * values), kernels * one_adds)))
    products, _ = _real(values * kernels, sympy.Integer(0), chosen.complex_mult)
    _, product_adds = _real(values * kernels, sympy.Integer(0), chosen.complex_mult)
    _, sums = _real(sympy.Integer(0), values * N * (sizes.per_group - 1), chosen.complex_mult)
    stages += [
        ("elementwise", stage(sizes.shape, (*spectrum, sizes.per_group, N), products,
                              product_adds)),
        ("channel_reduction", stage(sizes.shape, (*spectrum, N), adds=sums)),
        ("output_transform", stage(sizes.shape, sizes.output_shape,
                                   N * one_mults, N * one_adds)),
    ]
    workspace = 2 * values * (M + kernels + N)
    return total(layer, sizes, stages, "fft", workspace,
                 f"complex_mult={chosen.complex_mult!r}; {RULE}")
