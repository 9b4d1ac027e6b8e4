"""Hypothesis profiles: ``ci`` (the default) and ``dev``, chosen by ``HYPOTHESIS_PROFILE``.

``ci`` is derandomized, without deadlines and with few examples, so that the suite is
reproducible and fast on two cores; ``dev`` draws many more, randomly, for local digging.
"""

from __future__ import annotations

import os

from hypothesis import settings

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
