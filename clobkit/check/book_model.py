"""The order book as a checker model: what one correct, unreplicated book would have answered.

:func:`book_model` wraps :class:`clobkit.book.OrderBook` in the checker's
:class:`~clobkit.check.model.Model` protocol so a history of client calls against a replicated
cluster can be judged against a single sequential book. Histories are split by market (one
part each).

**States without the whole book.** A state is an immutable :class:`BookState`: its memo
``key``, a ``snapshot`` of the book's *resting* side only (live orders, ``last_seq``, reserved
and client ids: small, whatever the length of the history), and its fill ``tape``, a
persistent list shared with its parent (each accepted write adds one node: the command, the
fill rows it made and a running digest of all fill rows so far). A step restores the resting
book (O(live orders)), applies the command at the next sequence number, puts the new fills on
a new tape node (O(new fills)) and snapshots the resting book again; the fill tape is never
copied or re-read. Before, every step copied the whole book, fill tape included, three times
(restore, snapshot, key): O(fills) per step, most of the checker's time on long histories.
The search backs up by simply going back to the parent state (nothing to undo: states are
never changed). ``BookState.book()`` rebuilds the full book, fills included, by replaying the
tape's commands (for explanations and tests). The book's fill log plays no part in matching
(only the ids of new fills, which no history compares, are counted from it), which is why the
model may keep the fills beside the book instead of in it.

**The recorded format** (inputs and outputs are tuples of str/int/bool/None, so they are
hashable and survive JSON lines; prices are ticks, quantities lots, as in ``clobkit.book``):

========================================================  =======================================
input                                                     output (``ok`` outcome)
========================================================  =======================================
``("place", market, user, side, price, qty[, order_type   write output (below)
[, tif[, stp[, protection_price[, post_only[,
order_id[, client_order_id]]]]]]])`` - trailing fields
default to ``"limit", "gtc", None, None, False, None,
None``; ``price`` is ``None`` for a market order
``("cancel", market, user, order_id[, client_order_id])`` write output (``order_id`` is ``None``
                                                          when the client id names the order)
``("modify", market, user, order_id, price, qty[,         write output (``price``/``qty`` may be
client_order_id])``                                       ``None``: unchanged)
``("fills", market, user)`` (``user=None``: every fill)   tuple of fill rows, oldest first
``("orders", market, user)`` (``user=None``: all)         tuple of order rows, bids best first,
                                                          then asks, FIFO within a level
``("depth", market, levels)``                             ``(bids, asks)``, each a tuple of
                                                          ``(price, qty, order_count)``, best first
========================================================  =======================================

- write output: ``(accepted, reason, order_id, status, fills, resting_qty, cancelled_qty,
  stp_cancelled)`` - the fields of :class:`~clobkit.book.ApplyResult` without ``seq`` and
  ``ts_us``; ``fills`` is a tuple of fill rows, ``stp_cancelled`` a tuple of order ids.
- fill row: ``(price, qty, taker_order_id, maker_order_id, taker_user, maker_user,
  aggressor_side)`` - a :class:`~clobkit.book.Fill` without ``fill_id``, ``seq``, ``ts_us``
  and ``market``.
- order row: ``(order_id, user, side, price, qty, filled_qty, cancelled_qty, original_qty[,
  client_order_id])`` - an :class:`~clobkit.book.Order` without ``seq`` and ``ts_us``; the
  client order id only when the order has one.

Build them with :func:`command_input`, :func:`write_output`, :func:`fills_output`,
:func:`orders_output` and :func:`depth_output` rather than by hand.

**Order ids and sequence numbers.** In the replicated cluster a place without an explicit id
gets the op number the primary assigned, which the model cannot predict. So the model takes the
id from the recorded output and applies the place with that explicit id; sequence numbers and
timestamps are assigned at linearization (``seq = ts_us = last_seq + 1``) and left out of every
comparison (that is why rows drop them). A place whose outcome is unknown and that names no id
gets a placeholder id (``PLACEHOLDER_ID_BASE`` plus a hash of the input); in reads the model
then accepts any id where it has a placeholder. Known limit: a later *cancel or modify* of such
an order by its real id cannot be matched, so a recorder that knows the id (a client order id,
or the op number its session was told) should put it in the input's ``order_id`` field.
An ``order_id_too_low`` rejection of an explicit id is always accepted (the system's
``last_seq`` may be larger than the model's, since every command uses up a sequence number
there, rejected ones included): the model cannot tell that answer wrong, so it never
calls it wrong.

**Memo key.** Two linearizations that place the same orders in a different order of
independent steps give the same book except for ``seq``/``ts_us`` stamps, which no client
compares; the key is therefore a BLAKE2b digest of the book *without* those stamps (live
orders in priority order and the fill tape) but *with* ``last_seq`` and the reserved ids,
which decide whether a later explicit id is accepted, so the checker merges such states and
no others. The fill tape enters the key as its running digest, a chain hash of the rows in order
(equal tapes, equal digests), so the key costs O(live orders), not O(fills). Steps are cached
per ``(key, input, output)``.

>>> from clobkit.book import MarketSpec
>>> from clobkit.check import Operation, check_operations
>>> m = book_model(MarketSpec("ACME"))
>>> place = ("place", "ACME", "alice", "sell", 100, 5)
>>> ops = [Operation("a", place, 0, (True, None, 7, "resting", (), 5, 0, ()), 10),
...        Operation("b", ("orders", "ACME", None), 20,
...                  ((7, "alice", "sell", 100, 5, 0, 0, 5),), 30)]
>>> check_operations(m, ops).verdict
'ok'
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from clobkit.book import (
    ApplyResult,
    Cancel,
    Command,
    MarketSpec,
    Modify,
    OrderBook,
    Place,
)
from clobkit.book.describe import describe_book, describe_input, describe_output
from clobkit.book.fill_log import FillLog
from clobkit.book.records import (
    command_input,
    depth_output,
    fill_row,
    fills_output,
    order_row,
    orders_output,
    write_output,
)
from clobkit.check.model import UNKNOWN_OUTPUT, MalformedHistory, Model, Operation
from clobkit.errors import ClobError

__all__ = [
    "BookState",
    "PLACEHOLDER_ID_BASE",
    "book_model",
    "command_input",
    "depth_output",
    "fill_row",
    "fills_output",
    "order_row",
    "orders_output",
    "write_output",
]

PLACEHOLDER_ID_BASE = 2**62
"""Order ids at or above this are the model's stand-ins for ids it could not know."""

