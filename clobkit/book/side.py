"""One side of the book: its price levels, each a FIFO of resting orders, and its best price.

A side is a ``dict`` price (ticks) -> :class:`Level` plus the level prices in ascending
order (the best bid is the last price, the best ask the first). The best price is cached in
:attr:`BookSide.best`, so the price list is touched only when a level is created or emptied.
Empty levels are removed at once.

The price list is a plain ``list`` kept sorted with :mod:`bisect` while the side has at most
:data:`SMALL_SIDE_LEVELS` levels: a level is added or removed by a C binary search and a C
``memmove`` of at most that many pointers, several times cheaper than a
``sortedcontainers.SortedList`` at the tens to hundreds of levels a book usually holds
(``benchmarks/bench_book.py``). A side that grows past that many levels moves its prices to
a ``SortedList`` (O(log L) per level created or emptied, whatever L) and keeps it. Which of
the two holds the prices is representation only: both iterate, index and pop alike, and
``tests/book/test_book_fast_paths.py`` proves the bytes equal.

A level is a FIFO ``deque`` of :class:`Resting` orders with its price, side, live quantity
and the number of dead (lazily deleted) entries it still holds. Each resting order points
to its level, so a cancel reaches the level without a price lookup. Removing an order from
the middle of a deque would cost O(level size), so a cancel uses *lazy deletion*: it sets
the order's open quantity to 0, fixes the level's totals and leaves the dead entry in the
deque. Matching pops dead entries when it meets them at the front, and a level whose deque
holds more dead than live entries (plus a little slack) is compacted; each compaction is
paid for by the cancels that created the dead entries, so a cancel is O(1) amortised (plus
the price-list update above when it empties a level).

>>> side = BookSide(is_buy=True)
>>> level = side.new_level(100)
>>> side.best, level.price, level.count
(100, 100, 0)
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque
from collections.abc import Iterator
from operator import attrgetter

from sortedcontainers import SortedList

__all__ = ["SMALL_SIDE_LEVELS", "BookSide", "Level", "Resting"]

#: Most levels a side keeps in a plain sorted ``list``; past it, a ``SortedList`` (see above).
SMALL_SIDE_LEVELS = 2048

_open_qty = attrgetter("qty")  # a resting order's open lots: 0 (false) for a dead entry


class Resting:
    """One live (or lazily deleted, ``qty == 0``) resting order; 6 slots, 80 bytes.

    There is no price or side slot: the order points to its :class:`Level`, which holds
    both (so a cancel finds its level without a lookup). There is no filled slot either:
    filled = original - qty - cancelled, and nearly every order has nothing cancelled
    (only a modify cancels part of an order), so a partial fill updates ``qty`` alone. The
    sequence number that gave the order its time priority is its ``order_id`` for nearly
    every order; the book keeps the rare exceptions (explicit ids, modified orders) and
    the cancelled quantities beside the orders (``OrderBook._extras``). A maker that trades
    in full is dropped from the book at once and its slots are not updated any more.
    """

    __slots__ = ("level", "order_id", "original", "qty", "ts_us", "user")

    # No __init__: the book sets the slots right after ``Resting()``, which is ~50 ns
    # cheaper than a call through ``__init__`` or ``object.__new__`` (posts make many).
    order_id: int
    user: str
    level: Level
    qty: int  # open quantity in lots; 0 marks a dead entry left in a deque
    original: int  # filled + qty + cancelled == original
    ts_us: int  # when the order got its time priority

    @property
    def price(self) -> int:
        """The order's limit price in ticks (its level's price)."""
        return self.level.price

    @property
    def side(self) -> str:
        """``"buy"`` or ``"sell"`` (its level's side)."""
        return "buy" if self.level.is_buy else "sell"


class Level:
    """A price level: FIFO of resting orders, its side, live quantity, count of dead entries.

    Live orders = ``len(orders) - dead``; a post only appends (no counter to bump).
    """

    __slots__ = ("dead", "is_buy", "orders", "price", "qty")

    # No __init__, as for Resting: BookSide.new_level sets every slot.
    price: int
    is_buy: bool
    orders: deque[Resting]
    qty: int
    dead: int

    @property
    def count(self) -> int:
        """Number of live orders at this level."""
        return len(self.orders) - self.dead

    def live(self) -> Iterator[Resting]:
        """The live orders, oldest first."""
        return (o for o in self.orders if o.qty)


class BookSide:
    """The bids or the asks: levels by price, the sorted prices and the cached best price."""

    __slots__ = ("best", "is_buy", "levels", "prices", "small")

    def __init__(self, is_buy: bool) -> None:
        self.is_buy = is_buy
        self.levels: dict[int, Level] = {}
        # Ascending prices: a plain list while ``small``, else a SortedList (module docstring).
        self.prices: list[int] | SortedList = []
        self.small = True
        self.best: int | None = None

    def new_level(self, price: int) -> Level:
        """Create an empty level at ``price`` and keep ``best`` right. O(log L) search, plus a
        ``memmove`` of at most :data:`SMALL_SIDE_LEVELS` pointers while the side is small."""
        level = Level()
        level.price = price
        level.is_buy = self.is_buy
        level.orders = deque()
        level.qty = 0
        level.dead = 0
        self.levels[price] = level
        prices = self.prices
        if self.small:
            insort(prices, price)
            if len(prices) > SMALL_SIDE_LEVELS:
                self.prices = SortedList(prices)
                self.small = False
        else:
            sorted_prices: SortedList = prices
            sorted_prices.add(price)
        best = self.best
        if best is None or (price > best if self.is_buy else price < best):
            self.best = price
        return level

    def rest(self, order: Resting, price: int) -> None:
        """Append ``order`` (slots set but ``level``) to the back of the level at ``price``."""
        level = self.levels.get(price)
        if level is None:
            level = self.new_level(price)
        order.level = level
        level.orders.append(order)
        level.qty += order.qty

    def drop_best(self) -> int | None:
        """Remove the (empty) best level; return the new best price. O(1) for bids; for asks
        a ``memmove`` of at most :data:`SMALL_SIDE_LEVELS` pointers, or O(log L)."""
        prices = self.prices
        best = self.best
        assert best is not None
        del self.levels[best]
        if self.is_buy:
            prices.pop()
            # ``levels`` has the same keys as ``prices``; its emptiness test is C-level.
            self.best = prices[-1] if self.levels else None
        else:
            prices.pop(0)
            self.best = prices[0] if self.levels else None
        return self.best

    def unlink(self, order: Resting) -> None:
        """Take a live order out of its level: lazy deletion, O(1) amortised."""
        level = order.level
        level.qty -= order.qty
        level.dead += 1
        order.qty = 0
        size = len(level.orders)
        if size == level.dead or 2 * level.dead > size + 8:
            self.tidy(level)

    def tidy(self, level: Level) -> None:
        """Drop a level with no live orders, or compact one with more dead than live entries."""
        if len(level.orders) == level.dead:
            price = level.price
            del self.levels[price]
            if self.small:
                prices = self.prices
                del prices[bisect_left(prices, price)]
            else:
                self.prices.remove(price)
            if price == self.best:
                prices = self.prices
                self.best = (prices[-1] if self.is_buy else prices[0]) if prices else None
        else:
            # Compaction is paid for by the cancels that made the dead entries: O(1) amortised.
            # (The live orders, as level.live() gives them, filtered in C.)
            level.orders = deque(filter(_open_qty, level.orders))
            level.dead = 0

    def best_first(self) -> Iterator[Level]:
        """The levels, best price first. O(1) per level."""
        prices = reversed(self.prices) if self.is_buy else iter(self.prices)
        levels = self.levels
        return (levels[p] for p in prices)

    def crosses(self, price: int) -> bool:
        """Whether a taker on the *other* side at ``price`` would meet this side's best. O(1)."""
        best = self.best
        if best is None:
            return False
        return price <= best if self.is_buy else price >= best

    def _check(self) -> None:
        """Assert the side's structure: sorted prices match levels, no empty level."""
        assert list(self.prices) == sorted(set(self.levels)), "price list matches level keys"
        assert self.small == (type(self.prices) is list), "a plain list exactly while small"
        assert not self.small or len(self.prices) <= SMALL_SIDE_LEVELS
        expected = (self.prices[-1] if self.is_buy else self.prices[0]) if self.prices else None
        assert self.best == expected, "cached best price"
        for price, level in self.levels.items():
            assert level.price == price and level.is_buy == self.is_buy
            live = list(level.live())
            assert live, f"empty level {price} left in the book"
            assert level.count == len(live)
            assert level.qty == sum(o.qty for o in live)
            assert 2 * level.dead <= len(level.orders) + 8, "compaction keeps dead bounded"
            for o in live:
                assert o.level is level, "order points to its level"
