"""``symconv net``: formulas in alpha and rho beside derived values, conventions, bad input."""

from __future__ import annotations

import json

import pytest
import sympy

from symconv import symbols
from symconv.cli import main
from symconv.networks.conventions import CONVENTIONS
from symconv.report.analysis import analyse_zoo, parse_multiplier


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    assert main(["net", *argv, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_symbolic_default_gives_formula_and_value_at_reference(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "mobilenet_v1")
    macs = report["total"]["macs"]
    formula = sympy.sympify(macs["formula"], locals={"alpha": symbols.alpha, "rho": symbols.rho})
    # MobileNet V1 1.0-224: 569 million mult-adds (Howard et al. 2017, Table 8)
    assert round(macs["value"] / 1e6) == 569
    # 224 is a multiple of 32: the closed form is exact there
    assert formula.subs({symbols.alpha: 1, symbols.rho: 1}) == macs["value"]
    assert {"mults", "adds", "params", "macs"} <= set(report["total"])
    assert all({"formula", "value"} <= set(entry) for entry in report["total"].values())
    layer = report["layers"][0]
    assert {"name", "kind", "mults", "params"} <= set(layer)


def test_numeric_alpha_and_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    report = run_json(capsys, "mobilenet_v1", "--alpha", "0.75", "--resolution", "160")
    assert report["input"] == [160, 160, 3]
    # 160 = 5·32 divides evenly and 0.75·c is whole for every c: the symbolic formula is exact
    # there, so the floor-arithmetic value must equal it at alpha = 3/4, rho = 160/224 = 5/7
    symbolic = analyse_zoo("mobilenet_v1").totals["macs"].formula
    assert symbolic.subs({symbols.alpha: sympy.Rational(3, 4), symbols.rho: sympy.Rational(5, 7)}) == \
        report["total"]["macs"]["value"]
    total_layers = sum(layer["mults"] for layer in report["layers"])
    assert total_layers == report["total"]["mults"]["value"]


def test_flops_are_twice_macs(capsys: pytest.CaptureFixture[str]) -> None:
    flops = run_json(capsys, "mobilenet_v2", "--alpha", "1", "--resolution", "224", "--convention", "flops")
    macs = run_json(capsys, "mobilenet_v2", "--alpha", "1", "--resolution", "224")
    assert flops["total"]["flops"]["value"] == 2 * macs["total"]["macs"]["value"]
    # MobileNet V2 1.0-224: "300" million multiply-adds (Sandler et al. 2018, Table 4), the
    # millions cut after the digits shown, as the TF-slim table also prints them
    assert int(macs["total"]["macs"]["value"] / 10**6) == 300


@pytest.mark.parametrize("convention", sorted(CONVENTIONS))
@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_every_convention_and_format(capsys: pytest.CaptureFixture[str], convention: str, fmt: str) -> None:
    assert main(["net", "mobilenet_v1", "--alpha", "1/2", "--convention", convention, "--format", fmt]) == 0
    assert capsys.readouterr().out.strip()


def test_per_layer_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v1", "--alpha", "1", "--resolution", "224", "--per-layer"]) == 0
    out = capsys.readouterr().out
    assert "conv1" in out and "depthwise" in out and "pointwise" in out


BAD = [
    (["net", "resnet50"], "unknown; use one of mobilenet_v1, mobilenet_v2"),
    (["net", "mobilenet_v1", "--alpha", "0"], "--alpha 0 must be greater than 0"),
    (["net", "mobilenet_v1", "--alpha", "-0.5"], "is not a number"),
    (["net", "mobilenet_v1", "--alpha", "__import__('os')"], "is not a number"),
    (["net", "mobilenet_v1", "--resolution", "0"], "--resolution 0"),
    (["net", "mobilenet_v1", "--resolution", "22.4"], "'22.4' is not a whole number"),
    (["net", "mobilenet_v1", "--convention", "gflops"], "unknown; use one of macs, flops"),
]


@pytest.mark.parametrize(("argv", "message"), BAD)
def test_bad_input(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_parse_multiplier_is_exact() -> None:
    assert parse_multiplier("0.1", "--alpha") == sympy.Rational(1, 10)
    with pytest.raises(ValueError, match="divides by zero"):
        parse_multiplier("1/0", "--alpha")


def test_net_verify_executes_every_layer(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v2", "--verify", "--alpha", "1/4", "--resolution", "32",
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    names = [stage["name"] for stage in report["stages"]]
    assert names[0] == "conv1.conv" and names[-1].startswith("classifier")
    relu6 = next(stage for stage in report["stages"] if stage["name"].endswith("relu6"))
    # ReLU6 compares every element twice (min and max): counted and derived agree, adds none
    assert relu6["counted"] == relu6["formula"] and relu6["counted"]["comparisons"] > 0


def test_net_verify_text_names_the_network(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["net", "mobilenet_v1", "--verify", "--alpha", "1/4", "--resolution", "32"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Verification: MobileNet V1 on 32×32×3")
    assert "stages match their formulas" in out


def test_net_in_chinese_translates_the_convention_and_the_reference(
        capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: the convention's description and "224×224 pixels" stayed English
    assert main(["net", "mobilenet_v1", "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    assert "Multiply-accumulates" not in out and "pixels" not in out
    assert "仅统计卷积层与全连接层的乘加次数" in out and "224×224 像素（rho = 1）" in out
    # full-width punctuation beside Chinese text, not ASCII
    assert "MobileNet V1：输入" in out and "macs：" in out
