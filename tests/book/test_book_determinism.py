"""Determinism and bytes: equal commands give byte-identical books, snapshots survive restore,
and the codecs round-trip exactly and refuse garbage.

Method: Hypothesis generates command streams and applies them to two independent books (and
to a book snapshotted and restored at an arbitrary point), comparing digests, snapshot bytes
and fills; codec properties are checked on generated commands and results, on every
truncation and on random bytes; one test recomputes a digest in a fresh interpreter with a
different hash seed.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.book import (
    ApplyResult,
    Cancel,
    Exchange,
    Fill,
    MarketSpec,
    Modify,
    OrderBook,
    Place,
    decode_command,
    decode_result,
    describe_command,
    encode_command,
    encode_result,
)
from clobkit.errors import InvalidArgument

SPEC = MarketSpec("ACME", tick="0.01", lot=1)
ACME = st.just("ACME")
USERS = st.sampled_from(["ann", "bob", "cat", "dée"])
# Valid user names (clobkit.book.names): printable, no space at either end.
NAMES = st.text(st.characters(exclude_categories=("C", "Z")), min_size=1, max_size=6) | st.just(
    "a b"
)
UNITS = st.integers(min_value=1, max_value=2**62)
IDS = st.integers(min_value=1, max_value=2**63 - 1)


@st.composite
def places(draw: st.DrawFn, market: st.SearchStrategy[str] = ACME) -> Place:
    order_type = draw(st.sampled_from(["limit", "market"]))
    tif = draw(st.sampled_from(["gtc", "ioc", "fok"]))
    limit = order_type == "limit"
    return Place(
        draw(market),
        draw(USERS),
        draw(st.sampled_from(["buy", "sell"])),
        draw(st.integers(95, 105)) if limit else None,
        draw(st.integers(1, 12)),
        order_type=order_type,
        tif=tif,
        order_id=draw(st.one_of(st.none(), st.integers(1, 40))),
        stp=draw(st.sampled_from([None, "none", "cancel-taker", "cancel-maker", "cancel-both"])),
        protection_price=None if limit else draw(st.one_of(st.none(), st.integers(95, 105))),
        post_only=limit and tif == "gtc" and draw(st.booleans()),
    )


def commands(market: st.SearchStrategy[str] = ACME) -> st.SearchStrategy[object]:
    ids = st.integers(1, 60)
    # Commands are named tuples: st.builds would fill every field it is not given (a client
    # order id too), so the optional ones are pinned.
    none = st.none()
    return st.one_of(
        places(market),
        places(market),
        st.builds(Cancel, market, USERS, ids, client_order_id=none),
        st.builds(
            Modify,
            market,
            USERS,
            ids,
            price=st.integers(95, 105),
            qty=st.one_of(st.none(), st.integers(1, 12)),
            client_order_id=none,
        ),
        st.builds(
            Modify, market, USERS, ids, price=none, qty=st.integers(1, 12), client_order_id=none
        ),
    )


def run(book: OrderBook, cmds: list[object], start: int = 0) -> list[ApplyResult]:
    return [book.apply(c, start + i + 1, 7 * (start + i + 1)) for i, c in enumerate(cmds)]  # type: ignore[arg-type]


@settings(max_examples=150, deadline=None)
@given(st.lists(commands(), max_size=80))
def test_same_commands_same_bytes(cmds: list[object]) -> None:
    a, b = OrderBook(SPEC), OrderBook(SPEC)
    results_a, results_b = run(a, cmds), run(b, cmds)
    assert results_a == results_b
    assert a.snapshot() == b.snapshot()
    assert a.digest() == b.digest()
    assert a.fills() == b.fills()
    assert [encode_result(r) for r in results_a] == [encode_result(r) for r in results_b]


@settings(max_examples=150, deadline=None)
@given(st.lists(commands(), max_size=80), st.data())
def test_snapshot_restore_then_continue_is_identical(
    cmds: list[object], data: st.DataObject
) -> None:
    cut = data.draw(st.integers(0, len(cmds)))
    straight = OrderBook(SPEC)
    run(straight, cmds[:cut])
    copy = OrderBook.restore(straight.snapshot())
    copy._check()
    assert copy.digest() == straight.digest()
    assert copy.live_orders() == straight.live_orders()
    assert copy.fills() == straight.fills()
    assert run(copy, cmds[cut:], cut) == run(straight, cmds[cut:], cut)
    assert copy.snapshot() == straight.snapshot()
    copy._check()


def test_digest_changes_with_state_and_ignores_rejections() -> None:
    book = OrderBook(SPEC)
    empty = book.digest()
    book.place("ann", "buy", price="1.00", qty=1)
    placed = book.digest()
    assert placed != empty
    with pytest.raises(InvalidArgument):
        book.cancel("bob", 1)
    assert book.digest() == placed


def test_digest_is_stable_across_processes() -> None:
    script = (
        "from clobkit.book import MarketSpec, OrderBook\n"
        "b = OrderBook(MarketSpec('ACME'))\n"
        "b.place('ann', 'sell', price='1.01', qty=5); b.place('bob', 'buy', price='1.01', qty=2)\n"
        "b.place('cat', 'buy', price='0.99', qty=3)\n"
        "print(b.digest())\n"
    )
    digests = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
        )
        digests.add(out.stdout.strip())
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="1.01", qty=5)
    book.place("bob", "buy", price="1.01", qty=2)
    book.place("cat", "buy", price="0.99", qty=3)
    assert digests == {book.digest()}


# -- codec -----------------------------------------------------------------------------


@st.composite
def any_commands(draw: st.DrawFn) -> object:
    kind = draw(st.sampled_from(["place", "cancel", "modify"]))
    cid = draw(st.one_of(st.none(), NAMES))
    if kind == "cancel":
        if cid is not None:
            return Cancel(draw(NAMES), draw(NAMES), client_order_id=cid)
        return Cancel(draw(NAMES), draw(NAMES), draw(IDS))
    if kind == "modify":
        price = draw(st.one_of(st.none(), UNITS))
        qty = draw(UNITS) if price is None else draw(st.one_of(st.none(), UNITS))
        oid = None if cid is not None else draw(IDS)
        return Modify(draw(NAMES), draw(NAMES), oid, price=price, qty=qty, client_order_id=cid)
    order_type = draw(st.sampled_from(["limit", "market"]))
    tif = draw(st.sampled_from(["gtc", "ioc", "fok"]))
    limit = order_type == "limit"
    return Place(
        draw(NAMES),
        draw(NAMES),
        draw(st.sampled_from(["buy", "sell"])),
        draw(UNITS) if limit else None,
        draw(UNITS),
        order_type=order_type,
        tif=tif,
        order_id=draw(st.one_of(st.none(), IDS)),
        stp=draw(st.sampled_from([None, "none", "cancel-taker", "cancel-maker", "cancel-both"])),
        protection_price=None if limit else draw(st.one_of(st.none(), UNITS)),
        post_only=limit and tif == "gtc" and draw(st.booleans()),
        client_order_id=cid,
    )


@settings(max_examples=300, deadline=None)
@given(any_commands())
def test_command_codec_round_trips(cmd: object) -> None:
    data = encode_command(cmd)  # type: ignore[arg-type]
    assert decode_command(data) == cmd
    assert encode_command(decode_command(data)) == data
    # Version byte: 1 unless the command carries a client order id (version 2).
    assert data[0] == (1 if cmd.client_order_id is None else 2)  # type: ignore[attr-defined]
    assert describe_command(data) == describe_command(cmd)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(any_commands())
def test_every_truncation_is_rejected(cmd: object) -> None:
    data = encode_command(cmd)  # type: ignore[arg-type]
    for end in range(len(data)):
        with pytest.raises(InvalidArgument):
            decode_command(data[:end])
    with pytest.raises(InvalidArgument):
        decode_command(data + b"\x00")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_garbage_is_rejected_or_canonical(data: bytes) -> None:
    try:
        cmd = decode_command(data)
    except InvalidArgument:
        return
    assert encode_command(cmd) == data  # anything accepted is exactly a valid encoding


def test_codec_rejects_other_versions_and_non_bytes() -> None:
    data = bytearray(encode_command(Cancel("ACME", "ann", 3)))
    data[0] = 3
    with pytest.raises(InvalidArgument, match="version"):
        decode_command(bytes(data))
    with pytest.raises(InvalidArgument):
        decode_command("not bytes")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        encode_command("place")  # type: ignore[arg-type]


fills_strategy = st.builds(
    Fill,
    st.integers(0, 10**6),
    st.integers(1, 10**6),
    st.integers(0, 10**9),
    NAMES,
    UNITS,
    UNITS,
    IDS,
    IDS,
    NAMES,
    NAMES,
    st.sampled_from(["buy", "sell"]),
)


@settings(max_examples=200, deadline=None)
@given(
    st.builds(
        ApplyResult,
        st.booleans(),
        st.one_of(st.none(), st.sampled_from(["unknown_order", "would_take"])),
        st.integers(1, 10**9),
        st.integers(0, 10**12),
        st.one_of(st.none(), IDS),
        st.sampled_from(["resting", "filled", "partially_filled", "cancelled", "modified"]),
        st.lists(fills_strategy, max_size=3).map(tuple),
        st.integers(0, 10**6),
        st.integers(0, 10**6),
        st.lists(IDS, max_size=3).map(tuple),
    )
)
def test_result_codec_round_trips(result: ApplyResult) -> None:
    data = encode_result(result)
    assert decode_result(data) == result
    for end in range(len(data)):
        with pytest.raises(InvalidArgument):
            decode_result(data[:end])


def test_real_results_round_trip() -> None:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="1.00", qty=3)
    result = book.place("bob", "buy", price="1.01", qty=5)
    assert decode_result(encode_result(result)) == result


def test_snapshot_rejects_garbage() -> None:
    book = OrderBook(SPEC)
    book.place("ann", "sell", price="1.00", qty=3)
    book.place("bob", "buy", price="0.99", qty=3)
    data = book.snapshot()
    for end in range(0, len(data), 3):
        with pytest.raises(InvalidArgument):
            OrderBook.restore(data[:end])
    with pytest.raises(InvalidArgument):
        OrderBook.restore(data + b"!")
    with pytest.raises(InvalidArgument):
        OrderBook.restore(b"XXXX" + data[4:])


# -- exchange ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(commands(st.sampled_from(["ACME", "BOLT", "NOPE"])), max_size=60))
def test_exchange_is_a_map_of_independent_books(cmds: list[object]) -> None:
    specs = [MarketSpec("ACME"), MarketSpec("BOLT")]
    exchange = Exchange(specs)
    alone = {s.symbol: OrderBook(s) for s in specs}
    for seq, cmd in enumerate(cmds, 1):
        before = exchange.digest()
        got = exchange.apply(cmd, seq, seq)  # type: ignore[arg-type]
        market = cmd.market  # type: ignore[attr-defined]
        if market == "NOPE":
            assert (got.accepted, got.reason) == (False, "unknown_market")
            assert exchange.digest() == before
        else:
            assert got == alone[market].apply(cmd, seq, seq)  # type: ignore[arg-type]
    for symbol, book in alone.items():
        assert exchange.book(symbol).snapshot() == book.snapshot()
    copy = Exchange.restore(exchange.snapshot())
    assert copy.digest() == exchange.digest()
    assert copy.markets == ("ACME", "BOLT")
    assert copy.last_seq == exchange.last_seq
