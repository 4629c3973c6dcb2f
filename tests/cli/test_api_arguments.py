"""Bad arguments to the calls a student makes first raise clobkit's own errors, naming the
argument, and change nothing: Cluster(config=...), Cluster.settle, Cluster.at,
check_operations and the register model. Also proves Cluster.at runs a callback at the
simulated time asked for, and history.check() is check_operations on the cluster's book model.
"""

from __future__ import annotations

from typing import Any

import pytest

import clobkit as ck
from clobkit.check import Model, Operation, check_operations, register_model
from clobkit.check.book_model import book_model
from clobkit.errors import ClobError, InvalidArgument, InvalidType


def test_unknown_config_key_is_named() -> None:
    with pytest.raises(InvalidArgument, match=r"'bogus'.*allowed: .*heartbeat_us"):
        ck.Cluster(config={"bogus": 1})


def test_settle_validates_before_healing_or_restarting() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.crash("n1")
    c.partition({"n0"}, {"n2"})
    before = (c.node_rows(), c.now_us, len(c.journal))
    with pytest.raises(InvalidArgument, match="ms must be"):
        c.settle(ms=-1)
    assert (c.node_rows(), c.now_us, len(c.journal)) == before
    assert [r["host"] for r in c.node_rows()] == ["up", "crashed", "up"]


def test_at_runs_the_callback_at_that_simulated_time() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    seen: list[tuple[str, float]] = []
    c.at(7.5, lambda who: seen.append((who, c.now_ms)), "bob")
    c.at(3, lambda: seen.append(("first", c.now_ms)))
    c.run(ms=10)
    assert seen == [("first", 3.0), ("bob", 7.5)]


def test_at_rejects_the_past_and_non_callables_scheduling_nothing() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    c.run(ms=5)
    pending = c.world.pending
    with pytest.raises(InvalidArgument, match="ms must not be in the past"):
        c.at(1, print)
    with pytest.raises(InvalidType, match="fn must be callable"):
        c.at(9, "not a function")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="ms must be"):
        c.at(-1, print)
    assert c.world.pending == pending


def test_history_check_is_check_operations_on_the_book_model() -> None:
    c = ck.Cluster(nodes=3, seed=2, storage="memory")
    c.place("alice", "sell", price="100.50", qty=5)
    c.place("bob", "buy", price="100.50", qty=2)
    long_way = check_operations(book_model(c.market), c.history.to_check_history().operations())
    short_way = c.history.check()
    assert (short_way.verdict, short_way.culprits) == (long_way.verdict, long_way.culprits)
    assert short_way.verdict == "ok"


def test_check_operations_names_a_missing_history() -> None:
    with pytest.raises(ClobError, match=r"operations must be an iterable of Operation.*None"):
        check_operations(register_model(), None)  # type: ignore[arg-type]


def test_a_model_step_of_the_wrong_shape_is_named() -> None:
    bad = Model(init=lambda: 0, step=lambda state, inp, out: 5)
    with pytest.raises(ClobError, match=r"must return a pair \(legal, new_state\), got 5"):
        check_operations(bad, [Operation(0, ("w", 1), 0, None, 10)])


@pytest.mark.parametrize("inp", [None, 7, ()])
def test_register_input_that_is_not_a_tuple_is_named(inp: Any) -> None:
    with pytest.raises(ClobError, match="register input must be"):
        check_operations(register_model(), [Operation(0, inp, 0, None, 10)])
