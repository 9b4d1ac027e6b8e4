"""What one optimizer step IS: the tensor operations ``torch.optim`` runs on every trainable
parameter, and what each costs per element (convention ``torch.optim``, ``docs/conventions.md``).

Each optimizer is described as PyTorch 2.13's for-loop implementation (``foreach=False``, the
default on CPU; the foreach one runs the same operations on lists of tensors) computes one step,
with the formulas of ATen's CPU kernels:

* ``a.add(b, alpha=α)`` computes ``a + α·b``: 1 mult and 1 add, also for ``α = 1``
  (``ufunc/add.h``: ``self + alpha * other``, a fused multiply-add when vectorised);
* ``a.mul_(c)``: 1 mult; ``a.sqrt()``: 1 transcendental; ``a / c`` and ``a.add_(c)``: 1 div,
  1 add (a float64 tensor divided by a number is divided, not multiplied by a reciprocal);
* ``a.lerp_(b, w)``: ``a + w·(b − a)`` (or ``b − (b − a)·(1 − w)`` for ``w ≥ 0.5``, with
  ``1 − w`` a constant): 1 mult and 2 adds;
* ``a.addcmul_(b, c, value=v)``: ``a + v·b·c``: 2 mults, 1 add;
  ``a.addcdiv_(b, c, value=v)``: ``a + v·b/c``: 1 mult, 1 div, 1 add;
* ``torch.maximum``: 1 comparison; a copy (``grad.clone()``): nothing.

Arithmetic on Python numbers once per tensor (Adam's bias corrections ``1 − β₁ᵗ``, ``lr / …``,
the ``√`` of ``1 − β₂ᵗ``) and Adam's step counter (``step_t += 1``, one add per parameter
*tensor*) are not per-element work and are not counted. SGD with momentum costs less on its
first step, which copies the gradient into the momentum buffer; the count is of every later
step (:attr:`SGD.first_step` gives the first's).

Examples
--------
>>> adam = optimizer("adam")
>>> for name, counts in adam.operations():
...     print(f"{name:50} {counts}")
exp_avg.lerp_(grad, 1 - beta1)                     {'mults': 1, 'adds': 2}
exp_avg_sq.mul_(beta2)                             {'mults': 1}
exp_avg_sq.addcmul_(grad, grad, value=1 - beta2)   {'mults': 2, 'adds': 1}
exp_avg_sq.sqrt()                                  {'transcendentals': 1}
/ bias_correction2_sqrt                            {'divs': 1}
.add_(eps)                                         {'adds': 1}
param.addcdiv_(exp_avg, denom, value=-step_size)   {'mults': 1, 'divs': 1, 'adds': 1}
>>> per_element(adam)
{'mults': 5, 'adds': 5, 'divs': 2, 'comparisons': 0, 'transcendentals': 1}
>>> per_element(optimizer("sgd_momentum"))
{'mults': 3, 'adds': 2, 'divs': 0, 'comparisons': 0, 'transcendentals': 0}
"""

from __future__ import annotations

from dataclasses import dataclass

from symconv.errors import SymconvError, shown

__all__ = ["SGD", "Adam", "Optimizer", "OPTIMIZERS", "optimizer", "per_element", "COUNTS"]

#: The counts of an optimizer step, in report order.
COUNTS = ("mults", "adds", "divs", "comparisons", "transcendentals")

#: One tensor operation per element: its spelling in ``torch.optim`` and what it costs.
Operation = tuple[str, dict[str, int]]

_ADD_SCALED = {"mults": 1, "adds": 1}   # a.add(b, alpha=α) = a + α·b


@dataclass(frozen=True)
class SGD:
    """``torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)``."""

    lr: float = 1e-2
    momentum: float = 0.0
    dampening: float = 0.0
    weight_decay: float = 0.0
    nesterov: bool = False
    #: Count the first step (the momentum buffer is a copy of the gradient) instead of a later one.
    first_step: bool = False

    @property
    def name(self) -> str:
        return "sgd_momentum" if self.momentum else "sgd"

    def operations(self) -> tuple[Operation, ...]:
        """The tensor operations of one step on one parameter, in order, per element."""
        found: list[Operation] = []
        if self.weight_decay:
            found.append(("grad.add(param, alpha=weight_decay)", _ADD_SCALED))
        if self.momentum:
            if self.first_step:
                found.append(("buf = grad.clone()", {}))
            else:
                found.append(("buf.mul_(momentum)", {"mults": 1}))
                found.append(("buf.add_(grad, alpha=1 - dampening)", _ADD_SCALED))
            if self.nesterov:
                found.append(("grad.add(buf, alpha=momentum)", _ADD_SCALED))
        found.append(("param.add_(grad, alpha=-lr)", _ADD_SCALED))
        return tuple(found)


@dataclass(frozen=True)
class Adam:
    """``torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)``; with
    ``decoupled_weight_decay=True``, ``torch.optim.AdamW``."""

    lr: float = 1e-3
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.0
    amsgrad: bool = False
    decoupled_weight_decay: bool = False

    @property
    def name(self) -> str:
        return "adamw" if self.decoupled_weight_decay else "adam"

    def operations(self) -> tuple[Operation, ...]:
        """The tensor operations of one step on one parameter, in order, per element."""
        found: list[Operation] = []
        if self.weight_decay and self.decoupled_weight_decay:
            found.append(("param.mul_(1 - lr * weight_decay)", {"mults": 1}))
        elif self.weight_decay:
            found.append(("grad.add(param, alpha=weight_decay)", _ADD_SCALED))
        found += [("exp_avg.lerp_(grad, 1 - beta1)", {"mults": 1, "adds": 2}),
                  ("exp_avg_sq.mul_(beta2)", {"mults": 1}),
                  ("exp_avg_sq.addcmul_(grad, grad, value=1 - beta2)", {"mults": 2, "adds": 1})]
        if self.amsgrad:
            found.append(("torch.maximum(max_exp_avg_sq, exp_avg_sq)", {"comparisons": 1}))
        found += [(f"{'max_' if self.amsgrad else ''}exp_avg_sq.sqrt()", {"transcendentals": 1}),
                  ("/ bias_correction2_sqrt", {"divs": 1}),
                  (".add_(eps)", {"adds": 1}),
                  ("param.addcdiv_(exp_avg, denom, value=-step_size)",
                   {"mults": 1, "divs": 1, "adds": 1})]
        return tuple(found)


Optimizer = SGD | Adam

#: The optimizers known by name, with ``torch.optim``'s defaults (``sgd_momentum``: 0.9;
#: ``adamw``: ``AdamW``'s weight decay 0.01).
OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": SGD(),
    "sgd_momentum": SGD(momentum=0.9),
    "adam": Adam(),
    "adamw": Adam(weight_decay=1e-2, decoupled_weight_decay=True),
}


def optimizer(spec: object) -> Optimizer:
    """An :class:`SGD` or :class:`Adam` given as itself or by a name in :data:`OPTIMIZERS`."""
    if isinstance(spec, (SGD, Adam)):
        return spec
    if isinstance(spec, str) and spec in OPTIMIZERS:
        return OPTIMIZERS[spec]
    raise SymconvError(f"optimizer={shown(spec)} is unknown; use one of {', '.join(OPTIMIZERS)}, "
                       "or symconv.layers.optimizers.SGD(...) / Adam(...)")


def per_element(spec: object) -> dict[str, int]:
    """What one step costs per trainable parameter element: its operations' counts added."""
    totals = dict.fromkeys(COUNTS, 0)
    for _, counts in optimizer(spec).operations():
        for kind, number in counts.items():
            totals[kind] += number
    return totals
