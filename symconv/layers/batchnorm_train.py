"""What BatchNorm's forward pass runs in training mode: :func:`training_nests`, one loop nest per
named part, derived by the generic derivation (:mod:`symconv.derive.train_forward`).

At inference BatchNorm is folded into one multiply-add per element
(:class:`~symconv.layers.BatchNorm2d`). In a training step (``model.train()``) PyTorch's CPU
kernel computes the batch statistics first and updates the running statistics
(``batch_norm_cpu_update_stats_template`` in ``aten/src/ATen/native/Normalization.cpp``, with
``batch_norm_cpu_collect_stats_contiguous_impl`` and
``batch_norm_cpu_collect_linear_and_constant_terms`` of ``native/cpu/batch_norm_kernel.cpp``).
Per channel, over its ``E`` values (every position of every example: ``N·H·W``), in that order:

=================  =============================================================  ================
part               what it computes (PyTorch's names)                             counted
=================  =============================================================  ================
``statistics``     ``sum = Σ x``; ``mean = sum/E``; ``var_sum = Σ (x − mean)²``   ``3E − 1`` adds,
                   (two passes); ``invstd = 1/sqrt(var_sum/E + eps)``             ``E`` mults,
                   (``InvStd``): the mean and ``invstd`` are saved for the        3 divs, 1 sqrt
                   backward pass
``running_stats``  ``running_mean = m·mean + (1 − m)·running_mean``;              4 mults, 2 adds,
                   ``running_var = m·var_sum/(E − 1) + (1 − m)·running_var``      1 div
                   (the unbiased variance; ``m`` the momentum, 0.1)
``constants``      ``alpha = invstd·γ``; ``beta = β − mean·alpha``                 2 mults, 1 add
                   (without γ, β: ``alpha = invstd``, ``beta = −mean·invstd``)    (1 mult)
``normalise``      per element ``y = x·alpha + beta``                              1 mult, 1 add
                                                                                   per element
=================  =============================================================  ================

In all, with ``C`` channels and γ, β: ``2E·C + 6C`` mults, ``4E·C + 2C`` adds, ``4C`` divs and
``C`` sqrt (a transcendental), against the folded inference forward's ``E·C`` and ``E·C``.

A sum of ``E`` terms takes ``E − 1`` additions (PyTorch adds the first term to 0, which is not
counted, as everywhere in symconv); a subtraction is an addition; a sign flip is not counted;
``(1 − m)`` and ``E − 1`` are constants of the layer, not counted (the kernel's source writes
``1 - momentum`` in the channel loop; it does not change from one channel to the next). Not
counted either: the branch of ``InvStd`` that leaves ``invstd = 0`` when ``var + eps == 0`` (a
comparison of control flow, not arithmetic: with ``eps > 0`` it never changes the value), and
the copies of the mean and ``invstd`` into the tensors saved for the backward.

The backward pass reads the saved mean and ``invstd`` (as PyTorch's
``native_batch_norm_backward`` receives ``save_mean`` and ``save_invstd``) and computes no
statistic again: :mod:`symconv.layers.backward` lists what it counts.

A layer marked frozen (``trainable=False``: ``from_torch`` reads ``requires_grad=False``) runs
in training mode all the same, as ``requires_grad`` changes nothing in PyTorch's forward: batch
statistics, running statistics updated; it only gets no γ, β gradient. A BatchNorm kept in eval
mode during training (``module.eval()``, torchvision's ``FrozenBatchNorm2d``) is not modelled.

Without running statistics (``BatchNorm2d(C, track_running_stats=False)``) there is no
``running_stats`` part: ``statistics``, ``constants`` and ``normalise`` only, the same parts as
its forward at inference, where PyTorch uses the batch statistics too.

symconv's shapes have no batch axis: ``E`` is the product of the spatial sizes (a batch of one,
as the peers count). With a batch of ``B``, every per-element count above is ``B`` times larger
and the per-channel ones are not. PyTorch refuses to train BatchNorm on one value per channel
(``E = 1``: the unbiased variance divides by 0); so does :func:`training_nests`.

Imports only :mod:`symconv.layers`; no derive, execute or networks.

Examples
--------
>>> from symconv.layers import BatchNorm2d
>>> [name for name, _ in training_nests(BatchNorm2d(8), (4, 4), (4, 4))]
['statistics', 'running_stats', 'constants', 'normalise']
>>> [name for name, _ in training_nests(BatchNorm2d(8, track_running_stats=False), (4, 4), (4, 4))]
['statistics', 'constants', 'normalise']
>>> training_nests(BatchNorm2d(8), (1, 1), (1, 1))
Traceback (most recent call last):
...
symconv.errors.SymconvError: BatchNorm2d(8) in training mode on 1 value per channel: ...
"""

from __future__ import annotations

import functools

import sympy

from symconv.errors import SymconvError
from symconv.layers.base import Layer, LoopNest
from symconv.layers.elementwise import BatchNorm2d, batch_constants, batch_statistics
from symconv.sizes import Size, as_expr

