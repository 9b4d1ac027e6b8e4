"""The layers around convolutions in a network, described as loop nests like the convolutions.

Each layer says which loops a direct evaluation runs (:class:`~symconv.layers.LoopNest`); the
costs come out of the same generic derivation as a convolution's, never typed per layer. Shapes are
channels last. What each layer does per element:

=====================  ===============================================================  ==========
layer                  operations (direct evaluation)                                   params
=====================  ===============================================================  ==========
``Linear``             per output: ``in_features`` mults, ``in_features − 1`` adds,     ``in·out``
                       one more add for the bias                                        ``+ out``
``BatchNorm2d``        per element: 1 mult and 1 add (folded, see the class)             ``2·C``
``BatchNorm1d``        as ``BatchNorm2d``, on ``(C,)`` or ``(L, C)``                      ``2·C``
``ReLU``               per element: 1 comparison, ``max(x, 0)``                          0
``ReLU6``              per element: 2 comparisons, ``min(max(x, 0), 6)``                 0
``Activation``         per element: as :data:`ACTIVATIONS` says (LeakyReLU, Hardswish, …)  0
``AvgPool2d``          per output: ``k_h·k_w − 1`` adds and 1 division                   0
``MaxPool2d``          per output: ``k_h·k_w − 1`` comparisons                           0
``GlobalAvgPool2d``    per channel: ``H·W − 1`` adds and 1 division                      0
``Flatten``            nothing: ``(H, W, C)`` becomes ``(H·W·C,)``                       0
``Residual``           its block's, plus 1 add per output element (``block(x) + x``)     block's
``Sequential``         the sum of its layers'                                           the sum
=====================  ===============================================================  ==========

Examples
--------
>>> from symconv import cost
>>> from symconv.nnlayers import BatchNorm2d, ReLU, Sequential
>>> from symconv.layers import Conv2d
>>> from symconv.symbols import H, W
>>> net = Sequential(("conv", Conv2d(3, 8, 3, padding=1)), ("bn", BatchNorm2d(8)), ("relu", ReLU()))
>>> c = cost(net, (H, W, 3))
>>> c.mults, c.comparisons, c.params
(224*H*W, 8*H*W, 232)
>>> [(name, stage.kind) for name, stage in c.stages]
[('conv', 'standard'), ('bn', 'batchnorm'), ('relu', 'relu')]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers import Accumulate, Composite, Layer, LoopNest, _bias
from symconv.sizes import Size, as_size, per_axis, product

__all__ = [
    "Linear", "BatchNorm2d", "BatchNorm1d", "ReLU", "ReLU6", "Activation", "ACTIVATIONS",
    "AvgPool2d", "MaxPool2d", "GlobalAvgPool2d", "Flatten", "ResidualAdd", "Residual", "Sequential",
]

_Parameters = tuple[tuple[str, tuple[Size, ...]], ...]


def one_of(value: object, choices: Iterable[str], argument: str) -> str:
    """``value`` when it is one of ``choices``, else a :class:`SymconvError` naming
    ``argument`` (written as ``"Owner(name"``), the value and the choices."""
    known = list(choices)
    if not isinstance(value, str) or value not in known:
        raise SymconvError(f"{argument}={value!r}) is unknown; use one of {', '.join(known)}")
    return value


def _need_channels(layer: Layer, in_channels: Size | None) -> Size:
    if in_channels is None:
        raise SymconvError(
            f"{type(layer).__name__}.loop_nest needs in_channels=, the input's channel count"
        )
    return in_channels


class _Elementwise(Layer):
    """A layer that visits every element once, with no reduction (activations, BatchNorm, ...).

    Subclasses say what is done per element: :attr:`multiply` (one multiplication by a
    per-channel constant) and :attr:`per_element` (further operations, as ``(kind, count)``).
    """

    spatial_dims: ClassVar[int | None] = None
    #: Whether each element is multiplied once.
    multiply: ClassVar[bool] = False
    #: Further operations per element: ``(kind, count)`` pairs.
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = ()

    def _channels(self, in_channels: Size | None) -> Size:
        return _need_channels(self, in_channels)

    def _parameters(self) -> _Parameters:
        return ()

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: every element; inner: nothing; then :attr:`per_element`."""
        shape = (*output_spatial, self._channels(in_channels))
        return LoopNest(outer=shape, inner=(), outputs=shape, multiply=self.multiply,
                        per_output=self.per_element, parameters=self._parameters())


