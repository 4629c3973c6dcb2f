"""Looking at a replica's files from outside its store: which files are clobkit's, and
where a log record's bytes sit on a disk.

The simulator uses this to inject faults precisely (flip a bit inside op 3's record, make
reads of it fail) and to refuse directories clobkit did not create. Knowledge of the files'
names and layout stays here, in ``storage/``, next to the store that writes them.

>>> from clobkit.storage import LogEntry, MemoryDisk, MemoryStore
>>> disk = MemoryDisk(seed=1)
>>> store = MemoryStore(disk, cluster_id="c", replica_id=0)
>>> store.wal.append(LogEntry(0, 1, b"hello record"))
>>> _ = store.wal.sync()
>>> start, end = record_span(disk, b"hello record")
>>> disk.contents(WAL_FILE)[start:end], record_span(disk, b"never written")
(b'hello record', None)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from clobkit.storage.store import IDENTITY_FILE, META_FILE, SNAPSHOT_FILE
from clobkit.storage.wal import WAL_FILE

__all__ = ["LOSABLE_FILES", "WAL_FILE", "is_clobkit_directory", "record_span"]

LOSABLE_FILES: tuple[str, ...] = (META_FILE, WAL_FILE, SNAPSHOT_FILE)
"""The files of a replica's directory that an operator (or a fault) can lose and the replica
recover from its peers; without ``identity`` the directory is no longer known as clobkit's."""


def is_clobkit_directory(names: Iterable[str]) -> bool:
    """True when a directory listing ``names`` holds clobkit's identity file. O(names).

    >>> is_clobkit_directory(["identity", "wal.log"]), is_clobkit_directory(["notes.txt"])
    (True, False)
    """
    return IDENTITY_FILE in set(names)


def record_span(disk: Any, payload: bytes) -> tuple[int, int] | None:
    """Where ``payload`` (a log record's body) first sits in the WAL file on ``disk``, as
    ``(start, end)`` byte offsets; ``None`` when it is not written there. O(file size).

    ``disk`` is a simulated :class:`~clobkit.storage.MemoryDisk` (anything with
    ``contents(name)``)."""
    found = disk.contents(WAL_FILE).find(payload)
    if found < 0:
        return None
    return found, found + len(payload)
