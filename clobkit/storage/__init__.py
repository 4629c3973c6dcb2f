"""Durable storage for a replica: write-ahead log, metadata, snapshots, on a real or simulated disk.

Everything in :mod:`clobkit.storage.base` (the contract), plus the two stores
(:class:`FileStore` on a real directory, :class:`MemoryStore` on a
:class:`MemoryDisk` with fault injection), :func:`recover` (snapshot + log
suffix), :func:`wal_frame` (a WAL as a DataFrame) and the format constants.

>>> import clobkit.storage as st
>>> disk = st.MemoryDisk()
>>> store = st.MemoryStore(disk, cluster_id="demo", replica_id=0)
>>> store.wal.append(st.LogEntry(view=1, op=1, payload=b"buy 10"))
>>> store.wal.sync().fsyncs
1
>>> store.crash()
>>> st.MemoryStore(disk, cluster_id="demo", replica_id=0).wal.get(1)
LogEntry(view=1, op=1, payload=b'buy 10')
"""

from __future__ import annotations

from clobkit.storage.base import (
    SYNC_POLICIES,
    LogEntry,
    Metadata,
    RecoveryReport,
    Snapshot,
    Store,
    SyncInfo,
    SyncPolicy,
    Wal,
)
from clobkit.storage.disk import Disk, MemoryDisk, OsDisk, PowerLoss
from clobkit.storage.format import (
    CHECKSUM,
    FILE_HEADER_SIZE,
    FILE_MAGIC,
    FORMAT_VERSION,
    MAX_PAYLOAD,
    RECORD_HEADER_SIZE,
    RECORD_MAGIC,
    CorruptWalHeader,
)
from clobkit.storage.store import (
    DEFAULT_SYNC_LATENCY_US,
    DEFAULT_WRITE_LATENCY_US_PER_KIB,
    IDENTITY_FILE,
    META_FILE,
    SNAPSHOT_FILE,
    FileStore,
    MemoryStore,
    recover,
)
from clobkit.storage.views import wal_frame
from clobkit.storage.wal import WAL_FILE, LogFile, RecordInfo, StoreClosed

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
    "FileStore",
    "MemoryStore",
    "MemoryDisk",
    "OsDisk",
    "Disk",
    "PowerLoss",
    "LogFile",
    "RecordInfo",
    "StoreClosed",
    "CorruptWalHeader",
    "recover",
    "wal_frame",
    "FILE_MAGIC",
    "FORMAT_VERSION",
    "FILE_HEADER_SIZE",
    "RECORD_MAGIC",
    "RECORD_HEADER_SIZE",
    "MAX_PAYLOAD",
    "CHECKSUM",
    "WAL_FILE",
    "IDENTITY_FILE",
    "META_FILE",
    "SNAPSHOT_FILE",
    "DEFAULT_SYNC_LATENCY_US",
    "DEFAULT_WRITE_LATENCY_US_PER_KIB",
]
