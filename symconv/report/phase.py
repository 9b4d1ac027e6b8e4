"""The backward pass and the training step of the founding example, and of a layer kind, as data
(``symconv compare --phase`` and ``symconv derive --phase``).

A compared layer is taken to sit **inside a network**: the gradient with respect to its input is
computed (the input gradient, a transposed convolution of the output gradient), as well as the
gradients of its weights (and biases). ``input_grad=False`` (``--no-input-grad``) makes it a
network's first layer instead: its input is data and gets no gradient; in the separable
convolution the pointwise stage still needs its input's gradient, since the depthwise stage
before it is trained. Every ratio is derived by SymPy (:func:`symconv.derive.ratio`).

Examples
--------
>>> from symconv.report.compare import compare
>>> result = compare((7, 7, 3), 64, (3, 3), phase="backward")
>>> standard = result.training.backward.stage("standard")
>>> [(name, part.mults) for name, part in standard.value.gradients]
[('input_grad', 43200), ('weight_grad', 43200)]
>>> standard.to_forward.general, result.training.backward.ratio.general
(2, k**(-2) + 1/N)
>>> first = compare((7, 7, 3), 64, (3, 3), phase="train", input_grad=False).training
>>> first.backward.stage("standard").to_forward.value, first.train.stage("standard").value.mults
(1, 86400)
>>> first.backward.ratio.general
2/k**2 + 1/N
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sympy

from symconv.derive import COUNT_KINDS, Cost, cost, in_output_symbols, ratio
from symconv.errors import SymconvError
from symconv.layers import Layer

__all__ = ["PhaseStage", "PhaseCosts", "Training", "training", "PHASES", "check_phase"]

#: The phases a report shows: the forward pass alone, its backward pass, or both.
PHASES = ("forward", "backward", "train")


@dataclass(frozen=True)
class Ratio:
    """A ratio of two counts: its general formula, simplified by SymPy, and its exact value
    (the same shape as :class:`symconv.report.compare.RatioResult`)."""

    general: sympy.Expr
    value: sympy.Expr | None


@dataclass(frozen=True)
class PhaseStage:
    """One stage in a phase: its general cost (in ``H_o, W_o``), its value, and its
    multiplications over the forward pass's (general and value)."""

    name: str
    general: Cost
    value: Cost | None
    to_forward: Ratio


@dataclass(frozen=True)
class PhaseCosts:
    """Every stage in one phase (``"backward"`` or ``"train"``), and the separable
    convolution's multiplications over the standard one's in that phase."""

    phase: str
    stages: tuple[PhaseStage, ...]
    ratio: Ratio | None

    def stage(self, name: str) -> PhaseStage:
        """The stage called ``name``."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)


@dataclass(frozen=True)
class Training:
    """The backward pass (and, for ``phase="train"``, the training step) of a comparison or a
    layer kind; ``input_grad``: whether the layer's input gets its gradient."""

    phase: str
    input_grad: bool
    backward: PhaseCosts
    train: PhaseCosts | None


def check_phase(phase: object, input_grad: object) -> None:
    """Refuse an unknown phase, or ``input_grad`` that is not a bool."""
    if phase not in PHASES:
        raise SymconvError(f"phase={phase!r} is unknown; use one of {', '.join(PHASES)}")
    if not isinstance(input_grad, bool):
        raise SymconvError(f"input_grad={input_grad!r} must be True or False")


def _stage(name: str, general: Cost, value: Cost | None,
           forward: tuple[Cost, Cost | None]) -> PhaseStage:
    value_ratio = None if value is None or forward[1] is None else ratio(value.mults,
                                                                         forward[1].mults)
    return PhaseStage(name, general, value, Ratio(ratio(general.mults, forward[0].mults),
                                                  value_ratio))


def _costs(phase: str, stages: list[PhaseStage],
           standard: tuple[Cost, Cost | None] | None = None) -> PhaseCosts:
    """``stages``, with the separable over the standard convolution in this phase (the
    standard one among the stages, or given as ``(general, value)``)."""
    by_name = {stage.name: stage for stage in stages}
    if "separable" not in by_name:
        return PhaseCosts(phase, tuple(stages), None)
    separable = by_name["separable"]
    if standard is None:
        standard = (by_name["standard"].general, by_name["standard"].value)
    value = None if separable.value is None or standard[1] is None else ratio(
        separable.value.mults, standard[1].mults)
    return PhaseCosts(phase, tuple(stages), Ratio(
        ratio(separable.general.mults, standard[0].mults), value))


def _backward(layers: Sequence[tuple[str, Layer, Layer | None]],
              shapes: tuple[tuple[object, ...], tuple[object, ...] | None], input_grad: bool,
              forward: Mapping[str, tuple[Cost, Cost | None]]) -> list[PhaseStage]:
    """Each layer's backward pass, and each stage's of a composite, in report order: a
    composite's stages before it."""
    general_shape, value_shape = shapes
    stages: list[PhaseStage] = []
    for name, general_layer, value_layer in layers:
        general = in_output_symbols(cost(general_layer, general_shape, phase="backward",
                                         input_grad=input_grad))
        value = None if value_layer is None else cost(value_layer, value_shape, phase="backward",
                                                      input_grad=input_grad)
        values = [None] * len(general.stages) if value is None else [
            part for _, part in value.stages]
        for (part, part_general), part_value in zip(general.stages, values):
            stages.append(_stage(part, part_general, part_value, forward[part]))
        stages.append(_stage(name, general, value, forward[name]))
    return stages


def _train(backward: list[PhaseStage], forward: Mapping[str, tuple[Cost, Cost | None]]
           ) -> list[PhaseStage]:
    """Each stage's training step: its forward and its backward counts added."""
    return [_stage(stage.name, _add(forward[stage.name][0], stage.general),
                   _sum(forward[stage.name][1], stage.value), forward[stage.name])
            for stage in backward]


def _sum(forward: Cost | None, backward: Cost | None) -> Cost | None:
    """:func:`_add`, where both are known."""
    return None if forward is None or backward is None else _add(forward, backward)


def _add(forward: Cost, backward: Cost) -> Cost:
    """Forward plus backward counts, the forward's parameters; no traffic, no stages."""
    return Cost(params=forward.params, input_shape=forward.input_shape,
                output_shape=forward.output_shape, kind=forward.kind,
                **{kind: sympy.expand(getattr(forward, kind) + getattr(backward, kind))
                   for kind in COUNT_KINDS})


def training(phase: str, input_grad: bool, layers: Sequence[tuple[str, Layer, Layer | None]],
             shapes: tuple[tuple[object, ...], tuple[object, ...] | None],
             forward: Mapping[str, tuple[Cost, Cost | None]],
             standard: Mapping[str, tuple[Cost, Cost | None]] | None = None) -> Training:
    """The backward pass (and training step) of ``layers``: ``(name, general layer, concrete
    layer or None)``, on ``shapes`` ``(general input shape, concrete one or None)``;
    ``forward`` holds each stage's forward cost ``(general, value or None)`` by name (the
    ratios' denominators). ``standard``: for a separable kind derived alone, the standard
    convolution's ``{"backward": ..., "train": ...}`` costs (its ratio's denominators)."""
    check_phase(phase, input_grad)
    backward = _backward(layers, shapes, input_grad, forward)
    other = standard or {}
    train = (_costs("train", _train(backward, forward), other.get("train"))
             if phase == "train" else None)
    return Training(phase, input_grad, _costs("backward", backward, other.get("backward")),
                    train)
