"""Per-layer rows of a network: :func:`rows`, :func:`totals`, :class:`LayerRow`.

Kept where the README and ``docs/`` document it; the code lives in :mod:`symconv.networks.rows`.
"""

from symconv.networks.rows import (
    LayerRow,
    as_cost,
    rows,
    totals,
)

__all__ = ['LayerRow', 'rows', 'totals', 'as_cost']
