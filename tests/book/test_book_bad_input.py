"""Bad input is refused with the right error, naming the argument, and changes nothing.

Method: MarketSpec conversions are probed with each kind of bad value (floats off the grid,
NaN, infinities, bools, zero, negatives, off-tick, off-lot, outside the band); every
convenience-method error is raised against a populated book whose digest, fills, live
orders and last_seq are compared before and after; malformed ``apply`` calls and command
constructors are checked the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clobkit.book import Cancel, MarketSpec, Modify, OrderBook, Place
from clobkit.errors import (
    DuplicateOrderId,
    InvalidArgument,
    InvalidType,
    NoLiquidity,
    NotOwner,
    OrderRejected,
    UnknownOrder,
)

SPEC = MarketSpec("ACME", tick="0.01", lot=1, min_price="0.50", max_price="500")


# -- MarketSpec ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "ticks"),
    [("100.50", 10050), (100, 10000), (Decimal("0.01"), 1), ("1.2", 120), ("+1.2", 120)],
)
def test_price_conversions_that_are_exact(value: object, ticks: int) -> None:
    spec = MarketSpec("ACME", tick="0.01")
    assert spec.price_to_ticks(value) == ticks
    assert spec.ticks_to_price(ticks) == Decimal(str(value))


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (100.005, InvalidType, "not float"),
        ("100.005", InvalidArgument, "multiple of the tick"),
        (float("nan"), InvalidType, "not float"),
        (float("inf"), InvalidType, "not float"),
        (Decimal("NaN"), InvalidArgument, "finite"),
        ("-inf", InvalidArgument, "not a number"),
        ("NaN", InvalidArgument, "not a number"),
        (True, InvalidType, "bool"),
        (0, InvalidArgument, "positive"),
        ("-1", InvalidArgument, "positive"),
        ("0.10", InvalidArgument, "band"),
        (1000, InvalidArgument, "band"),
        ("abc", InvalidArgument, "not a number"),
        ([1], InvalidType, "str, int or Decimal"),
    ],
)
def test_bad_prices_are_refused_naming_the_argument(value: object, error: type, words: str) -> None:
    with pytest.raises(error, match=words) as info:
        SPEC.price_to_ticks(value, "limit_price")
    assert "limit_price" in str(info.value)


@pytest.mark.parametrize(
    ("value", "words"),
    [(0, "positive"), (-3, "positive"), ("1.5", "multiple of the lot"), (2.5, "not float")],
)
def test_bad_quantities_are_refused(value: object, words: str) -> None:
    with pytest.raises(InvalidArgument, match=words) as info:
        SPEC.qty_to_lots(value)
    assert "qty" in str(info.value)


def test_fractional_lots_and_quantities() -> None:
    spec = MarketSpec("ACME", tick="0.05", lot="0.001")
    assert spec.qty_to_lots("1.5") == 1500
    assert spec.lots_to_qty(1500) == Decimal("1.500")
    assert spec.price_to_ticks("1.05") == 21
    with pytest.raises(InvalidArgument):
        spec.price_to_ticks("1.01")
    with pytest.raises(InvalidType):
        spec.qty_to_lots(False)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"tick": "0"},
        {"tick": "-0.01"},
        {"lot": 0},
        {"tick": "nan"},
        {"tick": True},
        {"min_price": "2", "max_price": "1"},
        {"min_price": "1.001"},
    ],
)
def test_bad_specs_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgument):
        MarketSpec("ACME", **kwargs)
    with pytest.raises(InvalidArgument):
        MarketSpec("")


# -- commands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: Place("ACME", "ann", "hold", 100, 1), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 0), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, True), InvalidType),
        (lambda: Place("ACME", "ann", "buy", 100.0, 1), InvalidType),
        (lambda: Place("ACME", "ann", "buy", None, 1), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, order_type="market"), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, tif="day"), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, stp="cancel"), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, tif="ioc", post_only=True), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, protection_price=5), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, order_id=-1), InvalidArgument),
        (lambda: Place("ACME", "ann", "buy", 100, 1, order_id="7"), InvalidType),
        (lambda: Place("ACME", "", "buy", 100, 1), InvalidArgument),
        (lambda: Place("ACME", 7, "buy", 100, 1), InvalidType),
        (lambda: Cancel("ACME", "ann", 2**63), InvalidArgument),
        (lambda: Modify("ACME", "ann", 1), InvalidArgument),
        (lambda: Modify("ACME", "ann", 1, qty=0), InvalidArgument),
    ],
)
def test_command_constructors_validate(make: Any, error: type) -> None:
    with pytest.raises(error):
        make()


# -- the book: every refusal leaves it unchanged --------------------------------------------


@pytest.fixture
def book() -> OrderBook:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="100.50", qty=10)
    book.place("bob", "buy", price="100.00", qty=5, order_id=1000, client_order_id="b-1")
    book.place("cat", "buy", price="100.50", qty=4)  # trades with ann
    return book


def state(book: OrderBook) -> tuple[object, ...]:
    return (book.digest(), book.snapshot(), book.fills(), book.live_orders(), book.last_seq)


@pytest.mark.parametrize(
    ("call", "error", "reason"),
    [
        (
            lambda b: b.place("ann", "buy", price="99", qty=1, order_id=1000),
            DuplicateOrderId,
            "order_id_used",
        ),
        (
            lambda b: b.place("ann", "buy", price="99", qty=1, order_id=1),
            OrderRejected,
            "order_id_too_low",
        ),
        (
            lambda b: b.place("bob", "buy", price="99", qty=1, client_order_id="b-1"),
            DuplicateOrderId,
            "duplicate_client_order_id",
        ),
        (lambda b: b.cancel("ann", client_order_id="b-1"), UnknownOrder, "unknown_client_order_id"),
        (
            lambda b: b.modify("cat", client_order_id="nope", qty=1),
            UnknownOrder,
            "unknown_client_order_id",
        ),
        (lambda b: b.cancel("ann", 424242), UnknownOrder, "unknown_order"),
        (lambda b: b.cancel("ann", 1000), NotOwner, "not_owner"),
        (lambda b: b.modify("ann", 1000, qty=1), NotOwner, "not_owner"),
        (lambda b: b.modify("bob", 5, qty=1), UnknownOrder, "unknown_order"),
        (
            lambda b: b.place("bob", "sell", price="100.00", qty=1, post_only=True),
            OrderRejected,
            "would_take",
        ),
        (
            lambda b: b.place("cat", "buy", price="100.50", qty=7, tif="fok"),
            OrderRejected,
            "fok_unfillable",
        ),
    ],
)
def test_convenience_rejections_raise_and_change_nothing(
    book: OrderBook, call: Any, error: type, reason: str
) -> None:
    before = state(book)
    with pytest.raises(error) as info:
        call(book)
    assert isinstance(info.value, OrderRejected)
    assert info.value.reason == reason
    assert state(book) == before
    book._check()


def test_market_order_on_empty_side_raises_no_liquidity() -> None:
    book = OrderBook(SPEC)
    book.place("ann", "buy", price="1", qty=1)
    before = state(book)
    with pytest.raises(NoLiquidity):
        book.place("bob", "buy", qty=1, order_type="market")
    assert state(book) == before


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda b: b.place("ann", "buy", price="100.001", qty=1), InvalidArgument),
        (lambda b: b.place("ann", "buy", price=100.001, qty=1), InvalidArgument),
        (lambda b: b.place("ann", "buy", price=float("nan"), qty=1), InvalidArgument),
        (lambda b: b.place("ann", "buy", price="100", qty=0), InvalidArgument),
        (lambda b: b.place("ann", "buy", price="100", qty=1.5), InvalidArgument),
        (lambda b: b.place("ann", "buy", price="100", qty=True), InvalidType),
        (lambda b: b.place("ann", "buy", price="100"), InvalidArgument),
        (lambda b: b.place("ann", "buy", price="1000", qty=1), InvalidArgument),
        (lambda b: b.place("ann", "up", price="100", qty=1), InvalidArgument),
        (lambda b: b.place(None, "buy", price="100", qty=1), InvalidType),
        (lambda b: b.place("ann", "buy", price="100", qty=1, order_id=1.0), InvalidType),
        (lambda b: b.place("ann", "buy", price="100", qty=1, ts_us=-1), InvalidArgument),
        (lambda b: b.cancel("ann", "1"), InvalidType),
        (lambda b: b.modify("ann", 1), InvalidArgument),
        (lambda b: b.modify("ann", 1, price="0.001"), InvalidArgument),
    ],
)
def test_bad_arguments_raise_and_change_nothing(book: OrderBook, call: Any, error: type) -> None:
    before = state(book)
    with pytest.raises(error):
        call(book)
    assert state(book) == before


def test_malformed_apply_calls_raise_and_change_nothing(book: OrderBook) -> None:
    before = state(book)
    seq = book.last_seq
    good = Place("ACME", "dan", "buy", 9000, 1)
    for args in [
        (good, seq, 1),  # seq not increasing
        (good, seq - 1, 1),
        (good, seq + 1, -5),  # negative time
        (good, float(seq + 1), 1),
        (good, seq + 1, "now"),
        ("place", seq + 1, 1),  # not a command
    ]:
        with pytest.raises(InvalidArgument):
            book.apply(*args)  # type: ignore[arg-type]
    assert state(book) == before


def test_business_rejections_from_apply_do_not_raise(book: OrderBook) -> None:
    before = state(book)
    seq = book.last_seq + 1
    cases = {
        "market_mismatch": Place("BOLT", "dan", "buy", 9000, 1),
        "price_out_of_range": Place("ACME", "dan", "buy", 10, 1),
        "unknown_order": Modify("ACME", "dan", 77, qty=1),
    }
    for reason, command in cases.items():
        result = book.apply(command, seq, seq)
        assert (result.accepted, result.reason, result.status) == (False, reason, "rejected")
    assert state(book) == before
    with pytest.raises(OrderRejected) as info:
        book.apply(cases["market_mismatch"], seq, seq).raise_for_reason()
    assert info.value.reason == "market_mismatch"


def test_order_lookup_of_unknown_id_raises(book: OrderBook) -> None:
    with pytest.raises(UnknownOrder):
        book.order(123456)
    with pytest.raises(KeyError):  # UnknownOrder is also a KeyError
        book.order(123456)


def test_query_arguments_are_checked(book: OrderBook) -> None:
    with pytest.raises(InvalidArgument):
        book.depth(0)
    with pytest.raises(InvalidType):
        book.fills(since_seq="3")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        OrderBook(SPEC, stp_default="cancel")
    with pytest.raises(InvalidType):
        OrderBook("ACME")  # type: ignore[arg-type]
