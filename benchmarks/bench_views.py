"""How fast the pandas views build, and how long the dashboard takes per simulated step.

Workload: an order book with N fills (N = 10,000, 100,000 and 1,000,000; ``--quick`` skips
1,000,000), built before timing: 100 makers' users rest sell orders at 50 prices, and every
1,000 resting orders one buy sweeps them all (so each fill has its own maker order, users and
prices vary). Then, per N, interleaved repeats of:

* ``clobkit.views.fills(book)``: numpy over the book's column arrays (the view);
* the per-row reference: ``pandas.DataFrame(book.fills())`` (one Python ``Fill`` object per
  row, what a naive view would do), with the same column count;
* ``clobkit.views.positions(book)`` (two rows per fill, grouped cumulative sums).

Also ``clobkit.views.lag`` over a seeded 3-node cluster's trace (records/s, replay cache
cleared before each repeat), ``clobkit.views.state_at`` on the cached replay, and, if
``clobkit.widgets.Dashboard`` exists, the dashboard's time per ``step`` button click (one
simulator event plus the refresh of its panel and figures) against ``cluster.step()`` alone.

Medians of interleaved repeats in wall-clock time (``time.perf_counter``); 2 noisy cores.
Usage: ``python benchmarks/bench_views.py [--quick] [--json PATH] [--repeats R]``. JSON keys:
``fills_10k_seconds``, ``fills_100k_seconds``, ``fills_1m_seconds`` (null with ``--quick``),
``fills_*_naive_seconds``, ``fills_*_speedup``, ``positions_*_seconds``,
``lag_records_per_second``, ``state_at_cached_seconds``, ``dashboard_step_seconds`` (null if there is no dashboard),
``cluster_step_seconds``.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import pandas as pd

import clobkit.views as cv
from clobkit.book import MarketSpec, OrderBook, Place

SIZES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}
SWEEP = 1_000


def build_book(fills: int) -> OrderBook:
    """A book with exactly ``fills`` fills (see the module doc)."""
    book = OrderBook(MarketSpec("ACME", tick="0.01"))
    apply = book.apply
    seq = 0
    made = 0
    while made < fills:
        batch = min(SWEEP, fills - made)
        for _ in range(batch):
            seq += 1
            price = 10_000 + (seq * 7) % 50
            apply(Place("ACME", f"u{seq % 100}", "sell", price, 1 + seq % 3), seq, seq)
        resting = sum(qty for _, qty, _ in book.depth(60)["asks"])
        seq += 1
        apply(Place("ACME", f"t{seq % 10}", "buy", 10_050, resting), seq, seq)
        made += batch
    assert book.fill_count() == fills, (book.fill_count(), fills)
    return book


def naive_fills(book: OrderBook) -> pd.DataFrame:
    return pd.DataFrame(book.fills())


def timed(fn: Callable[[], Any]) -> float:
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median_pair(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b`` timed alternately (which goes first alternates too)."""
    ta: list[float] = []
    tb: list[float] = []
    for i in range(repeats):
        if i % 2:
            tb.append(timed(b))
            ta.append(timed(a))
        else:
            ta.append(timed(a))
            tb.append(timed(b))
    return statistics.median(ta), statistics.median(tb)


