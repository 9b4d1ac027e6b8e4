"""Every convention side by side for one network, and why each differs from the MACs.

:func:`compare_conventions` counts a network under every convention of
:data:`~symconv.networks.conventions.CONVENTIONS` and, for each peer tool, kind of layer by kind of layer,
says where it differs from the baseline (``macs``: the products of convolutions and linear
layers) and which rule of the tool's source makes the difference.

Examples
--------
>>> from symconv.networks.zoo import mobilenet_v1
>>> comparison = compare_conventions("MobileNet V1", mobilenet_v1())
>>> [(line.name, line.value) for line in comparison.lines][:3]
[('macs', 568740352), ('flops', 1137480704), ('ops', 1147616256)]
>>> ptflops = comparison.line("ptflops")
>>> [(d.kind, d.value - d.baseline) for d in ptflops.differences]
[('batchnorm', 10085376), ('relu', 10085376), ('globalavgpool', 100352), ('linear', 1000)]
>>> print(ptflops.differences[1].reason)
relu_flops_counter_hook counts each output element, and the patched F.relu that nn.ReLU calls
counts it again: 2 per element (a double count) [ptflops 0.7.5, ptflops/pytorch_ops.py]
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy

from symconv.derive import Cost
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.networks.conventions import CONVENTIONS, PEERS, describe, rules
from symconv.networks.rows import LayerRow, as_cost, rows

__all__ = ["Difference", "ConventionLine", "ConventionComparison", "compare_conventions"]


@dataclass(frozen=True)
class Difference:
    """One kind of layer counted differently from the baseline: both counts, and why."""

    kind: str
    value: int
    baseline: int
    reason: str


@dataclass(frozen=True)
class ConventionLine:
    """One convention's total, what it counts, and its differences from the baseline."""

    name: str
    description: str
    value: int
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class ConventionComparison:
    """A network under every convention."""

    title: str
    input_shape: tuple[sympy.Expr, ...]
    baseline: str
    lines: tuple[ConventionLine, ...]

    def line(self, name: str) -> ConventionLine:
        """The line of the convention ``name``."""
        for line in self.lines:
            if line.name == name:
                return line
        raise SymconvError(f"convention={name!r} is not in this comparison")


def _integer(value: sympy.Expr, what: str) -> int:
    if not getattr(value, "is_Integer", False):
        raise SymconvError(f"{what} is {value}, not a whole number; compare conventions on "
                           "concrete sizes")
    return int(value)


def compare_conventions(
    title: str, model: Layer | Cost, input_shape: object = None, *, baseline: str = "macs"
) -> ConventionComparison:
    """Count ``model`` under every convention; explain each one's differences from ``baseline``.

    Sizes must be concrete (the values are integers). Differences are listed for the peer
    tools' conventions (:data:`~symconv.networks.conventions.PEERS`), each with the rule of the tool's
    source that makes it; symconv's own conventions say what they count in their description.
    """
    result = as_cost(model, input_shape)
    layer_rows = rows(result)
    by_kind: dict[str, list[LayerRow]] = {}
    for row in layer_rows:
        by_kind.setdefault(row.kind, []).append(row)
    base = CONVENTIONS[baseline]
    base_counts = {kind: _integer(base(group), f"the {baseline} of {kind}")
                   for kind, group in by_kind.items()}
    lines = []
    for name, convention in CONVENTIONS.items():
        value = _integer(convention(layer_rows), f"the {name} total")
        differences = []
        if name in PEERS and name != baseline:
            reasons = rules(name)
            for kind, group in by_kind.items():
                counted = _integer(convention(group), f"the {name} of {kind}")
                if counted != base_counts[kind]:
                    reason = reasons[kind].reason if kind in reasons else describe(name)
                    differences.append(Difference(kind, counted, base_counts[kind], reason))
        lines.append(ConventionLine(name, describe(name), value, tuple(differences)))
    return ConventionComparison(title, result.input_shape, baseline, tuple(lines))
