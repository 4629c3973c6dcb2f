"""Replication lag over time, and each node's state at a past moment, rebuilt from the trace.

The trace holds everything a replica did, so replaying its records gives each node's state at
any time without keeping snapshots. Per node we track:

- ``view``: from ``view_change_start``, ``primary``, ``start_view``, ``join_view``,
  ``recover`` and from the view of every message the node sends;
- ``op_number``: the last op the node has durably logged *and announced*: the op of each
  ``Prepare`` a primary sends and each ``PrepareOk`` a backup sends (also when the network
  refuses it), the ``op`` of ``primary``, ``start_view``, ``recover``, ``state_transfer`` and
  ``learner_caught_up``, and ``after`` of a ``truncate``. Messages leave only after the sync,
  so this trails the replica's in-memory ``op_number`` by the disk latency, never leads it;
- ``commit_number``: ``commit`` records, and the ``commit`` of ``recover``/``primary``/
  ``start_view``;
- ``applied_op``: ``apply`` records, and ``min(commit_number, op_number)`` for a running node
  (a replica applies what it holds up to its commit number at once; no-ops leave no ``apply``
  record); ``recover`` resets it to its snapshot op, a replaced node to 0;
- ``status``: ``crashed`` from ``crash`` to ``restart``/``replace`` (op, commit and applied
  numbers then stay frozen at their last values: the line stops while the others move on),
  ``paused``, ``view_change``, ``learner``, ``recovering`` or ``normal``.

The primary at a time is the running node in status normal that VSR names for the highest
such view (``view mod n`` over the nodes in configuration order). ``lag_ops`` is the primary's
op number minus the node's, clipped at 0 (a node whose log runs past the new primary's holds
an old view's uncommitted suffix it will truncate: it is not behind); ``lag_us`` is how long
ago the primary appended the first op the node lacks (0 when it lacks none). A row is written
when anything but ``lag_us`` changes in a node's row, so the frame is a step function: a
node's state at time t is its last row at or before t (:func:`state_at`); ``lag_us`` is as of
the row's time and, while ``lag_ops > 0``, grows by one µs per µs until the next row.
"""

from __future__ import annotations

import bisect
import re
from collections import OrderedDict
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument
from clobkit.replication import events as ev
from clobkit.views.common import is_cluster, typed_frame
from clobkit.views.trace import records

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["LAG_COLUMNS", "STATE_COLUMNS", "lag", "node_order", "state_at"]

#: :func:`lag` columns: one row per (time_us, node) at which that node's row changed.
#:
#: ============= ====== ==============================================================
#: time_us       int64  simulated time
#: node          object replica name
#: up            bool   False while crashed
#: status        object crashed, paused, view_change, learner, recovering or normal
#: role          object primary, backup, learner or down
#: view          Int64  the node's view (NA before it started)
#: op_number     Int64  last op in its log
#: commit_number Int64  highest op it knows committed
#: applied_op    Int64  highest op applied to its book
#: primary       object the primary then ("" when there is none)
#: primary_op    Int64  the primary's op number (NA when there is none)
#: lag_ops       Int64  max(0, primary_op - op_number) (NA when there is no primary)
#: lag_us        Int64  age of the oldest op the node lacks (0 when none; NA: no primary)
#: ============= ====== ==============================================================
LAG_COLUMNS: dict[str, str] = {
    "time_us": "int64",
    "node": "object",
    "up": "bool",
    "status": "object",
    "role": "object",
    "view": "Int64",
    "op_number": "Int64",
    "commit_number": "Int64",
    "applied_op": "Int64",
    "primary": "object",
    "primary_op": "Int64",
    "lag_ops": "Int64",
    "lag_us": "Int64",
}

#: :func:`state_at` columns: :data:`LAG_COLUMNS` for each node's last row at or before the
#: time asked (``time_us`` = when that row was written), one row per node in order.
STATE_COLUMNS: dict[str, str] = dict(LAG_COLUMNS)

_OP_SENDS = {"Prepare", "PrepareOk"}
_NODE_NAME = re.compile(r"(\d+)$")


def node_order(names: Iterable[str]) -> list[str]:
    """Replica names in natural order (n2 before n10).

    >>> node_order(["n10", "n2", "n0"])
    ['n0', 'n2', 'n10']
    """

    def key(name: str) -> tuple[str, int]:
        m = _NODE_NAME.search(name)
        return (name[: m.start()], int(m.group(1))) if m else (name, -1)

    return sorted(set(names), key=key)


