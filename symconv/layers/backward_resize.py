"""The backward pass of :class:`~symconv.layers.Upsample` and :class:`~symconv.layers.PReLU`.

Registered into :func:`symconv.layers.backward.backward_nests` when that module is imported.
Each follows PyTorch's CPU backward kernel (``UpSampleKernel.cpp``'s
``cpu_upsample_nearest_backward`` and ``cpu_upsample_linear_backward``; ``prelu_backward``):

================  ==========================================================================
layer             backward (``g``: the output's gradient)
================  ==========================================================================
nearest           ``input_grad``: each output element's ``g`` added into the input element it
                  was copied from (a zero-initialised input gradient): 1 add per output element
bilinear          ``input_grad``: per output element, a scatter of 4 weighted contributions,
                  ``grad_input[i, j] += λ_h·λ_w·g`` for each of the 4 taps: 2 mults and 1 add
                  each, 8 mults and 4 adds per output element (the weight products ``λ_h·λ_w``
                  are formed again for every tap and channel, as the kernel does; two taps on
                  the same element at the last row or column are added all the same)
PReLU             ``mask`` ``x > 0`` (1 comparison per element, shared by both gradients);
                  ``input_grad`` ``g`` where ``x > 0``, else ``a·g`` (1 mult per element,
                  formed for every element as in the forward); ``weight_grad`` ``x·g`` where
                  ``x ≤ 0``, else 0, summed per slope over the positions (and the channels for
                  one shared slope): a dot product per slope
================  ==========================================================================

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import PReLU, Upsample
>>> c = cost(Upsample(scale_factor=2, mode="bilinear"), (3, 3, 2), phase="backward")
>>> c.mults, c.adds          # 6·6·2 = 72 output elements: 8 mults, 4 adds each
(576, 288)
>>> cost(Upsample(scale_factor=2), (3, 3, 2), phase="backward").adds
72
>>> c = cost(PReLU(2), (3, 3, 2), phase="backward")
>>> c.comparisons, c.mults, c.adds    # 18 elements; 2 slopes, dot products of 9 terms
(18, 36, 16)
"""

from __future__ import annotations

from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import LoopNest, _need_channels
from symconv.layers.resize import PReLU, Upsample
from symconv.sizes import Size, as_expr

__all__: list[str] = []


@backward_nests.register
def _(layer: Upsample, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    channels = _need_channels(layer, in_channels)
    outputs = (*layer.resized(input_spatial), channels)
    inputs = (*input_spatial, channels)
    if layer.mode == "nearest":
        return (("input_grad", LoopNest(outer=outputs, inner=(), outputs=inputs,
                                        multiply=False, accumulate="scatter")),)
    # per output element: the 4 taps, each λ_h·λ_w (per_outer: 4 mults) times g (1 mult a
    # tap), added into the input gradient (1 add a tap)
    return (("input_grad", LoopNest(outer=outputs, inner=(2, 2), outputs=inputs,
                                    multiply=True, accumulate="scatter",
                                    per_outer=(("mults", 4),))),)


@backward_nests.register
def _(layer: PReLU, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    channels = _need_channels(layer, in_channels)
    shape = (*input_spatial, channels)
    nests: list[tuple[str, LoopNest]] = []
    if input_grad or trainable:
        nests.append(("mask", _elements(shape, (("comparisons", 1),))))
    if input_grad:
        nests.append(("input_grad", _elements(shape, (("mults", 1),))))
    if trainable:
        shared = as_expr(layer.num_parameters) == 1
        slopes = (layer.num_parameters,)
        nests.append(("weight_grad", LoopNest(outer=slopes,
                                              inner=shape if shared else input_spatial,
                                              outputs=slopes)))
    return tuple(nests)
