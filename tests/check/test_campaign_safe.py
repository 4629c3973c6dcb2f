"""Proves the safe protocol survives a 300-seed fault campaign: random workloads (4 concurrent
users) under random crashes with torn writes, restarts, disk replacements, pauses,
partitions, loss and duplication, every run judged by the cluster invariants and the
linearizability checker, with zero violations, zero illegal histories and zero unknown
verdicts (the checker's state budget is deterministic, so unknown would be reproducible)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

from clobkit.check.campaigns import campaign

SEEDS = range(300)


def test_three_hundred_seeds_with_safe_defaults_find_nothing() -> None:
    with ProcessPoolExecutor(2) as pool:
        df = campaign(SEEDS, ops=100, executor=pool, progress=False)
    assert len(df) == 300
    bad = df[df.verdict != "ok"]
    assert bad.empty, bad[["seed", "verdict", "first_violation", "repro"]].to_string()
    assert (df.linearizable == "ok").all()
    assert (df.violations == 0).all()
    # The runs were not trivial: faults happened and calls were made.
    assert df.faults.sum() > 300 * 5
    assert df.ops.min() >= 96
    assert set(",".join(df.fault_kinds).split(",")) >= {
        "crash", "restart", "replace", "partition", "isolate", "set_loss", "set_duplicate",
        "pause", "resume", "heal",
    }  # fmt: skip
