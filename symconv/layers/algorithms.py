"""Which algorithm may evaluate which convolution, and with what options: one place that both
the derivation (:mod:`symconv.derive.algorithms`) and the executors
(:mod:`symconv.execute.algorithms`) read, so that they refuse the same layers with the same words.

============  ===============================================================================
algorithm     applies to, and its options
============  ===============================================================================
``direct``    every layer (the definition of ``mults`` and ``adds``)
``im2col``    every convolution (``Conv1d``/``2d``/``3d``, any stride, padding, dilation,
              groups): the windows copied into one matrix, then one GEMM per group
``winograd``  convolutions with stride 1, dilation 1 and whole kernel sizes; ``tile=m`` (an
              int, or one per axis; default 2) gives F(m×m, r×r) with r from the kernel;
              ``points=`` the Cook–Toom points (default 0, ±1, ±2, ±1/2, …);
              ``precompute_weights=`` (default ``False``) leaves the weight transform out
``fft``       convolutions with stride 1 and dilation 1: a radix-2 FFT of every axis, padded to
              a power of two; ``complex_mult=`` the rule by which a complex multiplication
              becomes real operations (:data:`COMPLEX_MULT_RULES`, default ``"4m2a"``);
              ``precompute_weights=`` as for Winograd
============  ===============================================================================

Examples
--------
>>> from symconv import Conv2d
>>> algorithm_options(Conv2d(3, 64, 3), "winograd", {"tile": 4})
WinogradOptions(tile=(4, 4), points=None, precompute_weights=False)
>>> algorithm_options(Conv2d(3, 64, 3, stride=2), "winograd", {})
Traceback (most recent call last):
...
symconv.errors.SymconvError: algorithm='winograd' needs stride 1 on every axis, not stride=(2, 2); use ...
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symconv.errors import SymconvError
from symconv.layers.base import Layer
from symconv.layers.conv import ConvNd

__all__ = [
    "ALGORITHMS", "COMPLEX_MULT_RULES", "Im2colOptions", "WinogradOptions", "FFTOptions",
    "algorithm_options", "winograd_stages", "fft_stages", "im2col_stages",
]

#: The algorithms :func:`symconv.cost` and :func:`symconv.verify` know.
ALGORITHMS = ("direct", "im2col", "winograd", "fft")

#: How one complex multiplication ``(a + bi)(c + di)`` becomes real operations:
#: ``"4m2a"``: ``(ac − bd) + (ad + bc)i``, 4 real multiplications and 2 additions;
#: ``"3m5a"``: Gauss's form ``k1 = c(a + b)``, ``k2 = a(d − c)``, ``k3 = b(c + d)``,
#: ``(k1 − k3) + (k1 + k2)i``, 3 multiplications and 5 additions (nothing precomputed).
#: A complex addition is always 2 real additions, a subtraction counts as an addition, and a
#: sign change (a conjugate) is not counted.
COMPLEX_MULT_RULES: dict[str, tuple[int, int]] = {"4m2a": (4, 2), "3m5a": (3, 5)}

#: Stage names, in the order they run (a bias stage is added for ``bias=True``; the weight
#: transform is left out when ``precompute_weights=True``).
im2col_stages = ("im2col", "gemm")
winograd_stages = ("input_transform", "weight_transform", "elementwise", "channel_reduction",
                   "output_transform")
fft_stages = winograd_stages


@dataclass(frozen=True)
class Im2colOptions:
    """im2col takes no options."""


@dataclass(frozen=True)
class WinogradOptions:
    """Checked options of ``algorithm="winograd"``: the tile per axis, the points (``None``:
    the default ones) and whether the weight transform is precomputed (not counted)."""

    tile: tuple[int, ...]
    points: tuple[Any, ...] | None
    precompute_weights: bool


@dataclass(frozen=True)
class FFTOptions:
    """Checked options of ``algorithm="fft"``: the complex multiplication rule and whether the
    weight transform (the kernels' spectra) is precomputed (not counted)."""

    complex_mult: str
    precompute_weights: bool


AlgorithmOptions = Im2colOptions | WinogradOptions | FFTOptions


def _flag(value: object, name: str, algorithm: str) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"{name}={value!r} must be True or False for algorithm={algorithm!r}")
    return value


