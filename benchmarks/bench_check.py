"""Benchmark: linearizability checker time vs history size and concurrency.

Histories come from a simple simulated linearizable register / key-value store: ``c`` clients
issue calls back to back; each call takes effect at a random instant inside its interval
(seeded), writes carry unique values so reads are informative, and a few calls time out
(outcome unknown; half of those still took effect). Every generated history is linearizable,
so the checker must answer "ok"; the figure is how long it takes. Order-book histories (one
market, crossing prices, reads of fills and live orders) are timed too, with a 30 s budget
(10 s with ``--quick``): at high concurrency the book search can run out of it ("unknown").

Prints a table of medians (interleaved repeats) and, with ``--json PATH``, writes::

    {"checker": [{"model", "ops", "concurrency", "median_s", "ops_per_s", "states",
                  "verdict", "repeats"}...],
     "seeds_per_min_per_core", "unknown_fraction", "checker_seconds_per_history_median",
     "campaign": {...}, "cluster_histories": {...}, "time_split": {...}, "notes": {...},
     "machine": {...}}

``seeds_per_min_per_core`` is the campaign throughput (:func:`campaign_section`: full campaign
runs of ~1,000 client calls each, serial and on a process pool; ``--seeds N`` sets how many);
``unknown_fraction`` the share of those runs whose check ended ``unknown``;
``checker_seconds_per_history_median`` the median time of ``check_operations`` on the
histories of such runs, as campaigns call it (hinted: the witness first), measured side by
side with the search alone (``use_hints=False``) on the same histories
(:func:`cluster_history_section`); ``time_split`` says where a seed's CPU goes (simulation,
invariants, reading the history, checker, history digest: :func:`time_split_section`).
``--campaign-only``
skips the synthetic checker table.

Run: ``python benchmarks/bench_check.py [--quick] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from typing import Any

from clobkit.check import Model, Operation, check_operations, kv_model, register_model


def generate(
    model: str, n_ops: int, concurrency: int, seed: int, unknown_rate: float = 0.02
) -> list[Operation]:
    """A linearizable history of ``n_ops`` calls by ``concurrency`` clients (seeded)."""
    rng = random.Random(seed)
    per_client = max(1, n_ops // concurrency)
    plans: list[tuple[int, int, int, int]] = []  # (effect time, call, return, client)
    for c in range(concurrency):
        t = rng.randrange(0, 50)
        for _ in range(per_client):
            effect = t + rng.randrange(1, 100)
            ret = effect + rng.randrange(1, 100)
            plans.append((effect, t, ret, c))
            t = ret + rng.randrange(1, 20)
    plans.sort()
    keys = [f"k{i}" for i in range(8)]
    store: dict[str, int] = {}
    next_value = 1
    ops: list[Operation] = []
    for _effect, call, ret, c in plans:
        key = "r" if model == "register" else rng.choice(keys)
        unknown = rng.random() < unknown_rate
        applied = not unknown or rng.random() < 0.5
        if rng.random() < 0.5:
            value, next_value = next_value, next_value + 1
            inp: tuple[Any, ...] = ("w", value) if model == "register" else ("put", key, value)
            if applied:
                store[key] = value
            out = None
        else:
            inp = ("r", None) if model == "register" else ("get", key, None)
            out = store.get(key, 0 if model == "register" else None)
        ops.append(Operation(c, inp, call, None if unknown else out, None if unknown else ret))
    ops.sort(key=lambda o: (o.call, str(o.client_id)))
    return ops


def generate_book(
    n_ops: int, concurrency: int, seed: int, unknown_rate: float = 0.02
) -> list[Operation]:
    """A linearizable order-book history: one market, auto ids, ~60% writes, some timeouts."""
    from clobkit.book import Cancel, MarketSpec, OrderBook, Place
    from clobkit.check.book_model import fills_output, orders_output, write_output

    rng = random.Random(seed)
    book = OrderBook(MarketSpec("ACME"))
    per_client = max(1, n_ops // concurrency)
    plans: list[tuple[int, int, int, int]] = []
    for c in range(concurrency):
        t = rng.randrange(0, 50)
        for _ in range(per_client):
            effect = t + rng.randrange(1, 100)
            ret = effect + rng.randrange(1, 100)
            plans.append((effect, t, ret, c))
            t = ret + rng.randrange(1, 20)
    plans.sort()
    mine: dict[str, list[int]] = {}
    ops: list[Operation] = []
    seq = 0
    for _effect, call, ret, c in plans:
        user = f"u{c}"
        roll = rng.random()
        unknown = rng.random() < unknown_rate
        if roll < 0.5 or (roll < 0.6 and not mine.get(user)):
            side = rng.choice(["buy", "sell"])
            inp: tuple[Any, ...] = (
                "place",
                "ACME",
                user,
                side,
                rng.randint(95, 105),
                rng.randint(1, 5),
            )
            seq += 1
            result = book.apply(Place("ACME", user, side, inp[4], inp[5]), seq=seq, ts_us=seq)
            out: Any = write_output(result)
            if result.resting_qty and not unknown:
                mine.setdefault(user, []).append(result.order_id or 0)
        elif roll < 0.6:
            oid = rng.choice(mine[user])
            inp = ("cancel", "ACME", user, oid)
            seq += 1
            out = write_output(book.apply(Cancel("ACME", user, oid), seq=seq, ts_us=seq))
        elif roll < 0.8:
            inp = ("fills", "ACME", user)
            out = fills_output(book.fills(user=user))
        else:
            inp = ("orders", "ACME", user)
            out = orders_output(book.live_orders(user=user))
        ops.append(Operation(c, inp, call, None if unknown else out, None if unknown else ret))
    ops.sort(key=lambda o: (o.call, str(o.client_id)))
    return ops


MODELS: dict[str, Model] = {"register": register_model(), "kv": kv_model()}


def checker_section(quick: bool) -> list[dict[str, Any]]:
    sizes = [100, 1000] if quick else [100, 1000, 10000]
    concurrencies = [2, 5, 10]
    repeats = 3 if quick else 5
    from clobkit.book import MarketSpec
    from clobkit.check import book_model

    models: dict[str, Model] = dict(MODELS)
    cases = [(m, n, c) for m in MODELS for n in sizes for c in concurrencies]
    book_sizes = [100] if quick else [100, 1000]
    cases += [("book", n, c) for n in book_sizes for c in concurrencies]
    histories = {
        case: generate_book(case[1], case[2], seed=hash_seed(case))
        if case[0] == "book"
        else generate(*case, seed=hash_seed(case))
        for case in cases
    }
    times: dict[tuple[str, int, int], list[float]] = {case: [] for case in cases}
    states: dict[tuple[str, int, int], int] = {}
    verdicts: dict[tuple[str, int, int], str] = {}
    for _ in range(repeats):  # interleaved: each repeat visits every case once
        for case in cases:
            if verdicts.get(case) == "unknown":
                continue  # out of budget once: do not burn the budget again
            # A fresh book model per run: its step cache would otherwise make repeats free.
            model = book_model(MarketSpec("ACME")) if case[0] == "book" else models[case[0]]
            # The book search can outgrow any budget at high concurrency (see README); the
            # register and kv ones must finish.
            timeout = (10 if quick else 30) if case[0] == "book" else 120
            t0 = time.perf_counter()
            result = check_operations(model, histories[case], timeout_s=timeout, max_states=10**7)
            times[case].append(time.perf_counter() - t0)
            assert result.verdict in ("ok", "unknown"), (case, result)
            assert result.verdict == "ok" or case[0] == "book", (case, result)
            states[case] = result.states_explored
            verdicts[case] = result.verdict
    rows = []
    for case in cases:
        med = statistics.median(times[case])
        rows.append(
            {
                "model": case[0],
                "ops": len(histories[case]),
                "concurrency": case[2],
                "median_s": round(med, 6),
                "ops_per_s": round(len(histories[case]) / med),
                "states": states[case],
                "verdict": verdicts[case],
                "repeats": len(times[case]),
            }
        )
    return rows


def hash_seed(case: tuple[str, int, int]) -> int:
    """A stable seed per case (not ``hash()``, which is randomised per process)."""
    model, n, c = case
    return (len(model) * 1_000_003 + n * 101 + c) % 2**31


def campaign_section(quick: bool, seeds: int | None = None) -> dict[str, Any]:
    """Campaign throughput: seeds per minute per core at ~1,000 client calls per seed, serial
    and on a 2-process pool (same seeds; the frames must be equal except wall time).

    Each seed is a full campaign run (``clobkit.check.campaign``): 3 nodes, 4 users making
    1,000 calls over a 1.5 s window of random faults, heal, settle, invariants, checker.
    ``seeds`` overrides how many (the long run: ``--seeds 10000``, pool only).
    """
    import os
    from concurrent.futures import ProcessPoolExecutor

    from clobkit.check.campaigns import campaign

    ops = 1000
    workers = min(2, os.cpu_count() or 1)
    n = seeds if seeds is not None else (4 if quick else 24)
    seed_list = list(range(n))
    long_run = seeds is not None and seeds > 100
    serial_s = serial_cpu_s = None
    # The campaign frame is built with pandas, imported on first use: ~0.25 s of CPU once
    # per process, which the serial figure counted as if it were per-seed work (with the 4
    # seeds of --quick, 0.06 s per seed). The pool's workers never import it.
    import pandas  # noqa: F401

    t0, c0 = time.perf_counter(), time.process_time()
    if not long_run:
        serial = campaign(seed_list, ops=ops, progress=False)
        serial_s, serial_cpu_s = time.perf_counter() - t0, time.process_time() - c0
    t0, k0 = time.perf_counter(), os.times()
    with ProcessPoolExecutor(workers) as pool:
        pooled = campaign(seed_list, ops=ops, progress=False, executor=pool)
    pool_s = time.perf_counter() - t0
    k1 = os.times()  # the pool's workers were joined: their CPU time is in children_*
    pool_cpu_s = (k1.children_user - k0.children_user) + (k1.children_system - k0.children_system)
    if serial_s is not None:
        same = serial.drop(columns=["wall_time_s"]).equals(pooled.drop(columns=["wall_time_s"]))
        assert same, "serial and process-pool campaign frames differ"
    verdicts = pooled.verdict.value_counts().to_dict()
    # Per core = per CPU-second actually spent: on a shared, loaded machine wall time would
    # also count the time other processes held the cores.
    cpu_s = serial_cpu_s if serial_cpu_s is not None else pool_cpu_s
    per_core = n / (cpu_s / 60)
    out = {
        "seeds": n,
        "ops_per_seed_median": int(pooled.ops.median()),
        "faults_per_seed_median": float(pooled.faults.median()),
        "seed_wall_s_median": round(float(pooled.wall_time_s.median()), 3),
        "serial_s": None if serial_s is None else round(serial_s, 2),
        "pool_s": round(pool_s, 2),
        "pool_workers": workers,
        "pool_speedup": None if serial_s is None else round(serial_s / pool_s, 2),
        "seeds_per_min_per_core": round(per_core, 1),
        "serial_cpu_s": None if serial_cpu_s is None else round(serial_cpu_s, 2),
        "pool_cpu_s": round(pool_cpu_s, 2),
        "seeds_per_min_per_core_wall": None if serial_s is None else round(n / (serial_s / 60), 1),
        "seeds_per_min_pool": round(n / (pool_s / 60), 1),
        "verdicts": {str(k): int(v) for k, v in verdicts.items()},
        "unknown_fraction": round(int(verdicts.get("unknown", 0)) / n, 4),
        "checker_states_median": int(pooled.states.median()),
    }
    print(
        f"campaign: {n} seeds x ~{out['ops_per_seed_median']} calls, "
        f"{out['faults_per_seed_median']:g} faults/seed (median); verdicts {out['verdicts']}"
    )
    if serial_s is not None:
        print(
            f"campaign: serial {serial_s:.1f} s wall, {serial_cpu_s:.1f} s CPU = "
            f"{per_core:.1f} seeds/min/core (CPU); "
            f"{workers}-process pool {pool_s:.1f} s = {out['seeds_per_min_pool']} seeds/min; "
            f"speed-up {serial_s / pool_s:.2f}x"
        )
    else:
        print(
            f"campaign: {workers}-process pool {pool_s:.1f} s = {out['seeds_per_min_pool']} "
            f"seeds/min ({per_core:.1f} seeds/min/core)"
        )
    out["note"] = (
        "campaign of seeds 0..N-1, ops=1000, 4 users, default faults; seeds_per_min_per_core "
        "= seeds per CPU-minute of the serial run (of the pool's workers for --seeds > 100)"
    )
    return out


def cluster_history_section(quick: bool) -> dict[str, Any]:
    """Checker time on real campaign histories (1,000 calls, safe defaults, random faults):
    ``check_operations`` as campaigns call it (hints first) and the search alone, same
    histories, same budget (10,000 states, as campaigns), interleaved per history."""
    from clobkit.check.book_model import book_model
    from clobkit.check.campaigns import RunOptions, _execute
    from clobkit.check.history import History

    seeds = range(100, 102) if quick else range(100, 112)
    hinted_s: list[float] = []
    search_s: list[float] = []
    search_verdicts: dict[str, int] = {}
    hinted_verdicts: dict[str, int] = {}
    hinted_parts = 0
    for seed in seeds:
        run = _execute(seed, RunOptions(ops=1000), trace=False)
        assert run.cluster is not None
        ops = History.from_client_history(run.cluster.history).operations()
        model_spec = run.cluster.market
        run.cluster.close()
        for use_hints in (True, False):
            model = book_model(model_spec)  # fresh: no step cache carried over
            t0 = time.perf_counter()
            result = check_operations(
                model, ops, timeout_s=120, max_states=10_000, use_hints=use_hints
            )
            elapsed = time.perf_counter() - t0
            (hinted_s if use_hints else search_s).append(elapsed)
            counts = hinted_verdicts if use_hints else search_verdicts
            counts[result.verdict] = counts.get(result.verdict, 0) + 1
            if use_hints:
                hinted_parts += result.hinted_parts
    out = {
        "histories": len(seeds),
        "checker_seconds_per_history_median": round(statistics.median(hinted_s), 4),
        "search_only_seconds_per_history_median": round(statistics.median(search_s), 4),
        "speedup_median": round(statistics.median(search_s) / statistics.median(hinted_s), 1),
        "verdicts_hinted": hinted_verdicts,
        "verdicts_search_only": search_verdicts,
        "settled_by_hints": hinted_parts,
    }
    print(
        f"cluster histories: {len(seeds)} x 1,000 calls; check_operations median "
        f"{out['checker_seconds_per_history_median']} s (hints first, {hinted_verdicts}) vs "
        f"{out['search_only_seconds_per_history_median']} s search only ({search_verdicts}); "
        f"{out['speedup_median']}x"
    )
    return out


def time_split_section(quick: bool) -> dict[str, Any]:
    """Where a campaign seed's CPU goes: the steps of ``campaigns._execute`` timed one by one
    (CPU time, seeds 0..k-1 at 1,000 calls): building the cluster, running the simulation
    (faults, heal, settle; the live invariant observers included), the end-of-run
    invariants, reading the history into the checker's form
    (``History.from_client_history(...).operations()``, as campaigns do), the checker, and
    the history digest (``ClientHistory.digest()``: writing the JSON lines and hashing)."""
    from clobkit.check.campaigns import RunOptions
    from clobkit.sim.world import collecting_less_often

    options = RunOptions(ops=1000)
    parts = dict.fromkeys(
        ("build", "simulation", "invariants", "history", "checker", "digest"), 0.0
    )
    seeds = range(2 if quick else 6)
    for seed in seeds:
        with collecting_less_often():  # (as campaigns._judge runs a seed)
            _time_split_seed(seed, options, parts)
    total = sum(parts.values())
    out = {
        "seeds": len(seeds),
        "cpu_s_per_seed": {k: round(v / len(seeds), 4) for k, v in parts.items()},
        "share": {k: round(v / total, 3) for k, v in parts.items()},
    }
    print(
        "where a 1,000-call seed's CPU goes: "
        + ", ".join(f"{k} {100 * v:.1f}%" for k, v in out["share"].items())
        + f" of {total / len(seeds):.2f} s"
    )
    return out


def _time_split_seed(seed: int, options: Any, parts: dict[str, float]) -> None:
    """One seed of :func:`time_split_section`, its parts added to ``parts``."""
    from clobkit.check.book_model import book_model
    from clobkit.check.campaigns import _build, _run_to_end, check_invariants
    from clobkit.check.history import History

    t = time.process_time()
    c, live = _build(seed, options, trace=False)[:2]
    parts["build"] += time.process_time() - t
    t = time.process_time()
    _run_to_end(options)(c)
    parts["simulation"] += time.process_time() - t
    t = time.process_time()
    check_invariants(c, live)
    parts["invariants"] += time.process_time() - t
    t = time.process_time()
    ops = History.from_client_history(c.history).operations()
    parts["history"] += time.process_time() - t
    t = time.process_time()
    check_operations(book_model(c.market), ops, timeout_s=60, max_states=10_000)
    parts["checker"] += time.process_time() - t
    t = time.process_time()
    c.history.digest()
    parts["digest"] += time.process_time() - t
    c.close()


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return {"python": platform.python_version(), "cpu": cpu, "nproc": os.cpu_count()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, whole run < 60 s")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument(
        "--seeds", type=int, default=None, help="campaign seeds (default 24; 4 with --quick)"
    )
    parser.add_argument(
        "--campaign-only", action="store_true", help="skip the synthetic checker table"
    )
    args = parser.parse_args(argv)
    rows = [] if args.campaign_only else checker_section(args.quick)
    print(
        f"{'model':<9} {'ops':>6} {'conc':>4} {'median s':>10} {'ops/s':>9} {'states':>8} verdict"
    )
    for r in rows:
        print(
            f"{r['model']:<9} {r['ops']:>6} {r['concurrency']:>4} {r['median_s']:>10.4f} "
            f"{r['ops_per_s']:>9} {r['states']:>8} {r['verdict']}"
        )
    # Ratios side by side: cost per op at concurrency 10 vs 2, same size and model.
    by = {(r["model"], r["ops"], r["concurrency"]): r for r in rows}
    for model in [*MODELS, "book"]:
        for n in sorted({r["ops"] for r in rows if r["model"] == model}):
            lo, hi = by.get((model, n, 2)), by.get((model, n, 10))
            if lo and hi:
                print(
                    f"{model} {n} ops: time at concurrency 10 / 2 = {hi['median_s'] / lo['median_s']:.2f}x"
                )
    histories = cluster_history_section(args.quick)
    split = time_split_section(args.quick)
    campaign = campaign_section(args.quick, args.seeds)
    if args.json:
        out = {
            "checker": rows,
            "seeds_per_min_per_core": campaign["seeds_per_min_per_core"],
            "unknown_fraction": campaign["unknown_fraction"],
            "checker_seconds_per_history_median": histories["checker_seconds_per_history_median"],
            "campaign": {k: v for k, v in campaign.items() if k != "note"},
            "cluster_histories": histories,
            "time_split": split,
            "notes": {"campaign": campaign["note"], "quick": args.quick},
            "machine": machine(),
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
