"""Encoding an envelope fills the decode memo only with what decoding those bytes would give.

``encode_envelope`` remembers ``bytes -> envelope`` so that a backup's decode of an entry the
primary encoded is a look-up. That is sound only when the bytes decode back to an equal
envelope with the same field types. For Hypothesis-drawn envelopes, well-formed ones and ones
``decode_envelope`` refuses (a request without a client id, a no-op with content, bool or
int-subclass numbers, a bytes subclass payload, a str subclass id), the decode right after
encoding (served from the memo when the encoder remembered it) must match the oracle decoder
of those bytes: the same fields and types, or the same error. Checked by hand: remembering a
request envelope whose client id is empty (which decoding refuses), or one whose request
number is a bool (which decodes as an int), fails this test.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobkit.replication import envelope as env
from clobkit.replication.envelope import Envelope, decode_envelope, encode_envelope
from tests.replication.envelope_oracle import decode_envelope as old_decode


class _Str(str):
    pass


class _Bytes(bytes):
    pass


def _outcome(decode: Any, data: bytes) -> tuple[object, ...]:
    try:
        e = decode(data)
        fields = (e.client_id, e.request_number, e.ts_us, e.payload, e.noop)
        return ("ok", fields, tuple(type(f) for f in fields))
    except Exception as exc:  # the exact exception is what we compare
        return ("raises", type(exc), str(exc))


numbers = st.integers(0, 2**64 - 1) | st.sampled_from([True, False])
ids = st.text(max_size=6) | st.sampled_from([_Str("al"), ""])
payloads = st.binary(max_size=8) | st.just(_Bytes(b"x")) | st.just(b"")


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ids, numbers, numbers, payloads, st.booleans())
def test_a_remembered_encoding_decodes_as_the_oracle_decodes(
    client_id: str, request_number: int, ts_us: int, payload: bytes, noop: bool
) -> None:
    e = Envelope(client_id, request_number, ts_us, payload, noop)
    env._decoded.clear()
    try:
        data = encode_envelope(e)
    except Exception:  # (unencodable: nothing remembered)
        assert not env._decoded
        return
    assert _outcome(decode_envelope, data) == _outcome(old_decode, data)
