"""Proves that handing a simulated cluster's history to the checker without JSON
(``History.from_client_history``) gives exactly what the JSON lines round trip gives
(``History.from_jsonl(h.to_jsonl())``): equal records with equal reprs (so ``True`` stays
distinct from ``1``, tuples from lists), the same operations, and the same
``MalformedHistory`` message for records the reader refuses. Random records of every
kind of value a history may hold (nested tuples, lists, dicts, sets, bytes, floats, huge
ints, enums, odd strings), odd field types, and real campaign histories."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.check import History, MalformedHistory
from clobkit.check.campaigns import RunOptions, _execute
from clobkit.sim.history import ClientHistory


class Colour(enum.IntEnum):
    RED = 1


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63 - 1, 2**63, -(2**63), -(2**63) + 1, 0]),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.sampled_from(["\n", "\u2028", "\ud800", '"', "\\", "é"]),
    st.binary(max_size=3),
    st.just(Colour.RED),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.tuples(inner, inner),
        st.lists(inner, max_size=3),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=2), st.integers(0, 3)), inner, max_size=2),
        st.frozensets(st.integers(0, 9), max_size=3),
    ),
    max_leaves=10,
)


def both(records: Any, text: str) -> tuple[Any, Any]:
    """(from_client_history, from_jsonl): each a History or the MalformedHistory message."""
    out = []
    for read in (lambda: History.from_client_history(records), lambda: History.from_jsonl(text)):
        try:
            out.append(read())
        except MalformedHistory as exc:
            out.append(f"MalformedHistory: {exc}")
    return out[0], out[1]


def assert_same(records: Any, text: str) -> None:
    fast, slow = both(records, text)
    if isinstance(slow, str) or isinstance(fast, str):
        assert fast == slow
        return
    assert fast == slow
    assert repr(fast.records()) == repr(slow.records())
    assert repr(fast.operations()) == repr(slow.operations())
    assert fast.to_jsonl() == slow.to_jsonl()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["u0", "u1", "r1.0"]),
            values,
            st.integers(0, 100),
            st.sampled_from(["ok", "fail", "unknown", "pending"]),
            values,
            st.integers(0, 50),
            st.one_of(st.none(), st.integers(0, 9)),
        ),
        max_size=6,
    )
)
def test_a_client_history_reads_back_as_its_json_lines_do(rows: list[tuple[Any, ...]]) -> None:
    h = ClientHistory()
    for client, inp, call, outcome, out, dur, hint in rows:
        i = h.invoke(client, inp, call)
        if outcome != "pending":
            h.complete(i, outcome, out, call + dur, hint)
    try:
        text = h.to_jsonl()
    except (TypeError, ValueError):
        return  # not JSON data at all (e.g. a dict key jsonable keeps): nothing to hand over
    assert_same(h, text)


@dataclass
class Rec:
    """A record with fields of any type (the ClientHistory recorder asserts its own)."""

    index: Any
    client_id: Any
    input: Any
    call_us: Any
    outcome: Any = "pending"
    output: Any = None
    return_us: Any = None
    hint: Any = None


def jsonl(records: list[Rec]) -> str:
    h = ClientHistory()
    h._records = records  # type: ignore[assignment]  # (to_jsonl reads only the fields)
    return h.to_jsonl()


odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 30),
    st.text(max_size=2),
    st.lists(st.integers(0, 3), max_size=2),
    st.lists(st.integers(0, 3), max_size=2).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            Rec,
            index=st.one_of(st.integers(0, 3), st.booleans()),
            client_id=odd,
            input=st.one_of(values, st.dictionaries(st.text(max_size=1), odd, max_size=1)),
            call_us=odd,
            outcome=st.one_of(st.sampled_from(["ok", "fail", "unknown", "pending"]), odd),
            output=values,
            return_us=odd,
            hint=odd,
        ),
        max_size=4,
    )
)
def test_odd_records_are_refused_with_the_same_words(records: list[Rec]) -> None:
    try:
        text = jsonl(records)
    except (TypeError, ValueError):
        return
    assert_same(records, text)


@pytest.mark.parametrize("unsafe", [(), ("no_dedup",)])
def test_campaign_histories_hand_over_unchanged(unsafe: tuple[str, ...]) -> None:
    for seed in (0, 3):
        run = _execute(seed, RunOptions(ops=120, unsafe=unsafe), trace=False)
        assert run.cluster is not None
        h = run.cluster.history
        assert_same(h, h.to_jsonl())
        run.cluster.close()


def test_an_int_json_cannot_write_fails_both_ways() -> None:
    # Python refuses to write ints of more than 4,300 digits: to_jsonl fails, and so must
    # the handover (a campaign run then ends "error" either way, rather than checking).
    h = ClientHistory()
    h.complete(h.invoke("u0", ("place", 10**5000), 0), "ok", None, 5)
    with pytest.raises(ValueError) as slow:
        h.to_jsonl()
    with pytest.raises(ValueError) as fast:
        History.from_client_history(h)
    assert str(fast.value) == str(slow.value)
