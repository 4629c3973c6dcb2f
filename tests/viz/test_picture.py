"""The cluster picture draws what the trace says: nodes, messages in flight, logs, the book.

Method: the picture's per-moment state (``picture_state``) is checked against independent
sources. Node roles and numbers at a past time are compared with a *fork* of the cluster
replayed to that time (an exact re-run, not the trace), and at the end of every staged
scenario with the live replicas (logs and book too, for the safe runs). The animation's
message dots per frame are counted again from ``clobkit.views.messages`` (pandas, separate
pairing code). Each staged scenario's figures build, and the messages that carry its
anomaly appear in the picture while they fly (or fade where they were dropped).
"""

from __future__ import annotations

import pytest

import clobkit as ck
import clobkit.views as cv
import clobkit.viz as cz
from clobkit.check import scenarios
from clobkit.errors import InvalidArgument, InvalidType
from clobkit.viz.picture import frame_times
from clobkit.viz.picture_data import DROP_FADE_US, LEAVE_US, ROLES, PictureTimeline

# The messages each staged scenario's story turns on: (message kind, fate) pairs, where the
# fate is "sent" (any copy that was sent) or a drop reason prefix.
ANOMALY: dict[str, list[tuple[str, str]]] = {
    "s1_split_brain": [("Prepare", "partitioned"), ("DoViewChange", "sent")],
    "s3_dirty_read": [("Prepare", "rule:drop"), ("Read", "sent")],
    "s6_own_wal_failover": [("Prepare", "partitioned"), ("StartView", "sent")],
    "s7_learner_votes": [("DoViewChange", "sent"), ("StartView", "sent")],
    "s8_ack_before_fsync": [("PrepareOk", "sent"), ("Commit", "sent")],
    "s9_truncate_corrupt": [("DoViewChange", "sent"), ("StartView", "sent")],
    "s10_duplicate_retry": [("Reply", "rule:drop"), ("Request", "sent")],
    "s11_trade_before_commit": [("Prepare", "rule:drop"), ("Read", "sent")],
    "s12_read_without_write_back": [("Commit", "rule:drop"), ("Read", "sent")],
    "s13_deposed_primary_read": [("Read", "sent"), ("ReadReply", "sent")],
}


def _rows_like_picture(cluster: ck.Cluster) -> dict[str, tuple[str, object, object, object]]:
    out = {}
    for row in cluster.node_rows():
        role = row["role"]
        if role == "backup" and row["status"] in ("recovering", "view_change"):
            role = "recovering"
        out[row["node"]] = (role, row["view"], row["op_number"], row["commit_number"])
    return out


def _state_rows(state: dict) -> dict[str, tuple[str, object, object, object]]:  # type: ignore[type-arg]
    return {n["name"]: (n["role"], n["view"], n["op"], n["commit"]) for n in state["nodes"]}


def _eventful_cluster() -> ck.Cluster:
    c = ck.Cluster(nodes=5, seed=7, storage="memory")
    for i in range(3):
        c.place("alice", "buy", price=f"{100 + i}.25", qty=1 + i)
    c.place("bob", "sell", price="100.25", qty=4)
    c.crash("n0")
    c.isolate("n4")
    c.run(ms=200)
    c.heal()
    c.place("carol", "sell", price="103", qty=2)
    c.restart("n0")
    c.replace("n3")
    c.run(ms=300)
    return c


@pytest.fixture(scope="module")
def eventful() -> ck.Cluster:
    return _eventful_cluster()


def test_trace_state_matches_an_exact_replay_at_past_times(eventful: ck.Cluster) -> None:
    c = eventful
    timeline = PictureTimeline(c)
    times = [0, 5_000, 60_000, 150_000, 158_000, 205_000, 260_000, 400_000]
    times += [r.time_us for r in c.trace if r.kind in ("primary", "start_view", "restart")]
    for at_us in sorted(set(times)):
        fork = c.fork(at_us, storage="memory")
        try:
            assert _state_rows(timeline.state(at_us)) == _rows_like_picture(fork), at_us
        finally:
            fork.close()


