"""What the cluster picture shows at one moment, as plain data: :func:`picture_state`.

The picture (RaftScope-style: nodes on a ring, messages as dots flying between them, each
node's log as a strip of boxes, the committed book beside it) is drawn by two front ends: the
plotly figures of :mod:`clobkit.viz.picture` (static pages, the docs, the HTML report) and the
SVG widget of :mod:`clobkit.widgets.picture_widget` (the live dashboard). Both draw the same
dict, built here and nowhere else, so the two can never disagree.

How a moment is computed. The simulator's trace (:class:`clobkit.sim.Trace`) is read once, in
order, up to the chosen time: node records move a small per-node state (role, status, view,
op and commit numbers, the log as ``op -> view``, corrupt entries), message records pair
sends with their fates by ``msg_id``, fault records build the set of cut links. The trace
records each fact where it happens, so most of this is exact: roles and views come from
``primary``/``start_view``/``view_change_start``/``join_view``/``crash``/``restart`` records,
commit numbers from ``commit`` records, a backup's op number from the op of the last
``PrepareOk`` it sent. The log of a node in the *past* is rebuilt from what the trace shows
(``Prepare`` sent and acknowledged, the view it was created in, ``start_view`` and
``state_transfer`` copying the primary's log, ``recover`` cutting a torn tail, ``corrupt``,
``repair`` and ``repair_truncate``); entries a node loses that way stay drawn as *leaving* for
:data:`LEAVE_US`. At the present moment (``at_ms=None`` or the cluster's
current time) the nodes, their logs, the cut links and the book are read from the live
cluster instead, exactly; the tests check that the trace-rebuilt state agrees with the live
one at the end of every staged scenario.

A message in flight is placed along its link by linear interpolation between its send and
delivery times (``frac`` in ``[0, 1]``); a message still in flight at the end of the trace
takes its delivery time from the simulator's event queue. A dropped message stays visible
for :data:`DROP_FADE_US` after it was lost, where it was lost (near the sender when the
network refused it, near the target when it arrived at a dead or cut-off node), fading out.

The book at a past moment is rebuilt by applying the committed log (read from the live
replica holding the longest log from op 1) up to the highest commit number any node knew
then, skipping duplicate client requests as the replicas do; prices are written with the
market's :meth:`~clobkit.book.MarketSpec.format_price`.

>>> import clobkit as ck
>>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
>>> _ = c.place("alice", "sell", price="100.50", qty=5)
>>> s = picture_state(c)
>>> [(n["name"], n["role"]) for n in s["nodes"]]
[('n0', 'primary'), ('n1', 'backup'), ('n2', 'backup')]
>>> s["book"]["asks"]
[['100.50', '5']]
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication import events as ev

__all__ = [
    "DROP_FADE_US",
    "FAMILIES",
    "LEAVE_US",
    "FAMILY_OF",
    "ROLES",
    "TK",
    "MessageSpan",
    "PictureTimeline",
    "message_family",
    "picture_state",
]


class TK:
    """The trace-record kinds the picture reads, one name each (see :mod:`clobkit.sim.trace`);
    the replica's own kinds are those of :mod:`clobkit.replication.events`."""

    SEND = "send"
    DELIVER = "deliver"
    DROP = ev.DROP
    SYNC = ev.SYNC
    COMMIT = ev.COMMIT
    APPLY = ev.APPLY
    FRESH_START = ev.FRESH_START
    LEARNER_START = ev.LEARNER_START
    LEARNER_CAUGHT_UP = ev.LEARNER_CAUGHT_UP
    RECOVER = ev.RECOVER
    VIEW_CHANGE_START = ev.VIEW_CHANGE_START
    PRIMARY = ev.PRIMARY
    START_VIEW = ev.START_VIEW
    JOIN_VIEW = ev.JOIN_VIEW
    STATE_TRANSFER = ev.STATE_TRANSFER
    INSTALL_SNAPSHOT = ev.INSTALL_SNAPSHOT
    CORRUPT = ev.CORRUPT
    REPAIR = ev.REPAIR
    REPAIR_TRUNCATE = ev.REPAIR_TRUNCATE
    REPAIRED = ev.REPAIRED
    TRUNCATE = ev.TRUNCATE
    CRASH = "crash"
    RESTART = "restart"
    REPLACE = "replace"
    PAUSE = "pause"
    RESUME = "resume"
    PARTITION = "partition"
    ISOLATE = "isolate"
    BLOCK = "block"
    HEAL = "heal"
    DISK_FAULT = "disk_fault"


