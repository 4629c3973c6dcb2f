"""The replication lag chart: how far each node is behind the primary, with faults shaded.

Data comes from :func:`clobkit.views.lag` (a step function per node rebuilt from the trace)
and :func:`clobkit.views.fault_intervals` (crash, pause, partition, view change). Each node
gets one step line in its colour; fault intervals become shaded bands, merged and labelled as
:mod:`clobkit.viz.bands` describes (an interval still open at the end of the trace runs to
the last record), each with an annotation whose hover text lists what it merged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.viz.bands import BAND_TICK, drawn_span, label_rows, merge_bands
from clobkit.viz.style import check_height, finish, is_na, node_color

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["LAG_METRICS", "add_fault_bands", "lag_chart"]

#: What :func:`lag_chart` can plot: column of :data:`clobkit.views.LAG_COLUMNS` and axis title.
LAG_METRICS: dict[str, tuple[str, str]] = {
    "ops": ("lag_ops", "lag behind primary (ops)"),
    "us": ("lag_us", "age of oldest missing op (ms)"),
    "op_number": ("op_number", "op number"),
    "commit_number": ("commit_number", "commit number"),
    "applied_op": ("applied_op", "applied op"),
}


def add_fault_bands(
    fig: Any, faults: Any, end_ms: float, *, start_ms: float = 0.0, label: bool = True
) -> int:
    """Shade a :func:`clobkit.views.fault_intervals` frame on ``fig``; return the band count.

    Bands are layout shapes (``layer="below"``) spanning the whole y range, merged, clipped to
    ``[start_ms, end_ms]`` and labelled as described in :mod:`clobkit.viz.bands` (open
    intervals end at ``end_ms``); every band gets one annotation carrying its hover text.
    """
    rows = [
        (r.kind, r.node, int(r.start_us), None if is_na(r.end_us) else int(r.end_us), r.label)
        for r in faults.itertuples(index=False)
    ]
    return _bands(fig, rows, int(start_ms * 1000), int(end_ms * 1000), label=label)


def _bands(
    fig: Any,
    rows: list[tuple[str, str, int, int | None, str]],
    start_us: int,
    end_us: int,
    *,
    label: bool,
    plot_px: int | None = None,
) -> int:
    bands = merge_bands(rows, start_us, end_us)
    rows_of_labels = label_rows(bands, start_us, end_us, plot_px=plot_px)
    for band, row in zip(bands, rows_of_labels, strict=True):
        lo, hi = drawn_span(band, start_us, end_us)
        x0, x1 = lo / 1000.0, hi / 1000.0
        fig.add_vrect(
            x0=x0, x1=x1, fillcolor=band.color, line_width=0, layer="below", name=band.label
        )
        printed = label and row is not None
        # An annotation carries the hover text: the label itself, or a small tick for a band
        # too narrow (or too crowded) for one.
        fig.add_annotation(
            x=x0 if printed else (x0 + x1) / 2,
            y=1.0,
            xref="x",
            yref="paper",
            text=band.label if printed else BAND_TICK,
            hovertext=band.hover,
            showarrow=False,
            xanchor="left" if printed else "center",
            yanchor="top",
            yshift=-13 * (row or 0),
            font={"size": 10, "color": "#444" if printed else "#999"},
        )
    return len(bands)


def lag_chart(
    source: Any,
    *,
    metric: str = "ops",
    nodes: Any = None,
    height: int | None = None,
    title: str | None = None,
    width: int | None = None,
) -> go.Figure:
    """Per-node lag behind the primary over simulated time (ms), faults shaded. O(trace).

    ``source`` is a cluster, its trace or a trace frame; ``metric`` one of
    :data:`LAG_METRICS` (``"ops"``: primary's op number minus the node's; ``"us"``: age of the
    oldest op the node lacks, in ms; or the raw ``op_number``/``commit_number``/``applied_op``).
    One trace per node, named by the node; hover shows the node's status. ``width`` (pixels)
    fixes the figure's width, and lays the band labels out for it; the ``"ops"`` axis shows
    whole numbers only.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> [t.name for t in lag_chart(c).data]
    ['n0', 'n1', 'n2']

    Raises :class:`~clobkit.errors.InvalidArgument` for an unknown metric or node.
    """
    import plotly.graph_objects as go

    from clobkit.views.lag import LAG_COLUMNS, lag_rows, select_nodes
    from clobkit.views.trace import fault_interval_rows, records

    if metric not in LAG_METRICS:
        raise InvalidArgument(f"metric must be one of {list(LAG_METRICS)}, got {metric!r}")
    check_height(height)
    column, axis_title = LAG_METRICS[metric]
    recs = records(source)
    # The cached replay rows of clobkit.views.lag, used directly: no DataFrame on this path,
    # which the dashboard redraws on every step.
    names, rows = lag_rows(source)
    keep = select_nodes(names, nodes)
    end_us = recs[-1].time_us if recs else 0
    index = {name: i for i, name in enumerate(LAG_COLUMNS)}
    fig = go.Figure()
    for name in keep:
        part = [r for r in rows if r[1] == name]
        if not part:
            continue
        xs, ys, status = _series(
            [r[0] for r in part],
            [r[index[column]] for r in part],
            [r[index["lag_ops"]] for r in part],
            [r[index["status"]] for r in part],
            metric == "us",
            end_us,
        )
        fig.add_trace(
            go.Scatter(
                name=name,
                x=xs,
                y=ys,
                mode="lines",
                line={
                    "shape": "linear" if metric == "us" else "hv",
                    "color": node_color(name),
                    "width": 2,
                },
                customdata=status,
                hovertemplate=(
                    f"{name}<br>t=%{{x:.3f}} ms<br>{axis_title}: %{{y}}<br>"
                    "status: %{customdata}<extra></extra>"
                ),
            )
        )
    start_us = recs[0].time_us if recs else 0
    faults = [(r[0], r[1], r[2], r[3], r[4]) for r in fault_interval_rows(recs)]
    _bands(fig, faults, start_us, end_us, label=True, plot_px=None if width is None else width - 90)
    fig.update_xaxes(title_text="simulated time (ms)")
    fig.update_yaxes(title_text=axis_title, rangemode="tozero")
    if metric != "us":  # ops are whole numbers: no 0.5 ticks
        fig.update_yaxes(tickformat="d", rangemode="tozero")
        top = max((y for t in fig.data for y in t.y if y is not None), default=0)
        if top < 5:
            fig.update_yaxes(dtick=1, range=[0, max(top, 1) + 0.3])
    fig = finish(fig, title=title, height=height, default_height=380)
    if width is not None:
        fig.update_layout(width=width)
    return fig


def _series(
    times: list[int], values: list[Any], lags: list[Any], states: list[str], age: bool, end_us: int
) -> tuple[list[float], list[float | None], list[str]]:
    """x (ms), y and status lists for one node's lag rows, extended to ``end_us``.

    Step metrics hold their value until the next row (drawn with ``shape="hv"``). The age of
    the oldest missing op (``age=True``, in ms) grows one for one with time while the node
    lags, so each row becomes a rising segment up to the next row (drawn linear).
    """
    xs: list[float] = []
    ys: list[float | None] = []
    status: list[str] = []
    for i, t in enumerate(times):
        nxt = times[i + 1] if i + 1 < len(times) else end_us
        value = None if is_na(values[i]) else float(values[i])
        if not age:
            xs.append(t / 1000.0)
            ys.append(value)
            status.append(states[i])
            continue
        lagging = not is_na(lags[i]) and lags[i] > 0 and value is not None
        xs += [t / 1000.0, nxt / 1000.0]
        if value is None:
            ys += [None, None]
        else:
            end_value = value + (nxt - t) if lagging else value
            ys += [value / 1000.0, end_value / 1000.0]
        status += [states[i], states[i]]
    if not age and times:
        xs.append(end_us / 1000.0)
        ys.append(ys[-1])
        status.append(status[-1])
    return xs, ys, status
