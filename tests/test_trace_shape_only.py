"""The tracer hands on ``a + b``, ``a * b``, ``x += y`` of tensors computed from the input as
uninitialised tensors of PyTorch's shape and dtype, without computing them (from_torch's speed):
checked against PyTorch running them; an operation PyTorch refuses still raises, and the counts
of a block using them are those counted by hand.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from symconv import SymconvError, count, from_torch  # noqa: E402
from symconv.frontends.kernels import _broadcast_only  # noqa: E402

_SHAPES = [((1, 4, 5, 5), (1, 4, 5, 5)), ((1, 4, 1, 1), (1, 4, 5, 5)),
           ((1, 4, 5, 5), (1, 4, 1, 1)), ((4, 1, 1), (1, 4, 5, 5)), ((1, 1, 5), (1, 3, 1)),
           ((5,), (1, 4, 5, 5)), ((), (2, 3))]


@pytest.mark.parametrize("shapes", _SHAPES)
@pytest.mark.parametrize("dtypes", [(torch.float32, torch.float32),
                                    (torch.float64, torch.float32),
                                    (torch.float32, torch.float64)])
@pytest.mark.parametrize("op", [torch.add, torch.sub, torch.mul, torch.div])
def test_broadcast_shape_and_type_are_pytorchs(shapes, dtypes, op) -> None:  # type: ignore[no-untyped-def]
    a, b = (torch.ones(shape, dtype=dtype) for shape, dtype in zip(shapes, dtypes))
    for args in ((a, b), (a, 2), (2.5, b)):
        real, fast = op(*args), _broadcast_only(args, {}, False)
        assert (tuple(fast.shape), fast.dtype) == (tuple(real.shape), real.dtype)
        assert fast.is_contiguous() == real.is_contiguous()


@pytest.mark.parametrize("shapes", _SHAPES)
def test_in_place_only_where_pytorch_keeps_the_tensor(shapes) -> None:  # type: ignore[no-untyped-def]
    a, b = torch.ones(shapes[0]), torch.ones(shapes[1])
    try:
        expected = a.clone().add_(b).shape
    except RuntimeError:  # PyTorch cannot broadcast b onto a in place: left to PyTorch
        assert _broadcast_only((a, b), {}, True) is None
    else:
        assert expected == a.shape and _broadcast_only((a, b), {}, True) is a


@pytest.mark.parametrize("args, kwargs", [
    ((torch.ones(2, 3, dtype=torch.int64), torch.ones(2, 3, dtype=torch.int64)), {}),  # ints
    ((torch.ones(2, 3), torch.ones(2, 3)), {"alpha": 2}),
    ((torch.ones(2, 3), torch.ones(4, 3)), {}),  # does not broadcast: PyTorch says so
    ((torch.ones(3, 2).t(), torch.ones(2, 3)), {}),  # not contiguous
    ((torch.ones(2, 3), True), {}),
])
def test_other_calls_run_for_real(args, kwargs) -> None:  # type: ignore[no-untyped-def]
    assert _broadcast_only(args, kwargs, False) is None


def test_a_product_pytorch_refuses_is_still_refused() -> None:
    class Bad(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 4, 3)

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = self.conv(x)
            return y * y[:, :, :2]  # (1, 4, 6, 6) times (1, 4, 2, 6): PyTorch raises

    with pytest.raises(SymconvError, match="the model raised RuntimeError"):
        from_torch(Bad(), (8, 8, 3))


def test_squeeze_excitation_and_residual_in_forward() -> None:
    """SE's ``x * scale`` and a residual ``x += y`` in forward, counted by hand: at 6×6×4,
    conv 3×3 (pad 1, no bias): 6·6·4·4·9 = 5184 mults; the pool's 4·35 adds and 4 divs; SE's
    products 144 mults; the in-place residual 144 adds."""
    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 4, 3, padding=1, bias=False)
            self.pool = torch.nn.AdaptiveAvgPool2d(1)

        def forward(self, x):  # type: ignore[no-untyped-def]
            y = self.conv(x)
            y = y * self.pool(y)
            y += x
            return y

    net = from_torch(Block(), (6, 6, 4))
    assert count(net, convention="mults") == 5184 + 144
    assert count(net, convention="adds") == 5184 - 144 + 4 * 35 + 144


_q = torch.ones(2, 3, 5, 4)
_CALLS = [
    (torch.matmul, (_q, _q.transpose(-2, -1)), {}),                  # q @ k^T, k not contiguous
    (torch.matmul, (_q.permute(0, 2, 1, 3), torch.ones(4, 6)), {}),  # broadcast, permuted
    (torch.bmm, (torch.ones(3, 5, 4), torch.ones(3, 6, 4).transpose(1, 2)), {}),
    (torch.Tensor.softmax, (_q,), {"dim": -1}),
    (torch.nn.functional.softmax, (_q, 1), {}),
    (torch.roll, (_q,), {"shifts": (-1, 2), "dims": (1, 2)}),
    (torch.nn.functional.normalize, (_q,), {"dim": -1}),
]


@pytest.mark.parametrize("func, args, kwargs", _CALLS)
def test_products_softmax_roll_normalize_shapes_are_pytorchs(func, args, kwargs) -> None:  # type: ignore[no-untyped-def]
    """The shape-only results the tracer hands on for attention's products (any operands)
    and for softmax, roll and F.normalize (on a contiguous tensor): PyTorch's shape, dtype and
    contiguity (a later ``.view`` works on both or on neither)."""
    from symconv.frontends.kernels import _shape_only

    real, fast = func(*args, **kwargs), _shape_only(func, args, kwargs)
    assert (tuple(fast.shape), fast.dtype) == (tuple(real.shape), real.dtype)
    assert fast.is_contiguous() and real.is_contiguous()