#: Message kind families, each drawn with its own colour AND marker symbol.
FAMILIES: dict[str, dict[str, Any]] = {
    "normal case": {
        "kinds": ("Request", "Reply", "Prepare", "PrepareOk", "Commit", "CommitOk"),
        "color": "#1f77b4",
        "symbol": "circle",
        "svg": "circle",
    },
    "view change": {
        "kinds": (
            "PreViewChange",
            "PreViewChangeOk",
            "StartViewChange",
            "DoViewChange",
            "StartView",
        ),
        "color": "#9467bd",
        "symbol": "diamond",
        "svg": "diamond",
    },
    "state transfer": {
        "kinds": (
            "GetState",
            "NewState",
            "Recovery",
            "RecoveryResponse",
            "GetEntry",
            "EntryReply",
        ),
        "color": "#e6550d",
        "symbol": "square",
        "svg": "square",
    },
    "reads": {
        "kinds": ("Read", "ReadReply", "WriteBack", "WriteBackOk"),
        "color": "#2ca02c",
        "symbol": "triangle-up",
        "svg": "triangle",
    },
}

#: Message kind -> family name (kinds not listed fall in "normal case").
FAMILY_OF: dict[str, str] = {k: fam for fam, spec in FAMILIES.items() for k in spec["kinds"]}

#: Node roles as the picture draws them: colour, plotly symbol and a short text label, so a
#: role reads without colour.
ROLES: dict[str, dict[str, str]] = {
    "primary": {"color": "#1a7f37", "symbol": "star", "label": "PRIMARY"},
    "backup": {"color": "#4c78a8", "symbol": "circle", "label": "backup"},
    "learner": {"color": "#d4a017", "symbol": "circle-dot", "label": "learner"},
    "recovering": {"color": "#ff9f1c", "symbol": "hexagon", "label": "recovering"},
    "down": {"color": "#9e9e9e", "symbol": "x", "label": "DOWN"},
}

#: How long (µs) a dropped message stays drawn, fading, where it was lost.
DROP_FADE_US = 2_000

#: How long (µs) log entries a node truncated (or overwrote) stay drawn, leaving its log.
LEAVE_US = 5_000

# Records after which a node's log may have lost entries (compared before and after).
_SHRINKING = frozenset(
    {
        ev.RECOVER,
        ev.PRIMARY,
        ev.START_VIEW,
        ev.STATE_TRANSFER,
        ev.REPAIR_TRUNCATE,
        ev.TRUNCATE,
        ev.LEARNER_CAUGHT_UP,
    }
)

_RECOVERING_STATUSES = ("recovering", "view_change")


def message_family(kind: str) -> str:
    """The family of message ``kind`` (:data:`FAMILIES`).

    >>> message_family("DoViewChange"), message_family("Prepare")
    ('view change', 'normal case')
    """
    return FAMILY_OF.get(kind, "normal case")


@dataclass(slots=True)
class MessageSpan:
    """One copy of a message: its link, when it left, and when and how it ended."""

    msg_id: int
    kind: str
    source: str
    target: str
    view: int | None
    op: int | None
    send_us: int
    end_us: int | None  # None: still in flight, arrival unknown
    outcome: str  # "delivered", "dropped" or "in_flight"
    reason: str = ""
    refused: bool = False  # dropped by the network at send time


@dataclass(slots=True)
class _Node:
    """One replica's state as rebuilt from the trace."""

    role: str = "backup"
    status: str = "normal"
    up: bool = True
    paused: bool = False
    view: int = 0
    op: int = 0
    commit: int = 0
    learner: bool = False
    log: dict[int, int] = field(default_factory=dict)  # op -> view
    corrupt: set[int] = field(default_factory=set)
    sync_until_us: int = -1
    last_normal_view: int = 0  # as the last reopening read it from disk
    leaving: dict[int, tuple[int, int]] = field(default_factory=dict)  # op -> (view, when)

    def truncate(self, last_op: int) -> None:
        for op in [o for o in self.log if o > last_op]:
            del self.log[op]
        self.corrupt = {o for o in self.corrupt if o <= last_op}


