"""The order-book model accepts what a correct book does and flags what it cannot: histories
recorded from a real, sequential ``OrderBook`` behind concurrent clients (auto ids, seq gaps,
timeouts, two markets) check ok, while a stale fills read, a lost acknowledged order, a
duplicated place and a wrong fill are illegal in the right market; recorded histories survive
JSON lines with the same verdict."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.book import Cancel, MarketSpec, Modify, OrderBook, Place
from clobkit.check import History, MalformedHistory, Operation, check_operations
from clobkit.check.book_model import (
    PLACEHOLDER_ID_BASE,
    book_model,
    command_input,
    depth_output,
    fills_output,
    orders_output,
    write_output,
)

SPECS = [MarketSpec("ACME"), MarketSpec("BETA")]
USERS = ["alice", "bob", "carol"]


class LinearizableBooks:
    """A stand-in for a correct cluster: one book per market, each op applied atomically at
    a linearization point inside its [call, return] interval; seqs have gaps (other traffic)
    and ids are the system's auto ids, so the model cannot predict either."""

    def __init__(self) -> None:
        self.books = {s.symbol: OrderBook(s) for s in SPECS}
        self.seq = 0

    def run(self, inp: tuple[Any, ...]) -> Any:
        kind, market = inp[0], inp[1]
        book = self.books[market]
        if kind == "fills":
            return fills_output(book.fills(user=inp[2]))
        if kind == "orders":
            return orders_output(book.live_orders(user=inp[2]))
        if kind == "depth":
            return depth_output(book.depth(inp[2]))
        self.seq += 3
        if kind == "place":
            cmd: Any = Place(market, inp[2], inp[3], inp[4], inp[5])
        elif kind == "cancel":
            cmd = Cancel(market, inp[2], inp[3])
        else:
            cmd = Modify(market, inp[2], inp[3], price=inp[4], qty=inp[5])
        return write_output(book.apply(cmd, seq=self.seq, ts_us=self.seq * 10))


def record(seed: int, n: int = 14, clients: int = 3, unknown_rate: float = 0.1) -> History:
    """Random concurrent clients against :class:`LinearizableBooks`; returns the history."""
    rng = random.Random(seed)
    system = LinearizableBooks()
    known_ids: dict[str, list[tuple[str, int]]] = {u: [] for u in USERS}
    # Each client issues ops back to back; an op's effect happens at a random point inside.
    plans = []
    for c in range(clients):
        t = rng.randrange(0, 20)
        for _ in range(n // clients):
            call = t
            lin = call + rng.randrange(1, 30)
            ret = lin + rng.randrange(1, 30)
            plans.append((lin, call, ret, c))
            t = ret + rng.randrange(1, 10)  # a client waits for a reply before its next call
    plans.sort()
    ops: list[tuple[int, int, int, int, Any, Any, bool]] = []
    for lin, call, ret, c in plans:
        user = USERS[c % len(USERS)]
        market = rng.choice(SPECS).symbol
        roll = rng.random()
        mine = [oid for m, oid in known_ids[user] if m == market]
        if roll < 0.45:
            inp: tuple[Any, ...] = (
                "place", market, user, rng.choice(["buy", "sell"]), rng.randint(98, 102),
                rng.randint(1, 4),
            )  # fmt: skip
        elif roll < 0.55 and mine:
            inp = ("cancel", market, user, rng.choice(mine))
        elif roll < 0.62 and mine:
            inp = ("modify", market, user, rng.choice(mine), None, rng.randint(1, 3))
        elif roll < 0.75:
            inp = ("fills", market, rng.choice([None, user]))
        elif roll < 0.9:
            inp = ("orders", market, rng.choice([None, user]))
        else:
            inp = ("depth", market, 5)
        unknown = rng.random() < unknown_rate
        applied = not unknown or rng.random() < 0.5
        out: Any = system.run(inp) if applied else None
        if inp[0] == "place" and applied and out[0] and not unknown:
            known_ids[user].append((market, out[2]))
        ops.append((call, ret, c, lin, inp, out, unknown))
    history = History()
    # Record in call order, as a client library would.
    for call, ret, c, _lin, inp, out, unknown in sorted(ops, key=lambda o: (o[0], o[2])):
        i = history.invoke(f"c{c}", inp, call)
        history.complete(i, "unknown" if unknown else "ok", None if unknown else out, ret)
    return history


MODEL = book_model(SPECS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6))
def test_histories_from_a_correct_book_are_ok(seed: int) -> None:
    h = record(seed)
    result = check_operations(MODEL, h.operations(), max_states=200_000)
    assert result.verdict == "ok", (seed, result.explanation)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10**6), st.data())
