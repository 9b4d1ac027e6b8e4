"""What the algorithms' derivations share: :class:`AlgorithmCost`, a stage's cost, the operations
of applying an exact matrix, and the sizes around one convolution. Pure SymPy.

The rule for a transform (a matrix applied to a vector), the same for every algorithm: each
nonzero entry other than ±1 is one multiplication; a row with ``t`` nonzero entries takes
``t − 1`` additions (a subtraction counts as an addition, a sign change is free); an entry of
±1 multiplies nothing. Nothing is shared between rows (no common subexpressions), so hand-tuned
transforms (Lavin's F(2, 3) input transform takes 4 additions per row pair) can count fewer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import sympy

from symconv.derive.cost import _ZERO, Cost
from symconv.layers.conv import ConvNd
from symconv.layers.shapes import check_input_shape, output_spatial
from symconv.sizes import as_expr

__all__ = ["AlgorithmCost", "stage", "matrix_ops", "separable_ops", "Sizes", "sizes_of"]


@dataclass(frozen=True)
class AlgorithmCost(Cost):
    """The :class:`~symconv.derive.Cost` of one convolution evaluated by an algorithm.

    Attributes
    ----------
    algorithm
        ``"im2col"``, ``"winograd"`` or ``"fft"``.
    workspace
        Elements of the scratch tensors the algorithm fills besides input, weights and output
        (im2col: the column matrix; Winograd: the transformed input tiles, weights and product
        sums; FFT: the spectra, two real elements per complex value).
    rule
        How the counts were made (the transform rule, the complex multiplication rule).
    mults, adds, params, stages
        As for every cost; ``mults`` and ``adds`` are those of the algorithm (not of a direct
        evaluation), ``params`` the layer's (the same as direct).
    """

    algorithm: str = ""
    workspace: sympy.Expr = _ZERO
    rule: str = ""

    def _map(self, transform: Callable[[sympy.Expr], sympy.Expr], *,
             keep_source: bool) -> AlgorithmCost:
        """Apply ``transform`` to every expression, the workspace and stages included."""
        mapped = Cost._map(self, transform, keep_source=keep_source)
        assert isinstance(mapped, AlgorithmCost)
        return replace(mapped, workspace=transform(self.workspace))

    def stage(self, name: str) -> Cost:
        """The stage called ``name``.

        Examples
        --------
        >>> from symconv import Conv2d
        >>> from symconv.derive.algorithms import algorithm_cost
        >>> algorithm_cost(Conv2d(3, 64, 3), (7, 7, 3), "winograd", tile=2).stage("elementwise").mults
        27648
        """
        for stage_name, found in self.stages:
            if stage_name == name:
                return found
        names = ", ".join(stage_name for stage_name, _ in self.stages)
        from symconv.errors import SymconvError

        raise SymconvError(f"stage={name!r}: no such stage of {self.algorithm}; stages: {names}")


def stage(input_shape: tuple[sympy.Expr, ...], output_shape: tuple[object, ...],
          mults: object = 0, adds: object = 0) -> Cost:
    """One stage's cost (no parameters: the layer's are counted once, on the total)."""
    return Cost(mults=as_expr(mults), adds=as_expr(adds),
                params=_ZERO, input_shape=input_shape,
                output_shape=tuple(as_expr(size) for size in output_shape))


def matrix_ops(matrix: sympy.Matrix) -> tuple[int, int]:
    """``(mults, adds)`` of applying ``matrix`` to one vector, by the module's rule.

    Examples
    --------
    >>> matrix_ops(sympy.Matrix([[1, 1, 1, 0], [0, 1, -1, 1]]))
    (0, 4)
    >>> matrix_ops(sympy.Matrix([[sympy.Rational(1, 2), sympy.Rational(1, 2), 0], [0, 2, 1]]))
    (3, 2)
    """
    mults = sum(1 for entry in matrix if entry != 0 and abs(entry) != 1)
    adds = sum(max(sum(1 for entry in matrix.row(i) if entry != 0) - 1, 0)
               for i in range(matrix.rows))
    return mults, adds


def separable_ops(matrices: Sequence[sympy.Matrix], start: Sequence[int]) -> tuple[int, int]:
    """``(mults, adds)`` of transforming one block of shape ``start`` by ``matrices[a]`` along
    each axis ``a`` in turn (axis 0 first): along axis ``a`` the matrix is applied once per
    line, that is once per element of the other axes' current sizes.

    Examples
    --------
    >>> BT = sympy.Matrix([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]])
    >>> separable_ops([BT, BT], (4, 4))    # 4 lines, then 4 lines, of 4 additions
    (0, 32)
    """
    shape = list(start)
    mults = adds = 0
    for axis, matrix in enumerate(matrices):
        lines = math.prod(size for other, size in enumerate(shape) if other != axis)
        each_mults, each_adds = matrix_ops(matrix)
        mults += lines * each_mults
        adds += lines * each_adds
        shape[axis] = matrix.rows
    return mults, adds


@dataclass(frozen=True)
class Sizes:
    """The sizes around one convolution: input shape, input spatial sizes, output spatial sizes,
    input and output channels, input channels per group, kernel."""

    shape: tuple[sympy.Expr, ...]
    spatial: tuple[sympy.Expr, ...]
    out: tuple[sympy.Expr, ...]
    channels: sympy.Expr
    out_channels: sympy.Expr
    per_group: sympy.Expr
    kernel: tuple[sympy.Expr, ...]
    padding: tuple[sympy.Expr, ...]

    @property
    def output_shape(self) -> tuple[sympy.Expr, ...]:
        return (*self.out, self.out_channels)


def sizes_of(layer: ConvNd, input_shape: object) -> Sizes:
    """Check ``input_shape`` against ``layer`` and gather the sizes its algorithms need."""
    shape = check_input_shape(layer, input_shape)
    out = output_spatial(layer, shape[:-1])
    channels = as_expr(layer.in_channels)
    return Sizes(
        shape=shape, spatial=shape[:-1], out=tuple(as_expr(size) for size in out),
        channels=channels, out_channels=as_expr(layer.out_channels),
        per_group=channels / as_expr(layer.groups),
        kernel=tuple(as_expr(size) for size in layer.kernel_size),
        padding=tuple(as_expr(size) for size in layer.padding),
    )


def total(layer: ConvNd, sizes: Sizes, stages: list[tuple[str, Cost]], algorithm: str,
          workspace: sympy.Expr, rule: str) -> AlgorithmCost:
    """The algorithm's cost: its stages (a bias stage added for ``bias=True``), summed."""
    if layer.bias:
        stages.append(("bias", stage(sizes.shape, sizes.output_shape,
                                     adds=sympy.Mul(*sizes.out) * sizes.out_channels)))
    weights = sympy.Mul(*sizes.kernel) * sizes.per_group * sizes.out_channels
    return AlgorithmCost(
        mults=sympy.Add(*(found.mults for _, found in stages)),
        adds=sympy.Add(*(found.adds for _, found in stages)),
        params=sympy.expand(weights + (sizes.out_channels if layer.bias else 0)),
        input_shape=sizes.shape, output_shape=sizes.output_shape, stages=tuple(stages),
        kind=layer.kind, algorithm=algorithm, workspace=workspace, rule=rule,
    )
