"""An ``ApplyResult`` whose fills are built only when read is indistinguishable from an eager one.

The book makes each result as a ``__slots__`` object and, for a command that traded, keeps
its fill log and the span of fill ids instead of ``Fill`` tuples. We check that this is
invisible: fills read long after the command (once later commands have added and flushed
thousands of fills past the log's batch size) equal the fills read at once and the log's own
rows; a result iterates, unpacks, indexes, compares, hashes, pickles and copies as the named
tuple it replaced; and the codec writes the same bytes for a lazy result as for an eager copy
of it built with ``Fill`` tuples. Each of the book's outcome results (a rested order, a
cancel, a trade) reads field for field as the general path's result for the same command,
and stores only the fields it varies in.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import random

import pytest

from clobkit.book import ApplyResult, Cancel, Fill, MarketSpec, OrderBook, Place
from clobkit.book.codec import decode_result, encode_result
from clobkit.book.fill_log import _FLUSH_AT, _WIDTH
from clobkit.book.results import GeneralResult
from clobkit.errors import UnknownOrder

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
        assert type(other) is GeneralResult and other == result
    match result:
        case ApplyResult(accepted=True, status="partially_filled", fills=(only,)):
            assert only == fill
        case _:
            raise AssertionError("the result did not match its fields")
    changed = result._replace(seq=7, reason=None)
    assert type(changed) is GeneralResult and tuple(changed) == (*values[:2], 7, *values[3:])
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
            assert type(other) is GeneralResult and other == plain
        data = encode_result(plain)
        assert encode_result(result) == data and decode_result(data) is result  # memo hit
        reply = ReadReply(
            cluster_id="c", source="n0", target="r", view=1, read_id=1, mode="quorum",
            ok=True, commit=1, op=1, result=result,
        )  # fmt: skip
        back = decode_message(encode_message(reply)).result
        assert type(back) is GeneralResult and back == plain


def test_each_outcome_equals_the_general_paths_result_and_stores_only_its_own_fields() -> None:
    """The fast paths' outcome results (``RestedResult``, ``CancelledResult``,
    ``TradedResult``) read, field by field and type by type, exactly as the results the
    general methods give for the same commands on a second book (``GeneralBook``: a
    ``GeneralResult`` per place, the general cancel's result per cancel) over a seeded
    stream; and each outcome class stores exactly ``ApplyResult``'s three slots plus its own
    and answers every other field from its class (no slot allocated and left unused)."""
    from types import MemberDescriptorType

    from clobkit.book.results import RESULT_TYPES, CancelledResult, RestedResult, TradedResult
    from tests.book.test_book_fast_paths import GeneralBook

    fast, general = OrderBook(MarketSpec(SYMBOL)), GeneralBook(MarketSpec(SYMBOL))
    seen: dict[tuple[type, str], int] = {}
    for seq, command in enumerate(_stream(11, 3_000), 1):
        before = None
        if isinstance(command, Cancel) and command.order_id is not None:
            with contextlib.suppress(UnknownOrder):  # the open lots a good cancel takes off
                before = general.order(command.order_id)
        mine, theirs = fast.apply(command, seq, seq), general.apply(command, seq, seq)
        assert type(mine) in RESULT_TYPES and type(theirs) in RESULT_TYPES
        if isinstance(command, Place) and theirs.accepted:
            assert type(theirs) is GeneralResult
        elif theirs.accepted:  # a good cancel: what the general rules say it gives
            assert before is not None and isinstance(command, Cancel)
            expected = (True, None, seq, seq, command.order_id, "cancelled", (), 0, before.qty)
            theirs = ApplyResult(*expected)
        for name in ApplyResult._fields:
            a, b = getattr(mine, name), getattr(theirs, name)
            assert a == b and type(a) is type(b), (seq, name, a, b)
        plain = ApplyResult(*theirs)
        assert type(plain) is GeneralResult and mine == plain and hash(mine) == hash(plain)
        key = (type(mine), mine.status)
        seen[key] = seen.get(key, 0) + 1
    for key in [
        (RestedResult, "resting"),
        (CancelledResult, "cancelled"),
        (TradedResult, "filled"),
        (TradedResult, "partially_filled"),
    ]:
        assert seen.get(key, 0) > 10, (key, seen)  # the stream exercises every outcome

    assert ApplyResult.__slots__ == ("order_id", "seq", "ts_us")
    rest = ("_fills", "accepted", "cancelled_qty", "reason", "resting_qty", "status")
    rest += ("stp_cancelled",)
    own = {
        RestedResult: {"resting_qty"},
        CancelledResult: {"cancelled_qty"},
        TradedResult: {"_fill_ids", "_fills", "resting_qty", "status"},
        GeneralResult: {"_fill_ids", *rest},
    }
    for cls, slots in own.items():
        assert set(cls.__slots__) == slots, cls
        for name in rest:  # a slot of its own, or a plain value on the class: never both
            stored = isinstance(vars(cls).get(name), MemberDescriptorType)
            assert stored == (name in slots), (cls, name)
            assert stored or name in vars(cls), (cls, name)
