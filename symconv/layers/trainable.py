"""Which parameters of a layer are trained: a layer marked not trainable (``from_torch`` marks
the layers whose parameters all have ``requires_grad=False``) gets no weight or bias gradient
and no optimizer step. symconv derives a layer's gradients for all of its parameters or for none:
a layer with some parameters frozen and some not is refused when its backward is asked for.

Layers are immutable and shared, so marking makes a copy; the copy compares equal to the
unmarked layer (the mark says how it is trained, not what it computes).

Examples
--------
>>> from symconv.layers import Conv2d
>>> conv = Conv2d(3, 8, 3, bias=True)
>>> frozen = mark_trainable(conv, frozen=("weight", "bias"), parameters=("weight", "bias"))
>>> is_trainable(conv), is_trainable(frozen), frozen == conv
(True, False, True)
>>> partly = mark_trainable(conv, frozen=("weight",), parameters=("weight", "bias"))
>>> is_trainable(partly, "layer 0")
Traceback (most recent call last):
...
symconv.errors.SymconvError: layer 0: weight has requires_grad=False but bias has requires_grad=True; symconv derives ...
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TypeVar

from symconv.errors import SymconvError

__all__ = ["mark_trainable", "is_trainable"]

_L = TypeVar("_L")


def mark_trainable(layer: _L, *, frozen: Sequence[str], parameters: Sequence[str]) -> _L:
    """``layer``, or a copy of it marked with its frozen ``parameters`` (by name).

    All frozen: the copy's ``trainable`` is ``False``. Some: the copy remembers which, and
    :func:`is_trainable` refuses it. None: ``layer`` itself.
    """
    if not frozen:
        return layer
    marked = copy.copy(layer)
    if set(frozen) >= set(parameters):
        object.__setattr__(marked, "trainable", False)
    else:
        kept = [name for name in parameters if name not in frozen]
        object.__setattr__(marked, "partly_frozen", (tuple(frozen), tuple(kept)))
    return marked


def _names(names: Sequence[str]) -> str:
    return ", ".join(names)


def is_trainable(layer: object, where: str = "the layer") -> bool:
    """Whether ``layer``'s parameters get gradients (``False`` where it is marked frozen);
    raises :class:`SymconvError` naming ``where`` for a layer frozen in part."""
    if getattr(layer, "trainable", True) is False:
        return False
    partly = getattr(layer, "partly_frozen", None)
    if partly is not None:
        frozen, kept = partly
        path = where.removeprefix("layer ")
        raise SymconvError(
            f"{where}: {_names(frozen)} {'has' if len(frozen) == 1 else 'have'} "
            f"requires_grad=False but {_names(kept)} {'has' if len(kept) == 1 else 'have'} "
            "requires_grad=True; symconv derives a layer's gradients for all of its parameters "
            f"or none: freeze or unfreeze them together (or pass frozen=({path!r},) to freeze "
            "the layer)")
    return True
