"""Worked examples of the matching rules, each small enough to check by hand.

Method: build a tiny book, apply one rule (price-time priority, maker price, sweeps, IOC,
FOK, market orders with a protection price, post-only, each self-trade prevention mode,
modify keeping or losing priority, lazy-deletion compaction) and assert the fills, statuses
and resting orders the rule implies.
"""

from __future__ import annotations

import pytest

from clobkit.book import MarketSpec, OrderBook, Place

SPEC = MarketSpec("ACME", tick="0.01", lot=1)


def book_with_asks() -> OrderBook:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="1.01", qty=5)  # id 1
    book.place("bob", "sell", price="1.00", qty=3)  # id 2
    book.place("cat", "sell", price="1.00", qty=4)  # id 3
    return book


def test_price_then_time_priority_at_maker_prices() -> None:
    book = book_with_asks()
    result = book.place("dan", "buy", price="1.01", qty=9)
    trades = [(f.maker_order_id, f.price, f.qty) for f in result.fills]
    assert trades == [(2, 100, 3), (3, 100, 4), (1, 101, 2)]
    assert result.status == "filled"
    assert [(o.order_id, o.qty) for o in book.live_orders()] == [(1, 3)]
    assert [f.fill_id for f in book.fills()] == [0, 1, 2]


def test_limit_remainder_rests_and_ioc_remainder_is_cancelled() -> None:
    book = book_with_asks()
    rest = book.place("dan", "buy", price="1.00", qty=10)
    assert (rest.status, rest.resting_qty, rest.cancelled_qty) == ("partially_filled", 3, 0)
    assert book.best_bid() == 100 and book.best_ask() == 101
    ioc = book.place("eve", "sell", price="0.99", qty=5, tif="ioc")
    assert (ioc.status, ioc.resting_qty, ioc.cancelled_qty) == ("cancelled", 0, 2)
    assert sum(f.qty for f in ioc.fills) == 3
    assert book.best_bid() is None


def test_fok_fills_in_full_or_not_at_all() -> None:
    book = book_with_asks()
    before = book.digest()
    too_big = Place("ACME", "dan", "buy", 101, 13, tif="fok")  # 12 available up to 1.01
    assert book.apply(too_big, book.last_seq + 1, 0).reason == "fok_unfillable"
    assert book.digest() == before
    result = book.place("dan", "buy", price="1.01", qty=12, tif="fok")
    assert (result.status, sum(f.qty for f in result.fills)) == ("filled", 12)
    assert len(book) == 0


def test_market_order_stops_at_protection_price() -> None:
    book = book_with_asks()
    result = book.place("dan", "buy", qty=20, order_type="market", protection_price="1.00")
    assert [f.price for f in result.fills] == [100, 100]
    assert (result.status, result.cancelled_qty) == ("cancelled", 13)
    assert book.best_ask() == 101
    sweep = book.place("dan", "buy", qty=2, order_type="market")
    assert (sweep.status, sweep.fills[0].price) == ("filled", 101)


def test_post_only_rests_when_passive() -> None:
    book = book_with_asks()
    result = book.place("dan", "buy", price="0.99", qty=1, post_only=True)
    assert result.status == "resting"
    assert book.spread() == 1


def test_stp_modes() -> None:
    # ann has the best ask; ann then buys through it.
    def setup(stp_default: str) -> OrderBook:
        book = OrderBook(SPEC, stp_default=stp_default)
        book.place("ann", "sell", price="1.00", qty=2)  # id 1
        book.place("bob", "sell", price="1.00", qty=2)  # id 2
        return book

    trade = setup("none").place("ann", "buy", price="1.00", qty=3)
    assert [(f.maker_user, f.taker_user, f.qty) for f in trade.fills] == [
        ("ann", "ann", 2),
        ("bob", "ann", 1),
    ]

    book = setup("none")
    taker = book.place("ann", "buy", price="1.00", qty=3, stp="cancel-taker")
    assert (taker.fills, taker.status, taker.cancelled_qty) == ((), "cancelled", 3)
    assert len(book) == 2

    book = setup("cancel-maker")  # the book default applies when stp is None
    maker = book.place("ann", "buy", price="1.00", qty=3)
    assert maker.stp_cancelled == (1,)
    assert [(f.maker_user, f.qty) for f in maker.fills] == [("bob", 2)]
    assert (maker.status, maker.resting_qty) == ("partially_filled", 1)

    book = setup("none")
    both = book.place("ann", "buy", price="1.00", qty=3, stp="cancel-both")
    assert (both.stp_cancelled, both.fills, both.status) == ((1,), (), "cancelled")
    assert [o.order_id for o in book.live_orders()] == [2]


def test_modify_reduction_keeps_priority_and_increase_loses_it() -> None:
    book = OrderBook(SPEC)
    first = book.place("ann", "buy", price="1.00", qty=5).order_id
    second = book.place("bob", "buy", price="1.00", qty=5).order_id
    reduced = book.modify("ann", first, qty=2)
    assert (reduced.status, reduced.cancelled_qty, reduced.resting_qty) == ("modified", 3, 2)
    assert [o.order_id for o in book.live_orders()] == [first, second]
    order = book.order(first)
    assert (order.original_qty, order.cancelled_qty, order.qty) == (5, 3, 2)
    book.modify("ann", first, qty=4)
    assert [o.order_id for o in book.live_orders()] == [second, first]
    assert book.order(first).seq == book.last_seq