class PictureTimeline:
    """The trace of a cluster, read once, from which :meth:`state` draws any moment.

    Build it once and ask for many times (the animation does: O(trace) in all, not per
    frame). ``state(at_us)`` must be asked with non-decreasing times to stay O(new records);
    an earlier time restarts the scan.
    """

    def __init__(self, cluster: Any) -> None:
        from clobkit.views.common import require_cluster

        require_cluster(cluster)
        self.cluster = cluster
        self.records = cluster.trace.records
        self.names: list[str] = list(cluster.replica_names)
        self.spec = cluster.market
        self.now_us: int = int(cluster.now_us)
        self.spans: list[MessageSpan] = _pair_messages(self.records, _pending_arrivals(cluster))
        self.spans.sort(key=lambda s: (s.send_us, s.msg_id))
        self._send_times = [s.send_us for s in self.spans]
        # messages the network refused when sent: still a sign the sender had the entry
        self._refused = {s.msg_id for s in self.spans if s.refused}
        # the longest lifetime bounds which spans can still be visible at a time
        self._longest_us = max(
            [(s.end_us if s.end_us is not None else self.now_us) - s.send_us for s in self.spans]
            + [0]
        )
        clients = sorted(
            {s.source for s in self.spans if s.source not in self.names}
            | {s.target for s in self.spans if s.target not in self.names}
        )
        self.clients: list[str] = clients
        self._positions = _ring_positions(self.names, clients)
        # the committed log is read (and decoded) only when a past moment's book is asked for
        self._commands: list[Any] | None = None
        self._commands_read = False
        self._dedup = "no_dedup" not in tuple(cluster._options.get("unsafe", ()))
        self._reset()

    # -- the scan ------------------------------------------------------------------------

    def _reset(self) -> None:
        self._index = 0
        self._at_us = -1
        self._nodes: dict[str, _Node] = {
            n: _Node(role="primary" if i == 0 else "backup") for i, n in enumerate(self.names)
        }
        self._blocked: set[tuple[str, str]] = set()
        self._isolated: set[str] = set()
        self._book_machine: Any = None
        self._book_op = 0
        self._last_request: dict[str, int] = {}

    def _advance(self, at_us: int) -> None:
        if at_us < self._at_us:
            self._reset()
        records = self.records
        i = self._index
        while i < len(records) and records[i].time_us <= at_us:
            self._apply(records[i])
            i += 1
        self._index = i
        self._at_us = at_us

    def _primary_of(self, view: int) -> _Node | None:
        for node in self._nodes.values():
            if node.role == "primary" and node.view == view and node.up:
                return node
        return None

    def _apply(self, r: Any) -> None:
        node = self._nodes.get(r.node)
        if r.kind not in _SHRINKING or node is None:
            self._apply_record(r)
            return
        before = dict(node.log)
        self._apply_record(r)
        node = self._nodes[r.node]
        for op, view in before.items():
            if node.log.get(op) != view:
                node.leaving[op] = (view, r.time_us)

    def _apply_record(self, r: Any) -> None:  # one table of record kinds, read in order
        kind = r.kind
        nodes = self._nodes
        node = nodes.get(r.node)
        detail = r.detail or {}
        if kind == TK.SEND or (kind == TK.DROP and r.msg_id in self._refused):
            if node is None or r.op is None:
                return
            if r.message == "Prepare" and node.role == "primary":
                node.log.setdefault(r.op, r.view if r.view is not None else node.view)
                node.op = max(node.op, r.op)
            elif r.message == "StartView" and node.role == "primary":
                # A new primary logs the requests parked during the view change right behind
                # its no-op, in the same StartView (Replica._become_primary).
                for op in range(node.op + 1, r.op + 1):
                    node.log[op] = r.view if r.view is not None else node.view
                node.op = max(node.op, r.op)
            elif r.message == "PrepareOk":
                # Acknowledging op k means holding the entries up to k of the one asking.
                asker = nodes.get(r.peer) or self._primary_of(node.view)
                top = max(node.log, default=0)
                for op in range(min(top + 1, r.op), r.op + 1):
                    source = asker.log.get(op) if asker is not None else None
                    node.log[op] = source if source is not None else node.view
                node.op = max(node.op, r.op)
            return
        if kind == TK.DELIVER and node is not None and r.message == "Prepare":
            # A backup appends an in-order prepare of its view when it arrives (it acks
            # after the sync).
            in_order = r.op is not None and r.op == node.op + 1 and r.view == node.view
            if in_order and node.up and node.status == "normal" and node.role != "primary":
                sender = nodes.get(r.peer)
                held = sender.log.get(r.op) if sender is not None else None
                node.log[r.op] = held if held is not None else node.view
                node.op = r.op
            return
        if kind in (TK.DELIVER, TK.DROP) or node is None:
            self._apply_cluster(r)
            return
        if kind == TK.SYNC:
            node.sync_until_us = r.time_us + int(detail.get("latency_us", 0))
        elif kind == TK.COMMIT and r.op is not None:
            node.commit = max(node.commit, r.op)
        elif kind == TK.FRESH_START:  # view 0's primary is the first replica
            first = self.names.index(r.node) == 0
            nodes[r.node] = _Node(role="primary" if first else "backup")
        elif kind == TK.LEARNER_START:
            node.learner, node.role, node.status = True, "learner", "learner"
        elif kind == TK.LEARNER_CAUGHT_UP:
            node.learner, node.role, node.status = False, "backup", "normal"
            self._copy_primary_log(node, r.view, r.op)
            self._set_numbers(node, r, detail)
        elif kind == TK.RECOVER:  # reopened from disk: as Replica._open decides
            if r.op is not None:
                node.truncate(r.op)
            corrupt = {int(o) for o in detail.get("corrupt", []) if isinstance(o, int)}
            node.corrupt |= corrupt
            self._set_numbers(node, r, detail)
            last_normal = detail.get("last_normal_view", node.view)
            node.last_normal_view = last_normal if isinstance(last_normal, int) else node.view
            if corrupt:
                node.role, node.status = "recovering", "recovering"
            else:
                self._resume_after_open(r.node, node)
        elif kind == TK.VIEW_CHANGE_START:
            node.status = "view_change"
            node.role = "recovering" if not node.learner else "learner"
            if r.view is not None:
                node.view = r.view
        elif kind == TK.PRIMARY:
            self._adopt_best_log(r.node, r.view, r.op)
            node.role, node.status, node.learner = "primary", "normal", False
            self._set_numbers(node, r, detail)
        elif kind == TK.START_VIEW:
            self._copy_primary_log(node, r.view, r.op)
            node.role, node.status = ("learner" if node.learner else "backup"), "normal"
            self._set_numbers(node, r, detail)
        elif kind == TK.JOIN_VIEW:
            if r.view is not None:
                node.view = r.view
            if not node.learner:
                node.role, node.status = "backup", "normal"
        elif kind == TK.STATE_TRANSFER:
            giver = nodes.get(str(detail.get("source", "")))
            base = int(detail.get("base_op", 0) or 0)
            if giver is not None and r.op is not None:
                node.truncate(base)
                for op, view in giver.log.items():
                    if base < op <= r.op:
                        node.log[op] = view
            if r.op is not None:
                node.op = r.op
        elif kind == TK.CORRUPT and r.op is not None:
            node.corrupt.add(r.op)
        elif kind == TK.REPAIR and r.op is not None:
            node.corrupt.discard(r.op)
        elif kind == TK.REPAIRED:
            node.corrupt.clear()
            if node.status == "recovering":  # reopened with corrupt entries: now resumes
                self._resume_after_open(r.node, node)
        elif kind == TK.TRUNCATE and isinstance(detail.get("after"), int):
            # a suffix that conflicts with the primary's log is cut (the entries that
            # replace it come in the same step: the next PrepareOk or state transfer says so)
            node.truncate(detail["after"])
            node.op = min(node.op, detail["after"])
        elif kind == TK.REPAIR_TRUNCATE and r.op is not None:
            node.truncate(r.op - 1)
            node.op = min(node.op, r.op - 1)
        elif kind == TK.CRASH:
            node.up, node.role, node.status = False, "down", "crashed"
            node.sync_until_us = -1
        elif kind == TK.RESTART:
            node.up, node.role, node.status = True, "recovering", "recovering"
        elif kind == TK.REPLACE:
            nodes[r.node] = _Node(role="learner", status="learner", learner=True)
        elif kind == TK.PAUSE:
            node.paused = True
        elif kind == TK.RESUME:
            node.paused = False
        else:
            self._apply_cluster(r)

    def _resume_after_open(self, name: str, node: _Node) -> None:
        """As ``Replica._resume_after_open``: back to its view's normal status, or on to a
        view change when it had moved past its last normal view."""
        if node.view > node.last_normal_view:
            node.role, node.status = "recovering", "view_change"
            return
        lead = self.names[node.view % len(self.names)] == name
        if lead and len(self.names) > 1:
            # A primary that reopens gives its view up (its Prepares may have left before
            # its sync, so its log may lack an op it sent): it asks for the next view.
            node.role, node.status = "recovering", "view_change"
            return
        node.status = "normal"
        node.role = "primary" if lead else "backup"
        if lead:
            # A reopened primary starts its view over with a fresh no-op past every op
            # it holds (Replica._resume_after_open); no trace record says so.
            node.op += 1
            node.log[node.op] = node.view

    def _apply_cluster(self, r: Any) -> None:
        kind = r.kind
        if kind == TK.PARTITION:
            groups = [list(g) for g in (r.detail or {}).get("groups", [])]
            for i, group in enumerate(groups):
                for other in groups[i + 1 :]:
                    for a in group:
                        for b in other:
                            self._blocked |= {(a, b), (b, a)}
        elif kind == TK.ISOLATE:
            self._isolated.add(r.node)
        elif kind == TK.BLOCK:
            self._blocked.add((r.node, r.peer))
        elif kind == TK.HEAL:
            self._blocked.clear()
            self._isolated.clear()

    def _set_numbers(self, node: _Node, r: Any, detail: dict[str, Any]) -> None:
        if r.view is not None:
            node.view = r.view
        if r.op is not None:
            node.op = r.op
        commit = detail.get("commit")
        if isinstance(commit, int):
            node.commit = commit

    def _copy_primary_log(self, node: _Node, view: int | None, op: int | None) -> None:
        primary = self._primary_of(view if view is not None else node.view)
        if primary is None or primary is node or op is None:
            return
        node.log = {o: v for o, v in primary.log.items() if o <= op}
        node.corrupt = set()

    def _adopt_best_log(self, name: str, view: int | None, op: int | None) -> None:
        """A new primary's log: at each op up to ``op``, the latest-view entry held by a node
        that took part in the view change (the trace does not say whose log won)."""
        node = self._nodes[name]
        if op is None:
            return
        adopted: dict[int, int] = {}
        for o in range(1, op + 1):
            candidates = [
                n.log[o]
                for n in self._nodes.values()
                if o in n.log and n.up and (view is None or n.view >= view)  # joined the change
            ]
            if candidates:
                adopted[o] = max(candidates)
            elif o == op and view is not None:
                adopted[o] = view  # the new primary's no-op
        node.log = adopted
        node.corrupt = set()

    # -- one moment -------------------------------------------------------------------------

    def state(self, at_us: int | None = None, *, log_boxes: int = 16) -> dict[str, Any]:
        """The picture at ``at_us`` (None: now) as a dict of plain data (see the module)."""
        live = at_us is None or at_us >= self.now_us
        at = self.now_us if at_us is None else min(int(at_us), self.now_us)
        self._advance(at)
        nodes = self._live_nodes(log_boxes) if live else self._trace_nodes(at, log_boxes)
        cuts = self._live_cuts() if live else self._cuts(self._blocked, self._isolated)
        max_commit = max((n["commit"] for n in nodes if n["commit"] is not None), default=0)
        book = self._live_book() if live else self._book_at(max_commit)
        primary = next((n["name"] for n in nodes if n["role"] == "primary"), None)
        view = next((n["view"] for n in nodes if n["role"] == "primary"), None)
        return {
            "time_us": at,
            "time_ms": at / 1000.0,
            "live": live,
            "primary": primary,
            "view": view,
            "nodes": nodes,
            "clients": [
                {"name": c, "x": self._positions[c][0], "y": self._positions[c][1]}
                for c in self.clients
            ],
            "messages": self.messages_at(at),
            "cuts": cuts,
            "book": book,
            "families": {
                name: {"color": f["color"], "svg": f["svg"]} for name, f in FAMILIES.items()
            },
            "roles": {name: dict(r) for name, r in ROLES.items()},
        }

    def messages_at(self, at_us: int) -> list[dict[str, Any]]:
        """Messages in flight at ``at_us`` plus drops still fading, in send order. O(visible)."""
        out: list[dict[str, Any]] = []
        lo = bisect.bisect_left(self._send_times, at_us - self._longest_us - DROP_FADE_US)
        hi = bisect.bisect_right(self._send_times, at_us)
        pos = self._positions
        for s in self.spans[lo:hi]:
            if s.source not in pos or s.target not in pos:
                continue
            end = s.end_us
            if s.outcome == "dropped":
                assert end is not None
                if at_us < end:
                    frac = _frac(s.send_us, end, at_us)
                    fade = 1.0
                elif at_us < end + DROP_FADE_US:
                    frac = 0.35 if s.refused else 0.9
                    fade = 1.0 - (at_us - end) / DROP_FADE_US
                else:
                    continue
                state = "dropped" if at_us >= end else "flying"
            else:
                if end is not None and at_us >= end:
                    continue
                frac = _frac(s.send_us, end, at_us)
                fade, state = 1.0, "flying"
            (x0, y0), (x1, y1) = pos[s.source], pos[s.target]
            out.append(
                {
                    "id": s.msg_id,
                    "kind": s.kind,
                    "family": message_family(s.kind),
                    "source": s.source,
                    "target": s.target,
                    "view": s.view,
                    "op": s.op,
                    "send_us": s.send_us,
                    "end_us": end,
                    "state": state,
                    "reason": s.reason,
                    "frac": round(frac, 4),
                    "opacity": round(max(0.1, fade), 3),
                    "x": round(x0 + (x1 - x0) * frac, 4),
                    "y": round(y0 + (y1 - y0) * frac, 4),
                }
            )
        return out

    # -- nodes ---------------------------------------------------------------------------

    def _node_dict(
        self,
        name: str,
        *,
        role: str,
        status: str,
        view: int | None,
        op: int | None,
        commit: int | None,
        syncing: bool,
        log: list[dict[str, Any]],
    ) -> dict[str, Any]:
        x, y = self._positions[name]
        return {
            "name": name,
            "role": role,
            "status": status,
            "view": view,
            "op": op,
            "commit": commit,
            "syncing": syncing,
            "x": x,
            "y": y,
            "log": log,
        }

    def _leaving(self, name: str, at: int) -> list[dict[str, Any]]:
        """Entries ``name`` lost less than :data:`LEAVE_US` before ``at``, drawn leaving."""
        node = self._nodes[name]
        return [
            {"op": op, "view": view, "committed": False, "corrupt": False, "leaving": True}
            for op, (view, when) in sorted(node.leaving.items())
            # an entry cut and written back the same (a conflicting suffix cut, then the
            # primary's entries) never left
            if 0 <= at - when < LEAVE_US and node.log.get(op) != view
        ]

    def _trace_nodes(self, at: int, log_boxes: int) -> list[dict[str, Any]]:
        out = []
        for name in self.names:
            n = self._nodes[name]
            status = "paused" if n.paused and n.up else n.status
            entries = [
                {
                    "op": op,
                    "view": n.log[op],
                    "committed": op <= n.commit,
                    "corrupt": op in n.corrupt,
                    "leaving": False,
                }
                for op in sorted(n.log)[-log_boxes:]
            ]
            entries += self._leaving(name, at)
            out.append(
                self._node_dict(
                    name,
                    role=n.role,
                    status=status,
                    view=n.view if n.up else None,
                    op=n.op if n.up else None,
                    commit=n.commit if n.up else None,
                    syncing=n.up and n.sync_until_us > at,
                    log=entries,
                )
            )
        return out

    def _live_nodes(self, log_boxes: int) -> list[dict[str, Any]]:
        cluster = self.cluster
        out = []
        now = self.now_us
        for row in cluster.node_rows():
            name = row["node"]
            handle = cluster.nodes[name]
            replica = handle.replica
            role = row["role"]
            if role == "backup" and row["status"] in _RECOVERING_STATUSES:
                role = "recovering"
            entries: list[dict[str, Any]] = []
            if replica is not None:
                # a corrupt entry has no row in the replica's log: draw it from the trace
                corrupt = replica.corrupt_ops
                traced = self._nodes[name].log
                held = {
                    row.op: {
                        "op": row.op,
                        "view": row.view,
                        "committed": bool(row.committed),
                        "corrupt": False,
                        "leaving": False,
                    }
                    for row in replica.log
                }
                for op in corrupt:
                    held[op] = {
                        "op": op,
                        "view": traced.get(op, -1),
                        "committed": op <= (row["commit_number"] or 0),
                        "corrupt": True,
                        "leaving": False,
                    }
                entries = [held[op] for op in sorted(held)[-log_boxes:]]
            else:  # down: what its disk holds, as the trace last saw it
                disk = self._nodes[name]
                entries = [
                    {
                        "op": op,
                        "view": disk.log[op],
                        "committed": False,
                        "corrupt": op in disk.corrupt,
                        "leaving": False,
                    }
                    for op in sorted(disk.log)[-log_boxes:]
                ]
            entries += self._leaving(name, now)
            host = handle.host
            out.append(
                self._node_dict(
                    name,
                    role=role,
                    status=row["status"],
                    view=row["view"],
                    op=row["op_number"],
                    commit=row["commit_number"],
                    syncing=bool(handle.up and host.busy_until_us > now),
                    log=entries,
                )
            )
        return out

    # -- links -------------------------------------------------------------------------------

    def _live_cuts(self) -> list[dict[str, Any]]:
        net = self.cluster.network
        return self._cuts(set(net.blocked), set(getattr(net, "isolated", ())))

    def _cuts(self, blocked: set[tuple[str, str]], isolated: set[str]) -> list[dict[str, Any]]:
        """Cut links between drawn nodes: ``both`` ways or one way (``source -> target``)."""
        drawn = self.names + self.clients
        out = []
        for i, a in enumerate(drawn):
            for b in drawn[i + 1 :]:
                ab = (a, b) in blocked or a in isolated or b in isolated
                ba = (b, a) in blocked or a in isolated or b in isolated
                if not (ab or ba):
                    continue
                if a not in self.names and b not in self.names:
                    continue
                source, target = (a, b) if ab else (b, a)
                (x0, y0), (x1, y1) = self._positions[source], self._positions[target]
                out.append(
                    {
                        "source": source,
                        "target": target,
                        "both": ab and ba,
                        "x0": x0,
                        "y0": y0,
                        "x1": x1,
                        "y1": y1,
                    }
                )
        return out

    # -- the book ----------------------------------------------------------------------------

    def _book_dict(self, book: Any, fills: list[Any], levels: int = 5) -> dict[str, Any]:
        spec = self.spec
        if book is None:
            return {"bids": [], "asks": [], "fills": [], "commit": None, "note": "no replica up"}
        depth = book.depth(levels)
        return {
            "bids": [[spec.format_price(p), spec.format_qty(q)] for p, q, _n in depth["bids"]],
            "asks": [[spec.format_price(p), spec.format_qty(q)] for p, q, _n in depth["asks"]],
            "fills": [
                f"{f.aggressor_side} {spec.format_qty(f.qty)} @ {spec.format_price(f.price)}"
                f" ({f.taker_user} x {f.maker_user})"
                for f in fills[-5:]
            ],
            "note": "",
        }

    def _live_book(self) -> dict[str, Any]:
        cluster = self.cluster
        name = cluster.primary
        if name is None:
            best = max(
                (
                    (h.commit_number, n)
                    for n, h in cluster.nodes.items()
                    if h.commit_number is not None
                ),
                default=None,
            )
            name = None if best is None else best[1]
        book = None if name is None else cluster.nodes[name].book
        out = self._book_dict(book, [] if book is None else book.fills()[-5:])
        out["commit"] = None if name is None else cluster.nodes[name].commit_number
        return out

    def _book_at(self, commit: int) -> dict[str, Any]:
        from clobkit.replication.machine import BookMachine

        if not self._commands_read:
            self._commands = _committed_commands(self.cluster)
            self._commands_read = True
        if self._commands is None:
            return {"bids": [], "asks": [], "fills": [], "commit": commit, "note": "log compacted"}
        if self._book_machine is None or commit < self._book_op:
            self._book_machine = BookMachine([self.spec])
            self._book_op = 0
            self._last_request = {}
        machine = self._book_machine
        while self._book_op < commit and self._book_op < len(self._commands):
            op = self._book_op + 1
            row = self._commands[op - 1]
            self._book_op = op
            if row.noop:
                continue
            seen = self._last_request.get(row.client_id, 0)
            if self._dedup and seen >= row.request_number:
                continue  # a duplicate request: the replicas reply from their client table
            self._last_request[row.client_id] = row.request_number
            machine.apply(op, row.ts_us, row.payload)
        book = machine.exchange.book(self.spec.symbol)
        out = self._book_dict(book, book.fills()[-5:])
        out["commit"] = min(commit, self._book_op)
        return out


