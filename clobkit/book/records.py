"""The recorded form of book operations: plain, hashable tuples.

A client history (what the simulator records, what the linearizability checker reads)
stores each book operation as a tuple, never as a live object: a command becomes its
*input*, an :class:`~clobkit.book.ApplyResult` or a read's result its *output*. These
functions are the one definition of that form, shared by the recorder
(:mod:`clobkit.sim`) and the checker's order-book model (:mod:`clobkit.check.book_model`,
whose module docstring documents the format field by field), so the two cannot drift.
Prices are ticks and quantities lots, as inside the book. Outputs leave out what a client
cannot predict and the model assigns itself: sequence numbers, timestamps, fill ids.

>>> from clobkit.book import Cancel, MarketSpec, OrderBook, Place
>>> command_input(Cancel("ACME", "bob", 3))
('cancel', 'ACME', 'bob', 3)
>>> book = OrderBook(MarketSpec("ACME"))
>>> write_output(book.apply(Place("ACME", "a", "buy", 100, 2), seq=1, ts_us=1))
(True, None, 1, 'resting', (), 2, 0, ())
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clobkit.book.commands import Cancel, Command, Modify, Place
from clobkit.book.results import ApplyResult, Fill, Order
from clobkit.errors import InvalidType

__all__ = [
    "command_input",
    "depth_output",
    "fill_row",
    "fills_output",
    "order_row",
    "orders_output",
    "write_output",
]


def command_input(command: Command) -> tuple[Any, ...]:
    """The history input for a book command (full form, every field). O(1).

    Raises :class:`~clobkit.errors.InvalidType` for anything but a Place, Cancel or Modify.

    >>> command_input(Place("ACME", "al", "sell", 10050, 3))
    ('place', 'ACME', 'al', 'sell', 10050, 3, 'limit', 'gtc', None, None, False, None)
    >>> command_input(Cancel("ACME", "al", client_order_id="c1"))
    ('cancel', 'ACME', 'al', None, 'c1')

    A client order id, when the command has one, is the last field (13th of a place, 5th of
    a cancel, 7th of a modify).
    """
    if isinstance(command, Place):
        c = command
        return (
            "place", c.market, c.user, c.side, c.price, c.qty, c.order_type, c.tif, c.stp,
            c.protection_price, c.post_only, c.order_id, *_cid(c.client_order_id),
        )  # fmt: skip
    if isinstance(command, Cancel):
        c_id = _cid(command.client_order_id)
        return ("cancel", command.market, command.user, command.order_id, *c_id)
    if isinstance(command, Modify):
        m = command
        return ("modify", m.market, m.user, m.order_id, m.price, m.qty, *_cid(m.client_order_id))
    raise InvalidType(f"command must be Place, Cancel or Modify, got {command!r}")


def _cid(client_order_id: str | None) -> tuple[str, ...]:
    """The trailing client order id field: present only when the command has one, so
    histories without client ids keep the shorter form."""
    return () if client_order_id is None else (client_order_id,)


def fill_row(fill: Fill) -> tuple[Any, ...]:
    """A fill as a history records it: no ``fill_id``, ``seq``, ``ts_us`` or market."""
    return (
        fill.price, fill.qty, fill.taker_order_id, fill.maker_order_id, fill.taker_user,
        fill.maker_user, fill.aggressor_side,
    )  # fmt: skip


def order_row(order: Order) -> tuple[Any, ...]:
    """A live order as a history records it: no ``seq`` or ``ts_us``; its client order id
    last, only when it has one (a later cancel or modify may name the order by it)."""
    o = order
    return (
        o.order_id, o.user, o.side, o.price, o.qty, o.filled_qty, o.cancelled_qty,
        o.original_qty, *_cid(o.client_order_id),
    )  # fmt: skip


def write_output(result: ApplyResult) -> tuple[Any, ...]:
    """The history output of an accepted or rejected write (an ``ApplyResult``). O(fills)."""
    r = result
    return (
        r.accepted, r.reason, r.order_id, r.status, tuple(fill_row(f) for f in r.fills),
        r.resting_qty, r.cancelled_qty, tuple(r.stp_cancelled),
    )  # fmt: skip


def fills_output(fills: Iterable[Fill]) -> tuple[tuple[Any, ...], ...]:
    """The history output of a fills read."""
    return tuple(fill_row(f) for f in fills)


def orders_output(orders: Iterable[Order]) -> tuple[tuple[Any, ...], ...]:
    """The history output of a live-orders read (in the book's priority order)."""
    return tuple(order_row(o) for o in orders)


def depth_output(depth: dict[str, list[tuple[int, int, int]]]) -> tuple[Any, ...]:
    """The history output of a depth read: ``(bids, asks)`` from ``OrderBook.depth()``."""
    return (tuple(map(tuple, depth["bids"])), tuple(map(tuple, depth["asks"])))
