"""Proves the invariant monitor's shortcut hides nothing: a monitor skips a replica whose
commit number, view, status and last normal view are unchanged in its current life (and
keeps what it read per entry of the cluster's list of live replicas, rebuilt when a crash
or restart hands it another list). A second monitor, given the same replicas through a
proxy (so it takes no shortcut and observes every replica after every event), must hold
exactly the same findings after every event: violations, committed entries, primaries,
highest commit numbers and what it checked per replica life. Runs with swarm faults
(crashes, restarts, disk replacement, partitions) and with an unsafe switch, so that there
are violations to find."""

from __future__ import annotations

from typing import Any

import pytest

import clobkit as ck
from clobkit.check.campaigns import DEFAULT_FAULT_KINDS
from clobkit.sim.faults import swarm_faults
from clobkit.sim.invariants import InvariantMonitor
from clobkit.sim.workload import RandomWorkload


class Proxy:
    """A replica seen through attribute forwarding: not a ``Replica``, so no shortcut."""

    def __init__(self, replica: Any) -> None:
        self._replica = replica

    def __getattr__(self, name: str) -> Any:
        return getattr(self._replica, name)


def findings(m: InvariantMonitor) -> tuple[Any, ...]:
    return (m.violations, m.committed, m.primaries, m.commit_high, m._seen)


@pytest.mark.parametrize(("seed", "unsafe"), [(1, ()), (2, ("no_fencing",)), (4, ())])
def test_the_shortcut_finds_what_looking_every_time_finds(
    seed: int, unsafe: tuple[str, ...]
) -> None:
    c = ck.Cluster(3, seed=seed, storage="memory", unsafe=set(unsafe), trace=False)
    c.monitor.strict = False
    every = InvariantMonitor(
        lambda: [(n, i, Proxy(r)) for n, i, r in c._live_replicas()], strict=False
    )
    events = 0
    restarts = 0
    lives: dict[str, int] = {}

    def compare(world: Any) -> None:
        nonlocal events, restarts
        every(world)
        # (compaction hands dropped entries to the cluster's monitor only; none here)
        assert findings(c.monitor) == findings(every), f"after event {events}"
        events += 1
        for name, incarnation, _r in c._live_replicas():
            restarts += lives.setdefault(name, incarnation) != incarnation
            lives[name] = incarnation

    c.world.observers.append(compare)
    RandomWorkload(c, users=["u0", "u1", "u2"], ops_per_user=60, think_us_max=20_000).start()
    faults, _ = swarm_faults(
        c.world.streams.stream("faults"),
        c.replica_names,
        duration_us=1_200_000,
        kinds=DEFAULT_FAULT_KINDS,
    )
    c.schedule_faults(faults)
    c.run(ms=1_300)
    c.settle(ms=1_000)
    assert events > 1_000 and restarts >= 1
    if unsafe:
        assert c.monitor.violations, "the switch gave the monitors something to find"
    c.close()
