"""Random append/sync/crash/reopen/truncate/snapshot/compact runs agree with a tiny model.

Method: a Hypothesis RuleBasedStateMachine drives a store (MemoryStore, and FileStore with
fewer examples) while a model keeps the list of synced entries, the pending ones and the first
op. A crash keeps the synced entries plus the pending records whose every byte made it into the
torn prefix; after every step, and in particular after every reopen, the log equals the model.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from clobkit.errors import CorruptEntry
from clobkit.storage import (
    FILE_HEADER_SIZE,
    RECORD_HEADER_SIZE,
    FileStore,
    LogEntry,
    MemoryDisk,
    MemoryStore,
    Snapshot,
)

CLUSTER = "machine"


class StoreMachine(RuleBasedStateMachine):
    policy = "group"

    def __init__(self) -> None:
        super().__init__()
        self.synced: list[LogEntry] = []
        self.pending: list[LogEntry] = []
        self.first_op = 1
        self.base_view = 0
        self.snapshot: Snapshot | None = None
        self.store = self.open()

    # -- how to open a store on the same disk (overridden for files) --------
    def open(self) -> Any:
        if not hasattr(self, "disk"):
            self.disk = MemoryDisk()
        return MemoryStore(self.disk, cluster_id=CLUSTER, replica_id=0, sync_policy=self.policy)  # type: ignore[arg-type]

    def flip(self, byte: int, bit: int) -> None:
        self.disk.flip_bit("wal.log", byte, bit)

    def wal_size(self) -> int:
        return len(self.disk.contents("wal.log", durable=True))

    # -- model helpers -------------------------------------------------------
    @property
    def model(self) -> list[LogEntry]:
        return self.synced + self.pending

    @property
    def last_op(self) -> int:
        return self.first_op - 1 + len(self.model)

    @property
    def last_view(self) -> int:
        return self.model[-1].view if self.model else self.base_view

    def reopen_and_check(self, torn_expected: bool, truncated: int) -> None:
        self.store = self.open()
        report = self.store.wal.recovery
        assert report.torn_tail == torn_expected
        assert report.bytes_truncated == truncated
        assert report.corrupt == ()
        assert (report.first_op, report.last_op) == (self.first_op, self.last_op)

    # -- rules -------------------------------------------------------------------
    @rule(bump=st.integers(0, 1), payload=st.binary(max_size=12))
    def append(self, bump: int, payload: bytes) -> None:
        e = LogEntry(self.last_view + bump, self.last_op + 1, payload)
        self.store.wal.append(e)
        self.pending.append(e)

    @rule()
    def sync(self) -> None:
        info = self.store.wal.sync()
        assert info.records == len(self.pending) and info.durable
        self.synced += self.pending
        self.pending = []

    @rule(torn=st.none() | st.integers(0, 120))
    def crash(self, torn: int | None) -> None:
        self.store.crash(torn_bytes=torn)
        budget = min(torn or 0, sum(RECORD_HEADER_SIZE + len(e.payload) for e in self.pending))
        used = 0
        for e in self.pending:
            size = RECORD_HEADER_SIZE + len(e.payload)
            if used + size > budget:
                break
            self.synced.append(e)  # every byte of it reached the disk: it is recovered
            used += size
        self.pending = []
        self.reopen_and_check(budget > used, budget - used)

    @rule()
    def reopen(self) -> None:
        self.store.close()
        self.pending = []
        self.reopen_and_check(False, 0)

    @rule(back=st.integers(0, 6))
    def truncate(self, back: int) -> None:
        op = max(self.first_op - 1, self.last_op - back)
        self.store.wal.truncate_after(op)
        keep = op - self.first_op + 1
        self.synced, self.pending = (
            self.synced[:keep],
            self.pending[: max(0, keep - len(self.synced))],
        )

    @rule(back=st.integers(0, 6))
    def snapshot_and_compact(self, back: int) -> None:
        op = max(self.first_op - 1, self.last_op - back)
        if op < self.first_op:
            return
        view = self.model[op - self.first_op].view
        self.snapshot = Snapshot(op, view, b"state@%d" % op)
        self.store.save_snapshot(self.snapshot)
        self.store.wal.compact_through(op)
        drop = op - self.first_op + 1
        dropped_synced = min(drop, len(self.synced))
        self.synced = self.synced[dropped_synced:]
        self.pending = self.pending[drop - dropped_synced :]
        self.first_op, self.base_view = op + 1, view

    @precondition(lambda self: bool(self.synced))
    @rule(where=st.floats(0, 1, exclude_max=True), bit=st.integers(0, 7), live=st.booleans())
    def flip_then_repair(self, where: float, bit: int, live: bool) -> None:
        # Every byte after the file header belongs to a synced record here.
        self.store.wal.sync()
        self.synced += self.pending
        self.pending = []
        start = FILE_HEADER_SIZE
        self.flip(start + int(where * (self.wal_size() - start)), bit)
        if live:
            try:
                list(self.store.wal.entries())
            except CorruptEntry:
                pass
            else:
                raise AssertionError("a flipped bit went unnoticed")
        else:
            self.store.close()
            self.store = self.open()
        corrupt = self.store.wal.corrupt_ops()
        assert len(corrupt) == 1 and self.first_op <= corrupt[0] < self.first_op + len(self.synced)
        if not live:
            assert self.store.wal.recovery.corrupt == ((corrupt[0], corrupt[0]),)
        self.store.wal.repair(self.synced[corrupt[0] - self.first_op])

    @precondition(lambda self: self.last_op < 60)
    @rule(ahead=st.integers(1, 5), bump=st.integers(0, 2))
    def state_transfer(self, ahead: int, bump: int) -> None:
        op, view = self.last_op + ahead, self.last_view + bump
        self.snapshot = Snapshot(op, view, b"transferred")
        self.store.save_snapshot(self.snapshot)
        self.store.wal.compact_through(op, view=view)
        self.synced, self.pending = [], []
        self.first_op, self.base_view = op + 1, view

    # -- invariants ---------------------------------------------------------------
    @invariant()
    def log_equals_model(self) -> None:
        wal = self.store.wal
        assert (wal.first_op, wal.synced_op, wal.last_op) == (
            self.first_op,
            self.first_op - 1 + len(self.synced),
            self.last_op,
        )
        assert list(wal.entries()) == self.model
        assert wal.corrupt_ops() == []
        assert self.store.load_snapshot() == self.snapshot

    def teardown(self) -> None:
        if not self.store.closed:
            self.store.close()


class AlwaysStoreMachine(StoreMachine):
    policy = "always"


class FileStoreMachine(StoreMachine):
    def flip(self, byte: int, bit: int) -> None:
        with open(os.path.join(self.path, "wal.log"), "r+b") as f:
            f.seek(byte)
            value = f.read(1)[0]
            f.seek(byte)
            f.write(bytes([value ^ (1 << bit)]))

    def wal_size(self) -> int:
        return os.path.getsize(os.path.join(self.path, "wal.log"))

    def open(self) -> Any:
        if not hasattr(self, "path"):
            self.path = tempfile.mkdtemp(prefix="clobkit-machine-")
        return FileStore(self.path, cluster_id=CLUSTER, replica_id=0, sync_policy=self.policy)  # type: ignore[arg-type]

    def teardown(self) -> None:
        super().teardown()
        shutil.rmtree(self.path, ignore_errors=True)


_settings = settings(
    max_examples=120,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestMemoryGroup = StoreMachine.TestCase
TestMemoryGroup.settings = _settings
TestMemoryAlways = AlwaysStoreMachine.TestCase
TestMemoryAlways.settings = settings(_settings, max_examples=60)
TestFileGroup = FileStoreMachine.TestCase
TestFileGroup.settings = settings(_settings, max_examples=40)
