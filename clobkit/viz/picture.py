"""The cluster picture in plotly: one moment or a whole run, animated.

Left, the replicas on a ring with the clients around them; every message in flight is a dot
on its link at the position its send and delivery times give, coloured and shaped by family
(normal case ●, view change ◆, state transfer ■, reads ▲; hover names the kind, view and
op); a dropped message fades out where it was lost (✕); a cut link is a red dashed line
marked ✂ (one-way blocks say which way). A node's colour, symbol and label all give its
role (★ PRIMARY, ● backup, ◉ learner, ⬢ recovering, ✕ DOWN), so the picture reads without
colour; ``fsync…`` in a node's label means its disk is syncing.

Right, each node's log as a strip of boxes (newest right), coloured by the view that wrote
the entry, with the op number inside; uncommitted entries are hatched (``/``), corrupt ones
cross-hatched with a red edge and ``!``; the bar after the last committed box is the commit
point. Below, the committed book (asks above bids, prices in market units) and the latest
fills.

Both functions draw :func:`clobkit.viz.picture_state` dicts, the same data the
dashboard's SVG panel draws.

>>> import clobkit as ck
>>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
>>> _ = c.place("alice", "buy", price="99.50", qty=2)
>>> fig = cluster_picture(c)
>>> [t.name for t in fig.data][:4]
['links', 'cut links', 'nodes', 'clients']
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.replication.step import CLIENT_PREFIX
from clobkit.viz.picture_data import (
    FAMILIES,
    ROLES,
    PictureTimeline,
    check_at_ms,
)
from clobkit.viz.style import CLIENT_COLOR, check_height

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["cluster_animation", "cluster_picture", "picture_figure_dict"]

#: Colours of the views that wrote log entries (view number modulo the palette).
VIEW_PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#eeca3b")
_LOG_SLOTS = 16
_BOOK_ROWS = 5

# Trace order is fixed: frames replace the dynamic traces by index.
# Each frame re-validates its traces in plotly, so a moment is six traces, no more: the fsync
# marker is in the node labels, op numbers are the log markers' text, fills share the book's.
_T_LINKS, _T_CUTS, _T_NODES, _T_CLIENTS, _T_MESSAGES, _T_LOG, _T_COMMIT, _T_BOOK = range(8)
_DYNAMIC: tuple[int, ...] = (_T_CUTS, _T_NODES, _T_MESSAGES, _T_LOG, _T_COMMIT, _T_BOOK)
#: The names of the traces a frame replaces, in frame order.
FRAME_TRACES = ("cut links", "nodes", "messages", "logs", "commit point", "book")


def _view_color(view: int) -> str:
    return "#bdbdbd" if view < 0 else VIEW_PALETTE[view % len(VIEW_PALETTE)]


def _label(node: dict[str, Any]) -> str:
    role = ROLES[node["role"]]["label"]
    if node["role"] == "down":
        return f"<b>{node['name']}</b> {role}"
    status = node["status"]
    extra = "" if status in ("normal", "learner") else " · " + status.replace("_", " ")
    sync = " · fsync…" if node["syncing"] else ""
    return (
        f"<b>{node['name']}</b> {role}{sync}<br>"
        f"v{node['view']} op {node['op']} c{node['commit']}{extra}"
    )


def _traces(state: dict[str, Any], names: list[str]) -> list[dict[str, Any]]:
    """The dynamic traces of one moment, as plain dicts (cheap: frames are built from these)."""
    nodes = state["nodes"]
    # cut links
    cx: list[float | None] = []
    cy: list[float | None] = []
    mx: list[float] = []
    my: list[float] = []
    mtext: list[str] = []
    for cut in state["cuts"]:
        cx += [cut["x0"], cut["x1"], None]
        cy += [cut["y0"], cut["y1"], None]
        mx.append((cut["x0"] + cut["x1"]) / 2)
        my.append((cut["y0"] + cut["y1"]) / 2)
        way = "both ways" if cut["both"] else "one way"
        mtext.append(f"cut {cut['source']} ↛ {cut['target']} ({way})")
    cuts = {
        "x": [*cx, None, *mx],
        "y": [*cy, None, *my],
        "text": [""] * (len(cx) + 1) + mtext,
        "mode": "lines+markers",
    }
    node_trace = {
        "x": [n["x"] for n in nodes],
        "y": [n["y"] for n in nodes],
        "text": [_label(n) for n in nodes],
        "textposition": ["top center" if n["y"] >= 0 else "bottom center" for n in nodes],
        "marker": {
            "color": [ROLES[n["role"]]["color"] for n in nodes],
            "symbol": [ROLES[n["role"]]["symbol"] for n in nodes],
            "size": 34,
            "line": {"width": 2, "color": "#333"},
        },
        "customdata": [n["name"] for n in nodes],
    }
    msgs = state["messages"]
    messages = {
        "x": [m["x"] for m in msgs],
        "y": [m["y"] for m in msgs],
        "text": [
            f"{m['kind']} {m['source']} → {m['target']}"
            + ("" if m["view"] is None else f" view {m['view']}")
            + ("" if m["op"] is None else f" op {m['op']}")
            + (f"<br>dropped: {m['reason']}" if m["state"] == "dropped" else "")
            for m in msgs
        ],
        "marker": {
            "color": [FAMILIES[m["family"]]["color"] for m in msgs],
            "symbol": [
                "x" if m["state"] == "dropped" else FAMILIES[m["family"]]["symbol"] for m in msgs
            ],
            "opacity": [m["opacity"] for m in msgs],
            "size": 11,
            "line": {"width": 1, "color": "#222"},
        },
    }
    if not msgs:  # plotly.js fails on empty per-point marker arrays in animation frames
        messages.update(x=[None], y=[None], text=[""], marker={"size": 11})
    # logs: one square marker per entry on the log axes (row = node, column = slot). Markers,
    # not bars: plotly.js fails on bar traces inside animation frames ("e.classed").
    row_of = {name: len(names) - 1 - i for i, name in enumerate(names)}
    lx: list[float | None] = []
    ly: list[float | None] = []
    lpattern: list[str] = []
    lline: list[str] = []
    lhover: list[str] = []
    tx: list[float] = []
    ty: list[float] = []
    ttext: list[str] = []
    kx: list[float | None] = []
    ky: list[float | None] = []
    for n in nodes:
        row = row_of[n["name"]]
        last_committed = -1
        for slot, e in enumerate(n["log"][-_LOG_SLOTS:]):
            lx.append(slot)
            ly.append(row)
            leaving = e.get("leaving", False)
            if leaving:
                symbol, color, what, text = "square-open", "#b0b0b0", "truncated", f"{e['op']}↗"
            elif e["corrupt"]:
                symbol, color, what, text = "square-x-open", "#d62728", "CORRUPT", f"{e['op']}!"
            elif e["committed"]:
                symbol, color, what, text = "square", _view_color(e["view"]), "committed", ""
            else:
                symbol, color, what, text = "square-open", _view_color(e["view"]), "uncommitted", ""
            lpattern.append(symbol)
            lline.append(color)
            lhover.append(f"{n['name']} op {e['op']} · view {e['view']} · {what}")
            tx.append(slot)
            ty.append(row)
            ttext.append(text or str(e["op"]))
            if e["committed"] and not leaving:
                last_committed = slot
        if last_committed >= 0:
            kx += [last_committed + 0.5, last_committed + 0.5, None]
            ky += [row - 0.35, row + 0.35, None]
    log = {
        "x": lx or [None],
        "y": ly or [None],
        "hovertext": lhover or [""],
        "marker": {
            "color": lline or "#333",
            "symbol": lpattern or "square",
            "size": 20,
            "line": {"width": 2.5, "color": lline or "#333"},
        },
    }
    book = state["book"]
    asks = list(reversed(book["asks"][:_BOOK_ROWS]))
    bids = book["bids"][:_BOOK_ROWS]
    bx: list[float] = []
    by: list[float] = []
    btext: list[str] = []
    bcolor: list[str] = []
    for i, (price, qty) in enumerate(asks):
        bx.append(0)
        by.append(_BOOK_ROWS * 2 - (_BOOK_ROWS - len(asks)) - i)
        btext.append(f"ask {price} × {qty}")
        bcolor.append("#d62728")
    for i, (price, qty) in enumerate(bids):
        bx.append(0)
        by.append(_BOOK_ROWS - i)
        btext.append(f"bid {price} × {qty}")
        bcolor.append("#2ca02c")
    if not asks and not bids:
        bx, by, btext, bcolor = (
            [0],
            [_BOOK_ROWS + 0.5],
            [book.get("note") or "empty book"],
            ["#666"],
        )
    fills = book["fills"][-_BOOK_ROWS:]
    lines = ["<b>latest fills</b>", *(fills or ["none yet"])]
    bx += [1.0] * len(lines)
    by += [_BOOK_ROWS * 2 - i for i in range(len(lines))]
    btext += lines
    bcolor += ["#333"] * len(lines)
    log["text"] = ttext or [""]
    out: list[dict[str, Any]] = [
        cuts,
        node_trace,
        messages,
        log,
        {"x": kx, "y": ky},
        {"x": bx, "y": by, "text": btext, "textfont": {"color": bcolor, "size": 11}},
    ]
    for name, trace in zip(FRAME_TRACES, out, strict=True):
        trace["type"] = "scatter"
        trace["name"] = name
    return out


def _title(state: dict[str, Any]) -> str:
    lead = (
        f"primary {state['primary']} (view {state['view']})" if state["primary"] else "no primary"
    )
    flying = sum(1 for m in state["messages"] if m["state"] == "flying")
    return f"t = {state['time_ms']:.3f} ms · {lead} · {flying} messages in flight"


def picture_figure_dict(
    state: dict[str, Any], names: list[str], height: int | None = None
) -> dict[str, Any]:
    """The full plotly figure of one :func:`picture_state` as a plain dict (no validation)."""
    dynamic = _traces(state, names)
    positions = {n["name"]: (n["x"], n["y"]) for n in state["nodes"]}
    lx: list[float | None] = []
    ly: list[float | None] = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            lx += [positions[a][0], positions[b][0], None]
            ly += [positions[a][1], positions[b][1], None]
    clients = state["clients"]
    cuts, node_trace, messages, log, commit, book = dynamic
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "name": "links",
            "x": lx,
            "y": ly,
            "mode": "lines",
            "line": {"color": "#d0d7de", "width": 1},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            **cuts,
            "line": {"color": "#d62728", "width": 3, "dash": "dash"},
            "marker": {"symbol": "x-thin", "size": 14, "line": {"width": 3, "color": "#d62728"}},
            "hovertemplate": "%{text}<extra></extra>",
        },
        {
            **node_trace,
            "mode": "markers+text",
            "textfont": {"size": 11},
            "hovertemplate": "%{text}<extra></extra>",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "name": "clients",
            "x": [c["x"] for c in clients],
            "y": [c["y"] for c in clients],
            "text": [c["name"].removeprefix(CLIENT_PREFIX) for c in clients],
            "mode": "markers+text",
            "textposition": "bottom center",
            "textfont": {"size": 10, "color": CLIENT_COLOR},
            "marker": {"symbol": "square", "size": 14, "color": CLIENT_COLOR},
            "hovertemplate": "client %{text}<extra></extra>",
        },
        {
            **messages,
            "mode": "markers",
            "hovertemplate": "%{text}<extra></extra>",
            "showlegend": False,
        },
        {
            **log,
            "xaxis": "x2",
            "yaxis": "y2",
            "mode": "markers+text",
            "textposition": "middle center",
            "textfont": {"size": 9, "color": "#111"},
            "hovertemplate": "%{hovertext}<extra></extra>",
            "showlegend": False,
        },
        {
            **commit,
            "xaxis": "x2",
            "yaxis": "y2",
            "mode": "lines",
            "line": {"color": "#111", "width": 3},
            "hoverinfo": "skip",
        },
        {
            **book,
            "xaxis": "x3",
            "yaxis": "y3",
            "mode": "text",
            "textposition": "middle right",
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]
    # Legend-only entries: message families and roles, each with its symbol.
    for family, spec in FAMILIES.items():
        data.append(
            {
                "type": "scatter",
                "name": f"msg: {family}",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": {"symbol": spec["symbol"], "color": spec["color"], "size": 10},
            }
        )
    data.append(
        {
            "type": "scatter",
            "name": "msg: dropped",
            "x": [None],
            "y": [None],
            "mode": "markers",
            "marker": {"symbol": "x", "color": "#555", "size": 10},
        }
    )
    for _role, spec in ROLES.items():
        data.append(
            {
                "type": "scatter",
                "name": f"{spec['label'].lower()}",
                "x": [None],
                "y": [None],
                "mode": "markers",
                "marker": {"symbol": spec["symbol"], "color": spec["color"], "size": 12},
            }
        )
    n_rows = len(names)
    layout = {
        "title": {
            "text": _title(state),
            "x": 0.01,
            "y": 0.99,
            "yanchor": "top",
            "yref": "container",
            "font": {"size": 14},
        },
        "height": height or 560,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 10, "r": 10, "t": 90, "b": 10},
        "hoverlabel": {"align": "left"},
        "legend": {
            "orientation": "h",
            "y": 1.01,
            "yanchor": "bottom",
            "x": 0,
            "font": {"size": 10},
        },
        "xaxis": {"domain": [0, 0.56], "range": [-2.4, 2.4], "visible": False},
        "yaxis": {"range": [-2.25, 2.25], "visible": False, "scaleanchor": "x"},
        "xaxis2": {
            "domain": [0.6, 1],
            "anchor": "y2",
            "range": [-0.6, _LOG_SLOTS - 0.4],
            "showticklabels": False,
            "showgrid": False,
            "zeroline": False,
            "title": {
                "text": "logs: filled = committed, hollow = not yet, ⊠ corrupt, bar = commit point",
                "font": {"size": 11},
            },
        },
        "yaxis2": {
            "domain": [0.45, 1],
            "anchor": "x2",
            "range": [-0.6, n_rows - 0.4],
            "tickvals": list(range(n_rows)),
            "ticktext": names[::-1],
            "showgrid": False,
            "zeroline": False,
        },
        "xaxis3": {"domain": [0.6, 1], "anchor": "y3", "range": [-0.05, 2.2], "visible": False},
        "yaxis3": {
            "domain": [0, 0.33],
            "anchor": "x3",
            "range": [0.3, _BOOK_ROWS * 2 + 1.6],
            "visible": False,
        },
        "annotations": [
            {
                "text": "<b>committed book</b>",
                "xref": "x3",
                "yref": "y3",
                "x": 0,
                "y": _BOOK_ROWS * 2 + 1.3,
                "showarrow": False,
                "xanchor": "left",
            }
        ],
    }
    return {"data": data, "layout": layout}


def _check_names(cluster: Any) -> list[str]:
    from clobkit.views.common import require_cluster

    require_cluster(cluster)
    return list(cluster.replica_names)


def cluster_picture(
    cluster: Any, at_ms: float | None = None, *, height: int | None = None
) -> go.Figure:
    """The cluster at ``at_ms`` (simulated ms; ``None``: now) as one plotly figure. O(trace).

    See the module doc for what is drawn. Works in any plotly renderer and in static HTML.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> c.crash("n0"); _ = c.run(ms=150)
    >>> fig = cluster_picture(c, at_ms=120)
    >>> [n.split("<br>")[0] for n in fig.data[2].text]
    ['<b>n0</b> DOWN', '<b>n1</b> PRIMARY', '<b>n2</b> backup']

    Raises :class:`~clobkit.errors.InvalidArgument` for a negative ``at_ms`` or a bad
    ``height``, :class:`~clobkit.errors.InvalidType` for anything but a cluster.
    """
    import plotly.graph_objects as go

    names = _check_names(cluster)
    at_us = check_at_ms(at_ms)
    check_height(height)
    state = PictureTimeline(cluster).state(at_us)
    return go.Figure(picture_figure_dict(state, names, height))


def cluster_animation(
    cluster: Any,
    start_ms: float | None = None,
    end_ms: float | None = None,
    *,
    frames: int = 120,
    frame_ms: float | None = None,
    height: int | None = None,
) -> go.Figure:
    """The run from ``start_ms`` to ``end_ms`` as an animated plotly figure. O(trace + frames).

    One frame every ``frame_ms`` simulated ms (default: the window split into ``frames``
    frames), with a play/pause button and a time slider; ``fig.write_html(path)`` gives a
    self-contained page that plays offline. Frame ``k`` draws
    ``picture_state(cluster, t_k)``; its name is ``t_k`` in ms.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("alice", "buy", price="99.50", qty=2)
    >>> fig = cluster_animation(c, 0, 10, frames=11)
    >>> len(fig.frames), fig.frames[1].name
    (11, '1.000')

    Raises :class:`~clobkit.errors.InvalidArgument` for a negative or reversed window, a bad
    ``frames``/``frame_ms`` or ``height``.
    """
    import plotly.graph_objects as go

    names = _check_names(cluster)
    check_height(height)
    start_us = check_at_ms(start_ms, "start_ms") or 0
    end_us = check_at_ms(end_ms, "end_ms")
    if end_us is None or end_us > cluster.now_us:
        end_us = int(cluster.now_us) if end_us is None else end_us
    if end_us < start_us:
        raise InvalidArgument(f"end_ms must be >= start_ms, got {end_ms!r} < {start_ms!r}")
    if type(frames) is not int or not 2 <= frames <= 2000:
        raise InvalidArgument(f"frames must be an int in [2, 2000], got {frames!r}")
    times = frame_times(start_us, end_us, frames=frames, frame_ms=frame_ms)
    timeline = PictureTimeline(cluster)
    frame_list: list[dict[str, Any]] = []
    first: dict[str, Any] | None = None
    for t in times:
        state = timeline.state(t)
        if first is None:
            first = picture_figure_dict(state, names, height)
        dynamic = _traces(state, names)
        frame_list.append(
            {
                "name": f"{t / 1000:.3f}",
                "data": dynamic,
                "traces": list(_DYNAMIC),
                "layout": {"title": {"text": _title(state)}},
            }
        )
    assert first is not None
    duration = 120
    first["layout"]["updatemenus"] = [
        {
            "type": "buttons",
            "showactive": False,
            "x": 0.0,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 40},
            "buttons": [
                {
                    "label": "▶ play",
                    "method": "animate",
                    "args": [
                        None,
                        {
                            "frame": {"duration": duration, "redraw": True},
                            "fromcurrent": True,
                            "transition": {"duration": 0},
                        },
                    ],
                },
                {
                    "label": "❚❚ pause",
                    "method": "animate",
                    "args": [
                        [None],
                        {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"},
                    ],
                },
            ],
        }
    ]
    first["layout"]["sliders"] = [
        {
            "active": 0,
            "x": 0.12,
            "len": 0.88,
            "y": 0.0,
            "yanchor": "top",
            "pad": {"t": 30},
            "currentvalue": {"prefix": "t = ", "suffix": " ms"},
            "steps": [
                {
                    "label": f["name"],
                    "method": "animate",
                    "args": [
                        [f["name"]],
                        {"frame": {"duration": 0, "redraw": True}, "mode": "immediate"},
                    ],
                }
                for f in frame_list
            ],
        }
    ]
    first["layout"]["margin"]["b"] = 90
    first["layout"]["height"] = (height or 560) + 80
    # Frames go in through the constructor: plotly validates each once (the ``fig.frames``
    # setter would build and validate every frame a second time, doubling the build time).
    first["frames"] = frame_list
    fig = go.Figure(first)
    return fig


def frame_times(
    start_us: int, end_us: int, *, frames: int = 120, frame_ms: float | None = None
) -> list[int]:
    """The frame times (µs) :func:`cluster_animation` draws for a window.

    >>> frame_times(0, 1000, frames=5)
    [0, 250, 500, 750, 1000]
    """
    if frame_ms is not None:
        if isinstance(frame_ms, bool) or not isinstance(frame_ms, int | float) or frame_ms <= 0:
            raise InvalidArgument(f"frame_ms must be a positive number of ms, got {frame_ms!r}")
        step = max(1, round(frame_ms * 1000))
        out = list(range(start_us, end_us + 1, step))
        if len(out) > 2000:
            raise InvalidArgument(
                f"frame_ms={frame_ms!r} gives {len(out)} frames (at most 2000): use a larger step"
            )
        return out
    if end_us == start_us:
        return [start_us] * 2
    return [start_us + round((end_us - start_us) * k / (frames - 1)) for k in range(frames)]
