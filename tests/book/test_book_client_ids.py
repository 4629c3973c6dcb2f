"""Exchange order ids and client order ids are separate, and every rejection names the rule
it broke.

Method: worked examples against a bare book (place with a client id; cancel and modify by it;
the id freed when its order fills, is cancelled or is cancelled by self-trade prevention, and
kept across a cancel-replace; the same client id for two users), each followed by
``_check()``; rejections compared with the exact reason text, with the book's bytes unchanged;
snapshots with and without client ids (the version byte, round trip, ``snapshot()`` leaving
the book untouched); the command codec; and the same calls through ``Exchange`` and a 3-node
``Cluster``.
"""

from __future__ import annotations

import dataclasses

import pytest

from clobkit.book import (
    REJECT_REASONS,
    Cancel,
    Exchange,
    MarketSpec,
    Modify,
    OrderBook,
    Place,
    decode_command,
    encode_command,
)
from clobkit.errors import DuplicateOrderId, InvalidArgument, OrderRejected, UnknownOrder
from clobkit.sim import Cluster

SPEC = MarketSpec("ACME", tick="0.01", lot=1)


def test_cancel_and_modify_by_client_id() -> None:
    book = OrderBook(SPEC)
    placed = book.place("ann", "buy", price="100.00", qty=5, client_order_id="bid-1")
    assert book.order(placed.order_id).client_order_id == "bid-1"
    reduced = book.modify("ann", client_order_id="bid-1", qty=3)
    assert (reduced.order_id, reduced.resting_qty, reduced.cancelled_qty) == (placed.order_id, 3, 2)
    moved = book.modify("ann", client_order_id="bid-1", price="100.01")  # cancel-replace
    assert book.live_orders()[0].client_order_id == "bid-1", "a replacement keeps its client id"
    assert moved.order_id == placed.order_id
    book._check()
    assert book.cancel("ann", client_order_id="bid-1").cancelled_qty == 3
    assert len(book) == 0
    book._check()
    # Gone from the book, so the client id is free again.
    again = book.place("ann", "buy", price="99", qty=1, client_order_id="bid-1")
    assert again.order_id != placed.order_id, "exchange ids are never reused"
    book._check()


def test_client_ids_are_per_user_and_per_live_order() -> None:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="101", qty=2, client_order_id="x")
    book.place("bob", "sell", price="102", qty=2, client_order_id="x")  # another user: fine
    before = book.snapshot()
    with pytest.raises(DuplicateOrderId) as info:
        book.place("ann", "sell", price="103", qty=1, client_order_id="x")
    assert info.value.reason == "duplicate_client_order_id"
    assert "this user already has a live order with this client order id" in str(info.value)
    assert book.snapshot() == before
    # A fill that takes ann's order whole frees "x" for ann (bob's "x" stays).
    book.place("cat", "buy", price="101", qty=2)
    assert book.place("ann", "sell", price="103", qty=1, client_order_id="x").accepted
    assert book.cancel("bob", client_order_id="x").cancelled_qty == 2
    book._check()


def test_self_trade_prevention_frees_the_makers_client_id() -> None:
    book = OrderBook(SPEC, stp_default="cancel-maker")
    book.place("ann", "sell", price="101", qty=2, client_order_id="s")
    result = book.place("ann", "buy", price="101", qty=1)
    assert result.stp_cancelled and len(book) == 1  # the maker went, the taker rests
    book._check()
    assert book.place("ann", "sell", price="105", qty=1, client_order_id="s").accepted


@pytest.mark.parametrize(
    ("call", "reason", "error"),
    [
        (
            lambda b: b.cancel("ann", client_order_id="nope"),
            "unknown_client_order_id",
            UnknownOrder,
        ),
        (lambda b: b.cancel("bob", client_order_id="a1"), "unknown_client_order_id", UnknownOrder),
        (lambda b: b.modify("ann", client_order_id="zz", qty=1), "unknown_client_order_id", None),
        (lambda b: b.cancel("ann", 999), "unknown_order", UnknownOrder),
        (lambda b: b.cancel("bob", 1), "not_owner", OrderRejected),
        (lambda b: b.place("ann", "buy", price="1", qty=1, order_id=2), "order_id_too_low", None),
        (lambda b: b.place("ann", "buy", price="1", qty=1, order_id=50), "order_id_used", None),
    ],
)
def test_each_rejection_names_the_rule_it_broke(call, reason, error) -> None:  # type: ignore[no-untyped-def]
    book = OrderBook(SPEC)
    book.place("ann", "buy", price="100", qty=1, client_order_id="a1")
    book.place("ann", "buy", price="99", qty=1, order_id=50)
    book.place("ann", "buy", price="98", qty=1)
    before = book.snapshot()
    with pytest.raises(error or OrderRejected) as info:
        call(book)
    assert info.value.reason == reason
    assert str(info.value).startswith(f"{reason}: {REJECT_REASONS[reason]}")
    assert book.snapshot() == before


