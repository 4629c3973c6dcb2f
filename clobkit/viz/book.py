"""Pictures of one order book: the cumulative depth chart and the price ladder.

Both take a book, an exchange or cluster with ``market=`` (see :func:`clobkit.views.depth`),
or a frame from :func:`clobkit.views.depth`. The depth chart draws, per side, the quantity
available at that price or better (``cum_qty``) as a step curve; the ladder draws each level's
own quantity, bids to the left of zero and asks to the right.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.viz.style import SIDE_COLORS, check_height, finish, price_texts

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["depth_chart", "price_ladder"]


def _depth_frame(source: Any, levels: int, market: str | None) -> Any:
    from clobkit.views import depth
    from clobkit.views.common import is_frame

    frame = depth(source, levels, market=market) if not is_frame(source) else depth(source)
    if market is not None and is_frame(source):
        frame = frame[frame["market"] == market]
    return frame


def depth_chart(
    source: Any,
    *,
    levels: int = 20,
    market: str | None = None,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Cumulative bid and ask quantity by price (traces ``"bids"``, ``"asks"``). O(levels).

    The y value at each price is the :func:`clobkit.views.depth` ``cum_qty``: what a market
    order could take up to that price. Hover shows the level's own quantity and order count.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> for p, q in ((1, 2), (2, 3)): _ = book.place("a", "buy", price=p, qty=q)
    >>> list(depth_chart(book).data[0].y)
    [3, 5]

    Raises :class:`~clobkit.errors.InvalidArgument` for bad ``levels``/``height``.
    """
    import plotly.graph_objects as go

    check_height(height)
    frame = _depth_frame(source, levels, market)
    frame = frame.assign(price_text=price_texts(frame, source))
    fig = go.Figure()
    # "hv": from a level's price the curve holds that level's cumulative quantity out to the
    # next level's price (lower for bids, higher for asks) and only then steps up.
    for side, name in (("buy", "bids"), ("sell", "asks")):
        part = frame[frame["side"] == side]
        fig.add_trace(
            go.Scatter(
                name=name,
                x=part["price"].tolist(),
                y=part["cum_qty"].tolist(),
                mode="lines+markers",
                line={"shape": "hv", "color": SIDE_COLORS[side]},
                fill="tozeroy",
                customdata=list(
                    zip(
                        part["qty"].tolist(),
                        part["order_count"].tolist(),
                        part["price_text"].tolist(),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    f"{name}: price %{{customdata[2]}}<br>cumulative %{{y}}<br>"
                    "at this level %{customdata[0]} (%{customdata[1]} orders)<extra></extra>"
                ),
            )
        )
    fig.update_xaxes(title_text="price")
    fig.update_yaxes(title_text="cumulative quantity", rangemode="tozero")
    prices = [float(p) for p in frame["price"].tolist()]
    if prices:  # pad the x range so the outermost levels' markers are not cut in half
        lo, hi = min(prices), max(prices)
        pad = (hi - lo) * 0.06 or max(abs(hi) * 0.002, 1e-6)
        fig.update_xaxes(range=[lo - pad, hi + pad])
    return finish(fig, title=title, height=height, default_height=350)


def price_ladder(
    source: Any,
    *,
    levels: int = 10,
    market: str | None = None,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Quantity per price level: bids as bars to the left, asks to the right. O(levels).

    Traces ``"bids"`` (x = -qty) and ``"asks"`` (x = qty), y = price as text so every level gets
    its own row, highest price on top.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME")); _ = book.place("a", "sell", price=2, qty=4)
    >>> fig = price_ladder(book); list(fig.data[1].x), list(fig.data[1].y)
    ([4], ['2.00'])
    """
    import plotly.graph_objects as go

    check_height(height)
    frame = _depth_frame(source, levels, market)
    labels = dict(zip(frame["price_ticks"].tolist(), price_texts(frame, source), strict=True))
    order = [labels[t] for t in sorted(labels)]
    fig = go.Figure()
    for side, name, sign in (("buy", "bids", -1), ("sell", "asks", 1)):
        part = frame[frame["side"] == side]
        fig.add_trace(
            go.Bar(
                name=name,
                orientation="h",
                x=[sign * q for q in part["qty"].tolist()],
                y=[labels[t] for t in part["price_ticks"].tolist()],
                marker_color=SIDE_COLORS[side],
                customdata=list(
                    zip(part["qty"].tolist(), part["order_count"].tolist(), strict=True)
                ),
                hovertemplate=(
                    f"{name} at %{{y}}: %{{customdata[0]}} (%{{customdata[1]}} orders)"
                    "<extra></extra>"
                ),
                text=[str(q) for q in part["qty"].tolist()],
                textposition="inside",
            )
        )
    fig.update_layout(barmode="relative", bargap=0.15)
    fig.update_yaxes(
        title_text="price", type="category", categoryorder="array", categoryarray=order
    )
    fig.update_xaxes(title_text="quantity (bids left, asks right)", zeroline=True)
    return finish(fig, title=title, height=height, default_height=max(250, 28 * len(order) + 80))
