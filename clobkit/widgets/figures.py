"""The dashboard's two figures, and how to update a live figure in place.

:func:`lag_chart_for` and :func:`depth_chart_for` draw a :class:`~clobkit.widgets.moment.Moment`
with :func:`clobkit.viz.lag_chart` (each node's lag behind the primary, faults shaded) and
:func:`clobkit.viz.price_ladder` (quantity per price level, bids left, asks right), the pictures
the course notebooks show. If those raise (a bug), the dashboard falls back to the two small
figures below and reports the error, so the dashboard keeps working.

:func:`lag_figure` draws each node's commit number over simulated time from
the trace (a gap while a node is down, a star where a node became primary,
an ``x`` where one crashed): a node whose line sits below the others is
lagging. :func:`depth_figure` draws the committed book's depth as
horizontal bars (bids and asks per price). Both return a plain
``go.Figure`` with a fixed set of named traces.

**How the dashboard shows a figure: :class:`PlotOutput`, not a FigureWidget.** plotly's
``FigureWidget`` is an anywidget that ships plotly.js (a 5 MB module) inside every widget's
state; a second browser session into the same kernel must evaluate that module again within
anywidget's ~2 s initialisation timeout and logs ``[anywidget] Failed to initialize model.``
A :class:`PlotOutput` is a core ipywidgets ``Output`` whose single output is the figure as
plotly's own mime type (``application/vnd.plotly.v1+json``, the JSON of the figure: a few
kB). JupyterLab draws it with the ``jupyterlab-plotly`` renderer that ships in plotly's wheel,
which loads plotly.js once per page, whatever the number of figures or sessions. Updating a
figure replaces that one output in place (one message to the browser, the same widget); a
page reload or a second session gets the current figure from the widget's state.

plotly and ipywidgets are imported by this module, which only :mod:`clobkit.widgets`
imports (itself loaded on first use of ``ck.Dashboard``), so ``import clobkit`` stays light.

>>> from clobkit.sim.trace import TraceRecord
>>> records = [TraceRecord(1000, "commit", "n0", op=1), TraceRecord(2000, "crash", "n0")]
>>> fig = lag_figure(records, ["n0", "n1"], until_us=3000)
>>> [t.name for t in fig.data]
['n0', 'n1', 'new primary', 'crash']
>>> list(fig.data[0].y)
[0, 0, 1, 1, None]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import ipywidgets

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

    from clobkit.book import MarketSpec
    from clobkit.sim.trace import TraceRecord
    from clobkit.widgets.moment import Moment

__all__ = [
    "lag_chart_for",
    "depth_chart_for",
    "lag_figure",
    "depth_figure",
    "PlotOutput",
    "PLOTLY_MIME",
    "figure_output",
    "NODE_COLORS",
]

NODE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_BID, _ASK = "#2ca02c", "#d62728"


LAG_HEIGHT = 300
DEPTH_HEIGHT = 300


def lag_chart_for(moment: Moment) -> go.Figure:
    """:func:`clobkit.viz.lag_chart` of ``moment``, its x axis running to the moment's time."""
    from clobkit.sim.trace import Trace
    from clobkit.viz import lag_chart

    source = moment.source
    if source is None:
        source = Trace()
        for record in moment.records:
            source.add(record)
    fig = lag_chart(source, height=LAG_HEIGHT, title="Lag behind the primary (ops)", width=560)
    fig.update_xaxes(range=[0, max(moment.time_us / 1000, 1.0)])
    return fig


def depth_chart_for(moment: Moment, market: MarketSpec, *, levels: int = 10) -> go.Figure:
    """:func:`clobkit.viz.price_ladder` of ``moment``'s committed book (empty if none is up).

    The ladder (one bar per price level, bids left, asks right) rather than the cumulative
    depth chart: it stays readable with the handful of levels a hand-driven book has.
    """
    from clobkit.book import OrderBook
    from clobkit.viz import price_ladder

    book = moment.book if moment.book is not None else OrderBook(market)
    return price_ladder(
        book, levels=levels, height=DEPTH_HEIGHT, title=f"{market.symbol} committed depth"
    )