def _nodes_of(source: Any, recs: list[Any]) -> list[str]:
    if is_cluster(source):
        return list(source.nodes)
    return node_order(r.node for r in recs if r.node and not r.node.startswith("client"))


class _Node:
    __slots__ = ("applied", "commit", "op", "paused", "status", "up", "view")

    def __init__(self) -> None:
        self.view: int | None = None
        self.op: int | None = None
        self.commit: int | None = None
        self.applied: int | None = None
        self.status = "down"
        self.up = False
        self.paused = False

    def started(self, status: str) -> None:
        self.up = True
        self.status = status
        if self.view is None:
            self.view = 0
        for name in ("op", "commit", "applied"):
            if getattr(self, name) is None:
                setattr(self, name, 0)


def _replay(recs: list[Any], names: list[str], until_us: int | None) -> list[list[Any]]:
    """The lag rows (lists in :data:`LAG_COLUMNS` order) up to ``until_us`` inclusive."""
    state = {name: _Node() for name in names}
    count = len(names)
    index = {name: i for i, name in enumerate(names)}
    created_at: dict[int, int] = {}  # op -> when the current primary line appended it
    last: dict[str, tuple[Any, ...]] = {}
    rows: list[list[Any]] = []
    sent: set[int] = set()
    i = 0
    n = len(recs)
    while i < n:
        now = recs[i].time_us
        if until_us is not None and now > until_us:
            break
        while i < n and recs[i].time_us == now:
            _apply(recs[i], state, sent)
            i += 1
        primary = _primary(state, names, index, count)
        primary_op = state[primary].op if primary else None
        if primary_op is not None:
            for op in range(primary_op, 0, -1):
                if op in created_at:
                    break
                created_at[op] = now
            for op in [k for k in created_at if k > primary_op]:
                del created_at[op]  # the new primary's log is shorter: those ops are gone
        for name in names:
            node = state[name]
            role = _role(name, node, primary)
            lag_ops = lag_us = None
            if primary_op is not None and node.op is not None:
                # A node ahead of the primary holds an old view's uncommitted suffix that it
                # will truncate: it is not behind, so the lag is 0, never negative.
                lag_ops = max(0, primary_op - node.op)
                missing = node.op + 1
                lag_us = now - created_at[missing] if lag_ops > 0 and missing in created_at else 0
            key = (
                node.up,
                node.status,
                role,
                node.view,
                node.op,
                node.commit,
                node.applied,
                primary or "",
                primary_op,
                lag_ops,
            )
            if last.get(name) == key:
                continue  # lag_us alone grows with time: not a change worth a row
            last[name] = key
            if node.status == "down":
                continue  # never started nor crashed yet: nothing to show
            rows.append([now, name, *key, lag_us])
    return rows


def _role(name: str, node: _Node, primary: str | None) -> str:
    if not node.up:
        return "down"
    if node.status == "learner":
        return "learner"
    return "primary" if name == primary else "backup"


def _primary(
    state: dict[str, _Node], names: list[str], index: dict[str, int], count: int
) -> str | None:
    best: tuple[int, str] | None = None
    for name in names:
        node = state[name]
        if not node.up or node.status != "normal" or node.view is None:
            continue
        if index[name] == node.view % count and (best is None or node.view > best[0]):
            best = (node.view, name)
    return None if best is None else best[1]


