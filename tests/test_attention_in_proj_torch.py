"""The gradient of an attention's input projection: PyTorch sums the three gradients of its
output (queries, keys, values), and symconv counts those additions (skipped without torch).

``_in_projection_packed`` (``torch/nn/functional.py``) returns ``proj[0], proj[1], proj[2]``:
three ``select``s of one tensor, not an ``unbind``. Each ``select_backward`` makes a zero
gradient of the whole ``(3, L, N, E)`` tensor with its slice filled, and autograd's engine adds
the three (two ``aten.add.Tensor``): 2 additions per element of ``(L, 3E)``, which
:mod:`symconv.layers.backward_transformer` counts, not a copy into slices."""

from __future__ import annotations

import pytest

from symconv import cost
from symconv.layers.attention import multihead_attention


def _backward_ops(tokens: int, embed: int, heads: int) -> list[tuple[str, tuple[int, ...]]]:
    torch = pytest.importorskip("torch")
    from torch.utils._python_dispatch import TorchDispatchMode

    seen: list[tuple[str, tuple[int, ...]]] = []

    class Log(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append((str(func), tuple(args[0].shape) if args and isinstance(
                args[0], torch.Tensor) else ()))
            return func(*args, **(kwargs or {}))

    module = torch.nn.MultiheadAttention(embed, heads, batch_first=True)
    x = torch.randn(1, tokens, embed, requires_grad=True)
    y, _ = module(x, x, x, need_weights=False)
    with Log():
        y.sum().backward()
    return seen


def test_pytorch_adds_the_three_gradients_of_the_projection():
    ops = _backward_ops(tokens=5, embed=8, heads=2)
    assert [op for op, _ in ops].count("aten.select_backward.default") == 3
    assert [shape for op, shape in ops if op == "aten.add.Tensor"] == [(3, 5, 1, 8)] * 2


def test_symconv_counts_those_additions():
    # L = 5, E = 8: the (5, 24) projection output's gradient is the sum of three, 2·5·24 = 240
    # additions (the scale's, the scores' and the context's readings of it)
    step = cost(multihead_attention(8, 2, tokens=5), (5, 8), phase="backward")
    accumulated = [part.adds for name, stage in step.stages for part_name, part in
                   stage.gradients if part_name == "accumulate"]
    assert sum(accumulated) == 2 * 5 * 24
