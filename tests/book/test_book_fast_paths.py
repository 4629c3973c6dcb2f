"""The book's fast paths and batched fill log are invisible: same results, fills and bytes.

``OrderBook.apply`` runs a passive GTC limit order and a good cancel inline and sends a
crossing GTC limit order without self-trade prevention to ``_cross`` (``matching.cross``);
fills wait in a pending list before they reach the columns. We replay seeded random
streams (every command type, good and bad, client order ids among them, several users
appearing mid-stream) through the real book and through ``GeneralBook``, a subclass whose
``apply`` routes every command through the general methods (``_place`` -> ``_execute`` ->
``matching.match``, ``_cancel``, ``_modify``), and assert equal results after every command
and byte-identical snapshots. A second comparison flushes one book's fills after every
command and leaves the other's pending until the end (past the batch size), and asserts
identical fill columns, user table and snapshot bytes.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.book import ApplyResult, Cancel, MarketSpec, Modify, OrderBook, Place
from clobkit.book.commands import Command

SYMBOL = "ACME"


class GeneralBook(OrderBook):
    """An OrderBook whose apply skips every fast path (the general methods only)."""

    def apply(self, command: Command, seq: int, ts_us: int) -> ApplyResult:
        if type(seq) is not int or seq <= self.last_seq or type(ts_us) is not int or ts_us < 0:
            raise self._bad_call(seq, ts_us)
        if isinstance(command, Place):
            return self._place(command, seq, ts_us)
        if isinstance(command, Cancel):
            return self._cancel(command, seq, ts_us)
        assert isinstance(command, Modify)
        return self._modify(command, seq, ts_us)


def stream(rng: random.Random, n: int) -> Iterator[Command]:
    """Mostly fast-path traffic (posts, crossing limits, cancels) plus every other case."""
    users = ["ann", "bob"]
    for i in range(n):
        if rng.random() < 0.02:
            users.append(f"user{len(users):03d}")  # new users keep appearing (interning order)
        user = rng.choice(users)
        side = rng.choice(["buy", "sell"])
        r = rng.random()
        if r < 0.55:
            tif = rng.choice(["gtc"] * 8 + ["ioc", "fok"])
            yield Place(
                rng.choice([SYMBOL] * 40 + ["OTHER"]),
                user,
                side,
                rng.randint(88, 112),
                rng.randint(1, 12),
                tif=tif,
                order_id=rng.choice([None] * 12 + [rng.randint(1, 50)]),
                stp=rng.choice(
                    [None] * 8 + ["none", "cancel-taker", "cancel-maker", "cancel-both"]
                ),
                post_only=tif == "gtc" and rng.random() < 0.05,
                client_order_id=rng.choice([None] * 6 + ["c1", "c2"]),
            )
        elif r < 0.6:
            yield Place(
                SYMBOL,
                user,
                side,
                None,
                rng.randint(1, 30),
                order_type="market",
                protection_price=rng.choice([None, rng.randint(88, 112)]),
            )
        elif r < 0.85:
            yield Cancel(SYMBOL, user, rng.randint(1, max(2, i)))
        elif r < 0.9:
            yield Cancel(SYMBOL, user, client_order_id=rng.choice(["c1", "c2"]))
        else:
            price = rng.choice([None, rng.randint(88, 112)])
            qty = rng.randint(1, 12) if price is None else rng.choice([None, rng.randint(1, 12)])
            yield Modify(SYMBOL, user, rng.randint(1, max(2, i)), price=price, qty=qty)


def spec_for(rng: random.Random) -> MarketSpec:
    banded = rng.random() < 0.5
    return MarketSpec(
        SYMBOL,
        tick="0.01",
        min_price="0.90" if banded else None,
        max_price="1.10" if banded else None,
    )


@pytest.mark.parametrize("seed", range(12))
def test_fast_paths_match_the_general_path(seed: int) -> None:
    rng = random.Random(seed)
    spec = spec_for(rng)
    stp_default = rng.choice(["none", "none", "cancel-taker", "cancel-maker", "cancel-both"])
    fast, general = OrderBook(spec, stp_default), GeneralBook(spec, stp_default)
    seq = 0
    for i, command in enumerate(stream(rng, 1500)):
        seq += rng.choice([1, 1, 3])
        got, want = fast.apply(command, seq, seq * 10), general.apply(command, seq, seq * 10)
        assert got == want, (seed, i, command)
        assert [type(f) for f in got.fills] == [type(f) for f in want.fills]
        if i % 250 == 0:
            fast._check()
            assert fast.snapshot() == general.snapshot(), (seed, i)
    fast._check()
    assert fast.snapshot() == general.snapshot()
    assert fast.fills() == general.fills()
    assert fast.live_orders() == general.live_orders()


def test_fill_batches_are_invisible() -> None:
    """One book flushes after every command, the other only past the batch size: same bytes."""
    rng = random.Random(99)
    spec = MarketSpec(SYMBOL, tick="0.01")
    eager, lazy = OrderBook(spec), OrderBook(spec)
    users = [f"u{i:03d}" for i in range(300)]
    for seq in range(1, 6_001):
        side = rng.choice(["buy", "sell"])
        # Crossing-heavy prices around 100 ticks make about two fills per command.
        price = rng.randint(95, 105)
        command = Place(SYMBOL, rng.choice(users), side, price, rng.randint(1, 8))
        assert eager.apply(command, seq, seq) == lazy.apply(command, seq, seq)
        eager.fill_columns()  # a reader: moves pending fills into the columns now
    assert lazy.fill_count() > 4096, "the stream must pass the batch size once"
    assert lazy.snapshot() == eager.snapshot()
    assert lazy.fill_users() == eager.fill_users()
    # The user table lists users in order of first appearance, the taker before the maker.
    first_seen: dict[str, None] = {}
    for fill in lazy.fills():
        first_seen.setdefault(fill.taker_user)
        first_seen.setdefault(fill.maker_user)
    assert lazy.fill_users() == tuple(first_seen)
    assert lazy.fill_columns() == eager.fill_columns()
    assert lazy.fills(user="u007") == eager.fills(user="u007")
    lazy._check()


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1), n=st.integers(min_value=1, max_value=300)
)
def test_fast_paths_match_general_path_hypothesis(seed: int, n: int) -> None:
    rng = random.Random(seed)
    spec = spec_for(rng)
    fast, general = OrderBook(spec), GeneralBook(spec)
    for seq, command in enumerate(stream(rng, n), 1):
        assert fast.apply(command, seq, seq) == general.apply(command, seq, seq)
    fast._check()
    assert fast.snapshot() == general.snapshot()


class Text(str):
    """A str subclass: the quick checks must send it to the full checks (same outcome)."""


def fresh(text: str) -> str:
    """An equal string that is a different object from the interned literal ``text``."""
    built = "".join(list(text))
    assert built == text and (built is not text or len(text) < 2)
    return built


# Each field's values: valid ones, and each kind of invalid one the checks name; then equal
# values that are not the interned literals (the quick checks compare choices by identity).
PLACE_FIELDS = {
    "market": ["ACME", "", 7],
    "user": ["ann", "", " ann", "ann ", "a\n", 5, "x" * 65, "dée", fresh("bea"), Text("cid")],
    "side": ["buy", "sell", "hold", None, fresh("buy"), Text("sell")],
    # (2**30 - 1 and 2**30: both sides of the quick checks' one-digit comparison.)
    "price": [100, 0, -1, 2**30 - 1, 2**30, 2**62, 2**62 + 1, None, True, 1.0],
    "qty": [1, 0, 2**30 - 1, 2**30, 2**62, 2**62 + 1, True, None],
    "order_type": ["limit", "market", "stop", None, fresh("limit"), Text("limit")],
    "tif": ["gtc", "ioc", "fok", "day", fresh("ioc"), Text("gtc")],
    "order_id": [None, 1, 0, "1"],
    "stp": [None, "none", "cancel-maker", "x"],
    "protection_price": [None, 5, 0],
    "post_only": [False, True, 0, None],
    "client_order_id": [None, "c", "", 3],
}


@st.composite
def place_fields(draw: st.DrawFn) -> dict[str, object]:
    """A valid plain limit order with up to three fields changed to any listed value."""
    fields = {k: v[0] for k, v in PLACE_FIELDS.items()}
    for name in draw(st.lists(st.sampled_from(sorted(PLACE_FIELDS)), max_size=3)):
        fields[name] = draw(st.sampled_from(PLACE_FIELDS[name]))
    return fields


@settings(max_examples=3000, deadline=None)
@given(place_fields())
def test_the_place_constructors_quick_check_admits_only_valid_orders(
    fields: dict[str, object],
) -> None:
    """``Place`` admits the common order in one expression and sends everything else to
    ``_check_place``: both must accept and refuse exactly the same field values."""
    from clobkit.book.commands import _check_place
    from clobkit.errors import InvalidArgument

    def outcome(build: object) -> object:
        try:
            build(*fields.values())  # type: ignore[operator]
        except InvalidArgument as exc:
            return (type(exc), str(exc))
        return "ok"

    assert outcome(Place) == outcome(_check_place)


CANCEL_FIELDS = {
    "market": ["ACME", "", 7],
    "user": ["ann", "", " ann", "ann ", "a\n", 5, "x" * 65],
    "order_id": [3, None, 0, 2**30 - 1, 2**30, 2**63 - 1, 2**63, True, "3"],
    "client_order_id": [None, "c", "", 3],
}


def test_the_cancel_constructors_quick_check_admits_only_valid_cancels() -> None:
    """``Cancel`` admits the common cancel in one expression; the full checks must agree.

    Every combination of the listed values (756), not a sample: sampling 1,000 of them
    missed ``Cancel("ACME", "ann", 0)`` when the quick check was planted to admit id 0.
    """
    from clobkit.book.commands import _check_str, _check_target, check_user
    from clobkit.errors import InvalidArgument

    def full_checks(market: object, user: object, order_id: object, cid: object) -> None:
        _check_str(market, "market")
        check_user(user)
        _check_target(order_id, cid)

    def outcome(build: object, fields: tuple[object, ...]) -> object:
        try:
            build(*fields)  # type: ignore[operator]
        except InvalidArgument as exc:
            return (type(exc), str(exc))
        return "ok"

    combinations = list(itertools.product(*CANCEL_FIELDS.values()))
    assert len(combinations) == 756
    for fields in combinations:
        assert outcome(Cancel, fields) == outcome(full_checks, fields), fields


# The public convenience calls. ``place``/``cancel`` take a quick route when every keyword is
# at its default; passing ``ts_us`` equal to its default (the next seq) sends the very same
# call down the general route, so the two routes can be compared call by call.
CALL_USERS = [
    "ann",
    "bob",
    "",
    " ann",
    "ann ",
    "a\n",
    5,
    "x" * 65,
    "dée",
    None,
    fresh("cy"),
    Text("di"),
]
CALL_PRICES = ["1.00", "1.05", "0.99", 100, 105, "1.005", "abc", "", ".", "1e2", "１",
               " 1.00", "-1.00", "0", 0, -3, None, 1.0, True, 2**70, "9" * 40]  # fmt: skip
CALL_QTYS = [1, 3, "2", "2.0", "1.5", 0, -1, None, True, 1.0, "", 2**63]
CALL_SIDES = ["buy", "sell", "hold", "BUY", None, 1, fresh("buy"), fresh("sell"), Text("buy")]


def _outcome(method: Any, *args: object, **kwargs: object) -> object:
    """A call's result, or its error's type and message (the book must be unchanged)."""
    try:
        return method(*args, **kwargs)
    except Exception as exc:  # every error type is compared, not only InvalidArgument
        return (type(exc).__name__, str(exc))


@settings(max_examples=300, deadline=None)
@given(
    tick=st.sampled_from(["0.01", "1", "0.05"]),
    banded=st.booleans(),
    lot=st.sampled_from(["1", "0.5"]),
    stp_default=st.sampled_from(["none", "none", "cancel-taker", "cancel-maker", "cancel-both"]),
    calls=st.lists(
        st.one_of(
            st.tuples(
                st.just("place"),
                st.sampled_from(CALL_USERS),
                st.sampled_from(CALL_SIDES),
                st.sampled_from(CALL_PRICES),
                st.sampled_from(CALL_QTYS),
            ),
            st.tuples(  # an explicit exchange id reserves a seq the quick route must skip
                st.just("place_ids"),
                st.sampled_from(["ann", "bob"]),
                st.sampled_from(["buy", "sell"]),
                st.sampled_from(["1.00", "1.05", 100, 105]),
                st.sampled_from([1, 3]),
                st.sampled_from([None, 0, 1, 2, 4]),  # id last_seq + this (0: too low)
                st.sampled_from([None, "c1", "c2"]),  # a client id (cancel must forget it)
            ),
            st.tuples(
                st.just("cancel"),
                st.sampled_from(["ann", "bob", "ann", "bob", *CALL_USERS]),
                # a recent id (last_seq - k: the orders a cancel usually names), or a raw one
                st.one_of(
                    st.integers(min_value=0, max_value=5).map(lambda k: ("back", k)),
                    st.sampled_from([1, 0, -1, None, True, "2", 2**63]),
                ),
            ),
        ),
        max_size=40,
    ),
)
def test_public_place_and_cancel_quick_routes_match_the_general_route(
    tick: str, banded: bool, lot: str, stp_default: str, calls: list[tuple[object, ...]]
) -> None:
    """``book.place(user, side, price=..., qty=...)`` and ``book.cancel(user, id)`` give the
    same result or the same error (type and message), and leave identical books, whether they
    take the quick route (keywords defaulted) or the general one (``ts_us`` given)."""
    spec = MarketSpec(
        SYMBOL,
        tick=tick,
        min_price="0.95" if banded and tick != "1" else ("95" if banded else None),
        max_price="1.05" if banded and tick != "1" else ("105" if banded else None),
        lot=lot,
    )
    quick, general = OrderBook(spec, stp_default), OrderBook(spec, stp_default)
    for call in calls:
        ts = general.last_seq + 1
        if call[0] == "place":
            _, user, side, price, qty = call
            got = _outcome(quick.place, user, side, price=price, qty=qty)
            want = _outcome(general.place, user, side, price=price, qty=qty, ts_us=ts)
        elif call[0] == "place_ids":
            _, user, side, price, qty, ahead, cid = call
            kw = {"price": price, "qty": qty, "client_order_id": cid}
            kw["order_id"] = None if ahead is None else general.last_seq + ahead  # type: ignore[operator]
            got = _outcome(quick.place, user, side, **kw)
            want = _outcome(general.place, user, side, **kw)
        else:
            _, user, oid = call
            if type(oid) is tuple:
                oid = general.last_seq - oid[1]
            got = _outcome(quick.cancel, user, oid)
            want = _outcome(general.cancel, user, oid, ts_us=ts)
        assert got == want, call
        assert quick.snapshot() == general.snapshot(), call
        quick._check()


@pytest.mark.parametrize("stp_default", ["none", "cancel-maker"])
def test_quick_routes_handle_reserved_ids_client_ids_and_tidying(stp_default: str) -> None:
    """The quick routes' rarer branches, step by step against the general route: an auto id
    displaced by a reserved one (an extras entry), a client id that a cancel by order id must
    forget, a level emptied by cancels, and a crossing order under each STP default."""
    books = OrderBook(MarketSpec(SYMBOL), stp_default), OrderBook(MarketSpec(SYMBOL), stp_default)
    states: dict[bool, list[bytes]] = {True: [], False: []}
    for quick in (True, False):
        book = books[0] if quick else books[1]
        seen = states[quick]

        def ts() -> dict[str, int]:
            return {} if quick else {"ts_us": book.last_seq + 1}  # noqa: B023

        book.place("ann", "buy", price=10, qty=1, **ts())
        seen.append(book.snapshot())
        book.place("ann", "buy", price=10, qty=2, order_id=4)  # reserves id 4 (general route)
        seen.append(book.snapshot())
        book.place("bob", "buy", price=11, qty=3, client_order_id="c1")  # id 3
        seen.append(book.snapshot())
        book.place("ann", "buy", price=9, qty=1, **ts())  # seq 4 is reserved: id 5, extras
        seen.append(book.snapshot())
        assert book._extras, "the displaced auto id is recorded"
        book.cancel("bob", 3, **ts())  # must forget bob's client id c1
        seen.append(book.snapshot())
        book.cancel("ann", 5, **ts())  # must drop the extras entry and the emptied level
        seen.append(book.snapshot())
        book.cancel("ann", 4, **ts())
        seen.append(book.snapshot())
        book.place("bob", "sell", price=10, qty=2, **ts())  # crosses ann's remaining bid
        seen.append(book.snapshot())
        book._check()
    assert states[True] == states[False]
    assert books[0]._extras == books[1]._extras == {}
    assert books[0].fills() == books[1].fills()


@pytest.mark.parametrize("seed", range(6))
def test_a_side_past_the_small_list_size_keeps_the_same_bytes(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A side keeps its level prices in a plain list up to ``SMALL_SIDE_LEVELS`` levels and
    in a ``SortedList`` past it (and keeps that): with the limit at 3, so the sides move over
    early and then create and empty levels in the ``SortedList``, a book gives the same
    results, digests and snapshot bytes as one that never leaves the plain list."""
    from clobkit.book import side as side_module

    commands = list(stream(random.Random(seed), 600))

    def run(limit: int) -> tuple[OrderBook, list[tuple[ApplyResult, str]]]:
        monkeypatch.setattr(side_module, "SMALL_SIDE_LEVELS", limit)
        book = OrderBook(spec_for(random.Random(seed)))
        trace = []
        for seq, command in enumerate(commands, 1):
            trace.append((book.apply(command, seq, seq), book.digest()))
            book._check()
        return book, trace

    plain, plain_trace = run(side_module.SMALL_SIDE_LEVELS)
    moved, moved_trace = run(3)
    assert plain._bids.small and plain._asks.small
    assert not moved._bids.small and not moved._asks.small, "both sides moved over"
    assert moved_trace == plain_trace
    assert moved.snapshot() == plain.snapshot()


