"""Focused protocol rules, each shown on a small hand-driven cluster.

Proves: a new primary serves read-index reads only after its view's no-op
commits; a replica restarts from snapshot + WAL with the same state; only
committed entries are applied; a learner never sends a quorum message; a
single-replica cluster works; and the same inputs give byte-identical traces.
"""

from __future__ import annotations

from tests.replication.harness import Net
from tests.replication.stories import primary_crash_view_change


def test_new_primary_reads_wait_for_its_noop_to_commit() -> None:
    net = Net(3)
    net.wait("w", net.put("w", "x", "1"))
    net.crash(0)
    # Hold every PrepareOk for view 1: the new primary cannot commit its no-op yet.
    net.hold(lambda m: m.kind == "PrepareOk" and m.view == 1)
    net.run(1_000_000)
    assert net.primaries() == [1]
    r = net.client("r")
    r.view = 1
    h = net.read("r", ("get", "x"), "primary")
    net.run(30_000)
    assert r.result(h) is None  # no answer while the no-op is uncommitted
    net.release()
    out = net.wait("r", h)
    assert out.status == "ok" and out.value == ("1",)


def test_restart_from_snapshot_and_wal_restores_the_same_state() -> None:
    net = Net(3, config_kwargs={"snapshot_every": 3})
    for v in "1234567":
        net.wait("w", net.put("w", "x", v))
    net.run(50_000)
    before = net.r(2).machine.digest(), net.r(2).client_table
    assert net.r(2).store.load_snapshot() is not None
    net.crash(2)
    r = net.restart(2)
    assert r.applied_op >= 6 and (r.machine.digest(), r.client_table) == before
    net.run(100_000)
    assert r.machine.query(("get", "x")) == tuple("1234567")


def test_backups_apply_only_committed_entries() -> None:
    net = Net(3)
    net.wait("w", net.put("w", "x", "1"))
    net.drop(lambda m: m.kind in ("PrepareOk", "Commit") or (m.kind == "Prepare" and m.commit > 1))
    net.client("w2", max_attempts=1)
    net.put("w2", "x", "2")
    net.run(5_000)
    for i in (1, 2):
        assert net.r(i).op_number == 2 and net.r(i).commit_number == 1
        assert net.r(i).machine.query(("get", "x")) == ("1",)
    assert net.r(0).machine.query(("get", "x")) == ("1",)


def test_learner_sends_no_quorum_messages_until_caught_up() -> None:
    net = Net(3)
    net.wait("w", net.put("w", "x", "1"))
    net.crash(0)
    net.replace(1)  # only n2 has data and n0 is down: the learner must wait
    net.run(1_000_000)
    sent = {e.kind for _, e in net.events if e.node == "n1"}
    assert net.r(1).status == "learner" and "primary" not in sent
    assert net.primaries() == []
    net.restart(0)
    net.run(2_000_000)
    assert net.r(1).status == "normal"
    assert net.r(1).machine.query(("get", "x")) == ("1",)


def test_single_replica_cluster_commits_and_reads() -> None:
    net = Net(1)
    assert net.wait("w", net.put("w", "x", "1")).status == "ok"
    for mode in ("quorum", "primary", "quorum-highest-seq"):
        assert net.wait("r", net.read("r", ("get", "x"), mode)).value == ("1",)


def test_same_inputs_give_identical_traces() -> None:
    a, b = primary_crash_view_change(), primary_crash_view_change()
    assert a.lines == b.lines
    assert [(t, e.kind, e.node, sorted(e.fields.items())) for t, e in a.events] == [
        (t, e.kind, e.node, sorted(e.fields.items())) for t, e in b.events
    ]