WRITE_KINDS = ("place", "cancel", "modify")
READ_KINDS = ("fills", "orders", "depth")
_STEP_CACHE_MAX = 100_000  # entries; the cache is cleared when full (memory bound)


# -- building the recorded form ---------------------------------------------


# command_input, fill_row, order_row, write_output, fills_output, orders_output and
# depth_output live in clobkit.book.records (imported above), shared with the recorder.


# -- the model ----------------------------------------------------------------


class _Tape:
    """One node of a persistent fill tape: the accepted command of one step, the fill rows
    it made, and the running digest and count of every row from the start to here."""

    __slots__ = ("command", "count", "digest", "parent", "rows")

    def __init__(
        self, parent: _Tape | None, command: Command | None, rows: tuple[tuple[Any, ...], ...]
    ) -> None:
        self.parent = parent
        self.command = command
        self.rows = rows
        digest = b"" if parent is None else parent.digest
        self.count: int = len(rows) + (0 if parent is None else parent.count)
        # A chain hash over the rows one by one, in order: equal tapes give equal digests
        # however their rows were split into steps, and a step without fills keeps its
        # parent's digest (the tape did not change).
        for row in rows:
            digest = hashlib.blake2b(digest + repr(row).encode(), digest_size=16).digest()
        self.digest: bytes = digest

    def all_rows(self) -> list[tuple[Any, ...]]:
        """Every fill row from the start, oldest first. O(fills + steps)."""
        chunks = []
        node: _Tape | None = self
        while node is not None:
            if node.rows:
                chunks.append(node.rows)
            node = node.parent
        return [row for chunk in reversed(chunks) for row in chunk]

    def commands(self) -> list[Command]:
        """The accepted commands from the start, in order. O(steps)."""
        out = []
        node: _Tape | None = self
        while node is not None:
            if node.command is not None:
                out.append(node.command)
            node = node.parent
        out.reverse()
        return out


