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
from symconv.frontends.layouts import (
    Layout,
    channels_on_last,
    default_layout,
    permuted,
    torch_dims,
)
from symconv.frontends.mapping import Unsupported, module_layer
from symconv.layers import Activation, Layer, ReLU, ReLU6

__all__ = ["TransformerCalls", "keeps_layout", "leaf_layer", "REFUSED"]

#: The producer of a tensor made by a part symconv cannot count (already refused by name).
REFUSED = -2


def keeps_layout(layer: Layer | None) -> bool:
    """Whether a layer acts on each element alone (an activation, an identity), so that the
    order of its input's axes does not matter."""
    return layer is None or isinstance(layer, (Activation, ReLU, ReLU6))


class TransformerCalls:
    """Calls of the transformer table's roles, recorded on the recorder this is mixed into."""

    if TYPE_CHECKING:
        tensor_type: Any

        def producer(self, tensor: Any) -> int | None: ...
        def set(self, tensor: Any, producer: int, layout: Layout | None = None) -> None: ...
        def layout(self, tensor: Any) -> Layout: ...
        def unique(self, name: str) -> str: ...
        def record(self, name: str, op: Any, inputs: tuple[int, ...], output: Any,
                   size_dependent: str = "", layout: Layout | None = None) -> None: ...
        def unsupported(self, where: str, what: str, why: str, outputs: list[Any],
                        inputs: list[Any]) -> None: ...

    def transformer_call(self, role: str, spelling: str, where: str, first: Any,
                         args: tuple[Any, ...], kwargs: dict[str, Any], result: Any,
                         sources: list[int | None], layout: Layout) -> bool:
        """Follow a call of :mod:`~symconv.frontends.mapping_transformer`'s roles, or a learned
        scale (``scale * x``, ``x * scale``); whether it was one."""
        if role == "binary":
            return self._scale(spelling, where, args, kwargs, result, sources)
        if role not in ("permute", "layer_norm", "gelu"):
            return False
        source = self.producer(first)
        if source is None:
            raise Unsupported("its input is not computed from the model's input")
        if role == "permute":
            dims = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else (
                args[1:] or kwargs.get("dims", ()))
            self.set(result, source, permuted(layout, tuple(dims)))
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

    def _scale(self, spelling: str, where: str, args: tuple[Any, ...], kwargs: dict[str, Any],
               result: Any, sources: list[int | None]) -> bool:
        """``scale * x`` with ``scale`` not computed from the input: a LayerScale."""
        if (spelling != "mul" or kwargs or len(args) != 2 or len(sources) != 2
                or sources.count(None) != 1
                or not all(isinstance(item, self.tensor_type) for item in args)):
            return False
        x, scale = args if sources[0] is not None else args[::-1]
        layout = self.layout(x)
        channel_dim = torch_dims(layout)[-1] if x.dim() > 1 else 1
        layer = transformer.scale_layer(scale, x, channel_dim)
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
