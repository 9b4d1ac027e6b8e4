"""What the dropouts (``Dropout``, ``FeatureDropout``, ``AlphaDropout``,
``FeatureAlphaDropout``) and ``StochasticDepth`` run in a training step: their forward pass in
training mode (:func:`~symconv.layers.batchnorm_train.training_nests`) and their backward pass
(:func:`~symconv.layers.backward.backward_nests`), one loop nest per named part.

At inference all are the identity (:mod:`symconv.layers.movement`). In training mode PyTorch
draws noise and multiplies, on the CPU (torch 2.13, ``_dropout_impl`` in
``aten/src/ATen/native/Dropout.cpp``, for ``dropout``, ``feature_dropout`` (``nn.Dropout1d/2d/
3d``), ``alpha_dropout`` and ``feature_alpha_dropout``; the fused ``native_dropout`` kernel is
taken on CUDA and other accelerators only), and torchvision's ``stochastic_depth``
(``torchvision/ops/stochastic_depth.py``, Python) does the same with one draw per example.
``noise`` is drawn (``bernoulli_(1 − p)``) with one value per element (``Dropout``,
``AlphaDropout``), one per channel (``make_feature_noise``: shape ``(N, C, 1, …)``; the
``Feature`` kinds) or one (``StochasticDepth``, a batch of one); a *draw* below is one of those
values:

=======================  ===============================================  ====================
layer (``0 < p < 1``)    training forward                                 backward
=======================  ===============================================  ====================
``Dropout``,             ``noise.div_(1 − p)``: 1 div per draw            ``g·noise``: 1 mult
``FeatureDropout``,      (``scale``); ``x·noise``: 1 mult per element     per element
``StochasticDepth``      (``apply``)
``AlphaDropout``,        ``b = noise.add(−1).mul_(α·a).add_(α·a·p)``:     ``g·noise``: 1 mult
``FeatureAlphaDropout``  1 mult, 2 adds per draw (``offset``);            per element
                         ``noise.mul_(a)``: 1 mult per draw (``scale``);
                         ``x·noise + b``: 1 mult, 1 add per element
                         (``apply``)
``p = 1`` (all)          ``x·0`` (``input * zeros({})``; torchvision:     ``g·0``: 1 mult per
                         ``x·noise``, no division): 1 mult per element    element
``p = 0`` (all)          nothing: the input itself                        nothing: ``g`` itself
=======================  ===============================================  ====================

In ``alpha_dropout``, ``α = 1.7580993408473766`` (SELU's ``λ·α``; ``−λ·α`` is its limit) and
``a = 1/sqrt((α²·p + 1)(1 − p))``: the constants ``a``, ``α·a`` and ``α·a·p`` are computed once,
on the host, in double (not tensor arithmetic, as ``1 − p`` is not): not counted. Its output at
``p = 1`` is 0, not SELU's saturation value: PyTorch returns ``input * zeros({})`` before any
alpha arithmetic.

The backward is autograd's gradient of the product ``x·noise`` with respect to ``x`` (``noise``
and ``b`` need none; the gradient of ``+ b`` is ``g`` itself), which the forward saved: one
multiplication, not ``g·mask·scale`` (that is the fused kernel's ``native_dropout_backward``,
not taken on the CPU).

**Random numbers are not arithmetic.** Drawing the Bernoulli noise (``bernoulli_``) is not
counted, as no peer counts it (FlopCounterMode counts none of the dropouts' operations, the
multiplication included; the ``torch`` convention stays equal to it): it is data generation,
like reading an input. The arithmetic on the draws and the multiplication that applies them are
counted.

symconv's shapes have no batch axis (a batch of one, as the peers count): ``StochasticDepth``
draws one value in either mode, so its ``scale`` is 1 division; with a batch of ``B`` in
``"row"`` mode it would be ``B``, and the ``Feature`` kinds' per-draw parts ``B`` times theirs.

Imports only :mod:`symconv.layers`; no derive, execute or networks.

Examples
--------
>>> from symconv.layers import AlphaDropout, Dropout, FeatureDropout, StochasticDepth
>>> from symconv.layers.batchnorm_train import training_nests
>>> [(name, nest.per_output) for name, nest in training_nests(Dropout(0.2), (3,), (3,), 4)]
[('scale', (('divs', 1),)), ('apply', (('mults', 1),))]
>>> [(name, nest.outputs) for name, nest in training_nests(StochasticDepth(0.1), (3,), (3,), 4)]
[('scale', (1, 1)), ('apply', (3, 4))]
>>> [(name, nest.outputs) for name, nest in training_nests(FeatureDropout(0.1), (3,), (3,), 4)]
[('scale', (1, 4)), ('apply', (3, 4))]
>>> [(name, nest.per_output) for name, nest in training_nests(AlphaDropout(0.1), (3,), (3,), 4)]
... # doctest: +NORMALIZE_WHITESPACE
[('offset', (('mults', 1), ('adds', 2))), ('scale', (('mults', 1),)),
 ('apply', (('mults', 1), ('adds', 1)))]
>>> training_nests(Dropout(0), (3,), (3,), 4)
()
"""

