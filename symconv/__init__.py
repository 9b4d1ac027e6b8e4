"""symconv: what convolution layers cost, as SymPy formulas, proved by execution.

Examples
--------
>>> from symconv import Conv2d, DepthwiseSeparableConv2d, cost, ratio
>>> from symconv.symbols import H, W, M, N, k
>>> ratio(cost(DepthwiseSeparableConv2d(M, N, k), (H, W, M)).mults,
...       cost(Conv2d(M, N, k), (H, W, M)).mults)
k**(-2) + 1/N
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from symconv.derive import Cost, cost, ratio
from symconv.errors import SymconvError
from symconv.layers import (
    AvgPool2d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    Flatten,
    GlobalAvgPool2d,
    Linear,
    MaxPool2d,
    PointwiseConv2d,
    ReLU,
    ReLU6,
    Residual,
    Sequential,
)
from symconv.networks.conventions import count
from symconv.render import notebook as _notebook  # registers a network cost's Markdown display  # noqa: F401

if TYPE_CHECKING:
    from symconv.design import solve
    from symconv.execute import execute
    from symconv.frontends.torch import from_torch
    from symconv.model_summary import summary
    from symconv.networks.memory import memory
    from symconv.verify import verify

__version__ = "0.1.0"

#: Public names imported on first use (NumPy is needed only for execution): name -> module.
_LAZY: dict[str, str] = {
    "execute": "symconv.execute",
    "verify": "symconv.verify",
    "from_torch": "symconv.frontends.torch",
    "summary": "symconv.model_summary",
    "solve": "symconv.design",
    "memory": "symconv.networks.memory",
}


class _Package(types.ModuleType):
    """The symconv package: loads :data:`_LAZY` names on first use.

    Two public functions share their names with their modules (``symconv.execute.execute``),
    so importing such a submodule must not replace the function on the package.
    """

    def __getattr__(self, name: str) -> Any:
        if name not in _LAZY:
            raise AttributeError(f"module 'symconv' has no attribute {name!r}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        self.__dict__[name] = value
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, types.ModuleType):
            self.__dict__.pop(name, None)
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package

__all__ = [
    "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "DepthwiseConv2d", "PointwiseConv2d", "DepthwiseSeparableConv2d",
    "Cost", "cost", "ratio", "SymconvError", "__version__",
    "Linear", "BatchNorm2d", "ReLU", "ReLU6", "AvgPool2d", "MaxPool2d", "GlobalAvgPool2d",
    "Flatten", "Residual", "Sequential", "count",
    "execute", "verify", "from_torch", "summary", "solve", "memory",
]
