"""What a layer's backward pass runs: one loop nest per gradient (:func:`backward_nests`).

Given the gradient of the loss with respect to a layer's output (``g``, the output's shape), the
backward pass computes the gradient with respect to the layer's input (``input_grad``, unless it
is not needed: the first layer, or a layer with nothing trainable before it) and, where the layer
is trainable, with respect to its weight and bias. Each gradient is a :class:`LoopNest`, derived
by the same generic derivation as a forward pass (:mod:`symconv.derive.backward`), never a typed
formula. What each layer kind counts:

==================  ==========================================================================
layer               backward (per gradient)
==================  ==========================================================================
convolution         ``input_grad``: a transposed convolution of ``g`` in scatter form, every
                    product of the forward pass again (``H_o·W_o·N·k²·M/g`` mults), each added
                    once into a zero-initialised input gradient (as many adds);
                    ``weight_grad``: a correlation of input and ``g``, one dot product of
                    ``H_o·W_o`` terms per weight (the forward's mults again);
                    ``bias_grad``: per output channel, a sum of ``H_o·W_o`` terms
transposed conv.    ``input_grad``: a convolution of ``g`` (gather form: a dot product of
                    ``k²·N/g`` terms per input element); ``weight_grad``: a dot product of
                    ``H·W`` terms per weight; ``bias_grad`` as a convolution's
Linear              ``input_grad``: ``g·Wᵀ`` (dot products of ``out_features`` terms);
                    ``weight_grad``: ``xᵀ·g`` (dot products over the leading positions);
                    ``bias_grad``: a sum over the leading positions
BatchNorm           training statistics: the gradients PyTorch's ``native_batch_norm_backward``
                    computes, from the batch mean ``μ`` and ``1/σ`` saved by the forward pass
                    in training mode
                    (:mod:`symconv.layers.batchnorm_train`, which counts them): ``centre``
                    ``x − μ`` (1 add per element); ``sum_g`` ``Σ g`` and ``dot`` ``Σ g·(x − μ)``
                    per channel; ``constants`` per channel ``Σg/E`` (1 div), ``dot·(1/σ)²/E``
                    (2 mults, 1 div) and ``γ/σ`` (1 mult); ``input_grad``
                    ``(g − Σg/E − (x − μ)·c)·γ/σ`` (2 mults, 2 adds per element);
                    ``weight_grad`` ``dot·(1/σ)`` (1 mult per channel); ``bias_grad`` is
                    ``Σ g`` itself (nothing more); without γ (``affine=False``)
                    ``constants`` is 2 mults, 2 divs and the input gradient is scaled by
                    ``1/σ``; the same without running statistics
                    (``track_running_stats=False``), whose forward uses the batch's always
ReLU, ReLU6         a select: ``g`` where the input passed, else 0 — 1 comparison per element
                    (ReLU6: 2, ``0 < x`` and ``x < 6``), no multiplication
Activation          LeakyReLU: 1 comparison, 1 mult (``slope·g``); Hardtanh: 2 comparisons;
                    Hardsigmoid: 2 comparisons, 1 div (``g/6``); Hardswish (PyTorch's
                    ``hardswish_backward``): 2 comparisons, ``g·(x/3 + 1/2)``: 1 div, 1 add,
                    1 mult per element
AvgPool2d           per output: 1 division (``g/(k_h·k_w)``), scattered into the window (one add
                    per window element, into a zero-initialised input gradient)
MaxPool2d           routed to the window's maximum, whose index the forward pass saved (as
                    PyTorch's ``max_pool2d_with_indices``): 1 add per output element, no
                    comparison
GlobalAvgPool2d     1 division per channel, the quotient copied to every position (no add)
Flatten             nothing (a reshape)
ResidualAdd         ``g`` copied to both branches; where the two gradients meet again at the
                    block's input, 1 add per element
==================  ==========================================================================

BatchNorm's counts are symconv's formulation (``x − μ`` once, ``γ/σ`` once per channel: 3 mults
and 5 adds per element), the one its executor performs. ATen's CPU kernel
(``batch_norm_cpu_backward_contiguous_impl``) computes the same gradients with ``x − μ``
computed twice (for ``Σ g·(x − μ)`` and again for the input gradient) and ``1/σ`` and ``γ``
multiplied one after the other: about 4 mults and 6 adds per element.

The other kinds register their rules from :mod:`symconv.layers.backward_activations`
(transcendental activations, Softmax), :mod:`symconv.layers.backward_norm` (LayerNorm,
GroupNorm), :mod:`symconv.layers.backward_movement` (Mean, Cat, Slice, ChannelShuffle, Pad,
Identity, adaptive pooling, LayerScale), :mod:`symconv.layers.backward_resize` (Upsample, PReLU)
and :mod:`symconv.layers.backward_transformer` (MulScalar, MatMul, attention, token layers; the
stages that read a second tensor), which :mod:`symconv.derive.backward` imports.

Imports only :mod:`symconv.layers`; no derive, execute or networks.

Examples
--------
>>> from symconv.layers import Conv2d
>>> [name for name, _ in backward_nests(Conv2d(3, 8, 3, bias=True), (7, 7), (5, 5))]
['input_grad', 'weight_grad', 'bias_grad']
>>> [name for name, _ in backward_nests(Conv2d(3, 8, 3), (7, 7), (5, 5), input_grad=False)]
['weight_grad']
"""