def test_modify_to_a_crossing_price_trades_as_taker() -> None:
    book = book_with_asks()
    bid = book.place("dan", "buy", price="0.99", qty=5).order_id
    result = book.modify("dan", bid, price="1.00")
    assert [(f.maker_order_id, f.qty, f.taker_order_id) for f in result.fills] == [
        (2, 3, bid),
        (3, 2, bid),
    ]
    assert (result.status, result.resting_qty) == ("modified", 0)
    assert len(book) == 2
    book._check()


def test_many_cancels_keep_dead_entries_bounded() -> None:
    book = OrderBook(SPEC)
    ids = [book.place(f"u{i % 7}", "buy", price="1.00", qty=1).order_id for i in range(200)]
    for order_id in ids[:-1]:
        book.cancel(f"u{(order_id - 1) % 7}", order_id)
        book._check()  # includes the bound on dead entries per level
    assert book.depth() == {"bids": [(100, 1, 1)], "asks": []}
    result = book.place("zed", "sell", price="1.00", qty=1)
    assert result.fills[0].maker_order_id == ids[-1]
    assert book.depth() == {"bids": [], "asks": []}


def test_fills_filters_by_user_and_seq() -> None:
    book = book_with_asks()
    book.place("dan", "buy", price="1.00", qty=3)  # seq 4: trades with bob
    book.place("eve", "buy", price="1.01", qty=5)  # seq 5: cat 4, ann 1
    assert [f.seq for f in book.fills(user="ann")] == [5]
    assert [(f.seq, f.maker_user) for f in book.fills(since_seq=4)] == [(5, "cat"), (5, "ann")]
    assert book.fills(user="nobody") == []
    assert len(book.fill_columns()["seq"]) == 3


# -- order ids are never reused (regressions from review) -----------------------------------


def _spec_book() -> OrderBook:
    from clobkit.book import MarketSpec

    return OrderBook(MarketSpec("ACME", tick="0.01", lot=1))


def test_explicit_id_ahead_of_seq_does_not_block_later_auto_places() -> None:
    book = _spec_book()
    explicit = book.place("a", "sell", price="10", qty=5, order_id=3)
    assert explicit.order_id == 3
    second = book.place("b", "sell", price="11", qty=1)  # seq 2: auto id 2
    third = book.place("c", "sell", price="12", qty=1)  # seq 3 was reserved: next free id
    assert (second.order_id, third.order_id) == (2, 4)
    assert sorted(o.order_id for o in book.live_orders()) == [2, 3, 4]
    book._check()


def test_an_id_is_never_used_twice_even_after_its_order_is_gone() -> None:
    from clobkit.errors import DuplicateOrderId, OrderRejected

    book = _spec_book()
    book.place("a", "sell", price="10", qty=5, order_id=7)
    book.place("b", "buy", price="10", qty=5)  # fills order 7 completely
    digest, fills = book.digest(), book.fills()
    with pytest.raises(DuplicateOrderId, match="order_id_used: an earlier order already used"):
        book.place("c", "sell", price="10", qty=1, order_id=7)
    # At or below last_seq: the book's own range, refused as such (not as a "duplicate").
    with pytest.raises(OrderRejected, match="order_id_too_low: an explicit order id must be"):
        book.place("c", "sell", price="10", qty=1, order_id=1)
    assert book.digest() == digest and book.fills() == fills
    taker_ids = {f.taker_order_id for f in book.fills()} | {f.maker_order_id for f in book.fills()}
    assert len(taker_ids) == 2


def test_order_id_zero_is_rejected_at_construction() -> None:
    from clobkit.book import Cancel, Place
    from clobkit.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="order_id"):
        Place("ACME", "a", "buy", 100, 1, order_id=0)
    with pytest.raises(InvalidArgument, match="order_id"):
        Cancel("ACME", "a", 0)


def test_reservations_survive_snapshot_restore() -> None:
    book = _spec_book()
    book.place("a", "sell", price="10", qty=5, order_id=9)
    copy = OrderBook.restore(book.snapshot())
    assert copy.digest() == book.digest()
    for b in (book, copy):
        ids = [b.place("x", "buy", price="1", qty=1).order_id for _ in range(9)]
        assert 9 not in ids and len(set(ids)) == 9
    assert copy.digest() == book.digest()


def test_a_flipped_snapshot_bit_is_refused_not_restored() -> None:
    from clobkit.errors import InvalidArgument

    book = _spec_book()
    book.place("a", "sell", price="10", qty=5)
    book.place("b", "buy", price="9", qty=2)
    data = bytearray(book.snapshot())
    refused = 0
    for index in range(4, len(data)):
        for bit in range(8):
            data[index] ^= 1 << bit
            try:
                OrderBook.restore(bytes(data))
            except InvalidArgument:
                refused += 1
            data[index] ^= 1 << bit
    assert refused == 8 * (len(data) - 4), "every single-bit flip after the magic is caught"
