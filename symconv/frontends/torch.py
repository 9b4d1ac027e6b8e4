"""From a PyTorch ``nn.Module`` to a symconv network: :func:`from_torch`.

Importing symconv never imports torch; this module imports it when :func:`from_torch` runs
(``pip install 'symconv[torch]'``). The model is traced with ``torch.fx`` (no tensor is
computed, so the input shape may be symbolic); where tracing fails, an ``nn.Sequential`` is
walked child by child and each other child is traced on its own. Every node of the traced
graph becomes a symconv layer, a routing stage, or an error: nothing is counted as zero because
symconv does not know it.

What is understood (shapes are channels last, ``(H, W, C)``; PyTorch's are ``(N, C, H, W)``):

==========================================================  ======================================
PyTorch                                                     symconv
==========================================================  ======================================
``nn.Conv1d/2d/3d``, ``nn.ConvTranspose1d/2d/3d``           ``Conv*d``, ``ConvTranspose*d``
``nn.Conv*d(..., padding="same")`` (or ``"valid"``)          ``Conv*d(..., padding="same")``
                                                            (kind ``"standard:same"``, ...)
``nn.Linear`` (on ``(N, F)``)                               ``Linear``
``nn.BatchNorm1d/2d`` (``affine=True``)                     ``BatchNorm1d``, ``BatchNorm2d``
``nn.ReLU``, ``nn.ReLU6``                                   ``ReLU``, ``ReLU6``
``nn.LeakyReLU``, ``nn.Hardtanh``, ``nn.Hardswish``,        ``Activation("leakyrelu")``, ...
``nn.Hardsigmoid``
``F.relu``, ``F.relu6``, ... / ``torch.relu``, ``x.relu()``  ``Activation(..., spelling="F")`` /
                                                            ``spelling="torch"``
``nn.MaxPool2d``, ``nn.AvgPool2d`` (``ceil_mode=False``)      ``MaxPool2d``, ``AvgPool2d``
``nn.AdaptiveAvgPool2d(1)``                                 ``GlobalAvgPool2d``
``nn.Flatten()``, ``torch.flatten(x, 1)``,                  ``Flatten``
``x.view(x.size(0), -1)``
``nn.Dropout*``, ``nn.Identity``, ``F.dropout``             nothing (identity at inference)
``a + b``, ``torch.add(a, b)``, ``a.add(b)``                ``Add`` (``Reuse`` where a branch
                                                            starts)
==========================================================  ======================================

Counts are per example (batch size 1): every layer here costs the same for each example of a
batch, so a batch of ``B`` costs ``B`` times as much (multiply by a symbol ``B`` for a formula
in the batch size), as thop, fvcore, FlopCounterMode and torchinfo count it; ptflops' number at
a batch above one is neither (see ``docs/conventions.md``).

Examples
--------
>>> import pytest; torch = pytest.importorskip("torch")
>>> from torch import nn
>>> from symconv import cost, count, from_torch
>>> from symconv.symbols import H, W
>>> model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8),
...                       nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10))
>>> net = from_torch(model, (H, W, 3))
>>> count(net)
216*H*W + 80
>>> count(net, (32, 32, 3), convention="ptflops")
270426
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, cast

import sympy

from symconv.derive.derivation import _as_multiples
from symconv.errors import SymconvError
from symconv.layers import (
    Activation,
    Add,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    Conv3d,
    ConvTranspose1d,
    ConvTranspose2d,
    ConvTranspose3d,
    Flatten,
    GlobalAvgPool2d,
    Graph,
    Layer,
    Linear,
    MaxPool2d,
    ReLU,
    ReLU6,
    Reuse,
)
from symconv.layers.shapes import output_spatial
from symconv.sizes import Size, as_size, product

__all__ = ["from_torch", "load_model", "SUPPORTED_MODULES"]

_CONVS: dict[str, Any] = {
    "Conv1d": Conv1d, "Conv2d": Conv2d, "Conv3d": Conv3d,
    "ConvTranspose1d": ConvTranspose1d, "ConvTranspose2d": ConvTranspose2d,
    "ConvTranspose3d": ConvTranspose3d,
}
_ACTIVATION_MODULES = {"LeakyReLU": "leakyrelu", "Hardtanh": "hardtanh",
                       "Hardswish": "hardswish", "Hardsigmoid": "hardsigmoid"}
_DROPPED_MODULES = frozenset({"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout",
                              "FeatureAlphaDropout", "Identity"})
#: The ``torch.nn`` module classes :func:`from_torch` turns into symconv layers (or drops).
SUPPORTED_MODULES = frozenset({
    *_CONVS, *_ACTIVATION_MODULES, *_DROPPED_MODULES, "Linear", "BatchNorm1d", "BatchNorm2d",
    "ReLU", "ReLU6", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Sequential",
})
_FUNCTIONAL_ACTIVATIONS = {"relu": "relu", "relu6": "relu6", "leaky_relu": "leakyrelu",
                           "hardtanh": "hardtanh", "hardswish": "hardswish",
                           "hardsigmoid": "hardsigmoid"}
#: Activations that evaluate a transcendental function, which no symconv count covers.
_TRANSCENDENTAL = {"sigmoid": "exp", "tanh": "tanh", "gelu": "erf", "silu": "exp",
                   "elu": "exp", "selu": "exp", "celu": "exp", "mish": "tanh and exp",
                   "softplus": "exp and log", "softmax": "exp", "log_softmax": "exp and log"}
_Shape = tuple[sympy.Expr, ...]


def _refusal(name: str) -> str:
    """Why a module or function called ``name`` is not counted."""
    function = _TRANSCENDENTAL.get(name.lower())
    if function is None:
        return "symconv has no layer for it"
    return (f"it evaluates {function}, and symconv counts only mults, adds, divs and "
            "comparisons (Hardswish and Hardsigmoid are countable alternatives)")


class _Unsupported(Exception):
    """A node symconv cannot count; the message says what and why."""


@dataclass(frozen=True)
class _Tensor:
    """A traced tensor: the stage that made it (``"input"``) and its channels-last shape."""

    producer: str
    shape: _Shape


#: Markers for the integers ``x.size(0)`` / ``x.shape`` a ``view`` may use.
_BATCH = "batch"
_SIZES = "sizes"


def _expr(size: Size) -> sympy.Expr:
    return sympy.Integer(size) if isinstance(size, int) else size


def _next_shape(layer: Layer, shape: _Shape) -> _Shape:
    if isinstance(layer, Flatten):
        return (_expr(product(shape)),)
    spatial = output_spatial(layer, shape[:-1])
    return (*spatial, _expr(layer.out_channels_for(shape[-1])))


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
            raise _Unsupported("padding='same' pads unevenly here (an odd dilation·(kernel_size "
                               "− 1)); "
                               "symconv pads both sides alike: give padding as numbers")
        if module.padding_mode == "zeros":
            return padding
        return tuple(total // 2 for total in totals) if padding == "same" else 0
    return tuple(padding)


def _module_layer(module: Any, shape: _Shape) -> Layer | None:
    """The symconv layer for one leaf module (``None``: identity at inference)."""
    name = type(module).__name__
    if not type(module).__module__.startswith("torch.nn"):
        raise _Unsupported("not a torch.nn layer symconv knows")
    if name in _DROPPED_MODULES:
        return None
    if name in _CONVS:
        arguments: dict[str, object] = {
            "stride": tuple(module.stride), "dilation": tuple(module.dilation),
            "groups": module.groups, "bias": module.bias is not None,
        }
        if name.startswith("ConvTranspose"):
            arguments["padding"] = tuple(module.padding)
            arguments["output_padding"] = tuple(module.output_padding)
        else:
            arguments["padding"] = _conv_padding(module)
        return _CONVS[name](module.in_channels, module.out_channels, tuple(module.kernel_size),
                            **arguments)
    if name == "Linear":
        if len(shape) != 1:
            raise _Unsupported(
                f"nn.Linear gets a tensor of {len(shape) + 1} axes: it acts on the last one, "
                "which is a spatial axis in PyTorch's layout and channels in symconv's; "
                "flatten before it (nn.Flatten())"
            )
        return Linear(module.in_features, module.out_features, bias=module.bias is not None)
    if name in ("BatchNorm1d", "BatchNorm2d"):
        if not module.affine:
            raise _Unsupported("affine=False: symconv's BatchNorm has γ and β")
        return (BatchNorm1d if name == "BatchNorm1d" else BatchNorm2d)(module.num_features)
    if name == "ReLU":
        return ReLU()
    if name == "ReLU6":
        return ReLU6()
    if name in _ACTIVATION_MODULES:
        return Activation(_ACTIVATION_MODULES[name])
    if name in ("MaxPool2d", "AvgPool2d"):
        if module.ceil_mode:
            raise _Unsupported("ceil_mode=True: symconv's pooling floors the output size")
        if name == "MaxPool2d":
            if module.return_indices:
                raise _Unsupported("return_indices=True")
            return MaxPool2d(module.kernel_size, module.stride, module.padding, module.dilation)
        if not module.count_include_pad or module.divisor_override is not None:
            raise _Unsupported("symconv's AvgPool2d divides by the whole window "
                               "(count_include_pad=True, no divisor_override)")
        return AvgPool2d(module.kernel_size, module.stride, module.padding)
    if name == "AdaptiveAvgPool2d":
        size = module.output_size
        if size not in (1, (1, 1), [1, 1]):
            raise _Unsupported(f"output_size={size!r}: only global pooling (output_size=1) "
                               "is supported")
        return GlobalAvgPool2d()
    if name == "Flatten":
        if (module.start_dim, module.end_dim) != (1, -1):
            raise _Unsupported(f"start_dim={module.start_dim}, end_dim={module.end_dim}: only "
                               "nn.Flatten() (start_dim=1, end_dim=-1) is supported")
        return Flatten()
    raise _Unsupported(_refusal(name))


class _Builder:
    """Turns traced PyTorch calls into the stages of a :class:`~symconv.layers.Graph`."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, Layer]] = []
        self.names: set[str] = {"input"}
        self.current = "input"
        self.unsupported: list[str] = []

    def _unique(self, name: str) -> str:
        candidate, number = name, 2
        while candidate in self.names:
            candidate, number = f"{name}#{number}", number + 1
        self.names.add(candidate)
        return candidate

    def _feed(self, value: _Tensor) -> None:
        if value.producer != self.current:
            self.stages.append((self._unique(f"reuse:{value.producer}"),
                                Reuse(value.producer, value.shape)))
            self.current = value.producer

    def emit(self, name: str, layer: Layer | None, value: _Tensor) -> _Tensor:
        if layer is None:
            return value
        self._feed(value)
        try:
            shape = _next_shape(layer, value.shape)
        except SymconvError as error:
            raise SymconvError(f"from_torch: {name}: {error}") from None
        unique = self._unique(name)
        self.stages.append((unique, layer))
        self.current = unique
        return _Tensor(unique, shape)

    def add(self, name: str, first: _Tensor, second: _Tensor, spelling: str) -> _Tensor:
        if len(first.shape) != len(second.shape) or any(
            sympy.Eq(a, b) is sympy.false for a, b in zip(first.shape, second.shape)
        ):
            raise _Unsupported(f"adds tensors of shapes {first.shape} and {second.shape}; "
                               "symconv adds tensors of one shape (no broadcasting)")
        if second.producer == self.current:
            first, second = second, first
        self._feed(first)
        unique = self._unique(name)
        self.stages.append((unique, Add(second.producer, spelling)))
        self.current = unique
        return _Tensor(unique, first.shape)

    def finish(self, value: _Tensor) -> None:
        self._feed(value)