def bench_fills(quick: bool, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, n in SIZES.items():
        if quick and n > 100_000:
            out[f"fills_{key}_seconds"] = None
            print(f"fills {key:>4}: skipped (--quick)")
            continue
        start = time.perf_counter()
        book = build_book(n)
        built = time.perf_counter() - start
        frame = cv.fills(book)
        assert len(frame) == n and list(frame.columns) == list(cv.FILL_COLUMNS)
        reps = repeats if n < 1_000_000 else max(3, repeats // 2)
        view_s, naive_s = median_pair(
            lambda b=book: cv.fills(b), lambda b=book: naive_fills(b), reps
        )
        pos_s = statistics.median(
            timed(lambda b=book: cv.positions(b)) for _ in range(max(3, reps // 2))
        )
        out[f"fills_{key}_seconds"] = view_s
        out[f"fills_{key}_naive_seconds"] = naive_s
        out[f"fills_{key}_speedup"] = naive_s / view_s
        out[f"positions_{key}_seconds"] = pos_s
        print(
            f"fills {key:>4}: view {view_s * 1000:9.1f} ms | per-row reference "
            f"{naive_s * 1000:9.1f} ms | x{naive_s / view_s:6.1f} faster | "
            f"positions {pos_s * 1000:8.1f} ms | (book built in {built:.1f} s)"
        )
        del book, frame
    return out


def bench_lag(quick: bool, repeats: int) -> dict[str, Any]:
    import clobkit as ck

    c = ck.Cluster(nodes=3, seed=1, storage="memory", check=False)
    for i in range(60 if quick else 200):
        c.submit(f"u{i % 8}", "place", side="buy" if i % 2 else "sell", price=100 + i % 5, qty=1)
        c.run(ms=2)
    c.crash("n2")
    c.run(ms=100)
    c.restart("n2")
    c.run(ms=200)
    records = len(c.trace)
    # clobkit.views.lag (the attribute) is the function; the module is in sys.modules.
    lag_module = importlib.import_module("clobkit.views.lag")

    def cold_lag() -> None:
        lag_module._CACHE.clear()  # time the replay itself, not the cache
        cv.lag(c)

    lag_s = statistics.median(timed(cold_lag) for _ in range(repeats))
    cv.state_at(c, 0)
    moments = [c.now_us * i // 50 for i in range(50)]
    state_s = statistics.median(
        timed(lambda: [cv.state_at(c, t) for t in moments]) for _ in range(repeats)
    ) / len(moments)
    msg_s = statistics.median(timed(lambda: cv.messages(c)) for _ in range(repeats))
    print(
        f"lag over {records:,} trace records: {lag_s * 1000:.1f} ms "
        f"({records / lag_s:,.0f} records/s); messages: {msg_s * 1000:.1f} ms; "
        f"state_at on the cached replay: {state_s * 1000:.2f} ms per call"
    )
    return {
        "lag_trace_records": records,
        "lag_seconds": lag_s,
        "lag_records_per_second": records / lag_s,
        "messages_seconds": msg_s,
        "state_at_cached_seconds": state_s,
    }


def bench_dashboard(quick: bool, repeats: int) -> dict[str, Any]:
    """Per-click time of the dashboard's step button, next to a bare cluster step."""
    import clobkit as ck

    try:
        from clobkit.widgets import Dashboard
    except Exception as exc:  # the dashboard is optional here: report, don't fail
        print(f"dashboard step: n/a ({type(exc).__name__}: {exc})")
        return {"dashboard_step_seconds": None, "cluster_step_seconds": None}

    def cluster() -> Any:
        c = ck.Cluster(nodes=3, seed=1, storage="memory")
        for i in range(20):
            c.place("alice" if i % 2 else "bob", "buy" if i % 2 else "sell", price=100, qty=1)
        return c

    clicks = 10 if quick else 40
    dash = Dashboard(cluster())
    bare = cluster()
    dash_t: list[float] = []
    bare_t: list[float] = []
    for _ in range(clicks):
        dash_t.append(timed(dash.step_button.click))
        bare_t.append(timed(bare.step))
    dash.close()
    d, b = statistics.median(dash_t), statistics.median(bare_t)
    print(
        f"dashboard step: {d * 1000:.1f} ms per click (median of {clicks}) | "
        f"bare cluster.step {b * 1000:.3f} ms | refresh share {(d - b) / d:.0%}"
    )
    return {"dashboard_step_seconds": d, "cluster_step_seconds": b}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip 1M fills, fewer repeats")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 7)
    results: dict[str, Any] = {"quick": args.quick, "repeats": repeats}
    results.update(bench_lag(args.quick, repeats))
    results.update(bench_dashboard(args.quick, repeats))
    results.update(bench_fills(args.quick, repeats))
    target = results.get("fills_1m_seconds")
    if target is not None:
        verdict = "met" if target < 0.5 else "NOT met"
        print(f"target: 1,000,000 fills in < 0.5 s: {target:.3f} s, {verdict}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=2, sort_keys=True)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
