"""The backward of ``Mul``, ``Sub``, ``Div`` and ``AddComputed`` (:mod:`symconv.layers.broadcast`): the gradient
of each operand, summed over the axes it was broadcast along."""

from __future__ import annotations

import numpy as np

from symconv.execute.counter import Array, Counter
from symconv.layers import AddComputed, Layer, Mul, Sub

__all__ = ["binary_backward"]

# --------------------------------------------------------------------------- Mul, Sub, Div


def _reduce_to(counter: Counter, grad: Array, shape: tuple[int, ...]) -> Array:
    """``grad`` summed over the axes along which an operand of ``shape`` was broadcast."""
    padded = (1,) * (grad.ndim - len(shape)) + tuple(shape)
    letters = "abcdefgh"[:grad.ndim]
    kept = "".join(letter for letter, size, out in zip(letters, padded, grad.shape)
                   if not (size == 1 and out != 1))
    return counter.einsum(f"{letters}->{kept}", grad).reshape(shape)


def binary_backward(layer: Layer, x: Array, other: Array, g: Array, counter: Counter,
                    input_grad: bool, other_grad: bool,
                    method: str) -> tuple[Array | None, Array | None]:
    """The gradients of ``x`` and ``other`` through ``Mul``, ``Sub`` or ``Div`` (see
    :func:`symconv.layers.backward.binary_backward_nests`); each operation counted by the
    Counter's helpers in both methods (elementwise, as the forward executors count it)."""
    first_other = bool(getattr(layer, "other_first", False))
    left, right = (other, x) if first_other else (x, other)
    kind = ("Mul" if isinstance(layer, Mul) else "Sub" if isinstance(layer, Sub) else
            "Add" if isinstance(layer, AddComputed) else "Div")
    grads: dict[str, Array | None] = {"left": None, "right": None}
    wanted = {"left": other_grad if first_other else input_grad,
              "right": input_grad if first_other else other_grad}
    if wanted["left"]:
        grads["left"] = (counter.multiply(g, right) if kind == "Mul" else
                         np.array(g) if kind in ("Sub", "Add") else counter.divide(g, right))
    if wanted["right"]:
        if kind == "Mul":
            grads["right"] = counter.multiply(g, left)
        elif kind == "Sub":
            grads["right"] = -g
        elif kind == "Add":
            grads["right"] = np.array(g)
        else:   # -g·((L/R)/R), as PyTorch's div_tensor_other_backward
            ratio = counter.divide(counter.divide(left, right), right)
            grads["right"] = -counter.multiply(g, ratio)
    d_left = None if grads["left"] is None else _reduce_to(counter, grads["left"], left.shape)
    d_right = None if grads["right"] is None else _reduce_to(counter, grads["right"], right.shape)
    return (d_right, d_left) if first_other else (d_left, d_right)
