"""Per-node views of a cluster: status, each replica's log, its WAL on disk, its recovery report.

A running replica's log comes from its ``log`` rows (the WAL entries it still holds, decoded,
with committed flags); ``synced`` compares each op with the WAL's ``synced_op`` (entries after
it would be lost by a crash). A crashed replica has no log in memory: :func:`node_log` skips
it, while :func:`wal` still reads its disk (a copy of it: see :func:`_open_wal`). WAL payloads
are replication envelopes
(:func:`clobkit.replication.envelope.decode_envelope`) around an encoded book command, described
with :func:`clobkit.book.codec.describe_command` in the market's units (``@ 100.50``, as the
market spec writes prices), never in the book's ticks.
"""

from __future__ import annotations

import copy
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from clobkit.errors import InvalidType
from clobkit.sim.nodes import NODE_COLUMNS, nodes_frame
from clobkit.views.common import check_node, is_cluster, require_cluster, typed_frame

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import MarketSpec

__all__ = [
    "NODE_COLUMNS",
    "NODE_LOG_COLUMNS",
    "RECOVERY_COLUMNS",
    "WAL_COLUMNS",
    "describe_payload",
    "node_log",
    "nodes",
    "recovery",
    "wal",
]

#: :func:`nodes` columns: :data:`clobkit.sim.nodes.NODE_COLUMNS`, the one set of node
#: columns (``Cluster.nodes_df()`` is the same frame).

#: :func:`node_log` columns: one row per (running node, op held in its log).
#:
#: ============== ====== ==========================================================
#: node           object replica name
#: op             int64  op number
#: view           int64  view the entry was created in
#: committed      bool   op <= the node's commit number
#: synced         bool   durable in the node's WAL (op <= WAL synced_op)
#: noop           bool   a new primary's no-op entry
#: command        object short description ("place alice buy 10 @ 100.50 gtc", "no-op")
#: client_id      object client that sent it ("" for a no-op)
#: request_number int64  the client's request number (0 for a no-op)
#: ts_us          int64  the primary's timestamp for the entry
#: ============== ====== ==========================================================
NODE_LOG_COLUMNS: dict[str, str] = {
    "node": "object",
    "op": "int64",
    "view": "int64",
    "committed": "bool",
    "synced": "bool",
    "noop": "bool",
    "command": "object",
    "client_id": "object",
    "request_number": "int64",
    "ts_us": "int64",
}

#: :func:`wal` columns: ``node`` then :func:`clobkit.storage.wal_frame`'s columns
#: (op int64, view Int64, length Int64, checksum_ok bool, synced bool, command object).
WAL_COLUMNS: dict[str, str] = {
    "node": "object",
    "op": "int64",
    "view": "Int64",
    "length": "Int64",
    "checksum_ok": "bool",
    "synced": "bool",
    "command": "object",
}

#: :func:`recovery` columns: ``node`` then the :class:`~clobkit.storage.RecoveryReport` rows
#: (kind object: "log", "torn tail (truncated)" or "corrupt"; first_op, last_op, ops, bytes
#: int64).
RECOVERY_COLUMNS: dict[str, str] = {
    "node": "object",
    "kind": "object",
    "first_op": "int64",
    "last_op": "int64",
    "ops": "int64",
    "bytes": "int64",
}


def describe_payload(payload: bytes, spec: MarketSpec | None = None) -> str:
    """A WAL payload (a replication envelope around a book command) in a few words.

    With the market's ``spec`` prices and quantities read in market units; without it, in
    the book's ticks and lots.

    >>> from clobkit.book import MarketSpec
    >>> from clobkit.book.codec import encode_command
    >>> from clobkit.book.commands import Cancel, Place
    >>> from clobkit.replication.envelope import Envelope, encode_envelope, noop_payload
    >>> command = encode_command(Cancel("A", "alice", 7))
    >>> describe_payload(encode_envelope(Envelope("alice", 2, 5, command)))
    'cancel alice #7'
    >>> place = encode_command(Place("A", "bob", "sell", 10050, 3))
    >>> describe_payload(encode_envelope(Envelope("bob", 1, 4, place)), MarketSpec("A"))
    'place bob sell 3 @ 100.50 gtc'
    >>> describe_payload(noop_payload(5))
    'no-op'
    """
    from clobkit.replication.envelope import decode_envelope

    try:
        envelope = decode_envelope(bytes(payload))
    except ValueError:
        return "(not an envelope) " + bytes(payload[:16]).hex(" ")
    if envelope.noop:
        return "no-op"
    return _describe_command(envelope.payload, spec)


def _describe_command(payload: bytes, spec: MarketSpec | None) -> str:
    from clobkit.book.codec import describe_command
    from clobkit.errors import ClobError

    if not payload:
        return ""
    try:
        return describe_command(payload, spec)
    except (ClobError, ValueError):
        return "(undecodable) " + bytes(payload[:16]).hex(" ")


def nodes(cluster: Any) -> pd.DataFrame:
    """One row per replica: up, host, role, status, view, op/commit/applied numbers, learner.
    O(nodes).

    Columns and dtypes: :data:`NODE_COLUMNS`.

    >>> import clobkit as ck
    >>> nodes(ck.Cluster(nodes=3, seed=1, storage="memory"))["role"].tolist()
    ['primary', 'backup', 'backup']
    """
    require_cluster(cluster)
    return nodes_frame([cluster.nodes[name].row() for name in cluster.nodes])