def test_any_changed_read_in_a_sequential_history_is_illegal(
    seed: int, data: st.DataObject
) -> None:
    # One client, no timeouts: the only order is the recorded one, so every read's answer is
    # determined, and changing one must make the history illegal at that read.
    h = record(seed, n=12, clients=1, unknown_rate=0.0)
    ops = h.operations()
    reads = [i for i, o in enumerate(ops) if o.input[0] in ("fills", "orders") and o.output]
    if not reads:
        return
    i = data.draw(st.sampled_from(reads))
    ops[i] = Operation(
        ops[i].client_id, ops[i].input, ops[i].call, ops[i].output[:-1], ops[i].return_
    )
    result = check_operations(MODEL, ops)
    assert result.verdict == "illegal" and result.culprits and result.culprits[0] == i


def test_generated_histories_exercise_the_book() -> None:
    # The generator is only useful if it makes trades, cancels, timeouts and both markets.
    ops = [o for seed in range(20) for o in record(seed).operations()]
    kinds = {o.input[0] for o in ops}
    assert kinds == {"place", "cancel", "modify", "fills", "orders", "depth"}
    assert any(o.input[0] == "place" and o.output and o.output[4] for o in ops)
    assert any(o.unknown for o in ops) and {o.input[1] for o in ops} == {"ACME", "BETA"}


def test_recorded_history_round_trips_with_the_same_verdict() -> None:
    h = record(7, n=18)
    back = History.from_jsonl(h.to_jsonl())
    a = check_operations(MODEL, h.operations()).to_dict(timing=False)
    b = check_operations(MODEL, back.operations()).to_dict(timing=False)
    assert a == b and a["verdict"] == "ok"


def ok(out: Any) -> tuple[bool, Any]:
    return True, out


def op(client: str, inp: tuple[Any, ...], call: int, out: Any, ret: int | None) -> Operation:
    return Operation(client, inp, call, out, ret)


def resting(order_id: int, qty: int) -> tuple[Any, ...]:
    return (True, None, order_id, "resting", (), qty, 0, ())


SELL = ("place", "ACME", "alice", "sell", 100, 5)
BUY = ("place", "ACME", "bob", "buy", 100, 2)
FILL = (100, 2, 31, 17, "bob", "alice", "buy")
TOOK = (True, None, 31, "filled", (FILL,), 0, 0, ())


def test_a_trade_and_the_reads_after_it_are_ok() -> None:
    ops = [
        op("a", SELL, 0, resting(17, 5), 10),
        op("b", BUY, 20, TOOK, 30),
        op("c", ("fills", "ACME", "alice"), 40, (FILL,), 50),
        op("c", ("orders", "ACME", None), 60, ((17, "alice", "sell", 100, 3, 2, 0, 5),), 70),
        op("c", ("depth", "ACME", 3), 80, ((), ((100, 3, 1),)), 90),
    ]
    assert check_operations(book_model(SPECS), ops).verdict == "ok"


def test_stale_fills_read_is_illegal() -> None:
    ops = [
        op("a", SELL, 0, resting(17, 5), 10),
        op("b", BUY, 20, TOOK, 30),
        op("c", ("fills", "ACME", "alice"), 40, (), 50),
    ]
    result = check_operations(book_model(SPECS), ops)
    assert result.verdict == "illegal"
    assert result.culprits and result.culprits[0] == 2
    assert "fills" in result.explanation


def test_lost_acknowledged_order_is_illegal() -> None:
    ops = [op("a", SELL, 0, resting(17, 5), 10), op("c", ("orders", "ACME", None), 20, (), 30)]
    assert check_operations(book_model(SPECS), ops).verdict == "illegal"


def test_duplicated_place_is_illegal() -> None:
    # One place acknowledged once, but the book shows two resting orders from it (a retry
    # applied twice): no single order of the client's calls explains the second order.
    ops = [
        op("a", SELL, 0, resting(17, 5), 10),
        op("c", ("orders", "ACME", "alice"), 20,
           ((17, "alice", "sell", 100, 5, 0, 0, 5), (18, "alice", "sell", 100, 5, 0, 0, 5)), 30),
    ]  # fmt: skip
    assert check_operations(book_model(SPECS), ops).verdict == "illegal"


