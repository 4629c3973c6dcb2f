"""What a synchronous cluster call returns, and the handle of an asynchronous one.

:class:`CommandResult` wraps the book's :class:`~clobkit.book.ApplyResult`
(every field is available by name: ``accepted``, ``order_id``, ``status``,
``fills``...) and adds what only the cluster knows: the log ``op`` the
command was committed at, and prices in the market's units.

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
from typing import TYPE_CHECKING, Any

from clobkit.book import ApplyResult, Fill, MarketSpec
from clobkit.errors import ClobError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["CommandResult", "Call", "fills_frame", "orders_frame"]


@dataclass(frozen=True, slots=True)
class CommandResult:
    """A committed command's outcome: the book's result plus its log ``op``.

    >>> from clobkit.book import ApplyResult, Fill, MarketSpec
    >>> spec = MarketSpec("ACME", tick="0.01")
    >>> fill = Fill(0, 2, 2, "ACME", 10050, 4, 2, 1, "bob", "alice", "buy")
    >>> r = CommandResult(ApplyResult(True, None, 2, 2, 2, "filled", (fill,), 0, 0), 2, spec)
    >>> r.status, r.fill_prices, r.filled_qty
    ('filled', [Decimal('100.50')], 4)
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
    def fills(self) -> tuple[Fill, ...]:
        """The trades this command made (prices in ticks, quantities in lots)."""
        return self.result.fills

    @property
    def fill_prices(self) -> list[Decimal]:
        """Each fill's price in market units (exact ``Decimal``)."""
        return [self.spec.ticks_to_price(f.price) for f in self.result.fills]

    @property
    def filled_qty(self) -> int:
        """Total quantity traded, in lots."""
        return sum(f.qty for f in self.result.fills)

    @property
    def avg_price(self) -> Decimal | None:
        """Quantity-weighted average fill price in market units, or ``None`` without fills."""
        qty = self.filled_qty
        if not qty:
            return None
        ticks = sum(f.price * f.qty for f in self.result.fills)
        return self.spec.ticks_to_price(1) * Decimal(ticks) / Decimal(qty)

    def fills_df(self) -> pd.DataFrame:
        """This command's fills as a DataFrame (columns of :func:`fills_frame`)."""
        return fills_frame(self.result.fills, self.spec)

    def __repr__(self) -> str:
        r = self.result
        if not r.accepted:
            return f"<CommandResult op={self.op} rejected: {r.reason}>"
        fills = ""
        if r.fills:
            prices = ", ".join(f"{f.qty}@{self.spec.ticks_to_price(f.price)}" for f in r.fills)
            fills = f" fills=[{prices}]"
        return (
            f"<CommandResult op={self.op} order_id={r.order_id} {r.status}"
            f" resting={r.resting_qty}{fills}>"
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{f.fill_id}</td><td>{html.escape(str(self.spec.ticks_to_price(f.price)))}"
            f"</td><td>{f.qty}</td><td>{html.escape(f.maker_user)}</td></tr>"
            for f in self.result.fills
        )
        table = (
            "<table><thead><tr><th>fill</th><th>price</th><th>qty</th><th>maker</th></tr>"
            f"</thead><tbody>{rows}</tbody></table>"
            if rows
            else ""
        )
        return f"<div><code>{html.escape(repr(self))}</code>{table}</div>"


@dataclass(eq=False)
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
    """Fills as a DataFrame (columns and dtypes of
    :data:`clobkit.views.book_frames.FILL_COLUMNS`)."""
    import pandas as pd

    from clobkit.views.book_frames import FILL_COLUMNS

    rows = list(fills)
    tick = float(spec.ticks_to_price(1))
    lot = float(spec.lots_to_qty(1))
    data: dict[str, Any] = {
        "fill_id": [f.fill_id for f in rows],
        "seq": [f.seq for f in rows],
        "ts_us": [f.ts_us for f in rows],
        "market": [f.market for f in rows],
        "price": [f.price * tick for f in rows],
        "price_ticks": [f.price for f in rows],
        "qty": [f.qty * lot for f in rows],
        "qty_lots": [f.qty for f in rows],
        "taker_order_id": [f.taker_order_id for f in rows],
        "maker_order_id": [f.maker_order_id for f in rows],
        "taker_user": [f.taker_user for f in rows],
        "maker_user": [f.maker_user for f in rows],
        "aggressor_side": [f.aggressor_side for f in rows],
    }
    return pd.DataFrame({k: pd.Series(data[k], dtype=t) for k, t in FILL_COLUMNS.items()})


def orders_frame(orders: Any, spec: MarketSpec) -> pd.DataFrame:
    """Live orders as a DataFrame (columns and dtypes of
    :data:`clobkit.views.book_frames.LIVE_ORDER_COLUMNS`, the same as
    ``OrderBook.live_orders_df``)."""
    from clobkit.views.book_frames import orders_frame as book_orders_frame

    return book_orders_frame(list(orders), spec)
