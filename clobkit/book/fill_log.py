"""The book's fill tape, stored column-wise: one ``array('q')`` per field, users interned.

Fills are stored in parallel ``array`` columns, with users interned to small ints, so a
DataFrame of a million fills builds in milliseconds (:meth:`FillLog.columns`). Matching
records each fill with :meth:`FillLog.record` (the one helper that records a fill;
``matching.cross`` inlines it), which adds the fill's column values to one flat pending
list (one ``+=`` of a small tuple instead of nine array appends). The pending list is
moved into the columns in batches, each column a C-level slice of it; every reader flushes
it first, or reads a pending row where it is (:meth:`FillLog.rows`), so it is invisible.

No :class:`~clobkit.book.results.Fill` is made while matching. The log only ever appends
(fill ``i`` is row ``i`` for good), so a command's result keeps the log and the span of
fill ids the command added, and :meth:`FillLog.rows` makes the ``Fill`` tuples when the
result's ``fills`` are read.

>>> log = FillLog("ACME")
>>> log.record(1, 10, 100, 2, 1, 0, "bob", "alice", 0)
>>> log.rows(0, 1)[0].qty, log.count, log.users()
(2, 1, ('bob', 'alice'))
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from operator import itemgetter
from struct import pack
from typing import Any

from clobkit.book.results import Fill

__all__ = ["FILL_COLUMNS", "FillLog"]

# Fill columns, in snapshot order: name -> array typecode.
FILL_COLUMNS = {
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
_WIDTH = len(FILL_COLUMNS)  # items per fill in the pending list (see flush)
_TAKER_USER, _MAKER_USER = 6, 7  # positions of the user names in a pending fill
assert list(FILL_COLUMNS)[_TAKER_USER : _MAKER_USER + 1] == ["taker_user_id", "maker_user_id"]
_FLUSH_AT = 4096 * _WIDTH  # pending fills are moved to the columns in batches of ~4096
_SIDES = ("buy", "sell")
_new = tuple.__new__  # builds a Fill without keyword handling (hot path)


class FillLog:
    """Every fill of one market, oldest first; fill ``i`` is row ``i`` of every column."""

    __slots__ = ("_columns", "_pending", "_user_ids", "_users", "count", "market")

    def __init__(self, market: str) -> None:
        self.market = market
        self._columns: dict[str, array[int]] = {k: array(t) for k, t in FILL_COLUMNS.items()}
        # Fills not yet in the columns (see flush), flat: one item per column per fill.
        self._pending: list[Any] = []
        self.count = 0  # fills in the columns plus pending ones: the next fill id
        self._users: list[str] = []
        self._user_ids: dict[str, int] = {}

    def record(
        self,
        seq: int,
        ts_us: int,
        price: int,
        qty: int,
        taker_order_id: int,
        maker_order_id: int,
        taker_user: str,
        maker_user: str,
        side_code: int,
    ) -> None:
        """Add one fill (``side_code`` 0 buy, 1 sell: the taker's side) as fill id
        :attr:`count`. O(1) amortised."""
        pending = self._pending
        pending += (
            seq,
            ts_us,
            price,
            qty,
            taker_order_id,
            maker_order_id,
            taker_user,
            maker_user,
            side_code,
        )
        self.count += 1
        if len(pending) >= _FLUSH_AT:
            self.flush()

    def rows(self, start: int, stop: int) -> tuple[Fill, ...]:
        """Fills ``start`` .. ``stop - 1`` (fill ids) as :class:`Fill` tuples. O(stop - start).

        Reads pending rows where they are (no flush), so reading a result's fills costs
        only those rows.
        """
        assert 0 <= start <= stop <= self.count, (start, stop, self.count)
        pending = self._pending
        flushed = self.count - len(pending) // _WIDTH  # fill ids below it are in the columns
        market = self.market
        out = []
        for i in range(start, stop):
            if i < flushed:
                out.append(self._row(i))
            else:
                k = (i - flushed) * _WIDTH
                seq, ts_us, price, qty, taker_id, maker_id, taker, maker, side = pending[
                    k : k + _WIDTH
                ]
                out.append(
                    _new(
                        Fill,
                        (i, seq, ts_us, market, price, qty, taker_id, maker_id, taker, maker,
                         _SIDES[side]),
                    )
                )  # fmt: skip
        return tuple(out)

    def _row(self, i: int) -> Fill:
        """Fill ``i``, read from the columns (it must be flushed)."""
        c, users = self._columns, self._users
        return _new(
            Fill,
            (
                i,
                c["seq"][i],
                c["ts_us"][i],
                self.market,
                c["price_ticks"][i],
                c["qty_lots"][i],
                c["taker_order_id"][i],
                c["maker_order_id"][i],
                users[c["taker_user_id"][i]],
                users[c["maker_user_id"][i]],
                _SIDES[c["aggressor_side"][i]],
            ),
        )

    def flush(self) -> None:
        """Move pending fills into the columns (users interned in order of appearance).

        Every column is built in C from a slice (``pending[k::9]``) packed by ``struct``;
        only user names need a lookup (``map``). Representation only: what the log holds
        does not change.
        """
        pending = self._pending
        if not pending:
            return
        c = self._columns
        n = len(pending) // _WIDTH
        users = pending[_TAKER_USER::_WIDTH] + pending[_MAKER_USER::_WIDTH]
        ids = self._user_ids
        try:
            # One C loop of dict look-ups (2n >= 2 keys: itemgetter returns a tuple).
            user_ids = itemgetter(*users)(ids)
        except KeyError:  # new users get ids in order of appearance (taker before maker)
            for taker, maker in zip(users[:n], users[n:], strict=True):
                if taker not in ids:
                    self.intern(taker)
                if maker not in ids:
                    self.intern(maker)
            user_ids = itemgetter(*users)(ids)
        for k, (name, typecode) in enumerate(FILL_COLUMNS.items()):
            if k == _TAKER_USER:
                values = user_ids[:n]
            elif k == _MAKER_USER:
                values = user_ids[n:]
            else:
                values = pending[k::_WIDTH]
            # struct packs ints about twice as fast as array(typecode, list), which parses
            # each item as a call argument; both use the machine's native item layout.
            c[name].frombytes(pack(f"{n}{typecode}", *values))
        pending.clear()
        assert all(len(column) == self.count for column in c.values())

    def intern(self, user: str) -> int:
        """The small int standing for ``user`` in the columns (assigned on first fill)."""
        uid = self._user_ids.get(user)
        if uid is None:
            uid = self._user_ids[user] = len(self._users)
            self._users.append(user)
        return uid

    def users(self) -> tuple[str, ...]:
        """The user table the ``*_user_id`` columns index into. O(users)."""
        self.flush()
        return tuple(self._users)

    def user_ids(self) -> dict[str, int]:
        """A copy of user -> id (for writers that extend the table). O(users)."""
        self.flush()
        return dict(self._user_ids)

    def columns(self) -> dict[str, array[int]]:
        """The columns themselves (flushed), keyed by name; callers must not change them."""
        self.flush()
        return self._columns

    def fills(self, user: str | None = None, since_seq: int | None = None) -> list[Fill]:
        """Fills in order, optionally only ``user``'s (taker or maker) with ``seq >
        since_seq``. O(fills scanned)."""
        self.flush()
        c = self._columns
        start = 0 if since_seq is None else bisect_right(c["seq"], since_seq)
        uid = None
        if user is not None:
            uid = self._user_ids.get(user)
            if uid is None:
                return []
        takers, makers = c["taker_user_id"], c["maker_user_id"]
        row = self._row
        return [
            row(i)
            for i in range(start, len(c["seq"]))
            if uid is None or uid == takers[i] or uid == makers[i]
        ]

    def load(self, columns: dict[str, array[int]], users: list[str]) -> None:
        """Replace the contents with restored ``columns`` and user table (snapshots)."""
        self._columns = columns
        self._pending = []
        self.count = len(columns["seq"])
        self._users = users
        self._user_ids = {name: i for i, name in enumerate(users)}

    def _check(self, last_seq: int) -> None:
        """Assert the columns' invariants (equal lengths, ordered seqs, positive qtys)."""
        self.flush()
        lengths = {len(c) for c in self._columns.values()}
        assert lengths == {self.count}, "fill columns have equal length"
        fill_seqs = self._columns["seq"]
        assert list(fill_seqs) == sorted(fill_seqs)
        assert not fill_seqs or fill_seqs[-1] <= last_seq
        assert all(q > 0 for q in self._columns["qty_lots"])
        assert self._user_ids == {u: i for i, u in enumerate(self._users)}