@dataclass(frozen=True, init=False)
class Linear(Layer):
    """A fully connected layer applied to the last axis: ``y = x·W + b``.

    It takes inputs of any rank, ``(C,)`` or ``(..., C)`` with ``C = in_features``, and maps the
    channels at every position alike (on ``(1, 1, C)``, the output of a global pooling, it is a
    1×1 convolution). Each output element is a dot product of ``in_features`` terms:
    ``in_features`` multiplications and ``in_features − 1`` additions, plus one addition for the
    bias. The weight is ``(in_features, out_features)``, the order of a pointwise convolution's
    weight without its kernel axes.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Linear(1024, 1000), (1024,))
    >>> c.output_shape, c.mults, c.adds, c.params
    ((1000,), 1024000, 1024000, 1025000)
    >>> cost(Linear(1024, 1000, bias=False), (1, 1, 1024)).output_shape
    (1, 1, 1000)
    """

    in_features: Size
    out_features: Size
    bias: bool

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, in_features: Size, out_features: Size, bias: object = True) -> None:
        object.__setattr__(self, "in_features", as_size(in_features, "in_features"))
        object.__setattr__(self, "out_features", as_size(out_features, "out_features"))
        object.__setattr__(self, "bias", _bias(bias))

    @property
    def kind(self) -> str:
        return "linear"

    def in_channels_expected(self) -> Size:
        return self.in_features

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.out_features

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: positions × output features; inner: the input features."""
        parameters: _Parameters = (("weight", (self.in_features, self.out_features)),)
        if self.bias:
            parameters += (("bias", (self.out_features,)),)
        outputs = (*output_spatial, self.out_features)
        return LoopNest(
            outer=outputs,
            inner=(self.in_features,),
            outputs=outputs,
            per_output=(("adds", 1),) if self.bias else (),
            parameters=parameters,
        )


@dataclass(frozen=True, init=False)
class BatchNorm2d(_Elementwise):
    """Batch normalisation at inference, folded into one multiply-add per element.

    ``y = γ·(x − μ)/√(σ² + ε) + β`` is evaluated as ``y = x·a + b`` with the per-channel
    constants ``a = γ/√(σ² + ε)`` and ``b = β − μ·a`` computed once when the weights are loaded
    (as inference engines and ptflops do; not counted). Per element: **1 multiplication and
    1 addition**, no division. Parameters: γ (``weight``) and β (``bias``), ``2·channels``; the
    running mean and variance are buffers, not parameters.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(BatchNorm2d(C), (H, W, C))
    >>> c.mults, c.adds, c.divs, c.params
    (C*H*W, C*H*W, 0, 2*C)
    """

    channels: Size

    spatial_dims: ClassVar[int | None] = 2
    multiply: ClassVar[bool] = True
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)

    def __init__(self, channels: Size) -> None:
        object.__setattr__(self, "channels", as_size(channels, "channels"))

    @property
    def kind(self) -> str:
        return "batchnorm"

    @property
    def num_features(self) -> Size:
        """PyTorch's name for :attr:`channels`."""
        return self.channels

    def in_channels_expected(self) -> Size:
        return self.channels

    def _channels(self, in_channels: Size | None) -> Size:
        return self.channels

    def _parameters(self) -> _Parameters:
        return (("weight", (self.channels,)), ("bias", (self.channels,)))


@dataclass(frozen=True)
class ReLU(_Elementwise):
    """``max(x, 0)``: one comparison per element, on inputs of any rank.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(ReLU(), (5, 5, 3)).comparisons
    75
    """

    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("comparisons", 1),)

    @property
    def kind(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class ReLU6(ReLU):
    """``min(max(x, 0), 6)``: two comparisons per element, on inputs of any rank.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(ReLU6(), (5, 5, 3)).comparisons
    150
    """

    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("comparisons", 2),)


@dataclass(frozen=True, init=False)
class BatchNorm1d(BatchNorm2d):
    """Batch normalisation over ``(C,)`` or ``(L, C)`` inputs; counted as :class:`BatchNorm2d`.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(BatchNorm1d(10), (10,))
    >>> c.mults, c.adds, c.params
    (10, 10, 20)
    """

    spatial_dims: ClassVar[int | None] = None


