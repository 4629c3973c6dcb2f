"""Order-book views: fills, live orders, depth, positions and VWAP as typed DataFrames.

A *source* is an :class:`~clobkit.book.OrderBook`, an :class:`~clobkit.book.Exchange` or a
:class:`~clobkit.sim.Cluster`. A cluster is read at its committed state without running the
simulation: the primary's book if a primary is up, else the book of the running replica in
normal status that has applied the most entries (a replica's book holds only committed
entries). ``consistent=True``
instead reads through the cluster's read path (``read_mode``), which runs the simulation until
the read returns, exactly as a client would see it.

Fills come straight from the book's column arrays (:meth:`~clobkit.book.OrderBook.fill_columns`)
through numpy, with no Python object per fill, so a million fills build in well under a second
(``benchmarks/bench_views.py``).

>>> from clobkit.book import MarketSpec, OrderBook
>>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
>>> _ = book.place("a", "sell", price="100.50", qty=3)
>>> _ = book.place("b", "buy", price="101", qty=2)
>>> positions(book)[["user", "position_lots", "cash", "pnl"]].values.tolist()
[['b', 2, -201.0, 0.0], ['a', -2, 201.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from clobkit.book.frames import DEPTH_COLUMNS as _BOOK_DEPTH_COLUMNS
from clobkit.book.frames import FILL_COLUMNS as _BOOK_FILL_COLUMNS
from clobkit.book.frames import LIVE_ORDER_COLUMNS as _BOOK_LIVE_ORDER_COLUMNS
from clobkit.book.frames import fills_df, orders_frame
from clobkit.errors import InvalidArgument, InvalidType, Unavailable
from clobkit.sim.results import book_values
from clobkit.views.common import conform, is_book, is_cluster, is_exchange, is_frame, typed_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import MarketSpec, OrderBook

__all__ = [
    "DEPTH_COLUMNS",
    "FILL_COLUMNS",
    "LIVE_ORDER_COLUMNS",
    "PNL_COLUMNS",
    "POSITION_COLUMNS",
    "VWAP_BUCKET_COLUMNS",
    "VWAP_COLUMNS",
    "committed_books",
    "committed_node",
    "depth",
    "fills",
    "live_orders",
    "pnl",
    "positions",
    "vwap",
]

#: :func:`fills` columns (the book's :data:`clobkit.book.frames.FILL_COLUMNS`):
#:
#: ============== ======= ==================================================
#: fill_id        int64   the book's fill number (from 0, per market)
#: seq            int64   log op / sequence number of the taker's command
#: ts_us          int64   the command's timestamp (simulated µs)
#: market         object  market symbol
#: price          float64 trade price in price units (the maker's price), for analysis
#: price_ticks    int64   trade price in ticks (exact: compare, sum and join on this)
#: qty            int64   traded quantity in whole lots (exact)
#: qty_lots       int64   the same count, under the name that says it is lots
#: taker_order_id int64   the incoming order
#: maker_order_id int64   the resting order
#: taker_user     object  taker's user
#: maker_user     object  maker's user
#: aggressor_side object  taker's side, "buy" or "sell"
#: ============== ======= ==================================================
FILL_COLUMNS: dict[str, str] = dict(_BOOK_FILL_COLUMNS)

#: :func:`live_orders` columns: ``market`` (object) then the book's
#: :data:`clobkit.book.frames.LIVE_ORDER_COLUMNS` (order_id, user, side, price, price_ticks,
#: qty, qty_lots, filled_qty_lots, cancelled_qty_lots, original_qty_lots, seq, ts_us,
#: client_order_id).
LIVE_ORDER_COLUMNS: dict[str, str] = {"market": "object", **_BOOK_LIVE_ORDER_COLUMNS}

#: :func:`depth` columns: ``market`` (object), the book's depth columns (side, level,
#: price, price_ticks, qty, qty_lots, order_count) and the cumulative quantity from the best
#: price outwards, ``cum_qty`` and ``cum_qty_lots`` (both int64 whole lots, equal).
DEPTH_COLUMNS: dict[str, str] = {
    "market": "object",
    **_BOOK_DEPTH_COLUMNS,
    "cum_qty": "int64",
    "cum_qty_lots": "int64",
}

#: :func:`positions` columns: one row per (fill, participating user), in fill order.
#:
#: ============= ======= ==========================================================
#: market        object  market symbol
#: fill_id       int64   the fill
#: seq           int64   its sequence number
#: ts_us         int64   its timestamp
#: user          object  the user whose position changed
#: role          object  "taker" or "maker"
#: side          object  that user's side in this fill, "buy" or "sell"
#: price         float64 trade price (price units)
#: qty_lots      int64   traded lots
#: position_lots int64   the user's position after this fill (lots, long > 0)
#: position      int64   the same (whole lots)
#: cash          float64 cash after this fill (sells add price*qty, buys subtract; price
#:                       units times lots, which is money when the lot is 1, the default)
#: mark_price    float64 last trade price in this market at this fill
#: pnl           float64 cash + position * mark_price (mark-to-last)
#: ============= ======= ==========================================================
POSITION_COLUMNS: dict[str, str] = {
    "market": "object",
    "fill_id": "int64",
    "seq": "int64",
    "ts_us": "int64",
    "user": "object",
    "role": "object",
    "side": "object",
    "price": "float64",
    "qty_lots": "int64",
    "position_lots": "int64",
    "position": "int64",
    "cash": "float64",
    "mark_price": "float64",
    "pnl": "float64",
}

#: :func:`pnl` columns: after every fill, one row per user who has traded so far in that market
#: (market, fill_id, seq, ts_us, user, position_lots, position, cash, mark_price = that fill's
#: price, pnl = cash + position * mark_price).
PNL_COLUMNS: dict[str, str] = {
    "market": "object",
    "fill_id": "int64",
    "seq": "int64",
    "ts_us": "int64",
    "user": "object",
    "position_lots": "int64",
    "position": "int64",
    "cash": "float64",
    "mark_price": "float64",
    "pnl": "float64",
}

#: :func:`vwap` columns without ``bucket_us``: one row per fill with running totals
#: (market, fill_id, seq, ts_us, price, qty, cum_qty, cum_notional, vwap; notional = price*qty;
#: qty and cum_qty are int64 whole lots, so notional is in price units times lots).
VWAP_COLUMNS: dict[str, str] = {
    "market": "object",
    "fill_id": "int64",
    "seq": "int64",
    "ts_us": "int64",
    "price": "float64",
    "qty": "int64",
    "cum_qty": "int64",
    "cum_notional": "float64",
    "vwap": "float64",
}

#: :func:`vwap` columns with ``bucket_us``: one row per non-empty time bucket
#: (``bucket_us`` = start of the bucket; open/high/low/close prices; qty, notional, vwap,
#: trades).
VWAP_BUCKET_COLUMNS: dict[str, str] = {
    "market": "object",
    "bucket_us": "int64",
    "open": "float64",
    "high": "float64",
    "low": "float64",
    "close": "float64",
    "qty": "int64",
    "notional": "float64",
    "vwap": "float64",
    "trades": "int64",
}


# -- resolving sources -----------------------------------------------------------------


def committed_books(source: Any, market: str | None = None) -> list[OrderBook]:
    """The order books behind ``source`` (one per market, or only ``market``). O(markets).

    For a cluster: the books of :func:`committed_node` (the primary, else the most advanced
    replica in normal status). Raises :class:`~clobkit.errors.InvalidType` for another kind
    of object, :class:`~clobkit.errors.InvalidArgument` for an unknown market and
    :class:`~clobkit.errors.Unavailable` when no replica of the cluster is running.

    >>> from clobkit.book import Exchange, MarketSpec
    >>> [b.spec.symbol for b in committed_books(Exchange([MarketSpec("A"), MarketSpec("B")]))]
    ['A', 'B']
    """
    if is_book(source):
        books = [source]
    elif is_exchange(source):
        books = [source.book(m) for m in source.markets]
    elif is_cluster(source):
        books = _cluster_books(source)
    else:
        raise InvalidType(
            f"source must be an OrderBook, Exchange or Cluster, got {type(source).__name__}"
        )
    if market is None:
        return books
    chosen = [b for b in books if b.spec.symbol == market]
    if not chosen:
        raise InvalidArgument(
            f"market must be one of {[b.spec.symbol for b in books]}, got {market!r}"
        )
    return chosen


def committed_node(cluster: Any) -> str:
    """Name of the node whose state stands for the cluster's committed state (see module doc)."""
    primary = cluster.primary
    if primary is not None and cluster.nodes[primary].machine is not None:
        return str(primary)
    # Without a primary: a replica in normal status (not a learner still catching up) whose
    # book has applied the most entries; ties go to the first in configuration order.
    best: tuple[bool, int, int, str] | None = None
    for position, name in enumerate(cluster.nodes):
        handle = cluster.nodes[name]
        replica = handle.replica
        if replica is None or handle.machine is None:
            continue
        applied = int(getattr(replica, "applied_op", handle.commit_number or 0))
        key = (handle.status == "normal", applied, -position, name)
        if best is None or key > best:
            best = key
    if best is None:
        raise Unavailable("no replica is running, so the cluster has no readable state")
    return best[3]


