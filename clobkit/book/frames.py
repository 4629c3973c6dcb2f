"""pandas views of one order book: fills, live orders and depth, plus the HTML price ladder.

pandas is imported inside each function so ``import clobkit`` stays light. Every frame has
stable column names and dtypes, also when empty. Prices appear twice: ``price`` in price
units (``float64`` for analysis and plots, computed as ``ticks * n / d`` for the exact tick
fraction ``n/d``, so it is the correctly rounded float of the exact price) and
``price_ticks`` (``int64``, exact: use it to compare, sum or join prices). Quantities are
whole lots, ``int64`` and exact: ``qty`` (what people read; with the default lot of 1 a lot is
one unit) and ``qty_lots`` (the same count, under the name that says it is lots).

Fills are built from the book's column arrays with numpy, so a million fills take
milliseconds, not a Python loop.

>>> from clobkit.book import MarketSpec, OrderBook
>>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
>>> _ = book.place("a", "sell", price="100.50", qty=3)
>>> _ = book.place("b", "buy", price="101", qty=2)
>>> fills_df(book)[["price", "price_ticks", "qty_lots", "maker_user"]].to_dict("records")
[{'price': 100.5, 'price_ticks': 10050, 'qty_lots': 2, 'maker_user': 'a'}]
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from clobkit.book.orderbook import OrderBook
    from clobkit.book.results import Order
    from clobkit.book.spec import MarketSpec

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

#: ``fills_df`` columns and dtypes. ``aggressor_side`` is "buy"/"sell" (the taker's side).
FILL_COLUMNS: dict[str, str] = {
    "fill_id": "int64",
    "seq": "int64",
    "ts_us": "int64",
    "market": "object",
    "price": "float64",
    "price_ticks": "int64",
    "qty": "int64",
    "qty_lots": "int64",
    "taker_order_id": "int64",
    "maker_order_id": "int64",
    "taker_user": "object",
    "maker_user": "object",
    "aggressor_side": "object",
}

#: ``live_orders_df`` columns and dtypes (rows in price-time order, bids first).
LIVE_ORDER_COLUMNS: dict[str, str] = {
    "order_id": "int64",
    "user": "object",
    "side": "object",
    "price": "float64",
    "price_ticks": "int64",
    "qty": "int64",
    "qty_lots": "int64",
    "filled_qty_lots": "int64",
    "cancelled_qty_lots": "int64",
    "original_qty_lots": "int64",
    "seq": "int64",
    "ts_us": "int64",
    "client_order_id": "object",  # the client's own id, None when it gave none
}

#: ``depth_df`` columns and dtypes; ``level`` is 0 for the best price of each side.
DEPTH_COLUMNS: dict[str, str] = {
    "side": "object",
    "level": "int64",
    "price": "float64",
    "price_ticks": "int64",
    "qty": "int64",
    "qty_lots": "int64",
    "order_count": "int64",
}


def _scale(values: Any, unit: Fraction) -> Any:
    """int64 numpy array of ticks/lots -> float64 in price/qty units (correctly rounded)."""
    import numpy as np

    return values.astype(np.float64) * unit.numerator / unit.denominator


def _frame(data: dict[str, Any], columns: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    # Each column is built at its final dtype. Letting pandas infer first is slow on pandas 3:
    # it converts object arrays to its string dtype, and astype(object) then converts back.
    return pd.DataFrame(
        {
            name: pd.Series(data.get(name, []), dtype=dtype, copy=False)
            for name, dtype in columns.items()
        }
    )


def _repeat(value: object, count: int) -> Any:
    """An object array of ``count`` references to ``value`` (``np.full`` is far slower)."""
    import numpy as np

    out = np.empty(count, dtype=object)
    out.fill(value)
    return out


def fills_df(book: OrderBook, user: str | None = None) -> pd.DataFrame:
    """All fills (or those where ``user`` was taker or maker) as a DataFrame. O(fills).

    Columns and dtypes: :data:`FILL_COLUMNS`.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> list(fills_df(OrderBook(MarketSpec("ACME"))).dtypes.astype(str))[:4]
    ['int64', 'int64', 'int64', 'object']
    """
    import numpy as np

    cols = {k: np.frombuffer(v, dtype=v.typecode) for k, v in book.fill_columns().items()}
    count = len(cols["seq"])
    rows = np.arange(count, dtype=np.int64)
    if user is not None:
        users = book.fill_users()
        uid = users.index(user) if user in users else -1
        mask = (cols["taker_user_id"] == uid) | (cols["maker_user_id"] == uid)
        rows = rows[mask]
        cols = {k: v[mask] for k, v in cols.items()}
    user_table = np.array(book.fill_users() or ("",), dtype=object)
    data = {
        "fill_id": rows,
        "seq": cols["seq"].astype(np.int64),
        "ts_us": cols["ts_us"].astype(np.int64),
        "market": _repeat(book.spec.symbol, len(rows)),
        "price": _scale(cols["price_ticks"], book.spec.tick_fraction),
        "price_ticks": cols["price_ticks"].astype(np.int64),
        "qty": cols["qty_lots"].astype(np.int64),
        "qty_lots": cols["qty_lots"].astype(np.int64),
        "taker_order_id": cols["taker_order_id"].astype(np.int64),
        "maker_order_id": cols["maker_order_id"].astype(np.int64),
        "taker_user": user_table[cols["taker_user_id"]],
        "maker_user": user_table[cols["maker_user_id"]],
        "aggressor_side": np.array(["buy", "sell"], dtype=object)[cols["aggressor_side"]],
    }
    return _frame(data, FILL_COLUMNS)


def live_orders_df(book: OrderBook, user: str | None = None) -> pd.DataFrame:
    """Live orders (price-time order, bids first) as a DataFrame. O(orders).

    Columns and dtypes: :data:`LIVE_ORDER_COLUMNS`.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price="1.5", qty=2)
    >>> live_orders_df(book)[["user", "price", "qty_lots"]].to_dict("records")
    [{'user': 'a', 'price': 1.5, 'qty_lots': 2}]
    """
    return orders_frame(book.live_orders(user), book.spec)


def orders_frame(orders: Sequence[Order], spec: MarketSpec) -> pd.DataFrame:
    """Any list of :class:`~clobkit.book.Order` (for example one read from a cluster) as a
    DataFrame with the columns and dtypes of :data:`LIVE_ORDER_COLUMNS`. O(orders).

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "sell", price="2", qty=1)
    >>> list(orders_frame(book.live_orders(), book.spec)["price"])
    [2.0]
    """
    import numpy as np

    ticks = np.array([o.price for o in orders], dtype=np.int64)
    lots = np.array([o.qty for o in orders], dtype=np.int64)
    data = {
        "order_id": [o.order_id for o in orders],
        "user": [o.user for o in orders],
        "side": [o.side for o in orders],
        "price": _scale(ticks, spec.tick_fraction),
        "price_ticks": ticks,
        "qty": lots,
        "qty_lots": lots,
        "filled_qty_lots": [o.filled_qty for o in orders],
        "cancelled_qty_lots": [o.cancelled_qty for o in orders],
        "original_qty_lots": [o.original_qty for o in orders],
        "seq": [o.seq for o in orders],
        "ts_us": [o.ts_us for o in orders],
        "client_order_id": [o.client_order_id for o in orders],
    }
    return _frame(data, LIVE_ORDER_COLUMNS)


def depth_df(book: OrderBook, levels: int = 10) -> pd.DataFrame:
    """Top ``levels`` per side as a DataFrame, bids (best first) then asks. O(levels).

    Columns and dtypes: :data:`DEPTH_COLUMNS`.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> depth_df(OrderBook(MarketSpec("ACME"))).shape
    (0, 7)
    """
    import numpy as np

    depth = book.depth(levels)
    rows = [
        (side, i, price, qty, count)
        for key, side in (("bids", "buy"), ("asks", "sell"))
        for i, (price, qty, count) in enumerate(depth[key])
    ]
    ticks = np.array([r[2] for r in rows], dtype=np.int64)
    lots = np.array([r[3] for r in rows], dtype=np.int64)
    data = {
        "side": [r[0] for r in rows],
        "level": [r[1] for r in rows],
        "price": _scale(ticks, book.spec.tick_fraction),
        "price_ticks": ticks,
        "qty": lots,
        "qty_lots": lots,
        "order_count": [r[4] for r in rows],
    }
    return _frame(data, DEPTH_COLUMNS)


def ladder_html(book: OrderBook, levels: int = 5) -> str:
    """A small escaped HTML price ladder: asks above (highest first), bids below.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> "<table" in ladder_html(OrderBook(MarketSpec("A&B")))
    True
    """
    depth = book.depth(levels)
    spec = book.spec
    esc = html.escape
    rows = []
    for price, qty, count in reversed(depth["asks"]):
        rows.append(
            f"<tr><td></td><td>{esc(spec.format_price(price))}</td>"
            f"<td>{esc(str(spec.lots_to_qty(qty)))} ({count})</td></tr>"
        )
    for price, qty, count in depth["bids"]:
        rows.append(
            f"<tr><td>{esc(str(spec.lots_to_qty(qty)))} ({count})</td>"
            f"<td>{esc(spec.format_price(price))}</td><td></td></tr>"
        )
    if not rows:
        rows.append('<tr><td colspan="3"><i>empty book</i></td></tr>')
    caption = esc(f"{spec.symbol}: seq {book.last_seq}, {len(book)} live orders")
    return (
        f"<table><caption>{caption}</caption>"
        "<tr><th>bids</th><th>price</th><th>asks</th></tr>" + "".join(rows) + "</table>"
    )
