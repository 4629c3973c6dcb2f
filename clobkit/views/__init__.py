"""pandas views of everything clobkit simulates: books, node logs, WALs, the trace, lag, histories.

Each function returns a DataFrame whose column names and dtypes are a module constant (a
``dict`` of column name -> dtype, in column order), so notebooks, the dashboard and tests can
rely on them; empty inputs give empty frames with the same columns. pandas is imported inside
the functions, so ``import clobkit.views`` stays light.

Units, the same in every view: quantities are ``int64`` whole lots (``qty``, ``qty_lots``,
``cum_qty``, ``position``); a ``price`` column is ``float64`` in price units, for plots and
analysis, and wherever it comes straight from a book an exact ``int64`` ``price_ticks`` sits
beside it (compare, sum and join on that). Text columns people read (node logs, WAL commands,
history ``input_text``/``output_text``, trace details from a cluster) write prices as the market
spec does, ``100.50``.

>>> import clobkit.views as cv
>>> from clobkit.book import MarketSpec, OrderBook
>>> list(cv.fills(OrderBook(MarketSpec("ACME"))).columns) == list(cv.FILL_COLUMNS)
True
"""

from __future__ import annotations

from clobkit.views.book import (
    DEPTH_COLUMNS,
    FILL_COLUMNS,
    LIVE_ORDER_COLUMNS,
    PNL_COLUMNS,
    POSITION_COLUMNS,
    VWAP_BUCKET_COLUMNS,
    VWAP_COLUMNS,
    committed_books,
    committed_node,
    depth,
    fills,
    live_orders,
    pnl,
    positions,
    vwap,
)
from clobkit.views.checking import CAMPAIGN_COLUMNS, HISTORY_COLUMNS, campaign, history
from clobkit.views.export import MissingDependency, export
from clobkit.views.lag import LAG_COLUMNS, STATE_COLUMNS, lag, state_at
from clobkit.views.nodes import (
    NODE_COLUMNS,
    NODE_LOG_COLUMNS,
    RECOVERY_COLUMNS,
    WAL_COLUMNS,
    node_log,
    nodes,
    recovery,
    wal,
)
from clobkit.views.trace import (
    COMMIT_COLUMNS,
    EVENT_COLUMNS,
    FAULT_COLUMNS,
    MESSAGE_COLUMNS,
    TRACE_COLUMNS,
    commits,
    events,
    fault_intervals,
    messages,
    trace,
)

__all__ = [
    "CAMPAIGN_COLUMNS",
    "COMMIT_COLUMNS",
    "DEPTH_COLUMNS",
    "EVENT_COLUMNS",
    "FAULT_COLUMNS",
    "FILL_COLUMNS",
    "HISTORY_COLUMNS",
    "LAG_COLUMNS",
    "LIVE_ORDER_COLUMNS",
    "MESSAGE_COLUMNS",
    "NODE_COLUMNS",
    "NODE_LOG_COLUMNS",
    "PNL_COLUMNS",
    "POSITION_COLUMNS",
    "RECOVERY_COLUMNS",
    "STATE_COLUMNS",
    "TRACE_COLUMNS",
    "VWAP_BUCKET_COLUMNS",
    "VWAP_COLUMNS",
    "WAL_COLUMNS",
    "MissingDependency",
    "campaign",
    "commits",
    "committed_books",
    "committed_node",
    "depth",
    "events",
    "export",
    "fault_intervals",
    "fills",
    "history",
    "lag",
    "live_orders",
    "messages",
    "node_log",
    "nodes",
    "pnl",
    "positions",
    "recovery",
    "state_at",
    "trace",
    "vwap",
    "wal",
]
