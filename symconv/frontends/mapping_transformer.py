"""What symconv makes of the modules and functions of transformer-style models (ConvNeXt, ViT,
Swin, MaxViT): permutes, LayerNorm on channels-last tensors, ``F.gelu``, a learned scale.

Kept apart from :mod:`symconv.frontends.mapping` (the convolutional networks' table) and looked
up after it. :data:`FUNCTIONS` maps a qualified name to a :class:`~symconv.frontends.mapping.Function`
whose ``role`` the tracer follows:

* ``"permute"``: ``x.permute(...)``, ``torch.permute``; a change of layout
  (:mod:`symconv.frontends.layouts`), no stage;
* ``"layer_norm"``: ``F.layer_norm`` over PyTorch's last axis, which must be the channels
  (:class:`FunctionalLayerNorm`);
* ``"gelu"``: ``F.gelu(x, approximate="none" | "tanh")``.

Nothing here imports torch.

Examples
--------
>>> FUNCTIONS["Tensor.permute"].role
'permute'
>>> gelu({}, ())
Activation(function='gelu', spelling='F')
>>> gelu({"approximate": "tanh"}, ())
Activation(function='gelu_tanh', spelling='F')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from symconv.errors import SymconvError
from symconv.frontends.mapping import Function, Unsupported
from symconv.layers import Activation, Layer, LayerNorm, Softmax

__all__ = ["FUNCTIONS", "FunctionalLayerNorm", "FunctionalSoftmax",
           "TensorSoftmax", "gelu", "layer_norm", "module_layer", "scale_layer"]


@dataclass(frozen=True, init=False)
class FunctionalSoftmax(Softmax):
    """``F.softmax(x, dim)`` in ``forward``: :class:`~symconv.layers.Softmax`'s counts, kind
    ``"F.softmax"`` (ptflops patches the function).

    Examples
    --------
    >>> FunctionalSoftmax(axis=0).kind
    'F.softmax'
    """

    example: ClassVar[str] = "FunctionalSoftmax(axis=-1)"

    @property
    def kind(self) -> str:
        return "F.softmax"


@dataclass(frozen=True, init=False)
class TensorSoftmax(Softmax):
    """``x.softmax(dim)`` or ``torch.softmax(x, dim)``: kind ``"torch.softmax"`` (not patched
    by ptflops).

    Examples
    --------
    >>> TensorSoftmax(axis=0).kind
    'torch.softmax'
    """

    example: ClassVar[str] = "TensorSoftmax(axis=-1)"

    @property
    def kind(self) -> str:
        return "torch.softmax"


@dataclass(frozen=True, init=False)
class FunctionalLayerNorm(LayerNorm):
    """``F.layer_norm(x, (C,), weight, bias, eps)`` called in ``forward`` (torchvision's
    ``LayerNorm2d``): :class:`~symconv.layers.LayerNorm`'s counts under its own kind,
    ``"F.layernorm"`` (no peer hooks the function as it hooks ``nn.LayerNorm``).

    Examples
    --------
    >>> from symconv import cost
    >>> c, module = cost(FunctionalLayerNorm(8), (4, 8)), cost(LayerNorm(8), (4, 8))
    >>> c.kind, (c.mults, c.adds, c.params) == (module.mults, module.adds, module.params)
    ('F.layernorm', True)
    """

    example: ClassVar[str] = "FunctionalLayerNorm(96)"

    @property
    def kind(self) -> str:
        return "F.layernorm"


def _functions() -> dict[str, Function]:
    table: dict[str, Function] = {}
    for name in ("Tensor.permute", "torch.permute"):
        table[name] = Function("permute")
    for name in ("Tensor.transpose", "torch.transpose", "Tensor.swapaxes", "torch.swapaxes"):
        table[name] = Function("transpose")
    table["Tensor.__getitem__"] = Function("getitem")
    # a @ b reaches the tracer as Tensor.matmul, a.matmul(b) as Tensor.matmul:method (the
    # tracer wraps the attribute, as ptflops patches it: it counts the call, not the operator)
    table["Tensor.matmul"] = Function("matmul", spelling="@")
    for name in ("Tensor.matmul:method", "torch.matmul", "Tensor.bmm", "torch.bmm"):
        table[name] = Function("matmul", spelling="torch.matmul")
    table["torch.nn.functional.softmax"] = Function("softmax", spelling="F")
    for name in ("Tensor.softmax", "torch.softmax"):
        table[name] = Function("softmax", spelling="torch")
    table["torch.nn.functional.layer_norm"] = Function("layer_norm")
    table["torch.nn.functional.gelu"] = Function("gelu")
    table["torch._C._nn.gelu"] = Function("gelu")  # F.gelu, as the tracer sees it
    return table


#: Functions by qualified name, looked up after :data:`symconv.frontends.mapping.FUNCTIONS`.
FUNCTIONS = _functions()


def gelu(kwargs: dict[str, Any], args: tuple[Any, ...]) -> Layer:
    """The layer of ``F.gelu(x, approximate=...)``."""
    approximate = kwargs.get("approximate", args[1] if len(args) > 1 else "none")
    if approximate not in ("none", "tanh"):
        raise Unsupported(f"approximate={approximate!r}")
    return Activation("gelu" if approximate == "none" else "gelu_tanh", "F")


def layer_norm(first: Any, args: tuple[Any, ...], kwargs: dict[str, Any],
               parameter: Any) -> Layer:
    """The layer of ``F.layer_norm(x, normalized_shape, weight, bias, eps)``; ``parameter``
    tells a tensor that is not computed from the input (a weight or bias) from one that is."""
    names = ("normalized_shape", "weight", "bias", "eps")
    given = dict(zip(names, args[1:]))
    given.update((name, value) for name, value in kwargs.items() if name != "input")
    if set(given) - set(names):
        raise Unsupported(f"called with {', '.join(sorted(set(given) - set(names)))}=...")
    shape = tuple(given.get("normalized_shape", ()))
    if len(shape) != 1 or shape[0] != first.shape[-1]:
        raise Unsupported(f"normalized_shape={shape}: symconv normalises over the last axis only")
    for name in ("weight", "bias"):
        if given.get(name) is not None and not parameter(given[name]):
            raise Unsupported(f"its {name} is computed from the input")
    weight, bias = given.get("weight") is not None, given.get("bias") is not None
    if bias and not weight:
        raise Unsupported("a bias without a weight")
    try:
        return FunctionalLayerNorm(int(shape[0]), eps=given.get("eps", 1e-5),
                                   elementwise_affine=weight, bias=bias)
    except SymconvError as error:
        raise Unsupported(str(error)) from None


def module_layer(module: Any) -> Layer | None:
    """The layer of a ``torch.nn`` module this table knows (``nn.LayerNorm``), acting on the
    channels; ``None`` for another module."""
    if type(module).__name__ != "LayerNorm":
        return None
    shape = tuple(module.normalized_shape)
    if len(shape) != 1:
        raise Unsupported(f"normalized_shape={shape}: symconv normalises over the last axis only")
    try:
        return LayerNorm(int(shape[0]), eps=module.eps,
                         elementwise_affine=bool(module.elementwise_affine),
                         bias=module.bias is not None)
    except SymconvError as error:
        raise Unsupported(str(error)) from None


def scale_layer(scale: Any, x: Any, channel_dim: int) -> Layer:
    """The layer of ``scale * x`` with ``scale`` a parameter or constant of one value per channel
    (ConvNeXt's ``layer_scale`` of shape ``(C, 1, 1)``, on ``x`` whose channels are PyTorch axis
    ``channel_dim``): a :class:`~symconv.layers.LayerScale`."""
    from symconv.layers import LayerScale

    sizes = (1,) * (x.dim() - scale.dim()) + tuple(int(size) for size in scale.shape)
    channels = int(x.shape[channel_dim])
    expected = tuple(channels if axis == channel_dim else 1 for axis in range(x.dim()))
    if len(sizes) != x.dim() or sizes != expected:
        raise Unsupported(f"it multiplies by a tensor of shape {tuple(scale.shape)} that is not "
                          "computed from the input; symconv follows a scale of one value per "
                          f"channel, of shape {expected[1:]} here")
    return LayerScale(channels)
