"""The backward pass of the layers of windowed attention (Swin, MaxViT):
:class:`~symconv.layers.windows.Roll`, :class:`~symconv.layers.windows.Strided`,
:class:`~symconv.layers.windows.Normalize`, :class:`~symconv.layers.windows.Constant` and
:class:`~symconv.layers.tokens.MulParameter`. ``F.linear``
(:class:`~symconv.frontends.mapping_windows.FunctionalLinear`) is a
:class:`~symconv.layers.Linear` and an ``einsum`` product a :class:`~symconv.layers.products.MatMul`:
they inherit those rules.

Registered into :func:`symconv.layers.backward.backward_nests` when that module is imported.

=====================  ======================================================================
layer                  backward (``g``: the output's gradient)
=====================  ======================================================================
Roll                   nothing: ``g`` rolled back by the opposite shifts (a copy)
Strided                nothing: ``g`` scattered into a zero gradient of the input
Constant               nothing: its values are not computed from the input, whose gradient
                       through it is zero
MulParameter           ``input_grad`` ``g·p`` (1 mult per element); ``weight_grad`` (learned
                       only) ``g·x`` summed over the axes ``p`` was broadcast along: per
                       element of ``p`` a dot product of the broadcast positions
Normalize              per row of ``L`` along the axis, as PyTorch's autograd runs
                       ``x / norm(x).clamp_min(eps).expand_as(x)``, ``d`` the clamped norm:
                       the numerator's ``g/d`` (``L`` divs); the denominator's
                       ``−g·((x/d)/d)`` (``div_tensor_other_backward``: ``2L`` divs, ``L``
                       mults) summed by ``expand_as``'s backward (``L − 1`` adds);
                       ``clamp_min``'s ``d ≥ eps`` (1 comparison); the norm's
                       ``g_n·(x/‖x‖)`` masked where ``‖x‖ = 0`` (``norm_backward``: ``L``
                       divs, ``L`` mults, 1 comparison); the two gradients of ``x`` added
                       (``L`` adds)
=====================  ======================================================================

Per row of ``L``: ``4L`` divs, ``2L`` mults, ``2L − 1`` adds, 2 comparisons (the sign flip
counts nothing, as for ``Div``).

Examples
--------
>>> from symconv import cost
>>> from symconv.layers.windows import Normalize, Roll, Strided
>>> c = cost(Normalize(axis=-1), (3, 8), phase="backward")   # 3 rows of 8
>>> c.divs, c.mults, c.adds, c.comparisons
(96, 48, 45, 6)
>>> cost(Roll((-1,), (0,)), (4, 4), phase="backward").adds, cost(
...     Strided((0,), (2,)), (4, 4), phase="backward").adds
(0, 0)
>>> from symconv.layers.tokens import MulParameter
>>> c = cost(MulParameter((3, 1, 1)), (4, 3, 5, 5), phase="backward")
>>> c.mults, c.adds   # g·p: 300; g·x over 4·5·5 positions for each of 3: 300 mults, 297 adds
(600, 297)
"""

from __future__ import annotations

from symconv.layers.activations import check_axis
from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.tokens import MulParameter
from symconv.layers.windows import Constant, Normalize, Roll, Strided
from symconv.sizes import Size

__all__: list[str] = []


@backward_nests.register(Roll)
@backward_nests.register(Strided)
@backward_nests.register(Constant)
def _(layer: Layer, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    return ()


@backward_nests.register
def _(layer: MulParameter, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    shape = (*input_spatial, _need_channels(layer, in_channels))
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        nests.append(("input_grad", _elements(shape, (("mults", 1),))))
    if trainable and layer.learned:
        padded = (1,) * (len(shape) - len(layer.shape)) + tuple(layer.shape)
        spread = tuple(out if size == 1 else 1 for size, out in zip(padded, shape))
        nests.append(("weight_grad", LoopNest(outer=tuple(layer.shape), inner=spread,
                                              outputs=tuple(layer.shape))))
    return tuple(nests)


@backward_nests.register
def _(layer: Normalize, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    shape = (*input_spatial, _need_channels(layer, in_channels))
    axis = check_axis(layer.axis, len(shape), "Normalize(axis")
    rows = shape[:axis] + shape[axis + 1:]
    return (
        # −g·((x/d)/d) summed along the row (L mults, L − 1 adds; its divs are counted below)
        ("dot", LoopNest(outer=rows, inner=(shape[axis],), outputs=rows)),
        # d ≥ eps (clamp_min) and ‖x‖ = 0 (norm_backward's mask)
        ("mask", _elements(rows, (("comparisons", 2),))),
        # (x/d)/d (2 divs); g/d, and x/‖x‖ times the norm's gradient, the two added
        ("input_grad", _elements(shape, (("divs", 4), ("mults", 1), ("adds", 1)))),
    )