def _cluster_books(cluster: Any) -> list[OrderBook]:
    exchange = cluster.nodes[committed_node(cluster)].machine.exchange
    return [exchange.book(m) for m in exchange.markets]


def _spec_of(source: Any, market: str | None) -> MarketSpec:
    spec: MarketSpec = source.market
    if market is not None and market != spec.symbol:
        raise InvalidArgument(f"market must be {spec.symbol!r}, got {market!r}")
    return spec


# -- fills -------------------------------------------------------------------------------


def fills(
    source: Any, user: str | None = None, *, market: str | None = None, consistent: bool = False
) -> pd.DataFrame:
    """Every fill (or those where ``user`` was taker or maker) as a DataFrame. O(fills).

    Columns and dtypes: :data:`FILL_COLUMNS` (rows in (market, fill_id) order). Built from the
    books' column arrays, so a million fills take well under a second. ``consistent=True``
    (clusters only) reads through the read path and runs the simulation.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=3); _ = book.place("b", "buy", price=1, qty=2)
    >>> fills(book, "a")[["price", "qty_lots", "maker_user", "aggressor_side"]].to_dict("records")
    [{'price': 1.0, 'qty_lots': 2, 'maker_user': 'a', 'aggressor_side': 'buy'}]

    Raises :class:`~clobkit.errors.InvalidType` for an unknown kind of source and
    :class:`~clobkit.errors.InvalidArgument` for an unknown market.
    """
    _check_user(user)
    if consistent:
        cluster = _require_cluster_for_consistent(source)
        spec = _spec_of(cluster, market)
        return _fills_from_tuples(book_values(cluster.fills(user)), spec)
    books = committed_books(source, market)
    if len(books) == 1:
        return fills_df(books[0], user)
    import pandas as pd

    parts = [fills_df(b, user) for b in books]
    return pd.concat(parts, ignore_index=True).astype(FILL_COLUMNS)