def test_decoded_commands_carry_the_constants_the_quick_checks_compare_by_identity() -> None:
    """A replica builds its commands by decoding log bytes; the quick checks of ``Place``
    compare ``side``/``order_type``/``tif`` with the interned constants by identity, so the
    decoder must hand back those very objects (else every replicated place would take the
    full checks: same outcome, slower)."""
    from clobkit.book import commands
    from clobkit.book.codec import decode_command, encode_command

    for side in commands.SIDES:
        for tif in commands.TIFS:
            place = Place(SYMBOL, "ann", fresh(side), 5, 1, tif=fresh(tif))
            decoded = decode_command(encode_command(place))
            assert decoded == place
            assert decoded.side is commands.SIDES[commands.SIDES.index(side)]
            assert decoded.tif is commands.TIFS[commands.TIFS.index(tif)]
            assert decoded.order_type is commands.ORDER_TYPES[0]


@pytest.mark.parametrize("route", ["apply by order id", "apply by client id", "book.cancel"])
def test_every_cancel_route_compacts_a_level_exactly_by_the_rule(route: str) -> None:
    """A cancel leaves a dead entry in its level's deque; the level is dropped when no live
    order is left, and compacted when ``2 * dead > len(orders) + 8`` (``BookSide.unlink``).
    The inlined cancels test ``dead > 8`` first to skip the ``len`` call (the same rule, as
    ``len >= dead``): for every level size up to 40 and a seeded cancel order, each of the
    three cancel routes must leave exactly the deque the rule gives, step by step."""
    for size in range(1, 41):
        book = OrderBook(MarketSpec(SYMBOL))
        for seq in range(1, size + 1):
            book.apply(Place(SYMBOL, "ann", "buy", 100, 1, client_order_id=f"c{seq}"), seq, seq)
        order_ids = list(range(1, size + 1))
        random.Random(size).shuffle(order_ids)
        for seq, order_id in enumerate(order_ids, size + 1):
            level = book._bids.levels[100]
            length, dead = len(level.orders), level.dead + 1
            if route == "apply by order id":
                result = book.apply(Cancel(SYMBOL, "ann", order_id), seq, seq)
            elif route == "apply by client id":
                cancel = Cancel(SYMBOL, "ann", client_order_id=f"c{order_id}")
                result = book.apply(cancel, seq, seq)
            else:
                result = book.cancel("ann", order_id)
            assert result.status == "cancelled"
            book._check()
            if dead == length:  # the last live order: the level is gone
                assert 100 not in book._bids.levels
            elif 2 * dead > length + 8:  # compacted: only live entries left
                assert (len(level.orders), level.dead) == (length - dead, 0), (size, seq)
            else:
                assert (len(level.orders), level.dead) == (length, dead), (size, seq)
