"""The commands an order book applies: :class:`Place`, :class:`Cancel` and :class:`Modify`.

Commands are what replicas agree on: the primary assigns each one a sequence number, the log
stores its bytes (see :mod:`clobkit.book.codec`) and every replica applies the same commands
in the same order. They are small immutable records (named tuples: building one is a single
``tuple.__new__``, which matters because a command is built for every order a user sends)
whose constructors check every field, so a command that exists is well formed; whether the
book *accepts* it (is the order id free, does the user own the order, ...) is decided by
:meth:`OrderBook.apply <clobkit.book.orderbook.OrderBook.apply>`.

Prices and quantities inside commands are already integers: ticks and lots (see
:class:`~clobkit.book.spec.MarketSpec`).

>>> Place("ACME", "alice", "buy", 10050, 10)
Place(market='ACME', user='alice', side='buy', price=10050, qty=10, order_type='limit', \
tif='gtc', order_id=None, stp=None, protection_price=None, post_only=False, \
client_order_id=None)
"""

from __future__ import annotations

from typing import NamedTuple, TypeAlias

from clobkit.book.names import check_user, is_valid_user, valid_users
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

# The quick checks compare choices with these by identity (see Place.__new__).
_LIMIT, _BUY, _SELL, _GTC, _IOC, _FOK = "limit", "buy", "sell", "gtc", "ioc", "fok"

#: Order ids are non-negative and fit a signed 64-bit column.
MAX_ORDER_ID = 2**63 - 1

# The quick checks test ``x > 0 and (x <= _COMPACT or x <= MAX_UNITS)`` (the same predicate
# as ``0 < x <= MAX_UNITS``, as _COMPACT < MAX_UNITS): CPython 3.11 compares two one-digit
# ints (below 2**30) on a specialised fast path, but MAX_UNITS and MAX_ORDER_ID have three
# digits, so comparing with them takes the generic path; nearly every price, quantity and
# id is below 2**30. Two plain comparisons instead of a chained one: a chain costs a SWAP,
# a COPY and an extra jump (three more bytecodes) per field.
_COMPACT = 2**30 - 1


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


class _PlaceFields(NamedTuple):
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


class Place(_PlaceFields):
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

    __slots__ = ()

    def __new__(
        cls,
        market: str,
        user: str,
        side: str,
        price: int | None,
        qty: int,
        order_type: str = "limit",
        tif: str = "gtc",
        order_id: int | None = None,
        stp: str | None = None,
        protection_price: int | None = None,
        post_only: bool = False,
        client_order_id: str | None = None,
    ) -> Place:
        # The common order (a plain limit order of exact types) is recognised in one
        # expression; anything else goes through _check_place, which checks every field in
        # order and names the first bad one. Every command the expression admits,
        # _check_place admits too (tests/book/test_book_fast_paths.py).
        # The choices are compared by identity, which also proves the type: the codec and
        # callers' literals pass the interned constants; an equal string built at run time
        # (or a str subclass) is checked by _check_place instead, with the same outcome.
        if not (
            type(price) is int
            and price > 0
            and (price <= _COMPACT or price <= MAX_UNITS)
            and type(qty) is int
            and qty > 0
            and (qty <= _COMPACT or qty <= MAX_UNITS)
            and order_type is _LIMIT
            and (side is _BUY or side is _SELL)
            and (tif is _GTC or tif is _IOC or tif is _FOK)
            and type(market) is str
            and market
            and type(user) is str
            and (user in valid_users or is_valid_user(user))
            and order_id is None
            and stp is None
            and protection_price is None
            and post_only is False
            and client_order_id is None
        ):
            _check_place(
                market, user, side, price, qty, order_type, tif, order_id, stp,
                protection_price, post_only, client_order_id,
            )  # fmt: skip
        return _tuple_new(
            cls,
            (
                market, user, side, price, qty, order_type, tif, order_id, stp,
                protection_price, post_only, client_order_id,
            ),
        )  # fmt: skip


_tuple_new = tuple.__new__


