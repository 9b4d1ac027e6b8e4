"""What a layer IS: frozen dataclasses with PyTorch's argument names, each describing the loop nest
of a direct evaluation, and the shape arithmetic every layer owns.

Costs are derived from these descriptions (:mod:`symconv.derive`), never typed per layer. Shapes
are channels last: ``(L, C)``, ``(H, W, C)``, ``(D, H, W, C)``.

=================  ==========================================================================
module             holds
=================  ==========================================================================
``base``           :class:`LoopNest`, :class:`Layer`, :class:`Composite`, shared checks
``conv``           convolutions: standard, grouped, depthwise, pointwise, separable, transposed
``elementwise``    BatchNorm, ReLU and the other activations, the residual addition
``linear``         ``Linear`` and ``Flatten``
``pooling``        average, max and global average pooling
``sequential``     ``Sequential`` networks and ``Residual`` blocks
``graph``          ``Graph``: networks with branches (``Reuse``, ``Add``)
``activations``    ``Softmax`` and ``LogSoftmax`` (a reduction along an axis)
``adaptive``       adaptive average and max pooling, PyTorch's windows
``broadcast``      ``Mul``, ``Sub``, ``Div``: broadcast arithmetic with an earlier stage;
                   ``AddComputed``, ``MulComputed`` (with a tensor computed from parameters);
                   ``LayerScale``, a learned per-channel scale
``reduce``         ``Mean`` over axes
``movement``       ``Cat``, ``Slice``, ``ChannelShuffle``; ``Identity``, ``Dropout``,
                   ``StochasticDepth``, ``FeatureDropout``, ``AlphaDropout``,
                   ``FeatureAlphaDropout`` (the identity at inference)
``norm``           ``LayerNorm`` (over the channels), ``GroupNorm``; beside it
                   ``batchnorm_train``: BatchNorm's forward in training mode (batch statistics)
``resize``         ``Upsample`` (nearest, bilinear; also ``F.interpolate``), ``PReLU``
``attention``      ``multihead_attention``: ``nn.MultiheadAttention`` as a graph of products,
                   scaling and softmax
``tokens``         ``Reshape``, ``Rearrange``, ``Select``, ``ClassToken``, ``AddParameter``
``windows``        ``Roll`` (``torch.roll``), ``Strided`` (``x[..., ::2, 1::2, :]``)
``learned``        parameter chains: ``Parameter``, ``Gather``, ``Clamp``, ``Exp``, ``Folded``
                   (a step a compiler folds at inference, counted in training)
``shapes``         output sizes (:func:`~symconv.layers.shapes.output_spatial`) and input checks
=================  ==========================================================================

May import: the vocabulary (``errors``, ``sizes``, ``symbols``) and SymPy; never derive, execute,
networks or render.

What each layer does per element (the layers around convolutions):

Each layer says which loops a direct evaluation runs (:class:`~symconv.layers.LoopNest`); the
costs come out of the same generic derivation as a convolution's, never typed per layer. Shapes are
channels last. What each layer does per element:

=====================  ===============================================================  ==========
layer                  operations (direct evaluation)                                   params
=====================  ===============================================================  ==========
``Linear``             per output: ``in_features`` mults, ``in_features − 1`` adds,     ``in·out``
                       one more add for the bias                                        ``+ out``
``BatchNorm2d``        per element: 1 mult and 1 add (folded, see the class); in a       ``2·C``
                      training step batch statistics first (``batchnorm_train``);
                      ``track_running_stats=False``: batch statistics at inference too
``BatchNorm1d``        as ``BatchNorm2d``, on ``(C,)`` or ``(L, C)``                      ``2·C``
``ReLU``               per element: 1 comparison, ``max(x, 0)``                          0
``ReLU6``              per element: 2 comparisons, ``min(max(x, 0), 6)``                 0
``Activation``         per element: as :data:`ACTIVATIONS` says (LeakyReLU, GELU, …)     0
``Softmax``            per row of L: L−1 comparisons, 2L−1 adds, L exp, 1 div, L mults  0
``AvgPool2d``          per output: ``k_h·k_w − 1`` adds and 1 division                   0
``MaxPool2d``          per output: ``k_h·k_w − 1`` comparisons                           0
``GlobalAvgPool2d``    per channel: ``H·W − 1`` adds and 1 division                      0
``Flatten``            nothing: ``(H, W, C)`` becomes ``(H·W·C,)``                       0
``Mul``, ``Sub``       per broadcast output element: 1 mult / add (``Div``: 1 div)      0
``Mean``               per output: ``R − 1`` adds and 1 division (``R`` terms)          0
``LayerNorm``          per row of C: ``5C − 1`` adds, ``3C + 1`` mults, 3 divs, 1 sqrt  ``2·C``
``GroupNorm``          ``4E − G + C`` adds, ``2E + 2C`` mults, ``3G`` divs, ``G`` sqrt  ``2·C``
``LayerScale``         per element: 1 mult                                              ``C``
``Upsample``           nearest: nothing (a copy); bilinear: per output 6 mults, 3 adds  0
``PReLU``              per element: 1 comparison, 1 mult                                ``1|C``
``Cat``, ``Slice``     nothing (a copy; a view)                                         0
``ChannelShuffle``     nothing (a copy)                                                 0
``Identity``           nothing (also ``Dropout``, ``StochasticDepth`` at inference)     0
``FeatureDropout``     nothing at inference (also ``AlphaDropout``,                     0
                       ``FeatureAlphaDropout``)
``Residual``           its block's, plus 1 add per output element (``block(x) + x``)     block's
``Sequential``         the sum of its layers'                                           the sum
=====================  ===============================================================  ==========

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import BatchNorm2d, Conv2d, ReLU, Sequential
>>> from symconv.symbols import H, W, M, N, k
>>> Conv2d(M, N, k).loop_nest((7, 7), (5, 5)).inner
(k, k, M)
>>> [name for name, _ in DepthwiseSeparableConv2d(3, 64, 3).stages]
['depthwise', 'pointwise']
>>> net = Sequential(("conv", Conv2d(3, 8, 3, padding=1)), ("bn", BatchNorm2d(8)), ("relu", ReLU()))
>>> c = cost(net, (H, W, 3))
>>> c.mults, c.comparisons, c.params
(224*H*W, 8*H*W, 232)
"""