def _qualified(function: Any) -> str:
    module = getattr(function, "__module__", None) or ""
    name = getattr(function, "__name__", repr(function))
    return f"{module}.{name}" if module else name


def _trace(module: Any) -> Any:
    import torch.fx

    return torch.fx.Tracer().trace(module)


def _run_module(builder: _Builder, module: Any, prefix: str, value: _Tensor | None) -> _Tensor | None:
    """Add ``module`` applied to ``value`` to ``builder``; ``None`` for an unknown result."""
    import torch.nn as nn

    leaf = type(module).__module__.startswith("torch.nn") and not isinstance(module, nn.Sequential)
    label = prefix or "model"
    if leaf:
        if value is None:
            _module_layer_check(builder, module, label)
            return None
        try:
            layer = _module_layer(module, value.shape)
        except _Unsupported as reason:
            builder.unsupported.append(f"{label} (nn.{type(module).__name__}: {reason})")
            return None
        return builder.emit(label, layer, value)
    try:
        graph = _trace(module)
    except Exception as error:  # any failure of tracing falls back to walking
        if isinstance(module, nn.Sequential):
            for child_name, child in module.named_children():
                value = _run_module(builder, child, f"{prefix}.{child_name}" if prefix
                                    else child_name, value)
            return value
        raise SymconvError(
            f"from_torch: {label} ({type(module).__name__}) cannot be traced by torch.fx "
            f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}) and is "
            "not an nn.Sequential; write its forward without control flow on tensors"
        ) from None
    return _run_graph(builder, module, graph, prefix, value)