def lag_figure(
    records: Iterable[TraceRecord],
    nodes: Sequence[str],
    *,
    until_us: int,
    height: int = 280,
) -> go.Figure:
    """Commit number per node over time (ms) from trace ``records`` up to ``until_us``. O(records).

    Traces: one per node (named by the node), then ``"new primary"`` and ``"crash"`` markers.
    """
    import plotly.graph_objects as go

    xs: dict[str, list[float]] = {n: [0.0] for n in nodes}
    ys: dict[str, list[int | None]] = {n: [0] for n in nodes}
    last: dict[str, int | None] = dict.fromkeys(nodes, 0)
    held: dict[str, int] = {}  # commit number before a crash (a restart recovers from disk)
    marks: dict[str, tuple[list[float], list[int | None], list[str]]] = {
        "primary": ([], [], []),
        "crash": ([], [], []),
    }

    def point(node: str, t_us: int, value: int | None) -> None:
        xs[node].append(t_us / 1000)
        ys[node].append(value)

    for r in records:
        if r.time_us > until_us:
            break
        node = r.node
        if node not in last:
            continue
        if r.kind == "commit" and r.op is not None:
            if last[node] is not None:
                point(node, r.time_us, last[node])  # step shape: hold, then rise
            last[node] = r.op
            point(node, r.time_us, r.op)
        elif r.kind == "crash":
            point(node, r.time_us, last[node])
            point(node, r.time_us, None)
            marks["crash"][0].append(r.time_us / 1000)
            marks["crash"][1].append(last[node])
            marks["crash"][2].append(f"{node} crashed")
            before = last[node]
            if before is not None:
                held[node] = before
            last[node] = None
        elif r.kind in ("restart", "replace"):
            value = 0 if r.kind == "replace" else held.get(node, 0)
            last[node] = value
            point(node, r.time_us, value)
        elif r.kind == "primary":
            commit = (r.detail or {}).get("commit", last[node])
            marks["primary"][0].append(r.time_us / 1000)
            marks["primary"][1].append(commit)
            marks["primary"][2].append(f"{node} primary in view {r.view}")
    fig = go.Figure()
    for i, node in enumerate(nodes):
        if last[node] is not None:
            point(node, until_us, last[node])
        fig.add_trace(
            go.Scatter(
                x=xs[node],
                y=ys[node],
                name=node,
                mode="lines",
                line={"color": NODE_COLORS[i % len(NODE_COLORS)], "width": 2},
            )
        )
    for name, key, symbol, color in (
        ("new primary", "primary", "star", "#111111"),
        ("crash", "crash", "x", _ASK),
    ):
        x, y, text = marks[key]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                text=text,
                name=name,
                mode="markers",
                marker={"symbol": symbol, "size": 12, "color": color},
                hovertemplate="%{text} at %{x:.1f} ms<extra></extra>",
            )
        )
    fig.update_layout(
        title="Commit number per node (a lower line is a lagging node)",
        xaxis_title="simulated time (ms)",
        yaxis_title="commit number",
        height=height,
        margin={"l": 50, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def depth_figure(
    depth: dict[str, list[tuple[int, int, int]]] | None,
    market: MarketSpec,
    *,
    height: int = 280,
) -> go.Figure:
    """Committed depth as horizontal bars per price: traces ``"bids"`` and ``"asks"``. O(levels).

    ``depth`` is :meth:`clobkit.book.OrderBook.depth` output (ticks, lots), or ``None``
    when no replica is up (empty bars).
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    levels = sorted({p for side in ("bids", "asks") for p, _q, _n in (depth or {}).get(side, [])})
    for side, color in (("bids", _BID), ("asks", _ASK)):
        rows = (depth or {}).get(side, [])
        prices = [market.format_price(p) for p, _q, _n in rows]
        # Whole lots stay ints (hover reads "4", not "4.0"); a fractional lot plots as float.
        qtys = [q if market.lot == 1 else float(market.lots_to_qty(q)) for _p, q, _n in rows]
        counts = [n for _p, _q, n in rows]
        fig.add_trace(
            go.Bar(
                x=qtys,
                y=prices,
                orientation="h",
                name=side,
                marker={"color": color},
                customdata=counts,
                hovertemplate="%{y}: %{x} (%{customdata} orders)<extra>" + side + "</extra>",
            )
        )
    fig.update_layout(
        title=f"{market.symbol} committed depth",
        xaxis_title="quantity",
        yaxis={
            "title": "price",
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [market.format_price(p) for p in levels],
        },
        height=height,
        margin={"l": 70, "r": 10, "t": 40, "b": 40},
        barmode="overlay",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


PLOTLY_MIME = "application/vnd.plotly.v1+json"
"""The mime type JupyterLab's plotly renderer (``jupyterlab-plotly``, in plotly's wheel) draws."""

#: Shown by the figures' mode bar: no plotly logo, no "edit in Chart Studio" link.
PLOT_CONFIG: dict[str, Any] = {"displaylogo": False, "responsive": False}


def figure_output(fig: go.Figure, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """``fig`` as one notebook ``display_data`` output in plotly's mime type. O(figure size).

    The figure's JSON (plotly's encoder: numpy arrays, dates and decimals become JSON) plus
    the ``config``; a ``text/plain`` line for front ends without a plotly renderer.

    >>> import plotly.graph_objects as go
    >>> out = figure_output(go.Figure(go.Bar(x=[1], y=[2]), layout={"title": "t"}))
    >>> out["output_type"], sorted(out["data"])
    ('display_data', ['application/vnd.plotly.v1+json', 'text/plain'])
    >>> out["data"][PLOTLY_MIME]["data"][0]["type"], out["data"]["text/plain"]
    ('bar', '<plotly figure: t>')
    """
    import plotly.io as pio

    payload = json.loads(pio.to_json(fig, validate=False, remove_uids=False))
    payload["config"] = dict(PLOT_CONFIG if config is None else config)
    title = fig.layout.title.text or ""
    return {
        "output_type": "display_data",
        "data": {PLOTLY_MIME: payload, "text/plain": f"<plotly figure: {title}>"},
        "metadata": {},
    }


class PlotOutput(ipywidgets.Output):  # type: ignore[misc]
    """A plotly figure in a core ipywidgets ``Output``, redrawn in place by :meth:`show`.

    The widget's one output is :func:`figure_output` of :attr:`figure`, the ``go.Figure``
    shown (see the module doc: why not a ``FigureWidget``). Read what is drawn from
    ``panel.figure.data`` and ``panel.figure.layout`` (``panel.layout`` is the widget's own
    CSS layout, as for every ipywidget); change the picture with :meth:`show`.

    >>> import plotly.graph_objects as go
    >>> panel = PlotOutput(go.Figure(go.Scatter(x=[0, 1], y=[1, 2], name="n0")))
    >>> [t.name for t in panel.figure.data], len(panel.outputs)
    (['n0'], 1)
    >>> panel.show(go.Figure(go.Scatter(x=[0], y=[5], name="n1")))
    >>> [t.name for t in panel.figure.data], len(panel.outputs)
    (['n1'], 1)
    """

    def __init__(self, fig: go.Figure | None = None, **kwargs: Any) -> None:
        import plotly.graph_objects as go

        super().__init__(**kwargs)
        self.figure: go.Figure = go.Figure()
        self.show(go.Figure() if fig is None else fig)

    def show(self, fig: go.Figure) -> None:
        """Draw ``fig`` instead of the current figure: one message, the same widget."""
        self.figure = fig
        self.outputs = (figure_output(fig),)