def test_wrong_fill_price_is_illegal_but_other_seqs_are_fine() -> None:
    bad = (True, None, 31, "filled", ((101, 2, 31, 17, "bob", "alice", "buy"),), 0, 0, ())
    ops = [op("a", SELL, 0, resting(17, 5), 10), op("b", BUY, 20, bad, 30)]
    assert check_operations(book_model(SPECS), ops).verdict == "illegal"


def test_concurrent_places_may_match_in_either_order() -> None:
    # bob's buy overlaps alice's sell; bob saw no fill, so it went first and alice took it.
    sell_took = (True, None, 17, "partially_filled", ((100, 2, 17, 31, "alice", "bob", "sell"),),
                 3, 0, ())  # fmt: skip
    ops = [op("a", SELL, 0, sell_took, 50), op("b", BUY, 10, resting(31, 2), 40)]
    result = check_operations(book_model(SPECS), ops)
    assert result.verdict == "ok" and result.witness == [[1, 0]]


def test_unknown_place_seen_later_under_its_real_id_is_ok() -> None:
    ops = [
        op("a", SELL, 0, None, None),
        op("c", ("orders", "ACME", None), 100, ((99, "alice", "sell", 100, 5, 0, 0, 5),), 110),
    ]
    assert check_operations(book_model(SPECS), ops).verdict == "ok"
    never = [op("a", SELL, 0, None, None), op("c", ("orders", "ACME", None), 100, (), 110)]
    assert check_operations(book_model(SPECS), never).verdict == "ok"
    wrong = [
        op("a", SELL, 0, None, None),
        op("c", ("orders", "ACME", None), 100, ((99, "alice", "sell", 100, 6, 0, 0, 6),), 110),
    ]
    assert check_operations(book_model(SPECS), wrong).verdict == "illegal"


def test_markets_are_checked_separately() -> None:
    beta_sell = ("place", "BETA", "alice", "sell", 100, 5)
    ops = [
        op("a", SELL, 0, resting(17, 5), 10),
        op("a", beta_sell, 0, resting(18, 5), 10),
        op("c", ("orders", "BETA", None), 20, (), 30),  # lost BETA order
        op("c", ("orders", "ACME", None), 20, ((17, "alice", "sell", 100, 5, 0, 0, 5),), 30),
    ]
    result = check_operations(book_model(SPECS), ops)
    assert result.verdict == "illegal"
    assert result.partitions == 2 and result.partition == [1, 2]


def test_rejected_place_id_is_not_compared() -> None:
    rejected = (False, "price_out_of_range", 44, "rejected", (), 0, 0, ())
    spec = MarketSpec("ACME", max_price="1.50")
    ops = [op("a", ("place", "ACME", "alice", "sell", 999, 1), 0, rejected, 10)]
    assert check_operations(book_model(spec), ops).verdict == "ok"


def test_command_input_round_trips_through_the_model() -> None:
    cmd = Place("ACME", "alice", "buy", 100, 2, tif="ioc")
    inp = command_input(cmd)
    assert inp[0] == "place" and len(inp) == 12
    out = (True, None, 5, "cancelled", (), 0, 2, ())  # IOC with nothing to match
    assert check_operations(book_model(SPECS), [op("a", inp, 0, out, 1)]).verdict == "ok"


@pytest.mark.parametrize(
    "inp",
    [("place", "ACME", "alice"), ("frobnicate", "ACME", 1), ("place", "NOPE", "a", "buy", 1, 1),
     ("place", "ACME", "a", "up", 1, 1)],
)  # fmt: skip
def test_malformed_book_inputs_raise(inp: tuple[Any, ...]) -> None:
    with pytest.raises(MalformedHistory):
        check_operations(book_model(SPECS), [op("a", inp, 0, None, 1)])


def test_bad_specs_raise() -> None:
    with pytest.raises(MalformedHistory):
        book_model([])
    with pytest.raises(MalformedHistory):
        book_model([MarketSpec("ACME"), MarketSpec("ACME")])


def test_placeholder_ids_are_outside_auto_ids() -> None:
    assert PLACEHOLDER_ID_BASE > 2**40


def test_same_seed_same_history_and_result() -> None:
    a, b = record(11), record(11)
    assert a.to_jsonl() == b.to_jsonl()
    ra = check_operations(book_model(SPECS), a.operations()).to_dict(timing=False)
    rb = check_operations(book_model(SPECS), b.operations()).to_dict(timing=False)
    assert ra == rb
