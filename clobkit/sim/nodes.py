"""Node handles: what ``cluster.nodes["n2"]`` shows about one replica.

A :class:`NodeHandle` is a live view, not a copy: every property reads the
replica (or its store) as it is now. A crashed node has no replica in
memory; its properties say ``None`` and its status ``"crashed"``, while its
disk (``wal``) can still be read after a restart.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import OrderBook
    from clobkit.sim.cluster import Cluster
    from clobkit.sim.host import Host

__all__ = ["NodeHandle", "NODE_COLUMNS", "nodes_frame"]

#: The one set of node-table columns: :meth:`NodeHandle.row`, ``Cluster.node_rows()``,
#: ``Cluster.nodes_df()`` and :func:`clobkit.views.nodes` all use it, with these dtypes.
#: One row per replica, in configuration order.
#:
#: ============= ======= ======================================================
#: node          object  replica name (n0, n1, ...)
#: up            bool    False while crashed
#: host          object  the process: "up", "crashed" or "paused"
#: role          object  "primary", "backup", "learner" or "down"
#: status        object  "crashed", "paused" or the protocol status
#: view          Int64   current view (NA while down)
#: op_number     Int64   last op in its log
#: commit_number Int64   highest op it knows committed
#: applied_op    Int64   highest op applied to its book
#: learner       bool    an empty replacement that does not vote yet
#: ============= ======= ======================================================
NODE_COLUMNS: dict[str, str] = {
    "node": "object",
    "up": "bool",
    "host": "object",
    "role": "object",
    "status": "object",
    "view": "Int64",
    "op_number": "Int64",
    "commit_number": "Int64",
    "applied_op": "Int64",
    "learner": "bool",
}

_HTML_COLUMNS = ("node", "role", "status", "view", "op_number", "commit_number", "learner")


def nodes_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Node rows (:meth:`NodeHandle.row`) as a DataFrame with :data:`NODE_COLUMNS` and their
    dtypes; nullable integers, because a crashed node has no view or numbers. O(rows)."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(NODE_COLUMNS))
    return frame.astype(NODE_COLUMNS)


class NodeHandle:
    """A live view of replica ``name`` in ``cluster``.

    ``status`` is the host's (``"crashed"``, ``"paused"``) or else the
    replica's protocol status (``"normal"``, ``"view_change"``,
    ``"recovering"``...). ``role`` is ``"primary"``, ``"backup"``,
    ``"learner"`` or ``"down"``.
    """

    __slots__ = ("_cluster", "name")

    def __init__(self, cluster: Cluster, name: str) -> None:
        self._cluster = cluster
        self.name = name

    @property
    def host(self) -> Host:
        """The simulator host running this replica."""
        return self._cluster.world.hosts[self.name]

    @property
    def replica(self) -> Any:
        """The :class:`~clobkit.replication.Replica` object, or ``None`` while crashed."""
        return self.host.participant

    @property
    def up(self) -> bool:
        """True unless crashed (a paused node is up but not running)."""
        return self.host.up

    def _get(self, attribute: str) -> Any:
        replica = self.replica
        return None if replica is None else getattr(replica, attribute, None)

    @property
    def view(self) -> int | None:
        """The view this replica is in."""
        return self._get("view")  # type: ignore[no-any-return]

    @property
    def op_number(self) -> int | None:
        """The last op in this replica's log."""
        return self._get("op_number")  # type: ignore[no-any-return]

    @property
    def commit_number(self) -> int | None:
        """The highest op this replica knows is committed."""
        return self._get("commit_number")  # type: ignore[no-any-return]

    @property
    def learner(self) -> bool:
        """True while this replica is a non-voting learner catching up."""
        return bool(self._get("status") == "learner")

    @property
    def status(self) -> str:
        """``crashed``, ``paused`` or the replica's protocol status."""
        host = self.host
        if host.status != "up":
            return host.status
        return str(self._get("status") or "normal")

    @property
    def is_primary(self) -> bool:
        """True if this replica acts as primary in normal status now."""
        replica = self.replica
        if replica is None or getattr(replica, "status", "normal") != "normal":
            return False
        flag = getattr(replica, "is_primary", False)
        return bool(flag() if callable(flag) else flag)

    @property
    def role(self) -> str:
        """``primary``, ``backup``, ``learner`` or ``down``."""
        if not self.up:
            return "down"
        if self.learner:
            return "learner"
        return "primary" if self.is_primary else "backup"

    @property
    def store(self) -> Any:
        """The replica's current store (the newest one after a restart or replace)."""
        return self._cluster._storage.stores[self.name]

    @property
    def wal(self) -> Any:
        """The replica's write-ahead log (:class:`~clobkit.storage.base.Wal`)."""
        return self.store.wal

    @property
    def disk(self) -> Any:
        """The store's disk (a :class:`~clobkit.storage.MemoryDisk` offers fault injection)."""
        return getattr(self.store, "disk", None)

    @property
    def machine(self) -> Any:
        """The replica's state machine (a :class:`~clobkit.replication.BookMachine`)."""
        return self._get("machine")

    @property
    def book(self) -> OrderBook | None:
        """This replica's own order book (committed entries applied), or ``None`` if down."""
        machine = self.machine
        if machine is None:
            return None
        return machine.exchange.book(self._cluster.market.symbol)  # type: ignore[no-any-return]

    def digest(self) -> str | None:
        """The replica's state-machine digest, or ``None`` if down."""
        machine = self.machine
        return None if machine is None else str(machine.digest())

    # -- faults, as methods for convenience -------------------------------------------

    def crash(self, torn: bool | int = False) -> None:
        """Same as ``cluster.crash(name, torn)``."""
        self._cluster.crash(self.name, torn)

    def restart(self) -> None:
        """Same as ``cluster.restart(name)``."""
        self._cluster.restart(self.name)

    def replace(self) -> None:
        """Same as ``cluster.replace(name)``."""
        self._cluster.replace(self.name)

    def pause(self) -> None:
        """Same as ``cluster.pause(name)``."""
        self._cluster.pause(self.name)

    def resume(self) -> None:
        """Same as ``cluster.resume(name)``."""
        self._cluster.resume(self.name)

    def row(self) -> dict[str, Any]:
        """This node as one row of the cluster's node table (:data:`NODE_COLUMNS`)."""
        return {
            "node": self.name,
            "up": bool(self.up),
            "host": self.host.status,
            "role": self.role,
            "status": self.status,
            "view": self.view,
            "op_number": self.op_number,
            "commit_number": self.commit_number,
            "applied_op": self._get("applied_op"),
            "learner": self.learner,
        }

    def __repr__(self) -> str:
        if not self.up:
            return f"<Node {self.name} crashed>"
        return (
            f"<Node {self.name} {self.role} {self.status} view={self.view} "
            f"op={self.op_number} commit={self.commit_number}>"
        )

    def _repr_html_(self) -> str:
        return node_table_html([self.row()])


def node_table_html(rows: list[dict[str, Any]]) -> str:
    """A small escaped HTML table of node rows."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in _HTML_COLUMNS)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape('' if row[c] is None else str(row[c]))}</td>" for c in _HTML_COLUMNS
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
