"""The tracer's part for transformer-style models (:mod:`symconv.frontends.mapping_transformer`):
permutes as changes of layout, ``F.layer_norm``, ``F.gelu`` and a learned scale
(``scale * x``). :class:`TransformerCalls` is mixed into the recorder of
:mod:`symconv.frontends.trace`, whose methods it uses.

This module imports torch nowhere.

Examples
--------
>>> from symconv.layers import Activation, Conv2d
>>> keeps_layout(Activation("gelu")), keeps_layout(None), keeps_layout(Conv2d(3, 3, 1))
(True, True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from symconv.frontends import mapping_transformer as transformer
from symconv.frontends import mapping_windows
from symconv.frontends.layouts import (
    Layout,
    channels_on_last,
    default_layout,
    in_order,
    is_full,
    permuted,
    symconv_shape,
    torch_dims,
)
from symconv.frontends.mapping import Unsupported, module_layer
from symconv.frontends.trace_chain import ChainCalls
from symconv.frontends.trace_windows import WindowCalls, channel_kept
from symconv.layers import (
    Activation,
    FeatureAlphaDropout,
    FeatureDropout,
    Identity,
    Layer,
    ReLU,
    ReLU6,
)

__all__ = ["TransformerCalls", "keeps_layout", "leaf_layer", "REFUSED", "constant_movement",
           "transformer_function"]

#: The producer of a tensor made by a part symconv cannot count (already refused by name).
REFUSED = -2


def _swap(rank: int, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[int, ...]:
    """The permutation ``x.transpose(a, b)`` is."""
    pair = list(args[1:3]) or [kwargs.get("dim0"), kwargs.get("dim1")]
    if len(pair) != 2 or not all(isinstance(dim, int) and -rank <= dim < rank for dim in pair):
        raise Unsupported(f"transposes dims {pair!r}")
    dims = list(range(rank))
    a, b = (dim % rank for dim in pair)
    dims[a], dims[b] = dims[b], dims[a]
    return tuple(dims)


def transformer_function(key: str) -> Any:
    """The :class:`~symconv.frontends.mapping.Function` of a qualified name in the transformer
    table (:data:`~symconv.frontends.mapping_transformer.FUNCTIONS`), or ``None``."""
    return transformer.FUNCTIONS.get(key) or mapping_windows.FUNCTIONS.get(key)


def constant_movement(qualified: str, sources: list[int | None]) -> bool:
    """Whether a call only uses tensors none of which is computed from the input
    (``class_token.expand(n, -1, -1)``, Swin's attention mask ``mask.unsqueeze(1) -
    mask.unsqueeze(2)``, ``mask.masked_fill(...)``): a constant, no stage, its result not
    computed from the input (docs/conventions.md, "constants")."""
    return bool(sources) and all(source is None for source in sources)


def keeps_layout(layer: Layer | None) -> bool:
    """Whether a layer acts on each element alone (an activation, an identity), so that the
    order of its input's axes does not matter (not the channel dropouts: one draw per channel,
    PyTorch's axis 1)."""
    if isinstance(layer, (FeatureDropout, FeatureAlphaDropout)):
        return False
    return layer is None or isinstance(layer, (Activation, ReLU, ReLU6, Identity))


