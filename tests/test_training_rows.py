"""Per-layer rows of a backward pass or training step (``net --per-layer --phase train``):
each backward row is counted by the backward rules, and the rows add up to the total.

Hand counts of the network below, on 8×8×3 (padding 1 keeps 8×8):
conv 3→8, 3×3: 8·8·8·3·9 = 13824 products; depthwise 8 channels, 3×3: 8·8·8·9 = 4608.
FlopCounterMode (``torch``): forward 2·products; the first conv's backward is its weight
gradient only (the input is data): 2·13824; the depthwise's input gradient 2·4608 and its weight
gradient, counted as an ungrouped convolution, 2·8·4608.
"""

from __future__ import annotations

import pytest

from symconv.cli import main
from symconv.layers import Conv2d, DepthwiseConv2d, ReLU, Sequential
from symconv.report.analysis import analyse

NET = Sequential(("conv", Conv2d(3, 8, 3, padding=1)), ("relu", ReLU()),
                 ("dw", DepthwiseConv2d(8, 3, padding=1)))
FORWARD = {"conv": 2 * 13824, "relu": 0, "dw": 2 * 4608}
BACKWARD = {"conv": 2 * 13824, "relu": 0, "dw": 2 * 4608 + 2 * 8 * 4608}


def test_train_rows_use_the_backward_rules_and_add_up_to_the_total():
    report = analyse("net", NET, (8, 8, 3), convention="torch", per_layer=True, phase="train")
    by_name = {row.name: int(counted) for row, counted in zip(report.layers, report.counts)}
    expected = {**{f"forward.{name}": value for name, value in FORWARD.items()},
                **{f"backward.{name}": value for name, value in BACKWARD.items()}}
    assert by_name == expected
    assert report.totals["torch"].value == sum(expected.values()) == 147456


def test_backward_rows_and_folded_rows_add_up_to_the_total():
    report = analyse("net", NET, (8, 8, 3), convention="torch", per_layer=True, phase="backward")
    assert {row.name: int(c) for row, c in zip(report.layers, report.counts)} == BACKWARD
    # depth counts below forward. and backward.: NET's three stages are its top level
    folded = analyse("net", NET, (8, 8, 3), convention="torch", per_layer=True, phase="train",
                     depth=1)
    assert [(row.name, int(c)) for row, c in zip(folded.layers, folded.counts)] == [
        *((f"forward.{name}", value) for name, value in FORWARD.items()),
        *((f"backward.{name}", value) for name, value in BACKWARD.items())]
    whole = analyse("net", NET, (8, 8, 3), convention="torch", per_layer=True, phase="train",
                    depth=0)
    assert [(row.name, int(c)) for row, c in zip(whole.layers, whole.counts)] == [
        ("sequential", sum(FORWARD.values()) + sum(BACKWARD.values()))]


def test_rows_of_a_derived_training_step_fold_below_the_phase():
    from symconv.derive import cost
    from symconv.errors import SymconvError
    from symconv.networks.rows import rows

    step = cost(NET, (8, 8, 3), phase="train")
    assert [row.name for row in rows(step, depth=1, phase="train")] == [
        *(f"forward.{name}" for name in FORWARD), *(f"backward.{name}" for name in BACKWARD)]
    assert [row.name for row in rows(step, depth=1)] == ["forward", "backward"]
    with pytest.raises(SymconvError, match="needs the cost of a training step"):
        rows(cost(NET, (8, 8, 3)), depth=1, phase="train")


@pytest.mark.parametrize("convention", ["macs", "ops", "torch"])
def test_cli_per_layer_train_rows_sum_to_the_total(convention, capsys):
    import json

    code = main(["net", "mobilenet_v1", "--alpha", "0.25", "--resolution", "96", "--per-layer",
                 "--phase", "train", "--convention", convention, "--format", "json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    rows = report["layers"]
    assert sum(int(row[convention]) for row in rows) == report["total"][convention]["value"]
    assert any(row["name"].startswith("backward.") for row in rows)