from __future__ import annotations

import functools

from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.batchnorm_train import values_per_channel
from symconv.layers.broadcast import AddComputed, Mul, Sub, _Binary
from symconv.layers.conv import ConvNd, ConvTransposeNd, _per_group
from symconv.layers.elementwise import (
    Activation,
    BatchNorm2d,
    ReLU,
    ReLU6,
    ResidualAdd,
)
from symconv.layers.graph import Add, Reuse
from symconv.layers.linear import Flatten, Linear
from symconv.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from symconv.sizes import Size

__all__ = ["backward_nests", "binary_backward_nests", "GRADIENT_NAMES", "ACTIVATION_BACKWARD", "Nests"]

#: ``(name, nest)`` of each gradient a backward pass computes, in the order it runs them.
Nests = tuple[tuple[str, LoopNest], ...]

#: The names the gradients of the layers here go by.
GRADIENT_NAMES = ("input_grad", "weight_grad", "bias_grad", "centre", "sum_g", "dot", "constants",
                  "share", "accumulate", "other_grad", "input_reduce", "other_reduce",
                  "normalised", "scale", "mask")

#: What the backward of each activation of :data:`~symconv.layers.ACTIVATIONS` does per element.
ACTIVATION_BACKWARD: dict[str, tuple[tuple[str, Size], ...]] = {
    "relu": (("comparisons", 1),),                            # g if x > 0 else 0
    "relu6": (("comparisons", 2),),                           # g if 0 < x < 6 else 0
    "hardtanh": (("comparisons", 2),),                        # g if lo < x < hi else 0
    "leakyrelu": (("comparisons", 1), ("mults", 1)),          # g if x > 0 else slope·g
    "hardsigmoid": (("comparisons", 2), ("divs", 1)),         # g/6 if -3 < x < 3 else 0
    "hardswish": (("comparisons", 2), ("divs", 1), ("adds", 1), ("mults", 1)),  # g·(x/3 + 1/2)
}


def _elements(shape: tuple[Size, ...], per_element: tuple[tuple[str, Size], ...]) -> LoopNest:
    """Every element of ``shape`` once, with ``per_element`` operations and nothing else."""
    # outer, inner, outputs, multiply, accumulate, per_output by position: a third faster than
    # by name, and a training step builds hundreds
    return LoopNest((), (), shape, False, "sum", per_element)


@functools.singledispatch
def backward_nests(
    layer: Layer,
    input_spatial: tuple[Size, ...],
    output_spatial: tuple[Size, ...],
    in_channels: Size | None = None,
    *,
    input_grad: bool = True,
    trainable: bool = True,
) -> Nests:
    """The loop nests of ``layer``'s backward pass, one per gradient computed.

    Parameters
    ----------
    layer
        A single layer (not a composite: :func:`symconv.derive.cost` walks those).
    input_spatial, output_spatial, in_channels
        The sizes around the layer, as for :meth:`~symconv.layers.Layer.loop_nest`.
    input_grad
        Whether the gradient with respect to the input is needed.
    trainable
        Whether the layer's parameters get gradients (``requires_grad``).
    """
    raise NotImplementedError(f"{type(layer).__name__} has no backward loop nest")


