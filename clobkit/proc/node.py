"""One replica as one operating-system process: ``python -m clobkit.proc.node CONFIG_JSON``.

This is the second host of the protocol (the simulator's
:mod:`clobkit.sim.host` is the first). It runs the unchanged
:class:`~clobkit.replication.Replica` over a real
:class:`~clobkit.storage.FileStore` (real ``fdatasync``), TCP sockets on
127.0.0.1 and the wall clock, and honours the host duties written down in
:mod:`clobkit.replication.step`:

1. **Persist before send.** The replica syncs its WAL (and metadata) through
   its store inside ``handle``/``tick``; the host sends a Step's messages only
   after the call returned, and asserts first that nothing appended is still
   unsynced (``wal.synced_op == wal.last_op``). The one exception is a
   primary's owed sync (``Step.sync_us``): its ``Prepare`` messages
   (``Step.early``) go into the sockets first, then the host calls
   ``replica.sync(now)`` at once, so the fsync runs while the kernel carries
   the Prepares to the backups; what ``sync`` returns is sent as above.
2. **Deliver.** Frames read from every socket in one pass of the event loop
   are decoded and handed to ``handle_batch`` together, so one fsync covers
   everything that queued while the previous one ran (group commit).
   Malformed frames never reach the replica: they are dropped and counted.
3. **Wake on time.** ``wake_at_us`` becomes the timeout of the next
   ``select``; ``tick(now)`` runs when it has passed.

One event loop (:mod:`selectors`), one thread. Replicas talk over one
outgoing connection per peer (dialled to the port the parent gave for that
link: a proxy, so the parent can cut it); replies to clients go back on the
connection the client's last message came in on. A connection that fails is
closed and redialled after a short backoff; frames queued on it are lost,
which the protocol tolerates like any lost message.

The process exits when its standard input closes (the parent died) and, on
Linux, when its parent dies (``PR_SET_PDEATHSIG``), so no node outlives the
Python session that started it. It prints ``READY <pid>`` once listening,
writes its state to ``status_path`` (JSON, replaced atomically) when it
changes, and reads one JSON command per line on standard input
(``{"die_in_sync": k}``: on its k-th WAL write from now, write all but the
last few bytes, so the last record is torn, and SIGKILL itself: a crash in
the middle of a sync).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import random
import selectors
import signal
import socket
import sys
import time
from collections import Counter
from typing import Any

from clobkit.book import MarketSpec
from clobkit.proc.wire import BadFrame, BadStream, FrameReader, decode_message, encode_frame
from clobkit.replication import events as ev
from clobkit.replication.config import ClusterConfig
from clobkit.replication.machine import BookMachine
from clobkit.replication.replica import Replica
from clobkit.replication.step import CLIENT_PREFIX, Message, Step, replica_name
from clobkit.storage import FileStore

__all__ = ["NodeHost", "main"]

_RECV = 1 << 18
_MAX_QUEUED = 8 << 20  # bytes queued on one connection before frames are dropped
_REDIAL_S = 0.05
_STATUS_EVERY_S = 0.02
# Trace events too frequent to keep on disk for every command (the status file counts them).
_HOT_EVENTS = frozenset({ev.COMMIT, ev.LEARN_COMMIT, ev.SYNC, ev.APPLY, ev.DROP})


def _now_us() -> int:
    return time.monotonic_ns() // 1000


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent exits (no orphans)."""
    if not sys.platform.startswith("linux"):  # pragma: no cover
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before prctl ran
        os._exit(1)


class _Conn:
    """One socket: a frame reader, a write buffer, and (outgoing) the peer it dials."""

    __slots__ = ("connected", "out", "peer", "reader", "sock")

    def __init__(self, sock: socket.socket, peer: str | None, connected: bool) -> None:
        self.sock = sock
        self.reader = FrameReader()
        self.out = bytearray()
        self.peer = peer
        self.connected = connected


