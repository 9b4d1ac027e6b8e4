"""The counting conventions, ours and five tools': :func:`count`, :func:`breakdown`, :func:`describe`.

Kept where the README and ``docs/`` document it; the code lives in :mod:`symconv.networks.conventions`.
"""

from symconv.networks.conventions import (
    CONVENTIONS,
    MAC_KINDS,
    PEERS,
    Convention,
    Rule,
    breakdown,
    count,
    describe,
    rules,
)

__all__ = ['CONVENTIONS', 'MAC_KINDS', 'PEERS', 'Convention', 'Rule', 'count', 'breakdown', 'describe', 'rules']
