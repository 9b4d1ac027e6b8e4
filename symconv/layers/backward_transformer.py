"""The backward pass of the transformer kinds: :class:`~symconv.layers.products.MulScalar`,
:class:`~symconv.layers.products.MatMul`, the attention stages
(:mod:`symconv.layers.attention`) and the token layers (:mod:`symconv.layers.tokens`).

Single-input kinds register into :func:`symconv.layers.backward.backward_nests`; the kinds that
read a second tensor (an earlier stage ``other``) into :func:`operand_backward_nests`, which
also covers ``Mul``, ``Sub`` and ``Div`` (:func:`~symconv.layers.backward.binary_backward_nests`).
The projections run as :class:`~symconv.layers.Linear` and the attention's softmax as
:class:`~symconv.layers.Softmax`, whose rules they inherit.

=====================  =====================================================================
layer                  backward (``g``: the output's gradient)
=====================  =====================================================================
MulScalar              ``input_grad`` ``g·factor``: 1 mult per element
MatMul ``x @ B``       ``input_grad`` ``g·Bᵀ``: per element of ``x`` a dot product of ``m``
                       terms (``m`` the output's last size); ``other_grad`` ``xᵀ·g`` per
                       element of ``B``, a dot product of ``n`` terms (``x``'s rows);
                       transposed (``x @ Bᵀ``), ``gᵀ·x``: the same counts
AttentionScale         ``input_grad`` the queries' ``g·(1/√D)`` (1 mult each); the keys' and
                       values' gradients are zero (not counted)
AttentionScores        ``input_grad`` per head ``g·k_h``: per query element a dot product of
                       ``L`` terms (the keys); ``other_grad`` per head ``gᵀ·q_h``: per key
                       element a dot product of ``L`` terms (the queries), into the keys'
                       channels of the projection's gradient
AttentionContext       ``input_grad`` per head ``g_h·v_hᵀ``: per weight a dot product of ``D``
                       terms; ``other_grad`` per head ``attn_hᵀ·g_h``: per value element a
                       dot product of ``L`` terms (the queries), into the values' channels
Reshape, Rearrange,    nothing: ``g`` reshaped, permuted back, or copied into a zero gradient
Select
ClassToken             nothing: the input's gradient is ``g`` without its first token, the
                       token's gradient that first token
AddParameter           ``input_grad`` ``g`` itself (nothing); ``weight_grad`` (learned only)
                       ``g`` summed over the axes the tensor was broadcast along (output −
                       tensor elements adds; none for ViT's position embedding)
=====================  =====================================================================

The input projection's output is read three times (queries, keys, values): its gradient is the
sum of the three gradients, each zero outside its third, as PyTorch's autograd accumulates the
gradients of the three selections: 2 adds per element of ``(L, 3E)``, counted by the graph walk
(:mod:`symconv.derive.backward`). PyTorch's ``_in_projection_packed`` returns ``proj[0]``,
``proj[1]``, ``proj[2]``, three ``select``s (not an ``unbind``, whose backward would be one
copy): in torch 2.13 each ``select_backward`` makes a zero ``(3, L, N, E)`` gradient with its
slice filled and the engine adds them with two ``aten.add.Tensor``
(``tests/test_attention_in_proj_torch.py`` logs them).

Examples
--------
>>> nests = operand_backward_nests(MatMul("k", (2, 5, 4), transpose_other=True), (2, 5, 4),
...                                (2, 5, 5), input_grad=True, other_grad=False)
>>> [(name, nest.outer, nest.inner) for name, nest in nests]   # 2·5·4 dot products of 5 terms
[('input_grad', (2, 5, 4), (5,))]

An attention (L = 5, E = 8, h = 2, D = 4) whose input needs no gradient: in_proj's weight
gradient 192 dot products of 5 terms (960 mults), scale 40, scores 200 + 200, softmax 50,
context 200 + 200, out_proj 320 + 320:

>>> from symconv import cost
>>> from symconv.layers.attention import multihead_attention
>>> cost(multihead_attention(8, 2, tokens=5), (5, 8), phase="backward").mults
2540
"""

from __future__ import annotations

import functools

import sympy

from symconv.layers.attention import (
    AttentionContext,
    AttentionScale,
    AttentionScores,
    _head_dim,
)
from symconv.layers.backward import (
    Nests,
    _elements,
    _reduction,
    backward_nests,
    binary_backward_nests,
)
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.broadcast import _Binary
from symconv.layers.products import MatMul, MulScalar
from symconv.layers.tokens import AddParameter, ClassToken, Rearrange, Reshape, Select
from symconv.sizes import Size, as_expr

__all__ = ["operand_backward_nests", "reads_operand", "operand_of"]


