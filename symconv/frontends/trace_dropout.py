"""The dropout functions as traced: :func:`functional_dropout`.

``F.dropout`` and its kin take ``training`` as an argument. Called with the module's mode
(``training=self.training``, as torchvision's GoogLeNet and Inception write it), the call is
the identity at inference and drops elements in a training step: it is recorded as the layer
``nn.Dropout`` of the same ``p`` would be (:func:`symconv.frontends.mapping.dropout_layer`),
which a training step counts (:mod:`symconv.layers.dropout_train`). Called with a literal
``training=False`` it never drops: no stage. Called with ``training=True`` (the default of
``F.dropout`` and ``F.dropout1d/2d/3d``) it drops at random in eval mode too: refused, as
symconv counts a model in eval mode. Traced in eval mode, both receive ``False``: the call's
source tells them apart (:func:`symconv.frontends.module_mode.training_reads_module_mode`).

============================  ===================  ===========================
function                      its ``nn`` module    ``training`` by default
============================  ===================  ===========================
``F.dropout``                 ``nn.Dropout``       ``True``
``F.dropout1d/2d/3d``         ``nn.Dropout1d/2d/3d``  ``True``
``F.alpha_dropout``           ``nn.AlphaDropout``  ``False``
``F.feature_alpha_dropout``   ``nn.FeatureAlphaDropout``  ``False``
============================  ===================  ===========================

Examples
--------
>>> def mode() -> bool:   # what the caller's source says: training=self.training
...     return True
>>> functional_dropout("dropout", 3, (None, 0.2), {"training": False}, channels_first=True,
...                    follows_mode=mode)
Dropout(p=0.2)
>>> functional_dropout("dropout2d", 3, (None, 0.2, False), {}, channels_first=True,
...                    follows_mode=mode)
FeatureDropout(p=0.2)
>>> functional_dropout("dropout", 3, (None, 0.2), {"training": False}, channels_first=True,
...                    follows_mode=lambda: False) is None
True
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real
from types import SimpleNamespace
from typing import Any

from symconv.frontends.mapping import Unsupported, dropout_layer
from symconv.frontends.module_mode import training_reads_module_mode
from symconv.layers import Layer

__all__ = ["functional_dropout"]

#: Each dropout function's module class, and whether it trains by default.
_FUNCTIONS = {"dropout": ("Dropout", True), "dropout1d": ("Dropout1d", True),
              "dropout2d": ("Dropout2d", True), "dropout3d": ("Dropout3d", True),
              "alpha_dropout": ("AlphaDropout", False),
              "feature_alpha_dropout": ("FeatureAlphaDropout", False)}


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str,
              default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def functional_dropout(function: str, rank: int, args: tuple[Any, ...], kwargs: dict[str, Any],
                       *, channels_first: bool, follows_mode: Callable[[], bool] | None = None
                       ) -> Layer | None:
    """The stage of a call of the dropout function ``F.<function>`` on a tensor of ``rank``
    axes after the batch (``None``: the identity, no stage).

    Parameters
    ----------
    function
        The function's name in ``torch.nn.functional``.
    rank
        The axes of its input after the batch.
    args, kwargs
        The call's arguments, as traced (in eval mode).
    channels_first
        Whether the input's axes are in PyTorch's ``(N, C, *spatial)`` order (a channel
        dropout on permuted axes is refused: it would draw along another axis).
    follows_mode
        Whether a false ``training`` is the module's mode (default: the running call's source,
        read while ``F.<function>`` runs).

    Raises
    ------
    Unsupported
        ``training=True`` (drops at random in eval mode), ``p`` not a number, or a channel
        dropout on permuted axes or on an input of the wrong rank.
    """
    name, trains = _FUNCTIONS[function]
    training = _argument(args, kwargs, 2, "training", trains)
    p = _argument(args, kwargs, 1, "p", 0.5)
    if training or not (follows_mode or _from_source(function))():
        if training:
            given = len(args) > 2 or "training" in kwargs
            raise Unsupported(f"training=True{'' if given else ' (its default)'} drops "
                              "elements at random even in eval mode; pass "
                              "training=self.training")
        return None   # a literal training=False: the identity in training too
    if not isinstance(p, Real) or isinstance(p, bool):
        raise Unsupported(f"p={p!r}: symconv follows a dropout probability given as a number")
    if p == 0:
        return None   # torch returns the input in training mode too
    if name not in ("Dropout", "AlphaDropout") and not channels_first:
        raise Unsupported("it draws one value per channel, and gets a tensor whose axes "
                          "PyTorch permuted; symconv follows it on (N, C, *spatial)")
    return dropout_layer(name, rank, SimpleNamespace(p=p), called=f"F.{function}")


def _from_source(function: str) -> Callable[[], bool]:
    """Whether the running call of ``F.<function>`` takes its ``training`` from a module's mode,
    read from its caller's source."""
    def follows() -> bool:
        import torch.nn.functional

        return training_reads_module_mode(getattr(torch.nn.functional, function))
    return follows
