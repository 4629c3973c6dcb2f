"""Every figure builds from small seeded books and clusters and draws exactly what the views say.

Method: figures are inspected as data (trace names, point counts, y values, layout shapes and
annotations) and compared with the frames of clobkit.views and with counts from the trace:
e.g. the depth chart's y values are the book's cumulative depth, the space-time diagram has
one line segment per delivered or dropped message in its window, culprits are outlined.
"""

from __future__ import annotations

import itertools

import pytest

import clobkit as ck
import clobkit.views as cv
import clobkit.viz as cz
from clobkit.check import History, check_operations, register_model
from clobkit.errors import InvalidArgument
from tests.views.scenarios import crash_cluster, failover_cluster, quiet_cluster, small_book


def _names(fig) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.name for t in fig.data]


def _trace(fig, name: str):  # type: ignore[no-untyped-def]
    [trace] = [t for t in fig.data if t.name == name]
    return trace


def _segments(trace) -> int:  # type: ignore[no-untyped-def]
    # lines are drawn as (x0, x1, None) triples
    assert len(trace.x) % 3 == 0
    return len(trace.x) // 3


def test_depth_chart_is_cumulative_depth() -> None:
    book = small_book()
    fig = cz.depth_chart(book, title="depth", height=300)
    assert _names(fig) == ["bids", "asks"]
    assert list(_trace(fig, "bids").y) == [1.0, 8.0]  # 99: 1, 98.50: 1 + 7
    assert list(_trace(fig, "asks").y) == [6.0, 11.0]  # 100.50: 6, 101.50: 6 + 5
    assert list(_trace(fig, "bids").x) == [99.0, 98.5]
    assert fig.layout.title.text == "depth" and fig.layout.height == 300
    d = cv.depth(book)
    assert cz.depth_chart(d).to_json() == cz.depth_chart(book).to_json()


def test_price_ladder_puts_bids_left() -> None:
    fig = cz.price_ladder(small_book())
    assert list(_trace(fig, "bids").x) == [-1.0, -7.0]
    assert list(_trace(fig, "asks").x) == [6.0, 5.0]
    assert list(_trace(fig, "asks").y) == ["100.50", "101.50"]  # as the spec writes prices
    assert list(fig.layout.yaxis.categoryarray) == ["98.50", "99.00", "100.50", "101.50"]


def test_book_figures_on_a_cluster_and_empty_book() -> None:
    c = quiet_cluster()
    assert list(_trace(cz.depth_chart(c), "asks").y) == [5.0]
    empty = ck.OrderBook(ck.MarketSpec("ACME"))
    assert [len(t.x) for t in cz.depth_chart(empty).data] == [0, 0]
    assert [len(t.x) for t in cz.price_ladder(empty).data] == [0, 0]


def test_lag_chart_shows_crash_lag_and_bands() -> None:
    c, t = crash_cluster()
    fig = cz.lag_chart(c)
    assert _names(fig) == ["n0", "n1", "n2"]
    n2 = _trace(fig, "n2")
    during = [y for x, y in zip(n2.x, n2.y, strict=True) if t["crash"] <= x * 1000 < t["restart"]]
    assert max(during) == 3.0 and during == sorted(during)  # lag grows by one per order
    assert n2.y[-1] == 0.0
    faults = cv.fault_intervals(c)
    assert len(fig.layout.shapes) == len(faults) == 1
    assert (
        fig.layout.shapes[0].x0 == t["crash"] / 1000
        and fig.layout.shapes[0].x1 == t["restart"] / 1000
    )
    assert [a.text for a in fig.layout.annotations] == ["crash n2"]
    assert [a.hovertext for a in fig.layout.annotations] == [
        f"crash n2<br>{t['crash'] / 1000:.3f}-{t['restart'] / 1000:.3f} ms"
    ]


def test_many_faults_merge_into_readable_bands() -> None:
    c = quiet_cluster()
    for _ in range(4):  # repeated isolation of the primary: view change after view change
        primary = c.primary or "n0"
        c.isolate(primary)
        c.run(ms=300)
        c.heal()
        c.run(ms=100)
    faults = cv.fault_intervals(c)
    assert (faults.kind == "view_change").sum() >= 3
    fig = cz.lag_chart(c)
    bands = list(fig.layout.shapes)
    assert len(bands) <= len(faults)
    reach: dict[str, float] = {}  # per fill colour (= kind): the furthest band end so far
    for x0, x1, color in sorted((b.x0, b.x1, b.fillcolor) for b in bands):
        assert x0 >= reach.get(color, x0), "same-kind bands overlap instead of merging"
        reach[color] = max(reach.get(color, x1), x1)
    notes = list(fig.layout.annotations)
    assert len(notes) == len(bands)  # one per band: a label, or a tick with the hover text
    assert all(a.hovertext for a in notes)
    printed = [a for a in notes if a.text != cz.bands.BAND_TICK]
    width = max(b.x1 for b in bands) - min(b.x0 for b in bands)
    by_row: dict[int, list[tuple[float, str]]] = {}
    for a in printed:
        by_row.setdefault(a.yshift, []).append((a.x, a.text))
    for row in by_row.values():  # labels sharing a row do not run into each other
        row.sort()
        for (x0, text), (x1, _) in itertools.pairwise(row):
            assert x1 - x0 >= len(text) * cz.bands.CHAR_FRACTION * width * 0.99
    lag = cv.lag(c)
    assert (lag.lag_ops.dropna() >= 0).all()