def _apply(rec: Any, state: dict[str, _Node], sent: set[int]) -> None:
    kind = rec.kind
    if kind == "send":
        if rec.msg_id is not None:
            sent.add(rec.msg_id)
        node = state.get(rec.node)
        if node is None:
            return
        if rec.view is not None and (node.view is None or rec.view > node.view):
            node.view = rec.view
        if rec.message in _OP_SENDS and rec.op is not None and node.op is not None:
            node.op = max(node.op, rec.op)
            _settle_applied(node)
        return
    if kind == ev.DROP:
        # Refused at send time (never sent): the record's node is the sender.
        if rec.msg_id is not None and rec.msg_id not in sent and rec.message in _OP_SENDS:
            node = state.get(rec.node)
            if node is not None and rec.op is not None and node.op is not None:
                node.op = max(node.op, rec.op)
                _settle_applied(node)
        return
    if kind == "deliver":
        return
    node = state.get(rec.node)
    if node is None:
        return
    detail = rec.detail or {}
    if kind == ev.FRESH_START:
        node.started("normal")
    elif kind == ev.LEARNER_START:
        node.started("learner")
        node.op = node.commit = node.applied = 0
    elif kind == "crash":
        node.up = False
        node.status = "crashed"
    elif kind in ("restart", "replace"):
        node.up = True
        node.status = "recovering"
        if kind == "replace":
            node.op = node.commit = node.applied = 0
    elif kind == "pause":
        node.paused = True
        node.status = "paused"
    elif kind == "resume":
        node.paused = False
        node.status = "normal"
    elif kind == ev.RECOVER:
        # The replica resumes at once: view change if it crashed mid-change, recovering while
        # it repairs corrupt entries, else normal.
        node.up = True
        if detail.get("corrupt"):
            node.status = "recovering"
        elif rec.view is not None and rec.view > int(detail.get("last_normal_view", rec.view)):
            node.status = "view_change"
        else:
            node.status = "normal"
        node.view = rec.view if rec.view is not None else node.view
        node.op = rec.op if rec.op is not None else node.op
        node.commit = int(detail.get("commit", node.commit or 0))
        node.applied = int(detail.get("snapshot_op", 0))
    elif kind == ev.VIEW_CHANGE_START:
        node.status = "view_change"
        node.view = rec.view if rec.view is not None else node.view
    elif kind in (ev.PRIMARY, ev.START_VIEW, ev.JOIN_VIEW):
        node.status = "normal"
        node.view = rec.view if rec.view is not None else node.view
        if rec.op is not None:
            node.op = rec.op
        if "commit" in detail:
            node.commit = max(node.commit or 0, int(detail["commit"]))
    elif kind == ev.STATE_TRANSFER:
        node.status = "normal"
        if rec.op is not None:
            node.op = rec.op
    elif kind == ev.LEARNER_CAUGHT_UP:
        node.status = "normal"
        node.view = rec.view if rec.view is not None else node.view
        if rec.op is not None:
            node.op = rec.op
        if "commit" in detail:
            node.commit = max(node.commit or 0, int(detail["commit"]))
    elif kind == ev.TRUNCATE:
        after = detail.get("after")
        if after is not None:
            node.op = int(after)
            if node.applied is not None and node.applied > node.op:
                node.applied = node.op
    elif kind in (ev.COMMIT, ev.LEARN_COMMIT):
        if rec.op is not None:
            node.commit = max(node.commit or 0, rec.op)
            # No-ops are applied without an ``apply`` record: _settle_applied covers them.
    elif kind == ev.APPLY:
        if rec.op is not None:
            node.applied = max(node.applied or 0, rec.op)
    elif kind == ev.INSTALL_SNAPSHOT and rec.op is not None:
        node.applied = rec.op
        node.commit = max(node.commit or 0, rec.op)
        node.op = max(node.op or 0, rec.op)
    if node.paused and node.up and kind not in ("pause", "resume"):
        node.status = "paused"
    _settle_applied(node)


def _settle_applied(node: _Node) -> None:
    """A running replica applies every entry it holds up to its commit number at once."""
    if node.up and None not in (node.op, node.commit, node.applied):
        assert node.op is not None and node.commit is not None and node.applied is not None
        node.applied = max(node.applied, min(node.commit, node.op))


# (trace object, record count) -> (names, rows, per-node timelines). Holding the trace object
# keeps its id from being reused while the entry lives; a grown trace makes a new key.
_CACHE: OrderedDict[tuple[int, int], tuple[Any, list[str], list[list[Any]], Any]] = OrderedDict()
_CACHE_SIZE = 4


def _cached(source: Any) -> tuple[list[str], list[list[Any]], dict[str, Any]]:
    trace_obj = source.trace if is_cluster(source) else source
    cacheable = hasattr(trace_obj, "to_jsonl") and hasattr(trace_obj, "records")
    key = (id(trace_obj), len(trace_obj)) if cacheable else None
    if key is not None and key in _CACHE:
        _CACHE.move_to_end(key)
        _, cached_names, cached_rows, cached_timeline = _CACHE[key]
        if not is_cluster(source) or cached_names == list(source.nodes):
            return cached_names, cached_rows, cached_timeline
    recs = records(source)
    names = _nodes_of(source, recs)
    rows = _replay(recs, names, None)
    per_node: dict[str, tuple[list[int], list[list[Any]]]] = {}
    for row in rows:
        times, node_rows = per_node.setdefault(row[1], ([], []))
        times.append(row[0])
        node_rows.append(row)
    if key is not None:
        _CACHE[key] = (trace_obj, names, rows, per_node)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return names, rows, per_node


