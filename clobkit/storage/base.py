"""The storage contract: what a replica may ask of its disk.

A replica persists three things, and only through this interface:

* its **write-ahead log** (:class:`Wal`): an ordered run of
  :class:`LogEntry` records, each the (view, op number, payload) of one
  sequenced command. The payload is opaque bytes to storage (the book's
  command codec produces it).
* its **metadata** (:class:`Metadata`): the view it has joined, the last view
  in which it was in normal status, its commit number, who it is and which
  cluster it belongs to. Written atomically: after a crash it is the old value
  or the new one, never a mix.
* its latest **snapshot** (:class:`Snapshot`): the state machine's bytes as of
  op ``op``; the log prefix up to ``op`` can then be compacted away.

Durability is explicit. :meth:`Wal.append` only buffers; nothing appended is
durable until :meth:`Wal.sync` returns. A crash (``Store.crash``) keeps what
was synced and loses the rest (optionally keeping a torn prefix of the
unsynced bytes, which recovery then detects and truncates). This is the same
for the real :class:`~clobkit.storage.FileStore` and the simulated
:class:`~clobkit.storage.MemoryStore`, which is what lets the simulator crash
a node that writes real files.

The sync policy decides what :meth:`Wal.sync` costs and promises:

``"always"``
    one fsync per record appended since the last sync (the cost of syncing
    every record on its own);
``"group"``
    one fsync for everything appended since the last sync (group commit);
``"never"``
    *unsafe teaching switch*: ``sync()`` returns as if the data were durable,
    but it is not, so a crash after an acknowledgement loses acknowledged
    entries (scenario S8, PySyncObj issue #84).

In every policy a caller acknowledges an entry only after ``sync()``
returned with that entry counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from clobkit.slotinit import install_slot_init

__all__ = [
    "SyncPolicy",
    "SYNC_POLICIES",
    "LogEntry",
    "Metadata",
    "Snapshot",
    "SyncInfo",
    "RecoveryReport",
    "Wal",
    "Store",
]

SyncPolicy = Literal["always", "group", "never"]
SYNC_POLICIES: tuple[SyncPolicy, ...] = ("always", "group", "never")


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One sequenced command as it sits in the log.

    ``view`` is the view (epoch) whose primary assigned ``op``; entries are
    identified by ``(view, op)``. ``payload`` is the encoded command, opaque
    to storage.
    """

    view: int
    op: int
    payload: bytes


# The primary builds a LogEntry for every request: its __init__ fills the three slots through
# their own descriptors (~2k CPU instructions fewer than the frozen dataclass's; see
# clobkit.slotinit and tests/storage/test_storage_log_entry_init.py).
install_slot_init(LogEntry)


@dataclass(frozen=True, slots=True)
class Metadata:
    """The small durable record a replica rewrites atomically.

    ``view`` is the highest view the replica has joined (fencing: it rejects
    messages from lower views); ``last_normal_view`` the last view in which it
    was in normal status; ``commit_number`` the highest op it knows is
    committed. ``vote`` is never set by clobkit's replica (it stays ``None``):
    VSR has no elections (view ``v``'s primary is replica ``v mod n``), and the
    field only keeps the on-disk format open to a protocol that votes.
    ``learner`` is ``True`` while the replica is relearning its state (its disk was
    replaced or damaged): it is saved before the replica first acts as a learner and
    cleared only by the save that follows a complete, durable state transfer, so a
    learner that crashes comes back a learner (it must not vote on an empty log).
    """

    cluster_id: str
    replica_id: int
    view: int = 0
    last_normal_view: int = 0
    vote: int | None = None
    commit_number: int = 0
    learner: bool = False


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The state machine's state (``data``) as of op ``op`` in view ``view``."""

    op: int
    view: int
    data: bytes


