"""``requires_grad`` read from a PyTorch module: its layer marked not trainable when none of its
parameters requires a gradient (:mod:`symconv.layers.trainable`), so that a training step's
backward computes no gradient for it, and none at all before the first trainable layer.

Nothing here imports torch: a module is read through ``named_parameters``.

Examples
--------
>>> from symconv.layers import Conv2d
>>> class Parameter:
...     def __init__(self, requires_grad): self.requires_grad = requires_grad
>>> class Module:
...     def named_parameters(self):
...         return [("weight", Parameter(False)), ("bias", Parameter(False))]
>>> layer = with_requires_grad(Conv2d(3, 8, 3, bias=True), Module())
>>> layer.trainable, frozen_stages([("conv", layer), ("relu", Conv2d(8, 8, 1))])
(False, ['conv'])
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from symconv.layers.trainable import mark_trainable

__all__ = ["with_requires_grad", "frozen_stages"]

_L = TypeVar("_L")


def with_requires_grad(layer: _L, module: Any) -> _L:
    """``layer`` marked with the parameters of ``module`` that have ``requires_grad=False``."""
    own = getattr(module, "_parameters", None)
    if isinstance(own, dict) and not getattr(module, "_modules", True) and all(
            parameter is None or parameter.requires_grad for parameter in own.values()):
        return layer  # no submodule, nothing frozen (named_parameters() walks the tree)
    named = list(module.named_parameters())
    frozen = [name for name, parameter in named if not parameter.requires_grad]
    return mark_trainable(layer, frozen=frozen, parameters=[name for name, _ in named])


def frozen_stages(stages: Iterable[tuple[str, object]]) -> list[str]:
    """The names of the stages marked not trainable (``from_torch``: every parameter of the
    module has ``requires_grad=False``)."""
    return [name for name, layer in stages if getattr(layer, "trainable", True) is False]
