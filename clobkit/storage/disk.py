"""Disks a store writes through: a real directory, or a simulated one with faults.

A store never calls ``open``/``os.write`` itself: it asks a *disk* for a few
file operations (``read``, ``write``, ``create``, ``truncate``, ``fsync``,
``rename``, ``fsync_dir``, ``remove``). Both disks give those operations the
same **crash semantics**: what was written but not fsynced is volatile, and
:meth:`power_loss` throws it away. That is what lets the simulator crash a node
that writes real files and get the same result as a node on a
:class:`MemoryDisk`.

:class:`MemoryDisk` keeps, per file, the bytes that are durable and the bytes
a reader currently sees, and, for the directory, the durable name -> file
binding and the current one (a rename is durable only after ``fsync_dir``).
It outlives the store that uses it, so a "restart" reopens the same disk and
"replace the disk" is a new ``MemoryDisk``. Faults, all deterministic: a bit
flip at (file, byte, bit), a lost write (the next fsync of a file claims
success but the bytes written since the previous fsync never persist), a
misdirected write (the next write to a file lands at another offset), read
errors on a byte range (``DiskFault``), and a power loss injected before the
n-th next mutating operation (:meth:`MemoryDisk.crash_after`), which is how
tests crash between any two steps of an atomic metadata write.

:class:`OsDisk` is a real directory. Writes go to the page cache; ``fsync``
uses ``os.fdatasync`` for the WAL (the file size changes are covered by it on
Linux) and ``os.fsync`` elsewhere; ``fsync_dir`` fsyncs the directory. A
simulated power loss truncates each append-only file back to the length it had
at its last fsync; a crash injected in the middle of an atomic replace leaves
the real files as they are (the rename is atomic on POSIX file systems, so
they hold the old value or the new one).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import random
from typing import Protocol

from clobkit.errors import DiskFault, InvalidArgument, InvalidType, PowerLoss

__all__ = ["Disk", "MemoryDisk", "OsDisk", "PowerLoss"]


class Disk(Protocol):
    """The file operations a store needs; ``name`` is a bare file name in one directory."""

    def exists(self, name: str) -> bool: ...

    def size(self, name: str) -> int: ...

    def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes: ...

    def write(self, name: str, offset: int, data: bytes) -> None: ...

    def create(self, name: str, data: bytes) -> None: ...

    def truncate(self, name: str, size: int) -> None: ...

    def fsync(self, name: str) -> None: ...

    def rename(self, source: str, target: str) -> None: ...

    def fsync_dir(self) -> None: ...

    def remove(self, name: str) -> None: ...

    def persist_torn(self, name: str, offset: int, data: bytes) -> None: ...

    def durable_size(self, name: str) -> int: ...

    def power_loss(self) -> None: ...

    def close(self) -> None: ...


def _check_int(name: str, value: object, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise InvalidArgument(f"{name} must be >= {minimum}, got {value!r}")
    return value


class _CrashCountdown:
    """Shared by both disks: raise :class:`PowerLoss` before the n-th next mutation."""

    def __init__(self) -> None:
        self._steps_left: int | None = None
        self.steps = 0  # mutating operations performed so far (for tests that count steps)

    def crash_after(self, steps: int) -> None:
        """Lose power just before the mutating operation after the next ``steps`` ones.

        ``crash_after(0)`` fails the very next write/create/truncate/fsync/
        rename/fsync_dir/remove; volatile data is then lost as in
        :meth:`power_loss` and :class:`PowerLoss` is raised. O(1).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abc"); disk.fsync("f"); disk.fsync_dir()
        >>> disk.crash_after(1)
        >>> disk.write("f", 3, b"d")  # step 1 happens
        >>> disk.fsync("f")  # the next one loses power instead
        Traceback (most recent call last):
        ...
        clobkit.errors.PowerLoss: simulated power loss (crash_after)
        >>> disk.read("f")
        b'abc'

        Raises ``InvalidArgument`` / ``InvalidType`` unless ``steps`` is an int >= 0.
        """
        self._steps_left = _check_int("steps", steps)

    def clear_faults(self) -> None:
        """Cancel a pending ``crash_after``. O(1)."""
        self._steps_left = None

    def _tick(self) -> None:
        if self._steps_left is not None:
            if self._steps_left == 0:
                self._steps_left = None
                self.power_loss()
                raise PowerLoss("simulated power loss (crash_after)")
            self._steps_left -= 1
        self.steps += 1

    def power_loss(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class _Inode:
    """One simulated file. Invariant: ``data[:dirty_from] == durable[:dirty_from]`` and
    ``dirty_from <= len(durable)``, so an fsync copies only ``data[dirty_from:]`` (O(bytes
    written since the last fsync), not O(file))."""

    __slots__ = ("data", "dirty_from", "durable")

    def __init__(self) -> None:
        self.data = bytearray()  # what a reader sees now
        self.durable = bytearray()  # what survives a power loss
        self.dirty_from = 0  # the first byte that may differ between the two

    def changed_from(self, offset: int) -> None:
        if offset < self.dirty_from:
            self.dirty_from = offset

    def forget_volatile(self) -> None:
        self.data[:] = self.durable
        self.dirty_from = len(self.durable)


class MemoryDisk(_CrashCountdown):
    """A simulated directory that keeps synced and unsynced bytes apart.

    >>> disk = MemoryDisk()
    >>> disk.create("f", b"abc"); disk.fsync("f"); disk.fsync_dir()
    >>> disk.write("f", 3, b"def")
    >>> disk.read("f"), disk.durable_size("f")
    (b'abcdef', 3)
    >>> disk.power_loss(); disk.read("f")
    b'abc'
    """

    def __init__(self, *, seed: int = 0) -> None:
        super().__init__()
        self._names: dict[str, _Inode] = {}
        self._durable_names: dict[str, _Inode] = {}
        self._rng = random.Random(seed)
        self._read_faults: list[tuple[str, int, int]] = []
        self._lose_next_sync: set[str] = set()
        self._misdirect: dict[str, int] = {}

    def __repr__(self) -> str:
        return f"MemoryDisk(files={sorted(self._names)})"

    # -- inspection -------------------------------------------------------

    def files(self) -> list[str]:
        """Names currently visible, sorted."""
        return sorted(self._names)

    def contents(self, name: str, *, durable: bool = False) -> bytes:
        """The bytes of ``name`` a reader sees now (or, with ``durable=True``, after power loss)."""
        if durable:
            inode = self._durable_names.get(name)
            if inode is None:
                raise InvalidArgument(f"name {name!r}: no durable file")
            return bytes(inode.durable)
        return bytes(self._inode(name).data)

    def digest(self) -> str:
        """A hash of every file, durable and volatile: equal digests mean an untouched disk."""
        h = hashlib.blake2b(digest_size=16)
        for label, names in (("now", self._names), ("durable", self._durable_names)):
            for name in sorted(names):
                inode = names[name]
                for part in (
                    label.encode(),
                    name.encode(),
                    bytes(inode.data),
                    bytes(inode.durable),
                ):
                    h.update(len(part).to_bytes(8, "little") + part)
        return h.hexdigest()

    # -- faults -----------------------------------------------------------

    def flip_bit(self, name: str, byte: int, bit: int) -> None:
        """Flip one bit (media corruption): in the current and the durable bytes. O(1).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abc"); disk.fsync("f"); disk.fsync_dir()
        >>> disk.flip_bit("f", 1, 0)
        >>> disk.read("f"), disk.contents("f", durable=True)
        (b'acc', b'acc')

        Raises ``InvalidArgument`` for a missing file or an offset past its end.
        """
        inode = self._inode(name)
        _check_int("byte", byte)
        _check_int("bit", bit)
        if byte >= len(inode.data) or bit > 7:
            raise InvalidArgument(
                f"byte {byte} / bit {bit}: outside {name!r} ({len(inode.data)} B)"
            )
        inode.data[byte] ^= 1 << bit
        if byte < len(inode.durable):
            inode.durable[byte] ^= 1 << bit

    def flip_random_bit(self, name: str) -> tuple[int, int]:
        """Flip a bit chosen by the disk's seeded generator; returns ``(byte, bit)``. O(1).

        The same ``seed`` flips the same bit:

        >>> disk = MemoryDisk(seed=1)
        >>> disk.create("f", b"abcd")
        >>> disk.flip_random_bit("f"), disk.read("f")
        ((1, 1), b'a`cd')

        Raises ``InvalidArgument`` for a missing or empty file.
        """
        size = len(self._inode(name).data)
        if size == 0:
            raise InvalidArgument(f"name {name!r}: empty file has no bit to flip")
        byte, bit = self._rng.randrange(size), self._rng.randrange(8)
        self.flip_bit(name, byte, bit)
        return byte, bit

    def lose_next_sync(self, name: str) -> None:
        """The next ``fsync(name)`` claims success but drops what was written since the last.

        The dropped bytes vanish from reads at once (the cache is not kept). O(1).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abc"); disk.fsync("f")
        >>> disk.lose_next_sync("f")
        >>> disk.write("f", 3, b"def"); disk.fsync("f")  # no error: the fsync "succeeded"
        >>> disk.read("f"), disk.durable_size("f")
        (b'abc', 3)

        Raises ``InvalidArgument`` for a missing file.
        """
        self._inode(name)
        self._lose_next_sync.add(name)

    def misdirect_next_write(self, name: str, offset: int) -> None:
        """The next ``write(name, ...)`` lands at ``offset`` instead of where it was aimed. O(1).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abcdef")
        >>> disk.misdirect_next_write("f", 0)
        >>> disk.write("f", 6, b"XY")  # aimed at the end, lands on the first two bytes
        >>> disk.read("f")
        b'XYcdef'

        Raises ``InvalidArgument`` for a missing file or a bad ``offset``.
        """
        self._inode(name)
        self._misdirect[name] = _check_int("offset", offset)

    def fail_reads(self, name: str, start: int, end: int) -> None:
        """Reads of ``name`` overlapping ``[start, end)`` raise ``DiskFault`` until cleared. O(1).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abcdef")
        >>> disk.fail_reads("f", 2, 4)
        >>> disk.read("f", 0, 2)
        b'ab'
        >>> disk.read("f", 3, 1)
        Traceback (most recent call last):
        ...
        clobkit.errors.DiskFault: read error on 'f' bytes [2, 4)

        Raises ``InvalidArgument`` unless ``start < end`` (ints >= 0).
        """
        _check_int("start", start)
        if _check_int("end", end) <= start:
            raise InvalidArgument(f"end must be > start, got start={start}, end={end}")
        self._read_faults.append((name, start, end))

    def clear_faults(self) -> None:
        """Remove every pending fault (read errors, lost/misdirected writes, crash_after). O(1).

        Bits already flipped stay flipped (that damage is done).

        >>> disk = MemoryDisk()
        >>> disk.create("f", b"abc")
        >>> disk.fail_reads("f", 0, 3); disk.crash_after(0)
        >>> disk.clear_faults()
        >>> disk.write("f", 3, b"d"); disk.read("f")
        b'abcd'
        """
        self._read_faults.clear()
        self._lose_next_sync.clear()
        self._misdirect.clear()
        super().clear_faults()

    # -- the Disk operations ----------------------------------------------

    def _inode(self, name: str) -> _Inode:
        inode = self._names.get(name)
        if inode is None:
            raise InvalidArgument(f"name {name!r}: no such file on this disk")
        return inode

    def exists(self, name: str) -> bool:
        return name in self._names

    def size(self, name: str) -> int:
        return len(self._inode(name).data)

    def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        inode = self._inode(name)
        end = len(inode.data) if length is None else offset + length
        for fault_name, start, stop in self._read_faults:
            if fault_name == name and start < max(end, offset + 1) and offset < stop:
                raise DiskFault(f"read error on {name!r} bytes [{start}, {stop})")
        return bytes(inode.data[offset:end])

    def _remap(self, name: str, start: int | None = None, end: int | None = None) -> None:
        """Writing over unreadable sectors makes them readable again (the drive remaps them);
        a new file under ``name`` has new sectors."""
        self._read_faults = [
            (n, a, b)
            for n, a, b in self._read_faults
            if n != name or (start is not None and end is not None and (b <= start or end <= a))
        ]

    def write(self, name: str, offset: int, data: bytes) -> None:
        # (_inode, _tick and changed_from spelled out for the common case: the WAL writes
        # here on every sync)
        names = self._names
        inode = names[name] if name in names else self._inode(name)
        if self._steps_left is None:
            self.steps += 1
        else:
            self._tick()
        if self._misdirect:
            offset = self._misdirect.pop(name, offset)
        if self._read_faults:
            self._remap(name, offset, offset + len(data))
        contents = inode.data
        size = len(contents)
        if offset < size:
            if offset < inode.dirty_from:
                inode.dirty_from = offset
        elif size < inode.dirty_from:
            inode.dirty_from = size
        if offset > size:
            contents.extend(bytes(offset - size))
        contents[offset : offset + len(data)] = data

    def create(self, name: str, data: bytes) -> None:
        self._tick()
        self._remap(name)
        inode = _Inode()
        inode.data[:] = data
        self._names[name] = inode

    def truncate(self, name: str, size: int) -> None:
        inode = self._inode(name)
        self._tick()
        inode.changed_from(min(size, len(inode.data)))
        del inode.data[size:]

    def fsync(self, name: str) -> None:
        names = self._names
        inode = names[name] if name in names else self._inode(name)
        if self._steps_left is None:  # (_tick, spelled out)
            self.steps += 1
        else:
            self._tick()
        if name in self._lose_next_sync:
            self._lose_next_sync.discard(name)
            inode.forget_volatile()
            return
        # The durable copy catches up from dirty_from on (O(bytes written since the last
        # fsync); inline: every sync of every replica ends here).
        start = inode.dirty_from
        durable = inode.durable
        del durable[start:]
        durable += inode.data[start:]
        inode.dirty_from = len(durable)

    def rename(self, source: str, target: str) -> None:
        inode = self._inode(source)
        self._tick()
        self._remap(target)
        del self._names[source]
        self._names[target] = inode

    def fsync_dir(self) -> None:
        self._tick()
        self._durable_names = dict(self._names)

    def remove(self, name: str) -> None:
        self._inode(name)
        self._tick()
        del self._names[name]

    def persist_torn(self, name: str, offset: int, data: bytes) -> None:
        """``data`` reached the platter at ``offset`` just before power failed (a torn write)."""
        inode = self._inode(name)
        assert offset == len(inode.durable), "a torn write continues the durable bytes"
        inode.data[offset : offset + len(data)] = data
        inode.durable[offset : offset + len(data)] = data

    def durable_size(self, name: str) -> int:
        return len(self._inode(name).durable)

    def power_loss(self) -> None:
        """Forget everything not fsynced: file bytes and directory changes."""
        self._names = dict(self._durable_names)
        for inode in self._names.values():
            inode.forget_volatile()

    def close(self) -> None:
        """Nothing to release; the disk outlives the store."""


class OsDisk(_CrashCountdown):
    """A real directory; the append-only WAL file stays open between calls."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = os.fspath(path)
        self._fds: dict[str, int] = {}
        self._durable: dict[str, int] = {}  # append-only files: size at the last fsync

    def __repr__(self) -> str:
        return f"OsDisk({self.path!r})"

    def _full(self, name: str) -> str:
        return os.path.join(self.path, name)

    def _fd(self, name: str) -> int:
        fd = self._fds.get(name)
        if fd is None:
            fd = os.open(self._full(name), os.O_RDWR)
            self._fds[name] = fd
            self._durable.setdefault(name, os.fstat(fd).st_size)
        return fd

    def _drop_fd(self, name: str) -> None:
        fd = self._fds.pop(name, None)
        if fd is not None:
            os.close(fd)
        self._durable.pop(name, None)

    def exists(self, name: str) -> bool:
        return os.path.isfile(self._full(name))

    def size(self, name: str) -> int:
        return os.path.getsize(self._full(name))

    def read(self, name: str, offset: int = 0, length: int | None = None) -> bytes:
        if name in self._fds:
            fd = self._fds[name]
            if length is None:
                length = max(0, os.fstat(fd).st_size - offset)
            return os.pread(fd, length, offset)
        with open(self._full(name), "rb") as f:
            f.seek(offset)
            return f.read() if length is None else f.read(length)

    def write(self, name: str, offset: int, data: bytes) -> None:
        self._tick()
        fd = self._fd(name)
        written = os.pwrite(fd, data, offset)
        if written != len(data):
            # A regular file writes short only when the disk is full.
            raise OSError(
                errno.ENOSPC,
                f"short write to {self._full(name)}: {written} of {len(data)} bytes (disk full?)",
            )

    def create(self, name: str, data: bytes) -> None:
        self._tick()
        self._drop_fd(name)
        fd = os.open(self._full(name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def truncate(self, name: str, size: int) -> None:
        self._tick()
        os.ftruncate(self._fd(name), size)

    def fsync(self, name: str) -> None:
        self._tick()
        if name in self._fds:
            fd = self._fds[name]
            # fdatasync: the data and the size (which the WAL depends on), not mtime.
            getattr(os, "fdatasync", os.fsync)(fd)
            self._durable[name] = os.fstat(fd).st_size
            return
        fd = os.open(self._full(name), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def rename(self, source: str, target: str) -> None:
        self._tick()
        self._drop_fd(source)
        self._drop_fd(target)
        os.replace(self._full(source), self._full(target))

    def fsync_dir(self) -> None:
        self._tick()
        fd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove(self, name: str) -> None:
        self._tick()
        self._drop_fd(name)
        os.remove(self._full(name))

    def persist_torn(self, name: str, offset: int, data: bytes) -> None:
        fd = self._fd(name)
        assert offset == self._durable[name], "a torn write continues the durable bytes"
        os.ftruncate(fd, offset)
        os.pwrite(fd, data, offset)
        os.fsync(fd)
        self._durable[name] = offset + len(data)

    def durable_size(self, name: str) -> int:
        self._fd(name)
        return self._durable[name]

    def power_loss(self) -> None:
        """Cut every open append-only file back to its size at its last fsync."""
        for name, fd in self._fds.items():
            if os.fstat(fd).st_size != self._durable[name]:
                os.ftruncate(fd, self._durable[name])
                os.fsync(fd)

    def close(self) -> None:
        """Close the open file descriptors (a closed store's disk is not used again)."""
        for name in list(self._fds):
            self._drop_fd(name)

    def __del__(self) -> None:
        # A store dropped without close() must not leak its WAL descriptor.
        fds = getattr(self, "_fds", {})
        for fd in fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        fds.clear()
