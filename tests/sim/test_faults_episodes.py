"""Proves the nemesis's aimed episode (``lagging_successor``) is drawn the way swarm testing
needs and applied the way it says: a seed that does not take it keeps byte for byte the
schedule it had without the kind, its inclusion comes from its own keyed stream, an episode
keeps its window clear of every other replica fault, ``@next`` names the replica that leads
the next view when the fault applies, and ``bounce(..., lose=...)`` validates before it
touches anything and brings the primary back damaged (a learner)."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim import Cluster
from clobkit.sim.faults import (
    _CATCH_UP_US,
    NEXT_PRIMARY,
    PRIMARY,
    SWARM_KINDS,
    Fault,
    swarm_faults,
)

NAMES3 = ["n0", "n1", "n2"]
NAMES5 = ["n0", "n1", "n2", "n3", "n4"]
WITHOUT = tuple(k for k in SWARM_KINDS if k != "lagging_successor")
REPLICA_FAULTS = ("crash", "pause", "lose_file", "replace", "bounce")


def _is_episode_start(f: Fault) -> bool:
    return f.action == "block" and f.args == (PRIMARY, NEXT_PRIMARY)


def test_a_seed_without_the_episode_keeps_its_old_schedule() -> None:
    taken = 0
    for seed in range(200):
        with_kind = swarm_faults(random.Random(seed), NAMES3)
        without = swarm_faults(random.Random(seed), NAMES3, kinds=WITHOUT)
        if "lagging_successor" in with_kind[1].kinds:
            taken += 1
            # the other kinds, their weights and the pace are drawn exactly as before
            assert with_kind[1].kinds[:-1] == without[1].kinds, seed
            assert with_kind[1].weights[:-1] == without[1].weights, seed
            assert with_kind[1].mean_gap_us == without[1].mean_gap_us, seed
            assert any(_is_episode_start(f) for f in with_kind[0]), seed
        else:
            assert with_kind == without, seed
    # swarm testing: some seeds take it, most do not
    assert 20 < taken < 120, taken


def test_the_episode_kind_alone_still_draws_a_schedule() -> None:
    faults, swarm = swarm_faults(random.Random(5), NAMES3, kinds=("lagging_successor",))
    assert swarm.kinds == ("lagging_successor",)
    assert any(_is_episode_start(f) for f in faults)
    assert {f.action for f in faults} <= {"block", "heal", "bounce"}


def _episodes(faults: list[Fault]) -> list[tuple[int, int, Fault]]:
    """Each episode's window, re-derived from its faults (block, then heal and bounce), and
    its bounce."""
    out = []
    for i, f in enumerate(faults):
        if _is_episode_start(f):
            bounce = next(x for x in faults[i:] if x.action == "bounce")
            settle = _CATCH_UP_US if len(bounce.args) == 3 else 200_000
            out.append((f.at_us, bounce.at_us + int(bounce.args[1] * 1000) + settle, bounce))
    return out


@pytest.mark.parametrize("names", [NAMES3, NAMES5], ids=["n3", "n5"])
def test_an_episode_keeps_its_window_clear_of_other_replica_faults(names: list[str]) -> None:
    checked = 0
    for seed in range(300):
        faults, _ = swarm_faults(random.Random(seed), names)
        episodes = _episodes(faults)
        if not episodes:
            continue
        checked += 1
        spans = sorted((a, b) for a, b, _ in episodes)
        assert all(b < c for (_, b), (c, _) in pairwise(spans)), seed
        own = {bounce for _, _, bounce in episodes}
        for f in faults:
            if f.action in REPLICA_FAULTS and f not in own:
                for a, b in spans:
                    assert not a <= f.at_us <= b, (seed, str(f), (a, b))
    assert checked > 30


def test_next_primary_names_the_successor_when_the_fault_applies() -> None:
    c = Cluster(3, seed=1, storage="memory")
    assert (c.primary, c.next_primary) == ("n0", "n1")
    c.schedule_faults([Fault(1_000, "block", (PRIMARY, NEXT_PRIMARY))])
    c.run(ms=5)
    blocks = c.trace.select("block")
    assert [(r.node, r.peer) for r in blocks] == [("n0", "n1")]
    c.place("alice", "buy", price="99", qty=1)  # n0 + n2 commit it; n1 hears nothing
    assert [r["op_number"] for r in c.node_rows()] == [1, 0, 1]
    c.crash("n0")
    c.run(ms=400)
    assert c.primary == "n1" and c.next_primary == "n2"  # view 1 -> view 2 leads n2
    assert [r["op_number"] for r in c.node_rows()][1:] == [2, 2]  # the view change gave n1 op 1
    c.close()


def test_bounce_with_lost_files_validates_first_and_returns_a_learner() -> None:
    c = Cluster(3, seed=1, storage="memory")
    c.place("alice", "buy", price="99", qty=1)
    before = c.node_rows()
    with pytest.raises(InvalidArgument, match="lose must hold names"):
        c.bounce("n0", 10, lose=("identity",))
    with pytest.raises(InvalidType, match="lose must be a collection"):
        c.bounce("n0", 10, lose="meta")
    assert c.node_rows() == before  # nothing crashed, nothing deleted
    c.bounce("n0", 10, lose=("meta", "wal.log"))
    assert c.node_rows()[0]["host"] == "crashed"
    c.run(ms=11)
    assert c.node_rows()[0]["role"] == "learner"  # it forgot its state: it may not vote
    c.run(ms=500)
    assert c.node_rows()[0]["role"] == "backup" and c.node_rows()[0]["op_number"] >= 1
    assert len(c.live_orders()) == 1  # the write survived: n1 and n2 held it
    c.close()
