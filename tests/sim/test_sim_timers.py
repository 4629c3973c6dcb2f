"""Proves that a host's timer runs exactly when, and in exactly the order among other events,
it would if every re-arm pushed its own heap event and stale ones were skipped when they came
due (the simple rule the host replaced to keep one timer event queued): random scripts of
re-arms (later, earlier, in the past), ticks that re-arm, crashes with restarts and many ties
at the same microsecond run on the real World and on a ten-line eager reference, and the two
logs must be equal; and a timer moved later many times leaves one event in the heap."""

from __future__ import annotations

import heapq
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.replication.step import Step
from clobkit.sim.world import World

# One action of a script: (time it runs at, what it does, a value).
#   ("arm", v): set the timer to v; ("mark", v): log a label; ("spawn", v): schedule a mark
#   at time v then (events scheduled late tie with timers armed earlier); ("restart", v):
#   crash and restart the host with wake_at_us=v (or none when v < 0).
Action = tuple[int, str, int]

actions = st.lists(
    st.tuples(
        st.integers(0, 12),
        st.sampled_from(["arm", "arm", "arm", "mark", "spawn", "spawn", "restart"]),
        st.integers(-3, 16),
    ),
    max_size=60,
)
rearms = st.lists(st.one_of(st.none(), st.integers(0, 6)), max_size=12)


class Sleeper:
    """Logs every tick; re-arms from a shared script of delays (None: no new timer)."""

    def __init__(self, log: list[tuple[int, str]], delays: list[int | None]) -> None:
        self.log = log
        self.delays = delays

    def handle(self, message: object, now: int) -> Step:
        return Step()

    def tick(self, now: int) -> Step:
        self.log.append((now, "tick"))
        delay = self.delays.pop(0) if self.delays else None
        return Step(wake_at_us=None if delay is None else now + delay)


def run_world(script: list[Action], delays: list[int | None]) -> tuple[list[Any], World]:
    log: list[tuple[int, str]] = []
    world = World(0)
    shared = list(delays)
    host = world.add_host("n0", Sleeper(log, shared))

    def act(action: Action) -> None:
        _at, kind, value = action
        if kind == "arm":
            host.set_timer(value)
        elif kind == "mark":
            log.append((world.now_us, f"mark{value}"))
        elif kind == "spawn":
            world.schedule(value, act, (value, "mark", value))
        else:
            host.restart(Sleeper(log, shared), wake_at_us=value if value >= 0 else None)

    for action in script:
        world.schedule(action[0], act, action)
    world.run()
    return log, world


def run_reference(script: list[Action], delays: list[int | None]) -> list[Any]:
    """Every re-arm pushes an event; a timer event whose token is not current is skipped."""
    log: list[tuple[int, str]] = []
    heap: list[tuple[int, int, str, Any]] = []
    state = {"now": 0, "seq": 0, "token": 0, "live": 0, "incarnation": 0}
    shared = list(delays)

    def push(at: int, kind: str, payload: Any) -> None:
        state["seq"] += 1
        heapq.heappush(heap, (max(at, state["now"]), state["seq"], kind, payload))

    def arm(at: int) -> None:
        state["token"] += 1
        state["live"] = state["token"]
        push(at, "timer", (state["incarnation"], state["token"]))

    for action in script:
        push(action[0], "act", action)
    while heap:
        now, _seq, kind, payload = heapq.heappop(heap)
        state["now"] = now
        if kind == "timer":
            if payload != (state["incarnation"], state["live"]):
                continue
            state["live"] = -1
            log.append((now, "tick"))
            delay = shared.pop(0) if shared else None
            if delay is not None:
                arm(now + delay)
            continue
        _at, what, value = payload
        if what == "arm":
            arm(value)
        elif what == "mark":
            log.append((now, f"mark{value}"))
        elif what == "spawn":
            push(value, "act", (value, "mark", value))
        else:
            state["incarnation"] += 1
            state["live"] = -1
            if value >= 0:
                arm(value)
    return log


@settings(max_examples=500, deadline=None)
@given(actions, rearms)
def test_timer_runs_where_an_eager_timer_would(script: list[Action], delays: list[int | None]):
    log, _world = run_world(script, delays)
    assert log == run_reference(script, delays)


def test_a_timer_moved_later_keeps_one_event_queued() -> None:
    log: list[tuple[int, str]] = []
    world = World(0)
    host = world.add_host("n0", Sleeper(log, []))
    for deadline in range(1_000, 2_000, 10):
        host.set_timer(deadline)
    assert world.pending == 1
    world.run()
    # one event came due at 1,000 and queued the deadline; the tick ran once, at the last one
    assert log == [(1_990, "tick")] and world.events_processed == 2
