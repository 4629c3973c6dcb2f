"""The bytes a log entry carries: who asked, which request, when, and the command.

A WAL entry's payload is opaque to storage. The replica wraps the state
machine's command in an *envelope* that also records the client id and
request number (so the client table can be rebuilt by replaying the log: it
is replicated state, not a side table) and the primary-assigned timestamp
(so every replica applies the command with the same ``ts_us``; the book
never reads a clock). A *no-op* envelope is what a new primary appends at the
start of its view; it changes no state.

Layout (big-endian): ``b"E"``, kind (1 byte: 0 no-op, 1 request), ``ts_us``
(u64), ``request_number`` (u64), client id length (u16), client id (UTF-8),
then the command bytes.

Every replica decodes the same entry's envelope several times (to validate a shipped
entry, to apply it, to answer a duplicate request), so :func:`decode_envelope` remembers the
last few thousand byte strings it decoded: an :class:`Envelope` is immutable, so a repeat is a
dict look-up returning an equal (the same) object. Malformed bytes are never remembered.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass

from clobkit.slotinit import install_slot_init

__all__ = ["Envelope", "decode_envelope", "encode_envelope", "noop_payload"]

_HEAD = struct.Struct(">cBQQH")
_MAGIC = b"E"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One decoded log payload; ``client_id == ""`` and ``noop`` for a view's no-op."""

    client_id: str
    request_number: int
    ts_us: int
    payload: bytes
    noop: bool = False


# The primary builds an Envelope for every request: its __init__ fills the five slots through
# their own descriptors (cheaper than the frozen dataclass's; see clobkit.slotinit and
# tests/replication/test_replication_envelope_init.py).
install_slot_init(Envelope)

_MEMO_SIZE = 4096
_decoded: dict[bytes, Envelope] = {}

recent_envelopes: Mapping[bytes, Envelope] = _decoded
"""``data -> envelope`` for what :func:`decode_envelope` decoded (or :func:`encode_envelope`
encoded) recently (read-only), for the apply path: ``data in recent_envelopes`` and
``recent_envelopes[data]`` make no call (the replicas of a simulated cluster share one decode
of each entry). The memo is cleared in place, never replaced."""


def encode_envelope(envelope: Envelope) -> bytes:
    """Encode ``envelope`` to bytes (inverse of :func:`decode_envelope`).

    >>> e = Envelope("alice", 3, 1_000, b"cmd")
    >>> decode_envelope(encode_envelope(e)) == e
    True
    """
    client_id, request_number, ts_us, payload, noop = (
        envelope.client_id,
        envelope.request_number,
        envelope.ts_us,
        envelope.payload,
        envelope.noop,
    )
    cid = client_id.encode()
    data = _HEAD.pack(_MAGIC, 0 if noop else 1, ts_us, request_number, len(cid)) + cid + payload
    # The primary encodes each request's envelope; its backups decode those bytes. When they
    # decode back to this very envelope (exact types, a request with a client id or an empty
    # no-op: what decode_envelope accepts), remember it, so the backups' decode is a look-up.
    if (
        type(envelope) is Envelope
        and type(client_id) is str
        and type(request_number) is int
        and type(ts_us) is int
        and type(payload) is bytes
        and (
            (noop is False and client_id != "")
            or (noop is True and client_id == "" and payload == b"" and request_number == 0)
        )
    ):
        if len(_decoded) >= _MEMO_SIZE:
            _decoded.clear()
        _decoded[data] = envelope
    return data


def decode_envelope(data: bytes) -> Envelope:
    """Decode an envelope; raises ``ValueError`` on anything malformed. O(len(data)).

    >>> decode_envelope(noop_payload(5))
    Envelope(client_id='', request_number=0, ts_us=5, payload=b'', noop=True)
    >>> decode_envelope(b"E")
    Traceback (most recent call last):
    ...
    ValueError: envelope too short
    """
    if type(data) is bytes and data in _decoded:  # (`in` and `[]`: no call)
        return _decoded[data]
    envelope = _decode(data)
    if type(data) is bytes:
        if len(_decoded) >= _MEMO_SIZE:
            _decoded.clear()
        _decoded[data] = envelope
    return envelope


def _decode(data: bytes) -> Envelope:
    if not isinstance(data, bytes) or len(data) < _HEAD.size:
        raise ValueError("envelope too short")
    magic, kind, ts_us, request_number, cid_len = _HEAD.unpack_from(data)
    if magic != _MAGIC or kind not in (0, 1):
        raise ValueError("bad envelope header")
    end = _HEAD.size + cid_len
    if len(data) < end:
        raise ValueError("envelope client id truncated")
    client_id = data[_HEAD.size : end].decode()  # UnicodeDecodeError is a ValueError
    payload = data[end:]
    if kind == 0 and (client_id or payload or request_number):
        raise ValueError("no-op envelope with content")
    if kind == 1 and not client_id:
        raise ValueError("request envelope without client id")
    return Envelope(client_id, request_number, ts_us, payload, noop=kind == 0)


def noop_payload(ts_us: int) -> bytes:
    """The encoded no-op a new primary appends at ``ts_us``."""
    return encode_envelope(Envelope("", 0, ts_us, b"", noop=True))
