"""The one conftest of the suite (symconv/ doctests, tests/, docs/, README.md).

Hypothesis profiles: ``ci`` (the default) and ``dev``, chosen by ``HYPOTHESIS_PROFILE``.

``ci`` is derandomized, without deadlines and with few examples, so that the suite is
reproducible and fast on two cores; ``dev`` draws many more, randomly, for local digging.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import types

from hypothesis import settings

# torchvision's PyPI wheel cannot register its compiled operators with the CPU torch wheel the
# tests install, and then `import torchvision` raises RuntimeError, also inside ptflops, which
# imports torchvision.ops when it can. The model definitions need none of those operators: see
# tests/torchvision_models.py. Set before anything imports torchvision.
sys.modules.setdefault("torchvision._meta_registrations",
                       types.ModuleType("torchvision._meta_registrations"))

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=40,
    database=None,
    print_blob=True,
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=500,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# docs/pytorch.md runs where torch and the five peers it compares with are installed.
_PYTORCH_DOC_NEEDS = ("torch", "ptflops", "thop", "fvcore", "torchinfo")
collect_ignore = [] if all(importlib.util.find_spec(name) for name in _PYTORCH_DOC_NEEDS) \
    else ["docs/pytorch.md"]
