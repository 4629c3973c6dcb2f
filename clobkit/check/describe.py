"""Book operations and states in words, kept at their old import path.

They live in :mod:`clobkit.book.describe` now: the simulator's history shows prices the way
people typed them too, and the simulator sits below the checker (see
``tests/test_layering.py``). This module re-exports them.

>>> from clobkit.book import MarketSpec
>>> describe_input(("cancel", "ACME", "alice", 7), MarketSpec("ACME", tick="0.01"))
'cancel #7 by alice'
"""

from __future__ import annotations

from clobkit.book.describe import (
    Formats,
    describe_book,
    describe_input,
    describe_output,
    formats_for,
)

__all__ = ["Formats", "describe_book", "describe_input", "describe_output", "formats_for"]
