"""``--depth`` on models from PyTorch: :func:`~symconv.frontends.torch.from_torch` builds a flat
graph whose stages are named by dotted module paths, so depth counts the path's levels; in a
backward pass or training step it counts below ``forward.`` / ``backward.``. Folded rows must
add up to the totals, and a module's row must be what PyTorch's own FlopCounterMode counts for
that module.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from symconv import cost  # noqa: E402
from symconv.cli import main  # noqa: E402
from symconv.frontends.torch import from_torch  # noqa: E402
from symconv.networks.rows import folded_rows, rows, totals  # noqa: E402
from symconv.report.analysis import analyse  # noqa: E402
from tests.torchvision_models import models  # noqa: E402

MODEL_FILE = textwrap.dedent("""
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                nn.Conv2d(8, 8, 3, padding=1, groups=8), nn.ReLU(), nn.MaxPool2d(2))
            self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))

        def forward(self, x):
            return self.head(self.features(x))
""")
# By hand, on 16×16×3 (padding 1 keeps 16×16): conv 3→8, 3×3: 16·16·8·27 = 55296 products;
# depthwise 8 channels, 3×3: 16·16·8·9 = 18432; linear 8→10: 80. MACs: features 73728, head 80.
RESNET_TOP = ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4",
              "avgpool", "flatten", "fc"]


@pytest.fixture
def model_file(tmp_path: Path) -> str:
    path = tmp_path / "mymodel.py"
    path.write_text(MODEL_FILE)
    return f"{path}:Net"


def _net(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["net", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_depth_one_gives_one_row_per_top_level_module(model_file, capsys):
    report = _net(capsys, model_file, "--input", "16x16x3", "--per-layer", "--depth", "1")
    assert [(row["name"], row["macs"]) for row in report["layers"]] == [
        ("features", 55296 + 18432), ("head", 80)]
    assert sum(row["macs"] for row in report["layers"]) == report["total"]["macs"]["value"]
    assert sum(row["mults"] for row in report["layers"]) == report["total"]["mults"]["value"]
    deeper = _net(capsys, model_file, "--input", "16x16x3", "--per-layer", "--depth", "2")
    assert [row["name"] for row in deeper["layers"]] == [
        *(f"features.{index}" for index in range(6)), "head.0", "head.1", "head.2"]


@pytest.mark.parametrize("convention", ["macs", "ops", "torch"])
def test_depth_counts_below_the_phase_and_the_rows_add_up(model_file, convention, capsys):
    report = _net(capsys, model_file, "--input", "16x16x3", "--per-layer", "--depth", "1",
                  "--phase", "train", "--optimizer", "sgd", "--convention", convention)
    assert [row["name"] for row in report["layers"]] == [
        "forward.features", "forward.head", "backward.features", "backward.head", "optimizer"]
    assert (sum(row[convention] for row in report["layers"])
            == report["total"][convention]["value"])
    unfolded = _net(capsys, model_file, "--input", "16x16x3", "--per-layer", "--phase",
                    "train", "--optimizer", "sgd", "--convention", convention)
    for module in ("forward.features", "forward.head", "backward.features", "backward.head"):
        inside = [row[convention] for row in unfolded["layers"]
                  if row["name"].startswith(module + ".")]
        assert len(inside) in (3, 6)
        assert next(row[convention] for row in report["layers"]
                    if row["name"] == module) == sum(inside)


def test_depth_one_text_lists_the_modules(model_file, capsys):
    assert main(["net", model_file, "--input", "16x16x3", "--per-layer", "--depth", "1",
                 "--phase", "backward"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()
             if line.startswith(("features", "head"))]
    assert names == ["features", "head"]


def test_resnet18_rows_fold_by_module_path_as_torch_counts_them():
    model = models().resnet18().eval()
    net = from_torch(model, (64, 64, 3))
    assert [row.name for row in rows(net, depth=1)] == RESNET_TOP
    assert [row.name for row in rows(net, depth=2)][4:8] == [
        "layer1.0", "layer1.1", "layer2.0", "layer2.1"]
    folded = rows(net, depth=1)
    whole = totals(net)
    for quantity in ("mults", "adds", "params"):
        assert sum(getattr(row, quantity) for row in folded) == getattr(whole, quantity)
    report = analyse("resnet18", net, convention="torch", per_layer=True, depth=1)
    ours = {row.name: int(counted) for row, counted in zip(report.layers, report.counts)}
    with FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, 64, 64))
    theirs = counter.get_flop_counts()
    for name, counted in ours.items():
        assert counted == sum(theirs.get(f"ResNet.{name}", {}).values()), name
    assert sum(ours.values()) == sum(theirs["Global"].values())


def test_routing_stages_fold_into_the_block_they_sit_in():
    net = from_torch(models().resnet18().eval(), (64, 64, 3))
    held = dict((row.name, leaves) for row, leaves in folded_rows(cost(net), 2))
    # layer2.0's projection shortcut continues from layer1.1's output: that routing stage sits
    # between layer2.0's bn2 and its downsample, and belongs to layer2.0
    assert "reuse:layer1.1.relu#2" in held["layer2.0"]
    assert not any(name.startswith("reuse:") for name in held)
    for phase in ("backward", "train"):
        for depth in (1, 2, None):
            report = analyse("resnet18", net, convention="adds", per_layer=True, depth=depth,
                             phase=phase)
            assert sum(report.counts) == report.totals["adds"].value, (phase, depth)
