"""The book's snapshot codec: everything about an :class:`~clobkit.book.OrderBook` as bytes.

Layout: ``b"CKOB"``, version byte, spec, STP default, last seq, reserved order ids, user
table, the live orders in priority order (bids best first, then asks; FIFO within a level)
as columns, then the fill columns, then (version 3 only) the client order ids of live
orders, and a BLAKE2b-64 checksum of all that. Equal states give equal bytes. A book with
no client order ids writes version 2, the layout from before client ids existed, so its
bytes (and every digest) are unchanged; restore reads both.

Writing reads the book and never changes it. Reading checks every field it can (ranges,
ownership of reserved ids, quantities, a crossed book, the checksum) and raises
:class:`~clobkit.errors.InvalidArgument` for anything malformed.

>>> from clobkit.book import MarketSpec, OrderBook
>>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "buy", price=1, qty=1)
>>> data = encode(book)
>>> data[:5], decode(data).digest() == book.digest()
(b'CKOB\\x02', True)
"""

from __future__ import annotations

import hashlib
from array import array
from typing import TYPE_CHECKING

from clobkit.book.commands import check_client_order_id
from clobkit.book.fill_log import FILL_COLUMNS
from clobkit.book.spec import MarketSpec
from clobkit.book.wire import Reader, Writer
from clobkit.errors import InvalidArgument

if TYPE_CHECKING:
    from clobkit.book.orderbook import OrderBook

__all__ = ["SNAPSHOT_VERSION", "decode", "encode"]

#: Newest version byte (after the 4-byte magic ``b"CKOB"``).
SNAPSHOT_VERSION = 3  # 3: client order ids; 2: reserved order ids, BLAKE2b-64 trailer
_V2 = 2  # written when the book holds no client order id (see the module docstring)
_CHECKSUM = 8
MAGIC = b"CKOB"

