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

from symconv.derive import Cost, cost, ratio
from symconv.errors import SymconvError
from symconv.execute import execute
from symconv.layers import (
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    DepthwiseConv2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
)
from symconv.verify import verify

__version__ = "0.1.0"

__all__ = [
    "Conv1d", "Conv2d", "Conv3d",
    "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
    "DepthwiseConv2d", "PointwiseConv2d", "DepthwiseSeparableConv2d",
    "Cost", "cost", "ratio", "SymconvError", "__version__",
    "execute", "verify",
]
