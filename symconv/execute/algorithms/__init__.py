"""The algorithms executed with NumPy, counting what they do: im2col, Winograd, FFT.

Counts come from the operations performed (the :class:`~symconv.execute.Counter` helpers and
the counted blocks of :mod:`~symconv.execute.algorithms.ops`), never from formulas: like all of
:mod:`symconv.execute`, this package reaches no :mod:`symconv.derive` module. The transform
matrices come from :mod:`symconv.layers.winograd_points`, the options and refusals from
:mod:`symconv.layers.algorithms`, both below derive and execute.

Examples
--------
>>> import numpy as np
>>> from symconv import Conv2d
>>> rng = np.random.default_rng(0)
>>> x, weight = rng.standard_normal((7, 7, 3)), rng.standard_normal((3, 3, 3, 64))
>>> run = run_algorithm(Conv2d(3, 64, 3), x, {"weight": weight}, "winograd", tile=4)
>>> run.output.shape, dict(run.stages)["elementwise"].mults
((5, 5, 64), 27648)
"""

from __future__ import annotations

import numpy as np

from symconv.execute.algorithms.common import MAX_ELEMENTS, AlgorithmRun
from symconv.execute.algorithms.fft import run_fft
from symconv.execute.algorithms.im2col import run_im2col
from symconv.execute.algorithms.winograd import run_winograd
from symconv.execute.counter import Array
from symconv.layers.algorithms import FFTOptions, WinogradOptions, algorithm_options
from symconv.layers.base import Layer

__all__ = ["AlgorithmRun", "run_algorithm", "run_im2col", "run_winograd", "run_fft",
           "MAX_ELEMENTS"]


def run_algorithm(layer: Layer, x: Array, params: dict[str, Array], algorithm: str,
                  **options: object) -> AlgorithmRun:
    """Run one convolution on ``x`` (channels last, float64) by ``algorithm``, counting.

    ``params`` holds ``"weight"`` (``(*kernel, M/g, N)``) and, with a bias, ``"bias"``: those
    of :func:`symconv.execute` for the same layer.

    Raises
    ------
    SymconvError
        When the algorithm does not apply (by name), the options are bad, the input or the
        parameters do not fit, or an array would exceed :data:`MAX_ELEMENTS`.
    """
    chosen = algorithm_options(layer, algorithm, dict(options))
    data = np.asarray(x, dtype=np.float64)
    weights = {name: np.asarray(value, dtype=np.float64) for name, value in params.items()}
    if isinstance(chosen, WinogradOptions):
        return run_winograd(layer, data, weights, chosen)  # type: ignore[arg-type]
    if isinstance(chosen, FFTOptions):
        return run_fft(layer, data, weights, chosen)  # type: ignore[arg-type]
    return run_im2col(layer, data, weights)  # type: ignore[arg-type]
