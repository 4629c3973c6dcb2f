"""Trace views account for every message and fault the simulator recorded.

Method: seeded clusters with duplicates, a crash, a view change and a partition; every
``deliver`` and ``drop`` record must appear as exactly one message fate, latencies must equal
end minus send, windows must keep exactly the overlapping messages, and the fault intervals
must start and end at the times the test itself caused them.
"""

from __future__ import annotations

import json

import pytest

import clobkit as ck
import clobkit.views as cv
from clobkit.errors import InvalidArgument, InvalidType
from tests.views.scenarios import assert_schema, failover_cluster, quiet_cluster


def test_trace_frame_adds_time_ms() -> None:
    c = quiet_cluster()
    t = cv.trace(c)
    assert_schema(t, cv.TRACE_COLUMNS)
    assert len(t) == len(c.trace)
    assert ((t["time_ms"] * 1000).round() == t["time_us"]).all()
    # A frame of the cluster's trace (details in market units) reads back the same.
    assert cv.trace(t.drop(columns="time_ms")).equals(t)


def test_every_fate_is_one_message_row() -> None:
    c = ck.Cluster(nodes=3, seed=4, storage="memory", duplicate=0.2, loss=0.05)
    for i in range(6):
        c.place("alice", "buy", price=100 + i, qty=1)
    c.run(ms=100)
    kinds = c.trace.kinds()
    m = cv.messages(c)
    assert_schema(m, cv.MESSAGE_COLUMNS)
    assert (m.outcome == "delivered").sum() == kinds["deliver"]
    dropped = m[m.outcome == "dropped"]
    assert len(dropped) == kinds.get("drop", 0)
    assert set(dropped.drop_reason) <= {"loss", "target_down", "partitioned", "inbox_full"}
    assert "loss" in set(dropped.drop_reason)
    assert (m["copy"] > 0).any()  # duplicates are numbered copies of one msg_id
    done = m[m.outcome != "in_flight"]
    assert (done.latency_us == done.end_us - done.send_us).all()
    sends = {r.msg_id for r in c.trace if r.kind == "send"}
    assert sends <= set(m.msg_id)


def test_send_time_drops_have_zero_latency() -> None:
    c, _ = failover_cluster()
    m = cv.messages(c)
    refused = m[(m.outcome == "dropped") & (m.drop_reason == "partitioned")]
    assert len(refused) > 0
    assert (refused.latency_us == 0).all() and (refused.send_us == refused.end_us).all()
    # a partitioned message always crosses the cut: n1 on one side, n0/n2 on the other
    crossing = (refused.source == "n1") ^ (refused.target == "n1")
    assert crossing.all()


def test_window_keeps_overlapping_messages_only() -> None:
    c = quiet_cluster()
    m = cv.messages(c)
    lo, hi = 10_000, 20_000
    w = cv.messages(c, lo, hi)
    expected = m[(m.send_us <= hi) & (m.end_us.isna() | (m.end_us >= lo))]
    assert w["msg_id"].tolist() == expected["msg_id"].tolist()
    assert 0 < len(w) < len(m)
    with pytest.raises(InvalidArgument):
        cv.messages(c, 5, 1)
    with pytest.raises(InvalidArgument):
        cv.messages(c, -1)


def test_events_are_the_non_message_records() -> None:
    c = quiet_cluster()
    e = cv.events(c)
    assert_schema(e, cv.EVENT_COLUMNS)
    assert not set(e.kind) & {"send", "deliver", "drop"}
    assert len(e) == len(c.trace) - sum(
        c.trace.kinds().get(k, 0) for k in ("send", "deliver", "drop")
    )
    applies = cv.events(c, ["apply"])
    assert set(applies.kind) == {"apply"}
    assert applies.groupby("node")["op"].apply(list).to_dict() == {n: [1, 2, 3, 4] for n in c.nodes}
    assert isinstance(applies.iloc[0].detail, dict) and applies.iloc[0].detail["client"] == "alice"
    assert cv.events(c, "apply").equals(applies)


def test_commits_each_op_once_per_node_primary_first() -> None:
    c = quiet_cluster()
    k = cv.commits(c)
    assert_schema(k, cv.COMMIT_COLUMNS)
    assert k.groupby("node")["op"].apply(list).to_dict() == {n: [1, 2, 3, 4] for n in c.nodes}
    first = k.loc[k.groupby("op")["time_us"].idxmin()]
    assert set(first.node) == {"n0"}  # the primary learns of each commit first


def test_fault_intervals_match_what_the_test_did() -> None:
    c, t = failover_cluster()
    f = cv.fault_intervals(c)
    assert_schema(f, cv.FAULT_COLUMNS)
    crash = f[f.kind == "crash"].iloc[0]
    assert (crash.node, crash.start_us, crash.end_us, crash.label) == (
        "n0",
        t["crash"],
        t["heal"],
        "crash n0",
    )
    part = f[f.kind == "partition"].iloc[0]
    assert (part.start_us, part.end_us) == (t["partition"], t["heal"])
    assert part.label == "partition n1 | n0 n2"
    vc = f[f.kind == "view_change"]
    first = vc.iloc[0]
    assert first.view == 1 and t["crash"] < first.start_us < first.end_us < t["partition"]
    starts = vc.start_us.tolist()
    ends = vc.end_us.tolist()
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))  # no overlap


def test_open_intervals_have_no_end() -> None:
    c = quiet_cluster()
    c.crash("n1")
    c.isolate("n2")
    f = cv.fault_intervals(c)
    assert f.kind.tolist() == ["crash", "partition"]
    assert f.end_us.isna().all()
    assert f.label.tolist() == ["crash n1", "isolate n2"]


def test_trace_frame_source_gives_same_views() -> None:
    c, _ = failover_cluster()
    frame = cv.trace(c).drop(columns="time_ms")  # as a user would save it
    assert cv.messages(frame).equals(cv.messages(c))
    assert cv.fault_intervals(frame).equals(cv.fault_intervals(c))
    assert cv.commits(frame).equals(cv.commits(c))
    ev = cv.events(frame)
    assert [json.dumps(d, sort_keys=True) for d in ev.detail] == [
        json.dumps(d, sort_keys=True) for d in cv.events(c).detail
    ]


def test_empty_trace_gives_typed_frames() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory", trace=False)
    for view, columns in (
        (cv.messages, cv.MESSAGE_COLUMNS),
        (cv.events, cv.EVENT_COLUMNS),
        (cv.commits, cv.COMMIT_COLUMNS),
        (cv.fault_intervals, cv.FAULT_COLUMNS),
        (cv.trace, cv.TRACE_COLUMNS),
    ):
        frame = view(c)
        assert len(frame) == 0
        assert_schema(frame, columns)


def test_wrong_source_type() -> None:
    with pytest.raises(InvalidType):
        cv.messages([1, 2])
    with pytest.raises(InvalidArgument):
        cv.events(quiet_cluster(), [1])  # type: ignore[list-item]
