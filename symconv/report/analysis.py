"""What ``symconv net`` reports: a network's totals under a convention, and its layers.

:func:`analyse` derives a network once as given — symbolic in ``alpha`` and ``rho`` when they are
symbols — and, when it is symbolic, once more at the reference point (α = 1, 224 pixels) with
exact floor arithmetic, so that the report can show the formula beside a value that was derived,
not substituted.

Examples
--------
>>> report = analyse_zoo("mobilenet_v1")
>>> report.totals["macs"].formula
539492352*alpha**2*rho**2 + 28224000*alpha*rho**2 + 1024000*alpha
>>> report.totals["macs"].value
568740352
>>> analyse_zoo("mobilenet_v1", alpha="0.5", resolution="160").totals["params"].value
1331592
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.networks.conventions import CONVENTIONS, count, describe
from symconv.networks.rows import LayerRow, folded_rows
from symconv.networks.training import leaf_counts
from symconv.parse import parse_multiplier
from symconv.symbols import alpha as alpha_symbol
from symconv.symbols import rho as rho_symbol

__all__ = ["Total", "NetworkReport", "layer_counts", "analyse", "analyse_zoo", "parse_multiplier", "QUANTITIES"]

#: The counts every report carries beside the chosen convention's.
QUANTITIES = ("mults", "adds", "divs", "comparisons", "params")


def _quantities(derived: Cost) -> tuple[str, ...]:
    """:data:`QUANTITIES`, with ``"transcendentals"`` before ``"params"`` where the network
    evaluates any (BatchNorm's square root in training, SiLU's exp, Adam's square root): every
    kind ``ops`` sums is then shown."""
    if derived.transcendentals == 0:
        return QUANTITIES
    return (*QUANTITIES[:-1], "transcendentals", QUANTITIES[-1])
_TITLES = {"mobilenet_v1": "MobileNet V1", "mobilenet_v2": "MobileNet V2"}


@dataclass(frozen=True)
class Total:
    """One total: its formula (equal to the value when nothing is symbolic) and its value."""

    formula: sympy.Expr
    value: int


@dataclass(frozen=True)
class NetworkReport:
    """A network's totals under a convention, and optionally its rows."""

    title: str
    input_shape: tuple[sympy.Expr, ...]
    convention: str
    description: str
    totals: dict[str, Total]
    layers: tuple[LayerRow, ...]
    reference: str
    symbolic: bool
    #: Per row of ``layers``: the convention's count of the layer (of the layers folded into
    #: it), and its share of the network's total (``None`` where either is symbolic).
    counts: tuple[sympy.Expr, ...] = ()
    shares: tuple[sympy.Expr | None, ...] = ()


#: Routing stages of a branching network (``reuse:...``): no operation, no parameter; hidden.
_HIDDEN_KINDS = frozenset({"reuse"})


def layer_counts(derived: Cost, convention: str, depth: int | None = None,
                 phase: str = "forward") -> tuple[tuple[LayerRow, ...], tuple[sympy.Expr, ...]]:
    """The rows of ``derived`` (nested modules folded below ``depth``; routing rows hidden) and
    each one's count under ``convention``: the count of the single layers inside it. For a
    ``derived`` of a backward or training ``phase``, the backward layers are counted by the
    backward rules (:func:`symconv.networks.training.leaf_counts`), so that the rows add up to
    ``count(..., phase=phase)``.

    Examples
    --------
    >>> from symconv.networks.zoo import mobilenet_v1
    >>> layers, counts = layer_counts(cost(mobilenet_v1(1, resolution=224)), "macs", depth=1)
    >>> [(row.name, count) for row, count in zip(layers, counts)][:2], sum(counts)
    ([('conv1', 10838016), ('block1', 29302784)], 568740352)
    """
    per_leaf = leaf_counts(derived, convention, phase, CONVENTIONS[convention])
    shown, counts = [], []
    for row, leaves in folded_rows(derived, depth, training=phase == "train"):
        counted = sympy.Add(*(per_leaf[name] for name in leaves))
        if row.kind in _HIDDEN_KINDS and counted == 0 and row.params == 0:
            continue
        shown.append(row)
        counts.append(counted)
    return tuple(shown), tuple(counts)


def _as_int(value: sympy.Expr, what: str) -> int:
    if not value.is_Integer:
        raise SymconvError(f"{what} is {value}, not a whole number; give concrete sizes")
    return int(value)


def analyse(
    title: str,
    model: Layer,
    input_shape: object = None,
    *,
    convention: str = "macs",
    reference: tuple[Layer, object] | None = None,
    reference_text: str = "",
    per_layer: bool = False,
    depth: int | None = None,
    phase: str = "forward",
    optimizer: str | None = None,
) -> NetworkReport:
    """Derive ``model``'s totals (and rows) under ``convention``.

    Parameters
    ----------
    reference
        For a symbolic model: the same network with numbers, and its input shape, whose totals
        give the report's values.
    depth
        With ``per_layer``: fold nested modules below this depth (``1``: one row per top-level
        module).
    phase
        ``"forward"`` (the default), ``"backward"`` or ``"train"`` (:mod:`symconv.derive.backward`);
        the network's input needs no gradient.
    optimizer
        With ``phase="train"``: one optimizer step more (``"sgd"``, ``"sgd_momentum"``,
        ``"adam"``, ``"adamw"``; :mod:`symconv.layers.optimizers`), a row ``"optimizer"``.
    """
    if convention not in CONVENTIONS:
        raise SymconvError(
            f"--convention {convention} is unknown; use one of {', '.join(CONVENTIONS)}"
        )
    derived: Cost = cost(model, input_shape, **_phase(phase, optimizer))
    symbolic = bool(derived.mults.free_symbols or derived.params.free_symbols)
    formulas = {convention: _count(model, input_shape, derived, convention, phase, optimizer)}
    quantities = _quantities(derived)
    formulas.update({name: getattr(derived, name) for name in quantities})
    if symbolic:
        formulas = {name: sympy.expand(expr) for name, expr in formulas.items()}
        if reference is None:
            raise SymconvError("a symbolic network needs a numeric reference to report values")
        concrete = cost(*reference, **_phase(phase, optimizer))
        values = {convention: _count(*reference, concrete, convention, phase, optimizer)}
        values.update({name: getattr(concrete, name) for name in quantities})
    else:
        values = formulas
    totals = {
        name: Total(formulas[name], _as_int(values[name], f"the total {name}"))
        for name in formulas
    }
    layers, counts = (layer_counts(derived, convention, depth, phase) if per_layer
                      else ((), ()))
    total = formulas[convention]
    shares = tuple(
        counted / total if counted.is_Number and total.is_Number and total != 0 else None
        for counted in counts
    )
    return NetworkReport(
        title=_title(title, phase, optimizer),
        input_shape=derived.input_shape,
        convention=convention,
        description=describe(convention),
        totals=totals,
        layers=layers,
        reference=reference_text,
        symbolic=symbolic,
        counts=counts,
        shares=shares,
    )


#: How a report's title names a phase other than the forward pass.
_PHASE_TITLES = {"backward": "backward pass (input needs no gradient)",
                 "train": "training step (forward + backward; input needs no gradient)"}


def _title(title: str, phase: str, optimizer: str | None) -> str:
    if phase == "forward":
        return title
    if optimizer is not None:
        return f"{title}, {_PHASE_TITLES[phase][:-1]}; one {optimizer} step)"
    return f"{title}, {_PHASE_TITLES[phase]}"


def _phase(phase: str, optimizer: str | None = None) -> dict[str, Any]:
    """``cost``'s keywords for a phase other than the forward pass (none for it)."""
    options: dict[str, Any] = {} if phase == "forward" else {"phase": phase}
    return options if optimizer is None else {**options, "optimizer": optimizer}


def _count(model: Layer, input_shape: object, derived: Cost, convention: str,
           phase: str, optimizer: str | None = None) -> sympy.Expr:
    """The convention's count: from the derived cost, or for a backward or training phase from
    the model (the ``torch`` peer's backward needs each gradient: :mod:`symconv.networks.training`)."""
    if phase == "forward" and optimizer is None:
        return count(derived, convention=convention)
    return count(model, input_shape, convention=convention, phase=phase, optimizer=optimizer)


def analyse_zoo(
    name: str,
    *,
    alpha: str | None = None,
    resolution: str | None = None,
    convention: str = "macs",
    per_layer: bool = False,
    depth: int | None = None,
    phase: str = "forward",
    optimizer: str | None = None,
) -> NetworkReport:
    """Analyse a zoo network; ``alpha`` and ``resolution`` are the user's text, or ``None``
    to keep them symbolic (``alpha``, ``rho`` with input ``224·rho``)."""
    from symconv.networks.zoo import network

    width = parse_multiplier(alpha, "--alpha") if alpha is not None else None
    pixels = None
    if resolution is not None:
        from symconv.parse import parse_axes

        pixels = parse_axes(resolution, "--resolution", 1)[0]
    model = network(
        name,
        alpha_symbol if width is None else width,
        rho_symbol if pixels is None else 1,
        resolution=pixels,
    )
    reference_model = network(name, 1 if width is None else width, 1,
                              resolution=224 if pixels is None else pixels)
    parts = []
    if width is None:
        parts.append("alpha = 1")
    if pixels is None:
        parts.append("224×224 pixels (rho = 1)")
    return analyse(
        _TITLES.get(name, name), model, convention=convention,
        reference=(reference_model, None), reference_text=", ".join(parts), per_layer=per_layer,
        depth=depth, phase=phase, optimizer=optimizer,
    )