def _module_layer_check(builder: _Builder, module: Any, label: str) -> None:
    """Report a module that symconv could not convert even though its input is unknown."""
    if type(module).__name__ not in SUPPORTED_MODULES:
        builder.unsupported.append(f"{label} (nn.{type(module).__name__})")


def _run_graph(builder: _Builder, root: Any, graph: Any, prefix: str,
               value: _Tensor | None) -> _Tensor | None:
    import torch
    import torch.nn.functional as F

    values: dict[Any, Any] = {}
    result: _Tensor | None = None
    placeholders = [node for node in graph.nodes if node.op == "placeholder"]
    if len(placeholders) != 1:
        raise SymconvError(
            f"from_torch: {prefix or 'the model'} takes {len(placeholders)} inputs; symconv "
            "follows one input tensor"
        )
    for node in graph.nodes:
        scope = list(node.meta.get("nn_module_stack") or ())
        local = node.name  # call_module: its path; functions: their name in their module
        if node.op in ("call_function", "call_method"):
            short = str(node.target) if node.op == "call_method" else getattr(
                node.target, "__name__", node.name)
            local = f"{scope[-1]}.{short}" if scope else short
        where = f"{prefix}.{local}" if prefix else local
        if node.op == "placeholder":
            values[node] = value
            continue
        if node.op == "output":
            out = node.args[0]
            result = values.get(out) if isinstance(out, torch.fx.Node) else None
            if isinstance(out, torch.fx.Node) and isinstance(result, _Tensor):
                continue
            if not isinstance(out, torch.fx.Node):
                builder.unsupported.append(f"{where} (returns {type(out).__name__}, not one tensor)")
            continue
        inputs = [values.get(arg) for arg in node.args if isinstance(arg, torch.fx.Node)]
        first = inputs[0] if inputs else None
        known = isinstance(first, _Tensor) and all(
            isinstance(item, _Tensor) for item in inputs if item not in (_BATCH, _SIZES))
        tensor = cast(_Tensor, first)  # used only where known
        try:
            if node.op == "call_module":
                path = f"{prefix}.{node.target}" if prefix else str(node.target)
                values[node] = _run_module(builder, root.get_submodule(node.target), path,
                                           first if isinstance(first, _Tensor) else None)
                continue
            if node.op == "get_attr":
                raise _Unsupported("reads a parameter or buffer directly")
            target = node.target
            method = node.op == "call_method"
            name = str(target) if method else getattr(target, "__name__", str(target))
            label = f"Tensor.{name}" if method else _qualified(target)
            if (method and name in ("add", "add_")) or target in (operator.add, operator.iadd,
                                                                   torch.add):
                if node.kwargs.get("alpha", 1) != 1 or len(node.args) != 2 or len(inputs) != 2:
                    raise _Unsupported("only a + b of two tensors is supported")
                spelling = "torch.add" if method or target is torch.add else "+"
                values[node] = (builder.add(where, cast(_Tensor, inputs[0]), cast(_Tensor, inputs[1]), spelling)
                                if known else None)
            elif (method and name in ("relu", "relu_")) or target is torch.relu:
                values[node] = builder.emit(where, Activation("relu", "torch"), tensor) if known else None
            elif not method and getattr(target, "__module__", "") == "torch.nn.functional" \
                    and name in _FUNCTIONAL_ACTIVATIONS:
                layer = Activation(_FUNCTIONAL_ACTIVATIONS[name], "F")
                values[node] = builder.emit(where, layer, tensor) if known else None
            elif target is F.dropout or (method and name == "contiguous"):
                values[node] = first
            elif (method and name == "flatten") or target is torch.flatten:
                dims = [*node.args[1:], *node.kwargs.values()]
                if dims not in ([1], [1, -1]):
                    raise _Unsupported("only flatten(x, 1) is supported")
                values[node] = builder.emit(where, Flatten(), tensor) if known else None
            elif method and name in ("view", "reshape"):
                values[node] = _view(builder, where, node, tensor, values) if known else None
            elif method and name == "size":
                values[node] = _BATCH if node.args[1:] in [(0,)] else _SIZES
            elif target is getattr and node.args[1] == "shape":
                values[node] = _SIZES
            elif target is operator.getitem and values.get(node.args[0]) == _SIZES:
                values[node] = _BATCH if node.args[1] == 0 else _SIZES
            else:
                raise _Unsupported(_refusal(name))
        except _Unsupported as reason:
            builder.unsupported.append(f"{where} ({label if node.op != 'get_attr' else node.target}: "
                                       f"{reason})")
            values[node] = None
    return result


