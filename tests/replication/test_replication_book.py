"""The order book replicated: BookMachine behind three replicas matches identically everywhere.

Orders go through real ClientSessions and replicas (hand-driven harness);
every replica ends with the same exchange digest, fills exist only for
committed ops (order ids are the op numbers), and reads in each mode return
the committed book. BookMachine queries and snapshot/restore are checked
directly too.
"""

from __future__ import annotations

import pytest

from clobkit.book import Cancel, MarketSpec, Place, decode_result, encode_command
from clobkit.errors import InvalidArgument
from clobkit.replication import BookMachine
from tests.replication.harness import Net

SPECS = [MarketSpec("ACME"), MarketSpec("BOLT")]


def book_net(**kw: object) -> Net:
    return Net(3, record=False, machine_factory=lambda: BookMachine(SPECS), **kw)  # type: ignore[arg-type]


def place(net: Net, user: str, side: str, price: int, qty: int, market: str = "ACME"):
    out = net.wait(user, net.submit(user, encode_command(Place(market, user, side, price, qty))))
    assert out.status == "ok"
    return decode_result(out.value)


@pytest.mark.parametrize("mode", ["quorum", "primary"])
def test_orders_match_identically_on_every_replica(mode: str) -> None:
    net = book_net()
    bid = place(net, "alice", "buy", 100, 5)
    assert bid.accepted and bid.order_id == bid.seq  # order id = op number
    ask = place(net, "bob", "sell", 99, 3)
    assert ask.accepted and len(ask.fills) == 1
    net.crash(0)  # the view changes; the book survives
    cancel = net.wait(
        "alice", net.submit("alice", encode_command(Cancel("ACME", "alice", bid.order_id)))
    )
    assert cancel.status == "ok" and decode_result(cancel.value).accepted
    net.restart(0)
    net.run(500_000)
    digests = {r.machine.digest() for r in net.up()}
    assert len(digests) == 1 and all(r.commit_number == net.r(1).commit_number for r in net.up())
    out = net.wait("carol", net.read("carol", ("fills", "ACME", "alice"), mode))
    assert out.status == "ok" and len(out.value) == 1 and out.value[0].qty == 3
    live = net.wait("carol", net.read("carol", ("live_orders", "ACME", None), mode))
    assert live.value == []


def test_book_machine_queries_and_snapshot_roundtrip() -> None:
    m = BookMachine(SPECS)
    m.apply(1, 10, encode_command(Place("ACME", "alice", "buy", 100, 5)))
    m.apply(2, 11, encode_command(Place("BOLT", "bob", "sell", 7, 1)))
    assert m.query(("order", "ACME", 1)).qty == 5
    assert m.query(("order", "ACME", 99)) is None
    assert m.query(("depth", "ACME", 5))["bids"][0][0] == 100
    copy = BookMachine(SPECS)
    copy.restore(m.snapshot())
    assert copy.digest() == m.digest() == m.query(("digest",))
    for bad in [(), ("nope",), ("fills", 3, None), ("fills", "ZZZ", None), "depth"]:
        with pytest.raises(InvalidArgument):
            m.query(bad)
    assert copy.digest() == m.digest()  # bad queries changed nothing


def test_undecodable_command_is_refused_without_change() -> None:
    m = BookMachine(SPECS)
    before = m.digest()
    assert m.apply(1, 0, b"\x00garbage") == b""
    assert m.digest() == before
