"""Multi-head self-attention as loop nests: ``nn.MultiheadAttention`` (ViT's) decomposed into
its products, scaling and softmax, by :func:`multihead_attention`.

On ``L`` tokens of ``E`` channels, ``(L, E)`` channels last, with ``h`` heads of
``D = E/h`` channels, a direct evaluation runs, as PyTorch's ``nn.MultiheadAttention`` does:

=====================  ========================================================  ===========
stage                  operations                                                output
=====================  ========================================================  ===========
``in_proj``            ``Linear(E, 3E)``: q, k and v side by side                 ``(L, 3E)``
``scale``              q times ``1/√D`` (a constant of the layer): ``L·E`` mults  ``(L, E)``
``scores``             per head ``q_h k_hᵀ``: ``h·L·L`` dot products of ``D``     ``(h, L, L)``
``softmax``            along the keys (:class:`~symconv.layers.Softmax`)          ``(h, L, L)``
``context``            per head ``attn_h v_h``: ``L·E`` dot products of ``L``     ``(L, E)``
``out_proj``           ``Linear(E, E)``                                           ``(L, E)``
=====================  ========================================================  ===========

Each stage's kind starts with ``attention.``: the peers count attention apart from the layers
it is made of (``docs/conventions.md``). ``fused`` marks a module PyTorch runs through its
fused inference kernel (``torch._native_multi_head_attention``: in eval mode without
gradients, self-attention with an input projection bias, ...), which one peer counts
differently; the operations counted are the same.

Examples
--------
>>> from symconv import cost
>>> from symconv.symbols import L, C
>>> c = cost(multihead_attention(C, 2), (L, C))          # E = C channels, 2 heads
>>> c.output_shape
(L, C)
>>> import sympy
>>> sympy.expand(c.mults)    # projections 4LC², scale LC, both products 2L²C, softmax hL²
4*C**2*L + 2*C*L**2 + C*L + 2*L**2
>>> [name for name, _ in multihead_attention(8, 2).stages]
['in_proj', 'scale', 'scores', 'softmax', 'context', 'out_proj']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import sympy

from symconv.errors import SymconvError
from symconv.layers.activations import Softmax
from symconv.layers.base import Layer, LoopNest, _need_channels
from symconv.layers.graph import Graph
from symconv.layers.linear import Linear
from symconv.layers.shapes import output_spatial
from symconv.layers.traffic import InputAccess
from symconv.sizes import Size, as_expr, as_size

__all__ = ["AttentionProjection", "AttentionScale", "AttentionScores", "AttentionSoftmax",
           "AttentionContext", "multihead_attention"]


def _flag(value: object, owner: str) -> bool:
    if not isinstance(value, bool):
        raise SymconvError(f"{owner}={value!r}) must be True or False")
    return value


@dataclass(frozen=True, init=False)
class AttentionProjection(Linear):
    """The input (``role="in_proj"``, ``E → 3E``) or output (``"out_proj"``, ``E → E``)
    projection of an attention: :class:`~symconv.layers.Linear`'s counts, kind
    ``"attention.in_proj"`` / ``"attention.out_proj"`` (``…:fused`` for a fused module).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AttentionProjection(8, 24, role="in_proj"), (5, 8))
    >>> c.kind, c.mults, c.params
    ('attention.in_proj', 960, 216)
    """

    example: ClassVar[str] = 'AttentionProjection(768, 2304, role="in_proj")'

    role: str
    fused: bool

    def __init__(self, in_features: Size, out_features: Size, bias: object = True, *,
                 role: str = "in_proj", fused: bool = False) -> None:
        super().__init__(in_features, out_features, bias)
        if role not in ("in_proj", "out_proj"):
            raise SymconvError(f"AttentionProjection(role={role!r}) is unknown; use one of "
                               "in_proj, out_proj")
        object.__setattr__(self, "role", role)
        object.__setattr__(self, "fused", _flag(fused, "AttentionProjection(fused"))

    @property
    def kind(self) -> str:
        return f"attention.{self.role}{':fused' if self.fused else ''}"


@dataclass(frozen=True, init=False)
class AttentionScale(Layer):
    """The queries (the first ``embed_dim`` channels of the input projection) times
    ``1/√D``: one multiplication each; the output is the scaled queries, ``(L, E)``.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AttentionScale(8, 2), (5, 24))
    >>> c.output_shape, c.mults, c.transcendentals
    ((5, 8), 40, 0)
    """

    example: ClassVar[str] = "AttentionScale(768, 12)"

    embed_dim: Size
    num_heads: Size

    spatial_dims: ClassVar[int | None] = 1

    def __init__(self, embed_dim: object, num_heads: object) -> None:
        object.__setattr__(self, "embed_dim", as_size(embed_dim, "AttentionScale(embed_dim"))
        object.__setattr__(self, "num_heads", as_size(num_heads, "AttentionScale(num_heads"))
        _head_dim(self.embed_dim, self.num_heads, "AttentionScale")

    @property
    def kind(self) -> str:
        return "attention.scale"

    def in_channels_expected(self) -> Size:
        return as_expr(self.embed_dim) * 3

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.embed_dim

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: every query element, multiplied once; reads the queries only."""
        outputs = (*input_spatial, self.embed_dim)
        reads = sympy.Mul(*(as_expr(size) for size in outputs))
        return LoopNest(outer=outputs, inner=(), outputs=outputs, multiply=True,
                        access=InputAccess(copies=0, extra=reads))

    @property
    def factor(self) -> sympy.Expr:
        """``1/√D``, exact."""
        return 1 / sympy.sqrt(as_expr(self.embed_dim) / as_expr(self.num_heads))


