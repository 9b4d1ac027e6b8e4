"""Backward rules of the kinds from_torch accepted without one (issue 12): Upsample (nearest,
bilinear), PReLU, MulScalar, MatMul, multi-head attention's stages and the token layers.
Counted (fast and reference) against derived, gradients against finite differences, counts
by hand, fuzzed shapes; no torch needed (tests/test_backward_transformer_torch.py has the
autograd and FlopCounterMode checks)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symconv import cost, verify
from symconv.execute.backward import execute_backward
from symconv.layers import Graph, Linear, PReLU, Reuse, Sequential, Softmax, Upsample
from symconv.layers.attention import multihead_attention
from symconv.layers.products import MatMul, MulScalar
from symconv.layers.tokens import AddParameter, ClassToken, Rearrange, Reshape, Select
from symconv.symbols import C, H, L, W
from tests.backward_checks import (
    assert_counted_backward_equals_derived,
    assert_fast_and_reference_gradients_agree,
    assert_gradients_match_finite_differences,
    random_input,
)

# a hand-written attention: q = xW_q, k = xW_k, softmax(q kᵀ)·½ times k
HAND_ATTENTION = Graph(
    ("q", Linear(4, 4)), ("x", Reuse("input", (5, 4))), ("k", Linear(4, 4, bias=False)),
    ("back", Reuse("q", (5, 4))), ("scores", MatMul("k", (5, 4), transpose_other=True)),
    ("softmax", Softmax()), ("half", MulScalar(0.5)),
    ("context", MatMul("k", (5, 4), spelling="torch.matmul")))

# a batched product of two views of the input
BATCHED = Graph(
    ("r", Reshape((2, 3, 4))), ("x", Reuse("input", (6, 4))), ("l", Linear(4, 4)),
    ("r2", Reshape((2, 3, 4))), ("back", Reuse("r", (2, 3, 4))),
    ("m", MatMul("r2", (2, 3, 4), transpose_other=True)))

# a ViT in miniature: patches as tokens, a class token, position embedding, attention, head
TINY_VIT = Sequential(
    Reshape((4, 4)), ClassToken(4), AddParameter((5, 4)), multihead_attention(4, 2, tokens=5),
    AddParameter((1, 4)), Select(0, 0), Linear(4, 3))

CASES = [
    (Upsample(scale_factor=2), (3, 3, 2)),
    (Upsample(size=(5, 7)), (3, 4, 2)),
    (Upsample(scale_factor=2, mode="bilinear"), (3, 3, 2)),
    (Upsample(size=(5, 7), mode="bilinear"), (3, 4, 2)),
    (Upsample(size=(5, 7), mode="bilinear", align_corners=True), (3, 4, 2)),
    (Upsample(scale_factor=(1, 2), mode="bilinear"), (3, 3, 1)),
    (PReLU(3), (3, 4, 3)),
    (PReLU(), (3, 4, 3)),
    (MulScalar(0.125), (3, 4)),
    (Reshape((6, 2)), (3, 4)),
    (Rearrange((1, 0, 2), (6, 2)), (2, 3, 2)),
    (Select(0, 1), (3, 4)),
    (Select(1, 0), (2, 3, 4)),
    (ClassToken(4), (3, 4)),
    (AddParameter((3, 4)), (3, 4)),
    (AddParameter((1, 4)), (3, 4)),
    (AddParameter((4,), learned=False), (3, 4)),
    (multihead_attention(8, 2, tokens=5), (5, 8)),
    (multihead_attention(6, 3, bias=False, tokens=4), (4, 6)),
    (HAND_ATTENTION, (5, 4)),
    (BATCHED, (6, 4)),
    (TINY_VIT, (2, 2, 4)),
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


# ------------------------------------------------------------------------- hand counts


def test_upsample_and_prelu_backward_by_hand():
    # bilinear ×2: 4HWC outputs, each 4 taps of λ_h·λ_w·g (2 mults) added (1 add), as
    # PyTorch's cpu_upsample_linear_backward: 32HWC mults, 16HWC adds
    c = cost(Upsample(scale_factor=2, mode="bilinear"), (H, W, C), phase="backward")
    assert (c.mults, c.adds) == (32 * C * H * W, 16 * C * H * W)
    # nearest ×2: each output's g added into its source, 4HWC adds
    c = cost(Upsample(scale_factor=2), (H, W, C), phase="backward")
    assert (c.mults, c.adds) == (0, 4 * C * H * W)
    # 3×4×2 to 5×7×2 bilinear: 70 outputs, 560 mults, 280 adds
    c = cost(Upsample(size=(5, 7), mode="bilinear"), (3, 4, 2), phase="backward")
    assert (c.mults, c.adds) == (560, 280)
    # PReLU(C): x > 0 once per element; a·g; x·g summed per channel (HW − 1 adds each)
    c = cost(PReLU(C), (H, W, C), phase="backward")
    assert (c.comparisons, c.mults) == (C * H * W, 2 * C * H * W)
    assert sympy.expand(c.adds - C * (H * W - 1)) == 0
    # one shared slope: one sum of all HWC terms
    assert sympy.expand(cost(PReLU(), (H, W, C), phase="backward").adds - (H * W * C - 1)) == 0
    # no input gradient: the mask and the slope's gradient only
    c = cost(PReLU(C), (H, W, C), phase="backward", input_grad=False)
    assert (c.comparisons, c.mults) == (C * H * W, C * H * W)
    # frozen: the input gradient only
    c = cost(PReLU(C), (H, W, C), phase="backward", frozen=True)
    assert (c.comparisons, c.mults, c.adds) == (C * H * W, C * H * W, 0)


def test_attention_backward_by_hand():
    """nn.MultiheadAttention(C, 2) on (L, C) whose input needs its gradient:
    in_proj 3LC² (input) + 3LC² (weight); scale LC; scores 2·L²C (queries and keys, dot
    products of L terms); softmax 2·h·L² = 4L²; context L²C (weights: h·L·L dots of C/2) +
    L²C (values: LC dots of L); out_proj 2·LC²."""
    c = cost(multihead_attention(C, 2), (L, C), phase="backward", input_grad=True)
    assert sympy.expand(c.mults - (8 * L * C**2 + L * C + 4 * L**2 * C + 4 * L**2)) == 0
    # L = 5, E = 8, h = 2, input without gradient: in_proj weight 192·4 + bias 24·4 = 864;
    # scores 160 + 160 + 120 (the projection's gradient, read a second time: 5·24 adds);
    # softmax 40 + 50; context 150 + 160 + 120; out_proj 280 + 256 + 32
    c = cost(multihead_attention(8, 2, tokens=5), (5, 8), phase="backward")
    assert (c.mults, c.adds) == (2540, 864 + 440 + 90 + 430 + 568)
    names = {name: [gradient for gradient, _ in stage.gradients] for name, stage in c.stages}
    assert names["scores"] == ["input_grad", "other_grad", "accumulate"]
    assert names["in_proj"] == ["weight_grad", "bias_grad"]


def test_products_and_tokens_backward_by_hand():
    # q kᵀ (5×4 by 4×5) then the weights times k: the scores' gradients are 2 × 20 dot
    # products of 5 terms; ½: 25 mults; the context's 25 dots of 4 and 20 dots of 5
    c = cost(HAND_ATTENTION, (5, 4), phase="backward")
    stages = dict(c.stages)
    assert stages["scores"].mults == 200 and stages["half"].mults == 25
    assert stages["context"].mults == 100 + 100
    for layer, shape in ((Reshape((6, 2)), (3, 4)), (Rearrange((1, 0, 2), (6, 2)), (2, 3, 2)),
                         (Select(0, 1), (3, 4)), (ClassToken(4), (3, 4)),
                         (AddParameter((3, 4)), (3, 4))):
        c = cost(layer, shape, phase="backward")
        assert (c.mults, c.adds) == (0, 0), layer
    # a (1, 4) tensor added onto (3, 4): its gradient sums 3 rows, 2 adds per channel
    assert cost(AddParameter((1, 4)), (3, 4), phase="backward").adds == 8
    assert cost(MulScalar(3), (H, W, C), phase="backward").mults == H * W * C


def test_bilinear_last_row_taps_add_twice_into_one_element():
    """At the last row and column both taps are one element: its gradient gets both
    contributions (λ₀ + λ₁ = 1), each counted."""
    x = _x((2, 2, 1))
    layer = Upsample(size=(3, 3), mode="bilinear", align_corners=True)
    for method in ("fast", "reference"):
        run = execute_backward(layer, x, grad=np.ones((3, 3, 1)), method=method)
        assert float(run.grad_input.sum()) == pytest.approx(9.0)
        assert run.counts is not None and (run.counts.mults, run.counts.adds) == (72, 36)


# ------------------------------------------------------------------------- fuzzed shapes


@st.composite
def _cases(draw):
    kind = draw(st.sampled_from(["upsample", "prelu", "attention", "tokens"]))
    if kind == "upsample":
        h, w, c = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
        size = (h + draw(st.integers(0, 3)), w + draw(st.integers(0, 3)))
        mode = draw(st.sampled_from(["nearest", "bilinear"]))
        corners = draw(st.booleans()) if mode == "bilinear" else None
        return Upsample(size=size, mode=mode, align_corners=corners), (h, w, c)
    if kind == "prelu":
        shape = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
        return PReLU(draw(st.sampled_from([1, shape[-1]]))), shape
    if kind == "attention":
        heads, head, tokens = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(
            st.integers(1, 4))
        return (multihead_attention(heads * head, heads, draw(st.booleans()), tokens=tokens),
                (tokens, heads * head))
    tokens, channels = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    return Sequential(ClassToken(channels), AddParameter((1, channels)),
                      MulScalar(0.5), Select(0, 0)), (tokens, channels)


@settings(max_examples=12, deadline=None)
@given(_cases(), st.booleans())
def test_fuzzed_shapes_verify_backward(case, input_grad):
    layer, shape = case
    check = verify(layer, shape, phase="backward", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]
    fast = execute_backward(layer, _x(shape), method="fast", input_grad=input_grad)
    slow = execute_backward(layer, _x(shape), method="reference", input_grad=input_grad)
    assert fast.counts == slow.counts


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, 5), min_size=1, max_size=12),
       st.lists(st.integers(0, 4), min_size=1, max_size=9))
def test_the_upsample_scatter_adds_as_np_add_at_one_addition_each(rows, cols):
    """Any map of output rows and columns to input ones (monotone or not): the grouped slices
    add what ``np.add.at`` adds, one counted addition per element added."""
    from symconv.execute.backward_resize import _scatter_add
    from symconv.execute.counter import Counter

    rows_, cols_ = np.array(rows), np.array(cols)
    part = np.random.default_rng(len(rows) * 13 + len(cols)).standard_normal(
        (len(rows), len(cols), 2))
    expected = np.zeros((6, 5, 2))
    np.add.at(expected, (rows_[:, None], cols_[None, :]), part)
    dx, counter = np.zeros((6, 5, 2)), Counter()
    _scatter_add(dx, rows_, cols_, part, counter)
    np.testing.assert_allclose(dx, expected, rtol=1e-12, atol=1e-12)
    assert counter.adds == part.size
