"""The fifth count, transcendentals: activations that evaluate exp, erf, tanh or log, and
Softmax / LogSoftmax. Counts by hand from PyTorch's formulas (never read off the layers' own
tables), fast == reference == derived, and values equal to PyTorch's in float64 (skipped without
torch)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symconv import cost, execute, verify
from symconv.layers import Activation, LogSoftmax, Softmax
from symconv.symbols import C, H, W

KINDS = ("mults", "adds", "divs", "comparisons", "transcendentals")

# Per element, read off PyTorch's formulas (aten/src/ATen/native/cpu/*Activation*.cpp):
# (mults, adds, divs, comparisons, transcendentals)
PER_ELEMENT = {
    "sigmoid": (0, 1, 1, 0, 1),      # 1 / (1 + exp(-x))
    "silu": (0, 1, 1, 0, 1),         # x / (1 + exp(-x))
    "tanh": (0, 0, 0, 0, 1),         # tanh(x)
    "gelu": (3, 1, 0, 0, 1),         # (x * 0.5) * (1 + erf(x * sqrt(1/2)))
    "gelu_tanh": (6, 2, 0, 0, 1),    # 0.5x * (1 + tanh(b * (x + k * x*x*x)))
    "elu": (1, 1, 0, 1, 1),          # x > 0 ? x : (exp(x) - 1) * alpha
    "softplus": (1, 0, 1, 1, 2),     # x*b > 20 ? x : log1p(exp(x*b)) / b
    "mish": (1, 0, 0, 0, 3),         # x * tanh(log1p(exp(x)))
}

DEFINITIONS = {
    "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "silu": lambda v: v / (1 + math.exp(-v)),
    "tanh": math.tanh,
    "gelu": lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2))),
    "gelu_tanh": lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3))),
    "elu": lambda v: v if v > 0 else math.exp(v) - 1,
    "softplus": lambda v: v if v > 20 else math.log(1 + math.exp(v)),
    "mish": lambda v: v * math.tanh(math.log(1 + math.exp(v))),
}


def _x(shape: tuple[int, ...], scale: float = 3.0) -> np.ndarray:
    return np.random.default_rng(1).standard_normal(shape) * scale


def _both(layer: object, x: np.ndarray) -> dict[str, int]:
    fast = execute(layer, x)  # type: ignore[arg-type]
    reference = execute(layer, x, method="reference")  # type: ignore[arg-type]
    np.testing.assert_allclose(fast.output, reference.output, rtol=1e-12, atol=1e-14)
    assert fast.counts == reference.counts
    assert fast.counts is not None
    return {kind: getattr(fast.counts, kind) for kind in KINDS}


@pytest.mark.parametrize("function", sorted(PER_ELEMENT))
def test_activation_counts_by_hand_and_values(function: str) -> None:
    x = _x((3, 4, 2))
    x[0, 0, 0] = 25.0   # beyond softplus' threshold
    counted = _both(Activation(function), x)
    assert counted == {kind: n * 24 for kind, n in zip(KINDS, PER_ELEMENT[function])}
    derived = cost(Activation(function), (3, 4, 2))
    assert counted == {kind: int(getattr(derived, kind)) for kind in KINDS}
    np.testing.assert_allclose(execute(Activation(function), x).output,
                               np.vectorize(DEFINITIONS[function])(x), rtol=1e-12, atol=1e-14)
    assert verify(Activation(function), (2, 3, 2)).ok


def test_symbolic_sigmoid() -> None:
    c = cost(Activation("silu"), (H, W, C))
    assert (c.transcendentals, c.adds, c.divs, c.mults) == (C * H * W, C * H * W, C * H * W, 0)


def test_softmax_by_hand() -> None:
    # 3×4 rows of 5 along channels: max 4 comparisons, 5 subtractions + 4 adds, 5 exp,
    # 1 reciprocal, 5 mults, per row; 12 rows.
    counted = _both(Softmax(), _x((3, 4, 5)))
    assert counted == {"mults": 60, "adds": 108, "divs": 12, "comparisons": 48,
                       "transcendentals": 60}
    derived = cost(Softmax(), (3, 4, 5))
    assert counted == {kind: int(getattr(derived, kind)) for kind in KINDS}


def test_log_softmax_by_hand_along_an_axis() -> None:
    # Along axis 0 (length 3) of (3, 4, 5): 20 rows; per row 2 comparisons, 3 exp + 1 log,
    # 3 subtractions, 2 adds for the sum, 1 for max + log, 3 for x - that = 9 adds.
    counted = _both(LogSoftmax(axis=0), _x((3, 4, 5)))
    assert counted == {"mults": 0, "adds": 180, "divs": 0, "comparisons": 40,
                       "transcendentals": 80}
    assert verify(LogSoftmax(axis=0), (3, 4, 5)).ok


def test_softmax_symbolic_and_bad_axis() -> None:
    c = cost(Softmax(), (H, C))
    assert (c.adds - H * (2 * C - 1)).expand() == 0
    assert c.divs == H
    with pytest.raises(ValueError, match=r"Softmax\(axis=3\) is out of range"):
        cost(Softmax(axis=3), (4, 5, 6))
    with pytest.raises(ValueError, match=r"Softmax\(axis='c'\) must be an int"):
        Softmax(axis="c")  # type: ignore[arg-type]


TORCH_FUNCTIONS = {
    "sigmoid": "sigmoid", "silu": "silu", "tanh": "tanh", "gelu": "gelu", "elu": "elu",
    "softplus": "softplus", "mish": "mish",
}


@pytest.mark.parametrize("function", sorted(PER_ELEMENT))
def test_activation_values_equal_torch(function: str) -> None:
    torch = pytest.importorskip("torch")
    x = _x((3, 4, 2))
    x[0, 0, 0] = 25.0
    tensor = torch.from_numpy(x)
    if function == "gelu_tanh":
        expected = torch.nn.functional.gelu(tensor, approximate="tanh")
    else:
        expected = getattr(torch.nn.functional, TORCH_FUNCTIONS[function])(tensor)
    for method in ("fast", "reference"):
        out = execute(Activation(function), x, method=method).output  # type: ignore[arg-type]
        np.testing.assert_allclose(out, expected.numpy(), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_values_equal_torch(axis: int) -> None:
    torch = pytest.importorskip("torch")
    x = _x((3, 4, 5))
    tensor = torch.from_numpy(x)
    for layer, function in ((Softmax(axis), torch.softmax), (LogSoftmax(axis), torch.log_softmax)):
        for method in ("fast", "reference"):
            out = execute(layer, x, method=method).output  # type: ignore[arg-type]
            np.testing.assert_allclose(out, function(tensor, axis).numpy(), rtol=1e-13,
                                       atol=1e-15)


@pytest.mark.parametrize(("function", "expected"), [("silu", [-0.0, 1000.0]),
                                                    ("sigmoid", [0.0, 1.0]),
                                                    ("elu", [-1.0, 1000.0])])
def test_extreme_inputs_give_the_limit_without_an_overflow_warning(function, expected):
    # exp(1000) overflows to inf; the limits are exact: x/(1 + inf) = -0, 1/(1 + inf) = 0.
    import warnings

    import numpy as np

    from symconv.execute import execute
    from symconv.layers import Activation

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = execute(Activation(function), np.array([[[-1000.0, 1000.0]]])).output
    assert out.ravel().tolist() == expected