class NodeHost:
    """The event loop around one :class:`~clobkit.replication.Replica`.

    ``config`` is the dict the parent wrote (see :func:`main`). Counters of
    what the host dropped live in :attr:`counters` (``bad_stream``,
    ``bad_frame``, ``misaddressed``, ``send_dropped``) beside the replica's own.
    """

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        cfg = ClusterConfig(
            config["cluster_id"],
            int(config["nodes"]),
            read_mode=config["read_mode"],
            **config.get("protocol", {}),
        )
        self.cfg = cfg
        self.index = int(config["index"])
        self.name = replica_name(self.index)
        market = MarketSpec(config["market"][0], tick=config["market"][1], lot=config["market"][2])
        self.store = FileStore(
            config["dir"],
            cluster_id=cfg.cluster_id,
            replica_id=self.index,
            sync_policy=config.get("sync", cfg.sync_policy),
        )
        self.counters: Counter[str] = Counter()
        self.sel = selectors.DefaultSelector()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", int(config["port"])))
        self.listener.listen(64)
        self.listener.setblocking(False)
        self.sel.register(self.listener, selectors.EVENT_READ, "listen")
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, "stdin")
        self.peer_ports: dict[str, int] = {k: int(v) for k, v in config["peers"].items()}
        self.outgoing: dict[str, _Conn] = {}
        self.redial_at: dict[str, float] = {}
        self.clients: dict[str, _Conn] = {}
        self.inbox: list[Message] = []
        self.status_path: str | None = config.get("status_path")
        trace_path = config.get("trace_path")
        self.trace_file = open(trace_path, "a", buffering=1) if trace_path else None  # noqa: SIM115
        self.t0_us = int(config.get("t0_us", 0))
        self._status_last = ""
        self._status_at = 0.0
        self._die_in_sync: int | None = None
        self._stdin = bytearray()
        self.syncs = 0
        self.fsyncs = 0
        self.started_us = _now_us()
        now = self.started_us
        self.replica = Replica(
            cfg,
            self.index,
            self.store,
            BookMachine([market]),
            rng=random.Random(int(config.get("seed", 0))),
            now=now,
            learner=bool(config.get("learner", False)),
            overlap_sync=True,  # Prepares leave before our own fsync (see apply)
        )
        self.recovery = self.store.wal.recovery
        self._wrap_disk()
        self.wake_at_us: int | None = now
        self.apply(self.replica.tick(now))

    # -- disk: count real fsyncs, and the die-in-sync fault ---------------------------------

    def _wrap_disk(self) -> None:
        disk = self.store.disk
        write, fsync = disk.write, disk.fsync

        def counted_fsync(name: str) -> None:
            fsync(name)
            self.fsyncs += 1

        def maybe_torn_write(name: str, offset: int, data: bytes) -> None:
            if self._die_in_sync is not None and name == "wal.log":
                self._die_in_sync -= 1
                if self._die_in_sync <= 0:
                    # A crash in the middle of the sync: the write stops 5 bytes short (the
                    # last record is torn, whatever the batch), nothing is fsynced or sent.
                    write(name, offset, data[: len(data) - 5])
                    os.kill(os.getpid(), signal.SIGKILL)
            write(name, offset, data)

        disk.write = maybe_torn_write  # type: ignore[method-assign]
        disk.fsync = counted_fsync  # type: ignore[method-assign]

    # -- the host duties ----------------------------------------------------------------

    def apply(self, step: Step) -> None:
        """Carry out ``step``: check it is durable, send its messages, arm its timer."""
        wal = self.store.wal
        if step.sync_us is not None:
            # An owed sync: the Prepares promise nothing about our disk, so they leave first
            # and travel while we fsync; the rest of the Step comes back from sync().
            assert not step.messages, f"{self.name}: an owed sync comes with no messages"
            for message in step.early:
                self._send(message)
            self._record(step)
            self.apply(self.replica.sync(_now_us()))
            return
        # Duty 1: persist before send. The replica synced through the store before returning;
        # a message that promises durability must never leave ahead of the bytes.
        assert wal.synced_op == wal.last_op, (
            f"{self.name}: step would send with ops {wal.synced_op + 1}..{wal.last_op} unsynced"
        )
        for message in step.early:
            self._send(message)
        self._record(step)
        for message in step.messages:
            self._send(message)

    def _record(self, step: Step) -> None:
        """Count the Step's syncs, write its trace events, arm its timer."""
        for event in step.events:
            if event.kind == ev.SYNC:
                self.syncs += 1
            elif self.trace_file is not None and event.kind not in _HOT_EVENTS:
                row = {"time_us": _now_us() - self.t0_us, "node": self.name, "kind": event.kind}
                row.update(event.fields)
                self.trace_file.write(json.dumps(row, default=str) + "\n")
        # Duty 3: wake on time (None keeps the timer as it was).
        if step.wake_at_us is not None:
            self.wake_at_us = step.wake_at_us

    def _send(self, message: Message) -> None:
        target = message.target
        if target.startswith(CLIENT_PREFIX):
            conn = self.clients.get(target)
        else:
            conn = self._outgoing(target)
        if conn is None:
            self.counters["send_dropped"] += 1
            return
        if len(conn.out) > _MAX_QUEUED:
            self.counters["send_dropped"] += 1
            return
        was_empty = not conn.out
        conn.out += encode_frame(message)
        if was_empty and conn.connected:
            self._flush(conn)

    def _outgoing(self, peer: str) -> _Conn | None:
        conn = self.outgoing.get(peer)
        if conn is not None:
            return conn
        port = self.peer_ports.get(peer)
        if port is None or time.monotonic() < self.redial_at.get(peer, 0.0):
            return None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(False)
        err = sock.connect_ex(("127.0.0.1", port))
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            self.redial_at[peer] = time.monotonic() + _REDIAL_S
            return None
        conn = _Conn(sock, peer, connected=False)
        self.outgoing[peer] = conn
        self.sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, conn)
        return conn

    def _flush(self, conn: _Conn) -> None:
        try:
            sent = conn.sock.send(conn.out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._close(conn)
            return
        del conn.out[:sent]
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.out else 0)
        self.sel.modify(conn.sock, events, conn)

    def _close(self, conn: _Conn) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.sel.unregister(conn.sock)
        conn.sock.close()
        if conn.peer is not None and self.outgoing.get(conn.peer) is conn:
            del self.outgoing[conn.peer]
            self.redial_at[conn.peer] = time.monotonic() + _REDIAL_S
        for name in [n for n, c in self.clients.items() if c is conn]:
            del self.clients[name]

    # -- reading ------------------------------------------------------------------------

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(_RECV)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if conn.reader.buffered:
                self.counters["truncated_frame"] += 1
            self._close(conn)
            return
        conn.reader.feed(data)
        try:
            for body in conn.reader.frames():
                try:
                    message = decode_message(body)
                except BadFrame:
                    self.counters["bad_frame"] += 1
                    continue
                if message.target != self.name:
                    self.counters["misaddressed"] += 1
                    continue
                if message.source.startswith(CLIENT_PREFIX) and conn.peer is None:
                    self.clients[message.source] = conn
                self.inbox.append(message)
        except BadStream:
            self.counters["bad_stream"] += 1
            self._close(conn)

    def _accept(self) -> None:
        while True:
            try:
                sock, _addr = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn = _Conn(sock, None, connected=True)
            self.sel.register(sock, selectors.EVENT_READ, conn)

    def _command(self) -> bool:
        # Raw reads (not sys.stdin.readline): a buffered reader could keep a second line
        # where select() cannot see it.
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:
            return False  # the parent is gone
        self._stdin += data
        *lines, rest = self._stdin.split(b"\n")
        self._stdin = bytearray(rest)
        for line in lines:
            with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                command = json.loads(line)
                if "die_in_sync" in command:
                    self._die_in_sync = int(command["die_in_sync"])
        return True

    # -- status for the parent ------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What ``ProcessCluster.nodes_df`` shows about this node."""
        r = self.replica
        return {
            "node": self.name,
            "pid": os.getpid(),
            "status": r.status,
            "view": r.view,
            "primary": r.is_primary,
            "op": r.op_number,
            "commit": r.commit_number,
            "applied": r.applied_op,
            "syncs": self.syncs,
            "fsyncs": self.fsyncs,
            "torn_tail": self.recovery.torn_tail,
            "dropped": sum(self.counters.values())
            + sum(v for k, v in r.counters.items() if k.startswith("drop:")),
            "counters": dict(self.counters),
        }

    def _write_status(self, force: bool = False) -> None:
        if self.status_path is None:
            return
        now = time.monotonic()
        if not force and now - self._status_at < _STATUS_EVERY_S:
            return
        text = json.dumps(self.status(), sort_keys=True)
        self._status_at = now
        if text == self._status_last:
            return
        self._status_last = text
        tmp = self.status_path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.status_path)

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        """Serve until standard input closes."""
        self._write_status(force=True)
        print(f"READY {os.getpid()}", flush=True)
        while True:
            now = _now_us()
            timeout = None
            if self.wake_at_us is not None:
                timeout = max(0.0, (self.wake_at_us - now) / 1e6)
            for key, events in self.sel.select(min(timeout, 0.5) if timeout is not None else 0.5):
                data = key.data
                if data == "listen":
                    self._accept()
                elif data == "stdin":
                    if not self._command():
                        return
                else:
                    conn: _Conn = data
                    if events & selectors.EVENT_WRITE:
                        if not conn.connected:
                            err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                            if err:
                                self._close(conn)
                                continue
                            conn.connected = True
                        self._flush(conn)
                    if events & selectors.EVENT_READ:
                        self._read(conn)
            now = _now_us()
            if self.inbox:
                batch, self.inbox = self.inbox, []
                self.apply(self.replica.handle_batch(batch, now))
            if self.wake_at_us is not None and now >= self.wake_at_us:
                self.wake_at_us = None
                self.apply(self.replica.tick(now))
            self._write_status()


def main(argv: list[str] | None = None) -> int:
    """Run a node from the JSON config in ``argv[0]`` (see :class:`NodeHost`)."""
    _die_with_parent()
    args = sys.argv[1:] if argv is None else argv
    config = json.loads(args[0])
    host = NodeHost(config)
    try:
        host.run()
    finally:
        host._write_status(force=True)
        host.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
