"""Proves the nemesis's aimed episodes (``lagging_successor``, ``bit_rot``) are drawn the way
swarm testing needs and applied the way they say: a seed that takes none keeps byte for byte
the schedule it had without them, each kind's inclusion and faults come from its own keyed
stream (adding ``bit_rot`` left every ``lagging_successor`` episode where it was), an episode
keeps its window clear of every other replica fault, ``@next`` names the replica that leads
the next view when the fault applies, and ``bounce(..., lose=..., corrupt=...)`` validates
before it touches anything and brings the primary back damaged (a learner) or with a corrupt
middle record that it repairs from its peers."""

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
EPISODES = ("lagging_successor", "bit_rot")
WITHOUT = tuple(k for k in SWARM_KINDS if k not in EPISODES)
REPLICA_FAULTS = ("crash", "pause", "lose_file", "replace", "bounce")


def _is_episode_start(f: Fault) -> bool:
    return f.action == "block" and f.args == (PRIMARY, NEXT_PRIMARY)


def test_a_seed_without_the_episode_keeps_its_old_schedule() -> None:
    taken = 0
    for seed in range(200):
        with_kind = swarm_faults(random.Random(seed), NAMES3)
        without = swarm_faults(random.Random(seed), NAMES3, kinds=WITHOUT)
        episodes = [k for k in with_kind[1].kinds if k in EPISODES]
        if episodes:
            taken += 1
            # the other kinds, their weights and the pace are drawn exactly as before
            n = len(without[1].kinds)
            assert with_kind[1].kinds == without[1].kinds + tuple(episodes), seed
            assert with_kind[1].weights[:n] == without[1].weights, seed
            assert with_kind[1].mean_gap_us == without[1].mean_gap_us, seed
            assert any(_is_episode_start(f) for f in with_kind[0]), seed
        else:
            assert with_kind == without, seed
    # swarm testing: some seeds take one, most take none
    assert 20 < taken < 140, taken


def _lagging(faults: list[Fault]) -> list[Fault]:
    """The lagging_successor episodes' faults: each block(@primary, @next), its heal and a
    bounce without corruption."""
    out = []
    for i, f in enumerate(faults):
        if _is_episode_start(f):
            bounce = next(x for x in faults[i:] if x.action == "bounce")
            if len(bounce.args) < 4:
                out += [f, bounce]
    return out


def test_adding_bit_rot_left_every_lagging_successor_episode_in_place() -> None:
    without_bit_rot = tuple(k for k in SWARM_KINDS if k != "bit_rot")
    for seed in range(200):
        a, swarm_a = swarm_faults(random.Random(seed), NAMES3)
        b, swarm_b = swarm_faults(random.Random(seed), NAMES3, kinds=without_bit_rot)
        assert ("lagging_successor" in swarm_a.kinds) == ("lagging_successor" in swarm_b.kinds)
        assert _lagging(a) == _lagging(b), seed


@pytest.mark.parametrize("kind", EPISODES)
def test_an_episode_kind_alone_still_draws_a_schedule(kind: str) -> None:
    faults, swarm = swarm_faults(random.Random(5), NAMES3, kinds=(kind,))
    assert swarm.kinds == (kind,)
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
    with pytest.raises(InvalidType, match="corrupt must be a bool"):
        c.bounce("n0", 10, corrupt="yes")  # type: ignore[arg-type]
    assert c.node_rows() == before  # nothing crashed, nothing deleted
    c.bounce("n0", 10, lose=("meta", "wal.log"))
    assert c.node_rows()[0]["host"] == "crashed"
    c.run(ms=11)
    assert c.node_rows()[0]["role"] == "learner"  # it forgot its state: it may not vote
    c.run(ms=500)
    assert c.node_rows()[0]["role"] == "backup" and c.node_rows()[0]["op_number"] >= 1
    assert len(c.live_orders()) == 1  # the write survived: n1 and n2 held it
    c.close()


def test_bounce_with_corruption_restarts_with_a_middle_record_to_repair() -> None:
    c = Cluster(3, seed=1, storage="memory")
    for k in range(4):
        c.place("alice", "buy", price=f"{99 - k}", qty=1)
    c.bounce("n0", 5, corrupt=True)
    flip = c.trace.select("disk_fault")
    assert len(flip) == 1 and flip[0].node == "n0" and flip[0].detail["kind"] == "bit_flip"
    op = flip[0].op
    assert 1 <= op < c.nodes["n1"].op_number  # a synced record with another after it
    c.run(ms=200)
    kinds = [r.kind for r in c.trace.select(node="n0") if r.kind in ("recover", "repaired")]
    assert kinds == ["recover", "repaired"]
    assert next(r for r in c.trace.select("recover") if r.node == "n0").detail["corrupt"] == [op]
    assert len({c.nodes[n].digest() for n in c.nodes}) == 1
    c.close()
