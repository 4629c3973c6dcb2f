"""The :class:`ProcessCluster`: the same replicas as real processes, on TCP and real disks.

Each replica runs in its own operating-system process
(``python -m clobkit.proc.node``, see :mod:`clobkit.proc.node`) on 127.0.0.1,
with its own :class:`~clobkit.storage.FileStore` directory under ``path``.
Replicas reach each other through one proxy process
(:mod:`clobkit.proc.proxy`) so that the network can be cut link by link.
Clients run here, in the calling process: each user gets the same
:class:`~clobkit.replication.ClientSession` the simulator uses, driven by
the wall clock over one TCP connection per replica.

Faults go through the operating system: :meth:`ProcessCluster.kill` is
``SIGKILL`` (nothing flushed, nothing said), :meth:`~ProcessCluster.pause`
and :meth:`~ProcessCluster.resume` are ``SIGSTOP``/``SIGCONT``,
:meth:`~ProcessCluster.partition` cuts proxy links, and
:meth:`~ProcessCluster.replace` starts a node on an empty directory (it
rejoins as a learner).

Every call is recorded, with wall-clock microseconds since the cluster
started, in :attr:`ProcessCluster.history` (what the linearizability checker
reads: :meth:`ProcessCluster.check`). :meth:`ProcessCluster.close` ends every
process it started (also at interpreter exit) and then checks the write-ahead
logs left on disk (:attr:`ProcessCluster.disk_violations`): one committed
sequence, and every acknowledged write in it.

>>> import clobkit as ck
>>> with ck.ProcessCluster(nodes=3) as c:
...     _ = c.place("alice", "sell", price="100.50", qty=10)
...     r = c.place("bob", "buy", price="101", qty=4)
...     print(r.status, r.fill_prices, c.primary)
filled [Decimal('100.50')] n0
>>> c.disk_violations
[]
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import random
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clobkit.book import MarketSpec, encode_command
from clobkit.errors import InvalidArgument, InvalidType, OutcomeUnknown, Unavailable
from clobkit.proc.wire import BadFrame, BadStream, FrameReader, decode_message, encode_frame
from clobkit.replication.client import ClientSession, Outcome
from clobkit.replication.config import ClusterConfig
from clobkit.replication.step import CLIENT_PREFIX, Message, Step, client_name, replica_name
from clobkit.sim.calls import READ_KINDS, WRITE_KINDS, build_command, build_query, settle
from clobkit.sim.history import ClientHistory
from clobkit.sim.results import Call, CommandResult

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import Fill, Order
    from clobkit.check.invariants import Violation

__all__ = ["ProcessCluster", "PROTOCOL_DEFAULTS", "check_disks"]

#: Timeouts for real processes on a shared machine: heartbeats every 30 ms, a view change
#: after 300-600 ms of silence, a client resends after 400 ms.
PROTOCOL_DEFAULTS: dict[str, Any] = {
    "heartbeat_us": 30_000,
    "view_change_timeout_us_min": 300_000,
    "view_change_timeout_us_max": 600_000,
    "request_timeout_us": 400_000,
    "state_request_timeout_us": 100_000,
}
_SYNCS = ("always", "group", "never")
_LIVE: weakref.WeakSet[ProcessCluster] = weakref.WeakSet()


def _close_all() -> None:
    for cluster in list(_LIVE):
        cluster._stop_processes()


atexit.register(_close_all)


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (bound, read, released)."""
    socks, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _read_line(proc: subprocess.Popen[bytes], timeout_s: float, what: str) -> str:
    """The next line ``proc`` prints, or raise ``Unavailable`` naming ``what``."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            raise Unavailable(f"{what} did not answer within {timeout_s:g} s")
    line = proc.stdout.readline().decode(errors="replace").strip()
    if not line:
        raise Unavailable(f"{what} exited (code {proc.poll()}) before it was ready")
    return line


class _Link:
    """The client side of one replica's TCP connection."""

    __slots__ = ("out", "reader", "retry_at", "sock")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.reader = FrameReader()
        self.out = bytearray()
        self.retry_at = 0.0


