"""Proves the nemesis's aimed episodes (``bit_rot``, ``lagging_successor``,
``stale_prepares``) are drawn the way swarm testing needs and applied the way they say: a seed
that takes none keeps byte for byte the schedule it had without them, each kind's inclusion and
faults come from its own keyed stream (a kind placed later, like ``stale_prepares``, leaves every
earlier kind's episodes where they were), an episode keeps its window clear of every other
replica fault and every other network cut or heal, ``@next`` and ``@bystander`` name the
replicas that lead the next two views when the fault applies, and ``bounce(..., lose=...,
corrupt=...)`` validates before it touches anything and brings the primary back damaged (a
learner) or with a corrupt middle record that it repairs from its peers."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim import Cluster
from clobkit.sim.faults import (
    _CATCH_UP_US,
    BYSTANDER,
    NEXT_PRIMARY,
    PRIMARY,
    SWARM_KINDS,
    Fault,
    swarm_faults,
)

NAMES3 = ["n0", "n1", "n2"]
NAMES5 = ["n0", "n1", "n2", "n3", "n4"]
EPISODES = ("bit_rot", "lagging_successor", "stale_prepares")  # the order they are placed in
WITHOUT = tuple(k for k in SWARM_KINDS if k not in EPISODES)
REPLICA_FAULTS = ("crash", "pause", "lose_file", "replace", "bounce")


def _is_episode_start(f: Fault) -> bool:
    return (f.action == "block" and f.args == (PRIMARY, NEXT_PRIMARY)) or (
        f.action == "delay_next" and f.args[:1] == ("Prepare",) and f.args[2] == PRIMARY
    )


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


def _episode_faults(faults: list[Fault], kind: str) -> list[Fault]:
    """The faults of ``kind``'s episodes: bit_rot's bounce corrupts, lagging_successor's does
    not, stale_prepares starts with a delay_next; each with the faults that go with it."""
    out = []
    for i, f in enumerate(faults):
        if not _is_episode_start(f):
            continue
        bounce = next(x for x in faults[i:] if x.action == "bounce")
        if f.action == "delay_next":
            found = "stale_prepares"
        else:
            found = "bit_rot" if len(bounce.args) == 4 else "lagging_successor"
        if found == kind:
            out += [f, bounce]
    return out


@pytest.mark.parametrize("later", [1, 2])
def test_a_kind_placed_later_leaves_every_earlier_kinds_episodes_in_place(later: int) -> None:
    without_later = tuple(k for k in SWARM_KINDS if k not in EPISODES[later:])
    for seed in range(200):
        a, swarm_a = swarm_faults(random.Random(seed), NAMES3)
        b, swarm_b = swarm_faults(random.Random(seed), NAMES3, kinds=without_later)
        for kind in EPISODES[:later]:
            assert (kind in swarm_a.kinds) == (kind in swarm_b.kinds)
            assert _episode_faults(a, kind) == _episode_faults(b, kind), (seed, kind)


@pytest.mark.parametrize("kind", EPISODES)
def test_an_episode_kind_alone_still_draws_a_schedule(kind: str) -> None:
    faults, swarm = swarm_faults(random.Random(5), NAMES3, kinds=(kind,))
    assert swarm.kinds == (kind,)
    assert any(_is_episode_start(f) for f in faults)
    assert {f.action for f in faults} <= {"block", "heal", "bounce", "delay_next"}


def _episodes(faults: list[Fault]) -> list[tuple[int, int, list[Fault]]]:
    """Each episode's window, re-derived from its faults, and its faults: the bounce (and,
    when the bystander is cut off from the successor, that block and the heal after it)."""
    out = []
    for i, f in enumerate(faults):
        if not _is_episode_start(f):
            continue
        j, bounce = next((j, x) for j, x in enumerate(faults) if j > i and x.action == "bounce")
        back = bounce.at_us + int(bounce.args[1] * 1000)
        own = [f, bounce]
        if f.action == "delay_next":
            end = back + 200_000
        else:
            end = back + (_CATCH_UP_US if len(bounce.args) == 3 else 200_000)
            own.append(next(x for x in faults[i:j] if x.action == "heal"))  # ends the lag
            cut = [x for x in faults[i:j] if x.args == (BYSTANDER, NEXT_PRIMARY)]
            if cut:
                heal = next(x for x in faults[j:] if x.action == "heal")
                own += [*cut, heal]
                end = max(end, heal.at_us + 200_000)
        out.append((f.at_us, end, own))
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
        own = [x for _, _, fs in episodes for x in fs]
        others = [f for f in faults if f not in own and f.at_us < 1_500_000]  # (the end heals)
        for f in others:
            if f.action in (*REPLICA_FAULTS, "partition", "isolate", "block", "heal"):
                for a, b in spans:
                    assert not a <= f.at_us <= b, (seed, str(f), (a, b))
    assert checked > 30


def test_bystander_names_the_replica_after_the_successor() -> None:
    c = Cluster(3, seed=1, storage="memory")
    c.schedule_faults([Fault(1_000, "block", (BYSTANDER, NEXT_PRIMARY))])
    c.run(ms=5)
    assert [(r.node, r.peer) for r in c.trace.select("block")] == [("n2", "n1")]
    assert Fault(0, "block", (BYSTANDER, NEXT_PRIMARY)).as_call() == (
        "c.block(c.bystander, c.next_primary)"
    )
    c.close()
    one = Cluster(1, seed=1, storage="memory")
    assert one.bystander is None  # (a fault naming it is skipped)
    one.schedule_faults([Fault(1_000, "block", (BYSTANDER, NEXT_PRIMARY))])
    one.run(ms=5)
    assert one.trace.select("block") == [] and len(one.trace.select("fault_skipped")) == 1
    one.close()


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
