"""Proves that what a replica answers crosses the wire intact: a read reply holding the book's
own result objects (an ``Order`` carries its market spec, which only its repr uses) encodes,
decodes to equal values, and nothing but the data is sent. A regression: the spec once made
every ``orders`` reply unencodable, so reads failed after a failover."""

from __future__ import annotations

from clobkit.book import MarketSpec, OrderBook
from clobkit.proc.wire import decode_message, encode_message
from clobkit.replication.messages import ReadReply


def test_a_read_reply_with_orders_round_trips() -> None:
    book = OrderBook(MarketSpec("ACME", tick="0.01"))
    book.place("alice", "buy", price="100.50", qty=3)
    orders = tuple(book.live_orders())
    assert orders and orders[0].spec is not None
    reply = ReadReply(
        cluster_id="c",
        source="n0",
        target="reader",
        view=1,
        read_id=7,
        mode="quorum",
        ok=True,
        commit=3,
        op=3,
        result=orders,
    )
    back = decode_message(encode_message(reply))
    assert back == reply  # equality leaves the spec out; every data field is the same
    assert back.result[0].price == 10050 and back.result[0].spec is None
    assert b"MarketSpec" not in encode_message(reply)
