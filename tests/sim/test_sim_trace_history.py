"""Proves the trace and the client history have the documented stable forms: the trace frame has
the documented columns and dtypes and round-trips the records, JSON lines have a fixed key order,
and a cluster's history (recorded under faults) is read by the checker, which finds it
linearizable against the single-book model."""

from __future__ import annotations

import json

from clobkit.check import check_operations
from clobkit.check.book_model import book_model
from clobkit.sim import Cluster
from clobkit.sim.faults import random_faults
from clobkit.sim.trace import TRACE_COLUMNS, Trace, TraceRecord
from clobkit.sim.workload import RandomWorkload


def test_trace_frame_columns_and_dtypes() -> None:
    with Cluster(3, seed=1, storage="memory") as c:
        c.place("a", "buy", price="1", qty=1)
        frame = c.trace.to_frame()
        assert tuple(frame.columns) == TRACE_COLUMNS
        assert str(frame["time_us"].dtype) == "int64"
        assert str(frame["view"].dtype) == "Int64" and str(frame["op"].dtype) == "Int64"
        assert len(frame) == len(c.trace)
        sends = frame[frame["kind"] == "send"]
        assert set(sends["message"]) >= {"Request", "Prepare", "PrepareOk", "Reply"}
        first = json.loads(c.trace.to_jsonl().splitlines()[0])
        assert list(first) == list(TRACE_COLUMNS)


def test_detail_keys_sorted_and_values_stable() -> None:
    t = Trace()
    t.add(TraceRecord(1, "x", "n0", detail={"b": {2, 1}, "a": b"\x00\xff"}))
    assert t.to_jsonl().endswith('"detail":{"a":"00ff","b":[1,2]}}\n')
    off = Trace(enabled=False)
    off.add(TraceRecord(1, "x", "n0"))
    assert len(off) == 0
    capped = Trace(limit=1)
    capped.add(TraceRecord(1, "x", "n0"))
    capped.add(TraceRecord(2, "x", "n0"))
    assert len(capped) == 1 and capped.dropped_records == 1 and "not kept" in repr(capped)


def test_history_frame_and_checker_round_trip_under_faults() -> None:
    c = Cluster(3, seed=5, storage="memory", timeout_ms=1_500)
    RandomWorkload(c, users=["a", "b", "c"], ops_per_user=12, think_us_max=20_000).start()
    faults = random_faults(
        c.world.streams.stream("faults"),
        c.replica_names,
        duration_us=600_000,
        kinds=("crash", "partition", "loss"),
    )
    c.schedule_faults(faults)
    c.run(ms=700)
    c.settle(ms=1_000)
    frame = c.history.to_frame()
    assert len(frame) == len(c.history) == 36
    assert set(frame["op"]) <= {"place", "cancel", "modify", "fills", "orders", "depth"}
    history = c.history.to_check_history()
    assert history.to_jsonl() == c.history.to_jsonl()
    result = check_operations(book_model(c.market), history.operations())
    assert result.verdict == "ok"
    c.close()


def test_html_reprs_are_escaped() -> None:
    with Cluster(3, seed=1, storage="memory") as c:
        c.place("<b>", "sell", price="1", qty=1)
        r = c.place("x&y", "buy", price="1", qty=1)
        for obj in (c, c.trace, c.history, r, c.nodes["n0"], c.calls[0]):
            text = obj._repr_html_()  # type: ignore[attr-defined]
            assert "<b>" not in text.replace("<b>unsafe", "") and "x&y" not in text
        assert "&lt;b&gt;" in r._repr_html_() and "&lt;b&gt;" in c.history._repr_html_()