def lag_rows(source: Any) -> tuple[list[str], list[list[Any]]]:
    """The node names and every :data:`LAG_COLUMNS` row of ``source`` (cached per trace),
    shared by :func:`lag` and :func:`clobkit.viz.lag_figure`."""
    names, rows, _ = _cached(source)
    return names, rows


def _timeline(source: Any) -> tuple[list[str], dict[str, Any]]:
    names, _, per_node = _cached(source)
    return names, per_node


def select_nodes(names: list[str], nodes: Iterable[str] | None) -> list[str]:
    """``names`` restricted to ``nodes`` (one name or several; ``None`` keeps all), in
    ``names`` order.

    >>> select_nodes(["n0", "n1", "n2"], "n1")
    ['n1']

    Raises ``InvalidArgument`` naming any node that is not in ``names``.
    """
    if nodes is None:
        return names
    wanted = [nodes] if isinstance(nodes, str) else list(nodes)
    unknown = [n for n in wanted if n not in names]
    if unknown:
        raise InvalidArgument(f"nodes must be among {names}, got {unknown!r}")
    return [n for n in names if n in wanted]


def lag(source: Any, *, nodes: Iterable[str] | None = None) -> pd.DataFrame:
    """Per-node op, commit and applied numbers and lag behind the primary over time. O(n).

    ``source`` is a cluster, its trace or a trace frame. Columns and dtypes:
    :data:`LAG_COLUMNS` (a step function: see the module doc); ``nodes`` keeps only those.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("a", "buy", price=1, qty=1); _ = c.run(ms=50)
    >>> last = lag(c).groupby("node").last()
    >>> last[["op_number", "commit_number", "lag_ops"]].to_dict("index")["n2"]
    {'op_number': 1, 'commit_number': 1, 'lag_ops': 0}

    Raises :class:`~clobkit.errors.InvalidArgument` for an unknown node.
    """
    names, rows = lag_rows(source)
    keep = set(select_nodes(names, nodes))
    rows = [r for r in rows if r[1] in keep]
    data = {name: [r[i] for r in rows] for i, name in enumerate(LAG_COLUMNS)}
    return typed_frame(data, LAG_COLUMNS)


def state_at(source: Any, time_us: int, *, nodes: Iterable[str] | None = None) -> pd.DataFrame:
    """Each node's view, status, op/commit/applied numbers at simulated time ``time_us``. O(n).

    The node's last :func:`lag` row at or before ``time_us``. Columns and dtypes:
    :data:`STATE_COLUMNS`, one row per node (configuration order) that had started by then.
    The replay of a cluster's (or Trace's) records is cached until the trace grows, so
    scrubbing a time slider costs O(log n) per call after the first.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("a", "buy", price=1, qty=1); t = c.now_us; c.crash("n0"); _ = c.run(ms=300)
    >>> state_at(c, t - 1)[["node", "status", "role"]].to_dict("records")[0]
    {'node': 'n0', 'status': 'normal', 'role': 'primary'}
    >>> state_at(c, c.now_us)[["node", "status", "role"]].to_dict("records")[0]
    {'node': 'n0', 'status': 'crashed', 'role': 'down'}

    Raises :class:`~clobkit.errors.InvalidArgument` for a negative or non-int ``time_us``.
    """
    if type(time_us) is not int or time_us < 0:
        raise InvalidArgument(f"time_us must be a non-negative int, got {time_us!r}")
    names, per_node = _timeline(source)
    keep = select_nodes(names, nodes)
    rows = []
    for name in keep:
        times, node_rows = per_node.get(name, ([], []))
        at = bisect.bisect_right(times, time_us)
        if at:
            rows.append(node_rows[at - 1])
    data = {name: [r[i] for r in rows] for i, name in enumerate(STATE_COLUMNS)}
    return typed_frame(data, STATE_COLUMNS)
