"""Backward rules of the kinds of windowed attention (issue 12): Roll, Strided, Normalize,
Constant, MulParameter, F.linear and the einsum spelling of MatMul. Counted (fast and reference)
against derived, gradients against finite differences and fast against reference, counts by
hand, fuzzed shapes; no torch needed (tests/test_backward_windows_torch.py has the autograd and
FlopCounterMode checks)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import cost, verify
from symconv.execute.backward import execute_backward
from symconv.frontends.mapping_windows import FunctionalLinear
from symconv.layers import Graph, Linear, Reuse, Sequential
from symconv.layers.products import MatMul
from symconv.layers.tokens import MulParameter
from symconv.layers.windows import Constant, Normalize, Roll, Strided
from symconv.networks.conventions import count
from tests.backward_checks import (
    assert_counted_backward_equals_derived,
    assert_fast_and_reference_gradients_agree,
    assert_gradients_match_finite_differences,
    random_input,
)

# a cosine attention in miniature: normalised q and k, their product einsum-spelled, scaled
COSINE = Graph(
    ("q", FunctionalLinear(4, 4)), ("qn", Normalize(axis=-1)), ("x", Reuse("input", (5, 4))),
    ("k", Linear(4, 4, bias=False)), ("kn", Normalize(axis=-1)), ("back", Reuse("qn", (5, 4))),
    ("scores", MatMul("kn", (5, 4), transpose_other=True, spelling="einsum")),
    ("scale", MulParameter((1, 5))))

# shift, subsample and shift back
WINDOWS = Sequential(Roll((-1, 2), (0, 1)), Strided((1, 0), (2, 2)), MulParameter((1, 1, 3)),
                     Roll((1,), (1,)))

CASES = [
    (Roll((-1, 2), (0, 1)), (3, 4, 2)),
    (Roll((1,), (2,)), (2, 3, 4)),
    (Strided((1, 0), (2, 2)), (5, 4, 2)),
    (Strided((0, 1), (1, 3), stops=(2, None)), (3, 7, 2)),
    (Normalize(axis=-1), (3, 4)),
    (Normalize(axis=0), (3, 2, 4)),
    (Normalize(axis=1, eps=0.5), (2, 3, 2)),     # some rows clamped: their norms' gradient 0
    (MulParameter((3, 1, 1)), (2, 3, 2, 2)),
    (MulParameter((4,)), (3, 4)),
    (MulParameter((1, 4), learned=False), (3, 4)),
    (FunctionalLinear(4, 3), (2, 4)),
    (COSINE, (5, 4)),
    (WINDOWS, (5, 4, 3)),
]


def _ids(case: tuple[object, tuple[int, ...]]) -> str:
    layer = case[0]
    return f"{getattr(layer, 'kind', type(layer).__name__)}{case[1]}"


_x = random_input


@pytest.mark.parametrize("case", CASES, ids=_ids)
@pytest.mark.parametrize("input_grad", [True, False])
def test_counted_backward_equals_derived(case, input_grad):
    assert_counted_backward_equals_derived(*case, input_grad)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_fast_and_reference_gradients_agree(case):
    assert_fast_and_reference_gradients_agree(*case)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_gradients_match_finite_differences(case):
    assert_gradients_match_finite_differences(*case)


def test_constant_passes_no_gradient_to_its_input():
    run = execute_backward(Constant((2, 3)), _x((4, 4)), input_grad=True)
    assert run.grad_input is not None and not run.grad_input.any()
    assert cost(Constant((2, 3)), (4, 4), phase="backward").adds == 0


# ------------------------------------------------------------------------- hand counts


def test_normalize_backward_by_hand():
    # per row of L = 6 (4 rows): g/d (6 divs); −g·((x/d)/d) (12 divs, 6 mults) summed (5 adds);
    # clamp_min's d ≥ eps (1 comparison); norm_backward's (x/‖x‖)·g_n (6 divs, 6 mults) masked
    # where ‖x‖ = 0 (1 comparison); the two gradients of x added (6 adds)
    c = cost(Normalize(axis=-1), (4, 6), phase="backward")
    assert (c.divs, c.mults, c.adds, c.comparisons, c.transcendentals) == (
        4 * 24, 4 * 12, 4 * 11, 4 * 2, 0)


def test_mul_parameter_and_movement_backward_by_hand():
    # MulParameter((3, 1, 1)) on (2, 3, 4, 5): g·p 120 mults; g·x 120 mults, summed into 3
    # values of 40 terms each: 3·39 adds
    c = cost(MulParameter((3, 1, 1)), (2, 3, 4, 5), phase="backward")
    assert (c.mults, c.adds) == (240, 117)
    assert cost(MulParameter((3, 1, 1)), (2, 3, 4, 5), phase="backward",
                frozen=True).adds == 0
    # a constant factor: g·p only
    c = cost(MulParameter((1, 5), learned=False), (2, 3, 4, 5), phase="backward")
    assert (c.mults, c.adds) == (120, 0)
    for layer in (Roll((2,), (0,)), Strided((0,), (2,))):
        c = cost(layer, (4, 5), phase="backward")
        assert (c.mults, c.adds, c.divs, c.comparisons) == (0, 0, 0, 0)


def test_einsum_and_f_linear_backward_under_torch_convention():
    # F.linear (2, 4) → (2, 3), input gradient needed: g·Wᵀ 2·4 dots of 3, Wᵀ-grad 4·3 dots of
    # 2: 24 + 24 multiply-adds, 2 FLOPs each (mm); the bias gradient counts 0
    layer = FunctionalLinear(4, 3)
    backward = count(layer, (2, 4), convention="torch", phase="backward", input_grad=True)
    assert backward == 2 * (2 * 4 * 3 + 4 * 3 * 2)
    # an einsum product (5, 4) × (5, 4)ᵀ whose operands both need gradients: two bmm of
    # 5·4 dots of 5 terms each, 2 FLOPs per multiply-add
    net = Graph(("a", Linear(4, 4, bias=False)), ("x", Reuse("input", (5, 4))),
                ("m", MatMul("a", (5, 4), transpose_other=True, spelling="einsum")))
    linear = 2 * (5 * 4 * 4)                       # a's weight gradient (input needs none)
    products = 2 * (5 * 4 * 5)                     # the einsum's gradient of "a" only
    assert count(net, (5, 4), convention="torch", phase="backward") == linear + products


# ------------------------------------------------------------------------- fuzzed shapes


@st.composite
def _cases(draw):
    kind = draw(st.sampled_from(["roll", "strided", "normalize", "mulparameter"]))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=3)))
    if kind == "roll":
        axis = draw(st.integers(0, len(shape) - 1))
        return Roll((draw(st.integers(-5, 5)),), (axis,)), shape
    if kind == "strided":
        spatial = len(shape) - 1
        starts = tuple(draw(st.integers(0, size - 1)) for size in shape[:-1])
        steps = tuple(draw(st.integers(1, 3)) for _ in range(spatial))
        return Strided(starts, steps), shape
    if kind == "normalize":
        return Normalize(axis=draw(st.integers(-len(shape), len(shape) - 1))), shape
    broadcast = tuple(draw(st.sampled_from([1, size])) for size in shape)
    return MulParameter(broadcast, learned=draw(st.booleans())), shape


@settings(max_examples=12, deadline=None)
@given(_cases(), st.booleans())
def test_fuzzed_shapes_verify_backward(case, input_grad):
    layer, shape = case
    check = verify(layer, shape, phase="backward", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]
    fast = execute_backward(layer, _x(shape), method="fast", input_grad=input_grad)
    slow = execute_backward(layer, _x(shape), method="reference", input_grad=input_grad)
    assert fast.counts == slow.counts
    if input_grad:
        np.testing.assert_allclose(fast.grad_input, slow.grad_input, rtol=1e-10, atol=1e-12)
