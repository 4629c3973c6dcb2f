"""Proves the book model's cheap states (the resting book plus a persistent fill tape, see
``clobkit.check.book_model.BookState``) judge exactly like a model that copies the whole book,
fills included, at every step (how the model worked before): on histories of the real cluster,
safe and with an unsafe switch on (so some are illegal), the search alone (hints off) gives the
same verdict after exploring the same number of states with either model, and a state's
``book()`` is the book the hinted replay builds."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from clobkit.book import MarketSpec, OrderBook
from clobkit.check import Model, check_operations
from clobkit.check.book_model import (
    _by_market,
    _judge,
    _reserved_ids,
    book_model,
    fills_output,
    orders_output,
)
from clobkit.check.campaigns import RunOptions, _execute
from clobkit.check.model import UNKNOWN_OUTPUT


def whole_book_model(spec: MarketSpec) -> Model:
    """The reference: a state is the whole book's snapshot (fills included), its key a digest
    of the live orders, every fill row, ``last_seq`` and the reserved ids."""

    def key(state: Any) -> Any:
        if state is None:
            return None
        book = OrderBook.restore(state)
        h = hashlib.blake2b(digest_size=16)
        h.update(repr(orders_output(book.live_orders())).encode())
        h.update(repr(fills_output(book.fills())).encode())
        h.update(repr((book.last_seq, sorted(_reserved_ids(book)))).encode())
        return h.hexdigest()

    def step(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
        book = OrderBook(spec) if state is None else OrderBook.restore(state)
        legal, result = _judge(book, inp, out)
        if not legal or result is None:
            return legal, state
        return True, book.snapshot()

    return Model(
        init=lambda: None,
        step=step,
        key=key,
        partition=_by_market,
        name="whole book",
        read_only=lambda inp: inp[0] in ("fills", "orders", "depth"),
    )


CASES = [(seed, ()) for seed in (3, 7, 11)] + [(seed, ("no_dedup",)) for seed in (0, 1, 2)]


@pytest.mark.parametrize(("seed", "unsafe"), CASES)
def test_same_verdict_and_states_as_a_model_that_copies_the_whole_book(
    seed: int, unsafe: tuple[str, ...]
) -> None:
    run = _execute(seed, RunOptions(ops=200, unsafe=unsafe), trace=False)
    assert run.cluster is not None
    ops = run.cluster.history.to_check_history().operations()
    spec = run.cluster.market
    run.cluster.close()
    results = [
        check_operations(model, ops, max_states=10_000, timeout_s=120, use_hints=False)
        for model in (book_model(spec), whole_book_model(spec))
    ]
    cheap, whole = results
    assert cheap.verdict == whole.verdict != "unknown"
    assert cheap.states_explored == whole.states_explored
    if unsafe == ():
        assert cheap.verdict == "ok"


def test_a_states_book_is_the_replayed_book() -> None:
    run = _execute(5, RunOptions(ops=200), trace=False)
    assert run.cluster is not None
    ops = run.cluster.history.to_check_history().operations()
    spec = run.cluster.market
    run.cluster.close()
    result = check_operations(book_model(spec), ops, use_hints=False)
    assert result.verdict == "ok" and result.witness is not None
    model = book_model(spec)
    state = model.init()
    runner = OrderBook(spec)
    for i in result.witness[0]:
        op = ops[i]
        out = UNKNOWN_OUTPUT if op.return_ is None else op.output
        legal, state = model.step(state, op.input, out)
        assert legal and _judge(runner, op.input, out)[0]
    assert state is not None
    assert state.book().snapshot() == runner.snapshot()
    assert state.resting().fill_count() == 0  # the fills live on the tape, not in the state
    assert state.fill_rows() == fills_output(runner.fills())