def test_lag_chart_metrics() -> None:
    c, t = crash_cluster()
    ops = _trace(cz.lag_chart(c, metric="op_number"), "n0")
    assert ops.y[-1] == float(c.nodes["n0"].op_number)
    age = _trace(cz.lag_chart(c, metric="us"), "n2")
    inside = [
        y for x, y in zip(age.x, age.y, strict=True) if t["crash"] <= x * 1000 <= t["restart"]
    ]
    assert max(inside) > 0 and age.line.shape == "linear"
    assert _names(cz.lag_chart(c, nodes=["n1"])) == ["n1"]
    with pytest.raises(InvalidArgument, match="metric"):
        cz.lag_chart(c, metric="bogus")


def test_spacetime_draws_one_segment_per_message() -> None:
    c, times = failover_cluster()
    lo, hi = times["partition"] - 20_000, times["heal"] + 20_000
    fig = cz.spacetime_diagram(c, lo, hi, max_messages=10_000)
    m = cv.messages(c, lo, hi)
    delivered = sum(_segments(t) for t in fig.data if t.name.startswith("from "))
    assert delivered == (m.outcome == "delivered").sum()
    assert _segments(_trace(fig, "messages: dropped")) == (m.outcome == "dropped").sum() > 0
    assert len(_trace(fig, "drops").x) == (m.outcome == "dropped").sum()
    commits = [r for r in c.trace if r.kind == "commit" and lo <= r.time_us <= hi]
    assert len(_trace(fig, "commits").x) == len(commits) > 0
    lanes = list(fig.layout.yaxis.ticktext)
    assert lanes[:3] == ["n0", "n1", "n2"] and all(x.startswith("client:") for x in lanes[3:])
    labels = [a.text for a in fig.layout.annotations]
    assert "partition n1 | n0 n2" in labels and "crash n0" in labels
    assert list(fig.layout.xaxis.range) == [lo / 1000, hi / 1000]


def test_spacetime_caps_messages_and_filters_kinds() -> None:
    c = quiet_cluster()
    fig = cz.spacetime_diagram(c, max_messages=5)
    drawn = sum(_segments(t) for t in fig.data if t.name.startswith(("from ", "messages:")))
    assert drawn == 5
    assert any("showing the first 5 of" in a.text for a in fig.layout.annotations)
    only = cz.spacetime_diagram(c, kinds=["Request", "Reply"], include_clients=True)
    texts = [x for t in only.data if t.name.startswith("from ") for x in t.text if x]
    assert texts and all(x.startswith(("Request", "Reply")) for x in texts)
    no_clients = cz.spacetime_diagram(c, include_clients=False)
    assert list(no_clients.layout.yaxis.ticktext) == ["n0", "n1", "n2"]
    with pytest.raises(InvalidArgument):
        cz.spacetime_diagram(c, max_messages=0)


def _register_history(read_value: int) -> History:
    h = History()
    w = h.invoke("a", ("w", 1), 0)
    r = h.invoke("b", ("r", None), 20_000)
    u = h.invoke("c", ("w", 2), 30_000)
    h.complete(w, "ok", None, 10_000)
    h.complete(r, "ok", read_value, 40_000)
    h.complete(u, "unknown", None, 90_000)
    return h


def test_history_timeline_ok_shows_order() -> None:
    h = _register_history(1)
    result = check_operations(register_model(), h.operations())
    fig = cz.history_timeline(h, result)
    assert _names(fig) == ["ok", "unknown", "culprits"]
    ok = _trace(fig, "ok")
    assert list(ok.y) == ["a", "b"] and list(ok.text) == ["#0", "#1"]
    assert list(ok.base) == [0.0, 20.0] and list(ok.x) == [10.0, 20.0]
    unknown = _trace(fig, "unknown")
    assert unknown.base[0] + unknown.x[0] > 40.0  # open-ended: past the last response
    assert len(_trace(fig, "culprits").x) == 0
    assert any(a.text == "checker: ok" for a in fig.layout.annotations)


def test_history_timeline_illegal_outlines_culprits() -> None:
    h = _register_history(5)  # nobody wrote 5
    result = check_operations(register_model(), h.operations())
    assert result.verdict == "illegal"
    fig = cz.history_timeline(h, result)
    culprits = _trace(fig, "culprits")
    frame = cv.history(h, result)
    assert list(culprits.y) == [str(c) for c in frame.loc[frame.culprit, "client_id"]]
    assert "b" in list(culprits.y)


