"""One optimizer step, executed with NumPy while counting: ``torch.optim``'s for-loop algorithms
(:mod:`symconv.layers.optimizers` describes them) on float64 arrays, every operation through a
:class:`~symconv.execute.counter.Counter`, so that the counts come from the arrays really
multiplied, added, divided and rooted.

Examples
--------
>>> import numpy as np
>>> from symconv.layers.optimizers import optimizer
>>> params = {"w": np.ones((2, 3)), "b": np.zeros(3)}
>>> grads = {"w": np.full((2, 3), 0.5), "b": np.ones(3)}
>>> state = OptimizerState()
>>> counts = step(optimizer("adam"), params, grads, state)
>>> counts                              # 9 elements, 5 mults, 5 adds, 2 divs, 1 sqrt each
Counts(mults=45, adds=45, divs=18, comparisons=0, transcendentals=9)
>>> params["b"]                         # Adam's first step moves each element by lr
array([-0.001, -0.001, -0.001])
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field

import numpy as np

from symconv.execute.counter import Array, Counter, Counts
from symconv.layers.optimizers import SGD, Adam, Optimizer

__all__ = ["OptimizerState", "step"]


@dataclass
class OptimizerState:
    """What an optimizer keeps between steps, by parameter name: SGD's momentum buffers;
    Adam's step count and running averages."""

    steps: int = 0
    buffers: dict[str, dict[str, Array]] = field(default_factory=dict)


def _sgd(opt: SGD, name: str, param: Array, grad: Array, state: OptimizerState,
         counter: Counter) -> Array:
    if opt.weight_decay:
        grad = counter.add(grad, counter.multiply(param, opt.weight_decay))
    if opt.momentum:
        kept = state.buffers.setdefault(name, {})
        if "momentum" not in kept:
            kept["momentum"] = grad.copy()
        else:
            scaled = counter.multiply(kept["momentum"], opt.momentum)
            kept["momentum"] = counter.add(scaled, counter.multiply(grad, 1 - opt.dampening))
        buffer = kept["momentum"]
        grad = counter.add(grad, counter.multiply(buffer, opt.momentum)) if opt.nesterov \
            else buffer
    return counter.add(param, counter.multiply(grad, -opt.lr))


def _lerp(counter: Counter, start: Array, end: Array, weight: float) -> Array:
    """ATen's ``lerp``: ``start + w·(end − start)``, or ``end − (end − start)·(1 − w)`` for
    ``w ≥ 0.5`` (``1 − w`` a constant)."""
    difference = counter.subtract(end, start)
    if abs(weight) < 0.5:
        return counter.add(start, counter.multiply(difference, weight))
    return counter.subtract(end, counter.multiply(difference, 1 - weight))


def _adam(opt: Adam, name: str, param: Array, grad: Array, state: OptimizerState,
          counter: Counter) -> Array:
    beta1, beta2 = opt.betas
    kept = state.buffers.setdefault(name, {})
    if "exp_avg" not in kept:
        kept["exp_avg"], kept["exp_avg_sq"] = np.zeros_like(param), np.zeros_like(param)
        if opt.amsgrad:
            kept["max_exp_avg_sq"] = np.zeros_like(param)
    if opt.weight_decay and opt.decoupled_weight_decay:
        param = counter.multiply(param, 1 - opt.lr * opt.weight_decay)
    elif opt.weight_decay:
        grad = counter.add(grad, counter.multiply(param, opt.weight_decay))
    kept["exp_avg"] = _lerp(counter, kept["exp_avg"], grad, 1 - beta1)
    squares = counter.multiply(kept["exp_avg_sq"], beta2)
    kept["exp_avg_sq"] = counter.add(
        squares, counter.multiply(counter.multiply(grad, 1 - beta2), grad))
    step_number = state.steps
    bias_correction1 = 1 - beta1 ** step_number          # Python numbers: not counted
    bias_correction2_sqrt = (1 - beta2 ** step_number) ** 0.5
    step_size = opt.lr / bias_correction1
    second = kept["exp_avg_sq"]
    if opt.amsgrad:
        kept["max_exp_avg_sq"] = counter.maximum(kept["max_exp_avg_sq"], second)
        second = kept["max_exp_avg_sq"]
    denominator = counter.add(counter.divide(counter.sqrt(second), bias_correction2_sqrt),
                              opt.eps)
    update = counter.divide(counter.multiply(kept["exp_avg"], -step_size), denominator)
    return counter.add(param, update)


def step(opt: Optimizer, params: MutableMapping[str, Array], grads: Mapping[str, Array],
         state: OptimizerState, counter: Counter | None = None) -> Counts:
    """Run one step of ``opt`` on every parameter that has a gradient (``params`` updated in
    place, by name; ``state`` carried to the next step); returns what it counted."""
    counter = counter if counter is not None else Counter()
    before = counter.counts()
    state.steps += 1
    run = _sgd if isinstance(opt, SGD) else _adam
    for name, grad in grads.items():
        params[name] = run(opt, name, np.asarray(params[name], dtype=np.float64),  # type: ignore[arg-type]
                           np.asarray(grad, dtype=np.float64), state, counter)
    after = counter.counts()
    return Counts(**{kind: getattr(after, kind) - getattr(before, kind)
                     for kind in after.as_dict()})