@backward_nests.register
def _(layer: ConvNd, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    outputs = (*output_spatial, layer.out_channels)
    window = (*layer.kernel_size, _per_group(layer.in_channels, layer.groups))
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        nests.append(("input_grad", LoopNest(outer=outputs, inner=window,
                                             outputs=(*input_spatial, layer.in_channels),
                                             accumulate="scatter")))
    if trainable:
        weight = layer.weight_shape
        nests.append(("weight_grad", LoopNest(outer=weight, inner=output_spatial, outputs=weight)))
        if layer.bias:
            nests.append(("bias_grad", LoopNest(outer=(layer.out_channels,), inner=output_spatial,
                                                outputs=(layer.out_channels,), multiply=False)))
    return tuple(nests)


@backward_nests.register
def _(layer: ConvTransposeNd, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    inputs = (*input_spatial, layer.in_channels)
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        window = (*layer.kernel_size, _per_group(layer.out_channels, layer.groups))
        nests.append(("input_grad", LoopNest(outer=inputs, inner=window, outputs=inputs)))
    if trainable:
        weight = layer.weight_shape
        nests.append(("weight_grad", LoopNest(outer=weight, inner=input_spatial, outputs=weight)))
        if layer.bias:
            nests.append(("bias_grad", LoopNest(outer=(layer.out_channels,), inner=output_spatial,
                                                outputs=(layer.out_channels,), multiply=False)))
    return tuple(nests)


@backward_nests.register
def _(layer: Linear, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        inputs = (*input_spatial, layer.in_features)
        nests.append(("input_grad", LoopNest(outer=inputs, inner=(layer.out_features,),
                                             outputs=inputs)))
    if trainable:
        weight = (layer.in_features, layer.out_features)
        nests.append(("weight_grad", LoopNest(outer=weight, inner=input_spatial, outputs=weight)))
        if layer.bias:
            bias = (layer.out_features,)
            nests.append(("bias_grad", LoopNest(outer=bias, inner=input_spatial, outputs=bias,
                                                multiply=False)))
    return tuple(nests)


@backward_nests.register
def _(layer: BatchNorm2d, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    trainable = trainable and layer.affine
    if input_grad or trainable:
        values_per_channel(layer, input_spatial)   # batch statistics of more than one value
    channels = (layer.channels,)
    shape = (*input_spatial, layer.channels)
    nests: list[tuple[str, LoopNest]] = []
    if input_grad or trainable:
        nests.append(("centre", _elements(shape, (("adds", 1),))))
        nests.append(("sum_g", LoopNest(outer=channels, inner=input_spatial, outputs=channels,
                                        multiply=False)))
        nests.append(("dot", LoopNest(outer=channels, inner=input_spatial, outputs=channels)))
    if input_grad:
        # without γ (affine=False) no γ/σ: the input gradient is scaled by 1/σ itself
        nests.append(("constants", _elements(channels, (("mults", 2 + int(layer.affine)),
                                                        ("divs", 2)))))
        nests.append(("input_grad", _elements(shape, (("mults", 2), ("adds", 2)))))
    if trainable:
        nests.append(("weight_grad", _elements(channels, (("mults", 1),))))
    return tuple(nests)


def _per_element(table: tuple[tuple[str, Size], ...]):  # type: ignore[no-untyped-def]
    def nests(layer: Layer, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
              in_channels: Size | None = None, *, input_grad: bool = True,
              trainable: bool = True) -> Nests:
        if not input_grad:
            return ()
        shape = (*input_spatial, _need_channels(layer, in_channels))
        return (("input_grad", _elements(shape, table)),)
    return nests


backward_nests.register(ReLU, _per_element(ACTIVATION_BACKWARD["relu"]))
backward_nests.register(ReLU6, _per_element(ACTIVATION_BACKWARD["relu6"]))
backward_nests.register(ResidualAdd, _per_element((("adds", 1),)))


@backward_nests.register
def _(layer: Activation, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if layer.function not in ACTIVATION_BACKWARD:
        raise NotImplementedError(f"Activation({layer.function!r}) has no backward loop nest yet")
    return _per_element(ACTIVATION_BACKWARD[layer.function])(
        layer, input_spatial, output_spatial, in_channels, input_grad=input_grad)


@backward_nests.register
def _(layer: AvgPool2d, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    channels = _need_channels(layer, in_channels)
    outputs = (*output_spatial, channels)
    return (("share", _elements(outputs, (("divs", 1),))),
            ("input_grad", LoopNest(outer=outputs, inner=layer.kernel_size,
                                    outputs=(*input_spatial, channels), multiply=False,
                                    accumulate="scatter")))


@backward_nests.register
def _(layer: MaxPool2d, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    channels = _need_channels(layer, in_channels)
    return (("input_grad", LoopNest(outer=(*output_spatial, channels), inner=(),
                                    outputs=(*input_spatial, channels), multiply=False,
                                    accumulate="scatter")),)


@backward_nests.register
def _(layer: GlobalAvgPool2d, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    channels = (_need_channels(layer, in_channels),)
    return (("input_grad", _elements(channels, (("divs", 1),))),)


@backward_nests.register(Flatten)
@backward_nests.register(Reuse)
def _(layer: Layer, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    return ()


@backward_nests.register
def _(layer: Add, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """``g`` is copied to both operands: nothing here; where the earlier stage's output is used
    twice its two gradients meet (1 add per element, counted by the derivation's graph walk)."""
    return ()


def binary_backward_nests(layer: _Binary, input_shape: tuple[Size, ...],
                          output_shape: tuple[Size, ...], *, input_grad: bool,
                          other_grad: bool) -> Nests:
    """The backward of ``Mul``, ``Sub`` and ``Div`` (:mod:`symconv.layers.broadcast`): for the
    left operand ``L`` and the right ``R`` of ``L ∘ R`` (``x`` is ``L`` unless ``other_first``),
    per output element: ``Mul`` ``g·R`` and ``g·L`` (1 mult each); ``Sub`` ``g`` and ``−g``
    (a copy and a sign flip: nothing counted; ``AddComputed`` ``g`` and ``g``); ``Div`` ``g/R`` (1 div) and, as PyTorch's
    ``div_tensor_other_backward``, ``−g·((L/R)/R)`` (2 divs, 1 mult). An operand that was
    broadcast gets its gradient summed over the broadcast axes (``output − operand`` adds).

    Examples
    --------
    >>> from symconv.layers import Mul
    >>> nests = binary_backward_nests(Mul("input", shape=(4, 4, 8)), (1, 1, 8), (4, 4, 8),
    ...                               input_grad=True, other_grad=True)
    >>> [name for name, _ in nests]
    ['input_grad', 'input_reduce', 'other_grad', 'other_reduce']
    """
    other_shape = layer.shape if layer.shape is not None else input_shape
    left: tuple[tuple[str, Size], ...]
    right: tuple[tuple[str, Size], ...]
    if isinstance(layer, Mul):
        left = right = (("mults", 1),)
    elif isinstance(layer, (Sub, AddComputed)):   # g and −g (or g): a copy, a sign flip
        left = right = ()
    else:
        left, right = (("divs", 1),), (("divs", 2), ("mults", 1))
    mine, theirs = (right, left) if layer.other_first else (left, right)
    nests: list[tuple[str, LoopNest]] = []
    for name, needed, shape, table in (("input", input_grad, input_shape, mine),
                                       ("other", other_grad, other_shape, theirs)):
        if not needed:
            continue
        nests.append((f"{name}_grad", _elements(output_shape, table)))
        nests.append((f"{name}_reduce", _reduction(shape, output_shape)))
    return tuple(nests)


def _reduction(shape: tuple[Size, ...], output_shape: tuple[Size, ...]) -> LoopNest:
    """Sum a gradient of ``output_shape`` down to the broadcast operand's ``shape``."""
    padded = (1,) * (len(output_shape) - len(shape)) + tuple(shape)
    spread = tuple(out if size == 1 else 1 for size, out in zip(padded, output_shape))
    return LoopNest(outer=tuple(shape), inner=spread, outputs=tuple(shape), multiply=False)
