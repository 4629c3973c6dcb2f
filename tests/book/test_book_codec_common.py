"""The decoder's fast path for common commands accepts exactly what the general walk accepts.

A version-1 ``Place`` or ``Cancel`` with short strings and small numbers is decoded without a
call per field (``codec._decode_common``); anything unusual falls back to the general walk.
Hypothesis' mutations in ``test_book_codec_oracle.py`` rarely hit the narrow cases where the
two could part (a two-byte varint whose second byte is zero, a length byte of exactly 0x80,
a string cut one byte short), so this test walks them on purpose: valid encodings with
numbers at the one/two-byte varint boundaries (127, 128, 16383, 16384), each
mutated by seeded random byte changes, deletions, insertions and truncations, are decoded by
the codec (memo cleared) and by the oracle, which must agree on the value or on the
exception type and message. Checked by hand: a fast path that accepts a non-canonical
two-byte varint, or one that reads a string length of 0x80 or more as one byte, fails it.
"""

from __future__ import annotations

import random
from typing import Any

from clobkit.book import codec
from clobkit.book.commands import Cancel, Place
from clobkit.errors import ClobError
from tests.book import codec_oracle as oracle

EDGES = (0, 1, 126, 127, 128, 129, 16382, 16383, 16384, 16385)


def _outcome(decode: Any, data: bytes) -> tuple[Any, ...]:
    try:
        return ("ok", decode(data))
    except (ClobError, ValueError) as exc:
        return ("error", type(exc).__name__, str(exc))


def _seeds(rng: random.Random) -> list[bytes]:
    out = []
    for _ in range(40):
        market = rng.choice(("M", "ACME", "hé"))
        user = rng.choice(("al", "u" * 64, "hé"))
        qty = rng.choice(EDGES[1:])
        if rng.random() < 0.5:
            order_id = rng.choice((None, *EDGES[1:]))
            price = rng.choice(EDGES[1:])
            out.append(
                codec.encode_command(Place(market, user, "sell", price, qty, order_id=order_id))
            )
        else:
            out.append(codec.encode_command(Cancel(market, user, rng.choice(EDGES[1:]))))
    return out


def test_common_commands_decode_like_the_oracle_under_mutation() -> None:
    rng = random.Random(14)
    seeds = _seeds(rng)
    for _ in range(20_000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(0, 3)):
            how = rng.random()
            if how < 0.4 and data:
                data[rng.randrange(len(data))] = rng.choice(
                    (0, 0x7F, 0x80, 0x81, rng.randrange(256))
                )
            elif how < 0.6 and data:
                del data[rng.randrange(len(data))]
            elif how < 0.8:
                data.insert(rng.randrange(len(data) + 1), rng.randrange(256))
            else:
                data = data[: rng.randrange(len(data) + 1)]
        raw = bytes(data)
        codec._decoded.clear()  # a first decode (the fast path), not a memo hit
        assert _outcome(codec.decode_command, raw) == _outcome(oracle.decode_command, raw), (
            raw.hex()
        )
