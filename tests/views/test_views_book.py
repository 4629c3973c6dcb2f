"""The book views give documented columns and hand-computed values for books, exchanges, clusters.

Method: small books whose fills, depth, positions and VWAP are worked out by hand in the
comments; every frame's columns and dtypes are checked against the module constants, also for
empty books; bad arguments raise the documented errors and leave the book unchanged.
"""

from __future__ import annotations

import pytest

import clobkit.views as cv
from clobkit.book import MarketSpec, OrderBook
from clobkit.errors import InvalidArgument, InvalidType, Unavailable
from tests.views.scenarios import assert_schema, quiet_cluster, small_book, small_exchange


def test_fills_values_by_hand() -> None:
    f = cv.fills(small_book())
    assert_schema(f, cv.FILL_COLUMNS)
    # bob's buy 4 @ 101 meets alice's 100.50; dave's sell 2 @ 99 meets carol's 99 bid.
    assert f[
        ["seq", "price", "price_ticks", "qty_lots", "taker_user", "maker_user"]
    ].values.tolist() == [
        [2, 100.5, 10050, 4, "bob", "alice"],
        [6, 99.0, 9900, 2, "dave", "carol"],
    ]
    assert f["aggressor_side"].tolist() == ["buy", "sell"]


def test_fills_by_user_and_same_as_book_frame() -> None:
    book = small_book()
    assert cv.fills(book, "carol")["fill_id"].tolist() == [1]
    assert cv.fills(book, "alice")["fill_id"].tolist() == [0]
    assert len(cv.fills(book, "nobody")) == 0
    assert cv.fills(book).equals(book.fills_df())


def test_depth_cumulates_from_best_price() -> None:
    d = cv.depth(small_book())
    assert_schema(d, cv.DEPTH_COLUMNS)
    # bids: 99 (3 - 2 filled = 1), 98.50 (7); asks: 100.50 (10 - 4 = 6), 101.50 (5).
    rows = d[["side", "price", "qty_lots", "cum_qty_lots"]].values.tolist()
    assert rows == [
        ["buy", 99.0, 1, 1],
        ["buy", 98.5, 7, 8],
        ["sell", 100.5, 6, 6],
        ["sell", 101.5, 5, 11],
    ]
    assert cv.depth(small_book(), 1)["level"].tolist() == [0, 0]
    assert cv.depth(d).equals(d)  # a depth frame passes through


def test_live_orders_carry_market() -> None:
    lo = cv.live_orders(small_book())
    assert_schema(lo, cv.LIVE_ORDER_COLUMNS)
    assert lo[["market", "user", "side", "qty_lots"]].values.tolist() == [
        ["ACME", "carol", "buy", 1],
        ["ACME", "carol", "buy", 7],
        ["ACME", "alice", "sell", 6],
        ["ACME", "alice", "sell", 5],
    ]
    assert cv.live_orders(small_book(), "alice")["user"].unique().tolist() == ["alice"]


def test_positions_and_pnl_by_hand() -> None:
    book = small_book()
    p = cv.positions(book)
    assert_schema(p, cv.POSITION_COLUMNS)
    # fill 0: bob +4 paying 402, alice -4 receiving 402; fill 1: dave -2 (+198), carol +2 (-198).
    assert p[["user", "role", "side", "position_lots", "cash"]].values.tolist() == [
        ["bob", "taker", "buy", 4, -402.0],
        ["alice", "maker", "sell", -4, 402.0],
        ["dave", "taker", "sell", -2, 198.0],
        ["carol", "maker", "buy", 2, -198.0],
    ]
    q = cv.pnl(book)
    assert_schema(q, cv.PNL_COLUMNS)
    # After fill 1 everyone is marked at 99: alice 402 - 4*99 = 6, bob -402 + 396 = -6.
    after = q[q.fill_id == 1].set_index("user")["pnl"].to_dict()
    assert after == {"alice": 6.0, "bob": -6.0, "carol": 0.0, "dave": 0.0}
    assert q[q.fill_id == 0]["user"].tolist() == ["alice", "bob"]


def test_vwap_running_and_bucketed() -> None:
    book = small_book()
    v = cv.vwap(book)
    assert_schema(v, cv.VWAP_COLUMNS)
    # (4 * 100.5 + 2 * 99) / 6 = 600 / 6 = 100.
    assert v["vwap"].tolist() == [100.5, 100.0]
    assert v["cum_qty"].tolist() == [4.0, 6.0]
    b = cv.vwap(book, bucket_us=4)  # fills at ts 2 and 6 fall in buckets 0 and 4
    assert_schema(b, cv.VWAP_BUCKET_COLUMNS)
    assert b[["bucket_us", "vwap", "trades"]].values.tolist() == [[0, 100.5, 1], [4, 99.0, 1]]
    assert cv.vwap(cv.fills(book)).equals(v)


