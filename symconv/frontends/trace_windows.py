"""The tracer's part for windowed attention (Swin, MaxViT): ``F.pad``, ``torch.roll``,
``F.linear`` with a parameter's weight, ``F.normalize``, ``torch.einsum`` of batched products,
strided slices and crops (``x[..., 0::2, 1::2, :]``, ``x[:, :H, :W, :]``), permutes that move a
batch of one (after which the tensor has a *full* layout, :mod:`symconv.frontends.layouts`),
``torch.nn`` layers run on constants (a :class:`~symconv.layers.windows.Constant` stage), and
the copies that products and sums of operands in different orders need.
:class:`WindowCalls` is mixed into the recorder of :mod:`symconv.frontends.trace`.

This module imports torch nowhere.

Examples
--------
>>> expanded((Ellipsis, slice(0, None, 2), slice(1, None, 2), slice(None)), 4)
(slice(None, None, None), slice(0, None, 2), slice(1, None, 2), slice(None, None, None))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symconv.frontends.layouts import Layout, is_full
from symconv.frontends.mapping import Unsupported
from symconv.frontends.mapping_windows import FunctionalLinear

__all__ = ["WindowCalls", "expanded", "channel_kept"]


def expanded(index: tuple[Any, ...], dim: int) -> tuple[Any, ...]:
    """``index`` with its ``...`` spelled out as full slices, over ``dim`` axes."""
    if sum(item is Ellipsis for item in index) > 1:
        raise Unsupported("an index with two ellipses")
    if Ellipsis in index:
        at = index.index(Ellipsis)
        index = (*index[:at], *(slice(None),) * (dim - len(index) + 1), *index[at + 1:])
    return index + (slice(None),) * (dim - len(index))


def channel_kept(first: Any, result: Any, layout: Layout, full_in: bool, full_out: bool,
                 ) -> tuple[tuple[int, ...], tuple[int, ...], Layout] | None:
    """Where a reshape of ``first`` (its ``layout`` not PyTorch's order) to ``result`` keeps the
    input's channel axis as one axis of the output (the same elements' offsets: neither split
    nor merged), the ``Rearrange`` that gives the output with those channels last, in one copy:
    ``(axes, shape, layout)``; else ``None``. MaxViT's ``reshape(B, C, H·P, W·P)`` of its
    permuted windows gives ``(N, C, H, W)`` so, channels last in symconv's array."""
    sizes_in = [int(size) for size in first.shape]
    sizes_out = [int(size) for size in result.shape]
    skip_in, skip_out = int(not full_in), int(not full_out)
    channel = layout.index(len(layout) - 1) + skip_in  # PyTorch's axis of the channels

    def offsets(sizes: list[int], axis: int) -> tuple[int, int]:
        before = 1
        for size in sizes[:axis]:
            before *= size
        return before, before * sizes[axis]

    wanted = offsets(sizes_in, channel)
    matches = [axis for axis in range(skip_out, len(sizes_out))
               if offsets(sizes_out, axis) == wanted]
    if not matches or sizes_in[channel] != sizes_out[matches[0]]:
        return None
    out = matches[0]
    others_in = [axis for axis in range(skip_in, len(sizes_in)) if axis != channel]
    others_out = [axis for axis in range(skip_out, len(sizes_out)) if axis != out]
    axes = (*(layout[axis - skip_in] for axis in others_in), layout[channel - skip_in])
    shape = (*(sizes_out[axis] for axis in others_out), sizes_out[out])
    rank = len(sizes_out) - skip_out
    out_layout = tuple(rank - 1 if axis == out else others_out.index(axis)
                       for axis in range(skip_out, len(sizes_out)))
    return axes, shape, out_layout


def _ints(values: Any) -> tuple[int, ...]:
    values = values if isinstance(values, (tuple, list)) else (values,)
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        raise Unsupported(f"{values!r}: symconv follows int arguments")
    return tuple(values)