@dataclass(frozen=True, init=False)
class AttentionScores(Layer):
    """Per head, the scaled queries (the input, ``(L, E)``) times the keys (channels ``E`` to
    ``2E`` of stage ``other``, the input projection): ``h·L·L`` dot products of ``D`` terms,
    output ``(h, L, L)`` (head, query, key).

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AttentionScores("in_proj", 2, (5, 24)), (5, 8))
    >>> c.output_shape, c.mults, c.adds
    ((2, 5, 5), 200, 150)
    """

    example: ClassVar[str] = 'AttentionScores("in_proj", 12, (197, 2304))'

    other: str
    num_heads: Size
    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = 1

    def __init__(self, other: str, num_heads: object, shape: object) -> None:
        object.__setattr__(self, "other", _stage(other, "AttentionScores"))
        object.__setattr__(self, "num_heads", as_size(num_heads, "AttentionScores(num_heads"))
        object.__setattr__(self, "shape", _shape(shape, "AttentionScores"))

    @property
    def kind(self) -> str:
        return "attention.scores"

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.shape[0]

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: head × query × key; inner: the head's ``D`` channels. Reads the queries and
        the keys."""
        embed = _need_channels(self, in_channels)
        head = _head_dim(embed, self.num_heads, "AttentionScores")
        outputs = (self.num_heads, *input_spatial, self.shape[0])
        keys = as_expr(self.shape[0]) * as_expr(embed)
        return LoopNest(outer=outputs, inner=(head,), outputs=outputs,
                        access=InputAccess(extra=keys))


@dataclass(frozen=True, init=False)
class AttentionSoftmax(Softmax):
    """The softmax of an attention's scores along the keys: :class:`~symconv.layers.Softmax`'s
    counts, kind ``"attention.softmax"``.

    Examples
    --------
    >>> from symconv import cost
    >>> cost(AttentionSoftmax(), (2, 5, 5)).kind
    'attention.softmax'
    """

    example: ClassVar[str] = "AttentionSoftmax()"

    def __init__(self, axis: int = -1) -> None:
        super().__init__(axis)

    @property
    def kind(self) -> str:
        return "attention.softmax"


@dataclass(frozen=True, init=False)
class AttentionContext(Layer):
    """Per head, the attention weights (the input, ``(h, L, L)``) times the values (the last
    ``E`` channels of stage ``other``, ``(L, 3E)``): ``L·E`` dot products of ``L`` terms,
    output ``(L, E)``, the heads side by side.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(AttentionContext("in_proj", (5, 24)), (2, 5, 5))
    >>> c.output_shape, c.mults, c.adds
    ((5, 8), 200, 160)
    """

    example: ClassVar[str] = 'AttentionContext("in_proj", (197, 2304))'

    other: str
    shape: tuple[Size, ...]

    spatial_dims: ClassVar[int | None] = 2

    def __init__(self, other: str, shape: object) -> None:
        object.__setattr__(self, "other", _stage(other, "AttentionContext"))
        object.__setattr__(self, "shape", _shape(shape, "AttentionContext"))

    @property
    def kind(self) -> str:
        return "attention.context"

    @property
    def embed_dim(self) -> sympy.Expr:
        return as_expr(self.shape[-1]) / 3

    def out_channels_for(self, in_channels: Size) -> Size:
        return self.embed_dim

    def loop_nest(self, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
                  in_channels: Size | None = None) -> LoopNest:
        """Outer: query × channel; inner: the keys. Reads the weights and the values."""
        keys = _need_channels(self, in_channels)
        outputs = (input_spatial[1], self.embed_dim)
        values = as_expr(self.shape[0]) * self.embed_dim
        return LoopNest(outer=outputs, inner=(keys,), outputs=outputs,
                        access=InputAccess(extra=values))


def _stage(other: object, owner: str) -> str:
    if not isinstance(other, str) or not other:
        raise SymconvError(f"{owner}(other={other!r}) must name a stage (the input projection)")
    return other


def _shape(shape: object, owner: str) -> tuple[Size, ...]:
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise SymconvError(f"{owner}(shape={shape!r}) must be the input projection's shape "
                           "(L, 3E), like (197, 2304)")
    return tuple(as_size(size, f"{owner}(shape") for size in shape)


def _head_dim(embed: Size, heads: Size, owner: str) -> sympy.Expr:
    head = as_expr(embed) / as_expr(heads)
    if head.is_integer is False:
        raise SymconvError(f"{owner}: num_heads={heads} must divide embed_dim={embed}")
    return head


def multihead_attention(embed_dim: Size, num_heads: Size, bias: bool = True, *,
                        fused: bool = False, tokens: Size | None = None) -> Graph:
    """``nn.MultiheadAttention(embed_dim, num_heads, bias=bias)`` as self-attention on
    ``(L, E)`` tokens (``tokens``: ``L``, the symbol ``L`` unless given), a
    :class:`~symconv.layers.Graph` of the stages in the module docstring.

    Examples
    --------
    >>> from symconv import cost
    >>> c = cost(multihead_attention(8, 2, tokens=5), (5, 8))
    >>> c.mults, c.adds, c.transcendentals, c.params
    (1770, 1680, 50, 288)

    By hand (L = 5, E = 8, h = 2, D = 4): mults 960 (in_proj) + 40 (scale) + 200 (scores) +
    50 (softmax, one per weight) + 200 (context) + 320 (out_proj); adds 960 + 150 (h·L·L·(D−1))
    + 90 (softmax, 2L − 1 a row) + 160 (L·E·(L−1)) + 320; one exp per weight.
    """
    from symconv.symbols import L

    length = L if tokens is None else tokens
    projected = (length, as_expr(embed_dim) * 3)
    return Graph(
        ("in_proj", AttentionProjection(embed_dim, as_expr(embed_dim) * 3, bias, role="in_proj",
                                        fused=fused)),
        ("scale", AttentionScale(embed_dim, num_heads)),
        ("scores", AttentionScores("in_proj", num_heads, projected)),
        ("softmax", AttentionSoftmax()),
        ("context", AttentionContext("in_proj", projected)),
        ("out_proj", AttentionProjection(embed_dim, embed_dim, bias, role="out_proj",
                                         fused=fused)),
    )


def _scores_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]
                    ) -> tuple[sympy.Expr, ...]:
    assert isinstance(layer, AttentionScores)
    return (as_expr(layer.num_heads), *input_spatial)


def _context_spatial(layer: Layer, input_spatial: tuple[sympy.Expr, ...]
                     ) -> tuple[sympy.Expr, ...]:
    return (input_spatial[1],)


output_spatial.register(AttentionScale, lambda layer, input_spatial: input_spatial)
output_spatial.register(AttentionScores, _scores_spatial)
output_spatial.register(AttentionContext, _context_spatial)
