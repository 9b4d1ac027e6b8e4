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

``frozen=`` names layers or blocks by dotted path; :func:`check_frozen` refuses a path that
names nothing in the network (a typo would otherwise freeze nothing, silently):

>>> from symconv.layers import ReLU, Sequential
>>> net = Sequential(("features", Sequential(("conv", conv), ("relu", ReLU()))))
>>> check_frozen(net, ("features.conv",))
('features.conv',)
>>> check_frozen(net, ("feature",))
Traceback (most recent call last):
...
symconv.errors.SymconvError: frozen=('feature',): 'feature' names no layer or block of the network; did you mean 'features', ...
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Collection, Iterator, Sequence
from typing import TypeVar

from symconv.errors import SymconvError
from symconv.layers.base import Composite

__all__ = ["mark_trainable", "is_trainable", "check_frozen"]

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


def _paths(layer: object, path: str = "") -> Iterator[str]:
    """The dotted path of every stage inside ``layer`` (blocks and their layers)."""
    for name, stage in layer.stages if isinstance(layer, Composite) else ():
        inside = f"{path}.{name}" if path else name
        yield inside
        yield from _paths(stage, inside)


def check_frozen(layer: object, frozen: object) -> bool | Collection[str]:
    """``frozen`` (``True``, ``False`` or dotted paths of layers or blocks of ``layer``), checked:
    a :class:`SymconvError` for any other value, and for a path that names no stage of
    ``layer``. A path names a stage when it equals the stage's path or is a prefix of it ending
    at a dot (``features`` for ``features.3``, also where ``from_torch`` named a flat stage
    ``features.3``). Walks the network once, and only for a non-empty collection."""
    if isinstance(frozen, bool):
        return frozen
    if isinstance(frozen, str) or not isinstance(frozen, Collection) or not all(
            isinstance(item, str) for item in frozen):
        raise SymconvError(f"frozen={frozen!r} must be True, False or a collection of dotted "
                           "layer paths, like ('features',)")
    if not frozen:
        return frozen
    known = set()
    for path in _paths(layer):
        known.add(path)
        parts = path.split(".")
        known.update(".".join(parts[:end]) for end in range(1, len(parts)))
    for item in frozen:
        if item not in known:
            close = difflib.get_close_matches(item, sorted(known), n=3)
            if not known:
                raise SymconvError(f"frozen={tuple(frozen)!r}: {item!r} names nothing: a single "
                                   "layer has no named parts (pass frozen=True to freeze it)")
            # the first part of each top-level name (from_torch's flat ``features.3``: features)
            top = list(dict.fromkeys(name.split(".")[0]
                                     for name, _ in layer.stages))  # type: ignore[attr-defined]
            hint = (f"did you mean {', '.join(map(repr, close))}? " if close else "")
            listed = ", ".join(map(repr, top[:8])) + (", ..." if len(top) > 8 else "")
            raise SymconvError(
                f"frozen={tuple(frozen)!r}: {item!r} names no layer or block of the network; "
                f"{hint}its top-level names are {listed}")
    return frozen
