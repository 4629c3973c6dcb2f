"""Matching: an incoming (taker) order trades against the opposite side in price-time order.

Matching takes the best opposite level first and the oldest live order in it, trading at
the resting order's price, until the taker is filled, the opposite side is empty, or the
next price is beyond the taker's limit. Self-trade prevention (STP) applies when the taker
meets a resting order of the same user: ``none`` trades, ``cancel-taker`` stops the taker,
``cancel-maker`` cancels that resting order and goes on, ``cancel-both`` does both.

Three functions, one job each:

* :func:`match` is the general path (every STP mode, market orders, modifies).
* :func:`cross` is the fast path for a limit taker without STP (most takers): the same
  trades with less work per fill. A level's quantity is updated once per level, not once
  per fill, and a maker that trades in full is popped without updating its slots (nothing
  refers to it any more). ``tests/book/test_book_fast_paths.py`` proves both give the
  same results, fills and bytes.
* :func:`fillable` is the read-only pass a fill-or-kill order needs first.

Every fill is recorded in the book's :class:`~clobkit.book.fill_log.FillLog` (by
:meth:`FillLog.record <clobkit.book.fill_log.FillLog.record>`, or inline in :func:`cross`);
neither function makes :class:`~clobkit.book.results.Fill` tuples: a command's fills are
the log rows it added, which its result reads when asked. A maker
that leaves the book is removed from the id ``index``, the client-id index and ``extras``
(the book's record of its priority seq and cancelled lots, when it has one).

>>> from clobkit.book.client_ids import ClientIds
>>> from clobkit.book.fill_log import _FLUSH_AT, FillLog
>>> from clobkit.book.side import BookSide, Resting
>>> asks, log, index = BookSide(is_buy=False), FillLog("ACME"), {}
>>> maker = Resting(); maker.order_id, maker.user, maker.qty = 1, "alice", 5
>>> maker.original, maker.ts_us = 5, 1
>>> asks.rest(maker, 100); index[1] = maker
>>> cross(asks, log, index, ClientIds(), {}, True, 100, 3, 2, "bob", 2, 2), maker.qty
(0, 2)
>>> [(f.price, f.qty, f.maker_user) for f in log.rows(0, log.count)]
[(100, 3, 'alice')]
"""

from __future__ import annotations

from clobkit.book.client_ids import ClientIds
from clobkit.book.fill_log import _FLUSH_AT, _WIDTH, FillLog
from clobkit.book.side import BookSide, Resting

__all__ = ["cross", "fillable", "match"]


def cross(
    opposite: BookSide,
    log: FillLog,
    index: dict[int, Resting],
    client_ids: ClientIds,
    extras: dict[int, tuple[int, int]],
    is_buy: bool,
    limit: int,
    qty: int,
    order_id: int,
    user: str,
    seq: int,
    ts_us: int,
) -> int:
    """Trade a limit taker without STP; return the lots left. Its fills are the log's rows
    from ``log.count`` before the call to ``log.count`` after. O(levels + makers touched)."""
    remaining = qty
    side_code = 0 if is_buy else 1
    levels = opposite.levels
    # FillLog.record inlined (one call less per fill): the same pending items; the fill
    # count is advanced once at the end by the number of rows added. The flush check runs
    # once per taker instead of once per fill: pending fills are representation only
    # (tests/book/test_book_fast_paths.py proves the bytes equal to match(), which records
    # through FillLog.record). No Fill is made here: the result reads its fills from the log
    # when someone asks (clobkit.book.results.ApplyResult.fills).
    pending = log._pending
    pending_before = len(pending)
    # A maker that leaves must leave the client-id index and extras too; both only shrink
    # while a taker trades, so if both are empty now they stay empty: one test per taker.
    tidy_up = bool(client_ids or extras)
    best = opposite.best
    while best is not None:
        # (Tested here, not in the while: a compare must be followed by a short jump for
        # CPython 3.11 to specialise it, and the loop's exit is an EXTENDED_ARG away.)
        if best > limit if is_buy else best < limit:
            break
        level = levels[best]
        orders = level.orders
        before = remaining  # the level loses before - remaining lots
        while orders:
            maker = orders.popleft()  # a maker that keeps a remainder goes back in front
            maker_qty = maker.qty
            if not maker_qty:  # lazily deleted entry
                level.dead -= 1
                continue
            if remaining < maker_qty:  # the maker keeps a remainder; the taker is done
                pending += (
                    seq, ts_us, best, remaining, order_id, maker.order_id, user, maker.user,
                    side_code,
                )  # fmt: skip
                maker.qty = maker_qty - remaining  # filled = original - qty - cancelled
                orders.appendleft(maker)
                remaining = 0
                break
            maker_id = maker.order_id
            pending += (
                seq, ts_us, best, maker_qty, order_id, maker_id, user, maker.user, side_code,
            )  # fmt: skip
            remaining -= maker_qty
            del index[maker_id]
            if tidy_up:
                if client_ids:
                    client_ids.forget(maker_id, maker.user)
                if extras:
                    extras.pop(maker_id, None)
            if not remaining:
                break
        level.qty -= before - remaining
        if len(orders) == level.dead:  # only dead entries (or none) left
            best = opposite.drop_best()
        if not remaining:
            break
    size = len(pending)
    log.count += (size - pending_before) // _WIDTH
    if size >= _FLUSH_AT:
        log.flush()
    return remaining


