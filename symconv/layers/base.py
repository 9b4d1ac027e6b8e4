"""What every layer is: a loop nest (:class:`LoopNest`), the :class:`Layer` and
:class:`Composite` base classes, and the argument checks layers share.

Imports only the vocabulary (errors, sizes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar, Literal

from symconv.errors import SymconvError
from symconv.sizes import Size, as_size

__all__ = ["Layer", "Composite", "LoopNest", "Accumulate", "one_of"]


#: The padding a convolution may be given as a string, as in PyTorch. The layer keeps the string
#: (:attr:`ConvNd.padding_string`) and its kind ends in it (``"standard:same"``): the products
#: are the same as with the padding written as numbers, but PyTorch then runs another aten op
#: (``aten::_convolution_mode``), which fvcore does not count (``docs/conventions.md``).
PADDING_STRINGS = ("same", "valid")

Accumulate = Literal["sum", "scatter", "max"]




@dataclass(frozen=True)
class LoopNest:
    """The loops a direct evaluation of one layer runs.

    Attributes
    ----------
    outer
        Extents of the independent loops: a convolution's output positions and channels; a
        transposed convolution's *input* positions and channels (scatter form).
    inner
        Extents of the loops each outer point runs over: a convolution's kernel window and input
        channels of its group; a transposed convolution's kernel window and output channels of
        its group.
    multiply
        Whether every (outer, inner) point multiplies an input by a weight.
    accumulate
        ``"sum"``: each outer point sums its inner terms (a dot product of L terms takes L − 1
        additions); ``"scatter"``: every term is added once into a zero-initialised output;
        ``"max"``: each outer point compares its inner terms (L − 1 comparisons).
    outputs
        Extents of the output tensor (spatial sizes, then channels).
    per_output
        Further operations done once per output element, as ``(kind, count)`` pairs with kind
        one of ``"mults"``, ``"adds"``, ``"divs"``, ``"comparisons"`` (a bias: one addition).
    parameters
        ``(name, shape)`` of each learned tensor.
    """

    outer: tuple[Size, ...]
    inner: tuple[Size, ...]
    outputs: tuple[Size, ...]
    multiply: bool = True
    accumulate: Accumulate = "sum"
    per_output: tuple[tuple[str, Size], ...] = ()
    parameters: tuple[tuple[str, tuple[Size, ...]], ...] = ()


class Layer:
    """Base class of every layer description.

    Subclasses set :attr:`spatial_dims` (``None`` when any rank is accepted) and implement
    :meth:`loop_nest` (single layers) or :attr:`~Composite.stages` (composites), plus
    :meth:`output_spatial` for their shape arithmetic.
    """

    #: Number of spatial axes the layer expects, or ``None`` for any.
    spatial_dims: ClassVar[int | None] = None

    @property
    def kind(self) -> str:
        """A short name of the kind of layer, used in reports."""
        return type(self).__name__

    def in_channels_expected(self) -> Size | None:
        """The input channel count the layer needs, or ``None`` when any count fits."""
        return None

    def out_channels_for(self, in_channels: Size) -> Size:
        """The output channel count for an input with ``in_channels`` channels."""
        return in_channels

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """The loop nest of a direct evaluation, given the sizes around the layer.

        ``in_channels`` is the input's channel count; layers that fix their own (convolutions)
        may ignore it, layers that take any count (activations, pooling) need it.
        """
        raise NotImplementedError(f"{type(self).__name__} has no loop nest")


class Composite(Layer):
    """A layer made of named stages run one after the other."""

    #: Whether the composite's output must have the shape of its input (a residual block).
    preserves_shape: ClassVar[bool] = False

    @property
    def stages(self) -> tuple[tuple[str, Layer], ...]:
        """``(name, layer)`` pairs, in the order data flows through them."""
        raise NotImplementedError


def _channels(value: object, name: str) -> Size:
    return as_size(value, name, minimum=1)


def _bias(value: object) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"bias={value!r} must be True or False")
    return value





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
