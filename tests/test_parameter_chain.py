"""Parameter chains (symconv.layers.learned, issue 12's proof gap): a learned table gathered by
a fixed index, transformed elementwise and added to (or multiplied into) a tensor computed from
the input, as Swin's relative position bias and Swin V2's logit scale. Counted by hand at
inference (folded: nothing) and in training, counted (fast and reference) against derived,
gradients against finite differences; no torch needed (tests/test_parameter_chain_torch.py has
the models and torch.autograd)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import SymconvError, cost, verify
from symconv.execute import execute
from symconv.execute.backward import execute_backward
from symconv.layers import Activation, AddComputed, Graph, MulComputed, Reuse
from symconv.layers.learned import Clamp, Exp, Folded, Gather, Parameter
from symconv.layers.products import MulScalar
from symconv.networks.conventions import count
from tests.backward_checks import (
    assert_counted_backward_equals_derived,
    assert_fast_and_reference_gradients_agree,
    assert_gradients_match_finite_differences,
)

# A window of N = 3 tokens, 3 heads: the relative position i − j + 2 of query i and key j picks
# a row of a (2·3 − 1, 3) table, as Swin's relative_position_index does in 2-D; the bias
# table[index].view(N, N, heads).permute(2, 0, 1) is element (h, i, j) = table[i − j + 2, h],
# flat position (i − j + 2)·3 + h.
N, HEADS, WINDOWS = 3, 3, 2
INDEX = tuple((i - j + 2) * HEADS + h for h in range(HEADS) for i in range(N) for j in range(N))
# The same gather spelled by rows (columns=HEADS): the row i − j + 2 of each (i, j), once.
ROWS = tuple(i - j + 2 for i in range(N) for j in range(N))
SHAPE = (WINDOWS, HEADS, N, N)
SPELLINGS = {"positions": Gather(INDEX, (1, HEADS, N, N)),
             "rows": Gather(ROWS, (1, HEADS, N, N), columns=HEADS)}


def swin_v2_attention(gather: Gather) -> Graph:
    return Graph(
        ("table", Parameter((2 * N - 1, HEADS))),
        ("gather", Folded(gather)),
        ("sigmoid", Folded(Activation("sigmoid", spelling="torch"))),
        ("times16", Folded(MulScalar(16))),
        ("logit_scale", Parameter((HEADS, 1, 1))),
        ("clamp", Folded(Clamp(high=sympy.Rational(1, 2)))),
        ("exp", Folded(Exp())),
        ("attn", Reuse("input", SHAPE)),
        ("scaled", MulComputed("exp", shape=(HEADS, 1, 1))),
        ("biased", AddComputed("times16", shape=(1, HEADS, N, N))),
        input_shape=SHAPE)


@pytest.fixture(params=sorted(SPELLINGS))
def attention(request: pytest.FixtureRequest) -> Graph:
    """The graph with each spelling of its gather: every count below holds for both."""
    return swin_v2_attention(SPELLINGS[request.param])


ELEMENTS = WINDOWS * HEADS * N * N            # 54 attention scores
BIAS = HEADS * N * N                          # 27 bias elements, gathered from 15


def _ops(c: object) -> object:
    return sum(getattr(c, kind) for kind in ("mults", "adds", "divs", "comparisons",
                                             "transcendentals"))


def test_at_inference_the_chain_folds_and_only_the_joins_count(attention: Graph) -> None:
    c = cost(attention)
    # attn·scale, one mult per score; + bias, one add per score; nothing else
    assert (c.mults, c.adds, c.divs, c.transcendentals, c.comparisons) == (
        ELEMENTS, ELEMENTS, 0, 0, 0)
    assert c.params == (2 * N - 1) * HEADS + HEADS    # the table and the logit scale
    for name in ("gather", "sigmoid", "times16", "clamp", "exp"):
        folded = dict(c.stages)[name]
        assert (_ops(folded), folded.reads, folded.writes) == (0, 0, 0), name


def test_a_training_step_counted_by_hand(attention: Graph) -> None:
    train = dict(cost(attention, phase="train").stages)
    forward, backward = dict(train["forward"].stages), dict(train["backward"].stages)
    # forward: sigmoid 1 exp, 1 add, 1 div per bias element; ×16 one mult; clamp one comparison
    # and exp one transcendental per head; the gather copies
    assert (forward["sigmoid"].transcendentals, forward["sigmoid"].adds,
            forward["sigmoid"].divs) == (BIAS, BIAS, BIAS)
    assert forward["times16"].mults == BIAS
    assert (forward["clamp"].comparisons, forward["exp"].transcendentals) == (HEADS, HEADS)
    assert _ops(forward["gather"]) == 0
    # backward: the bias's gradient is g summed over the 2 windows: (2 − 1)·27 adds
    assert (backward["biased"].adds, backward["biased"].mults) == ((WINDOWS - 1) * BIAS, 0)
    # attn·scale: the network's input needs no gradient (the default), so g·attn only (54
    # mults); the scale's gradient sums 2·3·3 = 18 terms per head: 17·3 adds
    assert (backward["scaled"].mults, backward["scaled"].adds) == (
        ELEMENTS, (WINDOWS * N * N - 1) * HEADS)
    with_input = dict(cost(attention, phase="backward", input_grad=True).stages)
    assert with_input["scaled"].mults == 2 * ELEMENTS      # and g·scale
    # ×16: 27 mults; sigmoid g·(1 − y)·y: 2 mults, 1 add each; exp g·y: 1 mult each; clamp
    # one comparison each
    assert backward["times16"].mults == BIAS
    assert (backward["sigmoid"].mults, backward["sigmoid"].adds) == (2 * BIAS, BIAS)
    assert (backward["exp"].mults, backward["clamp"].comparisons) == (HEADS, HEADS)
    # the scatter-add: offset d = i − j is gathered 3 − |d| times per head (3, 2, 2, 1, 1):
    # 9 gradients into 5 rows, 9 − 5 = 4 additions per head
    assert backward["gather"].adds == (N * N - (2 * N - 1)) * HEADS == 12
    # the parameters' gradients are those that reach them
    assert _ops(backward["table"]) == _ops(backward["logit_scale"]) == 0


def test_counted_equals_derived_and_gradients_match_finite_differences(attention: Graph) -> None:
    assert_counted_backward_equals_derived(attention, SHAPE, input_grad=True)
    assert_counted_backward_equals_derived(attention, SHAPE, input_grad=False)
    assert_fast_and_reference_gradients_agree(attention, SHAPE)
    assert_gradients_match_finite_differences(attention, SHAPE)


def test_the_training_forward_and_its_traffic_are_proved_by_execution(attention: Graph) -> None:
    check = verify(attention, SHAPE, phase="train")
    assert check.ok, [stage for stage in check.stages if not stage.match]
    forward = {stage.name: stage for stage in check.stages}
    # the gather reads the 15 table elements it picks, writes 27
    assert forward["gather"].counted_traffic == {"reads": 15, "writes": BIAS}
    assert verify(attention, SHAPE).ok


def test_the_conventions_count_the_chain_in_training_only(attention: Graph) -> None:
    ops = count(attention, convention="ops")
    assert ops == 2 * ELEMENTS
    # FlopCounterMode counts none of these elementwise and gather steps, nor the joins
    assert count(attention, convention="torch", phase="train") == 0
    assert count(attention, convention="macs", phase="train") == 0
    backward = cost(attention, phase="backward")
    forward_train = dict(cost(attention, phase="train").stages)["forward"]
    assert count(attention, convention="ops", phase="train") == (
        _ops(forward_train) + _ops(backward))
    assert _ops(forward_train) - ops == 3 * BIAS + BIAS + 2 * HEADS


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12), st.data())
def test_gather_backward_adds_one_per_repeat(index: list[int], data: st.DataObject) -> None:
    size = data.draw(st.integers(max(index) + 1, 8))
    layer = Gather(tuple(index), (len(index),))
    expected = len(index) - len(set(index))
    assert cost(layer, (size,), phase="backward").adds == expected
    for method in ("fast", "reference"):
        run = execute_backward(layer, np.zeros(size), method=method, input_grad=True)
        assert run.counts is not None and run.counts.adds == expected
        dense = np.zeros(size)
        np.add.at(dense, np.array(index), run.grad_output)
        np.testing.assert_allclose(run.grad_input, dense, rtol=1e-12, atol=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=6), st.integers(1, 3), st.data())
def test_gather_by_rows_is_the_table_gathered_column_by_column(
        rows: list[int], columns: int, data: st.DataObject) -> None:
    table_rows = data.draw(st.integers(max(rows) + 1, 6))
    layer = Gather(tuple(rows), (columns, len(rows)), columns=columns)
    table = np.arange(1.0, table_rows * columns + 1).reshape(table_rows, columns)
    expected = table[np.array(rows)].T               # table[index].T, as NumPy spells it
    for method in ("fast", "reference"):
        run = execute(layer, table.reshape(-1), method=method)
        np.testing.assert_array_equal(run.output, expected)
    # read: each distinct row's elements; the scatter-add: one addition per repeated row element
    c = cost(layer, (table_rows * columns,))
    assert (c.reads, c.writes) == (len(set(rows)) * columns, len(rows) * columns)
    repeats = (len(rows) - len(set(rows))) * columns
    assert cost(layer, (table_rows * columns,), phase="backward").adds == repeats
    for method in ("fast", "reference"):
        back = execute_backward(layer, table.reshape(-1), method=method, input_grad=True)
        assert back.counts is not None and back.counts.adds == repeats
        dense = np.zeros_like(table)
        np.add.at(dense, np.array(rows), back.grad_output.T)
        np.testing.assert_allclose(back.grad_input, dense.reshape(-1), rtol=1e-12, atol=1e-12)


def test_bad_arguments_say_what_to_fix() -> None:
    with pytest.raises(SymconvError, match=r"Gather\(shape=\(2, 2\)\) holds 4 elements; index has 3"):
        Gather((0, 1, 2), (2, 2))
    with pytest.raises(SymconvError, match=r"Clamp\(low=None, high=None\) clamps nothing"):
        Clamp()
    with pytest.raises(SymconvError, match=r"Clamp\(high=0\.5\) must be an exact real number"):
        Clamp(high=0.5)
    with pytest.raises(SymconvError, match=r"Gather: index 7 is outside an input of 3 elements"):
        cost(Gather((7,), (1,)), (3,))
    with pytest.raises(SymconvError, match=r"Gather\(columns=0\) must be an int >= 1"):
        Gather((0, 1), (2,), columns=0)
    with pytest.raises(SymconvError, match=r"holds 4 elements; index has 3 rows × 2 columns"):
        Gather((0, 1, 2), (2, 2), columns=2)
    with pytest.raises(SymconvError, match=r"Gather: position 5 is outside an input of 5 "):
        cost(Gather((2, 0), (2, 2), columns=2), (5,))
