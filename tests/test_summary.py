"""symconv.summary: one call, PyTorch's layout, a table with units, exact totals.

Expected numbers are counted by hand in each test, never read back from symconv: the founding
example's separable stages on 7×7×3 → 5×5×64 (675 depthwise, 4800 pointwise), then a 1×1
convolution 64 → 64 on 5×5 (5·5·64·64 = 102400).
"""

from __future__ import annotations

import json

import pytest
import sympy

from symconv import (
    Conv2d,
    DepthwiseSeparableConv2d,
    Linear,
    ReLU,
    Sequential,
    SymconvError,
    count,
    summary,
)
from symconv.layers import Flatten
from symconv.symbols import H, W
from symconv.zoo import mobilenet_v1

FOUNDING = Sequential(("separable", DepthwiseSeparableConv2d(3, 64, 3)), ("head", Conv2d(64, 64, 1)))
PER_EXAMPLE = 675 + 4800 + 102400


def test_pytorch_layout_with_and_without_batch() -> None:
    assert summary(FOUNDING, (3, 7, 7)).total == PER_EXAMPLE
    assert summary(FOUNDING, (1, 3, 7, 7)).total == PER_EXAMPLE
    assert summary(FOUNDING, (4, 3, 7, 7)).total == 4 * PER_EXAMPLE    # the batch multiplies counts
    assert summary(FOUNDING, (4, 3, 7, 7)).params == 27 + 192 + 4096   # ... but not parameters


def test_rows_in_pytorch_layout_with_shares() -> None:
    result = summary(FOUNDING, (2, 3, 7, 7))
    assert [(row.name, row.count) for row in result.rows] == [
        ("separable.depthwise", 2 * 675), ("separable.pointwise", 2 * 4800), ("head", 2 * 102400)]
    assert result.rows[0].input_shape == (2, 3, 7, 7)
    assert result.rows[0].output_shape == (2, 3, 5, 5)
    assert result.rows[1].output_shape == (2, 64, 5, 5)
    assert result.rows[2].share == sympy.Rational(102400, PER_EXAMPLE)
    assert sum(row.share for row in result.rows if row.share is not None) == 1


def test_depth_folds_nested_modules_keeping_the_total() -> None:
    folded = summary(FOUNDING, (3, 7, 7), depth=1)
    assert [(row.name, row.count, row.params) for row in folded.rows] == [
        ("separable", 675 + 4800, 27 + 192), ("head", 102400, 4096)]
    assert folded.total == summary(FOUNDING, (3, 7, 7)).total


def test_a_training_step_per_layer() -> None:
    # by hand: a convolution's weight gradient and its input gradient each take as many
    # products as its forward; the network's input needs no gradient, so the first layer
    # (depthwise, 675) computes only its weight gradient
    backward = 675 + 2 * 4800 + 2 * 102400
    assert summary(FOUNDING, (3, 7, 7), phase="backward").total == backward
    train = summary(FOUNDING, (2, 3, 7, 7), phase="train")
    assert train.total == 2 * (PER_EXAMPLE + backward)
    assert [(row.name, row.count) for row in train.rows] == [
        ("separable.depthwise", 2 * 2 * 675), ("separable.pointwise", 2 * 3 * 4800),
        ("head", 2 * 3 * 102400)]
    folded = summary(FOUNDING, (3, 7, 7), phase="train", depth=1)
    assert [row.count for row in folded.rows] == [2 * 675 + 3 * 4800, 3 * 102400]


def test_symbolic_sizes_give_formulas() -> None:
    result = summary(Conv2d(3, 64, 3, padding=1), (1, 3, H, W))
    assert result.total == 64 * 27 * H * W
    assert result.rows[0].share is None or result.rows[0].share == 1
    assert "1728*H*W" in str(result)


def test_conventions_and_units() -> None:
    net = mobilenet_v1()
    assert summary(net).total == count(net, convention="macs")
    assert summary(net, convention="flops").total == 2 * summary(net).total
    table = str(summary(net, (1, 3, 224, 224)))
    assert "Total MACs: 568.74 M (568740352)" in table       # the paper's 569 million
    assert "568,740,352" in str(summary(net, units="comma"))
    assert "MACs: 568740352;" in str(summary(net, units="exact")).replace("Total ", "")


def test_repr_is_short_and_the_table_is_the_str() -> None:
    result = summary(mobilenet_v1())
    assert repr(result).count("\n") == 0 and len(repr(result)) < 120
    assert str(result).count("\n") > 80


