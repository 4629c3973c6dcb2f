"""Proves that the cluster's lazy call deadlines (one queued heap event, a sequence number
reserved per call) expire exactly the calls, at exactly the times and in exactly the order
among other events, that one eager deadline event per call did (the rule they replaced):
random scripts of calls with mixed timeouts (so deadlines are out of order and tie with other
events), crashes and restarts that make calls time out, runs of random length and callbacks
that submit more calls from inside an expiry run on the real Cluster and on an eager
subclass, and the trace, the history and every call's outcome must be equal; a run of many
calls that all end in time leaves one deadline event in the heap; and a callback that raises
inside an expiry leaves the other calls' deadlines queued."""

from __future__ import annotations

import heapq
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clobkit.sim.cluster import Cluster
from clobkit.sim.results import Call


class EagerCluster(Cluster):
    """The old rule: every call pushes its own deadline event; a call already finished when
    it comes due is left alone."""

    def _start(self, user: str, kind: str, timeout_ms: float | None, args: dict[str, Any]) -> Call:
        call = super()._start(user, kind, timeout_ms, args)
        world = self.world
        # Forget the lazy bookkeeping (it only ever holds this call here)...
        self._deadlines.clear()
        self._deadlines_queued.clear()
        world._heap[:] = [e for e in world._heap if e[2] != self._deadline_due]
        heapq.heapify(world._heap)
        # ...and push the deadline as its own event, the last thing _start schedules, as
        # world.schedule(call.deadline_us, self._expire, call) did (the lazy rule has taken
        # that sequence number: world._seq is it).
        at_us = max(call.deadline_us, world.now_us)
        heapq.heappush(world._heap, (at_us, world._seq, self._expire, call))
        return call


USERS = ("alice", "bob", "carol")
# Short timeouts (ms): a write of a warmed-up lockstep cluster takes 8.002 ms and a read 2 ms,
# so these deadlines tie with replies (the older deadline runs first) or just miss them.
TIMEOUTS = (2.0, 8.002, 1.999, 8.003, 5.0)
# (what, a value): ("call", user), ("read", user), ("short", user + 3 * timeout index): a call
# with a short timeout; ("run", us); ("crash", replica); ("restart", replica); ("peek", ms):
# at now + ms (scheduled before any call made after it), log every call's outcome so far.
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["call", "read"]), st.integers(0, 2)),
        st.tuples(st.just("short"), st.integers(0, 3 * len(TIMEOUTS) - 1)),
        st.tuples(st.just("run"), st.integers(0, 40_000)),
        st.tuples(st.sampled_from(["crash", "restart"]), st.integers(0, 2)),
        st.tuples(st.just("peek"), st.integers(0, 9)),
    ),
    max_size=30,
)


def play(cls: type[Cluster], script: list[tuple[str, int]], lockstep: bool) -> tuple[Any, ...]:
    # lockstep: every latency, sync and run a whole millisecond, so deadlines come due at the
    # same microsecond as replies and other events, and only their sequence numbers order them
    latency = {"latency_us_min": 1_000, "latency_us_max": 1_000} if lockstep else {}
    c = cls(3, seed=5, storage="memory", trace=True, timeout_ms=30, **latency)
    calls: list[Call] = []
    price = 100

    def follow_up(call: Call) -> None:
        # A callback that submits from inside an expiry (or a reply): reentrant deadlines.
        if call.outcome == "unknown" and len(calls) < 60:
            calls.append(c.submit(call.client_id, "depth", timeout_ms=2))

    peeks: list[list[str]] = []

    def peek() -> None:
        peeks.append([call.outcome for call in calls])

    for what, value in script:
        if what in ("call", "short"):
            price += 1
            timeout = None if what == "call" else TIMEOUTS[value // 3]
            call = c.submit(
                USERS[value % 3], "place", side="buy", price=str(price), qty=1, timeout_ms=timeout
            )
            call.on_done.append(follow_up)
            calls.append(call)
        elif what == "read":
            calls.append(c.submit(USERS[value], "depth"))
        elif what == "peek":
            c.at((c.now_us + value * 1_000) / 1_000, peek)
        elif what == "run":
            c.run(us=value // 1_000 * 1_000 if lockstep else value)
        elif what == "crash":
            if c.world.hosts[f"n{value}"].up:
                c.crash(f"n{value}")
        elif not c.world.hosts[f"n{value}"].up:
            c.restart(f"n{value}")
    c.run()  # until every call has an outcome
    return (
        c.now_us,
        c.trace.digest(),
        c.history.digest(),
        [(k.outcome, k.call_us, k.return_us, str(k.error)) for k in calls],
        peeks,
    )


@settings(max_examples=60, deadline=None)
@given(steps, st.booleans())
# a write's reply arrives at its deadline's microsecond: the deadline (older) runs first
@example([("call", 0), ("run", 20_000), ("short", 4), ("short", 2), ("run", 30_000)], True)
# an action scheduled earlier for a deadline's microsecond runs before it
@example([("call", 0), ("run", 20_000), ("peek", 5), ("short", 12), ("run", 30_000)], True)
def test_calls_expire_where_eager_deadlines_would(
    script: list[tuple[str, int]], lockstep: bool
) -> None:
    assert play(Cluster, script, lockstep) == play(EagerCluster, script, lockstep)


def test_calls_that_end_in_time_leave_one_deadline_event() -> None:
    c = Cluster(3, seed=1, storage="memory")
    calls = [c.submit("alice", "place", side="buy", price="99", qty=1) for _ in range(50)]
    c.run()
    assert all(call.outcome == "ok" for call in calls)
    queued = [e for e in c.world._heap if e[2] == c._deadline_due]
    assert len(queued) == 1 and c._deadlines_queued == [queued[0][3]]


def test_a_callback_that_raises_in_an_expiry_leaves_the_other_deadlines_queued() -> None:
    c = Cluster(3, seed=1, storage="memory")
    for replica in ("n0", "n1", "n2"):
        c.crash(replica)  # no answer, ever: the deadlines end both calls
    first = c.submit("alice", "depth", timeout_ms=5)
    second = c.submit("bob", "depth", timeout_ms=9)

    def boom(call: Call) -> None:
        raise RuntimeError("a user's callback failed")

    first.on_done.append(boom)
    with pytest.raises(RuntimeError, match="callback failed"):
        c.run()
    assert (first.outcome, first.return_us, second.outcome) == ("unknown", 5_000, "pending")
    c.run()
    assert (second.outcome, second.return_us) == ("unknown", 9_000)
