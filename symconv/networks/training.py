"""A network's training step under a convention: ``count(net, convention=..., phase=...)``.

``phase="backward"`` counts the backward pass's rows (:func:`symconv.networks.rows.rows` with
``phase="backward"``), ``"train"`` the forward's and the backward's. symconv's own conventions
(``macs``, ``flops``, ``ops``, ``mults``, ...) apply to the backward rows as to the forward's:
the backward's MACs are the multiplications of the gradients of convolutions and linear layers.

Of the peers only PyTorch's ``FlopCounterMode`` counts a backward pass, and only for some
operators (``torch/utils/flop_counter.py``, ``conv_backward_flop``, ``mm_flop``,
``addmm_flop``): a convolution's input gradient as ``2 ·`` its products (a transposed
convolution of the output gradient), its weight gradient as ``2 · C_in · C_out · k² ·``
positions — the gradient with respect to the weight is computed as a convolution over the batch
with the channels swapped, whose ``conv_flop_count`` ignores the groups, so a grouped or
depthwise convolution's weight gradient counts ``g`` times its products; bias gradients 0;
a linear layer's two matrix products ``2 ·`` their products, and so an attention's projections'
and a hand-written ``a @ b``'s (``mm_flop``, ``bmm_flop``); everything else (BatchNorm,
activations, pooling, additions, resizing, PReLU) 0 — an ``nn.MultiheadAttention``'s scores and
context too: with gradients on it runs ``aten._scaled_dot_product_flash_attention_for_cpu``
and its backward, which have no formula. ptflops, thop, fvcore and torchinfo count the forward pass
only: asking them for a backward count is refused.

Examples
--------
>>> from symconv.networks.conventions import count
>>> from symconv.layers import Conv2d, DepthwiseConv2d, ReLU, Sequential
>>> net = Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), DepthwiseConv2d(8, 3, padding=1))
>>> count(net, (8, 8, 3), convention="macs"), count(net, (8, 8, 3), convention="macs",
...                                                 phase="backward")
(18432, 23040)
>>> count(net, (8, 8, 3), convention="torch", phase="train")   # depthwise weight grad × 8
147456
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import sympy

from symconv.derive import Cost, cost
from symconv.errors import SymconvError
from symconv.layers import Layer
from symconv.layers.trainable import check_frozen
from symconv.networks.rows import LayerRow, rows
from symconv.sizes import as_expr

__all__ = ["phase_count", "torch_backward", "leaf_counts", "FORWARD_ONLY"]

#: The peers that count a forward pass only.
FORWARD_ONLY = ("ptflops", "thop", "fvcore", "torchinfo")

_CONVOLUTIONS = ("standard", "pointwise", "depthwise", "grouped", "transposed")

#: Kinds whose gradients are matrix products FlopCounterMode counts (``mm_flop``,
#: ``bmm_flop``: 2 per multiply-add): linear layers (``F.linear`` too: ``aten.addmm``/``mm``),
#: an attention's projections, ``a @ b`` and its ``einsum`` spelling (``aten.bmm``).
_MATRIX_PRODUCTS = ("linear", "F.linear", "attention.in_proj", "attention.out_proj", "matmul",
                    "torch.matmul", "einsum")


def _leaves(result: Cost) -> list[Cost]:
    if not result.stages:
        return [result]
    return [leaf for _, stage in result.stages for leaf in _leaves(stage)]


def _base_kind(kind: str) -> str:
    return kind.split(":")[0]


def torch_backward(backward: Cost) -> sympy.Expr:
    """FlopCounterMode's count of a backward pass (see the module docstring).

    Examples
    --------
    >>> from symconv import DepthwiseConv2d, cost
    >>> torch_backward(cost(DepthwiseConv2d(8, 3), (5, 5, 8), phase="backward"))  # 2·(648 + 8·648)
    11664
    """
    total: list[sympy.Expr] = []
    for leaf in _leaves(backward):
        kind = _base_kind(leaf.kind)
        parts = dict(leaf.gradients)
        if kind in _CONVOLUTIONS:
            if "input_grad" in parts:
                total.append(2 * parts["input_grad"].mults)
            if "weight_grad" in parts:
                weight = parts["weight_grad"]
                if kind == "transposed":   # (*k, C_in, C_out/g)
                    groups = leaf.output_shape[-1] / weight.output_shape[-1]
                else:                      # (*k, C_in/g, C_out)
                    groups = leaf.input_shape[-1] / weight.output_shape[-2]
                total.append(2 * groups * weight.mults)
        elif kind in _MATRIX_PRODUCTS:
            total.append(2 * sum((part.mults for part in parts.values()), sympy.Integer(0)))
    return sympy.expand(sympy.Add(*total))


def phase_count(
    model: Layer | Cost, input_shape: object, convention: str,
    chosen: Callable[[Sequence[LayerRow]], sympy.Expr], *, phase: str,
    input_grad: bool | None, frozen: object, peer: bool, optimizer: object = None,
) -> sympy.Expr:
    """``count(model, input_shape, convention=..., phase=...)`` for a backward or training
    phase; ``chosen`` is the convention's function of rows, ``peer`` whether it is a peer's.
    An ``optimizer`` step (``phase="train"``) counts under symconv's conventions as its
    operations say (``ops``, ``mults``, ``adds``, ``divs``; no MACs) and as 0 under ``torch``:
    FlopCounterMode has no formula for the operations of ``optimizer.step()``."""
    if phase not in ("forward", "backward", "train"):
        raise SymconvError(f"phase={phase!r} is unknown; use one of forward, backward, train")
    if isinstance(model, Cost):
        raise SymconvError(f"phase={phase!r} needs the layer or network, not a Cost derived "
                           "from it")
    if peer and convention in FORWARD_ONLY and phase != "forward":
        raise SymconvError(f"convention={convention!r} counts the forward pass only; "
                           f"phase={phase!r} has no {convention} count (use phase='forward', or "
                           "convention='torch', whose FlopCounterMode counts a backward)")
    if phase == "forward" and optimizer is None:
        check_frozen(model, frozen)   # a path naming nothing is refused here too
        return chosen(rows(cost(model, input_shape)))
    derived = cost(model, input_shape, phase=phase, input_grad=input_grad, frozen=frozen,
                   optimizer=optimizer)
    return sympy.Add(*leaf_counts(derived, convention, phase, chosen).values())


def _named_leaves(result: Cost, prefix: str = "") -> list[tuple[str, Cost]]:
    """The single layers of a cost under the dotted names :func:`rows` gives them."""
    if not result.stages:
        return [(prefix or result.kind, result)]
    found: list[tuple[str, Cost]] = []
    for name, stage in result.stages:
        found.extend(_named_leaves(stage, f"{prefix}.{name}" if prefix else name))
    return found


def leaf_counts(derived: Cost, convention: str, phase: str,
                chosen: Callable[[Sequence[LayerRow]], sympy.Expr]) -> dict[str, sympy.Expr]:
    """The count of every single layer of ``derived`` (a cost of ``phase``) under
    ``convention``, by the dotted name :func:`rows` gives it: a backward layer's under
    ``"torch"`` by FlopCounterMode's backward rules (:func:`torch_backward`), every other by the
    convention's function of rows (``chosen``). Their sum is ``count(..., phase=phase)``.

    Examples
    --------
    >>> from symconv.derive import cost
    >>> from symconv.layers import Conv2d, DepthwiseConv2d, ReLU, Sequential
    >>> from symconv.networks.conventions import CONVENTIONS
    >>> net = Sequential(Conv2d(3, 8, 3, padding=1), ReLU(), DepthwiseConv2d(8, 3, padding=1))
    >>> counts = leaf_counts(cost(net, (8, 8, 3), phase="train"), "torch", "train",
    ...                      CONVENTIONS["torch"])
    >>> counts["forward.2"], counts["backward.2"]   # 2·4608; 2·(4608 + 8·4608)
    (9216, 82944)
    >>> sum(counts.values())
    147456
    """
    counts: dict[str, sympy.Expr] = {}
    leaves = _named_leaves(derived)
    with_gradients = {name for name, leaf in leaves if leaf.gradients}
    for name, leaf in leaves:
        backward = phase == "backward" or (phase == "train" and (
            name == "backward" or name.startswith("backward.")))
        if (not backward and leaf.kind.endswith(":fused")
                and "backward." + name.removeprefix("forward.") in with_gradients):
            # an attention whose backward runs took the unfused path forward (PyTorch's fused
            # kernel runs only when no tensor it reads requires a gradient)
            leaf = replace(leaf, kind=leaf.kind.removesuffix(":fused"))
        if leaf.kind == "optimizer" and convention == "torch":
            counts[name] = sympy.Integer(0)   # FlopCounterMode counts no optimizer step
        elif backward and convention == "torch":
            counts[name] = torch_backward(leaf)
        else:
            counts[name] = as_expr(chosen((LayerRow.of(name, leaf),)))
    return counts
