"""The dropouts and ``StochasticDepth`` in a training step, fast and reference, counting what
they compute (:mod:`symconv.layers.dropout_train`): the forward pass in training mode turns the
keep-draws into noise (``Dropout``, ``FeatureDropout``, ``StochasticDepth``: divides them by
``1 − p``, ``scale``; ``AlphaDropout``, ``FeatureAlphaDropout``: the offset ``b`` from them,
``offset``, then multiplies them by ``a``, ``scale``) and multiplies the input by the noise
(adding ``b`` for the alpha kinds; ``apply``), as PyTorch's CPU ``_dropout_impl`` and
torchvision's ``stochastic_depth``; the backward (:mod:`symconv.execute.backward_movement`)
multiplies the gradient by the noise the forward saved.

The keep-draws (1: kept, 0: dropped), of :func:`~symconv.layers.dropout_train.draw_shape`, are
drawn from ``numpy.random.default_rng(MASK_SEED)`` (``random() < 1 − p``), or are
``params["mask"]`` when an executor is called with one (the tests hold the values against
torch's own draws so): drawing them is not counted (random numbers are data, not
arithmetic). The forward saves ``noise`` (the scaled draws, as PyTorch keeps them) for the
backward pass.

Examples
--------
>>> import numpy as np
>>> from symconv.execute.counter import Counter
>>> from symconv.layers import Dropout
>>> counter = Counter()
>>> run = train_fast(Dropout(0.5), np.array([1.0, 2.0, 3.0]),
...                  {"mask": np.array([1.0, 0.0, 1.0])}, counter)
>>> run.output, run.saved["noise"], (counter.divs, counter.mults)   # 3 draws scaled, 3 products
(array([2., 0., 6.]), array([2., 0., 2.]), (3, 3))
"""

from __future__ import annotations

import math

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.batchnorm_train import Trained, train_fast, train_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.layers import AlphaDropout, FeatureAlphaDropout, StochasticDepth
from symconv.layers.dropout_train import NOISY, Noisy, draw_shape

__all__ = ["MASK_SEED", "ALPHA", "alpha_constants"]

#: The seed of the keep-draws when no ``mask`` is given.
MASK_SEED = 0

#: ATen's ``alpha`` of ``alpha_dropout`` (SELU's λ·α).
ALPHA = 1.7580993408473766


def alpha_constants(p: float) -> tuple[float, float, float]:
    """``a``, ``α·a`` and ``α·a·p`` of ``alpha_dropout``, in double on the host as ATen
    computes them (constants of the layer: not counted).

    Examples
    --------
    >>> alpha_constants(0.3)   # the scalars torch 2.13 passes to mul_ and add_ for p = 0.3
    (0.8609526162463561, 1.513640227123543, 0.4540920681370629)
    """
    a = 1.0 / math.sqrt((ALPHA * ALPHA * p + 1) * (1 - p))
    return a, ALPHA * a, ALPHA * a * p


def _alpha(layer: Noisy) -> bool:
    return isinstance(layer, (AlphaDropout, FeatureAlphaDropout))


def _draws(layer: Noisy, x: Array, params: Params) -> Array:
    """The keep-draws (1 kept, 0 dropped) of the noise's shape: given, or seeded."""
    shape = tuple(int(size) for size in draw_shape(layer, x.shape))
    if "mask" in params:
        mask = np.asarray(params["mask"], dtype=np.float64)
        if mask.size != int(np.prod(shape)) or not np.isin(mask, (0.0, 1.0)).all():
            raise SymconvError(f"mask of shape {mask.shape} must hold {int(np.prod(shape))} "
                               f"values 0 or 1 (the keep-draws of {type(layer).__name__}, "
                               f"shape {shape})")
        return mask.reshape(shape)
    keep = 1.0 - float(layer.p)
    return (np.random.default_rng(MASK_SEED).random(shape) < keep).astype(np.float64)


def _zero(layer: Noisy) -> bool:
    """Whether ``p = 1`` multiplies by ``zeros({})`` (ATen) rather than by draws (torchvision)."""
    return layer.p == 1 and not isinstance(layer, StochasticDepth)


def _fast(layer: Noisy, x: Array, params: Params, counter: Counter) -> Trained:
    """Noise from the draws, then ``x·noise`` (``+ b``); ``p = 0``: the input itself."""
    if layer.p == 0:
        return Trained(output=x, saved={}, updated={})   # the input itself
    if _zero(layer):    # input * zeros({}): no draws
        noise = np.zeros(())
        return Trained(output=counter.multiply(x, noise), saved={"noise": noise}, updated={})
    noise = _draws(layer, x, params)
    if layer.p == 1:    # StochasticDepth: survival rate 0, no division
        return Trained(output=counter.multiply(x, noise), saved={"noise": noise}, updated={})
    if not _alpha(layer):
        noise = counter.divide(noise, 1.0 - float(layer.p))
        return Trained(output=counter.multiply(x, noise), saved={"noise": noise}, updated={})
    a, alpha_a, offset = alpha_constants(float(layer.p))
    b = counter.add(noise, -1.0)                  # noise.add(-1)
    counter.multiply(b, alpha_a, out=b)           # .mul_(alpha * a)
    counter.add(b, offset, out=b)                 # .add_(alpha * a * p)
    noise = counter.multiply(noise, a)            # noise.mul_(a)
    out = counter.multiply(x, noise)
    counter.add(out, b, out=out)                  # .add_(b)
    return Trained(output=out, saved={"noise": noise}, updated={})


def _reference(layer: Noisy, x: Array, params: Params, counter: Counter) -> Trained:
    """The same, one scalar at a time."""
    if layer.p == 0:
        return Trained(output=x, saved={}, updated={})   # the input itself
    if _zero(layer):
        shape, noise = (), [0.0]
    else:
        draws = _draws(layer, x, params)
        shape, noise = draws.shape, draws.ravel().tolist()
    offsets = [0.0] * len(noise)
    if 0 < layer.p < 1 and not _alpha(layer):
        keep = 1.0 - float(layer.p)
        noise = [value / keep for value in noise]
        counter.divs += len(noise)
    elif 0 < layer.p < 1:
        a, alpha_a, offset = alpha_constants(float(layer.p))
        for index, value in enumerate(noise):
            offsets[index] = (value + -1.0) * alpha_a + offset
            noise[index] = value * a
            counter.adds += 2
            counter.mults += 2
    # the draws broadcast over x: the draw of an element is its index in the draws' shape
    index_of = np.broadcast_to(np.arange(len(noise)).reshape(shape), x.shape).ravel().tolist()
    out = []
    for index, value in zip(index_of, x.ravel().tolist()):
        out.append(value * noise[index])
        counter.mults += 1
        if _alpha(layer) and 0 < layer.p < 1:
            out[-1] += offsets[index]
            counter.adds += 1
    return Trained(output=np.array(out).reshape(x.shape),
                   saved={"noise": np.array(noise).reshape(shape)}, updated={})


for _kind in NOISY:
    train_fast.register(_kind, _fast)
    train_reference.register(_kind, _reference)
