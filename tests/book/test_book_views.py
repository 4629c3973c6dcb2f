"""The pandas views have the documented columns and dtypes, also when empty, and show the
book's values in both price units and ticks; the notebook reprs are short and escaped.

Method: compare frame columns/dtypes with the published tables in ``clobkit.book.frames``,
then check row values against the book's own queries for a small worked example.
"""

from __future__ import annotations

import pytest

from clobkit.book import MarketSpec, OrderBook
from clobkit.book.frames import DEPTH_COLUMNS, FILL_COLUMNS, LIVE_ORDER_COLUMNS

pd = pytest.importorskip("pandas")


def dtypes(frame: object) -> dict[str, str]:
    return {name: str(dtype) for name, dtype in frame.dtypes.items()}  # type: ignore[attr-defined]


def test_empty_frames_have_columns_and_dtypes() -> None:
    book = OrderBook(MarketSpec("ACME"))
    for frame, columns in (
        (book.fills_df(), FILL_COLUMNS),
        (book.live_orders_df(), LIVE_ORDER_COLUMNS),
        (book.depth_df(), DEPTH_COLUMNS),
        (book.fills_df(user="nobody"), FILL_COLUMNS),
    ):
        assert len(frame) == 0
        assert dtypes(frame) == columns


def filled_book() -> OrderBook:
    book = OrderBook(MarketSpec("ACME", tick="0.05", lot="0.1"))
    book.place("ann", "sell", price="10.05", qty="1.5")
    book.place("bob", "sell", price="10.10", qty="2")
    book.place("cat", "buy", price="10.10", qty="2.0")  # fills 1.5 @ 10.05 and 0.5 @ 10.10
    book.place("dan", "buy", price="9.95", qty="0.3")
    return book


def test_fills_frame_values() -> None:
    book = filled_book()
    frame = book.fills_df()
    assert dtypes(frame) == FILL_COLUMNS
    assert frame["price"].tolist() == [10.05, 10.1]
    assert frame["price_ticks"].tolist() == [201, 202]
    assert frame["qty"].tolist() == [15, 5]  # whole lots (the lot is 0.1)
    assert frame["qty_lots"].tolist() == [15, 5]
    assert frame["maker_user"].tolist() == ["ann", "bob"]
    assert frame["aggressor_side"].tolist() == ["buy", "buy"]
    assert frame["fill_id"].tolist() == [f.fill_id for f in book.fills()]
    only_ann = book.fills_df(user="ann")
    assert only_ann["fill_id"].tolist() == [0]
    assert dtypes(only_ann) == FILL_COLUMNS


def test_live_orders_and_depth_frames() -> None:
    book = filled_book()
    live = book.live_orders_df()
    assert dtypes(live) == LIVE_ORDER_COLUMNS
    assert live["user"].tolist() == [o.user for o in book.live_orders()] == ["dan", "bob"]
    assert live["price"].tolist() == [9.95, 10.1]
    assert live["qty"].tolist() == [3, 15]  # whole lots
    assert live["filled_qty_lots"].tolist() == [0, 5]
    depth = book.depth_df(levels=5)
    assert dtypes(depth) == DEPTH_COLUMNS
    assert depth[["side", "level", "price_ticks", "qty_lots", "order_count"]].values.tolist() == [
        ["buy", 0, 199, 3, 1],
        ["sell", 0, 202, 15, 1],
    ]


def test_million_row_frame_is_columnar() -> None:
    # The frame is built from the columns, so it matches fill_columns() exactly.
    book = OrderBook(MarketSpec("ACME"))
    for i in range(300):
        book.place(f"m{i % 3}", "sell", price="1.00", qty=2)
        book.place(f"t{i % 5}", "buy", price="1.00", qty=1)
    frame = book.fills_df()
    columns = book.fill_columns()
    assert frame["seq"].tolist() == list(columns["seq"])
    assert frame["qty_lots"].sum() == 300


def test_reprs_are_short_and_escaped() -> None:
    book = OrderBook(MarketSpec("<b>&"))
    assert repr(book).startswith("OrderBook('<b>&', last_seq=0")
    book.place("ann", "buy", price="1.00", qty=1)
    html = book._repr_html_()
    assert "<b>&" not in html and "&lt;b&gt;&amp;" in html
    assert "1.00" in html


def test_import_clobkit_book_does_not_import_pandas() -> None:
    import subprocess
    import sys

    code = "import sys, clobkit.book; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
