"""Benchmark: the safety evidence. Seeded campaigns through the public ``ck.campaign``.

Two parts:

1. **Safe configurations.** ``ck.campaign(seeds=range(N), nodes=n, read_mode=m,
   storage=s)`` with the default swarm nemesis (every fault kind; each seed draws its own
   subset, pace and read-heavy phases), for nodes 3 and 5, read modes ``quorum`` and
   ``primary``, memory and file storage. Every run must end ``ok`` (or ``unknown``, a
   checker budget; never counted as ok): any ``illegal``, ``violation`` or ``error`` is a
   finding, printed with its ``ck.replay(...)`` line. Runs whose schedule went beyond ``f``
   faulty replicas (``beyond_f``) are counted apart; they too must never be wrong.
2. **Unsafe switches** (``--switches``). With each unsafe switch on (and with
   ``read_mode="quorum-highest-seq"``), the verdict of seeds ``0..N+tail``; for each start
   seed ``s < N``, the number of seeds a campaign starting at ``s`` runs until its first
   catch (illegal or violation). Reports the median and the worst.

JSON (``--json PATH``)::

    {"safe": [{"nodes", "read_mode", "storage", "seeds", "ok", "unknown", "illegal",
               "violation", "error", "beyond_f", "wall_s", "seeds_per_min", "findings"}...],
     "safe_seeds_total", "safe_failures_total",
     "switches": [{"switch", "read_mode", "seeds_run", "caught", "median_seeds_to_catch",
                   "max_seeds_to_catch"}...],
     "machine": {...}}

Run: ``python benchmarks/bench_campaign.py [--quick] [--seeds N] [--switches]
[--switch-seeds N] [--json PATH]``. ``--quick`` (< 60 s): 3 seeds per safe configuration, no
switches.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from typing import Any

import clobkit as ck
from clobkit.check.campaigns import RunOptions, run_seed

CONFIGS = [
    (nodes, mode, storage)
    for nodes in (3, 5)
    for mode in ("quorum", "primary")
    for storage in ("memory", "file")
]
SWITCHES = [
    ("no_fencing", "quorum"),
    ("own_wal_failover", "quorum"),
    ("learner_votes", "quorum"),
    ("ack_before_fsync", "quorum"),
    ("no_dedup", "quorum"),
    ("apply_before_commit", "quorum"),
    (None, "quorum-highest-seq"),
    ("truncate_corrupt", "quorum"),
    # Not required within 20 seeds (their staged scenarios S12/S13 cover them): measured to
    # say how rare they are at random.
    ("no_write_back", "quorum"),
    ("no_leader_check", "primary"),
]


def safe_section(seeds: int) -> list[dict[str, Any]]:
    """One public ``ck.campaign`` per safe configuration; counts per verdict."""
    rows = []
    for nodes, mode, storage in CONFIGS:
        t0 = time.perf_counter()
        df = ck.campaign(
            seeds=range(seeds), nodes=nodes, read_mode=mode, storage=storage, progress=False
        )
        wall = time.perf_counter() - t0
        counts = df.verdict.value_counts().to_dict()
        bad = df[df.verdict.isin(["illegal", "violation", "error"])]
        row = {
            "nodes": nodes,
            "read_mode": mode,
            "storage": storage,
            "seeds": seeds,
            **{v: int(counts.get(v, 0)) for v in ("ok", "unknown", "illegal", "violation")},
            "error": int(counts.get("error", 0)),
            "beyond_f": int(df.beyond_f.sum()),
            "wall_s": round(wall, 1),
            "seeds_per_min": round(60 * seeds / wall, 1),
            "findings": [f"{r.verdict}: {r.repro} {r.first_violation}" for r in bad.itertuples()],
        }
        rows.append(row)
        print(
            f"nodes={nodes} {mode:<8} {storage:<6} seeds={seeds:>5} ok={row['ok']:>5} "
            f"unknown={row['unknown']:>3} illegal={row['illegal']} violation={row['violation']} "
            f"error={row['error']} beyond_f={row['beyond_f']:>3} {row['seeds_per_min']:>6} "
            f"seeds/min",
            flush=True,
        )
        for line in row["findings"]:
            print("   ", line, flush=True)
    return rows


def seeds_to_catch(caught: list[bool], starts: int) -> list[int]:
    """For each start seed below ``starts``: how many seeds until the first catch."""
    out = []
    for s in range(starts):
        k = next((i for i in range(s, len(caught)) if caught[i]), None)
        if k is None:
            break
        out.append(k - s + 1)
    return out


def _verdict(seed: int, options: RunOptions) -> str:
    return str(run_seed(seed, options)["verdict"])


def switch_section(
    starts: int, only: list[str] | None = None, workers: int = 1
) -> list[dict[str, Any]]:
    """Per switch (``only``: the named ones; ``"-"`` is the read mode alone), the verdicts of
    seeds ``0..starts-1`` and on until one more catch closes the tail, on ``workers``
    processes (the verdicts do not depend on how many)."""
    from concurrent.futures import ProcessPoolExecutor

    rows = []
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    for switch, mode in SWITCHES:
        if only and (switch or "-") not in only:
            continue
        options = RunOptions(unsafe=(switch,) if switch else (), read_mode=mode)
        caught: list[bool] = []
        seed = 0
        t0 = time.perf_counter()
        # Verdicts for seeds 0..starts-1, then on until one more catch closes the tail.
        while seed < starts or not any(caught[starts - 1 :]):
            batch = range(seed, seed + (max(starts - seed, 1) if seed < starts else workers))
            if pool is None:
                verdicts = [_verdict(s, options) for s in batch]
            else:
                verdicts = list(pool.map(_verdict, batch, [options] * len(batch)))
            caught.extend(v in ("illegal", "violation") for v in verdicts)
            seed += len(batch)
            if seed > starts + 200:
                break
        distances = seeds_to_catch(caught, starts)
        row = {
            "switch": switch or "-",
            "read_mode": mode,
            "seeds_run": len(caught),
            "caught": sum(caught),
            "median_seeds_to_catch": statistics.median(distances) if distances else None,
            "max_seeds_to_catch": max(distances) if distances else None,
            "wall_s": round(time.perf_counter() - t0, 1),
        }
        rows.append(row)
        print(
            f"{row['switch']:<20} {mode:<19} caught {row['caught']:>3}/{row['seeds_run']:<4} "
            f"median seeds to first catch {row['median_seeds_to_catch']}, "
            f"worst {row['max_seeds_to_catch']}",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds per config, < 60 s")
    parser.add_argument("--seeds", type=int, default=200, help="seeds per safe configuration")
    parser.add_argument("--switches", action="store_true", help="also measure the switches")
    parser.add_argument("--switch-seeds", type=int, default=100, help="start seeds per switch")
    parser.add_argument(
        "--switch",
        action="append",
        metavar="NAME",
        help="measure only this switch (repeatable; '-' is quorum-highest-seq alone): chunks",
    )
    parser.add_argument("--workers", type=int, default=1, help="processes for the switch seeds")
    parser.add_argument(
        "--no-safe", action="store_true", help="skip the safe configurations (switches only)"
    )
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    args = parser.parse_args()
    seeds = 3 if args.quick else args.seeds
    safe = [] if args.no_safe else safe_section(seeds)
    switches = (
        switch_section(args.switch_seeds, args.switch, args.workers)
        if args.switches and not args.quick
        else []
    )
    failures = sum(r["illegal"] + r["violation"] + r["error"] for r in safe)
    print(f"safe: {sum(r['seeds'] for r in safe)} seeds, {failures} illegal/violation/error")
    if args.json:
        result = {
            "safe": safe,
            "safe_seeds_total": sum(r["seeds"] for r in safe),
            "safe_failures_total": failures,
            "switches": switches,
            "machine": {
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
            },
        }
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
