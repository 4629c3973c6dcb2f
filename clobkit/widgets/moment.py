"""What the dashboard shows at one simulated time: a :class:`Moment`.

A moment is a plain snapshot taken from a cluster: one row per node (role,
status, view, op and commit numbers), who is primary, the committed book's
depth, and the trace records up to that time. The dashboard draws every
panel from a moment and nothing else, so the live view (a moment of the
running cluster) and the time slider (a moment of a replayed
:meth:`~clobkit.sim.Cluster.fork` at the chosen time) go through the same
drawing code.

Reading a moment never runs the simulation: the depth comes from a
replica's own committed book (the primary's, else the up-to-date replica
with the highest commit number), not through the cluster's read path,
which would send messages and change the trace.

>>> import clobkit as ck
>>> c = ck.Cluster(3, seed=1, storage="memory")
>>> _ = c.place("alice", "sell", price="100.50", qty=5)
>>> m = moment_of(c)
>>> m.primary, m.view, m.depth_ticks["asks"]  # the book's ticks and lots
('n0', 0, [(10050, 5, 1)])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.book import OrderBook
    from clobkit.sim import Cluster
    from clobkit.sim.trace import TraceRecord

__all__ = ["Moment", "moment_of", "committed_book"]


@dataclass(frozen=True)
class Moment:
    """A snapshot of a cluster at ``time_us`` (``live``: the running cluster, else a replay)."""

    time_us: int
    rows: list[dict[str, Any]]
    primary: str | None
    #: the committed book's depth in its own units, (price_ticks, qty_lots, order_count) rows
    depth_ticks: dict[str, list[tuple[int, int, int]]] | None
    records: list[TraceRecord] = field(repr=False)
    live: bool = True
    #: the committed book the depth came from (``None`` when no replica is up)
    book: OrderBook | None = field(default=None, repr=False)
    #: what the figures are drawn from: the cluster (live or a replay), or a trace
    source: Any = field(default=None, repr=False)

    @property
    def view(self) -> int | None:
        """The primary's view (``None`` while there is no primary)."""
        for row in self.rows:
            if row["node"] == self.primary:
                return row["view"]  # type: ignore[no-any-return]
        return None

    @property
    def commit(self) -> int | None:
        """The highest commit number any up node knows."""
        commits = [row["commit_number"] for row in self.rows if row["commit_number"] is not None]
        return max(commits) if commits else None


def committed_book(cluster: Cluster) -> OrderBook | None:
    """The primary's book, else the up node with the highest commit number's, else ``None``."""
    primary = cluster.primary
    if primary is not None:
        book: OrderBook | None = cluster.nodes[primary].book
        return book
    best: tuple[int, str] | None = None
    for name, node in cluster.nodes.items():
        commit = node.commit_number
        if commit is not None and (best is None or commit > best[0]):
            best = (commit, name)
    return None if best is None else cluster.nodes[best[1]].book


def moment_of(cluster: Cluster, *, levels: int = 10, live: bool = True) -> Moment:
    """Snapshot ``cluster`` now (O(nodes + levels); the record list is the trace's copy)."""
    book = committed_book(cluster)
    return Moment(
        time_us=cluster.now_us,
        rows=cluster.node_rows(),
        primary=cluster.primary,
        depth_ticks=None if book is None else book.depth(levels),
        records=cluster.trace.records,
        live=live,
        book=book,
        source=cluster,
    )
