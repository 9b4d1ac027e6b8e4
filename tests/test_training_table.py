"""The "3× forward" table of docs/conventions.md, recomputed: every number in it is derived
here again (the ResNets and EfficientNet-B0 through torchvision's models, skipped without torch)."""

from __future__ import annotations

import functools
import pathlib
import re
from fractions import Fraction

import pytest

from symconv.derive import cost
from symconv.networks.conventions import count
from symconv.networks.zoo import mobilenet_v1, mobilenet_v2

DOC = pathlib.Path(__file__).resolve().parents[1] / "docs" / "conventions.md"
ROW = re.compile(r"^\| (MobileNet V1|MobileNet V2|EfficientNet-B0|ResNet-18|ResNet-50) \| (\w+) \| (\d+) \| "
                 r"(\d+) \| (\d+) \| ([\d.]+) \|$")


def _rows() -> list[tuple[str, ...]]:
    text = DOC.read_text(encoding="utf-8")
    start = text.index('## Training: the backward pass, and the "3× forward" rule')
    return [found.groups() for line in text[start:].splitlines()
            if (found := ROW.match(line))]


def test_the_table_has_the_five_networks():
    assert {row[0] for row in _rows()} == {"MobileNet V1", "MobileNet V2", "EfficientNet-B0",
                                           "ResNet-18", "ResNet-50"}


@functools.cache
def _network(name: str):
    if name == "MobileNet V1":
        return mobilenet_v1(1, resolution=224)
    if name == "MobileNet V2":
        return mobilenet_v2(1, resolution=224)
    pytest.importorskip("torch")
    from symconv import from_torch
    from tests.torchvision_models import models

    model = getattr(models(), {"ResNet-18": "resnet18", "ResNet-50": "resnet50",
                               "EfficientNet-B0": "efficientnet_b0"}[name])()
    return from_torch(model, (224, 224, 3), unsupported="skip")


@pytest.mark.parametrize("row", _rows(), ids=lambda row: f"{row[0]}-{row[1]}")
def test_each_row_is_derived(row):
    name, convention, forward, tripled, train, shown = row
    net = _network(name)
    exact_forward = int(count(net, convention=convention))
    exact_train = int(count(net, convention=convention, phase="train"))
    assert (exact_forward, 3 * exact_forward, exact_train) == (int(forward), int(tripled),
                                                               int(train))
    assert f"{float(Fraction(exact_train, exact_forward)):.4g}" == shown


# MobileNet V1 at 224 (Table 1 of the paper), each BatchNorm as (positions E, channels C): the
# stem's, then each block's depthwise and pointwise BatchNorm.
_V1_BATCHNORMS = [(112 * 112, 32),
                  (112 * 112, 32), (112 * 112, 64),      # block 1
                  (56 * 56, 64), (56 * 56, 128),         # block 2, stride 2
                  (56 * 56, 128), (56 * 56, 128),
                  (28 * 28, 128), (28 * 28, 256),        # block 4, stride 2
                  (28 * 28, 256), (28 * 28, 256),
                  (14 * 14, 256), (14 * 14, 512),        # block 6, stride 2
                  *[(14 * 14, 512)] * 10,                # blocks 7-11
                  (7 * 7, 512), (7 * 7, 1024),           # block 12, stride 2
                  (7 * 7, 1024), (7 * 7, 1024)]


def test_the_prose_on_batchnorm_statistics_in_mobilenet_v1():
    """The training step's forward runs BatchNorm in training mode: per layer, ops
    (2E·C + 6C) + (4E·C + 2C) + 4C + C = 6E·C + 13C against the folded 2E·C, so 4E·C + 13C
    more than the inference forward plus the backward — summed over the paper's layers, not
    read from the network."""
    values = sum(e * c for e, c in _V1_BATCHNORMS)
    channels = sum(c for _, c in _V1_BATCHNORMS)
    assert (values, channels) == (5042688, 10944)
    more = 4 * values + 13 * channels
    assert more == 20313024                          # the figure docs/conventions.md gives
    net = _network("MobileNet V1")
    forward = int(count(net, convention="ops"))
    backward = int(count(net, convention="ops", phase="backward"))
    train = int(count(net, convention="ops", phase="train"))
    assert train == forward + backward + more
    assert int(count(net, convention="transcendentals", phase="train")) == channels  # 1 sqrt each
    # the ratios the prose quotes: without the statistics, and with them
    assert f"{(forward + backward) / forward:.4g}" == "2.999"
    assert f"{train / forward:.4g}" == "3.017"
    assert "20313024" in DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "share"), [("ResNet-18", "6.5%"), ("ResNet-50", "2.9%")])
def test_the_prose_on_the_resnet_stems(name, share):
    """The stem's share of the forward MACs: a 7×7×3 kernel at 112·112·64 outputs, by hand."""
    net = _network(name)
    stem = dict(net.stages)["conv1"]
    assert cost(stem, (224, 224, 3)).mults == 112 * 112 * 64 * 147 == 118013952
    assert f"{100 * 118013952 / int(count(net, convention='macs')):.1f}%" == share
    text = " ".join(DOC.read_text(encoding="utf-8").split())
    assert "stem (112·112·64·147 = 118013952 MACs) is 6.5% of its MACs" in text
    assert "ResNet-50, where the same stem is 2.9%" in text


def test_the_prose_on_efficientnet_b0():
    net = _network("EfficientNet-B0")
    forward = int(count(net, convention="ops"))
    backward = int(count(net, convention="ops", phase="backward"))
    train = int(count(net, convention="ops", phase="train"))
    assert f"{(forward + backward) / forward:.4g}" == "3.032"
    assert f"{train / forward:.4g}" == "3.066"


def test_efficientnet_b0_counts_its_dropout_and_stochastic_depth_in_training():
    """from_torch keeps EfficientNet-B0's 9 StochasticDepth (one per MBConv block with a residual
    connection) and its classifier's Dropout(0.2) (docs/conventions.md, "Dropout and
    StochasticDepth in a training step"). Per element of each one's input: 1 mult forward
    (``apply``), 1 mult backward; Dropout also 1 div per element (``scale``), StochasticDepth 1
    div per draw (1 at batch 1). The residual blocks at 224 (torchvision's
    ``_efficientnet_conf``: stages of 1, 2, 2, 3, 3, 4, 1 blocks, the first of a stage without
    a residual connection): 56·56·24 (stage 2), 28·28·40 (stage 3), 2 × 14·14·80 (stage 4),
    2 × 14·14·112 (stage 5), 3 × 7·7·192 (stage 6) = 210112 elements, so 2·210112 + 9 =
    420233; the classifier's 1280 features, 3·1280 = 3840: 424073 in all, the difference
    between the table's ops row (2458460493) and the count without them (2458036420)."""
    elements = 56 * 56 * 24 + 28 * 28 * 40 + 2 * 14 * 14 * 80 + 2 * 14 * 14 * 112 + 3 * 7 * 7 * 192
    assert elements == 210112
    expected = 2 * elements + 9 + 3 * 1280
    assert expected == 424073 == 2458460493 - 2458036420
    from symconv.networks.rows import rows

    counted = [row for row in rows(_network("EfficientNet-B0"), phase="train")
               if row.kind in ("dropout", "stochasticdepth")]
    assert len(counted) == 2 * 10                        # forward and backward rows
    assert sum(int(row.mults + row.adds + row.divs) for row in counted) == expected
