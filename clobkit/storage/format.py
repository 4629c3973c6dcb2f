"""The on-disk byte formats: WAL file header, framed records, small atomic files.

A WAL file is a 40-byte **file header** followed by **records**, back to back::

    file header  magic "CLOBKWAL" | version u16 | header size u16 | flags u32
                 | base_op u64 | base_view u64 | header checksum (8 bytes)
    record       record magic (4) | payload length u32 | view u64 | op u64
                 | body checksum (8) | header checksum (8) | payload

All integers are little-endian. ``base_op`` is the op just before the first
record (0 for a log that was never compacted) and ``base_view`` its view; a
compaction rewrites the file with a new base (see :mod:`clobkit.storage.wal`).

**Checksums.** Every checksum is BLAKE2b truncated to 8 bytes
(``hashlib.blake2b(digest_size=8)``) with a distinct ``person`` string per
use, so a record header can never validate as a file header or a body. Why
not CRC32C: the Python standard library has no CRC32C (``zlib.crc32`` is
CRC-32/IEEE), and a third-party C extension would be a dependency. BLAKE2b is
in ``hashlib``, runs in C at roughly a GB/s, and a 64-bit digest misses a
random corruption with probability 2**-64 (CRC32C: 2**-32) while also
catching every burst a CRC catches in practice. The *body checksum* covers the
24 header bytes and the payload; the *header checksum* covers the 24 header
bytes and the body checksum. The header therefore **identifies itself**: at any
offset, "record magic + valid header checksum" says a record starts here, and
its length is trustworthy even when its payload is damaged. Recovery uses this
to step over a corrupt record (valid header, bad body: the op is known
exactly) and to resynchronise after an unreadable header (search for the next
valid header; the corrupt op range is inferred from its neighbours).

**Small files** (identity, metadata, snapshot) are one blob each: an 8-byte
kind magic, version u16, reserved u16, payload length u32, payload, then a
16-byte BLAKE2b checksum of everything before it. They are replaced
atomically (write a temp file, fsync, rename, fsync the directory), so a
reader sees a complete old blob or a complete new one.

>>> rec = encode_record(3, 7, b"hello")
>>> len(rec) == RECORD_HEADER_SIZE + 5
True
>>> decode_record(rec)
LogEntry(view=3, op=7, payload=b'hello')
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from clobkit.errors import CorruptEntry, CorruptWalHeader, NotAWal, UnsupportedFormat
from clobkit.storage.base import LogEntry

__all__ = [
    "FILE_MAGIC",
    "FORMAT_VERSION",
    "FILE_HEADER_SIZE",
    "RECORD_MAGIC",
    "RECORD_HEADER_SIZE",
    "MAX_PAYLOAD",
    "CHECKSUM",
    "CorruptWalHeader",
    "encode_file_header",
    "decode_file_header",
    "encode_record",
    "decode_record",
    "Region",
    "ScanResult",
    "scan",
    "classify_tail",
    "encode_blob",
    "decode_blob",
]

FILE_MAGIC = b"CLOBKWAL"
FORMAT_VERSION = 1
CHECKSUM = "blake2b-64"
_FILE_HEAD = struct.Struct("<8sHHIQQ")  # magic, version, header size, flags, base_op, base_view
FILE_HEADER_SIZE = _FILE_HEAD.size + 8
RECORD_MAGIC = b"\xd5\xc1\x0b\x1a"
_REC_HEAD = struct.Struct("<4sIQQ")  # magic, payload length, view, op
RECORD_HEADER_SIZE = _REC_HEAD.size + 16
MAX_PAYLOAD = 16 * 1024 * 1024
_U64_MAX = 2**64 - 1

_BLOB_HEAD = struct.Struct("<8sHHI")  # kind magic, version, reserved, payload length
_BLOB_SUM = 16


def _sum8(data: bytes, person: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=8, person=person).digest()


# Records are framed and checked on every append and read, so their two hashers are built
# once (digest size and person set) and copied per use: a copy skips the keyword parsing
# and parameter block set-up of a new ``blake2b(...)``; the digests are the same bytes.
_RECORD_SUM = hashlib.blake2b(digest_size=8, person=b"clobkit-record")
_RECHEAD_SUM = hashlib.blake2b(digest_size=8, person=b"clobkit-rechead")


def _record_sum(head: bytes, payload: bytes) -> bytes:
    """The body checksum: the 24 header bytes then the payload (``_sum8(head + payload)``)."""
    h = _RECORD_SUM.copy()
    h.update(head)
    h.update(payload)
    return h.digest()


def _rechead_sum(head: bytes) -> bytes:
    """The header checksum of ``head`` (24 header bytes and the body checksum)."""
    h = _RECHEAD_SUM.copy()
    h.update(head)
    return h.digest()


def encode_file_header(base_op: int, base_view: int) -> bytes:
    """The 40-byte WAL file header for a log whose first op is ``base_op + 1``.

    >>> decode_file_header(encode_file_header(10, 2))
    (10, 2)
    """
    assert 0 <= base_op <= _U64_MAX and 0 <= base_view <= _U64_MAX
    head = _FILE_HEAD.pack(FILE_MAGIC, FORMAT_VERSION, FILE_HEADER_SIZE, 0, base_op, base_view)
    return head + _sum8(head, b"clobkit-walfile")


def decode_file_header(data: bytes) -> tuple[int, int]:
    """``(base_op, base_view)`` from the start of a WAL file.

    Raises ``NotAWal`` (wrong magic or too short), ``UnsupportedFormat``
    (another version) or :class:`CorruptWalHeader` (checksum mismatch).
    """
    if len(data) < len(FILE_MAGIC) or data[: len(FILE_MAGIC)] != FILE_MAGIC:
        raise NotAWal(f"not a clobkit WAL: magic {bytes(data[:8])!r} != {FILE_MAGIC!r}")
    if len(data) < FILE_HEADER_SIZE:
        raise NotAWal(f"not a clobkit WAL: {len(data)} bytes is shorter than a file header")
    _magic, version, header_size, _flags, base_op, base_view = _FILE_HEAD.unpack_from(data)
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(
            f"WAL format version {version} is not supported (this clobkit reads {FORMAT_VERSION})"
        )
    head = bytes(data[: _FILE_HEAD.size])
    if header_size != FILE_HEADER_SIZE or data[_FILE_HEAD.size : FILE_HEADER_SIZE] != _sum8(
        head, b"clobkit-walfile"
    ):
        raise CorruptWalHeader("the WAL file header fails its checksum")
    return base_op, base_view


# Recently framed or verified small records, by their exact bytes. ``decode_record`` is a
# pure function of the bytes, so bytes equal to ones already verified (a WAL read-back of an
# entry just appended, the same entry on the three replicas of a simulated cluster) decode
# to the same entry without hashing again; any damage makes different bytes, which are
# checked in full. Failures are never remembered. Bounded: at most _MEMO_SIZE records of at
# most _MEMO_RECORD bytes (cleared when full).
_MEMO_SIZE = 1024
_MEMO_RECORD = 2048
_records: dict[bytes, LogEntry | tuple[int, int, bytes]] = {}


def _remember(record: bytes, entry: LogEntry | tuple[int, int, bytes]) -> None:
    if len(_records) >= _MEMO_SIZE:
        _records.clear()
    _records[record] = entry


# Recently framed small records, by ``(view, op, payload)``: the record is a pure function of
# the three, and the replicas of a simulated cluster frame the same entry (the very same payload
# object, whose hash Python keeps) one after the other, so the second and third framings are a
# dict look-up instead of two checksums. Bounded like ``_records``.
_framed: dict[tuple[int, int, bytes], bytes] = {}

recent_records: Mapping[tuple[int, int, bytes], bytes] = _framed
"""``(view, op, payload) -> record`` for the records :func:`encode_record` framed recently
(read-only), for the log's append path: ``key in recent_records`` and ``recent_records[key]``
make no call (a record found here is at most ``_MEMO_RECORD`` bytes). The memo is cleared in
place, never replaced."""


def encode_record(view: int, op: int, payload: bytes) -> bytes:
    """Frame one record: 40-byte self-identifying header plus ``payload``. O(len(payload)).

    A small record is remembered by its bytes (``_records``) and, when the three arguments
    have exact types, by ``(view, op, payload)`` (``_framed``): framing it again is a dict
    look-up. One frame from the log's append to the bytes: the checksums are computed here,
    inline (``_record_sum`` and ``_rechead_sum``), as this runs for every entry.

    >>> encode_record(1, 2, b"x") == encode_record(1, 2, b"x")
    True
    >>> decode_record(encode_record(1, 2, b"x"))
    LogEntry(view=1, op=2, payload=b'x')
    """
    key: tuple[int, int, bytes] | None = None
    if type(payload) is bytes and type(view) is int and type(op) is int:
        key = (view, op, payload)
        if key in _framed:  # (`in` and `[]`: no call)
            return _framed[key]
    size = len(payload)
    assert 0 <= view <= _U64_MAX and 0 < op <= _U64_MAX and size <= MAX_PAYLOAD
    head = _REC_HEAD.pack(RECORD_MAGIC, size, view, op)
    h = _RECORD_SUM.copy()
    h.update(head)
    h.update(payload)
    head += h.digest()
    h = _RECHEAD_SUM.copy()
    h.update(head)
    record = head + h.digest() + payload
    if size <= _MEMO_RECORD - RECORD_HEADER_SIZE:  # (len(record) <= _MEMO_RECORD)
        if type(payload) is bytes:
            # the entry is built if it is read back (see _records)
            if len(_records) >= _MEMO_SIZE:
                _records.clear()
            _records[record] = (view, op, payload)
        if key is not None:
            if len(_framed) >= _MEMO_SIZE:
                _framed.clear()
            _framed[key] = record
    return record


def _read_header(data: bytes, pos: int) -> tuple[int, int, int, bytes] | None:
    """``(length, view, op, body_sum)`` of a valid record header at ``pos``, else ``None``."""
    if len(data) - pos < RECORD_HEADER_SIZE or data[pos : pos + 4] != RECORD_MAGIC:
        return None
    head = data[pos : pos + RECORD_HEADER_SIZE]
    if _rechead_sum(head[:32]) != head[32:40]:
        return None
    _magic, length, view, op = _REC_HEAD.unpack_from(head)
    if length > MAX_PAYLOAD or op == 0:
        return None
    return length, view, op, head[24:32]


def _body_ok(data: bytes, pos: int, length: int, body_sum: bytes) -> bool:
    head = data[pos : pos + _REC_HEAD.size]
    payload = data[pos + RECORD_HEADER_SIZE : pos + RECORD_HEADER_SIZE + length]
    return _record_sum(head, payload) == body_sum


def decode_record(data: bytes) -> LogEntry:
    """Decode and validate exactly one record; raises ``CorruptEntry`` if it is damaged.

    Bytes equal to a record recently framed or verified here are not hashed again (see
    ``_records``): the answer is a function of the bytes alone.
    """
    if type(data) is bytes:
        known = _records.get(data)
        if isinstance(known, LogEntry):
            return known
        if known is not None:
            entry = _records[data] = LogEntry(*known)
            return entry
    header = _read_header(data, 0)
    if header is None:
        raise CorruptEntry("record header is damaged (bad magic or header checksum)")
    length, view, op, body_sum = header
    if len(data) != RECORD_HEADER_SIZE + length:
        raise CorruptEntry(f"record for op {op}: {len(data)} bytes, header says {length} payload")
    if not _body_ok(data, 0, length, body_sum):
        raise CorruptEntry(f"record for op {op} fails its checksum")
    entry = LogEntry(view, op, bytes(data[RECORD_HEADER_SIZE:]))
    if type(data) is bytes and len(data) <= _MEMO_RECORD:
        _remember(data, entry)
    return entry


@dataclass(frozen=True, slots=True)
class Region:
    """Ops ``first_op..last_op`` that are not readable, and the bytes ``[start, end)`` they occupy.

    ``view`` is known (not ``None``) when the record header was intact and only
    the body failed; ``start == end`` when the ops have no bytes at all (a gap
    between two valid records).
    """

    first_op: int
    last_op: int
    start: int
    end: int
    view: int | None = None


@dataclass(slots=True)
class ScanResult:
    """What :func:`scan` found in one WAL file image."""

    base_op: int
    base_view: int
    records: list[tuple[int, int, int, int]] = field(default_factory=list)  # op, view, start, end
    corrupt: list[Region] = field(default_factory=list)
    stray: list[tuple[int, int]] = field(default_factory=list)  # junk bytes that hide no op
    torn_start: int | None = None  # offset where a torn tail begins
    size: int = 0

    @property
    def last_op(self) -> int:
        """The last op the file accounts for (valid or corrupt)."""
        last = self.base_op
        if self.records:
            last = max(last, self.records[-1][0])
        if self.corrupt:
            last = max(last, self.corrupt[-1].last_op)
        return last

    @property
    def valid_end(self) -> int:
        """Where the file should end: the torn tail (if any) starts here."""
        return self.size if self.torn_start is None else self.torn_start


def scan(data: bytes) -> ScanResult:
    """Parse a whole WAL file image: valid records, corrupt regions, torn tail. O(len(data)).

    Rules: a valid header whose record extends past the end of the file is a
    torn tail; so is a run of fewer than ``RECORD_HEADER_SIZE`` unparseable
    bytes, or an all-zero run, at the end. A complete record with a valid
    header and a bad body is corrupt (its op is known). Unparseable bytes are
    skipped by searching for the next valid header; the ops between the valid
    neighbours are reported corrupt. Unparseable bytes (not zeros, at least a
    header long) at the very end are one corrupt record (op = previous + 1).
    A valid-looking record that does not continue the sequence (op not above
    the previous op, or a lower view) is treated as unparseable bytes.

    >>> image = encode_file_header(0, 0) + encode_record(1, 1, b"a") + encode_record(1, 2, b"b")
    >>> r = scan(image[:-3])
    >>> [op for op, *_ in r.records], r.torn_start == len(image) - RECORD_HEADER_SIZE - 1
    ([1], True)
    """
    base_op, base_view = decode_file_header(data[:FILE_HEADER_SIZE])
    result = ScanResult(base_op, base_view, size=len(data))
    n = len(data)
    pos = FILE_HEADER_SIZE
    prev_op, prev_view = base_op, base_view
    junk_start: int | None = None

    def close_gap(upto_op: int, end: int) -> None:
        # Everything between the previous readable op and ``upto_op`` is corrupt.
        nonlocal junk_start
        start = end if junk_start is None else junk_start
        if upto_op > prev_op + 1:
            result.corrupt.append(Region(prev_op + 1, upto_op - 1, start, end))
        elif junk_start is not None:
            result.stray.append((start, end))
        junk_start = None

    while pos < n:
        header = _read_header(data, pos)
        if header is not None and (header[2] <= prev_op or header[1] < prev_view):
            header = None  # valid bytes, wrong place: a stale or misdirected copy
        if header is None:
            if junk_start is None:
                junk_start = pos
            nxt = data.find(RECORD_MAGIC, pos + 1)
            pos = n if nxt < 0 else nxt
            continue
        length, view, op, body_sum = header
        end = pos + RECORD_HEADER_SIZE + length
        if end > n:
            result.torn_start = pos
            break
        close_gap(op, pos)
        if _body_ok(data, pos, length, body_sum):
            result.records.append((op, view, pos, end))
        else:
            result.corrupt.append(Region(op, op, pos, end, view))
        prev_op, prev_view = op, view
        pos = end
    if junk_start is not None:
        junk_end = n if result.torn_start is None else result.torn_start
        junk = data[junk_start:junk_end]
        if classify_tail(junk) == "torn":
            result.torn_start = junk_start  # a partial header, or never-written (zero) space
        else:
            result.corrupt.append(Region(prev_op + 1, prev_op + 1, junk_start, junk_end))
    return result


def classify_tail(tail: bytes) -> Literal["torn", "corrupt"]:
    """Unparseable bytes at the end of a WAL file: a torn write (``"torn"``) or a damaged record.

    ``tail`` runs from the first byte after the last readable record to the end of the file
    (or to a record that runs past the end). Fewer bytes than a record header, or only zeros
    (space the file system allocated but never wrote), can only be a write that power loss
    cut short: it was never synced, so never acknowledged, and recovery truncates it.
    Anything longer holds a record whose header was damaged after it was written: it may
    have been acknowledged, so it is reported corrupt (and repaired from a peer), never
    silently dropped. :func:`scan` calls this module-level function (looked up at each call);
    :mod:`clobkit.labs` (lab L4) swaps in a student's version. O(len(tail)).

    >>> classify_tail(b"CLOB"), classify_tail(bytes(100)), classify_tail(b"x" * 100)
    ('torn', 'torn', 'corrupt')
    """
    if len(tail) < RECORD_HEADER_SIZE or not tail.strip(b"\0"):
        return "torn"
    return "corrupt"


def encode_blob(kind: bytes, payload: bytes) -> bytes:
    """One checksummed small file: kind magic, version, length, payload, BLAKE2b-128.

    >>> decode_blob(b"CLOBMETA", encode_blob(b"CLOBMETA", b"{}"), "metadata")
    b'{}'
    """
    assert len(kind) == 8
    body = _BLOB_HEAD.pack(kind, FORMAT_VERSION, 0, len(payload)) + payload
    return body + hashlib.blake2b(body, digest_size=_BLOB_SUM, person=kind).digest()


def decode_blob(kind: bytes, data: bytes, what: str) -> bytes:
    """The payload of a blob written by :func:`encode_blob`.

    Raises ``NotAWal`` (wrong kind magic), ``UnsupportedFormat`` (other
    version) or ``CorruptEntry`` (length or checksum mismatch); ``what`` names
    the file in the message.
    """
    if len(data) < _BLOB_HEAD.size + _BLOB_SUM or data[:8] != kind:
        raise NotAWal(f"{what}: not a clobkit {kind.decode(errors='replace')} file")
    _kind, version, _reserved, length = _BLOB_HEAD.unpack_from(data)
    if version != FORMAT_VERSION:
        raise UnsupportedFormat(f"{what}: format version {version} is not supported")
    if len(data) != _BLOB_HEAD.size + length + _BLOB_SUM:
        raise CorruptEntry(f"{what}: length {len(data)} does not match its header")
    body = data[:-_BLOB_SUM]
    if hashlib.blake2b(body, digest_size=_BLOB_SUM, person=kind).digest() != data[-_BLOB_SUM:]:
        raise CorruptEntry(f"{what}: checksum mismatch")
    return bytes(body[_BLOB_HEAD.size :])
