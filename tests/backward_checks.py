"""The checks every backward rule gets, shared by the backward test files: counted (fast and
reference) against derived, fast against reference gradients, and gradients against central
finite differences."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from symconv import cost, verify
from symconv.execute import execute
from symconv.execute.backward import execute_backward


def random_input(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Standard normal values, doubled, of ``shape``."""
    return np.random.default_rng(seed).standard_normal(shape) * 2


def assert_counted_backward_equals_derived(layer: object, shape: tuple[int, ...],
                                           input_grad: bool) -> None:
    """Both executors count what the backward derivation says, and ``verify`` agrees."""
    derived = cost(layer, shape, phase="backward", input_grad=input_grad)
    for method in ("fast", "reference"):
        run = execute_backward(layer, random_input(shape), method=method, input_grad=input_grad)
        assert run.counts is not None
        assert run.counts.as_dict() == {kind: int(getattr(derived, kind))
                                        for kind in run.counts.as_dict()}, method
    check = verify(layer, shape, phase="train", input_grad=input_grad)
    assert check.ok, [stage for stage in check.stages if not stage.match]


def same_tree(a: object, b: object) -> None:
    """Nested dicts of arrays with the same keys and (to float64 rounding) the same values."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b)
        for key in a:
            same_tree(a[key], b[key])
    else:
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def assert_fast_and_reference_gradients_agree(layer: object, shape: tuple[int, ...]) -> None:
    fast = execute_backward(layer, random_input(shape), method="fast", input_grad=True)
    slow = execute_backward(layer, random_input(shape), method="reference", input_grad=True)
    np.testing.assert_allclose(fast.grad_input, slow.grad_input, rtol=1e-10, atol=1e-12)
    same_tree(fast.grads, slow.grads)


def numeric(function: Callable[[], float], array: np.ndarray, step: float = 1e-6) -> np.ndarray:
    """Central differences of ``function()`` with respect to every element of ``array``."""
    out = np.zeros(array.shape)
    for index in np.ndindex(array.shape):
        keep = array[index]
        array[index] = keep + step
        above = function()
        array[index] = keep - step
        below = function()
        array[index] = keep
        out[index] = (above - below) / (2 * step)
    return out


def leaves(tree: dict, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """``(path, array)`` of every array in nested dicts."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def at(tree: dict, path: tuple[str, ...]) -> np.ndarray:
    """The array at ``path`` in nested dicts."""
    for key in path:
        tree = tree[key]
    return tree  # type: ignore[return-value]


def assert_gradients_match_finite_differences(layer: object, shape: tuple[int, ...]) -> None:
    """The input's and every parameter's gradient against central differences of the
    inference forward pass."""
    x = random_input(shape, seed=3)
    run = execute_backward(layer, x, seed=1, input_grad=True)
    params, grad = run.params, run.grad_output

    def loss() -> float:
        return float(np.sum(execute(layer, x, params, count=False).output * grad))

    np.testing.assert_allclose(run.grad_input, numeric(loss, x), rtol=1e-5, atol=1e-6)
    found = list(leaves(params))
    assert len(found) == len(list(leaves(run.grads)))      # every parameter has its gradient
    for name, held in found:
        np.testing.assert_allclose(at(run.grads, name), numeric(loss, held), rtol=1e-5,
                                   atol=1e-6)
