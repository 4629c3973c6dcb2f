"""What applying a command produces: :class:`ApplyResult`, :class:`Fill` and :class:`Order`.

:class:`ApplyResult` is made for every command, so it is cheap to make: a ``__slots__``
object filled in by the book's named builders, whose ``fills`` are built from the book's
fill log only when read (a command that traded keeps the log and the span of fill ids it
added). It reads like a named tuple: fields by name, unpacking, equality and hashing in
:attr:`ApplyResult._fields` order. :class:`Fill` is a named tuple (immutable and compact).
:class:`Order` is a frozen dataclass snapshot of one live order, built on demand by
queries, so callers can never reach into the book's mutable internals.

A rejected command yields ``ApplyResult(accepted=False, reason=<code>)`` with ``reason`` one
of :data:`REJECT_REASONS`; :meth:`ApplyResult.raise_for_reason` turns it into the matching
:mod:`clobkit.errors` exception.

People read prices, not ticks: the fields hold ticks and lots (exact, what the book
computes with), but ``repr`` and ``_repr_html_`` write prices as the market's spec does
(``100.50``) and quantities as whole lots. An :class:`Order` carries its book's spec; a
:class:`Fill` or :class:`ApplyResult` finds it by market symbol among the specs of the books
created in this process (:func:`register_spec`), and where that is not unique (two books of
one symbol on different grids) it says ``ticks`` rather than guess.

>>> r = ApplyResult(False, "unknown_order", 3, 3, 9, "rejected", (), 0, 0)
>>> r.raise_for_reason()
Traceback (most recent call last):
...
clobkit.errors.UnknownOrder: unknown_order: no live order has this order id (order_id=9, seq=3)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from clobkit.book.spec import MarketSpec
from clobkit.errors import DuplicateOrderId, NoLiquidity, NotOwner, OrderRejected, UnknownOrder

if TYPE_CHECKING:
    from clobkit.book.fill_log import FillLog

__all__ = ["REJECT_REASONS", "STATUSES", "ApplyResult", "Fill", "Order", "register_spec"]

# Market symbol -> its spec, or None once two different specs used the symbol (display only).
_SPECS: dict[str, MarketSpec | None] = {}


def register_spec(spec: MarketSpec) -> None:
    """Let reprs of this market's fills and results write prices in its units. O(1).

    ``OrderBook`` calls it; a symbol seen with two different grids shows ticks instead.

    >>> register_spec(MarketSpec("DOCS", tick="0.01"))
    >>> Fill(0, 2, 2, "DOCS", 10050, 3, 2, 1, "bob", "alice", "buy")
    Fill(#0 DOCS: bob buys 3 @ 100.50 from alice, seq=2)
    """
    known = _SPECS.get(spec.symbol, spec)
    _SPECS[spec.symbol] = spec if known == spec else None


def _price(market: str, ticks: int, spec: MarketSpec | None = None) -> str:
    spec = spec if spec is not None else _SPECS.get(market)
    return spec.format_price(ticks) if spec is not None else f"{ticks} ticks"


def _table(rows: list[tuple[str, str]], caption: str) -> str:
    """A small escaped two-column HTML table (the notebook display of a result)."""
    esc = html.escape
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f"<table><caption>{esc(caption)}</caption>{body}</table>"


#: Every code a rejected command can carry, with what it means. A rejected command changes
#: nothing: no state, no sequence number, no fills, same digest.
REJECT_REASONS: dict[str, str] = {
    "market_mismatch": "the command names another market than this book",
    "unknown_market": "no book for the command's market (Exchange only)",
    "order_id_used": "an earlier order already used this order id (order ids are never reused)",
    "order_id_too_low": (
        "an explicit order id must be greater than the book's last sequence number "
        "(the book assigns the ids up to it)"
    ),
    "duplicate_client_order_id": "this user already has a live order with this client order id",
    "unknown_order": "no live order has this order id",
    "unknown_client_order_id": "this user has no live order with this client order id",
    "not_owner": "the order belongs to another user",
    "price_out_of_range": "a price is outside the market's [min_price, max_price] band",
    "no_liquidity": "a market order arrived while the opposite side was empty",
    "would_take": "a post-only order would have traded on arrival",
    "fok_unfillable": "a fill-or-kill order cannot be filled in full right now",
}

#: Every ``ApplyResult.status`` value.
STATUSES = ("resting", "filled", "partially_filled", "cancelled", "modified", "rejected")

_ERRORS: dict[str, type[OrderRejected]] = {
    "order_id_used": DuplicateOrderId,
    "duplicate_client_order_id": DuplicateOrderId,
    "unknown_order": UnknownOrder,
    "unknown_client_order_id": UnknownOrder,
    "not_owner": NotOwner,
    "no_liquidity": NoLiquidity,
}


class Fill(NamedTuple):
    """One trade between an incoming (taker) order and a resting (maker) order.

    ``price`` is in ticks (always the maker's price), ``qty`` in lots; ``fill_id`` numbers
    the book's fills from 0.

    >>> Fill(0, 5, 5, "ACME", 10050, 3, 5, 1, "bob", "alice", "buy").price
    10050
    """

    fill_id: int
    seq: int
    ts_us: int
    market: str
    price: int
    qty: int
    taker_order_id: int
    maker_order_id: int
    taker_user: str
    maker_user: str
    aggressor_side: str

    def __repr__(self) -> str:
        verb, link = ("buys", "from") if self.aggressor_side == "buy" else ("sells", "to")
        return (
            f"Fill(#{self.fill_id} {self.market}: {self.taker_user} {verb} {self.qty} @ "
            f"{_price(self.market, self.price)} {link} {self.maker_user}, seq={self.seq})"
        )

    def _repr_html_(self) -> str:
        return _table(
            [
                ("price", _price(self.market, self.price)),
                ("qty (lots)", str(self.qty)),
                ("taker", f"{self.taker_user} #{self.taker_order_id} ({self.aggressor_side})"),
                ("maker", f"{self.maker_user} #{self.maker_order_id}"),
                ("seq", str(self.seq)),
            ],
            f"fill #{self.fill_id} {self.market}",
        )


class ApplyResult:
    """The outcome of one command: accepted or not, fills, what rests and what was cancelled.

    ``status`` is one of :data:`STATUSES`: a place ends ``resting`` (no fills, rests),
    ``partially_filled`` (fills, remainder rests), ``filled``, or ``cancelled`` (the
    remainder was cancelled: IOC, market, protection price, self-trade prevention); a cancel
    ends ``cancelled``; an accepted modify ends ``modified``; a rejection ``rejected``.
    ``resting_qty`` is what the order has resting afterwards and ``cancelled_qty`` what this
    command cancelled, both in lots. ``stp_cancelled`` lists the ids of resting orders that
    self-trade prevention cancelled while this command executed.

    It reads like the named tuple it used to be: the ten fields in :attr:`_fields` order are
    attributes, iterate and unpack in that order, and compare equal (and hash alike) to
    another result or a tuple with the same values. Treat it as read-only.

    Cheap to make, because the book makes one per command: a ``__slots__`` object (about
    half the cost of a tuple subclass) whose :attr:`fills` are built only when read. A
    command that traded keeps just its book's fill log and the span of fill ids it added
    (the log only ever appends, so those rows never change) and turns them into
    :class:`Fill` tuples on the first read of ``fills`` (or of anything that reads them:
    iteration, equality, ``repr``), keeping them after that. Every other field is a plain
    attribute.

    ``ApplyResult`` itself stores only the three fields every result varies in (``seq``,
    ``ts_us``, ``order_id``); calling it makes a :class:`GeneralResult`, its subclass that
    stores the other eight, and the book's common outcomes are subclasses that store only
    what they vary in (see "the common outcomes" below). So ``isinstance(r,
    ApplyResult)`` holds for every result, while ``type(r)`` is one of
    :data:`RESULT_TYPES`.

    >>> r = ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0)
    >>> r.accepted, r.status, r.fills
    (True, 'resting', ())
    >>> accepted, reason, seq, ts_us, order_id, status, fills, resting, cancelled, stp = r
    >>> r == (True, None, 1, 1, 1, "resting", (), 10, 0, ())
    True
    """

    # Only what every result varies in: each subclass adds the slots it sets (see the
    # outcomes below), so no result allocates, zeroes and clears slots it never uses.
    __slots__ = ("order_id", "seq", "ts_us")

    #: The fields, in the order iteration, unpacking and equality use.
    _fields = (
        "accepted",
        "reason",
        "seq",
        "ts_us",
        "order_id",
        "status",
        "fills",
        "resting_qty",
        "cancelled_qty",
        "stp_cancelled",
    )
    __match_args__ = _fields

    accepted: bool
    reason: str | None
    seq: int
    ts_us: int
    order_id: int | None
    status: str
    # A tuple of Fill, or (until first read) the FillLog holding them, with _fill_ids the
    # (first, end) fill ids this command added.
    _fills: tuple[Fill, ...] | FillLog
    _fill_ids: tuple[int, int]
    resting_qty: int
    cancelled_qty: int
    stp_cancelled: tuple[int, ...]

    if TYPE_CHECKING:
        # At run time ApplyResult(...) is _new_result below (it makes a GeneralResult).
        def __init__(
            self,
            accepted: bool,
            reason: str | None,
            seq: int,
            ts_us: int,
            order_id: int | None,
            status: str,
            fills: Iterable[Fill],
            resting_qty: int,
            cancelled_qty: int,
            stp_cancelled: Iterable[int] = (),
        ) -> None: ...

    @property
    def fills(self) -> tuple[Fill, ...]:
        """The fills this command made, oldest first (built from the fill log on first read).

        >>> ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0).fills
        ()
        """
        fills = self._fills
        if isinstance(fills, tuple):
            return fills
        # (_fills is a slot of the classes whose _fills can be a log: TradedResult and
        # GeneralResult; mypy sees ApplyResult's three.)
        built = self._fills = fills.rows(*self._fill_ids)  # type: ignore[misc]
        return built

    def _astuple(self) -> tuple[Any, ...]:
        return (
            self.accepted, self.reason, self.seq, self.ts_us, self.order_id, self.status,
            self.fills, self.resting_qty, self.cancelled_qty, self.stp_cancelled,
        )  # fmt: skip

    def __iter__(self) -> Iterator[Any]:
        # The codec unpacks every result it encodes: one call, not two (_astuple inlined).
        return iter(
            (
                self.accepted,
                self.reason,
                self.seq,
                self.ts_us,
                self.order_id,
                self.status,
                self.fills,
                self.resting_qty,
                self.cancelled_qty,
                self.stp_cancelled,
            )
        )

    def _replace(self, **changes: Any) -> ApplyResult:
        """A copy with some fields changed, as a named tuple's ``_replace``.

        >>> ApplyResult(False, "unknown_order", 1, 1, None, None, (), 0, 0)._replace(seq=2).seq
        2
        """
        unknown = sorted(set(changes) - set(self._fields))
        if unknown:
            raise ValueError(f"ApplyResult has no field(s) {unknown}")
        values = dict(zip(self._fields, self._astuple(), strict=True))
        values.update(changes)
        return ApplyResult(*values.values())

    def _asdict(self) -> dict[str, Any]:
        """The ten fields by name, as a named tuple's ``_asdict``.

        >>> ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0)._asdict()["status"]
        'resting'
        """
        return dict(zip(self._fields, self._astuple(), strict=True))

    def __len__(self) -> int:
        return 10

    def __getitem__(self, index: int) -> Any:
        return self._astuple()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ApplyResult):
            return self._astuple() == other._astuple()
        if isinstance(other, tuple):
            return self._astuple() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __reduce__(self) -> tuple[type[ApplyResult], tuple[Any, ...]]:
        return ApplyResult, self._astuple()

    def __repr__(self) -> str:
        if not self.accepted:
            return f"ApplyResult(rejected {self.reason}: order_id={self.order_id}, seq={self.seq})"
        fills = ", ".join(f"{f.qty} @ {_price(f.market, f.price)}" for f in self.fills)
        text = (
            f"ApplyResult({self.status}: order_id={self.order_id}, seq={self.seq}, "
            f"resting={self.resting_qty}, cancelled={self.cancelled_qty}, fills=[{fills}]"
        )
        if self.stp_cancelled:
            text += f", stp_cancelled={list(self.stp_cancelled)}"
        return text + ")"

    def _repr_html_(self) -> str:
        rows = [("status", self.status if self.accepted else f"rejected: {self.reason}")]
        rows += [("order_id", str(self.order_id)), ("seq", str(self.seq))]
        if self.accepted:
            rows += [
                ("resting (lots)", str(self.resting_qty)),
                ("cancelled (lots)", str(self.cancelled_qty)),
            ]
            rows += [
                (f"fill #{f.fill_id}", f"{f.qty} @ {_price(f.market, f.price)} with {f.maker_user}")
                for f in self.fills
            ]
        return _table(rows, "apply result")

    def raise_for_reason(self) -> ApplyResult:
        """Return ``self`` if accepted, else raise the matching :mod:`clobkit.errors` error.

        ``order_id_used`` and ``duplicate_client_order_id`` -> ``DuplicateOrderId``,
        ``unknown_order`` and ``unknown_client_order_id`` -> ``UnknownOrder``, ``not_owner``
        -> ``NotOwner``, ``no_liquidity`` -> ``NoLiquidity``; every other code ->
        ``OrderRejected`` with ``.reason`` set.

        >>> ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0).raise_for_reason().status
        'resting'
        """
        if self.accepted:
            return self
        reason = self.reason or "rejected"
        where = f"seq={self.seq}"
        if self.order_id is not None:
            where = f"order_id={self.order_id}, {where}"
        message = f"{reason}: {REJECT_REASONS.get(reason, 'rejected')} ({where})"
        raise _ERRORS.get(reason, OrderRejected)(message, reason)


@dataclass(frozen=True, slots=True)
class Order:
    """A snapshot of one live order (prices in ticks, quantities in lots).

    ``qty`` is the open (resting) quantity; ``original_qty = filled_qty + qty +
    cancelled_qty`` always holds. ``seq``/``ts_us`` are when the order got its current time
    priority (its placement, or its last priority-losing modify). ``client_order_id`` is
    the client's own id for the order, if it gave one.

    ``spec`` (not part of equality) is the book's market spec, so the repr writes the price
    as people read it; without one it says ``ticks``.

    >>> Order(1, "alice", "buy", 10050, 10, 0, 0, 10, 1, 1, spec=MarketSpec("ACME"))
    Order(#1 alice buy 10 @ 100.50, filled=0, cancelled=0, seq=1)
    """

    order_id: int
    user: str
    side: str
    price: int
    qty: int
    filled_qty: int
    cancelled_qty: int
    original_qty: int
    seq: int
    ts_us: int
    client_order_id: str | None = None
    spec: MarketSpec | None = field(default=None, compare=False, repr=False)

    def __repr__(self) -> str:
        price = self.spec.format_price(self.price) if self.spec else f"{self.price} ticks"
        cid = "" if self.client_order_id is None else f" ({self.client_order_id})"
        return (
            f"Order(#{self.order_id}{cid} {self.user} {self.side} {self.qty} @ {price}, "
            f"filled={self.filled_qty}, cancelled={self.cancelled_qty}, seq={self.seq})"
        )

    def _repr_html_(self) -> str:
        price = self.spec.format_price(self.price) if self.spec else f"{self.price} ticks"
        return _table(
            [
                ("user", self.user),
                ("side", self.side),
                ("price", price),
                ("open (lots)", str(self.qty)),
                ("filled (lots)", str(self.filled_qty)),
                ("cancelled (lots)", str(self.cancelled_qty)),
                ("client id", str(self.client_order_id)),
            ],
            f"order #{self.order_id}",
        )


# -- the common outcomes: a result that stores only what varies ----------------------------------
# The book makes a result for every command, and most are one of three outcomes whose other
# fields never change: an order that rested whole, a cancel, a limit order that traded
# without self-trade prevention. Each outcome is a subclass holding those fields as class
# attributes (a subclass may shadow a slot of its base with a class attribute; the class that
# declares the slot may not), so the book stores four to six slots instead of ten, and builds
# it with ``Outcome()``: no ``__init__`` runs (it is ``object.__init__``), which also skips
# the argument handling of ``object.__new__``. Measured with valgrind (make, fill, free):
# 1,117 instructions instead of 1,748 (``benchmarks/README.md``). Such a result is an
# ``ApplyResult`` in every way a caller sees (fields, equality, hashing, ``repr``, the codec's
# bytes); it pickles, copies and ``_replace``\s to a plain result, a :class:`GeneralResult`
# (``tests/book/test_book_results.py``).
#
# Each outcome declares exactly the slots it sets, on top of ``ApplyResult``'s three (a
# subclass inherits every slot of its base, and CPython allocates, zeroes, traverses and
# clears them all on every result), so ``ApplyResult`` holds no slot an outcome answers
# from its class. Each also names ``__new__ = object.__new__`` in its own class body while
# ``ApplyResult`` has no ``__new__`` yet: CPython then gives it ``object``'s allocator
# directly, and setting ``ApplyResult.__new__`` afterwards (below) leaves it alone (a
# class that defines the name itself is skipped when a base's slot changes). Without that,
# ``Outcome()`` would go through ``ApplyResult.__new__``. Measured (benchmarks/README.md,
# "Issue 13, sixth round"): -91 instructions per result made, filled and freed.


class RestedResult(ApplyResult):
    """A place that rested whole; the book sets ``seq``, ``ts_us``, ``order_id``,
    ``resting_qty``.

    >>> r = RestedResult(); r.seq, r.ts_us, r.order_id, r.resting_qty = 1, 1, 1, 5
    >>> r == ApplyResult(True, None, 1, 1, 1, "resting", (), 5, 0)
    True
    """

    __slots__ = ("resting_qty",)
    if TYPE_CHECKING:

        def __init__(self) -> None: ...

    else:
        __new__ = object.__new__  # object's allocator, kept (see above)
        __init__ = object.__init__  # made empty (no argument handling), filled by the book
    accepted = True
    reason = None
    status = "resting"
    _fills = ()
    cancelled_qty = 0
    stp_cancelled = ()


class CancelledResult(ApplyResult):
    """A good cancel; the book sets ``seq``, ``ts_us``, ``order_id``, ``cancelled_qty``.

    >>> r = CancelledResult(); r.seq, r.ts_us, r.order_id, r.cancelled_qty = 2, 2, 1, 5
    >>> r == ApplyResult(True, None, 2, 2, 1, "cancelled", (), 0, 5)
    True
    """

    __slots__ = ("cancelled_qty",)
    if TYPE_CHECKING:

        def __init__(self) -> None: ...

    else:
        __new__ = object.__new__  # object's allocator, kept (see above)
        __init__ = object.__init__
    accepted = True
    reason = None
    status = "cancelled"
    _fills = ()
    resting_qty = 0
    stp_cancelled = ()


class TradedResult(ApplyResult):
    """A limit order that traded without self-trade prevention; the book sets ``seq``,
    ``ts_us``, ``order_id``, ``status``, ``resting_qty`` and the fill log span (``_fills``,
    ``_fill_ids``)."""

    __slots__ = ("_fill_ids", "_fills", "resting_qty", "status")
    if TYPE_CHECKING:

        def __init__(self) -> None: ...

    else:
        __new__ = object.__new__  # object's allocator, kept (see above)
        __init__ = object.__init__
    accepted = True
    reason = None
    cancelled_qty = 0
    stp_cancelled = ()


class GeneralResult(ApplyResult):
    """Any result: what ``ApplyResult(...)`` makes, and the book's rejections and results of
    the general paths; it stores all ten fields.

    >>> r = ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0)
    >>> type(r).__name__, isinstance(r, ApplyResult)
    ('GeneralResult', True)
    """

    __slots__ = (
        "_fill_ids",
        "_fills",
        "accepted",
        "cancelled_qty",
        "reason",
        "resting_qty",
        "status",
        "stp_cancelled",
    )
    if TYPE_CHECKING:

        def __init__(self) -> None: ...


def _new_result(
    cls: type[ApplyResult],
    accepted: bool,
    reason: str | None,
    seq: int,
    ts_us: int,
    order_id: int | None,
    status: str,
    fills: Iterable[Fill],
    resting_qty: int,
    cancelled_qty: int,
    stp_cancelled: Iterable[int] = (),
) -> ApplyResult:
    """``ApplyResult.__new__``: ``ApplyResult(...)`` makes a :class:`GeneralResult` (a
    subclass of one with a ``__dict__`` gets its own class)."""
    r = cast(GeneralResult, _blank(GeneralResult if cls is ApplyResult else cls))
    r.accepted = accepted
    r.reason = reason
    r.seq = seq
    r.ts_us = ts_us
    r.order_id = order_id
    r.status = status
    r._fills = fills if type(fills) is tuple else tuple(fills)
    r.resting_qty = resting_qty
    r.cancelled_qty = cancelled_qty
    r.stp_cancelled = stp_cancelled if type(stp_cancelled) is tuple else tuple(stp_cancelled)
    return r


# Set after the outcome classes exist (see "the common outcomes" above); object.__init__
# then ignores the arguments, as ApplyResult's __new__ is not object's.
setattr(ApplyResult, "__new__", staticmethod(_new_result))  # noqa: B010

#: The exact types of the results a book makes: :class:`GeneralResult` (also what
#: ``ApplyResult(...)`` makes) and the three outcomes. Code that must know a result's type
#: exactly (the codec's memo, the process wire format) tests membership here.
RESULT_TYPES: frozenset[type[ApplyResult]] = frozenset(
    {GeneralResult, RestedResult, CancelledResult, TradedResult}
)


# -- named builders: the one way the book makes a result ---------------------------------------
# ``object.__new__`` makes the object without running ``ApplyResult.__new__``'s argument
# handling; each builder then sets every slot. The book's hottest paths (a resting place, a good
# cancel, a crossing place) make the outcome subclasses above inline instead.
_blank = object.__new__


def rejected(reason: str, seq: int, ts_us: int, order_id: int | None) -> ApplyResult:
    """A refused command: nothing changed. ``reason`` is a key of :data:`REJECT_REASONS`.

    >>> rejected("unknown_order", 3, 30, 9).status
    'rejected'
    """
    r: GeneralResult = _blank(GeneralResult)
    r.accepted = False
    r.reason = reason
    r.seq = seq
    r.ts_us = ts_us
    r.order_id = order_id
    r.status = "rejected"
    r._fills = ()
    r.resting_qty = 0
    r.cancelled_qty = 0
    r.stp_cancelled = ()
    return r


def cancelled(seq: int, ts_us: int, order_id: int, qty: int) -> ApplyResult:
    """A cancel that took ``qty`` open lots off the book.

    >>> cancelled(2, 20, 1, 5).cancelled_qty
    5
    """
    r = CancelledResult()
    r.seq = seq
    r.ts_us = ts_us
    r.order_id = order_id
    r.cancelled_qty = qty
    return r


def executed(
    seq: int,
    ts_us: int,
    order_id: int,
    status: str,
    fills: tuple[Fill, ...] | FillLog,
    resting_qty: int,
    cancelled_qty: int,
    stp_cancelled: tuple[int, ...] = (),
    fill_ids: tuple[int, int] = (0, 0),
) -> ApplyResult:
    """An accepted place or modify that may have traded (``status`` from :data:`STATUSES`).

    ``fills`` is the fills made, or the book's fill log with ``fill_ids`` the ``(first,
    end)`` ids of the fills this command added (built when read).

    >>> executed(3, 30, 3, "filled", (), 0, 0).accepted
    True
    """
    r: GeneralResult = _blank(GeneralResult)
    r.accepted = True
    r.reason = None
    r.seq = seq
    r.ts_us = ts_us
    r.order_id = order_id
    r.status = status
    r._fills = fills
    r._fill_ids = fill_ids
    r.resting_qty = resting_qty
    r.cancelled_qty = cancelled_qty
    r.stp_cancelled = stp_cancelled
    return r