def test_exchange_concatenates_markets() -> None:
    ex = small_exchange()
    f = cv.fills(ex)
    assert f[["market", "fill_id", "price_ticks", "qty_lots"]].values.tolist() == [
        ["ACME", 0, 500, 1],
        ["BOLT", 0, 700, 3],
    ]
    assert cv.fills(ex, market="BOLT")["market"].tolist() == ["BOLT"]
    assert cv.live_orders(ex)[["market", "qty_lots"]].values.tolist() == [["ACME", 1]]
    assert cv.depth(ex)["market"].tolist() == ["ACME"]
    assert cv.positions(ex).groupby("market").size().to_dict() == {"ACME": 2, "BOLT": 2}
    assert cv.vwap(ex)["vwap"].tolist() == [5.0, 7.0]


@pytest.mark.parametrize(
    ("view", "columns"),
    [
        (cv.fills, cv.FILL_COLUMNS),
        (cv.live_orders, cv.LIVE_ORDER_COLUMNS),
        (cv.depth, cv.DEPTH_COLUMNS),
        (cv.positions, cv.POSITION_COLUMNS),
        (cv.pnl, cv.PNL_COLUMNS),
        (cv.vwap, cv.VWAP_COLUMNS),
        (lambda b: cv.vwap(b, bucket_us=10), cv.VWAP_BUCKET_COLUMNS),
    ],
)
def test_empty_book_gives_empty_typed_frames(view, columns) -> None:  # type: ignore[no-untyped-def]
    frame = view(OrderBook(MarketSpec("ACME")))
    assert len(frame) == 0
    assert_schema(frame, columns)


def test_cluster_committed_state_equals_consistent_read() -> None:
    c = quiet_cluster()
    f = cv.fills(c)
    assert f[["price", "qty_lots", "taker_user", "maker_user"]].values.tolist() == [
        [100.5, 4, "bob", "alice"],
        [100.5, 1, "bob", "alice"],
    ]
    assert cv.committed_node(c) == c.primary
    assert cv.fills(c, consistent=True).equals(f)
    assert cv.live_orders(c, consistent=True).equals(cv.live_orders(c))
    assert cv.depth(c, consistent=True).equals(cv.depth(c))
    assert cv.fills(c, "carol", consistent=True).equals(cv.fills(c, "carol"))


def test_cluster_without_primary_reads_most_committed_replica() -> None:
    c = quiet_cluster()
    c.crash("n0")  # the primary: no new primary yet, since no time passed
    assert c.primary is None
    assert cv.committed_node(c) in ("n1", "n2")
    assert len(cv.fills(c)) == 2
    c.crash("n1")
    c.crash("n2")
    with pytest.raises(Unavailable):
        cv.fills(c)


def test_bad_arguments_raise_and_change_nothing() -> None:
    book = small_book()
    before = book.digest()
    with pytest.raises(InvalidType):
        cv.fills(object())
    with pytest.raises(InvalidArgument, match="ZZZ"):
        cv.fills(book, market="ZZZ")
    with pytest.raises(InvalidArgument, match="user"):
        cv.fills(book, 3)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="levels"):
        cv.depth(book, 0)
    with pytest.raises(InvalidArgument, match="consistent"):
        cv.fills(book, consistent=True)
    with pytest.raises(InvalidArgument, match="bucket_us"):
        cv.vwap(book, bucket_us=0)
    assert book.digest() == before


def test_same_inputs_same_frames() -> None:
    a = cv.pnl(small_book()).to_csv(index=False)
    b = cv.pnl(small_book()).to_csv(index=False)
    assert a == b


def test_pnl_for_chosen_users_only() -> None:
    book = small_book()
    q = cv.pnl(book, users=["alice", "zed"])
    assert q["user"].unique().tolist() == ["alice"]
    assert q["fill_id"].tolist() == [0, 1]  # alice is marked at fill 1 although not in it
    assert q["pnl"].tolist() == [0.0, 6.0]
    assert_schema(cv.pnl(book, users=[]), cv.PNL_COLUMNS)
    with pytest.raises(InvalidArgument):
        cv.pnl(book, users="alice")  # type: ignore[arg-type]
