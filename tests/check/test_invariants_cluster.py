"""Proves the cluster invariant checks catch hand-built broken states and pass clean runs: pure
log comparisons with a divergence, an applied entry off the committed prefix, an entry applied
past the commit number; then real simulated clusters (clean, and with a lost acknowledged write
and a busted trade staged through the unsafe switches)."""

from __future__ import annotations

import clobkit as ck
from clobkit.check.invariants import (
    VIOLATION_COLUMNS,
    VIOLATION_KINDS,
    LiveInvariants,
    Violation,
    check_invariants,
    compare_logs,
    violations_frame,
)

A = [(1, 0, b"a"), (2, 0, b"b"), (3, 0, b"c")]


def test_agreeing_logs_give_one_canonical_sequence() -> None:
    log, bad = compare_logs({"n0": A, "n1": A[:2], "n2": A}, {"n0": 3, "n1": 2, "n2": 1})
    assert bad == []
    assert log == A


def test_divergent_committed_entry_is_caught() -> None:
    forked = [A[0], (2, 1, b"x"), (3, 1, b"y")]
    log, bad = compare_logs({"n0": A, "n1": forked}, {"n0": 3, "n1": 3})
    kinds = [v.kind for v in bad]
    assert kinds.count("divergent_commit") == 2  # ops 2 and 3
    assert {v.nodes for v in bad if v.kind == "divergent_commit"} == {("n0", "n1")}
    assert [v.nodes for v in bad if v.kind == "applied_not_prefix"] == [("n1",)]
    assert log == A  # the first replica in name order fixed the canonical entries


def test_divergence_from_a_given_canonical_log_is_caught() -> None:
    forked = [A[0], (2, 1, b"x")]
    _log, bad = compare_logs({"n1": forked}, {"n1": 2}, canonical=A, time_us=77)
    assert (bad[0].kind, bad[0].time_us, bad[0].nodes) == ("divergent_commit", 77, ("n1",))
    assert "applied_not_prefix" in [v.kind for v in bad]


def test_uncommitted_entries_beyond_the_commit_number_do_not_count() -> None:
    # n1 holds a different op 3, but has not committed it: no divergence.
    other = [A[0], A[1], (3, 1, b"z")]
    _log, bad = compare_logs({"n0": A, "n1": other}, {"n0": 3, "n1": 2})
    assert bad == []


def test_applied_beyond_commit_is_caught() -> None:
    _log, bad = compare_logs({"n0": A}, {"n0": 2}, {"n0": 3})
    assert [v.kind for v in bad] == ["applied_uncommitted"]


def test_violation_frame_has_documented_columns() -> None:
    df = violations_frame([Violation("two_primaries", "view 1", 10, ("n0", "n1"), view=1)])
    assert list(df.columns) == list(VIOLATION_COLUMNS)
    assert [str(t) for t in df.dtypes] == ["str", "str", "int64", "str", "Int64", "Int64"]
    assert df.nodes[0] == "n0,n1"
    assert df.view[0] == 1 and df.op.isna()[0]
    assert set(VIOLATION_KINDS) >= {"divergent_commit", "acked_write_lost"}


def test_clean_cluster_with_faults_passes() -> None:
    c = ck.Cluster(3, seed=4, storage="memory")
    live = LiveInvariants.attach(c)
    c.place("alice", "sell", price="100", qty=5)
    c.crash("n0")
    c.run(ms=300)
    c.place("bob", "buy", price="100", qty=2)
    c.restart("n0")
    c.run(ms=500)
    assert check_invariants(c, live) == []
    c.close()


def test_lost_acknowledged_write_is_caught_at_the_end() -> None:
    c = ck.Cluster(3, seed=1, storage="memory", unsafe={"ack_before_fsync"})
    live = LiveInvariants.attach(c)
    c.place("alice", "sell", price="101", qty=5)
    for name in c.replica_names:  # power loss: unsynced bytes go
        c.crash(name)
    for name in c.replica_names:
        c.restart(name)
    c.run(ms=200)
    found = check_invariants(c, live)
    # (op 1 now holds the no-op each reopened primary appends, hence divergent commits too)
    lost = [v for v in found if v.kind == "acked_write_lost"]
    assert len(lost) == 1 and lost[0].nodes == ("client:alice",)
    assert {v.kind for v in found} <= {
        "acked_write_lost",
        "divergent_commit",
        "digest_mismatch",
        "applied_not_prefix",
    }
    c.close()


def test_applied_past_commit_is_caught_live_in_a_safe_check() -> None:
    # The live check flags every apply past the commit number unless the switch says it is
    # intended; with the switch on, it records the entries for the end-of-run check instead.
    c = ck.Cluster(3, seed=1, storage="memory", unsafe={"apply_before_commit"})
    live = LiveInvariants(c, speculative=False)
    c.world.observers.append(live)
    c.drop_next("Prepare", source="n0", count=100)
    c.submit("w", "place", side="buy", price="100", qty=1)
    c.run(ms=5)
    assert [v.kind for v in live.violations] == ["applied_uncommitted"]
    assert live.violations[0].nodes == ("n0",)
    c.close()


def test_the_live_check_riding_on_the_monitor_finds_what_an_observer_finds() -> None:
    # attach() hangs the check on the monitor's pass over the replicas (one pass per event);
    # a LiveInvariants registered as a world observer of its own must see exactly the same
    # entries applied early, and the same violations at the same times.
    from clobkit.sim.faults import swarm_faults
    from clobkit.sim.workload import RandomWorkload

    for seed in (2, 5):
        c = ck.Cluster(3, seed=seed, storage="memory", unsafe={"apply_before_commit"})
        c.monitor.strict = False
        hooked = LiveInvariants.attach(c)
        assert c.world.observers[-1] is c.monitor, "attach() rode on the monitor"
        strict_hooked = LiveInvariants(c, speculative=False)
        c.monitor.applied_beyond_commit.append(strict_hooked.look)
        alone = LiveInvariants(c, speculative=True)
        strict_alone = LiveInvariants(c, speculative=False)
        c.world.observers.extend([alone, strict_alone])
        RandomWorkload(c, users=["u0", "u1"], ops_per_user=40, think_us_max=20_000).start()
        faults, _ = swarm_faults(
            c.world.streams.stream("faults"), c.replica_names, duration_us=800_000
        )
        c.schedule_faults(faults)
        c.run(ms=800)
        c.settle(ms=1_000)
        assert hooked.applied_early and hooked.applied_early == alone.applied_early
        assert strict_hooked.violations and strict_hooked.violations == strict_alone.violations
        c.close()
