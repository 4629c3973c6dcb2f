"""Proves that restarts and damaged disks cannot make a safe cluster lose an acknowledged write
or serve a stale read: a restarted primary serves no read from before its restart, and a
replica that finds its ``meta`` or ``wal.log`` missing (or everything but ``identity``) recovers
from its peers as a learner instead of voting on what it forgot. Each story runs on memory
and file storage, 3 and 5 nodes, both safe read modes, and is judged three ways: the cluster
invariants, the linearizability checker on the whole client history, and the acknowledged
order still being in the book at the end."""

from __future__ import annotations

import pytest

import clobkit as ck
from clobkit.check.book_model import book_model
from clobkit.check.checker import check_operations
from clobkit.errors import OutcomeUnknown, Unavailable

CONFIGS = [
    pytest.param(storage, nodes, mode, id=f"{storage}-{nodes}-{mode}")
    for storage in ("memory", "file")
    for nodes in (3, 5)
    for mode in ("primary", "quorum")
]


def _judge(c: ck.Cluster) -> None:
    """No invariant broke and the clients saw a history one order book could produce."""
    c.settle(ms=2_000)
    assert c.violations == []
    c.check()  # raises if an acknowledged write is not in the committed log
    result = check_operations(book_model(c.market), c.history.to_check_history().operations())
    assert result.verdict == "ok", result.explanation


def _try(call: object) -> object:
    try:
        return call()  # type: ignore[operator]
    except (Unavailable, OutcomeUnknown):
        return None


@pytest.mark.parametrize(("storage", "nodes", "read_mode"), CONFIGS)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_restarted_primary_serves_no_stale_read(
    storage: str, nodes: int, read_mode: str, seed: int
) -> None:
    with ck.Cluster(nodes, seed=seed, storage=storage, read_mode=read_mode) as c:
        for k in range(3):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.restart("n0")
        assert len(c.live_orders()) == 3
        _judge(c)


def _lose(c: ck.Cluster, node: str, files: tuple[str, ...]) -> None:
    for name in files:
        c.lose_file(node, name)


LOSSES = [
    pytest.param(("meta",), id="meta"),
    pytest.param(("wal.log",), id="wal"),
    pytest.param(("meta", "wal.log", "snapshot"), id="all-but-identity"),
]


@pytest.mark.parametrize(("storage", "nodes", "read_mode"), CONFIGS)
@pytest.mark.parametrize("files", LOSSES)
def test_missing_files_deposed_primary_serves_no_stale_read(
    storage: str, nodes: int, read_mode: str, files: tuple[str, ...]
) -> None:
    """The old primary n0 is cut off while the others move to view 1 and take order X; then f
    replicas lose files and end up on n0's side. They must not confirm n0 as primary."""
    f = (nodes - 1) // 2
    with ck.Cluster(nodes, seed=4, storage=storage, read_mode=read_mode) as c:
        for k in range(3):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        rest = set(c.replica_names) - {"n0"}
        c.partition({"n0"}, rest)
        c.run(ms=400)
        assert c.primary == "n1"
        x = c.place("bob", "sell", price="105", qty=1)
        forgetful = [f"n{i}" for i in range(nodes - f, nodes)]
        for node in forgetful:
            _lose(c, node, files)
            c.restart(node)
        c.heal()
        c.partition({"n0", *forgetful, "client:reader"}, rest - set(forgetful))
        orders = _try(lambda: c.live_orders())
        assert orders is None or x.order_id in [o.order_id for o in orders]  # type: ignore[attr-defined]
        c.heal()
        _judge(c)
        assert x.order_id in [o.order_id for o in c.live_orders()]


@pytest.mark.parametrize(("storage", "nodes", "read_mode"), CONFIGS)
@pytest.mark.parametrize("files", LOSSES)
def test_missing_files_lose_no_acknowledged_write(
    storage: str, nodes: int, read_mode: str, files: tuple[str, ...]
) -> None:
    """The primary crashes, view 1 takes order X, its primary crashes too and one replica that
    acknowledged X loses files: what remains must not elect a view that forgets X."""
    with ck.Cluster(nodes, seed=5, storage=storage, read_mode=read_mode) as c:
        for k in range(3):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.crash("n0")
        c.run(ms=400)
        assert c.primary == "n1"
        x = c.place("bob", "sell", price="105", qty=1)
        c.crash("n1")
        _lose(c, "n2", files)
        c.restart("n2")
        c.restart("n0")
        c.run(ms=1_000)
        orders = _try(lambda: c.live_orders())
        assert orders is None or x.order_id in [o.order_id for o in orders]  # type: ignore[attr-defined]
        c.restart("n1")
        _judge(c)
        assert x.order_id in [o.order_id for o in c.live_orders()]


@pytest.mark.parametrize("storage", ["memory", "file"])
def test_damaged_disk_rejoins_as_learner_and_says_why(storage: str) -> None:
    with ck.Cluster(3, seed=1, storage=storage) as c:
        c.place("alice", "buy", price="99", qty=1)
        c.lose_file("n2", "meta")
        c.restart("n2")
        assert c.node_rows()[2]["role"] == "learner"
        c.run(ms=300)
        (event,) = [r for r in c.trace.select(node="n2") if r.kind == "damaged_disk"]
        assert "meta missing" in str(event)
        assert c.node_rows()[2]["role"] == "backup"
        assert c.nodes["n2"].commit_number == 1
        _judge(c)


def test_lose_file_rejects_bad_names_and_changes_nothing() -> None:
    with ck.Cluster(3, seed=1, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        with pytest.raises(ck.InvalidArgument, match="identity"):
            c.lose_file("n1", "identity")
        assert c.nodes["n1"].status == "normal"
