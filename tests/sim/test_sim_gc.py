"""Proves that running a simulation leaves the process's garbage collector as it found it:
World.run raises the first threshold while it runs and restores the thresholds afterwards,
also when an event raises, when runs nest, when several threads run simulations at once
(restored only when the last one ends), when collection was off (threshold 0, left alone),
and when someone changed the thresholds meanwhile (their setting is kept)."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from clobkit.sim.world import GC_GEN0_THRESHOLD, World


@pytest.fixture(autouse=True)
def thresholds() -> Iterator[tuple[int, int, int]]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield (700, 10, 10)
    gc.set_threshold(*before)


def test_raised_while_running_and_restored_after() -> None:
    seen: list[tuple[int, int, int]] = []
    w = World(0)
    w.schedule(5, lambda _: seen.append(gc.get_threshold()))
    w.run()
    assert seen == [(GC_GEN0_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)


def test_restored_when_an_event_raises() -> None:
    w = World(0)

    def boom(_: object) -> None:
        raise RuntimeError("boom")

    w.schedule(5, boom)
    with pytest.raises(RuntimeError):
        w.run()
    assert gc.get_threshold() == (700, 10, 10)


def test_nested_runs_restore_once_at_the_outer_end() -> None:
    inner, outer = World(1), World(2)
    seen: list[tuple[int, int, int]] = []
    inner.schedule(1, lambda _: seen.append(gc.get_threshold()))

    def run_inner(_: object) -> None:
        inner.run()
        seen.append(gc.get_threshold())  # the outer run is still going

    outer.schedule(1, run_inner)
    outer.run()
    assert seen == [(GC_GEN0_THRESHOLD, 10, 10)] * 2
    assert gc.get_threshold() == (700, 10, 10)


def test_threads_restore_when_the_last_run_ends() -> None:
    started, release = threading.Barrier(3), threading.Event()
    seen: list[tuple[int, int, int]] = []

    def wait(_: object) -> None:
        started.wait(timeout=10)
        release.wait(timeout=10)

    worlds = [World(i) for i in range(2)]
    for w in worlds:
        w.schedule(1, wait)
    threads = [threading.Thread(target=w.run) for w in worlds]
    for t in threads:
        t.start()
    started.wait(timeout=10)  # both runs are inside an event now
    seen.append(gc.get_threshold())
    release.set()
    for t in threads:
        t.join(timeout=10)
    assert seen == [(GC_GEN0_THRESHOLD, 10, 10)]
    assert gc.get_threshold() == (700, 10, 10)


def test_collection_off_and_a_changed_setting_are_left_alone() -> None:
    w = World(0)
    gc.set_threshold(0, 10, 10)
    w.schedule(1, lambda _: None)
    w.run()
    assert gc.get_threshold() == (0, 10, 10)
    gc.set_threshold(700, 10, 10)
    w.schedule(2, lambda _: gc.set_threshold(1_234, 5, 5))  # the user's own setting, mid-run
    w.run()
    assert gc.get_threshold() == (1_234, 5, 5)