def _object_column(values: Any) -> Any:
    """A pandas object Series over ``values`` (no string-dtype inference, no copy)."""
    import pandas as pd

    return pd.Series(values, dtype=object, copy=False)


def _filled(n: int, value: str) -> Any:
    """An object array of ``n`` references to ``value`` (np.full is ~100x slower for objects)."""
    import numpy as np

    out = np.empty(n, dtype=object)
    out.fill(value)
    return out


def _fills_from_tuples(rows: Sequence[Any], spec: MarketSpec) -> pd.DataFrame:
    import numpy as np

    ticks = np.array([f.price for f in rows], dtype=np.int64)
    lots = np.array([f.qty for f in rows], dtype=np.int64)
    data: dict[str, Any] = {
        name: [getattr(f, name) for f in rows]
        for name in FILL_COLUMNS
        if name not in ("price", "qty", "price_ticks", "qty_lots")
    }
    data["price_ticks"] = ticks
    data["qty_lots"] = lots
    data["price"] = _scale(ticks, spec.tick_fraction)
    data["qty"] = lots
    return typed_frame(data, FILL_COLUMNS)


def _scale(values: Any, unit: Any) -> Any:
    import numpy as np

    return np.asarray(values, dtype=np.int64).astype(np.float64) * unit.numerator / unit.denominator