@pytest.mark.parametrize("name", sorted(scenarios.ALL))
@pytest.mark.parametrize("unsafe", [True, False])
def test_end_of_every_staged_scenario_rebuilt_from_the_trace_matches_the_replicas(
    name: str, unsafe: bool
) -> None:
    c = scenarios.ALL[name](unsafe).cluster
    c.run(ms=1)  # a moment after the last record: the trace path, not the live one
    timeline = PictureTimeline(c)
    past = timeline.state(c.now_us - 1)
    live = timeline.state(None)
    assert not past["live"] and live["live"]
    assert _state_rows(past) == _state_rows(live)
    assert (past["book"]["bids"], past["book"]["asks"]) == (
        live["book"]["bids"],
        live["book"]["asks"],
    )
    if (name, unsafe) == ("s6_own_wal_failover", True):
        return  # the new primary keeps its own WAL, which no trace record says: not rebuilt
    if (name, unsafe) == ("s9_truncate_corrupt", True):
        # n0 comes back with view-0 entries where view 1 committed others; a log-breaking
        # switch stores what it appends under the view n0's log already has (Replica._append),
        # which no trace record says: not rebuilt
        return
    for a, b in zip(past["nodes"], live["nodes"], strict=True):
        if b["role"] != "down":
            assert a["log"] == b["log"], a["name"]


def _first_span(timeline: PictureTimeline, kind: str, fate: str):  # type: ignore[no-untyped-def]
    for s in timeline.spans:
        if s.kind != kind:
            continue
        if fate == "sent" and not s.refused:
            return s
        if fate != "sent" and s.outcome == "dropped" and s.reason.startswith(fate):
            return s
    raise AssertionError(f"no {kind} ({fate}) in the trace")


@pytest.mark.parametrize("name", sorted(scenarios.ALL))
def test_every_staged_scenario_draws_its_anomaly_messages(name: str) -> None:
    c = scenarios.ALL[name](True).cluster
    timeline = PictureTimeline(c)
    shown_times = []
    for kind, fate in ANOMALY[name]:
        span = _first_span(timeline, kind, fate)
        if fate == "sent":
            at_us = (span.send_us + (span.end_us or span.send_us + 1)) // 2
            want = f"{kind} {span.source} → {span.target}"
        else:
            at_us = span.end_us + DROP_FADE_US // 2
            want = f"dropped: {span.reason}"
        fig = cz.cluster_picture(c, at_ms=at_us / 1000)
        [messages] = [t for t in fig.data if t.name == "messages"]
        assert any(want in text and kind in text for text in messages.text), (kind, fate)
        shown_times.append(at_us)
    # the animation over the anomaly's window builds, and some frame carries each kind
    lo, hi = max(0, min(shown_times) - 1_000), max(shown_times) + 1_000
    anim = cz.cluster_animation(c, lo / 1000, hi / 1000, frame_ms=0.25)
    texts = [t for f in anim.frames for t in (_in_frame(f, "messages").text or ()) if t]
    for kind, _fate in ANOMALY[name]:
        assert any(t.startswith(kind + " ") for t in texts), kind
    assert len(cz.cluster_picture(c).data) > 10


def _in_frame(frame, name: str):  # type: ignore[no-untyped-def]
    [trace] = [t for t in frame.data if t.name == name]
    return trace


def _expected_dots(msgs, at_us: int, now_us: int) -> int:  # type: ignore[no-untyped-def]
    """Dots at ``at_us`` counted from views.messages: in flight, or dropped and still fading."""
    count = 0
    for m in msgs.itertuples(index=False):
        if m.send_us > at_us:
            continue
        flying = m.outcome == "in_flight" or (m.outcome == "delivered" and at_us < m.end_us)
        fading = m.outcome == "dropped" and at_us < m.end_us + DROP_FADE_US
        count += flying or fading
    return count


