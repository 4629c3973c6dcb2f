"""pandas views of a WAL: one row per op, corrupt records included.

Imported lazily (pandas loads only when :func:`wal_frame` is called), so
``import clobkit`` stays light.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["wal_frame"]

WAL_FRAME_COLUMNS = ("op", "view", "length", "checksum_ok", "synced", "command")


def wal_frame(wal: Any, describe: Callable[[bytes], str] | None = None) -> Any:
    """A DataFrame with one row per op held by ``wal``; O(n): it reads every record.

    Columns: ``op`` (int64), ``view`` and ``length`` (nullable Int64: unknown
    for a record whose header is unreadable), ``checksum_ok`` (bool: False for
    a corrupt record, which is listed, not hidden), ``synced`` (bool: the
    record was synced; unsynced ones are lost by a crash) and ``command``
    (``describe(payload)`` if given, else a hex preview; empty when corrupt).

    >>> from clobkit.storage import MemoryStore, MemoryDisk, LogEntry, wal_frame
    >>> disk = MemoryDisk()
    >>> store = MemoryStore(disk, cluster_id="demo", replica_id=0)
    >>> for op in (1, 2, 3):
    ...     store.wal.append(LogEntry(view=1, op=op, payload=b"order-%d" % op))
    >>> _ = store.wal.sync(); store.wal.append(LogEntry(view=1, op=4, payload=b"order-4"))
    >>> store.crash()
    >>> disk.flip_bit("wal.log", 40 + 47 + 45, 0)   # a bit of op 2's payload
    >>> node = MemoryStore(disk, cluster_id="demo", replica_id=0)
    >>> wal_frame(node.wal, describe=bytes.decode)
       op  view  length  checksum_ok  synced  command
    0   1     1       7         True    True  order-1
    1   2     1       7        False    True
    2   3     1       7         True    True  order-3
    >>> node.wal.recovery.corrupt
    ((2, 2),)
    """
    import pandas as pd  # lazy: import clobkit stays light

    rows: dict[str, list[Any]] = {name: [] for name in WAL_FRAME_COLUMNS}
    for info in wal.records():
        rows["op"].append(info.op)
        rows["view"].append(info.view)
        rows["length"].append(info.length)
        rows["checksum_ok"].append(info.checksum_ok)
        rows["synced"].append(info.synced)
        if info.payload is None:
            rows["command"].append("")
        elif describe is not None:
            rows["command"].append(describe(info.payload))
        else:
            preview = info.payload[:16].hex(" ")
            rows["command"].append(preview + (" …" if len(info.payload) > 16 else ""))
    return pd.DataFrame(
        {
            "op": pd.Series(rows["op"], dtype="int64"),
            "view": pd.Series(rows["view"], dtype="Int64"),
            "length": pd.Series(rows["length"], dtype="Int64"),
            "checksum_ok": pd.Series(rows["checksum_ok"], dtype="bool"),
            "synced": pd.Series(rows["synced"], dtype="bool"),
            "command": pd.Series(rows["command"], dtype="object"),
        }
    )
