"""The write-ahead log: buffered appends, policy-driven syncs, recovery, repair.

:class:`LogFile` implements :class:`~clobkit.storage.base.Wal` over one file
(``wal.log``) on a :mod:`disk <clobkit.storage.disk>`. ``append`` validates the
entry (type, ``op == last_op + 1``, view never decreasing), frames it
(:func:`~clobkit.storage.format.encode_record`) and keeps it in memory;
``sync`` writes the pending bytes at the end of the file and fsyncs them, once
per record (``"always"``), once for the batch (``"group"``), or not at all
(``"never"``: the bytes are written but stay volatile, so a crash loses
entries that ``sync`` already reported). Until ``sync`` returns nothing is
durable, which is why a replica acknowledges only after it.

The log keeps an index from op to the byte range of its record; reads go to
the disk and validate what they read, so a bit flipped under a running log is
caught by ``get``, which then rescans the file and raises ``CorruptEntry``.
Opening a log scans it (:func:`~clobkit.storage.format.scan`): a torn tail is
truncated (durably) and reported; corrupt records before the tail are
reported in ``recovery.corrupt`` and listed by :meth:`LogFile.corrupt_ops`;
they are never returned and never dropped: ``get`` raises ``CorruptEntry`` for
them and ``entries`` yields every entry before the first corrupt one and then
raises ``CorruptEntry``. :meth:`LogFile.repair` writes a good copy from a peer.

Structural changes: ``truncate_after`` truncates the file and fsyncs it;
``compact_through`` and ``repair`` rewrite the file atomically (write
``wal.log.tmp``, fsync, rename over ``wal.log``, fsync the directory), the
compacted file carrying the new base op in its header. That costs one copy of
the kept log, which is fine for the log lengths a teaching cluster keeps
between snapshots, and it means a crash at any point leaves the old log or the
new one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import attrgetter, itemgetter

from clobkit.errors import CorruptEntry, InvalidArgument, InvalidType, StorageError, StoreClosed
from clobkit.storage.base import LogEntry, RecoveryReport, SyncInfo, SyncPolicy
from clobkit.storage.disk import Disk, PowerLoss
from clobkit.storage.format import (
    FILE_HEADER_SIZE,
    MAX_PAYLOAD,
    RECORD_HEADER_SIZE,
    Region,
    ScanResult,
    decode_record,
    encode_file_header,
    encode_record,
    recent_records,
    scan,
)

__all__ = ["WAL_FILE", "LogFile", "RecordInfo", "StoreClosed", "merge_ranges"]

WAL_FILE = "wal.log"
# Parts of a pending (entry, record) pair and of an entry, for map() over the pending list.
_ENTRY, _DATA = itemgetter(0), itemgetter(1)
_VIEW = attrgetter("view")
_WAL_TMP = "wal.log.tmp"
# What sync() reported, by value (bounded: cleared when full).
_sync_infos: dict[tuple[int, int, int, bool], SyncInfo] = {}


@dataclass(frozen=True, slots=True)
class RecordInfo:
    """One row of :func:`~clobkit.storage.wal_frame`: an op as the log holds it."""

    op: int
    view: int | None
    length: int | None
    checksum_ok: bool
    synced: bool
    payload: bytes | None


class Life:
    """Open/closed state shared by a store and its log."""

    __slots__ = ("closed",)

    def __init__(self) -> None:
        self.closed = False

    def check(self) -> None:
        if self.closed:
            raise StoreClosed("the store is closed (crashed or closed); reopen it to recover")


def merge_ranges(regions: list[Region]) -> tuple[tuple[int, int], ...]:
    """Inclusive op ranges of ``regions``, adjacent ones merged.

    >>> merge_ranges([Region(3, 3, 0, 0), Region(4, 6, 0, 0), Region(9, 9, 0, 0)])
    ((3, 6), (9, 9))
    """
    merged: list[list[int]] = []
    for region in sorted(regions, key=lambda r: r.first_op):
        if merged and region.first_op <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], region.last_op)
        else:
            merged.append([region.first_op, region.last_op])
    return tuple((a, b) for a, b in merged)


def _check_int(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum}, got {value!r}")
    return value


class LogFile:
    """A :class:`~clobkit.storage.base.Wal` over ``wal.log`` on a disk; built by a store.

    Costs: ``append`` O(payload); ``sync`` O(pending bytes) plus the fsyncs;
    ``get`` O(record) (one disk read); ``corrupt_ops`` O(log length);
    ``truncate_after`` O(1) I/O plus a rescan; ``compact_through`` and
    ``repair`` O(file) (atomic rewrite).

    >>> from clobkit.storage import MemoryStore, LogEntry
    >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
    >>> wal.append(LogEntry(view=1, op=1, payload=b"buy"))
    >>> wal.last_op, wal.synced_op
    (1, 0)
    >>> wal.sync().records, wal.synced_op, wal.get(1).payload
    (1, 1, b'buy')
    """

    def __init__(
        self,
        disk: Disk,
        result: ScanResult,
        *,
        policy: SyncPolicy,
        life: Life,
        cost: Callable[[int, int], int],
    ) -> None:
        self._disk = disk
        self._policy: SyncPolicy = policy
        self._life = life
        self._cost = cost
        self._pending: list[tuple[LogEntry, bytes]] = []
        #: Observer told of the readable entries a compaction is about to drop (a host's
        #: checker learns committed entries that are compacted before it looks; O(entries
        #: dropped) reads, only when set).
        self.on_compact: Callable[[list[LogEntry]], None] | None = None
        self._recovery = RecoveryReport(
            records_ok=len(result.records),
            bytes_truncated=result.size - result.valid_end,
            torn_tail=result.torn_start is not None,
            corrupt=merge_ranges(result.corrupt),
            first_op=result.base_op + 1,
            last_op=result.last_op,
        )
        if result.torn_start is not None:
            # Only never-acknowledged bytes can be torn: an ack waits for the sync that wrote them.
            self._guarded(lambda: self._cut(result.valid_end))
            result = scan(disk.read(WAL_FILE))
            assert result.torn_start is None
        self._load(result)

    # -- state ------------------------------------------------------------

    def _load(self, result: ScanResult, live_last: int | None = None) -> None:
        """Rebuild the index from a scan (``live_last``: ops a live log knows it holds)."""
        self._base_op, self._base_view = result.base_op, result.base_view
        regions = list(result.corrupt)
        last = result.last_op
        self._file_end = result.size
        if live_last is not None and live_last > last:
            # A live log lost bytes at its end (a lost or misdirected write): those ops are corrupt.
            regions.append(Region(last + 1, live_last, result.valid_end, result.size))
            last = live_last
        slots: list[tuple[int, int, int] | None] = [None] * (last - self._base_op)
        last_view = self._base_view
        for op, view, start, end in result.records:
            slots[op - self._base_op - 1] = (view, start, end)
            last_view = max(last_view, view)
        for region in regions:
            if region.view is not None:
                last_view = max(last_view, region.view)
        self._slots = slots
        self._regions = sorted(regions, key=lambda r: r.first_op)
        self.last_view = max([last_view, *(e.view for e, _ in self._pending)])
        self._count()

    def _count(self) -> None:
        """Recompute :attr:`first_op`, :attr:`synced_op` and :attr:`last_op`.

        They are plain attributes, not properties, because the replica reads them several
        times per command (an attribute read is not a call). Called after every change of
        the index or the pending list (the stateful test
        ``tests/storage/test_storage_machine.py`` checks them after every step); treat them
        as read-only."""
        base = self._base_op
        self.first_op = base + 1
        self.synced_op = synced = base + len(self._slots)
        self.last_op = synced + len(self._pending)

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except PowerLoss:
            self._life.closed = True
            self._disk.close()
            raise

    def _cut(self, size: int) -> None:
        self._disk.truncate(WAL_FILE, size)
        self._disk.fsync(WAL_FILE)

    def _rewrite(self, image: bytes) -> None:
        disk = self._disk
        disk.create(_WAL_TMP, image)
        disk.fsync(_WAL_TMP)
        disk.rename(_WAL_TMP, WAL_FILE)
        disk.fsync_dir()

    def _rescan(self, live_last: int | None = None) -> None:
        self._load(scan(self._disk.read(WAL_FILE)), live_last)

    def _region_of(self, op: int) -> Region:
        for region in self._regions:
            if region.first_op <= op <= region.last_op:
                return region
        raise AssertionError(f"op {op} is corrupt but in no region")

    def _view_at_or_before(self, op: int) -> int:
        for index in range(op - self._base_op - 1, -1, -1):
            slot = self._slots[index]
            if slot is not None:
                return slot[0]
        return self._base_view

    first_op: int
    """The first op still held (one past the compacted prefix)."""
    synced_op: int
    """The last op ``sync`` has reported (under ``"never"``: reported, not durable)."""
    last_op: int
    """The last op appended, synced or not (``first_op - 1`` when empty)."""

    last_view: int
    """The view of the last entry (the lower bound for the next append's view)."""

    @property
    def recovery(self) -> RecoveryReport:
        """What opening this log found (see :class:`~clobkit.storage.base.RecoveryReport`)."""
        return self._recovery

    @property
    def sync_policy(self) -> SyncPolicy:
        """``"always"``, ``"group"`` or ``"never"`` (see :mod:`clobkit.storage.base`)."""
        return self._policy

    def __repr__(self) -> str:
        return (
            f"LogFile(first_op={self.first_op}, last_op={self.last_op}, "
            f"synced_op={self.synced_op}, corrupt={len(self.corrupt_ops())})"
        )

    def unsynced_bytes(self) -> bytes:
        """The framed bytes a crash would lose: written-but-not-fsynced, then pending."""
        durable = self._disk.durable_size(WAL_FILE)
        written = b""
        if self._file_end > durable:
            written = self._disk.read(WAL_FILE, durable, self._file_end - durable)
        return written + b"".join(data for _, data in self._pending)

    # -- appending --------------------------------------------------------

    def append(self, entry: LogEntry) -> None:
        """Buffer ``entry``; not durable until :meth:`sync`. O(len(payload)).

        Raises ``InvalidType`` (not a ``LogEntry``, non-int view/op, non-bytes
        payload) or ``InvalidArgument`` (op not ``last_op + 1``, view below the
        last entry's view, payload over ``MAX_PAYLOAD``); the log is unchanged.

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> wal.append(LogEntry(view=1, op=1, payload=b"buy"))
        >>> wal.last_op, wal.synced_op
        (1, 0)
        >>> wal.append(LogEntry(view=1, op=5, payload=b"sell"))
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: entry.op must be last_op + 1 = 2, got 5
        """
        self.append_many((entry,))

    def append_many(self, entries: Sequence[LogEntry]) -> None:
        """Buffer ``entries`` (consecutive ops from ``last_op + 1``), as :meth:`append` does
        one by one: the same checks, errors and bytes, in one call (a backup appends a
        Prepare's batch this way). All or nothing: an entry that :meth:`append` would refuse
        raises before any of them is buffered. O(total payload).

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> wal.append_many([LogEntry(1, 1, b"buy"), LogEntry(1, 2, b"sell")])
        >>> wal.last_op, wal.get(2).payload
        (2, b'sell')
        >>> wal.append_many([LogEntry(1, 3, b"buy"), LogEntry(0, 4, b"sell")])
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: entry.view 0 is below the last entry's view 1
        >>> wal.last_op
        2
        """
        if self._life.closed:
            self._life.check()  # raises StoreClosed
        op, view = self.last_op, self.last_view
        framed = []
        known = recent_records
        for entry in entries:
            op += 1
            # The common case: an exact LogEntry of exact types that may come next (the
            # checks of _record, which also make view >= 0 and op >= 1 hold), framed with
            # no call when it was framed moments ago (by another replica of a simulated
            # cluster), else by encode_record alone. Anything else goes through _record,
            # which checks everything in order and raises what append documents.
            if type(entry) is LogEntry:
                entry_view, entry_op, payload = entry.view, entry.op, entry.payload
                if (
                    type(entry_op) is int
                    and entry_op == op
                    and type(entry_view) is int
                    and entry_view >= view
                    and type(payload) is bytes
                ):
                    key = (entry_view, entry_op, payload)
                    if key in known:
                        framed.append((entry, known[key]))
                        view = entry_view
                        continue
                    if len(payload) <= MAX_PAYLOAD:
                        framed.append((entry, encode_record(entry_view, entry_op, payload)))
                        view = entry_view
                        continue
            framed.append((entry, self._record(entry, op, view)))
            view = entry.view
        self._pending += framed
        self.last_view = view
        self.last_op = op

    def _record(self, entry: LogEntry, op_wanted: int, view_floor: int) -> bytes:
        """The framed record of ``entry`` if it may follow an entry of view ``view_floor``
        at op ``op_wanted``; else raises what :meth:`append` documents."""
        if not isinstance(entry, LogEntry):
            raise InvalidType(f"entry must be a LogEntry, got {type(entry).__name__}")
        view, op, payload = entry.view, entry.op, entry.payload
        if type(view) is not int or view < 0:
            _check_int("entry.view", view)
        if type(op) is not int or op < 1:
            _check_int("entry.op", op, 1)
        if not isinstance(payload, bytes):
            raise InvalidType(f"entry.payload must be bytes, got {type(payload).__name__}")
        if op != op_wanted:
            raise InvalidArgument(f"entry.op must be last_op + 1 = {op_wanted}, got {op}")
        if view < view_floor:
            raise InvalidArgument(f"entry.view {view} is below the last entry's view {view_floor}")
        if len(payload) > MAX_PAYLOAD:
            raise InvalidArgument(f"entry.payload is {len(payload)} B > {MAX_PAYLOAD}")
        return encode_record(view, op, payload)

    def sync(self) -> SyncInfo:
        """Write and fsync every pending entry per the sync policy.

        ``latency_us`` is the simulated cost: ``fsyncs * sync_latency_us`` plus
        the written bytes at ``write_latency_us_per_kib``. Raises ``PowerLoss``
        if an injected power loss hits (the store is then closed).

        Under ``"never"`` (UNSAFE teaching switch) the returned ``SyncInfo`` has
        ``fsyncs == 0`` and ``durable == False``: the entries read back, but a
        crash loses them although the caller may already have acknowledged
        them. That is scenario S8, the bug in PySyncObj issue #84. O(pending bytes).

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0, sync_policy="group").wal
        >>> for op in (1, 2, 3):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"x"))
        >>> info = wal.sync()  # group commit: three records, one fsync
        >>> info.records, info.fsyncs, info.durable, wal.synced_op
        (3, 1, True, 3)
        """
        if self._life.closed:
            self._life.check()  # raises StoreClosed
        durable = self._policy != "never"
        if not self._pending:
            return SyncInfo(records=0, fsyncs=0, latency_us=0, durable=durable)
        count = len(self._pending)
        written = sum(map(len, map(_DATA, self._pending)))
        fsyncs = count if self._policy == "always" else (1 if durable else 0)
        try:  # (_guarded, spelled out: every replica syncs here every round)
            self._flush()
        except PowerLoss:
            self._life.closed = True
            self._disk.close()
            raise
        # (a SyncInfo is immutable and a run repeats few of them: one per distinct value)
        key = (count, fsyncs, self._cost(fsyncs, written), durable)
        info = _sync_infos[key] if key in _sync_infos else None  # noqa: SIM401 (no call)
        if info is None:
            if len(_sync_infos) >= 1024:
                _sync_infos.clear()
            info = _sync_infos[key] = SyncInfo(*key)
        return info

    def sync_cost_us(self) -> int:
        """What :meth:`sync` would charge now (``SyncInfo.latency_us``), without syncing.

        A host that lets a sync run while messages travel charges it up front. O(pending).

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0, sync_latency_us=1000).wal
        >>> wal.append(LogEntry(view=1, op=1, payload=b"x"))
        >>> cost = wal.sync_cost_us()
        >>> cost == wal.sync().latency_us, wal.sync_cost_us()
        (True, 0)
        """
        if not self._pending:
            return 0
        written = sum(map(len, map(_DATA, self._pending)))
        durable = self._policy != "never"
        fsyncs = len(self._pending) if self._policy == "always" else (1 if durable else 0)
        return self._cost(fsyncs, written)

    def _flush(self) -> None:
        disk = self._disk
        if self._policy == "always":
            # One write and one fsync per record: each record is durable on its own.
            done = 0
            try:
                for entry, data in self._pending:
                    disk.write(WAL_FILE, self._file_end, data)
                    disk.fsync(WAL_FILE)
                    self._slots.append((entry.view, self._file_end, self._file_end + len(data)))
                    self._file_end += len(data)
                    done += 1
            finally:
                del self._pending[:done]  # what a power loss interrupted stays pending (lost)
                self._count()
            return
        # Group commit: one write and (unless "never") one fsync for the whole batch.
        pending = self._pending
        records = list(map(_DATA, pending))
        disk.write(WAL_FILE, self._file_end, b"".join(records))
        if self._policy == "group":
            disk.fsync(WAL_FILE)
        # Each record's (view, start, end), in C (map/zip): this runs on every sync.
        ends = list(accumulate(map(len, records), initial=self._file_end))
        self._slots += zip(map(_VIEW, map(_ENTRY, pending)), ends[:-1], ends[1:], strict=True)
        self._file_end = ends[-1]
        pending.clear()
        self._count()

    # -- reading ----------------------------------------------------------

    def _check_op(self, op: object, name: str = "op") -> int:
        value = _check_int(name, op)
        if not self.first_op <= value <= self.last_op:
            raise InvalidArgument(
                f"{name} {value} is outside the log [{self.first_op}, {self.last_op}]"
            )
        return value

    def _read(self, op: int, retry: bool = True) -> LogEntry:
        if op > self.synced_op:
            return self._pending[op - self.synced_op - 1][0]
        slot = self._slots[op - self.first_op]
        if slot is None:
            raise CorruptEntry(f"op {op} is corrupt; repair it from a peer (Wal.repair)")
        view, start, end = slot
        data = self._disk.read(WAL_FILE, start, end - start)
        try:
            entry = decode_record(data)
            if entry.op != op or entry.view != view:
                raise CorruptEntry(f"record at op {op}'s place holds ({entry.view}, {entry.op})")
        except CorruptEntry as exc:
            # The bytes changed under us: rescan so corrupt_ops() and reopen agree. The
            # rescan may find the record elsewhere (a misdirected write): then read it there.
            self._rescan(self.synced_op)
            if retry and self._slots[op - self.first_op] is not None:
                return self._read(op, retry=False)
            raise CorruptEntry(f"op {op} is corrupt ({exc}); repair it from a peer") from exc
        return entry

    def get(self, op: int) -> LogEntry:
        """The entry at ``op``. O(record).

        Raises ``InvalidArgument`` (op outside ``[first_op, last_op]``),
        ``CorruptEntry`` (its record fails its checksum: see
        :meth:`corrupt_ops`) or ``DiskFault`` (a simulated read error).

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> wal.append(LogEntry(view=1, op=1, payload=b"buy"))
        >>> wal.get(1).payload  # pending entries read back too
        b'buy'
        >>> wal.get(2)
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: op 2 is outside the log [1, 1]
        """
        self._life.check()
        return self._read(self._check_op(op))

    def entries(self, start_op: int | None = None, end_op: int | None = None) -> Iterator[LogEntry]:
        """Entries with ``start_op <= op <= end_op`` in order. O(entries).

        Defaults: from ``first_op`` to ``last_op``; ``end_op`` past the end is
        clamped, ``start_op > end_op`` gives nothing. Raises
        ``InvalidArgument`` at once for a ``start_op`` below ``first_op``
        (compacted: use the snapshot). While iterating, raises
        ``CorruptEntry`` on reaching a corrupt op (after yielding every entry
        before it): ask for ranges around :meth:`corrupt_ops`.

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> for op in (1, 2, 3):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"op%d" % op))
        >>> [e.payload for e in wal.entries(2)], [e.op for e in wal.entries(1, 99)]
        ([b'op2', b'op3'], [1, 2, 3])
        """
        self._life.check()
        start = self.first_op if start_op is None else _check_int("start_op", start_op)
        end = self.last_op if end_op is None else _check_int("end_op", end_op)
        if start < self.first_op:
            raise InvalidArgument(f"start_op {start} is below first_op {self.first_op} (compacted)")
        return self._iterate(start, min(end, self.last_op))

    def _iterate(self, start: int, end: int) -> Iterator[LogEntry]:
        for op in range(start, end + 1):
            self._life.check()
            yield self._read(op)

    def corrupt_ops(self) -> list[int]:
        """Ops known corrupt (awaiting :meth:`repair`), ascending. O(log length)."""
        base = self.first_op
        return [base + i for i, slot in enumerate(self._slots) if slot is None]

    def records(self) -> Iterator[RecordInfo]:
        """Every op as held, corrupt ones included (for :func:`~clobkit.storage.wal_frame`).

        O(log length). A corrupt record shows ``checksum_ok=False`` and no payload:

        >>> from clobkit.storage import MemoryDisk, MemoryStore, LogEntry
        >>> disk = MemoryDisk()
        >>> wal = MemoryStore(disk, cluster_id="demo", replica_id=0).wal
        >>> for op in (1, 2):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"order-%d" % op))
        >>> _ = wal.sync()
        >>> wal.append(LogEntry(view=1, op=3, payload=b"order-3"))  # not synced
        >>> disk.flip_bit("wal.log", disk.contents("wal.log").find(b"order-2"), 0)
        >>> [(r.op, r.checksum_ok, r.synced) for r in wal.records()]
        [(1, True, True), (2, False, True), (3, True, False)]
        """
        self._life.check()
        for op in range(self.first_op, self.last_op + 1):
            if op > self.synced_op:
                entry = self._pending[op - self.synced_op - 1][0]
                yield RecordInfo(op, entry.view, len(entry.payload), True, False, entry.payload)
                continue
            if self._slots[op - self.first_op] is not None:
                try:
                    entry = self._read(op)
                except CorruptEntry:
                    pass  # the rescan moved this op into a corrupt region
                else:
                    yield RecordInfo(op, entry.view, len(entry.payload), True, True, entry.payload)
                    continue
            region = self._region_of(op)
            length = None
            if region.view is not None:
                length = region.end - region.start - RECORD_HEADER_SIZE
            yield RecordInfo(op, region.view, length, False, True, None)

    # -- structural changes -------------------------------------------------

    def _extent_end(self, op: int) -> int:
        """File offset just past the bytes of ``op`` (or of the file header for the base op)."""
        if op == self._base_op:
            return FILE_HEADER_SIZE
        slot = self._slots[op - self.first_op]
        if slot is not None:
            return slot[2]
        region = self._region_of(op)
        # Inside a run of unreadable records the bytes cannot be split: cut before the run.
        return region.end if op == region.last_op else region.start

    def truncate_after(self, op: int) -> None:
        """Drop every entry with op > ``op``, durably (truncate + fsync).

        Pending entries are simply dropped. If ``op`` falls strictly inside a
        run of unreadable records, the cut happens before that run (those ops
        were not held anyway), so ``last_op`` may end below ``op``. Raises
        ``InvalidArgument`` for ``op < first_op - 1``. O(log length).

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> for op in (1, 2, 3):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"x"))
        >>> _ = wal.sync()
        >>> wal.truncate_after(1)  # a new primary's log disagrees from op 2 on
        >>> wal.last_op, wal.synced_op
        (1, 1)
        """
        self._life.check()
        _check_int("op", op)
        if op < self._base_op:
            raise InvalidArgument(f"op {op} is below first_op - 1 = {self._base_op} (compacted)")
        if op >= self.last_op:
            return
        if op >= self.synced_op:
            del self._pending[op - self.synced_op :]
            self._count()
        else:
            cut = self._extent_end(op)
            self._pending.clear()
            self._count()
            self._guarded(lambda: self._cut(cut))
            self._rescan()
        if self._pending:
            self.last_view = self._pending[-1][0].view
        else:
            # Views never decrease, so the largest known view is the last entry's.
            views = [r.view for r in self._regions if r.view is not None]
            self.last_view = max([self._view_at_or_before(self.synced_op), *views])

    def compact_through(self, op: int, *, view: int | None = None) -> None:
        """Drop every entry with op <= ``op`` (covered by a snapshot); atomic rewrite, O(file).

        ``op`` may lie past ``last_op`` (a snapshot received by state transfer):
        the log then becomes empty with ``first_op == op + 1``; ``view`` (the
        snapshot's view) then sets the lower bound for later appends. ``op``
        below ``first_op`` is a no-op. Raises ``InvalidArgument`` for a
        negative ``op``.

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> for op in (1, 2, 3):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"x"))
        >>> _ = wal.sync()
        >>> wal.compact_through(2)
        >>> wal.first_op, wal.last_op
        (3, 3)
        >>> wal.compact_through(10, view=4)  # a snapshot from a peer, past our end
        >>> wal.first_op, wal.last_op, wal.last_view
        (11, 10, 4)
        """
        self._life.check()
        _check_int("op", op)
        if view is not None:
            _check_int("view", view)
        if op <= self._base_op:
            return
        if self.on_compact is not None:
            self.on_compact(self._readable(self.first_op, min(op, self.last_op)))
        live_last: int | None = None
        if op >= self.last_op:
            # Everything goes (state transfer may even skip past the end).
            base_view = max(self.last_view, view or 0)
            self._pending.clear()
            self._count()
            tail = b""
        elif op >= self.synced_op:
            # Every synced entry goes, and the pending ones up to op.
            dropped = op - self.synced_op
            base_view = (
                self._pending[dropped - 1][0].view if dropped else self._view_at_or_before(op)
            )
            del self._pending[:dropped]
            self._count()
            tail = b""
        else:
            base_view = self._view_at_or_before(op)
            slot = self._slots[op + 1 - self.first_op]
            start = slot[1] if slot is not None else self._region_of(op + 1).start
            tail = self._disk.read(WAL_FILE, start, self._file_end - start)
            live_last = self.synced_op
        image = encode_file_header(op, base_view) + tail
        self._guarded(lambda: self._rewrite(image))
        self._rescan(live_last)

    def _readable(self, start: int, end: int) -> list[LogEntry]:
        """The entries ``start..end`` that read back (corrupt ones left out). O(entries)."""
        out = []
        for op in range(start, end + 1):
            try:
                out.append(self._read(op))
            except (CorruptEntry, StorageError):
                continue
        return out

    def discard_all(self) -> None:
        """Drop every entry and the compacted base: the log becomes empty at op 0. O(1) writes.

        For a replica that found its durable state damaged (a lost ``meta``
        file, a log shorter than its metadata): it can vouch for none of it,
        so it starts over as a learner. Atomic rewrite, like ``compact_through``.

        >>> from clobkit.storage import MemoryStore, LogEntry
        >>> wal = MemoryStore(cluster_id="demo", replica_id=0).wal
        >>> wal.append(LogEntry(view=1, op=1, payload=b"x")); _ = wal.sync()
        >>> wal.discard_all()
        >>> wal.first_op, wal.last_op, wal.last_view
        (1, 0, 0)
        """
        self._life.check()
        self._pending.clear()
        self._count()
        self._guarded(lambda: self._rewrite(encode_file_header(0, 0)))
        self._rescan()

    def repair(self, entry: LogEntry) -> None:
        """Replace the corrupt entry at ``entry.op`` with a good copy from a peer, durably.

        Atomic rewrite, O(file). Raises ``InvalidType`` for a non-entry and
        ``InvalidArgument`` when ``entry.op`` is not corrupt or its view
        contradicts the log (the damaged header's view, or the neighbours').

        >>> from clobkit.storage import MemoryDisk, MemoryStore, LogEntry
        >>> disk = MemoryDisk()
        >>> wal = MemoryStore(disk, cluster_id="demo", replica_id=0).wal
        >>> for op in (1, 2, 3):
        ...     wal.append(LogEntry(view=1, op=op, payload=b"order-%d" % op))
        >>> _ = wal.sync()
        >>> disk.flip_bit("wal.log", disk.contents("wal.log").find(b"order-2"), 0)
        >>> wal.get(2)
        Traceback (most recent call last):
        ...
        clobkit.errors.CorruptEntry: op 2 is corrupt (...); repair it from a peer
        >>> wal.corrupt_ops()
        [2]
        >>> wal.repair(LogEntry(view=1, op=2, payload=b"order-2"))  # a peer's copy
        >>> wal.corrupt_ops(), wal.get(2).payload
        ([], b'order-2')
        """
        self._life.check()
        if not isinstance(entry, LogEntry):
            raise InvalidType(f"entry must be a LogEntry, got {type(entry).__name__}")
        _check_int("entry.view", entry.view)
        op = _check_int("entry.op", entry.op, 1)
        if not isinstance(entry.payload, bytes):
            raise InvalidType(f"entry.payload must be bytes, got {type(entry.payload).__name__}")
        if not self.first_op <= op <= self.synced_op or self._slots[op - self.first_op] is not None:
            raise InvalidArgument(
                f"entry.op {op} is not a corrupt op (corrupt: {self.corrupt_ops()})"
            )
        region = self._region_of(op)
        low = self._view_at_or_before(op)
        high = next(
            (s[0] for s in self._slots[op - self.first_op :] if s is not None),
            self._pending[0][0].view if self._pending else None,
        )
        if (
            (region.view is not None and entry.view != region.view)
            or entry.view < low
            or (high is not None and entry.view > high)
        ):
            raise InvalidArgument(
                f"entry.view {entry.view} does not fit op {op} (header view {region.view}, "
                f"neighbours {low}..{high})"
            )
        record = encode_record(entry.view, op, entry.payload)
        image = self._disk.read(WAL_FILE, 0, self._file_end)
        if region.view is not None or region.first_op == region.last_op:
            image = image[: region.start] + record + image[region.end :]
        elif op == region.first_op:
            image = image[: region.start] + record + image[region.start :]
        else:
            image = image[: region.end] + record + image[region.end :]
        live_last = self.synced_op
        self._guarded(lambda: self._rewrite(image))
        self._rescan(live_last)
        assert self._slots[op - self.first_op] is not None
