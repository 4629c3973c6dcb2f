"""Proves that sending the primary's Prepare before its own WAL sync loses nothing committed:
a power loss on the primary inside that window (Prepare sent, its sync not done) leaves the
entry on a majority of backups only, the view change keeps it and the client is told "ok" only
after it committed; and a primary that counts itself toward a commit only once its sync is done
keeps an entry whose only durable copies are its own and one backup's. Each case is staged step
by step on a simulated cluster and judged by the invariant monitor and the linearizability
checker, in both safe read modes and on both kinds of storage."""

from __future__ import annotations

from pathlib import Path

import pytest

from clobkit.check import scenarios
from clobkit.sim import Cluster


def _owes_sync(c: Cluster, name: str) -> bool:
    """``name`` has appended entries whose WAL sync has not run (its Prepare has left)."""
    wal = c.nodes[name].wal
    return bool(wal.last_op > wal.synced_op)


def _commit_times(c: Cluster, op: int) -> list[int]:
    return [r.time_us for r in c.trace.records if r.kind == "commit" and (r.op or 0) >= op]


def _window_power_loss(c: Cluster) -> tuple[object, int]:
    """The primary n0 appends w's order and sends its Prepares; while its own sync is owed it
    stalls (pause: the sync never completes), both backups sync the entry and ack, and then
    n0 loses power. Returns the call and the entry's op."""
    c.place("alice", "sell", price="101", qty=5)
    call = c.submit("w", "place", side="buy", price="100", qty=10)
    c.run(until=lambda cl: _owes_sync(cl, "n0"))
    op = c.nodes["n0"].op_number
    sent = [r for r in c.trace.records if r.kind == "send" and r.node == "n0" and r.op == op]
    assert {r.peer for r in sent} == {"n1", "n2"}, "the Prepares left before n0's sync"
    c.pause("n0")
    c.run(until=lambda cl: all(cl.nodes[n].wal.synced_op >= op for n in ("n1", "n2")))
    assert c.nodes["n0"].wal.synced_op < op, "n0's copy is not durable"
    assert call.outcome == "pending", "no ack before a commit"  # type: ignore[attr-defined]
    c.crash("n0")  # power loss: n0's unsynced entry is gone
    return call, op


@pytest.mark.parametrize("read_mode", ["primary", "quorum"])
def test_power_loss_in_the_primarys_sync_window_keeps_the_entry(read_mode: str) -> None:
    c = scenarios.stage(seed=1, read_mode=read_mode, label=f"window power loss {read_mode}")
    holder: dict[str, object] = {}

    def steps(cl: Cluster) -> None:
        call, op = _window_power_loss(cl)
        holder["call"], holder["op"] = call, op
        cl.run(until=lambda x: call.outcome != "pending")  # type: ignore[attr-defined]
        cl.restart("n0")
        cl.run(ms=300)
        holder["orders"] = cl.live_orders()

    result = scenarios.judge(c, steps)
    assert result.verdict == "ok", (result, result.violations, result.check)
    call, op = holder["call"], holder["op"]
    assert call.outcome == "ok"  # type: ignore[attr-defined]
    assert isinstance(op, int)
    # n0 came back without the entry: its restart found only the ops before it.
    restart = [r for r in c.trace.records if r.kind == "restart" and r.node == "n0"]
    assert restart and restart[-1].detail is not None
    assert restart[-1].detail["records"] == op - 1
    # The new primary committed it; the client heard "ok" only after that commit.
    assert _commit_times(c, op) and min(_commit_times(c, op)) <= call.return_us  # type: ignore[attr-defined]
    assert c.nodes["n0"].view is not None and c.nodes["n0"].view >= 1
    assert sorted(o.user for o in holder["orders"]) == ["alice", "w"]  # type: ignore[attr-defined]


def test_power_loss_in_the_window_on_file_storage(tmp_path: Path) -> None:
    with Cluster(3, seed=2, storage=tmp_path / "c", read_mode="primary") as c:
        call, op = _window_power_loss(c)
        c.run()
        assert call.outcome == "ok"  # type: ignore[attr-defined]
        c.restart("n0")
        c.run(ms=300)
        assert c.check() == []
        assert sorted(o.user for o in c.live_orders()) == ["alice", "w"]
        assert c.nodes["n0"].wal.last_op >= op  # n0 fetched the entry back from the others


@pytest.mark.parametrize("read_mode", ["primary", "quorum"])
def test_a_commit_counting_the_primary_survives_its_power_loss(read_mode: str) -> None:
    """n2 never hears from n0, so w's order commits on n0 + n1 only: n0 counted itself, which
    is safe only because its sync was done. Then n0 loses power and n1 stops; n0 restarts and
    forms a view with n2 alone: the order must still be there (n0's copy is durable)."""
    c = scenarios.stage(seed=1, read_mode=read_mode, label=f"own copy counts {read_mode}")
    holder: dict[str, object] = {}

    def steps(cl: Cluster) -> None:
        cl.place("alice", "sell", price="101", qty=5)
        cl.block("n0", "n2")
        call = cl.submit("w", "place", side="buy", price="100", qty=10)
        cl.run(until=lambda x: call.outcome != "pending")
        holder["call"] = call
        cl.crash("n0")  # power loss on the primary right after the ack
        cl.crash("n1")
        cl.heal()
        cl.restart("n0")
        cl.run(until=lambda x: x.primary is not None)
        holder["orders"] = cl.live_orders()

    result = scenarios.judge(c, steps)
    assert holder["call"].outcome == "ok"  # type: ignore[attr-defined]
    assert result.verdict == "ok", (result, result.violations, result.check)
    assert sorted(o.user for o in holder["orders"]) == ["alice", "w"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("read_mode", ["primary", "quorum"])
def test_a_primary_that_lost_a_sent_entry_does_not_reuse_its_op(read_mode: str) -> None:
    """n0 loses power inside its sync window and restarts at once, before the backups miss
    it: they hold the op it sent, its log does not. Taking the next request under the same
    (view, op) would commit two different entries as one op (divergent_commit; found by the
    random campaign, seed 120). It must start a view change instead, which keeps the entry."""
    c = scenarios.stage(seed=1, read_mode=read_mode, label=f"lost sent entry {read_mode}")
    holder: dict[str, object] = {}

    def steps(cl: Cluster) -> None:
        call, _op = _window_power_loss(cl)
        cl.restart("n0")  # right away: the backups never timed out
        late = cl.submit("late", "place", side="sell", price="102", qty=1)
        cl.run(until=lambda x: call.outcome != "pending" and late.outcome != "pending")  # type: ignore[attr-defined]
        holder["calls"] = (call, late)
        holder["orders"] = cl.live_orders()

    result = scenarios.judge(c, steps)
    assert result.verdict == "ok", (result, result.violations, result.check)
    assert [k.outcome for k in holder["calls"]] == ["ok", "ok"]  # type: ignore[attr-defined]
    starts = [r for r in c.trace.records if r.kind == "view_change_start" and r.node == "n0"]
    assert starts and starts[0].view == 1  # the restarted primary gave up view 0 at once
    users = sorted(o.user for o in holder["orders"])  # type: ignore[attr-defined]
    assert users == ["alice", "late", "w"]