class TransformerCalls(WindowCalls, ChainCalls):
    """Calls of the transformer table's roles, recorded on the recorder this is mixed into."""

    if TYPE_CHECKING:
        tensor_type: Any

        layouts: dict[int, Layout]

        def producer(self, tensor: Any) -> int | None: ...
        def set(self, tensor: Any, producer: int, layout: Layout | None = None) -> None: ...
        def unique(self, name: str) -> str: ...
        def record(self, name: str, op: Any, inputs: tuple[int, ...], output: Any,
                   size_dependent: str = "", layout: Layout | None = None) -> None: ...
        def unsupported(self, where: str, what: str, why: str, outputs: list[Any],
                        inputs: list[Any]) -> None: ...

    def remember_layout(self, tensor: Any, layout: Layout | None) -> None:
        """Keep ``tensor``'s layout where it is not the default."""
        if layout is None or layout == default_layout(tensor.dim() - 1):
            self.layouts.pop(id(tensor), None)
        else:
            self.layouts[id(tensor)] = layout

    def layout(self, tensor: Any) -> Layout:
        """Which symconv axis each PyTorch axis of ``tensor`` is (:mod:`~symconv.frontends.layouts`)."""
        if self.producer(tensor) is not None and id(tensor) in self.layouts:
            return self.layouts[id(tensor)]
        return default_layout(tensor.dim() - 1)

    def check_layouts(self, role: str, first: Any, tensors: list[Any], layout: Layout,
                      where: str = "") -> None:
        """Refuse a call of the tracer's own roles on tensors PyTorch permuted, but elementwise
        ones: an operand of ``a + b`` or ``a * b`` whose axes PyTorch keeps in another order
        than the first's is copied to it (MaxViT's grid attention); the others need
        ``(N, C, *spatial)``."""
        if role in ("identity", "dropout", "layer", "add", "binary"):
            for tensor in tensors:
                if tensor is not first and self.layout(tensor) != layout:
                    if role not in ("add", "binary") or tensor.dim() != first.dim():
                        raise Unsupported("its operands' axes are in different orders (one "
                                          "permuted)")
                    self.aligned(where, tensor, layout)
        elif layout != default_layout(first.dim() - 1):
            raise Unsupported(f"it gets a tensor whose axes PyTorch permuted "
                              f"({tuple(first.shape)}); symconv follows it on (N, C, *spatial)")

    def transformer_call(self, role: str, spelling: str, where: str, args: tuple[Any, ...],
                         kwargs: dict[str, Any], result: Any,
                         sources: list[int | None]) -> bool:
        """Follow a call of :mod:`~symconv.frontends.mapping_transformer`'s roles, a reshape
        that is not a flattening to ``(batch, features)``, and calls with a tensor not computed
        from the input (``scale * x``, ``x + pos_embedding``, ``torch.cat([token, x], 1)``);
        whether it was one (else the tracer's own rules apply)."""
        first = args[0] if args else kwargs.get("input")
        if role == "cat":
            return self._cat(where, args, kwargs, result, sources)
        if role == "einsum":
            self.einsum(where, args, kwargs, result)
            return True
        if not isinstance(first, self.tensor_type) or not isinstance(result, self.tensor_type):
            return False
        layout = self.layout(first)
        if role == "binary":
            return self._scale(spelling, where, args, kwargs, result, sources)
        if role == "matmul":
            return self._matmul(spelling, where, args, kwargs, result, sources)
        if role == "softmax":
            self._softmax(spelling, where, first, args, kwargs, result, layout)
            return True
        if role == "add" and len(sources) == 2 and sources.count(None) == 1:
            return self._add_constant(where, args, kwargs, result, sources)
        if role == "flatten":
            return self._reshape(where, first, result, layout)
        if role == "constant":
            return True  # made from shapes alone: not computed from the input
        if role in ("pad", "roll", "linear", "normalize"):
            self.window_call(role, where, first, args, kwargs, result, sources)
            return True
        if role not in ("permute", "transpose", "getitem", "layer_norm", "gelu"):
            return False
        source = self.producer(first)
        if source is None:
            raise Unsupported("its input is not computed from the model's input")
        if role == "permute":
            dims = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else (
                args[1:] or kwargs.get("dims", ()))
            if len(dims) == first.dim() and dims[0] % first.dim() != 0:  # moves the batch of one
                layout = self.made_full(where, first, layout)
                source = self.producer(first)
                assert source is not None
            self.set(result, source, permuted(layout, tuple(dims)))
        elif role == "transpose":
            self.set(result, source, permuted(layout, _swap(first.dim(), args, kwargs)))
        elif role == "getitem":
            self._select(where, first, args, result, layout)
        elif role == "gelu":
            self.record(self.unique(where), transformer.gelu(kwargs, args), (source,), result,
                        layout=layout)
        else:
            if not channels_on_last(layout):
                raise Unsupported(f"it normalises PyTorch's last axis, of size {first.shape[-1]}, "
                                  "which is not the channel axis here")
            layer = transformer.layer_norm(first, args, kwargs,
                                           lambda tensor: self.producer(tensor) is None)
            self.record(self.unique(where), layer, (source,), result, layout=layout)
        return True

    def _reshape(self, where: str, first: Any, result: Any, layout: Layout) -> bool:
        """``x.reshape(...)``, ``x.view(...)``, ``x.flatten(...)`` other than to
        ``(batch, features)`` (the tracer's own :class:`~symconv.layers.Flatten`): a
        :class:`~symconv.layers.tokens.Reshape` (a view) where symconv's array, row-major, is
        already in PyTorch's order (or only axes of size 1 move, :func:`.layouts.in_order`: a
        window as wide as the map), else a :class:`~symconv.layers.tokens.Rearrange` (a copy)."""
        from symconv.layers.tokens import Rearrange, Reshape

        rank, out_rank = first.dim() - 1, result.dim() - 1
        default = default_layout(rank)
        # at batch 1, a first axis of another size holds the one example's windows (Swin's
        # reshape(B·nW, N, C)): the result's layout is full
        full_in, full_out = is_full(layout, first.dim()), int(result.shape[0]) != 1
        if layout == default and out_rank == 1 and rank >= 1 and not full_out:
            return False  # flattening: the tracer's own rule
        if (not full_in and int(first.shape[0]) != 1) or (out_rank < 1 and not full_out):
            raise Unsupported(f"reshapes {tuple(first.shape)} to {tuple(result.shape)}, "
                              "across the batch axis")
        source = self.producer(first)
        assert source is not None
        sizes = tuple(int(size) for size in (result.shape if full_out else result.shape[1:]))
        identity = tuple(range(len(layout)))
        out_layout: Layout
        layer: Layer
        sizes_in = symconv_shape(tuple(first.shape), layout)

        def moved(axes: tuple[int, ...], shape: tuple[int, ...]) -> Layer:
            return Reshape(shape) if in_order(axes, sizes_in) else Rearrange(axes, shape)

        kept = None if layout == identity else channel_kept(first, result, layout, full_in,
                                                           full_out)
        if kept is not None:  # the input's channels are an axis of the output: kept last
            axes, shape, out_layout = kept
            layer = moved(axes, shape)
        elif full_in or full_out:
            out_layout = tuple(range(len(sizes)))
            layer = moved(layout, sizes)
        elif (layout == default and rank >= 2 and out_rank >= 2
              and result.shape[1] == first.shape[1]):
            out_layout = default_layout(out_rank)  # (N, C, *spatial) with other spatial sizes
            layer = Reshape((*sizes[1:], sizes[0]))
        elif layout == identity:
            out_layout, layer = tuple(range(out_rank)), Reshape(sizes)
        else:
            out_layout, layer = tuple(range(out_rank)), moved(layout, sizes)
        self.record(self.unique(where), layer, (source,), result, layout=out_layout)
        return True

    def _select(self, where: str, first: Any, args: tuple[Any, ...], result: Any,
                layout: Layout) -> None:
        """``x[:, i]`` (ViT's class token ``x[:, 0]``): a :class:`~symconv.layers.tokens.Select`
        of a position along a spatial axis."""
        from symconv.layers.tokens import Select

        index = args[1] if len(args) > 1 else None
        index = index if isinstance(index, tuple) else (index,)
        if self.slices(where, first, index, result, layout):
            return
        whole = is_full(layout, first.dim())
        full = slice(None)
        picks = [number for number, item in enumerate(index) if item != full]
        if (len(picks) != 1 or (picks[0] == 0 and not whole) or isinstance(index[picks[0]], bool)
                or not isinstance(index[picks[0]], int) or any(
                    item != full for item in index if not isinstance(item, int))):
            raise Unsupported(f"indexes with {index!r}; symconv follows x[:, ..., i] with one "
                              "int on an axis after the batch")
        torch_axis = picks[0]
        axis = layout[torch_axis - (not whole)]
        if axis == len(layout) - 1:
            raise Unsupported("it picks one channel; symconv selects positions only")
        position = index[torch_axis] % int(first.shape[torch_axis])
        rest = [item for number, item in enumerate(layout)
                if number != torch_axis - (not whole)]
        out_layout = tuple(item - (item > axis) for item in rest)
        source = self.producer(first)
        assert source is not None
        self.record(self.unique(where), Select(axis, position), (source,), result,
                    layout=out_layout)

    def _cat(self, where: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any,
             sources: list[int | None]) -> bool:
        """``torch.cat`` of channels-last tokens along their channels (Swin's patch merging), or
        of a learned token and the tokens (ViT's class token)."""
        from symconv.frontends.functions import Concat
        from symconv.layers.tokens import ClassToken

        tensors = args[0] if args else kwargs.get("tensors")
        dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
        if not isinstance(tensors, (list, tuple)) or len(tensors) < 2 or not all(
                isinstance(item, self.tensor_type) for item in tensors):
            return False
        found = [self.producer(item) for item in tensors]
        layouts = {self.layout(item) for item, got in zip(tensors, found) if got is not None}
        if None not in found and layouts == {default_layout(tensors[0].dim() - 1)}:
            return False  # the tracer's own concatenation along the channels
        if len(layouts) != 1 or not isinstance(dim, int):
            raise Unsupported("its tensors' axes are in different orders")
        layout = layouts.pop()
        axis = layout[dim % tensors[0].dim() - 1] if dim % tensors[0].dim() else -1
        if None not in found:
            if axis != len(layout) - 1:
                raise Unsupported(f"dim={dim}: symconv concatenates along the channels")
            self.record(self.unique(where), Concat(), tuple(found), result,  # type: ignore[arg-type]
                        layout=layout)
            return True
        token, x = tensors[0], tensors[1]
        if (len(tensors) != 2 or found[0] is not None or found[1] is None or axis != 0
                or len(layout) != 2 or token.shape[dim] != 1):
            raise Unsupported("symconv follows torch.cat([token, x], dim) of one learned token "
                              "before (L, C) tokens only")
        self.record(self.unique(where), ClassToken(int(x.shape[-1])), (found[1],), result,
                    layout=layout)
        return True

    def _add_constant(self, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                      result: Any, sources: list[int | None]) -> bool:
        """``x + p`` with ``p`` not computed from the input (a position embedding, a relative
        position bias): an :class:`~symconv.layers.tokens.AddParameter`."""
        from symconv.frontends.layouts import symconv_shape
        from symconv.layers.tokens import AddParameter

        other = args[1] if len(args) > 1 else kwargs.get("other")
        if len(args) != 2 or set(kwargs) - {"other"} or not isinstance(other, self.tensor_type):
            return False
        x, constant = (args[0], other) if sources[0] is not None else (other, args[0])
        if tuple(result.shape) != tuple(x.shape) or constant.dim() > x.dim():
            raise Unsupported(f"adds {tuple(constant.shape)} to {tuple(x.shape)}, broadcasting x")
        padded = (1,) * (x.dim() - constant.dim()) + tuple(int(size) for size in constant.shape)
        layout = self.layout(x)
        if padded[0] != 1 and not is_full(layout, x.dim()):
            raise Unsupported("it adds a tensor with a batch axis")
        source = self.producer(x)
        assert source is not None
        if self._joined(where, "add", x, constant, padded, layout, source, result):
            return True
        learned = type(constant).__name__ == "Parameter"
        layer = AddParameter(symconv_shape(padded, layout), learned=learned)
        self.record(self.unique(where), layer, (source,), result, layout=layout)
        return True

    def _joined(self, where: str, kind: str, x: Any, constant: Any, padded: tuple[int, ...],
                layout: Layout, source: int, result: Any) -> bool:
        """``x + c`` or ``x * c`` with ``c`` a chain of parameters (trace_chain): its stages,
        then an ``AddComputed`` or ``MulComputed`` reading the last; whether it was one."""
        from symconv.layers import AddComputed, MulComputed

        found = self.chain_operand(where, constant, padded, layout, is_full(layout, x.dim()))
        if found is None:
            return False
        other, shape = found
        join = AddComputed if kind == "add" else MulComputed
        self.record(self.unique(where), join(self.calls[other].name, shape=shape),
                    (source, other), result, layout=layout)
        return True

    def attention_call(self, where: str, what: str, module: Any, args: tuple[Any, ...],
                       kwargs: dict[str, Any], outputs: list[Any]) -> None:
        """Record ``nn.MultiheadAttention`` (its output, the first of the pair it returns)."""
        query = args[0] if args else kwargs.get("query")
        try:
            if not isinstance(query, self.tensor_type):
                raise Unsupported("called without a tensor as its query")
            layout = self.layout(query)
            layer = _attention_layer(module, args, kwargs, layout)
            if not outputs:
                raise Unsupported("returns no tensor")
        except Unsupported as reason:
            self.unsupported(where, what, str(reason), outputs, [query])
            return
        source = self.producer(query)
        if source is None:
            self.unsupported(where, what, "its input is not computed from the model's input",
                             outputs, [])
        elif source == REFUSED:
            for tensor in outputs:
                self.set(tensor, source)
        else:
            self.record(where, layer, (source,), outputs[0], layout=layout)

    def _matmul(self, spelling: str, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                result: Any, sources: list[int | None]) -> bool:
        """``a @ b`` of two tensors computed from the input, both channels last in PyTorch's
        order (``b`` perhaps transposed in its last two axes)."""
        if kwargs or len(args) != 2 or len(sources) != 2 or None in sources:
            raise Unsupported("symconv follows a @ b of two tensors computed from the input")
        a, b = args
        rank = len(self.layout(a))
        if (b.dim() != a.dim() or rank < 2 or is_full(self.layout(a), a.dim()) != is_full(
                self.layout(b), b.dim())):
            raise Unsupported(f"multiplies {tuple(a.shape)} by {tuple(b.shape)}; symconv follows "
                              "products of tensors of one rank")
        from symconv.frontends.functions import Product

        # operands whose axes PyTorch permuted are copied to its order first (as torch.matmul
        # copies them), the second perhaps transposed
        first, _ = self.ordered(where, a, swap=False)
        second, transposed = self.ordered(where, b, swap=True)
        self.record(self.unique(where), Product(transposed, spelling), (first, second), result,
                    layout=tuple(range(rank)))
        return True

    def _softmax(self, spelling: str, where: str, first: Any, args: tuple[Any, ...],
                 kwargs: dict[str, Any], result: Any, layout: Layout) -> None:
        """``F.softmax(x, dim)``, ``x.softmax(dim)``: a softmax along that axis."""
        dim = args[1] if len(args) > 1 else kwargs.get("dim")
        if set(kwargs) - {"dim", "dtype", "_stacklevel", "input"} or kwargs.get("dtype"):
            raise Unsupported("symconv follows softmax(x, dim) only")
        rank = first.dim()
        if isinstance(dim, bool) or not isinstance(dim, int) or not -rank <= dim < rank:
            raise Unsupported(f"dim={dim!r}: symconv follows a softmax along one given axis")
        layer = (transformer.FunctionalSoftmax if spelling == "F" else
                 transformer.TensorSoftmax)(axis=self._axis(first, dim, layout))
        source = self.producer(first)
        if source is None:
            raise Unsupported("its input is not computed from the model's input")
        self.record(self.unique(where), layer, (source,), result, layout=layout)

    def _scale(self, spelling: str, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any, sources: list[int | None]) -> bool:
        """``scale * x`` with ``scale`` not computed from the input: a LayerScale; ``x * 0.5``
        with a number: a MulScalar."""
        if (spelling == "mul" and not kwargs and len(args) == 2 and len(sources) == 1
                and sources[0] is not None and isinstance(args[1], (int, float))
                and not isinstance(args[1], bool) and isinstance(args[0], self.tensor_type)):
            from symconv.layers.products import MulScalar

            self.record(self.unique(where), MulScalar(args[1]), (sources[0],), result,
                        layout=self.layout(args[0]))
            return True
        if (spelling != "mul" or kwargs or len(args) != 2 or len(sources) != 2
                or sources.count(None) != 1
                or not all(isinstance(item, self.tensor_type) for item in args)):
            return False
        x, scale = args if sources[0] is not None else args[::-1]
        layout = self.layout(x)
        if tuple(result.shape) == tuple(x.shape) and scale.dim() <= x.dim():
            padded = (1,) * (x.dim() - scale.dim()) + tuple(int(size) for size in scale.shape)
            found = self.producer(x)
            if (found is not None and (padded[0] == 1 or is_full(layout, x.dim()))
                    and self._joined(where, "mul", x, scale, padded, layout, found, result)):
                return True
        channel_dim = torch_dims(layout)[-1] if x.dim() > 1 and not is_full(
            layout, x.dim()) else -1
        try:
            layer = transformer.scale_layer(scale, x, channel_dim)
        except Unsupported:  # not one value per channel: any broadcast tensor (Swin V2's
            from symconv.frontends.layouts import symconv_shape  # logit scale, per head)
            from symconv.layers.tokens import MulParameter

            padded = (1,) * (x.dim() - scale.dim()) + tuple(int(size) for size in scale.shape)
            if len(padded) != x.dim() or (padded[0] != 1 and not is_full(layout, x.dim())):
                raise
            layer = MulParameter(symconv_shape(padded, layout),
                                 learned=type(scale).__name__ == "Parameter")
        if tuple(result.shape) != tuple(x.shape):
            raise Unsupported(f"the scale broadcasts x of shape {tuple(x.shape)} to "
                              f"{tuple(result.shape)}")
        source = self.producer(x)
        assert source is not None
        self.record(self.unique(where), layer, (source,), result, layout=layout)
        return True