def node_log(cluster: Any, node: str | None = None) -> pd.DataFrame:
    """Each running node's log (or ``node``'s): op, view, committed, synced, command. O(log).

    Columns and dtypes: :data:`NODE_LOG_COLUMNS`; rows by node (configuration order), then op.
    Crashed nodes have no log in memory and contribute no rows (read their disk with
    :func:`wal`). Raises :class:`~clobkit.errors.InvalidArgument` for an unknown node.

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("alice", "buy", price=1, qty=1)
    >>> node_log(c, "n0")[["op", "committed", "command"]].to_dict("records")
    [{'op': 1, 'committed': True, 'command': 'place alice buy 1 @ 1.00 gtc'}]
    """
    require_cluster(cluster)
    spec = cluster.market
    cols: dict[str, list[Any]] = {name: [] for name in NODE_LOG_COLUMNS}
    for name in check_node(cluster, node):
        replica = cluster.nodes[name].replica
        if replica is None:
            continue
        synced_op = replica.store.wal.synced_op
        for row in replica.log:
            cols["node"].append(name)
            cols["op"].append(row.op)
            cols["view"].append(row.view)
            cols["committed"].append(bool(row.committed))
            cols["synced"].append(row.op <= synced_op)
            cols["noop"].append(bool(row.noop))
            cols["command"].append("no-op" if row.noop else _describe_command(row.payload, spec))
            cols["client_id"].append(row.client_id)
            cols["request_number"].append(row.request_number)
            cols["ts_us"].append(row.ts_us)
    return typed_frame(cols, NODE_LOG_COLUMNS)


def _wals(source: Any, node: str | None) -> list[tuple[str, Any]]:
    if is_cluster(source):
        return [(name, source.nodes[name].store) for name in check_node(source, node)]
    if hasattr(source, "wal") and hasattr(source, "crash"):  # a store
        return [(node or "", source)]
    if hasattr(source, "records") and hasattr(source, "synced_op"):  # a Wal
        return [(node or "", source)]
    raise InvalidType(f"source must be a Cluster, a store or a Wal, got {type(source).__name__}")


@contextmanager
def _open_wal(store_or_wal: Any) -> Iterator[Any]:
    """The WAL of a store, readable even after a crash closed the store.

    A crashed store refuses reads. Reopening its disk would run recovery on it (cutting a torn
    tail), which would change what the next restart finds, so we reopen a *copy*: a deep copy
    of a :class:`~clobkit.storage.MemoryDisk`, or a temporary copy of a file store's directory.
    """
    from clobkit.storage import FileStore, MemoryStore
    from clobkit.storage.wal import StoreClosed

    if not hasattr(store_or_wal, "crash"):  # a Wal
        yield store_or_wal
        return
    store = store_or_wal
    try:
        next(iter(store.wal.records()), None)  # a closed store raises on the first read
    except StoreClosed:
        pass
    else:
        yield store.wal
        return
    ids = {"cluster_id": store.cluster_id, "replica_id": store.replica_id}
    disk = getattr(store, "memory_disk", None)
    if disk is not None:
        yield MemoryStore(copy.deepcopy(disk), **ids).wal
        return
    with tempfile.TemporaryDirectory(prefix="clobkit-wal-") as tmp:
        shutil.copytree(store.path, tmp, dirs_exist_ok=True)
        reopened = FileStore(tmp, **ids)
        try:
            yield reopened.wal
        finally:
            reopened.close()


def wal(source: Any, node: str | None = None, *, spec: MarketSpec | None = None) -> pd.DataFrame:
    """The write-ahead log on disk, one row per record, corrupt ones included. O(records).

    ``source`` is a cluster (every node's WAL, or ``node``'s, crashed nodes too), a store or
    a :class:`~clobkit.storage.base.Wal` (``node`` then only labels the rows). Columns and
    dtypes: :data:`WAL_COLUMNS`; ``command`` describes the envelope's book command in the
    market's units: a cluster knows its market; for a store or a WAL pass ``spec`` (without
    it prices are the book's ticks).

    >>> import clobkit as ck
    >>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
    >>> _ = c.place("alice", "buy", price=1, qty=1)
    >>> wal(c, "n1")[["node", "op", "synced", "command"]].to_dict("records")
    [{'node': 'n1', 'op': 1, 'synced': True, 'command': 'place alice buy 1 @ 1.00 gtc'}]
    """
    import functools

    import pandas as pd

    from clobkit.storage import wal_frame

    if spec is None and is_cluster(source):
        spec = source.market
    describe = functools.partial(describe_payload, spec=spec)
    parts = []
    for name, store in _wals(source, node):
        with _open_wal(store) as log:
            part = wal_frame(log, describe=describe)
        part.insert(0, "node", name)
        parts.append(part)
    if not parts:
        return typed_frame({}, WAL_COLUMNS)
    frame = pd.concat(parts, ignore_index=True)
    return frame.astype(WAL_COLUMNS)[list(WAL_COLUMNS)]


def recovery(source: Any, node: str | None = None) -> pd.DataFrame:
    """What opening each WAL found (records read, torn tail cut, corrupt ranges). O(nodes).

    ``source`` as for :func:`wal`. Columns and dtypes: :data:`RECOVERY_COLUMNS`; a node's first
    row is always its ``log`` row.

    >>> import clobkit as ck
    >>> recovery(ck.Cluster(nodes=3, seed=1, storage="memory"), "n2")["kind"].tolist()
    ['log']
    """
    cols: dict[str, list[Any]] = {name: [] for name in RECOVERY_COLUMNS}
    for name, store in _wals(source, node):
        with _open_wal(store) as log:
            report = log.recovery
        for kind, first_op, last_op, ops, size in report.rows():
            cols["node"].append(name)
            cols["kind"].append(kind)
            cols["first_op"].append(first_op)
            cols["last_op"].append(last_op)
            cols["ops"].append(ops)
            cols["bytes"].append(size)
    return typed_frame(cols, RECOVERY_COLUMNS)
