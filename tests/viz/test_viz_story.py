"""Proves the figures open on what the lesson is about: a history timeline zooms to the
anomaly (with buttons to widen) and explains its #n labels; the space-time diagram names its
arrows, draws no empty client lane and keeps its legend off the title; narrow fault bands are
drawn wide enough to see and labelled; the lag axis in ops shows whole numbers; the HTML
report tells the run's story in episodes, each with a window and a label.
"""

from __future__ import annotations

import clobkit as ck
import clobkit.viz as cz
from clobkit.check import scenarios
from clobkit.report import episodes, render_report
from clobkit.viz.bands import MIN_BAND_FRACTION


def test_history_timeline_opens_on_the_anomaly_and_can_widen() -> None:
    run = scenarios.s1_split_brain(True)
    fig = cz.history_timeline(run.history, run.check)
    lo, hi = fig.layout.xaxis.range
    end_ms = max(r.return_us or r.call_us for r in run.history) / 1000
    assert hi - lo < end_ms / 3  # zoomed: the anomaly is not a sliver of the whole run
    frame = run.history.to_frame()
    w1 = frame[frame.client_id == "w1"].iloc[0]
    assert lo <= w1.call_us / 1000 and w1.return_us / 1000 <= hi  # the call S1 is about
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["zoom to the anomaly", "whole run"]
    assert buttons[1].args[0]["xaxis.range"][1] >= end_ms
    assert "#n" in fig.layout.title.subtitle.text and "culprit" in fig.layout.title.subtitle.text
    whole = cz.history_timeline(run.history, run.check, window="all")
    assert whole.layout.xaxis.range is None


def test_history_timeline_of_a_legal_run_is_not_zoomed() -> None:
    run = scenarios.s1_split_brain(False)
    fig = cz.history_timeline(run.history, run.check)
    assert fig.layout.xaxis.range is None and not fig.layout.updatemenus


def test_spacetime_names_arrows_and_draws_no_empty_lane() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.place("alice", "sell", price="100.50", qty=5)
    c.run(ms=50)
    c.place("bob", "buy", price="100.50", qty=1)
    end = c.now_us
    fig = cz.spacetime_diagram(c, end - 20_000, end)  # alice sent nothing in this window
    lanes = list(fig.layout.yaxis.ticktext)
    assert "client:bob" in lanes and "client:alice" not in lanes
    names = next(t for t in fig.data if t.name == "message names")
    assert {"Request", "Reply"} <= {text.split()[0] for text in names.text}
    assert fig.layout.legend.orientation == "v" and fig.layout.legend.x > 1


def test_a_zero_width_crash_band_is_visible_and_labelled() -> None:
    c = ck.Cluster(nodes=3, seed=2, storage="memory")
    c.run(ms=200)
    c.crash("n1")
    c.replace("n1")  # crash and replacement at one instant: a zero-width interval
    c.run(ms=1_500)
    fig = cz.lag_chart(c)
    span = fig.layout.xaxis.range or (0, c.now_ms)
    crash = [s for s in fig.layout.shapes if s.name == "crash n1"]
    assert crash and crash[0].x1 - crash[0].x0 >= (span[1] - span[0]) * MIN_BAND_FRACTION * 0.9
    assert "crash n1" in [a.text for a in fig.layout.annotations]


def test_lag_axis_in_ops_has_whole_number_ticks() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.place("alice", "sell", price="100.50", qty=5)
    fig = cz.lag_chart(c)
    assert fig.layout.yaxis.tickformat == "d" and fig.layout.yaxis.dtick == 1


def test_report_tells_the_story_in_episodes() -> None:
    from clobkit.check.campaigns import replay

    run = replay(seed=19, faults=("crash",))  # the primary n0 crashes: a view change, a catch-up
    try:
        story = episodes(run.cluster)
        labels = " | ".join(e["label"] for e in story)
        assert "crash n0" in labels and "view change" in labels and "catch-up" in labels
        assert all(e["start_us"] <= e["end_us"] for e in story)
        text = render_report(run)
        n_fills = len(run.cluster.fills())
    finally:
        run.cluster.close()
    assert "<h2>What happened</h2>" in text and text.count("<h2>Episode ") == 3
    assert n_fills > 10 and f"Fills: {n_fills} (the first 10)" in text
    assert "showing the first" not in text.split("Episode 2")[1].split("Episode 3")[0]


def test_history_timeline_window_is_checked_and_honoured() -> None:
    import pytest

    from clobkit.errors import InvalidArgument

    run = scenarios.s10_duplicate_retry(True)
    fig = cz.history_timeline(run.history, run.check, window=(1.0, 9.0))
    assert tuple(fig.layout.xaxis.range) == (1.0, 9.0)
    for bad in ("zoom", (5.0, 1.0), (1, "x"), (True, 3)):
        with pytest.raises(InvalidArgument, match="window must be"):
            cz.history_timeline(run.history, run.check, window=bad)  # type: ignore[arg-type]
