"""Crashes between any two disk steps leave old-or-new state, never a mix, in both stores.

Method: inject a power loss before the k-th disk operation (``crash_after(k)``) of a metadata
write, a snapshot write, a compaction rewrite and an "always" sync, for every k, then reopen.
The MemoryDisk models unsynced renames, so there the exact cut-over step is asserted too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clobkit.storage import Metadata, PowerLoss, Snapshot

from .conftest import CLUSTER, entry, make_harness

OLD = Metadata(CLUSTER, 0, view=1, last_normal_view=1, vote=0, commit_number=3)
NEW = Metadata(CLUSTER, 0, view=2, last_normal_view=1, vote=2, commit_number=7)
STEPS = 4  # create temp, fsync temp, rename, fsync directory


def _crash_during(h: Any, store: Any, steps: int, action: Any) -> bool:
    """Run ``action`` with a power loss before disk step ``steps``; True if it crashed."""
    store.disk.crash_after(steps)
    try:
        action()
    except PowerLoss:
        assert store.closed
        return True
    store.disk.clear_faults()
    store.crash()
    return False


@pytest.mark.parametrize("kind", ["memory", "file"])
@pytest.mark.parametrize("steps", range(STEPS + 1))
def test_metadata_crash_at_every_step_gives_old_or_new(
    kind: str, steps: int, tmp_path: Path
) -> None:
    h = make_harness(kind, tmp_path)
    store = h.open()
    store.save_metadata(OLD)
    crashed = _crash_during(h, store, steps, lambda: store.save_metadata(NEW))
    assert crashed == (steps < STEPS)
    got = h.open().load_metadata()
    assert got in (OLD, NEW)
    if kind == "memory":  # the rename becomes durable only with the directory fsync
        assert got == (NEW if steps == STEPS else OLD)
    elif steps <= 2:
        assert got == OLD


@pytest.mark.parametrize("kind", ["memory", "file"])
@pytest.mark.parametrize("steps", range(STEPS + 1))
def test_snapshot_crash_at_every_step_gives_old_or_new(
    kind: str, steps: int, tmp_path: Path
) -> None:
    h = make_harness(kind, tmp_path)
    store = h.open()
    old, new = Snapshot(2, 1, b"old state"), Snapshot(5, 2, b"new state" * 50)
    store.save_snapshot(old)
    _crash_during(h, store, steps, lambda: store.save_snapshot(new))
    got = h.open().load_snapshot()
    assert got in (old, new)
    if kind == "memory":
        assert got == (new if steps == STEPS else old)


@pytest.mark.parametrize("kind", ["memory", "file"])
@pytest.mark.parametrize("steps", range(STEPS + 1))
def test_compaction_crash_at_every_step_gives_old_or_new_log(
    kind: str, steps: int, tmp_path: Path
) -> None:
    h = make_harness(kind, tmp_path)
    store = h.open(sync_policy="group")
    written = [entry(op) for op in range(1, 7)]
    for e in written:
        store.wal.append(e)
    store.wal.sync()
    _crash_during(h, store, steps, lambda: store.wal.compact_through(3))
    wal = h.open().wal
    assert wal.first_op in (1, 4) and wal.recovery.clean
    assert list(wal.entries()) == written[wal.first_op - 1 :]
    if kind == "memory":
        assert wal.first_op == (4 if steps == STEPS else 1)


@pytest.mark.parametrize("kind", ["memory", "file"])
@pytest.mark.parametrize("steps", range(9))
def test_always_sync_interrupted_keeps_exactly_the_fsynced_prefix(
    kind: str, steps: int, tmp_path: Path
) -> None:
    h = make_harness(kind, tmp_path)
    store = h.open(sync_policy="always")
    written = [entry(op) for op in range(1, 5)]
    for e in written:
        store.wal.append(e)
    # "always" does write+fsync per record: a crash before step k keeps k // 2 records.
    crashed = _crash_during(h, store, steps, store.wal.sync)
    assert crashed == (steps < 8)
    wal = h.open().wal
    # Both disks drop the written-but-unfsynced record (OsDisk cuts the file back).
    assert list(wal.entries()) == written[: steps // 2]