def _check_user(user: object) -> None:
    if user is not None and not isinstance(user, str):
        raise InvalidArgument(f"user must be a str or None, got {user!r}")


def _require_cluster_for_consistent(source: Any) -> Any:
    if not is_cluster(source):
        raise InvalidArgument(
            f"consistent=True reads through a cluster's read path; got {type(source).__name__}"
        )
    return source


# -- live orders and depth ---------------------------------------------------------------


def live_orders(
    source: Any, user: str | None = None, *, market: str | None = None, consistent: bool = False
) -> pd.DataFrame:
    """Live orders (or ``user``'s) in price-time order, bids first, per market. O(orders).

    Columns and dtypes: :data:`LIVE_ORDER_COLUMNS`.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price="1.5", qty=2)
    >>> live_orders(book)[["market", "user", "price", "qty_lots"]].to_dict("records")
    [{'market': 'ACME', 'user': 'a', 'price': 1.5, 'qty_lots': 2}]
    """
    import pandas as pd

    from clobkit.book.frames import live_orders_df

    _check_user(user)
    if consistent:
        cluster = _require_cluster_for_consistent(source)
        spec = _spec_of(cluster, market)
        frame = orders_frame(book_values(cluster.live_orders(user)), spec)
        frame.insert(0, "market", spec.symbol)
        return conform(frame, LIVE_ORDER_COLUMNS)
    parts = []
    for book in committed_books(source, market):
        part = live_orders_df(book, user)
        part.insert(0, "market", book.spec.symbol)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    return conform(frame, LIVE_ORDER_COLUMNS)


def depth(
    source: Any, levels: int = 10, *, market: str | None = None, consistent: bool = False
) -> pd.DataFrame:
    """Top ``levels`` price levels per side with cumulative quantities. O(levels) per market.

    Columns and dtypes: :data:`DEPTH_COLUMNS`; per market, bids (best first) then asks (best
    first); ``cum_qty_lots`` sums ``qty_lots`` from the best price outwards. A depth frame
    (from this function) passes through unchanged.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> for p in (1, 2): _ = book.place("a", "buy", price=p, qty=p)
    >>> depth(book)[["side", "price", "qty_lots", "cum_qty_lots"]].values.tolist()
    [['buy', 2.0, 2, 2], ['buy', 1.0, 1, 3]]

    Raises :class:`~clobkit.errors.InvalidArgument` unless ``levels`` is a positive int.
    """
    if type(levels) is not int or levels <= 0:
        raise InvalidArgument(f"levels must be a positive int, got {levels!r}")
    if is_frame(source):
        return conform(source, DEPTH_COLUMNS)
    if consistent:
        cluster = _require_cluster_for_consistent(source)
        spec = _spec_of(cluster, market)
        levels_read = cluster.depth(levels)  # PriceLevel rows: keep the book's ticks and lots
        raw = {
            k: [(p.price_ticks, p.qty_lots, p.order_count) for p in levels_read[k]]
            for k in levels_read
        }
        return _depth_rows([(spec, raw)])
    return _depth_rows([(b.spec, b.depth(levels)) for b in committed_books(source, market)])


def _depth_rows(per_market: list[tuple[MarketSpec, Any]]) -> pd.DataFrame:
    cols: dict[str, list[Any]] = {name: [] for name in DEPTH_COLUMNS}
    for spec, book_depth in per_market:
        for key, side in (("bids", "buy"), ("asks", "sell")):
            running = 0
            for level, (price, qty, count) in enumerate(book_depth[key]):
                running += qty
                cols["market"].append(spec.symbol)
                cols["side"].append(side)
                cols["level"].append(level)
                cols["price"].append(float(spec.ticks_to_price(price)))
                cols["price_ticks"].append(price)
                cols["qty"].append(qty)
                cols["qty_lots"].append(qty)
                cols["order_count"].append(count)
                cols["cum_qty"].append(running)
                cols["cum_qty_lots"].append(running)
    return typed_frame(cols, DEPTH_COLUMNS)


# -- positions and VWAP --------------------------------------------------------------------


