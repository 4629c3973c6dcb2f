"""Small seeded clusters and books shared by the views and viz tests (built fresh per call)."""

from __future__ import annotations

from typing import Any

import clobkit as ck
from clobkit.book import Exchange, MarketSpec, OrderBook


def small_book() -> OrderBook:
    """A book with two fills and resting orders on both sides (tick 0.01).

    alice sells 10 @ 100.50, bob buys 4 @ 101 (fills 4 @ 100.50), carol buys 3 @ 99 and
    7 @ 98.50, alice sells 5 @ 101.50, dave sells 2 @ 99 (fills 2 @ 99 against carol).
    """
    book = OrderBook(MarketSpec("ACME", tick="0.01"))
    book.place("alice", "sell", price="100.50", qty=10)
    book.place("bob", "buy", price="101", qty=4)
    book.place("carol", "buy", price="99", qty=3)
    book.place("carol", "buy", price="98.50", qty=7)
    book.place("alice", "sell", price="101.50", qty=5)
    book.place("dave", "sell", price="99", qty=2)
    return book


def small_exchange() -> Exchange:
    """Two markets with one fill each."""
    ex = Exchange([MarketSpec("ACME"), MarketSpec("BOLT")])
    ex.book("ACME").place("a", "sell", price=5, qty=2)
    ex.book("ACME").place("b", "buy", price=5, qty=1)
    ex.book("BOLT").place("c", "buy", price=7, qty=3)
    ex.book("BOLT").place("d", "sell", price=6, qty=3)
    return ex


def quiet_cluster(seed: int = 1) -> Any:
    """Three memory-backed nodes, four committed orders (two fills), then 50 ms of quiet."""
    c = ck.Cluster(nodes=3, seed=seed, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.place("bob", "buy", price="101", qty=4)
    c.place("carol", "buy", price="99", qty=3)
    c.place("bob", "buy", price="100.50", qty=1)
    c.run(ms=50)
    return c


def crash_cluster(seed: int = 1) -> tuple[Any, dict[str, int]]:
    """A cluster where n2 crashes, three orders commit without it, then it restarts.

    Returns the cluster and the times (µs) of the crash, the restart and the end.
    """
    c = ck.Cluster(nodes=3, seed=seed, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.run(ms=30)
    crash_us = c.now_us
    c.crash("n2")
    for _ in range(3):
        c.place("bob", "buy", price="101", qty=1)
    c.run(ms=30)
    restart_us = c.now_us
    c.restart("n2")
    c.run(ms=200)
    return c, {"crash": crash_us, "restart": restart_us, "end": c.now_us}


def failover_cluster(seed: int = 1) -> tuple[Any, dict[str, int]]:
    """The primary n0 crashes, a view change elects n1, a partition isolates n1 and heals.

    Returns the cluster and the times of the crash, the partition, the heal and the end.
    """
    c = ck.Cluster(nodes=3, seed=seed, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.place("bob", "buy", price="101", qty=4)
    times = {"crash": c.now_us}
    c.crash("n0")
    c.run(ms=300)
    c.place("carol", "buy", price="99", qty=2)
    times["partition"] = c.now_us
    c.partition({"n1"}, {"n0", "n2"})
    c.run(ms=100)
    times["heal"] = c.now_us
    c.heal()
    c.restart("n0")
    c.run(ms=300)
    times["end"] = c.now_us
    return c, times


def assert_schema(frame: Any, columns: dict[str, str]) -> None:
    """``frame`` has exactly ``columns`` in order, each with its documented dtype."""
    assert list(frame.columns) == list(columns), (list(frame.columns), list(columns))
    got = {name: str(dtype) for name, dtype in frame.dtypes.items()}
    assert got == columns, {k: (got[k], v) for k, v in columns.items() if got[k] != v}
