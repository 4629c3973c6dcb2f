"""Fill analysis figures: trades over time, VWAP, and each user's position and P&L.

All three take a book, an exchange or a cluster (committed state), or a
:func:`clobkit.views.fills` frame, and build on the views :func:`clobkit.views.vwap` and
:func:`clobkit.views.positions` (mark-to-last P&L). Time is the fill timestamp in ms.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.viz.style import SIDE_COLORS, check_height, finish, price_texts, user_color

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["fills_chart", "positions_chart", "vwap_chart"]


def _fills(source: Any, market: str | None) -> Any:
    from clobkit.views import FILL_COLUMNS, fills
    from clobkit.views.common import conform, is_frame

    if is_frame(source):
        frame = conform(source, FILL_COLUMNS)
        return frame if market is None else frame[frame["market"] == market]
    return fills(source, market=market)


def fills_chart(
    source: Any, *, market: str | None = None, height: int | None = None, title: str | None = None
) -> go.Figure:
    """Trade prices over time (marker size ~ quantity) above a volume bar chart. O(fills).

    Traces: ``"buy-initiated"`` and ``"sell-initiated"`` (price markers by aggressor side,
    row 1) and ``"volume"`` (bars per fill, row 2).

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=3); _ = book.place("b", "buy", price=1, qty=2)
    >>> [(t.name, len(t.x)) for t in fills_chart(book).data]
    [('buy-initiated', 1), ('sell-initiated', 0), ('volume', 1)]
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    check_height(height)
    f = _fills(source, market)
    f = f.assign(price_text=price_texts(f, source))
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05
    )
    max_qty = float(f["qty"].max()) if len(f) else 1.0
    for side in ("buy", "sell"):
        part = f[f["aggressor_side"] == side]
        fig.add_trace(
            go.Scatter(
                name=f"{side}-initiated",
                x=(part["ts_us"] / 1000.0).tolist(),
                y=part["price"].tolist(),
                mode="markers",
                marker={
                    "color": SIDE_COLORS[side],
                    "opacity": 0.75,
                    "size": [6 + 14 * (q / max_qty) ** 0.5 for q in part["qty"].tolist()],
                },
                customdata=list(
                    zip(
                        part["qty"].tolist(),
                        part["taker_user"].tolist(),
                        part["maker_user"].tolist(),
                        part["seq"].tolist(),
                        part["price_text"].tolist(),
                        strict=True,
                    )
                ),
                hovertemplate=(
                    "price %{customdata[4]}<br>qty %{customdata[0]}<br>"
                    "taker %{customdata[1]}, maker %{customdata[2]}<br>"
                    "seq %{customdata[3]}, t=%{x:.3f} ms<extra></extra>"
                ),
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Bar(
            name="volume",
            x=(f["ts_us"] / 1000.0).tolist(),
            y=f["qty"].tolist(),
            marker_color=[SIDE_COLORS[s] for s in f["aggressor_side"].tolist()],
            hovertemplate="qty %{y} at t=%{x:.3f} ms<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="price", row=1, col=1)
    fig.update_yaxes(title_text="volume", row=2, col=1)
    fig.update_xaxes(title_text="time (ms)", row=2, col=1)
    return finish(fig, title=title, height=height, default_height=450)


def vwap_chart(
    source: Any,
    *,
    bucket_us: int | None = None,
    market: str | None = None,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Trade prices and the volume-weighted average price over time. O(fills).

    Traces ``"trades"`` (markers) and ``"vwap"``: running VWAP per fill, or with ``bucket_us``
    the VWAP of each time bucket (drawn at the bucket's start).

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=1); _ = book.place("a", "sell", price=4, qty=3)
    >>> _ = book.place("b", "buy", price=4, qty=4)
    >>> list(vwap_chart(book).data[1].y)
    [1.0, 3.25]
    """
    import plotly.graph_objects as go

    from clobkit.views import vwap

    check_height(height)
    f = _fills(source, market)
    v = vwap(f, bucket_us=bucket_us)
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            name="trades",
            x=(f["ts_us"] / 1000.0).tolist(),
            y=f["price"].tolist(),
            mode="markers",
            marker={"color": "#9e9e9e", "size": 6, "opacity": 0.6},
            customdata=price_texts(f, source),
            hovertemplate="trade %{customdata} at t=%{x:.3f} ms<extra></extra>",
        )
    )
    time_col = "ts_us" if bucket_us is None else "bucket_us"
    fig.add_trace(
        go.Scatter(
            name="vwap",
            x=(v[time_col] / 1000.0).tolist(),
            y=v["vwap"].tolist(),
            mode="lines",
            line={"color": "#1f77b4", "width": 2, "shape": "hv"},
            hovertemplate="VWAP %{y:.6g} at t=%{x:.3f} ms<extra></extra>",
        )
    )
    fig.update_yaxes(title_text="price")
    fig.update_xaxes(title_text="time (ms)")
    return finish(fig, title=title, height=height, default_height=350)


def positions_chart(
    source: Any,
    *,
    users: Iterable[str] | None = None,
    market: str | None = None,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """Each user's position (top) and mark-to-last P&L (bottom) over time. O(fills x users).

    Traces ``"position <user>"`` (points at the user's own fills, :func:`clobkit.views.positions`)
    and ``"pnl <user>"`` (points at every fill, marked at its price, :func:`clobkit.views.pnl`)
    per user sorted by name, step lines in the user's colour. ``users`` keeps only those.

    >>> from clobkit.book import MarketSpec, OrderBook
    >>> book = OrderBook(MarketSpec("ACME"))
    >>> _ = book.place("a", "sell", price=1, qty=3); _ = book.place("b", "buy", price=1, qty=2)
    >>> [t.name for t in positions_chart(book).data]
    ['position a', 'position b', 'pnl a', 'pnl b']

    Raises :class:`~clobkit.errors.InvalidArgument` if ``users`` is a bare string.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    from clobkit.views import pnl, positions

    check_height(height)
    if isinstance(users, str):
        raise InvalidArgument(f"users must be a list of names, got the string {users!r}")
    f = _fills(source, market)
    position = positions(f)
    names = sorted(set(position["user"].tolist()))
    if users is not None:
        wanted = set(users)
        names = [u for u in names if u in wanted]
    frames = {"position": position, "pnl": pnl(f, users=names)}
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("position", "P&L (mark-to-last)"),
    )
    for row, column in ((1, "position"), (2, "pnl")):
        frame = frames[column]
        for user in names:
            part = frame[frame["user"] == user]
            fig.add_trace(
                go.Scatter(
                    name=f"{column} {user}",
                    legendgroup=user,
                    showlegend=row == 1,
                    x=(part["ts_us"] / 1000.0).tolist(),
                    y=part[column].tolist(),
                    mode="lines+markers",
                    line={"shape": "hv", "color": user_color(user)},
                    marker={"size": 4},
                    customdata=list(
                        zip(part["cash"].tolist(), part["mark_price"].tolist(), strict=True)
                    ),
                    hovertemplate=(
                        f"{user}: {column} %{{y:.6g}}<br>cash %{{customdata[0]:.6g}}, mark "
                        "%{customdata[1]}<br>t=%{x:.3f} ms<extra></extra>"
                    ),
                ),
                row=row,
                col=1,
            )
    fig.update_xaxes(title_text="time (ms)", row=2, col=1)
    return finish(fig, title=title, height=height, default_height=500)
