"""Networks that are not a chain: a graph of layers in topological order, with additions.

A PyTorch ``forward`` may send a tensor down two paths and add them back (a ResNet block with a
projection shortcut). :class:`Graph` lists such a network's layers in an order data can flow
(topological), as stages; two costless routing stages say where a stage's input comes from:

* :class:`Reuse` — "continue from the output of stage ``source``" (its shape is recorded), used
  where a stage does not take the previous stage's output;
* :class:`Add` — "add the output of stage ``other`` to this input", one addition per element.

So the generic derivation (:func:`symconv.derive.cost`), which runs the stages of a composite one
after the other, derives a graph's cost like any network's, every count still coming from a loop
nest. :func:`symconv.from_torch` builds these; a chain becomes a plain
:class:`~symconv.layers.Sequential`.

Examples
--------
>>> from symconv import Conv2d, cost
>>> from symconv.networks.rows import rows
>>> from symconv.layers import ReLU
>>> net = Graph(("conv", Conv2d(8, 8, 3, padding=1)), ("relu", ReLU()),
...             ("add", Add(other="input")), input_shape=(5, 5, 8))
>>> [(row.name, row.adds) for row in rows(cost(net))]
[('conv', 14200), ('relu', 0), ('add', 200)]
>>> net = Graph(("conv", Conv2d(8, 16, 1)), ("from input", Reuse("input", (5, 5, 8))),
...             ("shortcut", Conv2d(8, 16, 1)), ("add", Add(other="conv")))
>>> cost(net, (5, 5, 8)).mults
6400
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from symconv.errors import SymconvError
from symconv.layers.base import Composite, Layer, LoopNest, _short, check_layer, one_of
from symconv.layers.elementwise import _Elementwise
from symconv.layers.sequential import long_repr, network_repr, set_stages
from symconv.layers.traffic import NOTHING
from symconv.sizes import Size, as_size

__all__ = ["Graph", "Reuse", "Add", "ADD_SPELLINGS"]

#: How an addition was written in PyTorch: ``a + b`` (``"+"``) or ``torch.add(a, b)`` /
#: ``a.add(b)`` (``"torch.add"``). The counts are the same; ptflops counts only the second.
ADD_SPELLINGS = {"+": "add", "torch.add": "torch.add"}


@dataclass(frozen=True, init=False)
class Reuse(Layer):
    """Continue from the output of an earlier stage, ``source``, whose shape is ``shape``.

    Costs nothing; its output shape is ``shape`` whatever its input. ``source`` is the name of
    the stage (``"input"`` for the network's input).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Reuse("input", (7, 7, 3)), (4,))
    >>> c.output_shape, c.mults, c.adds, c.kind
    ((7, 7, 3), 0, 0, 'reuse')
    """

    example: ClassVar[str] = 'Reuse("input", (7, 7, 3))'

    source: str
    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = None

    def __init__(self, source: str, shape: object) -> None:
        if not isinstance(source, str) or not source:
            raise SymconvError(f"Reuse(source={source!r}) must name a stage, or 'input'")
        if not isinstance(shape, (tuple, list)) or not shape:
            raise SymconvError(
                f"Reuse(shape={shape!r}) must be the channels-last shape of stage {source}, "
                "like (7, 7, 3)"
            )
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "shape", tuple(as_size(size, "shape") for size in shape))

    @property
    def kind(self) -> str:
        return "reuse"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[-1]

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """No loops: the output is the recorded tensor of stage :attr:`source`."""
        return LoopNest(outer=(), inner=(), outputs=self.shape, multiply=False, access=NOTHING)


@dataclass(frozen=True, init=False)
class Add(_Elementwise):
    """Add the output of stage ``other`` (of the same shape) to the input: one add per element.

    Parameters
    ----------
    other
        The name of the stage whose output is added (``"input"``: the network's input).
    spelling
        ``"+"`` (default) or ``"torch.add"``, as the PyTorch model wrote it; the kind is
        ``"add"`` or ``"torch.add"`` (see :data:`ADD_SPELLINGS`).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(Add("input"), (56, 56, 24))
    >>> c.adds, c.kind
    (75264, 'add')
    >>> Add("input", spelling="-")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Add(spelling='-') is unknown; use one of +, torch.add
    """

    example: ClassVar[str] = 'Add("input")'

    other: str
    spelling: str

    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)
    operands: ClassVar[int] = 2

    def __init__(self, other: str, spelling: str = "+") -> None:
        if not isinstance(other, str) or not other:
            raise SymconvError(f"Add(other={other!r}) must name a stage, or 'input'")
        object.__setattr__(self, "other", other)
        object.__setattr__(self, "spelling", one_of(spelling, ADD_SPELLINGS, "Add(spelling"))

    @property
    def kind(self) -> str:
        return ADD_SPELLINGS[self.spelling]



@dataclass(frozen=True, init=False)
class Graph(Composite):
    """A network whose stages, in topological order, may branch (:class:`Reuse`) and join
    (:class:`Add`).

    Parameters
    ----------
    *layers
        ``(name, layer)`` pairs in an order data can flow. Names are unique and may be dotted
        paths (``"layer1.0.conv1"``, PyTorch's module names); ``"input"`` is reserved for the
        network's input.
    input_shape
        The channels-last input shape the network is built for, so that ``cost(net)`` needs
        none.
    size_multiple
        As :class:`~symconv.layers.Sequential`'s: symbolic spatial sizes of the carried
        ``input_shape`` are taken to be multiples of it. :class:`Reuse` shapes must then be
        written for such sizes (``H/2``, not ``floor(H/2 - 1/2) + 1``), as
        :func:`symconv.from_torch` writes them.
    not_run
        The dotted names of the source model's modules that hold parameters and did not run
        when :func:`symconv.from_torch` traced it (in eval mode): a branch the model runs only
        in training mode, which a training step's count leaves out. Not part of the network
        (nor of its equality or hash).

    Raises
    ------
    SymconvError
        For a name used twice, or a :class:`Reuse` or :class:`Add` naming no earlier stage.
    """

    example: ClassVar[str] = 'Graph(("conv", Conv2d(8, 8, 3, padding=1)), ("add", Add("input")))'

    layers: tuple[tuple[str, Layer], ...]
    input_shape: tuple[Size, ...] | None
    size_multiple: int
    not_run: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def __init__(self, *layers: tuple[str, Layer], input_shape: object = None,
                 size_multiple: int = 1, not_run: tuple[str, ...] = ()) -> None:
        seen = {"input"}
        for index, entry in enumerate(layers):
            if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], Layer)):
                if isinstance(entry, tuple) and len(entry) == 2:
                    check_layer(entry[1], f"Graph(stage {index}")
                raise SymconvError(
                    f"Graph: stage {index} is {_short(entry)}; pass (name, layer) pairs"
                )
            name, layer = entry
            if name in seen:
                raise SymconvError(f"Graph: the name {name!r} is used twice (or is 'input'); "
                                   "give every stage its own name")
            needed = getattr(layer, "source", None) or getattr(layer, "other", None)
            if isinstance(needed, str) and needed not in seen:   # Reuse, Add, Mul, Cat, ...
                raise SymconvError(f"Graph: stage {name} uses {needed!r}, which is no earlier "
                                   "stage; list the stages in an order data can flow")
            seen.add(name)
        set_stages(self, tuple(layers), input_shape, size_multiple)
        object.__setattr__(self, "not_run", tuple(str(name) for name in not_run))

    @property
    def kind(self) -> str:
        return "graph"

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        return self.layers

    def __repr__(self) -> str:
        return network_repr(self)

    def long_repr(self) -> str:
        """Every field, nested layers included."""
        return long_repr(self)

    def __len__(self) -> int:
        return len(self.layers)
