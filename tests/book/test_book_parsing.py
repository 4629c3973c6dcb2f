"""Prices, quantities and user names are parsed by one documented grammar, and the fast
parsing paths agree with the general one on every input.

Method: tables of inputs a person might type (fullwidth and Arabic-Indic digits, ``1_000``,
padded text, exponents, NaN, floats, absurd lengths and exponents) are refused with an error
that quotes the input; absurd exponents are shown refused *before* any arithmetic by the
error that names them. A Hypothesis property compares ``price_to_ticks``/``qty_to_lots``
(fast paths for ints and plain decimal strings, and the memo of converted price strings)
with ``_price_general``/``_qty_general`` (``Fraction`` arithmetic) across grids and bands:
same value, or the same error type and message. User names are checked against
``OrderBook`` and ``Cluster`` alike, with the book's state compared before and after.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from clobkit.book import MarketSpec, OrderBook
from clobkit.book.names import MAX_USER_CHARS, check_user
from clobkit.book.spec import quote
from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim import Cluster

SPEC = MarketSpec("ACME", tick="0.01", lot=1)

REFUSED_TEXT = [
    "１００",  # fullwidth digits
    "١٠٠",  # Arabic-Indic digits
    "1_000",
    " 100 ",
    "100 ",
    "\t100",
    "1e3",
    "1E-2",
    "1e999999999",
    "1e10000000",
    "NaN",
    "inf",
    "-Infinity",
    "0x10",
    "1.2.3",
    "",
    ".",
    "+",
    "--1",
    "²",
    "1,5",
    "9" * 41,
    "1" * 10**6,
]


@pytest.mark.parametrize("text", REFUSED_TEXT)
@pytest.mark.parametrize("convert", ["price_to_ticks", "qty_to_lots"])
def test_text_outside_the_grammar_is_refused_quoting_the_input(text: str, convert: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        getattr(SPEC, convert)(text, "the_arg")
    message = str(info.value)
    assert "the_arg" in message
    assert quote(text) in message
    assert len(message) < 300, "a huge input is quoted shortened"


@pytest.mark.parametrize(
    ("text", "ticks"),
    [
        ("100.50", 10050),
        ("100.5", 10050),
        ("100", 10000),
        ("100.", 10000),
        (".5", 50),
        ("+0.07", 7),
        ("0000100.500", 10050),
    ],
)
def test_text_inside_the_grammar_is_exact(text: str, ticks: int) -> None:
    assert SPEC.price_to_ticks(text) == ticks


def test_absurd_exponents_are_refused_before_any_arithmetic() -> None:
    # The message names the bound, so the value was never expanded (Decimal('1e999999999')
    # as a Fraction would need a billion-digit integer; as text it never reaches Decimal).
    for value in (Decimal("1e999999999"), Decimal("1e-999999999"), Decimal("1" * 41)):
        with pytest.raises(InvalidArgument, match="too large an exponent"):
            SPEC.price_to_ticks(value)
    with pytest.raises(InvalidArgument, match="not a number"):
        SPEC.qty_to_lots("1e999999999")
    with pytest.raises(InvalidArgument, match="too long"):
        SPEC.price_to_ticks("1" * 10**6)


@pytest.mark.parametrize("value", [100.5, 100.0, 1e3, float("nan"), float("-inf")])
def test_floats_are_refused_with_a_hint_to_pass_a_string(value: float) -> None:
    book = OrderBook(SPEC)
    for call in (
        lambda: book.place("ann", "buy", price=value, qty=1),
        lambda: book.place("ann", "buy", price="1", qty=value),
    ):
        with pytest.raises(InvalidType, match=r"not float.*pass the exact decimal as a string"):
            call()
    assert book.last_seq == 0 and len(book) == 0


def test_the_float_hint_shows_the_string_to_pass() -> None:
    with pytest.raises(InvalidType, match=r"e\.g\. price='100\.1'"):
        SPEC.price_to_ticks(100.1)


def test_a_limit_order_without_a_price_says_so() -> None:
    book = OrderBook(SPEC)
    with pytest.raises(InvalidArgument, match="a limit order needs a price"):
        book.place("ann", "buy", qty=1)
    assert book.last_seq == 0


# -- fast paths == general path --------------------------------------------------------------

SPECS = [
    MarketSpec("A", tick="0.01", lot=1),
    MarketSpec("A", tick=1, lot=1),
    MarketSpec("A", tick=5, lot=10),
    MarketSpec("A", tick="0.05", lot="0.1"),
    MarketSpec("A", tick="0.001", lot="0.5", min_price="1", max_price="99.5"),
    MarketSpec("A", tick="2.5", lot="0.001", min_price="5"),
]

NUMBER_TEXT = st.text(alphabet="0123456789.+-_ e٠١²", max_size=12) | st.from_regex(
    r"\A[+-]?[0-9]{0,22}(\.[0-9]{0,22})?\Z"
)
INPUTS = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.integers(min_value=-1000, max_value=10**6)
    | NUMBER_TEXT
)


def outcome(convert: Any, value: object) -> tuple[str, object]:
    try:
        return ("ok", convert(value, "x"))
    except InvalidArgument as exc:
        return (type(exc).__name__, str(exc))


@settings(max_examples=1500, deadline=None)
@given(spec=st.sampled_from(SPECS), value=INPUTS)
@example(spec=SPECS[0], value="100.50")
@example(spec=SPECS[0], value=10050)
@example(spec=SPECS[2], value=7)
@example(spec=SPECS[4], value="99.5001")
@example(spec=SPECS[0], value="4611686018427387904")
@example(spec=SPECS[1], value=2**62 + 1)
def test_fast_paths_agree_with_the_general_path(spec: MarketSpec, value: object) -> None:
    want = outcome(spec._price_general, value)
    assert outcome(spec.price_to_ticks, value) == want
    assert outcome(spec.price_to_ticks, value) == want, "a remembered price is the same price"
    assert outcome(spec.qty_to_lots, value) == outcome(spec._qty_general, value)


def test_the_price_memo_is_bounded_and_exact() -> None:
    spec = MarketSpec("A", tick="0.01")
    for cents in range(1, 10_001):
        text = f"{cents // 100}.{cents % 100:02d}"
        assert spec.price_to_ticks(text) == cents == spec.price_to_ticks(text)
        assert len(spec._price_memo) <= 4096
    with pytest.raises(InvalidArgument):
        spec.price_to_ticks("0.001")  # refused, so never remembered
    assert "0.001" not in spec._price_memo


# -- user names: one rule for the book and the cluster ----------------------------------------

BAD_USERS = [" ", "\x00", "alice\n", "x" * 10**6, "", " alice", "alice ", "\t", "a\u2028b"]


@pytest.mark.parametrize("user", BAD_USERS)
def test_bad_user_names_are_refused_by_book_and_cluster_alike(user: str) -> None:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="100", qty=1)
    before = book.snapshot()
    with pytest.raises(InvalidArgument) as by_book:
        book.place(user, "buy", price="100", qty=1)
    assert book.snapshot() == before
    with pytest.raises(InvalidArgument) as by_rule:
        check_user(user)
    cluster = Cluster(3, seed=1, storage="memory")
    with pytest.raises(InvalidArgument) as by_cluster:
        cluster.place(user, "buy", price="100", qty=1)
    assert str(by_book.value) == str(by_rule.value) == str(by_cluster.value)
    assert len(str(by_book.value)) < 200, "a huge name is quoted shortened"
    assert cluster.live_orders() == []


@pytest.mark.parametrize("user", ["alice", "dée", "a b", "x" * MAX_USER_CHARS, "用户"])
def test_good_user_names_are_accepted(user: str) -> None:
    book = OrderBook(SPEC)
    assert book.place(user, "buy", price="100", qty=1).accepted
    assert book.live_orders()[0].user == user


def test_user_name_type_is_checked() -> None:
    with pytest.raises(InvalidType):
        check_user(7)