def test_notebook_displays_and_dict() -> None:
    net = Sequential(("a<b>", Conv2d(3, 4, 1)), ("relu", ReLU()), ("flat", Flatten()),
                     ("fc", Linear(4 * 2 * 2, 10)))
    result = summary(net, (1, 3, 2, 2))
    html = result._repr_html_()
    assert "<td>a&lt;b&gt;</td>" in html and "<script" not in html
    markdown = result._repr_markdown_()
    assert markdown.startswith("| layer | kind |") and "Total MACs" in markdown
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total"] == 3 * 4 * 2 * 2 + 16 * 10 and data["input_size"] == [1, 3, 2, 2]
    assert data["rows"][-1]["output"] == [1, 10]
    assert data["rows"][0]["share"] == "3/13"      # 48 of 208


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_size": (7, 7)}, "input_size=(7, 7) must be PyTorch's (N, C, H, W)"),
        ({"input_size": "1x3x7x7"}, "input_size='1x3x7x7'"),
        ({"input_size": (1, 3, 7, 7), "convention": "gflops"}, "convention='gflops' is unknown"),
        ({"input_size": (1, 3, 7, 7), "units": "K"}, "units='K' is unknown"),
        ({"input_size": (1, 3, 7, 7), "depth": 0}, "depth=0 must be None"),
        ({"input_size": (1, 3, 7, 7), "phase": "sideways"}, "phase='sideways' is unknown"),
        ({"input_size": (1, 3, 7, 7), "phase": "train", "convention": "ptflops"},
         "counts the forward pass only"),
        ({"input_size": (1, 4, 7, 7)}, "4 channels but Sequential"),
        ({}, "input_size is missing"),
    ],
)
def test_bad_arguments_name_themselves(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SymconvError, match=None) as caught:
        summary(FOUNDING, **kwargs)  # type: ignore[arg-type]
    assert message in str(caught.value)


def test_a_pytorch_model_in_one_call_equals_torchinfo() -> None:
    torch = pytest.importorskip("torch")
    torchinfo = pytest.importorskip("torchinfo")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                                torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, stride=2, groups=8))
    # hand count, MACs per example: 32·32·8·27 + 15·15·16·(8/8·9) = 221184 + 32400
    assert summary(model, (1, 3, 32, 32)).total == 221184 + 32400
    theirs = torchinfo.summary(model, input_size=(2, 3, 32, 32), verbose=0)
    assert summary(model, (2, 3, 32, 32), convention="torchinfo").total == theirs.total_mult_adds
    assert summary(model, (2, 3, 32, 32)).params == theirs.total_params


def test_torchvision_resnet_equals_torchinfo() -> None:
    from torchvision_models import models

    torchinfo = pytest.importorskip("torchinfo")
    model = models().resnet18().eval()
    theirs = torchinfo.summary(model, input_size=(1, 3, 64, 64), verbose=0)
    ours = summary(model, (1, 3, 64, 64), convention="torchinfo")
    assert (ours.total, ours.params) == (theirs.total_mult_adds, theirs.total_params)


def test_a_training_step_equals_flop_counter_mode() -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
                                torch.nn.ReLU(), torch.nn.Conv2d(8, 16, 3, stride=2, groups=8))
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(2, 3, 32, 32)).sum().backward()
    assert summary(model, (2, 3, 32, 32), convention="torch", phase="train").total \
        == counter.get_total_flops()


def test_a_model_with_a_part_symconv_cannot_count_is_refused_or_skipped_and_listed() -> None:
    torch = pytest.importorskip("torch")
    from torch import nn

    class Cumulative(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.cumsum(1)

    model = nn.Sequential(nn.Conv2d(3, 4, 3, bias=False), Cumulative(), nn.Flatten(),
                          nn.Linear(4 * 6 * 6, 2, bias=False))
    with pytest.raises(SymconvError, match=r"cannot count 1 part of the model: 1\.cumsum"):
        summary(model, (1, 3, 8, 8))
    result = summary(model, (1, 3, 8, 8), unsupported="skip")
    # by hand: 6·6·4 outputs of 3·3·3 products, then 144·2 for the classifier; cumsum counted 0
    assert result.total == 6 * 6 * 4 * 27 + 144 * 2
    assert result.uncounted == ("1.cumsum (Tensor.cumsum: symconv has no layer for it)",)
    assert str(result).splitlines()[-1] == ("Not counted (unsupported='skip': 0 in every count), "
                                            "1 part: 1.cumsum (Tensor.cumsum: symconv has no "
                                            "layer for it)")
    assert json.loads(json.dumps(result.to_dict()))["uncounted"] == list(result.uncounted)
    # folded to one row per top-level module, the part is still listed
    assert summary(model, (1, 3, 8, 8), unsupported="skip", depth=1).uncounted == result.uncounted
    assert summary(model.eval(), (1, 3, 8, 8), convention="ptflops", unsupported="skip").to_dict()[
        "uncounted"] == list(result.uncounted)
    with pytest.raises(SymconvError, match=r"unsupported='ignore'"):
        summary(model, (1, 3, 8, 8), unsupported="ignore")