@dataclass(frozen=True, eq=False, slots=True)
class BookState:
    """A book model state (see the module doc): memo ``key``, resting-book ``snapshot``
    (no fills) and fill ``tape``. Never changed once made.

    >>> m = book_model(MarketSpec("ACME"))
    >>> _, s = m.step(None, ("place", "ACME", "a", "sell", 100, 5), (True, None, 1,
    ...                  "resting", (), 5, 0, ()))
    >>> _, s = m.step(s, ("place", "ACME", "b", "buy", 100, 2), (True, None, 2, "filled",
    ...                  ((100, 2, 2, 1, "b", "a", "buy"),), 0, 0, ()))
    >>> len(s.resting()), s.resting().fill_count(), s.fill_rows("a")
    (1, 0, ((100, 2, 2, 1, 'b', 'a', 'buy'),))
    >>> s.book().fill_count()
    1
    """

    key: str
    snapshot: bytes
    tape: _Tape
    spec: MarketSpec
    stp_default: str

    def resting(self) -> OrderBook:
        """The resting book (live orders, ``last_seq``, ids), with an empty fill log. O(orders)."""
        return OrderBook.restore(self.snapshot)

    def fill_rows(self, user: str | None = None) -> tuple[tuple[Any, ...], ...]:
        """The fills output (``fills_output`` rows), only ``user``'s (taker or maker) if given."""
        rows = self.tape.all_rows()
        if user is None:
            return tuple(rows)
        return tuple(r for r in rows if r[4] == user or r[5] == user)

    def book(self) -> OrderBook:
        """The full book, fills included, rebuilt by replaying the tape's commands. O(steps)."""
        book = OrderBook(self.spec, stp_default=self.stp_default)
        for command in self.tape.commands():
            book.apply(command, seq=book.last_seq + 1, ts_us=book.last_seq + 1)
        return book


def _canonical_key(book: OrderBook, tape: _Tape) -> str:
    """The memo key of the state (resting ``book``, fill ``tape``): a digest of everything that
    decides its future outputs.

    That is the live orders in priority order and the fill tape (rows without seq/ts stamps,
    which no client compares; the tape as its running digest), ``last_seq`` and the reserved
    ids above it (which decide whether an explicit id is ``order_id_too_low``). Leaving out
    the last two merged states that answer differently (issue 12: a no-op modify or a
    place+cancel leaves the same orders and fills at another ``last_seq``).
    ``tests/check/test_check_model_keys.py`` checks the contract of :attr:`Model.key` for this
    key.
    """
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(orders_output(book.live_orders())).encode())
    h.update(b"|")
    h.update(tape.digest)
    h.update(b"|")
    h.update(repr((tape.count, book.last_seq, sorted(_reserved_ids(book)))).encode())
    return h.hexdigest()


def _drop_fills(book: OrderBook) -> None:
    """Empty ``book``'s fill log (the model keeps fills on its tape; see the module doc)."""
    book._log = FillLog(book.spec.symbol)


def _reserved_ids(book: OrderBook) -> set[int]:
    """The ids above ``last_seq`` that an explicit id already took (no public accessor)."""
    return {i for i in book._reserved if i > book.last_seq}


def _placeholder_id(inp: tuple[Any, ...]) -> int:
    return PLACEHOLDER_ID_BASE + zlib.crc32(repr(inp).encode())


