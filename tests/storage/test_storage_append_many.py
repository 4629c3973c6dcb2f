"""``LogFile.append_many`` is ``append`` one entry at a time, except that it is all or nothing.

For seeded random batches (views that stay or rise, payloads new or already framed by another
log, which is the memo's fast path) two logs take the same entries, one through
``append_many`` and one through ``append`` per entry: they must hold the same entries, the same
unsynced bytes and, after a sync, the same file. For a batch holding one bad entry (wrong op,
lower view, bool view, non-bytes payload, oversized payload, not an entry), ``append_many``
must raise exactly what ``append`` raises for that entry and leave the log as it was: same
positions, same unsynced bytes, nothing pending from the good entries before it. Checked by
hand: dropping the view test from the memo fast path (a lower view already framed gets in)
fails 2 cases here, and buffering the good entries before a bad one fails 7. A new entry is
framed inline (one ``encode_record`` call, no ``_record``): its bytes are compared with the
format as documented, framed by fresh hashers, around the memo's size limit. Checked by hand
too: the inline path without the view test fails 5 cases, without the size limit 2, framing a
payload cut to 2,048 bytes 4.
"""

from __future__ import annotations

import hashlib
import random
import struct
from typing import Any

import pytest

from clobkit.errors import ClobError
from clobkit.storage import LogEntry, MemoryDisk, MemoryStore
from clobkit.storage.format import MAX_PAYLOAD, RECORD_MAGIC, encode_record


def _log(disk: MemoryDisk | None = None) -> Any:
    return MemoryStore(disk or MemoryDisk(), cluster_id="c", replica_id=0).wal


def _state(wal: Any) -> tuple[Any, ...]:
    return wal.first_op, wal.synced_op, wal.last_op, wal.last_view, wal.unsynced_bytes()


def _batch(rng: random.Random, first_op: int, view: int, size: int) -> list[LogEntry]:
    entries = []
    for op in range(first_op, first_op + size):
        view += rng.random() < 0.2
        payload = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
        if rng.random() < 0.5:
            encode_record(view, op, payload)  # framed before (by "another replica"): memo hit
        entries.append(LogEntry(view, op, payload))
    return entries


def test_append_many_equals_appends_one_by_one() -> None:
    rng = random.Random(7)
    disk_a, disk_b = MemoryDisk(), MemoryDisk()
    many, one = _log(disk_a), _log(disk_b)
    view = 0
    for _round in range(200):
        batch = _batch(rng, many.last_op + 1, view, rng.randrange(0, 6))
        many.append_many(batch)
        for entry in batch:
            one.append(entry)
        view = many.last_view
        assert _state(many) == _state(one)
        if rng.random() < 0.3:
            many.sync()
            one.sync()
            assert disk_a.contents("wal.log") == disk_b.contents("wal.log")
    assert [many.get(op) for op in range(1, many.last_op + 1)] == [
        one.get(op) for op in range(1, one.last_op + 1)
    ]


BAD = {
    "op skips": lambda op, view: LogEntry(view, op + 1, b"x"),
    "lower view": lambda op, view: LogEntry(view - 1, op, b"x"),
    "lower view, framed before": lambda op, view: (
        encode_record(view - 1, op, b"y"),
        LogEntry(view - 1, op, b"y"),
    )[1],
    "bool view": lambda op, view: LogEntry(True, op, b"x"),  # type: ignore[arg-type]
    "str payload": lambda op, view: LogEntry(view, op, "x"),  # type: ignore[arg-type]
    "oversized payload": lambda op, view: LogEntry(view, op, bytes(MAX_PAYLOAD + 1)),
    "not an entry": lambda op, view: (view, op, b"x"),
}


@pytest.mark.parametrize("how", sorted(BAD))
@pytest.mark.parametrize("position", [0, 2])
def test_a_bad_entry_raises_what_append_raises_and_changes_nothing(how: str, position: int) -> None:
    wal, reference = _log(), _log()
    for log in (wal, reference):
        log.append_many([LogEntry(2, 1, b"a"), LogEntry(2, 2, b"b")])
    before = _state(wal)
    good = [LogEntry(2, op, b"g") for op in (3, 4)]
    for entry in good[:position]:
        reference.append(entry)
    bad = BAD[how](3 + position, 2)
    with pytest.raises(ClobError) as expected:
        reference.append(bad)
    batch = [*good[:position], bad, LogEntry(2, 6, b"after")]
    with pytest.raises(type(expected.value)) as raised:
        wal.append_many(batch)
    assert str(raised.value) == str(expected.value)
    assert _state(wal) == before


def _oracle_record(view: int, op: int, payload: bytes) -> bytes:
    """A record framed as format.py documents it, with fresh hashers (no memo, no inline)."""
    head = struct.pack("<4sIQQ", RECORD_MAGIC, len(payload), view, op)
    body = hashlib.blake2b(head + payload, digest_size=8, person=b"clobkit-record").digest()
    return (
        head
        + body
        + hashlib.blake2b(head + body, digest_size=8, person=b"clobkit-rechead").digest()
        + payload
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_framed_bytes_are_the_documented_format(seed: int) -> None:
    """append_many frames an entry inline (one encode_record call, no _record) unless another
    log just framed it (the memo); both give the documented bytes, at every payload size around
    the memo's limit and for views up to 2**64 - 1."""
    rng = random.Random(seed)
    wal = _log()
    expected = []
    view = rng.choice([0, 5, 2**64 - 3])
    for op in range(1, 60):
        view = min(view + (rng.random() < 0.2), 2**64 - 1)
        size = rng.choice([0, 1, 17, 2007, 2008, 2009, 2048, 4096, rng.randrange(0, 3000)])
        payload = rng.randbytes(size)
        if rng.random() < 0.3:
            encode_record(view, op, payload)  # framed before (by "another replica"): memo hit
        wal.append_many([LogEntry(view, op, payload)])
        expected.append(_oracle_record(view, op, payload))
    assert wal.unsynced_bytes() == b"".join(expected)
    wal.sync()
    assert [wal.get(op).payload for op in (1, 59)] == [expected[0][40:], expected[-1][40:]]


def test_common_entries_take_the_inline_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checking path (_record) is only for what the inline checks do not admit."""
    wal = _log()

    def refuse(*args: object) -> bytes:
        raise AssertionError("_record called for a common entry")

    monkeypatch.setattr(wal, "_record", refuse)
    wal.append_many([LogEntry(1, 1, b"new"), LogEntry(1, 2, b"x" * 5000)])
    wal.append(LogEntry(2, 3, b"one"))
    assert wal.last_op == 3
    with pytest.raises(AssertionError, match="_record called"):
        wal.append(LogEntry(1, 4, b"lower view"))