def leaf_layer(module: Any, first: Any, output_padding: tuple[int, ...] | None,
               layout: Layout) -> tuple[Layer | None, Layout | None]:
    """The layer of a ``torch.nn`` layer called on ``first`` of ``layout``, and its output's
    layout (``None``: the default). ``nn.Linear`` and ``nn.LayerNorm`` act on PyTorch's last
    axis, which must be the channels; an activation keeps any layout; any other layer needs
    ``(N, C, *spatial)``."""
    if type(module).__name__ == "Softmax":  # nn.Softmax(dim): along that axis, any layout
        from symconv.layers import Softmax

        if module.dim is None:
            raise Unsupported("nn.Softmax() without dim (PyTorch's implicit choice, deprecated); "
                              "give dim")
        return Softmax(axis=WindowCalls._axis(first, module.dim, layout)), layout
    layer = transformer.module_layer(module)
    if layer is not None or type(module).__name__ == "Linear":  # on PyTorch's last axis
        if not channels_on_last(layout) and (layer is not None or first.dim() > 2):
            raise Unsupported(f"it acts on PyTorch's last axis, of size {first.shape[-1]}, "
                              "which is not the channel axis here (symconv's arrays are "
                              "channels last); flatten before it (nn.Flatten()), or permute the "
                              "channels last")
        return layer or module_layer(module, 1), layout
    layer = module_layer(module, first.dim() - 1, output_padding)
    if keeps_layout(layer):
        return layer, layout
    if layout != default_layout(first.dim() - 1):
        raise Unsupported(f"it gets a tensor whose axes PyTorch permuted ({tuple(first.shape)}); "
                          "symconv follows it on (N, C, *spatial)")
    return layer, None


