"""Safety under chaos: random loss, duplication, reordering, crashes, torn tails, a replacement.

Hypothesis draws a cluster (3 or 5 replicas, read mode quorum or primary), a
network (drop / duplicate probability, extra random delay that reorders
messages) and a fault schedule (crash with a torn tail, restart, partition,
heal, at most one replacement by an empty learner). Clients keep writing to
one append-only key and reading it. While it runs, after every delivery, we
check the cluster invariants; at the end we heal everything, let it settle
and check that every acknowledged write is in the committed log:

* committed prefixes agree on all replicas (entries compared by view, op, payload);
* state digests are equal at equal applied op numbers;
* at most one primary per view, ever;
* a replica's commit number never goes backwards (within one incarnation);
* a learner never sends a quorum message (PrepareOk, CommitOk, StartViewChange,
  DoViewChange, PreViewChangeOk) while it is a learner;
* reads are linearizable for the append-only key: every ok read returns a prefix
  of the final committed list, contains every write acknowledged before the read
  began, and is no shorter than any read that finished before it began;
* no write is applied twice (values are unique).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.replication import Replica
from clobkit.replication.step import Message, Step
from tests.replication.harness import Net

VOTES = {"PrepareOk", "CommitOk", "StartViewChange", "DoViewChange", "PreViewChangeOk"}


class ChaosNet(Net):
    """The harness with a lossy, duplicating, reordering network and invariant checks."""

    def setup_chaos(self, rnd: random.Random, drop: float, dup: float, jitter_us: int) -> None:
        self.rnd, self.p_drop, self.p_dup, self.jitter_us = rnd, drop, dup, jitter_us
        self.primary_of_view: dict[int, int] = {}
        self.commit_seen_by: dict[tuple[int, int], int] = {}
        self.committed: dict[int, tuple[int, bytes]] = {}

    def push(self, m: Message, at: int) -> None:
        rnd = getattr(self, "rnd", None)
        if rnd is None or (m.source.startswith("client:") and False):
            super().push(m, at)
            return
        if rnd.random() < self.p_drop:
            return
        super().push(m, at + rnd.randint(0, self.jitter_us))
        if rnd.random() < self.p_dup:
            super().push(m, at + rnd.randint(0, 3 * self.jitter_us))

    def apply(self, node: str, step: Step) -> None:
        p = self.participant(node)
        if isinstance(p, Replica) and p.status == "learner":
            assert not [m for m in step.messages if m.kind in VOTES], "a learner voted"
        super().apply(node, step)
        if hasattr(self, "committed"):
            self.check()

    def check(self) -> None:
        for r in self.up():
            if r.is_primary:
                prev = self.primary_of_view.setdefault(r.view, r.index)
                assert prev == r.index, f"two primaries in view {r.view}: n{prev}, n{r.index}"
            key = (r.index, self.incarnation[r.index])
            assert r.commit_number >= self.commit_seen_by.get(key, 0), "commit went back"
            self.commit_seen_by[key] = r.commit_number
            wal = r.store.wal
            for op in range(max(wal.first_op, 1), min(r.commit_number, r.op_number) + 1):
                if op in r._journal.corrupt:  # awaiting repair
                    continue
                e = wal.get(op)
                mine = (e.view, e.payload)
                other = self.committed.setdefault(op, mine)
                assert other == mine, f"committed op {op} differs on n{r.index}"
        by_applied: dict[int, set[str]] = {}
        for r in self.up():
            if r.applied_op <= r.commit_number:
                by_applied.setdefault(r.applied_op, set()).add(r.machine.digest())
        assert all(len(d) == 1 for d in by_applied.values()), "digests differ at equal ops"


faults = st.lists(
    st.tuples(
        st.integers(0, 1_500),  # ms
        st.sampled_from(["crash", "restart", "partition", "heal", "replace"]),
        st.integers(0, 4),
        st.integers(0, 60),  # torn bytes
    ),
    max_size=8,
)


@settings(max_examples=25, deadline=None)
@given(
    n=st.sampled_from([3, 5]),
    read_mode=st.sampled_from(["quorum", "primary"]),
    drop=st.sampled_from([0.0, 0.02, 0.1]),
    dup=st.sampled_from([0.0, 0.05]),
    jitter_us=st.sampled_from([0, 500, 3_000]),
    schedule=faults,
    seed=st.integers(0, 10_000),
)
def test_invariants_hold_under_chaos(
    n: int,
    read_mode: str,
    drop: float,
    dup: float,
    jitter_us: int,
    schedule: list[tuple[int, str, int, int]],
    seed: int,
) -> None:
    run_chaos(n, read_mode, drop, dup, jitter_us, schedule, seed)


def run_chaos(
    n: int,
    read_mode: str,
    drop: float,
    dup: float,
    jitter_us: int,
    schedule: list[tuple[int, str, int, int]],
    seed: int,
    unsafe: frozenset[str] = frozenset(),
) -> dict[str, int]:
    """Run one chaos example, assert every invariant; returns counts of ok writes and reads."""
    net = ChaosNet(
        n,
        seed=seed,
        record=False,
        config_kwargs={"read_mode": read_mode, "snapshot_every": 7, "unsafe": unsafe},
    )
    net.setup_chaos(random.Random(seed), drop, dup, jitter_us)
    rnd = random.Random(seed + 1)
    acked: list[tuple[str, int, int]] = []  # (value, invoked, returned)
    reads: list[tuple[tuple[str, ...], int, int]] = []
    handles: dict[tuple[str, int], tuple[str, str]] = {}
    replaced = False
    events = sorted((t * 1_000, kind, node % n, torn) for t, kind, node, torn in schedule)
    counter = 0
    t = 0
    while t < 1_600_000:
        t += 10_000
        while events and events[0][0] <= t:
            _, kind, node, torn = events.pop(0)
            down = [i for i in range(n) if net.replicas[i] is None]
            if kind == "crash" and net.replicas[node] is not None and len(down) < n // 2:
                net.crash(node, torn_bytes=torn or None)
            elif kind == "restart" and net.replicas[node] is None:
                net.restart(node)
            elif kind == "replace" and not replaced and not down:
                replaced = True
                net.replace(node)
            elif kind == "partition":
                names = [f"n{i}" for i in range(n)]
                rnd.shuffle(names)
                cut = rnd.randint(1, n - 1)
                net.partition(names[:cut], names[cut:])
            elif kind == "heal":
                net.heal()
        for cid in ("a", "b"):
            c = net.client(cid, max_attempts=3)
            if not c.pending:
                counter += 1
                value = f"{cid}{counter}"
                h = net.put(cid, "x", value)
                handles[(cid, h)] = ("write", value)
        if not net.client("r", max_attempts=3).pending:
            h = net.read("r", ("get", "x"))
            handles[("r", h)] = ("read", "")
        net.run_until(t)
    # Heal, restart everything, and let the cluster settle.
    net.heal()
    net.p_drop = net.p_dup = 0.0
    for i in range(n):
        if net.replicas[i] is None:
            net.restart(i)
    net.run(3_000_000)
    final = wait_for_final(net, n)
    for (cid, h), (kind, value) in handles.items():
        out = net.clients[cid].result(h)
        if out is None or out.status != "ok":
            continue
        if kind == "write":
            acked.append((value, out.invoked_us, out.returned_us))
            assert value in final, f"acknowledged write {value} lost (seed {seed})"
        else:
            reads.append((out.value, out.invoked_us, out.returned_us))
    assert len(set(final)) == len(final), "a write was applied twice"
    for value, inv, _ret in reads:
        assert tuple(final[: len(value)]) == value, "read returned a non-prefix"
        for w, _, wret in acked:
            if wret < inv:
                assert w in value, f"read missed write {w} acknowledged before it began"
        for other, _, oret in reads:
            if oret < inv:
                assert len(value) >= len(other), "read went back in time"
    return {"writes": len(acked), "reads": len(reads), "final": len(final)}


def test_chaos_run_does_real_work_and_is_deterministic() -> None:
    """Guard against a vacuous chaos test: a mild run acknowledges many writes and reads,
    and the same seed gives the same result."""
    schedule = [(300, "crash", 0, 13), (700, "restart", 0, 0), (900, "replace", 2, 0)]
    stats = run_chaos(3, "quorum", 0.02, 0.05, 500, schedule, seed=7)
    assert stats["writes"] >= 50 and stats["reads"] >= 20, stats
    assert run_chaos(3, "quorum", 0.02, 0.05, 500, schedule, seed=7) == stats


def test_chaos_checks_catch_an_unsafe_cluster() -> None:
    """The same checks fail when a safety mechanism is switched off (no_dedup, lossy net)."""
    failures = 0
    for seed in range(5):
        try:
            run_chaos(3, "quorum", 0.1, 0.05, 3_000, [], seed, unsafe=frozenset({"no_dedup"}))
        except AssertionError:
            failures += 1
            break
    assert failures > 0


def wait_for_final(net: ChaosNet, n: int) -> list[str]:
    """The committed list of x once every replica has caught up (a fresh read settles it)."""
    h = net.read("final", ("get", "x"), "primary")
    out = net.wait("final", h, limit_us=5_000_000)
    assert out is not None and out.status == "ok", "cluster did not recover after healing"
    net.run(500_000)
    values: Any = out.value
    return list(values)