class WindowCalls:
    """Calls of :mod:`~symconv.frontends.mapping_windows`'s roles, recorded on the recorder this
    is mixed into."""

    if TYPE_CHECKING:
        tensor_type: Any
        folded: set[int]
        calls: list[Any]
        values: dict[int, Any]
        layouts: dict[int, Layout]

        def layout(self, tensor: Any) -> Layout: ...
        def producer(self, tensor: Any) -> int | None: ...
        def set(self, tensor: Any, producer: int, layout: Layout | None = None) -> None: ...
        def unique(self, name: str) -> str: ...

        def record(self, name: str, op: Any, inputs: tuple[int, ...], output: Any,
                   size_dependent: str = "", layout: Layout | None = None) -> None: ...

    def window_call(self, role: str, where: str, first: Any, args: tuple[Any, ...],
                    kwargs: dict[str, Any], result: Any, sources: list[int | None]) -> None:
        """Follow ``F.pad``, ``torch.roll``, ``F.linear`` (``role``) on ``first``."""
        source = self.producer(first)
        if source is None:
            raise Unsupported("its input is not computed from the model's input")
        layout = self.layout(first)
        if role == "normalize":
            from symconv.layers.windows import Normalize

            options = ("p", "dim", "eps", "out")
            given = dict(zip(options, args[1:]))
            given.update((name, value) for name, value in kwargs.items() if name in options)
            if set(kwargs) - {*options, "input"} or given.get("p", 2) not in (2, 2.0) or given.get(
                    "out") is not None:
                raise Unsupported("symconv follows F.normalize(x, p=2, dim, eps) only")
            axis = self._axis(first, given.get("dim", 1), layout)
            self.record(self.unique(where), Normalize(axis, given.get("eps", 1e-12)), (source,),
                        result, layout=layout)
        elif role == "pad":
            amounts = _ints(args[1] if len(args) > 1 else kwargs.get("pad", ()))
            if not any(amounts):
                self.set(result, source, layout)
            else:
                self.record(self.unique(where), self._pad(first, amounts, args, kwargs, layout),
                            (source,), result, layout=layout)
        elif role == "roll":
            from symconv.layers.windows import Roll

            shifts = _ints(args[1] if len(args) > 1 else kwargs.get("shifts"))
            dims = _ints(args[2] if len(args) > 2 else kwargs.get("dims", ()))
            if len(dims) != len(shifts):
                raise Unsupported("symconv follows torch.roll(x, shifts, dims) with one dim per "
                                  "shift")
            axes = tuple(self._axis(first, dim, layout) for dim in dims)
            sizes = tuple(int(first.shape[dim]) for dim in dims)
            self.record(self.unique(where), Roll(tuple(shift % size for shift, size in
                                                       zip(shifts, sizes)), axes),
                        (source,), result, layout=layout)
        else:  # linear
            names = ("weight", "bias")
            given = dict(zip(names, args[1:]))
            given.update((name, value) for name, value in kwargs.items() if name in names)
            weight, bias = given.get("weight"), given.get("bias")
            if any(item is not None and self.producer(item) is not None
                   for item in (weight, bias)) or weight is None or weight.dim() != 2:
                raise Unsupported("symconv follows F.linear(x, weight, bias) with a weight "
                                  "and bias that are not computed from the input")
            if layout[-1] != len(layout) - 1:
                raise Unsupported(f"it acts on PyTorch's last axis, of size {first.shape[-1]}, "
                                  "which is not the channel axis here")
            layer = FunctionalLinear(int(weight.shape[1]), int(weight.shape[0]),
                                     bias=bias is not None)
            self.record(self.unique(where), layer, (source,), result, layout=layout)

    @classmethod
    def _pad(cls, first: Any, amounts: tuple[int, ...], args: tuple[Any, ...],
             kwargs: dict[str, Any], layout: Layout) -> Any:
        """The :class:`~symconv.layers.Pad` of ``F.pad(x, amounts, mode, value)``: PyTorch's
        pairs, from its last axis back, put on symconv's spatial axes, from the last back."""
        from symconv.errors import SymconvError
        from symconv.layers import Pad

        if len(amounts) % 2 or len(amounts) // 2 > first.dim():
            raise Unsupported(f"pad={amounts}")
        spatial = len(layout) - 1
        pairs = [(0, 0)] * spatial
        for number in range(len(amounts) // 2):
            pair = amounts[2 * number], amounts[2 * number + 1]
            if pair == (0, 0):
                continue
            axis = cls._axis(first, first.dim() - 1 - number, layout)
            if axis == spatial or min(pair) < 0:
                raise Unsupported(f"pads the channels or crops (pad={amounts}); symconv pads "
                                  "spatial axes only")
            pairs[axis] = pair
        used = [axis for axis in range(spatial) if pairs[axis] != (0, 0)]
        padding = [size for axis in range(spatial - 1, min(used) - 1, -1)
                   for size in pairs[axis]]
        mode = args[2] if len(args) > 2 else kwargs.get("mode", "constant")
        value = args[3] if len(args) > 3 else kwargs.get("value")
        try:
            return Pad(tuple(padding), mode, 0 if value is None else value)
        except SymconvError as error:
            raise Unsupported(str(error)) from None

    @staticmethod
    def _axis(first: Any, dim: Any, layout: Layout) -> int:
        """The symconv axis PyTorch's ``dim`` of ``first`` is."""
        rank = first.dim()
        if not isinstance(dim, int) or not -rank <= dim < rank:
            raise Unsupported(f"dim={dim!r}")
        dim %= rank
        if is_full(layout, rank):
            return layout[dim]
        if dim == 0:
            raise Unsupported("it acts along the batch axis, which symconv counts per example")
        return layout[dim - 1]

    def input_layout(self, tensor: Any, module: Any) -> Layout:
        """The layout ``module`` sees ``tensor`` in: its own; for a constant (not computed from
        the input) that ``nn.Linear`` or ``nn.LayerNorm`` acts on, PyTorch's order (full where
        its first axis is not one), else ``(N, C, *spatial)``."""
        if self.producer(tensor) is not None or type(module).__name__ not in ("Linear",
                                                                                 "LayerNorm"):
            return self.layout(tensor)
        return tuple(range(tensor.dim() - (int(tensor.shape[0]) == 1))) if tensor.dim() else ()

    def constant_stage(self, where: str, tensor: Any, layout: Layout) -> int:
        """Record a :class:`~symconv.layers.windows.Constant` of ``tensor``'s shape (a stage
        on no input: docs/conventions.md, "Constants"), for a ``torch.nn`` layer run on it;
        ``tensor`` itself stays a constant."""
        from symconv.frontends.layouts import symconv_shape
        from symconv.layers.windows import Constant

        self.record(self.unique(f"{where}.constant"), Constant(symconv_shape(tensor.shape, layout)),
                    (-1,), tensor, layout=layout)  # -1: trace.INPUT, not read
        index = len(self.calls) - 1
        self.values.pop(id(tensor), None)  # the tensor itself stays a constant
        self.layouts.pop(id(tensor), None)
        self.folded.add(index)
        return index

    def fold(self, source: int) -> None:
        """Mark the last stage as run on constants where its input was: the calls of
        functions on its output are then constants too (no stage)."""
        if source in self.folded:
            self.folded.add(len(self.calls) - 1)

    def einsum(self, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any) -> None:
        """``torch.einsum`` of a batched product of two tensors computed from the input:
        ``"...ik,...kj->...ij"``, or ``"...ik,...jk->...ij"`` (the second transposed), the
        leading letters alike (MaxViT's ``"B G H I D, B G H J D -> B G H I J"``)."""
        from symconv.frontends.functions import Product

        equation = args[0] if args else kwargs.get("equation")
        operands = tuple(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
        spec = equation.replace(" ", "") if isinstance(equation, str) else ""
        if set(kwargs) - {"equation"} or len(operands) != 2 or "->" not in spec or "..." in spec:
            raise Unsupported("symconv follows einsum(equation, a, b) of two tensors, without "
                              "'...'")
        left, out = spec.split("->")
        first, _, second = left.partition(",")
        lead = first[:-2]
        plain = second == lead + first[-1] + second[-1:] and out == lead + first[-2] + second[-1:]
        swapped = second == lead + second[-2:-1] + first[-1] and out == (
            lead + first[-2] + second[-2:-1])
        a, b = operands
        if (not (plain or swapped) or len(set(out + first[-1])) != len(out) + 1
                or not all(isinstance(item, self.tensor_type) for item in operands)
                or tuple(a.shape[:-2]) != tuple(b.shape[:-2]) or a.dim() != len(first)):
            raise Unsupported(f"equation={equation!r}: symconv follows batched products, "
                              "'...ik,...kj->...ij' or '...ik,...jk->...ij', of tensors alike "
                              "in their leading axes")
        if self.producer(a) is None or self.producer(b) is None:
            raise Unsupported("it uses a tensor that is not computed from the model's input")
        rank = len(self.layout(a))
        if is_full(self.layout(a), a.dim()) != is_full(self.layout(b), b.dim()):
            raise Unsupported("its operands' batch axes differ")
        sources = self.ordered(where, a, swap=False)[0], self.ordered(where, b, swap=False)[0]
        self.record(self.unique(where), Product(swapped, "einsum"), sources, result,
                    layout=tuple(range(rank)))

    def slices(self, where: str, first: Any, index: tuple[Any, ...], result: Any,
               layout: Layout) -> bool:
        """``x[..., a::s, b::t, :]``, ``x[:, :H, :W, :]``: the input again where every slice is
        full, else a :class:`~symconv.layers.windows.Strided` view of the spatial axes; whether
        ``index`` was slices only."""
        if not all(isinstance(item, slice) or item is Ellipsis for item in index):
            return False
        from symconv.layers.windows import Strided

        index = expanded(index, first.dim())
        full = is_full(layout, first.dim())
        channels = len(layout) - 1
        starts, steps = [0] * channels, [1] * channels
        stops: list[int | None] = [None] * channels
        for dim, item in enumerate(index):
            start, stop, step = item.indices(int(first.shape[dim]))
            if (start, stop, step) == (0, int(first.shape[dim]), 1):
                continue
            if not all(isinstance(value, int) or value is None
                       for value in (item.start, item.stop, item.step)):
                raise Unsupported(f"indexes with {item!r}")
            if step < 1 or stop <= start:
                raise Unsupported(f"slices {item!r} of an axis of {int(first.shape[dim])}")
            axis = self._axis(first, dim, layout) if (full or dim) else -1
            if axis < 0 or axis == channels:
                raise Unsupported(f"slices {item!r} of the batch or the channel axis; symconv "
                                  "follows strided slices of spatial axes only")
            starts[axis], steps[axis] = start, step
            stops[axis] = None if stop == int(first.shape[dim]) else stop
        source = self.producer(first)
        assert source is not None
        if starts == [0] * channels and steps == [1] * channels and stops == [None] * channels:
            self.set(result, source, layout)
            return True
        from symconv.frontends.layouts import default_layout

        if layout != tuple(range(len(layout))) and layout != default_layout(len(layout)):
            raise Unsupported("it slices a tensor whose axes PyTorch permuted")
        self.record(self.unique(where), Strided(tuple(starts), tuple(steps), tuple(stops)),
                    (source,), result, layout=layout)
        return True

    def made_full(self, where: str, first: Any, layout: Layout) -> Layout:
        """``first``'s full layout: a non-full one gets its batch of one as a leading axis of
        size 1 (a view, :class:`~symconv.layers.tokens.Reshape`), so that a permute may move
        it."""
        if is_full(layout, first.dim()):
            return layout
        from symconv.frontends.layouts import symconv_shape
        from symconv.layers.tokens import Reshape

        if int(first.shape[0]) != 1:
            raise Unsupported("it moves the batch axis, which symconv counts per example")
        shape = symconv_shape(first.shape, layout)
        source = self.producer(first)
        assert source is not None
        full = (0, *(axis + 1 for axis in layout))
        self.record(self.unique(f"{where}.unsqueeze"), Reshape((1, *shape)), (source,), first,
                    layout=full)
        return full

    def ordered(self, where: str, tensor: Any, swap: bool) -> tuple[int, bool]:
        """The producer of ``tensor`` with symconv's axes in PyTorch's order (its last two
        swapped, ``swap``), a :class:`~symconv.layers.tokens.Rearrange` copy recorded where they
        are not (as ``torch.matmul`` copies a permuted operand); and whether they are swapped."""

        layout = self.layout(tensor)
        identity = tuple(range(len(layout)))
        swapped = (*identity[:-2], identity[-1], identity[-2])
        if layout == identity or (swap and layout == swapped):
            source = self.producer(tensor)
            assert source is not None
            return source, layout != identity
        return self.aligned(where, tensor, swapped if swap else identity), swap

    def aligned(self, where: str, tensor: Any, target: Layout) -> int:
        """The producer of ``tensor`` with layout ``target``: a
        :class:`~symconv.layers.tokens.Rearrange` copy recorded where its own differs; the
        tensor stands for its copy from then on (same values, symconv's order changed)."""
        from symconv.layers.tokens import Rearrange

        layout = self.layout(tensor)
        source = self.producer(tensor)
        assert source is not None
        if layout == target:
            return source
        if len(layout) != len(target):
            raise Unsupported("its operands' batch axes differ")
        sizes = [int(size) for size in tensor.shape[len(tensor.shape) - len(layout):]]
        axes, shape = [0] * len(layout), [0] * len(layout)
        for at, (old, new) in enumerate(zip(layout, target)):
            axes[new], shape[new] = old, sizes[at]
        self.record(self.unique(f"{where}.copy"), Rearrange(tuple(axes), tuple(shape)),
                    (source,), tensor, layout=target)
        found = self.producer(tensor)
        assert found is not None
        return found
