"""What ``Dropout`` and ``StochasticDepth`` run in a training step: their forward pass in
training mode (:func:`~symconv.layers.batchnorm_train.training_nests`) and their backward pass
(:func:`~symconv.layers.backward.backward_nests`), one loop nest per named part.

At inference both are the identity (:mod:`symconv.layers.movement`). In training mode PyTorch
multiplies, on the CPU (torch 2.13, ``_dropout_impl`` in ``aten/src/ATen/native/Dropout.cpp``;
the fused ``native_dropout`` kernel is taken on CUDA and other accelerators only), and
torchvision's ``stochastic_depth`` (``torchvision/ops/stochastic_depth.py``, Python) does the
same with one draw per example:

==================  ==================================================  ====================
layer (``p``)       training forward                                    backward
==================  ==================================================  ====================
``Dropout``         ``noise = bernoulli(1 − p)`` (an element each),     ``g·noise``: 1 mult
``0 < p < 1``       ``noise.div_(1 − p)``: 1 div per element            per element
                    (``scale``); ``x·noise``: 1 mult per element
                    (``apply``)
``Dropout``         ``x·0`` (``input * zeros({})``): 1 mult per         ``g·0``: 1 mult per
``p = 1``           element, no noise drawn                             element
``StochasticDepth`` ``noise = bernoulli(1 − p)`` of shape ``(N, 1, …)``  ``g·noise``: 1 mult
``0 < p ≤ 1``       (``"row"``) or ``(1, 1, …)`` (``"batch"``);         per element
                    ``noise.div_(1 − p)`` unless ``p = 1``: 1 div per
                    draw (``scale``); ``x·noise``: 1 mult per element
                    (``apply``)
``p = 0`` (both)    nothing: the input itself                           nothing: ``g`` itself
==================  ==================================================  ====================

The backward is autograd's gradient of the product ``x·noise`` with respect to ``x`` (``noise``
needs none), which the forward saved: one multiplication, not ``g·mask·scale`` (that is the
fused kernel's ``native_dropout_backward``, not taken on the CPU).

**Random numbers are not arithmetic.** Drawing the Bernoulli noise (``bernoulli_``) is not
counted, as no peer counts it (FlopCounterMode counts none of the dropout's operations, the
multiplication included; the ``torch`` convention stays equal to it): it is data generation,
like reading an input. The division that scales the draws and the multiplication that applies
them are counted.

symconv's shapes have no batch axis (a batch of one, as the peers count): ``StochasticDepth``
draws one value in either mode, so its ``scale`` is 1 division; with a batch of ``B`` in
``"row"`` mode it would be ``B``.

Imports only :mod:`symconv.layers`; no derive, execute or networks.

Examples
--------
>>> from symconv.layers import Dropout, StochasticDepth
>>> from symconv.layers.batchnorm_train import training_nests
>>> [(name, nest.per_output) for name, nest in training_nests(Dropout(0.2), (3,), (3,), 4)]
[('scale', (('divs', 1),)), ('apply', (('mults', 1),))]
>>> [(name, nest.outputs) for name, nest in training_nests(StochasticDepth(0.1), (3,), (3,), 4)]
[('scale', (1,)), ('apply', (3, 4))]
>>> training_nests(Dropout(0), (3,), (3,), 4)
()
"""

from __future__ import annotations

from symconv.layers.backward import Nests, _elements, backward_nests
from symconv.layers.base import _need_channels
from symconv.layers.batchnorm_train import training_nests
from symconv.layers.movement import Dropout, StochasticDepth
from symconv.sizes import Size

__all__ = ["DROPOUT_PARTS"]

#: The names of the training-mode parts, in the order they run.
DROPOUT_PARTS = ("scale", "apply")


def _shape(layer: Dropout | StochasticDepth, input_spatial: tuple[Size, ...],
           in_channels: Size | None) -> tuple[Size, ...]:
    return (*input_spatial, _need_channels(layer, in_channels))


@training_nests.register
def _(layer: Dropout, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None) -> Nests:
    if layer.p == 0:
        return ()
    shape = _shape(layer, input_spatial, in_channels)
    apply = ("apply", _elements(shape, (("mults", 1),)))
    if layer.p == 1:   # input * zeros({}): no noise to scale
        return (apply,)
    return (("scale", _elements(shape, (("divs", 1),))), apply)


@training_nests.register
def _(layer: StochasticDepth, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None) -> Nests:
    if layer.p == 0:
        return ()
    shape = _shape(layer, input_spatial, in_channels)
    apply = ("apply", _elements(shape, (("mults", 1),)))
    if layer.p == 1:   # survival rate 0: torchvision skips the division
        return (apply,)
    return (("scale", _elements((1,), (("divs", 1),))), apply)   # one draw (a batch of one)


@backward_nests.register(Dropout)
@backward_nests.register(StochasticDepth)
def _(layer: Dropout | StochasticDepth, input_spatial: tuple[Size, ...],
      output_spatial: tuple[Size, ...], in_channels: Size | None = None, *,
      input_grad: bool = True, trainable: bool = True) -> Nests:
    if not input_grad or layer.p == 0:
        return ()
    return (("input_grad", _elements(_shape(layer, input_spatial, in_channels),
                                     (("mults", 1),))),)
