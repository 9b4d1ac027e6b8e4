"""Memory budgets in ``solve`` (bytes of ``symconv.memory``) and ``solve resolution`` on PyTorch
models (``from_torch``, model files). Each answer is checked on either side by building the
network at the answer and just beyond it, and the simple cases are worked out by hand."""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest
import sympy

import symconv
from symconv import SymconvError
from symconv.cli import main
from symconv.networks.conventions import count
from symconv.networks.memory import memory
from symconv.zoo import mobilenet_v1, mobilenet_v2

TINY = Fraction(1, 10**7)     # closer than any two steps of a MobileNet's channel counts


def _fraction(value: sympy.Rational) -> Fraction:
    return Fraction(int(value.p), int(value.q))


def test_activation_budget_of_mobilenet_v1_by_hand() -> None:
    # At 128x128 the peak is block 1's pointwise output and its BatchNorm's: 2·floor(64·alpha)
    # channels of 64x64 float32 = 32768·floor(64·alpha) bytes ≤ 2 000 000 <=> floor(64·alpha)
    # ≤ 61 <=> alpha < 62/64.
    answer = symconv.solve("alpha", network="mobilenet_v1", budget=2_000_000,
                           convention="activation_bytes", resolution=128)
    assert (answer.relation, answer.value) == ("<", sympy.Rational(31, 32))
    below = memory(mobilenet_v1(Fraction(31, 32) - TINY, resolution=128)).activation_bytes
    at = memory(mobilenet_v1(Fraction(31, 32), resolution=128)).activation_bytes
    assert (below, at) == (32768 * 61, 32768 * 62)


@pytest.mark.parametrize(("name", "budget", "convention", "resolution"), [
    ("mobilenet_v2", 8_000_000, "param_bytes", 224),
    ("mobilenet_v2", 2_000_000, "activation_bytes", 128),
    ("mobilenet_v1", 10_000_000, "total_bytes", 160),
])
def test_memory_budgets_are_true_thresholds(name, budget, convention, resolution) -> None:
    build = {"mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2}[name]
    answer = symconv.solve("alpha", network=name, budget=budget, convention=convention,
                           resolution=resolution)
    value = _fraction(answer.value)

    def measured(alpha: Fraction) -> int:
        net = build(alpha, resolution=resolution)
        if convention == "param_bytes":        # a second way: 4 bytes per parameter counted
            assert memory(net).param_bytes == 4 * count(net, convention="params")
        return int(getattr(memory(net), convention))

    if answer.relation == "<=":
        assert measured(value) <= budget < measured(value + TINY)
    else:
        assert measured(value - TINY) <= budget < measured(value)


def test_dtype_bytes_halves_what_fits() -> None:
    # float16 activations: twice the channels of float32 fit the same bytes
    # (16384·floor(64·alpha) ≤ 2 000 000 <=> floor(64·alpha) ≤ 122 <=> alpha < 123/64).
    answer = symconv.solve("alpha", network="mobilenet_v1", budget=2_000_000,
                           convention="activation_bytes", resolution=128, dtype_bytes=2)
    assert answer.value == sympy.Rational(123, 64)


def test_resolution_within_an_activation_budget() -> None:
    answer = symconv.solve("resolution", network="mobilenet_v2", budget=10_000_000,
                           convention="activation_bytes")
    pixels = int(answer.value)
    assert memory(mobilenet_v2(resolution=pixels)).activation_bytes <= 10_000_000
    assert memory(mobilenet_v2(resolution=pixels + 1)).activation_bytes > 10_000_000


def test_budgets_of_memory_that_cannot_be_searched_are_refused() -> None:
    with pytest.raises(SymconvError, match="convention='param_bytes' cannot be searched"):
        symconv.solve("resolution", network="mobilenet_v2", budget=10**7,
                      convention="param_bytes")
    with pytest.raises(SymconvError, match="convention='input_bytes' cannot be searched"):
        symconv.solve("alpha", network="mobilenet_v2", budget=10**7, convention="input_bytes")
    with pytest.raises(SymconvError, match="dtype_bytes=0 must be a positive int"):
        symconv.solve("alpha", network="mobilenet_v2", budget=10**7,
                      convention="param_bytes", dtype_bytes=0)


# ------------------------------------------------------------------ PyTorch models

MODEL = textwrap.dedent("""
    import torch

    def small(width=8):
        return torch.nn.Sequential(
            torch.nn.Conv2d(3, width, 3, stride=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(width, 16, 3))
""")


def _hand_macs(pixels: int, width: int = 8) -> int:
    first = (pixels - 3) // 2 + 1              # 3x3, stride 2, no padding
    second = first // 2 - 2                    # 2x2 max pool, then 3x3
    return first * first * width * 27 + second * second * 16 * width * 9


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def test_resolution_of_a_torch_model_by_hand() -> None:
    torch = pytest.importorskip("torch")
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3))       # MODEL's small()
    answer = symconv.solve("resolution", network=model, channels=3, budget=1_000_000)
    assert answer.value == 96
    assert _hand_macs(96) == 985176 <= 1_000_000 < _hand_macs(97) == 1055232
    assert answer.checks == (("resolution = 96", "macs = 985176 ≤ 1000000"),
                             ("resolution = 97", "macs = 1055232 > 1000000"))
    with pytest.raises(SymconvError, match="a PyTorch model has none to vary"):
        symconv.solve("alpha", network=model, budget=10**6)
    with pytest.raises(SymconvError, match="channels=None must be the model's input channels"):
        symconv.solve("resolution", network=model, budget=10**6)


