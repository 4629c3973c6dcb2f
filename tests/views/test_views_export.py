"""export() round-trips frames through CSV and Parquet and fails clearly without pyarrow.

Method: round trips of typed frames (ints, floats, strings, a dict of frames), a history frame
with tuple columns for Parquet, and a simulated missing pyarrow (``sys.modules`` entry None).
"""

from __future__ import annotations

import sys

import pandas as pd
import pytest

import clobkit.views as cv
from clobkit.errors import InvalidArgument, InvalidType
from tests.views.scenarios import quiet_cluster, small_book


def test_csv_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fills = cv.fills(small_book())
    [path] = cv.export(fills, tmp_path / "fills.csv")
    back = pd.read_csv(path).astype(cv.FILL_COLUMNS)
    assert back.equals(fills)


def test_parquet_round_trip_keeps_dtypes(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lag = cv.lag(quiet_cluster())
    [path] = cv.export(lag, tmp_path / "lag.parquet")
    back = pd.read_parquet(path)
    assert back.astype(cv.LAG_COLUMNS).equals(lag)
    assert str(back.dtypes["lag_ops"]) == "Int64"


def test_dict_of_frames_one_file_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = quiet_cluster()
    frames = {"fills": cv.fills(c), "history": cv.history(c), "events": cv.events(c)}
    paths = cv.export(frames, tmp_path / "out", format="parquet")
    assert [p.name for p in paths] == ["fills.parquet", "history.parquet", "events.parquet"]
    history = pd.read_parquet(paths[1])
    assert history["input"].iloc[0].startswith("('place'")  # tuples stored as their repr
    csvs = cv.export(frames, tmp_path / "csv")
    assert [p.suffix for p in csvs] == [".csv"] * 3
    assert len(pd.read_csv(csvs[0])) == len(frames["fills"])


def test_missing_pyarrow_names_the_package(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(cv.MissingDependency, match="pyarrow"):
        cv.export(cv.fills(small_book()), tmp_path / "f.parquet")
    assert not (tmp_path / "f.parquet").exists()


def test_bad_arguments(tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = cv.fills(small_book())
    with pytest.raises(InvalidArgument, match="xlsx"):
        cv.export(frame, tmp_path / "f", format="xlsx")
    with pytest.raises(InvalidType):
        cv.export([frame], tmp_path / "f")
    with pytest.raises(InvalidArgument, match="file names"):
        cv.export({"../up": frame}, tmp_path / "d")
    with pytest.raises(InvalidType):
        cv.export({"a": 1}, tmp_path / "d")
    assert list(tmp_path.iterdir()) == []
