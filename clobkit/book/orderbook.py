"""The order book: a deterministic state machine matching orders in price-time priority.

Every replica applies the same commands in the same order through :meth:`OrderBook.apply`,
the only mutator, and reaches byte-identical state (compare :meth:`OrderBook.digest`). The
book is pure: no clock (time arrives as ``ts_us``), no randomness, no I/O.

This module holds the state machine's rules: which command is accepted, in what order the
rules are checked, what a result says. The parts live beside it, one job each:

* :mod:`clobkit.book.side`: a book side, its price levels (FIFO queues with lazy deletion)
  and the resting orders;
* :mod:`clobkit.book.matching`: a taker trading against the opposite side (the general path,
  the fast path for a limit taker without self-trade prevention, the FOK pre-check);
* :mod:`clobkit.book.fill_log`: the column-wise fill tape and its user table;
* :mod:`clobkit.book.client_ids`: the client order ids of live orders;
* :mod:`clobkit.book.snapshot`: the snapshot codec (and so the digest);
* :mod:`clobkit.book.results`: the result types and the named builders that make them;
* :mod:`clobkit.book.frames`: the pandas and HTML views (imported lazily).

``order_id -> resting order`` is a ``dict``, so a cancel finds its order in O(1).

Hot paths: ``apply`` handles a passive GTC limit order and a good cancel inline and sends a
crossing GTC limit order without self-trade prevention to :func:`~clobkit.book.matching.cross`;
every other case goes through the general methods. The convenience calls people make most,
``place(user, side, price=..., qty=...)`` and ``cancel(user, order_id)`` with every keyword
at its default, are validated once and go straight to ``_limit_gtc`` / ``_cancel_id`` (the
same steps as ``apply``'s inline paths, without building a command). All routes give the
same results, errors, fills and state (``tests/book/test_book_fast_paths.py``);
``benchmarks/bench_book.py`` measures them.

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
from typing import TYPE_CHECKING

from clobkit.book import matching, snapshot
from clobkit.book.client_ids import ClientIds
from clobkit.book.commands import (
    _COMPACT,
    MAX_ORDER_ID,
    STP_MODES,
    Cancel,
    Command,
    Modify,
    Place,
)
from clobkit.book.fill_log import FillLog
from clobkit.book.matching import cross
from clobkit.book.names import is_valid_user, valid_users
from clobkit.book.results import (
    ApplyResult,
    CancelledResult,
    Fill,
    Order,
    RestedResult,
    TradedResult,
    cancelled,
    executed,
    register_spec,
    rejected,
)
from clobkit.book.side import BookSide, Resting
from clobkit.book.spec import MAX_UNITS, MarketSpec
from clobkit.errors import InvalidArgument, InvalidType, UnknownOrder

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SNAPSHOT_VERSION", "OrderBook"]

_new = tuple.__new__  # builds a command without its checks (fields known valid)
# apply's call check reads ``type`` and ``int`` as module globals: CPython 3.11 loads a module
# global with one dict-version check and a builtin with two, -38 to -67 instructions per op
# (benchmarks/README.md, "seventh round"). Same objects, so the same test: exactly ``int``.
# (``seq.__class__ is int`` is cheaper still but trusts a class that lies about ``__class__``.)
_type, _int = type, int

# place()'s quick route compares its keywords with their defaults by identity, which also
# proves the type: an equal value of another type or object (a str subclass, a string built
# at run time, 0 for False) takes the general route, which gives the same answer.
_LIMIT, _GTC, _BUY, _SELL = "limit", "gtc", "buy", "sell"

#: Version byte of :meth:`OrderBook.snapshot` (see :mod:`clobkit.book.snapshot`).
SNAPSHOT_VERSION = snapshot.SNAPSHOT_VERSION


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
        register_spec(spec)  # reprs of this market's fills write prices in its units
        self._stp_default = stp_default
        # Explicit (or displaced auto) order ids above last_seq: see "Two kinds of ids" above.
        self._reserved: set[int] = set()
        self._symbol = spec.symbol
        self._min_ticks = spec.min_ticks  # copied: read on every place
        self._max_ticks = spec.max_ticks
        # No band: every price a Place can hold (1..MAX_UNITS, checked when it was built) is
        # in range, so the fast path skips the range test.
        self._unbanded = spec.min_ticks <= 1 and spec.max_ticks >= MAX_UNITS
        self._bids = BookSide(is_buy=True)
        self._asks = BookSide(is_buy=False)
        # side -> (its book side, the side it trades against, is it a buy, its levels):
        # apply's fast path reads all four with one dict look-up instead of a comparison,
        # two choices and an attribute. (A side's ``levels`` dict is never replaced.)
        self._sides = {
            "buy": (self._bids, self._asks, True, self._bids.levels),
            "sell": (self._asks, self._bids, False, self._asks.levels),
        }
        self._orders: dict[int, Resting] = {}
        self._client_ids = ClientIds()
        # order id -> (priority seq, cancelled lots) for the few live orders whose priority
        # seq is not their order id or that had lots cancelled by a modify (see side.Resting).
        self._extras: dict[int, tuple[int, int]] = {}
        self._last_seq = 0
        self._log = FillLog(spec.symbol)
        self._digest_cache: tuple[int, str] | None = None
        # For place()'s quick route: the spec's memo of parsed price strings (the same dict,
        # only ever cleared, never replaced) and whether a lot is 1 (an int qty is its lots).
        self._price_memo = spec._price_memo
        self._unit_lot = spec._lot_num == 1 and spec._lot_den == 1
        # An int price on a tick-1 grid is its own tick count once inside the band.
        self._unit_tick = spec._tick_num == 1 and spec._tick_den == 1

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
        if _type(seq) is not _int or seq <= self._last_seq or _type(ts_us) is not _int or ts_us < 0:
            raise self._bad_call(seq, ts_us)
        # The commonest cases, a passive GTC limit order, a crossing GTC limit order and a good
        # cancel, run on fast paths: inline here (locals instead of repeated attribute
        # lookups) or, for a crossing order without self-trade prevention, in
        # matching.cross. They are most of a replica's traffic (benchmarks/bench_book.py).
        # Commands were validated when they were built (they are immutable), so only the
        # book-state rules are checked here. Every other case, including every rejection and
        # every command with a client order id, goes through the general methods below,
        # which check the rules in the documented order. ``type(command) is X`` narrows the
        # type for mypy without a run-time isinstance call.
        if type(command) is Place:
            # Commands are tuples: one unpack reads every field (cheaper than ten lookups).
            # ``() + command`` is an exact tuple copy made in C: CPython unpacks an exact
            # tuple on a fast path, but a tuple *subclass* through the iterator protocol
            # (benchmarks/README.md, "Issue 13, fifth round"); ``(*command,)`` iterates too.
            market, user, side, price, qty, _, tif, order_id, stp, _, post_only, cid = (
                () + command  # noqa: RUF005
            )
            # The id's freshness first: a used or too low id, or an auto id that an
            # explicit one reserved, goes to _place (which rejects or picks a free id).
            # Nearly always no id is reserved: a set's truth test is cheaper than a lookup.
            if order_id is None:
                order_id = seq  # the auto id
                if self._reserved and seq in self._reserved:
                    return self._place(command, seq, ts_us)
            elif order_id <= self._last_seq or order_id in self._reserved:
                return self._place(command, seq, ts_us)
            # Anything else goes to _place. (Written as an early return: each compare is then
            # followed by a short jump, which CPython 3.11 needs to specialise it; a jump over
            # the whole fast path takes an EXTENDED_ARG and leaves the compare generic.)
            if (
                price is None
                or tif != "gtc"
                or cid is not None
                or market != self._symbol
                or not (self._unbanded or self._min_ticks <= price <= self._max_ticks)
            ):
                return self._place(command, seq, ts_us)
            # One look-up gives the order's side, the side it would trade against, the
            # direction and the order's side's levels (a valid side is "buy" or "sell",
            # or a str equal to one).
            own, opposite, is_buy, own_levels = self._sides[side]
            best = opposite.best
            if best is None or (price < best if is_buy else price > best):
                # Passive: it rests whole (_rest and BookSide.rest inlined).
                level = own_levels.get(price)
                if level is None:
                    level = own.new_level(price)
                order = Resting()
                order.order_id = order_id
                order.user = user
                order.level = level
                order.qty = qty
                order.original = qty
                order.ts_us = ts_us
                level.orders.append(order)
                level.qty += qty
                self._orders[order_id] = order
                if order_id != seq:
                    self._reserved.add(order_id)
                    self._extras[order_id] = (seq, 0)
                self._last_seq = seq
                # The outcome "rested whole" stores four fields (results.RestedResult).
                r = RestedResult()
                r.seq = seq
                r.ts_us = ts_us
                r.order_id = order_id
                r.resting_qty = qty
                return r
            if not post_only:
                # It crosses, and every rejection rule is checked: go match.
                if order_id != seq:
                    self._reserved.add(order_id)
                if stp is None:
                    stp = self._stp_default
                if stp != "none":
                    return self._execute(command, order_id, is_buy, price, stp, seq, ts_us)
                # _cross inlined (one Python frame less per taker): match, then the
                # result (results.TradedResult); its fills are the log rows first..end - 1.
                self._last_seq = seq
                log = self._log
                first = log.count
                remaining = cross(
                    opposite, log, self._orders, self._client_ids, self._extras, is_buy,
                    price, qty, order_id, user, seq, ts_us,
                )  # fmt: skip
                t = TradedResult()
                t.seq = seq
                t.ts_us = ts_us
                t.order_id = order_id
                t._fills = log
                t._fill_ids = (first, log.count)
                if remaining:
                    self._rest(
                        order_id, user, is_buy, price, remaining, qty - remaining, qty, seq,
                        ts_us,
                    )  # fmt: skip
                    t.status = "partially_filled"
                    t.resting_qty = remaining
                else:
                    t.status = "filled"
                    t.resting_qty = 0
                return t
            return self._place(command, seq, ts_us)
        if type(command) is Cancel:
            market, user, order_id, _ = () + command  # noqa: RUF005 (exact tuple: see above)
            if order_id is None:  # named by its client id: the general path
                return self._cancel(command, seq, ts_us)
            resting = self._orders.pop(order_id, None)  # one hash lookup: find and delete
            if resting is None or resting.user != user or market != self._symbol:
                if resting is not None:
                    self._orders[order_id] = resting  # put it back (the index's order is not state)
                return self._cancel(command, seq, ts_us)  # a rejection: let it say which
            if self._client_ids:
                self._client_ids.forget(order_id, resting.user)
            if self._extras:
                self._extras.pop(order_id, None)
            self._last_seq = seq
            qty = resting.qty
            # BookSide.unlink inlined (lazy deletion; see clobkit.book.side). A level whose
            # quantity is 0 has no live order left (live orders have qty > 0): tidy drops it.
            level = resting.level
            level_qty = level.qty - qty
            level.qty = level_qty
            dead = level.dead + 1
            level.dead = dead
            resting.qty = 0
            # (dead > 8 first: 2 * dead > len + 8 needs it, as len >= dead; no len call.)
            if not level_qty or (dead > 8 and 2 * dead > len(level.orders) + 8):
                (self._bids if level.is_buy else self._asks).tidy(level)
            # results.cancelled inlined (results.CancelledResult: four fields stored).
            out = CancelledResult()
            out.seq = seq
            out.ts_us = ts_us
            out.order_id = order_id
            out.cancelled_qty = qty
            return out
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
            return rejected("market_mismatch", seq, ts_us, order_id)
        if cmd.order_id is not None:
            if order_id <= self._last_seq:
                return rejected("order_id_too_low", seq, ts_us, order_id)
            if order_id in reserved:
                return rejected("order_id_used", seq, ts_us, order_id)
        cid = cmd.client_order_id
        if cid is not None and self._client_ids.find(cmd.user, cid) is not None:
            return rejected("duplicate_client_order_id", seq, ts_us, order_id)
        price = cmd.price
        spec = self._spec
        is_buy = cmd.side == "buy"
        opposite = self._asks if is_buy else self._bids
        limit: int | None
        if price is not None:
            if not spec.min_ticks <= price <= spec.max_ticks:
                return rejected("price_out_of_range", seq, ts_us, order_id)
            if cmd.post_only and opposite.crosses(price):
                return rejected("would_take", seq, ts_us, order_id)
            limit = price
        else:
            limit = cmd.protection_price
            if limit is not None and not spec.min_ticks <= limit <= spec.max_ticks:
                return rejected("price_out_of_range", seq, ts_us, order_id)
            if opposite.best is None:
                return rejected("no_liquidity", seq, ts_us, order_id)
        stp = self._stp_default if cmd.stp is None else cmd.stp
        if (
            cmd.tif == "fok"
            and matching.fillable(opposite, is_buy, limit, cmd.user, stp, cmd.qty) < cmd.qty
        ):
            return rejected("fok_unfillable", seq, ts_us, order_id)
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
        log = self._log
        first = log.count
        remaining, taker_stopped, stp_cancelled = matching.match(
            self._asks if is_buy else self._bids,
            log,
            self._orders,
            self._client_ids,
            self._extras,
            is_buy,
            limit,
            cmd.qty,
            order_id,
            cmd.user,
            stp,
            seq,
            ts_us,
        )
        price = cmd.price
        filled = cmd.qty - remaining
        fills = () if first == log.count else log  # the log rows from first: read when asked
        span = (first, log.count)
        if remaining and price is not None and cmd.tif == "gtc" and not taker_stopped:
            self._rest(order_id, cmd.user, is_buy, price, remaining, filled, cmd.qty, seq, ts_us)
            if cmd.client_order_id is not None:
                self._client_ids.remember(cmd.user, cmd.client_order_id, order_id)
            status = "partially_filled" if filled else "resting"
            return executed(seq, ts_us, order_id, status, fills, remaining, 0, stp_cancelled, span)
        status = "cancelled" if remaining else "filled"
        return executed(seq, ts_us, order_id, status, fills, 0, remaining, stp_cancelled, span)

    def _cross(
        self, user: str, qty: int, order_id: int, is_buy: bool, limit: int, seq: int, ts_us: int
    ) -> ApplyResult:
        """Execute an accepted GTC limit order that crosses, without self-trade prevention
        (``apply``'s fast path for takers: :func:`~clobkit.book.matching.cross`)."""
        self._last_seq = seq
        log = self._log
        first = log.count
        remaining = matching.cross(
            self._asks if is_buy else self._bids,
            log,
            self._orders,
            self._client_ids,
            self._extras,
            is_buy,
            limit,
            qty,
            order_id,
            user,
            seq,
            ts_us,
        )
        end = log.count
        assert end > first, "a crossing order trades at least once without self-trade prevention"
        # results.executed inlined (results.TradedResult); the fills are the log rows
        # first..end - 1.
        r = TradedResult()
        r.seq = seq
        r.ts_us = ts_us
        r.order_id = order_id
        r._fills = log
        r._fill_ids = (first, end)
        if remaining:
            self._rest(order_id, user, is_buy, limit, remaining, qty - remaining, qty, seq, ts_us)
            r.status = "partially_filled"
            r.resting_qty = remaining
        else:
            r.status = "filled"
            r.resting_qty = 0
        return r

    def _limit_gtc(self, user: str, side: str, price: int, qty: int) -> ApplyResult:
        """Apply ``Place(market, user, side, price, qty)`` (a plain GTC limit order, every
        field valid, ``price`` inside the spec's band) at the next seq, ``ts_us`` = seq.

        ``place()``'s quick route: the same steps as ``apply``'s inline path for this command
        (kept apart so ``apply``'s own path pays no extra call), with no command built and no
        call checks (the seq is the book's own). Such an order is never rejected: no explicit
        id, no client id, not post-only, not FOK, its price in the band.
        ``tests/book/test_book_fast_paths.py`` proves it equal to the general route.
        """
        seq = self._last_seq + 1
        reserved = self._reserved
        order_id = seq if seq not in reserved else self._free_id(seq)
        is_buy = side == "buy"
        opposite = self._asks if is_buy else self._bids
        best = opposite.best
        # The crossing case first: its block is short, so each compare here is followed by a
        # short jump, which CPython 3.11 needs to specialise it (see apply).
        if best is not None and (price >= best if is_buy else price <= best):
            if order_id != seq:
                reserved.add(order_id)
            if self._stp_default == "none":
                return self._cross(user, qty, order_id, is_buy, price, seq, seq)
            fields = (self._symbol, user, side, price, qty, "limit", "gtc")
            command = _new(Place, (*fields, None, None, None, False, None))
            return self._execute(command, order_id, is_buy, price, self._stp_default, seq, seq)
        # Passive: it rests whole (as in apply).
        own = self._bids if is_buy else self._asks
        level = own.levels.get(price)
        if level is None:
            level = own.new_level(price)
        order = Resting()
        order.order_id = order_id
        order.user = user
        order.level = level
        order.qty = qty
        order.original = qty
        order.ts_us = seq
        level.orders.append(order)
        level.qty += qty
        self._orders[order_id] = order
        if order_id != seq:
            reserved.add(order_id)
            self._extras[order_id] = (seq, 0)
        self._last_seq = seq
        r = RestedResult()  # as in apply
        r.seq = seq
        r.ts_us = seq
        r.order_id = order_id
        r.resting_qty = qty
        return r

    def _cancel_id(self, user: str, order_id: int) -> ApplyResult:
        """Apply ``Cancel(market, user, order_id)`` (fields valid) at the next seq, ``ts_us``
        = seq; raise as ``raise_for_reason`` does if it is rejected.

        ``cancel()``'s quick route: the same steps as ``apply``'s inline cancel (kept apart
        so ``apply`` pays no extra call), with no command built and no call checks (the seq
        is the book's own). A rejection goes to the general ``_cancel``, which says which
        rule. ``tests/book/test_book_fast_paths.py`` proves it equal to the general route.
        """
        seq = self._last_seq + 1
        orders = self._orders
        resting = orders.pop(order_id, None)  # one hash lookup for the find and the delete
        if resting is None or resting.user != user:
            if resting is not None:
                orders[order_id] = resting  # put it back (the index's order is not state)
            command = _new(Cancel, (self._symbol, user, order_id, None))
            return self._cancel(command, seq, seq).raise_for_reason()
        if self._client_ids:
            self._client_ids.forget(order_id, user)
        if self._extras:
            self._extras.pop(order_id, None)
        self._last_seq = seq
        qty = resting.qty
        level = resting.level  # BookSide.unlink inlined, as in apply
        level_qty = level.qty - qty
        level.qty = level_qty
        dead = level.dead + 1
        level.dead = dead
        resting.qty = 0
        if not level_qty or (dead > 8 and 2 * dead > len(level.orders) + 8):
            (self._bids if level.is_buy else self._asks).tidy(level)
        r = CancelledResult()  # as in apply
        r.seq = seq
        r.ts_us = seq
        r.order_id = order_id
        r.cancelled_qty = qty
        return r

    def _target(self, cmd: Cancel | Modify, seq: int, ts_us: int) -> Resting | ApplyResult:
        """The live order a cancel/modify names (by order id or client id), or its rejection."""
        order_id = cmd.order_id
        if cmd.market != self._symbol:
            return rejected("market_mismatch", seq, ts_us, order_id)
        cid = cmd.client_order_id
        if cid is not None:
            found = self._client_ids.find(cmd.user, cid)
            if found is None:
                return rejected("unknown_client_order_id", seq, ts_us, None)
            return self._orders[found]
        assert order_id is not None, "a command names its order by one of the two ids"
        order = self._orders.get(order_id)
        if order is None:
            return rejected("unknown_order", seq, ts_us, order_id)
        if order.user != cmd.user:
            return rejected("not_owner", seq, ts_us, order_id)
        return order

    def _cancel(self, cmd: Cancel, seq: int, ts_us: int) -> ApplyResult:
        order = self._target(cmd, seq, ts_us)
        if type(order) is not Resting:
            assert isinstance(order, ApplyResult)
            return order
        self._last_seq = seq
        qty = order.qty
        self._unlink(order)
        return cancelled(seq, ts_us, order.order_id, qty)

    def _modify(self, cmd: Modify, seq: int, ts_us: int) -> ApplyResult:
        order = self._target(cmd, seq, ts_us)
        if type(order) is not Resting:
            assert isinstance(order, ApplyResult)
            return order
        order_id = order.order_id
        price = order.price if cmd.price is None else cmd.price
        if not self._spec.min_ticks <= price <= self._spec.max_ticks:
            return rejected("price_out_of_range", seq, ts_us, order_id)
        qty = order.qty if cmd.qty is None else cmd.qty
        self._last_seq = seq
        if price == order.price and qty <= order.qty:
            # A reduction keeps time priority: change the order where it stands.
            reduced = order.qty - qty
            order.qty = qty
            order.level.qty -= reduced
            if reduced:
                seq_before, cancelled_before = self._extras.get(order_id, (order_id, 0))
                self._extras[order_id] = (seq_before, cancelled_before + reduced)
            return executed(seq, ts_us, order_id, "modified", (), qty, reduced)
        # Cancel-replace: same id, new priority; the replacement may trade first.
        reduced = max(0, order.qty - qty)
        original = order.original + max(0, qty - order.qty)
        filled_before = self._filled(order)
        user, is_buy = order.user, order.level.is_buy
        cid = self._client_ids.get(order_id)  # the replacement keeps the client id
        self._unlink(order)
        log = self._log
        first = log.count
        remaining, taker_stopped, stp_cancelled = matching.match(
            self._asks if is_buy else self._bids,
            log,
            self._orders,
            self._client_ids,
            self._extras,
            is_buy,
            price,
            qty,
            order_id,
            user,
            self._stp_default,
            seq,
            ts_us,
        )
        filled = filled_before + qty - remaining
        resting = 0
        if remaining and not taker_stopped:
            self._rest(order_id, user, is_buy, price, remaining, filled, original, seq, ts_us)
            if cid is not None:
                self._client_ids.remember(user, cid, order_id)
            resting = remaining
        cancelled_qty = reduced + (remaining - resting)
        fills = () if first == log.count else log  # the log rows from first: read when asked
        return executed(
            seq, ts_us, order_id, "modified", fills, resting, cancelled_qty, stp_cancelled,
            (first, log.count),
        )  # fmt: skip

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
        order = Resting()
        order.order_id = order_id
        order.user = user
        order.qty = qty
        order.original = original
        order.ts_us = ts_us
        (self._bids if is_buy else self._asks).rest(order, price)
        self._orders[order_id] = order
        cancelled_qty = original - filled - qty
        if seq != order_id or cancelled_qty:
            self._extras[order_id] = (seq, cancelled_qty)

    def _unlink(self, order: Resting) -> None:
        """Remove a live order from its level, the id index and the client-id index."""
        del self._orders[order.order_id]
        if self._client_ids:
            self._client_ids.forget(order.order_id, order.user)
        self._extras.pop(order.order_id, None)
        (self._bids if order.level.is_buy else self._asks).unlink(order)

    def _seq(self, order: Resting) -> int:
        """The sequence number that gave ``order`` its time priority. O(1)."""
        extra = self._extras.get(order.order_id)
        return order.order_id if extra is None else extra[0]

    def _filled(self, order: Resting) -> int:
        """Lots of ``order`` filled so far (original - open - cancelled). O(1)."""
        extra = self._extras.get(order.order_id)
        return order.original - order.qty - (0 if extra is None else extra[1])

    def _public(self, order: Resting) -> Order:
        """The immutable :class:`~clobkit.book.results.Order` snapshot of a live order."""
        filled = self._filled(order)
        return Order(
            order.order_id,
            order.user,
            "buy" if order.level.is_buy else "sell",
            order.level.price,
            order.qty,
            filled,
            order.original - filled - order.qty,
            order.original,
            self._seq(order),
            order.ts_us,
            self._client_ids.get(order.order_id),
            self._spec,
        )

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
        spec = self._spec
        # The call people make most (a plain GTC limit order, every keyword at its default)
        # is validated once: the expression below admits only fields Place's checks accept
        # (the same rules as its quick check; a side that is an equal str but not the
        # interned constant is admitted too, as Place's full check admits it; the market is
        # the book's own, so it is a valid str), and _limit_gtc applies the order without
        # checking a command again. Price and qty are parsed by the same spec methods, in the same
        # order, so every error is the general path's. Any other call takes the general path
        # below. tests/book/test_book_fast_paths.py proves both give the same results and
        # errors.
        if (
            order_type is _LIMIT
            and tif is _GTC
            and post_only is False
            and order_id is None
            and stp is None
            and protection_price is None
            and client_order_id is None
            and ts_us is None
            and price is not None
            and qty is not None
            and (side is _BUY or side is _SELL or (type(side) is str and side in (_BUY, _SELL)))
            and type(user) is str
            and (user in valid_users or is_valid_user(user))
        ):
            # A memo hit is a string the spec already parsed; an int price on a tick-1 grid
            # inside the band is its own tick count; an int qty on a unit lot is its own lot
            # count once in range. Each gives what the spec's methods would return.
            if type(price) is str:
                ticks = self._price_memo.get(price)
                if ticks is None:
                    ticks = spec.price_to_ticks(price, "price")
            elif (
                type(price) is int
                and self._unit_tick
                and self._min_ticks <= price <= self._max_ticks
            ):
                ticks = price
            else:
                ticks = spec.price_to_ticks(price, "price")
            if not (
                self._unit_lot
                and type(qty) is int
                and qty > 0
                and (qty <= _COMPACT or qty <= MAX_UNITS)  # see commands._COMPACT
            ):
                qty = spec.qty_to_lots(qty, "qty")
            return self._limit_gtc(user, side, ticks, qty)
        if qty is None:
            raise InvalidArgument("qty is required")
        ticks = None if price is None else spec.price_to_ticks(price, "price")
        lots = spec.qty_to_lots(qty, "qty")
        protect = (
            None
            if protection_price is None
            else spec.price_to_ticks(protection_price, "protection_price")
        )
        command = Place(
            self._symbol, user, side, ticks, lots, order_type, tif, order_id, stp, protect,
            post_only, client_order_id,
        )  # fmt: skip
        seq = self._last_seq + 1
        result = self.apply(command, seq, seq if ts_us is None else ts_us)
        return result if result.accepted else result.raise_for_reason()

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
        # The common cancel (by order id, ts_us defaulted) is checked once, by the same
        # expression as Cancel's quick check (the market is the book's own), and applied by
        # _cancel_id without building a command; any other call builds Cancel, which checks
        # and words every error.
        if (
            type(order_id) is int
            and order_id > 0
            and (order_id <= _COMPACT or order_id <= MAX_ORDER_ID)
            and client_order_id is None
            and ts_us is None
            and type(user) is str
            and (user in valid_users or is_valid_user(user))
        ):
            return self._cancel_id(user, order_id)
        command = Cancel(self._symbol, user, order_id, client_order_id)
        seq = self._last_seq + 1
        result = self.apply(command, seq, seq if ts_us is None else ts_us)
        return result if result.accepted else result.raise_for_reason()

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
        return self._bids.best

    def best_ask(self) -> int | None:
        """Best (lowest) ask price in ticks, or ``None``. O(1).

        >>> book = OrderBook(MarketSpec("ACME", tick="0.01"))
        >>> _ = book.place("a", "sell", price="1.05", qty=1)
        >>> _ = book.place("b", "sell", price="1.03", qty=1)
        >>> book.best_ask(), book.spec.ticks_to_price(book.best_ask())
        (103, Decimal('1.03'))
        """
        return self._asks.best

    def spread(self) -> int | None:
        """``best_ask - best_bid`` in ticks, or ``None`` if a side is empty. O(1).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "buy", price="1.00", qty=1)
        >>> _ = book.place("b", "sell", price="1.03", qty=1)
        >>> book.spread()
        3
        """
        bid, ask = self._bids.best, self._asks.best
        if bid is None or ask is None:
            return None
        return ask - bid

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
        return self._public(order)

    def live_orders(self, user: str | None = None) -> list[Order]:
        """Live orders in price-time order, bids (best first) then asks. O(orders).

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price=2, qty=1); _ = book.place("b", "buy", price=1, qty=1)
        >>> [(o.user, o.side) for o in book.live_orders()]
        [('b', 'buy'), ('a', 'sell')]
        """
        result = []
        for side in (self._bids, self._asks):
            for level in side.best_first():
                for order in level.live():
                    if user is None or order.user == user:
                        result.append(self._public(order))
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
        for key, side in (("bids", self._bids), ("asks", self._asks)):
            rows: list[tuple[int, int, int]] = []
            for level in side.best_first():
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
        return self._log.fills(user, since_seq)

    def fill_count(self) -> int:
        """Number of fills so far. O(1)."""
        return self._log.count

    def fill_columns(self) -> dict[str, array[int]]:
        """Copies of the fill columns (``array``), keyed by name. O(fills), memcpy speed.

        Keys: ``seq``, ``ts_us``, ``price_ticks``, ``qty_lots``, ``taker_order_id``,
        ``maker_order_id``, ``taker_user_id``, ``maker_user_id`` (indexes into
        :meth:`fill_users`), ``aggressor_side`` (0 buy, 1 sell). Row ``i`` is fill id ``i``.

        >>> sorted(OrderBook(MarketSpec("ACME")).fill_columns())[:3]
        ['aggressor_side', 'maker_order_id', 'maker_user_id']
        """
        return {name: array(col.typecode, col) for name, col in self._log.columns().items()}

    def fill_users(self) -> tuple[str, ...]:
        """The user table the ``*_user_id`` fill columns index into. O(users)."""
        return self._log.users()

    # -- snapshots and digests ---------------------------------------------------------

    def snapshot(self) -> bytes:
        """Everything about the book as compact, deterministic, versioned bytes. O(state).

        The layout is in :mod:`clobkit.book.snapshot`. Equal states give equal bytes, and
        taking a snapshot changes nothing.

        >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price=1, qty=1)
        >>> OrderBook.restore(book.snapshot()).snapshot() == book.snapshot()
        True
        """
        return snapshot.encode(self)

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
        return snapshot.decode(data, cls)

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
        owners: dict[int, str] = {}
        for side in (self._bids, self._asks):
            side._check()
            for level in side.levels.values():
                seqs = [self._seq(o) for o in level.live()]
                assert seqs == sorted(seqs), f"FIFO by arrival broken at {level.price}"
                for o in level.live():
                    assert self._orders.get(o.order_id) is o, "index matches levels"
                    assert o.order_id not in owners
                    owners[o.order_id] = o.user
                    filled = self._filled(o)
                    assert o.qty > 0 and filled >= 0
                    assert filled + o.qty <= o.original, "quantity conserved"
                    assert self._seq(o) <= self._last_seq
                    assert o.order_id <= self._last_seq or o.order_id in self._reserved, (
                        "an order id above last_seq is reserved, so it is never handed out again"
                    )
        assert set(owners) == set(self._orders), "index holds exactly the live orders"
        assert self._extras.keys() <= owners.keys(), "extras only for live orders"
        for order_id, (seq, cancelled_qty) in self._extras.items():
            assert seq != order_id or cancelled_qty > 0, "extras only where they differ"
        self._client_ids._check(owners)
        bid, ask = self._bids.best, self._asks.best
        if bid is not None and ask is not None:
            assert bid < ask, "book crossed at rest"
        self._log._check(self._last_seq)  # flushes: representation only, state unchanged

    # -- display and pandas views ----------------------------------------------------------

    def __repr__(self) -> str:
        fmt = self._spec.format_price
        bid, ask = self._bids.best, self._asks.best
        return (
            f"OrderBook({self._symbol!r}, last_seq={self._last_seq}, orders={len(self._orders)}, "
            f"bid={None if bid is None else fmt(bid)}, ask={None if ask is None else fmt(ask)}, "
            f"fills={self.fill_count()})"
        )

    def _repr_html_(self) -> str:
        from clobkit.book.frames import ladder_html

        return ladder_html(self)

    def fills_df(self, user: str | None = None) -> pd.DataFrame:
        """Fills as a DataFrame: one row per fill, oldest first. O(fills).

        Columns (``fill_id``, ``seq``, ``price``, ``qty``, ``taker_user``,
        ``maker_user``, ``aggressor_side``...) and dtypes are
        :data:`clobkit.book.frames.FILL_COLUMNS`; ``price``/``qty`` are in
        units, ``price_ticks``/``qty_lots`` in ticks and lots.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price="1.50", qty=2)
        >>> _ = book.place("b", "buy", price="1.50", qty=2)
        >>> book.fills_df()[["price", "qty", "maker_user", "taker_user"]].values.tolist()
        [[1.5, 2, 'a', 'b']]
        """
        from clobkit.book.frames import fills_df

        return fills_df(self, user)

    def live_orders_df(self, user: str | None = None) -> pd.DataFrame:
        """Live orders as a DataFrame, in price-time order (bids first). O(orders).

        Columns (``order_id``, ``user``, ``side``, ``price``, ``qty``...) and
        dtypes are :data:`clobkit.book.frames.LIVE_ORDER_COLUMNS`.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "sell", price=2, qty=1); _ = book.place("b", "buy", price=1, qty=3)
        >>> book.live_orders_df()[["user", "side", "price", "qty"]].values.tolist()
        [['b', 'buy', 1.0, 3], ['a', 'sell', 2.0, 1]]
        """
        from clobkit.book.frames import live_orders_df

        return live_orders_df(self, user)

    def depth_df(self, levels: int = 10) -> pd.DataFrame:
        """Depth as a DataFrame: ``levels`` rows per side, best first. O(levels).

        Columns (``side``, ``level``, ``price``, ``qty``, ``order_count``...)
        and dtypes are :data:`clobkit.book.frames.DEPTH_COLUMNS`; ``level`` is
        0 at each side's best price.

        >>> book = OrderBook(MarketSpec("ACME"))
        >>> _ = book.place("a", "buy", price=1, qty=2); _ = book.place("b", "sell", price=2, qty=3)
        >>> book.depth_df()[["side", "level", "price", "qty"]].values.tolist()
        [['buy', 0, 1.0, 2], ['sell', 0, 2.0, 3]]
        """
        from clobkit.book.frames import depth_df

        return depth_df(self, levels)