__all__ = ["training_nests", "has_training_forward", "values_per_channel", "one_value_per_channel",
           "TRAINING_PARTS", "BATCHNORM_MOMENTUM", "Nests"]

#: ``(name, nest)`` of each part a training-mode forward runs, in order.
Nests = tuple[tuple[str, LoopNest], ...]

#: The names of BatchNorm's training-mode parts, in the order they run (without running
#: statistics, ``track_running_stats=False``: no ``running_stats``).
TRAINING_PARTS = ("statistics", "running_stats", "constants", "normalise")

#: PyTorch's default momentum of the running statistics (a constant: it changes no count).
BATCHNORM_MOMENTUM = sympy.Rational(1, 10)


@functools.singledispatch
def training_nests(layer: Layer, input_spatial: tuple[Size, ...],
                   output_spatial: tuple[Size, ...], in_channels: Size | None = None) -> Nests:
    """The loop nests of ``layer``'s forward pass in training mode, one per named part.

    Only layers whose training-mode forward differs from their inference forward register one
    (:func:`has_training_forward`); the others raise :class:`NotImplementedError`.
    """
    raise NotImplementedError(f"{type(layer).__name__} runs in training mode as at inference")


def has_training_forward(layer: Layer) -> bool:
    """Whether ``layer``'s forward pass in training mode differs from its inference forward.

    Examples
    --------
    >>> from symconv.layers import BatchNorm1d, Conv2d
    >>> has_training_forward(BatchNorm1d(4)), has_training_forward(Conv2d(3, 8, 3))
    (True, False)
    """
    kind = type(layer)
    registered = len(training_nests.registry)
    if _KNOWN.get(None) != registered:          # a registration since: work it out again
        _KNOWN.clear()
        _KNOWN[None] = registered
    found = _KNOWN.get(kind)
    if found is None:
        found = _KNOWN[kind] = (training_nests.dispatch(kind)
                                is not training_nests.dispatch(object))
    return bool(found)


#: :func:`has_training_forward` by layer type (a singledispatch lookup is slow in a long walk),
#: and under ``None`` the number of registrations it was worked out with.
_KNOWN: dict[type | None, int | bool] = {}


def values_per_channel(layer: BatchNorm2d, input_spatial: tuple[Size, ...]) -> sympy.Expr:
    """``E``, the values a channel's batch statistics are taken over; raises where it is 1 (the
    backward pass with batch statistics, :mod:`symconv.layers.backward`, checks it too)."""
    whole: int | None = 1
    for size in input_spatial:   # a plain loop: a training step's every BatchNorm runs it twice
        if not isinstance(size, (int, sympy.Integer)):
            whole = None
            break
        whole *= int(size)   # type: ignore[operator]
    values = (sympy.Integer(whole) if whole is not None
              else sympy.Mul(*(as_expr(size) for size in input_spatial)))
    if whole == 1 or (whole is None and values == 1):
        raise SymconvError(one_value_per_channel(layer))
    return values


def one_value_per_channel(layer: BatchNorm2d) -> str:
    """Why ``layer`` refuses one value per channel, as PyTorch does: in training mode, or in
    any mode without running statistics (``track_running_stats=False``)."""
    name = type(layer).__name__
    if not layer.track_running_stats:
        return (f"{name}({layer.channels}, track_running_stats=False) on 1 value per channel: "
                "without running statistics it normalises with the batch's statistics at "
                "inference too, and PyTorch raises 'Expected more than 1 value per channel when "
                "training' in eval mode as well; give it an input with more than one position "
                "(a larger resolution)")
    return (f"{name}({layer.channels}) in training mode on 1 value per channel: the unbiased "
            "variance of the running statistics divides by 0 (PyTorch raises 'Expected more "
            "than 1 value per channel when training'); give it an input with more than one "
            "position (a larger resolution), or count the forward pass alone (phase='forward')")


def _per_channel(channels: tuple[Size, ...], table: tuple[tuple[str, Size], ...]) -> LoopNest:
    return LoopNest((), (), channels, False, "sum", table)   # by position, as _elements


@training_nests.register
def _(layer: BatchNorm2d, input_spatial: tuple[Size, ...], output_spatial: tuple[Size, ...],
      in_channels: Size | None = None) -> Nests:
    channels = (layer.channels,)
    values = values_per_channel(layer, input_spatial)
    statistics = LoopNest(outer=channels, inner=tuple(input_spatial), outputs=channels,
                          multiply=False, per_outer=batch_statistics(values))
    running = (("running_stats", _per_channel(channels, (("mults", 4), ("adds", 2),
                                                         ("divs", 1)))),)
    return (
        ("statistics", statistics),
        *(running if layer.track_running_stats else ()),   # none kept: nothing to update
        ("constants", _per_channel(channels, batch_constants(layer.affine))),
        ("normalise", LoopNest(outer=(), inner=(), outputs=(*input_spatial, layer.channels),
                               multiply=False, per_output=(("mults", 1), ("adds", 1)))),
    )