def _view(builder: _Builder, where: str, node: Any, value: _Tensor, values: dict[Any, Any]) -> _Tensor:
    import torch

    dims = list(node.args[1:])
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    marks = [values.get(dim) if isinstance(dim, torch.fx.Node) else dim for dim in dims]
    total = _expr(product(value.shape))
    flat = len(marks) == 2 and (
        (marks[0] in (_BATCH, 1) and marks[1] == -1)
        or (marks[0] == -1 and isinstance(marks[1], int)
            and sympy.Eq(total, marks[1]) is sympy.true)
    )
    if not flat:
        raise _Unsupported("only x.view(x.size(0), -1) (flattening) is supported")
    return builder.emit(where, Flatten(), value)


def from_torch(module: Any, input_shape: object, *, size_multiple: int = 1) -> Graph:
    """A symconv network for a PyTorch model, on one input of channels-last shape ``input_shape``.

    Parameters
    ----------
    module
        A ``torch.nn.Module`` built from the layers in the module docstring's table, with
        residual additions in its ``forward`` as it likes.
    input_shape
        The shape of one example, channels last: ``(H, W, C)`` for a model taking
        ``(N, C, H, W)``; ``(L, C)`` in 1-D, ``(D, H, W, C)`` in 3-D, ``(F,)`` for features.
        Sizes may be SymPy expressions: ``(H, W, 3)`` gives formulas in ``H`` and ``W``, with
        ``floor`` for every stride (exact for every size).
    size_multiple
        Take symbolic spatial sizes to be multiples of this (the product of the model's
        strides, 32 for the MobileNets): the formulas are then polynomials, exact wherever the
        sizes do divide evenly. ``1`` (the default) assumes nothing.

    Returns
    -------
    Graph
        Stages named by PyTorch's module paths (``"features.0.0"``) or traced node names
        (``"add_1"``), carrying ``input_shape``: ``cost(net)`` and ``count(net, convention=...)``
        need nothing more. Counts are per example.

    Raises
    ------
    SymconvError
        When torch is missing, for a bad shape, or listing every module and function symconv
        cannot count, by name, in one message.

    Examples
    --------
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from torch import nn
    >>> from symconv import count
    >>> class Block(nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.conv = nn.Conv2d(4, 4, 3, padding=1, bias=False)
    ...         self.act = nn.SiLU()
    ...     def forward(self, x):
    ...         return x + self.act(self.conv(x))
    >>> from_torch(Block(), (8, 8, 4))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: from_torch: symconv cannot count 1 part of the model: act (nn.SiLU: it evaluates exp, and symconv
    counts only mults, adds, divs and comparisons (Hardswish and Hardsigmoid are countable alternatives)); ...
    >>> block = Block()
    >>> block.act = nn.ReLU()
    >>> net = from_torch(block, (8, 8, 4))
    >>> [name for name, _ in net.stages], count(net, convention="adds")
    (['conv', 'act', 'add'], 9216)
    """
    try:
        import torch.nn as nn
    except ImportError:
        raise SymconvError(
            "from_torch needs PyTorch: pip install 'symconv[torch]' (or torch==2.13.0)"
        ) from None
    if not isinstance(module, nn.Module):
        raise SymconvError(f"from_torch(module={type(module).__name__}): pass a torch.nn.Module")
    if not isinstance(input_shape, (tuple, list)) or not 1 <= len(input_shape) <= 4:
        raise SymconvError(
            f"input_shape={input_shape!r} must be one example's shape, channels last, like "
            "(224, 224, 3) for a model taking (N, 3, 224, 224)"
        )
    shape = tuple(_expr(as_size(size, "input_shape")) for size in input_shape)
    graph = Graph(input_shape=shape, size_multiple=size_multiple)  # checks size_multiple
    # Symbolic sizes S as size_multiple·R while building (so Reuse shapes need no floor), the
    # shapes recorded back in S: derive does the same with the carried input shape.
    forward, back = _as_multiples(shape, size_multiple) if size_multiple != 1 else (shape, {})
    builder = _Builder()
    result = _run_module(builder, module, "", _Tensor("input", forward))
    if builder.unsupported:
        count = len(builder.unsupported)
        raise SymconvError(
            f"from_torch: symconv cannot count {count} part{'s' if count > 1 else ''} of the "
            f"model: {'; '.join(builder.unsupported)}; replace them with supported layers "
            f"(torch.nn: {', '.join(sorted(SUPPORTED_MODULES))}) or leave them out of the model "
            "you count"
        )
    if result is None:
        raise SymconvError("from_torch: the model's output is not one tensor symconv can follow")
    builder.finish(result)
    stages = [(name, Reuse(layer.source, tuple(_expr(size).xreplace(back) for size in layer.shape))
               if isinstance(layer, Reuse) and back else layer) for name, layer in builder.stages]
    return Graph(*stages, input_shape=shape, size_multiple=graph.size_multiple)



