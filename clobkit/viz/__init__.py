"""plotly figures of clobkit: the book, replication lag, messages in space-time, histories, logs.

Every function returns a :class:`plotly.graph_objects.Figure` and never shows it; display it
in a notebook by leaving it as a cell's last expression, and wrap it with
``go.FigureWidget(fig)`` where it must update in place (the dashboard). Each accepts the live
objects (a book, an exchange, a cluster, a history) or the frames of :mod:`clobkit.views`, and
``height=``/``title=`` keywords. Colours are consistent across figures: one per node
(:func:`node_color`), one per side (:data:`SIDE_COLORS`) and one per call outcome
(:data:`OUTCOME_COLORS`). plotly is imported inside the functions, so ``import clobkit.viz``
stays light.

>>> import clobkit.viz as cz
>>> from clobkit.book import MarketSpec, OrderBook
>>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price=1, qty=2)
>>> [t.name for t in cz.depth_chart(book).data]
['bids', 'asks']
"""

from __future__ import annotations

from clobkit.viz.book import depth_chart, price_ladder
from clobkit.viz.fills import fills_chart, positions_chart, vwap_chart
from clobkit.viz.history import history_timeline
from clobkit.viz.lag import LAG_METRICS, add_fault_bands, lag_chart
from clobkit.viz.log_grid import log_grid
from clobkit.viz.picture import cluster_animation, cluster_picture
from clobkit.viz.picture_data import picture_state
from clobkit.viz.spacetime import spacetime_diagram
from clobkit.viz.style import (
    CLIENT_COLOR,
    FAULT_COLORS,
    NODE_PALETTE,
    OUTCOME_COLORS,
    SIDE_COLORS,
    node_color,
    user_color,
)

__all__ = [
    "CLIENT_COLOR",
    "FAULT_COLORS",
    "LAG_METRICS",
    "NODE_PALETTE",
    "OUTCOME_COLORS",
    "SIDE_COLORS",
    "add_fault_bands",
    "cluster_animation",
    "cluster_picture",
    "depth_chart",
    "fills_chart",
    "history_timeline",
    "lag_chart",
    "log_grid",
    "node_color",
    "positions_chart",
    "picture_state",
    "price_ladder",
    "spacetime_diagram",
    "user_color",
    "vwap_chart",
]
