"""``symconv verify`` and ``symconv diagram`` from the command line."""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
from pathlib import Path

import pytest
import sympy

from symconv.cli import main
from symconv.derive import Cost

# the module, not the function of the same name that ``symconv.verify`` gives
verify_module = importlib.import_module("symconv.verify")

FOUNDING = ["--input", "7x7x3", "--output", "5x5x64"]


def test_verify_founding_example_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", *FOUNDING, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert [stage["name"] for stage in report["stages"]] == ["standard", "depthwise", "pointwise"]
    counted = {stage["name"]: stage["counted"] for stage in report["stages"]}
    # by hand: 5·5·64 outputs × 27 products; 26 additions each
    assert counted["standard"] == {"mults": 43200, "adds": 5 * 5 * 64 * 26}
    assert counted["depthwise"] == {"mults": 675, "adds": 5 * 5 * 3 * 8}
    assert counted["pointwise"] == {"mults": 4800, "adds": 5 * 5 * 64 * 2}
    assert all(set(stage) == {"name", "counted", "formula", "match"} for stage in report["stages"])


@pytest.mark.parametrize("fmt", ["text", "markdown", "latex"])
def test_verify_other_formats(capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    arguments = ["--input", "7x7x3", "--out-channels", "64", "--kernel", "3", "--stride", "2",
                 "--bias"]
    assert main(["verify", *arguments, "--format", fmt]) == 0
    out = capsys.readouterr().out
    # by hand, 3×3 outputs (⌊(7 − 3)/2⌋ + 1), a bias each: products = additions
    #   standard 3·3·64·27 = 15552, depthwise 3·3·3·9 = 243, pointwise 3·3·64·3 = 1728
    for count in (15552, 243, 1728):
        assert out.count(str(count)) >= 4, (count, out)   # mults and adds, counted and formula
    assert "All 3 stages match" in out


def test_verify_refuses_an_output_the_kernel_does_not_make(capsys: pytest.CaptureFixture[str]) -> None:
    # 7 → ⌊(7 − 3)/2⌋ + 1 = 3 with stride 2, not 5
    assert main(["verify", *FOUNDING, "--kernel", "3", "--stride", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--output 5x5x64 disagrees with --kernel 3" in err
    assert "gives 3x3" in err


def test_verify_exits_1_when_a_formula_disagrees(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    real_cost = verify_module.cost

    def off_by_one(layer: object, shape: object) -> Cost:
        """The standard convolution's formula claims one multiplication too many."""
        derived: Cost = real_cost(layer, shape)
        if derived.stages:
            return derived
        return dataclasses.replace(derived, mults=derived.mults + sympy.Integer(1))

    monkeypatch.setattr(verify_module, "cost", off_by_one)
    assert main(["verify", *FOUNDING, "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False
    assert report["stages"][0]["match"] is False
    assert report["stages"][0]["formula"]["mults"] == 43201


def test_verify_bad_seed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", *FOUNDING, "--seed", "x"]) == 2
    assert "--seed x" in capsys.readouterr().err


def test_diagram_writes_three_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    code = main(["diagram", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3",
                 "--out-dir", str(tmp_path)])
    assert code == 0
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names == ["depthwise.svg", "pointwise.svg", "standard.svg"]
    assert capsys.readouterr().out.count(str(tmp_path)) == 3


@pytest.mark.parametrize(
    ("extra", "message"),
    [(["--image", "gif"], "image='gif' is not known"), (["--lang", "fr"], "fr")],
)
def test_diagram_bad_arguments_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             extra: list[str], message: str) -> None:
    pytest.importorskip("matplotlib")
    code = main(["diagram", *FOUNDING, "--out-dir", str(tmp_path), *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_diagram_creates_a_missing_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    monkeypatch.chdir(tmp_path)
    # the README's example, in a fresh folder
    assert main(["diagram", "--input", "7x7x3", "--out-channels", "64", "--kernel", "3",
                 "--out-dir", "figs/"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "figs/standard.svg", "figs/depthwise.svg", "figs/pointwise.svg"]
    assert sorted(os.listdir(tmp_path / "figs")) == ["depthwise.svg", "pointwise.svg", "standard.svg"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_verify_says_how_it_counts(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    # the fast executor counts per NumPy operation from the operand shapes: the report must not
    # claim that every scalar operation was counted one by one (issue 10)
    assert main(["verify", *FOUNDING, "--lang", lang]) == 0
    out = capsys.readouterr().out
    legend, title = out.split("\n\n", 1)[0], out.split("\n\n", 1)[1].splitlines()[0]
    assert legend.splitlines()[0] == ("Symbols" if lang == "en" else "符号")  # issue 15
    assert "every scalar" not in title and "逐个" not in title
    assert ("per NumPy operation, from the shapes involved" in title if lang == "en"
            else "按每次 NumPy 运算所涉及的数组形状计数" in title)


def test_verify_in_chinese_names_its_stages_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    # issue 15: the stage column said standard / depthwise / pointwise in a Chinese report
    assert main(["verify", *FOUNDING, "--lang", "zh"]) == 0
    out = capsys.readouterr().out
    stages = [line.split()[0] for line in out.splitlines()
              if line and not line.startswith((" ", "符号", "验证", "全部", "阶段"))]
    assert [stage for stage in stages if not stage[0].isascii()][-3:] == ["标准卷积", "深度卷积", "逐点卷积"]
    assert "standard" not in out and "pointwise" not in out