def load_model(reference: str) -> Any:
    """Build the model of ``path/to/model.py:factory``: import the user's file and call
    ``factory()`` (this runs the user's own code, as intended; nothing typed is evaluated).

    Raises
    ------
    SymconvError
        For a reference without ``:factory``, a missing file, a file that raises on import, a
        missing factory, a factory that raises or returns no ``torch.nn.Module``.

    Examples
    --------
    >>> load_model("model.py")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: network 'model.py': write a model file as path/to/model.py:factory, the function that builds the model
    """
    import importlib.util
    import pathlib

    path_text, _, factory_name = reference.rpartition(":")
    if not path_text or not factory_name.isidentifier():
        raise SymconvError(f"network {reference!r}: write a model file as path/to/model.py:factory, "
                           "the function that builds the model")
    path = pathlib.Path(path_text)
    if not path.is_file():
        raise SymconvError(f"network {reference!r}: there is no file {path_text}")
    try:
        import torch.nn as nn
    except ImportError:
        raise SymconvError("models from a file need PyTorch: pip install 'symconv[torch]' "
                           "(or torch==2.13.0)") from None
    spec = importlib.util.spec_from_file_location(f"symconv_user_model_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SymconvError(f"network {reference!r}: {path_text} cannot be imported as Python")
    user_module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(user_module)
    except Exception as error:  # the user's file may raise anything: say what, in one line
        raise SymconvError(f"network {reference!r}: importing {path_text} raised "
                           f"{type(error).__name__}: {_first_line(error)}") from None
    factory = getattr(user_module, factory_name, None)
    if not callable(factory):
        known = sorted(name for name, value in vars(user_module).items()
                       if callable(value) and getattr(value, "__module__", None) == spec.name)
        raise SymconvError(f"network {reference!r}: {path_text} has no function {factory_name}; "
                           f"its functions and classes: {', '.join(known) or 'none'}")
    try:
        model = factory()
    except Exception as error:  # as above
        raise SymconvError(f"network {reference!r}: {factory_name}() raised "
                           f"{type(error).__name__}: {_first_line(error)}") from None
    if not isinstance(model, nn.Module):
        raise SymconvError(f"network {reference!r}: {factory_name}() returned "
                           f"{type(model).__name__}, not a torch.nn.Module")
    return model


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"
