"""ShuffleNet's data movement in a traced ``forward``: the channel shuffle written as
``view``/``transpose``/``contiguous``/``view``, and ``chunk``/``split`` along the channels
(:class:`ChannelMoves`, which :mod:`symconv.frontends.trace` asks first about every call).

torchvision's ShuffleNet V2 shuffles the channels of ``x`` (PyTorch's ``(N, C, H, W)``) in ``g``
groups as::

    x = x.view(N, g, C // g, H, W)        # split the channels: (N, g, C/g, H, W)
    x = torch.transpose(x, 1, 2).contiguous()   # (N, C/g, g, H, W)
    x = x.view(N, C, H, W)                # merge them back

symconv's arrays are channels last and have one channel axis, so the 5-axis tensors in between
have no symconv shape. The tracer follows them as *pending* states of one tensor: the split
(``view`` or ``reshape`` of the channel axis into ``(g, C/g)``, the other axes kept), the swap of
the two channel axes (``transpose(1, 2)``, ``swapaxes``, ``swapdims``, ``permute(0, 2, 1, ...)``;
``contiguous`` keeps the state), and the merge (``view``/``reshape`` back to ``(N, C, ...)``, or
``flatten(x, 1, 2)``). A merge after an odd number of swaps is a
:class:`~symconv.layers.ChannelShuffle` of ``g`` groups; after an even number, the input again.
Anything else done to a pending tensor is refused by name, and so is a split that is never
merged back.

``x.chunk(n, dim=1)``, ``torch.chunk``, ``x.split(size_or_sizes, 1)`` and ``torch.split`` become
one :class:`~symconv.layers.Slice` per part (a view; their stage names end in ``[0]``, ``[1]``,
...). Their bounds come from the call's arguments by PyTorch's rules (``chunk``: parts of
``ceil(C/n)`` channels, the last one smaller), not from the shapes PyTorch produced; the builder
checks them against those. Splits along another axis are left to the other mappings.

Nothing here imports torch: tensors are read by their ``shape`` and ``dim()``.

Examples
--------
>>> chunk_bounds(116, 2)
[(0, 58), (58, 116)]
>>> chunk_bounds(10, 4)
[(0, 3), (3, 6), (6, 9), (9, 10)]
>>> split_bounds(10, [3, 7]), split_bounds(10, 4)
([(0, 3), (3, 10)], [(0, 4), (4, 8), (8, 10)])
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from symconv.frontends.mapping import Unsupported
from symconv.layers import ChannelShuffle, Layer, Slice

__all__ = ["ChannelMoves", "SHUFFLE_PATTERN", "chunk_bounds", "split_bounds", "RESHAPES", "SWAPS", "SPLITS"]

#: Reshapes that split the channel axis into groups, or merge the groups back.
RESHAPES = frozenset({"Tensor.view", "Tensor.reshape", "torch.reshape"})
#: Swaps of two axes, and the identity on layout ``contiguous``.
SWAPS = frozenset({"torch.transpose", "Tensor.transpose", "torch.swapaxes", "Tensor.swapaxes",
                   "torch.swapdims", "Tensor.swapdims", "Tensor.permute", "torch.permute"})
_FLATTENS = frozenset({"torch.flatten", "Tensor.flatten"})
#: Splits into parts: ``chunk`` (a number of parts) and ``split`` (a part size, or sizes).
SPLITS = {"Tensor.chunk": "chunk", "torch.chunk": "chunk", "Tensor.split": "split",
          "torch.split": "split", "torch.functional.split": "split"}

SHUFFLE_PATTERN = ("symconv follows a channel axis split into groups (x.view(N, g, C // g, H, W)) only "
            "as ShuffleNet's channel shuffle: transpose(1, 2), contiguous(), then a view back "
            "to (N, C, H, W)")


class _Recorder(Protocol):
    def producer(self, tensor: Any) -> int | None: ...

    def set(self, tensor: Any, producer: int) -> None: ...

    def unique(self, name: str) -> str: ...

    def record(self, name: str, op: Any, inputs: tuple[int, ...], output: Any,
               size_dependent: str = "", layout: tuple[int, ...] | None = None) -> None: ...

    def layout(self, tensor: Any) -> tuple[int, ...]: ...


def chunk_bounds(channels: int, chunks: int) -> list[tuple[int, int]]:
    """The channel ranges of ``x.chunk(chunks, dim=1)`` on ``channels`` channels: PyTorch's
    parts of ``ceil(channels / chunks)`` each, the last one what is left (so fewer than
    ``chunks`` parts when they run out)."""
    size = -(-channels // chunks)
    return [(start, min(start + size, channels)) for start in range(0, channels, size)]


def split_bounds(channels: int, sizes: int | list[int]) -> list[tuple[int, int]]:
    """The channel ranges of ``x.split(sizes, dim=1)``: parts of ``sizes`` channels each (the
    last one what is left), or of the given sizes, which must add up to ``channels``."""
    if isinstance(sizes, int):
        return [(start, min(start + sizes, channels)) for start in range(0, channels, sizes)]
    if sum(sizes) != channels:
        raise Unsupported(f"split sizes {sizes} add up to {sum(sizes)}, not the {channels} "
                          "channels")
    bounds, start = [], 0
    for size in sizes:
        bounds.append((start, start + size))
        start += size
    return bounds


@dataclass(frozen=True)
class _Pending:
    """A tensor whose channel axis is split into ``groups`` groups (PyTorch's axes 1 and 2),
    the groups first (``swapped`` False) or second; ``source`` made the unsplit tensor."""

    tensor: Any
    source: int
    groups: int
    channels: int
    swapped: bool


def _dim(value: object, rank: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not -rank <= value < rank:
        return None
    return value % rank


class ChannelMoves:
    """The channel shuffle and channel splits of one trace; :meth:`handle` takes the calls
    that belong to them."""

    def __init__(self, recorder: _Recorder, refused: int) -> None:
        self.recorder = recorder
        #: The producer the recorder gives a tensor made by a refused part.
        self.refused = refused
        self.pending: dict[int, _Pending] = {}
        #: Split tensors still waiting for their merge: where they were made, and by what.
        self.open: dict[int, tuple[str, str]] = {}

    def state(self, tensor: Any) -> _Pending | None:
        found = self.pending.get(id(tensor))
        return found if found is not None and found.tensor is tensor else None

    def handle(self, qualified: str, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any, tensor_type: Any) -> bool:
        """Record ``qualified(*args, **kwargs) -> result`` if it is a step of a channel shuffle
        or a channel split (``True``); ``False`` for any other call.

        Raises
        ------
        Unsupported
            For a call on a pending tensor that is no step of the shuffle, or a channel split
            symconv cannot follow.
        """
        first = args[0] if args else kwargs.get("input", kwargs.get("tensor"))
        if not isinstance(first, tensor_type):
            return False
        pending = self.state(first)
        if pending is not None:
            self._continue(qualified, where, pending, args, kwargs, result, tensor_type)
            return True
        if qualified in SPLITS:
            return self._split(SPLITS[qualified], where, first, args, kwargs, result)
        if qualified in RESHAPES and isinstance(result, tensor_type):
            return self._start(qualified, where, first, result)
        return False

    def uses_pending(self, tensors: list[Any]) -> bool:
        """Whether any of ``tensors`` is a split channel axis (then the call is refused, and
        the split is not refused again at the end)."""
        used = [tensor for tensor in tensors if self.state(tensor) is not None]
        for tensor in used:
            self.open.pop(id(tensor), None)
        return bool(used)

    def unmerged(self) -> list[tuple[str, str, str]]:
        """``(where, what, why)`` of each channel split never merged back, for the trace's
        end."""
        return [(where, what, "never viewed back to (N, C, ...); " + SHUFFLE_PATTERN)
                for where, what in self.open.values()]

    # --- the shuffle ------------------------------------------------------------------
    def _start(self, qualified: str, where: str, first: Any, result: Any) -> bool:
        """``x.view(N, g, C // g, *spatial)`` of ``x`` of shape ``(N, C, *spatial)``."""
        before, after = tuple(first.shape), tuple(result.shape)
        if len(before) < 2 or len(after) != len(before) + 1 or after[0] != before[0] or (
                after[3:] != before[2:] or after[1] * after[2] != before[1]):
            return False
        source = self.recorder.producer(first)
        if source is None or source == self.refused:  # not followed, or already refused
            return False
        self._pend(qualified, where, _Pending(result, source, int(after[1]), int(before[1]),
                                              False))
        return True

    def _pend(self, qualified: str, where: str, state: _Pending) -> None:
        self.pending[id(state.tensor)] = state
        self.open[id(state.tensor)] = (where, qualified)
        self.recorder.set(state.tensor, self.refused)  # no stage made it: refused if used

    def _continue(self, qualified: str, where: str, pending: _Pending, args: tuple[Any, ...],
                  kwargs: dict[str, Any], result: Any, tensor_type: Any) -> None:
        self.open.pop(id(pending.tensor), None)
        if not isinstance(result, tensor_type):
            raise Unsupported(SHUFFLE_PATTERN)
        rank = pending.tensor.dim()
        if qualified == "Tensor.contiguous":
            self._pend(qualified, where, _Pending(result, pending.source, pending.groups,
                                                  pending.channels, pending.swapped))
            return
        if qualified in SWAPS:
            if qualified.endswith("permute"):
                order = args[1:] if len(args) > 2 else (args[1] if len(args) > 1
                                                         else kwargs.get("dims"))
                order = tuple(order) if isinstance(order, (list, tuple)) else ()
                swap = tuple(_dim(axis, rank) for axis in order) == (0, 2, 1, *range(3, rank))
            else:
                pair = [args[1] if len(args) > 1 else kwargs.get("dim0"),
                        args[2] if len(args) > 2 else kwargs.get("dim1")]
                swap = sorted(_dim(axis, rank) or 0 for axis in pair) == [1, 2]
            if not swap:
                raise Unsupported(SHUFFLE_PATTERN)
            self._pend(qualified, where, _Pending(result, pending.source, pending.groups,
                                                  pending.channels, not pending.swapped))
            return
        merged = tuple(result.shape) == (pending.tensor.shape[0], pending.channels,
                                         *pending.tensor.shape[3:])
        if qualified in _FLATTENS:
            start = args[1] if len(args) > 1 else kwargs.get("start_dim", 0)
            end = args[2] if len(args) > 2 else kwargs.get("end_dim", -1)
            merged = merged and (_dim(start, rank), _dim(end, rank)) == (1, 2)
        elif qualified not in RESHAPES:
            merged = False
        if not merged:
            raise Unsupported(SHUFFLE_PATTERN)
        if not pending.swapped:  # split and merged back: the same tensor
            self.recorder.set(result, pending.source)
            return
        self.recorder.record(self.recorder.unique(where), ChannelShuffle(pending.groups),
                             (pending.source,), result)

    # --- chunk and split ----------------------------------------------------------------
    def _split(self, how: str, where: str, first: Any, args: tuple[Any, ...],
               kwargs: dict[str, Any], result: Any) -> bool:
        """``x.chunk(n, 1)`` / ``x.split(sizes, 1)`` (``dim=-1`` on channels-last tokens,
        MaxViT's ``torch.chunk(qkv, 3, dim=-1)``): one :class:`Slice` per part."""
        rank = first.dim()
        dim = args[2] if len(args) > 2 else kwargs.get("dim", 0)
        layout = self.recorder.layout(first)
        channel = layout.index(len(layout) - 1) + (len(layout) != rank) if layout else -1
        if rank < 2 or _dim(dim, rank) != channel or not isinstance(result, (tuple, list)):
            return False  # along another axis: not a channel split
        source = self.recorder.producer(first)
        if source is None:
            raise Unsupported("it splits a tensor that is not computed from the model's input "
                              "(a parameter, a buffer or a constant)")
        if source == self.refused:
            for part in result:
                self.recorder.set(part, self.refused)
            return True
        amount = args[1] if len(args) > 1 else kwargs.get(
            "chunks" if how == "chunk" else "split_size_or_sections",
            kwargs.get("split_size"))
        channels = int(first.shape[channel])
        if how == "chunk":
            if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
                raise Unsupported(f"chunks={amount!r}: symconv follows a number of parts")
            bounds = chunk_bounds(channels, amount)
        else:
            sizes = list(amount) if isinstance(amount, (list, tuple)) else amount
            if not ((isinstance(sizes, int) and sizes > 0) or (isinstance(sizes, list) and all(
                    isinstance(size, int) and size >= 0 for size in sizes))):
                raise Unsupported(f"split_size_or_sections={amount!r}: symconv follows a "
                                  "part size or a list of them")
            bounds = split_bounds(channels, sizes)
        if len(bounds) != len(result):
            raise Unsupported(f"PyTorch made {len(result)} parts, symconv's arithmetic "
                              f"{len(bounds)}")
        for number, ((start, stop), part) in enumerate(zip(bounds, result)):
            if stop == start:  # an empty part (split with a size 0) is no tensor to follow
                raise Unsupported("a part of no channels")
            layer: Layer = Slice(start, stop)
            self.recorder.record(self.recorder.unique(f"{where}[{number}]"), layer, (source,),
                                 part, layout=layout)
        return True
