"""The witness check of a real cluster's history: the sequential replay against stepping the model.

``ProcessCluster.check()`` verifies the order the cluster claims (``clobkit.proc.witness``)
before any search. Measured side by side in one run, on histories shaped like notebook 09's
(six clients each keeping one buy in flight at three prices, so every order rests and the
book grows with the history; a live-orders read and a depth read every 200 calls; true
claims and the committed log, as a closed cluster has them), for each size:

* ``check_with_witness``: what ``ProcessCluster.check()`` runs after ``close()``
  (build the claimed order, then ``verify_order``'s replay on one mutable book);
* ``verify_order``: the replay alone (the internal path);
* ``step``: the previous verification, ``Model.step`` along the same order, the search's
  step, which snapshots the resting book and computes its memo key at every step: O(live
  orders) per call, so quadratic in the history. Timed once per size, and only up to
  ``--step-max`` calls (it takes minutes beyond).

Then ``ProcessCluster.check()`` itself, through the public API, after a real 3-process run
with notebook 09's workload (``--seconds`` of load): its time and the number of calls.

Each figure is the median of ``--repeats`` interleaved runs (process CPU time and wall time);
``step_over_replay`` is the step path's CPU time over ``check_with_witness``'s.

JSON keys (``--json PATH``): ``sizes``, and per size ``witness_check_cpu_s``,
``verify_order_cpu_s``, ``step_cpu_s`` (null when skipped), ``step_over_replay``; then
``process_cluster_calls``, ``process_cluster_check_s``, ``process_cluster_check_cpu_s``.

Usage: ``python benchmarks/bench_witness.py [--quick] [--json PATH] [--repeats R]``
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

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from clobkit.book import MarketSpec, OrderBook, Place, encode_command
from clobkit.book.records import command_input, depth_output, orders_output, write_output
from clobkit.check.book_model import book_model
from clobkit.check.checker import verify_order
from clobkit.check.model import UNKNOWN_OUTPUT
from clobkit.proc.witness import check_with_witness, witness_order
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.sim.history import ClientHistory

SPEC = MarketSpec("ACME", tick="0.01", lot=1)
CLIENTS = 6
PRICES = (9950, 9975, 10000)  # 99.50, 99.75, 100.00 in ticks, as in notebook 09
READ_EVERY = 200


def synthetic(calls: int) -> tuple[Any, ...]:
    """A linearizable history of ``calls`` calls, its true claims and committed log."""
    book = OrderBook(SPEC)
    h = ClientHistory(SPEC)
    payloads: dict[int, bytes] = {}
    positions: dict[int, int] = {}
    log = []
    op = 0
    for k in range(calls):
        t = 100 * k
        if k % READ_EVERY == READ_EVERY - 1:
            kind = "orders" if (k // READ_EVERY) % 2 else "depth"
            inp: tuple[Any, ...] = ("orders", "ACME", None) if kind == "orders" else (
                "depth", "ACME", 10
            )  # fmt: skip
            seen = (
                orders_output(book.live_orders())
                if kind == "orders"
                else depth_output(book.depth(10))
            )
            i = h.invoke("reader", inp, t)
            h.complete(i, "ok", seen, t + 50)
            positions[i] = op
            continue
        op += 1
        user = f"c{k % CLIENTS}"
        command = Place("ACME", user, "buy", PRICES[k % len(PRICES)], 1 + k % 3)
        out = write_output(book.apply(command, seq=op, ts_us=op))
        # Each client's call overlaps the next five clients' calls (one in flight each).
        i = h.invoke(user, command_input(command), t)
        h.complete(i, "ok", out, t + 100 * CLIENTS - 50)
        payloads[i] = encode_command(command)
        positions[i] = op
        log.append((op, 0, encode_envelope(Envelope(user, 1 + k // CLIENTS, op, payloads[i]))))
    return h, positions, log, payloads


def timed(fn: Any) -> tuple[float, float, Any]:
    """(CPU s, wall s, result) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = fn()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def step_path(h: Any, positions: Any, log: Any, payloads: Any) -> bool:
    """The previous verification: the search's ``Model.step`` along the claimed order."""
    model = book_model(SPEC)
    ops = h.to_check_history().operations()
    order, why = witness_order(h, positions, log, payloads)
    assert order and not why
    state = model.init()
    for k in order:
        op = ops[k]
        legal, state = model.step(state, op.input, UNKNOWN_OUTPUT if op.unknown else op.output)
        if not legal:
            return False
    return True


