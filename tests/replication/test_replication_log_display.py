"""Reading the display property ``Replica.log`` changes no protocol state.

A replica whose WAL holds an entry that no longer passes its checksum shows its log
without that entry, and afterwards its status, corrupt set, counters, pending trace
events and numbers are exactly as before; the protocol still finds the damage itself
the next time it reads the entry.
"""

from __future__ import annotations

import random

from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.messages import Request
from clobkit.storage import FILE_HEADER_SIZE, RECORD_HEADER_SIZE, MemoryDisk, MemoryStore
from clobkit.storage.wal import WAL_FILE


def _state(r: Replica) -> tuple[object, ...]:
    return (
        r.status,
        r.view,
        r.op_number,
        r.commit_number,
        r.applied_op,
        sorted(r._journal.corrupt),
        list(r._events),
        list(r._out),
        dict(r.counters),
    )


def test_reading_the_log_of_a_damaged_wal_changes_nothing() -> None:
    cfg = ClusterConfig("demo", 1)
    disk = MemoryDisk()
    store = MemoryStore(disk, cluster_id="demo", replica_id=0)
    r = Replica(cfg, 0, store, KvMachine(), rng=random.Random(1))
    r.tick(0)
    for number, value in enumerate(["a", "b", "c"], start=1):
        req = Request(
            cluster_id="demo",
            source="client:a",
            target="n0",
            view=0,
            client_id="a",
            request_number=number,
            payload=KvMachine.append("x", value),
        )
        r.handle(req, now=10 * number)
    assert [row.op for row in r.log] == [1, 2, 3]
    first = store.wal.get(1)
    offset = FILE_HEADER_SIZE + RECORD_HEADER_SIZE + len(first.payload)  # op 2's record
    disk.flip_bit(WAL_FILE, offset + RECORD_HEADER_SIZE + 2, 0)

    before = _state(r)
    rows = r.log
    assert [row.op for row in rows] == [1, 3]
    assert _state(r) == before
    r.log  # noqa: B018 (reading twice changes nothing either)
    assert _state(r) == before

    # the protocol itself still finds the damage when it reads the entry
    assert r._entry(2) is None
    assert r._journal.corrupt == {2}
    assert [e.kind for e in r._events] == ["corrupt"]
