r"""JSON reports: formulas in SymPy syntax and LaTeX beside their exact values.

Examples
--------
>>> import json
>>> from symconv.report.compare import compare
>>> report = json.loads(render_comparison(compare((7, 7, 3), 64, (3, 3))))
>>> report["standard"]["mults"]
{'formula': 'H_o*M*N*W_o*k**2', 'latex': 'H_{o} \\cdot M \\cdot N \\cdot W_{o} \\cdot k^{2}', 'value': 43200}
>>> report["ratio"]["mults"]["value"]
'73/576'
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy

from symconv.derive import Cost
from symconv.report.compare import Comparison, RatioResult
from symconv.report.kinds import GeneralFormulas
from symconv.report.legend import Legend, comparison_legend, kind_legend
from symconv.symbols import LATEX_NAMES, d

if TYPE_CHECKING:
    from symconv.networks.reconcile import ConventionComparison
    from symconv.report.analysis import NetworkReport
    from symconv.report.phase import Training
    from symconv.verify import Verification

__all__ = ["legend_list", "render_comparison", "render_kind", "formula_entry", "latex", "comparison_dict",
           "render_verification", "render_network", "render_conventions", "dumps", "phase_dict"]

_QUANTITIES = ("mults", "adds", "params")
#: The dilation is written ``{d}``: SymPy's LaTeX parser reads ``d \cdot`` as one differential.
_NAMES = {**LATEX_NAMES, d: "{d}"}
#: Characters that JSON allows raw but that must not reach a terminal raw (DEL, C1 controls,
#: line separators, bidirectional controls) or that cannot be encoded (lone surrogates).
_RAW = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def latex(expr: sympy.Expr) -> str:
    """SymPy's LaTeX of ``expr`` with symconv's symbol names (``H_{o}``, ``\\alpha``).

    Products are written with ``\\cdot`` so that SymPy's LaTeX parser reads them back as
    products (``W_{o} \\left(M - 1\\right)`` would read as a function call), and the dilation
    as ``{d}`` (``d \\cdot`` would read as a differential).

    Examples
    --------
    >>> from symconv.symbols import d, k
    >>> print(latex(d * (k - 1)))
    {d} \\cdot \\left(k - 1\\right)
    """
    return str(sympy.latex(expr, symbol_names=_NAMES, mul_symbol="dot"))


def dumps(report: object) -> str:
    r"""``report`` as indented JSON, non-ASCII text as it is; ``json.loads`` gives it back exactly.

    The few characters that JSON allows raw but a terminal must not receive (DEL, C1 controls,
    line separators, bidirectional controls), and lone surrogates, are written as ``\uXXXX``.

    Examples
    --------
    >>> print(dumps({"name": "卷积\x1b\x9b"}))
    {
      "name": "卷积\u001b\u009b"
    }
    """
    text = json.dumps(report, ensure_ascii=False, indent=2)
    return _RAW.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def formula_entry(general: sympy.Expr, value: object) -> dict[str, Any]:
    """``{"formula": SymPy syntax, "latex": ..., "value": value}``."""
    return {"formula": sympy.sstr(general), "latex": latex(general), "value": value}


def legend_list(legend: Legend) -> list[dict[str, Any]]:
    """The symbol legend as JSON data: per row ``symbols``, ``equals`` (other names of the same
    quantity), ``meaning`` (in English: JSON is the same in every language) and ``values`` (ints,
    or ``null`` for general formulas).

    Examples
    --------
    >>> from symconv.report.legend import conv_legend
    >>> legend_list(conv_legend((7, 7, 3), 64, (3, 3), output=(5, 5)))[0]
    {'symbols': ['M'], 'equals': [], 'meaning': 'input channels', 'values': [3]}
    """
    from symconv.render.catalogue import message

    return [{"symbols": list(row.symbols), "equals": list(row.equals),
             "meaning": message(row.key),
             "values": None if row.values is None else list(row.values)} for row in legend]


def _ratio_entry(result: RatioResult) -> dict[str, Any]:
    return formula_entry(result.general, str(result.value))


def comparison_dict(result: Comparison) -> dict[str, Any]:
    """The JSON object of a comparison, as plain Python data: the keys of symconv's JSON contract
    (``input`` ... ``ratio``) in their order, then the symbol legend (``symbols``)."""
    report: dict[str, Any] = {
        "input": list(result.input_shape),
        "output": list(result.output_shape),
        "kernel": list(result.kernel),
        "stride": list(result.stride),
        "padding": list(result.padding),
        "dilation": list(result.dilation),
        "bias": result.bias,
    }
    for stage in result.stages:
        report[stage.name] = {
            quantity: formula_entry(
                getattr(stage.general, quantity), int(getattr(stage.value, quantity))
            )
            for quantity in _QUANTITIES
        }
    report["ratio"] = {
        "mults": _ratio_entry(result.mults_ratio),
        "params": _ratio_entry(result.params_ratio),
    }
    report.update(phase_dict(result.training))
    report["symbols"] = legend_list(comparison_legend(result))
    return report


def _entry(general: sympy.Expr, value: object) -> dict[str, Any]:
    """A count: formula, LaTeX and, where known, its value."""
    return _symbolic_entry(general) if value is None else formula_entry(general, int(value))  # type: ignore[call-overload]


def _counts(general: Cost, value: Cost | None) -> dict[str, Any]:
    return {quantity: _entry(getattr(general, quantity),
                             None if value is None else getattr(value, quantity))
            for quantity in ("mults", "adds")}


def _ratio(general: sympy.Expr, value: object) -> dict[str, Any]:
    return _symbolic_entry(general) if value is None else formula_entry(general, str(value))


def phase_dict(training: Training | None) -> dict[str, Any]:
    """``--phase backward|train``: ``"phase"``, ``"input_grad"``, then ``"backward"`` (and
    ``"train"``): per stage its ``"gradients"`` (backward only: per gradient ``mults`` and
    ``adds``), ``mults``, ``adds`` and ``"to_forward"`` (its multiplications over the forward
    pass's), and ``"ratio"``: ``{"mults": separable / standard}`` where there is one. Empty for
    the forward pass, so that the forward report keeps its keys and their order.

    Examples
    --------
    >>> from symconv.report.compare import compare
    >>> data = phase_dict(compare((7, 7, 3), 64, (3, 3), phase="train").training)
    >>> list(data), list(data["backward"])
    (['phase', 'input_grad', 'backward', 'train'], ['standard', 'depthwise', 'pointwise', 'separable', 'ratio'])
    >>> standard = data["backward"]["standard"]
    >>> standard["gradients"]["weight_grad"]["mults"]["value"], standard["to_forward"]["value"]
    (43200, '2')
    >>> data["train"]["standard"]["mults"]["value"], data["train"]["ratio"]["mults"]["value"]
    (129600, '73/576')
    """
    if training is None:
        return {}
    found: dict[str, Any] = {"phase": training.phase, "input_grad": training.input_grad}
    for costs in (training.backward, training.train):
        if costs is None:
            continue
        part: dict[str, Any] = {}
        for stage in costs.stages:
            entry: dict[str, Any] = {}
            if stage.general.gradients:
                values = dict(stage.value.gradients) if stage.value is not None else {}
                entry["gradients"] = {name: _counts(gradient, values.get(name))
                                      for name, gradient in stage.general.gradients}
            entry.update(_counts(stage.general, stage.value))
            entry["to_forward"] = _ratio(stage.to_forward.general, stage.to_forward.value)
            part[stage.name] = entry
        if costs.ratio is not None:
            part["ratio"] = {"mults": _ratio(costs.ratio.general, costs.ratio.value)}
        found[costs.phase] = part
    return found


def render_comparison(result: Comparison, lang: str = "en") -> str:
    """The comparison as one JSON object (``lang`` changes nothing: JSON carries no prose)."""
    return dumps(comparison_dict(result))


def _symbolic_entry(expr: sympy.Expr) -> dict[str, str]:
    return {"formula": sympy.sstr(expr), "latex": latex(expr)}


def _cost_dict(general: Cost) -> dict[str, Any]:
    return {quantity: _symbolic_entry(getattr(general, quantity)) for quantity in _QUANTITIES}


def render_kind(general: GeneralFormulas, lang: str = "en") -> str:
    """The general formulas of one layer kind as a JSON object.

    Examples
    --------
    >>> import json
    >>> from symconv.report.kinds import derive_kind
    >>> report = json.loads(render_kind(derive_kind("separable")))
    >>> report["ratio"]["mults"]["formula"], report["stages"]["depthwise"]["mults"]["formula"]
    ('k**(-2) + 1/N', 'H_o*M*W_o*k**2')
    """
    report: dict[str, Any] = {
        "kind": general.kind,
        "layer": repr(general.layer),
        "input": [str(size) for size in general.input_shape],
        "output_size": {
            str(symbol): _symbolic_entry(size) for symbol, size in general.output_sizes
        },
        **_cost_dict(general.cost),
    }
    if general.cost.stages:
        report["stages"] = {name: _cost_dict(stage) for name, stage in general.cost.stages}
    if general.ratio is not None:
        report["ratio"] = {"mults": _symbolic_entry(general.ratio)}
    report.update(phase_dict(general.training))
    report["symbols"] = legend_list(kind_legend(general))
    return dumps(report)


def render_verification(results: Sequence[Verification], lang: str = "en", seed: int = 0,
                        title: str | None = None, legend: Legend | None = None) -> str:
    """``{"ok": bool, "stages": [{"name", "counted", "formula", "match"}, ...]}``, after
    ``"symbols"`` last (see :func:`legend_list`) when a ``legend`` is given.

    Examples
    --------
    >>> import json
    >>> from symconv import PointwiseConv2d, verify
    >>> json.loads(render_verification([verify(PointwiseConv2d(3, 64), (5, 5, 3))]))["ok"]
    True
    """
    report: dict[str, Any] = {
        "ok": all(result.ok for result in results),
        "stages": [stage for result in results for stage in result.to_dict()["stages"]],
    }
    if legend is not None:
        report["symbols"] = legend_list(legend)
    return dumps(report)


def _number_or_formula(expr: sympy.Expr) -> int | str:
    return int(expr) if expr.is_Integer else sympy.sstr(expr)


def render_network(report: NetworkReport, lang: str = "en") -> str:
    """``{"network", "input", "convention", "total": {name: {"formula", "value"}}, "layers"}``.

    Examples
    --------
    >>> import json
    >>> from symconv.report.analysis import analyse_zoo
    >>> report = json.loads(render_network(analyse_zoo("mobilenet_v1", per_layer=True)))
    >>> report["total"]["macs"]["value"], report["layers"][0]["name"]
    (568740352, 'conv1.conv')
    """
    return dumps({
        "network": report.title,
        "input": [_number_or_formula(size) for size in report.input_shape],
        "convention": report.convention,
        "description": report.description,
        "reference": report.reference,
        "total": {
            name: {"formula": sympy.sstr(total.formula), "latex": latex(total.formula),
                   "value": total.value}
            for name, total in report.totals.items()
        },
        "layers": [
            {
                "name": row.name, "kind": row.kind,
                "input": [_number_or_formula(size) for size in row.input_shape],
                "output": [_number_or_formula(size) for size in row.output_shape],
                **{name: _number_or_formula(getattr(row, name))
                   for name in ("mults", "adds", "divs", "comparisons",
                                *(("transcendentals",) if "transcendentals" in report.totals
                                  else ()), "params")},
                **({report.convention: _number_or_formula(report.counts[index]),
                    "share": None if report.shares[index] is None else str(report.shares[index])}
                   if report.counts else {}),
            }
            for index, row in enumerate(report.layers)
        ],
    })


def render_conventions(comparison: ConventionComparison, lang: str = "en") -> str:
    """``{"network", "input", "baseline", "conventions": [{"name", "description", "value",
    "differences": [{"kind", "value", "baseline", "reason"}]}]}``.

    Examples
    --------
    >>> import json
    >>> from symconv.networks.reconcile import compare_conventions
    >>> from symconv.networks.zoo import mobilenet_v1
    >>> report = json.loads(render_conventions(compare_conventions("V1", mobilenet_v1())))
    >>> [(c["name"], c["value"]) for c in report["conventions"] if c["name"] == "torchinfo"]
    [('torchinfo', 568763240)]
    """
    return dumps({
        "network": comparison.title,
        "input": [_number_or_formula(size) for size in comparison.input_shape],
        "baseline": comparison.baseline,
        "conventions": [
            {"name": line.name, "description": line.description, "value": line.value,
             "differences": [{"kind": d.kind, "value": d.value, "baseline": d.baseline,
                              "reason": d.reason} for d in line.differences]}
            for line in comparison.lines
        ],
    })
