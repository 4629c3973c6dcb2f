"""``python -m clobkit``: the command line (see :mod:`clobkit.cli`)."""

from __future__ import annotations

import sys

from clobkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