def _loose_equal(model_value: Any, seen: Any) -> bool:
    """``==``, except that a placeholder id in the model's value matches any int seen."""
    if isinstance(model_value, int) and not isinstance(model_value, bool):
        if model_value >= PLACEHOLDER_ID_BASE:
            return isinstance(seen, int) and not isinstance(seen, bool)
        return bool(model_value == seen)
    if isinstance(model_value, tuple):
        return (
            isinstance(seen, tuple)
            and len(seen) == len(model_value)
            and all(_loose_equal(a, b) for a, b in zip(model_value, seen, strict=True))
        )
    return bool(model_value == seen)


def _place_command(inp: tuple[Any, ...], out: Any) -> Place:
    if not 6 <= len(inp) <= 13:
        raise MalformedHistory(f"place input must have 6 to 13 fields, got {inp!r}")
    fields = (*inp[1:], *(("limit", "gtc", None, None, False, None, None)[len(inp) - 6 :]))
    market, user, side, price, qty, order_type, tif, stp, protect, post_only, order_id, cid = fields
    if order_id is None:
        # The system chose the id (the primary's op number): take it from what the client saw.
        seen = out[2] if isinstance(out, tuple) and len(out) == 8 else None
        order_id = seen if isinstance(seen, int) and not isinstance(seen, bool) else None
        if order_id is None:
            order_id = _placeholder_id(inp)
    return Place(
        market, user, side, price, qty, order_type=order_type, tif=tif, order_id=order_id,
        stp=stp, protection_price=protect, post_only=post_only, client_order_id=cid,
    )  # fmt: skip


def _command(inp: tuple[Any, ...], out: Any) -> Command:
    kind = inp[0]
    try:
        if kind == "place":
            return _place_command(inp, out)
        if kind == "cancel" and len(inp) in (4, 5):
            return Cancel(inp[1], inp[2], inp[3], *inp[4:])
        if kind == "modify" and len(inp) in (6, 7):
            return Modify(inp[1], inp[2], inp[3], price=inp[4], qty=inp[5], client_order_id=(
                inp[6] if len(inp) == 7 else None
            ))  # fmt: skip
    except ClobError as exc:
        raise MalformedHistory(f"bad {kind} input {inp!r}: {exc}") from None
    raise MalformedHistory(f"bad {kind} input {inp!r}")


# Rejections of an explicit id that only the system's last_seq decides: ``order_id_too_low``
# (and ``duplicate_order_id``, its name in histories recorded before the book told the two
# id rules apart).
_ID_BELOW_LAST_SEQ = ("order_id_too_low", "duplicate_order_id")


def _duplicate_id_rejection(inp: tuple[Any, ...], out: Any) -> bool:
    """True if ``out`` rejects a place with an explicit id as not above the system's
    ``last_seq`` (``order_id_too_low``), an answer the model cannot rule out."""
    return (
        inp[0] == "place"
        and len(inp) in (12, 13)
        and inp[11] is not None
        and isinstance(out, tuple)
        and len(out) == 8
        and out[1] in _ID_BELOW_LAST_SEQ
        and _normal_write(out) == (False, out[1], None, "rejected", (), 0, 0, ())
    )


def _normal_write(out: Any) -> Any:
    """A write output with the id of a rejected command blanked (the system's auto id for a
    rejected place is an op number the model cannot know, and nothing refers to it)."""
    if isinstance(out, tuple) and len(out) == 8 and out[0] is False:
        return (*out[:2], None, *out[3:])
    return out