def _check_place(
    market: object,
    user: object,
    side: object,
    price: object,
    qty: object,
    order_type: object,
    tif: object,
    order_id: object,
    stp: object,
    protection_price: object,
    post_only: object,
    client_order_id: object,
) -> None:
    """Every rule of a place, in order; raises naming the first bad field."""
    _check_str(market, "market")
    check_user(user)
    _check_choice(side, "side", SIDES)
    _check_choice(order_type, "order_type", ORDER_TYPES)
    _check_choice(tif, "tif", TIFS)
    _check_units(qty, "qty")
    if order_type == "limit":
        if price is None:
            raise InvalidArgument("a limit order needs a price (or pass order_type='market')")
        _check_units(price, "price")
        if protection_price is not None:
            raise InvalidArgument(
                f"protection_price is only for market orders, got {protection_price!r}"
            )
    else:
        if price is not None:
            raise InvalidArgument(f"a market order has no price, got price={price!r}")
        if protection_price is not None:
            _check_units(protection_price, "protection_price")
    if order_id is not None:
        _check_order_id(order_id)
    if client_order_id is not None:
        check_client_order_id(client_order_id)
    if stp is not None:
        _check_choice(stp, "stp", STP_MODES)
    if type(post_only) is not bool:
        raise InvalidType(f"post_only must be a bool, got {post_only!r}")
    if post_only and (order_type != "limit" or tif != "gtc"):
        raise InvalidArgument(
            f"post_only needs a GTC limit order, got order_type={order_type!r}, tif={tif!r}"
        )


class _CancelFields(NamedTuple):
    market: str
    user: str
    order_id: int | None = None
    client_order_id: str | None = None


class Cancel(_CancelFields):
    """Cancel ``user``'s live order, named by its ``order_id`` or its ``client_order_id``.

    >>> Cancel("ACME", "alice", 7)
    Cancel(market='ACME', user='alice', order_id=7, client_order_id=None)
    >>> Cancel("ACME", "alice", client_order_id="hedge-1").client_order_id
    'hedge-1'

    Raises :class:`~clobkit.errors.InvalidType` / :class:`~clobkit.errors.InvalidArgument`
    for a bad field, or unless exactly one of the two ids is given.
    """

    __slots__ = ()

    def __new__(
        cls,
        market: str,
        user: str,
        order_id: int | None = None,
        client_order_id: str | None = None,
    ) -> Cancel:
        # The common cancel (by order id, exact types) in one expression, as for Place.
        if not (
            type(order_id) is int
            and order_id > 0
            and (order_id <= _COMPACT or order_id <= MAX_ORDER_ID)
            and client_order_id is None
            and type(market) is str
            and market
            and type(user) is str
            and (user in valid_users or is_valid_user(user))
        ):
            _check_str(market, "market")
            check_user(user)
            _check_target(order_id, client_order_id)
        return _tuple_new(cls, (market, user, order_id, client_order_id))


class _ModifyFields(NamedTuple):
    market: str
    user: str
    order_id: int | None = None
    price: int | None = None
    qty: int | None = None
    client_order_id: str | None = None


class Modify(_ModifyFields):
    """Change the price (ticks) and/or the open quantity (lots) of a live order.

    ``qty`` is the new *remaining* quantity. Reducing it keeps time priority; a price change
    or an increase is a cancel-replace that loses priority (see ``OrderBook.apply``).

    The order is named by its ``order_id`` or its ``client_order_id`` (exactly one).

    >>> Modify("ACME", "alice", 7, qty=3)
    Modify(market='ACME', user='alice', order_id=7, price=None, qty=3, client_order_id=None)

    Raises :class:`~clobkit.errors.InvalidArgument` when neither ``price`` nor ``qty`` is
    given, when not exactly one id is given, or a field is bad.
    """

    __slots__ = ()

    def __new__(
        cls,
        market: str,
        user: str,
        order_id: int | None = None,
        price: int | None = None,
        qty: int | None = None,
        client_order_id: str | None = None,
    ) -> Modify:
        _check_str(market, "market")
        check_user(user)
        _check_target(order_id, client_order_id)
        if price is None and qty is None:
            raise InvalidArgument("modify needs a new price or a new qty (both are None)")
        if price is not None:
            _check_units(price, "price")
        if qty is not None:
            _check_units(qty, "qty")
        return _tuple_new(cls, (market, user, order_id, price, qty, client_order_id))


#: Any command an :class:`~clobkit.book.orderbook.OrderBook` applies.
Command: TypeAlias = Place | Cancel | Modify
