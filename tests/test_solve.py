"""symconv.solve: every answer checked on either side with counts made independently of the
search (networks built at the answer and just beyond it), and the issue's worked example."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
import sympy

import symconv
from symconv import Conv2d, SymconvError
from symconv.cli import main
from symconv.derive.algorithms import algorithm_cost
from symconv.design.command import parse_count
from symconv.networks.conventions import count
from symconv.symbols import M
from symconv.zoo import mobilenet_v1, mobilenet_v2

BUILDERS = {"mobilenet_v1": mobilenet_v1, "mobilenet_v2": mobilenet_v2}
TINY = Fraction(1, 10**7)     # closer than any two steps of a MobileNet's channel counts


def _fraction(value: sympy.Rational) -> Fraction:
    return Fraction(int(value.p), int(value.q))


# (kernel, saving, smallest N): 1/N ≤ 1/saving − 1/k², worked by hand (k = 7, 40×:
# 1/40 − 1/49 = 9/1960, N ≥ 1960/9 = 217.8).
SEPARABLE = [(3, 8, 72), (5, 10, 17), (3, 2, 3), (7, 40, 218)]


@pytest.mark.parametrize(("kernel", "saving", "expected"), SEPARABLE)
def test_smallest_separable_channels(kernel: int, saving: int, expected: int) -> None:
    answer = symconv.solve("separable", kernel_size=kernel, saving=saving)
    assert (answer.relation, answer.value) == (">=", expected)
    N = answer.variable
    assert answer.inequality == (1 / N + sympy.Rational(1, kernel**2) <= sympy.Rational(1, saving))


def test_a_saving_out_of_reach_is_refused() -> None:
    with pytest.raises(SymconvError, match="saving=9 cannot be reached"):
        symconv.solve("separable", kernel_size=3, saving=9)


@pytest.mark.parametrize(("name", "budget", "convention"), [
    ("mobilenet_v1", 300_000_000, "macs"), ("mobilenet_v2", 300_000_000, "macs"),
    ("mobilenet_v2", 3_000_000, "params"),
])
def test_largest_alpha_is_the_true_threshold(name: str, budget: int, convention: str) -> None:
    answer = symconv.solve("alpha", network=name, budget=budget, convention=convention)
    value = _fraction(answer.value)

    def counted(alpha: Fraction) -> sympy.Integer:
        return count(BUILDERS[name](alpha), convention=convention)

    if answer.relation == "<=":
        assert counted(value) <= budget < counted(value + TINY)
    else:
        assert answer.relation == "<"
        assert counted(value - TINY) <= budget < counted(value)


def test_largest_resolution_fits_and_one_more_pixel_does_not() -> None:
    answer = symconv.solve("resolution", network="mobilenet_v2", budget=300_000_000)
    pixels = int(answer.value)
    assert count(mobilenet_v2(resolution=pixels), convention="macs") <= 300_000_000
    assert count(mobilenet_v2(resolution=pixels + 1), convention="macs") > 300_000_000


def test_budgets_without_an_answer_are_refused() -> None:
    with pytest.raises(SymconvError, match="no alpha fits"):
        symconv.solve("alpha", network="mobilenet_v1", budget=1000)
    with pytest.raises(SymconvError, match="convention='ops' cannot be searched"):
        symconv.solve("alpha", network="mobilenet_v1", budget=10**9, convention="ops")
    with pytest.raises(SymconvError, match="question='batch' is unknown"):
        symconv.solve("batch")


def test_crossover_over_channels_is_solved_and_holds_on_either_side() -> None:
    layer, shape = Conv2d(M, M, 3, padding=1), (14, 14, M)
    answer = symconv.solve("crossover", layer=layer, input_shape=shape, first="winograd",
                           measure="ops", first_options={"tile": 2})

    def ops(channels: int, algorithm: str) -> sympy.Expr:
        concrete = Conv2d(channels, channels, 3, padding=1)
        found = (symconv.cost(concrete, (14, 14, channels)) if algorithm == "direct" else
                 algorithm_cost(concrete, (14, 14, channels), algorithm, tile=2))
        return found.mults + found.adds

    value = int(answer.value)
    for channels in (value, value + 1, 2 * value + 7):
        assert ops(channels, "winograd") < ops(channels, "direct")
    assert value == 1 or ops(value - 1, "winograd") >= ops(value - 1, "direct")


def test_crossover_needs_one_symbol() -> None:
    with pytest.raises(SymconvError, match="exactly one symbol"):
        symconv.solve("crossover", layer=Conv2d(3, 8, 3), input_shape=(9, 9, 3), first="fft")


def test_cli_json_gives_exact_numbers() -> None:
    def run(*argv: str) -> dict[str, object]:
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["solve", *argv, "--format", "json"]) == 0
        result: dict[str, object] = json.loads(out.getvalue())
        return result

    assert run("separable", "--kernel", "3", "--saving", "8")["answer"] == 72
    alpha = run("alpha", "--network", "mobilenet_v1", "--budget", "300M")
    numerator, denominator = map(int, str(alpha["answer"]).split("/"))
    assert count(mobilenet_v1(Fraction(numerator, denominator)), convention="macs") > 300_000_000
    assert alpha["relation"] == "<" and "inequality" in alpha


def test_cli_latex_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "separable", "--kernel", "3", "--saving", "8", "--format", "latex"]) == 0
    assert r"N \geq 72" in capsys.readouterr().out
    assert main(["solve", "separable", "--kernel", "3", "--budget", "3M"]) == 2
    assert main(["solve", "alpha", "--network", "mobilenet_v2", "--budget", "1.5"]) == 2
    assert main(["solve", "roofline"]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("symconv: error:") for line in errors)


@pytest.mark.parametrize(("text", "value"), [("300M", 300_000_000), ("3.4M", 3_400_000),
                                             ("1k", 1000), ("42", 42)])
def test_counts_are_read_exactly(text: str, value: int) -> None:
    assert parse_count(text, "--budget") == value