def _frac(send_us: int, end_us: int | None, at_us: int) -> float:
    if end_us is None or end_us <= send_us:
        return 0.5
    return min(1.0, max(0.0, (at_us - send_us) / (end_us - send_us)))


def _ring_positions(names: list[str], clients: list[str]) -> dict[str, tuple[float, float]]:
    """Replicas on a unit ring from the top, clockwise; clients on an outer ring between them."""
    pos: dict[str, tuple[float, float]] = {}
    n = max(len(names), 1)
    for i, name in enumerate(names):
        angle = math.pi / 2 - 2 * math.pi * i / n
        pos[name] = (round(math.cos(angle), 4), round(math.sin(angle), 4))
    m = max(len(clients), 1)
    for j, name in enumerate(clients):
        angle = math.pi / 2 - 2 * math.pi * (j + 0.5) / m - math.pi / n
        pos[name] = (round(2.0 * math.cos(angle), 4), round(2.0 * math.sin(angle), 4))
    return pos


def _pending_arrivals(cluster: Any) -> dict[int, list[int]]:
    """msg_id -> arrival times still scheduled in the simulator (messages in flight now)."""
    in_flight = getattr(cluster.world, "in_flight", None)
    return {} if in_flight is None else in_flight()


def _pair_messages(records: Iterable[Any], pending: dict[int, list[int]]) -> list[MessageSpan]:
    """Every message copy with its fate, paired by ``msg_id`` (as ``views.messages`` does)."""
    spans: list[MessageSpan] = []
    open_copies: dict[int, list[MessageSpan]] = {}
    sent: set[int] = set()
    for r in records:
        kind = r.kind
        if kind not in (TK.SEND, TK.DELIVER, TK.DROP) or r.msg_id is None:
            continue
        mid = r.msg_id
        if kind == TK.SEND:
            sent.add(mid)
            copies = int((r.detail or {}).get("copies", 1))
            made = [
                MessageSpan(
                    mid, r.message, r.node, r.peer, r.view, r.op, r.time_us, None, "in_flight"
                )
                for _ in range(copies)
            ]
            spans.extend(made)
            open_copies[mid] = made
            continue
        if kind == TK.DROP and mid not in sent:  # refused by the network when sent
            reason = str((r.detail or {}).get("reason", ""))
            spans.append(
                MessageSpan(
                    mid,
                    r.message,
                    r.node,
                    r.peer,
                    r.view,
                    r.op,
                    r.time_us,
                    r.time_us,
                    "dropped",
                    reason,
                    True,
                )
            )
            continue
        waiting = open_copies.get(mid)
        if not waiting:
            continue  # a drop after delivery (inbox full): the dot already arrived
        span = waiting.pop(0)
        span.end_us = r.time_us
        if kind == TK.DELIVER:
            span.outcome = "delivered"
        else:
            span.outcome = "dropped"
            span.reason = str((r.detail or {}).get("reason", ""))
    for mid, left in open_copies.items():
        times = pending.get(mid, [])
        for span, at_us in zip(left, times[-len(left) :] if left else [], strict=False):
            span.end_us = at_us
    return spans