class ProcessCluster:
    """A replicated order book of ``nodes`` OS processes on 127.0.0.1 (see the module doc).

    ``path``: where the store directories go (``path/n0``, ...); default a
    temporary directory removed by :meth:`close`. A given path is never
    wiped (a node's directory must be empty or its own). ``read_mode`` as
    for :class:`~clobkit.sim.Cluster`. ``sync`` is the WAL sync policy of
    every node: ``"group"`` (one fdatasync per batch, the default),
    ``"always"`` (one per record) or ``"never"`` (no fdatasync: a kill -9
    loses nothing the kernel has, a power cut would). ``timeout_ms``: how
    long a call waits (wall clock) before giving up. ``config``: extra
    :class:`~clobkit.replication.ClusterConfig` fields (see
    :data:`PROTOCOL_DEFAULTS`).

    Raises ``InvalidArgument`` / ``InvalidType`` for bad arguments (nothing is
    started) and ``Unavailable`` if a process does not start.
    """

    def __init__(
        self,
        nodes: int = 3,
        path: str | os.PathLike[str] | None = None,
        read_mode: str = "quorum",
        *,
        sync: str = "group",
        market: MarketSpec | None = None,
        timeout_ms: float = 10_000,
        cluster_id: str = "clobkit",
        config: dict[str, Any] | None = None,
        seed: int = 0,
    ) -> None:
        if isinstance(nodes, bool) or not isinstance(nodes, int):
            raise InvalidType(f"nodes must be an int, got {nodes!r}")
        if nodes not in (1, 3, 5, 7):
            raise InvalidArgument(f"nodes must be one of (1, 3, 5, 7), got {nodes!r}")
        if sync not in _SYNCS:
            raise InvalidArgument(f"sync must be one of {_SYNCS}, got {sync!r}")
        if market is None:
            market = MarketSpec("ACME", tick="0.01", lot=1)
        elif not isinstance(market, MarketSpec):
            raise InvalidType(f"market must be a MarketSpec, got {market!r}")
        if isinstance(timeout_ms, bool) or not isinstance(timeout_ms, int | float):
            raise InvalidType(f"timeout_ms must be a number, got {timeout_ms!r}")
        if not 0 < timeout_ms < float("inf"):
            raise InvalidArgument(f"timeout_ms must be > 0 and finite, got {timeout_ms!r}")
        if path is not None and not isinstance(path, str | os.PathLike):
            raise InvalidType(f"path must be a str or PathLike, got {path!r}")
        if config is not None and not isinstance(config, dict):
            raise InvalidType(f"config must be a dict of ClusterConfig fields, got {config!r}")
        if path is not None and os.path.exists(path) and not os.path.isdir(path):
            raise InvalidArgument(f"path {os.fspath(path)!r} is a file, not a directory")
        protocol = dict(PROTOCOL_DEFAULTS)
        protocol.update(config or {})
        self.config = ClusterConfig(cluster_id, nodes, read_mode=read_mode, **protocol)  # type: ignore[arg-type]
        self.market = market
        self.sync = sync
        self.timeout_us = round(timeout_ms * 1000)
        self.seed = seed
        self._protocol = protocol
        self._owns_dir = path is None
        self.path = Path(tempfile.mkdtemp(prefix="clobkit-proc-")) if path is None else Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.replica_names: tuple[str, ...] = self.config.replica_names
        self.history = ClientHistory()
        self.acks: list[tuple[str, int, bytes, int]] = []  # (client, call index, payload, op)
        self.disk_violations: list[Violation] | None = None
        self.committed_log: list[tuple[int, int, bytes]] | None = None
        self._positions: dict[int, int] = {}  # history index -> op (write) / commit (read)
        self._payloads: dict[int, bytes] = {}  # history index -> command bytes (writes)
        self.events: list[tuple[int, str, str]] = []  # (time_us, action, node)
        self._t0 = time.monotonic_ns() // 1000
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._state: dict[str, str] = dict.fromkeys(self.replica_names, "down")
        self._dirs: dict[str, Path] = {n: self.path / n for n in self.replica_names}
        self._generation = dict.fromkeys(self.replica_names, 0)
        self._lives = dict.fromkeys(self.replica_names, 0)
        self._blocked: set[str] = set()
        self._sessions: dict[str, ClientSession] = {}
        self._wake: dict[str, int | None] = {}
        self._pending: dict[tuple[str, int], Call] = {}
        self._links: dict[str, _Link] = {}
        self._sel = selectors.DefaultSelector()
        self._closed = False
        self.pids_started: list[int] = []
        ports = _free_ports(nodes + nodes * (nodes - 1))
        self.ports = dict(zip(self.replica_names, ports[:nodes], strict=True))
        self._link_ports: dict[str, int] = {}
        rest = iter(ports[nodes:])
        for a in self.replica_names:
            for b in self.replica_names:
                if a != b:
                    self._link_ports[f"{a}>{b}"] = next(rest)
        _LIVE.add(self)
        try:
            self._proxy = self._spawn(
                "clobkit.proc.proxy",
                {
                    "links": {
                        link: [port, self.ports[link.split(">")[1]]]
                        for link, port in self._link_ports.items()
                    }
                },
                "proxy",
            )
            _read_line(self._proxy, 20, "the proxy")
            for name in self.replica_names:
                self._start(name, learner=False)
            for name in self.replica_names:
                self._await_ready(name)
        except BaseException:
            self.close(check=False)
            raise

    # -- processes ------------------------------------------------------

    def _spawn(self, module: str, config: dict[str, Any], log: str) -> subprocess.Popen[bytes]:
        import clobkit

        env = dict(os.environ)
        root = str(Path(clobkit.__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        logs = self.path / "logs"
        logs.mkdir(exist_ok=True)
        with open(logs / f"{log}.log", "ab") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, json.dumps(config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                env=env,
                start_new_session=True,  # its own process group: close() kills the group
            )
        self.pids_started.append(proc.pid)
        return proc

    def _start(self, name: str, *, learner: bool) -> None:
        index = self.replica_names.index(name)
        self._lives[name] += 1
        config = {
            "cluster_id": self.config.cluster_id,
            "nodes": self.config.replica_count,
            "index": index,
            "read_mode": self.config.read_mode,
            "protocol": self._protocol,
            "market": [self.market.symbol, str(self.market.tick), str(self.market.lot)],
            "dir": str(self._dirs[name]),
            "port": self.ports[name],
            "peers": {
                other: self._link_ports[f"{name}>{other}"]
                for other in self.replica_names
                if other != name
            },
            "sync": self.sync,
            "learner": learner,
            "seed": self.seed * 1000 + index * 10 + self._lives[name],
            "status_path": str(self.path / f"{name}.status.json"),
            "trace_path": str(self.path / f"{name}.trace.jsonl"),
            "t0_us": self._t0,
        }
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path / f"{name}.status.json")
        self._procs[name] = self._spawn("clobkit.proc.node", config, name)
        self._state[name] = "starting"

    def _await_ready(self, name: str) -> None:
        line = _read_line(self._procs[name], 30, f"node {name}")
        if not line.startswith("READY"):
            raise Unavailable(f"node {name} said {line!r} instead of READY")
        self._state[name] = "up"
        self._event("start", name)

    def _event(self, action: str, node: str) -> None:
        self.events.append((self.now_us, action, node))

    def _signal(self, name: str, sig: int) -> None:
        proc = self._procs.get(name)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, sig)

    def _stop_processes(self) -> None:
        """SIGKILL every process this cluster started and reap it (idempotent)."""
        procs = list(self._procs.values())
        if getattr(self, "_proxy", None) is not None:
            procs.append(self._proxy)
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(proc.pid, signal.SIGKILL)
        for proc in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)
            for pipe in (proc.stdin, proc.stdout):
                if pipe is not None:
                    with contextlib.suppress(OSError):
                        pipe.close()

    def _name(self, node: object) -> str:
        if not isinstance(node, str):
            raise InvalidType(f"node must be a node name like 'n0', got {node!r}")
        if node not in self.replica_names:
            raise InvalidArgument(
                f"unknown node {node!r}; nodes are {', '.join(self.replica_names)}"
            )
        return node

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidArgument("this ProcessCluster is closed")

    # -- faults ------------------------------------------------------

    def kill(self, node: str) -> None:
        """SIGKILL ``node``'s process (a crash: no flush, no goodbye). Restart it with
        :meth:`restart`. A node already down is left as it is."""
        self._check_open()
        name = self._name(node)
        proc = self._procs.get(name)
        if proc is None or proc.poll() is not None:
            self._state[name] = "down"
            return
        self._signal(name, signal.SIGKILL)
        proc.wait(timeout=10)
        self._state[name] = "down"
        self._event("kill", name)

    def restart(self, node: str) -> None:
        """Start ``node`` again on its directory (killing it first if it runs): it
        recovers from its WAL, truncating a torn tail, and rejoins."""
        self._check_open()
        name = self._name(node)
        if self._state[name] != "down":
            self.kill(name)
        self._start(name, learner=False)
        self._await_ready(name)
        self._event("restart", name)

    def replace(self, node: str) -> None:
        """Kill ``node`` and start it on a new, empty directory: it rejoins as a learner,
        fetching state from the others before it counts in any quorum. The old
        directory is kept."""
        self._check_open()
        name = self._name(node)
        self.kill(name)
        self._generation[name] += 1
        self._dirs[name] = self.path / f"{name}.{self._generation[name]}"
        self._start(name, learner=True)
        self._await_ready(name)
        self._event("replace", name)

    def pause(self, node: str) -> None:
        """SIGSTOP ``node``: it stops running; the kernel queues what is sent to it."""
        self._check_open()
        name = self._name(node)
        if self._state[name] == "up":
            self._signal(name, signal.SIGSTOP)
            self._state[name] = "paused"
            self._event("pause", name)

    def resume(self, node: str) -> None:
        """SIGCONT ``node`` after :meth:`pause`."""
        self._check_open()
        name = self._name(node)
        if self._state[name] == "paused":
            self._signal(name, signal.SIGCONT)
            self._state[name] = "up"
            self._event("resume", name)

    def _set_blocked(self, blocked: set[str]) -> None:
        assert self._proxy.stdin is not None
        self._proxy.stdin.write((json.dumps({"blocked": sorted(blocked)}) + "\n").encode())
        self._proxy.stdin.flush()
        if _read_line(self._proxy, 10, "the proxy") != "ok":
            raise Unavailable("the proxy did not confirm the cut")
        self._blocked = blocked

    def partition(self, *groups: Iterable[str]) -> None:
        """Cut every link between replicas in different ``groups`` (both ways) until
        :meth:`heal`; replicas named in no group keep their links. Clients reach every
        replica (they connect directly)."""
        self._check_open()
        if len(groups) < 2:
            raise InvalidArgument(f"partition needs at least two groups, got {len(groups)}")
        where: dict[str, int] = {}
        for i, group in enumerate(groups):
            if isinstance(group, str) or not isinstance(group, Iterable):
                raise InvalidType(f"each group must be a set of node names, got {group!r}")
            names = [self._name(n) for n in group]
            if not names:
                raise InvalidArgument("a partition group must not be empty")
            for n in names:
                if n in where:
                    raise InvalidArgument(f"node {n} is in two groups")
                where[n] = i
        cut = {f"{a}>{b}" for a in where for b in where if a != b and where[a] != where[b]}
        self._set_blocked(self._blocked | cut)
        self._event("partition", ",".join("|".join(sorted(g)) for g in map(set, groups)))

    def block(self, source: str, target: str) -> None:
        """Cut the one-way link ``source`` -> ``target`` until :meth:`heal`."""
        self._check_open()
        a, b = self._name(source), self._name(target)
        if a == b:
            raise InvalidArgument("source and target must differ")
        self._set_blocked(self._blocked | {f"{a}>{b}"})
        self._event("block", f"{a}>{b}")

    def heal(self) -> None:
        """Restore every cut link."""
        self._check_open()
        self._set_blocked(set())
        self._event("heal", "")

    def die_in_sync(self, node: str, after: int = 1) -> None:
        """Make ``node`` die in the middle of its ``after``-th WAL write from now: all but
        the last 5 bytes reach the file (its last record is torn), nothing is fsynced or
        sent, then it SIGKILLs itself."""
        self._check_open()
        name = self._name(node)
        proc = self._procs[name]
        assert proc.stdin is not None
        proc.stdin.write((json.dumps({"die_in_sync": int(after)}) + "\n").encode())
        proc.stdin.flush()

    def alive(self, node: str) -> bool:
        """True while ``node``'s process exists (running or paused); reaps a dead one."""
        name = self._name(node)
        proc = self._procs.get(name)
        if proc is None or proc.poll() is not None:
            if self._state[name] != "down":
                self._state[name] = "down"
                self._event("died", name)
            return False
        return True

    # -- the client side ------------------------------------------------------

    @property
    def now_us(self) -> int:
        """Wall-clock microseconds since the cluster started."""
        return time.monotonic_ns() // 1000 - self._t0

    def _session(self, user: str) -> ClientSession:
        session = self._sessions.get(user)
        if session is None:
            attempt_us = self.config.request_timeout_us * 11 // 10
            session = ClientSession(
                self.config,
                user,
                rng=random.Random(f"{self.seed}:{user}"),
                max_attempts=max(1, self.timeout_us // attempt_us),
            )
            self._sessions[user] = session
            self._wake[user] = None
        return session

    def _link(self, node: str) -> _Link | None:
        link = self._links.get(node)
        if link is None:
            link = self._links[node] = _Link()
        if link.sock is None:
            if time.monotonic() < link.retry_at:
                return None
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(0.2)
            try:
                sock.connect(("127.0.0.1", self.ports[node]))
            except OSError:
                sock.close()
                link.retry_at = time.monotonic() + 0.05
                return None
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            link.sock = sock
            link.reader = FrameReader()
            link.out = bytearray()
            self._sel.register(sock, selectors.EVENT_READ, node)
        return link

    def _drop_link(self, node: str) -> None:
        link = self._links.get(node)
        if link is None or link.sock is None:
            return
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(link.sock)
        link.sock.close()
        link.sock = None
        link.retry_at = time.monotonic() + 0.05

    def _flush(self, node: str, link: _Link) -> None:
        assert link.sock is not None
        try:
            sent = link.sock.send(link.out)
        except BlockingIOError:
            sent = 0
        except OSError:
            self._drop_link(node)
            return
        del link.out[:sent]
        mask = selectors.EVENT_READ | (selectors.EVENT_WRITE if link.out else 0)
        self._sel.modify(link.sock, mask, node)

    def _apply(self, user: str, step: Step) -> None:
        for message in step.messages:
            self._send(message)
        if step.wake_at_us is not None:
            self._wake[user] = step.wake_at_us
        self._poll(user)

    def _send(self, message: Message) -> None:
        if self._state.get(message.target) not in ("up", "paused"):
            return  # a down node: the message is lost, the session will retry
        link = self._link(message.target)
        if link is None or link.sock is None:
            return
        link.out += encode_frame(message)
        self._flush(message.target, link)

    def _poll(self, user: str) -> None:
        session = self._sessions[user]
        for (u, handle), call in list(self._pending.items()):
            if u != user:
                continue
            outcome = session.result(handle)
            if outcome is not None:
                del self._pending[(u, handle)]
                self._resolve(call, outcome)

    def _resolve(self, call: Call, outcome: Outcome) -> None:
        now = self.now_us
        if call.outcome != "pending":
            return
        if outcome.status == "unknown":
            self._give_up(call, f"the client gave up after {outcome.attempts} attempts")
            return
        # The same decoding as the simulator's (one place: clobkit.sim.calls); a read's value
        # stays in the book's ticks and lots here.
        done = settle(call, outcome, self.market, people=False)
        call.error = done.error
        if done.outcome == "ok":
            if call.kind in WRITE_KINDS:
                assert done.op is not None
                self.acks.append((call.client_id, call.history_index, call.payload, done.op))
            if done.op is not None:
                self._positions[call.history_index] = done.op
        self._finish(call, done.outcome, done.value, done.output, now)

    def _finish(self, call: Call, outcome: str, value: Any, output: Any, now: int) -> None:
        call.outcome = outcome
        call.value = value
        call.return_us = now
        self.history.complete(call.history_index, outcome, output, now)
        for callback in call.on_done:
            callback(call)

    def _give_up(self, call: Call, cause: str) -> None:
        waited = (self.now_us - call.call_us) / 1000
        states = ", ".join(f"{n} {s}" for n, s in self._state.items())
        if call.kind in WRITE_KINDS:
            call.error = OutcomeUnknown(
                f"outcome unknown: {call.kind} by {call.client_id} got no reply within "
                f"{waited:.0f} ms ({cause}), so it may or may not have been applied ({states})"
            )
        else:
            call.error = Unavailable(
                f"{call.kind} by {call.client_id} got no answer within {waited:.0f} ms "
                f"({cause}; {states})"
            )
        self._finish(call, "unknown", None, None, self.now_us)

    def submit(self, user: str, kind: str, /, **args: Any) -> Call:
        """Start a call without waiting; returns its :class:`~clobkit.sim.results.Call`.

        Arguments as for :meth:`clobkit.sim.Cluster.submit`. Make progress with
        :meth:`pump` (or wait with :meth:`wait`). Raises ``InvalidArgument`` for
        bad arguments (nothing is sent or recorded).
        """
        self._check_open()
        if not isinstance(user, str) or not user or len(user) > 64 or user != user.strip():
            raise InvalidArgument(f"user must be a non-empty trimmed str, got {user!r}")
        if kind in WRITE_KINDS:
            command, hist_input = build_command(self.market, kind, user, args)
            payload = encode_command(command)
        elif kind in READ_KINDS:
            query, hist_input = build_query(self.market.symbol, kind, args)
        else:
            raise InvalidArgument(f"kind must be one of {WRITE_KINDS + READ_KINDS}, got {kind!r}")
        session = self._session(user)
        now = self.now_us
        index = self.history.invoke(user, hist_input, now)
        call = Call(kind, user, hist_input, now, now + self.timeout_us, index, request=dict(args))
        if kind in WRITE_KINDS:
            call.payload = payload
            self._payloads[index] = payload
            handle, step = session.submit(payload, now)
        else:
            handle, step = session.read(query, now)
        call.handle = handle
        self._pending[(user, handle)] = call
        self._apply(user, step)
        return call

    def pump(self, seconds: float = 0.0, until: Callable[[], bool] | None = None) -> None:
        """Run the client side for up to ``seconds`` of wall time (one pass if 0), returning
        early once ``until()`` holds."""
        end = time.monotonic() + seconds
        while True:
            now = self.now_us
            wakes = [w for w in self._wake.values() if w is not None]
            next_wake = min(wakes) if wakes else now + 50_000
            timeout = max(0.0, min((next_wake - now) / 1e6, end - time.monotonic(), 0.05))
            for key, events in self._sel.select(timeout) if self._sel.get_map() else []:
                node: str = key.data
                link = self._links[node]
                if link.sock is None:
                    continue
                if events & selectors.EVENT_WRITE:
                    self._flush(node, link)
                if events & selectors.EVENT_READ and link.sock is not None:
                    self._read(node, link)
            if not self._sel.get_map() and timeout > 0:
                time.sleep(timeout)
            now = self.now_us
            for user, wake in list(self._wake.items()):
                if wake is not None and now >= wake:
                    self._wake[user] = None
                    self._apply(user, self._sessions[user].tick(now))
            for (_user, _handle), call in list(self._pending.items()):
                if now >= call.deadline_us:
                    del self._pending[(_user, _handle)]
                    self._give_up(call, "its deadline passed")
            if time.monotonic() >= end or (until is not None and until()):
                return

    def _read(self, node: str, link: _Link) -> None:
        assert link.sock is not None
        try:
            data = link.sock.recv(1 << 18)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._drop_link(node)
            return
        link.reader.feed(data)
        try:
            bodies = list(link.reader.frames())
        except BadStream:
            self._drop_link(node)
            return
        now = self.now_us
        for body in bodies:
            try:
                message = decode_message(body)
            except BadFrame:
                continue
            user = message.target.removeprefix(CLIENT_PREFIX)
            session = self._sessions.get(user)
            if session is not None:
                self._apply(user, session.handle(message, now))

    def wait(self, call: Call) -> Any:
        """Pump until ``call`` has an outcome; return its value or raise its error."""
        while call.outcome == "pending":
            self.pump(0.5, until=lambda: call.outcome != "pending")
        return call.result

    def run_until(self, predicate: Callable[[], bool], seconds: float) -> bool:
        """Pump until ``predicate()`` holds or ``seconds`` pass; returns the predicate."""
        end = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() >= end:
                return False
            self.pump(min(0.02, max(0.0, end - time.monotonic())), until=predicate)
        return True

    # -- the calls Cluster has -------------------------------------------------------------------

    def place(
        self, user: str, side: str, price: object = None, qty: object = None, **options: Any
    ) -> CommandResult:
        """Place an order and wait until it is committed (see :meth:`clobkit.sim.Cluster.place`)."""
        return self.wait(self.submit(user, "place", side=side, price=price, qty=qty, **options))  # type: ignore[no-any-return]

    def cancel(self, user: str, order_id: int) -> CommandResult:
        """Cancel ``user``'s order and wait until committed."""
        return self.wait(self.submit(user, "cancel", order_id=order_id))  # type: ignore[no-any-return]

    def modify(
        self, user: str, order_id: int, *, price: object = None, qty: object = None
    ) -> CommandResult:
        """Change an order's price and/or quantity and wait until committed."""
        return self.wait(self.submit(user, "modify", order_id=order_id, price=price, qty=qty))  # type: ignore[no-any-return]

    def fills(self, user: str | None = None, *, client: str = "reader") -> list[Fill]:
        """Every fill (or ``user``'s), through the read path."""
        return self.wait(self.submit(client, "fills", user=user))  # type: ignore[no-any-return]

    def live_orders(self, user: str | None = None, *, client: str = "reader") -> list[Order]:
        """Live orders (or ``user``'s), through the read path."""
        return self.wait(self.submit(client, "live_orders", user=user))  # type: ignore[no-any-return]

    def depth(self, levels: int = 10, *, client: str = "reader") -> Any:
        """Book depth, ``{"bids": [...], "asks": [...]}`` of ``(ticks, lots, orders)``."""
        return self.wait(self.submit(client, "depth", levels=levels))

    # -- what the nodes say ------------------------------------------------------

    def node_rows(self) -> list[dict[str, Any]]:
        """One dict per replica: process state and pid, then what its status file says."""
        rows = []
        for name in self.replica_names:
            self.alive(name)
            row: dict[str, Any] = {"node": name, "process": self._state[name]}
            proc = self._procs.get(name)
            row["pid"] = proc.pid if proc is not None else None
            try:
                status = json.loads((self.path / f"{name}.status.json").read_text())
            except (OSError, ValueError):
                status = {}
            status.pop("node", None)
            status.pop("pid", None)
            status.pop("counters", None)
            row.update(status)
            if self._state[name] == "down" and status:
                # The file holds the node's last words: a dead process is no one's primary.
                row["status"], row["primary"] = "down", False
            rows.append(row)
        return rows

    def trace_rows(self) -> list[dict[str, Any]]:
        """What happened, in time order: the nodes' protocol events (starts, recoveries,
        view changes, new primaries; not the per-command ones) and this cluster's faults
        (``kill``, ``restart``...), each a dict with ``time_us`` (since the cluster started),
        ``node``, ``kind`` and the event's fields."""
        rows: list[dict[str, Any]] = [
            {"time_us": t, "node": node, "kind": action} for t, action, node in self.events
        ]
        for name in self.replica_names:
            with contextlib.suppress(OSError):
                for line in (self.path / f"{name}.trace.jsonl").read_text().splitlines():
                    with contextlib.suppress(ValueError):
                        rows.append(json.loads(line))
        rows.sort(key=lambda r: (r.get("time_us", 0), r.get("node", "")))
        return rows

    def trace_df(self) -> pd.DataFrame:
        """:meth:`trace_rows` as a DataFrame (columns ``time_us, node, kind``, then fields)."""
        import pandas as pd

        return pd.DataFrame(self.trace_rows())

    def nodes_df(self) -> pd.DataFrame:
        """:meth:`node_rows` as a DataFrame (columns ``node, process, pid, status, view,
        primary, op, commit, applied, syncs, fsyncs, torn_tail, dropped``)."""
        import pandas as pd

        return pd.DataFrame(self.node_rows())

    @property
    def primary(self) -> str | None:
        """The running replica that is primary of the highest view, per the status files."""
        best: tuple[int, str] | None = None
        for row in self.node_rows():
            if row["process"] == "up" and row.get("primary"):
                key = (int(row.get("view", -1)), row["node"])
                if best is None or key > best:
                    best = key
        return None if best is None else best[1]

    def wait_for_primary(self, seconds: float = 10.0, *, other_than: str | None = None) -> str:
        """Pump until some running replica (not ``other_than``) is primary; return it."""
        found: list[str] = []

        def ready() -> bool:
            p = self.primary
            if p is not None and p != other_than:
                found.append(p)
                return True
            return False

        if not self.run_until(ready, seconds):
            raise Unavailable(f"no primary within {seconds:g} s: {self.node_rows()}")
        return found[-1]

    def check(self, *, timeout_s: float = 60.0) -> Any:
        """Run the linearizability checker over :attr:`history` (wall-clock times).

        After :meth:`close`, the order the cluster claimed (ops of writes, commit
        numbers of reads, the committed log on disk) is verified first
        (:mod:`clobkit.proc.witness`); the full search runs only if that fails.
        """
        from clobkit.check.book_model import book_model
        from clobkit.proc.witness import check_with_witness

        return check_with_witness(
            book_model(self.market),
            self.history,
            self._positions,
            self.committed_log,
            self._payloads,
            timeout_s=timeout_s,
        )

    # -- closing ------------------------------------------------------

    def close(self, *, check: bool = True) -> None:
        """Stop every process (SIGKILL, reaped), then check the WAL files on disk
        (:attr:`disk_violations`) and remove the directory if this cluster made it.
        Idempotent."""
        if self._closed:
            return
        self._closed = True
        for (_u, _h), call in list(self._pending.items()):
            self._give_up(call, "the cluster closed")
        self._pending.clear()
        self._stop_processes()
        for node in list(self._links):
            self._drop_link(node)
        self._sel.close()
        _LIVE.discard(self)
        try:
            if check:
                self.disk_violations, self.committed_log = _check_disks(
                    [self._dirs[n] for n in self.replica_names],
                    self.config,
                    self.acks,
                    time_us=self.now_us,
                )
        finally:
            if self._owns_dir:
                shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> ProcessCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            self._stop_processes()

    def _repr_html_(self) -> str:
        import html

        rows = self.node_rows()
        cols = ("node", "process", "pid", "status", "view", "primary", "op", "commit")
        head = "".join(f"<th>{c}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols) + "</tr>"
            for r in rows
        )
        return (
            f"<div><p>{html.escape(repr(self))}</p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )

    def __repr__(self) -> str:
        states = " ".join(f"{n}:{s}" for n, s in self._state.items())
        closed = " closed" if self._closed else ""
        return (
            f"<ProcessCluster {len(self.replica_names)} processes {states} at {self.path}{closed}>"
        )


def check_disks(
    dirs: list[Path],
    config: ClusterConfig,
    acks: Iterable[tuple[str, int, bytes, int]],
    *,
    time_us: int = 0,
) -> list[Violation]:
    """The invariants over the stores left on disk after every process stopped.

    Opens each directory as its replica would (a torn tail is cut), reads its
    metadata's commit number and its WAL, then: one committed sequence
    (:func:`clobkit.check.invariants.compare_logs`: ``divergent_commit``), and
    every acknowledged write ``(client, call, command payload, op)`` at its op
    in that sequence, or, beyond every commit number on disk, identical in the
    logs of a majority (committed, durable on a majority, so every later view
    keeps it); else ``acked_write_lost``. A directory that does not hold a
    store yet (a learner that never started) counts as an empty log.
    """
    return _check_disks(dirs, config, acks, time_us=time_us)[0]


def _check_disks(
    dirs: list[Path],
    config: ClusterConfig,
    acks: Iterable[tuple[str, int, bytes, int]],
    *,
    time_us: int = 0,
) -> tuple[list[Violation], list[tuple[int, int, bytes]]]:
    from clobkit.check.invariants import Violation, compare_logs
    from clobkit.replication.envelope import decode_envelope
    from clobkit.storage import FileStore

    logs: dict[str, list[tuple[int, int, bytes]]] = {}
    commits: dict[str, int] = {}
    for index, directory in enumerate(dirs):
        name = replica_name(index)
        logs[name], commits[name] = [], 0
        if not (directory / "identity").exists():
            continue
        with FileStore(directory, cluster_id=config.cluster_id, replica_id=index) as store:
            meta = store.load_metadata()
            commits[name] = meta.commit_number if meta is not None else 0
            wal = store.wal
            for op in range(max(1, wal.first_op), wal.last_op + 1):
                with contextlib.suppress(Exception):
                    entry = wal.get(op)
                    logs[name].append((op, entry.view, entry.payload))
    canonical, violations = compare_logs(logs, commits, dict.fromkeys(logs, 0), time_us=time_us)
    by_op = {op: payload for op, _view, payload in canonical}
    for client, call_index, payload, op in acks:
        found = by_op.get(op)
        if found is None:
            holders = [
                name
                for name, rows in logs.items()
                if any(o == op and _same_write(p, client, payload) for o, _v, p in rows)
            ]
            if len(holders) >= config.quorum:
                continue
        elif _same_write(found, client, payload):
            continue
        got = "nothing" if found is None else repr(decode_envelope(found).client_id or "no-op")
        violations.append(
            Violation(
                "acked_write_lost",
                f"call {call_index} by {client}, acknowledged at op {op}, is not in the "
                f"committed log on disk (op {op} holds {got})",
                time_us,
                (client_name(client),),
                op=op,
            )
        )
    return violations, canonical


def _same_write(entry_payload: bytes, client: str, payload: bytes) -> bool:
    from clobkit.replication.envelope import decode_envelope

    try:
        env = decode_envelope(entry_payload)
    except ValueError:
        return False
    return env.client_id == client and env.payload == payload
