"""The fast codec writes exactly the bytes of the first codec and fails exactly like it.

``tests/book/codec_oracle.py`` is the ``Reader``/``Writer`` codec as it was before the fast
one. For random commands and results (every command type, both versions, unicode names,
values from 0 to the field limits) both encoders must produce identical bytes (so existing
logs, checksums and digests are unchanged) and both decoders must rebuild equal values. For
random byte strings and for single-byte mutations, truncations and extensions of valid
encodings, both decoders must agree on the outcome: the same value, or the same exception
type with the same message (position included). Decoding through the memo (the same bytes
again) must give the same answers as a first decode.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobkit.book import codec
from clobkit.book.commands import (
    MAX_ORDER_ID,
    ORDER_TYPES,
    SIDES,
    STP_MODES,
    TIFS,
    Cancel,
    Command,
    Modify,
    Place,
)
from clobkit.book.results import STATUSES, ApplyResult, Fill
from clobkit.book.spec import MAX_UNITS
from clobkit.errors import ClobError
from tests.book import codec_oracle as oracle

names = st.text(
    st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12
) | st.sampled_from(["ACME", "alice", "u12", "hé", "bob-the-trader"])
units = st.integers(1, MAX_UNITS) | st.integers(1, 300)
order_ids = st.none() | st.integers(0, MAX_ORDER_ID) | st.integers(0, 20_000)
cids = st.none() | st.text(min_size=1, max_size=10)


@st.composite
def commands(draw: st.DrawFn) -> Command:
    """Any command a constructor accepts (invalid combinations are redrawn)."""
    kind = draw(st.sampled_from(["place", "cancel", "modify"]))
    market, user = draw(names), draw(names)
    try:
        if kind == "place":
            order_type = draw(st.sampled_from(ORDER_TYPES))
            return Place(
                market,
                user,
                draw(st.sampled_from(SIDES)),
                None if order_type == "market" else draw(units),
                draw(units),
                order_type=order_type,
                tif=draw(st.sampled_from(TIFS)),
                order_id=draw(order_ids),
                stp=draw(st.sampled_from((None, *STP_MODES))),
                protection_price=draw(st.none() | units),
                post_only=draw(st.booleans()),
                client_order_id=draw(cids),
            )
        cid = draw(cids)
        oid = None if cid is not None else draw(st.integers(1, MAX_ORDER_ID) | st.integers(1, 300))
        if kind == "cancel":
            return Cancel(market, user, oid, cid)
        return Modify(market, user, oid, draw(st.none() | units), draw(st.none() | units), cid)
    except ClobError:
        from hypothesis import reject

        reject()


nat = st.integers(0, 2**64) | st.integers(0, 200)


@st.composite
def results(draw: st.DrawFn) -> ApplyResult:
    """Any ApplyResult the book could return (field values drawn independently)."""
    fills = draw(
        st.lists(
            st.builds(
                Fill, nat, nat, nat, names, nat, nat, nat, nat, names, names, st.sampled_from(SIDES)
            ),
            max_size=4,
        )
    )
    return ApplyResult(
        draw(st.booleans()),
        draw(st.none() | st.text(min_size=1, max_size=8)),
        draw(nat),
        draw(nat),
        draw(st.none() | nat),
        draw(st.sampled_from(STATUSES)),
        tuple(fills),
        draw(nat),
        draw(nat),
        tuple(draw(st.lists(nat, max_size=4))),
    )


def outcome(decode: Any, data: Any) -> tuple[object, ...]:
    """What a decoder does with ``data``: ("ok", value) or ("raises", type, message)."""
    try:
        return ("ok", decode(data))
    except Exception as exc:  # the exact exception is what we compare
        return ("raises", type(exc), str(exc))


def mutations(data: bytes, draw: st.DrawFn) -> bytes:
    """One random damage to ``data``: a changed byte, a cut, an insertion or garbage at the end."""
    how = draw(st.sampled_from(["flip", "cut", "insert", "append"]))
    i = draw(st.integers(0, max(0, len(data) - 1)))
    if how == "flip" and data:
        return data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    if how == "cut":
        return data[:i]
    if how == "insert":
        return data[:i] + draw(st.binary(min_size=1, max_size=3)) + data[i:]
    return data + draw(st.binary(min_size=1, max_size=3))


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(commands())
def test_commands_encode_to_identical_bytes_and_decode_equal(command: Command) -> None:
    data = codec.encode_command(command)
    assert data == oracle.encode_command(command)
    assert codec.decode_command(data) == command == oracle.decode_command(data)
    assert codec.decode_command(data) == command  # the memoised answer
    assert codec.decode_command(bytearray(data)) == command


@SETTINGS
@given(results())
def test_results_encode_to_identical_bytes_and_decode_equal(result: ApplyResult) -> None:
    data = codec.encode_result(result)
    assert data == oracle.encode_result(result)
    assert codec.decode_result(data) == oracle.decode_result(data)
    assert codec.decode_result(memoryview(data)) == oracle.decode_result(data)


def typed(value: object) -> object:
    """``value`` with the exact type of every part spelled out (``True`` is not ``1``)."""
    if isinstance(value, ApplyResult):  # (no longer a tuple: compare its fields one by one)
        return ("ApplyResult", typed(value._astuple()))
    if isinstance(value, tuple):
        return (type(value).__name__, tuple(typed(v) for v in value))
    return (type(value).__name__, value)


@SETTINGS
@given(results(), st.sampled_from([None, "", "reason"]), st.booleans())
def test_a_result_decoded_through_the_encode_memo_is_what_a_fresh_decode_gives(
    result: ApplyResult, reason: str | None, as_int: bool
) -> None:
    # encode_result remembers (bytes -> result) only for results that decode back to
    # themselves; a reason of "" (decodes as None) or an int flag must not be remembered.
    result = result._replace(reason=reason if not result.accepted else None)
    if as_int:
        result = result._replace(accepted=int(result.accepted))
    codec._results.clear()
    data = codec.encode_result(result)
    remembered = codec.decode_result(data)
    assert (
        typed(remembered) == typed(oracle.decode_result(data)) == typed(codec._decode_result(data))
    )
    if typed(remembered) == typed(result):
        assert remembered is result or not codec._round_trips(result)
    else:
        assert not codec._round_trips(result)


@SETTINGS
@given(st.data())
def test_damaged_command_bytes_fail_the_same_way(data: st.DataObject) -> None:
    good = codec.encode_command(data.draw(commands()))
    bad = mutations(good, data.draw)
    expected = outcome(oracle.decode_command, bad)
    assert outcome(codec.decode_command, bad) == expected
    assert outcome(codec.decode_command, bad) == expected  # again: failures are not memoised


@SETTINGS
@given(st.data())
def test_damaged_result_bytes_fail_the_same_way(data: st.DataObject) -> None:
    good = codec.encode_result(data.draw(results()))
    bad = mutations(good, data.draw)
    assert outcome(codec.decode_result, bad) == outcome(oracle.decode_result, bad)


@SETTINGS
@given(st.binary(max_size=24) | st.binary(max_size=6).map(lambda b: b"\x01\x01" + b))
def test_random_bytes_fail_the_same_way(data: bytes) -> None:
    assert outcome(codec.decode_command, data) == outcome(oracle.decode_command, data)
    assert outcome(codec.decode_result, data) == outcome(oracle.decode_result, data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x03\x01",
        b"\x01",
        b"\x01\x09",
        b"\x01\x01\x80",
        b"\x01\x01\x82\x00",
        b"\x01\x01" + b"\xff" * 11,
        b"\x01\x01\x05AC",
        b"\x01\x01\x02\xff\xfe",
        b"\x01\x02\x04ACME\x02al\x07junk",
        b"\x01\x04\x02",
        "text",
        None,
        bytearray(b"\x01\x02\x04ACME\x02al\x07"),
    ],
)
def test_hand_picked_bad_input_fails_the_same_way(data: Any) -> None:
    for new, old in [
        (codec.decode_command, oracle.decode_command),
        (codec.decode_result, oracle.decode_result),
    ]:
        assert outcome(new, data) == outcome(old, data)
    assert outcome(codec.decode_command, b"") == (
        "raises",
        codec.InvalidArgument,
        "malformed data: unexpected end at byte 0",
    )


@pytest.mark.parametrize("value", [object(), ("ACME", "al"), None])
def test_non_commands_and_non_results_raise_the_same_errors(value: object) -> None:
    assert outcome(codec.encode_command, value) == outcome(oracle.encode_command, value)
    assert outcome(codec.encode_result, value) == outcome(oracle.encode_result, value)


def test_varints_at_every_seven_and_fourteen_bit_boundary_match() -> None:
    values = [2**k + d for k in range(71) for d in (-1, 0, 1) if 2**k + d >= 0]
    for v in values:
        result = ApplyResult(True, None, v, v, v, "resting", (), v, v, (v,))
        assert codec.encode_result(result) == oracle.encode_result(result), v
        data = codec.encode_result(result)
        assert outcome(codec.decode_result, data) == outcome(oracle.decode_result, data)
        if v < 2**63:
            assert codec.decode_result(data) == result
