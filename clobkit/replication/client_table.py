"""The replicated client table and the replica snapshot format that carries it.

The client table maps a client id to the last request number applied for it
and that request's reply (VSR's client-table; Raft thesis §6.3). It is part
of the replicated state: it changes only when a committed entry is applied,
so every replica holds the same table at the same commit number, a new
primary knows which requests already executed, and a retried request gets
the cached reply instead of executing twice.

A replica snapshot is the state machine's bytes plus this table, framed as
``u32 len | machine bytes | u32 count | (u16 len | id | u64 request | u64 op |
u32 len | reply)*``, clients sorted by id so equal states give equal bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from operator import call as _call
from typing import Any, Literal

__all__ = ["ClientRecord", "RequestKind", "classify_request", "decode_state", "encode_state"]

RequestKind = Literal["new", "retry", "stale"]

_U32 = struct.Struct(">I")
_REC = struct.Struct(">QQ")


class ClientRecord:
    """The last applied request of one client: its number, op and reply.

    ``reply`` may be given as bytes or as a function that encodes it: a backup never
    sends the replies it computes (only the primary answers clients), so it encodes one
    only if it needs it (a retry after it became primary, or a snapshot). The function is
    called at most once and must return the same bytes whenever it is called (the
    machine's result is immutable).

    A replica keeps one record per client and **updates it in place** when it applies
    that client's next request (``request_number``, ``op`` and the reply fields below),
    instead of building a record per command on every replica: copy what you read
    (``(rec.request_number, rec.op, rec.reply)``) if you keep it past a step. The reply is
    ``encoded`` when not ``None``, else ``encode(result)`` (computed and kept by
    :attr:`reply` when first read): the replica stores a machine's result and its
    encoder there, see ``StateMachine`` ``apply_split`` in :mod:`clobkit.replication.machine`.

    >>> rec = ClientRecord(2, 7, lambda: b"ok")
    >>> rec.reply, rec == ClientRecord(2, 7, b"ok"), rec
    (b'ok', True, ClientRecord(request_number=2, op=7, reply=b'ok'))
    >>> rec.request_number, rec.op = 3, 9
    >>> rec.encoded, rec.encode, rec.result = None, str.encode, "no"
    >>> rec.reply, rec
    (b'no', ClientRecord(request_number=3, op=9, reply=b'no'))
    """

    __slots__ = ("encode", "encoded", "op", "request_number", "result")

    def __init__(self, request_number: int, op: int, reply: bytes | Callable[[], bytes]) -> None:
        self.request_number = request_number
        self.op = op
        self.encoded: bytes | None
        self.encode: Callable[[Any], bytes] | None
        self.result: Any
        if isinstance(reply, bytes):
            self.encoded, self.encode, self.result = reply, None, None
        else:
            self.encoded, self.encode, self.result = None, _call, reply

    @property
    def reply(self) -> bytes:
        """The encoded reply (encoded now if it was deferred)."""
        if self.encoded is None:
            assert self.encode is not None
            self.encoded = self.encode(self.result)
            self.encode = self.result = None
        return self.encoded

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientRecord):
            return NotImplemented
        return (self.request_number, self.op, self.reply) == (
            other.request_number,
            other.op,
            other.reply,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"ClientRecord(request_number={self.request_number}, op={self.op}, "
            f"reply={self.reply!r})"
        )


def classify_request(record: ClientRecord | None, request_number: int) -> RequestKind:
    """What a request is, given the client's entry in the client table (``None``: no entry).

    ``"retry"``: the request the table's reply answers (same number), to be answered again
    from the table and never executed twice; ``"stale"``: older than that, the client has
    moved on; ``"new"``: not applied yet. The replica calls this module-level function (looked
    up at each call) when a request arrives at the primary and when a committed entry is
    applied; :mod:`clobkit.labs` (lab L1) swaps in a student's version. O(1).

    >>> rec = ClientRecord(request_number=4, op=9, reply=b"ok")
    >>> [classify_request(rec, n) for n in (3, 4, 5)], classify_request(None, 1)
    (['stale', 'retry', 'new'], 'new')
    """
    if record is None or request_number > record.request_number:
        return "new"
    return "retry" if request_number == record.request_number else "stale"


def encode_state(machine_bytes: bytes, table: dict[str, ClientRecord]) -> bytes:
    """Frame a snapshot of the machine and the client table (deterministic). O(state).

    >>> t = {"bob": ClientRecord(2, 7, b"ok")}
    >>> decode_state(encode_state(b"M", t)) == (b"M", t)
    True
    """
    parts = [_U32.pack(len(machine_bytes)), machine_bytes, _U32.pack(len(table))]
    for client_id in sorted(table):
        rec = table[client_id]
        cid = client_id.encode()
        parts += [struct.pack(">H", len(cid)), cid, _REC.pack(rec.request_number, rec.op)]
        parts += [_U32.pack(len(rec.reply)), rec.reply]
    return b"".join(parts)


def decode_state(data: bytes) -> tuple[bytes, dict[str, ClientRecord]]:
    """Split snapshot bytes into machine bytes and client table; ``ValueError`` if malformed."""
    try:
        pos = 0
        (n,) = _U32.unpack_from(data, pos)
        pos += 4
        machine_bytes = data[pos : pos + n]
        pos += n
        (count,) = _U32.unpack_from(data, pos)
        pos += 4
        table: dict[str, ClientRecord] = {}
        for _ in range(count):
            (clen,) = struct.unpack_from(">H", data, pos)
            pos += 2
            cid = data[pos : pos + clen].decode()
            pos += clen
            request_number, op = _REC.unpack_from(data, pos)
            pos += _REC.size
            (rlen,) = _U32.unpack_from(data, pos)
            pos += 4
            reply = data[pos : pos + rlen]
            pos += rlen
            table[cid] = ClientRecord(request_number, op, reply)
    except struct.error as exc:
        raise ValueError(f"malformed replica snapshot: {exc}") from None
    if pos != len(data) or len(machine_bytes) != n:
        raise ValueError("malformed replica snapshot: bad length")
    return machine_bytes, table
