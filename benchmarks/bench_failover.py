"""Benchmark: downtime. How long writes cannot commit, and view changes nobody needed.

Everything is simulated time in a :class:`clobkit.sim.Cluster` (memory disks, default
timeouts and network: one-way latency 0.5-1.5 ms, sync 1 ms), so the figures are exact for a
seed and the wall clock only decides how long the run takes. For each seed:

* **failover**: a warmed-up cluster (3 and 5 nodes) loses its primary (``crash``) at a
  seeded moment between heartbeats; a client submits a write at that instant. The figure is
  crash -> that write acknowledged. ``failover_over_detection`` divides the median by the
  protocol's floor: the configured detection timeout (``view_change_timeout_us_min``) plus one
  round trip (2 x the mean one-way latency, 1 ms) plus one sync (1 ms).
* **rejoin**: one backup is isolated for 3 s, then healed, and a client writes right at the
  heal, back to back for 300 ms. ``rejoin_view_changes`` is how far the cluster's highest view moved between just
  before the isolation and after the write (the primary never failed, so 0 is the goal);
  ``rejoin_extra_ms`` is the slowest of those writes' latency minus the median latency of a healthy write
  measured on the same seed just before the isolation.
* **paused primary**: the primary is paused for 3 s (the others fail over), resumed, and a
  client writes from the resume on, back to back for 300 ms: ``pause_view_changes`` counts view changes *after* the
  failover the pause caused (0 is the goal), ``pause_extra_ms`` the slowest write's extra latency.

Run with ``--prevote off`` to measure the old behaviour (``config={"prevote": False}``) on
the same seeds. ``--quick`` (< 60 s) uses 50 seeds per size; ``--json PATH`` writes every
figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clobkit.sim import Cluster

ONE_WAY_MEAN_US = 1_000  # the Cluster default: uniform 500-1500 us
SYNC_US = 1_000  # the Cluster default sync_latency_us


def _config(prevote: bool) -> dict[str, Any]:
    return {} if prevote else {"prevote": False}


def _cluster(nodes: int, seed: int, prevote: bool) -> Cluster:
    return Cluster(
        nodes, seed=seed, storage="memory", trace=False, check=False, config=_config(prevote)
    )


def _write_ms(c: Cluster, user: str, price: str) -> float:
    """Submit one write now, run until it is answered; its latency in simulated ms."""
    start = c.now_us
    call = c.submit(user, "place", side="buy", price=price, qty=1, timeout_ms=10_000)
    c.run(until=lambda _c: call.outcome != "pending")
    assert call.outcome == "ok", (call.outcome, call.error)
    assert call.return_us is not None
    return (call.return_us - start) / 1000


def _worst_write_ms(c: Cluster, span_ms: float) -> float:
    """Sequential writes for ``span_ms`` of simulated time; the slowest one's latency."""
    end = c.now_us + int(span_ms * 1000)
    worst = 0.0
    i = 0
    while c.now_us < end:
        worst = max(worst, _write_ms(c, "alice", f"{80 + i % 10}"))
        i += 1
    return worst


def _views(c: Cluster) -> int:
    return max((n.view or 0) for n in c.nodes.values())


def _warm(c: Cluster, seed: int) -> float:
    """A few healthy writes; returns their median latency (ms)."""
    lat = [_write_ms(c, "warm", f"{90 + i}") for i in range(5)]
    # a seeded phase relative to the heartbeat (20 ms) before the fault
    c.run(us=100_000 + (seed * 7919) % 20_000)
    return statistics.median(lat)


def failover_ms(nodes: int, seed: int, prevote: bool) -> float:
    c = _cluster(nodes, seed, prevote)
    try:
        _warm(c, seed)
        primary = c.primary
        assert primary is not None
        crashed_at = c.now_us
        c.crash(primary)
        call = c.submit("alice", "place", side="buy", price="99", qty=1, timeout_ms=10_000)
        c.run(until=lambda _c: call.outcome != "pending")
        assert call.outcome == "ok", (call.outcome, call.error)
        assert call.return_us is not None
        return (call.return_us - crashed_at) / 1000
    finally:
        c.close()


def rejoin(nodes: int, seed: int, prevote: bool) -> tuple[int, float]:
    """(view changes, extra ms) for an isolated backup healed after 3 s."""
    c = _cluster(nodes, seed, prevote)
    try:
        healthy = _warm(c, seed)
        primary = c.primary
        backup = next(n for n in c.nodes if n != primary)
        before = _views(c)
        c.isolate(backup)
        c.run(ms=3_000)
        c.heal()
        latency = _worst_write_ms(c, 300)
        c.run(ms=500)  # let anything the rejoin sets off play out
        return _views(c) - before, latency - healthy
    finally:
        c.close()