def _attention_layer(module: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
                     layout: Layout) -> Layer:
    """The layer of ``nn.MultiheadAttention`` called as self-attention on ``(N, L, E)``."""
    from symconv.layers.attention import multihead_attention

    query: Any = args[0] if args else kwargs.get("query")
    rest = list(args[1:3]) + [kwargs.get(name) for name in ("key", "value")][len(args[1:3]):]
    if len(rest) != 2 or any(item is not query for item in rest):
        raise Unsupported("symconv follows self-attention only, attention(x, x, x)")
    options = {name: value for name, value in kwargs.items() if name not in ("query", "key",
                                                                             "value")}
    allowed = {"need_weights": False, "key_padding_mask": None, "attn_mask": None,
               "average_attn_weights": True, "is_causal": False}
    if len(args) > 3 or any(name not in allowed or value != allowed[name]
                            for name, value in options.items() if name != "average_attn_weights"):
        raise Unsupported("symconv follows attention(x, x, x, need_weights=False) without masks")
    if "need_weights" not in options:
        raise Unsupported("need_weights=True (the default) also returns the attention weights; "
                          "pass need_weights=False")
    if not module.batch_first or query.dim() != 3:
        raise Unsupported("symconv follows batch_first=True on (N, L, E)")
    if (module.bias_k is not None or module.add_zero_attn or not module._qkv_same_embed_dim
            or (module.in_proj_bias is None) != (module.out_proj.bias is None)):
        raise Unsupported("bias_k, add_zero_attn, kdim/vdim, or a bias on one projection only")
    if not channels_on_last(layout):
        raise Unsupported("its tokens' channels are not PyTorch's last axis here")
    fused = module.in_proj_bias is not None and module.num_heads % 2 == 0
    return multihead_attention(int(module.embed_dim), int(module.num_heads),
                               module.in_proj_bias is not None, fused=fused,
                               tokens=int(query.shape[1]))
