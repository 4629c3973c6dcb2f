"""Proves the invariant monitor catches what it claims, using hand-made replica stand-ins: a
divergent committed entry, a commit number that goes back within one life (but not across a
restart), two primaries in one view; strict mode raises at once, lenient mode records each
violation once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from clobkit.sim.invariants import InvariantMonitor
from clobkit.storage import LogEntry


@dataclass
class Clock:
    now_us: int = 0


CLOCK = Clock()


@dataclass
class FakeWal:
    entries: dict[int, LogEntry] = field(default_factory=dict)
    first_op: int = 1

    @property
    def last_op(self) -> int:
        return max(self.entries, default=0)

    def get(self, op: int) -> LogEntry:
        return self.entries[op]


@dataclass
class FakeStore:
    wal: FakeWal = field(default_factory=FakeWal)


@dataclass
class FakeReplica:
    view: int = 0
    status: str = "normal"
    commit_number: int = 0
    is_primary: bool = False
    store: FakeStore = field(default_factory=FakeStore)

    def commit(self, op: int, payload: bytes, view: int = 0) -> None:
        self.store.wal.entries[op] = LogEntry(view, op, payload)
        self.commit_number = op


def monitor(replicas: dict[str, tuple[int, Any]], strict: bool) -> InvariantMonitor:
    return InvariantMonitor(
        lambda: [(name, inc, r) for name, (inc, r) in replicas.items()], strict=strict
    )


def test_divergent_commit_detected_and_recorded_once() -> None:
    a, b = FakeReplica(), FakeReplica()
    m = monitor({"n0": (0, a), "n1": (0, b)}, strict=False)
    a.commit(1, b"x")
    b.commit(1, b"y")
    m(CLOCK)  # type: ignore[arg-type]
    m(CLOCK)  # type: ignore[arg-type]
    assert [v.kind for v in m.violations] == ["divergent_commit"]
    assert m.committed == {1: (0, b"x")} and m.committed_by == {1: "n0"}


def test_commit_going_back_in_one_life_but_not_across_restart() -> None:
    a = FakeReplica()
    replicas: dict[str, tuple[int, Any]] = {"n0": (0, a)}
    m = monitor(replicas, strict=False)
    a.commit(1, b"x")
    a.commit(2, b"y")
    m(CLOCK)  # type: ignore[arg-type]
    a.commit_number = 1
    m(CLOCK)  # type: ignore[arg-type]
    m(CLOCK)  # type: ignore[arg-type]
    assert [v.kind for v in m.violations] == ["commit_went_back"]
    replicas["n0"] = (1, a)  # a new life: re-learning the commit number is fine
    a.commit_number = 0
    m(CLOCK)  # type: ignore[arg-type]
    assert len(m.violations) == 1


def test_two_primaries_in_one_view_strict_raises() -> None:
    a, b = FakeReplica(is_primary=True), FakeReplica(is_primary=True)
    m = monitor({"n0": (0, a), "n1": (0, b)}, strict=True)
    with pytest.raises(AssertionError, match="two_primaries"):
        m(CLOCK)  # type: ignore[arg-type]
    a2, b2 = FakeReplica(is_primary=True), FakeReplica(is_primary=True, view=1)
    ok = monitor({"n0": (0, a2), "n1": (0, b2)}, strict=True)
    ok(CLOCK)  # type: ignore[arg-type]
    assert ok.primaries == {0: ["n0"], 1: ["n1"]}


def test_checking_twice_records_a_lost_write_once() -> None:
    """Regression: Cluster.check() appended the same acked_write_lost on every call."""
    from clobkit.check.scenarios import s8_ack_before_fsync

    run = s8_ack_before_fsync(unsafe=True)
    cluster = run.cluster
    first = [v for v in cluster.check() if v.kind == "acked_write_lost"]
    second = [v for v in cluster.check() if v.kind == "acked_write_lost"]
    assert first and second == first
    cluster.close()


def test_violations_carry_view_op_and_nodes_as_fields() -> None:
    """One Violation type for the monitor and the end-of-run checks, whose view, op and
    nodes are fields: the end-of-run check names a split brain's primaries from ``view``
    even when ``detail`` says nothing parseable."""
    import clobkit.check.invariants as ci
    import clobkit.sim.invariants as si

    assert ci.Violation is si.Violation
    a, b = FakeReplica(is_primary=True, view=4), FakeReplica(is_primary=True, view=4)
    m = monitor({"n0": (0, a), "n1": (0, b)}, strict=False)
    m(CLOCK)  # type: ignore[arg-type]
    (v,) = m.violations
    assert (v.kind, v.view, v.op, v.nodes) == ("two_primaries", 4, None, ("n0", "n1"))

    class Holder:
        monitor = m

    m.primaries[4].append("n2")  # a third primary of view 4 turned up later in the run
    m.primaries[5] = ["n3"]  # and view 5 has a primary of its own
    m.violations[0] = si.Violation("two_primaries", "split brain", 7, ("n1",), view=4)
    (seen,) = ci._from_monitor(Holder())  # type: ignore[arg-type]
    assert seen.nodes == ("n0", "n1", "n2") and seen.view == 4
