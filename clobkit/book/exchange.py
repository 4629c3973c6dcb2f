"""Many markets, one state machine each: :class:`Exchange` routes commands by market symbol.

Partitioning by market is how an order book scales out: markets share nothing, so each
:class:`~clobkit.book.orderbook.OrderBook` is its own state machine and the exchange only
routes ``command.market`` to it. The exchange keeps its own ``last_seq`` (the sequence
numbers it is given are global and increasing; each book sees a subsequence of them). A
command for an unknown market is rejected with ``unknown_market`` and changes nothing.

>>> from clobkit.book.commands import Place
>>> ex = Exchange([MarketSpec("ACME"), MarketSpec("BOLT")])
>>> ex.apply(Place("BOLT", "alice", "buy", 100, 1), seq=1, ts_us=1).status
'resting'
>>> ex.apply(Place("ZZZ", "alice", "buy", 100, 1), seq=2, ts_us=2).reason
'unknown_market'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from clobkit.book.commands import Cancel, Command, Modify, Place
from clobkit.book.orderbook import OrderBook
from clobkit.book.results import ApplyResult
from clobkit.book.spec import MarketSpec
from clobkit.book.wire import Reader, Writer
from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["Exchange"]

_MAGIC = b"CKEX"
_COMMANDS = (Place, Cancel, Modify)
_VERSION = 1


class Exchange:
    """A map of market symbol -> :class:`~clobkit.book.orderbook.OrderBook`.

    ``specs`` is an iterable of :class:`~clobkit.book.spec.MarketSpec` (or a mapping whose
    values are specs). Raises :class:`~clobkit.errors.InvalidArgument` for no markets or a
    repeated symbol.
    """

    def __init__(
        self,
        specs: Iterable[MarketSpec] | Mapping[str, MarketSpec],
        stp_default: str = "none",
    ) -> None:
        items = list(specs.values()) if isinstance(specs, Mapping) else list(specs)
        if not items:
            raise InvalidArgument("specs must name at least one market")
        self._books: dict[str, OrderBook] = {}
        for spec in items:
            if not isinstance(spec, MarketSpec):
                raise InvalidType(f"specs must hold MarketSpec objects, got {spec!r}")
            if spec.symbol in self._books:
                raise InvalidArgument(f"market {spec.symbol!r} is given twice")
            self._books[spec.symbol] = OrderBook(spec, stp_default=stp_default)
        self._last_seq = 0

    @property
    def markets(self) -> tuple[str, ...]:
        """Market symbols, sorted. O(markets log markets).

        >>> Exchange([MarketSpec("BOLT"), MarketSpec("ACME")]).markets
        ('ACME', 'BOLT')
        """
        return tuple(sorted(self._books))

    @property
    def last_seq(self) -> int:
        """Sequence number of the last accepted command (0 before any). O(1).

        >>> from clobkit.book.commands import Cancel, Place
        >>> ex = Exchange([MarketSpec("ACME")])
        >>> _ = ex.apply(Place("ACME", "alice", "buy", 100, 1), seq=5, ts_us=1)
        >>> _ = ex.apply(Cancel("ACME", "bob", 42), seq=6, ts_us=2)  # rejected: unknown order
        >>> ex.last_seq
        5
        """
        return self._last_seq

    def book(self, symbol: str) -> OrderBook:
        """The book of ``symbol``. O(1).

        >>> from clobkit.book.commands import Place
        >>> ex = Exchange([MarketSpec("ACME"), MarketSpec("BOLT")])
        >>> _ = ex.apply(Place("BOLT", "alice", "buy", 100, 3), seq=1, ts_us=1)
        >>> len(ex.book("BOLT")), len(ex.book("ACME"))
        (1, 0)

        Raises :class:`~clobkit.errors.InvalidArgument` if ``symbol`` is not a market here.
        """
        book = self._books.get(symbol)
        if book is None:
            raise InvalidArgument(f"unknown market {symbol!r}; markets are {self.markets}")
        return book

    def apply(self, command: Command, seq: int, ts_us: int) -> ApplyResult:
        """Route ``command`` to its market's book (see ``OrderBook.apply``). O(1) + the book.

        >>> from clobkit.book.commands import Place
        >>> ex = Exchange([MarketSpec("ACME")])
        >>> _ = ex.apply(Place("ACME", "alice", "sell", 100, 2), seq=1, ts_us=1)
        >>> r = ex.apply(Place("ACME", "bob", "buy", 100, 2), seq=2, ts_us=2)
        >>> r.status, [f.qty for f in r.fills]
        ('filled', [2])
        >>> ex.apply(Place("ACME", "bob", "buy", 100, 2), seq=2, ts_us=3)
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: seq must be an int greater than 2, got 2

        Raises :class:`~clobkit.errors.InvalidArgument` for a non-command or a bad ``seq``.
        """
        if type(seq) is not int or seq <= self._last_seq:
            raise InvalidArgument(f"seq must be an int greater than {self._last_seq}, got {seq!r}")
        # (exact types and `in` first, no call: every replica routes every command here)
        if type(command) not in _COMMANDS and not isinstance(command, Place | Cancel | Modify):
            raise InvalidType(f"command must be Place, Cancel or Modify, not {command!r}")
        books, market = self._books, command.market
        book = books[market] if type(market) is str and market in books else books.get(market)
        if book is None:
            if type(ts_us) is not int or ts_us < 0:
                raise InvalidArgument(f"ts_us must be a non-negative int, got {ts_us!r}")
            order_id = command.order_id
            return ApplyResult(False, "unknown_market", seq, ts_us, order_id, "rejected", (), 0, 0)
        result = book.apply(command, seq, ts_us)
        if result.accepted:
            self._last_seq = seq
        return result

    def snapshot(self) -> bytes:
        """All books' snapshots, by sorted symbol, deterministic. O(state).

        >>> a = Exchange([MarketSpec("ACME"), MarketSpec("BOLT")])
        >>> b = Exchange([MarketSpec("BOLT"), MarketSpec("ACME")])
        >>> a.snapshot() == b.snapshot()
        True
        """
        w = Writer()
        w.byte(_VERSION)
        w.uint(self._last_seq)
        w.uint(len(self._books))
        for symbol in self.markets:
            w.blob(self._books[symbol].snapshot())
        return _MAGIC + w.getvalue()

    @classmethod
    def restore(cls, data: bytes) -> Exchange:
        """Rebuild from :meth:`snapshot` bytes. O(state).

        >>> from clobkit.book.commands import Place
        >>> ex = Exchange([MarketSpec("ACME"), MarketSpec("BOLT")])
        >>> _ = ex.apply(Place("BOLT", "alice", "buy", 100, 1), seq=7, ts_us=1)
        >>> copy = Exchange.restore(ex.snapshot())
        >>> copy.markets, copy.last_seq, copy.digest() == ex.digest()
        (('ACME', 'BOLT'), 7, True)

        Raises ``InvalidArgument`` if ``data`` is malformed.
        """
        if not isinstance(data, bytes | bytearray) or bytes(data[:4]) != _MAGIC:
            raise InvalidArgument("malformed data: not an exchange snapshot")
        r = Reader(bytes(data[4:]))
        if r.byte() != _VERSION:
            raise InvalidArgument("malformed data: unsupported exchange snapshot version")
        last_seq = r.uint()
        books = []
        for _ in range(r.uint()):
            books.append(OrderBook.restore(r.blob()))
        r.done()
        if not books:
            raise InvalidArgument("malformed data: no markets")
        exchange = cls([b.spec for b in books], stp_default=books[0].stp_default)
        exchange._books = {b.spec.symbol: b for b in books}
        exchange._last_seq = last_seq
        return exchange

    def digest(self) -> str:
        """Hex BLAKE2b-128 of :meth:`snapshot`. O(state).

        >>> d = Exchange([MarketSpec("ACME")]).digest()
        >>> len(d), d == Exchange([MarketSpec("ACME")]).digest()
        (32, True)
        """
        return hashlib.blake2b(self.snapshot(), digest_size=16).hexdigest()

    def __repr__(self) -> str:
        return f"Exchange(markets={list(self.markets)}, last_seq={self._last_seq})"
