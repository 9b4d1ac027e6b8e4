"""Algorithms other than a direct evaluation, as loop nests: im2col, Winograd, FFT. Pure SymPy.

Each derivation gives an :class:`~symconv.derive.algorithms.common.AlgorithmCost` with named
stages; what is counted in each stage, and by which rule, is said in its module. May import:
layers and the vocabulary, and :mod:`symconv.derive.cost` and :mod:`~symconv.derive.ratio`.

Examples
--------
>>> from symconv import Conv2d
>>> c = algorithm_cost(Conv2d(3, 64, 3), (7, 7, 3), "winograd", tile=4)
>>> c.stage("elementwise").mults     # ceil(5/4)² = 4 tiles of 6×6 products, 3·64 channel pairs
27648
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from symconv.derive.algorithms.common import AlgorithmCost
from symconv.derive.algorithms.fft import fft_cost
from symconv.derive.algorithms.im2col import im2col_cost
from symconv.derive.algorithms.winograd import elementwise_ratio, winograd_cost
from symconv.derive.cost import Source
from symconv.errors import SymconvError
from symconv.layers.algorithms import ALGORITHMS, algorithm_options
from symconv.layers.base import Layer

__all__ = ["AlgorithmCost", "algorithm_cost", "im2col_cost", "winograd_cost", "fft_cost",
           "elementwise_ratio", "ALGORITHMS"]


def algorithm_cost(layer: Layer, input_shape: object, algorithm: str,
                   **options: object) -> AlgorithmCost:
    """The cost of one convolution by ``algorithm`` (``"im2col"``, ``"winograd"``, ``"fft"``).

    Raises
    ------
    SymconvError
        For an unknown algorithm or option, or an algorithm that does not apply to the layer
        (named in the message: Winograd and FFT with a stride or dilation, a layer that is not a
        convolution).
    """
    algorithm_options(layer, algorithm, dict(options))   # refuse before deriving anything
    derivations = {"im2col": im2col_cost, "winograd": winograd_cost, "fft": fft_cost}
    if algorithm not in derivations:
        raise SymconvError(f"algorithm={algorithm!r} is unknown; use one of "
                           f"{', '.join(ALGORITHMS)}")
    result = derivations[algorithm](layer, input_shape, **options)  # type: ignore[arg-type]
    again = _Again(algorithm, tuple(options.items()))
    return replace(result, source=Source(layer, result.input_shape, again))


@dataclass(frozen=True)
class _Again:
    """Derive again by the same algorithm with the same options (for :meth:`Cost.subs`)."""

    algorithm: str
    options: tuple[tuple[str, object], ...]

    def __call__(self, layer: Layer, input_shape: object) -> AlgorithmCost:
        return algorithm_cost(layer, input_shape, self.algorithm, **dict(self.options))