#: The elementwise activations :class:`Activation` knows, by name: what one element costs.
#: Only activations made of the four counted kinds are here; those that evaluate ``exp``,
#: ``erf`` or ``tanh`` (Sigmoid, Tanh, GELU, SiLU, ELU, Mish) are refused, since symconv has no
#: count for a transcendental function and would otherwise report them as nearly free.
ACTIVATIONS: dict[str, tuple[tuple[str, Size], ...]] = {
    "relu": (("comparisons", 1),),                  # max(x, 0)
    "relu6": (("comparisons", 2),),                 # min(max(x, 0), 6)
    "hardtanh": (("comparisons", 2),),              # min(max(x, lo), hi)
    "leakyrelu": (("mults", 1), ("comparisons", 1)),  # x if x > 0 else slope·x
    "hardsigmoid": (("adds", 1), ("comparisons", 2), ("divs", 1)),  # min(max(x + 3, 0), 6) / 6
    "hardswish": (("adds", 1), ("comparisons", 2), ("mults", 1), ("divs", 1)),  # x·hardsigmoid(x)
}

#: How an activation was written in PyTorch: a module (``nn.ReLU()``), a ``torch.nn.functional``
#: call (``F.relu(x)``), or ``torch.relu(x)`` / ``x.relu()``. The counts are the same; some
#: tools count only some spellings (ptflops), so the kind of the layer keeps the spelling.
SPELLINGS = ("module", "F", "torch")


@dataclass(frozen=True, init=False)
class Activation(_Elementwise):
    """An elementwise activation from :data:`ACTIVATIONS`, on inputs of any rank.

    Parameters
    ----------
    function
        A key of :data:`ACTIVATIONS`: ``"leakyrelu"``, ``"hardswish"``, ...
    spelling
        ``"module"`` (default), ``"F"`` or ``"torch"``: how the PyTorch model wrote it. The kind
        is ``function`` for a module, else ``"F.<function>"`` or ``"torch.<function>"``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Activation("hardswish"), (2, 2, 3))
    >>> c.mults, c.adds, c.divs, c.comparisons, c.kind
    (12, 12, 12, 24, 'hardswish')
    >>> cost(Activation("relu", spelling="F"), (4,)).kind
    'F.relu'
    >>> Activation("gelu")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Activation(function='gelu') is unknown; use one of relu, relu6, hardtanh, leakyrelu, hardsigmoid, hardswish
    """

    function: str
    spelling: str

    def __init__(self, function: str, spelling: str = "module") -> None:
        object.__setattr__(self, "function", one_of(function, ACTIVATIONS, "Activation(function"))
        object.__setattr__(self, "spelling", one_of(spelling, SPELLINGS, "Activation(spelling"))

    @property
    def kind(self) -> str:
        return self.function if self.spelling == "module" else f"{self.spelling}.{self.function}"

    @property
    def multiply(self) -> bool:  # type: ignore[override]
        """Whether the function multiplies each element once (:data:`ACTIVATIONS`)."""
        return ("mults", 1) in ACTIVATIONS[self.function]

    @property
    def per_element(self) -> tuple[tuple[str, Size], ...]:  # type: ignore[override]
        """The function's other operations per element (:data:`ACTIVATIONS`)."""
        return tuple(pair for pair in ACTIVATIONS[self.function] if pair[0] != "mults")


def _check_pool_padding(kernel_size: tuple[Size, ...], padding: tuple[Size, ...]) -> None:
    for kernel, pad in zip(kernel_size, padding):
        half = sympy.floor(sympy.Integer(kernel) / 2) if isinstance(kernel, int) else kernel / 2
        if (sympy.Integer(0) + pad > half) is sympy.true:
            raise SymconvError(
                f"padding={pad} must be at most half of kernel_size={kernel} (as in PyTorch); "
                f"use padding of at most {half}"
            )