@backward_nests.register(Reshape)
@backward_nests.register(Rearrange)
@backward_nests.register(Select)
def _(layer: Layer, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    return ()


@backward_nests.register
def _(layer: ClassToken, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """The token's gradient is the first token of ``g``: a copy, nothing counted."""
    return (("weight_grad", _elements((layer.channels,), ())),) if trainable else ()


@backward_nests.register
def _(layer: MulScalar, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    shape = (*input_spatial, _need_channels(layer, in_channels))
    return (("input_grad", _elements(shape, (("mults", 1),))),)


@backward_nests.register
def _(layer: AttentionScale, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not input_grad:
        return ()
    return (("input_grad", _elements((*input_spatial, layer.embed_dim), (("mults", 1),))),)


@backward_nests.register
def _(layer: AddParameter, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    if not (trainable and layer.learned):
        return ()
    shape = (*input_spatial, _need_channels(layer, in_channels))
    return (("weight_grad", _reduction(layer.shape, shape)),)


@functools.singledispatch
def operand_backward_nests(layer: Layer, input_shape: tuple[Size, ...],
                           output_shape: tuple[Size, ...], *, input_grad: bool,
                           other_grad: bool) -> Nests:
    """The backward of a layer that reads a second tensor, stage ``layer.other``: the loop nests
    of the input's gradient (``input_grad``) and of the other's (``other_grad``), each where
    needed.

    Examples
    --------
    >>> from symconv.layers.attention import AttentionContext
    >>> nests = operand_backward_nests(AttentionContext("in_proj", (5, 24)), (2, 5, 5), (5, 8),
    ...                                input_grad=True, other_grad=True)
    >>> [(name, nest.outer, nest.inner) for name, nest in nests]
    [('input_grad', (2, 5, 5), (4,)), ('other_grad', (5, 8), (5,))]
    """
    raise NotImplementedError(f"{type(layer).__name__} reads no second tensor")


def reads_operand(layer: Layer) -> bool:
    """Whether ``layer``'s backward goes through :func:`operand_backward_nests`.

    >>> from symconv.layers import ReLU
    >>> reads_operand(MatMul("k", (3, 4))), reads_operand(ReLU())
    (True, False)
    """
    default = operand_backward_nests.dispatch(object)
    return operand_backward_nests.dispatch(type(layer)) is not default


def operand_of(layer: Layer) -> str:
    """The stage whose output ``layer`` reads besides its input (``"input"``: the graph's)."""
    other: str = layer.other  # type: ignore[attr-defined]
    return other


@operand_backward_nests.register
def _(layer: _Binary, input_shape: tuple[Size, ...], output_shape: tuple[Size, ...], *,
      input_grad: bool, other_grad: bool) -> Nests:
    return binary_backward_nests(layer, input_shape, output_shape, input_grad=input_grad,
                                 other_grad=other_grad)


def _dots(outer: tuple[Size, ...], terms: Size) -> LoopNest:
    return LoopNest(outer=outer, inner=(terms,), outputs=outer)


@operand_backward_nests.register
def _(layer: MatMul, input_shape: tuple[Size, ...], output_shape: tuple[Size, ...], *,
      input_grad: bool, other_grad: bool) -> Nests:
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:     # g (…, n, m) times B (…, k, m) transposed
        nests.append(("input_grad", _dots(tuple(input_shape), output_shape[-1])))
    if other_grad:     # xᵀ (…, k, n) times g (…, n, m), over the n rows
        nests.append(("other_grad", _dots(tuple(layer.shape), input_shape[-2])))
    return tuple(nests)


@operand_backward_nests.register
def _(layer: AttentionScores, input_shape: tuple[Size, ...], output_shape: tuple[Size, ...], *,
      input_grad: bool, other_grad: bool) -> Nests:
    queries, embed = input_shape[0], input_shape[-1]
    keys = layer.shape[0]
    _head_dim(embed, layer.num_heads, "AttentionScores")
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        nests.append(("input_grad", _dots((queries, embed), keys)))
    if other_grad:
        nests.append(("other_grad", _dots((keys, embed), queries)))
    return tuple(nests)


@operand_backward_nests.register
def _(layer: AttentionContext, input_shape: tuple[Size, ...], output_shape: tuple[Size, ...], *,
      input_grad: bool, other_grad: bool) -> Nests:
    heads, queries, keys = input_shape
    embed = layer.embed_dim
    head = sympy.simplify(as_expr(embed) / as_expr(heads))
    nests: list[tuple[str, LoopNest]] = []
    if input_grad:
        nests.append(("input_grad", _dots((heads, queries, keys), head)))
    if other_grad:
        nests.append(("other_grad", _dots((keys, embed), queries)))
    return tuple(nests)
