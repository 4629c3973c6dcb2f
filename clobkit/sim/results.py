"""What a synchronous cluster call returns, in the units people type, and the handle of an
asynchronous one.

Inside, the book counts prices in integer ticks and quantities in integer lots; a person
typed ``price="100.50"`` and should read ``100.50`` back. So everything a
:class:`~clobkit.sim.Cluster` call returns speaks market units:

- ``c.place``/``c.cancel``/``c.modify`` return a :class:`CommandResult`;
- ``c.fills()`` a list of :class:`FillReport`, ``c.live_orders()`` a list of
  :class:`LiveOrder`, ``c.depth()`` ``{"bids": [PriceLevel...], "asks": [...]}``.

In each, ``price`` is the exact :class:`~decimal.Decimal` price (``Decimal('100.50')``) and
``qty`` the quantity (an ``int`` of whole units when the lot is 1, the default; else an exact
``Decimal``). The raw book values stay available under names that say what they are:
``price_ticks``, ``qty_lots`` (and ``filled_qty_lots`` ...), and ``.fill``/``.order``/
``.result`` hold the book's own objects. Reprs print prices as the market spec writes them
(:meth:`~clobkit.book.MarketSpec.format_price`).

:class:`Call` is the handle :meth:`clobkit.sim.Cluster.submit` returns: it
is ``pending`` until the client learns the outcome (``ok``), the request is
refused before it could apply (``fail``), or the client gives up (``unknown``:
it may or may not have taken effect).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from clobkit.book import ApplyResult, Fill, MarketSpec, Order
from clobkit.errors import ClobError
from clobkit.slotinit import install_slot_init

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "Call",
    "CommandResult",
    "FillReport",
    "LiveOrder",
    "PriceLevel",
    "book_values",
    "fills_frame",
    "for_people",
    "orders_frame",
]


def _delegate(obj: Any, slot: str, name: str) -> Any:
    """``getattr(obj.<slot>, name)`` for names the wrapper lacks (new book fields pass through)."""
    if name.startswith("__"):
        raise AttributeError(name)
    return getattr(object.__getattribute__(obj, slot), name)


@dataclass(frozen=True, slots=True, repr=False)
class FillReport:
    """One trade as people read it: ``price`` an exact ``Decimal``, ``qty`` in units.

    Every other field of the book's :class:`~clobkit.book.Fill` reads through (``fill_id``,
    ``seq``, ``ts_us``, ``market``, ``taker_order_id``, ``maker_order_id``, ``taker_user``,
    ``maker_user``, ``aggressor_side``); ``price_ticks``/``qty_lots`` and ``.fill`` keep the
    book's values.

    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> f = FillReport(Fill(0, 2, 2, "ACME", 10050, 4, 2, 1, "bob", "alice", "buy"), spec)
    >>> f
    FillReport(fill_id=0, seq=2, price=100.50, qty=4, maker=alice, taker=bob, aggressor=buy)
    >>> f.price, f.price_ticks, f.qty, f.maker_user
    (Decimal('100.50'), 10050, 4, 'alice')
    """

    fill: Fill
    spec: MarketSpec

    def __getattr__(self, name: str) -> Any:
        return _delegate(self, "fill", name)

    @property
    def price(self) -> Decimal:
        """The trade price in market units (exact)."""
        return self.spec.ticks_to_price(self.fill.price)

    @property
    def price_ticks(self) -> int:
        """The trade price in ticks, as the book stores it."""
        return self.fill.price

    @property
    def qty(self) -> Decimal | int:
        """The traded quantity in market units (an ``int`` when the lot is 1)."""
        return self.spec.lots_to_qty(self.fill.qty)

    @property
    def qty_lots(self) -> int:
        """The traded quantity in lots, as the book stores it."""
        return self.fill.qty

    def __repr__(self) -> str:
        f, spec = self.fill, self.spec
        return (
            f"FillReport(fill_id={f.fill_id}, seq={f.seq}, price={spec.format_price(f.price)}, "
            f"qty={spec.format_qty(f.qty)}, maker={f.maker_user}, taker={f.taker_user}, "
            f"aggressor={f.aggressor_side})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class LiveOrder:
    """One live order as people read it: ``price`` an exact ``Decimal``, quantities in units.

    ``qty`` is the open (resting) quantity, and ``filled_qty``, ``cancelled_qty`` and
    ``original_qty`` are in units too; each has a ``*_lots`` twin (``price_ticks`` for the
    price) with the book's value. Every other field of the book's
    :class:`~clobkit.book.Order` reads through; ``.order`` is the book's snapshot.

    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> o = LiveOrder(Order(1, "alice", "sell", 10050, 6, 4, 0, 10, 1, 1), spec)
    >>> o
    LiveOrder(order_id=1, user='alice', side='sell', price=100.50, qty=6, filled_qty=4, ...)
    >>> o.price, o.price_ticks, o.qty, o.original_qty
    (Decimal('100.50'), 10050, 6, 10)
    """

    order: Order
    spec: MarketSpec

    def __getattr__(self, name: str) -> Any:
        return _delegate(self, "order", name)

    @property
    def price(self) -> Decimal:
        """The limit price in market units (exact)."""
        return self.spec.ticks_to_price(self.order.price)

    @property
    def price_ticks(self) -> int:
        """The limit price in ticks, as the book stores it."""
        return self.order.price

    @property
    def qty(self) -> Decimal | int:
        """The open (resting) quantity in market units."""
        return self.spec.lots_to_qty(self.order.qty)

    @property
    def qty_lots(self) -> int:
        """The open quantity in lots."""
        return self.order.qty

    @property
    def filled_qty(self) -> Decimal | int:
        """How much of the order has traded, in market units."""
        return self.spec.lots_to_qty(self.order.filled_qty)

    @property
    def filled_qty_lots(self) -> int:
        """How much has traded, in lots."""
        return self.order.filled_qty

    @property
    def cancelled_qty(self) -> Decimal | int:
        """How much was cancelled (modify down, self-trade prevention), in market units."""
        return self.spec.lots_to_qty(self.order.cancelled_qty)

    @property
    def cancelled_qty_lots(self) -> int:
        """How much was cancelled, in lots."""
        return self.order.cancelled_qty

    @property
    def original_qty(self) -> Decimal | int:
        """The quantity placed, in market units."""
        return self.spec.lots_to_qty(self.order.original_qty)

    @property
    def original_qty_lots(self) -> int:
        """The quantity placed, in lots."""
        return self.order.original_qty

    def __repr__(self) -> str:
        o, spec = self.order, self.spec
        return (
            f"LiveOrder(order_id={o.order_id}, user={o.user!r}, side={o.side!r}, "
            f"price={spec.format_price(o.price)}, qty={spec.format_qty(o.qty)}, "
            f"filled_qty={spec.format_qty(o.filled_qty)}, "
            f"cancelled_qty={spec.format_qty(o.cancelled_qty)}, "
            f"original_qty={spec.format_qty(o.original_qty)}, seq={o.seq}, ts_us={o.ts_us})"
        )


class PriceLevel(NamedTuple):
    """One price level of ``c.depth()``: exact price, total open quantity, order count.

    A named tuple: ``price, qty, order_count = level[:3]`` works, and ``price_ticks`` /
    ``qty_lots`` carry the book's values.

    >>> PriceLevel(Decimal("100.50"), 10, 1, 10050, 10)
    PriceLevel(price=100.50, qty=10, order_count=1)
    """

    price: Decimal
    qty: Decimal | int
    order_count: int
    price_ticks: int
    qty_lots: int

    def __repr__(self) -> str:
        return f"PriceLevel(price={self.price}, qty={self.qty}, order_count={self.order_count})"


def for_people(kind: str, value: Any, spec: MarketSpec) -> Any:
    """A read's book value (ticks and lots) in market units; see the module docstring. O(rows).

    ``kind`` is ``"fills"``, ``"live_orders"`` or ``"depth"``; anything else passes through.

    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> for_people("depth", {"bids": [(9900, 7, 2)], "asks": []}, spec)
    {'bids': [PriceLevel(price=99.00, qty=7, order_count=2)], 'asks': []}
    """
    if kind == "fills":
        return [FillReport(f, spec) for f in value]
    if kind == "live_orders":
        return [LiveOrder(o, spec) for o in value]
    if kind == "depth":
        return {
            side: [
                PriceLevel(spec.ticks_to_price(price), spec.lots_to_qty(qty), count, price, qty)
                for price, qty, count in value[side]
            ]
            for side in ("bids", "asks")
        }
    return value


def book_values(rows: Any) -> list[Any]:
    """The book's own objects (ticks and lots) behind :class:`FillReport`/:class:`LiveOrder`
    rows; book rows pass through. O(rows)."""
    out: list[Any] = []
    for row in rows:
        if isinstance(row, FillReport):
            out.append(row.fill)
        elif isinstance(row, LiveOrder):
            out.append(row.order)
        else:
            out.append(row)
    return out


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A committed command's outcome, in market units, plus its log ``op``.

    Quantities (``resting_qty``, ``cancelled_qty``, ``filled_qty``) are in market units (an
    ``int`` when the lot is 1), each with a ``*_lots`` twin; ``fills`` are
    :class:`FillReport` rows (exact ``Decimal`` prices). ``.result`` is the book's
    :class:`~clobkit.book.ApplyResult` (ticks and lots); its other fields (``seq``,
    ``ts_us``, ``reason``, ``stp_cancelled``) read through.

    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> fill = Fill(0, 2, 2, "ACME", 10050, 4, 2, 1, "bob", "alice", "buy")
    >>> r = CommandResult(ApplyResult(True, None, 2, 2, 2, "filled", (fill,), 0, 0), 2, spec)
    >>> r
    <CommandResult op=2 order_id=2 filled resting=0 fills=[4@100.50]>
    >>> r.status, r.fill_prices, r.filled_qty, r.fills[0].price_ticks
    ('filled', [Decimal('100.50')], 4, 10050)
    """

    result: ApplyResult
    op: int
    spec: MarketSpec

    def __getattr__(self, name: str) -> Any:
        # Only called for names this class lacks: delegate to the ApplyResult.
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "result"), name)

    @property
    def accepted(self) -> bool:
        """True unless the book refused the command."""
        return self.result.accepted

    @property
    def order_id(self) -> int | None:
        """The order the command placed or acted on."""
        return self.result.order_id

    @property
    def status(self) -> str:
        """``resting``, ``filled``, ``partially_filled``, ``cancelled``, ``modified`` or
        ``rejected``."""
        return self.result.status

    @property
    def fills(self) -> tuple[FillReport, ...]:
        """The trades this command made, as :class:`FillReport` (exact prices)."""
        return tuple(FillReport(f, self.spec) for f in self.result.fills)

    @property
    def resting_qty(self) -> Decimal | int:
        """What the order has resting after the command, in market units."""
        return self.spec.lots_to_qty(self.result.resting_qty)

    @property
    def resting_qty_lots(self) -> int:
        """What rests after the command, in lots."""
        return self.result.resting_qty

    @property
    def cancelled_qty(self) -> Decimal | int:
        """What this command cancelled, in market units."""
        return self.spec.lots_to_qty(self.result.cancelled_qty)

    @property
    def cancelled_qty_lots(self) -> int:
        """What this command cancelled, in lots."""
        return self.result.cancelled_qty

    @property
    def fill_prices(self) -> list[Decimal]:
        """Each fill's price in market units (exact ``Decimal``)."""
        return [self.spec.ticks_to_price(f.price) for f in self.result.fills]

    @property
    def filled_qty(self) -> Decimal | int:
        """Total quantity traded, in market units."""
        return self.spec.lots_to_qty(self.filled_qty_lots)

    @property
    def filled_qty_lots(self) -> int:
        """Total quantity traded, in lots."""
        return sum(f.qty for f in self.result.fills)

    @property
    def avg_price(self) -> Decimal | None:
        """Quantity-weighted average fill price in market units, or ``None`` without fills."""
        qty = self.filled_qty_lots
        if not qty:
            return None
        ticks = sum(f.price * f.qty for f in self.result.fills)
        return self.spec.ticks_to_price(1) * Decimal(ticks) / Decimal(qty)

    def fills_df(self) -> pd.DataFrame:
        """This command's fills as a DataFrame (columns of :func:`fills_frame`)."""
        return fills_frame(self.result.fills, self.spec)

    def __repr__(self) -> str:
        r, spec = self.result, self.spec
        if not r.accepted:
            return f"<CommandResult op={self.op} rejected: {r.reason}>"
        fills = ""
        if r.fills:
            prices = ", ".join(
                f"{spec.format_qty(f.qty)}@{spec.format_price(f.price)}" for f in r.fills
            )
            fills = f" fills=[{prices}]"
        return (
            f"<CommandResult op={self.op} order_id={r.order_id} {r.status}"
            f" resting={spec.format_qty(r.resting_qty)}{fills}>"
        )

    def _repr_html_(self) -> str:
        spec = self.spec
        rows = "".join(
            f"<tr><td>{f.fill_id}</td><td>{html.escape(spec.format_price(f.price))}</td>"
            f"<td>{html.escape(spec.format_qty(f.qty))}</td>"
            f"<td>{html.escape(f.maker_user)}</td></tr>"
            for f in self.result.fills
        )
        table = (
            "<table><thead><tr><th>fill</th><th>price</th><th>qty</th><th>maker</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        return f"<div><code>{html.escape(repr(self))}</code>{table}</div>"


# Every committed write builds a CommandResult: its __init__ fills the three slots through
# their own descriptors (about half the cost of the frozen dataclass's; see clobkit.slotinit).
install_slot_init(CommandResult)


@dataclass(eq=False, slots=True)
class Call:
    """The handle of one client call; see :meth:`clobkit.sim.Cluster.submit`.

    ``outcome`` is ``"pending"``, ``"ok"``, ``"fail"`` or ``"unknown"``;
    :attr:`result` returns the value or raises what the call raised.
    """

    kind: str
    client_id: str
    input: tuple[Any, ...]
    call_us: int
    deadline_us: int
    history_index: int
    outcome: str = "pending"
    value: Any = None
    error: ClobError | None = None
    return_us: int | None = None
    handle: Any = None
    payload: bytes = b""
    request: dict[str, Any] = field(default_factory=dict)
    on_done: list[Callable[[Call], None]] = field(default_factory=list, repr=False)

    @property
    def done(self) -> bool:
        """True once the outcome is known (or given up on)."""
        return self.outcome != "pending"

    @property
    def result(self) -> Any:
        """The value; raises the call's error, or ``RuntimeError`` while pending."""
        if self.outcome == "pending":
            raise RuntimeError(
                f"call {self.kind} by {self.client_id} is still pending: run the cluster"
            )
        if self.error is not None:
            raise self.error
        return self.value

    @property
    def latency_us(self) -> int | None:
        """Simulated time from call to outcome."""
        return None if self.return_us is None else self.return_us - self.call_us

    def __repr__(self) -> str:
        tail = f" {self.latency_us}us" if self.return_us is not None else ""
        err = f" {type(self.error).__name__}" if self.error is not None else ""
        return f"<Call {self.kind} by {self.client_id} {self.outcome}{err}{tail}>"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(repr(self))}</code>"


