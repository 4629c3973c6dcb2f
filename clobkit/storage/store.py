"""The two stores: :class:`FileStore` (a real directory) and :class:`MemoryStore`.

Both are one class over a different :mod:`disk <clobkit.storage.disk>`, so
their crash semantics are identical by construction. A store directory holds:

``identity``
    cluster id and replica id (checksummed blob), written once when the
    directory is first used; opening a directory of another replica or
    cluster raises ``WrongOwner`` and touches nothing;
``wal.log``
    the write-ahead log (:mod:`~clobkit.storage.format`, :mod:`~clobkit.storage.wal`);
``meta``, ``snapshot``
    the :class:`~clobkit.storage.base.Metadata` and the latest
    :class:`~clobkit.storage.base.Snapshot`, each a checksummed blob replaced
    atomically: write ``<name>.tmp``, fsync it, rename it over ``<name>``,
    fsync the directory. A crash before the directory fsync leaves the old
    value, after it the new one, never a mix. ``meta`` holds the learner mark
    (``"learner": true``) only while it is set, so ordinary metadata keeps the
    bytes it had before the mark existed; a field this version does not know
    is refused (``UnsupportedFormat``) before anything is written.
``commit``
    the durable commit number, saved every commit round (:meth:`save_commit
    <_DiskStore.save_commit>`) with one write and one fsync instead of a whole
    metadata replace (two fsyncs and a rename): this is what lets one sync cover
    many commands (group commit). Two fixed-size checksummed slots written in
    turn, each with a sequence number; reading takes the valid slot with the
    higher sequence, so a torn write of one slot leaves the other (the value
    before it, which nothing was promised beyond). :meth:`load_metadata` reports
    the larger of the two commit numbers. A new disk gets the file with its
    identity; ``meta`` records that it exists, so a disk whose ``meta`` says so and
    that lacks the file is damaged (``missing_files``). A directory written before
    this file existed opens as before and gets the file at its first
    :meth:`save_commit`.

A store opened on a disk whose ``identity`` already exists sets ``reopened``;
``missing_files`` then names the files such a disk should hold and does not
(``wal.log``, ``meta``), and ``unreadable`` the byte ranges of ``wal.log`` that failed
to read (they are overwritten with zeros, which fail their checksums). The replica
treats such a disk as damaged: it recovers
as a learner (see :mod:`clobkit.replication.replica`).

Opening validates everything before changing anything (a foreign, corrupt or
newer-format file raises and is left as it was); only then does it create
missing files and cut a torn WAL tail. Metadata and snapshots are always
fsynced, whatever the sync policy: the policy is about the log (the
``"never"`` switch teaches S8 with the log alone).

``crash(torn_bytes=k)`` simulates power loss: the first ``k`` unsynced WAL
bytes reach the disk, the rest of the unsynced state is lost, and the store
closes; construct a new store on the same directory or ``MemoryDisk`` to
recover. ``close()`` is the same without the torn bytes.

Latencies are simulated and deterministic: each sync costs
``fsyncs * sync_latency_us`` plus ``write_latency_us_per_kib`` per KiB
written, reported in :attr:`SyncInfo.latency_us
<clobkit.storage.base.SyncInfo.latency_us>`; the wall clock is never read.
"""

from __future__ import annotations

import dataclasses
import json
import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clobkit.errors import (
    CorruptEntry,
    DiskFault,
    InvalidArgument,
    InvalidType,
    NotAWal,
    UnsupportedFormat,
    WrongOwner,
)
from clobkit.storage.base import (
    SYNC_POLICIES,
    LogEntry,
    Metadata,
    Snapshot,
    Store,
    SyncInfo,
    SyncPolicy,
    Wal,
)
from clobkit.storage.disk import Disk, MemoryDisk, OsDisk, PowerLoss
from clobkit.storage.format import decode_blob, encode_blob, encode_file_header, scan
from clobkit.storage.wal import WAL_FILE, Life, LogFile

__all__ = [
    "IDENTITY_FILE",
    "COMMIT_FILE",
    "META_FILE",
    "SNAPSHOT_FILE",
    "DEFAULT_SYNC_LATENCY_US",
    "DEFAULT_WRITE_LATENCY_US_PER_KIB",
    "FileStore",
    "MemoryStore",
    "recover",
]

