"""Proves that a host does with the Step an arriving message returns exactly what apply() does
with it (the arrival path skips apply() for an empty Step only): for each Step field alone and
for the empty Step, the host's timer, busy period, outbox and owed sync, the world's queued
events and the trace are the same as when apply() is called on that Step directly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clobkit.replication.step import Message, Step, TraceEvent
from clobkit.sim.trace import Trace
from clobkit.sim.world import World


def message(source: str, target: str) -> Message:
    return Message(cluster_id="c", source=source, target=target, view=0)


CASES: dict[str, Callable[[], Step]] = {
    "empty": lambda: Step(),
    "messages": lambda: Step([message("n0", "n1")]),
    "wake_at_us": lambda: Step(wake_at_us=500),
    "events": lambda: Step(events=[TraceEvent("commit", "n0", {"op": 1})]),
    "delay_us": lambda: Step(delay_us=300),
    "sync_us": lambda: Step(early=[message("n0", "n1")], sync_us=200),
}


class Fixed:
    """Answers every message with a fresh copy of one Step."""

    def __init__(self, make: Callable[[], Step]) -> None:
        self.make = make

    def handle(self, message: Message, now: int) -> Step:
        return self.make()

    def tick(self, now: int) -> Step:
        return Step()

    def sync(self, now: int) -> Step:
        return Step()


def observed(world: World) -> tuple[Any, ...]:
    host = world.hosts["n0"]
    return (
        host.timer_at_us,
        host.busy_until_us,
        list(host.outbox),
        host._sync_due,
        sorted((at, seq, action.__name__) for at, seq, action, _ in world._heap),
        [r for r in world.trace if r.kind != "deliver"],
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_arrival_does_with_its_step_what_apply_does(case: str) -> None:
    worlds = []
    for _ in range(3):
        world = World(3, trace=Trace(enabled=True))
        world.add_host("n0", Fixed(CASES[case]))
        world.add_host("n1", Fixed(Step))
        worlds.append(world)
    arrived, applied, untouched = worlds
    arrived.hosts["n0"].arrive((1, message("n1", "n0")))
    applied.hosts["n0"].apply(CASES[case]())
    assert observed(arrived) == observed(applied)
    # every case but the empty Step changes something, so the comparison has teeth
    assert (observed(applied) == observed(untouched)) == (case == "empty")
