"""im2col, executed: every window copied into a row of a column matrix, then one counted matrix
product per group (:meth:`~symconv.execute.Counter.matmul`)."""

from __future__ import annotations

import numpy as np

from symconv.execute.algorithms.common import (
    AlgorithmRun,
    bias_stage,
    check_run,
    elements,
    finish,
    padded,
)
from symconv.execute.counter import Array, Counter
from symconv.execute.geometry import placements, window
from symconv.layers.conv import ConvNd

__all__ = ["run_im2col"]


def run_im2col(layer: ConvNd, x: Array, params: dict[str, Array]) -> AlgorithmRun:
    """Evaluate ``layer`` on ``x`` by im2col and GEMM, counting what it does.

    Examples
    --------
    >>> from symconv import Conv2d
    >>> rng = np.random.default_rng(0)
    >>> run = run_im2col(Conv2d(3, 64, 3), rng.standard_normal((7, 7, 3)),
    ...                  {"weight": rng.standard_normal((3, 3, 3, 64))})
    >>> run.output.shape, [(name, counts.mults) for name, counts in run.stages], run.workspace
    ((5, 5, 64), [('im2col', 0), ('gemm', 43200)], 675)
    """
    shape = window(layer)
    dims = x.ndim - 1
    starts = [placements(size, padding=pad, reach=reach, stride=step) for size, pad, reach, step
              in zip(x.shape[:-1], shape.padding, shape.reach, shape.stride)]
    out = tuple(len(found) for found in starts)
    groups, channels = int(layer.groups), x.shape[-1]
    weight = params["weight"]
    check_run(layer, x, params, elements(*out, *shape.kernel, channels))
    source = padded(x, shape.padding, shape.padding)
    index = []
    for axis in range(dims):   # positions o·s + j·d: output axis `axis`, kernel axis dims + axis
        taps = np.array(starts[axis])[:, None] + np.arange(shape.kernel[axis]) * shape.dilation[axis]
        view = [1] * (2 * dims)
        view[axis], view[dims + axis] = taps.shape
        index.append(taps.reshape(view))
    gather = Counter()
    columns = source[tuple(index)]           # (*out, *kernel, M): copies only
    rows, per_group = elements(*out), channels // groups
    columns = columns.reshape(rows, -1, groups, per_group)
    gemm = Counter()
    per_out = weight.shape[-1] // groups
    weights = weight.reshape(-1, weight.shape[-1])     # (kernel..., M/g) rows, as the columns
    results = []
    for group in range(groups):
        matrix = columns[:, :, group, :].reshape(rows, -1)
        kernel = weights[:, group * per_out:(group + 1) * per_out]
        results.append(gemm.matmul(matrix, kernel))
    output = np.concatenate(results, axis=1).reshape(*out, -1)
    stages = [("im2col", gather), ("gemm", gemm)]
    output = bias_stage(layer, output, params, stages)
    return finish(output, stages, int(columns.size))
