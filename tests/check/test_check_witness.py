"""Hints cost time, never a verdict: on random register, key-value and order-book histories,
the checker answers the same with true, shuffled, reversed and random hints as with none (and
as brute force); true hints on a linearizable history give an ``ok`` with no search at all;
a lying hint cannot make a stale read or a wrong answer pass; and the simulated cluster
records hints that settle its own histories without a search."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.check import Operation, check_operations, kv_model, register_model
from clobkit.check.book_model import book_model
from tests.check.test_check_book_differential import SPEC, book_histories, replay_ok
from tests.check.test_check_differential import brute_force, histories


def with_hints(ops: list[Operation], hints: list[int | None]) -> list[Operation]:
    return [dataclasses.replace(op, hint=h) for op, h in zip(ops, hints, strict=True)]


HINT = st.one_of(st.none(), st.integers(0, 8))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_random_hints_never_change_register_or_kv_verdicts(data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["register", "kv"]))
    ops = data.draw(histories(kind))
    hints = data.draw(st.lists(HINT, min_size=len(ops), max_size=len(ops)))
    model = register_model() if kind == "register" else kv_model()
    expected = "ok" if brute_force(kind, ops) else "illegal"
    hinted = check_operations(model, with_hints(ops, hints), max_states=100_000)
    assert hinted.verdict == expected, (ops, hints, hinted)


def transform(ops: list[Operation], how: str, data: st.DataObject) -> list[Operation]:
    hints = [op.hint for op in ops]
    if how == "true":
        return ops
    if how == "shuffled":
        return with_hints(ops, data.draw(st.permutations(hints)))
    if how == "reversed":
        return with_hints(ops, [None if h is None else -h for h in hints])
    return with_hints(ops, data.draw(st.lists(HINT, min_size=len(ops), max_size=len(ops))))


@settings(max_examples=300, deadline=None)
@given(book_histories(), st.sampled_from(["true", "shuffled", "reversed", "random"]), st.data())
def test_book_hints_never_change_the_verdict(
    ops: list[Operation], how: str, data: st.DataObject
) -> None:
    searched = check_operations(book_model(SPEC), ops, max_states=100_000, use_hints=False)
    hinted_ops = transform(ops, how, data)
    hinted = check_operations(book_model(SPEC), hinted_ops, max_states=100_000)
    assert hinted.verdict == searched.verdict, (hinted_ops, searched, hinted)
    if hinted.ok:
        assert replay_ok(ops, [i for part in hinted.witness or [] for i in part])
    untouched = not any(op.unknown or str(op.client_id).endswith("!") for op in ops)
    if how == "true" and untouched:
        # The recorded order is a linearization: no search was needed.
        assert hinted.ok and hinted.hinted_parts == 1 and hinted.states_explored == 0


def test_a_lying_hint_cannot_hide_a_stale_read() -> None:
    # The read returned 0 after the write of 1 had returned. Hinting the read before the
    # write breaks real time; hinting it after breaks the model: either way, the search
    # decides, and it finds no order.
    for read_hint in (0, 2):
        ops = [
            Operation("w", ("w", 1), 0, None, 10, hint=1),
            Operation("r", ("r", None), 20, 0, 30, hint=read_hint),
        ]
        result = check_operations(register_model(), ops)
        assert result.verdict == "illegal" and result.hinted_parts == 0


def test_hints_that_contradict_real_time_are_not_used() -> None:
    # A legal register history whose hints put the later write first: the hinted order
    # breaks real time, so the search finds the real order instead.
    ops = [
        Operation("a", ("w", 1), 0, None, 10, hint=2),
        Operation("b", ("w", 2), 20, None, 30, hint=1),
        Operation("c", ("r", None), 40, 2, 50, hint=2),
    ]
    result = check_operations(register_model(), ops)
    assert result.verdict == "ok" and result.hinted_parts == 0
    assert result.witness == [[0, 1, 2]]


def test_unknown_operations_without_hints_are_left_out_of_the_witness() -> None:
    ops = [
        Operation("a", ("w", 1), 0, None, 10, hint=1),
        Operation("b", ("w", 5), 0, None, None),  # timed out, never took effect
        Operation("c", ("r", None), 20, 1, 30, hint=1),
    ]
    result = check_operations(register_model(), ops)
    assert result.ok and result.hinted_parts == 1 and result.witness == [[0, 2]]


def test_bad_hints_and_flags_raise() -> None:
    from clobkit.check import MalformedHistory

    with pytest.raises(MalformedHistory, match="hint"):
        check_operations(register_model(), [Operation("a", ("w", 1), 0, None, 1, hint="x")])
    with pytest.raises(MalformedHistory, match="use_hints"):
        check_operations(register_model(), [], use_hints=1)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [3, 70])
def test_cluster_histories_carry_hints_that_settle_them(seed: int) -> None:
    import clobkit as ck

    run = ck.replay(seed, ops=200)
    try:
        assert run.check is not None and run.verdict == "ok"
        ops = run.cluster.history.to_check_history().operations() if run.cluster else []
        known = [op for op in ops if not op.unknown]
        assert known and all(op.hint is not None for op in known)
        assert run.check.hinted_parts == run.check.partitions
        stripped = [dataclasses.replace(op, hint=None) for op in ops]
        model: Any = book_model(run.cluster.market if run.cluster else SPEC)
        assert check_operations(model, stripped, max_states=100_000).verdict == "ok"
    finally:
        if run.cluster is not None:
            run.cluster.close()


def test_the_witness_page_examples_run_as_printed() -> None:
    import doctest
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "witness.md"
    result = doctest.testfile(
        str(page), module_relative=False, optionflags=doctest.NORMALIZE_WHITESPACE
    )
    assert result.attempted >= 6 and result.failed == 0


def test_client_history_writes_hints_and_keeps_its_json_current() -> None:
    # The simulator's recorder writes a hint only when it has one, reads it back into
    # Operation.hint, and its cached JSON lines change with every invoke and complete.
    from clobkit.sim.history import ClientHistory

    h = ClientHistory()
    w = h.invoke("alice", ("w", 1), 0)
    before = h.to_jsonl()
    r = h.invoke("bob", ("r", None), 5)
    assert h.to_jsonl() != before and h.to_jsonl().count("\n") == 2
    h.complete(w, "ok", None, 10, hint=1)
    h.complete(r, "ok", 1, 20)
    text = h.to_jsonl()
    assert text.count('"hint":1') == 1 and h.digest() == h.digest()
    ops = h.to_check_history().operations()
    assert [op.hint for op in ops] == [1, None]
    assert check_operations(register_model(), ops).verdict == "ok"
