"""Shared harnesses: the same test body drives a FileStore (real files) and a MemoryStore.

A harness owns one "disk" (a directory or a MemoryDisk) and opens stores on it, so
a test can append, crash, reopen and inspect the raw WAL bytes identically for both.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from clobkit.storage import FileStore, LogEntry, MemoryDisk, MemoryStore

CLUSTER = "test-cluster"


class Harness:
    """Open stores on one disk; read, flip and fingerprint its files."""

    kind = ""

    def open(self, **kwargs: Any) -> Any:
        raise NotImplementedError

    def wal_bytes(self) -> bytes:
        raise NotImplementedError

    def flip(self, byte: int, bit: int) -> None:
        raise NotImplementedError

    def set_wal(self, data: bytes) -> None:
        raise NotImplementedError

    def digest(self) -> str:
        raise NotImplementedError


class MemoryHarness(Harness):
    kind = "memory"

    def __init__(self) -> None:
        self.disk = MemoryDisk()

    def open(self, **kwargs: Any) -> MemoryStore:
        kwargs.setdefault("cluster_id", CLUSTER)
        kwargs.setdefault("replica_id", 0)
        return MemoryStore(self.disk, **kwargs)

    def wal_bytes(self) -> bytes:
        return self.disk.contents("wal.log", durable=True)

    def flip(self, byte: int, bit: int) -> None:
        self.disk.flip_bit("wal.log", byte, bit)

    def set_wal(self, data: bytes) -> None:
        self.disk.create("wal.log", data)
        self.disk.fsync("wal.log")
        self.disk.fsync_dir()

    def digest(self) -> str:
        return self.disk.digest()


class FileHarness(Harness):
    kind = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def open(self, **kwargs: Any) -> FileStore:
        kwargs.setdefault("cluster_id", CLUSTER)
        kwargs.setdefault("replica_id", 0)
        return FileStore(self.path, **kwargs)

    def wal_bytes(self) -> bytes:
        return (self.path / "wal.log").read_bytes()

    def flip(self, byte: int, bit: int) -> None:
        with open(self.path / "wal.log", "r+b") as f:
            f.seek(byte)
            value = f.read(1)[0]
            f.seek(byte)
            f.write(bytes([value ^ (1 << bit)]))

    def set_wal(self, data: bytes) -> None:
        (self.path / "wal.log").write_bytes(data)

    def digest(self) -> str:
        h = hashlib.sha256()
        for name in sorted(os.listdir(self.path)):
            h.update(name.encode() + b"\0" + (self.path / name).read_bytes() + b"\0")
        return h.hexdigest()


def make_harness(kind: str, tmp_path: Path) -> Harness:
    return MemoryHarness() if kind == "memory" else FileHarness(tmp_path / "store")


@pytest.fixture(params=["memory", "file"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Harness:
    return make_harness(request.param, tmp_path)


def entry(op: int, view: int = 1, size: int = 3) -> LogEntry:
    """A deterministic test entry: the payload names its op."""
    return LogEntry(view, op, (b"p%d-" % op * size)[:size])
