"""Protocol messages as bytes on a TCP stream: checksummed, length-prefixed frames.

A frame is a 16-byte header and a body::

    magic b"CKF1" | version u8 | reserved u8 | body length u16 high | ... (see _HEAD)
    body checksum (8 bytes, BLAKE2b-64, person b"clobkit-frame") | body

The body is one message in a tagged, deterministic encoding (no pickle: decoding
never runs code). Log entries travel as **WAL records**
(:func:`clobkit.storage.format.encode_record`, checksummed the way the log
file stores them), and their payloads are the envelopes and book commands of
:mod:`clobkit.replication.envelope` and :mod:`clobkit.book.codec`: the same
versioned bytes the write-ahead log holds. Other values (query tuples, read
results such as fills and orders) use a small tagged tree encoding with a
fixed registry of record types.

Receiving is defensive. :class:`FrameReader` raises :class:`BadStream` when the
stream cannot be trusted any more (wrong magic, oversized length, checksum
mismatch): the host counts it and closes that connection. A frame whose
checksum is good but whose body does not decode into a well-formed message
(:func:`decode_message` raises :class:`BadFrame`) is dropped and counted, and
the connection stays up. Either way the replica never sees it.

>>> from clobkit.replication.messages import Commit
>>> m = Commit(cluster_id="c", source="n0", target="n1", view=2, commit=7)
>>> r = FrameReader()
>>> r.feed(encode_frame(m) + encode_frame(m)[:5])
>>> [decode_message(body) == m for body in r.frames()], r.buffered
([True], 5)
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from clobkit.book.results import RESULT_TYPES, ApplyResult, Fill, Order
from clobkit.errors import BadFrame, BadStream, ClobError
from clobkit.replication import messages as _messages
from clobkit.replication.step import Message
from clobkit.storage.base import LogEntry, Snapshot
from clobkit.storage.format import MAX_PAYLOAD, decode_record, encode_record

__all__ = [
    "FRAME_MAGIC",
    "FRAME_VERSION",
    "MAX_FRAME",
    "BadFrame",
    "BadStream",
    "FrameReader",
    "decode_message",
    "encode_frame",
    "encode_message",
]

FRAME_MAGIC = b"CKF1"
FRAME_VERSION = 1
MAX_FRAME = 4 * MAX_PAYLOAD
_HEAD = struct.Struct("<4sBBHI")  # magic, version, reserved, reserved, body length
_SUM = 8
_PERSON = b"clobkit-frame"
HEADER_SIZE = _HEAD.size + _SUM


def _checksum(body: bytes) -> bytes:
    return hashlib.blake2b(body, digest_size=_SUM, person=_PERSON).digest()


# -- the tagged value encoding -------------------------------------------------------------

_MESSAGE_KINDS: dict[str, type[Message]] = {
    name: cls
    for name in _messages.__all__
    if isinstance(cls := getattr(_messages, name), type) and issubclass(cls, Message)
}
_RECORDS: dict[str, type[Any]] = {
    "Fill": Fill,
    "Order": Order,
    "ApplyResult": ApplyResult,
    "Snapshot": Snapshot,
}
_INT = struct.Struct("<q")
_LEN = struct.Struct("<I")
_MAX_DEPTH = 32


def _field_values(value: Any) -> tuple[str, list[Any]]:
    cls = type(value)
    name = "ApplyResult" if cls in RESULT_TYPES else cls.__name__  # outcome subclasses too
    if hasattr(value, "_fields"):  # a NamedTuple
        return name, list(value)
    assert is_dataclass(value)
    # Only the data crosses the wire: a field left out of equality (an Order's market spec,
    # which only its repr reads) stays behind, and the receiver's default takes its place.
    return name, [getattr(value, f.name) for f in fields(value) if f.compare]


def _put(out: list[bytes], value: Any, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("value nested too deeply")
    if value is None:
        out.append(b"N")
    elif value is True:
        out.append(b"T")
    elif value is False:
        out.append(b"F")
    elif isinstance(value, int):
        if -(2**63) <= value < 2**63:
            out.append(b"I" + _INT.pack(value))
        else:
            raw = str(value).encode()
            out.append(b"J" + _LEN.pack(len(raw)) + raw)
    elif isinstance(value, str):
        raw = value.encode()
        out.append(b"S" + _LEN.pack(len(raw)) + raw)
    elif isinstance(value, bytes):
        out.append(b"B" + _LEN.pack(len(value)) + value)
    elif isinstance(value, LogEntry):
        raw = encode_record(value.view, value.op, value.payload)  # the WAL's own record
        out.append(b"W" + _LEN.pack(len(raw)) + raw)
    elif type(value) in RESULT_TYPES or (
        type(value).__name__ in _RECORDS and type(value) is _RECORDS[type(value).__name__]
    ):
        name, values = _field_values(value)
        raw = name.encode()
        out.append(b"R" + _LEN.pack(len(raw)) + raw + _LEN.pack(len(values)))
        for v in values:
            _put(out, v, depth + 1)
    elif isinstance(value, tuple | list):
        out.append((b"U" if isinstance(value, tuple) else b"L") + _LEN.pack(len(value)))
        for v in value:
            _put(out, v, depth + 1)
    elif isinstance(value, dict):
        out.append(b"D" + _LEN.pack(len(value)))
        for k, v in value.items():
            _put(out, k, depth + 1)
            _put(out, v, depth + 1)
    else:
        raise ValueError(f"cannot encode a {type(value).__name__}")


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if n < 0 or end > len(self.data):
            raise BadFrame("frame body truncated")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def length(self) -> int:
        n: int = _LEN.unpack(self.take(4))[0]
        if n > len(self.data) - self.pos and n > 0:
            # A count of items can exceed the bytes left only by lying: each item takes >= 1 byte.
            raise BadFrame("length beyond the frame")
        return n

    def value(self, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            raise BadFrame("value nested too deeply")
        tag = self.take(1)
        if tag == b"N":
            return None
        if tag == b"T":
            return True
        if tag == b"F":
            return False
        if tag == b"I":
            return _INT.unpack(self.take(8))[0]
        if tag == b"J":
            try:
                return int(self.take(self.length()).decode("ascii"))
            except ValueError as exc:
                raise BadFrame("bad big int") from exc
        if tag == b"S":
            try:
                return self.take(self.length()).decode()
            except UnicodeDecodeError as exc:
                raise BadFrame("bad UTF-8") from exc
        if tag == b"B":
            return self.take(self.length())
        if tag == b"W":
            try:
                return decode_record(self.take(self.length()))
            except ClobError as exc:
                raise BadFrame(f"bad log record: {exc}") from exc
        if tag in (b"U", b"L"):
            items = [self.value(depth + 1) for _ in range(self.length())]
            return tuple(items) if tag == b"U" else items
        if tag == b"D":
            out = {}
            for _ in range(self.length()):
                key = self.value(depth + 1)
                try:
                    out[key] = self.value(depth + 1)
                except TypeError as exc:  # an unhashable key
                    raise BadFrame("bad dict key") from exc
            return out
        if tag == b"R":
            name = self.take(self.length()).decode(errors="replace")
            cls = _RECORDS.get(name)
            if cls is None:
                raise BadFrame(f"unknown record type {name!r}")
            values = [self.value(depth + 1) for _ in range(self.length())]
            try:
                return cls(*values)
            except (TypeError, ValueError, ClobError) as exc:
                raise BadFrame(f"bad {name}") from exc
        raise BadFrame(f"unknown tag {tag!r}")


def encode_message(message: Message) -> bytes:
    """The frame body for ``message`` (deterministic). O(size of the message).

    Raises ``ValueError`` for a value the encoding has no tag for.
    """
    name = type(message).__name__
    assert _MESSAGE_KINDS.get(name) is type(message), name
    out: list[bytes] = []
    raw = name.encode()
    out.append(_LEN.pack(len(raw)) + raw)
    values = [getattr(message, f.name) for f in fields(message)]
    out.append(_LEN.pack(len(values)))
    for v in values:
        _put(out, v)
    return b"".join(out)


def decode_message(body: bytes) -> Message:
    """The message in a frame body; raises :class:`BadFrame` for anything malformed.

    Decoding checks the structure (kind, field count, tags, nested WAL
    records' checksums); :func:`clobkit.replication.messages.problem` then
    checks every field's type and range, as the replica does again itself.
    """
    r = _Reader(body)
    name = r.take(r.length()).decode(errors="replace")
    cls = _MESSAGE_KINDS.get(name)
    if cls is None:
        raise BadFrame(f"unknown message kind {name!r}")
    names = [f.name for f in fields(cls)]
    count = r.length()
    if count != len(names):
        raise BadFrame(f"{name} needs {len(names)} fields, got {count}")
    values = [r.value() for _ in names]
    if r.pos != len(body):
        raise BadFrame("trailing bytes after the message")
    try:
        message = cls(**dict(zip(names, values, strict=True)))
    except (TypeError, ValueError) as exc:
        raise BadFrame(f"bad {name}") from exc
    why = _messages.problem(message)
    if why is not None:
        raise BadFrame(f"malformed {name}: {why}")
    return message


def encode_frame(message: Message) -> bytes:
    """One frame (header, checksum, body) carrying ``message``."""
    body = encode_message(message)
    return _HEAD.pack(FRAME_MAGIC, FRAME_VERSION, 0, 0, len(body)) + _checksum(body) + body


class FrameReader:
    """Reassembles frames from the bytes of one connection, as they arrive.

    :meth:`feed` appends bytes; :meth:`frames` yields each complete frame
    body whose checksum holds and raises :class:`BadStream` at the first
    header that is not a clobkit frame or a checksum that fails (the rest
    of the stream cannot be trusted). A frame cut short stays buffered.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    @property
    def buffered(self) -> int:
        """Bytes received but not yet part of a complete frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    def frames(self) -> Iterator[bytes]:
        """Complete, checksummed frame bodies, in order."""
        buf = self._buf
        pos = 0
        try:
            while len(buf) - pos >= HEADER_SIZE:
                magic, version, _r1, _r2, length = _HEAD.unpack_from(buf, pos)
                if magic != FRAME_MAGIC:
                    raise BadStream("not a clobkit frame (bad magic)")
                if version != FRAME_VERSION:
                    raise BadStream(f"frame version {version} is not supported")
                if length > MAX_FRAME:
                    raise BadStream(f"frame of {length} B is over the limit")
                end = pos + HEADER_SIZE + length
                if len(buf) < end:
                    break
                body = bytes(buf[pos + HEADER_SIZE : end])
                if _checksum(body) != bytes(buf[pos + _HEAD.size : pos + HEADER_SIZE]):
                    raise BadStream("frame checksum mismatch")
                pos = end
                yield body
        finally:
            del buf[:pos]
