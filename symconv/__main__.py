"""``python -m symconv``: the same as the ``symconv`` command."""

import sys

from symconv.cli import main

sys.exit(main())