def test_history_timeline_of_a_cluster() -> None:
    c = quiet_cluster()
    fig = cz.history_timeline(c)
    assert _names(fig) == ["ok", "culprits"]
    assert sorted(set(_trace(fig, "ok").y)) == ["alice", "bob", "carol"]


def test_log_grid_views_and_uncommitted_entries() -> None:
    c, _ = failover_cluster()
    fig = cz.log_grid(c)
    grid = _trace(fig, "log")
    assert list(grid.y) == ["n0", "n1", "n2"]
    log = cv.node_log(c)
    assert list(grid.x) == sorted(set(log.op))
    for row in log.itertuples(index=False):
        assert grid.z[list(grid.y).index(row.node)][list(grid.x).index(row.op)] == row.view
    assert {v for row in grid.z for v in row if v is not None} >= {0.0, 1.0}
    primary = c.primary
    for backup in ("n0", "n1", "n2"):
        if backup != primary:
            c.block(primary, backup)  # its Prepares are lost: the new entry cannot commit
    c.submit("alice", "place", side="buy", price=1, qty=1)
    c.run(ms=5)
    fig = cz.log_grid(c)
    marked = set(zip(_trace(fig, "uncommitted").y, _trace(fig, "uncommitted").x, strict=True))
    top = int(cv.node_log(c, primary).op.max())
    assert (primary, top) in marked
    assert len(cz.log_grid(c, max_ops=2).data[0].x) == 2


def test_log_grid_reads_a_crashed_node_from_its_wal() -> None:
    c = quiet_cluster()
    c.crash("n2")
    grid = _trace(cz.log_grid(c), "log")
    assert grid.z[2] == (0.0, 0.0, 0.0, 0.0) or list(grid.z[2]) == [0.0] * 4
    assert "on disk (down)" in grid.text[2][0]


def test_fill_figures_match_the_views() -> None:
    book = small_book()
    fig = cz.fills_chart(book)
    assert [(t.name, len(t.x)) for t in fig.data] == [
        ("buy-initiated", 1),
        ("sell-initiated", 1),
        ("volume", 2),
    ]
    assert list(_trace(fig, "volume").y) == [4.0, 2.0]
    v = cz.vwap_chart(book)
    assert list(_trace(v, "vwap").y) == [100.5, 100.0]
    assert list(_trace(cz.vwap_chart(book, bucket_us=4), "vwap").y) == [100.5, 99.0]
    p = cz.positions_chart(book)
    assert _names(p) == [
        "position alice",
        "position bob",
        "position carol",
        "position dave",
        "pnl alice",
        "pnl bob",
        "pnl carol",
        "pnl dave",
    ]
    assert list(_trace(p, "pnl alice").y) == [0.0, 6.0]  # marked at 100.50, then at 99
    assert list(_trace(p, "position carol").y) == [2.0]
    assert _names(cz.positions_chart(book, users=["bob"])) == ["position bob", "pnl bob"]
    with pytest.raises(InvalidArgument):
        cz.positions_chart(book, users="bob")


@pytest.mark.parametrize(
    "draw",
    [
        lambda c: cz.depth_chart(c),
        lambda c: cz.price_ladder(c),
        lambda c: cz.lag_chart(c),
        lambda c: cz.spacetime_diagram(c),
        lambda c: cz.history_timeline(c),
        lambda c: cz.log_grid(c),
        lambda c: cz.fills_chart(c),
        lambda c: cz.vwap_chart(c),
        lambda c: cz.positions_chart(c),
    ],
)
def test_every_figure_is_deterministic_and_sized(draw) -> None:  # type: ignore[no-untyped-def]
    a = draw(failover_cluster(seed=2)[0])
    b = draw(failover_cluster(seed=2)[0])
    assert a.to_json() == b.to_json()
    assert a.layout.height > 0


def test_bad_height_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="height"):
        cz.depth_chart(small_book(), height=-1)
    with pytest.raises(InvalidArgument, match="height"):
        cz.lag_chart(quiet_cluster(), height=1.5)  # type: ignore[arg-type]


def test_colours_are_consistent() -> None:
    c = quiet_cluster()
    lag = cz.lag_chart(c)
    st = cz.spacetime_diagram(c)
    for node in ("n0", "n1", "n2"):
        assert (
            _trace(lag, node).line.color
            == cz.node_color(node)
            == _trace(st, f"from {node}").line.color
        )
    assert _trace(cz.depth_chart(c), "bids").line.color == cz.SIDE_COLORS["buy"]


def test_add_fault_bands_on_any_figure() -> None:
    import plotly.graph_objects as go

    c, t = crash_cluster()
    fig = go.Figure(go.Scatter(x=[0, t["end"] / 1000], y=[0, 1]))
    assert cz.add_fault_bands(fig, cv.fault_intervals(c), t["end"] / 1000) == 1
    assert fig.layout.shapes[0].x0 == t["crash"] / 1000
    assert _names(fig) == ["trace 0"] or len(fig.data) == 1
    assert fig.layout.annotations[0].hovertext.startswith("crash n2")
