"""Pooling layers called as functions in ``forward`` (``F.adaptive_avg_pool2d(x, 1)``,
``F.avg_pool2d``, ``F.max_pool2d``): the same loop nests as the modules, under their own kind.

The spelling matters to one peer: ptflops counts each input element once for the patched
function, twice for the module (its module hook, then the function the module calls). So, as
``Activation(..., spelling="F")`` and ``Add(..., "torch.add")`` keep theirs, these keep the
function's spelling in their kind (``"F.globalavgpool"``, ``"F.avgpool"``, ``"F.maxpool"``);
every count symconv derives is the module's.

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import AvgPool2d
>>> c, module = cost(FunctionalAvgPool2d(3, 1, 1), (8, 8, 4)), cost(AvgPool2d(3, 1, 1), (8, 8, 4))
>>> c.kind, (c.adds, c.divs) == (module.adds, module.divs)
('F.avgpool', True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from symconv.layers import AvgPool2d, GlobalAvgPool2d, MaxPool2d

__all__ = ["FunctionalGlobalAvgPool2d", "FunctionalAvgPool2d", "FunctionalMaxPool2d"]


@dataclass(frozen=True, init=False)
class FunctionalGlobalAvgPool2d(GlobalAvgPool2d):
    """``F.adaptive_avg_pool2d(x, 1)`` (or ``(1, 1)``): :class:`GlobalAvgPool2d`'s counts."""

    example: ClassVar[str] = "FunctionalGlobalAvgPool2d()"

    @property
    def kind(self) -> str:
        return "F.globalavgpool"


@dataclass(frozen=True, init=False)
class FunctionalAvgPool2d(AvgPool2d):
    """``F.avg_pool2d(x, ...)``: :class:`AvgPool2d`'s counts and arguments."""

    example: ClassVar[str] = "FunctionalAvgPool2d(3, 1, 1)"

    @property
    def kind(self) -> str:
        return "F.avgpool"


@dataclass(frozen=True, init=False)
class FunctionalMaxPool2d(MaxPool2d):
    """``F.max_pool2d(x, ...)``: :class:`MaxPool2d`'s counts and arguments."""

    example: ClassVar[str] = "FunctionalMaxPool2d(3, 2)"

    @property
    def kind(self) -> str:
        return "F.maxpool"
