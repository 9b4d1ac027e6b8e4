"""verify(): counted against derived, per stage; the JSON shape the CLI prints."""

from __future__ import annotations

import dataclasses
import importlib
import json
from typing import Any

import pytest
import sympy
from hypothesis import given

from symconv import (
    Conv2d,
    ConvTranspose2d,
    DepthwiseSeparableConv2d,
    PointwiseConv2d,
    SymconvError,
    verify,
)
from symconv.layers import Layer
from symconv.strategies import conv_cases
from symconv.symbols import H, N

verify_module = importlib.import_module("symconv.verify")


def test_founding_example_standard_to_dict() -> None:
    # 5·5·64 outputs of 3·3·3 = 27 taps: 43200 mults, 26 adds each = 41600.
    assert verify(Conv2d(3, 64, 3), (7, 7, 3)).to_dict() == {
        "ok": True,
        "stages": [{"name": "standard", "counted": {"mults": 43200, "adds": 41600},
                    "formula": {"mults": 43200, "adds": 41600}, "match": True}],
    }


def test_founding_example_separable_stages() -> None:
    # depthwise 5·5·3·9 = 675 mults, 8 adds each = 600; pointwise 5·5·64·3 = 4800, 2 adds = 3200.
    check = verify(DepthwiseSeparableConv2d(3, 64, 3), (7, 7, 3))
    assert check.ok
    assert [(s.name, s.counted, s.formula, s.match) for s in check.stages] == [
        ("depthwise", {"mults": 675, "adds": 600}, {"mults": 675, "adds": 600}, True),
        ("pointwise", {"mults": 4800, "adds": 3200}, {"mults": 4800, "adds": 3200}, True),
    ]
    assert [(s.counted_shape, s.formula_shape) for s in check.stages] == [
        ((5, 5, 3), (5, 5, 3)), ((5, 5, 64), (5, 5, 64))]


def test_to_dict_is_json_with_exactly_the_documented_keys() -> None:
    payload = json.loads(json.dumps(verify(DepthwiseSeparableConv2d(3, 8, 3, bias=True), (6, 6, 3)).to_dict()))
    assert set(payload) == {"ok", "stages"}
    for stage in payload["stages"]:
        assert set(stage) == {"name", "counted", "formula", "match"}
        assert set(stage["counted"]) == set(stage["formula"]) == {"mults", "adds"}
        assert all(type(value) is int for value in (*stage["counted"].values(), *stage["formula"].values()))
    assert payload["ok"] is True


def test_transposed_with_bias_by_hand() -> None:
    # Output (5 − 1)·2 + 3 = 11; 5·5·8 inputs × 3·3·4 weights = 7200 mults;
    # adds 7200 + 11·11·4 = 7684 with the bias.
    check = verify(ConvTranspose2d(8, 4, 3, stride=2, bias=True), (5, 5, 8))
    assert check.stages[0].name == "transposed"
    assert check.stages[0].counted == check.stages[0].formula == {"mults": 7200, "adds": 7684}
    assert check.stages[0].counted_shape == (11, 11, 4)


def test_grouped_stage_is_named_by_kind() -> None:
    assert verify(Conv2d(4, 8, 3, groups=2), (5, 5, 4)).stages[0].name == "grouped"


def test_a_wrong_formula_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    honest = verify_module.cost

    def one_too_many(layer: Layer, shape: Any) -> Any:
        derived = honest(layer, shape)
        return dataclasses.replace(derived, mults=derived.mults + 1)

    monkeypatch.setattr(verify_module, "cost", one_too_many)
    check = verify(PointwiseConv2d(3, 64), (5, 5, 3))
    assert not check.ok
    assert check.to_dict()["stages"] == [{"name": "pointwise", "counted": {"mults": 4800, "adds": 3200},
                                          "formula": {"mults": 4801, "adds": 3200}, "match": False}]


def test_a_wrong_output_shape_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    honest = verify_module.cost

    def wider(layer: Layer, shape: Any) -> Any:
        derived = honest(layer, shape)
        return dataclasses.replace(derived, output_shape=(sympy.Integer(6), *derived.output_shape[1:]))

    monkeypatch.setattr(verify_module, "cost", wider)
    check = verify(Conv2d(3, 4, 3), (7, 7, 3))
    assert not check.ok and not check.stages[0].match
    assert check.stages[0].counted == check.stages[0].formula
    assert (check.stages[0].counted_shape, check.stages[0].formula_shape) == ((5, 5, 4), (6, 5, 4))


@given(conv_cases(max_size=8, max_channels=8))
def test_every_drawn_case_verifies(case: tuple[Layer, tuple[int, ...]]) -> None:
    layer, shape = case
    check = verify(layer, shape, seed=3)
    assert check.ok, check.to_dict()
    assert len(check.stages) == (2 if isinstance(layer, DepthwiseSeparableConv2d) else 1)


@pytest.mark.parametrize(("layer", "shape", "message"), [
    (Conv2d(3, 8, 3), (H, 7, 3), "input_shape=(H, 7, 3) must be a tuple of ints"),
    (Conv2d(3, 8, 3), "7x7x3", "input_shape='7x7x3' must be a tuple of ints"),
    (Conv2d(3, N, 3), (7, 7, 3), "has symbolic sizes (N)"),
    (Conv2d(3, 8, 3), (7, 7, 4), "has 4 channels but Conv2d expects in_channels=3"),
    (Conv2d(3, 8, 9), (7, 7, 3), "is larger than the padded input"),
    (Conv2d(3, 8, 3), (7, True, 3), "must be a tuple of ints"),
])
def test_bad_input_is_refused(layer: Layer, shape: Any, message: str) -> None:
    with pytest.raises(SymconvError) as error:
        verify(layer, shape)
    assert message in str(error.value)


@dataclasses.dataclass(frozen=True, init=False)
class _ForgetsGroups(Conv2d):
    """A convolution whose weight_shape (what the derivation reads) ignores the groups."""

    @property
    def weight_shape(self) -> tuple[Any, ...]:
        return (*self.kernel_size, self.in_channels, self.out_channels)


def test_parameters_are_counted_from_what_ran_not_from_weight_shape() -> None:
    # The executor reads a (3, 3, 4/2, 6) weight: 108 values; the broken weight_shape says
    # (3, 3, 4, 6) = 216. The counts of mults and adds still agree: only the parameters differ,
    # and the reads, which include them (the 100 input elements read agree).
    check = verify(_ForgetsGroups(4, 6, 3, groups=2), (5, 5, 4))
    assert not check.ok
    stage = check.stages[0]
    assert (stage.counted_params, stage.formula_params) == (108, 216)
    assert (stage.counted["params"], stage.formula["params"]) == (108, 216)
    assert (stage.counted["reads"], stage.formula["reads"]) == (100 + 108, 100 + 216)
    assert {k: v for k, v in stage.counted.items() if k not in ("params", "reads")} == \
        {k: v for k, v in stage.formula.items() if k not in ("params", "reads")}
    # The same layer without the fault verifies, with 108 parameters counted.
    honest = verify(Conv2d(4, 6, 3, groups=2), (5, 5, 4)).stages[0]
    assert honest.match and honest.counted_params == 108


def test_the_winograd_example_is_under_examples_not_under_optimizer():
    doc = verify.__doc__ or ""
    optimizer = doc[doc.index("    optimizer\n"):doc.index("    Returns\n")]
    examples = doc[doc.index("    Examples\n"):]
    assert "winograd" not in optimizer and 'algorithm="winograd"' in examples
