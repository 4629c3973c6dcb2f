"""The space-time (Lamport) diagram: who sent what to whom, when, and what got lost.

One horizontal lane per replica (top, in configuration order) and per client (below). Each
message copy is a line from (send time, sender's lane) to (delivery time, target's lane) with
an arrowhead at the receiving end; delivered messages are coloured by their sender (one trace
per sender lane, named ``"from <lane>"``), dropped ones are dashed grey
(``"messages: dropped"``) and end in an ✕ (``"drops"``). A message the network refused at send
time is a short stub from its sender ending in an ✕; one still in flight at the end of the
window is dotted (``"messages: in flight"``). Commits are diamonds on the committing node's
lane (``"commits"``); partitions are shaded across the whole diagram, crashes along the
crashed node's lane.

Lines are drawn as one scatter trace per group with ``None`` separators, so a few thousand
messages stay fast; ``max_messages`` caps what is drawn (the first ones in the window, in send
order) and says so in an annotation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.replication import events as ev
from clobkit.viz.bands import BAND_TICK, drawn_span, label_rows, merge_bands, show_label
from clobkit.viz.style import CLIENT_COLOR, check_height, finish, is_na, node_color

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["spacetime_diagram"]

_DROP_COLOR = "#9e9e9e"


def _lanes(source: Any, msgs: Any, recs: list[Any], include_clients: bool) -> list[str]:
    from clobkit.views.common import is_cluster
    from clobkit.views.lag import node_order

    if is_cluster(source):
        replicas = list(source.nodes)
    else:
        names = set(msgs["source"]).union(msgs["target"]).union(r.node for r in recs)
        replicas = node_order(n for n in names if n and not n.startswith("client"))
    lanes = list(replicas)
    if include_clients:
        # only clients that sent or received a message drawn here: no empty lanes
        clients = {n for n in set(msgs["source"]).union(msgs["target"]) if n.startswith("client")}
        lanes += sorted(clients)
    return lanes


def spacetime_diagram(
    source: Any,
    start_us: int | None = None,
    end_us: int | None = None,
    *,
    max_messages: int = 400,
    max_labels: int = 150,
    kinds: Iterable[str] | None = None,
    include_clients: bool = True,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """A Lamport diagram of the messages in ``[start_us, end_us]`` (default: everything). O(trace).

    ``source`` is a cluster, its trace or a trace frame; ``kinds`` keeps only those message
    kinds (e.g. ``["Request", "Prepare", "PrepareOk", "Reply"]`` to hide heartbeats);
    ``include_clients=False`` drops client lanes and their messages. Time axis in ms. See the
    module doc for the trace names. Each arrow carries its message's name (``Prepare 2``,
    ``Reply``...) at its middle (trace ``"message names"``) when at most ``max_labels``
    messages are drawn; with more, the names are in the hover only (narrow the window).

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> fig = spacetime_diagram(c)
    >>> "commits" in [t.name for t in fig.data]
    True

    Raises :class:`~clobkit.errors.InvalidArgument` for a bad window, ``max_messages`` or
    ``height``.
    """
    import plotly.graph_objects as go

    from clobkit.views import fault_intervals, messages
    from clobkit.views.trace import records

    check_height(height)
    if type(max_messages) is not int or max_messages <= 0:
        raise InvalidArgument(f"max_messages must be a positive int, got {max_messages!r}")
    recs = records(source)
    msgs = messages(source, start_us, end_us)
    if kinds is not None:
        wanted = [kinds] if isinstance(kinds, str) else list(kinds)
        msgs = msgs[msgs["message"].isin(wanted)]
    lanes = _lanes(source, msgs, recs, include_clients)
    lane_y = {name: i for i, name in enumerate(lanes)}
    msgs = msgs[msgs["source"].isin(lane_y) & msgs["target"].isin(lane_y)]
    total = len(msgs)
    msgs = msgs.head(max_messages)
    t_end = end_us if end_us is not None else (recs[-1].time_us if recs else 0)
    t_start = start_us if start_us is not None else 0

    groups: dict[str, dict[str, list[Any]]] = {}

    def add(group: str, x0: float, y0: float, x1: float, y1: float, text: str) -> None:
        g = groups.setdefault(group, {"x": [], "y": [], "text": [], "size": []})
        g["x"] += [x0, x1, None]
        g["y"] += [y0, y1, None]
        g["text"] += [text, text, None]
        g["size"] += [0, 9, 0]

    names_x: list[float] = []
    names_y: list[float] = []
    names_text: list[str] = []
    drops_x: list[float] = []
    drops_y: list[float] = []
    drops_text: list[str] = []
    for m in msgs.itertuples(index=False):
        y0 = float(lane_y[m.source])
        y1 = float(lane_y[m.target])
        x0 = m.send_us / 1000.0
        what = m.message + ("" if is_na(m.op) else f" op {m.op}")
        what += "" if is_na(m.view) else f" view {m.view}"
        route = f"{m.source} → {m.target}"
        names_x.append(x0)
        names_y.append(y0)
        names_text.append(m.message + ("" if is_na(m.op) else f" {m.op}"))
        if m.outcome == "delivered":
            x1 = m.end_us / 1000.0
            text = f"{what}<br>{route}<br>sent {x0:.3f} ms, delivered {x1:.3f} ms"
            add(f"from {m.source}", x0, y0, x1, y1, text)
        elif m.outcome == "dropped":
            x1 = m.end_us / 1000.0
            if m.end_us == m.send_us:  # refused at send time: a stub halfway to the target
                y1 = y0 + (y1 - y0) * 0.35
                x1 = x0 + max((t_end - t_start) / 1000.0 * 0.004, 0.05)
            text = f"{what}<br>{route}<br>sent {x0:.3f} ms, dropped {x1:.3f} ms: {m.drop_reason}"
            add("messages: dropped", x0, y0, x1, y1, text)
            drops_x.append(x1)
            drops_y.append(y1)
            drops_text.append(text)
        else:
            x1 = t_end / 1000.0
            y_mid = y0 + (y1 - y0) * 0.5
            add("messages: in flight", x0, y0, x1, y_mid, f"{what}<br>{route}<br>in flight")
            y1 = y_mid
        names_x[-1] = (x0 + x1) / 2
        names_y[-1] = (y0 + y1) / 2

    fig = go.Figure()
    order = sorted(groups, key=lambda g: (g.startswith("messages"), lane_y.get(g[5:], 0), g))
    for group in order:
        g = groups[group]
        if group.startswith("from "):
            color, dash = node_color(group[5:]), "solid"
        elif group == "messages: dropped":
            color, dash = _DROP_COLOR, "dash"
        else:
            color, dash = CLIENT_COLOR, "dot"
        fig.add_trace(
            go.Scatter(
                name=group,
                x=g["x"],
                y=g["y"],
                mode="lines+markers",
                line={"color": color, "width": 1.2, "dash": dash},
                marker={
                    "symbol": "arrow",
                    "size": g["size"],
                    "angleref": "previous",
                    "color": color,
                },
                text=g["text"],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            name="drops",
            x=drops_x,
            y=drops_y,
            mode="markers",
            marker={"symbol": "x-thin", "size": 11, "line": {"width": 2, "color": "#d62728"}},
            text=drops_text,
            hovertemplate="✕ %{text}<extra></extra>",
        )
    )
    if 0 < len(names_text) <= max_labels:
        names_x, names_y, names_text = _uncrowded(
            names_x, names_y, names_text, max((t_end - t_start) / 1000.0 / 20, 1e-6)
        )
        fig.add_trace(
            go.Scatter(
                name="message names",
                x=names_x,
                y=names_y,
                mode="text",
                text=names_text,
                textfont={"size": 9, "color": "#333"},
                textposition="middle center",
                hoverinfo="skip",
            )
        )
    _add_commits(fig, recs, lane_y, start_us, end_us)
    _shade(fig, fault_intervals(source), lane_y, t_start, t_end, len(lanes))
    if total > len(msgs):
        fig.add_annotation(
            text=f"showing the first {len(msgs)} of {total} messages (max_messages)",
            xref="paper",
            yref="paper",
            x=1,
            y=-0.12,
            showarrow=False,
            font_size=10,
        )
    fig.update_yaxes(
        tickvals=list(range(len(lanes))),
        ticktext=lanes,
        range=[len(lanes) - 0.5, -0.5],  # fixed, top lane first: empty lanes stay visible
        showgrid=True,
        zeroline=False,
    )
    fig.update_xaxes(title_text="simulated time (ms)")
    if start_us is not None or end_us is not None:
        fig.update_xaxes(range=[t_start / 1000.0, t_end / 1000.0])
    fig = finish(fig, title=title, height=height, default_height=max(300, 60 * len(lanes) + 120))
    # The legend goes right of the plot, never over the title (there are many groups).
    fig.update_layout(
        legend={"orientation": "v", "x": 1.01, "y": 1, "xanchor": "left", "yanchor": "top"}
    )
    return fig


def _uncrowded(
    xs: list[float], ys: list[float], texts: list[str], dx: float
) -> tuple[list[float], list[float], list[str]]:
    """Keep a label only if no kept label sits within ``dx`` ms and a third of a lane of it."""
    kept: list[tuple[float, float, str]] = []
    for x, y, text in sorted(zip(xs, ys, texts, strict=True)):
        if any(abs(x - kx) < dx and abs(y - ky) < 0.34 for kx, ky, _ in kept[-12:]):
            continue
        kept.append((x, y, text))
    return [k[0] for k in kept], [k[1] for k in kept], [k[2] for k in kept]


def _add_commits(
    fig: Any, recs: list[Any], lane_y: dict[str, int], start_us: int | None, end_us: int | None
) -> None:
    import plotly.graph_objects as go

    xs: list[float] = []
    ys: list[int] = []
    text: list[str] = []
    colors: list[str] = []
    for r in recs:
        if r.kind != ev.COMMIT or r.node not in lane_y or r.op is None:
            continue
        if (start_us is not None and r.time_us < start_us) or (
            end_us is not None and r.time_us > end_us
        ):
            continue
        xs.append(r.time_us / 1000.0)
        ys.append(lane_y[r.node])
        text.append(f"{r.node} commits through op {r.op}")
        colors.append(node_color(r.node))
    fig.add_trace(
        go.Scatter(
            name="commits",
            x=xs,
            y=ys,
            mode="markers",
            marker={
                "symbol": "diamond",
                "size": 9,
                "color": colors,
                "line": {"width": 1, "color": "#333"},
            },
            text=text,
            hovertemplate="%{text}<br>t=%{x:.3f} ms<extra></extra>",
        )
    )


def _shade(
    fig: Any, faults: Any, lane_y: dict[str, int], t_start: int, t_end: int, lanes: int
) -> None:
    rows = [
        (r.kind, r.node, int(r.start_us), None if is_na(r.end_us) else int(r.end_us), r.label)
        for r in faults.itertuples(index=False)
        if r.kind == "partition" or (r.kind in ("crash", "pause") and r.node in lane_y)
    ]
    bands = merge_bands(rows, t_start, t_end)
    partition_rows = label_rows([b for b in bands if b.kind == "partition"], t_start, t_end)
    row_of = dict(zip([id(b) for b in bands if b.kind == "partition"], partition_rows, strict=True))
    for band in bands:
        lo, hi = drawn_span(band, t_start, t_end)
        x0, x1 = lo / 1000.0, hi / 1000.0
        if band.kind == "partition":
            row = row_of.get(id(band))
            fig.add_vrect(x0=x0, x1=x1, fillcolor=band.color, line_width=0, layer="below")
            y, yref, yshift = 1.0, "paper", -13 * (row or 0)
            printed = row is not None
        else:
            lane = lane_y[band.node]
            fig.add_shape(
                type="rect",
                x0=x0,
                x1=x1,
                y0=lane - 0.3,
                y1=lane + 0.3,
                fillcolor=band.color,
                line_width=0,
                layer="below",
            )
            # Inside the band's lower edge (the y axis runs top-down), clear of the top labels.
            y, yref, yshift = lane + 0.3, "y", 0
            printed = show_label(band, t_start, t_end)
        fig.add_annotation(  # carries the hover text (a small tick when there is no label)
            x=x0 if printed else (x0 + x1) / 2,
            y=y,
            xref="x",
            yref=yref,
            text=band.label if printed else BAND_TICK,
            hovertext=band.hover,
            showarrow=False,
            xanchor="left" if printed else "center",
            yanchor="top" if yref == "paper" else "bottom",
            yshift=yshift,
            font={"size": 10, "color": "#444" if printed else "#999"},
        )
