"""Proves that the cluster's lazy call deadlines (one queued heap event, a sequence number
reserved per call) expire exactly the calls, at exactly the times and in exactly the order
among other events, that one eager deadline event per call did (the rule they replaced):
random scripts of calls with mixed timeouts (so deadlines are out of order and tie with other
events), crashes and restarts that make calls time out, runs of random length and callbacks
that submit more calls from inside an expiry run on the real Cluster and on an eager
subclass, and the trace, the history and every call's outcome must be equal; and a run of
many calls that all end in time leaves one deadline event in the heap."""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.sim.cluster import Cluster
from clobkit.sim.results import Call


class EagerCluster(Cluster):
    """The old rule: every call pushes its own deadline event, with the sequence number the
    lazy rule reserves for it; a call already finished when it comes due is left alone."""

    def _start(self, user: str, kind: str, timeout_ms: float | None, args: dict[str, Any]) -> Call:
        call = super()._start(user, kind, timeout_ms, args)
        heap = self.world._heap
        # Take the call's reserved place back out of the lazy bookkeeping...
        (entry,) = [e for e in self._deadlines if e[2] is call]
        self._deadlines.remove(entry)
        assert not self._deadlines, "the eager cluster keeps no lazy deadlines"
        heap[:] = [e for e in heap if e[2] != self._deadline_due]
        heapq.heapify(heap)
        self._deadlines_queued.clear()
        # ...and push it as its own event, as world.schedule() did.
        heapq.heappush(heap, (entry[0], entry[1], self._expire, call))
        return call


USERS = ("alice", "bob", "carol")
# (what, a value): ("call", user), ("read", user), ("short", user): a call with a short,
# random-ish timeout; ("run", us); ("crash", replica); ("restart", replica).
steps = st.lists(
    st.one_of(
        st.tuples(st.sampled_from(["call", "read", "short", "short"]), st.integers(0, 2)),
        st.tuples(st.just("run"), st.integers(0, 40_000)),
        st.tuples(st.sampled_from(["crash", "restart"]), st.integers(0, 2)),
    ),
    max_size=30,
)


def play(cls: type[Cluster], script: list[tuple[str, int]]) -> tuple[Any, ...]:
    c = cls(3, seed=5, storage="memory", trace=True, timeout_ms=30)
    calls: list[Call] = []
    price = 100

    def follow_up(call: Call) -> None:
        # A callback that submits from inside an expiry (or a reply): reentrant deadlines.
        if call.outcome == "unknown" and len(calls) < 60:
            calls.append(c.submit(call.client_id, "depth", timeout_ms=2))

    for what, value in script:
        if what in ("call", "short"):
            price += 1
            timeout = None if what == "call" else 1 + (price * 7) % 13
            call = c.submit(
                USERS[value], "place", side="buy", price=str(price), qty=1, timeout_ms=timeout
            )
            call.on_done.append(follow_up)
            calls.append(call)
        elif what == "read":
            calls.append(c.submit(USERS[value], "depth"))
        elif what == "run":
            c.run(us=value)
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
    )


@settings(max_examples=40, deadline=None)
@given(steps)
def test_calls_expire_where_eager_deadlines_would(script: list[tuple[str, int]]) -> None:
    assert play(Cluster, script) == play(EagerCluster, script)


def test_calls_that_end_in_time_leave_one_deadline_event() -> None:
    c = Cluster(3, seed=1, storage="memory")
    calls = [c.submit("alice", "place", side="buy", price="99", qty=1) for _ in range(50)]
    c.run()
    assert all(call.outcome == "ok" for call in calls)
    queued = [e for e in c.world._heap if e[2] == c._deadline_due]
    assert len(queued) == 1 and c._deadlines_queued == [queued[0][3]]
