"""An ``ApplyResult`` whose fills are built only when read is indistinguishable from an eager one.

The book makes each result as a ``__slots__`` object and, for a command that traded, keeps
its fill log and the span of fill ids instead of ``Fill`` tuples. We check that this is
invisible: fills read long after the command (once later commands have added and flushed
thousands of fills past the log's batch size) equal the fills read at once and the log's own
rows; a result iterates, unpacks, indexes, compares, hashes, pickles and copies as the named
tuple it replaced; and the codec writes the same bytes for a lazy result as for an eager copy
of it built with ``Fill`` tuples.
"""

from __future__ import annotations

import copy
import pickle
import random

import pytest

from clobkit.book import ApplyResult, Cancel, Fill, MarketSpec, OrderBook, Place
from clobkit.book.codec import decode_result, encode_result
from clobkit.book.fill_log import _FLUSH_AT, _WIDTH

SYMBOL = "ACME"


def _stream(seed: int, n: int) -> list[Place | Cancel]:
    """Seeded posts around a drifting mid, many crossing, plus some cancels of any id."""
    rng = random.Random(seed)
    out: list[Place | Cancel] = []
    mid = 1000
    for i in range(n):
        mid += rng.choice((-2, -1, 0, 1, 2))
        user = f"u{rng.randrange(5)}"
        if rng.random() < 0.15 and i:
            out.append(Cancel(SYMBOL, user, rng.randrange(1, i + 1)))
        else:
            side = rng.choice(("buy", "sell"))
            price = mid + rng.randint(-3, 3)
            out.append(Place(SYMBOL, user, side, price, rng.randint(1, 20)))
    return out


def _run(book: OrderBook, commands: list[Place | Cancel], read_now: bool) -> list[ApplyResult]:
    results = []
    for seq, command in enumerate(commands, 1):
        result = book.apply(command, seq, seq)
        if read_now:
            assert isinstance(result.fills, tuple)
        results.append(result)
    return results


def test_fills_read_late_equal_fills_read_at_once_and_the_logs_rows() -> None:
    """Reading fills after later commands (and flushes past the batch size) changes nothing."""
    commands = _stream(7, 12_000)
    now, late = OrderBook(MarketSpec(SYMBOL)), OrderBook(MarketSpec(SYMBOL))
    eager = _run(now, commands, read_now=True)
    lazy = _run(late, commands, read_now=False)
    assert late.fill_count() > 2 * _FLUSH_AT // _WIDTH, "the stream crosses the batch size"
    all_fills = late.fills()  # flushes every pending fill into the columns
    assert all_fills == now.fills()
    by_seq: dict[int, list[Fill]] = {}
    for fill in all_fills:
        by_seq.setdefault(fill.seq, []).append(fill)
    traded = 0
    for a, b, command in zip(eager, lazy, commands, strict=True):
        assert a == b and a.fills == b.fills
        assert b.fills == tuple(by_seq.get(b.seq, ())), "exactly the log's rows of its seq"
        for fill in b.fills:
            assert all_fills[fill.fill_id] == fill
            assert fill.taker_order_id == b.order_id
        if isinstance(command, Place):
            assert sum(f.qty for f in b.fills) == command.qty - b.resting_qty - b.cancelled_qty
        traded += bool(b.fills)
    assert traded > 1000
    assert now.snapshot() == late.snapshot()


def test_a_result_reads_fills_still_pending_and_already_flushed() -> None:
    """A result's fills are right whether its rows are pending or in the columns."""
    book = OrderBook(MarketSpec(SYMBOL))
    book.apply(Place(SYMBOL, "a", "sell", 100, 5), 1, 1)
    book.apply(Place(SYMBOL, "b", "sell", 101, 5), 2, 2)
    pending = book.apply(Place(SYMBOL, "c", "buy", 101, 7), 3, 3)
    flushed = book.apply(Place(SYMBOL, "d", "buy", 101, 3), 4, 4)
    book.fill_columns()  # moves every pending fill into the columns
    book.apply(Place(SYMBOL, "e", "sell", 99, 1), 5, 5)  # new pending rows after them
    assert [(f.fill_id, f.maker_user, f.qty, f.price) for f in pending.fills] == [
        (0, "a", 5, 100),
        (1, "b", 2, 101),
    ]
    assert [(f.fill_id, f.maker_user, f.qty) for f in flushed.fills] == [(2, "b", 3)]
    assert pending.status == "filled" and flushed.status == "filled"


