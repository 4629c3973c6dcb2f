"""Waiting reads are held in bounded queues, served in arrival order, and dropped when full.

``ReadQueues`` returns only the reads that are ready, keeps the others in order, and
refuses a read past its limit; a replica whose queue is full drops the read (counted as
``read_queue_full``) and leaves everything else unchanged.
"""

from __future__ import annotations

import random

from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.messages import Read
from clobkit.replication.reads import MAX_WAITING_READS, ReadQueues
from clobkit.storage import MemoryStore


def _read(read_id: int, mode: str = "quorum", target: str = "n0") -> Read:
    return Read(
        cluster_id="demo",
        source="client:a",
        target=target,
        view=0,
        read_id=read_id,
        mode=mode,  # type: ignore[arg-type]
        query=("get", "x"),
    )


def test_queues_serve_ready_reads_in_arrival_order_and_keep_the_rest() -> None:
    q = ReadQueues(limit=4)
    for i, need in enumerate([3, 1, 5, 2], start=1):
        assert q.add_quorum(_read(i), need)
    assert not q.add_quorum(_read(9), 0)
    assert [r.read_id for r in q.take_quorum(applied=2)] == [2, 4]
    assert [(w.read.read_id, w.need) for w in q.quorum] == [(1, 3), (3, 5)]
    for i, (index, probe) in enumerate([(1, 2), (1, 1), (3, 1)], start=1):
        assert q.add_primary(_read(i, "primary"), index, probe)
    assert [r.read_id for r in q.take_primary(confirmed=1, applied=2)] == [2]
    assert [r.read_id for r in q.take_primary(confirmed=2, applied=3)] == [1, 3]
    q.clear()
    assert q.primary == [] and q.quorum == []
    assert ReadQueues().limit == MAX_WAITING_READS


def test_a_replica_drops_a_read_that_does_not_fit() -> None:
    cfg = ClusterConfig("demo", 3)
    r = Replica(
        cfg, 1, MemoryStore(cluster_id="demo", replica_id=1), KvMachine(), rng=random.Random(1)
    )
    r.tick(0)
    r.commit_number = 0
    r._reads.limit = 1
    r._reads.add_quorum(_read(1, target="n1"), need=1)  # waits: applied 0 < 1
    before = (list(r._reads.quorum), r.commit_number, r.applied_op, r.status)
    step = r.handle(_read(2, target="n1"), now=5)
    assert r.counters["drop:read_queue_full"] == 1
    assert step.messages == []
    assert (list(r._reads.quorum), r.commit_number, r.applied_op, r.status) == before
