"""The "3× forward" table of docs/conventions.md, recomputed: every number in it is derived
here again (the ResNets and EfficientNet-B0 through torchvision's models, skipped without torch)."""

from __future__ import annotations

import functools
import pathlib
import re
from fractions import Fraction

import pytest

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
