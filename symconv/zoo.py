"""The networks of the papers: :func:`mobilenet_v1`, :func:`mobilenet_v2`, looked up by :func:`network`.

Kept where the README and ``docs/`` document it; the code lives in :mod:`symconv.networks.zoo`.
"""

from symconv.networks.zoo import (
    NETWORKS,
    mobilenet_v1,
    mobilenet_v2,
    network,
)

__all__ = ['NETWORKS', 'network', 'mobilenet_v1', 'mobilenet_v2']
