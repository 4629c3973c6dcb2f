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
* **What is cheap to know.** The last entry's view comes from the log's index and the
  timestamp of the last entry this replica appended is kept, so appending reads nothing
  back. Entries appended but not applied yet are kept with their decoded envelope (the
  *apply cache*, TigerBeetle's in-memory journal headers and prepares): the hot path
  applies them without a WAL read-back or a second decode.

Every other protocol read (the log shipped to a peer in a view change, a state transfer,
a repair or a retransmission) goes to the disk and verifies the checksum, so a bit
flipped under a running replica is found before the replica vouches for that entry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from clobkit.errors import CorruptEntry
from clobkit.replication.envelope import Envelope, decode_envelope, recent_envelopes
from clobkit.storage.base import LogEntry, Wal

__all__ = ["Journal"]


class Journal:
    """One replica's log with its corrupt marks and its apply cache.

    Invariants: every op in :attr:`corrupt` is in ``[first_op, last_op]``; every op in the
    apply cache is in ``[first_op, last_op]`` and maps to the entry this replica appended
    there (cut, compacted and repaired ops leave the cache with their entries).
    ``on_corrupt(op)`` is called once when a protocol read finds op ``op`` corrupt (the
    replica traces it).

    >>> from clobkit.storage import MemoryStore
    >>> from clobkit.replication.envelope import encode_envelope
    >>> found = []
    >>> j = Journal(MemoryStore(cluster_id="demo", replica_id=0).wal, found.append)
    >>> env = Envelope("alice", 1, 10, b"buy")
    >>> j.append(LogEntry(0, 1, encode_envelope(env))).view
    0
    >>> j.entry(1).op, j.last_op, j.last_ts_us(), found
    (1, 1, 10, [])
    >>> j.take_for_apply(1)[1].client_id, j.take_for_apply(1)
    ('alice', None)
    """

    __slots__ = ("_append_many", "_cache", "_indexed", "_last", "_on_corrupt", "corrupt", "wal")

    def __init__(self, wal: Wal, on_corrupt: Callable[[int], None]) -> None:
        self.wal = wal
        # clobkit's log keeps its last entry's view (an attribute) and appends a batch in one
        # call; a Wal from outside clobkit may do neither (then: read back, append one by one).
        self._indexed = type(getattr(wal, "last_view", None)) is int
        self._append_many: Callable[[Sequence[LogEntry]], None] | None = getattr(
            wal, "append_many", None
        )
        self.corrupt: set[int] = set()
        self._on_corrupt = on_corrupt
        # op -> (entry, its envelope once decoded): appended, not yet taken for apply.
        self._cache: dict[int, tuple[LogEntry, Envelope | None]] = {}
        # The last entry appended in this life and its envelope (None: read the log).
        self._last: tuple[LogEntry, Envelope | None] | None = None

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

    def take_for_apply(self, op: int) -> tuple[LogEntry, Envelope] | None:
        """Entry ``op`` and its envelope from the apply cache, which then forgets it and
        every op below; ``None`` when it is not cached (read it with :meth:`entry`). O(1)
        amortised."""
        cache = self._cache
        found = cache.pop(op, None)
        if found is None:
            return None
        if cache and next(iter(cache)) < op:
            for stale in [k for k in cache if k < op]:
                del cache[stale]
        entry, env = found
        return entry, env if env is not None else decode_envelope(entry.payload)

    def take_run_for_apply(self, first: int, last: int) -> list[tuple[LogEntry, Envelope]]:
        """Entries ``first``, ``first + 1``, ... up to ``last`` with their envelopes, taken
        from the apply cache as :meth:`take_for_apply` takes one (every op below ``first``
        is forgotten too); the run stops before the first op that is not cached (read that
        one with :meth:`entry`). O(entries taken).

        >>> from clobkit.storage import MemoryStore
        >>> from clobkit.replication.envelope import encode_envelope
        >>> j = Journal(MemoryStore(cluster_id="demo", replica_id=0).wal, print)
        >>> for op in (1, 2, 3):
        ...     _ = j.append(LogEntry(0, op, encode_envelope(Envelope("al", op, 10, b"x"))))
        >>> [(e.op, env.request_number) for e, env in j.take_run_for_apply(2, 5)]
        [(2, 2), (3, 3)]
        >>> j.take_run_for_apply(1, 3)
        []
        """
        cache = self._cache
        if not cache:
            return []
        if next(iter(cache)) < first:
            for stale in [k for k in cache if k < first]:
                del cache[stale]
        run: list[tuple[LogEntry, Envelope | None]] = []  # (every envelope set below)
        recent = recent_envelopes
        op = first
        while op <= last and op in cache:
            taken = cache[op]
            del cache[op]
            if taken[1] is None:
                # (decode_envelope's memo first: another replica decoded this payload already)
                entry = taken[0]
                payload = entry.payload
                taken = (entry, recent[payload] if payload in recent else decode_envelope(payload))
            run.append(taken)
            op += 1
        return run  # type: ignore[return-value]

    def last_ts_us(self) -> int | None:
        """The timestamp of the last entry (``None`` when the log is empty or that entry
        is corrupt). From memory when this replica appended it, else read and verified."""
        last = self._last
        if last is not None and last[0].op == self.wal.last_op:
            entry, env = last
            if env is None:
                env = decode_envelope(entry.payload)
                self._last = (entry, env)
            return env.ts_us
        found = self.entry(self.wal.last_op)
        return None if found is None else decode_envelope(found.payload).ts_us

    # -- changing ----------------------------------------------------------------------

    def _last_view(self) -> int | None:
        view = getattr(self.wal, "last_view", None)
        if isinstance(view, int):
            return view if self.wal.last_op >= self.wal.first_op else None
        # (a Wal from outside clobkit need not index views: read the last entry)
        last = self.entry(self.wal.last_op)
        return None if last is None else last.view

    def append(self, entry: LogEntry, envelope: Envelope | None = None) -> LogEntry:
        """Append ``entry`` (op ``last_op + 1``), under the last entry's view if that is
        higher (only the unsafe switches offer a lower one); returns the entry as stored.
        ``envelope``: its decoded payload when the caller has it (else decoded on use)."""
        wal = self.wal
        last_view = wal.last_view if self._indexed else self._last_view()  # type: ignore[attr-defined]
        if last_view is not None and last_view > entry.view and wal.last_op >= wal.first_op:
            entry = LogEntry(last_view, entry.op, entry.payload)
        if self._append_many is not None:
            self._append_many((entry,))  # (what wal.append does, one frame fewer)
        else:
            wal.append(entry)
        self._cache[entry.op] = self._last = (entry, envelope)
        return entry

    def append_many(self, entries: Sequence[LogEntry]) -> Sequence[LogEntry]:
        """Append ``entries`` (consecutive ops from ``last_op + 1``) as :meth:`append` does
        one by one, in one call to the log when it can take a batch; returns them as stored
        (``entries`` itself when no view was raised). O(entries).

        >>> from clobkit.storage import MemoryStore
        >>> from clobkit.replication.envelope import encode_envelope
        >>> j = Journal(MemoryStore(cluster_id="demo", replica_id=0).wal, print)
        >>> payload = encode_envelope(Envelope("alice", 1, 10, b"buy"))
        >>> [e.op for e in j.append_many((LogEntry(0, 1, payload), LogEntry(0, 2, payload)))]
        [1, 2]
        >>> j.last_op, j.take_for_apply(2)[1].ts_us
        (2, 10)
        """
        append_many = self._append_many
        if append_many is None or not self._indexed:
            return [self.append(entry) for entry in entries]
        wal = self.wal
        # The view rule of append, entry by entry (no call unless a view is raised, which
        # only the unsafe switches cause): each is stored under a view no lower than the last.
        floor: int | None = wal.last_view if wal.last_op >= wal.first_op else None  # type: ignore[attr-defined]
        raised: list[LogEntry] | None = None
        for i, entry in enumerate(entries):
            if floor is not None and floor > entry.view:
                if raised is None:
                    raised = list(entries[:i])
                entry = LogEntry(floor, entry.op, entry.payload)
            if raised is not None:
                raised.append(entry)
            floor = entry.view
        if raised is not None:
            entries = raised
        append_many(entries)
        # (with the envelope when one was just decoded or encoded: the primary encoded it)
        cache, recent = self._cache, recent_envelopes
        for entry in entries:
            payload = entry.payload
            env = recent[payload] if payload in recent else None  # noqa: SIM401 (no call)
            cache[entry.op] = self._last = (entry, env)
        return entries

    def truncate_after(self, op: int) -> None:
        """Cut every entry after ``op`` (durably), with its corrupt mark."""
        self.wal.truncate_after(op)
        self.corrupt = {c for c in self.corrupt if c <= op}
        for cut in [k for k in self._cache if k > op]:
            del self._cache[cut]
        self._last = None

    def compact_through(self, op: int, *, view: int | None = None) -> None:
        """Drop every entry up to ``op`` (a snapshot covers them), with their marks."""
        self.wal.compact_through(op, view=view)
        self.corrupt = {c for c in self.corrupt if c > op}
        for gone in [k for k in self._cache if k <= op]:
            del self._cache[gone]

    def repair(self, entry: LogEntry) -> None:
        """Write a good copy of a corrupt entry and clear its mark (raises
        ``InvalidArgument``, changing nothing, when its view contradicts the damaged
        record)."""
        self.wal.repair(entry)
        self.corrupt.discard(entry.op)
        self._cache.pop(entry.op, None)
        self._last = None

    def discard_all(self) -> None:
        """Drop the whole log (a damaged disk starts over)."""
        self.wal.discard_all()
        self.corrupt = set()
        self._cache = {}
        self._last = None