def _fills_of(source: Any, market: str | None) -> pd.DataFrame:
    if is_frame(source):
        frame = conform(source, FILL_COLUMNS)
        if market is not None:
            frame = frame[frame["market"] == market].reset_index(drop=True)
        return frame
    return fills(source, market=market)


def positions(source: Any, *, market: str | None = None) -> pd.DataFrame:
    """Each user's position, cash and mark-to-last P&L after every fill they took part in.

    O(fills). ``source`` is a book/exchange/cluster or a :func:`fills` frame. Columns and
    dtypes: :data:`POSITION_COLUMNS`; rows in (market, fill_id) order, taker before maker. Cash
    starts at 0; a buy of ``q`` at ``p`` adds ``q`` to the position and subtracts ``p*q`` from
    cash; ``pnl = cash + position * mark_price`` with the last trade price as the mark.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> len(positions(OrderBook(MarketSpec("ACME"))))
    0
    """
    import numpy as np
    import pandas as pd

    f = _fills_of(source, market)
    n = len(f)
    if n == 0:
        return typed_frame({}, POSITION_COLUMNS)

    def interleave(taker: Any, maker: Any) -> Any:
        # Row 2i is fill i's taker, row 2i+1 its maker: fill order without a sort.
        out = np.empty(2 * n, dtype=np.result_type(taker, maker))
        out[0::2] = taker
        out[1::2] = maker
        return out

    def twice(name: str) -> Any:
        values = f[name].to_numpy()
        return interleave(values, values)

    taker_buys = f["aggressor_side"].to_numpy() == "buy"
    buy = interleave(taker_buys, ~taker_buys)
    users = interleave(f["taker_user"].to_numpy(object), f["maker_user"].to_numpy(object))
    markets = twice("market").astype(object)
    price = twice("price")
    qty = twice("qty")
    lots = twice("qty_lots")
    sign = np.where(buy, 1, -1)
    # One integer key per (market, user): factorising once is much cheaper than grouping by
    # two object columns three times.
    user_codes, user_names = pd.factorize(users)
    market_codes, _ = pd.factorize(markets)
    keys = market_codes.astype(np.int64) * max(len(user_names), 1) + user_codes
    deltas = pd.DataFrame(
        {"lots": sign * lots, "qty": sign * qty, "cash": -sign * price * qty}, copy=False
    )
    running = deltas.groupby(keys, sort=False).cumsum()
    position = running["qty"].to_numpy()
    cash = running["cash"].to_numpy()
    data = {
        "market": _object_column(markets),
        "fill_id": pd.Series(twice("fill_id"), copy=False),
        "seq": pd.Series(twice("seq"), copy=False),
        "ts_us": pd.Series(twice("ts_us"), copy=False),
        "user": _object_column(users),
        "role": _object_column(interleave(_filled(n, "taker"), _filled(n, "maker"))),
        "side": _object_column(np.where(buy, "buy", "sell").astype(object)),
        "price": pd.Series(price, copy=False),
        "qty_lots": pd.Series(lots, copy=False),
        "position_lots": pd.Series(running["lots"].to_numpy().astype(np.int64), copy=False),
        "position": pd.Series(position, copy=False),
        "cash": pd.Series(cash, copy=False),
        "mark_price": pd.Series(price, copy=False),
        "pnl": pd.Series(cash + position * price, copy=False),
    }
    frame = pd.DataFrame(data, copy=False)
    return frame.astype(POSITION_COLUMNS)