def match(
    opposite: BookSide,
    log: FillLog,
    index: dict[int, Resting],
    client_ids: ClientIds,
    extras: dict[int, tuple[int, int]],
    is_buy: bool,
    limit: int | None,
    qty: int,
    order_id: int,
    user: str,
    stp: str,
    seq: int,
    ts_us: int,
) -> tuple[int, bool, tuple[int, ...]]:
    """Trade any taker (``limit=None``: a market order without protection).

    Returns (remaining lots, taker stopped by STP, ids of makers STP cancelled); the fills
    are the log's rows from ``log.count`` before the call to ``log.count`` after.
    O(levels + makers touched).
    """
    side_code = 0 if is_buy else 1
    levels = opposite.levels
    record = log.record
    stp_cancelled: list[int] = []
    taker_stopped = False
    remaining = qty
    self_trade_check = stp != "none"
    while remaining:
        price = opposite.best
        if price is None:
            break
        if limit is not None and (price > limit if is_buy else price < limit):
            break
        level = levels[price]
        orders = level.orders
        while remaining and orders:
            maker = orders[0]
            maker_qty = maker.qty
            if not maker_qty:  # lazily deleted entry
                orders.popleft()
                level.dead -= 1
                continue
            if self_trade_check and maker.user == user:
                if stp != "cancel-taker":  # cancel-maker / cancel-both
                    stp_cancelled.append(maker.order_id)
                    orders.popleft()
                    level.qty -= maker_qty
                    maker.qty = 0
                    _leave(index, client_ids, extras, maker)
                if stp != "cancel-maker":  # cancel-taker / cancel-both
                    taker_stopped = True
                    break
                continue
            trade = remaining if remaining < maker_qty else maker_qty
            record(seq, ts_us, price, trade, order_id, maker.order_id, user, maker.user, side_code)
            remaining -= trade
            level.qty -= trade
            maker_qty -= trade
            maker.qty = maker_qty
            if not maker_qty:
                orders.popleft()
                _leave(index, client_ids, extras, maker)
        if len(orders) == level.dead:  # only dead entries (or none) left
            opposite.drop_best()
        if taker_stopped:
            break
    return remaining, taker_stopped, tuple(stp_cancelled)


def _leave(
    index: dict[int, Resting],
    client_ids: ClientIds,
    extras: dict[int, tuple[int, int]],
    maker: Resting,
) -> None:
    """A maker leaves the book: out of the id index, the client-id index and extras."""
    del index[maker.order_id]
    if client_ids:
        client_ids.forget(maker.order_id, maker.user)
    extras.pop(maker.order_id, None)


def fillable(
    opposite: BookSide, is_buy: bool, limit: int | None, user: str, stp: str, want: int
) -> int:
    """How much a taker could fill now (read-only; stops once ``want`` is reached).

    Counts what self-trade prevention would let it trade: ``cancel-maker`` skips the
    user's own orders, ``cancel-taker``/``cancel-both`` stop at the first of them.
    O(levels + makers scanned).
    """
    total = 0
    for level in opposite.best_first():
        price = level.price
        if limit is not None and (price > limit if is_buy else price < limit):
            break
        for maker in level.live():
            if maker.user == user and stp != "none":
                if stp == "cancel-maker":
                    continue
                return total  # cancel-taker / cancel-both stop the taker here
            total += maker.qty
            if total >= want:
                return total
    return total