from __future__ import annotations

from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import _need_channels
from symconv.layers.batchnorm_train import training_nests
from symconv.layers.movement import (
    AlphaDropout,
    Dropout,
    FeatureAlphaDropout,
    FeatureDropout,
    StochasticDepth,
)
from symconv.sizes import Size

__all__ = ["DROPOUT_PARTS", "NOISY", "Noisy", "draw_shape"]

#: The names of the training-mode parts, in the order they run.
DROPOUT_PARTS = ("offset", "scale", "apply")

#: The layers whose training forward multiplies by random noise.
NOISY = (Dropout, StochasticDepth, FeatureDropout, AlphaDropout, FeatureAlphaDropout)

Noisy = Dropout | StochasticDepth | FeatureDropout | AlphaDropout | FeatureAlphaDropout


def _shape(layer: Noisy, input_spatial: tuple[Size, ...],
           in_channels: Size | None) -> tuple[Size, ...]:
    return (*input_spatial, _need_channels(layer, in_channels))


def draw_shape(layer: Noisy, shape: tuple[Size, ...]) -> tuple[Size, ...]:
    """The shape of ``layer``'s random draws on an input of ``shape`` (channels last, a batch
    of one): one per element, one per channel (broadcast over the spatial axes), or one.

    Examples
    --------
    >>> draw_shape(Dropout(0.5), (4, 4, 8)), draw_shape(FeatureDropout(0.5), (4, 4, 8))
    ((4, 4, 8), (1, 1, 8))
    >>> draw_shape(StochasticDepth(0.5), (4, 4, 8))
    (1, 1, 1)
    """
    if isinstance(layer, (FeatureDropout, FeatureAlphaDropout)):
        return (*(1 for _ in shape[:-1]), shape[-1])
    if isinstance(layer, StochasticDepth):
        return tuple(1 for _ in shape)
    return shape


@training_nests.register(Dropout)
@training_nests.register(StochasticDepth)
@training_nests.register(FeatureDropout)
@training_nests.register(AlphaDropout)
@training_nests.register(FeatureAlphaDropout)
def _(layer: Noisy, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None) -> Nests:
    if layer.p == 0:
        return ()
    shape = _shape(layer, input_spatial, in_channels)
    alpha = isinstance(layer, (AlphaDropout, FeatureAlphaDropout))
    if layer.p == 1:
        # input * zeros({}) (ATen's _dropout_impl, every kind); torchvision's stochastic_depth
        # multiplies by its draws, all 0, without dividing them
        return (("apply", _elements(shape, (("mults", 1),))),)
    draws = draw_shape(layer, shape)
    if not alpha:
        return (("scale", _elements(draws, (("divs", 1),))),
                ("apply", _elements(shape, (("mults", 1),))))
    return (("offset", _elements(draws, (("mults", 1), ("adds", 2)))),
            ("scale", _elements(draws, (("mults", 1),))),
            ("apply", _elements(shape, (("mults", 1), ("adds", 1)))))


@backward_nests.register(Dropout)
@backward_nests.register(StochasticDepth)
@backward_nests.register(FeatureDropout)
@backward_nests.register(AlphaDropout)
@backward_nests.register(FeatureAlphaDropout)
def _(layer: Noisy, input_spatial: tuple[Size, ...],
      output_spatial: tuple[Size, ...], in_channels: Size | None = None, *,
      input_grad: bool = True, trainable: bool = True) -> Nests:
    if not input_grad or layer.p == 0:
        return ()
    return (("input_grad", _elements(_shape(layer, input_spatial, in_channels),
                                     (("mults", 1),))),)