def paused_primary(nodes: int, seed: int, prevote: bool) -> tuple[int, float]:
    """(view changes after the failover, extra ms) for a primary paused 3 s and resumed."""
    c = _cluster(nodes, seed, prevote)
    try:
        healthy = _warm(c, seed)
        primary = c.primary
        assert primary is not None
        c.pause(primary)
        c.run(ms=3_000)
        before = _views(c)  # the failover the pause caused is done by now
        c.resume(primary)
        latency = _worst_write_ms(c, 300)
        c.run(ms=500)
        return _views(c) - before, latency - healthy
    finally:
        c.close()


def measure(seeds: int, prevote: bool, sizes: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": seeds, "prevote": prevote}
    probe = _cluster(3, 0, prevote)
    floor_ms = (probe.config.view_change_timeout_us_min + 2 * ONE_WAY_MEAN_US + SYNC_US) / 1000
    probe.close()
    out["floor_ms"] = floor_ms
    all_failover: list[float] = []
    rejoin_vc: list[int] = []
    rejoin_extra: list[float] = []
    pause_vc: list[int] = []
    pause_extra: list[float] = []
    for nodes in sizes:
        fo = [failover_ms(nodes, s, prevote) for s in range(seeds)]
        rj = [rejoin(nodes, s, prevote) for s in range(seeds)]
        pp = [paused_primary(nodes, s, prevote) for s in range(seeds)]
        all_failover += fo
        rejoin_vc += [v for v, _ in rj]
        rejoin_extra += [e for _, e in rj]
        pause_vc += [v for v, _ in pp]
        pause_extra += [e for _, e in pp]
        out[f"n{nodes}"] = {
            "failover_ms_median": statistics.median(fo),
            "failover_ms_min": min(fo),
            "failover_ms_max": max(fo),
            "rejoin_view_changes_median": statistics.median(v for v, _ in rj),
            "rejoin_view_changes_max": max(v for v, _ in rj),
            "rejoin_extra_ms_median": statistics.median(e for _, e in rj),
            "rejoin_extra_ms_max": max(e for _, e in rj),
            "pause_view_changes_median": statistics.median(v for v, _ in pp),
            "pause_view_changes_max": max(v for v, _ in pp),
            "pause_extra_ms_median": statistics.median(e for _, e in pp),
            "pause_extra_ms_max": max(e for _, e in pp),
        }
    out["failover_ms_median"] = statistics.median(all_failover)
    out["failover_over_detection"] = out["failover_ms_median"] / floor_ms
    out["rejoin_view_changes"] = statistics.median(rejoin_vc)
    out["rejoin_view_changes_max"] = max(rejoin_vc)
    out["rejoin_extra_ms"] = statistics.median(rejoin_extra)
    out["pause_view_changes"] = statistics.median(pause_vc)
    out["pause_view_changes_max"] = max(pause_vc)
    out["pause_extra_ms"] = statistics.median(pause_extra)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="50 seeds per size (< 60 s)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per size")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    parser.add_argument(
        "--prevote", choices=("on", "off", "both"), default="both", help="which behaviour"
    )
    args = parser.parse_args(argv)
    seeds = args.seeds or (50 if args.quick else 200)
    started = time.perf_counter()
    modes = {"on": [True], "off": [False], "both": [False, True]}[args.prevote]
    results: dict[str, Any] = {}
    for prevote in modes:
        r = measure(seeds, prevote, (3, 5))
        results["default" if prevote else "prevote_off"] = r
    main_result = results.get("default") or results["prevote_off"]
    keys = (
        "failover_ms_median",
        "failover_over_detection",
        "rejoin_view_changes",
        "rejoin_extra_ms",
        "pause_view_changes",
        "pause_extra_ms",
    )
    figures: dict[str, Any] = {k: main_result[k] for k in keys}
    figures["floor_ms"] = main_result["floor_ms"]
    figures["modes"] = results
    figures["wall_s"] = round(time.perf_counter() - started, 1)
    print(f"seeds per size: {seeds}; sizes 3 and 5; simulated ms; floor {figures['floor_ms']} ms")
    header = f"{'figure':28}" + "".join(f"{name:>14}" for name in results)
    print(header)
    for k in keys:
        print(f"{k:28}" + "".join(f"{r[k]:>14.3f}" for r in results.values()))
    for nodes in (3, 5):
        for k in ("failover_ms_median", "rejoin_extra_ms_median", "rejoin_view_changes_max"):
            name = f"n{nodes} {k}"
            print(f"{name:28}" + "".join(f"{r[f'n{nodes}'][k]:>14.3f}" for r in results.values()))
    print(f"wall clock: {figures['wall_s']} s")
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
