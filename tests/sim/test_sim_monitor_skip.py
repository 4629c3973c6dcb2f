"""Proves the invariant monitor's shortcut hides nothing: a monitor skips a replica whose
commit number, view, status and last normal view are unchanged in its current life (and
keeps what it read per entry of the cluster's list of live replicas, rebuilt when a crash
or restart hands it another list). A second monitor, given the same replicas through a
proxy (so it takes no shortcut and observes every replica after every event), must hold
exactly the same findings after every event: violations, committed entries, primaries,
highest commit numbers and what it checked per replica life. Runs with swarm faults
(crashes, restarts, disk replacement, partitions) and with an unsafe switch, so that there
are violations to find. The monitor's second shortcut (an event after which none of the
fields its full pass reads changed on any replica ends at once) is held to the same
reference while a perturbing observer changes one of those fields on a random replica just
before the monitors look, and puts it back just after."""

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


def test_the_quiet_shortcut_notices_a_change_of_every_field_it_reads() -> None:
    # Before both monitors look, a perturbing observer overlays fake values on one live
    # replica, one field more per event and then one field less per event (so each event
    # changes one field as the monitors see it), and puts the real values back after both
    # looked (the replica itself runs unperturbed). The plans: become the primary of a later
    # view it could lead (status, view and last normal view, in random order: whichever
    # comes last makes it a primary, a finding, as no plan uses a view twice); a commit
    # number 2 lower; an applied op 1 higher for two events (the applied-beyond-commit
    # hooks, called after every event while it lasts). The monitor with its shortcuts must
    # report exactly what the reference reports, and call its hooks with the same arguments
    # at the same times.
    import random

    c = ck.Cluster(3, seed=3, storage="memory", trace=False)
    c.monitor.strict = False
    every = InvariantMonitor(
        lambda: [(n, i, Proxy(r)) for n, i, r in c._live_replicas()], strict=False
    )
    hooked: dict[str, list[tuple[int, str, int, int, int]]] = {"fast": [], "every": []}
    for key, monitor in (("fast", c.monitor), ("every", every)):
        calls = hooked[key]
        monitor.applied_beyond_commit.append(
            lambda w, n, i, r, calls=calls: calls.append(
                (w.now_us, n, i, r.applied_op, r.commit_number)
            )
        )
    rng = random.Random(7)
    plan: dict[str, Any] = {"replica": None, "steps": [], "level": 0, "rising": True}
    plan["next_view"] = 0
    saved: list[tuple[Any, str, Any]] = []
    last_steps = {"status": 0, "view": 0, "last_normal_view": 0, "commit": 0, "applied": 0}
    armed = 0

    def new_plan() -> None:
        name, _incarnation, replica = rng.choice(c._live_replicas())
        index = c.replica_names.index(name)
        kind = rng.choice(("primary", "primary", "commit", "applied"))
        steps: list[tuple[str, Any]]
        if kind == "primary":
            # (a view no plan used yet: being primary of it again would be no news)
            view = max(replica.view + 1, plan["next_view"])
            while view % len(c.replica_names) != index:
                view += 1
            plan["next_view"] = view + 1
            last = [("view", view), ("last_normal_view", view), ("status", "normal")]
            rng.shuffle(last)
            steps = [("status", "view_change"), *last]
            last_steps[last[-1][0]] += 1
        elif kind == "commit":
            steps = [("commit_number", lambda r: r.commit_number - 2)]
            last_steps["commit"] += 1
        else:
            # (twice: the second event sees the same overlay, a replica still beyond commit)
            beyond = ("applied_op", lambda r: r.applied_op + 1)
            steps = [beyond, beyond]
            last_steps["applied"] += 1
        plan.update(replica=replica, steps=steps, level=0, rising=True)

    def perturb(world: Any) -> None:
        nonlocal armed
        armed += c.monitor._quiet is not None
        if plan["replica"] is None:
            if not c._live_replicas() or rng.random() > 0.05:
                return
            new_plan()
        if plan["rising"]:
            plan["level"] += 1
            plan["rising"] = plan["level"] < len(plan["steps"])
        else:
            plan["level"] -= 1
        if plan["level"] == 0:
            plan["replica"] = None
            return
        replica = plan["replica"]
        for field, value in dict(plan["steps"][: plan["level"]]).items():
            saved.append((replica, field, getattr(replica, field)))
            setattr(replica, field, value(replica) if callable(value) else value)

    def restore(world: Any) -> None:
        every(world)
        assert findings(c.monitor) == findings(every), f"at {world.now_us} us"
        assert hooked["fast"] == hooked["every"], f"at {world.now_us} us"
        while saved:
            replica, field, old = saved.pop()
            setattr(replica, field, old)

    c.world.observers.insert(0, perturb)
    c.world.observers.append(restore)
    RandomWorkload(c, users=["u0", "u1", "u2"], ops_per_user=60, think_us_max=20_000).start()
    c.run(ms=2_000)
    assert min(last_steps.values()) >= 5, last_steps
    assert armed > 1_000, "the shortcut was ready to take on most events"
    assert hooked["fast"] and c.monitor.violations and len(c.monitor.primaries) > 50
    c.close()


def test_a_pending_compaction_makes_the_next_look_a_full_pass() -> None:
    # Entries a compaction dropped are kept until the next look at that replica, which
    # forgets them (InvariantMonitor.compacting): the quiet shortcut must not skip that
    # look, even when no field of any replica changed.
    from clobkit.storage import LogEntry

    c = ck.Cluster(3, seed=1, storage="memory", trace=False)
    c.place("alice", "buy", price="100", qty=1)
    c.run(ms=50)
    assert c.monitor._quiet is not None, "a quiet cluster: the shortcut is ready"
    c.monitor.compacting("n1", [LogEntry(0, 1, b"x")])
    c.monitor(c.world)
    assert c.monitor._compacted == {} and c.monitor._quiet is not None
    c.close()
