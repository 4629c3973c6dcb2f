"""Proves the sequential replay that verifies a claimed order (``verify_order``, used by the
checker's hinted orders and by ``clobkit.proc``'s witness) answers exactly as the definition
of a linearization: on random order-book histories (some with a corrupted answer) and random
orders (any subset containing the known calls, shuffled), it accepts an order iff every known
call is in it, real time is respected and an independent plain replay (one fresh book, no
model code) reproduces every output; and the book model's in-place runner, which the replay
uses, judges every step as the search's ``step`` does, up to the first illegal one. A model
whose words for an operation fail still gets a reason, and the checker still its search."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.check import MalformedHistory, Operation, register_model
from clobkit.check.book_model import book_model
from clobkit.check.checker import verify_order
from clobkit.check.model import UNKNOWN_OUTPUT
from tests.check.test_check_book_differential import SPEC, book_histories, replay_ok


@st.composite
def histories_and_orders(draw: st.DrawFn) -> tuple[list[Operation], list[int]]:
    """A book history and an order: usually every known call plus some unknown ones,
    sometimes one known call left out; shuffled, or sorted by the recorded hints."""
    ops = draw(book_histories())
    chosen = [i for i, op in enumerate(ops) if not op.unknown or draw(st.booleans())]
    if chosen and draw(st.integers(0, 5)) == 0:
        chosen.remove(draw(st.sampled_from(chosen)))
    if draw(st.booleans()):
        order = draw(st.permutations(chosen))
    else:  # the recorded hints: often a linearization, so both answers are drawn often
        order = sorted(chosen, key=lambda i: (ops[i].hint or 0, ops[i].call, i))
    return ops, list(order)


def definition(ops: list[Operation], order: list[int]) -> bool:
    """Is ``order`` a linearization of ``ops``? Coverage, real time (pair by pair) and a
    plain replay from the differential test, none of it shared with the checker."""
    if any(not op.unknown and i not in order for i, op in enumerate(ops)):
        return False
    for a, i in enumerate(order):
        for j in order[a + 1 :]:
            ret = ops[j].return_
            if ret is not None and ret < ops[i].call:
                return False  # j returned before i was called, yet comes after it
    return replay_ok(ops, order)


@settings(max_examples=400, deadline=None)
@given(histories_and_orders())
def test_verify_order_is_the_definition(case: tuple[list[Operation], list[int]]) -> None:
    ops, order = case
    why = verify_order(book_model(SPEC), ops, order)
    assert (why == "") == definition(ops, order), (ops, order, why)


@settings(max_examples=400, deadline=None)
@given(histories_and_orders())
def test_the_runner_judges_each_step_as_the_search_step(
    case: tuple[list[Operation], list[int]],
) -> None:
    ops, order = case
    model = book_model(SPEC)
    run = model.new_runner()
    state = model.init()
    for i in order:
        op = ops[i]
        out: Any = UNKNOWN_OUTPUT if op.unknown else op.output
        legal, state = model.step(state, op.input, out)
        assert run(op.input, out) == legal, (ops, order, i)
        if not legal:
            break  # the replay stops here; the runner's book is undefined after a refusal


def test_verify_order_says_why_and_rejects_bad_indices() -> None:
    ops = [
        Operation("a", ("w", 1), 0, None, 10),
        Operation("b", ("w", 2), 20, None, 30),
        Operation("c", ("r", None), 40, 2, 50),
    ]
    model = register_model()
    assert verify_order(model, ops, [0, 1, 2]) == ""
    assert verify_order(model, ops, [0, 1, 1, 2]) == "op 1 is placed twice"
    assert "op 2 (read by client c returned 2) has a known outcome" in verify_order(
        model, ops, [0, 1]
    )
    assert verify_order(model, ops, [1, 0, 2]) == (
        "op 0 returned at 10 µs, before op 1 (placed earlier) was called at 20 µs"
    )
    late = [ops[0], ops[1], Operation("c", ("r", None), 40, 1, 50)]
    assert "op 2 (read by client c returned 1): the model answers otherwise at position 2" in (
        verify_order(model, late, [0, 1, 2])
    )
    for bad in (3, -1, True, "0"):
        with pytest.raises(MalformedHistory, match="order must hold indices in range"):
            verify_order(model, ops, [0, bad])  # type: ignore[list-item]


def test_a_model_whose_words_fail_still_gets_a_reason_and_a_search() -> None:
    # The reason is for people; a describe_operation that raises must not turn a refused
    # order into a crash of check_operations (it falls back to the search as before).
    import dataclasses

    from clobkit.check import check_operations

    def broken(op: Operation) -> str:
        raise ValueError("no words")

    model = dataclasses.replace(register_model(), describe_operation=broken)
    ops = [
        Operation("w", ("w", 1), 0, None, 10, hint=1),
        Operation("r", ("r", None), 5, 1, 20, hint=0),  # hinted before the write it saw
    ]
    assert "the model answers otherwise at position 0" in verify_order(model, ops, [1, 0])
    result = check_operations(model, ops)
    assert result.verdict == "ok" and result.hinted_parts == 0 and result.witness == [[0, 1]]