from __future__ import annotations

from symconv.layers import shapes  # registers the output sizes of every layer above  # noqa: F401
from symconv.layers.activations import LogSoftmax, Softmax
from symconv.layers.adaptive import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from symconv.layers.base import Accumulate, Composite, Layer, LoopNest
from symconv.layers.broadcast import AddComputed, Div, LayerScale, Mul, MulComputed, Sub
from symconv.layers.conv import (
    PADDING_STRINGS,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvNd,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    ConvTransposeNd,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
)
from symconv.layers.elementwise import (
    ACTIVATIONS,
    SPELLINGS,
    Activation,
    BatchNorm1d,
    BatchNorm2d,
    ReLU,
    ReLU6,
    ResidualAdd,
)
from symconv.layers.graph import ADD_SPELLINGS, Add, Graph, Reuse
from symconv.layers.linear import Flatten, Linear
from symconv.layers.movement import (
    PAD_MODES,
    AlphaDropout,
    Cat,
    ChannelShuffle,
    Dropout,
    FeatureAlphaDropout,
    FeatureDropout,
    Identity,
    Pad,
    Slice,
    StochasticDepth,
)
from symconv.layers.norm import GroupNorm, LayerNorm
from symconv.layers.pooling import AvgPool2d, GlobalAvgPool2d, MaxPool2d
from symconv.layers.reduce import Mean
from symconv.layers.resize import UPSAMPLE_MODES, PReLU, Upsample
from symconv.layers.sequential import Residual, Sequential

__all__ = [
    "Layer", "Composite", "LoopNest", "Accumulate",
    "ConvNd", "Conv1d", "Conv2d", "Conv3d",
    "ConvTransposeNd", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "DepthwiseConv2d", "PointwiseConv2d", "DepthwiseSeparableConv2d", "PADDING_STRINGS",
    "Linear", "BatchNorm2d", "BatchNorm1d", "ReLU", "ReLU6", "Activation", "ACTIVATIONS", "SPELLINGS",
    "AvgPool2d", "MaxPool2d", "GlobalAvgPool2d", "Flatten", "ResidualAdd", "Residual", "Sequential",
    "Graph", "Reuse", "Add", "ADD_SPELLINGS",
    "Softmax", "LogSoftmax", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "Mul", "Sub", "Div", "AddComputed", "MulComputed", "Mean",
    "Cat", "Slice", "ChannelShuffle", "Identity", "Dropout", "StochasticDepth",
    "FeatureDropout", "AlphaDropout", "FeatureAlphaDropout",
    "LayerNorm", "GroupNorm", "LayerScale", "Pad", "PAD_MODES",
    "Upsample", "PReLU", "UPSAMPLE_MODES",
]
