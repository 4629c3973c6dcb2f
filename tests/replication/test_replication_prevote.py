"""Proves the pre-vote round and CheckQuorum (issue 18): an isolated replica's view never
climbs and its rejoin causes no view change, a replica that hears from a live primary refuses
a pre-vote (so a backup cut off from the primary alone cannot move a healthy majority), a
crashed primary is still replaced (after a majority's pre-votes) and a write sent to it is
logged with the new primary's no-op, a primary that has heard from no majority refuses new
writes and primary-mode reads with ``no_quorum`` without logging anything, and
``prevote=False`` keeps the old climbing behaviour."""

from __future__ import annotations

import random

import pytest

from clobkit.errors import InvalidType
from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.messages import (
    CommitOk,
    PreViewChange,
    PreViewChangeOk,
    Read,
    ReadReply,
    Reply,
    Request,
)
from clobkit.sim import Cluster
from clobkit.storage import MemoryStore


def _isolate_for(c: Cluster, node: str, ms: int) -> list[int]:
    """Isolate ``node`` for ``ms`` of simulated time; its view sampled every 20 ms."""
    c.isolate(node)
    views = []
    for _ in range(ms // 20):
        c.run(ms=20)
        views.append(c.nodes[node].view)
    c.heal()
    return views


@pytest.mark.parametrize("nodes", [3, 5])
def test_isolated_backup_keeps_its_view_and_rejoins_without_a_view_change(nodes: int) -> None:
    with Cluster(nodes, seed=3, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        views = _isolate_for(c, "n1", 3_000)
        assert set(views) == {0}
        asked = c.trace.select("prevote", node="n1")
        assert len(asked) >= 10  # its timer kept firing: it asked, and nobody could answer
        c.place("alice", "buy", price="98", qty=1)
        c.run(ms=500)
        assert {n.view for n in c.nodes.values()} == {0}
        assert c.trace.select("view_change_start") == []
        assert c.nodes["n1"].commit_number == c.nodes["n0"].commit_number


def test_prevote_off_is_the_old_climbing_behaviour() -> None:
    with Cluster(3, seed=3, storage="memory", config={"prevote": False}) as c:
        c.place("alice", "buy", price="99", qty=1)
        views = _isolate_for(c, "n1", 3_000)
        assert views[-1] >= 10 and views == sorted(views)
        c.place("alice", "buy", price="98", qty=1)
        c.run(ms=500)
        assert min(n.view for n in c.nodes.values()) >= views[-1]  # dragged along


@pytest.mark.parametrize("nodes", [3, 5])
def test_crashed_primary_is_replaced_after_a_majority_of_prevotes(nodes: int) -> None:
    with Cluster(nodes, seed=7, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        c.crash("n0")
        c.place("bob", "sell", price="99", qty=1)
        assert c.primary == "n1"
        first = c.trace.select("view_change_start")[0]
        assert first.detail is not None
        assert len(first.detail["prevotes"]) >= (nodes + 1) // 2


def _replicas(n: int = 3) -> tuple[ClusterConfig, list[Replica]]:
    cfg = ClusterConfig("t", n)
    reps = [
        Replica(
            cfg, i, MemoryStore(cluster_id="t", replica_id=i), KvMachine(), rng=random.Random(i)
        )
        for i in range(n)
    ]
    return cfg, reps


def test_a_backup_that_hears_its_primary_refuses_a_prevote() -> None:
    cfg, reps = _replicas()
    backup = reps[1]
    hdr = {"cluster_id": "t", "view": 0}
    # the primary's heartbeat reaches the backup at t=1000
    beat = reps[0].tick(1_000)
    to_backup = [m for m in beat.messages if m.target == "n1"]
    assert to_backup
    backup.handle_batch(to_backup, 1_000)
    ask = PreViewChange(**hdr, source="n2", target="n1", proposed=1)
    soon = backup.handle(ask, 1_000 + cfg.view_change_timeout_us_min - 1)
    assert soon.messages == [] and backup.counters["drop:prevote_refused"] == 1
    later = backup.handle(ask, 1_000 + cfg.view_change_timeout_us_min)
    assert [type(m) for m in later.messages] == [PreViewChangeOk]
    assert backup.view == 0 and backup.status == "normal"  # granting raises no view


def test_a_lone_prevote_changes_nothing_and_a_majority_starts_the_view_change() -> None:
    cfg, reps = _replicas()
    backup = reps[1]
    step = backup.tick(cfg.view_change_timeout_us_max + 1)  # its primary never spoke
    asks = [m for m in step.messages if isinstance(m, PreViewChange)]
    assert {m.target for m in asks} == {"n0", "n2"} and backup.view == 0
    again = backup.tick(backup.wake_at_us)
    assert backup.view == 0 and any(isinstance(m, PreViewChange) for m in again.messages)
    grant = PreViewChangeOk(cluster_id="t", view=0, source="n2", target="n1", proposed=1)
    backup.handle(grant, backup.wake_at_us - 1)
    assert backup.view == 1 and backup.status == "view_change"


def test_a_primary_without_a_majority_refuses_writes_and_primary_reads() -> None:
    cfg, reps = _replicas()
    primary = reps[0]
    primary.tick(0)
    late = cfg.view_change_timeout_us_min + 5_000
    hdr = {"cluster_id": "t", "source": "client:a", "target": "n0", "view": 0}
    req = Request(**hdr, client_id="a", request_number=1, payload=KvMachine.append("x", "1"))
    step = primary.handle(req, late)
    replies = [m for m in step.messages if isinstance(m, Reply)]
    assert [(r.ok, r.error) for r in replies] == [(False, "no_quorum")]
    assert primary.op_number == 0  # nothing was logged
    assert [e.kind for e in step.events if e.kind == "no_quorum"] == ["no_quorum"]
    read = Read(**hdr, read_id=1, query=("get", "x"), mode="primary")
    step = primary.handle(read, late)
    assert [(m.ok, m.error) for m in step.messages if isinstance(m, ReadReply)] == [
        (False, "no_quorum")
    ]
    # one backup answers: a majority again, and the same request is taken
    ok = CommitOk(cluster_id="t", source="n1", target="n0", view=0, commit=0, probe=0)
    primary.handle(ok, late + 1)
    primary.handle(req, late + 2)
    assert primary.op_number == 1


def test_prevote_off_primary_never_refuses() -> None:
    cfg = ClusterConfig("t", 3, prevote=False)
    primary = Replica(
        cfg, 0, MemoryStore(cluster_id="t", replica_id=0), KvMachine(), rng=random.Random(0)
    )
    hdr = {"cluster_id": "t", "source": "client:a", "target": "n0", "view": 0}
    req = Request(**hdr, client_id="a", request_number=1, payload=KvMachine.append("x", "1"))
    step = primary.handle(req, 10 * cfg.view_change_timeout_us_max)
    assert not [m for m in step.messages if isinstance(m, Reply)] and primary.op_number == 1


def test_partitioned_primary_notices_and_the_majority_moves_on() -> None:
    with Cluster(3, seed=11, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        c.partition({"n0", "client:alice"}, {"n1", "n2", "client:bob"})
        c.run(ms=400)
        assert c.trace.select("no_quorum", node="n0")
        op_before = c.nodes["n0"].op_number
        call = c.submit("alice", "place", side="buy", price="97", qty=1, timeout_ms=500)
        c.run()
        assert call.outcome == "unknown" and c.nodes["n0"].op_number == op_before
        c.place("bob", "sell", price="99", qty=1)
        assert c.primary in ("n1", "n2")
        c.heal()
        c.place("alice", "buy", price="96", qty=1)
        assert c.check() == []


def test_prevote_must_be_a_bool() -> None:
    with pytest.raises(InvalidType, match="prevote must be a bool"):
        ClusterConfig("t", 3, prevote="yes")  # type: ignore[arg-type]


def test_a_write_sent_to_a_dead_primary_is_logged_with_the_new_primarys_noop() -> None:
    with Cluster(3, seed=7, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        c.crash("n0")
        crashed = c.now_us
        result = c.place("bob", "sell", price="99", qty=1)
        new = c.primary
        assert new is not None
        start_view = c.trace.select("send", node=new, message="StartView")[0]
        # the parked request travels in the StartView itself, right behind the view's no-op
        assert start_view.view == 1 and start_view.op == result.op
        latency_ms = (c.calls[-1].return_us - crashed) / 1000
        assert latency_ms < c.config.view_change_timeout_us_max / 1000 + 20 + 10


@pytest.mark.parametrize("prevote", [True, False])
def test_a_backup_cut_off_from_the_primary_alone_cannot_move_the_others(prevote: bool) -> None:
    # n1 loses n0 but still reaches n2, which hears n0: n2 refuses n1's pre-votes, so the
    # healthy majority {n0, n2} keeps its view. (Without pre-vote, n1 forces view changes.)
    with Cluster(3, seed=5, storage="memory", config={"prevote": prevote}) as c:
        c.place("alice", "buy", price="99", qty=1)
        c.partition({"n0"}, {"n1"})
        c.run(ms=1_000)
        c.heal()
        c.place("alice", "buy", price="98", qty=1)
        changes = c.trace.select("view_change_start")
        if prevote:
            assert changes == [] and c.primary == "n0"
            assert c.trace.select("drop", node="n2")  # n2 refused n1's pre-votes
        else:
            assert len(changes) >= 2