def test_animation_frames_match_the_trace(eventful: ck.Cluster) -> None:
    c = eventful
    # 30 ms from just after the new primary takes over (its StartView and the traffic after)
    start = next(r.time_us for r in c.trace if r.kind == "primary") // 1000 + 1
    anim = cz.cluster_animation(c, start, start + 30, frame_ms=0.5)
    times = frame_times(start * 1000, (start + 30) * 1000, frame_ms=0.5)
    assert [f.name for f in anim.frames] == [f"{t / 1000:.3f}" for t in times]
    msgs = cv.messages(c)
    clients_and_nodes = set(c.replica_names) | {
        n for n in set(msgs.source) | set(msgs.target) if n.startswith("client")
    }
    msgs = msgs[msgs.source.isin(clients_and_nodes) & msgs.target.isin(clients_and_nodes)]
    total = 0
    for frame, at_us in zip(anim.frames, times, strict=True):
        dots = [x for x in _in_frame(frame, "messages").x if x is not None]
        assert len(dots) == _expected_dots(msgs, at_us, c.now_us), at_us
        total += len(dots)
        assert f"t = {at_us / 1000:.3f} ms" in frame.layout.title.text
    assert total > 50  # the window really has traffic (a view change and its messages)
    # node roles in a few frames, against exact replays
    for k in (0, 15, 30, 45, 60):
        at_us = times[k]
        fork = c.fork(at_us, storage="memory")
        try:
            rows = _rows_like_picture(fork)
        finally:
            fork.close()
        nodes = _in_frame(anim.frames[k], "nodes")
        assert list(nodes.marker.symbol) == [ROLES[rows[n][0]]["symbol"] for n in c.replica_names]


def test_picture_shows_cuts_sync_logs_and_book_in_market_units() -> None:
    c = ck.Cluster(nodes=3, seed=2, storage="memory", market=ck.MarketSpec("ACME", tick="0.05"))
    c.place("alice", "sell", price="100.05", qty=3)
    c.place("bob", "buy", price="100.05", qty=1)
    c.block("n0", "n2")
    c.partition({"n1"}, {"n2"})
    state = cz.picture_state(c)
    cuts = {(k["source"], k["target"], k["both"]) for k in state["cuts"]}
    assert ("n0", "n2", False) in cuts and ("n1", "n2", True) in cuts
    assert state["book"]["asks"] == [["100.05", "2"]]
    assert state["book"]["fills"] == ["buy 1 @ 100.05 (bob x alice)"]
    assert [e["op"] for e in state["nodes"][0]["log"]] == [1, 2]
    fig = cz.cluster_picture(c)
    [book] = [t for t in fig.data if t.name == "book"]
    assert "ask 100.05 × 2" in book.text
    # a moment while the primary syncs a new entry shows the fsync marker
    syncs = [r for r in c.trace if r.kind == "sync" and r.node == "n0"]
    at = syncs[0].time_us + 1
    assert cz.picture_state(c, at / 1000)["nodes"][0]["syncing"] is True
    [nodes] = [t for t in cz.cluster_picture(c, at / 1000).data if t.name == "nodes"]
    assert ["fsync" in label for label in nodes.text] == [True, False, False]


def test_uncommitted_and_corrupt_entries_are_marked_without_colour() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.place("alice", "buy", price="99", qty=1)
    c.drop_next("Prepare", source="n0", count=100)
    c.submit("w", "place", side="sell", price="101", qty=1)
    c.run(ms=3)
    n0 = cz.picture_state(c)["nodes"][0]
    assert [(e["op"], e["committed"]) for e in n0["log"]] == [(1, True), (2, False)]
    [logs] = [t for t in cz.cluster_picture(c).data if t.name == "logs"]
    assert list(logs.marker.symbol)[:2] == ["square", "square-open"]
    c2 = ck.Cluster(nodes=3, seed=1, storage="memory")
    c2.place("alice", "buy", price="99", qty=1)
    c2.disk_fault("n2", "bit_flip", op=1)
    c2.restart("n2")  # recovery finds the bad record; it is repaired from a peer
    restart_ms = c2.now_ms
    live = cz.picture_state(c2)
    c2.run(ms=0.1)  # not long enough for a repair round trip
    for state in (live, cz.picture_state(c2, restart_ms + 0.05)):  # live, then from the trace
        assert state["live"] is (state is live)
        n2 = state["nodes"][2]
        assert n2["role"] == "recovering" and n2["log"][0]["corrupt"]
    [logs2] = [t for t in cz.cluster_picture(c2).data if t.name == "logs"]
    assert "square-x-open" in list(logs2.marker.symbol)
    c2.run(ms=50)
    assert not any(e["corrupt"] for e in cz.picture_state(c2)["nodes"][2]["log"])