def test_a_never_used_id_is_not_called_a_duplicate() -> None:
    # Issue 13: id 2 was never used, so "a live order already has this id" was false.
    book = OrderBook(SPEC)
    book.place("ann", "buy", price="1", qty=1)
    book.place("ann", "buy", price="1", qty=1, order_id=5)
    book.cancel("ann", 5)
    with pytest.raises(OrderRejected) as info:
        book.place("ann", "buy", price="1", qty=1, order_id=3)
    assert info.value.reason == "order_id_too_low"
    assert "live order" not in str(info.value)
    assert not isinstance(info.value, DuplicateOrderId)


def test_command_constructors_want_exactly_one_id() -> None:
    with pytest.raises(InvalidArgument, match="give order_id or client_order_id"):
        Cancel("ACME", "ann")
    with pytest.raises(InvalidArgument, match="not both"):
        Cancel("ACME", "ann", 3, "c")
    with pytest.raises(InvalidArgument, match="client_order_id"):
        Modify("ACME", "ann", client_order_id="bad\n", qty=1)
    with pytest.raises(InvalidArgument, match="client_order_id"):
        Place("ACME", "ann", "buy", 1, 1, client_order_id="")


def test_codec_and_snapshot_versions() -> None:
    for command in (
        Place("ACME", "ann", "buy", 100, 1, client_order_id="c-1"),
        Cancel("ACME", "ann", client_order_id="c-1"),
        Modify("ACME", "ann", price=5, client_order_id="c-1"),
    ):
        data = encode_command(command)
        assert data[0] == 2 and decode_command(data) == command
    assert encode_command(Cancel("ACME", "ann", 7))[0] == 1, "old commands keep old bytes"
    book = OrderBook(SPEC)
    book.place("ann", "buy", price="1", qty=1)
    assert book.snapshot()[4] == 2, "a book without client ids keeps the version 2 bytes"
    book.place("ann", "buy", price="2", qty=1, client_order_id="c")
    book.place("ann", "buy", price="3", qty=1, order_id=40)
    reserved, data = set(book._reserved), book.snapshot()
    assert data[4] == 3
    assert book._reserved == reserved and book.snapshot() == data, "snapshot() changes nothing"
    copy = OrderBook.restore(data)
    copy._check()
    assert copy.digest() == book.digest()
    assert copy.cancel("ann", client_order_id="c").accepted


def test_exchange_and_cluster_route_client_ids() -> None:
    ex = Exchange([SPEC])
    ex.apply(Place("ACME", "ann", "buy", 100, 2, client_order_id="q"), seq=1, ts_us=1)
    assert ex.apply(Cancel("ACME", "ann", client_order_id="q"), seq=2, ts_us=2).accepted
    assert ex.apply(Cancel("ZZZ", "ann", client_order_id="q"), seq=3, ts_us=3).reason == (
        "unknown_market"
    )
    c = Cluster(3, seed=1, storage="memory")
    placed = c.place("ann", "sell", price="100.50", qty=4, client_order_id="ask-1")
    assert c.modify("ann", client_order_id="ask-1", qty=2).resting_qty == 2
    assert [(o.order_id, o.client_order_id) for o in c.live_orders()] == [
        (placed.order_id, "ask-1")
    ]
    with pytest.raises(UnknownOrder, match="unknown_client_order_id"):
        c.cancel("bob", client_order_id="ask-1")
    assert c.cancel("ann", client_order_id="ask-1").status == "cancelled"
    assert c.live_orders() == []


def _checked(c: Cluster) -> str:
    from clobkit.check import book_model, check_operations

    ops = c.history.to_check_history().operations()
    return check_operations(book_model(c.market), ops, timeout_s=30).verdict


def test_the_checker_model_follows_the_same_id_rules() -> None:
    # A correct run that uses client ids (and a refused duplicate) is judged ok; the same
    # history with one reply altered (a cancel by an unknown client id claimed accepted) is
    # judged illegal, so the model really replays the id rules rather than waving them on.
    c = Cluster(3, seed=2, storage="memory")
    c.place("ann", "sell", price="100.50", qty=4, client_order_id="a1")
    with pytest.raises(DuplicateOrderId):
        c.place("ann", "sell", price="101", qty=1, client_order_id="a1")
    c.modify("ann", client_order_id="a1", price="100.40")
    c.place("bob", "buy", price="100.40", qty=1, client_order_id="a1")
    c.live_orders()
    c.cancel("ann", client_order_id="a1")
    with pytest.raises(UnknownOrder):
        c.cancel("ann", client_order_id="a1")
    c.live_orders()
    assert _checked(c) == "ok"
    from clobkit.check import book_model, check_operations

    ops = c.history.to_check_history().operations()
    forged = []
    for op in ops:
        if op.input[0] == "cancel" and op.output[0] is False:
            op = dataclasses.replace(op, output=(True, None, 1, "cancelled", (), 0, 3, ()))
        forged.append(op)
    assert check_operations(book_model(c.market), forged, timeout_s=30).verdict == "illegal"
