"""Hand-made histories with known verdicts: each anomaly the checker must flag, and the legal
look-alikes (concurrent overlaps, unknown outcomes) it must accept, including the SCENARIOS.md
sanity shapes; verdicts were worked out by hand, not taken from the implementation."""

from __future__ import annotations

from typing import Any

import pytest

from clobkit.check import (
    UNKNOWN_OUTPUT,
    MalformedHistory,
    Model,
    Operation,
    check_operations,
    kv_model,
    register_model,
)


def op(client: Any, inp: Any, call: int, out: Any, ret: int | None) -> Operation:
    return Operation(client_id=client, input=inp, call=call, output=out, return_=ret)


def w(client: Any, v: Any, call: int, ret: int | None) -> Operation:
    return op(client, ("w", v), call, None, ret)


def r(client: Any, v: Any, call: int, ret: int | None) -> Operation:
    return op(client, ("r", None), call, v, ret)


def verdict(ops: list[Operation], model: Model | None = None) -> str:
    return check_operations(model or register_model(), ops).verdict


# -- an append-only list, to show a duplicated apply -------------------------


def _append_step(state: tuple[Any, ...], inp: Any, out: Any) -> tuple[bool, Any]:
    if inp[0] == "append":
        return True, (*state, inp[1])
    return (out is UNKNOWN_OUTPUT or out == state), state


APPEND = Model(init=tuple, step=_append_step, name="append")


def test_the_brief_example_is_ok() -> None:
    register = Model(
        init=lambda: 0,
        step=lambda state, inp, out: (True, inp[1]) if inp[0] == "w" else (out == state, state),
    )
    ops = [w(0, 1, 0, 10), r(1, 1, 5, 20)]
    result = check_operations(register, ops, timeout_s=5)
    assert result.verdict == "ok"
    assert result.witness == [[0, 1]]


