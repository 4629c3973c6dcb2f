"""The envelope codec before decoded envelopes were remembered (the test oracle).

``clobkit/replication/envelope.py`` at commit 53a6306, verbatim below this docstring.
``tests/replication/test_replication_envelope_memo.py`` compares the shipped decoder with it;
``benchmarks/bench_codec.py`` times both. It is not part of the package.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

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


def encode_envelope(envelope: Envelope) -> bytes:
    """Encode ``envelope`` to bytes (inverse of :func:`decode_envelope`).

    >>> e = Envelope("alice", 3, 1_000, b"cmd")
    >>> decode_envelope(encode_envelope(e)) == e
    True
    """
    cid = envelope.client_id.encode()
    kind = 0 if envelope.noop else 1
    return (
        _HEAD.pack(_MAGIC, kind, envelope.ts_us, envelope.request_number, len(cid))
        + cid
        + envelope.payload
    )


def decode_envelope(data: bytes) -> Envelope:
    """Decode an envelope; raises ``ValueError`` on anything malformed. O(len(data))."""
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
