"""Colours and layout shared by every figure, so a node or a side looks the same everywhere.

Nodes take colours from :data:`NODE_PALETTE` by the number in their name (``n0`` the first,
``n1`` the second, ...), so ``n2`` is the same colour in the lag chart, the space-time diagram
and the dashboard whatever else is drawn. Clients are grey; buys green, sells red.
"""

from __future__ import annotations

import re
import zlib
from typing import Any

from clobkit.errors import InvalidArgument

__all__ = [
    "CLIENT_COLOR",
    "FAULT_COLORS",
    "NODE_PALETTE",
    "OUTCOME_COLORS",
    "SIDE_COLORS",
    "USER_PALETTE",
    "check_height",
    "finish",
    "is_na",
    "node_color",
    "price_texts",
    "user_color",
]

#: Node colours, by the node's number (plotly's D3 palette without its green and red, which
#: mean buy and sell here).
NODE_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)

#: Colour of client lanes and client messages.
CLIENT_COLOR = "#6b6b6b"

#: Side colours: bids/buys green, asks/sells red.
SIDE_COLORS: dict[str, str] = {"buy": "#2ca02c", "sell": "#d62728"}

#: Call outcome colours in history timelines.
OUTCOME_COLORS: dict[str, str] = {
    "ok": "#2ca02c",
    "fail": "#9e9e9e",
    "unknown": "#ff9f1c",
    "pending": "#ffd166",
}

#: Shading of fault intervals (rgba so curves stay visible through them).
FAULT_COLORS: dict[str, str] = {
    "crash": "rgba(214, 39, 40, 0.12)",
    "pause": "rgba(127, 127, 127, 0.15)",
    "partition": "rgba(255, 159, 28, 0.18)",
    "view_change": "rgba(148, 103, 189, 0.15)",
}

#: User colours (positions and P&L), assigned by a stable hash of the user name.
USER_PALETTE: tuple[str, ...] = (
    "#1f77b4",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#637939",
    "#843c39",
)

_NUMBER = re.compile(r"(\d+)$")


def node_color(name: str) -> str:
    """The colour of node ``name`` (by its number; clients grey).

    >>> node_color("n0"), node_color("n1"), node_color("client:alice")
    ('#1f77b4', '#ff7f0e', '#6b6b6b')
    """
    if name.startswith("client"):
        return CLIENT_COLOR
    match = _NUMBER.search(name)
    number = int(match.group(1)) if match else zlib.crc32(name.encode())
    return NODE_PALETTE[number % len(NODE_PALETTE)]


def user_color(user: str) -> str:
    """A stable colour for ``user`` (CRC-32 of the name, not Python's randomised hash).

    >>> user_color("alice") == user_color("alice")
    True
    """
    return USER_PALETTE[zlib.crc32(user.encode()) % len(USER_PALETTE)]


def check_height(height: Any) -> None:
    """Raise :class:`InvalidArgument` unless ``height`` is None or a positive int."""
    if height is not None and (type(height) is not int or height <= 0):
        raise InvalidArgument(f"height must be a positive int or None, got {height!r}")


def finish(fig: Any, *, title: str | None, height: int | None, default_height: int) -> Any:
    """Apply the common layout (title, height, margins, a white look) to ``fig`` and return it.

    The white look is set property by property rather than with ``template="plotly_white"``:
    assigning a template validates the whole template object, which made it the largest single
    cost of a small figure (the dashboard rebuilds its figures on every step).
    """
    axis = {"gridcolor": "#e8e8e8", "zerolinecolor": "#cfcfcf", "linecolor": "#cfcfcf"}
    fig.update_layout(
        title=title,
        height=height or default_height,
        paper_bgcolor="white",
        plot_bgcolor="white",
        margin={"l": 60, "r": 20, "t": 50 if title else 20, "b": 40},
        hoverlabel={"align": "left"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
    )
    fig.update_xaxes(**axis)
    fig.update_yaxes(**axis)
    return fig


def is_na(value: Any) -> bool:
    """True for None, NaN and ``pandas.NA`` (without importing pandas).

    >>> is_na(None), is_na(float("nan")), is_na(3)
    (True, True, False)
    """
    if value is None:
        return True
    try:
        return bool(value != value)
    except TypeError:  # pandas.NA refuses to be a bool
        return True


def _specs_of(source: Any) -> dict[str, Any]:
    """Market symbol -> MarketSpec for a book, exchange or cluster; empty for a frame."""
    from clobkit.views.common import is_book, is_cluster, is_exchange

    if is_cluster(source):
        return {source.market.symbol: source.market}
    if is_book(source):
        return {source.spec.symbol: source.spec}
    if is_exchange(source):
        return {m: source.book(m).spec for m in source.markets}
    return {}


def price_texts(frame: Any, source: Any = None) -> list[str]:
    """Each row's price as the market spec writes it (``"100.50"``), from ``price_ticks``. O(rows).

    Figures draw the float ``price`` column on their axes, but labels and hover text must read
    as people typed the price: through the market's
    :meth:`~clobkit.book.MarketSpec.format_price` when ``source`` (a book, exchange or
    cluster) gives the spec, else with the tick the frame implies (``price / price_ticks``).

    >>> import pandas as pd
    >>> price_texts(pd.DataFrame({"market": ["A"], "price": [100.5], "price_ticks": [10050]}))
    ['100.50']
    """
    from decimal import Decimal

    specs = _specs_of(source)
    markets = frame["market"].tolist() if "market" in frame else [None] * len(frame)
    out = []
    implied: dict[Any, Decimal] = {}
    for market, price, ticks in zip(
        markets, frame["price"].tolist(), frame["price_ticks"].tolist(), strict=True
    ):
        spec = specs.get(market) if market is not None else next(iter(specs.values()), None)
        if spec is not None:
            out.append(spec.format_price(int(ticks)))
            continue
        if market not in implied and ticks:
            # The shortest decimal of price/ticks is the tick (prices are correctly rounded).
            implied[market] = Decimal(repr(price / ticks)).normalize()
        tick = implied.get(market, Decimal(1))
        out.append(str(tick * int(ticks)))
    return out
