"""The backward pass of the layers that move, reduce, pool adaptively or scale: ``Mean``,
``Cat``, ``Slice``, ``ChannelShuffle``, ``Pad``, ``Identity``, ``AdaptiveAvgPool2d``,
``AdaptiveMaxPool2d`` and ``LayerScale`` (the dropouts and ``StochasticDepth``, the identity at
inference, multiply by their noise: :mod:`symconv.layers.dropout_train`).

Registered into :func:`symconv.layers.backward.backward_nests` when that module is imported.

=====================  ======================================================================
layer                  backward
=====================  ======================================================================
Mean                   per output element 1 division (``g/R``), the quotient copied to its
                       ``R`` positions (as ``GlobalAvgPool2d``'s)
Cat                    nothing: each operand's gradient is a slice of ``g`` (a view); where
                       the other operand has another reader its two gradients meet (1 add per
                       element, counted by the graph walk as for ``Add``)
Slice                  nothing: ``g`` copied into a zero gradient of the input
ChannelShuffle         nothing: the inverse permutation (a copy)
Pad                    ``constant``: nothing (``g`` cropped); ``reflect``, ``replicate``,
                       ``circular``: the interior copied, each border element's gradient added
                       to the element it was copied from (1 add per border element)
Identity               nothing (the identity, as its forward pass)
AdaptiveAvgPool2d      per output 1 division (``g/window``), scattered into the window (one
                       add per window element, into a zero-initialised input gradient), as
                       ``AvgPool2d``
AdaptiveMaxPool2d      routed to the window's maximum saved by the forward: 1 add per output
LayerScale             ``input_grad`` ``g·γ`` (1 mult per element); ``weight_grad`` per channel
                       ``Σ g·x`` over the positions (a dot product)
=====================  ======================================================================

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import AdaptiveAvgPool2d, Pad
>>> c = cost(AdaptiveAvgPool2d((3, 2)), (5, 4, 1), phase="backward")  # windows 2, 3, 2 by 2, 2
>>> c.divs, c.adds
(6, 28)
>>> cost(Pad((1, 1), mode="reflect"), (4, 2), phase="backward").adds   # 2 border rows of 2
4
"""

from __future__ import annotations

import sympy

from symconv.layers.adaptive import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.broadcast import LayerScale
from symconv.layers.movement import Cat, ChannelShuffle, Identity, Pad, Slice
from symconv.layers.reduce import Mean
from symconv.sizes import Size, as_expr

__all__: list[str] = []


@backward_nests.register(Cat)
@backward_nests.register(Slice)
@backward_nests.register(ChannelShuffle)
@backward_nests.register(Identity)
def _(layer: Layer, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    return ()


@backward_nests.register
def _(layer: Pad, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad or layer.mode == "constant":
        return ()
    channels = as_expr(_need_channels(layer, in_channels))
    inside = sympy.Mul(*(as_expr(size) for size in input_spatial))
    padded = sympy.Mul(*(as_expr(size) for size in layer.padded(input_spatial)))
    border = sympy.expand((padded - inside) * channels)
    return (("input_grad", _elements((border,), (("adds", 1),))),)


@backward_nests.register
def _(layer: Mean, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    outputs = layer.loop_nest(input_spatial, output_spatial, in_channels).outputs
    return (("input_grad", _elements(outputs, (("divs", 1),))),)


@backward_nests.register
def _(layer: AdaptiveAvgPool2d, input_spatial: tuple[Size, ...],
      output_spatial: tuple[Size, ...], in_channels: Size | None = None, *,
      input_grad: bool = True, trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    forward = layer.loop_nest(input_spatial, output_spatial, in_channels)
    inputs = (*input_spatial, forward.outputs[-1])
    return (("share", _elements(forward.outputs, (("divs", 1),))),
            ("input_grad", LoopNest(outer=forward.outer, inner=forward.inner, outputs=inputs,
                                    multiply=False, accumulate="scatter")))


@backward_nests.register
def _(layer: AdaptiveMaxPool2d, input_spatial: tuple[Size, ...],
      output_spatial: tuple[Size, ...], in_channels: Size | None = None, *,
      input_grad: bool = True, trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    forward = layer.loop_nest(input_spatial, output_spatial, in_channels)
    inputs = (*input_spatial, forward.outputs[-1])
    return (("input_grad", LoopNest(outer=forward.outputs, inner=(), outputs=inputs,
                                    multiply=False, accumulate="scatter")),)


@backward_nests.register
def _(layer: LayerScale, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    shape = (*input_spatial, layer.channels)
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        nests.append(("input_grad", _elements(shape, (("mults", 1),))))
    if trainable:
        nests.append(("weight_grad", LoopNest(outer=(layer.channels,), inner=input_spatial,
                                              outputs=(layer.channels,))))
    return tuple(nests)
