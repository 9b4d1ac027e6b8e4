"""``net`` reports show transcendentals where a network evaluates any (the acceptance trial:
``ops`` could not be rebuilt from the reported kinds). Expected numbers from the network's own
layers: Adam takes one square root per trainable parameter, a BatchNorm in training one per
channel (its 1/sqrt(var + eps))."""

from __future__ import annotations

import json

import pytest

from symconv import count
from symconv.cli import main
from symconv.layers import BatchNorm2d
from symconv.networks.zoo import mobilenet_v1


def _leaves(layer: object) -> list[object]:
    stages = getattr(layer, "stages", None)
    if stages is None:
        return [layer]
    return [leaf for _, stage in stages for leaf in _leaves(stage)]


def _json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["net", "mobilenet_v1", "--alpha", "1", "--resolution", "64", *argv,
                 "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_a_training_step_with_adam_reports_its_square_roots(
        capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, "--phase", "train", "--optimizer", "adam", "--per-layer")
    net = mobilenet_v1(1, resolution=64)
    channels = sum(leaf.num_features for leaf in _leaves(net) if isinstance(leaf, BatchNorm2d))
    params = report["total"]["params"]["value"]
    assert report["total"]["transcendentals"]["value"] == params + channels
    # every kind ops sums is there: per layer, and in the total
    kinds = ("mults", "adds", "divs", "comparisons", "transcendentals")
    ops = count(net, convention="ops", phase="train", optimizer="adam")
    assert sum(report["total"][kind]["value"] for kind in kinds) == ops
    assert sum(layer[kind] for layer in report["layers"] for kind in kinds) == ops


def test_a_forward_pass_without_any_keeps_its_report_as_it_was(
        capsys: pytest.CaptureFixture[str]) -> None:
    report = _json(capsys, "--per-layer")
    assert "transcendentals" not in report["total"]
    assert "transcendentals" not in report["layers"][0]