def test_same_seed_same_picture_and_bad_input_is_refused() -> None:
    a, b = _eventful_cluster(), _eventful_cluster()
    assert cz.picture_state(a, 150) == cz.picture_state(b, 150)
    assert (
        cz.cluster_animation(a, 140, 150).to_json() == cz.cluster_animation(b, 140, 150).to_json()
    )
    digest = a.trace.digest()
    with pytest.raises(InvalidArgument, match="at_ms"):
        cz.cluster_picture(a, at_ms=-1)
    with pytest.raises(InvalidType, match="at_ms"):
        cz.picture_state(a, at_ms="soon")
    with pytest.raises(InvalidArgument, match="end_ms"):
        cz.cluster_animation(a, 10, 5)
    with pytest.raises(InvalidArgument, match="frames"):
        cz.cluster_animation(a, frames=1)
    with pytest.raises(InvalidArgument, match="frame_ms"):
        cz.cluster_animation(a, frame_ms=0)
    with pytest.raises(InvalidType):
        cz.cluster_picture("not a cluster")
    assert a.trace.digest() == digest  # drawing never runs or changes the simulation


def test_animation_is_offline_html_with_play_and_slider(tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.place("alice", "buy", price="99", qty=1)
    fig = cz.cluster_animation(c, frames=10)
    path = tmp_path / "a.html"
    fig.write_html(path, include_plotlyjs=True)
    text = path.read_text()
    assert '<script src="http' not in text and "plotly.js v" in text
    assert fig.layout.updatemenus[0].buttons[0].label == "▶ play"
    assert len(fig.layout.sliders[0].steps) == 10


def test_the_docs_page_runs_as_printed(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import re
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "howto" / "cluster-picture.md"
    text = page.read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE)
    assert len(blocks) == 3
    monkeypatch.chdir(tmp_path)  # the page writes view_change.html
    namespace: dict[str, object] = {}
    for code in blocks:
        exec(compile(code, str(page), "exec"), namespace)
    printed = re.search(r"# (t = [\d.]+ ms · .*)$", blocks[0], re.MULTILINE)
    assert printed and namespace["fig"].layout.title.text == printed.group(1)  # type: ignore[attr-defined]
    assert (tmp_path / "view_change.html").stat().st_size > 1_000_000  # plotly.js inlined
    assert "../assets/cluster_picture_view_change.png" in text


def test_a_truncated_suffix_is_drawn_leaving() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.place("alice", "buy", price="99", qty=1)
    c.drop_next("Prepare", source="n0", count=100)  # n0 appends op 2 that nobody else gets
    c.submit("w", "place", side="sell", price="101", qty=1)
    c.run(ms=3)
    c.isolate("n0")
    c.run(ms=300)  # n1 and n2 move to view 1 without it
    c.heal()
    c.run(ms=100)  # n0 learns view 1 and replaces its op 2
    transfer_us = next(r.time_us for r in c.trace if r.node == "n0" and r.kind == "state_transfer")
    during = cz.picture_state(c, at_ms=transfer_us / 1000 + 1)["nodes"][0]["log"]
    assert [(e["op"], e["view"]) for e in during if e["leaving"]] == [(2, 0)]
    assert [(e["op"], e["view"]) for e in during if not e["leaving"]] == [(1, 0), (2, 1), (3, 1)]
    after = cz.picture_state(c, at_ms=(transfer_us + LEAVE_US) / 1000)["nodes"][0]["log"]
    assert not any(e["leaving"] for e in after)
    [logs] = [t for t in cz.cluster_picture(c, transfer_us / 1000 + 1).data if t.name == "logs"]
    assert "2↗" in logs.text
