"""Proves the Cluster facade does what a notebook user is promised: the README example runs, a
crashed primary is replaced by a view change without losing acknowledged writes, a replaced
node catches up as a learner, a cluster without a majority answers OutcomeUnknown with a reason,
bad input raises InvalidArgument and changes nothing, file storage really writes and reopens
WAL files, and unsafe switches are visible."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

import clobkit as ck
from clobkit.book import MarketSpec, OrderBook, decode_command
from clobkit.errors import InvalidArgument, InvalidType, OutcomeUnknown, Unavailable
from clobkit.replication.envelope import decode_envelope
from clobkit.sim import Cluster


def test_readme_example() -> None:
    with ck.Cluster(nodes=3, seed=1) as c:  # default: file storage in a temp dir
        r = c.place("alice", "buy", price="100.5", qty=10)
        assert r.accepted and r.status == "resting" and r.order_id is not None
        s = c.place("bob", "sell", price="100.00", qty=4)
        assert s.status == "filled" and s.fill_prices == [MarketSpec("X").ticks_to_price(10050)]
        assert s.filled_qty == 4 and s.avg_price == r.spec.ticks_to_price(10050)
        c.cancel("alice", r.order_id)
        assert c.live_orders() == []
        old = c.primary
        assert old == "n0"
        c.crash(c.primary)
        c.run(ms=200)  # a view change happens in simulated time
        assert c.primary not in (None, old)
        assert [f.qty for f in c.fills(user="alice")] == [4]
        frame = c.fills_df(user="alice")
        assert list(frame["price"]) == [100.5] and list(frame["qty_lots"]) == [4]
        assert c.nodes["n1"].commit_number >= 3
        assert "primary=" in repr(c) and "<table>" in c._repr_html_()
        assert c.live_orders_df().empty


def test_modify_and_rejection_raise_after_commit() -> None:
    with Cluster(3, seed=2, storage="memory") as c:
        oid = c.place("alice", "buy", price="10", qty=5).order_id
        assert c.modify("alice", oid, qty=2).resting_qty == 2
        with pytest.raises(ck.NotOwner):
            c.cancel("bob", oid)
        # the rejected cancel was committed (a no-op) and recorded as an ok call
        last = c.history[len(c.history) - 1]
        assert last.outcome == "ok" and last.output[0] is False
        assert [o.qty for o in c.live_orders(user="alice")] == [2]


def test_crash_primary_view_change_loses_no_acknowledged_write() -> None:
    with Cluster(3, seed=5, storage="memory") as c:
        acked = [c.place(f"u{i}", "buy", price=str(10 + i), qty=1) for i in range(5)]
        c.crash(c.primary)
        c.run(ms=1_000)
        assert c.primary is not None and c.nodes[c.primary].view >= 1
        assert any(r.kind == "primary" for r in c.trace.select(node=c.primary))
        more = [c.place(f"v{i}", "sell", price=str(100 + i), qty=1) for i in range(3)]
        c.restart("n0")
        c.run(ms=1_000)
        log = {op: decode_envelope(payload) for op, _view, payload in c.committed_log()}
        for r in acked + more:
            assert r.op in log and not log[r.op].noop
        assert c.monitor.lost_acked_writes() == []
        digests = {c.nodes[n].digest() for n in c.replica_names}
        commits = {c.nodes[n].commit_number for n in c.replica_names}
        assert len(commits) == 1 and len(digests) == 1


def test_replace_learner_catches_up_by_state_transfer() -> None:
    with Cluster(3, seed=7, storage="memory") as c:
        for i in range(6):
            c.place("alice", "sell", price=str(50 + i), qty=1)
        c.replace("n2")
        assert c.nodes["n2"].status == "learner" and c.nodes["n2"].role == "learner"
        assert c.nodes["n2"].op_number == 0
        c.run(ms=500)
        node = c.nodes["n2"]
        assert node.status == "normal" and node.commit_number == c.nodes["n0"].commit_number
        assert node.digest() == c.nodes["n0"].digest()
        kinds = [r.kind for r in c.trace.select(node="n2")]
        assert "learner_start" in kinds and "learner_caught_up" in kinds
        # the learner sent no vote or acknowledgement before it caught up
        start = next(r.time_us for r in c.trace.select("replace", node="n2"))
        caught = next(r.time_us for r in c.trace.select("learner_caught_up", node="n2"))
        votes = [
            r
            for r in c.trace.select("send", node="n2")
            if start <= r.time_us < caught
            and r.message in ("PrepareOk", "CommitOk", "StartViewChange", "DoViewChange")
        ]
        assert votes == []


def test_no_majority_gives_outcome_unknown_with_reason() -> None:
    with Cluster(3, seed=3, storage="memory", timeout_ms=500) as c:
        c.place("alice", "buy", price="1", qty=1)
        c.crash("n1")
        c.crash("n2")
        with pytest.raises(OutcomeUnknown) as info:
            c.place("alice", "buy", price="2", qty=1)
        message = str(info.value)
        assert "outcome unknown" in message and "no majority of 3 replicas" in message
        assert "n1, n2 down" in message
        assert c.history[1].outcome == "unknown"
        with pytest.raises(Unavailable, match="no majority"):
            c.fills()


def test_partition_minority_primary_then_heal() -> None:
    with Cluster(3, seed=4, storage="memory", timeout_ms=1_500) as c:
        c.place("alice", "buy", price="1", qty=1)
        c.partition({"n0"}, {"n1", "n2"})
        c.run(ms=800)
        assert c.primary in ("n1", "n2")
        c.place("bob", "buy", price="2", qty=1)
        c.heal()
        c.run(ms=500)
        assert len({c.nodes[n].commit_number for n in c.replica_names}) == 1
        assert c.nodes["n0"].view == c.nodes[c.primary].view


def test_bad_input_raises_and_changes_nothing() -> None:
    with Cluster(3, seed=1, storage="memory") as c:
        c.place("alice", "buy", price="1", qty=1)
        before = (c.trace.to_jsonl(), c.history.to_jsonl(), c.now_us, c.world.pending)
        bad_calls = [
            lambda: c.place("alice", "buy", price="1.001", qty=1),  # off the tick grid
            lambda: c.place("alice", "up", price="1", qty=1),
            lambda: c.place("alice", "buy", price="1", qty=0),
            lambda: c.place("alice", "buy", price="1"),
            lambda: c.place("", "buy", price="1", qty=1),
            lambda: c.place("alice", "buy", price="1", qty=1, colour="red"),
            lambda: c.cancel("alice", "seven"),  # type: ignore[arg-type]
            lambda: c.modify("alice", 1),
            lambda: c.submit("alice", "explode"),
            lambda: c.crash("n9"),
            lambda: c.partition({"n0"}),
            lambda: c.partition({"n0"}, {"n0", "n1"}),
            lambda: c.set_loss(2.0),
            lambda: c.run(ms=-1),
            lambda: c.depth(levels=0),
        ]
        for call in bad_calls:
            with pytest.raises(InvalidArgument):
                call()
        assert (c.trace.to_jsonl(), c.history.to_jsonl(), c.now_us, c.world.pending) == before


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"nodes": 4}, InvalidArgument),
        ({"nodes": "3"}, InvalidType),
        ({"seed": -1}, InvalidArgument),
        ({"unsafe": {"no_fencing", "no_seatbelts"}}, InvalidArgument),
        ({"unsafe": "no_fencing"}, InvalidType),
        ({"read_mode": "fast"}, InvalidArgument),
        ({"storage": "disk"}, InvalidArgument),
        ({"latency_us_min": 10, "latency_us_max": 5}, InvalidArgument),
        ({"loss": -0.1}, InvalidArgument),
        ({"timeout_ms": 0}, InvalidArgument),
    ],
)
def test_bad_construction_rejected(
    kwargs: dict[str, object],
    error: type[Exception],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(error):
        Cluster(**kwargs)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []  # no temp directory was made


def test_unsafe_switch_shows_in_repr_and_records_instead_of_raising() -> None:
    with Cluster(3, seed=1, storage="memory", unsafe={"no_dedup"}) as c:
        assert "UNSAFE=['no_dedup']" in repr(c) and "unsafe switches on" in c._repr_html_()
        assert c.monitor.strict is False
    with Cluster(3, seed=1, storage="memory") as c:
        assert "UNSAFE" not in repr(c) and c.monitor.strict is True


def test_file_storage_writes_wal_files_and_reopens(tmp_path: Path) -> None:
    c = Cluster(3, seed=6, storage=tmp_path / "cluster")
    for i in range(4):
        c.place("alice", "buy", price=str(1 + i), qty=1)
    for name in c.replica_names:
        wal = tmp_path / "cluster" / name / "wal.log"
        assert wal.exists() and wal.stat().st_size > 0
    c.crash("n1")
    c.restart("n1")
    c.run(ms=300)
    assert c.nodes["n1"].commit_number == c.nodes["n0"].commit_number
    ops = [e.op for e in c.nodes["n1"].wal.entries()]
    assert ops == list(range(1, c.nodes["n1"].op_number + 1))
    c.close()
    assert (tmp_path / "cluster" / "n0" / "wal.log").exists()  # a given path is kept


def test_temp_dir_removed_on_close() -> None:
    c = Cluster(3, seed=1)
    assert c.path is not None and c.path.name.startswith("clobkit-") and c.path.exists()
    c.place("alice", "buy", price="1", qty=1)
    c.close()
    assert not c.path.exists()
    with pytest.raises(InvalidArgument, match="closed"):
        c.place("alice", "buy", price="1", qty=1)


def test_committed_log_replays_into_a_single_book() -> None:
    with Cluster(3, seed=9, storage="memory") as c:
        for i in range(8):
            side = "buy" if i % 2 else "sell"
            c.place(f"u{i % 3}", side, price=str(10 + i % 3), qty=1 + i % 4)
        book = OrderBook(c.market)
        for op, _view, payload in c.committed_log():
            env = decode_envelope(payload)
            if not env.noop:
                book.apply(decode_command(env.payload), op, env.ts_us)
        assert book.digest() == c.nodes["n0"].book.digest()  # type: ignore[union-attr]


def test_submit_concurrent_clients_and_handles() -> None:
    with Cluster(3, seed=11, storage="memory") as c:
        calls = [c.submit(f"u{i}", "place", side="buy", price="5", qty=1) for i in range(10)]
        assert all(call.outcome == "pending" for call in calls)
        with pytest.raises(RuntimeError, match="pending"):
            _ = calls[0].result
        c.run()
        assert [call.outcome for call in calls] == ["ok"] * 10
        assert sorted(call.result.op for call in calls) == list(range(1, 11))
        # Group commit: requests that queued during a sync share the next one.
        records = [r.detail["records"] for r in c.trace.select("sync", node="n0") if r.detail]
        assert sum(records) >= 10 and len(records) < 10 and max(records) > 1
        assert c.world.hosts["n0"].batches >= 1


def test_unsafe_ack_before_fsync_power_loss_is_recorded_not_raised() -> None:
    # S8: acknowledged before fsync, then every node loses power: the writes are gone.
    with Cluster(3, seed=1, storage="memory", unsafe={"ack_before_fsync"}) as c:
        for i in range(3):
            c.place("w", "buy", price=str(10 + i), qty=1)
        for name in c.replica_names:
            c.crash(name)
        for name in c.replica_names:
            c.restart(name)
        c.run(ms=300)
        kinds = [v.kind for v in c.check()]
        assert kinds.count("acked_write_lost") == 3
        # Ops 1..3 may since have been committed again with other commands: also recorded.
        assert set(kinds) <= {"acked_write_lost", "divergent_commit"}
    # The same story with the fix on: nothing lost, nothing recorded.
    with Cluster(3, seed=1, storage="memory") as c:
        for i in range(3):
            c.place("w", "buy", price=str(10 + i), qty=1)
        for name in c.replica_names:
            c.crash(name)
        for name in c.replica_names:
            c.restart(name)
        c.run(ms=300)
        assert c.check() == []
        assert [o.price_ticks for o in c.live_orders()] == [1200, 1100, 1000]


def test_drop_next_rule_stages_a_lagging_backup() -> None:
    with Cluster(3, seed=2, storage="memory", latency="constant", latency_us_min=500) as c:
        c.place("alice", "buy", price="1", qty=1)
        rule = c.drop_next("Prepare", source="n0", target="n2")
        r = c.place("alice", "buy", price="2", qty=1)  # commits with n0 + n1
        assert rule.fired == 1
        drops = c.trace.select("drop", node="n0")
        assert [(d.peer, d.message, d.detail) for d in drops] == [
            ("n2", "Prepare", {"reason": "rule:drop Prepare n0->n2"})
        ]
        assert r.op == 2 and c.nodes["n1"].op_number >= 2
        c.run(ms=200)  # n2 repairs the gap from later messages
        assert c.nodes["n2"].commit_number == c.nodes["n0"].commit_number


def test_pause_resume_and_isolate() -> None:
    with Cluster(3, seed=8, storage="memory") as c:
        c.place("a", "buy", price="1", qty=1)
        c.pause("n2")
        assert c.nodes["n2"].status == "paused"
        c.place("a", "buy", price="2", qty=1)
        assert c.world.hosts["n2"].inbox
        c.resume("n2")
        c.run(ms=100)
        assert c.nodes["n2"].commit_number == c.nodes["n0"].commit_number == 2
        c.isolate("n0")
        c.run(ms=800)
        assert c.primary in ("n1", "n2")
        c.place("a", "buy", price="3", qty=1)
        c.heal()
        c.run(ms=300)
        assert {c.nodes[n].digest() for n in c.replica_names} == {c.nodes["n1"].digest()}


def test_node_handles_show_protocol_state() -> None:
    with Cluster(3, seed=1, storage="memory") as c:
        c.place("alice", "buy", price="1", qty=2)
        n = c.nodes["n1"]
        assert (n.view, n.op_number, n.status, n.role) == (0, 1, "normal", "backup")
        assert n.book is not None and [o.qty for o in n.book.live_orders()] == [2]
        assert n.wal.last_op == 1 and n.disk is not None
        c.crash("n1")
        assert n.role == "down" and n.view is None and "crashed" in repr(n)
        assert [row["role"] for row in c.node_rows()] == ["primary", "down", "backup"]
        assert "<td>down</td>" in c._repr_html_()


def test_bit_flip_in_a_committed_record_is_repaired_from_a_peer() -> None:
    # S9 variant: media corruption in the middle of one replica's log.
    with Cluster(3, seed=1, storage="memory") as c:
        for i in range(5):
            c.place("a", "buy", price=str(1 + i), qty=1)
        before = c.trace.to_jsonl()
        with pytest.raises(InvalidArgument):
            c.disk_fault("n1", "bit_flip", op=99)
        assert c.trace.to_jsonl() == before
        c.disk_fault("n1", "bit_flip", op=2)
        c.crash("n1")
        c.restart("n1")
        c.run(ms=300)
        (recover,) = c.trace.select("recover", node="n1")
        assert recover.detail is not None and recover.detail["corrupt"] == [2]
        assert [r.op for r in c.trace.select("repair", node="n1")] == [2]
        assert len({c.nodes[n].digest() for n in c.replica_names}) == 1
        assert c.check() == []


def test_torn_crash_leaves_a_torn_tail_that_recovery_cuts() -> None:
    # The safe policies sync inside the step that appends, so unsynced bytes exist only under
    # the "never" policy (ack_before_fsync): that is where a torn tail can appear.
    with Cluster(3, seed=12, storage="memory", unsafe={"ack_before_fsync"}) as c:
        for i in range(3):
            c.place("a", "buy", price=str(1 + i), qty=1)
        c.crash("n1", torn=9)
        (crash,) = c.trace.select("crash", node="n1")
        assert crash.detail == {"torn_bytes": 9}
        c.restart("n1")
        (restart,) = c.trace.select("restart", node="n1")
        assert restart.detail is not None
        assert restart.detail["torn_tail"] is True and restart.detail["bytes_truncated"] == 9
        c.run(ms=300)
        assert len({c.nodes[n].digest() for n in c.replica_names}) == 1


def test_staged_s2_delayed_prepare_from_deposed_primary_is_fenced() -> None:
    # S2 with the fix on: a Prepare from view 0 held back in the network arrives after a new
    # view started; the receiver drops it as stale instead of overwriting its log.
    with Cluster(3, seed=3, storage="memory", latency="constant", latency_us_min=500) as c:
        c.place("w", "buy", price="1", qty=1)
        held = c.delay_next("Prepare", source="n0", target="n1", delay_ms=2_000)
        c.drop_next("Prepare", source="n0", target="n2")
        call = c.submit("w", "place", side="buy", price="2", qty=1)
        c.run(ms=5)
        c.crash("n0")
        c.run(ms=3_000)
        assert held.fired == 1 and c.nodes["n1"].view >= 1
        stale = [
            r
            for r in c.trace.select("drop", node="n1")
            if r.detail and r.detail.get("reason") == "stale_view" and r.message == "Prepare"
        ]
        assert stale, "the delayed Prepare must be fenced off by the view number"
        assert call.outcome in ("ok", "unknown")
        assert c.check() == []


def test_step_returns_the_records_of_one_event() -> None:
    with Cluster(3, seed=1, storage="memory") as c:
        c.submit("a", "place", side="buy", price="1", qty=1)
        seen = []
        for _ in range(40):
            seen.extend(c.step())
        assert seen == c.trace.records[-len(seen) :]
        assert any(r.kind == "deliver" and r.message == "Request" for r in seen)


def test_per_link_latency() -> None:
    with Cluster(3, seed=1, storage="memory", latency="constant", latency_us_min=500) as c:
        c.set_link_latency("n0", "n2", 5_000, distribution="constant")
        c.place("a", "buy", price="1", qty=1)
        c.run(ms=10)  # the place may return before the slow link delivers (majority n0 + n1)
        sends = {r.msg_id: r.time_us for r in c.trace.select("send", node="n0", message="Prepare")}
        by_target = {
            r.node: r.time_us - sends[r.msg_id]
            for r in c.trace.select("deliver", message="Prepare")
            if r.msg_id in sends
        }
        assert by_target == {"n1": 500, "n2": 5_000}


# -- bad input to the fault controls (regressions from review) -----------------------------


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (lambda c: c.drop_next("Prepaer"), "kind"),
        (lambda c: c.drop_next(5), "kind"),
        (lambda c: c.drop_next("Prepare", source="n9"), "n9"),
        (lambda c: c.drop_next("Prepare", target="zz"), "zz"),
        (lambda c: c.drop_next("Prepare", count=0), "count"),
        (lambda c: c.drop_next("Prepare", op="x"), "op"),
        (lambda c: c.delay_next("Commit", delay_ms=5, source="n7"), "n7"),
        (lambda c: c.delay_next("Comit", delay_ms=5), "kind"),
        (lambda c: c.block("n0", "n0"), "differ"),
        (lambda c: c.nodes["n9"], "n9"),
    ],
)
def test_fault_controls_reject_bad_input_and_change_nothing(call, complaint) -> None:
    import clobkit as ck

    c = ck.Cluster(nodes=3, seed=2, storage="memory")
    try:
        c.place("alice", "sell", price="10", qty=1)
        before = (c.trace.digest(), len(c.journal), c.now_us, len(c.network.rules))
        with pytest.raises(ck.InvalidArgument, match=complaint):
            call(c)
        assert (c.trace.digest(), len(c.journal), c.now_us, len(c.network.rules)) == before
    finally:
        c.close()


def test_repr_flags_the_literal_read_and_a_closed_cluster() -> None:
    import clobkit as ck

    c = ck.Cluster(nodes=3, seed=1, storage="memory", read_mode="quorum-highest-seq")
    assert "quorum-highest-seq (UNSAFE)" in repr(c) and "CLOSED" not in repr(c)
    c.close()
    assert repr(c).endswith("CLOSED>")
