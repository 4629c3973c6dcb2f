"""Lab L4's checks: WAL recovery of a torn tail (``classify_tail``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from clobkit.labs import _judge
from clobkit.storage.format import RECORD_HEADER_SIZE, RECORD_MAGIC

CAMPAIGN: dict[str, Any] = {"ops": 60, "faults": ("crash", "pause", "loss")}

SPEC = [
    (RECORD_MAGIC, "torn", "4 bytes: the start of a header"),
    (b"\xd5" * (RECORD_HEADER_SIZE - 1), "torn", "one byte short of a header"),
    (bytes(4096), "torn", "4096 zero bytes: allocated, never written"),
    (b"x" * 100, "corrupt", "100 bytes that do not parse"),
    (bytes(50) + b"x" * 50, "corrupt", "zeros, then 50 bytes that do not parse"),
]


def checks(fn: Callable[..., Any]) -> Iterator[tuple[str, str, Callable[[], str | None]]]:
    """(kind, name, run) for each check; ``run`` returns None or what went wrong."""
    for tail, want, what in SPEC:

        def spec(tail: bytes = tail, want: str = want) -> str | None:
            got = fn(tail)
            return None if got == want else f"got {got!r}"

        yield "spec", f"{what} -> {want!r}", spec
    yield "staged", "power fails during a write: the torn record is cut", _torn_write
    yield "staged", "zeros after the last record (preallocated space): cut", _zero_tail
    yield "staged", "the last synced record's header is damaged: reported, kept", _damaged_header
    yield "staged", "a damaged, acknowledged record on a majority member: nothing lost", _cluster


def _store(records: int, unsynced: int = 0) -> tuple[Any, Any]:
    from clobkit.storage import LogEntry, MemoryDisk, MemoryStore

    disk = MemoryDisk()
    store = MemoryStore(disk, cluster_id="lab", replica_id=0, sync_policy="group")
    for op in range(1, records + 1):
        store.wal.append(LogEntry(view=1, op=op, payload=f"order-{op}".encode()))
    store.wal.sync()
    for op in range(records + 1, records + unsynced + 1):
        store.wal.append(LogEntry(view=1, op=op, payload=f"order-{op}".encode()))
    return disk, store


def _reopen(disk: Any) -> Any:
    from clobkit.storage import MemoryStore

    return MemoryStore(disk, cluster_id="lab", replica_id=0).wal


def _expect(wal: Any, last_op: int, torn: bool, corrupt: tuple[tuple[int, int], ...]) -> str | None:
    report = wal.recovery
    got = (report.last_op, report.torn_tail, report.corrupt)
    want = (last_op, torn, corrupt)
    if got == want:
        return None
    return f"after recovery (last op, torn tail, corrupt) = {got}, expected {want}"


def _torn_write() -> str | None:
    disk, store = _store(5, unsynced=2)
    store.crash(torn_bytes=30)  # part of op 6's header reaches the disk
    return _expect(_reopen(disk), 5, True, ())


def _zero_tail() -> str | None:
    disk, store = _store(5)
    size = disk.size("wal.log")
    store.close()
    disk.write("wal.log", size, bytes(4096))
    disk.fsync("wal.log")
    return _expect(_reopen(disk), 5, True, ())


def _damaged_header() -> str | None:
    disk, store = _store(5)
    store.close()
    disk.flip_bit("wal.log", disk.contents("wal.log").rfind(RECORD_MAGIC), 0)
    return _expect(_reopen(disk), 5, False, ((5, 5),))


def _cluster() -> str | None:
    """Op 3 is acknowledged with {n0, n1} while n2 is cut off; the header of op 3 is damaged on
    n1's disk and n1 restarts; then n0 crashes and the network heals. Only n1's disk can carry
    op 3 into the next view: dropping it loses an acknowledged order."""
    import clobkit as ck

    c = ck.Cluster(3, seed=1, storage="memory")
    c.monitor.strict = False
    c.place("alice", "sell", price="101", qty=5)
    c.place("bob", "sell", price="102", qty=5)
    c.isolate("n2")
    c.place("w", "buy", price="100", qty=10)  # op 3, on n0 and n1 only
    c.crash("n1")
    disk = c.nodes["n1"].disk
    disk.flip_bit("wal.log", disk.contents("wal.log", durable=True).rfind(RECORD_MAGIC), 0)
    c.restart("n1")
    c.crash("n0")
    c.heal()
    c.run(ms=600)
    c.restart("n0")
    c.run(ms=600)
    c.live_orders()
    c.run()
    return _judge(c)
