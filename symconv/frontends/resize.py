"""``F.interpolate`` called in ``forward`` (nearest and bilinear, on ``(N, C, H, W)``), as
:class:`~symconv.layers.Upsample` with ``spelling="F"`` (:func:`interpolate_layer`). The modules
(``nn.Upsample``, ``nn.UpsamplingNearest2d``, ``nn.UpsamplingBilinear2d``, ``nn.PReLU``) are in
:func:`symconv.frontends.mapping.module_layer`. Other modes (``linear``, ``bicubic``,
``trilinear``, ``nearest-exact``, ``area``), ``antialias=True`` and downsampling are refused by
name.

Nothing here imports torch: tensors are read by their ``dim()``.

Examples
--------
>>> x = type("Tensor", (), {"dim": lambda self: 4})()
>>> interpolate_layer(x, (x,), {"scale_factor": 2, "mode": "bilinear"}).kind
'F.interpolate:bilinear'
>>> interpolate_layer(x, (x, None, 2, "bicubic"), {})
Traceback (most recent call last):
...
symconv.frontends.mapping.Unsupported: mode='bicubic': symconv counts nearest and bilinear only
"""

from __future__ import annotations

from typing import Any

from symconv.frontends.mapping import Unsupported, upsample_layer
from symconv.layers import Layer

__all__ = ["interpolate_layer"]

_ARGUMENTS = ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor",
              "antialias")


def interpolate_layer(first: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Layer:
    """The layer of ``F.interpolate(first, ...)`` called in ``forward``."""
    given = dict(zip(_ARGUMENTS, args[1:]))
    given.update((key, value) for key, value in kwargs.items() if key != "input")
    unknown = set(given) - set(_ARGUMENTS)
    if unknown:
        raise Unsupported(f"called with {', '.join(sorted(unknown))}=...")
    if given.get("antialias"):
        raise Unsupported("antialias=True: symconv counts plain nearest and bilinear resizing")
    return upsample_layer(first.dim() - 1, "F", given.get("size"), given.get("scale_factor"),
                          given.get("mode", "nearest"), given.get("align_corners"),
                          given.get("recompute_scale_factor"))