def _judge(
    book: OrderBook, inp: Any, out: Any, fills: Any = None
) -> tuple[bool, ApplyResult | None]:
    """Apply ``inp`` to ``book`` in place: (``out`` is what it answers, the result of an
    accepted write or None). ``fills(user)`` gives the fills output when the book's own
    fill log is not kept (the model's states)."""
    kind = inp[0]
    if kind in READ_KINDS:
        if kind == "fills":
            seen: Any = fills_output(book.fills(user=inp[2])) if fills is None else fills(inp[2])
        elif kind == "orders":
            seen = orders_output(book.live_orders(user=inp[2]))
        else:
            seen = depth_output(book.depth(inp[2]))
        return out is UNKNOWN_OUTPUT or seen == out or _loose_equal(seen, out), None
    if kind not in WRITE_KINDS:
        raise MalformedHistory(
            f"book input kind must be one of {WRITE_KINDS + READ_KINDS}, got {inp!r}"
        )
    if _duplicate_id_rejection(inp, out):
        # The system's last_seq is unknown here: it is at least the model's (every
        # command, even a rejected one, uses up a sequence number there, while the model
        # counts only the accepted ones), so "this explicit id may already be used" is a
        # possible answer for any explicit id. It changes nothing.
        return True, None
    command = _command(inp, out)
    # A rejected command leaves the book as it was (last_seq included).
    result = book.apply(command, seq=book.last_seq + 1, ts_us=book.last_seq + 1)
    changed = result if result.accepted else None
    if out is not UNKNOWN_OUTPUT:
        mine, theirs = _normal_write(write_output(result)), _normal_write(out)
        if mine != theirs and not _loose_equal(mine, theirs):
            return False, changed
    return True, changed


def book_model(
    spec_or_specs: MarketSpec | Iterable[MarketSpec], *, stp_default: str = "none"
) -> Model:
    """A checker model of one correct order book per market (empty at the start).

    ``stp_default`` must match the books of the system under test. Cost per step: O(live
    orders) for restore, snapshot and key, plus the command and its new fills (the fill
    tape is shared, never copied; a fills read walks it); cached per ``(key, input,
    output)``.

    Raises :class:`~clobkit.check.model.MalformedHistory` for no specs, two specs with one
    symbol, or (during a check) an input that is not in the format above or names a market
    without a spec.

    >>> book_model(MarketSpec("ACME"))
    Model('book')
    """
    specs_list = [spec_or_specs] if isinstance(spec_or_specs, MarketSpec) else list(spec_or_specs)
    if not specs_list or not all(isinstance(s, MarketSpec) for s in specs_list):
        raise MalformedHistory(f"spec_or_specs must be MarketSpec(s), got {spec_or_specs!r}")
    specs = {s.symbol: s for s in specs_list}
    if len(specs) != len(specs_list):
        raise MalformedHistory("spec_or_specs names a market twice")
    OrderBook(specs_list[0], stp_default=stp_default)  # validates stp_default up front
    cache: dict[tuple[Any, Any, Any], tuple[bool, Any]] = {}

    def load(state: BookState | None, market: Any) -> OrderBook:
        if state is None:
            spec = specs.get(market)
            if spec is None:
                raise MalformedHistory(
                    f"no MarketSpec for market {market!r} (have {sorted(specs)})"
                )
            return OrderBook(spec, stp_default=stp_default)
        return state.resting()

    def check_input(inp: Any) -> None:
        if not isinstance(inp, tuple) or len(inp) < 3:
            raise MalformedHistory(
                f"book input must be a tuple like ('place', market, ...), got {inp!r}"
            )

    # The resting book of the state made last, still live: the search usually steps from the
    # state it just made, and then the restore is skipped. Used once (a step changes it).
    cursor: list[Any] = [None, None]

    def compute(state: BookState | None, inp: Any, out: Any) -> tuple[bool, Any]:
        check_input(inp)
        if state is not None and cursor[0] is state:
            book = cursor[1]
            cursor[0] = cursor[1] = None
        else:
            book = load(state, inp[1])
        tape = _EMPTY_TAPE if state is None else state.tape
        legal, result = _judge(book, inp, out, fills=_tape_fills(tape))
        if not legal or result is None:
            return legal, state
        rows = tuple(fill_row(f) for f in result.fills)
        tape = _Tape(tape, _command(inp, out), rows)
        _drop_fills(book)
        new = BookState(_canonical_key(book, tape), book.snapshot(), tape, book.spec, stp_default)
        cursor[0], cursor[1] = new, book
        return True, new

    def runner() -> Any:
        """One mutable book per market, no snapshots: the witness replays in one pass.

        A fills read is answered from the fill rows of the writes replayed so far, kept per
        user as they happen (the rows ``_tape_fills`` filters in the search, in the same
        order), instead of walking the book's whole fill log at every read."""
        books: dict[Any, tuple[OrderBook, _FillIndex]] = {}

        def run(inp: Any, out: Any) -> bool:
            check_input(inp)
            entry = books.get(inp[1])
            if entry is None:
                entry = books[inp[1]] = (load(None, inp[1]), _FillIndex())
            book, index = entry
            user = inp[2]
            if inp[0] == "fills" and user is not None and not isinstance(user, str):
                return _judge(book, inp, out)[0]  # (the book's own words for a bad user)
            legal, result = _judge(book, inp, out, fills=index.output)
            if result is not None and result.fills:
                index.add(result.fills)
            return legal

        return run

    def step(state: Any, inp: Any, out: Any) -> tuple[bool, Any]:
        memo = (None if state is None else state.key, inp, out)
        try:
            hit = cache.get(memo)
        except TypeError:
            raise MalformedHistory(
                f"book inputs and outputs must be hashable: {inp!r} -> {out!r}"
            ) from None
        if hit is None:
            if len(cache) >= _STEP_CACHE_MAX:
                cache.clear()
            hit = cache[memo] = compute(state, inp, out)
        return hit

    return Model(
        init=lambda: None,
        step=step,
        partition=_by_market,
        key=lambda state: None if state is None else state.key,
        describe_operation=lambda op: _describe(op, specs),
        describe_state=lambda state: _describe_state(state),
        name="book",
        read_only=lambda inp: isinstance(inp, tuple) and bool(inp) and inp[0] in READ_KINDS,
        runner=runner,
    )


