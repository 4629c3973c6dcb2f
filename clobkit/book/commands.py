"""The commands an order book applies: :class:`Place`, :class:`Cancel` and :class:`Modify`.

Commands are what replicas agree on: the primary assigns each one a sequence number, the log
stores its bytes (see :mod:`clobkit.book.codec`) and every replica applies the same commands
in the same order. They are small immutable records whose constructors check every field, so
a command that exists is well formed; whether the book *accepts* it (is the order id free,
does the user own the order, ...) is decided by :meth:`OrderBook.apply
<clobkit.book.orderbook.OrderBook.apply>`.

Prices and quantities inside commands are already integers: ticks and lots (see
:class:`~clobkit.book.spec.MarketSpec`).

>>> Place("ACME", "alice", "buy", 10050, 10)
Place(market='ACME', user='alice', side='buy', price=10050, qty=10, order_type='limit', \
tif='gtc', order_id=None, stp=None, protection_price=None, post_only=False, \
client_order_id=None)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from clobkit.book.names import check_user
from clobkit.book.spec import MAX_UNITS
from clobkit.errors import InvalidArgument, InvalidType

__all__ = [
    "ORDER_TYPES",
    "SIDES",
    "STP_MODES",
    "TIFS",
    "Cancel",
    "Command",
    "Modify",
    "Place",
]

#: The two sides of the book.
SIDES = ("buy", "sell")
#: Order types: a limit order may rest, a market order never does.
ORDER_TYPES = ("limit", "market")
#: Time in force: good-till-cancelled, immediate-or-cancel, fill-or-kill.
TIFS = ("gtc", "ioc", "fok")
#: Self-trade prevention modes (``None`` on a command means "the book's default").
STP_MODES = ("none", "cancel-taker", "cancel-maker", "cancel-both")

#: Order ids are non-negative and fit a signed 64-bit column.
MAX_ORDER_ID = 2**63 - 1


def _check_str(value: object, name: str) -> None:
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be a str, not {type(value).__name__}: {value!r}")
    if not value:
        raise InvalidArgument(f"{name} must not be empty")


def _check_units(value: object, name: str) -> None:
    """Ticks or lots: a positive ``int`` (not ``bool``) below :data:`MAX_UNITS`."""
    if type(value) is not int:
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}: {value!r}")
    if not 0 < value <= MAX_UNITS:
        raise InvalidArgument(f"{name} must be in 1..2**62, got {value!r}")


def _check_order_id(value: object, name: str = "order_id") -> None:
    if type(value) is not int:
        raise InvalidType(f"{name} must be an int, not {type(value).__name__}: {value!r}")
    if not 1 <= value <= MAX_ORDER_ID:
        raise InvalidArgument(f"{name} must be in 1..2**63-1, got {value!r}")


def check_client_order_id(value: object, name: str = "client_order_id") -> str:
    """A client order id follows the user-name rule (:mod:`clobkit.book.names`). O(1).

    >>> check_client_order_id("hedge-1")
    'hedge-1'
    """
    return check_user(value, name)


def _check_target(order_id: object, client_order_id: object) -> None:
    """Cancel/modify name their order by exactly one of the two ids."""
    if client_order_id is None:
        if order_id is None:
            raise InvalidArgument("name the order: give order_id or client_order_id")
        _check_order_id(order_id)
    else:
        if order_id is not None:
            raise InvalidArgument(
                "give order_id or client_order_id, not both "
                f"(got {order_id!r} and {client_order_id!r})"
            )
        check_client_order_id(client_order_id)


def _check_choice(value: object, name: str, choices: tuple[str, ...]) -> None:
    if value not in choices or not isinstance(value, str):
        raise InvalidArgument(f"{name} must be one of {', '.join(choices)}; got {value!r}")


@dataclass(frozen=True, slots=True)
class Place:
    """Place an order; ``price``/``protection_price`` in ticks, ``qty`` in lots.

    Two ids, two owners. ``order_id`` is the *exchange's* id: leave it ``None`` and the book
    assigns one (the sequence number); an explicit one is for replaying a recorded run (the
    checker does) and must be above the book's ``last_seq`` and never used before.
    ``client_order_id`` is the *client's* own id (FIX ClOrdID), any short printable
    ``str``, unique among that user's live orders; cancel and modify accept it instead of
    the order id.

    A limit order has a ``price``; a market order has ``price=None`` and may carry a
    ``protection_price`` beyond which it does not trade. Market orders never rest: ``tif``
    "gtc" and "ioc" both mean immediate-or-cancel for them, "fok" means fill-or-kill.
    ``post_only`` needs a GTC limit order. ``stp=None`` uses the book's default mode.

    >>> Place("ACME", "bob", "sell", None, 5, order_type="market").order_type
    'market'
    >>> Place("ACME", "bob", "sell", 0, 5)
    Traceback (most recent call last):
    ...
    clobkit.errors.InvalidArgument: price must be in 1..2**62, got 0

    Raises :class:`~clobkit.errors.InvalidType` / :class:`~clobkit.errors.InvalidArgument`
    naming the first bad field.
    """

    market: str
    user: str
    side: str
    price: int | None
    qty: int
    order_type: str = "limit"
    tif: str = "gtc"
    order_id: int | None = None
    stp: str | None = None
    protection_price: int | None = None
    post_only: bool = False
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.market, "market")
        check_user(self.user)
        _check_choice(self.side, "side", SIDES)
        _check_choice(self.order_type, "order_type", ORDER_TYPES)
        _check_choice(self.tif, "tif", TIFS)
        _check_units(self.qty, "qty")
        if self.order_type == "limit":
            if self.price is None:
                raise InvalidArgument("a limit order needs a price (or pass order_type='market')")
            _check_units(self.price, "price")
            if self.protection_price is not None:
                raise InvalidArgument(
                    f"protection_price is only for market orders, got {self.protection_price!r}"
                )
        else:
            if self.price is not None:
                raise InvalidArgument(f"a market order has no price, got price={self.price!r}")
            if self.protection_price is not None:
                _check_units(self.protection_price, "protection_price")
        if self.order_id is not None:
            _check_order_id(self.order_id)
        if self.client_order_id is not None:
            check_client_order_id(self.client_order_id)
        if self.stp is not None:
            _check_choice(self.stp, "stp", STP_MODES)
        if type(self.post_only) is not bool:
            raise InvalidType(f"post_only must be a bool, got {self.post_only!r}")
        if self.post_only and (self.order_type != "limit" or self.tif != "gtc"):
            raise InvalidArgument(
                "post_only needs a GTC limit order, got "
                f"order_type={self.order_type!r}, tif={self.tif!r}"
            )


@dataclass(frozen=True, slots=True)
class Cancel:
    """Cancel ``user``'s live order, named by its ``order_id`` or its ``client_order_id``.

    >>> Cancel("ACME", "alice", 7)
    Cancel(market='ACME', user='alice', order_id=7, client_order_id=None)
    >>> Cancel("ACME", "alice", client_order_id="hedge-1").client_order_id
    'hedge-1'

    Raises :class:`~clobkit.errors.InvalidType` / :class:`~clobkit.errors.InvalidArgument`
    for a bad field, or unless exactly one of the two ids is given.
    """

    market: str
    user: str
    order_id: int | None = None
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.market, "market")
        check_user(self.user)
        _check_target(self.order_id, self.client_order_id)


@dataclass(frozen=True, slots=True)
class Modify:
    """Change the price (ticks) and/or the open quantity (lots) of a live order.

    ``qty`` is the new *remaining* quantity. Reducing it keeps time priority; a price change
    or an increase is a cancel-replace that loses priority (see ``OrderBook.apply``).

    The order is named by its ``order_id`` or its ``client_order_id`` (exactly one).

    >>> Modify("ACME", "alice", 7, qty=3)
    Modify(market='ACME', user='alice', order_id=7, price=None, qty=3, client_order_id=None)

    Raises :class:`~clobkit.errors.InvalidArgument` when neither ``price`` nor ``qty`` is
    given, when not exactly one id is given, or a field is bad.
    """

    market: str
    user: str
    order_id: int | None = None
    price: int | None = None
    qty: int | None = None
    client_order_id: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.market, "market")
        check_user(self.user)
        _check_target(self.order_id, self.client_order_id)
        if self.price is None and self.qty is None:
            raise InvalidArgument("modify needs a new price or a new qty (both are None)")
        if self.price is not None:
            _check_units(self.price, "price")
        if self.qty is not None:
            _check_units(self.qty, "qty")


#: Any command an :class:`~clobkit.book.orderbook.OrderBook` applies.
Command: TypeAlias = Place | Cancel | Modify
