"""What applying a command produces: :class:`ApplyResult`, :class:`Fill` and :class:`Order`.

:class:`ApplyResult` and :class:`Fill` are named tuples: immutable, compact and cheap to
build on the replica's hot path (a frozen dataclass costs one ``object.__setattr__`` per
field). :class:`Order` is a frozen dataclass snapshot of one live order, built on demand by
queries, so callers can never reach into the book's mutable internals.

A rejected command yields ``ApplyResult(accepted=False, reason=<code>)`` with ``reason`` one
of :data:`REJECT_REASONS`; :meth:`ApplyResult.raise_for_reason` turns it into the matching
:mod:`clobkit.errors` exception.

>>> r = ApplyResult(False, "unknown_order", 3, 3, 9, "rejected", (), 0, 0)
>>> r.raise_for_reason()
Traceback (most recent call last):
...
clobkit.errors.UnknownOrder: unknown_order: no live order has this order id (order_id=9, seq=3)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from clobkit.errors import DuplicateOrderId, NoLiquidity, NotOwner, OrderRejected, UnknownOrder

__all__ = ["REJECT_REASONS", "STATUSES", "ApplyResult", "Fill", "Order"]

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


class ApplyResult(NamedTuple):
    """The outcome of one command: accepted or not, fills, what rests and what was cancelled.

    ``status`` is one of :data:`STATUSES`: a place ends ``resting`` (no fills, rests),
    ``partially_filled`` (fills, remainder rests), ``filled``, or ``cancelled`` (the
    remainder was cancelled: IOC, market, protection price, self-trade prevention); a cancel
    ends ``cancelled``; an accepted modify ends ``modified``; a rejection ``rejected``.
    ``resting_qty`` is what the order has resting afterwards and ``cancelled_qty`` what this
    command cancelled, both in lots. ``stp_cancelled`` lists the ids of resting orders that
    self-trade prevention cancelled while this command executed.

    >>> ApplyResult(True, None, 1, 1, 1, "resting", (), 10, 0).accepted
    True
    """

    accepted: bool
    reason: str | None
    seq: int
    ts_us: int
    order_id: int | None
    status: str
    fills: tuple[Fill, ...]
    resting_qty: int
    cancelled_qty: int
    stp_cancelled: tuple[int, ...] = ()

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

    >>> Order(1, "alice", "buy", 10050, 10, 0, 0, 10, 1, 1).side
    'buy'
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


# -- named builders: the one way the book makes a result ---------------------------------------
# ``tuple.__new__`` skips NamedTuple's keyword handling (these run on every command).
_new = tuple.__new__
_NO_FILLS: tuple[Fill, ...] = ()


def rejected(reason: str, seq: int, ts_us: int, order_id: int | None) -> ApplyResult:
    """A refused command: nothing changed. ``reason`` is a key of :data:`REJECT_REASONS`.

    >>> rejected("unknown_order", 3, 30, 9).status
    'rejected'
    """
    return _new(ApplyResult, (False, reason, seq, ts_us, order_id, "rejected", _NO_FILLS, 0, 0, ()))


def cancelled(seq: int, ts_us: int, order_id: int, qty: int) -> ApplyResult:
    """A cancel that took ``qty`` open lots off the book.

    >>> cancelled(2, 20, 1, 5).cancelled_qty
    5
    """
    return _new(ApplyResult, (True, None, seq, ts_us, order_id, "cancelled", _NO_FILLS, 0, qty, ()))


def executed(
    seq: int,
    ts_us: int,
    order_id: int,
    status: str,
    fills: tuple[Fill, ...],
    resting_qty: int,
    cancelled_qty: int,
    stp_cancelled: tuple[int, ...] = (),
) -> ApplyResult:
    """An accepted place or modify that may have traded (``status`` from :data:`STATUSES`).

    >>> executed(3, 30, 3, "filled", (), 0, 0).accepted
    True
    """
    return _new(
        ApplyResult,
        (
            True,
            None,
            seq,
            ts_us,
            order_id,
            status,
            fills,
            resting_qty,
            cancelled_qty,
            stp_cancelled,
        ),
    )