def test_a_result_behaves_as_the_named_tuple_it_replaced() -> None:
    """Fields by name and position, unpacking, equality, hashing, pickling, match."""
    book = OrderBook(MarketSpec(SYMBOL))
    book.apply(Place(SYMBOL, "alice", "sell", 100, 4), 1, 1)
    result = book.apply(Place(SYMBOL, "bob", "buy", 100, 6), 2, 20)
    fill = Fill(0, 2, 20, SYMBOL, 100, 4, 2, 1, "bob", "alice", "buy")
    values = (True, None, 2, 20, 2, "partially_filled", (fill,), 2, 0, ())
    assert tuple(result) == values and list(result) == list(values)
    accepted, reason, seq, ts_us, order_id, status, fills, resting, cancelled, stp = result
    assert (accepted, reason, seq, ts_us, order_id) == (True, None, 2, 20, 2)
    assert (status, fills, resting, cancelled, stp) == ("partially_filled", (fill,), 2, 0, ())
    assert len(result) == 10 and result[6] == (fill,) and result[-1] == ()
    assert result == values and result == ApplyResult(*values)
    assert result != ApplyResult(*values[:7], 3, 0, ())
    assert hash(result) == hash(values) == hash(ApplyResult(*values))
    assert ApplyResult._fields[6] == "fills"
    for other in (pickle.loads(pickle.dumps(result)), copy.copy(result), copy.deepcopy(result)):
        assert type(other) is ApplyResult and other == result
    match result:
        case ApplyResult(accepted=True, status="partially_filled", fills=(only,)):
            assert only == fill
        case _:
            raise AssertionError("the result did not match its fields")
    changed = result._replace(seq=7, reason=None)
    assert type(changed) is ApplyResult and tuple(changed) == (*values[:2], 7, *values[3:])
    assert tuple(result) == values  # the original is untouched
    assert result._asdict() == dict(zip(ApplyResult._fields, values, strict=True))
    with pytest.raises(ValueError, match="no field"):
        result._replace(price=1)


def test_codec_bytes_are_those_of_an_eager_copy() -> None:
    """encode_result writes the same bytes for a lazy result as for an eager copy of it."""
    book = OrderBook(MarketSpec(SYMBOL))
    for seq, command in enumerate(_stream(3, 2_000), 1):
        result = book.apply(command, seq, seq)
        data = encode_result(result)  # first thing to read the lazy fills
        own = tuple(f for f in book.fills(since_seq=seq - 1) if f.seq == seq)  # from the log
        eager = ApplyResult(*tuple(result)[:6], own, *tuple(result)[7:])
        assert data == encode_result(eager)
        assert decode_result(data) == result


def test_the_outcome_subclasses_read_as_plain_results() -> None:
    """The book's results for a rested order, a cancel and a trade (the outcome subclasses
    of ``ApplyResult``, which hold the fields they never change as class attributes) equal
    plain results with the same values in every way a caller reads them, round-trip through
    pickle, ``_replace``, the codec and the process wire format, and the codec's memo hands
    them back."""
    from clobkit.book.results import RESULT_TYPES
    from clobkit.proc.wire import decode_message, encode_message
    from clobkit.replication.messages import ReadReply

    book = OrderBook(MarketSpec(SYMBOL))
    rested = book.apply(Place(SYMBOL, "alice", "sell", 100, 4), 1, 10)
    cancel = book.apply(Cancel(SYMBOL, "alice", 1), 2, 20)
    book.apply(Place(SYMBOL, "alice", "sell", 100, 4), 3, 30)
    traded = book.apply(Place(SYMBOL, "bob", "buy", 100, 6), 4, 40)
    fill = Fill(0, 4, 40, SYMBOL, 100, 4, 4, 3, "bob", "alice", "buy")
    expected = {
        "rested": (True, None, 1, 10, 1, "resting", (), 4, 0, ()),
        "cancel": (True, None, 2, 20, 1, "cancelled", (), 0, 4, ()),
        "traded": (True, None, 4, 40, 4, "partially_filled", (fill,), 2, 0, ()),
    }
    results = {"rested": rested, "cancel": cancel, "traded": traded}
    assert len({type(r) for r in results.values()}) == 3  # one subclass per outcome
    for name, result in results.items():
        values = expected[name]
        plain = ApplyResult(*values)
        assert type(result) in RESULT_TYPES and type(result) is not ApplyResult, name
        assert isinstance(result, ApplyResult)
        assert tuple(result) == values and result == plain and plain == result
        assert hash(result) == hash(plain) and repr(result) == repr(plain)
        assert result._asdict() == plain._asdict() and result._repr_html_() == plain._repr_html_()
        for other in (pickle.loads(pickle.dumps(result)), copy.copy(result), result._replace()):
            assert type(other) is ApplyResult and other == plain
        data = encode_result(plain)
        assert encode_result(result) == data and decode_result(data) is result  # memo hit
        reply = ReadReply(
            cluster_id="c", source="n0", target="r", view=1, read_id=1, mode="quorum",
            ok=True, commit=1, op=1, result=result,
        )  # fmt: skip
        back = decode_message(encode_message(reply)).result
        assert type(back) is ApplyResult and back == plain
