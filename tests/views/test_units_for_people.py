"""People read prices as they typed them, never the book's ticks: a cluster with tick 0.01
is driven with prices like "123.47" (12347 ticks inside), and every surface a person reads is
searched for the raw tick numbers; frames keep exact integer columns beside the float price.

Method: the prices are chosen so that their tick counts (12347, 12361, 12293, 12250) are
numbers that nothing else in these small runs produces (no timestamp, op or id reaches them),
so finding one means a tick value leaked. Each surface is also checked for the price as
typed ("123.47"), so a surface that printed nothing would fail too. The frames' dtypes are
compared with the documented schema constants.
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

import clobkit as ck
import clobkit.views as cv
from clobkit.book import MarketSpec, OrderBook
from clobkit.sim.results import FillReport, LiveOrder, PriceLevel

pytest.importorskip("pandas")

TICKS = ("12347", "12361", "12293", "12250")


def leaks(text: str) -> list[str]:
    """The raw tick numbers found in ``text`` as whole numbers (not inside a longer one)."""
    return [t for t in TICKS if re.search(rf"(?<![\d.]){t}(?![\d])", text)]


def trading_cluster() -> ck.Cluster:
    c = ck.Cluster(3, seed=7, storage="memory", market=MarketSpec("ACME", tick="0.01"))
    c.place("alice", "sell", price="123.47", qty=10)
    c.place("alice", "sell", price="123.61", qty=5)
    c.place("carol", "buy", price="122.93", qty=8)
    c.place("bob", "buy", price="123.61", qty=12)  # takes 10 @ 123.47 and 2 @ 123.61
    oid = c.place("dave", "buy", price="122.50", qty=3).order_id
    c.modify("dave", oid, qty=2)
    return c


@pytest.fixture(scope="module")
def cluster() -> ck.Cluster:
    return trading_cluster()


def test_cluster_calls_return_market_units(cluster: ck.Cluster) -> None:
    fills = cluster.fills()
    assert all(isinstance(f, FillReport) for f in fills)
    assert [(f.price, f.qty) for f in fills] == [(Decimal("123.47"), 10), (Decimal("123.61"), 2)]
    assert [f.price_ticks for f in fills] == [12347, 12361]  # raw values under tick names
    orders = cluster.live_orders()
    assert all(isinstance(o, LiveOrder) for o in orders)
    assert [(str(o.price), o.qty) for o in orders] == [("122.93", 8), ("122.50", 2), ("123.61", 3)]
    assert orders[-1].original_qty == 5 and orders[-1].filled_qty_lots == 2
    depth = cluster.depth()
    best_bid = depth["bids"][0]
    assert isinstance(best_bid, PriceLevel)
    assert (best_bid.price, best_bid.qty, best_bid.order_count) == (Decimal("122.93"), 8, 1)
    assert best_bid.price_ticks == 12293
    result = cluster.place("erin", "sell", price="122.93", qty=1)
    assert result.fills[0].price == Decimal("122.93") and result.filled_qty == 1
    texts = [repr(fills), repr(orders), repr(depth), repr(result), result._repr_html_()]
    for text in texts:
        assert not leaks(text), text
    assert "123.47" in texts[0] and "122.93" in texts[1] and "122.93" in texts[2]
    assert "1@122.93" in texts[3]


def test_logs_wal_history_and_trace_read_in_market_units(cluster: ck.Cluster) -> None:
    surfaces = {
        "node_log": "\n".join(cv.node_log(cluster)["command"]),
        "wal": "\n".join(cv.wal(cluster)["command"]),
        "history": cv.history(cluster)[["input_text", "output_text"]].to_string(),
        "events": "\n".join(map(str, cv.events(cluster)["detail"])),
        "trace": "\n".join(cv.trace(cluster)["detail"]),
        "tail": cluster.trace.tail(10_000, spec=cluster.market),
        "history_html": cluster.history._repr_html_(),
    }
    for name, text in surfaces.items():
        assert not leaks(text), (name, leaks(text))
        assert re.search(r"12[23]\.\d\d", text), name  # prices are there, as typed
    assert "place alice sell 10 @ 123.47 gtc" in surfaces["wal"]
    assert "modify dave #5 qty=2" in surfaces["node_log"]
    assert "fills 10 @ 123.47, 2 @ 123.61" in surfaces["history"]


def test_checker_explanation_reads_in_market_units() -> None:
    from clobkit.check import scenarios

    run = scenarios.s3_dirty_read(unsafe=True)  # prices 100 and 101 at tick 0.01
    assert run.check is not None and run.check.verdict == "illegal"
    words = run.check.explanation + run.check._repr_html_()
    assert "@ 100.00" in words and "best ask 101.00" in words
    assert not re.search(r"(?<![\d.])10[01]00(?![\d])", words), words


def test_figures_read_in_market_units(cluster: ck.Cluster) -> None:
    pytest.importorskip("plotly")
    import clobkit.viz as cz

    ladder = cz.price_ladder(cluster)
    assert "123.61" in list(ladder.data[1].y)
    figures = {
        "ladder": ladder,
        "depth": cz.depth_chart(cluster),
        "fills": cz.fills_chart(cluster),
        "vwap": cz.vwap_chart(cluster),
        "positions": cz.positions_chart(cluster),
        "log_grid": cz.log_grid(cluster),
        "history": cz.history_timeline(cluster),
        "spacetime": cz.spacetime_diagram(cluster),
    }
    for name, fig in figures.items():
        assert not leaks(fig.to_json()), name
    for name in ("depth", "fills", "log_grid", "history"):  # hover text carries prices
        assert re.search(r"12[23]\.\d\d", figures[name].to_json()), name


def test_cli_demo_and_report_show_prices_not_ticks() -> None:
    import argparse
    import io

    from clobkit.check import scenarios
    from clobkit.cli import demo
    from clobkit.report import render_report

    out = io.StringIO()
    assert demo(argparse.Namespace(seed=1), out) == 0  # trades at 100.50, 100.75, 100.00
    text = out.getvalue()
    assert "100.50" in text and "100.75" in text
    assert not re.search(r"(?<![\d.])(10050|10075|10000)(?![\d])", text), text
    run = scenarios.s11_trade_before_commit(unsafe=False)  # a fill at 100 (10000 ticks)
    page = render_report(run)
    fills_section = page[page.index("<h2>Fills") :]
    assert "100.00" in fills_section
    assert not re.search(r"(?<![\d.])10[01]00(?![\d])", fills_section), fills_section


def test_dashboard_log_reads_in_market_units(cluster: ck.Cluster) -> None:
    pytest.importorskip("ipywidgets")
    from clobkit.widgets import Dashboard

    c = trading_cluster()
    dash = Dashboard(c, log_lines=500)
    assert "123." in dash.log.value and not leaks(dash.log.value)


# -- dtypes -----------------------------------------------------------------------------------


def dtypes(frame: object) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}  # type: ignore[attr-defined]


def test_frames_have_integer_quantities_and_exact_tick_prices(cluster: ck.Cluster) -> None:
    frames = {
        "fills": (cv.fills(cluster), cv.FILL_COLUMNS),
        "fills consistent": (cv.fills(cluster, consistent=True), cv.FILL_COLUMNS),
        "cluster.fills_df": (cluster.fills_df(), cv.FILL_COLUMNS),
        "live_orders": (cv.live_orders(cluster), cv.LIVE_ORDER_COLUMNS),
        "live_orders consistent": (
            cv.live_orders(cluster, consistent=True),
            cv.LIVE_ORDER_COLUMNS,
        ),
        "depth": (cv.depth(cluster), cv.DEPTH_COLUMNS),
        "depth consistent": (cv.depth(cluster, consistent=True), cv.DEPTH_COLUMNS),
        "positions": (cv.positions(cluster), cv.POSITION_COLUMNS),
        "pnl": (cv.pnl(cluster), cv.PNL_COLUMNS),
        "vwap": (cv.vwap(cluster), cv.VWAP_COLUMNS),
        "vwap buckets": (cv.vwap(cluster, bucket_us=1000), cv.VWAP_BUCKET_COLUMNS),
    }
    for name, (frame, columns) in frames.items():
        assert len(frame), name
        assert dtypes(frame) == columns, name
        for column, dtype in columns.items():
            if "qty" in column or column.startswith("position"):
                assert dtype == "int64", (name, column)  # whole lots, never 4.0
            if column == "price" and name not in ("positions", "pnl", "vwap", "vwap buckets"):
                assert "price_ticks" in columns and columns["price_ticks"] == "int64", name
    fills = cv.fills(cluster)
    # (the first test added a third fill; bob's two come first)
    assert fills["qty"].tolist()[:2] == [10, 2]
    assert fills["price_ticks"].tolist()[:2] == [12347, 12361]
    # The float price is the correctly rounded value of the exact one.
    assert fills["price"].tolist()[:2] == [float(Decimal("123.47")), float(Decimal("123.61"))]


def test_book_frames_match_the_cluster_schema() -> None:
    book = OrderBook(MarketSpec("ACME", tick="0.01"))
    book.place("a", "sell", price="123.47", qty=4)
    book.place("b", "buy", price="123.47", qty=4)
    assert book.fills_df()["qty"].tolist() == [4]
    assert str(book.fills_df()["qty"].dtype) == "int64"
    assert dtypes(book.fills_df()) == cv.FILL_COLUMNS


def test_a_fractional_lot_reads_in_units_in_results_and_in_whole_lots_in_frames() -> None:
    # The decided rule for lot != 1: what a call returns and every text say the quantity as
    # typed (2.5), exactly; frames count whole lots (25), int64, as their schema documents.
    spec = MarketSpec("ACME", tick="0.01", lot="0.1")
    c = ck.Cluster(3, seed=3, storage="memory", market=spec)
    c.place("alice", "sell", price="123.47", qty="2.5")
    r = c.place("bob", "buy", price="123.47", qty="1.5")
    assert r.filled_qty == Decimal("1.5") and r.fills[0].qty_lots == 15
    assert "1.5@123.47" in repr(r)
    (order,) = c.live_orders()
    assert (order.qty, order.qty_lots, order.original_qty) == (Decimal("1.0"), 10, Decimal("2.5"))
    assert "qty=1.0" in repr(order) and not leaks(repr(order))
    assert "place alice sell 2.5 @ 123.47 gtc" in "\n".join(cv.wal(c)["command"])
    assert cv.fills(c)["qty"].tolist() == [15] and cv.live_orders(c)["qty"].tolist() == [10]
