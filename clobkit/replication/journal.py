"""The replica's access to its own log: one place that reads, appends, cuts and marks it.

A :class:`Journal` sits between the protocol and the :class:`~clobkit.storage.base.Wal`
(TigerBeetle keeps the same split: ``replica.zig`` decides, ``journal.zig`` holds the log).
It knows three things the WAL does not:

* **Which entries are corrupt.** A protocol read (:meth:`Journal.entry`) that fails its
  checksum marks the op corrupt and reports it; every later read of that op returns
  ``None`` until a good copy is written (:meth:`Journal.repair`) or the op is cut off. A
  display read (:meth:`Journal.peek`) marks nothing: looking at a log changes no state.
* **The fencing rule of appends.** An entry is stored under a view no lower than the last
  entry's (only the unsafe switches ever offer a lower one).

Every protocol read goes to the disk and verifies the checksum, so a bit flipped under a
running replica is found before it can be vouched for.
"""

from __future__ import annotations

from collections.abc import Callable

from clobkit.errors import CorruptEntry
from clobkit.storage.base import LogEntry, Wal

__all__ = ["Journal"]


class Journal:
    """One replica's log with its corrupt marks.

    Invariant: every op in :attr:`corrupt` is in ``[first_op, last_op]``. ``on_corrupt(op)``
    is called once when a protocol read finds op ``op`` corrupt (the replica traces it).

    >>> from clobkit.storage import MemoryStore
    >>> found = []
    >>> j = Journal(MemoryStore(cluster_id="demo", replica_id=0).wal, found.append)
    >>> j.append(LogEntry(0, 1, b"x")).view
    0
    >>> j.append(LogEntry(0, 2, b"y")).op, j.last_op, j.entry(2).payload, found
    (2, 2, b'y', [])
    """

    __slots__ = ("_on_corrupt", "corrupt", "wal")

    def __init__(self, wal: Wal, on_corrupt: Callable[[int], None]) -> None:
        self.wal = wal
        self.corrupt: set[int] = set()
        self._on_corrupt = on_corrupt

    def load_corrupt_marks(self) -> None:
        """Mark the ops the log found corrupt when it was opened."""
        self.corrupt = set(self.wal.corrupt_ops())

    # -- positions ---------------------------------------------------------------------

    @property
    def first_op(self) -> int:
        """The first op still held (one past the snapshot)."""
        return self.wal.first_op

    @property
    def last_op(self) -> int:
        """The last op appended (durable or not)."""
        return self.wal.last_op

    @property
    def snapshot_floor(self) -> int:
        """The last op covered by the snapshot (0 without one)."""
        return self.wal.first_op - 1

    # -- reading -----------------------------------------------------------------------

    def _held(self, op: int) -> bool:
        wal = self.wal
        return wal.first_op <= op <= wal.last_op and op not in self.corrupt

    def peek(self, op: int) -> LogEntry | None:
        """Entry ``op`` for display: ``None`` when not held, known corrupt, or failing its
        checksum now. Changes nothing (the damage is found when the protocol reads it)."""
        if not self._held(op):
            return None
        try:
            return self.wal.get(op)
        except CorruptEntry:
            return None

    def entry(self, op: int) -> LogEntry | None:
        """Entry ``op`` for the protocol, read and verified from the log; ``None`` when not
        held or corrupt. A checksum failure marks the op (and calls ``on_corrupt``)."""
        if not self._held(op):
            return None
        try:
            return self.wal.get(op)
        except CorruptEntry:
            self.corrupt.add(op)
            self._on_corrupt(op)
            return None

    # -- changing ----------------------------------------------------------------------

    def append(self, entry: LogEntry) -> LogEntry:
        """Append ``entry`` (op ``last_op + 1``), under the last entry's view if that is
        higher (only the unsafe switches offer a lower one); returns the entry as stored."""
        last = self.entry(self.last_op)
        if last is not None and last.view > entry.view:
            entry = LogEntry(last.view, entry.op, entry.payload)
        self.wal.append(entry)
        return entry

    def truncate_after(self, op: int) -> None:
        """Cut every entry after ``op`` (durably), with its corrupt mark."""
        self.wal.truncate_after(op)
        self.corrupt = {c for c in self.corrupt if c <= op}

    def compact_through(self, op: int, *, view: int | None = None) -> None:
        """Drop every entry up to ``op`` (a snapshot covers them), with their marks."""
        self.wal.compact_through(op, view=view)
        self.corrupt = {c for c in self.corrupt if c > op}

    def repair(self, entry: LogEntry) -> None:
        """Write a good copy of a corrupt entry and clear its mark (raises
        ``InvalidArgument``, changing nothing, when its view contradicts the damaged
        record)."""
        self.wal.repair(entry)
        self.corrupt.discard(entry.op)

    def discard_all(self) -> None:
        """Drop the whole log (a damaged disk starts over)."""
        self.wal.discard_all()
        self.corrupt = set()