def _by_market(ops: list[Operation]) -> list[list[Operation]]:
    parts: dict[Any, list[Operation]] = {}
    for op in ops:
        if not isinstance(op.input, tuple) or len(op.input) < 2:
            raise MalformedHistory(f"book input must name a market second, got {op.input!r}")
        parts.setdefault(op.input[1], []).append(op)
    return list(parts.values())


def _describe(op: Operation, specs: Mapping[str, MarketSpec]) -> str:
    # Explanations are for people: prices and quantities in market units (check.describe).
    inp = op.input
    what = f"{describe_input(inp, specs)} (client {op.client_id})"
    if op.unknown:
        return what + " (outcome unknown)"
    return f"{what} returned {describe_output(inp, op.output, specs)}"


def _describe_state(state: BookState | None) -> str:
    if state is None:
        return "the empty book"
    return describe_book(state.book())


_EMPTY_TAPE = _Tape(None, None, ())


class _FillIndex:
    """The fill rows of one book's writes so far, all and by user (taker or maker, once
    each), so that a fills read costs O(that user's fills), once per change. The rows are
    ``fill_row`` of each accepted write's fills in order: the book's fill log, in order."""

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.by_user: dict[str, list[tuple[Any, ...]]] = {}
        self.cached: dict[str | None, tuple[tuple[Any, ...], ...]] = {}

    def add(self, fills: Iterable[Any]) -> None:
        by_user = self.by_user
        for fill in fills:
            row = fill_row(fill)
            self.rows.append(row)
            taker, maker = row[4], row[5]
            by_user.setdefault(taker, []).append(row)
            if maker != taker:
                by_user.setdefault(maker, []).append(row)
        self.cached.clear()

    def output(self, user: str | None) -> tuple[tuple[Any, ...], ...]:
        """What ``fills_output(book.fills(user=user))`` gives (``user`` a str or None)."""
        seen = self.cached.get(user)
        if seen is None:
            rows = self.rows if user is None else self.by_user.get(user, ())
            seen = self.cached[user] = tuple(rows)
        return seen


def _tape_fills(tape: _Tape) -> Any:
    """``fills(user)`` for :func:`book_model`'s judge: the fills output from ``tape``."""

    def fills(user: str | None) -> tuple[tuple[Any, ...], ...]:
        rows = tape.all_rows()
        if user is None:
            return tuple(rows)
        return tuple(r for r in rows if r[4] == user or r[5] == user)

    return fills
