"""The log grid: op numbers across, nodes down, each cell coloured by the entry's view.

In the spirit of RaftScope: you see at a glance which node holds which entries, which view
(term) wrote them, where logs diverge after a failover, and how far commitment has reached.
Committed entries are solid; uncommitted ones carry an open-circle marker (trace
``"uncommitted"``); a crashed node shows what its WAL on disk holds, marked ``"down"`` in the
hover text. The heatmap trace is ``"log"`` (z = view, NaN where a node has no entry).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.viz.style import check_height, finish

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["log_grid"]

_VIEW_SCALE = "Viridis"


def log_grid(
    cluster: Any,
    *,
    max_ops: int = 200,
    height: int | None = None,
    title: str | None = None,
) -> go.Figure:
    """An op x node grid coloured by view, uncommitted entries marked. O(nodes x ops).

    Shows the last ``max_ops`` op numbers held anywhere. Running nodes are read from their
    in-memory log (:func:`clobkit.views.node_log`), crashed ones from their WAL
    (:func:`clobkit.views.wal`).

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> fig = log_grid(c); fig.data[0].name, [list(row) for row in fig.data[0].z]
    ('log', [[0.0], [0.0], [0.0]])

    Raises :class:`~clobkit.errors.InvalidArgument` for a bad ``max_ops`` or ``height``.
    """
    import plotly.graph_objects as go

    from clobkit.views import node_log, wal
    from clobkit.views.common import require_cluster

    require_cluster(cluster)
    check_height(height)
    if type(max_ops) is not int or max_ops <= 0:
        raise InvalidArgument(f"max_ops must be a positive int, got {max_ops!r}")
    names = list(cluster.nodes)
    cells: dict[tuple[str, int], tuple[int, bool, str, bool]] = {}
    log = node_log(cluster)
    for row in log.itertuples(index=False):
        cells[(row.node, row.op)] = (row.view, row.committed, row.command, True)
    for name in names:
        if cluster.nodes[name].replica is not None:
            continue
        for row in wal(cluster, name).itertuples(index=False):
            view = -1 if row.view is None or row.view != row.view else int(row.view)
            cells[(name, row.op)] = (view, False, row.command, False)
    ops = sorted({op for _, op in cells})[-max_ops:]
    col = {op: i for i, op in enumerate(ops)}
    z: list[list[float | None]] = [[None] * len(ops) for _ in names]
    hover: list[list[str]] = [["" for _ in ops] for _ in names]
    ux: list[int] = []
    uy: list[str] = []
    utext: list[str] = []
    for (name, op), (view, committed, command, running) in cells.items():
        if op not in col:
            continue
        r, k = names.index(name), col[op]
        z[r][k] = float(view) if view >= 0 else None
        state = "committed" if committed else ("uncommitted" if running else "on disk (down)")
        hover[r][k] = f"{name} op {op}<br>view {view}<br>{state}<br>{command}"
        if not committed:
            ux.append(op)
            uy.append(name)
            utext.append(hover[r][k])
    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            name="log",
            x=ops,
            y=names,
            z=z,
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            colorscale=_VIEW_SCALE,
            colorbar={"title": {"text": "view"}},
            xgap=2,
            ygap=2,
            hoverongaps=False,
        )
    )
    fig.add_trace(
        go.Scatter(
            name="uncommitted",
            x=ux,
            y=uy,
            mode="markers",
            marker={"symbol": "circle-open", "size": 10, "color": "#d62728", "line": {"width": 2}},
            text=utext,
            hovertemplate="%{text}<extra></extra>",
        )
    )
    commit = {n: cluster.nodes[n].commit_number for n in names}
    fig.update_yaxes(
        type="category",
        categoryorder="array",
        categoryarray=names[::-1],
        title_text="node",
        ticktext=[
            f"{n} (commit {commit[n]})" if commit[n] is not None else f"{n} (down)" for n in names
        ],
        tickvals=names,
    )
    fig.update_xaxes(title_text="op number")
    return finish(fig, title=title, height=height, default_height=max(220, 50 * len(names) + 120))
