"""``Dropout`` and ``StochasticDepth`` in a training step, fast and reference, counting what
they compute (:mod:`symconv.layers.dropout_train`): the forward pass in training mode scales the
keep-draws by ``1/(1 − p)`` (``scale``) and multiplies the input by them (``apply``), as
PyTorch's CPU ``_dropout_impl`` and torchvision's ``stochastic_depth``; the backward
(:mod:`symconv.execute.backward_movement`) multiplies the gradient by the noise the forward
saved.

The keep-draws (1: kept, 0: dropped) are drawn from ``numpy.random.default_rng(MASK_SEED)``
(``random() < 1 − p``; ``Dropout``: one per element, ``StochasticDepth``: one), or are
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

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.batchnorm_train import Trained, train_fast, train_reference
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params
from symconv.layers import Dropout, StochasticDepth

# the layers' training rules (has_training_forward) register themselves when imported
from symconv.layers import dropout_train  # noqa: F401  isort: skip

__all__ = ["MASK_SEED", "Noisy"]

#: The seed of the keep-draws when no ``mask`` is given.
MASK_SEED = 0

Noisy = Dropout | StochasticDepth


def _draws(layer: Noisy, x: Array, params: Params) -> Array:
    """The keep-draws (1 kept, 0 dropped) of the noise's shape: given, or seeded."""
    shape = x.shape if isinstance(layer, Dropout) else (1,) * x.ndim
    if "mask" in params:
        mask = np.asarray(params["mask"], dtype=np.float64)
        if mask.size != int(np.prod(shape)) or not np.isin(mask, (0.0, 1.0)).all():
            raise SymconvError(f"mask of shape {mask.shape} must hold {int(np.prod(shape))} "
                               f"values 0 or 1 (the keep-draws of {type(layer).__name__}, "
                               f"shape {shape})")
        return mask.reshape(shape)
    keep = 1.0 - float(layer.p)
    return (np.random.default_rng(MASK_SEED).random(shape) < keep).astype(np.float64)


def _scales(layer: Noisy) -> bool:
    """Whether the draws are divided by ``1 − p`` (not for ``p = 1``: nothing survives)."""
    return float(layer.p) < 1


@train_fast.register(Dropout)
@train_fast.register(StochasticDepth)
def _(layer: Noisy, x: Array, params: Params, counter: Counter) -> Trained:
    """``noise = draws/(1 − p)``, then ``x·noise``; ``p = 0``: the input itself."""
    if layer.p == 0:
        return Trained(output=x, saved={}, updated={})   # the input itself
    if isinstance(layer, Dropout) and layer.p == 1:    # input * zeros({}): no draws
        noise = np.zeros(())
    else:
        noise = _draws(layer, x, params)
        if _scales(layer):
            noise = counter.divide(noise, 1.0 - float(layer.p))
    return Trained(output=counter.multiply(x, noise), saved={"noise": noise}, updated={})


@train_reference.register(Dropout)
@train_reference.register(StochasticDepth)
def _(layer: Noisy, x: Array, params: Params, counter: Counter) -> Trained:
    """The same, one scalar at a time."""
    if layer.p == 0:
        return Trained(output=x, saved={}, updated={})   # the input itself
    keep = 1.0 - float(layer.p)
    if isinstance(layer, Dropout) and layer.p == 1:
        noise: list[float] = [0.0]
    else:
        noise = _draws(layer, x, params).ravel().tolist()
        if _scales(layer):
            noise = [value / keep for value in noise]
            counter.divs += len(noise)
    values = x.ravel().tolist()
    out = []
    for index, value in enumerate(values):
        out.append(value * noise[index if len(noise) > 1 else 0])
        counter.mults += 1
    saved = np.array(noise).reshape(x.shape if len(noise) > 1 else (() if isinstance(
        layer, Dropout) else (1,) * x.ndim))
    return Trained(output=np.array(out).reshape(x.shape), saved={"noise": saved}, updated={})
