"""The backward pass of :class:`~symconv.layers.LayerNorm` and :class:`~symconv.layers.GroupNorm`.

Registered into :func:`symconv.layers.backward.backward_nests` when that module is imported.
Both normalise *rows* of ``R`` values (LayerNorm: one position's ``C`` channels; GroupNorm: one
group's ``C/G`` channels at every position) with the row's mean ``μ`` and ``rstd = 1/σ``, which
the forward pass saves (as PyTorch's ``native_layer_norm`` and ``native_group_norm`` return
them). With ``x̂ = (x − μ)·rstd`` and ``g·γ`` (``g`` where there is no weight: a multiplication
by 1 is not counted, as in the forward):

``dx = rstd·(g·γ − mean(g·γ) − x̂·mean(g·γ·x̂))``, the means over the row; ``dγ = Σ g·x̂`` and
``dβ = Σ g`` per channel over the positions.

==============  =============================================================================
gradient        what it counts
==============  =============================================================================
``normalised``  ``x̂``: 1 add, 1 mult per element (when ``dx`` or ``dγ`` is needed)
``scale``       ``g·γ``: 1 mult per element (with a weight)
``sum_g``       per row ``Σ g·γ``: ``R − 1`` adds
``dot``         per row ``Σ g·γ·x̂``: ``R`` mults, ``R − 1`` adds
``constants``   per row the two means: 2 divs
``input_grad``  ``(g·γ − a − x̂·b)·rstd``: 2 mults, 2 adds per element
``weight_grad`` per channel ``Σ g·x̂`` over the ``P`` positions: ``P`` mults, ``P − 1`` adds
``bias_grad``   per channel ``Σ g``: ``P − 1`` adds
==============  =============================================================================

PyTorch's CPU kernels (``layer_norm_kernel.cpp``, ``group_norm_kernel.cpp``) fold the same sums
into per-row coefficients in another order; the formulation here is the one the executors
(:mod:`symconv.execute.backward_norm`) perform.

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import LayerNorm
>>> c = cost(LayerNorm(4), (3, 4), phase="backward")
>>> c.mults, c.adds, c.divs
(72, 70, 6)
"""

from __future__ import annotations

import sympy

from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import LoopNest, _need_channels
from symconv.layers.norm import GroupNorm, LayerNorm
from symconv.sizes import Size, as_expr

__all__ = ["normalisation_nests"]


def normalisation_nests(shape: tuple[Size, ...], rows: tuple[Size, ...],
                        row: tuple[Size, ...], *, weight: bool, bias: bool,
                        input_grad: bool, trainable: bool) -> Nests:
    """The nests above for an input of ``shape`` normalised in ``rows`` rows of extents ``row``
    (their product is ``R``), with a weight and bias where present and trainable."""
    spatial, channels = shape[:-1], shape[-1]
    weight_grad = trainable and weight
    bias_grad = trainable and bias
    nests: list[tuple[str, LoopNest]] = []
    if input_grad or weight_grad:
        nests.append(("normalised", _elements(shape, (("adds", 1), ("mults", 1)))))
    if input_grad:
        if weight:
            nests.append(("scale", _elements(shape, (("mults", 1),))))
        nests.append(("sum_g", LoopNest(outer=rows, inner=row, outputs=rows, multiply=False)))
        nests.append(("dot", LoopNest(outer=rows, inner=row, outputs=rows)))
        nests.append(("constants", _elements(rows, (("divs", 2),))))
        nests.append(("input_grad", _elements(shape, (("mults", 2), ("adds", 2)))))
    if weight_grad:
        nests.append(("weight_grad", LoopNest(outer=(channels,), inner=spatial,
                                              outputs=(channels,))))
    if bias_grad:
        nests.append(("bias_grad", LoopNest(outer=(channels,), inner=spatial,
                                            outputs=(channels,), multiply=False)))
    return tuple(nests)


@backward_nests.register
def _(layer: LayerNorm, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    shape = (*input_spatial, layer.normalized_shape)
    return normalisation_nests(shape, tuple(input_spatial), (layer.normalized_shape,),
                               weight=layer.has_weight, bias=layer.has_bias,
                               input_grad=input_grad, trainable=trainable)


@backward_nests.register
def _(layer: GroupNorm, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    channels = _need_channels(layer, layer.num_channels)
    per_group = sympy.simplify(as_expr(channels) / as_expr(layer.num_groups))
    return normalisation_nests((*input_spatial, channels), (layer.num_groups,),
                               (*input_spatial, per_group), weight=layer.affine,
                               bias=layer.affine, input_grad=input_grad, trainable=trainable)
