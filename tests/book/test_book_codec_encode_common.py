"""The encoders' fast paths for common commands and results give exactly the oracle's bytes.

``encode_command`` writes a plain GTC limit ``Place`` and a ``Cancel`` by id, and
``encode_result`` a result without self-trade cancels whose fills (if any) are common, as one
join of table look-ups;
anything else takes the general path. Both must give the bytes of the first codec
(``tests/book/codec_oracle.py``). Seeded random commands and results are built from values at
the edges where the fast paths could part from it (varint widths at 2**7, 2**14 and 2**28,
strings of 127 and 128 bytes, multi-byte UTF-8, numbers up to 2**62, equal but not interned
choice strings, every option of a place, every status and rejection reason, the book's
outcome subclasses of ``ApplyResult``) and each is
encoded twice (the second time its strings are remembered, the fast path's condition) and
compared with the oracle; a result's bytes must also decode (through the memo the fast path
fills) to a result equal to the oracle's decode, field for field and type for type. A last
test proves the fast paths are taken: with the string encoder and the general varint writer
made to fail, common commands and results still encode. Checked by hand: writing the
order-id byte of a ``Cancel`` as ``order_id + 1``, or a two-byte ``ts_us`` with its halves
swapped, fails it.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from clobkit.book import MarketSpec, OrderBook, codec
from clobkit.book.commands import STP_MODES, Cancel, Modify, Place
from clobkit.book.results import (
    REJECT_REASONS,
    STATUSES,
    ApplyResult,
    CancelledResult,
    Fill,
    RestedResult,
)
from tests.book import codec_oracle as oracle

NUMBERS = (
    1,
    2,
    126,
    127,
    128,
    129,
    16382,
    16383,
    16384,
    16385,
    2**21,
    2**28 - 2,
    2**28 - 1,
    2**28,
    2**28 + 1,
    2**35,
    2**62,
)
TEXTS = ("M", "ACME", "hé", "u" * 64, "x" * 127, "y" * 128, "é" * 64, "ü" * 70)
USERS = ("al", "hé", "u" * 63, "é" * 63, "é" * 64)  # (at most 64 characters; 127, 128 bytes)


def _word(rng: random.Random, word: str) -> str:
    """``word`` itself (the interned constant) or an equal string built at run time."""
    return word if rng.random() < 0.8 else "".join(list(word))


def _command(rng: random.Random) -> Any:
    market, user = rng.choice(TEXTS), rng.choice(USERS)
    how = rng.random()
    if how < 0.5:  # mostly common places, some with one option changed
        side = _word(rng, rng.choice(("buy", "sell")))
        price, qty = rng.choice(NUMBERS), rng.choice(NUMBERS)
        options: dict[str, Any] = {}
        extra = rng.randrange(8)
        if extra == 1:
            options["tif"] = _word(rng, rng.choice(("gtc", "ioc", "fok")))
        elif extra == 2:
            options["order_id"] = rng.choice(NUMBERS)
        elif extra == 3:
            options["stp"] = rng.choice(STP_MODES)
        elif extra == 4:
            options["post_only"] = True
        elif extra == 5:
            options["client_order_id"] = rng.choice(("c1", "h" * 40))
        elif extra == 6:
            return Place(market, user, side, None, qty, order_type="market",
                         protection_price=rng.choice((None, *NUMBERS)))  # fmt: skip
        return Place(market, user, side, price, qty, **options)
    if how < 0.85:
        if rng.random() < 0.85:
            return Cancel(market, user, rng.choice(NUMBERS))
        return Cancel(market, user, client_order_id=rng.choice(("c1", "h" * 40)))
    return Modify(market, user, rng.choice(NUMBERS), qty=rng.choice(NUMBERS))


def _fill(rng: random.Random) -> Fill:
    numbers = [rng.choice(NUMBERS) for _ in range(7)]
    fill_id, seq, ts_us, price, qty, taker_id, maker_id = numbers
    taker, maker, market = rng.choice(TEXTS), rng.choice(TEXTS), rng.choice(TEXTS)
    side = rng.choice(("buy", "sell"))
    return Fill(fill_id, seq, ts_us, market, price, qty, taker_id, maker_id, taker, maker, side)


def _result(rng: random.Random) -> ApplyResult:
    def num() -> int:
        return rng.choice((0, *NUMBERS))

    accepted = rng.random() < 0.6
    reason = None if accepted else rng.choice((*REJECT_REASONS, "other"))
    if rng.random() < 0.05:
        reason = rng.choice((None, "odd"))  # an accepted result with a reason, and the reverse
    fills = tuple(_fill(rng) for _ in range(rng.choice((0, 0, 0, 1, 2))))
    stp = tuple(num() for _ in range(rng.choice((0, 0, 0, 0, 1, 2))))
    order_id = None if rng.random() < 0.2 else num()
    if rng.random() < 0.2:  # the book's outcome subclasses (their fixed fields as classes hold)
        outcome: ApplyResult = rng.choice((RestedResult, CancelledResult))()
        outcome.seq, outcome.ts_us, outcome.order_id = num(), num(), order_id
        if type(outcome) is RestedResult:
            outcome.resting_qty = num()
        else:
            outcome.cancelled_qty = num()
        return outcome
    return ApplyResult(accepted, reason, num(), num(), order_id, rng.choice(STATUSES), fills,
                       num(), num(), stp)  # fmt: skip


FILL = Fill(16383, 16384, 2**28 - 1, "ACME", 10050, 3, 9, 4, "al", "bo", "sell")


def _typed(result: ApplyResult) -> list[tuple[type, Any]]:
    return [(type(value), value) for value in result]


def test_commands_encode_like_the_oracle() -> None:
    rng = random.Random(1402)
    for i in range(20_000):
        if i % 500 == 0:
            codec._texts.clear()  # (strings not yet remembered: the general path first)
        command = _command(rng)
        expected = oracle.encode_command(command)
        assert codec.encode_command(command) == expected, command
        assert codec.encode_command(command) == expected, command  # (strings remembered)


def test_results_encode_like_the_oracle_and_decode_through_the_memo() -> None:
    rng = random.Random(1403)
    for i in range(20_000):
        if i % 500 == 0:
            codec._texts.clear()
        result = _result(rng)
        expected = oracle.encode_result(result)
        assert codec.encode_result(result) == expected, result
        data = codec.encode_result(result)
        assert data == expected, result
        assert _typed(codec.decode_result(data)) == _typed(oracle.decode_result(data)), result


def test_the_fast_paths_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    place, cancel = Place("ACME", "al", "sell", 16382, 16383), Cancel("ACME", "al", 16383)
    results = [
        ApplyResult(True, None, 2**28 - 1, 16384, 2**28 - 2, "resting", (), 16383, 0),
        ApplyResult(False, "unknown_order", 1, 2, None, "rejected", (), 0, 0),
        ApplyResult(True, None, 9, 16384, 9, "partially_filled", (FILL, FILL), 1, 0),
    ]
    book = OrderBook(MarketSpec("ACME"))  # (the book's own results: its outcome subclasses)
    place_result = book.apply(Place("ACME", "al", "buy", 100, 5), 1, 20_000)
    results += [place_result, book.apply(Cancel("ACME", "al", 1), 2, 20_001)]
    book.apply(Place("ACME", "al", "buy", 100, 5), 3, 20_002)
    results.append(book.apply(Place("ACME", "bo", "sell", 100, 2), 4, 20_003))  # (traded)
    assert {type(r) for r in results} > {RestedResult, CancelledResult}
    expected = [oracle.encode_command(place), oracle.encode_command(cancel)]
    expected += [oracle.encode_result(r) for r in results]
    codec.encode_command(place)  # (remembers the strings)
    codec.encode_command(Place("ACME", "bo", "sell", 1, 1))

    def fail(*args: object) -> bytes:
        raise AssertionError("the general path was taken")

    monkeypatch.setattr(codec, "_utext", fail)
    monkeypatch.setattr(codec, "_uvar", fail)
    monkeypatch.setattr(codec, "_ovar", fail)
    got = [codec.encode_command(place), codec.encode_command(cancel)]
    got += [codec.encode_result(r) for r in results]
    assert got == expected
