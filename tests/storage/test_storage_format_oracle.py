"""WAL records framed with the prebuilt hashers are the same bytes and fail the same way.

``clobkit.storage.format`` copies two prebuilt BLAKE2b hashers instead of building one per
checksum, and remembers small records it framed or verified. The functions below are the
framing as it was before (one ``hashlib.blake2b(...)`` call per checksum, over concatenated
bytes), kept as the oracle: for random views, ops and payloads both must frame identical bytes
(so every existing WAL file still reads), and for damaged records both must give the same
decode outcome (value, or exception type and message), on a first decode and again (when
``decode_record`` may answer from the bytes it remembers; failures are never remembered). In a
damaged WAL image, every record :func:`~clobkit.storage.format.scan` accepts must decode under
the old framing to the payload written, every body it calls corrupt must fail the old check,
and it may accept only records that survived intact.
"""

from __future__ import annotations

import hashlib
import struct
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobkit.errors import CorruptEntry
from clobkit.storage import format as fmt
from clobkit.storage.base import LogEntry

_REC_HEAD = struct.Struct("<4sIQQ")


def old_sum8(data: bytes, person: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8, person=person).digest()


def old_encode_record(view: int, op: int, payload: bytes) -> bytes:
    head = _REC_HEAD.pack(fmt.RECORD_MAGIC, len(payload), view, op)
    body_sum = old_sum8(head + payload, b"clobkit-record")
    return head + body_sum + old_sum8(head + body_sum, b"clobkit-rechead") + payload


def old_decode_record(data: bytes) -> LogEntry:
    if len(data) < fmt.RECORD_HEADER_SIZE or data[:4] != fmt.RECORD_MAGIC:
        raise CorruptEntry("record header is damaged (bad magic or header checksum)")
    head = data[: fmt.RECORD_HEADER_SIZE]
    if old_sum8(head[:32], b"clobkit-rechead") != head[32:40]:
        raise CorruptEntry("record header is damaged (bad magic or header checksum)")
    _magic, length, view, op = _REC_HEAD.unpack_from(head)
    if length > fmt.MAX_PAYLOAD or op == 0:
        raise CorruptEntry("record header is damaged (bad magic or header checksum)")
    if len(data) != fmt.RECORD_HEADER_SIZE + length:
        raise CorruptEntry(f"record for op {op}: {len(data)} bytes, header says {length} payload")
    payload = data[fmt.RECORD_HEADER_SIZE :]
    if old_sum8(head[:24] + payload, b"clobkit-record") != head[24:32]:
        raise CorruptEntry(f"record for op {op} fails its checksum")
    return LogEntry(view, op, bytes(payload))


def outcome(decode: Any, data: bytes) -> tuple[object, ...]:
    try:
        return ("ok", decode(data))
    except Exception as exc:  # the exact exception is what we compare
        return ("raises", type(exc), str(exc))


def damage(data: bytes, draw: st.DrawFn) -> bytes:
    how = draw(st.sampled_from(["flip", "cut", "insert", "append", "none"]))
    i = draw(st.integers(0, max(0, len(data) - 1)))
    if how == "flip" and data:
        return data[:i] + bytes([data[i] ^ draw(st.integers(1, 255))]) + data[i + 1 :]
    if how == "cut":
        return data[:i]
    if how == "insert":
        return data[:i] + draw(st.binary(min_size=1, max_size=50)) + data[i:]
    if how == "append":
        return data + draw(st.binary(min_size=1, max_size=50))
    return data


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
views = st.integers(0, 2**64 - 1) | st.integers(0, 5)
ops = st.integers(1, 2**64 - 1) | st.integers(1, 50)


@SETTINGS
@given(views, ops, st.binary(max_size=40) | st.binary(min_size=60, max_size=400), st.data())
def test_records_are_identical_and_fail_identically(
    view: int, op: int, payload: bytes, data: st.DataObject
) -> None:
    rec = fmt.encode_record(view, op, payload)
    assert rec == old_encode_record(view, op, payload)
    assert fmt.decode_record(rec) == LogEntry(view, op, payload)
    bad = damage(rec, data.draw)
    expected = outcome(old_decode_record, bad)
    assert outcome(fmt.decode_record, bad) == expected
    assert outcome(fmt.decode_record, bytes(bytearray(bad))) == expected  # again, fresh bytes
    if expected[0] == "raises":
        assert bad not in fmt._records  # a failure is never remembered


def old_image(records: list[tuple[int, int, bytes]]) -> bytes:
    return fmt.encode_file_header(0, 0) + b"".join(old_encode_record(*r) for r in records)


@SETTINGS
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=6), st.data())
def test_damaged_wal_images_scan_the_same(payloads: list[bytes], data: st.DataObject) -> None:
    records = [(1 + i // 3, i + 1, p) for i, p in enumerate(payloads)]
    image = old_image(records)
    assert image == fmt.encode_file_header(0, 0) + b"".join(fmt.encode_record(*r) for r in records)
    head, body = image[: fmt.FILE_HEADER_SIZE], image[fmt.FILE_HEADER_SIZE :]
    bad = head + damage(body, data.draw)
    result = fmt.scan(bad)
    # What the old framing's checks say about every record scan() accepted or refused.
    for op, view, start, end in result.records:
        assert old_decode_record(bad[start:end]) == LogEntry(view, op, records[op - 1][2])
    for region in result.corrupt:
        if region.view is not None:  # intact header, damaged body
            assert outcome(old_decode_record, bad[region.start : region.end])[0] == "raises"
    accepted = {op for op, *_ in result.records}
    intact = {op for _v, op, _p in records if old_encode_record(*records[op - 1]) in bad}
    assert accepted <= intact