def fills_frame(fills: Any, spec: MarketSpec) -> pd.DataFrame:
    """Fills (book :class:`~clobkit.book.Fill` or :class:`FillReport` rows) as a DataFrame
    (columns and dtypes of :data:`clobkit.book.frames.FILL_COLUMNS`). O(fills)."""
    import pandas as pd

    from clobkit.book.frames import FILL_COLUMNS

    rows = book_values(fills)
    tick = spec.tick_fraction
    data: dict[str, Any] = {
        "fill_id": [f.fill_id for f in rows],
        "seq": [f.seq for f in rows],
        "ts_us": [f.ts_us for f in rows],
        "market": [f.market for f in rows],
        # The correctly rounded float of the exact price (as in clobkit.book.frames).
        "price": [f.price * tick.numerator / tick.denominator for f in rows],
        "price_ticks": [f.price for f in rows],
        "qty": [f.qty for f in rows],
        "qty_lots": [f.qty for f in rows],
        "taker_order_id": [f.taker_order_id for f in rows],
        "maker_order_id": [f.maker_order_id for f in rows],
        "taker_user": [f.taker_user for f in rows],
        "maker_user": [f.maker_user for f in rows],
        "aggressor_side": [f.aggressor_side for f in rows],
    }
    return pd.DataFrame({k: pd.Series(data[k], dtype=t) for k, t in FILL_COLUMNS.items()})


def orders_frame(orders: Any, spec: MarketSpec) -> pd.DataFrame:
    """Live orders (book :class:`~clobkit.book.Order` or :class:`LiveOrder` rows) as a
    DataFrame (columns and dtypes of :data:`clobkit.book.frames.LIVE_ORDER_COLUMNS`, the same
    as ``OrderBook.live_orders_df``). O(orders)."""
    from clobkit.book.frames import orders_frame as book_orders_frame

    return book_orders_frame(book_values(orders), spec)