IDENTITY_FILE = "identity"
META_FILE = "meta"
SNAPSHOT_FILE = "snapshot"
COMMIT_FILE = "commit"
DEFAULT_SYNC_LATENCY_US = 1000
DEFAULT_WRITE_LATENCY_US_PER_KIB = 10
_KIND_IDENTITY = b"CLOBIDNT"
_KIND_META = b"CLOBMETA"
_KIND_SNAPSHOT = b"CLOBSNAP"
_SNAP_HEAD = struct.Struct("<QQ")  # op, view
_KIND_COMMIT = b"CLOBCMIT"
_COMMIT_BODY = struct.Struct("<QQ")  # sequence, commit number
_COMMIT_SLOT = len(encode_blob(_KIND_COMMIT, _COMMIT_BODY.pack(0, 0)))
_META_COMMIT_FILE_KEY = "commit_file"  # meta's record that the commit file is in use
_META_FIELDS = frozenset(f.name for f in dataclasses.fields(Metadata))


def _commit_slot(sequence: int, commit_number: int) -> bytes:
    return encode_blob(_KIND_COMMIT, _COMMIT_BODY.pack(sequence, commit_number))


def _read_commit(data: bytes) -> tuple[int, int]:
    """``(sequence, commit number)`` of the newest valid slot of a commit file; raises
    ``CorruptEntry`` when neither slot is valid (``NotAWal`` when it is no commit file)."""
    if data[:8] != _KIND_COMMIT:
        raise NotAWal("commit: not a clobkit CLOBCMIT file")
    found = []
    for index in range(2):
        chunk = data[index * _COMMIT_SLOT : (index + 1) * _COMMIT_SLOT]
        try:
            found.append(_COMMIT_BODY.unpack(decode_blob(_KIND_COMMIT, chunk, "commit")))
        except (CorruptEntry, NotAWal):
            continue  # a torn slot: the other one holds the value before it
    if not found:
        raise CorruptEntry("commit: neither slot is valid")
    seq, commit = max(found)
    return seq, commit


def _check_int(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum}, got {value!r}")
    return value


def _encode_json(kind: bytes, value: dict[str, Any]) -> bytes:
    return encode_blob(kind, json.dumps(value, sort_keys=True, separators=(",", ":")).encode())


def _decode_json(kind: bytes, data: bytes, what: str) -> dict[str, Any]:
    try:
        value = json.loads(decode_blob(kind, data, what))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # pragma: no cover - checksummed
        raise CorruptEntry(f"{what}: not valid JSON ({exc})") from exc
    if not isinstance(value, dict):  # pragma: no cover - checksummed
        raise CorruptEntry(f"{what}: not a JSON object")
    return value


def _validate_arguments(
    cluster_id: object,
    replica_id: object,
    sync_policy: object,
    sync_latency_us: object,
    write_latency_us_per_kib: object,
) -> None:
    """Raise for bad constructor arguments before anything touches a disk."""
    if not isinstance(cluster_id, str):
        raise InvalidType(f"cluster_id must be a str, got {cluster_id!r}")
    if not cluster_id:
        raise InvalidArgument("cluster_id must not be empty")
    _check_int("replica_id", replica_id)
    if sync_policy not in SYNC_POLICIES:
        raise InvalidArgument(f"sync_policy must be one of {SYNC_POLICIES}, got {sync_policy!r}")
    _check_int("sync_latency_us", sync_latency_us)
    _check_int("write_latency_us_per_kib", write_latency_us_per_kib)


_SCRUB_BLOCK = 16


def _scrub(disk: Disk, name: str) -> tuple[tuple[int, int], ...]:
    """Find the byte ranges of ``name`` that fail to read and overwrite them with zeros (a
    drive remaps a sector that is written), so the file reads again; the zeros fail their
    checksums, and the caller is told which ranges were lost. O(file)."""
    try:
        disk.read(name)
        return ()
    except DiskFault:
        pass
    bad = []
    size = disk.size(name)
    for start in range(0, size, _SCRUB_BLOCK):
        length = min(_SCRUB_BLOCK, size - start)
        try:
            disk.read(name, start, length)
        except DiskFault:
            disk.write(name, start, bytes(length))
            bad.append((start, start + length))
    disk.fsync(name)
    return tuple(bad)


