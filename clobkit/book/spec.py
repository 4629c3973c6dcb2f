"""Market specifications: exact conversion between prices/quantities and integer ticks/lots.

A market trades in a grid: prices are whole multiples of the *tick* and quantities whole
multiples of the *lot*. Inside the book everything is an ``int`` (ticks and lots), so
matching never rounds and every replica computes byte-identical state. :class:`MarketSpec`
is the one place where user-facing numbers (``int``, ``str``, ``Decimal``) cross into the
integer world, and it refuses anything that is not exactly on the grid.

What a price or quantity may be (the grammar; everything else is refused with an
:class:`~clobkit.errors.InvalidArgument` that quotes the input):

* an ``int`` (not ``bool``): a whole number of price units, ``100`` means ``100.00``;
* a ``str`` of at most :data:`MAX_NUMBER_CHARS` characters matching
  ``[+-]? ( DIGITS [ "." [DIGITS] ] | "." DIGITS )`` where DIGITS are the ASCII digits
  ``0``-``9``: ``"100.50"``, ``"7"``, ``".5"``. No spaces, no ``_`` separators, no
  exponent (``"1e3"``), no other digits (fullwidth ``"１００"``, Arabic-Indic ``"١٠٠"``),
  no ``"NaN"`` or ``"inf"``. A sign parses, so ``"-1"`` is refused as "must be positive";
* a finite ``Decimal`` with at most :data:`MAX_NUMBER_CHARS` digits and an exponent in
  ``-MAX_NUMBER_CHARS..MAX_NUMBER_CHARS``.

Floats are refused (:class:`~clobkit.errors.InvalidType`), with a hint to pass a string:
a float is a binary approximation (``0.1 + 0.2 != 0.3``) and an exchange must not guess
which decimal was meant. Every check is constant time in the size of the input (lengths
and exponents are bounded before any arithmetic), so ``"1e999999999"`` is refused at once.

Ints on an integer grid and plain decimal strings take a fast path (integer arithmetic,
no ``Decimal``); it returns a value only where the general path returns the same value,
and otherwise hands over to the general path for the error
(``tests/book/test_book_parsing.py`` proves the two agree). A spec remembers the last few
thousand price strings it converted (a dict lookup instead of parsing the same ``"100.50"``
again); the memo holds only exact fast-path answers.

>>> spec = MarketSpec("ACME", tick="0.01", lot=1)
>>> spec.price_to_ticks("100.50"), spec.ticks_to_price(10050)
(10050, Decimal('100.50'))
>>> spec.price_to_ticks(100.5)
Traceback (most recent call last):
...
clobkit.errors.InvalidType: price must be a str, int or Decimal, not float: 100.5 (a float \
is a binary approximation; pass the exact decimal as a string, e.g. price='100.5')
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["MAX_NUMBER_CHARS", "MAX_UNITS", "MarketSpec", "quote"]

#: Largest tick or lot count accepted anywhere (fits a signed 64-bit column with headroom).
MAX_UNITS = 2**62

#: Longest number string accepted; also the bound on a Decimal's digits and exponent.
MAX_NUMBER_CHARS = 40

# The grammar of a number string (module docstring). ``[0-9]`` is ASCII only.
_NUMBER = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?")

# How many converted price strings a spec remembers (then it starts afresh).
_MEMO_SIZE = 4096

# 10**k for every scale a plain decimal string can have (the fast path looks them up).
_POW10: tuple[int, ...] = tuple(10**k for k in range(MAX_NUMBER_CHARS + 1))


def quote(value: object, limit: int = MAX_NUMBER_CHARS) -> str:
    """``repr(value)``, shortened to about ``limit`` characters for error messages. O(limit).

    >>> quote("x" * 100, limit=10)
    "'xxxxxxxxxx'... (100 chars)"
    """
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}... ({len(value)} chars)"
    text = repr(value)
    return text if len(text) <= 2 * limit else f"{text[:limit]}... ({len(text)} chars)"


def _exact(value: object, name: str) -> Fraction:
    """The general path: ``value`` as an exact ``Fraction`` under the documented grammar."""
    if isinstance(value, bool):
        raise InvalidType(f"{name} must be a number, not bool: {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        example = f", e.g. {name}='{value!r}'" if math.isfinite(value) else ""
        raise InvalidType(
            f"{name} must be a str, int or Decimal, not float: {quote(value)} (a float is a "
            f"binary approximation; pass the exact decimal as a string{example})"
        )
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidArgument(f"{name} must be finite, got {quote(value)}")
        _sign, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)
        if len(digits) > MAX_NUMBER_CHARS or not -MAX_NUMBER_CHARS <= exponent <= MAX_NUMBER_CHARS:
            raise InvalidArgument(
                f"{name} {quote(value)} has too many digits or too large an exponent "
                f"(at most {MAX_NUMBER_CHARS} each)"
            )
        return Fraction(value)
    if isinstance(value, str):
        if len(value) > MAX_NUMBER_CHARS:
            raise InvalidArgument(
                f"{name} {quote(value)} is too long for a number (at most {MAX_NUMBER_CHARS} chars)"
            )
        match = _NUMBER.fullmatch(value)
        if match is None or not (match[2] or match[3]):
            raise InvalidArgument(
                f"{name} is not a number: {quote(value)} (write ASCII digits with at most one "
                "point, like '100.50'; no spaces, '_', exponents or other digits)"
            )
        sign, whole, frac = match[1], match[2], match[3] or ""
        magnitude = Fraction(int(whole + frac or "0"), _POW10[len(frac)])
        return -magnitude if sign == "-" else magnitude
    raise InvalidType(
        f"{name} must be a str, int or Decimal, not {type(value).__name__}: {quote(value)}"
    )


def _to_decimal(value: object, name: str) -> Decimal:
    """``value`` as an exact ``Decimal`` under the grammar (for ticks, lots and bands)."""
    exact = _exact(value, name)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        return Decimal(value)  # the grammar admits only what Decimal reads exactly
    return Decimal(exact.numerator)


@dataclass(frozen=True, slots=True)
class MarketSpec:
    """The grid of one market: symbol, tick size, lot size and an optional price band.

    ``tick`` and ``lot`` are positive exact numbers (``str``, ``int`` or ``Decimal``, under
    the grammar of the module docstring);
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
    _tick_num: int = field(init=False, repr=False, compare=False)
    _tick_den: int = field(init=False, repr=False, compare=False)
    _lot_num: int = field(init=False, repr=False, compare=False)
    _lot_den: int = field(init=False, repr=False, compare=False)
    # Price strings already converted by the fast path -> ticks (bounded; see price_to_ticks).
    _price_memo: dict[str, int] = field(init=False, repr=False, compare=False)
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
        setattr_(self, "_tick_num", self._tick.numerator)  # ints for the fast paths
        setattr_(self, "_tick_den", self._tick.denominator)
        setattr_(self, "_lot_num", self._lot.numerator)
        setattr_(self, "_lot_den", self._lot.denominator)
        setattr_(self, "_price_memo", {})
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
        """Convert a price to whole ticks, exactly. O(1) (inputs are bounded in size).

        >>> MarketSpec("ACME", tick="0.01").price_to_ticks("100.5")
        10050
        >>> MarketSpec("ACME", tick="0.01").price_to_ticks(" 100")
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: price is not a number: ' 100' (write ASCII digits \
with at most one point, like '100.50'; no spaces, '_', exponents or other digits)

        Raises :class:`~clobkit.errors.InvalidType` for floats, bools and other types and
        :class:`~clobkit.errors.InvalidArgument` for text outside the grammar (see the
        module docstring), zero/negative, off-tick or out-of-band values.
        """
        # Fast paths (same answers as _price_general, proven by test_book_parsing.py): an
        # int or a plain unsigned decimal string, in integer arithmetic. Anything they do not
        # accept goes to the general path, which also words every error.
        if type(value) is int:
            scaled = value * self._tick_den
            ticks = scaled // self._tick_num
            if ticks * self._tick_num == scaled and self.min_ticks <= ticks <= self.max_ticks:
                return ticks
        elif type(value) is str:
            # People type the same few prices again and again: a string the fast path has
            # converted is remembered (at most _MEMO_SIZE of them; exact, so it cannot drift).
            memo = self._price_memo
            known = memo.get(value)
            if known is not None:
                return known
            if len(value) <= MAX_NUMBER_CHARS and value.isascii():
                whole, _, frac = value.partition(".")
                digits = whole + frac
                if (whole.isdigit() or not whole) and (frac.isdigit() or not frac) and digits:
                    scaled = int(digits) * self._tick_den
                    unit = self._tick_num * _POW10[len(frac)]
                    ticks = scaled // unit
                    if ticks * unit == scaled and self.min_ticks <= ticks <= self.max_ticks:
                        if len(memo) >= _MEMO_SIZE:
                            memo.clear()
                        memo[value] = ticks
                        return ticks
        return self._price_general(value, name)

    def _price_general(self, value: object, name: str) -> int:
        """:meth:`price_to_ticks` through ``Fraction``: every type, every error. O(1)."""
        exact = _exact(value, name)
        if exact <= 0:
            raise InvalidArgument(f"{name} must be positive, got {quote(value)}")
        ticks = exact / self._tick
        if ticks.denominator != 1:
            raise InvalidArgument(
                f"{name} {quote(value)} is not a multiple of the tick {self.tick}"
            )
        result = int(ticks)
        if not self.min_ticks <= result <= self.max_ticks:
            raise InvalidArgument(
                f"{name} {quote(value)} is outside the allowed band "
                f"[{self.ticks_to_price(self.min_ticks)}, {self.ticks_to_price(self.max_ticks)}]"
            )
        return result

    def qty_to_lots(self, value: object, name: str = "qty") -> int:
        """Convert a quantity to whole lots, exactly. O(1) (inputs are bounded in size).

        >>> MarketSpec("ACME", lot="0.5").qty_to_lots("1.5")
        3

        Raises :class:`~clobkit.errors.InvalidType` / :class:`~clobkit.errors.InvalidArgument`
        like :meth:`price_to_ticks` (grammar, zero, negative, off-lot, too large, floats).
        """
        if type(value) is int:  # fast paths as in price_to_ticks
            scaled = value * self._lot_den
            lots = scaled // self._lot_num
            if lots * self._lot_num == scaled and 0 < lots <= MAX_UNITS:
                return lots
        elif type(value) is str and len(value) <= MAX_NUMBER_CHARS and value.isascii():
            whole, _, frac = value.partition(".")
            if (whole.isdigit() or not whole) and (frac.isdigit() or not frac) and whole + frac:
                scaled = int(whole + frac) * self._lot_den
                unit = self._lot_num * _POW10[len(frac)]
                lots = scaled // unit
                if lots * unit == scaled and 0 < lots <= MAX_UNITS:
                    return lots
        return self._qty_general(value, name)

    def _qty_general(self, value: object, name: str) -> int:
        """:meth:`qty_to_lots` through ``Fraction``: every type, every error. O(1)."""
        exact = _exact(value, name)
        if exact <= 0:
            raise InvalidArgument(f"{name} must be positive, got {quote(value)}")
        lots = exact / self._lot
        if lots.denominator != 1:
            raise InvalidArgument(f"{name} {quote(value)} is not a multiple of the lot {self.lot}")
        result = int(lots)
        if result > MAX_UNITS:
            raise InvalidArgument(f"{name} {quote(value)} is too large")
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
        >>> MarketSpec("ACME", tick="0.00000001").format_price(5)  # never "5E-8"
        '0.00000005'
        """
        if ticks is None:
            return "market"
        return format(self.ticks_to_price(ticks), "f")  # plain digits, never "1E-8"

    def format_qty(self, lots: int) -> str:
        """A quantity in lots as a person reads it: whole units when the lot is 1. O(1).

        >>> MarketSpec("ACME").format_qty(4), MarketSpec("ACME", lot="0.1").format_qty(25)
        ('4', '2.5')
        """
        qty = self.lots_to_qty(lots)
        return str(qty) if isinstance(qty, int) else format(qty, "f")

    @property
    def tick_fraction(self) -> Fraction:
        """The tick as an exact ``Fraction`` (for vectorised conversions)."""
        return self._tick

    @property
    def lot_fraction(self) -> Fraction:
        """The lot as an exact ``Fraction`` (for vectorised conversions)."""
        return self._lot
