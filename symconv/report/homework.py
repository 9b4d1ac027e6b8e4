"""The founding homework answered in one document: ``symconv report``'s parts, as data.

Turn ``H×W×M`` into ``H_o×W_o×N`` with a depthwise separable convolution, draw each stage, and
analyse parameters and multiplications. A :class:`Homework` holds what the answer shows: the
symbol legend, the comparison (:func:`symconv.report.compare.compare`: every stage's formula,
substitution and value, the ratio ``1/N + 1/k²``), and the check of both layers by the counting
executor (:func:`symconv.verify`), which the caller runs — a report never executes anything
itself — on the layers :func:`layers` gives. The renderers (``symconv.render.html``,
``symconv.render.latex``) draw the diagrams and write the document.

Examples
--------
>>> from symconv import verify
>>> from symconv.report.compare import compare
>>> result = compare((7, 7, 3), 64, (3, 3))
>>> checks = tuple(verify(layer, result.input_shape) for layer in layers(result))
>>> answer = Homework(result, checks)
>>> answer.legend[0], answer.ok
(LegendRow(symbols=('M',), key='legend.M', values=(3,), equals=()), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from symconv.layers import Conv2d, DepthwiseSeparableConv2d, Layer
from symconv.report.compare import Comparison
from symconv.report.legend import Legend, comparison_legend

if TYPE_CHECKING:
    from symconv.verify import Verification

__all__ = ["Homework", "layers"]


def layers(result: Comparison) -> tuple[Layer, Layer]:
    """The standard convolution and its depthwise separable twin, concrete, as compared."""
    channels, out_channels = result.input_shape[2], result.output_shape[2]
    arguments = (result.kernel, result.stride, result.padding, result.dilation)
    return (Conv2d(channels, out_channels, *arguments, bias=result.bias),
            DepthwiseSeparableConv2d(channels, out_channels, *arguments, bias=result.bias))


@dataclass(frozen=True)
class Homework:
    """Everything the one-document answer shows; ``checks`` are :func:`symconv.verify`'s results
    for :func:`layers`, run with ``seed``."""

    comparison: Comparison
    checks: tuple[Verification, ...]
    seed: int = 0
    title: str | None = None
    author: str | None = None

    @property
    def legend(self) -> Legend:
        """The symbol legend, values included."""
        return comparison_legend(self.comparison)

    @property
    def ok(self) -> bool:
        """Whether every count of the execution matched its formula."""
        return all(check.ok for check in self.checks)
