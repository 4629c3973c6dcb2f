"""Where a cluster's replicas keep their disks: checking ``storage=`` and an explicit storage
path before anything is created (clobkit never deletes or rewrites what it did not create),
and :class:`ReplicaStorage`, which owns each replica's disk (simulated, or a directory) and
its open store across crashes, restarts and replacements.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim.rng import RandomStreams
from clobkit.storage import FileStore, MemoryDisk, MemoryStore, SyncPolicy
from clobkit.storage.inspect import is_clobkit_directory

__all__ = ["ReplicaStorage", "check_directories", "check_storage"]


class ReplicaStorage:
    """Each replica's disk and open store: ``disks`` (simulated, ``storage="memory"``) or
    ``dirs`` (``"file"``, under ``path``), ``stores`` (the store each replica runs on now)
    and ``generation`` (how many times its disk was replaced: ``n2``, ``n2.1``, ...).

    A disk outlives its store: a crash closes the store, a restart opens a new one on the
    same disk, a replacement (``fresh``) starts an empty disk of the next generation. A
    simulated disk's randomness comes from the named stream ``disk:<node>/<generation>``.
    """

    def __init__(self, storage: str, path: Path | None, streams: RandomStreams) -> None:
        assert storage in ("memory", "file") and (storage == "memory" or path is not None)
        self.storage = storage
        self.path = path
        self.streams = streams
        self.disks: dict[str, MemoryDisk] = {}
        self.dirs: dict[str, Path] = {}
        self.stores: dict[str, Any] = {}
        self.generation: dict[str, int] = {}

    def open(
        self,
        name: str,
        index: int,
        *,
        fresh: bool,
        cluster_id: str,
        sync_policy: SyncPolicy,
        sync_latency_us: int,
    ) -> Any:
        """Open replica ``name``'s store: on its old disk, or (``fresh``) a new empty one."""
        if self.storage == "memory":
            if fresh or name not in self.disks:
                # The disk's own randomness (which bit a random bit flip hits) comes from a
                # named stream of the cluster seed, like every other random choice: a
                # replacement disk (next generation) draws afresh.
                rng = self.streams.fresh(f"disk:{name}/{self.generation[name]}")
                self.disks[name] = MemoryDisk(seed=rng.getrandbits(64))
            store: Any = MemoryStore(
                self.disks[name],
                cluster_id=cluster_id,
                replica_id=index,
                sync_policy=sync_policy,
                sync_latency_us=sync_latency_us,
            )
        else:
            assert self.path is not None
            if fresh or name not in self.dirs:
                generation = self.generation[name]
                suffix = "" if generation == 0 else f".{generation}"
                directory = self.path / f"{name}{suffix}"
                while fresh and directory.exists() and any(directory.iterdir()):
                    # Never delete a disk: a replacement goes to the next unused name.
                    generation = self.generation[name] = generation + 1
                    directory = self.path / f"{name}.{generation}"
                self.dirs[name] = directory
            store = FileStore(
                self.dirs[name],
                cluster_id=cluster_id,
                replica_id=index,
                sync_policy=sync_policy,
                sync_latency_us=sync_latency_us,
            )
        self.stores[name] = store
        return store


def check_storage(storage: object) -> tuple[str, Path | None]:
    """``storage=`` as ``(kind, path)``: ``"memory"``, ``"file"`` in a temporary directory
    (path ``None``), or ``"file"`` under the given path. Raises for anything else."""
    if isinstance(storage, os.PathLike):
        return "file", Path(storage)
    if not isinstance(storage, str):
        raise InvalidType(f"storage must be 'file', 'memory' or a path, got {storage!r}")
    if storage in ("file", "memory"):
        return storage, None
    if os.sep in storage or storage.startswith("."):
        return "file", Path(storage)
    raise InvalidArgument(
        f"storage must be 'file', 'memory' or a path (a pathlib.Path, or a str with "
        f"'{os.sep}'), got {storage!r}"
    )


def check_directories(path: Path | None, names: list[str], reopen: bool) -> dict[str, int]:
    """Check an explicit storage path before anything is created; returns, for
    ``reopen``, each replica's newest disk generation (``n0``, ``n0.1``, ...).

    clobkit never deletes or rewrites what it did not create: a replica directory that
    is not empty and holds no clobkit ``identity`` is refused, and clobkit's own state
    from an earlier run is reopened only when asked (``reopen=True``)."""
    if path is None:
        if reopen:
            raise InvalidArgument("reopen=True needs a storage path that holds a cluster")
        return {}
    if path.exists() and not path.is_dir():
        raise InvalidArgument(f"storage path {str(path)!r} is a file, not a directory")
    generations: dict[str, int] = {}
    for name in names:
        found = []
        if path.is_dir():
            for entry in path.iterdir():
                stem, _, suffix = entry.name.partition(".")
                if stem == name and (suffix == "" or suffix.isdigit()):
                    found.append((int(suffix or 0), entry))
        for _, directory in sorted(found):
            if not directory.is_dir():
                raise InvalidArgument(
                    f"{str(directory)!r} is a file where replica {name}'s directory goes; "
                    f"clobkit never deletes what it did not create: choose another path"
                )
            contents = sorted(p.name for p in directory.iterdir())
            if contents and not is_clobkit_directory(contents):
                shown = ", ".join(contents[:3]) + (", ..." if len(contents) > 3 else "")
                raise InvalidArgument(
                    f"{str(directory)!r} is not empty ({shown}) and was not created by "
                    f"clobkit; clobkit never deletes what it did not create: choose an "
                    f"empty or new storage path"
                )
            if contents and not reopen:
                raise InvalidArgument(
                    f"{str(directory)!r} holds replica {name}'s state from an earlier run; "
                    f"pass reopen=True to recover that cluster, or choose a new path"
                )
        if reopen:
            if not found:
                raise InvalidArgument(
                    f"reopen=True but {str(path)!r} holds no directory for replica {name}"
                )
            generations[name] = max(found)[0]
    return generations