def _whole_int(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, int)


def _unknown(options: dict[str, object], known: tuple[str, ...], algorithm: str) -> None:
    for name in options:
        if name not in known:
            allowed = ", ".join(known) if known else "none"
            raise SymconvError(
                f"{name}= is not an option of algorithm={algorithm!r}; its options: {allowed}"
            )


def _unit_steps(layer: ConvNd, algorithm: str) -> None:
    """Refuse a stride or dilation other than 1 (Winograd and FFT compute every stride-1
    output of an undilated kernel)."""
    for name in ("stride", "dilation"):
        values = getattr(layer, name)
        if any(value != 1 for value in values):
            use = "a strided" if name == "stride" else "a dilated"
            raise SymconvError(
                f"algorithm={algorithm!r} needs {name} 1 on every axis, not {name}={values}; "
                f"use algorithm='im2col' or 'direct' for {use} convolution"
            )


def algorithm_options(layer: Layer, algorithm: object, options: dict[str, object]
                      ) -> AlgorithmOptions:
    """Check that ``algorithm`` applies to ``layer`` and return its checked options.

    Raises
    ------
    SymconvError
        Naming the algorithm and what does not fit: an unknown algorithm or option, a layer that
        is not a convolution, a stride or dilation other than 1 (Winograd, FFT), a symbolic
        kernel size (Winograd), a bad tile or rule.
    """
    if not isinstance(algorithm, str) or algorithm not in ALGORITHMS[1:]:
        raise SymconvError(f"algorithm={algorithm!r} is unknown; use one of "
                           f"{', '.join(ALGORITHMS)}")
    if not isinstance(layer, ConvNd):
        raise SymconvError(
            f"algorithm={algorithm!r} evaluates one convolution (Conv1d, Conv2d, Conv3d, "
            f"depthwise, pointwise), not {type(layer).__name__}; give each convolution on its "
            "own, or use algorithm='direct'"
        )
    if algorithm == "im2col":
        _unknown(options, (), algorithm)
        return Im2colOptions()
    _unit_steps(layer, algorithm)
    if algorithm == "fft":
        _unknown(options, ("complex_mult", "precompute_weights"), algorithm)
        rule = options.get("complex_mult", "4m2a")
        if not isinstance(rule, str) or rule not in COMPLEX_MULT_RULES:
            raise SymconvError(f"complex_mult={rule!r} is unknown; use one of "
                               f"{', '.join(COMPLEX_MULT_RULES)}")
        return FFTOptions(rule, _flag(options.get("precompute_weights", False),
                                      "precompute_weights", algorithm))
    _unknown(options, ("tile", "points", "precompute_weights"), algorithm)
    kernel = layer.kernel_size
    if not all(_whole_int(size) for size in kernel):
        raise SymconvError(
            f"algorithm='winograd' builds its transforms for a given kernel, not "
            f"kernel_size={kernel}; substitute numbers for the kernel size"
        )
    tile = options.get("tile", 2)
    given: tuple[object, ...] = tile if isinstance(tile, tuple) else (tile,) * len(kernel)
    tiles = tuple(m for m in given if isinstance(m, int) and not isinstance(m, bool) and m >= 1)
    if len(given) != len(kernel) or len(tiles) != len(given):
        raise SymconvError(
            f"tile={tile!r} must be a positive int (or one per axis, {len(kernel)} of them), "
            "like tile=2 for F(2×2, 3×3)"
        )
    points = options.get("points")
    if points is not None and len({m + r for m, r in zip(tiles, kernel)}) != 1:
        raise SymconvError(
            f"points= gives one set of points, but tile={tiles} and kernel_size={kernel} need "
            "a different number per axis; use the same m + r on every axis, or leave points out"
        )
    return WinogradOptions(
        tiles,
        tuple(points) if isinstance(points, (list, tuple)) else  # checked when built
        None if points is None else (points,),
        _flag(options.get("precompute_weights", False), "precompute_weights", algorithm),
    )