class _DiskStore:
    """A :class:`~clobkit.storage.base.Store` over any disk (the shared implementation)."""

    def __init__(
        self,
        disk: Disk,
        *,
        cluster_id: str,
        replica_id: int,
        sync_policy: SyncPolicy,
        sync_latency_us: int,
        write_latency_us_per_kib: int,
    ) -> None:
        _validate_arguments(
            cluster_id, replica_id, sync_policy, sync_latency_us, write_latency_us_per_kib
        )
        self._sync_latency_us = sync_latency_us
        self._write_latency_us_per_kib = write_latency_us_per_kib
        self.cluster_id = cluster_id
        self.replica_id = replica_id
        self._policy: SyncPolicy = sync_policy
        self._disk = disk
        self._life = Life()

        # 1. Validate everything that exists; raise before any write.
        has_identity = disk.exists(IDENTITY_FILE)
        if has_identity:
            ident = _decode_json(_KIND_IDENTITY, disk.read(IDENTITY_FILE), "identity")
            if ident != {"cluster_id": cluster_id, "replica_id": replica_id}:
                raise WrongOwner(
                    f"this disk belongs to cluster {ident.get('cluster_id')!r} replica "
                    f"{ident.get('replica_id')!r}, not cluster {cluster_id!r} replica {replica_id}"
                )
        elif any(disk.exists(name) for name in (WAL_FILE, META_FILE, SNAPSHOT_FILE, COMMIT_FILE)):
            if disk.exists(WAL_FILE):
                scan(disk.read(WAL_FILE))  # a file that is not a clobkit WAL says so first
            raise WrongOwner("this disk holds clobkit files but no identity file: owner unknown")
        self.unreadable: tuple[tuple[int, int], ...] = ()
        if has_identity and disk.exists(WAL_FILE):
            self.unreadable = _scrub(disk, WAL_FILE)
        result = scan(disk.read(WAL_FILE)) if disk.exists(WAL_FILE) else None
        expects_commit_file = False
        if disk.exists(META_FILE):
            expects_commit_file = self._read_meta(disk.read(META_FILE))[1]
        # The newest valid slot of the commit file (raises when no slot is valid).
        self._commit_seq = 0
        self._commit_saved: int | None = None
        # What every commit slot save reports (immutable; the latencies are fixed at creation).
        self._slot_info = SyncInfo(records=1, fsyncs=1, latency_us=self._cost(1, _COMMIT_SLOT))
        if disk.exists(COMMIT_FILE):
            self._commit_seq, self._commit_saved = _read_commit(disk.read(COMMIT_FILE))
        if disk.exists(SNAPSHOT_FILE):
            self._decode_snapshot(disk.read(SNAPSHOT_FILE))

        # What a disk that has been used before (its identity exists) should hold but does
        # not: the replica must not trust such a disk (DESIGN.md "Durable state is a promise").
        missing = []
        if has_identity and result is None:
            missing.append(WAL_FILE)
        if has_identity and not disk.exists(META_FILE):
            missing.append(META_FILE)
        if expects_commit_file and not disk.exists(COMMIT_FILE):
            missing.append(COMMIT_FILE)
        self.reopened = has_identity
        self.missing_files: tuple[str, ...] = tuple(missing)

        # 2. Only now change the disk: create what is missing, then recover the log.
        def create() -> None:
            if not has_identity:
                ident = {"cluster_id": cluster_id, "replica_id": replica_id}
                self._replace(IDENTITY_FILE, _encode_json(_KIND_IDENTITY, ident))
                # A new disk has its commit file from the start (commit 0 in both slots).
                self._replace(COMMIT_FILE, _commit_slot(0, 0) + _commit_slot(1, 0))
                self._commit_seq, self._commit_saved = 1, 0
            if result is None:
                self._replace(WAL_FILE, encode_file_header(0, 0))

        self._guarded(create)
        if result is None:
            result = scan(disk.read(WAL_FILE))
        self._wal = LogFile(disk, result, policy=sync_policy, life=self._life, cost=self._cost)

    # -- plumbing ---------------------------------------------------------

    def _cost(self, fsyncs: int, written: int) -> int:
        return fsyncs * self._sync_latency_us + -(-written * self._write_latency_us_per_kib // 1024)

    def _guarded(self, action: Callable[[], None]) -> None:
        try:
            action()
        except PowerLoss:
            self._life.closed = True
            self._disk.close()
            raise

    def _replace(self, name: str, data: bytes) -> None:
        """Atomic replace: temp file, fsync, rename, fsync the directory (4 disk steps)."""
        tmp = name + ".tmp"
        self._disk.create(tmp, data)
        self._disk.fsync(tmp)
        self._disk.rename(tmp, name)
        self._disk.fsync_dir()

    def __repr__(self) -> str:
        state = "closed" if self._life.closed else f"ops {self._wal.first_op}..{self._wal.last_op}"
        return (
            f"{type(self).__name__}(cluster_id={self.cluster_id!r}, replica_id={self.replica_id}, "
            f"sync_policy={self._policy!r}, {state})"
        )

    def __enter__(self) -> _DiskStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the Store protocol -------------------------------------------------

    @property
    def wal(self) -> LogFile:
        """The write-ahead log."""
        return self._wal

    @property
    def sync_policy(self) -> SyncPolicy:
        """``"always"``, ``"group"`` or ``"never"``."""
        return self._policy

    @property
    def closed(self) -> bool:
        """True after :meth:`close`, :meth:`crash` or an injected power loss."""
        return self._life.closed

    @property
    def disk(self) -> Disk:
        """The disk this store writes through (a :class:`MemoryDisk` or an ``OsDisk``)."""
        return self._disk

    def _read_meta(self, data: bytes) -> tuple[Metadata, bool]:
        """The metadata in ``data`` and whether it says the commit file is in use."""
        value = _decode_json(_KIND_META, data, "metadata")
        uses_commit_file = bool(value.pop(_META_COMMIT_FILE_KEY, False))
        # A file written before the learner mark existed has no such key: not a learner.
        unknown = sorted(set(value) - _META_FIELDS)
        if unknown:
            raise UnsupportedFormat(
                f"metadata: unknown fields {unknown} (written by a newer clobkit?); "
                "the file is left as it was"
            )
        return Metadata(**value), uses_commit_file

    def _decode_snapshot(self, data: bytes) -> Snapshot:
        body = decode_blob(_KIND_SNAPSHOT, data, "snapshot")
        op, view = _SNAP_HEAD.unpack_from(body)
        return Snapshot(op=op, view=view, data=body[_SNAP_HEAD.size :])

    def load_metadata(self) -> Metadata | None:
        """The last metadata saved, or ``None`` on a fresh disk; ``CorruptEntry`` if damaged."""
        self._life.check()
        if not self._disk.exists(META_FILE):
            return None
        meta = self._read_meta(self._disk.read(META_FILE))[0]
        saved = self._commit_saved
        if saved is not None and saved > meta.commit_number:
            meta = dataclasses.replace(meta, commit_number=saved)
        return meta

    def save_metadata(self, meta: Metadata) -> SyncInfo:
        """Write ``meta`` atomically and durably: temp, fsync, rename, fsync dir (2 fsyncs).

        Raises ``InvalidType``/``InvalidArgument`` for bad fields and
        ``WrongOwner`` when ``meta`` names another cluster or replica.

        >>> store = MemoryStore(cluster_id="c", replica_id=1, sync_latency_us=500)
        >>> store.save_metadata(Metadata("c", 1, view=2, vote=1)).fsyncs
        2
        >>> store.load_metadata().view
        2
        """
        self._life.check()
        if not isinstance(meta, Metadata):
            raise InvalidType(f"meta must be a Metadata, got {type(meta).__name__}")
        if (meta.cluster_id, meta.replica_id) != (self.cluster_id, self.replica_id):
            raise WrongOwner(
                f"meta is for cluster {meta.cluster_id!r} replica {meta.replica_id!r}, this store "
                f"is cluster {self.cluster_id!r} replica {self.replica_id}"
            )
        for name in ("view", "last_normal_view", "commit_number"):
            _check_int(f"meta.{name}", getattr(meta, name))
        if meta.vote is not None:
            _check_int("meta.vote", meta.vote)
        if not isinstance(meta.learner, bool):
            raise InvalidType(f"meta.learner must be a bool, got {meta.learner!r}")
        fields: dict[str, Any] = {
            "cluster_id": meta.cluster_id,
            "replica_id": meta.replica_id,
            "view": meta.view,
            "last_normal_view": meta.last_normal_view,
            "vote": meta.vote,
            "commit_number": meta.commit_number,
        }
        if meta.learner:
            # Written only when set: a replica's ordinary metadata keeps its old bytes.
            fields["learner"] = True
        if self._commit_saved is not None:
            fields[_META_COMMIT_FILE_KEY] = True
        data = _encode_json(_KIND_META, fields)
        self._guarded(lambda: self._replace(META_FILE, data))
        return SyncInfo(records=1, fsyncs=2, latency_us=self._cost(2, len(data)))

    def save_commit(self, commit_number: int) -> SyncInfo:
        """Make ``commit_number`` durable: one slot write and one fsync (group commit).

        Needs saved metadata (the identity of what the number belongs to). On a directory
        written before the commit file existed, the first call creates it atomically and
        records it in ``meta`` (4 fsyncs, once).
        :meth:`load_metadata` then reports the larger of this and meta's commit number.
        Raises ``InvalidType``/``InvalidArgument`` for a bad number and ``InvalidArgument``
        before any metadata is saved; nothing changes then.

        >>> store = MemoryStore(cluster_id="c", replica_id=1, sync_latency_us=500)
        >>> _ = store.save_metadata(Metadata("c", 1, view=2, commit_number=3))
        >>> store.save_commit(7).fsyncs, store.save_commit(8).fsyncs
        (1, 1)
        >>> store.load_metadata().commit_number, store.load_metadata().view
        (8, 2)
        """
        if self._life.closed:
            self._life.check()  # raises StoreClosed
        if type(commit_number) is not int or commit_number < 0:
            _check_int("commit_number", commit_number)
        if not self._disk.exists(META_FILE):
            raise InvalidArgument("save_commit needs saved metadata first (save_metadata)")
        self._commit_seq += 1
        slot = encode_blob(_KIND_COMMIT, _COMMIT_BODY.pack(self._commit_seq, commit_number))
        disk = self._disk
        if self._commit_saved is None:
            # First use: both slots at once, atomically, then meta records that the file
            # exists (so that losing it later reads as damage, not as an older disk).
            # (slot k holds the sequence numbers equal to k mod 2: this write is sequence 1)
            assert self._commit_seq == 1
            image = _commit_slot(0, commit_number) + slot
            self._guarded(lambda: self._replace(COMMIT_FILE, image))
            meta = self.load_metadata()
            assert meta is not None
            self._commit_saved = commit_number
            info = self.save_metadata(meta)
            return SyncInfo(
                records=1,
                fsyncs=2 + info.fsyncs,
                latency_us=self._cost(2, len(image)) + info.latency_us,
            )
        offset = (self._commit_seq % 2) * _COMMIT_SLOT
        # (_guarded, spelled out: a replica in quorum mode saves its commit number here
        # every commit round)
        try:
            disk.write(COMMIT_FILE, offset, slot)
            disk.fsync(COMMIT_FILE)
        except PowerLoss:
            self._life.closed = True
            disk.close()
            raise
        if commit_number > self._commit_saved:
            self._commit_saved = commit_number
        # (every slot save reports the same: one record, one fsync, one slot's bytes)
        return self._slot_info

    def save_commit_cost_us(self) -> int | None:
        """What the next :meth:`save_commit` will charge (one slot write and one fsync), or
        ``None`` when it is the first (it creates the file: its cost is not a slot's).

        A host that lets the save run while messages travel charges it up front. O(1).

        >>> store = MemoryStore(cluster_id="c", replica_id=1, sync_latency_us=500)
        >>> _ = store.save_metadata(Metadata("c", 1, view=0, commit_number=0))
        >>> cost = store.save_commit_cost_us()
        >>> cost, cost == store.save_commit(1).latency_us
        (501, True)
        """
        if self._commit_saved is None:
            return None
        return self._slot_info.latency_us

    def save_snapshot(self, snapshot: Snapshot) -> SyncInfo:
        """Write ``snapshot`` atomically and durably, replacing the previous one. O(len(data)).

        Raises ``InvalidType``/``InvalidArgument`` for bad fields. Compact the
        log afterwards with ``wal.compact_through(snapshot.op)``.
        """
        self._life.check()
        if not isinstance(snapshot, Snapshot):
            raise InvalidType(f"snapshot must be a Snapshot, got {type(snapshot).__name__}")
        _check_int("snapshot.op", snapshot.op)
        _check_int("snapshot.view", snapshot.view)
        if not isinstance(snapshot.data, bytes):
            raise InvalidType(f"snapshot.data must be bytes, got {type(snapshot.data).__name__}")
        blob = encode_blob(
            _KIND_SNAPSHOT, _SNAP_HEAD.pack(snapshot.op, snapshot.view) + snapshot.data
        )
        self._guarded(lambda: self._replace(SNAPSHOT_FILE, blob))
        return SyncInfo(records=1, fsyncs=2, latency_us=self._cost(2, len(blob)))

    def load_snapshot(self) -> Snapshot | None:
        """The last snapshot saved, or ``None``. Raises ``CorruptEntry`` if damaged."""
        self._life.check()
        if not self._disk.exists(SNAPSHOT_FILE):
            return None
        return self._decode_snapshot(self._disk.read(SNAPSHOT_FILE))

    def crash(self, torn_bytes: int | None = None) -> None:
        """Simulate power loss and close; the first ``torn_bytes`` unsynced WAL bytes survive.

        ``torn_bytes`` larger than the unsynced bytes keeps them all. Raises
        ``InvalidArgument`` for a negative ``torn_bytes`` (nothing happens)
        and ``StorageError`` if the store is already closed.

        >>> disk = MemoryDisk()
        >>> store = MemoryStore(disk, cluster_id="c", replica_id=0)
        >>> store.wal.append(LogEntry(1, 1, b"x")); _ = store.wal.sync()
        >>> store.wal.append(LogEntry(1, 2, b"y"))
        >>> store.crash(torn_bytes=10)
        >>> again = MemoryStore(disk, cluster_id="c", replica_id=0)
        >>> again.wal.last_op, again.wal.recovery.torn_tail, again.wal.recovery.bytes_truncated
        (1, True, 10)
        """
        self._life.check()
        if torn_bytes is not None:
            _check_int("torn_bytes", torn_bytes)
        self._shutdown(torn_bytes or 0)

    def _shutdown(self, torn_bytes: int) -> None:
        if torn_bytes:
            unsynced = self._wal.unsynced_bytes()
            offset = self._disk.durable_size(WAL_FILE)
            self._disk.persist_torn(WAL_FILE, offset, unsynced[:torn_bytes])
        self._disk.power_loss()
        self._disk.close()
        self._life.closed = True

    def close(self) -> None:
        """Close; unsynced data is lost exactly as in :meth:`crash`. Closing twice is a no-op."""
        if not self._life.closed:
            self._shutdown(0)


class MemoryStore(_DiskStore):
    """A store on a simulated :class:`MemoryDisk` (fault injection, no real I/O).

    ``disk`` outlives the store: a restart is ``MemoryStore(same_disk, ...)``;
    a replaced disk is ``MemoryStore(MemoryDisk(), ...)`` (the default).

    >>> disk = MemoryDisk()
    >>> store = MemoryStore(disk, cluster_id="demo", replica_id=0, sync_policy="group")
    >>> for op in (1, 2, 3):
    ...     store.wal.append(LogEntry(view=1, op=op, payload=b"cmd%d" % op))
    >>> store.wal.sync()
    SyncInfo(records=3, fsyncs=1, latency_us=1002, durable=True)
    >>> store.crash()
    >>> [e.op for e in MemoryStore(disk, cluster_id="demo", replica_id=0).wal.entries()]
    [1, 2, 3]
    """

    def __init__(
        self,
        disk: MemoryDisk | None = None,
        *,
        cluster_id: str,
        replica_id: int,
        sync_policy: SyncPolicy = "always",
        sync_latency_us: int = DEFAULT_SYNC_LATENCY_US,
        write_latency_us_per_kib: int = DEFAULT_WRITE_LATENCY_US_PER_KIB,
    ) -> None:
        if disk is None:
            disk = MemoryDisk()
        elif not isinstance(disk, MemoryDisk):
            raise InvalidType(f"disk must be a MemoryDisk, got {type(disk).__name__}")
        super().__init__(
            disk,
            cluster_id=cluster_id,
            replica_id=replica_id,
            sync_policy=sync_policy,
            sync_latency_us=sync_latency_us,
            write_latency_us_per_kib=write_latency_us_per_kib,
        )
        self.memory_disk = disk


class FileStore(_DiskStore):
    """A store in a real directory (created if missing), synced with ``os.fdatasync``/``fsync``.

    Raises ``NotAWal`` when ``path`` is a regular file or holds a file that is
    not a clobkit one, ``WrongOwner`` for another replica's directory and
    ``UnsupportedFormat`` for a newer format; the files are left untouched.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with FileStore(tmp, cluster_id="demo", replica_id=0) as store:
    ...         store.wal.append(LogEntry(view=1, op=1, payload=b"buy"))
    ...         info = store.wal.sync()
    ...     FileStore(tmp, cluster_id="demo", replica_id=0).wal.get(1).payload
    b'buy'
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        cluster_id: str,
        replica_id: int,
        sync_policy: SyncPolicy = "always",
        sync_latency_us: int = DEFAULT_SYNC_LATENCY_US,
        write_latency_us_per_kib: int = DEFAULT_WRITE_LATENCY_US_PER_KIB,
    ) -> None:
        if not isinstance(path, (str, os.PathLike)):
            raise InvalidType(f"path must be a str or PathLike, got {type(path).__name__}")
        self.path = os.fspath(path)
        if os.path.exists(self.path) and not os.path.isdir(self.path):
            raise NotAWal(f"path {self.path!r} is a file, not a clobkit store directory")
        # Checked before mkdir, so bad input creates nothing.
        _validate_arguments(
            cluster_id, replica_id, sync_policy, sync_latency_us, write_latency_us_per_kib
        )
        disk = OsDisk(self.path)
        os.makedirs(self.path, exist_ok=True)
        try:
            super().__init__(
                disk,
                cluster_id=cluster_id,
                replica_id=replica_id,
                sync_policy=sync_policy,
                sync_latency_us=sync_latency_us,
                write_latency_us_per_kib=write_latency_us_per_kib,
            )
        except BaseException:
            disk.close()
            raise


def recover(store: Any) -> tuple[Snapshot | None, list[LogEntry]]:
    """What a state machine restarts from: the snapshot and the log entries after it.

    Restore the snapshot (if any), then apply the returned entries in order
    (only those at or below the commit number, which the replica knows). The
    log prefix up to ``snapshot.op`` is then redundant and can be dropped with
    ``store.wal.compact_through(snapshot.op)``; state transfer to a new
    replica ships exactly this pair. O(log suffix).

    Raises ``CorruptEntry`` when an entry after the snapshot is corrupt
    (repair it first: ``store.wal.corrupt_ops()``) and ``StorageError`` when
    the log was compacted past the snapshot (entries are missing).

    >>> store = MemoryStore(cluster_id="c", replica_id=0)
    >>> for op in (1, 2, 3):
    ...     store.wal.append(LogEntry(1, op, b"%d" % op))
    >>> _ = store.wal.sync(); _ = store.save_snapshot(Snapshot(op=2, view=1, data=b"state@2"))
    >>> snap, suffix = recover(store)
    >>> snap.op, [e.op for e in suffix]
    (2, [3])
    """
    from clobkit.errors import StorageError

    snapshot = store.load_snapshot()
    wal = store.wal
    start = wal.first_op if snapshot is None else snapshot.op + 1
    if start < wal.first_op:
        raise StorageError(
            f"the log starts at op {wal.first_op} but the snapshot ends at op {start - 1}: "
            "entries in between are missing"
        )
    return snapshot, list(wal.entries(start, wal.last_op))


if TYPE_CHECKING:  # pragma: no cover - mypy proves both stores satisfy the contract

    def _conforms(file: FileStore, memory: MemoryStore, log: LogFile) -> tuple[Store, Store, Wal]:
        return file, memory, log
