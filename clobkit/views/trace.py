"""Views of the simulator's trace: raw records, messages with their fates, events, faults.

The trace (:class:`clobkit.sim.Trace`) is a list of records in the order the simulator
processed them. :func:`messages` pairs each send with what became of each copy by ``msg_id``:
a ``deliver`` record (delivered), a ``drop`` at the target (dropped on arrival: target down,
partitioned, inbox full) or nothing yet (in flight). A drop whose ``msg_id`` was never sent
was refused by the network at send time (partition, loss, a ``drop_next`` rule): there the
record's ``node`` is the source, while arrival drops name the target first.

:func:`fault_intervals` turns fault records into intervals for shading figures: ``crash`` ->
``restart``/``replace``, ``pause`` -> ``resume``, ``partition``/``isolate``/``block`` ->
the next ``heal`` (a new ``partition`` replaces the previous one), and a view change from the
first ``view_change_start`` for view v to the first ``primary`` event of a view >= v.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication import events as ev
from clobkit.views.common import is_cluster, is_frame, parse_detail, typed_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "COMMIT_COLUMNS",
    "EVENT_COLUMNS",
    "FAULT_COLUMNS",
    "MESSAGE_COLUMNS",
    "MESSAGE_KINDS",
    "TRACE_COLUMNS",
    "commits",
    "events",
    "fault_intervals",
    "messages",
    "records",
    "trace",
]

#: Trace kinds that are about one message (everything else is a node or cluster event).
MESSAGE_KINDS = ("send", "deliver", "drop")

#: :func:`trace` columns: :meth:`clobkit.sim.Trace.to_frame`'s columns plus ``time_ms``.
TRACE_COLUMNS: dict[str, str] = {
    "time_us": "int64",
    "kind": "object",
    "node": "object",
    "peer": "object",
    "message": "object",
    "view": "Int64",
    "op": "Int64",
    "msg_id": "Int64",
    "detail": "object",
    "time_ms": "float64",
}

#: :func:`messages` columns: one row per message copy, in send order.
#:
#: =========== ====== ==================================================================
#: msg_id      int64  the simulator's message id (copies of a duplicate share it)
#: copy        int64  0 for the first fate of a message, 1.. for duplicates
#: message     object message kind (Prepare, PrepareOk, Request, ...)
#: source      object sender
#: target      object addressee
#: view        Int64  view in the message
#: op          Int64  op number the message is about, if any
#: send_us     int64  when it was sent (or refused by the network)
#: end_us      Int64  when it was delivered or dropped (NA while in flight)
#: outcome     object "delivered", "dropped" or "in_flight"
#: drop_reason object why it was dropped ("" otherwise): loss, partitioned, target_down...
#: latency_us  Int64  end_us - send_us
#: =========== ====== ==================================================================
MESSAGE_COLUMNS: dict[str, str] = {
    "msg_id": "int64",
    "copy": "int64",
    "message": "object",
    "source": "object",
    "target": "object",
    "view": "Int64",
    "op": "Int64",
    "send_us": "int64",
    "end_us": "Int64",
    "outcome": "object",
    "drop_reason": "object",
    "latency_us": "Int64",
}

#: :func:`events` columns: non-message records (commit, apply, crash, view_change_start,
#: client_invoke, ...): time_us int64, kind object, node object, peer object, view Int64,
#: op Int64, detail object (a dict of plain JSON values, bytes as hex; from a cluster, book
#: values in market units: see :func:`clobkit.sim.trace.people_detail`).
EVENT_COLUMNS: dict[str, str] = {
    "time_us": "int64",
    "kind": "object",
    "node": "object",
    "peer": "object",
    "view": "Int64",
    "op": "Int64",
    "detail": "object",
}

#: :func:`fault_intervals` columns.
#:
#: ======== ====== =====================================================================
#: kind     object "crash", "pause", "partition" or "view_change"
#: node     object the node it concerns ("" for partitions and view changes)
#: start_us int64  start time
#: end_us   Int64  end time (NA: still going at the end of the trace)
#: label    object short text for a figure ("crash n0", "partition n1 | n0 n2", "view 1")
#: view     Int64  the new view for a view change, else NA
#: ======== ====== =====================================================================
FAULT_COLUMNS: dict[str, str] = {
    "kind": "object",
    "node": "object",
    "start_us": "int64",
    "end_us": "Int64",
    "label": "object",
    "view": "Int64",
}

#: :func:`commits` columns: the first time each node learned that each op was committed
#: (time_us int64, node object, op int64), in trace order then op order.
COMMIT_COLUMNS: dict[str, str] = {"time_us": "int64", "node": "object", "op": "int64"}


# -- getting at the records -------------------------------------------------------------


def records(source: Any) -> list[Any]:
    """The trace records of a cluster, a :class:`~clobkit.sim.Trace` or a trace frame. O(n).

    Records have the :class:`clobkit.sim.TraceRecord` attributes (``detail`` a dict or None).
    Raises :class:`~clobkit.errors.InvalidType` for anything else.
    """
    if is_cluster(source):
        source = source.trace
    if hasattr(source, "records") and hasattr(source, "to_jsonl"):  # a Trace
        recs = source.records
        return list(recs() if callable(recs) else recs)
    if is_frame(source):
        from clobkit.sim.trace import TraceRecord

        out = []
        for row in source.itertuples(index=False):
            out.append(
                TraceRecord(
                    int(row.time_us),
                    str(row.kind),
                    str(row.node),
                    str(row.peer) if isinstance(row.peer, str) else "",
                    str(row.message) if isinstance(row.message, str) else "",
                    _opt_int(row.view),
                    _opt_int(row.op),
                    _opt_int(row.msg_id),
                    parse_detail(row.detail) or None,
                )
            )
        return out
    raise InvalidType(
        f"source must be a Cluster, a Trace or a trace DataFrame, got {type(source).__name__}"
    )


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None or value != value else int(value)  # NaN/NA != itself
    except TypeError:  # pd.NA in a boolean context
        return None


def _window(start_us: int | None, end_us: int | None) -> tuple[int | None, int | None]:
    for name, value in (("start_us", start_us), ("end_us", end_us)):
        if value is not None and (type(value) is not int or value < 0):
            raise InvalidArgument(f"{name} must be a non-negative int or None, got {value!r}")
    if start_us is not None and end_us is not None and end_us < start_us:
        raise InvalidArgument(f"end_us must be >= start_us, got {end_us!r} < {start_us!r}")
    return start_us, end_us


# -- frames ---------------------------------------------------------------------------------


def trace(source: Any) -> pd.DataFrame:
    """The whole trace as a DataFrame (:data:`TRACE_COLUMNS`; ``time_ms`` added). O(n).

    From a cluster, ``detail`` shows book values in the market's units
    (:func:`clobkit.sim.trace.people_detail`); ``cluster.trace.to_jsonl()`` keeps them as
    recorded.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> f = trace(c); list(f.columns) == list(TRACE_COLUMNS), bool((f.kind == "commit").any())
    (True, True)
    """
    if is_frame(source) and "time_ms" not in source.columns:
        frame = source.copy()
    elif is_frame(source):
        return source.astype(TRACE_COLUMNS)[list(TRACE_COLUMNS)]
    else:
        spec = None
        if is_cluster(source):
            spec, source = source.market, source.trace
        if not callable(getattr(source, "to_frame", None)):
            raise InvalidType(f"source must be a Cluster or a Trace, got {type(source).__name__}")
        frame = source.to_frame()
        if spec is not None:  # details for people: book values in the market's units
            import json

            from clobkit.sim.trace import jsonable, people_detail

            frame["detail"] = [
                json.dumps(jsonable(people_detail(r.detail, spec)), sort_keys=True, default=str)
                for r in source.records
            ]
    frame["time_ms"] = frame["time_us"].astype("float64") / 1000.0
    return frame.astype(TRACE_COLUMNS)[list(TRACE_COLUMNS)]


def _send_time_drop(rec: Any, sent: set[int]) -> bool:
    return rec.kind == ev.DROP and rec.msg_id is not None and rec.msg_id not in sent


def messages(source: Any, start_us: int | None = None, end_us: int | None = None) -> pd.DataFrame:
    """Every message copy with its fate and latency, optionally only those in a window. O(n).

    A message is kept when its lifetime ``[send_us, end_us]`` (in flight: to the end of time)
    overlaps ``[start_us, end_us]``. Columns and dtypes: :data:`MESSAGE_COLUMNS`.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> m = messages(c); sorted(set(m.outcome)) <= ["delivered", "dropped", "in_flight"]
    True

    Raises :class:`~clobkit.errors.InvalidArgument` for a negative or reversed window.
    """
    lo, hi = _window(start_us, end_us)
    rows: list[list[Any]] = []  # msg_id, copy, message, source, target, view, op, send, end, ...
    open_rows: dict[int, list[list[Any]]] = {}  # msg_id -> rows of copies not yet resolved
    sends: dict[int, Any] = {}
    fates: dict[int, int] = {}
    last_delivered: dict[int, list[Any]] = {}
    for rec in records(source):
        kind = rec.kind
        if kind not in MESSAGE_KINDS or rec.msg_id is None:
            continue
        mid = rec.msg_id
        if kind == "send":
            sends[mid] = rec
            copies = int((rec.detail or {}).get("copies", 1))
            pending = []
            for copy in range(copies):
                row = [mid, copy, rec.message, rec.node, rec.peer, rec.view, rec.op]
                row += [rec.time_us, None, "in_flight", "", None]
                rows.append(row)
                pending.append(row)
            open_rows[mid] = pending
            continue
        if kind == ev.DROP and mid not in sends:  # refused by the network at send time
            row = [mid, 0, rec.message, rec.node, rec.peer, rec.view, rec.op]
            row += [rec.time_us, rec.time_us, "dropped", _reason(rec), 0]
            rows.append(row)
            continue
        pending = open_rows.get(mid, [])
        if kind == ev.DROP and not pending and mid in last_delivered:
            row = last_delivered.pop(mid)  # delivered, then refused by a full inbox
            row[9], row[10] = "dropped", _reason(rec)
            continue
        if pending:
            row = pending.pop(0)
        else:  # more fates than announced copies: keep it visible rather than hide it
            send = sends[mid]
            row = [mid, fates.get(mid, 0), send.message, send.node, send.peer, send.view, send.op]
            row += [send.time_us, None, "in_flight", "", None]
            rows.append(row)
        fates[mid] = fates.get(mid, 0) + 1
        row[8] = rec.time_us
        row[11] = rec.time_us - row[7]
        if kind == "deliver":
            row[9] = "delivered"
            last_delivered[mid] = row
        else:
            row[9], row[10] = "dropped", _reason(rec)
    if lo is not None or hi is not None:
        rows = [r for r in rows if _overlaps(r[7], r[8], lo, hi)]
    columns = list(MESSAGE_COLUMNS)
    data = {name: [r[i] for r in rows] for i, name in enumerate(columns)}
    return typed_frame(data, MESSAGE_COLUMNS)


def _reason(rec: Any) -> str:
    return str((rec.detail or {}).get("reason", ""))


def _overlaps(start: int, end: int | None, lo: int | None, hi: int | None) -> bool:
    if hi is not None and start > hi:
        return False
    return not (lo is not None and end is not None and end < lo)


def events(source: Any, kinds: Iterable[str] | None = None) -> pd.DataFrame:
    """Node and cluster events (every record that is not a send/deliver/drop). O(n).

    ``kinds`` keeps only those kinds. Columns and dtypes: :data:`EVENT_COLUMNS`.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> events(c, ["apply"])[["node", "op"]].drop_duplicates().shape[0]
    3
    """
    from clobkit.sim.trace import jsonable, people_detail

    spec = source.market if is_cluster(source) else None
    wanted = None if kinds is None else set(_kinds(kinds))
    cols: dict[str, list[Any]] = {name: [] for name in EVENT_COLUMNS}
    for rec in records(source):
        if rec.kind in MESSAGE_KINDS or (wanted is not None and rec.kind not in wanted):
            continue
        cols["time_us"].append(rec.time_us)
        cols["kind"].append(rec.kind)
        cols["node"].append(rec.node)
        cols["peer"].append(rec.peer)
        cols["view"].append(rec.view)
        cols["op"].append(rec.op)
        cols["detail"].append(jsonable(people_detail(rec.detail, spec)))
    return typed_frame(cols, EVENT_COLUMNS)


def _kinds(kinds: Iterable[str]) -> list[str]:
    if isinstance(kinds, str):
        return [kinds]
    out = list(kinds)
    if not all(isinstance(k, str) for k in out):
        raise InvalidArgument(f"kinds must be strings, got {out!r}")
    return out


def commits(source: Any) -> pd.DataFrame:
    """When each node first learned that each op was committed. O(n + ops x nodes).

    A ``commit`` record says the node's commit number rose to ``op``; every op between its
    previous commit number and ``op`` became known committed then. Columns and dtypes:
    :data:`COMMIT_COLUMNS`.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory"); _ = c.place("a", "buy", price=1, qty=1)
    >>> sorted(commits(c).node.unique())
    ['n0', 'n1', 'n2']
    """
    known: dict[str, int] = {}
    cols: dict[str, list[Any]] = {name: [] for name in COMMIT_COLUMNS}
    for rec in records(source):
        if rec.kind != ev.COMMIT or rec.op is None:
            continue
        before = known.get(rec.node, 0)
        for op in range(before + 1, rec.op + 1):
            cols["time_us"].append(rec.time_us)
            cols["node"].append(rec.node)
            cols["op"].append(op)
        known[rec.node] = max(before, rec.op)
    return typed_frame(cols, COMMIT_COLUMNS)


def fault_intervals(source: Any) -> pd.DataFrame:
    """Crash, pause, partition and view-change intervals, for shading figures. O(n).

    Columns and dtypes: :data:`FAULT_COLUMNS`; rows ordered by start time (then kind, node).
    See the module doc for how records pair up.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> c.crash("n0"); _ = c.run(ms=300); c.restart("n0")
    >>> fault_intervals(c)[["kind", "label"]].to_dict("records")[:2]
    [{'kind': 'crash', 'label': 'crash n0'}, {'kind': 'view_change', 'label': 'view change to 1'}]
    """
    rows = list(fault_interval_rows(records(source)))
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    data = {name: [r[i] for r in rows] for i, name in enumerate(FAULT_COLUMNS)}
    return typed_frame(data, FAULT_COLUMNS)


def fault_interval_rows(recs: list[Any]) -> Iterator[list[Any]]:
    """The :data:`FAULT_COLUMNS` rows (as lists) of the fault records in ``recs``, shared by
    :func:`fault_intervals` and :func:`clobkit.viz.lag_figure`. O(records)."""
    crashed: dict[str, list[Any]] = {}
    paused: dict[str, list[Any]] = {}
    cuts: list[list[Any]] = []
    changing: dict[int, list[Any]] = {}
    for rec in recs:
        kind, node, t = rec.kind, rec.node, rec.time_us
        if kind == "crash" and node not in crashed:
            crashed[node] = ["crash", node, t, None, f"crash {node}", None]
        elif kind in ("restart", "replace") and node in crashed:
            row = crashed.pop(node)
            row[3] = t
            yield row
        elif kind == "pause" and node not in paused:
            paused[node] = ["pause", node, t, None, f"pause {node}", None]
        elif kind == "resume" and node in paused:
            row = paused.pop(node)
            row[3] = t
            yield row
        elif kind == "partition":
            for row in cuts:
                if row[4].startswith("partition"):
                    row[3] = t
                    yield row
            cuts = [row for row in cuts if not row[4].startswith("partition")]
            groups = (rec.detail or {}).get("groups", [])
            text = " | ".join(" ".join(str(n) for n in g) for g in groups)
            cuts.append(["partition", "", t, None, f"partition {text}", None])
        elif kind == "isolate":
            cuts.append(["partition", node, t, None, f"isolate {node}", None])
        elif kind == "block":
            cuts.append(["partition", node, t, None, f"block {node}→{rec.peer}", None])
        elif kind == "heal":
            for row in cuts:
                row[3] = t
                yield row
            cuts = []
        elif kind == ev.VIEW_CHANGE_START and rec.view is not None:
            if rec.view not in changing and all(rec.view > v for v in changing):
                for view in sorted(changing):  # a higher view change supersedes this one
                    row = changing.pop(view)
                    row[3] = t
                    yield row
                changing[rec.view] = [
                    "view_change",
                    "",
                    t,
                    None,
                    f"view change to {rec.view}",
                    rec.view,
                ]
        elif kind == ev.PRIMARY and rec.view is not None:
            for view in sorted(changing):
                if view <= rec.view:
                    row = changing.pop(view)
                    row[3] = t
                    yield row
    yield from crashed.values()
    yield from paused.values()
    yield from cuts
    for view in sorted(changing):
        yield changing[view]
