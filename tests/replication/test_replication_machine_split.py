"""BookMachine's fast apply (``apply_split``) gives exactly what the exchange's checked path gives.

``BookMachine.apply_split`` routes a decoded command straight to its market's book (it spells
out ``Exchange.apply`` for the common case) and returns the reply unencoded. Seeded random
scripts of places, cancels and modifies (known and unknown markets, known and unknown order
ids, crossing prices, self-trades), undecodable payloads and out-of-order sequence numbers
are applied to a ``BookMachine`` through ``apply_split`` and, as the reference, to a plain
``Exchange`` through ``decode_command`` + ``Exchange.apply`` + ``encode_result``: after every
step the results, reply bytes, raised errors, ``last_seq`` and digests must agree. A second
test proves the fast path is the one taken, and a third that ``apply`` and
``apply_deferred`` give ``apply_split``'s bytes.
"""

from __future__ import annotations

import random

import pytest

from clobkit.book import Exchange, MarketSpec, decode_command, encode_command, encode_result
from clobkit.book.commands import Cancel, Command, Modify, Place
from clobkit.errors import ClobError, InvalidArgument
from clobkit.replication import BookMachine

SPECS = [MarketSpec("ACME"), MarketSpec("BOLT")]
USERS = ["al", "bo", "cy"]


def _command(rng: random.Random, next_id: int) -> Command:
    market = rng.choice(["ACME", "ACME", "BOLT", "ZZZ"])
    user = rng.choice(USERS)
    kind = rng.random()
    if kind < 0.6:
        return Place(
            market, user, rng.choice(["buy", "sell"]), rng.randint(95, 105), rng.randint(1, 5)
        )
    order_id = rng.randint(max(1, next_id - 12), max(1, next_id))
    if kind < 0.85:
        return Cancel(market, user, order_id)
    return Modify(market, user, order_id, qty=rng.randint(1, 6))


def _payloads(seed: int, steps: int) -> list[tuple[int, int, bytes]]:
    """(seq, ts_us, payload) triples: mostly increasing seqs, some repeats and junk."""
    rng = random.Random(seed)
    out = []
    seq = 0
    for step in range(steps):
        seq += 1 if rng.random() < 0.9 else rng.choice([0, -1, 3])
        payload = encode_command(_command(rng, seq))
        if rng.random() < 0.05:
            payload = rng.choice([b"", b"junk", payload[:-1], payload + b"\x00"])
        out.append((seq, 1_000 + step, payload))
    return out


def _reference(exchange: Exchange, seq: int, ts_us: int, payload: bytes) -> tuple[object, bytes]:
    try:
        command = decode_command(payload)
    except InvalidArgument:
        return None, b""
    result = exchange.apply(command, seq, ts_us)
    return result, encode_result(result)


@pytest.mark.parametrize("seed", range(12))
def test_apply_split_equals_the_exchange_path(seed: int) -> None:
    machine, reference = BookMachine(SPECS), Exchange(SPECS)
    for seq, ts_us, payload in _payloads(seed, 400):
        try:
            want: tuple[object, bytes] | type[ClobError] = _reference(
                reference, seq, ts_us, payload
            )
        except ClobError as exc:
            want = type(exc)
        try:
            encode, result = machine.apply_split(seq, ts_us, payload)
            got: tuple[object, bytes] | type[ClobError] = (result, encode(result))
        except ClobError as exc:
            got = type(exc)
        assert got == want, (seed, seq, payload)
        assert machine.exchange.last_seq == reference.last_seq
        assert machine.digest() == reference.digest(), (seed, seq)


def test_the_fast_path_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    machine = BookMachine(SPECS)

    def refuse(*args: object) -> None:
        raise AssertionError("Exchange.apply called for a common command")

    monkeypatch.setattr(machine.exchange, "apply", refuse)
    for seq, command in enumerate(
        [
            Place("ACME", "al", "buy", 100, 2),
            Place("ACME", "bo", "sell", 100, 1),
            Cancel("ACME", "al", 1),
        ],
        start=1,
    ):
        _encode, result = machine.apply_split(seq, seq, encode_command(command))
        assert result is not None and result.accepted
    assert machine.exchange.last_seq == 3
    # an unknown market takes the exchange's path (which refuses it)
    with pytest.raises(AssertionError, match=r"Exchange\.apply called"):
        machine.apply_split(4, 4, encode_command(Place("ZZZ", "al", "buy", 100, 1)))


def test_apply_and_apply_deferred_give_apply_splits_bytes() -> None:
    machines = [BookMachine(SPECS) for _ in range(3)]
    for seq, ts_us, payload in _payloads(99, 200):
        outs = []
        for how, m in zip(("split", "apply", "deferred"), machines, strict=True):
            try:
                if how == "split":
                    encode, result = m.apply_split(seq, ts_us, payload)
                    outs.append(encode(result))
                elif how == "apply":
                    outs.append(m.apply(seq, ts_us, payload))
                else:
                    outs.append(m.apply_deferred(seq, ts_us, payload)())
            except ClobError as exc:
                outs.append(type(exc))
        assert outs[0] == outs[1] == outs[2]
    assert len({m.digest() for m in machines}) == 1