def _committed_commands(cluster: Any) -> list[Any] | None:
    """The committed log from op 1 (log rows), from the live replica holding the most of it.

    ``None`` when no live replica holds the log from op 1 (compacted, or every node down).
    """
    best: list[Any] | None = None
    primary = cluster.primary  # first: when books diverge (unsafe runs) it is the one shown
    for name in ([primary] if primary else []) + list(cluster.replica_names):
        replica = cluster.nodes[name].replica
        if replica is None:
            continue
        rows = []
        for expected, row in enumerate(replica.log, start=1):
            if row.op != expected or not row.committed:
                break
            rows.append(row)
        if rows and name == primary:
            return rows
        if rows and (best is None or len(rows) > len(best)):
            best = rows
    if best is None and not any(op for op, _v, _p in cluster.committed_log()):
        return []
    return best


def picture_state(
    cluster: Any, at_ms: float | None = None, *, log_boxes: int = 16
) -> dict[str, Any]:
    """The cluster picture at ``at_ms`` (simulated ms; ``None``: now) as plain data. O(trace).

    Keys: ``time_us``, ``time_ms``, ``live`` (read from the live cluster), ``primary``,
    ``view``, ``nodes`` (name, role, status, view, op, commit, syncing, x, y, log: the last
    ``log_boxes`` entries as op/view/committed/corrupt), ``clients`` (name, x, y),
    ``messages`` (in flight or fading drops: kind, family, source, target, view, op, state,
    frac, opacity, x, y), ``cuts`` (source, target, both, coordinates), ``book`` (bids and
    asks as ``[price, qty]`` strings in market units, the latest fills as text, the commit
    number it reflects), and the ``families``/``roles`` legends. Everything is JSON-ready.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("alice", "buy", price="99.50", qty=2)
    >>> picture_state(c, at_ms=0.5)["nodes"][0]["log"]
    []
    >>> picture_state(c)["nodes"][0]["log"][0]["committed"]
    True

    Raises :class:`~clobkit.errors.InvalidArgument` for a negative or non-numeric ``at_ms``
    and :class:`~clobkit.errors.InvalidType` for anything but a cluster.
    """
    at_us = check_at_ms(at_ms)
    if type(log_boxes) is not int or log_boxes <= 0:
        raise InvalidArgument(f"log_boxes must be a positive int, got {log_boxes!r}")
    return PictureTimeline(cluster).state(at_us, log_boxes=log_boxes)


def check_at_ms(at_ms: Any, name: str = "at_ms") -> int | None:
    """``at_ms`` as integer µs (``None`` stays ``None``); raises for bad values."""
    if at_ms is None:
        return None
    if isinstance(at_ms, bool) or not isinstance(at_ms, int | float):
        raise InvalidType(f"{name} must be a number of ms or None, got {at_ms!r}")
    if at_ms != at_ms or at_ms < 0 or math.isinf(at_ms):
        raise InvalidArgument(f"{name} must be a finite time >= 0 ms, got {at_ms!r}")
    return round(at_ms * 1000)
