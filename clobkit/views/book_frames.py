"""The order book's pandas and HTML views, kept at their old import path.

They live in :mod:`clobkit.book.frames` now, beside the book they show, so that the book
never imports a higher layer (see ``tests/test_layering.py``). This module re-exports them.

>>> from clobkit.views.book_frames import FILL_COLUMNS
>>> FILL_COLUMNS["price"]
'float64'
"""

from __future__ import annotations

from clobkit.book.frames import (
    DEPTH_COLUMNS,
    FILL_COLUMNS,
    LIVE_ORDER_COLUMNS,
    depth_df,
    fills_df,
    ladder_html,
    live_orders_df,
    orders_frame,
)

__all__ = [
    "DEPTH_COLUMNS",
    "FILL_COLUMNS",
    "LIVE_ORDER_COLUMNS",
    "depth_df",
    "fills_df",
    "ladder_html",
    "live_orders_df",
    "orders_frame",
]