@dataclass(frozen=True, init=False)
class _Pool2d(Layer):
    """A 2-D pooling window slid over each channel (shape arithmetic of a convolution)."""

    kernel_size: tuple[Size, ...]
    stride: tuple[Size, ...]
    padding: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = 2
    #: How a window's terms are combined.
    accumulate: ClassVar[Accumulate] = "sum"
    #: Further operations per output element.
    per_output: ClassVar[tuple[tuple[str, Size], ...]] = ()

    def __init__(self, kernel_size: object, stride: object = None, padding: object = 0) -> None:
        kernel = per_axis(kernel_size, "kernel_size", 2)
        object.__setattr__(self, "kernel_size", kernel)
        object.__setattr__(
            self, "stride", kernel if stride is None else per_axis(stride, "stride", 2)
        )
        object.__setattr__(self, "padding", per_axis(padding, "padding", 2, minimum=0))
        _check_pool_padding(self.kernel_size, self.padding)

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: output positions × channels; inner: the window, combined by
        :attr:`accumulate`; then :attr:`per_output`."""
        outputs = (*output_spatial, _need_channels(self, in_channels))
        return LoopNest(outer=outputs, inner=self.kernel_size, outputs=outputs, multiply=False,
                        accumulate=self.accumulate, per_output=self.per_output)


@dataclass(frozen=True, init=False)
class AvgPool2d(_Pool2d):
    """Average pooling: each output sums its ``k_h×k_w`` window and divides by ``k_h·k_w``.

    Per output element: ``k_h·k_w − 1`` additions and **one division**. Padding zeros are summed
    and counted in the divisor (PyTorch's default ``count_include_pad=True``); ``stride``
    defaults to ``kernel_size``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AvgPool2d(2), (4, 4, 3))
    >>> c.output_shape, c.adds, c.divs
    ((2, 2, 3), 36, 12)
    """

    per_output: ClassVar[tuple[tuple[str, Size], ...]] = (("divs", 1),)

    @property
    def kind(self) -> str:
        return "avgpool"

    @property
    def dilation(self) -> tuple[Size, ...]:
        """Always 1: average pooling has no dilation."""
        return (1, 1)


@dataclass(frozen=True, init=False)
class MaxPool2d(_Pool2d):
    """Max pooling: each output compares the ``k_h×k_w`` terms of its window.

    Per output element: ``k_h·k_w − 1`` comparisons (padding, which PyTorch fills with −∞,
    included, as a direct evaluation over the full window does). ``stride`` defaults to
    ``kernel_size``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(MaxPool2d(3, stride=2, padding=1), (112, 112, 64))
    >>> c.output_shape, c.comparisons
    ((56, 56, 64), 1605632)
    """

    dilation: tuple[Size, ...]

    accumulate: ClassVar[Accumulate] = "max"

    def __init__(
        self, kernel_size: object, stride: object = None, padding: object = 0,
        dilation: object = 1,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        object.__setattr__(self, "dilation", per_axis(dilation, "dilation", 2))

    @property
    def kind(self) -> str:
        return "maxpool"


@dataclass(frozen=True)
class GlobalAvgPool2d(Layer):
    """The mean of each channel over all positions: ``(H, W, C)`` becomes ``(1, 1, C)``.

    Per channel: ``H·W − 1`` additions and one division. The output keeps its two spatial axes
    of size 1, as MobileNet's table writes it (``1×1×1024``); :class:`Flatten` drops them.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(GlobalAvgPool2d(), (7, 7, 1024))
    >>> c.output_shape, c.adds, c.divs
    ((1, 1, 1024), 49152, 1024)
    """

    spatial_dims: ClassVar[int | None] = 2

    @property
    def kind(self) -> str:
        return "globalavgpool"

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Outer: the channels; inner: every input position, summed, then one division."""
        outputs = (*output_spatial, _need_channels(self, in_channels))
        return LoopNest(outer=outputs, inner=input_spatial, outputs=outputs, multiply=False,
                        per_output=(("divs", 1),))