@pytest.mark.parametrize(("fmt", "shown"), [
    ("text", "R ≤ 96"), ("markdown", r"R \leq 96"), ("latex", r"\operatorname{MACS}"),
    ("json", '"answer": 96')])
def test_cli_resolution_of_a_model_file(model_file, capsys, fmt, shown) -> None:
    pytest.importorskip("torch")
    assert main(["solve", "resolution", "--network", f"{model_file}:small", "--channels", "3",
                 "--budget", "1M", "--format", fmt]) == 0
    assert shown in capsys.readouterr().out


def test_cli_resolution_of_a_model_file_with_factory_kwargs_and_bytes(model_file, capsys) -> None:
    pytest.importorskip("torch")
    assert main(["solve", "resolution", "--network", f"{model_file}:small", "--channels", "3",
                 "--factory-kwargs", '{"width": 4}', "--budget", "200K",
                 "--convention", "activation_bytes", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    pixels = report["answer"]

    def peak(size: int) -> int:
        # conv output and ReLU output alive together (4 channels), float32
        first = (size - 3) // 2 + 1
        return 2 * first * first * 4 * 4

    assert peak(pixels) <= 200_000 < peak(pixels + 1)


@pytest.mark.parametrize(("argv", "message"), [
    (["alpha", "--network", "MODEL", "--budget", "1M"], "has no width multiplier alpha"),
    (["resolution", "--network", "MODEL", "--budget", "1M"], "needs --channels"),
    (["resolution", "--network", "MODEL", "--budget", "1M", "--channels", "3", "--alpha", "0.5"],
     "has none"),
    (["resolution", "--network", "mobilenet_v2", "--budget", "1M", "--channels", "3"],
     "is for a PyTorch model file"),
])
def test_cli_refusals(model_file, capsys, argv, message) -> None:
    argv = [f"{model_file}:small" if part == "MODEL" else part for part in argv]
    assert main(["solve", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_memory_budget_json_is_exact(capsys) -> None:
    assert main(["solve", "alpha", "--network", "mobilenet_v1", "--budget", "2M",
                 "--convention", "activation_bytes", "--resolution", "128",
                 "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["answer"], report["relation"]) == ("31/32", "<")
    assert report["inequality"]["latex"].startswith(r"\operatorname{activation}_{bytes}")
