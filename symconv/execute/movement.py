"""Executors of the data-movement layers (:mod:`symconv.layers.movement`): nothing is counted;
the fast and reference executors are the same code (there is no arithmetic to do one scalar at a
time). A copy (``Cat``, ``ChannelShuffle``) marks what it reads; a view (``Slice``) and the
identity hand on the input's memory."""

from __future__ import annotations

import numpy as np

from symconv.errors import SymconvError
from symconv.execute.counter import Array, Counter
from symconv.execute.registry import Params, run_fast, run_reference, second_input
from symconv.layers import Cat, ChannelShuffle, Identity, Pad, Slice

__all__: list[str] = []


@second_input.register
def _(layer: Cat) -> str:
    return layer.other


def _cat(layer: Cat, x: Array, params: Params, counter: Counter, *, other: Array) -> Array:
    """``numpy.concatenate`` along the channels, both tensors read."""
    recorded = tuple(int(size) for size in layer.shape)
    if other.shape != recorded:
        raise SymconvError(f"Cat(other={layer.other!r}) records shape {recorded} but that stage's "
                           f"output has shape {other.shape}; record the shape it has")
    if other.shape[:-1] != x.shape[:-1]:
        raise SymconvError(f"Cat(other={layer.other!r}): x has shape {x.shape} and that stage "
                           f"{other.shape}; their spatial sizes must be equal")
    counter.read(x, other)
    pieces = (other, x) if layer.other_first else (x, other)
    return np.concatenate(pieces, axis=-1)


def _slice(layer: Slice, x: Array, params: Params, counter: Counter) -> Array:
    """A view of channels ``start:stop``."""
    start, stop = int(layer.start), int(layer.stop)
    if stop > x.shape[-1]:
        raise SymconvError(f"Slice(start={start}, stop={stop}) needs stop <= the input's "
                           f"{x.shape[-1]} channels")
    return x[..., start:stop]


def _shuffle(layer: ChannelShuffle, x: Array, params: Params, counter: Counter) -> Array:
    """``(…, g, C/g)`` transposed to ``(…, C/g, g)``, copied (as ``contiguous()``; always a
    copy, as the layer's traffic says, also where the order does not change: ``g`` 1 or ``C``)."""
    groups, channels = int(layer.groups), x.shape[-1]
    if channels % groups:
        raise SymconvError(f"ChannelShuffle(groups={groups}) must divide the input's {channels} "
                           "channels")
    counter.read(x)
    moved = x.reshape(*x.shape[:-1], groups, channels // groups).swapaxes(-1, -2)
    return np.array(moved, copy=True).reshape(x.shape)


#: numpy.pad's name of each of PyTorch's padding modes.
_NUMPY_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                "circular": "wrap"}


def _pad(layer: Pad, x: Array, params: Params, counter: Counter) -> Array:
    """``numpy.pad`` of the spatial axes, from the last back, as PyTorch orders the pairs."""
    pairs = [(0, 0)] * x.ndim
    sizes = [int(size) for size in layer.padding]
    if len(sizes) // 2 > x.ndim - 1:
        raise SymconvError(f"Pad(padding={tuple(sizes)}) pads {len(sizes) // 2} axes but x has "
                           f"{x.ndim - 1} spatial axes")
    for pair in range(len(sizes) // 2):
        pairs[x.ndim - 2 - pair] = (sizes[2 * pair], sizes[2 * pair + 1])
    counter.read(x)
    if layer.mode == "constant":
        return np.pad(x, pairs, mode="constant", constant_values=float(layer.value))
    padded: Array = np.pad(x, pairs, mode=_NUMPY_MODES[layer.mode])  # type: ignore[call-overload]
    return padded


def _identity(layer: Identity, x: Array, params: Params, counter: Counter) -> Array:
    """The input itself."""
    return x


for _runner in (run_fast, run_reference):
    _runner.register(Cat, _cat)
    _runner.register(Slice, _slice)
    _runner.register(ChannelShuffle, _shuffle)
    _runner.register(Identity, _identity)
    _runner.register(Pad, _pad)
