"""torchvision's model definitions, with the CPU torch wheel the tests install.

torchvision's PyPI wheel is built against a CUDA torch: with the CPU wheel (``torch==2.13.0``),
``import torchvision`` fails in ``torchvision/_meta_registrations.py``, which registers meta
kernels for torchvision's compiled operators (``nms``, ``roi_align``, ...) that cannot load.
The model definitions in ``torchvision.models`` need none of those operators. So the tests
install torchvision without its dependencies (``pip install --no-deps torchvision==0.28.0``, as
``.ci/run`` does) and import it with that one module replaced by an empty one
(``tests/conftest.py`` does it before any test runs: ptflops imports ``torchvision.ops`` too):
every classification model builds and runs; detection models that call ``nms`` would not.

:func:`models` returns ``torchvision.models`` or skips the calling test with the reason.
"""

from __future__ import annotations

import sys
import types
from typing import Any

import pytest


def models() -> Any:
    """``torchvision.models``, importable with the CPU torch wheel; skips when unavailable."""
    pytest.importorskip("torch")
    if "torchvision" not in sys.modules:
        sys.modules.setdefault("torchvision._meta_registrations",
                               types.ModuleType("torchvision._meta_registrations"))
    try:
        import torchvision.models
    except Exception as error:  # any failure means: skip, with the reason
        pytest.skip(f"torchvision.models cannot be imported here: {error}")
    return torchvision.models
