"""Networks from the papers, built from symconv layers: the MobileNets.

Each builder takes a width multiplier ``alpha`` and a resolution multiplier ``rho`` (numbers, or
the symbols :data:`symconv.symbols.alpha` and :data:`symconv.symbols.rho`), or ``resolution=``
in pixels, and returns a :class:`~symconv.layers.Sequential` that carries its input shape.

Examples
--------
>>> from symconv.networks.conventions import count
>>> sorted(NETWORKS)
['mobilenet_v1', 'mobilenet_v2']
>>> count(network("mobilenet_v2", resolution=160), convention="macs")
154083200
>>> network("resnet50")
Traceback (most recent call last):
...
symconv.errors.SymconvError: network='resnet50' is unknown; use one of mobilenet_v1, mobilenet_v2
"""

from __future__ import annotations

from collections.abc import Callable

from symconv.errors import SymconvError
from symconv.layers import Sequential
from symconv.networks.zoo.mobilenet_v1 import mobilenet_v1
from symconv.networks.zoo.mobilenet_v2 import mobilenet_v2

__all__ = ["NETWORKS", "network", "mobilenet_v1", "mobilenet_v2"]

#: The builders by name: ``builder(alpha=1, rho=1, *, resolution=None)``.
NETWORKS: dict[str, Callable[..., Sequential]] = {
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
}


def network(name: str, alpha: object = 1, rho: object = 1, *, resolution: object = None) -> Sequential:
    """Build the network called ``name`` (a key of :data:`NETWORKS`).

    Raises
    ------
    SymconvError
        For an unknown name (the message lists the known ones) or bad multipliers.
    """
    if name not in NETWORKS:
        raise SymconvError(f"network={name!r} is unknown; use one of {', '.join(NETWORKS)}")
    return NETWORKS[name](alpha, rho, resolution=resolution)
