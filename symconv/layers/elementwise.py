"""Layers that visit every element once: BatchNorm, ReLU and the other activations, and the
addition closing a residual block. Costs per element are in :mod:`symconv.layers` (the table).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest, _need_channels, one_of
from symconv.layers.traffic import InputAccess
from symconv.sizes import Size, as_expr, as_size

_Parameters = tuple[tuple[str, tuple[Size, ...]], ...]

__all__ = ["BatchNorm2d", "BatchNorm1d", "batch_statistics", "batch_constants", "ReLU", "ReLU6", "Activation",
           "ACTIVATIONS", "SPELLINGS", "ResidualAdd"]


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
    #: How many tensors of the input's shape are read (an addition: 2).
    operands: ClassVar[int] = 1

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
                        per_output=self.per_element, parameters=self._parameters(),
                        access=InputAccess(copies=self.operands))



@dataclass(frozen=True, init=False)
class BatchNorm2d(_Elementwise):
    """Batch normalisation at inference, folded into one multiply-add per element.

    ``y = γ·(x − μ)/√(σ² + ε) + β`` is evaluated as ``y = x·a + b`` with the per-channel
    constants ``a = γ/√(σ² + ε)`` and ``b = β − μ·a`` computed once when the weights are loaded
    (as inference engines and ptflops do; not counted). Per element: **1 multiplication and
    1 addition**, no division. Parameters: γ (``weight``) and β (``bias``), ``2·channels``; the
    running mean and variance are buffers, not parameters.

    With ``affine=False`` (no γ, β: params 0) the fold is ``a = 1/√(σ² + ε)``, ``b = −μ·a``,
    still 1 multiplication and 1 addition per element, as PyTorch's CPU inference kernel
    computes ``x·alpha + beta`` either way. Its backward (batch statistics, without γ) is in
    :mod:`symconv.layers.backward`.

    In a training step (``cost(..., phase="train")``) the forward pass runs in training mode
    instead: batch statistics, running statistics updated, then ``x·alpha + beta``
    (:mod:`symconv.layers.batchnorm_train`: ``2E·C + 6C`` mults, ``4E·C + 2C`` adds, ``4C``
    divs and ``C`` sqrt on ``E`` values a channel).

    With ``track_running_stats=False`` (kind ``"batchnorm:batch_stats"``) there are no running
    statistics (no buffers), and PyTorch normalises with the batch's own mean and biased
    variance in eval mode too (``F.batch_norm(..., training=True)``): at inference as in
    training, per channel of ``E`` values the ``statistics`` (``3E − 1`` adds, ``E`` mults,
    3 divs, 1 sqrt) and ``constants`` (2 mults, 1 add; 1 mult without γ, β) of the training
    table, then ``x·alpha + beta`` per element; nothing to update. PyTorch refuses it on one
    value per channel in eval mode too, and so does symconv. Its backward is BatchNorm's.

    Examples
    --------
    >>> from symconv import cost
    >>> from symconv.symbols import H, W, C
    >>> c = cost(BatchNorm2d(C), (H, W, C))
    >>> c.mults, c.adds, c.divs, c.params
    (C*H*W, C*H*W, 0, 2*C)
    >>> c = cost(BatchNorm2d(8, track_running_stats=False), (4, 4, 8))   # E = 16
    >>> c.mults, c.adds, c.divs, c.transcendentals, c.params   # 8·(2·16 + 2), 8·4·16, 8·3, 8
    (272, 512, 24, 8, 16)
    """

    example: ClassVar[str] = 'BatchNorm2d(64)'

    channels: Size
    affine: bool
    track_running_stats: bool

    spatial_dims: ClassVar[int | None] = 2
    multiply: ClassVar[bool] = True
    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)

    def __init__(self, channels: Size, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        object.__setattr__(self, "channels", as_size(channels, "channels"))
        for name, value in (("affine", affine), ("track_running_stats", track_running_stats)):
            if not isinstance(value, bool):
                raise SymconvError(f"{type(self).__name__}({name}={value!r}) must be True or "
                                   "False")
            object.__setattr__(self, name, value)

    @property
    def kind(self) -> str:
        """``"batchnorm"``; ``"batchnorm:batch_stats"`` without running statistics (the peers
        count the two differently: fvcore's ``batchnorm_flop_jit`` sees ``training=True``)."""
        return "batchnorm" if self.track_running_stats else "batchnorm:batch_stats"

    @property
    def num_features(self) -> Size:
        """PyTorch's name for :attr:`channels`."""
        return self.channels

    def in_channels_expected(self) -> Size:
        return self.channels

    def _channels(self, in_channels: Size | None) -> Size:
        return self.channels

    def _parameters(self) -> _Parameters:
        if not self.affine:
            return ()
        return (("weight", (self.channels,)), ("bias", (self.channels,)))

    def loop_nest(
        self,
        input_spatial: tuple[Size, ...],
        output_spatial: tuple[Size, ...],
        in_channels: Size | None = None,
    ) -> LoopNest:
        """Folded: every element once (:class:`_Elementwise`). Without running statistics:
        outer the channels, inner a channel's ``E`` values, summed for the mean; per channel
        the rest of the statistics and the constants (:attr:`LoopNest.per_outer`,
        :func:`batch_statistics`, :func:`batch_constants`); per element ``x·alpha + beta``."""
        if self.track_running_stats:
            return super().loop_nest(input_spatial, output_spatial, in_channels)
        values = (sympy.Integer(math.prod(int(size) for size in input_spatial))
                  if all(isinstance(size, (int, sympy.Integer)) for size in input_spatial)
                  else sympy.Mul(*(as_expr(size) for size in input_spatial)))
        per_channel: dict[str, Size] = dict(batch_statistics(values))
        for name, count in batch_constants(self.affine):
            per_channel[name] = as_expr(per_channel.get(name, 0)) + count
        return LoopNest(outer=(self.channels,), inner=tuple(input_spatial),
                        outputs=(*input_spatial, self.channels), multiply=False,
                        per_output=(("mults", 1), ("adds", 1)),
                        per_outer=tuple(per_channel.items()), parameters=self._parameters())


def batch_statistics(values: sympy.Expr) -> tuple[tuple[str, Size], ...]:
    """A channel's batch statistics over its ``values`` beyond the sum's ``values − 1`` adds
    (:mod:`symconv.layers.batchnorm_train`'s ``statistics``): the mean's division; the
    ``values`` subtractions and squares and ``values − 1`` adds of ``Σ (x − mean)²``;
    ``invstd = 1/sqrt(var_sum/values + eps)``: 2 divs, 1 add, 1 sqrt.

    Examples
    --------
    >>> batch_statistics(sympy.Integer(16))
    (('adds', 32), ('mults', 16), ('divs', 3), ('transcendentals', 1))
    """
    adds = (sympy.Integer(2 * int(values)) if values.is_Integer   # one Integer, not 3 sums
            else values + (values - 1) + 1)
    return (("adds", adds), ("mults", values), ("divs", 3), ("transcendentals", 1))


def batch_constants(affine: bool) -> tuple[tuple[str, Size], ...]:
    """A channel's ``alpha = invstd·γ``, ``beta = β − mean·alpha`` (2 mults, 1 add); without
    γ, β ``alpha = invstd``, ``beta = −mean·invstd`` (1 mult; a sign flip is free).

    Examples
    --------
    >>> batch_constants(True), batch_constants(False)
    ((('mults', 2), ('adds', 1)), (('mults', 1),))
    """
    return (("mults", 2), ("adds", 1)) if affine else (("mults", 1),)


@dataclass(frozen=True)
class ReLU(_Elementwise):
    """``max(x, 0)``: one comparison per element, on inputs of any rank.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(ReLU(), (5, 5, 3)).comparisons
    75
    """

    example: ClassVar[str] = 'ReLU()'

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

    example: ClassVar[str] = 'ReLU6()'

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

    example: ClassVar[str] = 'BatchNorm1d(64)'

    spatial_dims: ClassVar[int | None] = None


#: The elementwise activations :class:`Activation` knows, by name: what one element costs, as
#: PyTorch's CPU kernels compute it (``docs/conventions.md`` has the table). A negation (a sign
#: flip) is not counted; a subtraction counts as an addition; ``exp``, ``log``, ``log1p``,
#: ``erf``, ``tanh`` are one transcendental each. Constants are PyTorch's defaults.
ACTIVATIONS: dict[str, tuple[tuple[str, Size], ...]] = {
    "relu": (("comparisons", 1),),                  # max(x, 0)
    "relu6": (("comparisons", 2),),                 # min(max(x, 0), 6)
    "hardtanh": (("comparisons", 2),),              # min(max(x, lo), hi)
    "leakyrelu": (("mults", 1), ("comparisons", 1)),  # x if x > 0 else slope·x
    "hardsigmoid": (("adds", 1), ("comparisons", 2), ("divs", 1)),  # min(max(x + 3, 0), 6) / 6
    "hardswish": (("adds", 1), ("comparisons", 2), ("mults", 1), ("divs", 1)),  # x·hardsigmoid(x)
    # 1 / (1 + exp(-x))
    "sigmoid": (("transcendentals", 1), ("adds", 1), ("divs", 1)),
    # x / (1 + exp(-x)): PyTorch's silu divides, it does not multiply by a sigmoid
    "silu": (("transcendentals", 1), ("adds", 1), ("divs", 1)),
    "tanh": (("transcendentals", 1),),              # tanh(x)
    # x·0.5·(1 + erf(x·√½)): 3 mults, 1 add, 1 erf
    "gelu": (("mults", 3), ("adds", 1), ("transcendentals", 1)),
    # 0.5·x·(1 + tanh(β·(x + κ·x·x·x))): x³ 2 mults, κ·, β·, 0.5·x, the last product: 6 mults;
    # x + ·, 1 + ·: 2 adds; 1 tanh
    "gelu_tanh": (("mults", 6), ("adds", 2), ("transcendentals", 1)),
    # x if x > 0 else α·(exp(x) − 1), both sides computed: 1 comparison, 1 exp, 1 add, 1 mult
    "elu": (("comparisons", 1), ("transcendentals", 1), ("adds", 1), ("mults", 1)),
    # x if β·x > threshold else log1p(exp(β·x))/β: 1 mult, 1 comparison, exp and log1p, 1 div
    "softplus": (("mults", 1), ("comparisons", 1), ("transcendentals", 2), ("divs", 1)),
    # x·tanh(log1p(exp(x))): exp, log1p, tanh and 1 mult
    "mish": (("transcendentals", 3), ("mults", 1)),
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
    >>> c = cost(Activation("gelu"), (4,))
    >>> c.mults, c.adds, c.transcendentals
    (12, 4, 4)
    >>> Activation("swish")
    Traceback (most recent call last):
    ...
    symconv.errors.SymconvError: Activation(function='swish') is unknown; use one of relu, relu6, ...
    """

    example: ClassVar[str] = 'Activation("hardswish")'

    function: str
    spelling: str

    def __init__(self, function: str, spelling: str = "module") -> None:
        object.__setattr__(self, "function", one_of(function, ACTIVATIONS, "Activation(function"))
        object.__setattr__(self, "spelling", one_of(spelling, SPELLINGS, "Activation(spelling"))

    @property
    def kind(self) -> str:
        return self.function if self.spelling == "module" else f"{self.spelling}.{self.function}"

    @property
    def per_element(self) -> tuple[tuple[str, Size], ...]:  # type: ignore[override]
        """The function's operations per element (:data:`ACTIVATIONS`), multiplications
        included."""
        return ACTIVATIONS[self.function]



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

    example: ClassVar[str] = 'ResidualAdd()'

    per_element: ClassVar[tuple[tuple[str, Size], ...]] = (("adds", 1),)
    operands: ClassVar[int] = 2

    @property
    def kind(self) -> str:
        return "add"
