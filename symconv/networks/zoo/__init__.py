"""Networks from the papers, built from symconv layers: the MobileNets.

Each builder takes a width multiplier ``alpha`` and a resolution multiplier ``rho`` (numbers, or
the symbols :data:`symconv.symbols.alpha` and :data:`symconv.symbols.rho`), or ``resolution=``
in pixels, and returns a :class:`~symconv.layers.Sequential` that carries its input shape.
``rounding="exact"`` rounds channel counts as the network does, for a symbolic ``alpha`` too
(formulas exact at every ``alpha``); ``rounding="none"`` keeps ``alpha·c`` (for a symbol, the
smooth polynomial, an approximation: :func:`approximation_errors`). The default is ``"exact"``
for a number and ``"none"`` for a symbol.

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

from collections.abc import Callable, Iterable

import sympy

from symconv.errors import SymconvError
from symconv.layers import Sequential
from symconv.networks.conventions import count
from symconv.networks.zoo._common import multiplier
from symconv.networks.zoo.mobilenet_v1 import PAPER_ALPHAS as _V1_ALPHAS
from symconv.networks.zoo.mobilenet_v1 import mobilenet_v1
from symconv.networks.zoo.mobilenet_v2 import PAPER_ALPHAS as _V2_ALPHAS
from symconv.networks.zoo.mobilenet_v2 import mobilenet_v2
from symconv.symbols import alpha as alpha_symbol

__all__ = ["NETWORKS", "PAPER_ALPHAS", "network", "approximation_errors", "mobilenet_v1",
           "mobilenet_v2"]

#: The builders by name: ``builder(alpha=1, rho=1, *, resolution=None, rounding=None)``.
NETWORKS: dict[str, Callable[..., Sequential]] = {
    "mobilenet_v1": mobilenet_v1,
    "mobilenet_v2": mobilenet_v2,
}
#: The width multipliers each paper reports results for (V2: and TF-slim's checkpoint table).
PAPER_ALPHAS: dict[str, tuple[sympy.Expr, ...]] = {
    "mobilenet_v1": _V1_ALPHAS,
    "mobilenet_v2": _V2_ALPHAS,
}


def network(
    name: str, alpha: object = 1, rho: object = 1, *, resolution: object = None,
    rounding: str | None = None,
) -> Sequential:
    """Build the network called ``name`` (a key of :data:`NETWORKS`).

    Raises
    ------
    SymconvError
        For an unknown name (the message lists the known ones) or bad multipliers.
    """
    if name not in NETWORKS:
        raise SymconvError(f"network={name!r} is unknown; use one of {', '.join(NETWORKS)}")
    return NETWORKS[name](alpha, rho, resolution=resolution, rounding=rounding)


def approximation_errors(
    name: str, *, convention: str = "macs", alphas: Iterable[object] | None = None,
) -> dict[sympy.Expr, sympy.Expr]:
    """The smooth polynomial's relative error at each ``alpha``, at 224×224 pixels.

    The polynomial is the count of ``network(name, alpha, rounding="none")`` with the symbol
    ``alpha`` (every channel count ``alpha·c``, unrounded); it is compared with the count of the
    network built with each number, which rounds as the network does. Errors are exact
    rationals, ``(polynomial − network) / network``; negative means the polynomial undercounts.

    Parameters
    ----------
    name
        A key of :data:`NETWORKS`.
    convention
        What is counted (:func:`symconv.networks.conventions.count`): ``"macs"``, ``"params"``...
    alphas
        The multipliers; by default those of the paper, :data:`PAPER_ALPHAS`.

    Examples
    --------
    >>> errors = approximation_errors("mobilenet_v2")
    >>> errors[sympy.Rational(3, 4)]
    -926394/6533431
    >>> {str(alpha): f"{float(error):+.1%}" for alpha, error in errors.items()}
    {'7/5': '-3.9%', '13/10': '-4.3%', '1': '+0.0%', '3/4': '-14.2%', '1/2': '-8.3%', '7/20': '-16.1%'}
    >>> set(approximation_errors("mobilenet_v1", convention="params").values())
    {0}
    """
    if name not in NETWORKS:
        raise SymconvError(f"network={name!r} is unknown; use one of {', '.join(NETWORKS)}")
    polynomial = count(network(name, alpha_symbol, rounding="none"), convention=convention)
    errors: dict[sympy.Expr, sympy.Expr] = {}
    for value in PAPER_ALPHAS[name] if alphas is None else alphas:
        exact = multiplier(value, "alpha")
        actual = count(network(name, exact), convention=convention)
        errors[exact] = (polynomial.subs(alpha_symbol, exact) - actual) / actual
    return errors
