"""Proves campaigns are deterministic and executor-independent, replay reproduces a campaign
row, shrinking keeps a failing run failing while making it smaller, and bad options are
rejected before anything runs: the same seeds run serially, twice, on a process pool and on a
Dask LocalCluster must give equal frames except ``wall_time_s``."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import clobkit as ck
from clobkit.check import campaigns as campaign_module
from clobkit.check.campaigns import CAMPAIGN_COLUMNS, campaign, replay, shrink
from clobkit.errors import InvalidArgument, InvalidType

SEEDS = list(range(6))
OPTS = {"ops": 40, "progress": False}


def _strip(df: pd.DataFrame) -> pd.DataFrame:
    return df.drop(columns=["wall_time_s"])


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return campaign(SEEDS, **OPTS)


def test_frame_has_documented_columns_and_dtypes(serial: pd.DataFrame) -> None:
    assert list(serial.columns) == list(CAMPAIGN_COLUMNS)
    assert {c: str(t) for c, t in serial.dtypes.items()} == CAMPAIGN_COLUMNS
    assert list(serial.seed) == SEEDS
    assert set(serial.verdict) <= set(campaign_module.VERDICTS)
    assert (serial.ops > 0).all() and (serial.sim_time_us > 0).all()
    assert serial.attrs["options"]["ops"] == 40


def test_same_seeds_give_identical_frames(serial: pd.DataFrame) -> None:
    again = campaign(list(reversed(SEEDS)), **OPTS).sort_values("seed").reset_index(drop=True)
    pd.testing.assert_frame_equal(_strip(serial), _strip(again))


def test_process_pool_gives_the_serial_frame(serial: pd.DataFrame) -> None:
    with ProcessPoolExecutor(2) as pool:
        pooled = campaign(SEEDS, executor=pool, chunk=2, **OPTS)
    pd.testing.assert_frame_equal(_strip(serial), _strip(pooled))


def _import_distributed() -> Any:
    """Import dask.distributed even though ``tests/packaging`` (a test package) shadows the
    real ``packaging`` library on pytest's sys.path; skip only if dask is not installed."""
    import sys

    shadow = sys.modules.get("packaging")
    if shadow is not None and "site-packages" in str(getattr(shadow, "__file__", "")):
        shadow = None  # the real library: nothing to undo
    if shadow is not None:
        del sys.modules["packaging"]
    tests_dir = str(Path(__file__).resolve().parents[1])
    saved = list(sys.path)
    sys.path[:] = [p for p in sys.path if str(Path(p or ".").resolve()) != tests_dir]
    try:
        return pytest.importorskip("distributed")
    finally:
        sys.path[:] = saved
        if shadow is not None:  # give the test package its name back
            sys.modules["packaging"] = shadow


def test_dask_local_cluster_gives_the_serial_frame(serial: pd.DataFrame) -> None:
    distributed = _import_distributed()
    with (
        distributed.LocalCluster(
            n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        df = campaign(SEEDS[:3], executor=client.get_executor(), **OPTS)
    pd.testing.assert_frame_equal(
        _strip(serial).iloc[:3].reset_index(drop=True), _strip(df).reset_index(drop=True)
    )


def test_replay_reproduces_the_row(serial: pd.DataFrame) -> None:
    row = serial.iloc[2]
    r = replay(2, ops=40)
    assert r.history_digest == row.history_digest
    assert r.row["verdict"] == row.verdict and r.row["faults"] == row.faults
    assert r.repro == row.repro
    assert r.trace_digest == replay(2, ops=40).trace_digest  # byte-identical trace
    assert "RunResult seed=2" in repr(r) and "<table>" in r._repr_html_()
    # The repro line is runnable as printed.
    again = eval(row.repro, {"ck": ck})
    assert again.history_digest == row.history_digest


def test_top_level_names_resolve() -> None:
    assert ck.campaign is campaign and ck.replay is replay


def test_unknown_is_reported_as_such_never_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    # The cluster's hints settle this history without a search; without them the search
    # runs out of its 3-state budget, which must be reported as "unknown".
    import clobkit.check.checker as checker

    monkeypatch.setattr(checker, "_hinted_order", lambda model, ops: None)
    r = replay(1, ops=40, max_states=3)
    assert r.verdict == "unknown" and r.check is not None and r.check.reason
    assert not r.ok and not r.failed


def test_bad_options_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match="read_mode"):
        campaign([1], read_mode="fast", progress=False)
    with pytest.raises(InvalidArgument, match="unsafe"):
        campaign([1], unsafe=("no_brakes",), progress=False)
    with pytest.raises(InvalidType, match="unsafe"):
        campaign([1], unsafe="no_dedup", progress=False)
    with pytest.raises(InvalidArgument, match="seeds"):
        campaign([-1], progress=False)
    with pytest.raises(InvalidArgument, match="faults"):
        replay(1, faults=("meteor",))
    with pytest.raises(InvalidType, match="executor"):
        campaign([1], executor=object(), progress=False)  # type: ignore[arg-type]


def test_shrink_makes_a_failing_run_smaller_and_it_still_fails() -> None:
    original = replay(3, ops=60, unsafe=("no_dedup",), faults=("crash", "partition", "loss"))
    assert original.failed, original
    small = original.shrink(max_attempts=25)
    assert small.failed
    assert small.shrunk_from is original
    assert (small.options.ops, len(small.faults)) < (original.options.ops, len(original.faults))
    assert small.options.ops <= original.options.ops
    assert len(small.faults) <= len(original.faults)
    # The shrunk run replays from its repro line (the schedule is spelled out).
    again = eval(
        small.repro, {"ck": ck, "Fault": __import__("clobkit.sim.faults").sim.faults.Fault}
    )
    assert again.failed and again.history_digest == small.history_digest
    # Deterministic: shrinking the same seed again gives the same small case.
    twice = shrink(3, max_attempts=25, ops=60, unsafe=("no_dedup",),
                   faults=("crash", "partition", "loss"))  # fmt: skip
    assert twice.history_digest == small.history_digest


def test_a_seed_is_judged_with_the_collector_threshold_raised_then_restored() -> None:
    # The whole run (simulation, end-of-run checks, history, checker, digest) goes with the
    # garbage collector's first threshold at GC_GEN0_THRESHOLD or more, not only the
    # simulation's World.run calls; the caller's thresholds are back afterwards.
    import gc

    from clobkit.sim.world import GC_GEN0_THRESHOLD

    before = gc.get_threshold()
    seen: list[int] = []

    def run(c: Any) -> None:
        seen.append(gc.get_threshold()[0])
        c.run(ms=50)
        seen.append(gc.get_threshold()[0])

    options = campaign_module.RunOptions(ops=10, faults=())
    result = campaign_module._judge(1, options, run, trace=False)
    assert result.verdict == "ok"
    assert seen and all(t >= GC_GEN0_THRESHOLD or before[0] == 0 for t in seen)
    assert gc.get_threshold() == before
    assert result.cluster is not None
    result.cluster.close()
