"""MemoryDisk faults (lost, misdirected and failed reads, live bit flips) are caught, never applied.

Method: inject each fault into a small log, then check that every read either returns exactly
the entry that was written or raises (CorruptEntry / DiskFault), that the damaged ops are
reported, and that a repair from a "peer" copy restores a clean log that survives a reopen.
Also checks that fault injection is deterministic (same seed, same flips, same bytes).
"""

from __future__ import annotations

import pytest

from clobkit.errors import CorruptEntry, DiskFault, InvalidArgument
from clobkit.storage import FILE_HEADER_SIZE, RECORD_HEADER_SIZE, MemoryDisk, MemoryStore

from .conftest import CLUSTER, entry

SIZE = RECORD_HEADER_SIZE + 3


def open_store(disk: MemoryDisk, **kwargs: object) -> MemoryStore:
    return MemoryStore(disk, cluster_id=CLUSTER, replica_id=0, **kwargs)  # type: ignore[arg-type]


def append_sync(store: MemoryStore, ops: range) -> None:
    for op in ops:
        store.wal.append(entry(op))
        store.wal.sync()


def assert_reads_are_true_or_raise(store: MemoryStore, last: int) -> list[int]:
    bad = []
    for op in range(1, last + 1):
        try:
            assert store.wal.get(op) == entry(op)
        except CorruptEntry:
            bad.append(op)
    return bad


def test_lost_write_is_detected_and_repaired() -> None:
    disk = MemoryDisk()
    store = open_store(disk)
    append_sync(store, range(1, 4))
    disk.lose_next_sync("wal.log")
    append_sync(store, range(4, 5))  # claims success; the bytes never persist
    append_sync(store, range(5, 6))
    assert assert_reads_are_true_or_raise(store, 5) == [4]
    assert store.wal.corrupt_ops() == [4]
    store.crash()
    node = open_store(disk)
    assert node.wal.recovery.corrupt == ((4, 4),)
    node.wal.repair(entry(4))
    node.close()
    again = open_store(disk)
    assert again.wal.recovery.clean and list(again.wal.entries()) == [
        entry(op) for op in range(1, 6)
    ]


def test_misdirected_write_never_yields_a_wrong_entry() -> None:
    disk = MemoryDisk()
    store = open_store(disk)
    append_sync(store, range(1, 4))
    disk.misdirect_next_write("wal.log", FILE_HEADER_SIZE + SIZE)  # over op 2's record
    append_sync(store, range(4, 6))
    # Op 4's record sits in op 2's place: 4 is still found (by its own header), 2 is lost,
    # and 3 (intact but now out of sequence) is reported too: conservative, never wrong.
    assert assert_reads_are_true_or_raise(store, 5) == [2, 3]
    store.crash()
    node = open_store(disk)
    corrupt = node.wal.corrupt_ops()
    assert corrupt == [2, 3] and node.wal.recovery.corrupt == ((2, 3),)
    assert assert_reads_are_true_or_raise(node, node.wal.last_op) == corrupt
    for op in corrupt:
        node.wal.repair(entry(op))
    assert list(node.wal.entries()) == [entry(op) for op in range(1, 6)]
    node.close()
    assert open_store(disk).wal.recovery.corrupt == ()


def test_read_error_raises_on_read_and_is_reported_and_remapped_on_open() -> None:
    disk = MemoryDisk()
    store = open_store(disk)
    append_sync(store, range(1, 4))
    bad = FILE_HEADER_SIZE + SIZE
    disk.fail_reads("wal.log", bad, bad + 1)
    assert store.wal.get(1) == entry(1)
    with pytest.raises(DiskFault):
        store.wal.get(2)
    store.close()
    # Opening finds the unreadable block, zeroes it (a written sector reads again) and
    # reports it; the records in that block then fail their checksums and read as corrupt.
    again = open_store(disk)
    ((start, end),) = again.unreadable
    assert start <= bad < end
    assert 2 in again.wal.corrupt_ops()
    assert again.wal.get(3) == entry(3)
    with pytest.raises(InvalidArgument):
        disk.fail_reads("wal.log", 5, 5)


def test_bit_flip_under_a_running_log_is_caught_on_read() -> None:
    disk = MemoryDisk()
    store = open_store(disk)
    append_sync(store, range(1, 5))
    disk.flip_bit("wal.log", FILE_HEADER_SIZE + SIZE + 5, 2)  # op 2's header
    got = []
    with pytest.raises(CorruptEntry):
        got.extend(store.wal.entries())
    assert got == [entry(1)]
    assert store.wal.corrupt_ops() == [2]
    assert list(store.wal.entries(3)) == [entry(3), entry(4)]
    store.wal.repair(entry(2))
    assert store.wal.corrupt_ops() == []
    with pytest.raises(InvalidArgument):
        disk.flip_bit("wal.log", 10_000, 0)


def test_fault_injection_is_deterministic() -> None:
    digests = []
    for _ in range(2):
        disk = MemoryDisk(seed=7)
        store = open_store(disk)
        append_sync(store, range(1, 6))
        flips = [disk.flip_random_bit("wal.log") for _ in range(3)]
        digests.append((flips, disk.digest()))
    assert digests[0] == digests[1]
    assert MemoryDisk(seed=8).digest() == MemoryDisk(seed=7).digest()  # empty disks agree


def test_sync_latency_is_simulated_and_deterministic() -> None:
    infos = []
    for policy in ("always", "group", "never"):
        store = MemoryStore(
            cluster_id=CLUSTER,
            replica_id=0,
            sync_policy=policy,  # type: ignore[arg-type]
            sync_latency_us=250,
            write_latency_us_per_kib=2048,
        )
        for op in range(1, 4):
            store.wal.append(entry(op))
        infos.append(store.wal.sync())
    written = 3 * SIZE * 2  # 2048 us/KiB = 2 us per byte
    assert [i.latency_us for i in infos] == [3 * 250 + written, 250 + written, written]
    assert [i.durable for i in infos] == [True, True, False]
