"""The backward pass of the transcendental activations and of ``Softmax`` / ``LogSoftmax``.

Registered into :func:`symconv.layers.backward.backward_nests` (and its
:data:`~symconv.layers.backward.ACTIVATION_BACKWARD` table) when that module is imported. Each
follows the scalar formula of PyTorch's CPU backward kernel (``Activation.cpp``,
``SoftMaxKernel.cpp``), per element of the input gradient, with the counting rules of the forward
(:data:`~symconv.layers.ACTIVATIONS`): a negation is not counted, a subtraction is an addition, a
product of two constants (``3·κ``) is folded, ``exp``, ``erf``, ``tanh``, ``log1p`` are one
transcendental each.

============  ===================================================  ==========================
function      backward (``g``: the output's gradient)              per element
============  ===================================================  ==========================
sigmoid       ``g·(1 − y)·y``, ``y`` the **saved output**          2 mults, 1 add
tanh          ``g·(1 − y·y)``, ``y`` the **saved output**          2 mults, 1 add
silu          ``σ = 1/(1 + exp(−x))``; ``g·σ·(1 + x·(1 − σ))``     1 exp, 3 adds, 1 div,
                                                                   3 mults
gelu          ``Φ = 0.5·(1 + erf(x·√½))``,                         1 erf, 1 exp, 2 adds,
              ``φ = c·exp(x·x·(−½))``; ``g·(Φ + x·φ)``             7 mults
gelu_tanh     ``t = tanh(β·(x + κ·x³))``; ``g·(½·(1 + t) +         1 tanh, 5 adds, 12 mults
              ½·x·(1 − t²)·β·(1 + 3κ·x²))``
elu           ``g`` where ``x > 0``, else ``g·α·exp(x)`` (both     1 comparison, 1 exp,
              sides computed, as the forward)                      2 mults
softplus      ``z = exp(β·x)``; ``g`` where ``β·x > threshold``,   1 comparison, 1 exp,
              else ``g·z/(z + 1)``                                 2 mults, 1 add, 1 div
mish          ``σ = 1/(1 + exp(−x))``, ``t = tanh(log1p(exp(x)))``;  3 exp/log1p/tanh + 1 exp,
              ``g·(t + x·σ·(1 − t·t))``                            3 adds, 1 div, 4 mults
============  ===================================================  ==========================

Only ``sigmoid`` and ``tanh`` reuse the forward pass's output (PyTorch's ``sigmoid_backward``
and ``tanh_backward`` take the result) and so evaluate no transcendental; the others take the
input and evaluate their transcendentals again, as PyTorch's kernels do.

Softmax (per row of ``L`` along the axis, the saved output ``y``): ``s = Σ g·y`` (``L`` mults,
``L − 1`` adds), then ``y·(g − s)`` (``L`` adds, ``L`` mults). LogSoftmax: ``s = Σ g``
(``L − 1`` adds), then ``g − exp(y)·s`` (``L`` exp, ``L`` mults, ``L`` adds).

Examples
--------
>>> from symconv import cost
>>> from symconv.layers import Activation, Softmax
>>> c = cost(Activation("silu"), (2, 3), phase="backward")
>>> c.transcendentals, c.adds, c.divs, c.mults
(6, 18, 6, 18)
>>> cost(Activation("sigmoid"), (4,), phase="backward").transcendentals
0
>>> c = cost(Softmax(), (2, 5), phase="backward")
>>> c.mults, c.adds
(20, 18)
"""

from __future__ import annotations

from symconv.layers.activations import LogSoftmax, Softmax
from symconv.layers.backward import ACTIVATION_BACKWARD, Nests, _elements, backward_nests
from symconv.layers.base import LoopNest
from symconv.sizes import Size

__all__ = ["TRANSCENDENTAL_BACKWARD", "SAVED_OUTPUT"]

#: Per element of the input gradient, what each transcendental activation's backward does.
TRANSCENDENTAL_BACKWARD: dict[str, tuple[tuple[str, Size], ...]] = {
    "sigmoid": (("adds", 1), ("mults", 2)),
    "tanh": (("mults", 2), ("adds", 1)),
    "silu": (("transcendentals", 1), ("adds", 3), ("divs", 1), ("mults", 3)),
    "gelu": (("mults", 7), ("adds", 2), ("transcendentals", 2)),
    "gelu_tanh": (("mults", 12), ("adds", 5), ("transcendentals", 1)),
    "elu": (("comparisons", 1), ("transcendentals", 1), ("mults", 2)),
    "softplus": (("mults", 2), ("transcendentals", 1), ("comparisons", 1), ("adds", 1),
                 ("divs", 1)),
    "mish": (("transcendentals", 4), ("adds", 3), ("divs", 1), ("mults", 4)),
}

#: The activations whose backward reads the forward pass's saved output rather than its input.
SAVED_OUTPUT = ("sigmoid", "tanh")

ACTIVATION_BACKWARD.update(TRANSCENDENTAL_BACKWARD)


@backward_nests.register
def _(layer: Softmax, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None, *, input_grad: bool = True,
      trainable: bool = True) -> Nests:
    """Softmax: ``dot`` per row ``Σ g·y``, then ``y·(g − dot)`` per element; LogSoftmax:
    ``sum_g`` per row, then ``g − exp(y)·Σg`` per element."""
    if not input_grad:
        return ()
    shape, rows, length = layer._row(input_spatial, in_channels)
    if isinstance(layer, LogSoftmax):
        return (("sum_g", LoopNest(outer=rows, inner=(length,), outputs=rows, multiply=False)),
                ("input_grad", _elements(shape, (("transcendentals", 1), ("mults", 1),
                                                 ("adds", 1)))))
    return (("dot", LoopNest(outer=rows, inner=(length,), outputs=rows)),
            ("input_grad", _elements(shape, (("adds", 1), ("mults", 1)))))
