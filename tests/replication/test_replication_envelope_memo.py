"""Remembering decoded envelopes changes no answer: same values, same errors, every time.

``decode_envelope`` keeps recently decoded byte strings. ``envelope_oracle.py`` is the decoder
before the memo (commit 53a6306): for random envelopes and damaged copies of them, a
first and a second decode (the second served from the memo when the first succeeded) must
both match the oracle's value or its ``ValueError`` message; malformed bytes must raise on
every call, and non-bytes input is still refused.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobkit.replication import envelope as env
from clobkit.replication.envelope import Envelope, decode_envelope, encode_envelope
from tests.replication.envelope_oracle import decode_envelope as old_decode


def outcome(decode: Any, data: Any) -> tuple[object, ...]:
    """("ok", the envelope's fields) or ("raises", type, message)."""
    try:
        e = decode(data)
        return ("ok", e.client_id, e.request_number, e.ts_us, e.payload, e.noop)
    except Exception as exc:  # the exact exception is what we compare
        return ("raises", type(exc), str(exc))


envelopes = st.builds(
    Envelope,
    st.text(min_size=1, max_size=8),
    st.integers(0, 2**64 - 1),
    st.integers(0, 2**64 - 1),
    st.binary(max_size=20),
) | st.builds(lambda ts: Envelope("", 0, ts, b"", noop=True), st.integers(0, 2**64 - 1))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(envelopes, st.integers(0, 60), st.integers(0, 255), st.sampled_from(["flip", "cut", "ok"]))
def test_memoised_decode_matches_the_oracle(e: Envelope, i: int, b: int, how: str) -> None:
    data = encode_envelope(e)
    if how == "flip" and i < len(data):
        data = data[:i] + bytes([b]) + data[i + 1 :]
    elif how == "cut":
        data = data[:i]
    expected = outcome(old_decode, data)
    assert outcome(decode_envelope, data) == expected
    assert outcome(decode_envelope, bytes(bytearray(data))) == expected  # a fresh equal object
    if expected[0] == "raises":
        assert data not in env._decoded


@pytest.mark.parametrize("data", [bytearray(b"E\x01" + bytes(18)), "E", None, memoryview(b"E")])
def test_non_bytes_are_refused_as_before(data: Any) -> None:
    assert outcome(decode_envelope, data) == outcome(old_decode, data)