def bench_size(calls: int, repeats: int, with_step: bool) -> dict[str, Any]:
    h, positions, log, payloads = synthetic(calls)
    ops = h.to_check_history().operations()
    order, why = witness_order(h, positions, log, payloads)
    assert order and not why
    public, internal = [], []
    for _ in range(repeats):  # interleaved: public, internal, public, ...
        cpu, _wall, result = timed(
            lambda: check_with_witness(book_model(SPEC), h, positions, log, payloads)
        )
        assert result.verdict == "ok" and result.states_explored == 0, result
        public.append(cpu)
        cpu, _wall, why = timed(lambda: verify_order(book_model(SPEC), ops, order))
        assert why == "", why
        internal.append(cpu)
    step_cpu = None
    if with_step:
        step_cpu, _wall, ok = timed(lambda: step_path(h, positions, log, payloads))
        assert ok
    witness_cpu = statistics.median(public)
    return {
        "calls": calls,
        "witness_check_cpu_s": round(witness_cpu, 4),
        "verify_order_cpu_s": round(statistics.median(internal), 4),
        "step_cpu_s": None if step_cpu is None else round(step_cpu, 3),
        "step_over_replay": None if step_cpu is None else round(step_cpu / witness_cpu, 1),
    }


def bench_process_cluster(seconds: float) -> dict[str, Any]:
    """Notebook 09's run, shortened: load, kill the primary, more load, close, check()."""
    import clobkit as ck
    from clobkit.proc.torture import Workload

    c = ck.ProcessCluster(nodes=3, seed=9)
    try:
        work = Workload(
            c, CLIENTS, seed=9, side="buy", cancel_share=0, read_share=0,
            prices=("99.50", "99.75", "100.00"),
        )  # fmt: skip
        work.run(seconds / 2)
        old = c.primary
        c.kill(old)
        work.run(seconds / 2)
        c.wait_for_primary(10, other_than=old)
        work.drain(10)
    finally:
        c.close()
    cpu, wall, result = timed(c.check)
    assert c.disk_violations == [] and result.verdict == "ok", result
    return {
        "process_cluster_calls": len(c.history),
        "process_cluster_check_s": round(wall, 3),
        "process_cluster_check_cpu_s": round(cpu, 3),
        "process_cluster_check_searched": result.states_explored > 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (< 60 s)")
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--repeats", type=int, default=None, help="repeats per size")
    parser.add_argument("--step-max", type=int, default=None, help="largest size to step")
    parser.add_argument("--seconds", type=float, default=None, help="process cluster load")
    args = parser.parse_args()
    sizes = (500, 1000, 2000) if args.quick else (500, 1000, 2000, 4000, 8000)
    repeats = args.repeats or (3 if args.quick else 7)
    step_max = args.step_max or (2000 if args.quick else 4000)
    seconds = args.seconds or (2.0 if args.quick else 3.0)
    print(
        f"bench_witness {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load {os.getloadavg()[0]:.1f}; medians of {repeats} (process CPU s)"
    )
    rows = [bench_size(n, repeats, n <= step_max) for n in sizes]
    print(f"{'calls':>7} {'check_with_witness':>19} {'verify_order':>13} {'step':>9} {'ratio':>7}")
    for r in rows:
        step = "skipped" if r["step_cpu_s"] is None else f"{r['step_cpu_s']:.3f}"
        ratio = "" if r["step_over_replay"] is None else f"{r['step_over_replay']:.0f}x"
        print(
            f"{r['calls']:>7} {r['witness_check_cpu_s']:>19.4f} {r['verify_order_cpu_s']:>13.4f}"
            f" {step:>9} {ratio:>7}"
        )
    proc = bench_process_cluster(seconds)
    print(
        f"ProcessCluster.check() after {seconds:g} s of notebook 09's load: "
        f"{proc['process_cluster_calls']} calls, {proc['process_cluster_check_s']:.3f} s wall, "
        f"{proc['process_cluster_check_cpu_s']:.3f} s CPU"
        + (" (searched)" if proc["process_cluster_check_searched"] else " (witness)")
    )
    if args.json:
        out = {"sizes": rows, **proc}
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(out, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
