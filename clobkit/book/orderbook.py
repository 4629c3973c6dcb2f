"""The order book: a deterministic state machine matching orders in price-time priority.

Every replica applies the same commands in the same order through :meth:`OrderBook.apply`,
the only mutator, and reaches byte-identical state (compare :meth:`OrderBook.digest`). The
book is pure: no clock (time arrives as ``ts_us``), no randomness, no I/O.

How it is laid out:

* Each side is a ``dict`` price (ticks) -> :class:`_Level` plus a
  ``sortedcontainers.SortedList`` of the level prices (ascending; the best bid is the last
  price, the best ask the first). The best price of each side is cached, so the SortedList
  is touched only when a level is created or emptied. Empty levels are removed at once.
* A level is a FIFO ``deque`` of resting orders with its price, side, live quantity and the
  number of dead (lazily deleted) entries it still holds. Each resting order points to its
  level, so a cancel reaches the level without a price lookup.
* ``order_id -> order`` is a ``dict``, so a cancel finds its order in O(1). Removing it from
  the middle of its level's deque would cost O(level size), so a cancel uses *lazy
  deletion*: it sets the order's open quantity to 0, fixes the level's totals and leaves the
  dead entry in the deque. Matching pops dead entries when it meets them at the front, and a
  level whose deque holds more dead than live entries (plus a little slack) is compacted;
  each compaction is paid for by the cancels that created the dead entries, so a cancel is
  O(1) amortised (plus O(log L) when it empties one of L levels).
* Fills are stored column-wise in parallel ``array('q')`` columns, with users interned to
  small ints, so a DataFrame of a million fills builds in milliseconds
  (:meth:`OrderBook.fill_columns`). Matching adds each fill's column values to one flat
  pending list (one ``+=`` of a small tuple instead of nine array appends) that is moved
  into the columns in batches, each column a C-level slice of it; every reader flushes it
  first, so it is invisible.
* Hot paths: ``apply`` handles a passive GTC limit order and a good cancel inline and sends
  a crossing GTC limit order without self-trade prevention to ``_cross``; every other case
  goes through the general methods. Both routes give the same results, fills and state
  (``tests/book/test_book_fast_paths.py``); ``benchmarks/bench_book.py`` measures them.

Two kinds of ids. The *order id* is the exchange's: the book assigns it, it is never reused,
so a fill always names exactly one order. Auto ids (no ``Place.order_id``) equal the
sequence number at which the order was placed. An explicit id (for replaying a recorded
run) must be greater than the book's ``last_seq`` (``order_id_too_low``: every smaller
number is the book's to assign) and not reserved by an earlier explicit id
(``order_id_used``); the book *reserves* explicit ids above ``last_seq``, and an auto place
whose sequence number was reserved takes the next free id instead. Nothing else needs
remembering: reserved ids at or below ``last_seq`` can never be asked for again, so the
reservation set stays empty unless explicit ids run ahead. The *client order id* is the
client's (FIX ClOrdID): a short ``str`` unique among that user's live orders
(``duplicate_client_order_id``), kept in two dicts beside the orders (``(user, client id)
-> order id`` and back) that hold only live orders that have one; cancel and modify may name
an order by it (``unknown_client_order_id`` when that user has no such live order).

>>> from clobkit.book.spec import MarketSpec
>>> book = OrderBook(MarketSpec("ACME", tick="0.01", lot=1))
>>> book.place("alice", "sell", price="100.50", qty=10).status
'resting'
>>> r = book.place("bob", "buy", price="100.50", qty=4)
>>> r.status, r.fills[0].price, r.fills[0].qty, book.order(1).qty
('filled', 10050, 4, 6)
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_right
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from sortedcontainers import SortedList

from clobkit.book.commands import STP_MODES, Cancel, Command, Modify, Place, check_client_order_id
from clobkit.book.results import ApplyResult, Fill, Order
from clobkit.book.spec import MAX_UNITS, MarketSpec
from clobkit.book.wire import Reader, Writer
from clobkit.errors import InvalidArgument, InvalidType, UnknownOrder

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SNAPSHOT_VERSION", "OrderBook"]

#: Version byte of :meth:`OrderBook.snapshot` (after the 4-byte magic ``b"CKOB"``).
SNAPSHOT_VERSION = 3  # 3: client order ids; 2: reserved order ids, BLAKE2b-64 trailer
# A book with no client order ids writes version 2 (its bytes, and so every digest, are what
# they were before client ids existed); one with client ids writes version 3.
_SNAPSHOT_V2 = 2
_SNAPSHOT_CHECKSUM = 8
_MAGIC = b"CKOB"

_new = tuple.__new__  # builds ApplyResult/Fill named tuples without keyword handling (hot path)
_NO_FILLS: tuple[Fill, ...] = ()
_FLUSH_AT = 4096  # pending fills are moved to the columns in batches of about this many

# Fill columns, in snapshot order: name -> array typecode.
_FILL_COLUMNS = {
    "seq": "q",
    "ts_us": "q",
    "price_ticks": "q",
    "qty_lots": "q",
    "taker_order_id": "q",
    "maker_order_id": "q",
    "taker_user_id": "i",
    "maker_user_id": "i",
    "aggressor_side": "b",  # 0 = buy, 1 = sell
}
_FILL_WIDTH = len(_FILL_COLUMNS)  # items per fill in the pending list (see _flush_fills)
_TAKER_USER, _MAKER_USER = 6, 7  # positions of the user names in a pending fill
assert list(_FILL_COLUMNS)[_TAKER_USER : _MAKER_USER + 1] == ["taker_user_id", "maker_user_id"]


class _Resting:
    """One live (or lazily deleted, ``qty == 0``) resting order; 8 slots, 96 bytes.

    There is no price or side slot: the order points to its :class:`_Level`, which holds
    both (so a cancel finds its level without a lookup). A maker that trades in full is
    dropped from the book at once and its slots are not updated any more.
    """

    __slots__ = ("filled", "level", "order_id", "original", "qty", "seq", "ts_us", "user")

    # No __init__: the book sets the slots right after ``_Resting()``, which is ~50 ns
    # cheaper than a call through ``__init__`` or ``object.__new__`` (posts make many).
    order_id: int
    user: str
    level: _Level
    qty: int  # open quantity in lots; 0 marks a dead entry left in a deque
    filled: int
    original: int  # filled + qty + cancelled == original
    seq: int  # when the order got its time priority
    ts_us: int

    @property
    def price(self) -> int:
        """The order's limit price in ticks (its level's price)."""
        return self.level.price

    @property
    def side(self) -> str:
        """``"buy"`` or ``"sell"`` (its level's side)."""
        return "buy" if self.level.is_buy else "sell"

    def public(self, client_order_id: str | None = None) -> Order:
        return Order(
            self.order_id,
            self.user,
            self.side,
            self.level.price,
            self.qty,
            self.filled,
            self.original - self.filled - self.qty,
            self.original,
            self.seq,
            self.ts_us,
            client_order_id,
        )


class _Level:
    """A price level: FIFO of resting orders, its side, live quantity, count of dead entries.

    Live orders = ``len(orders) - dead``; a post only appends (no counter to bump).
    """

    __slots__ = ("dead", "is_buy", "orders", "price", "qty")

    # No __init__, as for _Resting: OrderBook._new_level sets every slot.
    price: int
    is_buy: bool
    orders: deque[_Resting]
    qty: int
    dead: int

    @property
    def count(self) -> int:
        """Number of live orders at this level."""
        return len(self.orders) - self.dead

    def live(self) -> Iterator[_Resting]:
        return (o for o in self.orders if o.qty)


def _reject(reason: str, seq: int, ts_us: int, order_id: int | None) -> ApplyResult:
    return _new(ApplyResult, (False, reason, seq, ts_us, order_id, "rejected", _NO_FILLS, 0, 0, ()))


class OrderBook:
    """One market's limit order book; ``stp_default`` is the self-trade prevention default.

    Create it from a :class:`~clobkit.book.spec.MarketSpec`; change it only through
    :meth:`apply` (or the convenience methods :meth:`place`, :meth:`cancel`,
    :meth:`modify`, which call it).

    >>> book = OrderBook(MarketSpec("ACME"), stp_default="cancel-taker")
    >>> book.place("alice", "buy", price="1.00", qty=5).order_id, len(book)
    (1, 1)

    Raises :class:`~clobkit.errors.InvalidArgument` for a bad spec or STP mode.
    """

    def __init__(self, spec: MarketSpec, stp_default: str = "none") -> None:
        if not isinstance(spec, MarketSpec):
            raise InvalidType(f"spec must be a MarketSpec, not {type(spec).__name__}")
        if stp_default not in STP_MODES:
            raise InvalidArgument(
                f"stp_default must be one of {', '.join(STP_MODES)}; got {stp_default!r}"
            )
        self._spec = spec
        self._stp_default = stp_default
        # Explicit (or displaced auto) order ids above last_seq: see "Order ids" above.
        self._reserved: set[int] = set()
        self._symbol = spec.symbol
        self._min_ticks = spec.min_ticks  # copied: read on every place
        self._max_ticks = spec.max_ticks
        # No band: every price a Place can hold (1..MAX_UNITS, checked when it was built) is
        # in range, so the fast path skips the range test.
        self._unbanded = spec.min_ticks <= 1 and spec.max_ticks >= MAX_UNITS
        self._bids: dict[int, _Level] = {}
        self._asks: dict[int, _Level] = {}
        self._bid_prices: SortedList = SortedList()
        self._ask_prices: SortedList = SortedList()
        self._best_bid: int | None = None
        self._best_ask: int | None = None
        self._orders: dict[int, _Resting] = {}
        # Client order ids of live orders that have one: (user, client id) -> order id, and
        # order id -> client id. Empty unless clients use them (the hot paths test that).
        self._cid_orders: dict[tuple[str, str], int] = {}
        self._order_cids: dict[int, str] = {}
        self._last_seq = 0
        self._users: list[str] = []
        self._user_ids: dict[str, int] = {}
        self._fills: dict[str, array[int]] = {k: array(t) for k, t in _FILL_COLUMNS.items()}
        # Fills not yet in the columns (see _flush_fills), flat: one item per column per fill.
        self._pending_fills: list[Any] = []
        self._fill_total = 0  # fills in the columns plus pending ones
        self._digest_cache: tuple[int, str] | None = None

    # -- the state machine -------------------------------------------------------------

    @property
    def spec(self) -> MarketSpec:
        """The market's spec (read-only: the book's state depends on it)."""
        return self._spec

    @property
    def stp_default(self) -> str:
        """Self-trade prevention mode for commands whose ``stp`` is ``None`` (read-only)."""
        return self._stp_default

    @property
    def last_seq(self) -> int:
        """Sequence number of the last accepted command (0 before any)."""
        return self._last_seq

    def apply(self, command: Command, seq: int, ts_us: int) -> ApplyResult:
        """Apply one command at sequence number ``seq`` and time ``ts_us``; the only mutator.

        Cost: a resting place O(1) (+O(log L) for a new level), a cancel O(1) amortised, a
        taker O(levels and orders it touches); FOK adds a read-only pass first.

        Business outcomes never raise: a rejected command returns
        ``ApplyResult(accepted=False, reason=code)`` (codes in
        :data:`~clobkit.book.results.REJECT_REASONS`) and changes nothing, not even
        :attr:`last_seq`. Rules, checked in this order:

        * every command: ``market_mismatch`` if ``command.market`` is not this market.
        * place: ``order_id_too_low`` if an explicit ``order_id`` is not above
          ``last_seq``; ``order_id_used`` if an earlier order used it (ids are never
          reused); ``duplicate_client_order_id`` if the user already has a live order with
          this ``client_order_id``; ``price_out_of_range`` if the limit or protection price is
          outside the spec's band; ``no_liquidity`` for a market order when the opposite
          side is empty; ``would_take`` for a post-only order that crosses the best
          opposite price; ``fok_unfillable`` when a FOK order cannot fill in full (counting
          what self-trade prevention would let it trade).
        * cancel/modify by ``order_id``: ``unknown_order`` if no live order has the id,
          ``not_owner`` if it belongs to another user; by ``client_order_id``:
          ``unknown_client_order_id`` if the user has no live order with it; modify:
          ``price_out_of_range`` for a new price outside the band.

        Matching takes the best opposite level first and the oldest order in it, trading at
        the resting order's price. Self-trade prevention (the command's ``stp`` or the
        book's default) applies when the taker meets a resting order of the same user:
        ``none`` trades, ``cancel-taker`` cancels the taker's remainder, ``cancel-maker``
        cancels that resting order and goes on, ``cancel-both`` does both. A GTC limit
        remainder rests; IOC and market remainders are cancelled; a market order stops at
        its ``protection_price``.

        Modify: a new ``qty`` is the new open quantity. Same price and a smaller or equal
        quantity changes it in place and keeps time priority. A price change or a larger
        quantity is a cancel-replace under the same id: the order goes to the back of the
        queue at its (new) price with ``seq``/``ts_us`` of the modify, and may trade as a
        taker (GTC limit, book default STP) before it rests. Status is ``modified``.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> book.apply(Cancel("ACME", "bob", 99), seq=1, ts_us=10).reason
        'unknown_order'
        >>> book.last_seq
        0

        Raises :class:`~clobkit.errors.InvalidArgument` only for a malformed call: a
        non-command, or ``seq``/``ts_us`` that are not ints, ``seq <= last_seq``,
        ``ts_us < 0``.
        """
        if type(seq) is not int or seq <= self._last_seq or type(ts_us) is not int or ts_us < 0:
            raise self._bad_call(seq, ts_us)
        # The commonest cases, a passive GTC limit order, a crossing GTC limit order and a good
        # cancel, run on fast paths: inline here (no helper calls, locals instead of repeated
        # attribute lookups) or, for a crossing order without self-trade prevention, in
        # _cross. They are most of a replica's traffic (benchmarks/bench_book.py). Commands
        # were validated when they were built (they are frozen), so only the book-state
        # rules are checked here. Every other case, including every rejection, goes through
        # the general methods below, which check the rules in the documented order.
        # ``type(command) is X`` narrows the type for mypy without a run-time isinstance call.
        if type(command) is Place:
            price = command.price
            if (
                price is not None
                and command.tif == "gtc"
                and command.market == self._symbol
                and command.client_order_id is None
            ):
                order_id = command.order_id
                reserved = self._reserved
                if order_id is None:
                    fresh_id = seq not in reserved
                    if not fresh_id:
                        order_id = self._free_id(seq)
                    else:
                        order_id = seq
                else:
                    fresh_id = order_id > self._last_seq and order_id not in reserved
                orders = self._orders
                if fresh_id and (self._unbanded or self._min_ticks <= price <= self._max_ticks):
                    is_buy = command.side == "buy"
                    best = self._best_ask if is_buy else self._best_bid
                    if best is None or (price < best if is_buy else price > best):
                        # Passive: it rests whole (_rest inlined).
                        level = (self._bids if is_buy else self._asks).get(price)
                        if level is None:
                            level = self._new_level(is_buy, price)
                        qty = command.qty
                        order = _Resting()
                        order.order_id = order_id
                        order.user = command.user
                        order.level = level
                        order.qty = qty
                        order.filled = 0
                        order.original = qty
                        order.seq = seq
                        order.ts_us = ts_us
                        level.orders.append(order)
                        level.qty += qty
                        orders[order_id] = order
                        if order_id != seq:
                            reserved.add(order_id)
                        self._last_seq = seq
                        return _new(
                            ApplyResult,
                            (True, None, seq, ts_us, order_id, "resting", _NO_FILLS, qty, 0, ()),
                        )
                    if not command.post_only:
                        # It crosses, and every rejection rule is checked: go match.
                        if order_id != seq:
                            reserved.add(order_id)
                        stp = self._stp_default if command.stp is None else command.stp
                        if stp == "none":
                            return self._cross(command, order_id, is_buy, price, seq, ts_us)
                        return self._execute(command, order_id, is_buy, price, stp, seq, ts_us)
            return self._place(command, seq, ts_us)
        if type(command) is Cancel:
            order_id = command.order_id
            if order_id is None:  # named by its client id: the general path
                return self._cancel(command, seq, ts_us)
            orders = self._orders
            resting = orders.pop(order_id, None)  # one hash lookup for the find and the delete
            if resting is None or resting.user != command.user or command.market != self._symbol:
                if resting is not None:
                    orders[order_id] = resting  # put it back (the index's order is not state)
                return self._cancel(command, seq, ts_us)  # by client id, or a rejection
            if self._order_cids:
                self._forget_cid(resting)
            self._last_seq = seq
            qty = resting.qty
            # _unlink inlined (lazy deletion; see the module docstring).
            level = resting.level
            level.qty -= qty
            dead = level.dead + 1
            level.dead = dead
            resting.qty = 0
            size = len(level.orders)
            if size == dead or 2 * dead > size + 8:
                self._tidy_level(level)
            return _new(
                ApplyResult, (True, None, seq, ts_us, order_id, "cancelled", _NO_FILLS, 0, qty, ())
            )
        if type(command) is Modify:
            return self._modify(command, seq, ts_us)
        raise InvalidType(
            f"command must be Place, Cancel or Modify, not {type(command).__name__}: {command!r}"
        )

    def _bad_call(self, seq: object, ts_us: object) -> InvalidArgument:
        if type(seq) is not int or seq <= self._last_seq:
            return InvalidArgument(f"seq must be an int greater than {self._last_seq}, got {seq!r}")
        return InvalidArgument(f"ts_us must be a non-negative int, got {ts_us!r}")

    def _free_id(self, seq: int) -> int:
        """The auto id for a place at ``seq`` when an explicit id reserved ``seq``: the next
        number above it that is not reserved. O(reserved)."""
        candidate = seq + 1
        while candidate in self._reserved:
            candidate += 1
        return candidate

    def _place(self, cmd: Place, seq: int, ts_us: int) -> ApplyResult:
        """Check every rejection rule in the documented order, then execute.

        ``apply`` inlines the common GTC limit cases; this is the general path.
        """
        reserved = self._reserved
        if cmd.order_id is None:
            order_id = seq if seq not in reserved else self._free_id(seq)
        else:
            order_id = cmd.order_id
        if cmd.market != self._symbol:
            return _reject("market_mismatch", seq, ts_us, order_id)
        if cmd.order_id is not None:
            if order_id <= self._last_seq:
                return _reject("order_id_too_low", seq, ts_us, order_id)
            if order_id in reserved:
                return _reject("order_id_used", seq, ts_us, order_id)
        cid = cmd.client_order_id
        if cid is not None and (cmd.user, cid) in self._cid_orders:
            return _reject("duplicate_client_order_id", seq, ts_us, order_id)
        price = cmd.price
        spec = self._spec
        is_buy = cmd.side == "buy"
        best_opposite = self._best_ask if is_buy else self._best_bid
        limit: int | None
        if price is not None:
            if not spec.min_ticks <= price <= spec.max_ticks:
                return _reject("price_out_of_range", seq, ts_us, order_id)
            crosses = best_opposite is not None and (
                price >= best_opposite if is_buy else price <= best_opposite
            )
            if crosses and cmd.post_only:
                return _reject("would_take", seq, ts_us, order_id)
            limit = price
        else:
            limit = cmd.protection_price
            if limit is not None and not spec.min_ticks <= limit <= spec.max_ticks:
                return _reject("price_out_of_range", seq, ts_us, order_id)
            if best_opposite is None:
                return _reject("no_liquidity", seq, ts_us, order_id)
        stp = self._stp_default if cmd.stp is None else cmd.stp
        if cmd.tif == "fok" and self._fillable(is_buy, limit, cmd.user, stp, cmd.qty) < cmd.qty:
            return _reject("fok_unfillable", seq, ts_us, order_id)
        if order_id != seq:
            reserved.add(order_id)  # accepted from here on: the id is used for good
        return self._execute(cmd, order_id, is_buy, limit, stp, seq, ts_us)

    def _execute(
        self,
        cmd: Place,
        order_id: int,
        is_buy: bool,
        limit: int | None,
        stp: str,
        seq: int,
        ts_us: int,
    ) -> ApplyResult:
        """Run an accepted place: match, then rest or cancel the remainder. Never rejects."""
        self._last_seq = seq
        remaining, fills, taker_stopped, stp_cancelled = self._match(
            is_buy, limit, cmd.qty, order_id, cmd.user, stp, seq, ts_us
        )
        price = cmd.price
        filled = cmd.qty - remaining
        if remaining and price is not None and cmd.tif == "gtc" and not taker_stopped:
            self._rest(order_id, cmd.user, is_buy, price, remaining, filled, cmd.qty, seq, ts_us)
            if cmd.client_order_id is not None:
                self._remember_cid(cmd.user, cmd.client_order_id, order_id)
            status = "partially_filled" if filled else "resting"
            return _new(
                ApplyResult,
                (True, None, seq, ts_us, order_id, status, fills, remaining, 0, stp_cancelled),
            )
        status = "cancelled" if remaining else "filled"
        return _new(
            ApplyResult,
            (True, None, seq, ts_us, order_id, status, fills, 0, remaining, stp_cancelled),
        )

    def _target(self, cmd: Cancel | Modify, seq: int, ts_us: int) -> _Resting | ApplyResult:
        """The live order a cancel/modify names (by order id or client id), or its rejection."""
        order_id = cmd.order_id
        if cmd.market != self._symbol:
            return _reject("market_mismatch", seq, ts_us, order_id)
        cid = cmd.client_order_id
        if cid is not None:
            found = self._cid_orders.get((cmd.user, cid))
            if found is None:
                return _reject("unknown_client_order_id", seq, ts_us, None)
            return self._orders[found]
        assert order_id is not None, "a command names its order by one of the two ids"
        order = self._orders.get(order_id)
        if order is None:
            return _reject("unknown_order", seq, ts_us, order_id)
        if order.user != cmd.user:
            return _reject("not_owner", seq, ts_us, order_id)
        return order

    def _cancel(self, cmd: Cancel, seq: int, ts_us: int) -> ApplyResult:
        order = self._target(cmd, seq, ts_us)
        if type(order) is not _Resting:
            assert isinstance(order, ApplyResult)
            return order
        order_id = order.order_id
        self._last_seq = seq
        qty = order.qty
        self._unlink(order)
        return _new(
            ApplyResult, (True, None, seq, ts_us, order_id, "cancelled", _NO_FILLS, 0, qty, ())
        )

    def _modify(self, cmd: Modify, seq: int, ts_us: int) -> ApplyResult:
        order = self._target(cmd, seq, ts_us)
        if type(order) is not _Resting:
            assert isinstance(order, ApplyResult)
            return order
        order_id = order.order_id
        price = order.price if cmd.price is None else cmd.price
        if not self._spec.min_ticks <= price <= self._spec.max_ticks:
            return _reject("price_out_of_range", seq, ts_us, order_id)
        qty = order.qty if cmd.qty is None else cmd.qty
        self._last_seq = seq
        if price == order.price and qty <= order.qty:
            # A reduction keeps time priority: change the order where it stands.
            reduced = order.qty - qty
            order.qty = qty
            order.level.qty -= reduced
            return _new(
                ApplyResult,
                (True, None, seq, ts_us, order_id, "modified", _NO_FILLS, qty, reduced, ()),
            )
        # Cancel-replace: same id, new priority; the replacement may trade first.
        reduced = max(0, order.qty - qty)
        original = order.original + max(0, qty - order.qty)
        filled_before = order.filled
        user, is_buy = order.user, order.level.is_buy
        cid = self._order_cids.get(order_id)  # the replacement keeps the client id
        self._unlink(order)
        remaining, fills, taker_stopped, stp_cancelled = self._match(
            is_buy, price, qty, order_id, user, self._stp_default, seq, ts_us
        )
        filled = filled_before + qty - remaining
        resting = 0
        if remaining and not taker_stopped:
            self._rest(order_id, user, is_buy, price, remaining, filled, original, seq, ts_us)
            if cid is not None:
                self._remember_cid(user, cid, order_id)
            resting = remaining
        cancelled = reduced + (remaining - resting)
        return _new(
            ApplyResult,
            (
                True,
                None,
                seq,
                ts_us,
                order_id,
                "modified",
                fills,
                resting,
                cancelled,
                stp_cancelled,
            ),
        )

    # -- structure helpers ---------------------------------------------------------------

    def _rest(
        self,
        order_id: int,
        user: str,
        is_buy: bool,
        price: int,
        qty: int,
        filled: int,
        original: int,
        seq: int,
        ts_us: int,
    ) -> None:
        """Append a new resting order to the back of its level, creating the level if needed."""
        level = (self._bids if is_buy else self._asks).get(price)
        if level is None:
            level = self._new_level(is_buy, price)
        order = _Resting()
        order.order_id = order_id
        order.user = user
        order.level = level
        order.qty = qty
        order.filled = filled
        order.original = original
        order.seq = seq
        order.ts_us = ts_us
        level.orders.append(order)
        level.qty += qty
        self._orders[order_id] = order

    def _remember_cid(self, user: str, cid: str, order_id: int) -> None:
        """Index a resting order's client id (checked free by the caller). O(1)."""
        self._cid_orders[(user, cid)] = order_id
        self._order_cids[order_id] = cid

    def _forget_cid(self, order: _Resting) -> None:
        """Drop the client id of an order leaving the book, if it has one. O(1)."""
        cid = self._order_cids.pop(order.order_id, None)
        if cid is not None:
            del self._cid_orders[(order.user, cid)]

    def _new_level(self, is_buy: bool, price: int) -> _Level:
        """Create an empty level at ``price``. O(log L)."""
        level = _Level()
        level.price = price
        level.is_buy = is_buy
        level.orders = deque()
        level.qty = 0
        level.dead = 0
        if is_buy:
            self._bids[price] = level
            self._bid_prices.add(price)
            best = self._best_bid
            if best is None or price > best:
                self._best_bid = price
        else:
            self._asks[price] = level
            self._ask_prices.add(price)
            best = self._best_ask
            if best is None or price < best:
                self._best_ask = price
        return level

    def _unlink(self, order: _Resting) -> None:
        """Remove a live order: lazy deletion in its deque, O(1) amortised."""
        level = order.level
        level.qty -= order.qty
        level.dead += 1
        order.qty = 0
        del self._orders[order.order_id]
        if self._order_cids:
            self._forget_cid(order)
        size = len(level.orders)
        if size == level.dead or 2 * level.dead > size + 8:
            self._tidy_level(level)

    def _tidy_level(self, level: _Level) -> None:
        """Drop a level with no live orders, or compact one with more dead than live entries."""
        if level.is_buy:
            levels, prices = self._bids, self._bid_prices
        else:
            levels, prices = self._asks, self._ask_prices
        if len(level.orders) == level.dead:
            self._drop_level(levels, prices, level.price)
        else:
            # Compaction is paid for by the cancels that made the dead entries: O(1) amortised.
            level.orders = deque(level.live())
            level.dead = 0

    def _drop_level(self, levels: dict[int, _Level], prices: SortedList, price: int) -> None:
        del levels[price]
        prices.remove(price)
        if levels is self._bids:
            if price == self._best_bid:
                self._best_bid = prices[-1] if prices else None
        elif price == self._best_ask:
            self._best_ask = prices[0] if prices else None

    def _fillable(self, is_buy: bool, limit: int | None, user: str, stp: str, want: int) -> int:
        """How much a taker could fill now (read-only; stops once ``want`` is reached)."""
        if is_buy:
            levels, prices = self._asks, iter(self._ask_prices)
        else:
            levels, prices = self._bids, reversed(self._bid_prices)
        total = 0
        for price in prices:
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            for maker in levels[price].live():
                if maker.user == user and stp != "none":
                    if stp == "cancel-maker":
                        continue
                    return total  # cancel-taker / cancel-both stop the taker here
                total += maker.qty
                if total >= want:
                    return total
        return total

    def _cross(
        self, cmd: Place, order_id: int, is_buy: bool, limit: int, seq: int, ts_us: int
    ) -> ApplyResult:
        """Execute an accepted GTC limit order that crosses, without self-trade prevention.

        ``apply``'s fast path for takers: the same outcome as ``_execute`` (which goes
        through the general ``_match``), with less work per fill. A level's quantity is
        updated once per level, not once per fill, and a maker that trades in full is
        popped without updating its slots (nothing refers to it any more).
        """
        self._last_seq = seq
        user = cmd.user
        qty = remaining = cmd.qty
        if is_buy:
            levels, prices, side, side_code = self._asks, self._ask_prices, "buy", 0
            best = self._best_ask
        else:
            levels, prices, side, side_code = self._bids, self._bid_prices, "sell", 1
            best = self._best_bid
        # Locals for the loop: each saves an attribute lookup per fill.
        index = self._orders
        cids = self._order_cids  # empty unless clients use client order ids
        market = self._symbol
        fills: list[Fill] = []
        add_fill = fills.append
        fill_id = self._fill_total
        pending = self._pending_fills
        while best is not None and (best <= limit if is_buy else best >= limit):
            level = levels[best]
            orders = level.orders
            before = remaining  # the level loses before - remaining lots
            while orders:
                maker = orders.popleft()  # a maker that keeps a remainder goes back in front
                maker_qty = maker.qty
                if not maker_qty:  # lazily deleted entry
                    level.dead -= 1
                    continue
                maker_id, maker_user = maker.order_id, maker.user
                if remaining < maker_qty:  # the maker keeps a remainder; the taker is done
                    add_fill(
                        _new(
                            Fill,
                            (
                                fill_id,
                                seq,
                                ts_us,
                                market,
                                best,
                                remaining,
                                order_id,
                                maker_id,
                                user,
                                maker_user,
                                side,
                            ),
                        )
                    )
                    pending += (
                        seq,
                        ts_us,
                        best,
                        remaining,
                        order_id,
                        maker_id,
                        user,
                        maker_user,
                        side_code,
                    )
                    fill_id += 1
                    maker.qty = maker_qty - remaining
                    maker.filled += remaining
                    orders.appendleft(maker)
                    remaining = 0
                    break
                add_fill(
                    _new(
                        Fill,
                        (
                            fill_id,
                            seq,
                            ts_us,
                            market,
                            best,
                            maker_qty,
                            order_id,
                            maker_id,
                            user,
                            maker_user,
                            side,
                        ),
                    )
                )
                pending += (
                    seq,
                    ts_us,
                    best,
                    maker_qty,
                    order_id,
                    maker_id,
                    user,
                    maker_user,
                    side_code,
                )
                fill_id += 1
                remaining -= maker_qty
                del index[maker_id]
                if cids:
                    self._forget_cid(maker)
                if not remaining:
                    break
            level.qty -= before - remaining
            if len(orders) == level.dead:  # only dead entries (or none) left
                # Inline _drop_level for the best level: pop the end of the sorted prices.
                del levels[best]
                # ``levels`` has the same keys as ``prices``; its emptiness test is C-level.
                if is_buy:
                    prices.pop(0)
                    best = self._best_ask = prices[0] if levels else None
                else:
                    prices.pop()
                    best = self._best_bid = prices[-1] if levels else None
            if not remaining:
                break
        assert fills, "a crossing order trades at least once without self-trade prevention"
        # Fills go to the columns in batches (see _flush_fills).
        self._fill_total = fill_id
        if len(pending) >= _FLUSH_AT * _FILL_WIDTH:
            self._flush_fills()
        if remaining:
            self._rest(order_id, user, is_buy, limit, remaining, qty - remaining, qty, seq, ts_us)
            if cmd.client_order_id is not None:
                self._remember_cid(user, cmd.client_order_id, order_id)
            return _new(
                ApplyResult,
                (
                    True,
                    None,
                    seq,
                    ts_us,
                    order_id,
                    "partially_filled",
                    tuple(fills),
                    remaining,
                    0,
                    (),
                ),
            )
        return _new(
            ApplyResult, (True, None, seq, ts_us, order_id, "filled", tuple(fills), 0, 0, ())
        )

    def _match(
        self,
        is_buy: bool,
        limit: int | None,
        qty: int,
        order_id: int,
        user: str,
        stp: str,
        seq: int,
        ts_us: int,
    ) -> tuple[int, tuple[Fill, ...], bool, tuple[int, ...]]:
        """Trade an incoming order against the opposite side.

        Returns (remaining qty, fills, taker stopped by STP, ids of makers STP cancelled).
        """
        if is_buy:
            levels, prices, side, side_code = self._asks, self._ask_prices, "buy", 0
        else:
            levels, prices, side, side_code = self._bids, self._bid_prices, "sell", 1
        fills: list[Fill] = []
        stp_cancelled: list[int] = []
        taker_stopped = False
        remaining = qty
        index = self._orders
        cids = self._order_cids
        fill_id = self._fill_total
        pending = self._pending_fills
        market = self._symbol
        self_trade_check = stp != "none"
        while remaining:
            # The cached best price (kept by _new_level/_drop_level) is cheaper than prices[0].
            best = self._best_ask if is_buy else self._best_bid
            if best is None:
                break
            price = best
            if limit is not None and (price > limit if is_buy else price < limit):
                break
            level = levels[price]
            orders = level.orders
            while remaining and orders:
                maker = orders[0]
                maker_qty = maker.qty
                if not maker_qty:  # lazily deleted entry
                    orders.popleft()
                    level.dead -= 1
                    continue
                if self_trade_check and maker.user == user:
                    if stp != "cancel-taker":  # cancel-maker / cancel-both
                        stp_cancelled.append(maker.order_id)
                        orders.popleft()
                        level.qty -= maker_qty
                        maker.qty = 0
                        del index[maker.order_id]
                        if cids:
                            self._forget_cid(maker)
                    if stp != "cancel-maker":  # cancel-taker / cancel-both
                        taker_stopped = True
                        break
                    continue
                trade = remaining if remaining < maker_qty else maker_qty
                fills.append(
                    _new(
                        Fill,
                        (
                            fill_id,
                            seq,
                            ts_us,
                            market,
                            price,
                            trade,
                            order_id,
                            maker.order_id,
                            user,
                            maker.user,
                            side,
                        ),
                    )
                )
                pending += (
                    seq,
                    ts_us,
                    price,
                    trade,
                    order_id,
                    maker.order_id,
                    user,
                    maker.user,
                    side_code,
                )
                fill_id += 1
                remaining -= trade
                level.qty -= trade
                maker.filled += trade
                maker_qty -= trade
                maker.qty = maker_qty
                if not maker_qty:
                    orders.popleft()
                    del index[maker.order_id]
                    if cids:
                        self._forget_cid(maker)
            if len(orders) == level.dead:  # only dead entries (or none) left
                # Inline _drop_level for the best level: pop the end of the sorted prices.
                del levels[price]
                if is_buy:
                    prices.pop(0)
                    self._best_ask = prices[0] if levels else None
                else:
                    prices.pop()
                    self._best_bid = prices[-1] if levels else None
            if taker_stopped:
                break
        if fills:
            # Fills go to the columns in batches (see _flush_fills).
            self._fill_total = fill_id
            if len(pending) >= _FLUSH_AT * _FILL_WIDTH:
                self._flush_fills()
        return remaining, tuple(fills), taker_stopped, tuple(stp_cancelled)

    def _flush_fills(self) -> None:
        """Move pending fills into the columns (users interned in order of appearance).

        Matching records each fill as one small tuple of its column values (users as
        names, the side as its code) added to one flat list: ``+=`` of a tuple is far
        cheaper than nine array appends. Here every column is built in C from a slice
        (``pending[k::9]``); only user names need a lookup (``map``).
        """
        pending = self._pending_fills
        if not pending:
            return
        c = self._fills
        width = _FILL_WIDTH
        takers: list[str] = pending[_TAKER_USER::width]
        makers: list[str] = pending[_MAKER_USER::width]
        ids = self._user_ids
        if not ids.keys() >= set(takers) | set(makers):
            for taker, maker in zip(takers, makers, strict=True):
                if taker not in ids:  # new users get ids in order of appearance
                    self._intern(taker)
                if maker not in ids:
                    self._intern(maker)
        for k, (name, typecode) in enumerate(_FILL_COLUMNS.items()):
            values = pending[k::width]
            if k in (_TAKER_USER, _MAKER_USER):
                c[name] += array(typecode, map(ids.__getitem__, values))
            else:
                c[name] += array(typecode, values)  # array(list) is a C loop
        pending.clear()
        assert all(len(column) == self._fill_total for column in c.values())

    def _intern(self, user: str) -> int:
        """The small int standing for ``user`` in fill columns (assigned on first fill)."""
        uid = self._user_ids.get(user)
        if uid is None:
            uid = self._user_ids[user] = len(self._users)
            self._users.append(user)
        return uid

    # -- convenience (price units in, exceptions out) --------------------------------------

    def _next(self, ts_us: int | None) -> tuple[int, int]:
        seq = self._last_seq + 1
        return seq, seq if ts_us is None else ts_us

    def place(
        self,
        user: str,
        side: str,
        price: object = None,
        qty: object = None,
        *,
        order_type: str = "limit",
        tif: str = "gtc",
        post_only: bool = False,
        order_id: int | None = None,
        stp: str | None = None,
        protection_price: object = None,
        client_order_id: str | None = None,
        ts_us: int | None = None,
    ) -> ApplyResult:
        """Place an order in price units (``str``/``int``/``Decimal``) at the next seq.

        ``seq`` is ``last_seq + 1``; ``ts_us`` defaults to that seq. Cost as :meth:`apply`.

        >>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
        >>> book.place("alice", "buy", price="99.99", qty=3).resting_qty
        3
        >>> book.place("bob", "sell", qty=1, order_type="market").fills[0].price
        9999

        ``client_order_id`` is the caller's own id for the order (unique among the user's
        live orders); :meth:`cancel` and :meth:`modify` accept it. ``order_id`` sets the
        exchange id instead of letting the book assign it (for replays; see :meth:`apply`).

        Raises :class:`~clobkit.errors.InvalidArgument` / ``InvalidType`` for bad input,
        and on rejection ``DuplicateOrderId`` (``order_id_used``,
        ``duplicate_client_order_id``), ``NoLiquidity`` or ``OrderRejected`` (with
        ``.reason`` ``order_id_too_low``, ``would_take``, ``fok_unfillable``, ...),
        leaving the book unchanged.
        """
        if qty is None:
            raise InvalidArgument("qty is required")
        spec = self._spec
        ticks = None if price is None else spec.price_to_ticks(price, "price")
        lots = spec.qty_to_lots(qty, "qty")
        protect = (
            None
            if protection_price is None
            else spec.price_to_ticks(protection_price, "protection_price")
        )
        command = Place(
            self._symbol,
            user,
            side,
            ticks,
            lots,
            order_type=order_type,
            tif=tif,
            order_id=order_id,
            stp=stp,
            protection_price=protect,
            post_only=post_only,
            client_order_id=client_order_id,
        )
        return self.apply(command, *self._next(ts_us)).raise_for_reason()

    def cancel(
        self,
        user: str,
        order_id: int | None = None,
        *,
        client_order_id: str | None = None,
        ts_us: int | None = None,
    ) -> ApplyResult:
        """Cancel ``user``'s live order, named by ``order_id`` or ``client_order_id``, at the
        next seq. O(1) amortised.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> oid = book.place("alice", "buy", price=1, qty=2).order_id
        >>> book.cancel("alice", oid).cancelled_qty
        2
        >>> _ = book.place("alice", "buy", price=1, qty=3, client_order_id="bid-1")
        >>> book.cancel("alice", client_order_id="bid-1").cancelled_qty
        3

        Raises ``UnknownOrder`` or ``NotOwner`` (book unchanged), ``InvalidArgument``.
        """
        command = Cancel(self._symbol, user, order_id, client_order_id)
        return self.apply(command, *self._next(ts_us)).raise_for_reason()

    def modify(
        self,
        user: str,
        order_id: int | None = None,
        *,
        price: object = None,
        qty: object = None,
        client_order_id: str | None = None,
        ts_us: int | None = None,
    ) -> ApplyResult:
        """Change an order's price and/or open quantity (price units) at the next seq.

        See :meth:`apply` for priority rules. Cost O(1) for a reduction, else like a place.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> oid = book.place("alice", "buy", price=1, qty=5).order_id
        >>> book.modify("alice", oid, qty=2).resting_qty
        2

        Raises ``UnknownOrder``, ``NotOwner``, ``InvalidArgument`` (book unchanged).
        """
        spec = self._spec
        ticks = None if price is None else spec.price_to_ticks(price, "price")
        lots = None if qty is None else spec.qty_to_lots(qty, "qty")
        command = Modify(
            self._symbol, user, order_id, price=ticks, qty=lots, client_order_id=client_order_id
        )
        return self.apply(command, *self._next(ts_us)).raise_for_reason()

    # -- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        """Number of live orders. O(1)."""
        return len(self._orders)

    def best_bid(self) -> int | None:
        """Best (highest) bid price in ticks, or ``None``. O(1).

        >>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
        >>> book.best_bid() is None
        True
        >>> _ = book.place("a", "buy", price="1.00", qty=1)
        >>> _ = book.place("b", "buy", price="1.02", qty=1)
        >>> book.best_bid()
        102
        """
        return self._best_bid

    def best_ask(self) -> int | None:
        """Best (lowest) ask price in ticks, or ``None``. O(1).

        >>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
        >>> _ = book.place("a", "sell", price="1.05", qty=1)
        >>> _ = book.place("b", "sell", price="1.03", qty=1)
        >>> book.best_ask(), book.spec.ticks_to_price(book.best_ask())
        (103, Decimal('1.03'))
        """
        return self._best_ask

    def spread(self) -> int | None:
        """``best_ask - best_bid`` in ticks, or ``None`` if a side is empty. O(1).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "buy", price="1.00", qty=1)
        >>> _ = book.place("b", "sell", price="1.03", qty=1)
        >>> book.spread()
        3
        """
        if self._best_bid is None or self._best_ask is None:
            return None
        return self._best_ask - self._best_bid

    def _levels(self, side: str) -> Iterator[_Level]:
        """Levels of one side, best first."""
        if side == "buy":
            return (self._bids[p] for p in reversed(self._bid_prices))
        return (self._asks[p] for p in self._ask_prices)

    def order(self, order_id: int) -> Order:
        """The live order ``order_id``. O(1).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> oid = book.place("alice", "buy", price="1.00", qty=5).order_id
        >>> o = book.order(oid)
        >>> o.user, o.side, o.price, o.qty
        ('alice', 'buy', 100, 5)
        >>> book.order(99)
        Traceback (most recent call last):
        ...
        clobkit.errors.UnknownOrder: unknown_order: no live order has id 99

        Raises :class:`~clobkit.errors.UnknownOrder` if no live order has that id.
        """
        order = self._orders.get(order_id)
        if order is None:
            raise UnknownOrder(f"unknown_order: no live order has id {order_id!r}", "unknown_order")
        return order.public(self._order_cids.get(order_id))

    def live_orders(self, user: str | None = None) -> list[Order]:
        """Live orders in price-time order, bids (best first) then asks. O(orders).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price=2, qty=1); _ = book.place("b", "buy", price=1, qty=1)
        >>> [(o.user, o.side) for o in book.live_orders()]
        [('b', 'buy'), ('a', 'sell')]
        """
        result = []
        for side in ("buy", "sell"):
            for level in self._levels(side):
                for order in level.live():
                    if user is None or order.user == user:
                        result.append(order.public(self._order_cids.get(order.order_id)))
        return result

    def depth(self, levels: int = 10) -> dict[str, list[tuple[int, int, int]]]:
        """Top ``levels`` per side, best first: ``{"bids": [...], "asks": [...]}``. O(levels).

        Each row is ``(price_ticks, qty_lots, order_count)``.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "buy", price=1, qty=2); _ = book.place("b", "buy", price=1, qty=3)
        >>> book.depth()
        {'bids': [(100, 5, 2)], 'asks': []}

        Raises :class:`~clobkit.errors.InvalidArgument` unless ``levels`` is a positive int.
        """
        if type(levels) is not int or levels <= 0:
            raise InvalidArgument(f"levels must be a positive int, got {levels!r}")
        result: dict[str, list[tuple[int, int, int]]] = {}
        for key, side in (("bids", "buy"), ("asks", "sell")):
            rows: list[tuple[int, int, int]] = []
            for level in self._levels(side):
                if len(rows) == levels:
                    break
                rows.append((level.price, level.qty, level.count))
            result[key] = rows
        return result

    def fills(self, user: str | None = None, since_seq: int | None = None) -> list[Fill]:
        """Fills in order, optionally only those where ``user`` was taker or maker and only
        those with ``seq > since_seq``. O(fills scanned).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price=1, qty=2); _ = book.place("b", "buy", price=1, qty=2)
        >>> [(f.maker_user, f.taker_user, f.qty) for f in book.fills(user="a")]
        [('a', 'b', 2)]
        """
        if since_seq is not None and type(since_seq) is not int:
            raise InvalidType(f"since_seq must be an int or None, got {since_seq!r}")
        if user is not None and not isinstance(user, str):
            raise InvalidType(f"user must be a str or None, got {user!r}")
        self._flush_fills()
        c = self._fills
        start = 0 if since_seq is None else bisect_right(c["seq"], since_seq)
        uid = None
        if user is not None:
            uid = self._user_ids.get(user)
            if uid is None:
                return []
        users, market = self._users, self._symbol
        result = []
        for i in range(start, len(c["seq"])):
            taker_uid, maker_uid = c["taker_user_id"][i], c["maker_user_id"][i]
            if uid is not None and uid != taker_uid and uid != maker_uid:
                continue
            result.append(
                Fill(
                    i,
                    c["seq"][i],
                    c["ts_us"][i],
                    market,
                    c["price_ticks"][i],
                    c["qty_lots"][i],
                    c["taker_order_id"][i],
                    c["maker_order_id"][i],
                    users[taker_uid],
                    users[maker_uid],
                    "sell" if c["aggressor_side"][i] else "buy",
                )
            )
        return result

    def fill_count(self) -> int:
        """Number of fills so far. O(1)."""
        return self._fill_total

    def fill_columns(self) -> dict[str, array[int]]:
        """Copies of the fill columns (``array``), keyed by name. O(fills), memcpy speed.

        Keys: ``seq``, ``ts_us``, ``price_ticks``, ``qty_lots``, ``taker_order_id``,
        ``maker_order_id``, ``taker_user_id``, ``maker_user_id`` (indexes into
        :meth:`fill_users`), ``aggressor_side`` (0 buy, 1 sell). Row ``i`` is fill id ``i``.

        >>> sorted(OrderBook(MarketSpec("ACME")).fill_columns())[:3]
        ['aggressor_side', 'maker_order_id', 'maker_user_id']
        """
        self._flush_fills()
        return {name: array(col.typecode, col) for name, col in self._fills.items()}

    def fill_users(self) -> tuple[str, ...]:
        """The user table the ``*_user_id`` fill columns index into. O(users)."""
        self._flush_fills()
        return tuple(self._users)

    # -- snapshots and digests ---------------------------------------------------------

    def snapshot(self) -> bytes:
        """Everything about the book as compact, deterministic, versioned bytes. O(state).

        Layout: ``b"CKOB"``, version byte, spec, STP default, last seq, user table, the live
        orders in priority order (bids best first, then asks; FIFO within a level) as
        columns, then the fill columns. Equal states give equal bytes.

        >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price=1, qty=1)
        >>> OrderBook.restore(book.snapshot()).snapshot() == book.snapshot()
        True
        """
        self._flush_fills()
        w = Writer()
        w.byte(SNAPSHOT_VERSION if self._order_cids else _SNAPSHOT_V2)
        _write_spec(w, self._spec)
        w.text(self._stp_default)
        w.uint(self._last_seq)
        # Only reservations above last_seq can matter again (see "Order ids"), so only they
        # are state: equal books give equal bytes however many explicit ids they saw. (The
        # set itself is left alone: a snapshot reads the book, it never changes it.)
        last_seq = self._last_seq
        w.column(array("q", sorted(i for i in self._reserved if i > last_seq)))
        # Users who only have resting orders get table entries after the fill users.
        users = list(self._users)
        user_ids = dict(self._user_ids)
        columns: dict[str, array[int]] = {k: array("q") for k in _ORDER_COLUMNS}
        for side in ("buy", "sell"):
            for level in self._levels(side):
                for o in level.live():
                    uid = user_ids.get(o.user)
                    if uid is None:
                        uid = user_ids[o.user] = len(users)
                        users.append(o.user)
                    for key, value in zip(
                        _ORDER_COLUMNS,
                        (
                            o.order_id,
                            uid,
                            0 if side == "buy" else 1,
                            o.price,
                            o.qty,
                            o.filled,
                            o.original,
                            o.seq,
                            o.ts_us,
                        ),
                        strict=True,
                    ):
                        columns[key].append(value)
        w.uint(len(self._users))
        w.uint(len(users))
        for name in users:
            w.text(name)
        for key in _ORDER_COLUMNS:
            w.column(columns[key])
        for key in _FILL_COLUMNS:
            w.column(self._fills[key])
        if self._order_cids:  # version 3: (order id, client id) of live orders, by order id
            w.uint(len(self._order_cids))
            for order_id in sorted(self._order_cids):
                w.uint(order_id)
                w.text(self._order_cids[order_id])
        body = _MAGIC + w.getvalue()
        # A checksum over everything: a snapshot travels in state transfer and sits on disk.
        return body + hashlib.blake2b(body, digest_size=_SNAPSHOT_CHECKSUM).digest()

    @classmethod
    def restore(cls, data: bytes) -> OrderBook:
        """Rebuild a book from :meth:`snapshot` bytes. O(state).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("alice", "buy", price=1, qty=2)
        >>> copy = OrderBook.restore(book.snapshot())
        >>> copy.digest() == book.digest(), len(copy)
        (True, 1)
        >>> OrderBook.restore(b"nope")
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: malformed data: not an order book snapshot

        Raises :class:`~clobkit.errors.InvalidArgument` for malformed or unsupported bytes.
        """
        if not isinstance(data, bytes | bytearray | memoryview) or bytes(data[:4]) != _MAGIC:
            raise InvalidArgument("malformed data: not an order book snapshot")
        data = bytes(data)
        body, checksum = data[:-_SNAPSHOT_CHECKSUM], data[-_SNAPSHOT_CHECKSUM:]
        if hashlib.blake2b(body, digest_size=_SNAPSHOT_CHECKSUM).digest() != checksum:
            raise InvalidArgument("malformed data: snapshot checksum mismatch (corrupt bytes)")
        r = Reader(body[4:])
        version = r.byte()
        if version not in (_SNAPSHOT_V2, SNAPSHOT_VERSION):
            raise InvalidArgument(f"malformed data: unsupported snapshot version {version}")
        book = cls._read(r, version)
        r.done()
        return book

    @classmethod
    def _read(cls, r: Reader, version: int) -> OrderBook:
        spec = _read_spec(r)
        book = cls(spec, stp_default=r.text())
        book._last_seq = r.uint()
        reserved = r.column("q")
        if any(i <= book._last_seq for i in reserved) or len(set(reserved)) != len(reserved):
            raise InvalidArgument("malformed data: bad reserved order ids")
        book._reserved = set(reserved)
        n_fill_users, n_users = r.uint(), r.uint()
        if n_fill_users > n_users:
            raise InvalidArgument("malformed data: bad user table sizes")
        users = [r.text() for _ in range(n_users)]
        if len(set(users)) != len(users):
            raise InvalidArgument("malformed data: duplicate users")
        columns = {key: r.column("q") for key in _ORDER_COLUMNS}
        fills = {key: r.column(code) for key, code in _FILL_COLUMNS.items()}
        if len({len(c) for c in columns.values()}) > 1 or len({len(c) for c in fills.values()}) > 1:
            raise InvalidArgument("malformed data: ragged columns")
        book._users = users[:n_fill_users]
        book._user_ids = {name: i for i, name in enumerate(book._users)}
        for row in zip(*(columns[k] for k in _ORDER_COLUMNS), strict=True):
            order_id, uid, side_code, price, qty, filled, original, seq, ts_us = row
            if not 0 <= uid < n_users or side_code not in (0, 1) or order_id in book._orders:
                raise InvalidArgument("malformed data: bad order row")
            if order_id > book._last_seq and order_id not in book._reserved:
                raise InvalidArgument("malformed data: order id above last_seq not reserved")
            if qty <= 0 or filled < 0 or filled + qty > original or seq > book._last_seq:
                raise InvalidArgument("malformed data: bad order quantities")
            book._rest(
                order_id, users[uid], side_code == 0, price, qty, filled, original, seq, ts_us
            )
        for uid in (*fills["taker_user_id"], *fills["maker_user_id"]):
            if not 0 <= uid < n_fill_users:
                raise InvalidArgument("malformed data: bad fill user")
        book._fills = fills
        book._fill_total = len(fills["seq"])
        if version >= 3:
            count = r.uint()
            if count == 0:
                raise InvalidArgument("malformed data: version 3 snapshot without client ids")
            for _ in range(count):
                order_id, cid = r.uint(), r.text()
                resting = book._orders.get(order_id)
                if resting is None or (resting.user, cid) in book._cid_orders:
                    raise InvalidArgument("malformed data: bad client order id")
                try:
                    check_client_order_id(cid)
                except InvalidArgument:
                    raise InvalidArgument("malformed data: bad client order id") from None
                book._remember_cid(resting.user, cid, order_id)
        bid, ask = book._best_bid, book._best_ask
        if bid is not None and ask is not None and bid >= ask:
            raise InvalidArgument("malformed data: crossed book")
        return book

    def digest(self) -> str:
        """Hex BLAKE2b-128 of :meth:`snapshot`: equal on every replica in the same state.

        Cached until the next accepted command. O(state) when recomputed.

        >>> a, b = OrderBook(MarketSpec("ACME")), OrderBook(MarketSpec("ACME"))
        >>> a.digest() == b.digest(), len(a.digest())
        (True, 32)
        """
        cached = self._digest_cache
        if cached is not None and cached[0] == self._last_seq:
            return cached[1]
        value = hashlib.blake2b(self.snapshot(), digest_size=16).hexdigest()
        self._digest_cache = (self._last_seq, value)
        return value

    def _check(self) -> None:
        """Assert every structural invariant (tests call this after every step). O(state)."""
        seen: set[int] = set()
        for side, levels, prices in (
            ("buy", self._bids, self._bid_prices),
            ("sell", self._asks, self._ask_prices),
        ):
            assert list(prices) == sorted(set(levels)), "price list matches level keys"
            for price, level in levels.items():
                assert level.price == price and level.is_buy == (side == "buy")
                live = list(level.live())
                assert live, f"empty level {price} left in the book"
                assert level.count == len(live)
                assert level.qty == sum(o.qty for o in live)
                seqs = [o.seq for o in live]
                assert seqs == sorted(seqs), f"FIFO by arrival broken at {price}"
                assert level.dead == len(level.orders) - len(live)
                assert 2 * level.dead <= len(level.orders) + 8, "compaction keeps dead bounded"
                for o in live:
                    assert o.level is level, "order points to its level"
                    assert self._orders.get(o.order_id) is o, "index matches levels"
                    assert o.order_id not in seen
                    seen.add(o.order_id)
                    assert o.qty > 0 and o.filled >= 0
                    assert o.filled + o.qty <= o.original, "quantity conserved"
                    assert o.seq <= self._last_seq
                    assert o.order_id <= self._last_seq or o.order_id in self._reserved, (
                        "an order id above last_seq is reserved, so it is never handed out again"
                    )
        assert seen == set(self._orders), "index holds exactly the live orders"
        assert len(self._cid_orders) == len(self._order_cids)
        for (user, cid), order_id in self._cid_orders.items():
            assert self._orders[order_id].user == user, "a client id maps to its user's order"
            assert self._order_cids[order_id] == cid, "the two client id maps agree"
        assert self._best_bid == (self._bid_prices[-1] if self._bid_prices else None)
        assert self._best_ask == (self._ask_prices[0] if self._ask_prices else None)
        if self._best_bid is not None and self._best_ask is not None:
            assert self._best_bid < self._best_ask, "book crossed at rest"
        self._flush_fills()  # representation only: the logical state is unchanged
        lengths = {len(c) for c in self._fills.values()}
        assert len(lengths) == 1, "fill columns have equal length"
        fill_seqs = self._fills["seq"]
        assert list(fill_seqs) == sorted(fill_seqs)
        assert not fill_seqs or fill_seqs[-1] <= self._last_seq
        assert all(q > 0 for q in self._fills["qty_lots"])
        assert self._user_ids == {u: i for i, u in enumerate(self._users)}

    # -- display and pandas views ----------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"OrderBook({self._symbol!r}, last_seq={self._last_seq}, orders={len(self._orders)}, "
            f"bid={self._best_bid}, ask={self._best_ask}, fills={self.fill_count()})"
        )

    def _repr_html_(self) -> str:
        from clobkit.views.book_frames import ladder_html

        return ladder_html(self)

    def fills_df(self, user: str | None = None) -> pd.DataFrame:
        """Fills as a DataFrame: one row per fill, oldest first. O(fills).

        Columns (``fill_id``, ``seq``, ``price``, ``qty``, ``taker_user``,
        ``maker_user``, ``aggressor_side``...) and dtypes are
        :data:`clobkit.views.book_frames.FILL_COLUMNS`; ``price``/``qty`` are in
        units, ``price_ticks``/``qty_lots`` in ticks and lots.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price="1.50", qty=2)
        >>> _ = book.place("b", "buy", price="1.50", qty=2)
        >>> book.fills_df()[["price", "qty", "maker_user", "taker_user"]].values.tolist()
        [[1.5, 2.0, 'a', 'b']]
        """
        from clobkit.views.book_frames import fills_df

        return fills_df(self, user)

    def live_orders_df(self, user: str | None = None) -> pd.DataFrame:
        """Live orders as a DataFrame, in price-time order (bids first). O(orders).

        Columns (``order_id``, ``user``, ``side``, ``price``, ``qty``...) and
        dtypes are :data:`clobkit.views.book_frames.LIVE_ORDER_COLUMNS`.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price=2, qty=1); _ = book.place("b", "buy", price=1, qty=3)
        >>> book.live_orders_df()[["user", "side", "price", "qty"]].values.tolist()
        [['b', 'buy', 1.0, 3.0], ['a', 'sell', 2.0, 1.0]]
        """
        from clobkit.views.book_frames import live_orders_df

        return live_orders_df(self, user)

    def depth_df(self, levels: int = 10) -> pd.DataFrame:
        """Depth as a DataFrame: ``levels`` rows per side, best first. O(levels).

        Columns (``side``, ``level``, ``price``, ``qty``, ``order_count``...)
        and dtypes are :data:`clobkit.views.book_frames.DEPTH_COLUMNS`; ``level`` is
        0 at each side's best price.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "buy", price=1, qty=2); _ = book.place("b", "sell", price=2, qty=3)
        >>> book.depth_df()[["side", "level", "price", "qty"]].values.tolist()
        [['buy', 0, 1.0, 2.0], ['sell', 0, 2.0, 3.0]]
        """
        from clobkit.views.book_frames import depth_df

        return depth_df(self, levels)


_ORDER_COLUMNS = (
    "order_id",
    "user_id",
    "side",
    "price",
    "qty",
    "filled",
    "original",
    "seq",
    "ts_us",
)


def _write_spec(w: Writer, spec: MarketSpec) -> None:
    w.text(spec.symbol)
    w.text(str(spec.tick))
    w.text(str(spec.lot))
    w.text("" if spec.min_price is None else str(spec.min_price))
    w.text("" if spec.max_price is None else str(spec.max_price))


def _read_spec(r: Reader) -> MarketSpec:
    symbol, tick, lot, low, high = r.text(), r.text(), r.text(), r.text(), r.text()
    try:
        return MarketSpec(symbol, tick=tick, lot=lot, min_price=low or None, max_price=high or None)
    except InvalidArgument as exc:
        raise InvalidArgument(f"malformed data: bad market spec ({exc})") from None
