"""History recording and formats: invoke/complete keep the client's view (fail dropped,
timeouts unknown), bad input changes nothing, JSON lines round-trip byte for byte (also on
random histories), the DataFrame has the documented columns and dtypes, and the checker's
budget answers "unknown" on a pathological history instead of running on."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.check import (
    FRAME_COLUMNS,
    History,
    MalformedHistory,
    Operation,
    check_operations,
    register_model,
)


def sample() -> History:
    h = History()
    a = h.invoke(0, ("w", 1), 0)
    b = h.invoke("bob", ("r", None), 5)
    c = h.invoke(2, ("w", 2), 7)
    d = h.invoke(3, ("w", 3), 8)
    h.invoke(4, ("r", None), 9)  # never completed: pending
    h.complete(a, "ok", None, 10)
    h.complete(b, "ok", 1, 20)
    h.complete(c, "fail", "rejected", 12)
    h.complete(d, "unknown", None, 500)
    return h


def test_operations_drop_fail_and_mark_unknown() -> None:
    h = sample()
    ops = h.operations()
    assert ops == [
        Operation(0, ("w", 1), 0, None, 10),
        Operation("bob", ("r", None), 5, 1, 20),
        Operation(3, ("w", 3), 8, None, None),
        Operation(4, ("r", None), 9, None, None),
    ]
    assert h.op_indices() == [0, 1, 3, 4]
    assert check_operations(register_model(), ops).verdict == "ok"


def test_repr_counts_outcomes() -> None:
    assert repr(sample()) == "History(5 calls: ok=2, fail=1, unknown=1, pending=1)"
    assert repr(History()) == "History(0 calls)"


@pytest.mark.parametrize(
    ("index", "outcome", "ret"),
    [(0, "ok", 5), (1, "ok", 9), (9, "ok", 10), (True, "ok", 10), (2, "maybe", 10), (2, "ok", 6)],
)
def test_bad_complete_changes_nothing(index: Any, outcome: str, ret: int) -> None:
    h = History()
    h.complete(h.invoke(0, ("w", 1), 0), "ok", None, 10)
    h.invoke(1, ("r", None), 10)
    h.invoke(2, ("r", None), 7)
    before = h.to_jsonl()
    with pytest.raises(MalformedHistory):
        h.complete(index, outcome, None, ret)
    assert h.to_jsonl() == before


@pytest.mark.parametrize(("inp", "call"), [(("w", 1), -1), (("w", 1), 1.0), (["w", 1], 0)])
def test_bad_invoke_changes_nothing(inp: Any, call: Any) -> None:
    h = sample()
    before = h.to_jsonl()
    with pytest.raises(MalformedHistory):
        h.invoke(0, inp, call)
    assert h.to_jsonl() == before and len(h) == 5


def test_jsonl_is_plain_and_ordered() -> None:
    first = sample().to_jsonl().splitlines()[0]
    assert first == (
        '{"index":0,"client_id":0,"input":["w",1],"call_us":0,"outcome":"ok",'
        '"output":null,"return_us":10}'
    )


def test_jsonl_round_trip_and_determinism() -> None:
    h = sample()
    text = h.to_jsonl()
    back = History.from_jsonl(text)
    assert back == h
    assert back.to_jsonl() == text
    assert sample().to_jsonl() == text


@pytest.mark.parametrize(
    "text",
    [
        "not json\n",
        '{"index": 0}\n',
        '{"index":1,"client_id":0,"input":["w",1],"call_us":0,"outcome":"ok","output":null,'
        '"return_us":10}\n',
        '{"index":0,"client_id":0,"input":["w",1],"call_us":5,"outcome":"ok","output":null,'
        '"return_us":1}\n',
    ],
)
def test_from_jsonl_rejects_bad_lines(text: str) -> None:
    with pytest.raises(MalformedHistory, match="line 1"):
        History.from_jsonl(text)


def test_unserialisable_output_is_refused() -> None:
    h = History()
    h.complete(h.invoke(0, ("r", None), 0), "ok", object(), 1)
    with pytest.raises(MalformedHistory, match="record 0"):
        h.to_jsonl()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3).map(tuple),
    max_leaves=6,
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 3), st.text(max_size=3)),
            json_values,
            st.integers(0, 100),
            st.sampled_from(["ok", "fail", "unknown", "pending"]),
            json_values,
            st.integers(0, 50),
        ),
        max_size=8,
    )
)
def test_jsonl_round_trips_random_histories(rows: list[tuple[Any, ...]]) -> None:
    h = History()
    for client, inp, call, outcome, out, dur in rows:
        i = h.invoke(client, inp, call)
        if outcome != "pending":
            h.complete(i, outcome, out, call + dur)
    back = History.from_jsonl(h.to_jsonl())
    assert back == h and back.to_jsonl() == h.to_jsonl()


def test_frame_columns_and_dtypes() -> None:
    frame = sample().to_frame()
    assert list(frame.columns) == list(FRAME_COLUMNS)
    assert {c: str(t) for c, t in frame.dtypes.items()} == FRAME_COLUMNS
    assert frame["op"].tolist() == ["w", "r", "w", "w", "r"]
    assert frame["latency_us"].tolist()[:4] == [10, 15, 5, 492]
    assert frame["return_us"].isna().tolist() == [False, False, False, False, True]
    assert len(History().to_frame().columns) == len(FRAME_COLUMNS)


def test_budget_runs_out_with_unknown() -> None:
    # 16 concurrent writes of distinct values and a read of a value nobody wrote: proving it
    # illegal means visiting every subset of writes, far beyond 500 states.
    ops = [Operation(c, ("w", c + 1), 0, None, 100) for c in range(16)]
    ops.append(Operation(99, ("r", None), 50, 999, 150))
    result = check_operations(register_model(), ops, max_states=500)
    assert result.verdict == "unknown"
    assert result.reason == "max_states"
    assert result.states_explored == 500
    assert result.witness is None and result.culprits is None
    # With room to finish, the same history is illegal: the budget, not the history, decided.
    assert check_operations(register_model(), ops[:8] + ops[-1:]).verdict == "illegal"


def test_timeout_budget_answers_unknown() -> None:
    # A wall-clock budget far below what the search needs; only the verdict is asserted.
    ops = [Operation(c, ("w", c + 1), 0, None, 100) for c in range(16)]
    ops.append(Operation(99, ("r", None), 50, 999, 150))
    result = check_operations(register_model(), ops, timeout_s=1e-9, max_states=10**9)
    assert result.verdict == "unknown" and result.reason == "timeout"
