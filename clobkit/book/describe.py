"""Book operations and states in words, in the units people typed.

The checker's recorded form of a book operation (:mod:`clobkit.book.records`) holds what the
book holds: prices in integer ticks and quantities in integer lots, so that histories compare
exactly. A person reading an explanation, a history timeline or a report typed
``price="100.50"``, so every text here goes through the market's
:meth:`~clobkit.book.MarketSpec.format_price` and :meth:`~clobkit.book.MarketSpec.format_qty`:
``place sell 10 @ 100.50 by alice``, never ``@ 10050``. ``specs`` is one
:class:`~clobkit.book.MarketSpec` or a mapping from symbol to spec; an operation on a market
without a spec (or without any spec) is written in ticks and lots, and says so (``10050t``).

>>> from clobkit.book import MarketSpec
>>> spec = MarketSpec("ACME", tick="0.01")
>>> describe_input(("place", "ACME", "alice", "sell", 10050, 10), spec)
'place sell 10 @ 100.50 by alice'
>>> fill = (10050, 4, 2, 1, "bob", "alice", "buy")
>>> describe_output(("place", "ACME", "bob", "buy", 10100, 4), (True, None, 2, "filled",
...     (fill,), 0, 0, ()), spec)
'accepted as #2 (filled, fills 4 @ 100.50)'
>>> describe_output(("depth", "ACME", 5), (((9999, 3, 1),), ()), spec)
'bids [3 @ 99.99 (1)] asks []'
>>> describe_input(("place", "ACME", "alice", "sell", 10050, 10))  # no spec: ticks, marked
'place sell 10 @ 10050t by alice'
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from clobkit.book.orderbook import OrderBook
from clobkit.book.spec import MarketSpec

__all__ = ["Formats", "describe_book", "describe_input", "describe_output", "formats_for"]

Specs = MarketSpec | Mapping[str, MarketSpec] | None


class Formats:
    """How one market writes prices and quantities (its spec's, or marked ticks/lots).

    >>> f = Formats(MarketSpec("ACME", tick="0.5"))
    >>> f.price(201), f.qty(3), Formats(None).price(201), Formats(None).price(None)
    ('100.5', '3', '201t', 'market')
    """

    __slots__ = ("price", "qty")

    def __init__(self, spec: MarketSpec | None) -> None:
        self.price: Callable[[Any], str]
        self.qty: Callable[[Any], str]
        if spec is not None:
            self.price = _guard(spec.format_price, "t")
            self.qty = _guard(spec.format_qty, " lots")
        else:
            self.price = lambda v: "market" if v is None else f"{v}t"
            self.qty = str


def _guard(fmt: Callable[[Any], str], mark: str) -> Callable[[Any], str]:
    """``fmt`` for ints (and None for a price), the value as recorded otherwise (a malformed
    history must still be explainable)."""

    def safe(value: Any) -> str:
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return fmt(value)
        return repr(value)

    return safe


def formats_for(specs: Specs, market: Any) -> Formats:
    """The :class:`Formats` of ``market`` under ``specs`` (ticks/lots when unknown). O(1)."""
    if isinstance(specs, MarketSpec):
        return Formats(specs if specs.symbol == market else None)
    if specs is None:
        return Formats(None)
    return Formats(specs.get(market))


def describe_input(inp: Any, specs: Specs = None) -> str:
    """A recorded book input in a few words, prices and quantities in market units. O(1).

    >>> describe_input(("cancel", "ACME", "alice", 7))
    'cancel #7 by alice'
    >>> describe_input(("modify", "ACME", "al", 7, 10020, None), MarketSpec("ACME"))
    'modify #7 to price=100.20 by al'
    >>> describe_input(("fills", "ACME", None))
    'read fills(None) of ACME'
    """
    if not isinstance(inp, tuple) or len(inp) < 3:
        return repr(inp)
    kind, market = inp[0], inp[1]
    f = formats_for(specs, market)
    if kind == "place" and len(inp) >= 6:
        order_type = inp[6] if len(inp) > 6 else "limit"
        at = "market" if order_type == "market" or inp[4] is None else f.price(inp[4])
        return f"place {inp[3]} {f.qty(inp[5])} @ {at} by {inp[2]}"
    if kind == "cancel" and len(inp) >= 4:
        return f"cancel #{inp[3]} by {inp[2]}"
    if kind == "modify" and len(inp) >= 6:
        changes = []
        if inp[4] is not None:
            changes.append(f"price={f.price(inp[4])}")
        if inp[5] is not None:
            changes.append(f"qty={f.qty(inp[5])}")
        return f"modify #{inp[3]} to {' '.join(changes) or 'the same'} by {inp[2]}"
    if kind in ("fills", "orders", "depth"):
        return f"read {kind}({inp[2]!r}) of {market}"
    return repr(inp)


def _fill_text(row: Any, f: Formats) -> str:
    if isinstance(row, tuple) and len(row) >= 2:
        return f"{f.qty(row[1])} @ {f.price(row[0])}"
    return repr(row)


def _order_text(row: Any, f: Formats) -> str:
    if isinstance(row, tuple) and len(row) >= 5:
        return f"#{row[0]} {row[1]} {row[2]} {f.qty(row[4])} @ {f.price(row[3])}"
    return repr(row)


def _level_text(row: Any, f: Formats) -> str:
    if isinstance(row, tuple) and len(row) >= 3:
        return f"{f.qty(row[1])} @ {f.price(row[0])} ({row[2]})"
    return repr(row)


def _rows(rows: Any, one: Callable[[Any, Formats], str], f: Formats, limit: int) -> str:
    if not isinstance(rows, tuple | list):
        return repr(rows)
    texts = [one(r, f) for r in rows[:limit]]
    more = f", … {len(rows) - limit} more" if len(rows) > limit else ""
    return "[" + ", ".join(texts) + more + "]"


def describe_output(inp: Any, out: Any, specs: Specs = None, *, limit: int = 5) -> str:
    """What a recorded book operation returned, in market units (at most ``limit`` rows). O(1).

    >>> spec = MarketSpec("ACME")
    >>> describe_output(("orders", "ACME", None), ((1, "al", "sell", 10050, 6, 4, 0, 10),), spec)
    '1 rows [#1 al sell 6 @ 100.50]'
    >>> describe_output(("cancel", "ACME", "al", 9), (False, "unknown_order", 9, "rejected",
    ...     (), 0, 0, ()), spec)
    'rejected (unknown_order)'
    """
    kind = inp[0] if isinstance(inp, tuple) and inp else None
    f = formats_for(specs, inp[1] if isinstance(inp, tuple) and len(inp) > 1 else None)
    if kind in ("place", "cancel", "modify") and isinstance(out, tuple) and len(out) >= 5:
        if not out[0]:
            return f"rejected ({out[1]})"
        fills = out[4] if isinstance(out[4], tuple) else ()
        traded = f", fills {', '.join(_fill_text(r, f) for r in fills[:limit])}" if fills else ""
        if len(fills) > limit:
            traded += f", … {len(fills) - limit} more"
        return f"accepted as #{out[2]} ({out[3]}{traded})"
    if kind == "fills" and isinstance(out, tuple):
        return f"{len(out)} rows {_rows(out, _fill_text, f, limit)}"
    if kind == "orders" and isinstance(out, tuple):
        return f"{len(out)} rows {_rows(out, _order_text, f, limit)}"
    if kind == "depth" and isinstance(out, tuple) and len(out) == 2:
        bids, asks = out
        return (
            f"bids {_rows(bids, _level_text, f, limit)} asks {_rows(asks, _level_text, f, limit)}"
        )
    text = repr(out)
    return text if len(text) <= 200 else text[:199] + "…"


def describe_book(book: OrderBook) -> str:
    """One book's state in a sentence, best prices in market units. O(1).

    >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price="99.99", qty=3)
    >>> describe_book(book)
    'the book with 1 live orders, 0 fills, best bid 99.99, best ask none'
    """
    spec = book.spec
    bid, ask = book.best_bid(), book.best_ask()
    bid_text = "none" if bid is None else spec.format_price(bid)
    ask_text = "none" if ask is None else spec.format_price(ask)
    return (
        f"the book with {len(book)} live orders, {book.fill_count()} fills, "
        f"best bid {bid_text}, best ask {ask_text}"
    )