ORDER_COLUMNS = (
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


def encode(book: OrderBook) -> bytes:
    """The snapshot bytes of ``book`` (read-only: the book does not change). O(state)."""
    log = book._log
    fill_columns = log.columns()
    client_ids = book._client_ids
    w = Writer()
    w.byte(SNAPSHOT_VERSION if client_ids else _V2)
    _write_spec(w, book.spec)
    w.text(book.stp_default)
    last_seq = book.last_seq
    w.uint(last_seq)
    # Only reservations above last_seq can matter again (see "Order ids" in orderbook.py),
    # so only they are state: equal books give equal bytes however many explicit ids they saw.
    w.column(array("q", sorted(i for i in book._reserved if i > last_seq)))
    # Users who only have resting orders get table entries after the fill users.
    fill_users = log.users()
    users = list(fill_users)
    user_ids = log.user_ids()
    columns: dict[str, array[int]] = {k: array("q") for k in ORDER_COLUMNS}
    appends = [columns[k].append for k in ORDER_COLUMNS]
    for side_code, side in ((0, book._bids), (1, book._asks)):
        for level in side.best_first():
            for o in level.live():
                uid = user_ids.get(o.user)
                if uid is None:
                    uid = user_ids[o.user] = len(users)
                    users.append(o.user)
                row = (
                    o.order_id, uid, side_code, level.price, o.qty, book._filled(o), o.original,
                    book._seq(o), o.ts_us,
                )  # fmt: skip
                for append, value in zip(appends, row, strict=True):
                    append(value)
    w.uint(len(fill_users))
    w.uint(len(users))
    for name in users:
        w.text(name)
    for key in ORDER_COLUMNS:
        w.column(columns[key])
    for key in FILL_COLUMNS:
        w.column(fill_columns[key])
    if client_ids:  # version 3: (order id, client id) of live orders, by order id
        pairs = sorted(client_ids.items())
        w.uint(len(pairs))
        for order_id, cid in pairs:
            w.uint(order_id)
            w.text(cid)
    body = MAGIC + w.getvalue()
    # A checksum over everything: a snapshot travels in state transfer and sits on disk.
    return body + hashlib.blake2b(body, digest_size=_CHECKSUM).digest()


def decode(data: bytes, cls: type[OrderBook] | None = None) -> OrderBook:
    """Rebuild a book (of class ``cls``, default ``OrderBook``) from :func:`encode` bytes.

    Raises :class:`~clobkit.errors.InvalidArgument` for malformed or unsupported bytes.
    """
    if cls is None:
        from clobkit.book.orderbook import OrderBook

        cls = OrderBook
    if not isinstance(data, bytes | bytearray | memoryview) or bytes(data[:4]) != MAGIC:
        raise InvalidArgument("malformed data: not an order book snapshot")
    data = bytes(data)
    body, checksum = data[:-_CHECKSUM], data[-_CHECKSUM:]
    if hashlib.blake2b(body, digest_size=_CHECKSUM).digest() != checksum:
        raise InvalidArgument("malformed data: snapshot checksum mismatch (corrupt bytes)")
    r = Reader(body[4:])
    version = r.byte()
    if version not in (_V2, SNAPSHOT_VERSION):
        raise InvalidArgument(f"malformed data: unsupported snapshot version {version}")
    book = _read(cls, r, version)
    r.done()
    return book


def _read(cls: type[OrderBook], r: Reader, version: int) -> OrderBook:
    spec = _read_spec(r)
    book = cls(spec, stp_default=r.text())
    last_seq = book._last_seq = r.uint()
    reserved = r.column("q")
    if any(i <= last_seq for i in reserved) or len(set(reserved)) != len(reserved):
        raise InvalidArgument("malformed data: bad reserved order ids")
    book._reserved = set(reserved)
    n_fill_users, n_users = r.uint(), r.uint()
    if n_fill_users > n_users:
        raise InvalidArgument("malformed data: bad user table sizes")
    users = [r.text() for _ in range(n_users)]
    if len(set(users)) != len(users):
        raise InvalidArgument("malformed data: duplicate users")
    columns = {key: r.column("q") for key in ORDER_COLUMNS}
    fills = {key: r.column(code) for key, code in FILL_COLUMNS.items()}
    if len({len(c) for c in columns.values()}) > 1 or len({len(c) for c in fills.values()}) > 1:
        raise InvalidArgument("malformed data: ragged columns")
    for row in zip(*(columns[k] for k in ORDER_COLUMNS), strict=True):
        order_id, uid, side_code, price, qty, filled, original, seq, ts_us = row
        if not 0 <= uid < n_users or side_code not in (0, 1) or order_id in book._orders:
            raise InvalidArgument("malformed data: bad order row")
        if order_id > last_seq and order_id not in book._reserved:
            raise InvalidArgument("malformed data: order id above last_seq not reserved")
        if qty <= 0 or filled < 0 or filled + qty > original or seq > last_seq:
            raise InvalidArgument("malformed data: bad order quantities")
        book._rest(order_id, users[uid], side_code == 0, price, qty, filled, original, seq, ts_us)
    for uid in (*fills["taker_user_id"], *fills["maker_user_id"]):
        if not 0 <= uid < n_fill_users:
            raise InvalidArgument("malformed data: bad fill user")
    book._log.load(fills, users[:n_fill_users])
    bid, ask = book._bids.best, book._asks.best
    if bid is not None and ask is not None and bid >= ask:
        raise InvalidArgument("malformed data: crossed book")
    if version >= 3:
        count = r.uint()
        if count == 0:
            raise InvalidArgument("malformed data: version 3 snapshot without client ids")
        for _ in range(count):
            order_id, cid = r.uint(), r.text()
            resting = book._orders.get(order_id)
            if resting is None or book._client_ids.find(resting.user, cid) is not None:
                raise InvalidArgument("malformed data: bad client order id")
            try:
                check_client_order_id(cid)
            except InvalidArgument:
                raise InvalidArgument("malformed data: bad client order id") from None
            book._client_ids.remember(resting.user, cid, order_id)
    return book


def _write_spec(w: Writer, spec: MarketSpec) -> None:
    w.text(spec.symbol)
    w.text(format(spec.tick, "f"))  # plain digits: what MarketSpec reads back
    w.text(format(spec.lot, "f"))
    w.text("" if spec.min_price is None else format(spec.min_price, "f"))
    w.text("" if spec.max_price is None else format(spec.max_price, "f"))


def _read_spec(r: Reader) -> MarketSpec:
    symbol, tick, lot, low, high = r.text(), r.text(), r.text(), r.text(), r.text()
    try:
        return MarketSpec(symbol, tick=tick, lot=lot, min_price=low or None, max_price=high or None)
    except InvalidArgument as exc:
        raise InvalidArgument(f"malformed data: bad market spec ({exc})") from None
