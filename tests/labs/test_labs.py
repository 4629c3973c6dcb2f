"""Proves the lab graders (clobkit.labs.grade) pass clobkit's own functions and catch plausible
wrong answers (at least two per lab) through behaviour, not only through the spec table: for
each wrong answer at least one staged situation or campaign check fails. Also proves a swap is
always undone (even when the graded function raises, and in modules that imported the function
by name) and that bad arguments are refused before anything runs."""

from __future__ import annotations

from typing import Any

import pytest

from clobkit import labs
from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication import client_table
from clobkit.storage import format as wal_format
from clobkit.storage.format import RECORD_HEADER_SIZE


def _never_duplicate(record: Any, number: int) -> str:
    return "new"  # no client table at all


def _equal_is_new(record: Any, number: int) -> str:
    # off by one: only an older number counts as seen, so a retry executes again
    return "new" if record is None or number >= record.request_number else "stale"


def _longest_log(dvcs: dict[int, Any]) -> tuple[int, Any, int]:
    # the length alone decides: an older view's longer log wins
    index, best = max(dvcs.items(), key=lambda kv: (kv[1].op, -kv[0]))
    return index, best, max(d.commit for d in dvcs.values())


def _newest_view_only(dvcs: dict[int, Any]) -> tuple[int, Any, int]:
    # the view alone decides: among logs of the newest view, the lowest index, however short
    index, best = max(dvcs.items(), key=lambda kv: (kv[1].last_normal_view, -kv[0]))
    return index, best, max(d.commit for d in dvcs.values())


def _no_leadership_check(
    read: Any, *, confirmed: int, applied: int, commit: int, view_start_op: int
) -> bool:
    # answers without waiting for the probe round: a deposed primary serves stale state
    return commit >= view_start_op and applied >= read.read_index


def _no_view_start_check(
    read: Any, *, confirmed: int, applied: int, commit: int, view_start_op: int
) -> bool:
    # trusts a new primary's commit number before its view's no-op commits
    return confirmed >= read.probe and applied >= read.read_index


def _always_torn(tail: bytes) -> str:
    return "torn"  # truncate whatever does not parse (the naive recovery)


def _always_corrupt(tail: bytes) -> str:
    return "corrupt"  # never truncate: a torn write becomes a corrupt record


def _length_only(tail: bytes) -> str:
    # forgets preallocated (zero) space
    return "torn" if len(tail) < RECORD_HEADER_SIZE else "corrupt"


WRONG = [
    ("L1", _never_duplicate),
    ("L1", _equal_is_new),
    ("L2", _longest_log),
    ("L2", _newest_view_only),
    ("L3", _no_leadership_check),
    ("L3", _no_view_start_check),
    ("L4", _always_torn),
    ("L4", _always_corrupt),
    ("L4", _length_only),
]


@pytest.mark.parametrize("lab", sorted(labs.LABS))
def test_the_reference_solution_passes_every_check(lab: str) -> None:
    report = labs.grade(lab, labs.reference(lab), verbose=False)
    assert report.passed, report.text()
    kinds = {check.kind for check in report.checks}
    assert kinds == {"spec", "staged", "campaign"}
    assert report.counterexample is None


@pytest.mark.parametrize("lab, wrong", WRONG, ids=[f"{lab}-{fn.__name__}" for lab, fn in WRONG])
def test_a_plausible_wrong_answer_is_caught_by_behaviour(lab: str, wrong: Any) -> None:
    report = labs.grade(lab, wrong, verbose=False)
    assert not report.passed
    behaviour = [c for c in report.checks if c.kind != "spec" and not c.passed]
    assert behaviour, report.text()  # caught by running it, not only by the spec table
    assert all(c.detail for c in behaviour)  # each failure carries its evidence


def test_a_failing_campaign_yields_a_shrunk_counterexample_and_a_picture() -> None:
    report = labs.grade("L1", _never_duplicate, verbose=False)
    campaign = [c for c in report.checks if c.kind == "campaign"]
    assert campaign and not campaign[0].passed
    assert "ck.replay(seed=" in campaign[0].detail
    assert report.counterexample is not None and report.counterexample.failed
    assert report.picture() is not None


def test_the_swap_reaches_modules_that_imported_the_function_by_name() -> None:
    # The replica imports choose_log by name; lab L2 must reach that copy too, and undo it.
    from clobkit.replication import replica, view_change

    with labs.use("L2", _longest_log):
        assert view_change.choose_log is _longest_log
        assert replica.choose_log is _longest_log
    assert replica.choose_log is view_change.choose_log is labs.reference("L2")


def test_grade_prints_the_report(capsys: pytest.CaptureFixture[str]) -> None:
    labs.grade("L4", _always_torn, seeds=0)
    out = capsys.readouterr().out
    assert out.startswith("Lab L4: WAL recovery of a torn tail")
    assert "FAIL  [staged] the last synced record's header is damaged" in out


def test_the_swap_is_undone_even_when_the_solution_raises() -> None:
    def broken(*args: Any) -> str:
        raise ZeroDivisionError("oops")

    report = labs.grade("L1", broken, seeds=1, verbose=False)
    assert not report.passed
    assert any("ZeroDivisionError" in c.detail for c in report.checks)
    assert client_table.classify_request is labs.reference("L1")
    with pytest.raises(RuntimeError), labs.use("L4", _always_torn):
        assert wal_format.classify_tail is _always_torn
        raise RuntimeError("leave the block")
    assert wal_format.classify_tail is labs.reference("L4")


@pytest.mark.parametrize(
    "lab, fn, seeds, error",
    [
        ("L9", _always_torn, 1, InvalidArgument),
        (4, _always_torn, 1, InvalidType),
        ("L4", "torn", 1, InvalidType),
        ("L4", _always_torn, -1, InvalidArgument),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    lab: Any, fn: Any, seeds: int, error: type[Exception]
) -> None:
    with pytest.raises(error):
        labs.grade(lab, fn, seeds=seeds, verbose=False)
    assert wal_format.classify_tail is labs.reference("L4")
