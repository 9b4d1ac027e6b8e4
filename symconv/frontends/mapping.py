"""What symconv makes of each PyTorch module and function that a traced model runs.

One table per spelling: ``torch.nn`` module classes (:func:`module_layer`), and functions by
their qualified name as the tracer sees them (:data:`FUNCTIONS`): ``torch.nn.functional.relu``
(``F.relu``), ``torch.relu``, ``Tensor.relu`` (``x.relu()``), ``Tensor.add`` called as a method
(``x.add(y)``) or by an operator (``x + y``), ... The spelling matters: ptflops counts
``F.relu(x)`` and not ``torch.relu(x)``, ``torch.add(a, b)`` and not ``a + b``
(``docs/conventions.md``), so the layer keeps it.

Nothing here imports torch: modules are read by their class name and attributes.

Examples
--------
>>> FUNCTIONS["torch.nn.functional.relu"]
Function(role='layer', layer=Activation(function='relu', spelling='F'), spelling='')
>>> FUNCTIONS["Tensor.add_"].role, FUNCTIONS["Tensor.add_"].spelling
('add', '+')
>>> refusal("selu")
'it evaluates exp, which symconv counts (transcendentals), but it has no layer for this function yet'
>>> refusal("unfold")
'symconv has no layer for it'
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from symconv.errors import SymconvError
from symconv.layers import (
    UPSAMPLE_MODES,
    Activation,
    AdaptiveAvgPool2d,
    AdaptiveMaxPool2d,
    AlphaDropout,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    Dropout,
    FeatureAlphaDropout,
    FeatureDropout,
    Flatten,
    GlobalAvgPool2d,
    Layer,
    Linear,
    MaxPool2d,
    PReLU,
    ReLU,
    ReLU6,
    StochasticDepth,
    Upsample,
)

__all__ = ["SUPPORTED_MODULES", "FUNCTIONS", "METADATA", "VALUE_READS", "Function", "Unsupported", "module_layer",
           "refusal", "is_leaf", "upsample_layer", "dropout_layer"]

_CONVS: dict[str, Any] = {
    "Conv1d": Conv1d, "Conv2d": Conv2d, "Conv3d": Conv3d,
    "ConvTranspose1d": ConvTranspose1d, "ConvTranspose2d": ConvTranspose2d,
    "ConvTranspose3d": ConvTranspose3d,
}
_ACTIVATION_MODULES = {"LeakyReLU": "leakyrelu", "Hardtanh": "hardtanh",
                       "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid",
                       "Sigmoid": "sigmoid", "SiLU": "silu", "Tanh": "tanh", "GELU": "gelu",
                       "ELU": "elu", "Softplus": "softplus", "Mish": "mish"}
_DROPPED_MODULES = frozenset({"Identity"})
#: Kept as symconv's ``Dropout``, ``StochasticDepth``, ``FeatureDropout`` (``Dropout1d/2d/3d``,
#: one draw per channel), ``AlphaDropout`` and ``FeatureAlphaDropout`` (the identity at
#: inference, counted in a training step); ``p = 0`` is the identity in training too, so it is
#: dropped. torchvision's ``StochasticDepth`` is a leaf too (:func:`is_leaf`).
_DROPOUT_MODULES = frozenset({"Dropout", "StochasticDepth", "Dropout1d", "Dropout2d",
                              "Dropout3d", "AlphaDropout", "FeatureAlphaDropout"})
#: The rank (axes after the batch) ``F.dropout1d`` / ``F.dropout3d`` take as batched: on any
#: other, PyTorch adds a batch axis in front (``unsqueeze(0)``) and draws per example's axis 0.
_FEATURE_RANKS = {"Dropout1d": 2, "Dropout3d": 4}
#: The ``torch.nn`` module classes :func:`~symconv.from_torch` turns into symconv layers (or
#: drops, as identities at inference).
SUPPORTED_MODULES = frozenset({
    "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PReLU",  # frontends.resize
    *_CONVS, *_ACTIVATION_MODULES, *_DROPPED_MODULES, *_DROPOUT_MODULES, "Linear", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "ReLU6", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
    "Flatten", "Sequential",
    "LayerNorm", "Softmax",  # symconv.frontends.mapping_transformer, trace_transformer
})

#: Activations that evaluate a transcendental function (counted as ``transcendentals``), by the
#: function they evaluate: what a refusal of one symconv has no layer for says.
_TRANSCENDENTAL = {"sigmoid": "exp", "tanh": "tanh", "gelu": "erf", "silu": "exp",
                   "elu": "exp", "selu": "exp", "celu": "exp", "mish": "tanh and exp",
                   "softplus": "exp and log", "softmax": "exp", "log_softmax": "exp and log"}


class Unsupported(Exception):
    """A module or function symconv cannot count; the message says why."""


def refusal(name: str) -> str:
    """Why a module or function called ``name`` is not counted."""
    function = _TRANSCENDENTAL.get(name.lower().rstrip("_"))
    if function is None:
        return "symconv has no layer for it"
    return (f"it evaluates {function}, which symconv counts (transcendentals), but it has no "
            "layer for this function yet")


def upsample_layer(rank: int, spelling: str, size: Any, scale_factor: Any, mode: Any,
                   align_corners: Any, recompute: Any) -> Upsample:
    """The :class:`~symconv.layers.Upsample` of ``nn.Upsample`` (``spelling="module"``) or
    ``F.interpolate`` (``"F"``) on a tensor of ``rank`` axes besides the batch; other modes
    (``linear``, ``bicubic``, ``nearest-exact``, ``area``, ...) and downsampling refused."""
    if rank != 3:
        raise Unsupported(f"it resizes a tensor of {rank + 1} axes; symconv follows "
                          "(N, C, H, W) only")
    if mode not in UPSAMPLE_MODES:
        raise Unsupported(f"mode={mode!r}: symconv counts {' and '.join(UPSAMPLE_MODES)} only")
    try:
        return Upsample(size, scale_factor, mode, align_corners, recompute, spelling)
    except SymconvError as error:
        raise Unsupported(str(error)) from None


@dataclass(frozen=True)
class Function:
    """What a function call is to symconv.

    ``role`` is ``"layer"`` (``layer`` on the first argument), ``"add"`` (two tensors added,
    written as ``spelling``: ``"+"`` or ``"torch.add"``), ``"flatten"`` (a reshape that must
    flatten to ``(batch, features)``), ``"identity"`` (the first argument, unchanged) or
    ``"dropout"`` (an identity when called with ``training=False``), ``"binary"`` (two tensors
    combined with broadcasting: ``spelling`` is ``"mul"``, ``"sub"`` or ``"div"``), ``"mean"``
    (over axes), ``"pool"`` (a pooling function: ``spelling`` ``"avg"``, ``"max"`` or
    ``"adaptive_avg"``), ``"cat"`` (along the channels), ``"interpolate"``
    (:mod:`symconv.frontends.resize`) or ``"refused"`` (``spelling`` says why).
    """

    role: str
    layer: Layer | None = None
    spelling: str = ""


def _functions() -> dict[str, Function]:
    table: dict[str, Function] = {}
    for name, kind in {"relu": "relu", "relu6": "relu6", "leaky_relu": "leakyrelu",
                       "hardtanh": "hardtanh", "hardswish": "hardswish",
                       "hardsigmoid": "hardsigmoid", "sigmoid": "sigmoid", "silu": "silu",
                       "tanh": "tanh", "elu": "elu", "softplus": "softplus",
                       "mish": "mish"}.items():
        table[f"torch.nn.functional.{name}"] = Function("layer", Activation(kind, "F"))
    table["torch._C._nn.softplus"] = Function("layer", Activation("softplus", "F"))
    for name in ("sigmoid", "tanh"):
        for where in ("torch", "Tensor"):
            for suffix in ("", "_"):
                table[f"{where}.{name}{suffix}"] = Function("layer", Activation(name, "torch"))
    for name in ("torch.relu", "torch.relu_", "Tensor.relu", "Tensor.relu_"):
        table[name] = Function("layer", Activation("relu", "torch"))
    # ptflops patches torch.add and the attribute torch.Tensor.add: a method call x.add(y)
    # looks the attribute up, x + y and x += y (Tensor.add_) do not.
    table["torch.add"] = Function("add", spelling="torch.add")
    table["Tensor.add:method"] = Function("add", spelling="torch.add")
    table["Tensor.add"] = Function("add", spelling="+")
    table["Tensor.add_"] = Function("add", spelling="+")
    for name in ("torch.flatten", "Tensor.flatten", "Tensor.view", "Tensor.reshape",
                 "torch.reshape"):
        table[name] = Function("flatten")
    for name in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout",
                 "feature_alpha_dropout"):
        table[f"torch.nn.functional.{name}"] = Function("dropout", spelling=name)
    table["Tensor.contiguous"] = Function("identity")
    # x * y and x *= y, x - y, x / y (and their torch.* / method spellings but torch.mul and
    # x.mul(y), which ptflops counts and x * y not: symconv's Mul does not keep the spelling)
    for kind in ("mul", "sub", "div"):
        table[f"Tensor.{kind}"] = Function("binary", spelling=kind)
        table[f"Tensor.{kind}_"] = Function("binary", spelling=kind)
        if kind != "mul":
            table[f"torch.{kind}"] = Function("binary", spelling=kind)
    for name in ("torch.mul", "Tensor.mul:method"):
        table[name] = Function("refused", spelling=(
            "ptflops counts torch.mul(a, b) and a.mul(b) (patched), not a * b, and symconv's "
            "Mul does not keep the spelling yet; write a * b"))
    for spelling, names in {"adaptive_avg": ("adaptive_avg_pool2d",),
                            "avg": ("avg_pool2d",), "max": ("max_pool2d", "_max_pool2d")}.items():
        for name in names:
            for where in ("torch.nn.functional", "torch._C._nn", "torch"):
                table[f"{where}.{name}"] = Function("pool", spelling=spelling)
    table["torch.cat"] = Function("cat")
    table["torch.concat"] = Function("cat")
    table["torch.concatenate"] = Function("cat")
    table["Tensor.mean"] = Function("mean")
    table["torch.mean"] = Function("mean")
    # resizing (symconv.frontends.resize)
    table["torch.nn.functional.interpolate"] = Function("interpolate")
    return table


#: Functions by qualified name (``Tensor.x`` for tensor methods and operators, ``torch.x``,
#: ``torch.nn.functional.x``).
FUNCTIONS = _functions()

#: Calls that read a tensor's metadata or convert it, computing nothing symconv counts:
#: ``x.size(0)``, ``x.shape``, ``x.dim()``, ``bool(...)``, ``torch._assert(...)``, ...
METADATA = frozenset({
    *(f"Tensor.{name}" for name in (
        "size", "shape", "dim", "ndim", "ndimension", "numel", "nelement", "dtype", "device",
        "layout", "is_cuda", "is_cpu", "is_meta", "is_sparse", "is_quantized", "is_leaf",
        "requires_grad", "is_contiguous", "stride", "storage_offset", "element_size",
        "is_floating_point", "is_complex", "is_signed", "get_device", "data_ptr", "names",
        "__len__", "__repr__", "__str__", "__format__", "__hash__", "grad_fn", "_version")),
    "torch._assert", "torch.is_tensor", "torch.numel", "torch.is_floating_point",
    "torch.is_complex", "torch.is_grad_enabled",
})

#: Calls that read a tensor's values into Python (``bool(t)``, ``t.item()``, ...): free on a
#: parameter or a constant, refused on a tensor computed from the input, whose values are
#: arbitrary here (symconv counts a model whatever its input, so not control flow on its values).
VALUE_READS = frozenset(f"Tensor.{name}" for name in (
    "__bool__", "__int__", "__float__", "__index__", "__complex__", "item", "tolist"))


#: Where torchvision defines ``StochasticDepth`` (a leaf; in eval mode it returns its input).
_STOCHASTIC_DEPTH = ("torchvision.ops.stochastic_depth",)


def is_leaf(module: Any) -> bool:
    """Whether ``module`` runs as one ``torch.nn`` layer: a class from ``torch.nn`` (not a
    container) or torchvision's ``StochasticDepth``, whose ``forward`` is its class's own, not
    replaced on the instance or the class."""
    if "forward" in vars(module):
        return False
    cls: Any = type(module)
    return _leaf_class(cls, getattr(cls, "forward", None))


@functools.lru_cache(maxsize=1024)
def _leaf_class(cls: Any, forward: Any) -> bool:
    """:func:`is_leaf` for a module of class ``cls`` whose ``forward`` is ``forward``."""
    if cls.__module__ == _STOCHASTIC_DEPTH[0] and cls.__name__ == "StochasticDepth":
        return getattr(forward, "__module__", "") == _STOCHASTIC_DEPTH[0]
    if not cls.__module__.startswith("torch.nn") or cls.__name__ in ("Sequential", "ModuleList",
                                                                      "ModuleDict"):
        return False
    return str(getattr(forward, "__module__", "")).startswith("torch.nn")


def _conv_padding(module: Any) -> object:
    """The padding of an ``nn.Conv*d`` as symconv's layer takes it.

    ``padding="same"`` / ``"valid"`` stays a string (the layer keeps it, and its kind ends in
    it) when PyTorch passes it on to the convolution, which then runs
    ``aten::_convolution_mode``: fvcore counts that op as 0. With a ``padding_mode`` other than
    ``"zeros"`` the module pads the input itself (``F.pad``) and convolves with padding 0
    (``aten::_convolution``, counted): the padding is then numbers, as written in numbers.
    """
    padding = module.padding
    if isinstance(padding, str):
        totals = [d * (k - 1) for k, d in zip(module.kernel_size, module.dilation)]
        if padding == "same" and any(total % 2 for total in totals):
            raise Unsupported("padding='same' pads unevenly here (an odd dilation·(kernel_size "
                              "− 1)); symconv pads both sides alike: give padding as numbers")
        if module.padding_mode == "zeros":
            return padding
        return tuple(total // 2 for total in totals) if padding == "same" else 0
    return padding


#: The attributes of a ``torch.nn`` layer that :func:`module_layer` reads: its hyperparameters.
_HYPERPARAMETERS = (
    "in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation", "groups",
    "padding_mode", "output_padding", "in_features", "out_features", "num_features", "affine",
    "ceil_mode", "return_indices", "count_include_pad", "divisor_override", "output_size",
    "start_dim", "end_dim", "approximate",
    # nn.Upsample and nn.PReLU (symconv.frontends.resize)
    "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "num_parameters",
    "p",  # nn.Dropout, torchvision's StochasticDepth (with "mode")
    "track_running_stats",  # nn.BatchNorm1d/2d
)


def _hashable(value: object) -> object:
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(item) for item in value)
    return value


def module_layer(module: Any, rank: int, output_padding: tuple[int, ...] | None = None
                 ) -> Layer | None:
    """The symconv layer for one ``torch.nn`` layer (``None``: an identity at inference).

    Layers are immutable, so one is made once for each class and set of hyperparameters (and
    kept: a model's hundred convolutions of a few shapes cost a few constructions).

    Parameters
    ----------
    module
        The ``torch.nn`` module (:func:`is_leaf`).
    rank
        The number of axes of its input, batch axis excluded (``(C, H, W)``: 3).
    output_padding
        For a transposed convolution called with ``output_size``: the output padding that size
        stands for (the module's own is then ignored, as PyTorch does).

    Raises
    ------
    Unsupported
        For a module or an option symconv does not count.

    Examples
    --------
    >>> Linear = type("Linear", (), {})
    >>> linear = Linear()
    >>> linear.in_features, linear.out_features, linear.bias = 8, 2, None
    >>> module_layer(linear, 1)
    Linear(in_features=8, out_features=2, bias=False)
    >>> module_layer(linear, 3)
    Traceback (most recent call last):
    ...
    symconv.frontends.mapping.Unsupported: nn.Linear gets a tensor of 4 axes: ...
    """
    attributes = vars(module)  # hyperparameters are plain attributes (not parameters)
    values: tuple[Any, ...] = tuple(map(attributes.get, _HYPERPARAMETERS))
    head = (type(module).__name__, rank, output_padding, _bias(module, attributes) is not None)
    try:
        made = _cached_layer((*head, values))
    except TypeError:  # a list among them: as tuples (an attribute that cannot be hashed at all
        values = tuple(map(_hashable, values))  # makes the layer afresh)
        try:
            made = _cached_layer((*head, values))
        except TypeError:
            made = _layer(*head, values)
    if isinstance(made, Unsupported):
        raise Unsupported(*made.args)
    return made


def _bias(module: Any, attributes: dict[str, Any]) -> Any:
    """``getattr(module, "bias", None)``, without ``nn.Module.__getattr__`` raising (and
    formatting) an AttributeError for the many layers that have none."""
    if hasattr(type(module), "bias"):  # a property or class attribute: as Python finds it
        return getattr(module, "bias", None)
    if "bias" in attributes:
        return attributes["bias"]
    for table in ("_parameters", "_buffers", "_modules"):  # where nn.Module.__getattr__ looks
        found = attributes.get(table)
        if isinstance(found, dict) and "bias" in found:
            return found["bias"]
    return None


@functools.lru_cache(maxsize=4096)
def _cached_layer(key: tuple[Any, ...]) -> Layer | Unsupported | None:
    return _layer(*key)


def _layer(name: str, rank: int, output_padding: tuple[int, ...] | None, bias: bool,
           values: tuple[Any, ...]) -> Layer | Unsupported | None:
    try:
        return _make(name, rank, output_padding, SimpleNamespace(
            **dict(zip(_HYPERPARAMETERS, values)), bias=bias))
    except Unsupported as reason:
        return reason


def dropout_layer(name: str, rank: int, module: Any, called: str = "") -> Layer:
    """The layer of a dropout module of class ``name`` (its ``p``, and ``mode`` for
    ``StochasticDepth``) on ``rank`` axes after the batch; ``called`` names the call in a
    refusal (default ``nn.{name}``)."""
    if name == "StochasticDepth":
        return StochasticDepth(module.p, module.mode)
    if name in ("Dropout", "AlphaDropout"):
        return (Dropout if name == "Dropout" else AlphaDropout)(module.p)
    if _FEATURE_RANKS.get(name, rank) != rank:
        axes = _FEATURE_RANKS[name] + 1
        raise Unsupported(f"{called or 'nn.' + name} gets a tensor of {rank + 1} axes: "
                          f"F.{name.lower()} takes "
                          f"it as one example without a batch axis (it batches {axes} axes "
                          "only) and draws one value per entry of its first axis; give it "
                          f"(N, C, *spatial) of {axes} axes")
    return (FeatureDropout if name.startswith("Dropout") else FeatureAlphaDropout)(module.p)


def _make(name: str, rank: int, output_padding: tuple[int, ...] | None, module: Any
          ) -> Layer | None:
    """The layer of a module of class ``name`` with these hyperparameters (``module.bias``:
    whether it has one)."""
    if name in _DROPPED_MODULES:
        return None
    if name in _DROPOUT_MODULES:
        if module.p == 0:  # the identity in training mode too (torch returns the input)
            return None
        return dropout_layer(name, rank, module)
    if name == "PReLU":
        return PReLU(module.num_parameters)
    if name in ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"):
        return upsample_layer(rank, "module", module.size, module.scale_factor, module.mode,
                              module.align_corners, module.recompute_scale_factor)
    if name in _CONVS:
        arguments: dict[str, object] = {
            "stride": module.stride, "dilation": module.dilation,
            "groups": module.groups, "bias": module.bias,
        }
        if name.startswith("ConvTranspose"):
            if module.padding_mode != "zeros":
                raise Unsupported(f"padding_mode={module.padding_mode!r}")
            arguments["padding"] = module.padding
            arguments["output_padding"] = (module.output_padding if output_padding is None
                                           else output_padding)
        else:
            arguments["padding"] = _conv_padding(module)
        return _CONVS[name](module.in_channels, module.out_channels, module.kernel_size,
                            **arguments)
    if name == "Linear":
        if rank != 1:
            raise Unsupported(
                f"nn.Linear gets a tensor of {rank + 1} axes: it acts on the last one, "
                "which is a spatial axis in PyTorch's layout and channels in symconv's; "
                "flatten before it (nn.Flatten())"
            )
        return Linear(module.in_features, module.out_features, bias=module.bias)
    if name in ("BatchNorm1d", "BatchNorm2d"):   # affine=False: no γ, β (normalised only)
        # track_running_stats=False: no running statistics, the batch's in eval mode too
        return (BatchNorm1d if name == "BatchNorm1d" else BatchNorm2d)(
            module.num_features, affine=module.affine,
            track_running_stats=bool(module.track_running_stats))
    if name == "ReLU":
        return ReLU()
    if name == "ReLU6":
        return ReLU6()
    if name == "GELU" and module.approximate == "tanh":
        return Activation("gelu_tanh")
    if name in _ACTIVATION_MODULES:
        return Activation(_ACTIVATION_MODULES[name])
    if name in ("MaxPool2d", "AvgPool2d"):
        if name == "MaxPool2d":
            if module.return_indices:
                raise Unsupported("return_indices=True")
            return MaxPool2d(module.kernel_size, module.stride, module.padding, module.dilation,
                             ceil_mode=module.ceil_mode)
        return AvgPool2d(module.kernel_size, module.stride, module.padding,
                         ceil_mode=module.ceil_mode, count_include_pad=module.count_include_pad,
                         divisor_override=module.divisor_override)
    if name in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d"):
        size = module.output_size
        if name == "AdaptiveAvgPool2d" and size in (1, (1, 1)):
            return GlobalAvgPool2d()
        if name == "AdaptiveMaxPool2d" and getattr(module, "return_indices", False):
            raise Unsupported("return_indices=True")
        if rank != 3 or (isinstance(size, tuple) and None in size):
            raise Unsupported(f"output_size={size!r} on a tensor of {rank + 1} axes: symconv "
                              "pools (N, C, H, W) to given sizes")
        return (AdaptiveAvgPool2d if name == "AdaptiveAvgPool2d" else AdaptiveMaxPool2d)(size)
    if name == "Flatten":
        if (module.start_dim, module.end_dim) != (1, -1):
            raise Unsupported(f"start_dim={module.start_dim}, end_dim={module.end_dim}: only "
                              "nn.Flatten() (start_dim=1, end_dim=-1) is supported")
        return Flatten()
    raise Unsupported(refusal(name))
