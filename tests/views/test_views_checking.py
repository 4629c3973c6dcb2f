"""History and campaign views attach the checker's verdict to the right client calls.

Method: hand-made register histories whose linearization (or impossibility) is obvious, one
with a ``fail`` call that the checker never sees (so record and checker indices differ), and
a seeded cluster's history checked against the book model; campaign frames are normalised
to the documented dtypes whatever dtypes they came with.
"""

from __future__ import annotations

import pandas as pd
import pytest

import clobkit.views as cv
from clobkit.check import History, book_model, check_operations, register_model
from clobkit.errors import InvalidArgument, InvalidType
from tests.views.scenarios import assert_schema, quiet_cluster


def _history(read_value: int) -> History:
    h = History()
    failed = h.invoke("c", ("w", 9), 0)  # rejected: never took effect, not checked
    w = h.invoke("a", ("w", 1), 1)
    r = h.invoke("b", ("r", None), 20)
    pending = h.invoke("c", ("w", 5), 40)
    h.complete(failed, "fail", None, 2)
    h.complete(w, "ok", None, 10)
    h.complete(r, "ok", read_value, 30)
    del pending  # never completes
    return h


def test_ok_history_gets_linearization_positions() -> None:
    h = _history(1)
    result = check_operations(register_model(), h.operations())
    assert result.verdict == "ok"
    f = cv.history(h, result)
    assert_schema(f, cv.HISTORY_COLUMNS)
    assert f["outcome"].tolist() == ["fail", "ok", "ok", "pending"]
    assert f["check_index"].tolist()[1:] == [0, 1, 2] and pd.isna(f["check_index"].iloc[0])
    # w(1) then r -> 1; the pending write may be left out of the witness.
    assert f["linearization_position"].tolist()[1:3] == [0, 1]
    assert f["in_prefix"].tolist()[:3] == [False, True, True]
    assert not f["culprit"].any()


def test_illegal_history_flags_culprits() -> None:
    h = _history(7)  # nobody ever wrote 7
    result = check_operations(register_model(), h.operations())
    assert result.verdict == "illegal"
    f = cv.history(h, result)
    culprit_records = set(f.loc[f.culprit, "index"])
    assert 2 in culprit_records  # the impossible read
    assert 0 not in culprit_records  # the failed call is never a culprit
    expected = {h.op_indices()[i] for i in result.culprits}
    assert culprit_records == expected


def test_without_result_verdict_columns_are_empty() -> None:
    f = cv.history(_history(1))
    assert f["linearization_position"].isna().all()
    assert not f["culprit"].any() and not f["in_prefix"].any()


def test_cluster_history_checked_against_the_book() -> None:
    c = quiet_cluster()
    h = c.history.to_check_history()
    result = check_operations(book_model(c.market), h.operations())
    f = cv.history(c, result)
    assert result.verdict == "ok"
    assert f["op"].tolist() == ["place"] * 4
    assert sorted(f["linearization_position"].tolist()) == [0, 1, 2, 3]
    # one client at a time: the witness follows invocation order
    assert f["linearization_position"].tolist() == [0, 1, 2, 3]
    assert (
        cv.history(c.history, spec=c.market)  # a bare history needs the market
        .drop(columns=["output", "input"])
        .equals(cv.history(c).drop(columns=["output", "input"]))
    )


def test_empty_history() -> None:
    f = cv.history(History())
    assert len(f) == 0
    assert_schema(f, cv.HISTORY_COLUMNS)
    with pytest.raises(InvalidType):
        cv.history(42)


def test_campaign_normalises_dtypes_and_keeps_extras() -> None:
    raw = pd.DataFrame(
        {name: ["x"] if dtype == "str" else ["1"] for name, dtype in cv.CAMPAIGN_COLUMNS.items()}
    )
    raw["wall_time_s"] = ["0.5"]
    raw["note"] = ["extra"]
    raw = raw[["note", *reversed(list(cv.CAMPAIGN_COLUMNS))]]
    raw.attrs["options"] = {"nodes": 3}
    out = cv.campaign(raw)
    assert list(out.columns) == [*cv.CAMPAIGN_COLUMNS, "note"]
    assert {k: str(out.dtypes[k]) for k in cv.CAMPAIGN_COLUMNS} == cv.CAMPAIGN_COLUMNS
    assert out.loc[0, "seed"] == 1 and out.loc[0, "wall_time_s"] == 0.5
    assert out.attrs == {"options": {"nodes": 3}}
    with pytest.raises(InvalidArgument, match="seed"):
        cv.campaign(raw.drop(columns=["seed"]))
    with pytest.raises(InvalidType):
        cv.campaign([1, 2])


def test_campaign_columns_match_the_campaign_module() -> None:
    import importlib

    import clobkit as ck

    module = importlib.import_module(ck.campaign.__module__)
    assert cv.CAMPAIGN_COLUMNS == module.CAMPAIGN_COLUMNS