def test_stale_read_is_illegal_and_names_the_read_and_the_write() -> None:
    ops = [w(0, 1, 0, 10), r(1, 0, 20, 30)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "illegal"
    assert set(result.culprits or []) == {0, 1}
    assert result.culprits and result.culprits[0] == 1  # the read is the op that cannot go next
    assert result.prefix == [0]
    assert "client 1" in result.explanation and "[20, 30]" in result.explanation


def test_lost_write_is_illegal() -> None:
    ops = [w(0, 1, 0, 10), w(0, 2, 20, 30), r(1, 1, 40, 50)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "illegal"
    assert 2 in (result.culprits or [])


def test_read_inversion_is_illegal() -> None:
    # A write in flight; R1 sees it, then R2 (starting after R1 returned) does not.
    ops = [w(0, 1, 0, 100), r(1, 1, 10, 20), r(2, 0, 30, 40)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "illegal"
    # The late read, the read it must follow, and the write that read saw: all three.
    assert result.culprits == [2, 1, 0]


def test_duplicate_apply_is_illegal_and_two_appends_are_not() -> None:
    once = [op(0, ("append", "a"), 0, None, 10), op(1, ("read",), 20, ("a", "a"), 30)]
    assert verdict(once, APPEND) == "illegal"
    twice = [*once[:1], op(0, ("append", "a"), 12, None, 15), once[1]]
    assert verdict(twice, APPEND) == "ok"


def test_concurrent_overlap_may_order_either_way() -> None:
    # r1 sees the write and r2 does not, though r1 started first: legal, since r2 overlaps r1
    # and can be linearized before the write.
    ops = [w(0, 1, 0, 30), r(1, 1, 5, 15), r(2, 0, 6, 16)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "ok"
    assert result.witness == [[2, 0, 1]]


def test_touching_intervals_are_concurrent() -> None:
    # The write returns at 10 and the read is called at 10: they overlap, so either order.
    assert verdict([w(0, 1, 0, 10), r(1, 0, 10, 20)]) == "ok"
    assert verdict([w(0, 1, 0, 10), r(1, 0, 11, 20)]) == "illegal"


def test_unknown_write_that_must_have_happened() -> None:
    ops = [w(0, 1, 0, None), r(1, 1, 100, 110)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "ok"
    assert result.witness == [[0, 1]]


def test_unknown_write_that_must_not_have_happened() -> None:
    ops = [w(0, 1, 0, None), r(1, 0, 100, 110), r(1, 0, 200, 210)]
    result = check_operations(register_model(), ops)
    assert result.verdict == "ok"
    assert result.witness == [[1, 2]]


def test_unknown_write_can_happen_late() -> None:
    # Seen by neither of the first two reads but by the third: it took effect in between.
    ops = [w(0, 1, 0, None), r(1, 0, 100, 110), r(1, 1, 200, 210)]
    assert verdict(ops) == "ok"


def test_unknown_write_cannot_save_an_illegal_history() -> None:
    # 1, then 2, then 1 again: only one write of 1, and it returned before the reads began.
    ops = [w(0, 1, 0, 10), w(1, 2, 5, None), r(2, 1, 20, 30), r(2, 2, 40, 50), r(2, 1, 60, 70)]
    assert verdict(ops) == "illegal"


def test_unknown_write_cannot_act_before_its_call() -> None:
    assert verdict([r(1, 5, 0, 10), w(0, 5, 20, None)]) == "illegal"


def test_unknown_output_is_ignored() -> None:
    # A timed-out read's output is never seen; whatever was recorded there does not count.
    assert verdict([op(1, ("r", None), 0, 99, None)]) == "ok"


def test_cas_with_unknown_outcome_may_swap() -> None:
    ops = [op(0, ("cas", 0, 7), 0, None, None), r(1, 7, 50, 60)]
    assert verdict(ops) == "ok"
    ops_bad = [w(2, 3, 0, 5), op(0, ("cas", 0, 7), 10, None, None), r(1, 7, 50, 60)]
    assert verdict(ops_bad) == "illegal"


# -- the SCENARIOS.md sanity shapes ------------------------------------------


def test_scenarios_pending_write_read_then_older_read_is_illegal() -> None:
    ops = [w("W", 1, 0, None), r("R1", 1, 10, 20), r("R2", 0, 30, 40)]
    assert verdict(ops) == "illegal"


def test_scenarios_control_second_read_also_sees_write_is_ok() -> None:
    ops = [w("W", 1, 0, None), r("R1", 1, 10, 20), r("R2", 1, 30, 40)]
    assert verdict(ops) == "ok"


def test_scenarios_acknowledged_write_then_read_old_is_illegal() -> None:
    ops = [w("W", 1, 0, 10), r("R", 0, 20, 30)]
    assert verdict(ops) == "illegal"


# -- partitions, result shape, bad input --------------------------------------


def test_kv_checks_keys_separately_and_reports_the_bad_key() -> None:
    ops = [
        op("a", ("put", "x", 1), 0, None, 10),
        op("b", ("put", "y", 1), 0, None, 10),
        op("a", ("get", "x", None), 20, 1, 30),
        op("b", ("get", "y", None), 20, None, 30),  # y was written: a stale read
        op("c", ("get", "x", None), 40, 1, 50),
    ]
    result = check_operations(kv_model(), ops)
    assert result.verdict == "illegal"
    assert result.partitions == 2
    assert result.partition_index == 1
    assert result.partition == [1, 3]
    assert set(result.culprits or []) <= {1, 3}
    assert "'y'" in result.explanation


def test_kv_legal_parts_each_get_a_witness() -> None:
    ops = [
        op("a", ("put", "x", 1), 0, None, 10),
        op("b", ("get", "y", None), 0, None, 10),
        op("a", ("get", "x", None), 20, 1, 30),
    ]
    result = check_operations(kv_model(), ops)
    assert result.verdict == "ok"
    assert result.witness == [[0, 2], [1]]


def test_kv_would_be_illegal_without_partitioning_by_key() -> None:
    # Read x and y as the two halves of one register and the history is wrong; per key it is
    # fine. Shows the partition really splits.
    ops = [op("a", ("put", "x", 1), 0, None, 10), op("b", ("get", "y", None), 20, None, 30)]
    assert check_operations(kv_model(), ops).verdict == "ok"


def test_empty_history_is_ok() -> None:
    result = check_operations(register_model(), [])
    assert result.verdict == "ok" and result.witness == [] and result.partitions == 0


def test_result_is_deterministic_and_serialisable() -> None:
    ops = [w(0, 1, 0, 100), r(1, 1, 10, 20), r(2, 0, 30, 40), w(3, 2, 5, None)]
    a = check_operations(register_model(), ops).to_dict(timing=False)
    b = check_operations(register_model(), list(ops)).to_dict(timing=False)
    assert a == b
    import json

    json.dumps(a)  # JSON-ready


def test_result_displays() -> None:
    result = check_operations(register_model(), [w(0, 1, 0, 10), r(1, 0, 20, 30)])
    assert repr(result).startswith("CheckResult('illegal'")
    page = result._repr_html_()
    # Culprits are listed in the model's own words (for the book: prices in market units).
    assert "illegal" in page and "<table>" in page and "read by client 1 returned 0" in page


@pytest.mark.parametrize(
    ("kwargs", "ops"),
    [
        ({"timeout_s": 0}, []),
        ({"timeout_s": float("inf")}, []),
        ({"max_states": 0}, []),
        ({"max_states": True}, []),
        ({}, [("w", 1)]),
        ({}, [op(0, ("w", 1), 10, None, 5)]),
        ({}, [op(0, ("w", 1), 1.5, None, 5)]),  # type: ignore[arg-type]
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any], ops: list[Any]) -> None:
    with pytest.raises(MalformedHistory):
        check_operations(register_model(), ops, **kwargs)


def test_a_partition_that_loses_operations_is_refused() -> None:
    lossy = Model(init=lambda: 0, step=lambda s, i, o: (True, s), partition=lambda ops: [ops[:1]])
    with pytest.raises(MalformedHistory, match="lost"):
        check_operations(lossy, [w(0, 1, 0, 1), w(0, 2, 2, 3)])
