"""Composition: :class:`Sequential` networks and :class:`Residual` blocks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Composite, Layer, _short, check_layer
from symconv.layers.elementwise import ResidualAdd
from symconv.layers.linear import Flatten
from symconv.sizes import Size, as_size

__all__ = ["Residual", "Sequential", "set_stages"]


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
    >>> from symconv import cost, DepthwiseConv2d, ReLU
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

    example: ClassVar[str] = 'Residual(Sequential(PointwiseConv2d(8, 8), ReLU()))'

    block: Layer

    preserves_shape: ClassVar[bool] = True

    def __init__(self, block: Layer) -> None:
        check_layer(block, "Residual(block")
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
            given = entry[1] if isinstance(entry, tuple) and len(entry) == 2 else entry
            if isinstance(given, type) and issubclass(given, Layer):
                check_layer(given, f"Sequential(layer {index}")
            raise SymconvError(
                f"Sequential: layer {index} is {_short(entry)}; pass layers, (name, layer) pairs "
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


def network_repr(network: Layer) -> str:
    """A network's short repr: its kind, how many layers, their names (elided), its input.

    Examples
    --------
    >>> from symconv.zoo import mobilenet_v1
    >>> mobilenet_v1()
    Sequential(16 layers: conv1, block1, block2, …, pool, fc; input 224×224×3; .long_repr() shows every layer)
    """
    names = [name for name, _ in getattr(network, "layers", ())]
    listed = names if len(names) <= 6 else [*names[:3], "…", *names[-2:]]
    carried = getattr(network, "input_shape", None)
    shape = "" if carried is None else "; input " + "×".join(str(size) for size in carried)
    return (f"{type(network).__name__}({len(names)} layers: {', '.join(listed)}{shape}; "
            ".long_repr() shows every layer)")


def long_form(value: object) -> str:
    """``repr`` with every nested object in its long form (``long_repr()`` where it has one)."""
    if hasattr(value, "long_repr") and not isinstance(value, type):
        return str(value.long_repr())
    if isinstance(value, tuple):
        inner = ", ".join(long_form(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def long_repr(network: object) -> str:
    """Every field of a dataclass, nested layers and costs included, in their long forms."""
    from dataclasses import fields

    parts = ", ".join(f"{item.name}={long_form(getattr(network, item.name))}"
                      for item in fields(network) if item.repr)  # type: ignore[arg-type]
    return f"{type(network).__name__}({parts})"


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
    >>> from symconv import cost, Conv2d, DepthwiseConv2d, PointwiseConv2d, ReLU
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

    example: ClassVar[str] = 'Sequential(Conv2d(3, 8, 3), ReLU())'

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

    def __repr__(self) -> str:
        return network_repr(self)

    def long_repr(self) -> str:
        """Every field, nested layers included."""
        return long_repr(self)

    def __iter__(self) -> Iterator[Layer]:
        return (layer for _, layer in self.layers)

    def __getitem__(self, key: int | str) -> Layer:
        """A layer by position or by name.

        Examples
        --------
        >>> from symconv import Flatten, ReLU
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
