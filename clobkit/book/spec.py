"""Market specifications: exact conversion between prices/quantities and integer ticks/lots.

A market trades in a grid: prices are whole multiples of the *tick* and quantities whole
multiples of the *lot*. Inside the book everything is an ``int`` (ticks and lots), so
matching never rounds and every replica computes byte-identical state. :class:`MarketSpec`
is the one place where user-facing numbers (``int``, ``str``, ``Decimal``) cross into the
integer world, and it refuses anything that is not exactly on the grid.

Floats are accepted only when their shortest decimal spelling (``Decimal(str(x))``, which is
what ``repr`` prints) lies exactly on the grid: ``100.5`` is fine with a tick of ``0.01``,
``100.005`` is not. NaN, infinities and ``bool`` are always refused.

>>> spec = MarketSpec("ACME", tick="0.01", lot=1)
>>> spec.price_to_ticks("100.50"), spec.ticks_to_price(10050)
(10050, Decimal('100.50'))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["MAX_UNITS", "MarketSpec"]

#: Largest tick or lot count accepted anywhere (fits a signed 64-bit column with headroom).
MAX_UNITS = 2**62


def _to_decimal(value: object, name: str) -> Decimal:
    """Convert ``value`` to an exact, finite ``Decimal`` or raise naming ``name``."""
    if isinstance(value, bool):
        raise InvalidType(f"{name} must be a number, not bool: {value!r}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgument(f"{name} must be finite, got {value!r}")
        result = Decimal(str(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidArgument(f"{name} is not a number: {value!r}") from None
    else:
        raise InvalidType(
            f"{name} must be int, float, str or Decimal, not {type(value).__name__}: {value!r}"
        )
    if not result.is_finite():
        raise InvalidArgument(f"{name} must be finite, got {value!r}")
    return result


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """The grid of one market: symbol, tick size, lot size and an optional price band.

    ``tick`` and ``lot`` are positive exact numbers (``str``, ``int`` or ``Decimal``);
    ``min_price``/``max_price`` (price units, inclusive) bound every limit price.

    >>> MarketSpec("ACME", tick="0.05", lot="0.1").qty_to_lots("2.5")
    25

    Raises :class:`~clobkit.errors.InvalidArgument` for an empty symbol, a non-positive or
    non-finite tick/lot, or a band that is off-grid or empty.
    """

    symbol: str
    tick: Decimal | str | int = "0.01"
    lot: Decimal | str | int = 1
    min_price: Decimal | str | int | None = None
    max_price: Decimal | str | int | None = None
    # Derived exact fractions (not part of the constructor).
    _tick: Fraction = field(init=False, repr=False, compare=False)
    _lot: Fraction = field(init=False, repr=False, compare=False)
    min_ticks: int = field(init=False, repr=False, compare=False)
    max_ticks: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.symbol, str) or not self.symbol:
            raise InvalidArgument(f"symbol must be a non-empty str, got {self.symbol!r}")
        tick = _to_decimal(self.tick, "tick")
        lot = _to_decimal(self.lot, "lot")
        if tick <= 0:
            raise InvalidArgument(f"tick must be positive, got {self.tick!r}")
        if lot <= 0:
            raise InvalidArgument(f"lot must be positive, got {self.lot!r}")
        setattr_ = object.__setattr__  # frozen dataclass: set derived fields once, here
        setattr_(self, "tick", tick)
        setattr_(self, "lot", lot)
        setattr_(self, "_tick", Fraction(tick))
        setattr_(self, "_lot", Fraction(lot))
        setattr_(self, "min_ticks", 1)
        setattr_(self, "max_ticks", MAX_UNITS)
        low = 1 if self.min_price is None else self.price_to_ticks(self.min_price, "min_price")
        high = (
            MAX_UNITS
            if self.max_price is None
            else self.price_to_ticks(self.max_price, "max_price")
        )
        if low > high:
            raise InvalidArgument(
                f"min_price must not exceed max_price, got {self.min_price!r} > {self.max_price!r}"
            )
        setattr_(self, "min_ticks", low)
        setattr_(self, "max_ticks", high)
        if self.min_price is not None:
            setattr_(self, "min_price", self.ticks_to_price(low))
        if self.max_price is not None:
            setattr_(self, "max_price", self.ticks_to_price(high))

    def price_to_ticks(self, value: object, name: str = "price") -> int:
        """Convert a price to whole ticks, exactly. O(1).

        >>> MarketSpec("ACME", tick="0.01").price_to_ticks(100.5)
        10050

        Raises :class:`~clobkit.errors.InvalidType` for bool/unsupported types and
        :class:`~clobkit.errors.InvalidArgument` for NaN/inf, zero/negative, off-tick or
        out-of-band values.
        """
        exact = Fraction(_to_decimal(value, name))
        if exact <= 0:
            raise InvalidArgument(f"{name} must be positive, got {value!r}")
        ticks = exact / self._tick
        if ticks.denominator != 1:
            raise InvalidArgument(f"{name} {value!r} is not a multiple of the tick {self.tick}")
        result = int(ticks)
        if not self.min_ticks <= result <= self.max_ticks:
            raise InvalidArgument(
                f"{name} {value!r} is outside the allowed band "
                f"[{self.ticks_to_price(self.min_ticks)}, {self.ticks_to_price(self.max_ticks)}]"
            )
        return result

    def qty_to_lots(self, value: object, name: str = "qty") -> int:
        """Convert a quantity to whole lots, exactly. O(1).

        >>> MarketSpec("ACME", lot="0.5").qty_to_lots("1.5")
        3

        Raises :class:`~clobkit.errors.InvalidType` / :class:`~clobkit.errors.InvalidArgument`
        like :meth:`price_to_ticks` (zero, negative, off-lot, non-finite, bool).
        """
        exact = Fraction(_to_decimal(value, name))
        if exact <= 0:
            raise InvalidArgument(f"{name} must be positive, got {value!r}")
        lots = exact / self._lot
        if lots.denominator != 1:
            raise InvalidArgument(f"{name} {value!r} is not a multiple of the lot {self.lot}")
        result = int(lots)
        if result > MAX_UNITS:
            raise InvalidArgument(f"{name} {value!r} is too large")
        return result

    def ticks_to_price(self, ticks: int) -> Decimal:
        """The price of ``ticks`` whole ticks, as an exact ``Decimal``. O(1).

        >>> MarketSpec("ACME", tick="0.01").ticks_to_price(10050)
        Decimal('100.50')
        """
        tick = self.tick
        assert isinstance(tick, Decimal)
        return tick * ticks

    def lots_to_qty(self, lots: int) -> Decimal | int:
        """The quantity of ``lots`` whole lots: an ``int`` when the lot is 1, else a ``Decimal``.

        >>> MarketSpec("ACME", lot=1).lots_to_qty(7), MarketSpec("ACME", lot="0.1").lots_to_qty(7)
        (7, Decimal('0.7'))
        """
        lot = self.lot
        assert isinstance(lot, Decimal)
        if lot == 1:
            return int(lots)
        return lot * lots

    def format_price(self, ticks: int | None) -> str:
        """A price in ticks as a person reads it: the market's units, as the tick writes them. O(1).

        This is the one function every display (reprs, tables, errors, explanations, figures)
        uses, so that people read ``100.50`` where the book holds ``10050`` ticks.
        ``None`` (a market order has no price) reads ``"market"``.

        >>> spec = MarketSpec("ACME", tick="0.01")
        >>> spec.format_price(10050), spec.format_price(7), spec.format_price(None)
        ('100.50', '0.07', 'market')
        >>> MarketSpec("ACME", tick=1).format_price(99)
        '99'
        """
        if ticks is None:
            return "market"
        return str(self.ticks_to_price(ticks))

    def format_qty(self, lots: int) -> str:
        """A quantity in lots as a person reads it: whole units when the lot is 1. O(1).

        >>> MarketSpec("ACME").format_qty(4), MarketSpec("ACME", lot="0.1").format_qty(25)
        ('4', '2.5')
        """
        return str(self.lots_to_qty(lots))

    @property
    def tick_fraction(self) -> Fraction:
        """The tick as an exact ``Fraction`` (for vectorised conversions)."""
        return self._tick

    @property
    def lot_fraction(self) -> Fraction:
        """The lot as an exact ``Fraction`` (for vectorised conversions)."""
        return self._lot
