"""The storage contract, proved identically for FileStore and MemoryStore.

Every test here runs against both stores through one harness: round trips survive a reopen,
bad input raises and leaves the files byte-identical, each sync policy does what base.py
promises ("never" loses acknowledged entries on a crash, "always"/"group" do not), structural
operations are durable, and the two stores write byte-identical logs for the same inputs.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from clobkit.errors import (
    CorruptEntry,
    InvalidArgument,
    InvalidType,
    NotAWal,
    StorageError,
    UnsupportedFormat,
    WrongOwner,
)
from clobkit.storage import (
    FILE_HEADER_SIZE,
    RECORD_HEADER_SIZE,
    FileStore,
    LogEntry,
    MemoryDisk,
    MemoryStore,
    Metadata,
    Snapshot,
    Store,
    StoreClosed,
    Wal,
    recover,
    wal_frame,
)

from .conftest import CLUSTER, Harness, MemoryHarness, entry, make_harness


def fill(store: Any, ops: range, view: int = 1) -> list[LogEntry]:
    written = [entry(op, view) for op in ops]
    for e in written:
        store.wal.append(e)
    store.wal.sync()
    return written


def test_stores_satisfy_the_protocols(harness: Harness) -> None:
    store = harness.open()
    assert isinstance(store, Store) and isinstance(store.wal, Wal)
    assert (store.wal.first_op, store.wal.last_op, store.wal.synced_op) == (1, 0, 0)
    assert store.load_metadata() is None and store.load_snapshot() is None


def test_round_trip_survives_reopen(harness: Harness) -> None:
    store = harness.open()
    written = fill(store, range(1, 6))
    assert [store.wal.get(op) for op in range(1, 6)] == written
    store.close()
    again = harness.open()
    assert list(again.wal.entries()) == written
    assert list(again.wal.entries(2, 3)) == written[1:3]
    assert list(again.wal.entries(4, 99)) == written[3:]
    assert list(again.wal.entries(5, 4)) == []
    assert again.wal.recovery.clean and again.wal.recovery.records_ok == 5


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (LogEntry(1, 5, b"x"), InvalidArgument),  # gap
        (LogEntry(1, 3, b"x"), InvalidArgument),  # op reused
        (LogEntry(0, 4, b"x"), InvalidArgument),  # view goes back
        (LogEntry(1, 4, "x"), InvalidType),  # type: ignore[arg-type]
        (LogEntry(True, 4, b"x"), InvalidType),
        ((1, 4, b"x"), InvalidType),
    ],
)
def test_bad_append_raises_and_changes_nothing(harness: Harness, bad: Any, error: type) -> None:
    store = harness.open()
    fill(store, range(1, 4))
    before = harness.digest()
    with pytest.raises(error):
        store.wal.append(bad)
    assert (store.wal.last_op, store.wal.synced_op) == (3, 3)
    assert store.wal.sync().records == 0
    assert harness.digest() == before
    store.wal.append(entry(4))  # the log still accepts the right next entry


@pytest.mark.parametrize("policy", ["always", "group"])
def test_safe_policies_keep_acknowledged_entries(harness: Harness, policy: str) -> None:
    store = harness.open(sync_policy=policy, sync_latency_us=700, write_latency_us_per_kib=1024)
    for op in range(1, 5):
        store.wal.append(entry(op))
    info = store.wal.sync()
    assert info.records == 4 and info.durable
    assert info.fsyncs == (4 if policy == "always" else 1)
    written = 4 * (RECORD_HEADER_SIZE + 3)
    assert info.latency_us == info.fsyncs * 700 + written  # 1024 us/KiB = 1 us per byte
    store.wal.append(entry(5))  # appended, never synced: not acknowledged
    store.crash()
    again = harness.open()
    assert [e.op for e in again.wal.entries()] == [1, 2, 3, 4]


def test_never_policy_loses_acknowledged_entries_on_crash(harness: Harness) -> None:
    store = harness.open(sync_policy="never")
    for op in range(1, 4):
        store.wal.append(entry(op))
    info = store.wal.sync()
    assert (info.records, info.fsyncs, info.durable) == (3, 0, False)
    assert store.wal.synced_op == 3 and store.wal.get(2) == entry(2)  # "acknowledged"
    store.crash()
    assert harness.open().wal.last_op == 0  # S8: the acknowledged entries are gone


def test_closed_store_refuses_every_call(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 3))
    store.crash()
    calls = [
        lambda: store.wal.append(entry(3)),
        store.wal.sync,
        lambda: store.wal.get(1),
        lambda: store.wal.entries(),
        lambda: store.wal.truncate_after(1),
        lambda: store.wal.compact_through(1),
        lambda: store.wal.repair(entry(1)),
        store.load_metadata,
        lambda: store.save_metadata(Metadata(CLUSTER, 0)),
        store.load_snapshot,
        lambda: store.save_snapshot(Snapshot(1, 1, b"")),
        store.crash,
    ]
    for call in calls:
        with pytest.raises(StoreClosed):
            call()
    assert issubclass(StoreClosed, StorageError)
    store.close()  # closing twice is allowed


@pytest.mark.parametrize(("cluster", "replica"), [("other-cluster", 0), (CLUSTER, 1)])
def test_wrong_owner_is_refused_and_files_untouched(
    harness: Harness, cluster: str, replica: int
) -> None:
    store = harness.open()
    fill(store, range(1, 3))
    store.save_metadata(Metadata(CLUSTER, 0, view=1))
    store.close()
    before = harness.digest()
    with pytest.raises(WrongOwner):
        harness.open(cluster_id=cluster, replica_id=replica)
    assert harness.digest() == before


def test_not_a_wal_and_newer_format_are_refused_untouched(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 3))
    store.close()
    good = harness.wal_bytes()
    harness.set_wal(b"#!/bin/sh\necho this is not a log\n" * 3)
    before = harness.digest()
    with pytest.raises(NotAWal):
        harness.open()
    assert harness.digest() == before
    newer = good[:8] + struct.pack("<H", 2) + good[10:]
    harness.set_wal(newer)
    before = harness.digest()
    with pytest.raises(UnsupportedFormat):
        harness.open()
    assert harness.digest() == before
    harness.set_wal(good)
    assert harness.open().wal.last_op == 2


def test_a_garbage_wal_without_identity_is_not_a_wal(tmp_path: Path) -> None:
    """Regression: with no identity file, a garbage wal.log used to be reported as
    WrongOwner; what is wrong with it is that it is not a clobkit WAL at all."""
    (tmp_path / "wal.log").write_bytes(b"PK\x03\x04 some zip file, not a log" * 4)
    before = sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir())
    with pytest.raises(NotAWal):
        FileStore(tmp_path, cluster_id=CLUSTER, replica_id=0)
    assert sorted((p.name, p.read_bytes()) for p in tmp_path.iterdir()) == before


def test_file_store_refuses_a_plain_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello")
    with pytest.raises(NotAWal):
        FileStore(path, cluster_id=CLUSTER, replica_id=0)
    assert path.read_bytes() == b"hello"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"sync_policy": "sometimes"}, InvalidArgument),
        ({"replica_id": -1}, InvalidArgument),
        ({"replica_id": "0"}, InvalidType),
        ({"cluster_id": ""}, InvalidArgument),
        ({"sync_latency_us": -5}, InvalidArgument),
    ],
)
def test_bad_constructor_arguments_create_nothing(
    harness: Harness, kwargs: dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        harness.open(**kwargs)
    if isinstance(harness, MemoryHarness):
        assert harness.disk.files() == []
    else:
        assert not harness.path.exists()  # type: ignore[attr-defined]


def test_truncate_after_is_durable(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 6))
    store.wal.append(entry(6))
    store.wal.truncate_after(3)
    assert (store.wal.last_op, store.wal.synced_op) == (3, 3)
    store.wal.append(entry(4, view=2))  # a new view's entry replaces the divergent one
    store.wal.sync()
    with pytest.raises(InvalidArgument):
        store.wal.truncate_after(-1)
    store.crash()
    again = harness.open()
    assert list(again.wal.entries()) == [*(entry(op) for op in (1, 2, 3)), entry(4, view=2)]
    again.wal.truncate_after(0)
    again.close()
    assert harness.open().wal.last_op == 0


def test_compaction_snapshot_and_recover(harness: Harness) -> None:
    store = harness.open()
    written = fill(store, range(1, 8))
    store.save_snapshot(Snapshot(op=4, view=1, data=b"state@4"))
    store.wal.compact_through(4)
    assert (store.wal.first_op, store.wal.last_op) == (5, 7)
    with pytest.raises(InvalidArgument):
        store.wal.get(4)
    with pytest.raises(InvalidArgument):
        store.wal.entries(3)
    with pytest.raises(InvalidArgument):
        store.wal.append(entry(8, view=0))  # the compacted prefix still bounds the view
    store.close()
    again = harness.open()
    assert (again.wal.first_op, again.wal.last_op) == (5, 7)
    snapshot, suffix = recover(again)
    assert snapshot == Snapshot(4, 1, b"state@4") and suffix == written[4:]
    # State transfer: a snapshot past the end of the log empties it.
    again.save_snapshot(Snapshot(op=20, view=3, data=b"state@20"))
    again.wal.compact_through(20, view=3)
    assert (again.wal.first_op, again.wal.last_op) == (21, 20)
    with pytest.raises(InvalidArgument):
        again.wal.append(entry(21, view=2))
    again.wal.append(entry(21, view=3))
    again.wal.sync()
    again.close()
    snapshot, suffix = recover(harness.open())
    assert snapshot is not None and snapshot.op == 20 and suffix == [entry(21, view=3)]


def test_compaction_keeps_pending_entries(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 4))
    store.wal.append(entry(4))
    store.wal.append(entry(5))
    store.wal.compact_through(4)
    assert (store.wal.first_op, store.wal.synced_op, store.wal.last_op) == (5, 4, 5)
    store.wal.sync()
    store.close()
    assert list(harness.open().wal.entries()) == [entry(5)]


def test_metadata_round_trip_and_bad_input(harness: Harness) -> None:
    store = harness.open()
    meta = Metadata(CLUSTER, 0, view=3, last_normal_view=2, vote=1, commit_number=9)
    info = store.save_metadata(meta)
    assert info.fsyncs == 2 and info.durable
    before = harness.digest()
    for bad, error in [
        (Metadata("elsewhere", 0), WrongOwner),
        (Metadata(CLUSTER, 0, view=-1), InvalidArgument),
        (Metadata(CLUSTER, 0, vote="n1"), InvalidType),  # type: ignore[arg-type]
        ("meta", InvalidType),
    ]:
        with pytest.raises(error):
            store.save_metadata(bad)  # type: ignore[arg-type]
    assert harness.digest() == before
    store.crash()
    assert harness.open().load_metadata() == meta


def test_corrupt_middle_record_is_reported_then_repaired(harness: Harness) -> None:
    store = harness.open()
    written = fill(store, range(1, 6))
    store.close()
    offset = FILE_HEADER_SIZE + 2 * (RECORD_HEADER_SIZE + 3) + RECORD_HEADER_SIZE  # op 3 payload
    harness.flip(offset, 4)
    node = harness.open()
    assert node.wal.recovery.corrupt == ((3, 3),) and node.wal.corrupt_ops() == [3]
    with pytest.raises(CorruptEntry):
        node.wal.get(3)
    assert list(node.wal.entries(4)) == written[3:]
    frame = wal_frame(node.wal)
    assert frame["checksum_ok"].tolist() == [True, True, False, True, True]
    with pytest.raises(InvalidArgument):
        node.wal.repair(entry(2))  # not corrupt
    with pytest.raises(InvalidArgument):
        node.wal.repair(entry(3, view=2))  # contradicts the intact header's view
    node.wal.repair(written[2])
    assert node.wal.corrupt_ops() == [] and list(node.wal.entries()) == written
    node.crash()
    assert harness.open().wal.recovery.clean


def test_views_have_documented_columns(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 3))
    store.wal.append(entry(3))
    frame = wal_frame(store.wal, describe=lambda p: p.decode().upper())
    assert list(frame.columns) == ["op", "view", "length", "checksum_ok", "synced", "command"]
    assert frame["synced"].tolist() == [True, True, False]
    assert frame["command"].tolist() == ["P1-", "P2-", "P3-"]
    assert str(frame["view"].dtype) == "Int64"
    report = store.wal.recovery.to_frame()
    assert list(report.columns) == ["kind", "first_op", "last_op", "ops", "bytes"]
    assert "<table>" in store.wal.recovery._repr_html_()


def test_both_stores_write_identical_bytes(tmp_path: Path) -> None:
    images = []
    for kind in ("memory", "file", "memory"):
        h = make_harness(kind, tmp_path / kind)
        store = h.open(sync_policy="group")
        fill(store, range(1, 4))
        fill(store, range(4, 6), view=2)
        store.save_metadata(Metadata(CLUSTER, 0, view=2, commit_number=5))
        store.wal.truncate_after(4)
        store.wal.compact_through(2)
        store.close()
        images.append(h.wal_bytes())
    assert images[0] == images[1] == images[2]


def test_memory_store_rejects_a_foreign_disk_object() -> None:
    with pytest.raises(InvalidType):
        MemoryStore({}, cluster_id=CLUSTER, replica_id=0)  # type: ignore[arg-type]
    assert MemoryStore(MemoryDisk(), cluster_id=CLUSTER, replica_id=0).wal.last_op == 0


def test_never_policy_close_is_a_crash_too(harness: Harness) -> None:
    store = harness.open(sync_policy="never")
    fill(store, range(1, 4))
    store.close()
    assert harness.open().wal.last_op == 0


def test_recover_refuses_a_log_compacted_past_the_snapshot(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 6))
    store.save_snapshot(Snapshot(op=2, view=1, data=b"old"))
    store.wal.compact_through(4)
    with pytest.raises(StorageError):
        recover(store)


def test_unreadable_header_shows_as_a_row_with_unknown_view(harness: Harness) -> None:
    store = harness.open()
    fill(store, range(1, 4), view=2)
    store.close()
    harness.flip(FILE_HEADER_SIZE + (RECORD_HEADER_SIZE + 3) + 1, 0)  # op 2's length field
    node = harness.open()
    frame = wal_frame(node.wal)
    assert frame["checksum_ok"].tolist() == [True, False, True]
    assert frame["view"].isna().tolist() == [False, True, False]
    with pytest.raises(InvalidArgument):
        node.wal.repair(LogEntry(3, 2, b"p2-"))  # view 3 cannot sit between two view-2 ops
    node.wal.repair(entry(2, view=2))
    assert list(node.wal.entries()) == [entry(op, view=2) for op in (1, 2, 3)]
