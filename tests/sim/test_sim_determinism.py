"""Proves a whole cluster run is reproducible: the same seed and the same calls (scripted, a random
workload and a random fault schedule) give byte-identical trace JSON lines, history and digests, in
this process and in a fresh subprocess with a different hash seed; a different seed differs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clobkit.sim import Cluster
from clobkit.sim.faults import random_faults
from clobkit.sim.workload import RandomWorkload

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from tests.sim.test_sim_determinism import scripted_run
c = scripted_run(int(sys.argv[1]))
sys.stdout.write(c.trace.digest() + " " + c.history.digest())
"""


def scripted_run(
    seed: int, storage: str = "memory", trace: bool = True, latency: str = "exponential"
) -> Cluster:
    c = Cluster(3, seed=seed, storage=storage, latency=latency, latency_us_max=4_000, trace=trace)
    c.place("alice", "sell", price="100.50", qty=10)
    c.place("bob", "buy", price="101", qty=4)
    RandomWorkload(c, users=["u1", "u2", "u3"], ops_per_user=15).start()
    faults = random_faults(
        c.world.streams.stream("faults"), c.replica_names, start_us=c.now_us, duration_us=400_000
    )
    c.schedule_faults(faults)
    c.run(ms=1_500)
    c.close()
    return c


def test_same_seed_same_bytes_in_process() -> None:
    a, b = scripted_run(21), scripted_run(21)
    assert a.trace.to_jsonl() == b.trace.to_jsonl()
    assert a.history.to_jsonl() == b.history.to_jsonl()
    assert (a.trace.digest(), a.history.digest()) == (b.trace.digest(), b.history.digest())
    assert len(a.trace) > 1_000 and len(a.history) > 40


def test_file_storage_gives_the_same_trace_as_memory() -> None:
    # Simulated disk latency comes from the store's configured latencies, never the wall clock.
    assert scripted_run(5, "file").trace.digest() == scripted_run(5, "memory").trace.digest()


def test_the_trace_off_paths_change_nothing_but_the_trace() -> None:
    # With the trace off no TraceEvent (nor its fields) is built, by replicas and client
    # sessions alike: the same seed must still give the same history, the same replica states
    # and the same number of events as with the trace on.
    for latency in ("exponential", "uniform"):
        on, off = (
            scripted_run(8, trace=True, latency=latency),
            scripted_run(8, latency=latency, trace=False),
        )
        assert len(off.trace) == 0 < len(on.trace)
        assert on.history.to_jsonl() == off.history.to_jsonl()
        assert on.world.events_processed == off.world.events_processed
        assert [(r["op_number"], r["commit_number"]) for r in on.node_rows()] == [
            (r["op_number"], r["commit_number"]) for r in off.node_rows()
        ]


def test_different_seed_different_trace() -> None:
    assert scripted_run(21).trace.digest() != scripted_run(22).trace.digest()


def test_same_seed_same_bytes_across_processes() -> None:
    here = scripted_run(33)
    env = dict(os.environ, PYTHONHASHSEED="999")
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, "33"],
        capture_output=True,
        text=True,
        check=True,
        cwd=str(ROOT),
        env=env,
    )
    assert out.stdout == here.trace.digest() + " " + here.history.digest()


def test_the_inlined_random_draws_are_the_public_ones() -> None:
    # The hot paths draw through rng._randbelow (randint, randrange and choice in one call)
    # and a bisect into precomputed cumulative weights (choices): on this Python those must
    # leave the same values and the same stream state as the public calls, or every seeded
    # trace would change. Checked over many seeds, bounds (width 1 included) and weights.
    import bisect
    import itertools
    import random

    weights = [0.25, 0.6, 0.05, 0.1]
    cum = list(itertools.accumulate(weights))
    population = ["a", "b", "c", "d"]
    for seed in range(200):
        public, inlined = random.Random(seed), random.Random(seed)
        for low, high in ((0, 0), (1, 10), (-5, 5), (500, 1_500), (0, 2_000_000)):
            assert public.randint(low, high) == low + inlined._randbelow(high - low + 1)
        assert public.choice(("buy", "sell")) == ("buy", "sell")[inlined._randbelow(2)]
        for n in (1, 2, 7, 1_000):
            assert public.randrange(n) == inlined._randbelow(n)
        drawn = inlined.random() * (cum[-1] + 0.0)
        assert (
            public.choices(population, weights)[0]
            == population[bisect.bisect(cum, drawn, 0, len(population) - 1)]
        )
        assert public.getstate() == inlined.getstate()
