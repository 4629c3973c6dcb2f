"""Proves that a replica whose saved metadata holds a commit number past the end of its log
is treated as damaged only when it was the primary of its saved view. A backup legitimately
learns that op k committed (a Commit or heartbeat arrives, the Prepare for k was lost) before
it holds op k, and saves that commit number when it starts a view change; its log is then an
intact committed prefix, and on restart it must stay a voter and fetch the rest, not discard
its log and wait as a learner. Found by the 1,000-seed campaign (``ck.replay(seed=768,
nodes=3, read_mode="primary")``): n0's disk was replaced right after it acknowledged op 13,
a power loss then made n1 relearn although nothing it held was lost, n2 (the only replica
holding op 13) was the last voter, and the cluster never committed again, so the write
acknowledged at op 13 ended outside the committed log."""

from __future__ import annotations

import random

import pytest

import clobkit as ck
from clobkit.check.book_model import book_model
from clobkit.check.checker import check_operations
from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.replication.messages import GetState
from clobkit.storage import MemoryDisk, MemoryStore
from clobkit.storage.base import LogEntry, Metadata


def _disk_with_commit_past_log(index: int, view: int, last_normal_view: int) -> MemoryDisk:
    """A disk holding ops 1-2 (durable) and metadata that says op 3 committed."""
    disk = MemoryDisk()
    store = MemoryStore(disk, cluster_id="demo", replica_id=index)
    for op in (1, 2):
        env = Envelope("a", op, op, KvMachine.append("x", str(op)))
        store.wal.append(LogEntry(view=0, op=op, payload=encode_envelope(env)))
    store.wal.sync()
    store.save_metadata(
        Metadata(
            cluster_id="demo",
            replica_id=index,
            view=view,
            last_normal_view=last_normal_view,
            commit_number=3,
        )
    )
    store.crash()
    return disk


def _reopen(disk: MemoryDisk, index: int) -> tuple[Replica, list[str], list[object]]:
    store = MemoryStore(disk, cluster_id="demo", replica_id=index)
    replica = Replica(ClusterConfig("demo", 3), index, store, KvMachine(), rng=random.Random(1))
    step = replica.tick(now=0)
    return replica, [e.kind for e in step.events], step.messages


@pytest.mark.parametrize(
    ("view", "last_normal_view"),
    [pytest.param(0, 0, id="backup-in-normal-view"), pytest.param(1, 0, id="in-view-change")],
)
def test_backup_knowing_a_commit_past_its_log_reopens_as_a_voter(
    view: int, last_normal_view: int
) -> None:
    replica, events, messages = _reopen(_disk_with_commit_past_log(1, view, last_normal_view), 1)
    assert "damaged_disk" not in events and replica.status != "learner"
    assert (replica.op_number, replica.commit_number, replica.applied_op) == (2, 3, 2)
    assert replica.machine.query(("get", "x")) == ("1", "2")
    if view == last_normal_view:  # a backup in its normal view fetches op 3 from the primary
        assert [m.op for m in messages if isinstance(m, GetState)] == [2]


def test_primary_with_a_commit_past_its_log_relearns() -> None:
    """The primary of the saved view commits nothing past its own durable log: there the same
    disk shape does prove a loss, and the replica recovers as a learner."""
    replica, events, _ = _reopen(_disk_with_commit_past_log(0, 0, 0), 0)
    assert "damaged_disk" in events and replica.status == "learner"


@pytest.mark.parametrize("storage", ["memory", "file"])
def test_acked_write_survives_replaced_primary_and_power_loss_of_a_lagging_backup(
    storage: str,
) -> None:
    """Seed 768 staged: order X is acknowledged with n0 and n2 holding it; n1 learns that X
    committed without getting it and saves that in a view change; n0's disk is replaced and n1
    loses power. n1 and n2 still hold every acknowledged op durably, so they must elect a
    primary that has X and the cluster must serve it."""
    with ck.Cluster(3, seed=1, storage=storage, read_mode="primary") as c:
        for k in range(2):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.drop_next("Prepare", source="n0", target="n1", count=100)
        c.drop_next("GetState", source="n1", count=100)
        c.drop_next("Commit", source="n0", target="n2", count=100)
        x = c.place("bob", "sell", price="105", qty=1)
        c.run(ms=500, until=lambda cl: cl.nodes["n1"].commit_number >= x.op)
        assert (c.nodes["n1"].commit_number, c.nodes["n1"].op_number) == (x.op, x.op - 1)
        c.isolate("n1")
        c.run(ms=1_000, until=lambda cl: cl.nodes["n1"].status == "view_change")
        c.replace("n0")
        c.crash("n1", True)
        c.restart("n1")
        assert [r.kind for r in c.trace.select(node="n1")].count("damaged_disk") == 0
        c.settle(ms=2_000)
        assert c.primary is not None
        assert x.order_id in [o.order_id for o in c.live_orders()]
        assert c.check() == []
        history = c.history.to_check_history().operations()
        assert check_operations(book_model(c.market), history).verdict == "ok"


def test_plain_crash_then_replaced_disk_within_f_keeps_the_cluster_available() -> None:
    """The same bug without a power loss or more than f faults at once: the lagging backup
    n1 crashes and restarts (losing nothing), a replaced disk at n0 follows once n1 is back.
    If n1 had thrown its log away it would still be a learner, and two learners out of three
    can never again form a majority: the cluster must instead recover and serve X."""
    with ck.Cluster(3, seed=1, storage="memory", read_mode="primary") as c:
        for k in range(2):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.drop_next("Prepare", source="n0", target="n1", count=100)
        c.drop_next("GetState", source="n1", count=100)
        c.drop_next("Commit", source="n0", target="n2", count=100)
        x = c.place("bob", "sell", price="105", qty=1)
        c.run(ms=500, until=lambda cl: cl.nodes["n1"].commit_number >= x.op)
        c.isolate("n1")
        c.run(ms=1_000, until=lambda cl: cl.nodes["n1"].status == "view_change")
        c.crash("n1")
        c.restart("n1")
        c.run(ms=300)
        c.replace("n0")
        c.settle(ms=3_000)
        assert [r["role"] for r in c.node_rows()].count("learner") == 0
        assert x.order_id in [o.order_id for o in c.live_orders()]
        assert c.check() == []