def pnl(
    source: Any, *, market: str | None = None, users: Iterable[str] | None = None
) -> pd.DataFrame:
    """Every user's mark-to-last P&L after every fill, not only their own. O(fills x users).

    ``source`` is a book/exchange/cluster or a :func:`fills` frame. After each fill, each user
    who has traded in that market gets a row: their position and cash then (from
    :func:`positions`), marked at that fill's price. Columns and dtypes: :data:`PNL_COLUMNS`.
    The frame has up to fills x users rows: pass ``users`` (a list of names) to keep only
    those on a big book.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=2); _ = book.place("b", "buy", price=1, qty=2)
    >>> _ = book.place("c", "sell", price=3, qty=1); _ = book.place("d", "buy", price=3, qty=1)
    >>> pnl(book).query("fill_id == 1")[["user", "position_lots", "pnl"]].values.tolist()
    [['a', -2, -4.0], ['b', 2, 4.0], ['c', -1, 0.0], ['d', 1, 0.0]]
    """
    import pandas as pd

    if isinstance(users, str):
        raise InvalidArgument(f"users must be a list of names, got the string {users!r}")
    wanted = None if users is None else set(users)
    pos = positions(source, market=market)
    parts = []
    for symbol, part in pos.groupby("market", sort=True):
        fills_index = part.drop_duplicates("fill_id")[["fill_id", "seq", "ts_us", "price"]]
        fills_index = fills_index.set_index("fill_id")
        if wanted is not None:
            part = part[part["user"].isin(wanted)]
            if not len(part):
                continue
        # The last row per (fill, user) is the user's state after that fill.
        last = part.drop_duplicates(["fill_id", "user"], keep="last")
        wide = {
            name: last.pivot(index="fill_id", columns="user", values=name)
            .reindex(fills_index.index)
            .ffill()
            for name in ("position_lots", "position", "cash")
        }
        long = pd.DataFrame({name: frame.stack() for name, frame in wide.items()}).reset_index()
        long = long.dropna(subset=["position"])  # users who had not traded yet
        long = long.join(fills_index, on="fill_id")
        long["market"] = symbol
        long["mark_price"] = long["price"]
        long["pnl"] = long["cash"] + long["position"] * long["mark_price"]
        parts.append(long.sort_values(["fill_id", "user"], kind="stable"))
    if not parts:
        return typed_frame({}, PNL_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    frame["position_lots"] = frame["position_lots"].astype("int64")
    return conform(frame, PNL_COLUMNS)


def vwap(source: Any, *, bucket_us: int | None = None, market: str | None = None) -> pd.DataFrame:
    """Volume-weighted average price: running per fill, or per time bucket. O(fills).

    ``source`` is a book/exchange/cluster or a :func:`fills` frame. Without ``bucket_us``:
    columns :data:`VWAP_COLUMNS`, ``vwap = cum_notional / cum_qty`` per market. With
    ``bucket_us`` (a positive int): :data:`VWAP_BUCKET_COLUMNS`, one row per non-empty bucket
    ``[bucket_us, bucket_us + width)``.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=1); _ = book.place("a", "sell", price=4, qty=3)
    >>> _ = book.place("b", "buy", price=4, qty=4)
    >>> vwap(book)["vwap"].tolist()
    [1.0, 3.25]

    Raises :class:`~clobkit.errors.InvalidArgument` for a ``bucket_us`` that is not a positive int.
    """
    import numpy as np

    if bucket_us is not None and (type(bucket_us) is not int or bucket_us <= 0):
        raise InvalidArgument(f"bucket_us must be a positive int or None, got {bucket_us!r}")
    f = _fills_of(source, market)
    if bucket_us is None:
        frame = f[["market", "fill_id", "seq", "ts_us", "price", "qty"]].copy()
        notional = frame["price"] * frame["qty"]
        frame["cum_qty"] = frame.groupby("market", sort=False)["qty"].cumsum()
        frame["cum_notional"] = notional.groupby(frame["market"], sort=False).cumsum()
        frame["vwap"] = frame["cum_notional"] / frame["cum_qty"]
        return conform(frame, VWAP_COLUMNS)
    if len(f) == 0:
        return typed_frame({}, VWAP_BUCKET_COLUMNS)
    frame = f[["market", "ts_us", "price", "qty"]].copy()
    frame["bucket_us"] = (frame["ts_us"] // bucket_us) * bucket_us
    frame["notional"] = frame["price"] * frame["qty"]
    grouped = frame.groupby(["market", "bucket_us"], sort=True)
    out = grouped.agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        qty=("qty", "sum"),
        notional=("notional", "sum"),
        trades=("price", "size"),
    ).reset_index()
    out["vwap"] = np.where(out["qty"] > 0, out["notional"] / out["qty"], np.nan)
    return conform(out, VWAP_BUCKET_COLUMNS)
