"""Proves the invariant monitor stays right when replicas compact their logs: a replica that
commits an op and compacts it within one event raises no false alarm (any size, read mode
or store), the compacted ops still land in the canonical committed log, and an entry that
disagrees is still reported even when it was compacted before the monitor looked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import clobkit as ck
from clobkit.check.campaigns import DEFAULT_FAULT_KINDS
from clobkit.check.invariants import LiveInvariants, check_invariants
from clobkit.replication.config import READ_MODES
from clobkit.sim.faults import swarm_faults
from clobkit.sim.invariants import InvariantMonitor
from clobkit.sim.workload import RandomWorkload
from clobkit.storage import LogEntry


@pytest.fixture
def clusters() -> Iterator[list[ck.Cluster]]:
    made: list[ck.Cluster] = []
    yield made
    for c in made:
        c.close()


@pytest.mark.parametrize("storage", ["memory", "file"])
@pytest.mark.parametrize("read_mode", READ_MODES)
@pytest.mark.parametrize("nodes", [3, 5])
def test_compacting_committed_ops_raises_no_false_alarm(
    clusters: list[ck.Cluster], nodes: int, read_mode: str, storage: str
) -> None:
    c = ck.Cluster(
        nodes, seed=1, storage=storage, read_mode=read_mode, config={"snapshot_every": 10}
    )
    clusters.append(c)
    for k in range(30):
        c.place("alice", "buy", price=f"{90 + k % 5}", qty=1)
    assert len(c.live_orders("alice")) == 30  # a read in this read mode
    assert c.check() == []  # strict: an alarm would raise
    # Every replica really compacted, and the canonical log still has every op, in order.
    assert all(r.store.wal.first_op > 20 for _n, _i, r in c._live_replicas())
    commit = max(r.commit_number for _n, _i, r in c._live_replicas())
    assert [op for op, _v, _p in c.committed_log()] == list(range(1, commit + 1))
    assert check_invariants(c) == []


def test_a_divergent_entry_compacted_before_the_look_is_still_reported(
    clusters: list[ck.Cluster],
) -> None:
    c = ck.Cluster(3, seed=1, storage="memory", config={"snapshot_every": 10})
    clusters.append(c)
    wal = c._storage.stores["n2"].wal
    told = wal.on_compact
    assert told is not None

    def lie(entries: list[LogEntry]) -> None:
        # n2's compaction reports entries other than those the others committed.
        told([LogEntry(e.view, e.op, e.payload + b"!") for e in entries])

    wal.on_compact = lie
    with pytest.raises(AssertionError, match=r"divergent_commit \[n2\]"):
        for k in range(30):
            c.place("alice", "buy", price=f"{90 + k % 5}", qty=1)


def test_compacted_entries_are_checked_only_up_to_the_replicas_commit_number() -> None:
    m = InvariantMonitor(list, strict=True)

    class Wal:
        first_op, last_op = 4, 3

    class Store:
        wal = Wal()

    class Replica:
        view, status, commit_number, is_primary, store = 0, "normal", 2, False, Store()

    # Ops 1..3 compacted away, but the replica counts only 1..2 as committed: op 3 must not
    # enter the canonical log, and the dropped entries are forgotten after the look.
    m.compacting("n0", [LogEntry(0, op, b"e%d" % op) for op in (1, 2, 3)])
    m.observe("n0", 0, Replica())
    assert m.committed == {1: (0, b"e1"), 2: (0, b"e2")}
    Replica.commit_number = 3
    m.observe("n0", 0, Replica())
    assert 3 not in m.committed


@pytest.mark.parametrize("every", [10, 25])
def test_a_small_campaign_with_snapshots_finds_nothing(every: int) -> None:
    for seed in range(6):
        c = ck.Cluster(
            3, seed=seed, storage="memory", config={"snapshot_every": every}, trace=False
        )
        try:
            c.monitor.strict = False
            live = LiveInvariants.attach(c)
            RandomWorkload(
                c, users=["u0", "u1", "u2"], ops_per_user=40, think_us_max=20_000
            ).start()
            faults, _ = swarm_faults(
                c.world.streams.stream("faults"),
                c.replica_names,
                duration_us=1_500_000,
                kinds=DEFAULT_FAULT_KINDS,
            )
            c.schedule_faults(faults)
            c.run(ms=1_500)
            c.settle(ms=2_000)
            assert check_invariants(c, live) == [], f"seed {seed}"
            assert min(r.store.wal.first_op for _n, _i, r in c._live_replicas()) > every
        finally:
            c.close()
