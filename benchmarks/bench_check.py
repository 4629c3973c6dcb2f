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
     "seeds_per_min_per_core": null, "notes": {...}, "machine": {...}}

``seeds_per_min_per_core`` is the campaign throughput; campaigns do not exist yet, so it is
``null`` here and :func:`campaign_section` is where the campaign engineer adds it.

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


def campaign_section(quick: bool) -> dict[str, Any]:
    """Campaign throughput; to be filled in once ``clobkit.check.campaign`` exists."""
    return {
        "seeds_per_min_per_core": None,
        "note": "campaigns are not implemented yet; the campaign engineer fills this in",
    }


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
    args = parser.parse_args(argv)
    rows = checker_section(args.quick)
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
    campaign = campaign_section(args.quick)
    if args.json:
        out = {
            "checker": rows,
            "seeds_per_min_per_core": campaign["seeds_per_min_per_core"],
            "notes": {"campaign": campaign["note"], "quick": args.quick},
            "machine": machine(),
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