@dataclass(frozen=True)
class Flatten(Layer):
    """All axes into one, channels last: ``(H, W, C)`` becomes ``(H·W·C,)``; costs nothing.

    The order is the channels-last one (row-major over ``(H, W, C)``), which differs from
    PyTorch's ``(C, H, W)`` flattening unless ``H = W = 1``; counts are the same either way.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Flatten(), (1, 1, 1024))
    >>> c.output_shape, c.mults, c.adds
    ((1024,), 0, 0)
    """

    spatial_dims: ClassVar[int | None] = None

    @property
    def kind(self) -> str:
        return "flatten"

    def out_channels_for(self, in_channels: Size) -> Size:
        raise SymconvError(
            "Flatten's output size depends on the spatial sizes too; "
            "read it from cost(...).output_shape"
        )

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: only the shape changes."""
        size = product((*input_spatial, _need_channels(self, in_channels)))
        return LoopNest(outer=(), inner=(), outputs=(size,), multiply=False)


@dataclass(frozen=True)
class ResidualAdd(_Elementwise):
    """The addition closing a :class:`Residual`: ``block(x) + x``, one addition per element.

    It appears as the last stage (named ``"add"``) of a residual block; an executor must add the
    block's *input* to the block's output here.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(ResidualAdd(), (56, 56, 24)).adds
    75264
    """

    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)

    @property
    def kind(self) -> str:
        return "add"


@dataclass(frozen=True, init=False)
class Residual(Composite):
    """``block(x) + x``: a block whose output has the shape of its input, plus that input.

    The stages are the block's own stages when it is a :class:`Sequential` (else
    ``("block", block)``) followed by ``("add", ResidualAdd())``: one addition per output
    element. A block that changes the channel
    count raises :class:`~symconv.errors.SymconvError` at once; one that changes the spatial size
    raises when its cost is derived.

    Examples
    --------
    >>> from symconv import cost, DepthwiseConv2d
    >>> block = Sequential(("depthwise", DepthwiseConv2d(8, 3, padding=1)), ("relu", ReLU()))
    >>> c = cost(Residual(block), (5, 5, 8))
    >>> [(name, stage.adds) for name, stage in c.stages]
    [('depthwise', 1600), ('relu', 0), ('add', 200)]
    >>> from symconv import PointwiseConv2d
    >>> Residual(PointwiseConv2d(8, 16))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Residual(block=...): the block takes 8 channels but gives 16; ...
    """

    block: Layer

    preserves_shape: ClassVar[bool] = True

    def __init__(self, block: Layer) -> None:
        if not isinstance(block, Layer):
            raise SymconvError(
                f"Residual(block={block!r}): block must be a symconv layer, like "
                "Sequential(...)"
            )
        object.__setattr__(self, "block", block)
        expected = block.in_channels_expected()
        if expected is None:
            return
        try:
            given = block.out_channels_for(expected)
        except SymconvError:
            return
        if sympy.Eq(sympy.Integer(0) + given, expected) is sympy.false:
            raise SymconvError(
                f"Residual(block=...): the block takes {expected} channels but gives {given}; "
                f"block(x) + x needs the same count, so make the block end with {expected} "
                "channels"
            )

    @property
    def kind(self) -> str:
        return "residual"

    def in_channels_expected(self) -> Size | None:
        return self.block.in_channels_expected()

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        block = self.block
        if isinstance(block, Sequential) and all(name != "add" for name, _ in block.stages):
            return (*block.stages, ("add", ResidualAdd()))
        return (("block", block), ("add", ResidualAdd()))


_Entry = Layer | tuple[str, Layer]


def _named(layers: tuple[object, ...]) -> tuple[tuple[str, Layer], ...]:
    if len(layers) == 1 and isinstance(layers[0], Mapping):
        layers = tuple(layers[0].items())
    named: list[tuple[str, Layer]] = []
    for index, entry in enumerate(layers):
        if isinstance(entry, Layer):
            name, layer = str(index), entry
        elif (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
              and isinstance(entry[1], Layer)):
            name, layer = entry
        else:
            raise SymconvError(
                f"Sequential: layer {index} is {entry!r}; pass layers, (name, layer) pairs "
                "or one mapping of names to layers"
            )
        if not name or "." in name:
            raise SymconvError(
                f"Sequential: name {name!r} of layer {index} must be non-empty and without '.', "
                "which separates the parts of a dotted name"
            )
        named.append((name, layer))
    seen: set[str] = set()
    for name, _ in named:
        if name in seen:
            raise SymconvError(
                f"Sequential: the name {name!r} is used twice; give every layer its own name"
            )
        seen.add(name)
    return tuple(named)


def _channel_requirement(layer: Layer) -> tuple[bool, Size | None]:
    """``(decided, expected)``: whether ``layer`` fixes its input channels or breaks the channel
    flow (a Flatten), and the count it expects; nested Sequentials are looked through."""
    if isinstance(layer, Sequential):
        for _, inner in layer.layers:
            decided, expected = _channel_requirement(inner)
            if decided:
                return True, expected
        return False, None
    if isinstance(layer, Flatten):
        return True, None
    expected = layer.in_channels_expected()
    return expected is not None, expected


def set_stages(network: Layer, layers: tuple[tuple[str, Layer], ...], input_shape: object,
               size_multiple: object) -> None:
    """Set a network's ``layers``, and the ``input_shape`` and ``size_multiple`` it carries,
    checked (see :class:`Sequential`), on the frozen dataclass ``network``."""
    if input_shape is not None:
        if not isinstance(input_shape, (tuple, list)):
            raise SymconvError(
                f"input_shape={input_shape!r} must be a tuple of sizes, channels last, "
                "like (224, 224, 3)"
            )
        input_shape = tuple(as_size(size, "input_shape") for size in input_shape)
    if isinstance(size_multiple, bool) or not isinstance(size_multiple, int) or size_multiple < 1:
        raise SymconvError(
            f"size_multiple={size_multiple!r} must be a positive int, like 32 for five "
            "stride-2 layers"
        )
    object.__setattr__(network, "layers", layers)
    object.__setattr__(network, "input_shape", input_shape)
    object.__setattr__(network, "size_multiple", size_multiple)


@dataclass(frozen=True, init=False)
class Sequential(Composite):
    """Layers run one after the other; a network.

    Parameters
    ----------
    *layers
        Layers (named ``"0"``, ``"1"``, ... by position), ``(name, layer)`` pairs, or a single
        mapping of names to layers (a ``dict`` keeps its order). Sequentials nest; a layer's
        dotted name (``"block3.depthwise"``) follows the nesting.
    input_shape
        The channels-last input shape the network is built for, so that ``cost(net)`` needs
        none.
    size_multiple
        When the carried ``input_shape`` has symbolic spatial sizes, take them to be multiples
        of this (the product of the network's strides) so that the formulas need no ``floor``;
        they are exact wherever the sizes do divide evenly. ``1`` (the default) assumes nothing.

    Examples
    --------
    >>> from symconv import cost, Conv2d, DepthwiseConv2d, PointwiseConv2d
    >>> net = Sequential(Conv2d(3, 32, 3, stride=2, padding=1), ReLU(),
    ...                  input_shape=(224, 224, 3))
    >>> [name for name, _ in net.stages]
    ['0', '1']
    >>> cost(net).output_shape
    (112, 112, 32)
    >>> bad = Sequential(("depthwise", DepthwiseConv2d(32, 3)), ("pointwise", PointwiseConv2d(64, 64)))
    >>> cost(bad, (7, 7, 32))
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: layer pointwise (pointwise, in_channels=64) cannot follow layer depthwise
    (depthwise, 32 channels out); make in_channels=32 or change layer depthwise
    """

    layers: tuple[tuple[str, Layer], ...]
    input_shape: tuple[Size, ...] | None
    size_multiple: int

    def __init__(
        self, *layers: _Entry | Mapping[str, Layer],
        input_shape: object = None, size_multiple: int = 1,
    ) -> None:
        set_stages(self, _named(layers), input_shape, size_multiple)

    @property
    def kind(self) -> str:
        return "sequential"

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        return self.layers

    def in_channels_expected(self) -> Size | None:
        """The channel count the first layer that fixes one expects, if the layers before it
        keep the channel count (a :class:`Flatten`, nested or not, ends the search)."""
        return _channel_requirement(self)[1]

    def out_channels_for(self, in_channels: Size) -> Size:
        for _, layer in self.layers:
            in_channels = layer.out_channels_for(in_channels)
        return in_channels

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return (layer for _, layer in self.layers)

    def __getitem__(self, key: int | str) -> Layer:
        """A layer by position or by name.

        Examples
        --------
        >>> net = Sequential(("relu", ReLU()), ("flatten", Flatten()))
        >>> net["flatten"] is net[1]
        True
        """
        if isinstance(key, int):
            return self.layers[key][1]
        for name, layer in self.layers:
            if name == key:
                return layer
        known = ", ".join(name for name, _ in self.layers)
        raise KeyError(f"no layer named {key!r}; names: {known}")