@dataclass(frozen=True, slots=True)
class SyncInfo:
    """What one :meth:`Wal.sync` did.

    ``records`` entries became durable using ``fsyncs`` fsync calls;
    ``latency_us`` is the *simulated* cost in microseconds (from the store's
    configured latencies, never from the wall clock, so simulations stay
    deterministic); ``durable`` is ``False`` only under the ``"never"`` policy.
    """

    records: int
    fsyncs: int
    latency_us: int
    durable: bool = True


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    """What opening a log found.

    ``records_ok`` valid records were read; a torn tail of ``bytes_truncated``
    bytes was cut off (``torn_tail``); ``corrupt`` lists op ranges
    ``(first, last)`` whose records failed their checksum before the tail.
    Corrupt entries are never applied and never silently dropped: the replica
    asks a peer for them (:meth:`Wal.repair`).
    """

    records_ok: int = 0
    bytes_truncated: int = 0
    torn_tail: bool = False
    corrupt: tuple[tuple[int, int], ...] = field(default_factory=tuple)
    first_op: int = 1
    last_op: int = 0

    @property
    def clean(self) -> bool:
        """True when nothing was truncated and nothing is corrupt."""
        return not self.torn_tail and not self.corrupt and self.bytes_truncated == 0

    def rows(self) -> list[tuple[str, int, int, int, int]]:
        """``(kind, first_op, last_op, ops, bytes)`` rows: log, torn tail, each corrupt range.

        >>> RecoveryReport(records_ok=4, corrupt=((3, 3),), last_op=5).rows()
        [('log', 1, 5, 5, 0), ('corrupt', 3, 3, 1, 0)]
        """
        rows = [("log", self.first_op, self.last_op, self.last_op - self.first_op + 1, 0)]
        if self.torn_tail:
            rows.append(
                (
                    "torn tail (truncated)",
                    self.last_op + 1,
                    self.last_op + 1,
                    0,
                    self.bytes_truncated,
                )
            )
        rows.extend(("corrupt", a, b, b - a + 1, 0) for a, b in self.corrupt)
        return rows

    def to_frame(self) -> Any:
        """The report as a small pandas DataFrame (columns kind, first_op, last_op, ops, bytes)."""
        import pandas as pd  # lazy: import clobkit stays light

        return pd.DataFrame(self.rows(), columns=["kind", "first_op", "last_op", "ops", "bytes"])

    def _repr_html_(self) -> str:
        from html import escape

        head = escape(
            f"RecoveryReport: {self.records_ok} records ok" + ("" if self.clean else " (not clean)")
        )
        cells = "".join(
            "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
            for row in self.rows()
        )
        return (
            f"<table><caption>{head}</caption><tr><th>kind</th><th>first_op</th>"
            f"<th>last_op</th><th>ops</th><th>bytes</th></tr>{cells}</table>"
        )


@runtime_checkable
class Wal(Protocol):
    """A write-ahead log of :class:`LogEntry` records, ops contiguous.

    ``first_op`` is the first op still held (1, or one past a compacted
    prefix); ``last_op`` the last appended (durable or not; ``first_op - 1``
    when empty); ``synced_op`` the last one that is durable.
    """

    @property
    def first_op(self) -> int: ...

    @property
    def last_op(self) -> int: ...

    @property
    def synced_op(self) -> int: ...

    @property
    def recovery(self) -> RecoveryReport: ...

    def append(self, entry: LogEntry) -> None:
        """Buffer ``entry``; its op must be ``last_op + 1``. Not durable yet."""
        ...

    def sync(self) -> SyncInfo:
        """Make every appended entry durable (per the sync policy)."""
        ...

    def sync_cost_us(self) -> int:
        """What :meth:`sync` would charge now, without syncing."""
        ...

    def get(self, op: int) -> LogEntry:
        """The entry at ``op``; raises ``CorruptEntry`` for a corrupt one."""
        ...

    def entries(self, start_op: int | None = None, end_op: int | None = None) -> Iterator[LogEntry]:
        """Entries with ``start_op <= op <= end_op`` in order (defaults: all)."""
        ...

    def corrupt_ops(self) -> list[int]:
        """Ops currently known corrupt (awaiting repair), ascending."""
        ...

    def truncate_after(self, op: int) -> None:
        """Drop every entry with op > ``op``, durably (a divergent suffix)."""
        ...

    def compact_through(self, op: int, *, view: int | None = None) -> None:
        """Drop every entry with op <= ``op`` (covered by a snapshot of view ``view``)."""
        ...

    def repair(self, entry: LogEntry) -> None:
        """Replace the corrupt entry at ``entry.op`` with a good copy, durably."""
        ...

    def discard_all(self) -> None:
        """Drop every entry and the compacted base, durably (a damaged replica starts over)."""
        ...


@runtime_checkable
class Store(Protocol):
    """Everything one replica keeps on its disk."""

    @property
    def wal(self) -> Wal: ...

    @property
    def sync_policy(self) -> SyncPolicy: ...

    def load_metadata(self) -> Metadata | None:
        """The last metadata saved, or ``None`` on a fresh disk."""
        ...

    def save_metadata(self, meta: Metadata) -> SyncInfo:
        """Write ``meta`` atomically and durably (temp, fsync, rename, fsync dir)."""
        ...

    def save_snapshot(self, snapshot: Snapshot) -> SyncInfo:
        """Write ``snapshot`` atomically and durably, replacing the previous one."""
        ...

    def load_snapshot(self) -> Snapshot | None:
        """The last snapshot saved, or ``None``."""
        ...

    def crash(self, torn_bytes: int | None = None) -> None:
        """Simulate power loss: drop unsynced data (keep ``torn_bytes`` of it
        as a torn tail if given) and close. Reopen to recover."""
        ...

    def close(self) -> None:
        """Close cleanly (unsynced data is still lost, as in a crash)."""
        ...
