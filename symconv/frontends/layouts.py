"""Which symconv axis each PyTorch axis of a traced tensor is: its *layout*.

symconv's arrays are channels last, ``(*spatial, C)``, whatever order PyTorch keeps its axes in.
A tensor the model makes is ``(N, C, *spatial)`` in PyTorch until it permutes it: ConvNeXt's
``x.permute(0, 2, 3, 1)`` gives ``(N, H, W, C)``, ViT's ``x.permute(0, 2, 1)`` gives
``(N, L, C)``. A permute keeping the batch axis first moves no data in symconv's layout: the
tracer keeps, for each tensor, the symconv axis of each of its PyTorch axes after the batch
(a *layout*), and a layer that acts on PyTorch's last axis (``nn.Linear``, ``nn.LayerNorm``)
acts on symconv's channels when that axis is the channel axis.

Examples
--------
>>> default_layout(3)                       # (C, H, W): C is symconv's last axis
(2, 0, 1)
>>> permuted(default_layout(3), (0, 2, 3, 1))   # (H, W, C): in symconv's order
(0, 1, 2)
>>> symconv_shape((1, 7, 5, 96), (0, 1, 2))
(7, 5, 96)
>>> symconv_shape((1, 96, 7, 5), default_layout(3))
(7, 5, 96)
>>> channels_on_last((0, 1, 2)), channels_on_last(default_layout(3))
(True, False)

A tensor whose first PyTorch axis is not the batch (Swin's windows, ``reshape(B·nW, N, C)``
at batch 1: the windows of one example) has a *full* layout, one entry per PyTorch axis, the
first included (:func:`is_full`); its symconv shape is its whole PyTorch shape, in that order:

>>> symconv_shape((64, 49, 96), (0, 1, 2)), is_full((0, 1, 2), 3)
((64, 49, 96), True)
>>> permuted((0, 1, 2, 3, 4), (2, 0, 3, 1, 4))   # a full layout may move its first axis
(2, 0, 3, 1, 4)

Moving axes of size 1 moves no data (:func:`in_order`): PyTorch's reshape of such a permute is
a view, as Swin's window partition of a map one window wide is:

>>> in_order((0, 2, 1, 3, 4), (1, 2, 1, 2, 16)), in_order((0, 2, 1, 3), (1, 4, 2, 8))
(True, False)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from symconv.frontends.mapping import Unsupported

__all__ = ["Layout", "default_layout", "permuted", "symconv_shape", "channels_on_last",
           "torch_dims", "is_full", "in_order"]

#: For each PyTorch axis after the batch, the symconv axis it is.
Layout = tuple[int, ...]


@functools.lru_cache(maxsize=16)
def default_layout(rank: int) -> Layout:
    """The layout of an ``(N, C, *spatial)`` tensor of ``rank`` axes after the batch (one tuple
    for each rank, asked for several times for every call traced)."""
    if rank <= 1:
        return tuple(range(rank))
    return (rank - 1, *range(rank - 1))


def is_full(layout: Layout, dim: int) -> bool:
    """Whether ``layout``, of a tensor of ``dim`` PyTorch axes, covers the first axis too (that
    axis is no batch: windows of one example)."""
    return len(layout) == dim


def permuted(layout: Layout, dims: Sequence[int]) -> Layout:
    """The layout after ``x.permute(*dims)`` (``dims`` over every axis, the batch's first; a
    full layout's first axis is data, and may move)."""
    if len(dims) == len(layout):  # a full layout
        rank = len(layout)
        checked = [dim % rank if isinstance(dim, int) and -rank <= dim < rank else -1
                   for dim in dims]
        if sorted(checked) != list(range(rank)):
            raise Unsupported(f"dims={tuple(dims)} is not a permutation of {rank} axes")
        return tuple(layout[dim] for dim in checked)
    rank = len(layout) + 1
    dims = [dim % rank if isinstance(dim, int) and -rank <= dim < rank else -1 for dim in dims]
    if len(dims) != rank or sorted(dims) != list(range(rank)):
        raise Unsupported(f"dims={tuple(dims)} is not a permutation of {rank} axes")
    if dims[0] != 0:
        raise Unsupported("it moves the batch axis, which symconv counts per example")
    return tuple(layout[dim - 1] for dim in dims[1:])


def symconv_shape(torch_shape: Sequence[int], layout: Layout) -> tuple[int, ...]:
    """The symconv (channels-last) shape of a tensor of PyTorch ``torch_shape`` and ``layout``."""
    shape = [0] * len(layout)
    sizes = tuple(torch_shape) if len(layout) == len(torch_shape) else tuple(torch_shape)[1:]
    for size, axis in zip(sizes, layout):
        shape[axis] = int(size)
    return tuple(shape)


def channels_on_last(layout: Layout) -> bool:
    """Whether PyTorch's last axis is symconv's channel axis (what ``nn.Linear`` and
    ``nn.LayerNorm`` act on)."""
    return bool(layout) and layout[-1] == len(layout) - 1


def torch_dims(layout: Layout) -> tuple[int, ...]:
    """For each symconv axis, the PyTorch axis (batch counted) it is: ``layout`` inverted."""
    dims = [0] * len(layout)
    for torch_axis, axis in enumerate(layout, start=1):
        dims[axis] = torch_axis
    return tuple(dims)


def in_order(axes: Sequence[int], sizes: Sequence[int]) -> bool:
    """Whether ``numpy.transpose(x, axes)`` of a row-major ``x`` of shape ``sizes`` keeps every
    element where it is: the axes longer than 1 keep their order (a reshape of it is a view in
    PyTorch, where it would otherwise copy)."""
    moved = [axis for axis in axes if int(sizes[axis]) != 1]
    return moved == sorted(moved)
