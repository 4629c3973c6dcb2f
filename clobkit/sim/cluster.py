"""The :class:`Cluster`: a replicated order book you can drive from a notebook.

A cluster is a :class:`~clobkit.sim.world.World` with one host per replica
(``n0``, ``n1``, ...) running a :class:`~clobkit.replication.Replica` over its
own store, plus one host per client (``client:<user>``) running a
:class:`~clobkit.replication.ClientSession`. Everything is simulated and
deterministic from ``seed``: the same calls give the same trace, byte for
byte.

Calls are synchronous by default: :meth:`Cluster.place` sends the request,
runs the simulation until the client has its reply, and returns the
committed result. If no reply can come (no majority reachable) the call gives
up after a bounded stretch of *simulated* time and raises
:class:`~clobkit.errors.OutcomeUnknown` for a write (it may or may not have
been applied) or :class:`~clobkit.errors.Unavailable` for a read, with a
message that says why. :meth:`Cluster.submit` starts a call without waiting
and returns a :class:`~clobkit.sim.results.Call` handle, so many clients can
be in flight at once.

Bad arguments raise :class:`~clobkit.errors.InvalidArgument` (or
``InvalidType``) before anything happens: no trace record, no history entry.

>>> import clobkit as ck
>>> c = ck.Cluster(nodes=3, seed=1, storage="memory")
>>> _ = c.place("alice", "sell", price="100.50", qty=10)
>>> r = c.place("bob", "buy", price="101", qty=4)
>>> r.status, r.fill_prices, r.filled_qty
('filled', [Decimal('100.50')], 4)
>>> [o.qty for o in c.live_orders()]
[6]
>>> c.primary
'n0'
"""

from __future__ import annotations

import contextlib
import functools
import html
import os
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterable
from decimal import Decimal
from heapq import heappop, heappush
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clobkit.book import (
    Cancel,
    MarketSpec,
    Place,
    decode_result,
    encode_command,
)
from clobkit.book.names import check_user
from clobkit.book.records import write_output
from clobkit.book.spec import MAX_UNITS
from clobkit.errors import (
    InvalidArgument,
    InvalidType,
    OutcomeUnknown,
    StorageError,
    Unavailable,
    UnknownNode,
)
from clobkit.replication.client import ClientSession, Outcome
from clobkit.replication.config import UNSAFE_SWITCHES, ClusterConfig
from clobkit.replication.machine import BookMachine
from clobkit.replication.replica import Replica
from clobkit.replication.step import Step, client_name, is_client_name, replica_name
from clobkit.sim import diagnosis
from clobkit.sim.calls import (
    _PLAIN_PLACE_TAIL,
    CALL_ARGUMENTS,
    READ_KINDS,
    WRITE_KINDS,
    ClientNode,
    build_command,
    build_query,
    read_output,
    rejection,
    settle,
)
from clobkit.sim.disks import ReplicaStorage, check_directories, check_storage
from clobkit.sim.faults import BYSTANDER, NEXT_PRIMARY, PRIMARY, Fault
from clobkit.sim.history import ClientHistory, HistoryRecord
from clobkit.sim.invariants import InvariantMonitor, Violation
from clobkit.sim.journal import JournalEntry, journaled, replay
from clobkit.sim.network import Latency, Network, Rule, matching
from clobkit.sim.nodes import NodeHandle, node_table_html, nodes_frame
from clobkit.sim.results import Call, CommandResult, fills_frame, orders_frame
from clobkit.sim.rng import check_seed
from clobkit.sim.trace import Trace, TraceRecord
from clobkit.sim.world import World
from clobkit.storage.inspect import LOSABLE_FILES, WAL_FILE, record_span

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from clobkit.book import Fill, Order

__all__ = ["Cluster", "JournalEntry", "WRITE_KINDS", "READ_KINDS", "read_output"]

_NODE_COUNTS = (1, 3, 5, 7)

# Timeouts the notebook cluster uses unless ``config=`` says otherwise: a backup that hears
# nothing from the primary for 80-140 ms of simulated time starts a view change, so that
# ``c.crash(c.primary); c.run(ms=200)`` shows a new primary (heartbeats every 20 ms keep a
# healthy primary in office; the simulated network's latency is ~1 ms).
_PROTOCOL_DEFAULTS: dict[str, Any] = {
    "heartbeat_us": 20_000,
    "view_change_timeout_us_min": 80_000,
    "view_change_timeout_us_max": 140_000,
}
_READ_CLIENT = "reader"
_new_tuple: Any = tuple.__new__
# The keyword arguments of the writes Cluster._submit_write takes in one frame.
_PLAIN_PLACE_KEYS = frozenset({"side", "price", "qty", "timeout_ms"})
_PLAIN_CANCEL_KEYS = frozenset({"order_id", "timeout_ms"})


def _check_name(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidType(f"{name} must be a str, got {value!r}")
    if not value or value != value.strip() or len(value) > 64:
        raise InvalidArgument(
            f"{name} must be a non-empty trimmed str of <= 64 chars, got {value!r}"
        )
    return value


def _order_ids(order_id: int | None, client_order_id: str | None) -> dict[str, Any]:
    """The id arguments of a cancel/modify call, leaving out a client id not given (so the
    journal reads as it did before client ids existed)."""
    if client_order_id is None:
        return {"order_id": order_id}
    return {"order_id": order_id, "client_order_id": client_order_id}


def _check_ms(name: str, value: object) -> int:
    """Milliseconds (int or float) -> whole microseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidType(f"{name} must be a number of milliseconds, got {value!r}")
    if not value >= 0 or value == float("inf"):
        raise InvalidArgument(f"{name} must be a finite number >= 0, got {value!r}")
    return round(value * 1000)


def _message_kinds() -> frozenset[str]:
    """Every protocol message class name (what ``drop_next``/``delay_next`` match on)."""
    from clobkit.replication import messages

    return frozenset(name for name in messages.__all__ if isinstance(getattr(messages, name), type))


def _check_config_keys(config: dict[str, Any]) -> None:
    """``config=`` may set only ClusterConfig's protocol fields (the rest have arguments)."""
    import dataclasses

    own = {"cluster_id", "replica_count", "read_mode", "unsafe"}
    allowed = sorted(f.name for f in dataclasses.fields(ClusterConfig) if f.name not in own)
    unknown = sorted(str(k) for k in config if k not in allowed)
    if unknown:
        raise InvalidArgument(
            f"config has unknown key(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(allowed)}"
        )


def _check_rule_args(kind: object, count: object, op: object) -> None:
    kinds = _message_kinds()
    if kind is not None and kind not in kinds:
        raise InvalidArgument(
            f"kind must be None or a message kind ({', '.join(sorted(kinds))}), got {kind!r}"
        )
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InvalidArgument(f"count must be an int >= 1, got {count!r}")
    if op is not None and (isinstance(op, bool) or not isinstance(op, int) or op < 1):
        raise InvalidArgument(f"op must be None or an op number >= 1, got {op!r}")


class _Nodes(dict[str, NodeHandle]):
    """``cluster.nodes``: a dict whose missing key is a clear, catchable clobkit error."""

    def __missing__(self, key: str) -> NodeHandle:
        raise UnknownNode(f"node must be one of {', '.join(self)}, got {key!r}")


class Cluster:
    """A simulated replicated order book: ``nodes`` replicas, any number of clients.

    Parameters (all keyword except ``nodes`` and ``seed``):

    ``nodes``
        1, 3, 5 or 7 replicas (``n = 2f + 1`` tolerates ``f`` failures).
    ``seed``
        feeds every random choice; same seed + same calls = same trace.
    ``storage``
        ``"file"`` (default: real WAL files in a fresh temporary directory,
        removed by :meth:`close`), ``"memory"`` (simulated disks with fault
        injection), or a :class:`pathlib.Path` to keep the files (one
        directory per replica, ``n0``, ``n1``...). clobkit never deletes what it
        did not create: a replica directory that is not empty and not clobkit's
        is refused with an error naming it, and one holding clobkit state from
        an earlier run is refused unless ``reopen=True``.
    ``reopen``
        with a path: recover the cluster whose state the directories hold
        (every replica restarts from its disk, as after a power loss).
    ``read_mode``
        ``"quorum"`` (default), ``"primary"`` or the unsafe
        ``"quorum-highest-seq"``.
    ``unsafe``
        names of unsafe teaching switches (see
        :data:`clobkit.replication.config.UNSAFE_SWITCHES`); a cluster with
        any on says so in its ``repr`` and records invariant violations
        instead of raising.
    ``market``
        the :class:`~clobkit.book.MarketSpec` (default ``ACME``, tick 0.01, lot 1).
    ``latency``, ``latency_us_min``, ``latency_us_max``, ``loss``, ``duplicate``, ``reorder``
        the network (see :class:`~clobkit.sim.network.Network`).
    ``sync_latency_us``
        simulated cost of one fsync (default 1000 µs), for both store kinds.
    ``timeout_ms``
        how long (simulated) a synchronous call waits before giving up.
    ``check``
        run the cheap invariant monitor after every event (default on).
    ``trace``
        keep the trace (default on; benchmarks turn it off).
    ``config``
        extra :class:`~clobkit.replication.ClusterConfig` fields (timeouts, batch size).
        The cluster's own defaults: ``heartbeat_us=20_000``,
        ``view_change_timeout_us_min=80_000``, ``view_change_timeout_us_max=140_000``
        (a crashed primary is replaced within ~150 ms of simulated time).

    A place that crosses the book fills at the resting order's price:

    >>> c = Cluster(3, seed=1, storage="memory")
    >>> _ = c.place("alice", "sell", price="100.50", qty=5)
    >>> c.place("bob", "buy", price="101.00", qty=2)
    <CommandResult op=2 order_id=2 filled resting=0 fills=[2@100.50]>

    Raises :class:`~clobkit.errors.InvalidArgument` / ``InvalidType`` naming
    the bad parameter (nothing is created).

    ``history`` (a :class:`~clobkit.sim.history.ClientHistory`) records every
    client call as invoked and completed, in the format the linearizability
    checker reads; reads count too (made by the ``"reader"`` client):

    >>> c = Cluster(3, seed=1, storage="memory")
    >>> _ = c.place("alice", "buy", price="99", qty=2)
    >>> _ = c.depth()
    >>> [(h.client_id, h.input[0], h.outcome) for h in c.history]
    [('alice', 'place', 'ok'), ('reader', 'depth', 'ok')]
    """

    def __init__(
        self,
        nodes: int = 3,
        seed: int = 0,
        *,
        storage: str | os.PathLike[str] = "file",
        read_mode: str = "quorum",
        unsafe: Iterable[str] = (),
        market: MarketSpec | None = None,
        latency: str = "uniform",
        latency_us_min: int = 500,
        latency_us_max: int = 1_500,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        sync_latency_us: int = 1_000,
        timeout_ms: float = 2_000,
        check: bool = True,
        trace: bool = True,
        cluster_id: str = "clobkit",
        config: dict[str, Any] | None = None,
        reopen: bool = False,
    ) -> None:
        # -- validate everything before creating anything --------------------------------
        if isinstance(nodes, bool) or not isinstance(nodes, int):
            raise InvalidType(f"nodes must be an int, got {nodes!r}")
        if nodes not in _NODE_COUNTS:
            raise InvalidArgument(f"nodes must be one of {_NODE_COUNTS}, got {nodes!r}")
        check_seed(seed)
        if isinstance(unsafe, str):
            raise InvalidType(f"unsafe must be a set of switch names, got the str {unsafe!r}")
        switches = frozenset(unsafe)
        unknown = sorted(str(u) for u in switches - UNSAFE_SWITCHES)
        if unknown:
            raise InvalidArgument(
                f"unsafe has unknown switch(es) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(UNSAFE_SWITCHES))}"
            )
        if market is None:
            market = MarketSpec("ACME", tick="0.01", lot=1)
        elif not isinstance(market, MarketSpec):
            raise InvalidType(f"market must be a MarketSpec, got {market!r}")
        storage_kind, storage_path = check_storage(storage)
        if not isinstance(reopen, bool):
            raise InvalidType(f"reopen must be a bool, got {reopen!r}")
        generations = check_directories(
            storage_path, [replica_name(i) for i in range(nodes)], reopen
        )
        if isinstance(sync_latency_us, bool) or not isinstance(sync_latency_us, int):
            raise InvalidType(f"sync_latency_us must be an int, got {sync_latency_us!r}")
        if sync_latency_us < 0:
            raise InvalidArgument(f"sync_latency_us must be >= 0, got {sync_latency_us!r}")
        timeout_us = _check_ms("timeout_ms", timeout_ms)
        if timeout_us <= 0:
            raise InvalidArgument(f"timeout_ms must be > 0, got {timeout_ms!r}")
        link = Latency(latency, latency_us_min, latency_us_max)  # type: ignore[arg-type]
        network = Network(link, loss=loss, duplicate=duplicate, reorder=reorder)
        _check_name("cluster_id", cluster_id)
        if config is not None and not isinstance(config, dict):
            raise InvalidType(f"config must be a dict of ClusterConfig fields, got {config!r}")
        _check_config_keys(config or {})
        protocol = dict(_PROTOCOL_DEFAULTS)
        protocol.update(config or {})
        cfg = ClusterConfig(
            cluster_id,
            nodes,
            read_mode=read_mode,  # type: ignore[arg-type]
            unsafe=switches,
            **protocol,
        )

        # -- build ---------------------------------------------------------------------
        self.config = cfg
        self.market = market
        self._decimal_ticks: dict[Decimal, int] = {}  # build_command's memo for this market
        self._lot_is_one = market.lot == 1  # (a whole quantity is its lots: _submit_write)
        self._live_cache: tuple[int, Any, list[tuple[str, int, Any]]] | None = None
        self.seed = seed
        self.timeout_us = timeout_us
        self.sync_latency_us = sync_latency_us
        self.storage = storage_kind
        self._owns_dir = False
        self._finalizer: weakref.finalize[Any, Any] | None = None
        if storage_kind == "file":
            if storage_path is None:
                storage_path = Path(tempfile.mkdtemp(prefix="clobkit-"))
                self._owns_dir = True
                self._finalizer = weakref.finalize(
                    self, shutil.rmtree, str(storage_path), ignore_errors=True
                )
            else:
                try:
                    storage_path.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise InvalidArgument(
                        f"storage path {str(storage_path)!r} cannot be created: {exc}"
                    ) from None
        self.path: Path | None = storage_path
        self.world = World(seed, network, trace=Trace(enabled=trace))
        self.history = ClientHistory(market=market)
        self._storage = ReplicaStorage(storage_kind, storage_path, self.world.streams)
        self._lives: dict[str, int] = {}
        self._clients: dict[str, ClientNode] = {}
        self._calls: list[Call] = []
        self._pending = 0  # calls without an outcome yet
        # Call deadlines, lazily (see _deadline_due): (time, seq, call) of every call whose
        # deadline may still come due, and the places (time, seq) of the deadline events queued
        # in the world's heap, latest first (the last is the next to come due).
        self._deadlines: list[tuple[int, int, Call]] = []
        self._deadlines_queued: list[tuple[int, int]] = []
        self._closed = False
        # -- the action journal (see Cluster.journal and Cluster.fork) --
        self._options: dict[str, Any] = {
            "nodes": nodes,
            "seed": seed,
            "storage": storage,
            "read_mode": read_mode,
            "unsafe": tuple(sorted(switches)),
            "market": market,
            "latency": latency,
            "latency_us_min": latency_us_min,
            "latency_us_max": latency_us_max,
            "loss": loss,
            "duplicate": duplicate,
            "reorder": reorder,
            "sync_latency_us": sync_latency_us,
            "timeout_ms": timeout_ms,
            "check": check,
            "trace": trace,
            "cluster_id": cluster_id,
            "config": None if config is None else dict(config),
        }
        if reopen:
            self._options["reopen"] = True
        self._journal: list[JournalEntry] = []
        self._journal_depth = 0  # journaled methods on the stack
        self._sim_depth = 0  # simulator runs on the stack (events may call back into us)
        self._fault_depth = 0  # scheduled faults being applied
        self.replica_names: tuple[str, ...] = cfg.replica_names
        self.nodes: dict[str, NodeHandle] = _Nodes()
        self.monitor = InvariantMonitor(
            self._live_replicas, strict=not switches, describe=self._repro
        )
        if check:
            self.world.observers.append(self.monitor)
        for index, name in enumerate(self.replica_names):
            self._storage.generation[name] = generations.get(name, 0)
            self._lives[name] = 0
            store = self._open_store(name, index, fresh=not reopen)
            replica = self._new_replica(index, store, learner=False)
            host = self.world.add_host(name, replica)
            host.on_disk_error = self._disk_error
            host.set_timer(0)
            self.nodes[name] = NodeHandle(self, name)

    # -- construction helpers -------------------------------------------------------------

    def _open_store(self, name: str, index: int, *, fresh: bool) -> Any:
        """Open replica ``name``'s store: on its old disk, or (``fresh``) a new empty one.

        With the monitor on, the store tells it what each compaction drops (a replica may
        commit an op and compact it within one event, before the monitor looks)."""
        store = self._storage.open(
            name,
            index,
            fresh=fresh,
            cluster_id=self.config.cluster_id,
            sync_policy=self.config.sync_policy,
            sync_latency_us=self.sync_latency_us,
        )
        if self.monitor in self.world.observers:
            store.wal.on_compact = functools.partial(self.monitor.compacting, name)
        return store

    def _disk_error(self, name: str, error: BaseException) -> None:
        """A replica hit a disk error (read-only file, full disk, unreadable sector): it
        crashes, and the trace says why. The caller and the other replicas carry on."""
        host = self.world.hosts[name]
        if host.status != "crashed":
            host.crash()
        store = self._storage.stores.get(name)
        if store is not None and not store.closed:
            with contextlib.suppress(OSError, StorageError):  # the disk is failing
                store.crash()
        self.world.record("disk_error", name, detail={"error": f"{type(error).__name__}: {error}"})

    def _new_replica(self, index: int, store: Any, *, learner: bool) -> Any:
        name = self.replica_names[index]
        generation = self._storage.generation[name]
        rng = self.world.streams.fresh(f"node:{name}/{generation}/{self._lives[name]}")
        machine = BookMachine([self.market])
        return Replica(
            self.config,
            index,
            store,
            machine,
            rng=rng,
            now=self.world.now_us,
            learner=learner,
            trace_events=self.world.trace.enabled,  # no trace: no TraceEvent objects built
            overlap_sync=True,  # the host sends a primary's Prepares while it syncs
        )

    def _client(self, client_id: str) -> ClientNode:
        node = self._clients.get(client_id)
        if node is None:
            # The session gives up (outcome unknown) before the call's deadline does.
            attempt_us = self.config.request_timeout_us * 11 // 10
            session = ClientSession(
                self.config,
                client_id,
                rng=self.world.streams.stream(client_name(client_id)),
                max_attempts=max(1, self.timeout_us // attempt_us),
                trace_events=self.world.trace.enabled,  # no trace: no TraceEvent objects built
            )
            node = ClientNode(client_id, session, self._resolve)
            self._clients[client_id] = node
            node.host = self.world.add_host(client_name(client_id), node)
        return node

    def _live_replicas(self) -> list[tuple[str, int, Any]]:
        """``(name, incarnation, replica)`` of every running replica (read-only: the list is
        cached until a host crashes or restarts; the invariant observers ask after every
        event)."""
        world = self.world
        cached = self._live_cache
        if cached is not None and cached[0] == world.lives_changed and cached[1] is world:
            return cached[2]
        hosts = world.hosts
        out = []
        for name in self.replica_names:
            host = hosts[name]
            if host.participant is not None:
                out.append((name, host.incarnation, host.participant))
        self._live_cache = (world.lives_changed, world, out)
        return out

    def _repro(self) -> str:
        return (
            f"seed={self.seed}, t={self.now_us}us; "
            f"replay the same calls on Cluster(seed={self.seed})"
        )

    # -- time ------------------------------------------------------------------------------

    @property
    def now_us(self) -> int:
        """Simulated time, in microseconds (an int; it starts at 0). O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.run(ms=2.5)
        >>> c.now_us
        2500
        """
        return self.world.now_us

    @property
    def now_ms(self) -> float:
        """Simulated time, in milliseconds (a float). O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.run(us=1_500)
        >>> c.now_ms
        1.5
        """
        return self.world.now_us / 1000

    def step(self) -> list[TraceRecord]:
        """Run the next event; returns the trace records it produced. O(1) + the event.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> [(r.kind, r.node) for r in c.step()]
        [('fresh_start', 'n0')]
        >>> c.now_us  # several events may share one instant
        0

        Raises ``InvalidArgument`` if the cluster is closed.
        """
        self._check_open()
        before = len(self.world.trace)
        self._mark("step", {})
        self._sim_depth += 1
        try:
            self.world.step()
        finally:
            self._sim_depth -= 1
        return self.world.trace.since(before)

    def run(
        self,
        ms: float | None = None,
        *,
        us: int | None = None,
        until: Callable[[Cluster], bool] | None = None,
        max_events: int = 10_000_000,
    ) -> int:
        """Advance simulated time by ``ms`` (or ``us``), or until ``until(cluster)`` holds.

        With no argument: until every submitted call has an outcome (each has
        a deadline, so this ends). Returns the number of events run. Cost:
        O(events run); ``max_events`` bounds it.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.run(ms=5)
        >>> c.now_us
        5000
        >>> c.crash("n0")
        >>> _ = c.run(until=lambda cluster: cluster.primary is not None)
        >>> c.primary
        'n1'

        Raises ``InvalidArgument`` / ``InvalidType`` for ``ms`` and ``us``
        together, a negative span or an ``until`` that is not callable.
        """
        self._check_open()
        if ms is not None and us is not None:
            raise InvalidArgument("give ms or us, not both")
        if us is not None:
            if isinstance(us, bool) or not isinstance(us, int):
                raise InvalidType(f"us must be an int, got {us!r}")
            if us < 0:
                raise InvalidArgument(f"us must be >= 0, got {us!r}")
            span: int | None = us
        elif ms is not None:
            span = _check_ms("ms", ms)
        else:
            span = None
        if until is not None and not callable(until):
            raise InvalidType(f"until must be a callable taking the cluster, got {until!r}")
        world = self.world
        self._mark("run", {"us": span} if span is not None else {})
        self._sim_depth += 1
        try:
            if span is None and until is None:
                return world.run(until=lambda: not self._pending_calls(), max_events=max_events)
            # (a partial, not a lambda: it calls until(self) with no Python frame of its own,
            # and run() asks it before every event)
            stop = None if until is None else functools.partial(until, self)
            end = None if span is None else world.now_us + span
            return world.run(end, until=stop, max_events=max_events)
        finally:
            self._sim_depth -= 1

    def at(self, ms: float, fn: Callable[..., Any], *args: Any) -> None:
        """Call ``fn(*args)`` when simulated time reaches ``ms`` milliseconds.

        The public way to script events inside a run (a trader that acts every few
        milliseconds, a crash at a chosen moment): ``fn`` runs between simulation events,
        may call any cluster method that does not itself advance time (``submit``,
        ``crash``, ``partition``...) and may schedule again with ``at``. It runs during a
        later :meth:`run`; a :meth:`fork` does not carry it over. O(log n).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> seen = []
        >>> c.at(5, lambda who: seen.append((who, c.now_ms)), "alice")
        >>> _ = c.run(ms=10)
        >>> seen
        [('alice', 5.0)]

        Raises ``InvalidArgument`` for a time in the past and ``InvalidType`` for an ``fn``
        that is not callable; nothing is scheduled then.
        """
        self._check_open()
        at_us = _check_ms("ms", ms)
        if at_us < self.world.now_us:
            raise InvalidArgument(
                f"ms must not be in the past: it is {ms!r}, simulated time is {self.now_ms} ms"
            )
        if not callable(fn):
            raise InvalidType(f"fn must be callable, got {fn!r}")
        self.world.schedule(at_us, lambda arguments: fn(*arguments), args)

    def _pending_calls(self) -> bool:
        return self._pending > 0

    # -- who is who ----------------------------------------------------------------------

    @property
    def primary(self) -> str | None:
        """The replica acting as primary in the highest view, or ``None``. O(nodes).

        A deposed primary cut off by a partition may still think it leads a
        lower view; this names the one in the highest view.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.primary
        'n0'
        >>> c.crash("n0")
        >>> print(c.primary)
        None
        >>> _ = c.run(ms=300)  # a backup times out and starts a view change
        >>> c.primary
        'n1'
        """
        best: tuple[int, str] | None = None
        for name, node in self.nodes.items():
            if node.is_primary:
                view = node.view or 0
                if best is None or view > best[0]:
                    best = (view, name)
        return None if best is None else best[1]

    @property
    def next_primary(self) -> str | None:
        """The replica that leads the view after :attr:`primary`'s (``(view + 1) mod n``): the
        one a view change makes primary next, or ``None`` when there is no primary. O(nodes).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.primary, c.next_primary
        ('n0', 'n1')
        """
        primary = self.primary
        if primary is None:
            return None
        view = self.nodes[primary].view or 0
        return self.replica_names[(view + 1) % len(self.replica_names)]

    @property
    def bystander(self) -> str | None:
        """The replica that leads the view two after :attr:`primary`'s (``(view + 2) mod n``):
        in a 3-node cluster the one that is neither primary nor :attr:`next_primary`. ``None``
        when there is no primary or a single replica. O(nodes).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.primary, c.next_primary, c.bystander
        ('n0', 'n1', 'n2')
        """
        primary = self.primary
        if primary is None or len(self.replica_names) < 3:
            return None
        view = self.nodes[primary].view or 0
        return self.replica_names[(view + 2) % len(self.replica_names)]

    @property
    def trace(self) -> Trace:
        """Every send, delivery, drop, sync, commit, view change, fault and client call.

        A :class:`~clobkit.sim.trace.Trace` of
        :class:`~clobkit.sim.trace.TraceRecord` (``time_us``, ``kind``,
        ``node``, ``peer``, ``message``, ``view``, ``op``...), oldest first;
        ``select`` filters it in O(records).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=2)
        >>> [(r.node, r.op) for r in c.trace.select("commit")]
        [('n0', 1), ('n1', 1), ('n2', 1)]
        """
        return self.world.trace

    @property
    def network(self) -> Network:
        """The simulated network (latency, loss, partitions, rules)."""
        return self.world.network

    # -- client calls ---------------------------------------------------------------------

    @journaled
    def submit(
        self, user: str, kind: str, /, *, timeout_ms: float | None = None, **args: Any
    ) -> Call:
        """Start a call without waiting; returns its :class:`~clobkit.sim.results.Call` handle.

        ``kind`` is a write (``"place"``, ``"cancel"``, ``"modify"``: keyword
        arguments as for :meth:`place`, :meth:`cancel`, :meth:`modify`) or a
        read (``"fills"``, ``"live_orders"``, ``"depth"``: keyword arguments
        as for those methods). The call is made by ``user``'s client session.
        Run the cluster (:meth:`run`) to make progress; the call gives up
        ``timeout_ms`` of simulated time after it started (outcome
        ``"unknown"``). Cost: O(1) now; the work happens as the cluster runs.

        Two clients in flight at once:

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> sell = c.submit("alice", "place", side="sell", price="100", qty=5)
        >>> buy = c.submit("bob", "place", side="buy", price="100", qty=5)
        >>> sell.outcome, buy.outcome
        ('pending', 'pending')
        >>> _ = c.run()  # until every call has an outcome
        >>> sell.outcome, sell.result.status, buy.result.status
        ('ok', 'resting', 'filled')

        Raises ``InvalidArgument`` / ``InvalidType`` for bad arguments (nothing
        is sent or recorded).
        """
        return self._start(user, kind, timeout_ms, args)

    def _submit(self, user: str, kind: str, kwargs: dict[str, Any]) -> Call:
        """``submit(user, kind, **kwargs)`` without the journal's wrapper (a workload makes
        every call through here): the same checks, the same call and the same journal entry.
        Takes ``kwargs`` over (it becomes the call's ``request``)."""
        outer = self._journal_depth == 0
        world = self.world
        time_us, events = world.now_us, world.events_processed
        items = tuple(kwargs.items())  # (what the journal records: the keywords as given)
        call = self._start(user, kind, kwargs.pop("timeout_ms", None), kwargs)
        if outer and not (self._sim_depth and self._fault_depth):
            # (the entry journaled() makes, as a tuple: see clobkit.sim.journal)
            entry = (time_us, events, "submit", (user, kind), items, self._sim_depth == 0)
            self._journal.append(_new_tuple(JournalEntry, entry))
        return call

    def _submit_write(self, user: str, kind: str, kwargs: dict[str, Any]) -> Call:
        """:meth:`_submit` in one frame for the writes a workload makes most: a plain limit
        order (keywords ``side``, ``price``, ``qty``, ``timeout_ms``; a ``Decimal`` price
        converted before, a whole quantity in a market whose lot is 1) or a cancel by
        ``order_id`` (keywords ``order_id``, ``timeout_ms``), by a user whose session exists
        and records no trace, made outside any journaled method. The same checks (a bad
        timeout, side or order id raises the same error, changing nothing), the same call,
        history record, journal entry, Request, retry timer and deadline; anything else goes
        through :meth:`_submit` (tests/sim/test_sim_submit_fast.py compares the two).
        Takes ``kwargs`` over (it becomes the call's ``request``). O(1)."""
        node = self._clients.get(user)
        if node is None or self._journal_depth or self._closed:
            return self._submit(user, kind, kwargs)
        session = node.session
        if session._trace_events or session.finished:
            return self._submit(user, kind, kwargs)
        symbol = self.market.symbol
        # (_start's checks and build_command's, in the order they raise, for these two)
        if kind == "place" and kwargs.keys() == _PLAIN_PLACE_KEYS:
            price = kwargs["price"]
            ticks = self._decimal_ticks.get(price) if type(price) is Decimal else None
            lots = kwargs["qty"]
            if ticks is None or not self._lot_is_one or type(lots) is not int:
                return self._submit(user, kind, kwargs)
            if not 0 < lots <= MAX_UNITS:
                return self._submit(user, kind, kwargs)
            timeout_ms = kwargs["timeout_ms"]
            timeout_us = (
                self.timeout_us if timeout_ms is None else _check_ms("timeout_ms", timeout_ms)
            )
            side = kwargs["side"]
            command: Any = Place(symbol, user, side, ticks, lots)
            hist_input: tuple[Any, ...] = (
                "place", symbol, user, side, ticks, lots, *_PLAIN_PLACE_TAIL
            )  # fmt: skip
        elif kind == "cancel" and kwargs.keys() == _PLAIN_CANCEL_KEYS:
            timeout_ms = kwargs["timeout_ms"]
            timeout_us = (
                self.timeout_us if timeout_ms is None else _check_ms("timeout_ms", timeout_ms)
            )
            order_id = kwargs["order_id"]
            command = Cancel(symbol, user, order_id, None)
            hist_input = ("cancel", symbol, user, order_id)
        else:
            return self._submit(user, kind, kwargs)
        payload = encode_command(command)
        # -- everything checked: from here on, state changes ---------------------------
        world = self.world
        now = world.now_us
        items = tuple(kwargs.items())  # (what the journal records: the keywords as given)
        del kwargs["timeout_ms"]
        # (self.history.invoke(user, hist_input, now), inline)
        history = self.history
        records = history._records
        index = len(records)
        records.append(_new_tuple(HistoryRecord, (index, user, hist_input, now, "pending",
                                                  None, None, None)))  # fmt: skip
        history._changes += 1
        host = node.host
        assert host.status != "crashed", f"{host.name} is down"
        handle, request, wake = session.submit_quiet(payload, now)
        call = Call(
            kind, user, hist_input, now, now + timeout_us, index,
            "pending", None, None, None, handle, payload, kwargs,
        )  # fmt: skip
        self._calls.append(call)
        self._pending += 1
        node.pending[handle] = call
        # (host.apply(step) of submit()'s Step, as in _start)
        assert not host.outbox
        if request is not None:
            world.send(request)
        if wake is not None:
            host.set_timer(wake)
        self._queue_deadline(call, now)
        # (the journal entry _submit makes, the time and event count taken before the call)
        if not (self._sim_depth and self._fault_depth):
            entry = (now, world.events_processed, "submit", (user, kind), items,
                     self._sim_depth == 0)  # fmt: skip
            self._journal.append(_new_tuple(JournalEntry, entry))
        return call

    def _start(self, user: str, kind: str, timeout_ms: float | None, args: dict[str, Any]) -> Call:
        """The body of :meth:`submit` (``args`` becomes the call's ``request``). O(1)."""
        if self._closed:  # (self._check_open(), inline: every call comes here)
            raise InvalidArgument("this cluster is closed")
        # A user with a client session was checked when the session was made.
        node = self._clients.get(user) if type(user) is str else None
        if node is None:
            check_user(user)
        if kind not in WRITE_KINDS and kind not in READ_KINDS:
            raise InvalidArgument(f"kind must be one of {WRITE_KINDS + READ_KINDS}, got {kind!r}")
        timeout_us = self.timeout_us if timeout_ms is None else _check_ms("timeout_ms", timeout_ms)
        allowed = CALL_ARGUMENTS[kind]
        if not allowed.issuperset(args):
            extra = sorted(set(args) - allowed)
            raise InvalidArgument(f"{kind} takes no argument(s) {', '.join(extra)}")
        write = kind in WRITE_KINDS
        if write:
            command, hist_input = build_command(self.market, kind, user, args, self._decimal_ticks)
            payload = encode_command(command)
        else:
            query, hist_input = build_query(self.market.symbol, kind, args)
            payload = b""
        # -- everything checked: from here on, state changes ---------------------------
        if node is None:
            node = self._client(user)
        world = self.world
        now = world.now_us
        index = self.history.invoke(user, hist_input, now)
        # (host.call(lambda t: ...), spelled out: the session starts the call, its host sends)
        host = node.host
        assert host.status != "crashed", f"{host.name} is down"
        session = node.session
        step: Step | None = None
        if not write:
            handle, step = session.read(query, now)
        elif session._trace_events:
            handle, step = session.submit(payload, now)
        else:
            handle, request, wake = session.submit_quiet(payload, now)
        call = Call(
            kind, user, hist_input, now, now + timeout_us, index,
            "pending", None, None, None, handle, payload, args,
        )  # fmt: skip
        self._calls.append(call)
        self._pending += 1
        node.pending[handle] = call
        if step is not None:
            host.apply(step)
        else:
            # (host.apply(step) of the Step submit() would return: its Request, its timer; a
            # client's host never has an outbox, which only a sync's delay fills)
            assert not host.outbox
            if request is not None:
                world.send(request)
            if wake is not None:
                host.set_timer(wake)
        if session.finished:  # (never after a submit, unless a callback raised before)
            self._journal_depth += 1  # (what submit's journal wrapper did around this)
            try:
                node.poll(now)
            finally:
                self._journal_depth -= 1
        self._queue_deadline(call, now)
        return call

    def _queue_deadline(self, call: Call, now: int) -> None:
        """``world.schedule(call.deadline_us, self._expire, call)``, made lazy: the deadline
        takes its sequence number now, so it comes due at the place an eager event would, but
        an event is pushed only when no queued deadline event comes due first (see
        :meth:`_deadline_due`). Most calls end long before their deadline: no heap event for
        them. O(log n)."""
        world = self.world
        world._seq += 1
        at_us = call.deadline_us
        place = (at_us if at_us > now else now, world._seq)
        heappush(self._deadlines, (place[0], place[1], call))
        queued = self._deadlines_queued
        if not queued or place < queued[-1]:
            queued.append(place)
            heappush(world._heap, (place[0], place[1], self._deadline_due, place))

    def _deadline_due(self, place: tuple[int, int]) -> None:
        """A queued deadline event came due at ``place`` (time, seq): expire the call whose
        deadline it is, if that call is still pending, then queue the place of the next
        pending call's deadline (unless a queued event already comes due no later). The calls
        expired, and when, are exactly those of one eager event per call that does nothing
        for a call already finished. O(log n) per call that finished before its deadline."""
        queued = self._deadlines_queued
        assert queued and queued[-1] == place, "deadline events come due in order"
        queued.pop()
        deadlines = self._deadlines
        try:
            while deadlines and deadlines[0][2].outcome != "pending":
                heappop(deadlines)
            if deadlines and deadlines[0][0] == place[0] and deadlines[0][1] == place[1]:
                self._expire(heappop(deadlines)[2])
        finally:
            # (also when a callback of the expired call raised: the others stay covered)
            while deadlines and deadlines[0][2].outcome != "pending":
                heappop(deadlines)
            if deadlines:
                head = (deadlines[0][0], deadlines[0][1])
                assert head > place, "a pending deadline was passed over"
                if not queued or head < queued[-1]:
                    queued.append(head)
                    heappush(self.world._heap, (head[0], head[1], self._deadline_due, head))

    def _resolve(self, call: Call, outcome: Outcome, now: int) -> None:
        """The client session finished ``call`` with ``outcome``."""
        if call.outcome != "pending":
            return
        status: str = outcome.status
        if status == "ok" and call.kind in WRITE_KINDS:
            # What settle() and _finish() do for a committed write, in one frame (every
            # write comes here); the history's output is converted when it is read.
            op = outcome.op
            if type(op) is not int:  # (a reply's op is an int: settle() reads it so)
                op = int(op or 0)
            result = decode_result(outcome.value)
            call.error = None if result.accepted else rejection(result)
            self.monitor.acknowledge(call.client_id, call.history_index, call.payload, op, now)
            self._pending -= 1
            call.outcome = "ok"
            call.value = CommandResult(result, op, self.market)
            call.return_us = now
            # (self.history.complete(index, "ok", result, now, op, write_output), inline: its
            # record, the output converted when the history is next read)
            history = self.history
            index = call.history_index
            rec = history._records[index]
            assert rec.outcome == "pending" and now >= rec.call_us, rec
            history._unconverted.append((index, write_output))
            history._records[index] = _new_tuple(
                HistoryRecord, (index, rec.client_id, rec.input, rec.call_us, "ok", result, now, op)
            )
            history._changes += 1
            for callback in call.on_done:
                callback(call)
            return
        if status == "unknown":
            self._give_up(call, f"the client gave up after {outcome.attempts} attempts")
            return
        status, value, output, op, call.error = settle(call, outcome, self.market)
        if status == "ok" and call.kind in WRITE_KINDS:
            assert op is not None
            self.monitor.acknowledge(call.client_id, call.history_index, call.payload, op, now)
        self._finish(call, status, value, output, now, outcome.op)

    def _finish(
        self, call: Call, outcome: str, value: Any, output: Any, now: int, hint: int | None = None
    ) -> None:
        assert call.outcome == "pending"
        self._pending -= 1
        call.outcome = outcome
        call.value = value
        call.return_us = now
        self.history.complete(call.history_index, outcome, output, now, hint)
        for callback in call.on_done:
            callback(call)

    def _expire(self, call: Call) -> None:
        """The call's deadline passed without an outcome: the client gives up."""
        if call.outcome == "pending":
            self._clients[call.client_id].pending.pop(call.handle, None)
            self._give_up(call, "its deadline passed")

    def _give_up(self, call: Call, cause: str) -> None:
        why = self.diagnose(client_name(call.client_id))
        waited = (self.world.now_us - call.call_us) / 1000
        if call.kind in WRITE_KINDS:
            call.error = OutcomeUnknown(
                f"outcome unknown: {call.kind} by {call.client_id} got no reply within "
                f"{waited:g} ms of simulated time ({cause}), so it may or may not have been "
                f"applied; {why}"
            )
        else:
            call.error = Unavailable(
                f"{call.kind} by {call.client_id} got no answer within {waited:g} ms of "
                f"simulated time ({cause}); {why}"
            )
        self.world.record(
            "client_timeout", client_name(call.client_id), detail={"call": call.history_index}
        )
        self._finish(call, "unknown", None, None, self.world.now_us)

    def diagnose(self, client: str | None = None) -> str:
        """Why the cluster may not answer: who is down, paused or cut off.

        ``client`` (``"client:alice"``) also names the replicas that client
        cannot reach. Cost: O(2 ** nodes) (the largest connected group). See
        :mod:`clobkit.sim.diagnosis`.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.diagnose()
        'a majority can still talk (n0, n1, n2), ...: every replica is up and connected; ...'
        """
        return diagnosis.diagnose(self, client)

    def _wait(self, call: Call) -> Any:
        self._sim_depth += 1
        try:
            self.world.run(until=lambda: call.outcome != "pending")
        finally:
            self._sim_depth -= 1
        assert call.outcome != "pending", "every call has a deadline event"
        return call.result

    def place(
        self,
        user: str,
        side: str,
        price: object = None,
        qty: object = None,
        **options: Any,
    ) -> CommandResult:
        """Place an order (price units, e.g. ``price="100.50"``) and wait until it is committed.

        Options as for :meth:`clobkit.book.OrderBook.place` (``order_type``,
        ``tif``, ``post_only``, ``client_order_id``, ``order_id``, ``stp``,
        ``protection_price``).
        Returns a :class:`~clobkit.sim.results.CommandResult` (fills, status,
        order id, the log op). Raises ``InvalidArgument`` for bad input
        (nothing sent), the book's rejection error (``OrderRejected`` and
        subclasses; the rejected command was committed and changed nothing),
        or ``OutcomeUnknown`` when no reply came in time. Cost: one replication
        round (a few simulated ms) plus the book's O(log n) per price level
        touched.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> r = c.place("alice", "sell", price="100.50", qty=10)
        >>> r.status, r.order_id, r.op, r.resting_qty
        ('resting', 1, 1, 10)
        >>> c.place("bob", "buy", price="100.50", qty=2, post_only=True)
        Traceback (most recent call last):
        ...
        clobkit.errors.OrderRejected: would_take: a post-only order would have traded ...
        >>> c.crash("n1"); c.crash("n2")
        >>> c.place("bob", "buy", price="99", qty=1)
        Traceback (most recent call last):
        ...
        clobkit.errors.OutcomeUnknown: outcome unknown: place by bob got no reply ...
        """
        call = self.submit(user, "place", side=side, price=price, qty=qty, **options)
        return self._wait(call)  # type: ignore[no-any-return]

    def cancel(
        self, user: str, order_id: int | None = None, *, client_order_id: str | None = None
    ) -> CommandResult:
        """Cancel ``user``'s order (by ``order_id`` or ``client_order_id``) and wait until
        committed (see :meth:`place`).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> oid = c.place("alice", "buy", price="99", qty=3).order_id
        >>> c.cancel("alice", oid).status
        'cancelled'
        >>> c.cancel("alice", oid)
        Traceback (most recent call last):
        ...
        clobkit.errors.UnknownOrder: unknown_order: no live order has this order id ...

        Raises as :meth:`place` does; ``UnknownOrder`` / ``NotOwner`` for an
        order that is gone or someone else's (the rejection still uses an op).
        """
        ids = _order_ids(order_id, client_order_id)
        return self._wait(self.submit(user, "cancel", **ids))  # type: ignore[no-any-return]

    def modify(
        self,
        user: str,
        order_id: int | None = None,
        *,
        price: object = None,
        qty: object = None,
        client_order_id: str | None = None,
    ) -> CommandResult:
        """Change an order's price and/or open quantity and wait until committed.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> oid = c.place("alice", "sell", price="100.50", qty=10).order_id
        >>> r = c.modify("alice", oid, qty=4)
        >>> r.status, r.order_id, r.resting_qty
        ('modified', 1, 4)
        >>> [(o.price, o.qty) for o in c.live_orders()]
        [(Decimal('100.50'), 4)]

        Raises as :meth:`place` does; ``UnknownOrder`` / ``NotOwner`` as for
        :meth:`cancel`.
        """
        ids = _order_ids(order_id, client_order_id)
        call = self.submit(user, "modify", **ids, price=price, qty=qty)
        return self._wait(call)  # type: ignore[no-any-return]

    def fills(self, user: str | None = None, *, client: str = _READ_CLIENT) -> list[Fill]:
        """Every fill (or ``user``'s), read through the read path (``read_mode``).

        Each row is a :class:`~clobkit.sim.results.FillReport` in market units:
        ``price`` the exact ``Decimal``, ``qty`` in units; ``price_ticks`` and
        ``qty_lots`` hold the book's values. Cost: one read round plus O(fills).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="100.50", qty=10)
        >>> _ = c.place("bob", "buy", price="101", qty=4)
        >>> c.fills()
        [FillReport(fill_id=0, seq=2, price=100.50, qty=4, maker=alice, taker=bob, aggressor=buy)]
        >>> [(f.maker_user, f.taker_user, f.price, f.price_ticks, f.qty) for f in c.fills()]
        [('alice', 'bob', Decimal('100.50'), 10050, 4)]
        >>> c.fills("carol")
        []

        Raises ``Unavailable`` when no answer comes in time (no majority).
        """
        return self._wait(self.submit(client, "fills", user=user))  # type: ignore[no-any-return]

    def live_orders(self, user: str | None = None, *, client: str = _READ_CLIENT) -> list[Order]:
        """Live orders (or ``user``'s) in price-time order, read through the read path.

        Bids (best first), then asks; each row a
        :class:`~clobkit.sim.results.LiveOrder` in market units (``price`` an exact
        ``Decimal``; ``price_ticks``, ``qty_lots`` hold the book's values). Cost: one read
        round plus O(orders).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="101", qty=3)
        >>> _ = c.place("bob", "buy", price="99", qty=2)
        >>> [(o.user, o.side, str(o.price), o.qty) for o in c.live_orders()]
        [('bob', 'buy', '99.00', 2), ('alice', 'sell', '101.00', 3)]

        Raises ``Unavailable`` when no answer comes in time (no majority).
        """
        return self._wait(self.submit(client, "live_orders", user=user))  # type: ignore[no-any-return]

    def depth(self, levels: int = 10, *, client: str = _READ_CLIENT) -> Any:
        """Book depth (``levels`` per side), read through the read path.

        ``{"bids": [...], "asks": [...]}``, best first, each row a
        :class:`~clobkit.sim.results.PriceLevel` ``(price, qty, order_count,
        price_ticks, qty_lots)`` with the exact ``Decimal`` price. Cost: one read
        round plus O(levels).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="101", qty=3)
        >>> _ = c.place("bob", "buy", price="99", qty=2)
        >>> _ = c.place("carol", "buy", price="99", qty=5)
        >>> book = c.depth()
        >>> book["bids"]
        [PriceLevel(price=99.00, qty=7, order_count=2)]
        >>> book["asks"]
        [PriceLevel(price=101.00, qty=3, order_count=1)]
        >>> c.depth()["bids"][0].price_ticks
        9900

        Raises ``InvalidArgument`` unless ``levels`` is an int >= 1,
        ``Unavailable`` when no answer comes in time.
        """
        return self._wait(self.submit(client, "depth", levels=levels))

    def fills_df(self, user: str | None = None) -> pd.DataFrame:
        """:meth:`fills` as a DataFrame, in price and quantity units.

        Columns and dtypes: :data:`clobkit.book.frames.FILL_COLUMNS`
        (``price`` float64 in price units beside the exact ``price_ticks``; ``qty``
        whole lots, int64).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="100.50", qty=10)
        >>> _ = c.place("bob", "buy", price="101", qty=4)
        >>> c.fills_df()[["price", "price_ticks", "qty", "maker_user"]].values.tolist()
        [[100.5, 10050, 4, 'alice']]

        Raises as :meth:`fills` does.
        """
        return fills_frame(self.fills(user), self.market)

    def live_orders_df(self, user: str | None = None) -> pd.DataFrame:
        """:meth:`live_orders` as a DataFrame, in price-time order (bids first).

        Columns and dtypes: :data:`clobkit.book.frames.LIVE_ORDER_COLUMNS`
        (``price`` float64 in price units beside the exact ``price_ticks``; ``qty``
        whole lots, int64).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="101", qty=3)
        >>> c.live_orders_df()[["user", "side", "price", "qty"]].values.tolist()
        [['alice', 'sell', 101.0, 3]]

        Raises as :meth:`live_orders` does.
        """
        return orders_frame(self.live_orders(user), self.market)

    @property
    def calls(self) -> list[Call]:
        """Every call made so far (a copy), oldest first: writes, reads, given-up ones.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> _ = c.fills()
        >>> [(call.client_id, call.kind, call.outcome) for call in c.calls]
        [('alice', 'place', 'ok'), ('reader', 'fills', 'ok')]
        """
        return list(self._calls)

    # -- faults -------------------------------------------------------------------------

    def _replica_name(self, node: object) -> str:
        if not isinstance(node, str):
            raise InvalidType(f"node must be a replica name like 'n0', got {node!r}")
        if node not in self.nodes:
            raise InvalidArgument(
                f"node must be one of {', '.join(self.replica_names)}, got {node!r}"
            )
        return node

    def _any_name(self, node: object) -> str:
        if isinstance(node, str) and (node in self.world.hosts or is_client_name(node)):
            return node
        return self._replica_name(node)

    @journaled
    def crash(self, node: str | None, torn: bool | int = False) -> None:
        """Crash ``node``: unsynced log bytes are lost (``torn``: keep a torn prefix of them).

        ``torn=True`` keeps a seeded random number of bytes, an int that many.
        Crashing a crashed node does nothing. ``c.crash(c.primary)`` is allowed
        only while there is a primary. O(1) (plus the store's crash: O(unsynced bytes)).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.crash(c.primary)
        >>> c.nodes["n0"].status, c.primary
        ('crashed', None)
        >>> _ = c.run(ms=300)  # the backups time out and elect n1
        >>> c.primary
        'n1'

        Raises ``InvalidArgument`` for an unknown node, ``None`` (no primary)
        or a bad ``torn``.
        """
        self._check_open()
        if node is None:
            raise InvalidArgument("node must be a replica name, got None (is there a primary?)")
        name = self._replica_name(node)
        if isinstance(torn, bool):
            torn_bytes = self.world.streams.stream("faults").randint(1, 64) if torn else None
        elif isinstance(torn, int) and torn >= 0:
            torn_bytes = torn
        else:
            raise InvalidArgument(f"torn must be a bool or an int >= 0, got {torn!r}")
        host = self.world.hosts[name]
        if host.status == "crashed":
            return
        host.crash()
        store = self._storage.stores[name]
        store.crash(torn_bytes)
        self.world.record("crash", name, detail={"torn_bytes": torn_bytes} if torn_bytes else None)

    @journaled
    def restart(self, node: str) -> None:
        """Restart a crashed ``node`` from its disk (recovery runs); a running one crashes first.

        Cost: recovery reads the node's log, O(log length).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.crash("n0")
        >>> _ = c.run(ms=300)
        >>> c.restart("n0")
        >>> _ = c.run(ms=100)  # it learns of view 1 and rejoins as a backup
        >>> row = c.node_rows()[0]
        >>> row["role"], row["view"], c.primary
        ('backup', 1, 'n1')

        Raises ``InvalidArgument`` for an unknown node.
        """
        self._check_open()
        name = self._replica_name(node)
        host = self.world.hosts[name]
        if host.status != "crashed":
            self.crash(name)
        index = self.replica_names.index(name)
        try:
            store = self._open_store(name, index, fresh=False)
        except (OSError, StorageError) as exc:
            # The disk cannot even be opened (permissions, a failing drive): the replica stays
            # down and the trace says why; the cluster carries on without it.
            self._disk_error(name, exc)
            return
        report = store.wal.recovery
        self.world.record(
            "restart",
            name,
            detail={
                "records": report.records_ok,
                "torn_tail": report.torn_tail,
                "bytes_truncated": report.bytes_truncated,
            },
        )
        self._lives[name] += 1
        # A replaced disk that crashed before the learner wrote anything is still empty: it
        # must come back as a learner, never as a fresh voter (that would count an empty
        # replica in a quorum, scenario S7).
        learner = self._storage.generation[name] > 0 and store.load_metadata() is None
        host.restart(self._new_replica(index, store, learner=learner), wake_at_us=self.now_us)

    @journaled
    def bounce(
        self, node: str, down_ms: float = 0.0, lose: Iterable[str] = (), corrupt: bool = False
    ) -> None:
        """Crash ``node`` now (losing its unsynced bytes) and restart it ``down_ms`` later.

        With ``down_ms`` below the view-change timeout a bounced primary is back before
        the backups could replace it, and must not trust what it knew before: its Prepares
        left before its own sync, so its disk may lack an op it sent. It gives its view up
        and asks for the next one, which the backups grant once they miss its heartbeats.
        ``lose`` names files deleted while it is down (as :meth:`lose_file`): it restarts
        damaged and must relearn its state before it votes. ``corrupt`` first flips a bit
        in a seeded random synced record in the middle of its WAL (media corruption, as
        :meth:`disk_fault`; ``storage="memory"`` only, a file store keeps its bytes): it
        restarts with a corrupt record to repair from its peers. O(1) now.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.bounce("n0", down_ms=5)
        >>> _ = c.run(ms=300)
        >>> c.primary, c.nodes["n0"].view, len(c.live_orders())
        ('n1', 1, 1)

        >>> c.bounce("n0", down_ms=5, lose=("meta",))
        >>> c.node_rows()[0]["host"]
        'crashed'

        Raises ``InvalidArgument`` for an unknown node, a negative ``down_ms`` or a file
        name ``lose_file`` does not take (nothing changes).
        """
        self._check_open()
        name = self._replica_name(node)
        down_us = _check_ms("down_ms", down_ms)
        if down_us < 0:
            raise InvalidArgument(f"down_ms must be >= 0, got {down_ms!r}")
        if isinstance(lose, str):
            raise InvalidType(f"lose must be a collection of file names, not a str: {lose!r}")
        lost = tuple(lose)
        bad = [f for f in lost if f not in LOSABLE_FILES]
        if bad:
            raise InvalidArgument(f"lose must hold names from {LOSABLE_FILES}, got {bad!r}")
        if not isinstance(corrupt, bool):
            raise InvalidType(f"corrupt must be a bool, got {corrupt!r}")
        wal = self._storage.stores[name].wal
        up = self.world.hosts[name].status != "crashed"
        if corrupt and up and self.storage == "memory" and wal.synced_op > wal.first_op:
            # a record with a synced one after it: the middle of the log, never a torn tail
            op = self.world.streams.stream("faults").randint(wal.first_op, wal.synced_op - 1)
            self.disk_fault(name, "bit_flip", op=op)
        self.crash(name)
        for file in lost:
            self.lose_file(name, file)
        self.world.schedule(self.world.now_us + down_us, self._restart_if_down, name)

    def _restart_if_down(self, name: str) -> None:
        if self.world.hosts[name].status == "crashed" and not self._closed:
            self._fault_depth += 1
            try:
                self.restart(name)
            finally:
                self._fault_depth -= 1

    @journaled
    def replace(self, node: str) -> None:
        """Replace ``node``'s disk with an empty one; it rejoins as a learner and catches up.

        A learner does not vote until it holds the log (an empty replica in a
        quorum could lose committed writes, scenario S7).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.replace("n2")
        >>> [c.node_rows()[2][k] for k in ("role", "op_number")]
        ['learner', 0]
        >>> _ = c.run(ms=200)
        >>> [c.node_rows()[2][k] for k in ("role", "op_number")]
        ['backup', 1]

        Raises ``InvalidArgument`` for an unknown node.
        """
        self._check_open()
        name = self._replica_name(node)
        host = self.world.hosts[name]
        if host.status != "crashed":
            self.crash(name)
        index = self.replica_names.index(name)
        self._storage.generation[name] += 1
        store = self._open_store(name, index, fresh=True)
        self.world.record("replace", name, detail={"generation": self._storage.generation[name]})
        host.restart(self._new_replica(index, store, learner=True), wake_at_us=self.now_us)

    @journaled
    def pause(self, node: str) -> None:
        """Stall ``node`` (a long GC pause): it queues messages and misses timers until resumed.

        Pausing a node that is not up does nothing. O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.pause("n1")
        >>> c.place("alice", "buy", price="99", qty=1).op  # n0 + n2 are a majority
        1
        >>> c.nodes["n1"].status, c.node_rows()[1]["op_number"]
        ('paused', 0)

        Raises ``InvalidArgument`` for an unknown node.
        """
        self._check_open()
        name = self._replica_name(node)
        host = self.world.hosts[name]
        if host.status == "up":
            host.pause()
            self.world.record("pause", name)

    @journaled
    def resume(self, node: str) -> None:
        """Let a paused ``node`` run again; it handles what queued up meanwhile. O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.pause("n1")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.resume("n1")
        >>> _ = c.run(ms=50)
        >>> c.nodes["n1"].status, c.node_rows()[1]["op_number"]
        ('normal', 1)

        Raises ``InvalidArgument`` for an unknown node.
        """
        self._check_open()
        name = self._replica_name(node)
        host = self.world.hosts[name]
        if host.status == "paused":
            host.resume()
            self.world.record("resume", name)

    @journaled
    def partition(self, *groups: Iterable[str]) -> None:
        """Cut the network between ``groups`` (sets of node names); unnamed nodes reach all.

        ``c.partition({"n0"}, {"n1", "n2"})``. Clients (``"client:alice"``)
        may be named too. Earlier cuts stay until :meth:`heal`.

        The majority side elects a new primary; the old one, cut off, still
        thinks it leads view 0 (but can commit nothing):

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.partition({"n0"}, {"n1", "n2"})
        >>> _ = c.run(ms=300)
        >>> [(r["node"], r["role"], r["view"]) for r in c.node_rows()]
        [('n0', 'primary', 0), ('n1', 'primary', 1), ('n2', 'backup', 1)]
        >>> c.primary
        'n1'

        Raises ``InvalidArgument`` / ``InvalidType`` for fewer than two
        groups, an empty group, a node in two groups or an unknown name.
        """
        self._check_open()
        if len(groups) < 2:
            raise InvalidArgument(f"partition needs at least two groups, got {len(groups)}")
        checked: list[list[str]] = []
        seen: set[str] = set()
        for group in groups:
            if isinstance(group, str) or not isinstance(group, Iterable):
                raise InvalidType(f"each group must be a set of node names, got {group!r}")
            names = sorted({self._any_name(n) for n in group})
            if not names:
                raise InvalidArgument("a partition group must not be empty")
            if seen & set(names):
                raise InvalidArgument(f"node(s) {sorted(seen & set(names))} are in two groups")
            seen |= set(names)
            checked.append(names)
        self.world.network.partition(checked)
        self.world.record("partition", "", detail={"groups": checked})

    @journaled
    def isolate(self, node: str) -> None:
        """Cut ``node`` off from every other node and client, both ways, until :meth:`heal`.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.isolate("n0")
        >>> _ = c.run(ms=300)
        >>> c.primary
        'n1'
        >>> c.diagnose()
        'a majority can still talk (n1, n2), ...: n0 cut off from the others by a partition; ...'

        Raises ``InvalidArgument`` for an unknown name.
        """
        self._check_open()
        name = self._any_name(node)
        self.world.network.isolate(name)
        self.world.record("isolate", name)

    @journaled
    def block(self, source: str, target: str) -> None:
        """Cut the one-way link ``source -> target`` until :meth:`heal`.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.block("n0", "n2")  # n2 hears nothing from the primary
        >>> _ = c.place("alice", "buy", price="99", qty=1)  # n0 + n1 commit it
        >>> [r["op_number"] for r in c.node_rows()]
        [1, 1, 0]

        Raises ``InvalidArgument`` for an unknown name or ``source == target``.
        """
        self._check_open()
        a, b = self._any_name(source), self._any_name(target)
        if a == b:
            raise InvalidArgument(f"source and target must differ, got {a!r} twice")
        self.world.network.block(a, b)
        self.world.record("block", a, peer=b)

    @journaled
    def heal(self) -> None:
        """Restore every cut link (partitions, isolations, blocks). O(cuts).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.block("n0", "n2")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.heal()
        >>> _ = c.run(ms=50)  # the next heartbeat tells n2 what it missed
        >>> [r["op_number"] for r in c.node_rows()]
        [1, 1, 1]
        """
        self._check_open()
        self.world.network.heal()
        self.world.record("heal", "")

    @journaled
    def set_loss(self, loss: float) -> None:
        """Drop each message with probability ``loss`` (seeded; clients retry). O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.set_loss(0.3)
        >>> c.place("alice", "buy", price="99", qty=1).status  # slower, still committed
        'resting'
        >>> len(c.trace.select("drop")) > 0
        True

        Raises ``InvalidArgument`` unless ``0 <= loss <= 1``.
        """
        self._check_open()
        self.world.network.set_loss(loss)
        self.world.record("set_loss", "", detail={"loss": float(loss)})

    @journaled
    def set_duplicate(self, duplicate: float) -> None:
        """Deliver a message twice with probability ``duplicate`` (seeded). O(1).

        Duplicates do not duplicate orders: the replicas' client table
        answers a repeated request from its cache.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.set_duplicate(0.5)
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> len(c.live_orders())
        1

        Raises ``InvalidArgument`` unless ``0 <= duplicate <= 1``.
        """
        self._check_open()
        self.world.network.set_duplicate(duplicate)
        self.world.record("set_duplicate", "", detail={"duplicate": float(duplicate)})

    @journaled
    def set_latency(
        self, latency_us_min: int, latency_us_max: int | None = None, distribution: str = "uniform"
    ) -> None:
        """Change every link's one-way latency (µs). O(1).

        ``latency_us_max`` defaults to the minimum (a fixed latency);
        ``distribution`` as for :class:`~clobkit.sim.network.Latency`.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> start = c.now_us; _ = c.place("alice", "buy", price="99", qty=1)
        >>> fast = c.now_us - start
        >>> c.set_latency(10_000)  # 10 ms each way
        >>> start = c.now_us; _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.now_us - start > 3 * fast
        True

        Raises ``InvalidArgument`` for a negative or inverted range or an
        unknown distribution.
        """
        self._check_open()
        lat = Latency(distribution, latency_us_min, latency_us_max)  # type: ignore[arg-type]
        self.world.network.latency = lat
        self.world.record("set_latency", "", detail={"min": lat.latency_us_min, "max": lat.high_us})

    @journaled
    def set_link_latency(
        self,
        source: str,
        target: str,
        latency_us_min: int,
        latency_us_max: int | None = None,
        distribution: str = "uniform",
    ) -> None:
        """Give the one-way link ``source -> target`` its own latency (µs). O(1).

        One slow backup does not slow commits: the primary needs only a
        majority, and ``n0 + n2`` answer first.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.set_link_latency("n0", "n1", 50_000)
        >>> start = c.now_us; _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.now_us - start < 50_000
        True

        Raises ``InvalidArgument`` for an unknown name or a bad latency.
        """
        self._check_open()
        a, b = self._any_name(source), self._any_name(target)
        lat = Latency(distribution, latency_us_min, latency_us_max)  # type: ignore[arg-type]
        self.world.network.set_link(a, b, lat)
        self.world.record(
            "set_latency", a, peer=b, detail={"min": lat.latency_us_min, "max": lat.high_us}
        )

    @journaled
    def drop_next(
        self,
        kind: str | None = None,
        *,
        source: str | None = None,
        target: str | None = None,
        count: int = 1,
        op: int | None = None,
    ) -> Rule:
        """Drop the next ``count`` messages matching (kind, source, target, op).

        ``c.drop_next("Prepare", source="n0", target="n2")``. Returns the rule
        (its ``fired`` counts how many it dropped). ``None`` matches anything.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> rule = c.drop_next("Prepare", source="n0", target="n2")
        >>> c.place("alice", "buy", price="99", qty=1).op  # n0 + n1 still commit it
        1
        >>> rule.fired, rule.name
        (1, 'drop Prepare n0->n2')

        Raises ``InvalidArgument`` for an unknown message kind or node, a
        ``count`` below 1 or a bad ``op``.
        """
        self._check_open()
        _check_rule_args(kind, count, op)
        source = None if source is None else self._any_name(source)
        target = None if target is None else self._any_name(target)
        name = f"drop {kind or 'any'} {source or '*'}->{target or '*'}"
        return self.world.network.add_rule(
            Rule(name, matching(kind, source=source, target=target, op=op), count=count)
        )

    @journaled
    def delay_next(
        self,
        kind: str | None = None,
        *,
        delay_ms: float,
        source: str | None = None,
        target: str | None = None,
        count: int = 1,
        op: int | None = None,
    ) -> Rule:
        """Delay the next ``count`` matching messages by ``delay_ms`` extra.

        Returns the rule (``fired`` counts the messages it delayed).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> rule = c.delay_next("PrepareOk", delay_ms=50, source="n1")
        >>> start = c.now_us; _ = c.place("alice", "buy", price="99", qty=1)
        >>> rule.fired, c.now_us - start < 50_000  # n2's PrepareOk made the majority
        (1, True)

        Raises ``InvalidArgument`` as :meth:`drop_next` does, or for a
        negative ``delay_ms``.
        """
        self._check_open()
        delay_us = _check_ms("delay_ms", delay_ms)
        _check_rule_args(kind, count, op)
        source = None if source is None else self._any_name(source)
        target = None if target is None else self._any_name(target)
        name = f"delay {kind or 'any'} {source or '*'}->{target or '*'}"
        return self.world.network.add_rule(
            Rule(
                name,
                matching(kind, source=source, target=target, op=op),
                action="delay",
                delay_us=delay_us,
                count=count,
            )
        )

    @journaled
    def disk_fault(self, node: str, kind: str, *, op: int | None = None) -> dict[str, Any]:
        """Inject a disk fault into ``node``'s simulated WAL (``storage="memory"`` only).

        ``kind``: ``"bit_flip"`` (media corruption of ``op``'s record, or of a
        seeded random bit when ``op`` is None), ``"lost_write"`` (the next
        fsync claims success but drops the data), ``"misdirected_write"``
        (the next write lands on ``op``'s record instead), ``"read_error"``
        (reads of ``op``'s record fail). Torn writes come from
        ``crash(node, torn=...)``. The effect shows when the replica reads
        its disk (after a restart, recovery finds the bad record and asks
        its peers for a good copy). Returns what was done.

        Raises ``InvalidArgument`` for file storage, an unknown kind or an op
        not on that disk (nothing changes).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.disk_fault("n2", "bit_flip", op=1)["kind"]
        'bit_flip'
        >>> c.restart("n2")  # recovery finds the bad record and fetches a good copy
        >>> _ = c.run(ms=50)
        >>> [r.kind for r in c.trace.select(node="n2") if r.kind in ("recover", "repaired")]
        ['recover', 'repaired']
        """
        self._check_open()
        name = self._replica_name(node)
        kinds = ("bit_flip", "lost_write", "misdirected_write", "read_error")
        if kind not in kinds:
            raise InvalidArgument(f"kind must be one of {kinds}, got {kind!r}")
        if self.storage != "memory":
            raise InvalidArgument("disk faults need storage='memory' (a simulated disk)")
        disk = self._storage.disks[name]
        wal_file = WAL_FILE
        offset: int | None = None
        if op is not None:
            store = self._storage.stores[name]
            if isinstance(op, bool) or not isinstance(op, int):
                raise InvalidType(f"op must be an int, got {op!r}")
            if not store.wal.first_op <= op <= store.wal.last_op:
                raise InvalidArgument(f"op {op} is not in {name}'s log")
            span = record_span(disk, store.wal.get(op).payload)
            if span is None:
                raise InvalidArgument(f"op {op} is not written to {name}'s disk yet")
            offset, end = span
            length = end - offset
        elif kind in ("misdirected_write", "read_error"):
            raise InvalidArgument(f"{kind} needs op=")
        done: dict[str, Any] = {"kind": kind, "op": op}
        if kind == "bit_flip":
            if offset is None:
                done["byte"], done["bit"] = disk.flip_random_bit(wal_file)
            else:
                byte = offset + length // 2
                disk.flip_bit(wal_file, byte, 0)
                done["byte"], done["bit"] = byte, 0
        elif kind == "lost_write":
            disk.lose_next_sync(wal_file)
        elif kind == "misdirected_write":
            assert offset is not None
            disk.misdirect_next_write(wal_file, offset)
        else:
            assert offset is not None
            disk.fail_reads(wal_file, offset, offset + length)
        self.world.record("disk_fault", name, op=op, detail=done)
        return done

    @journaled
    def lose_file(self, node: str, name: str) -> None:
        """Crash ``node`` and delete one of its clobkit files (a lost file, an operator's ``rm``).

        ``name`` is ``"meta"``, ``"wal.log"`` or ``"snapshot"``; a file that is
        not there is left alone. Works for memory and file storage; ``identity``
        cannot be lost this way (without it the directory is no longer known
        to be clobkit's). On :meth:`restart` the replica finds its disk damaged
        and recovers from its peers as a learner before it votes again. O(1).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> c.lose_file("n2", "meta")
        >>> c.restart("n2")
        >>> c.node_rows()[2]["role"]
        'learner'
        >>> _ = c.run(ms=200)
        >>> [c.node_rows()[2][k] for k in ("role", "op_number")]
        ['backup', 1]

        Raises ``InvalidArgument`` for an unknown node or file name (nothing changes).
        """
        self._check_open()
        replica = self._replica_name(node)
        if name not in LOSABLE_FILES:
            raise InvalidArgument(f"name must be one of {LOSABLE_FILES}, got {name!r}")
        self.crash(replica)
        if self.storage == "memory":
            disk = self._storage.disks[replica]
            if disk.exists(name):
                disk.remove(name)
                disk.fsync_dir()
        else:
            path = self._storage.dirs[replica] / name
            if path.exists():
                path.unlink()
        self.world.record("lose_file", replica, detail={"file": name})

    @journaled
    def schedule_faults(self, faults: Iterable[Fault]) -> None:
        """Apply each :class:`~clobkit.sim.faults.Fault` at its time (in the future).

        O(faults) now; each fault runs when the simulation reaches its time.

        >>> from clobkit.sim.faults import Fault
        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.schedule_faults([Fault(10_000, "crash", ("n0",)), Fault(400_000, "restart", ("n0",))])
        >>> _ = c.run(ms=300)
        >>> c.primary, c.nodes["n0"].status
        ('n1', 'crashed')
        >>> _ = c.run(ms=200)
        >>> c.nodes["n0"].status
        'normal'

        Raises ``InvalidType`` for an item that is not a ``Fault`` (nothing is scheduled).
        """
        self._check_open()
        items = list(faults)
        for fault in items:
            if not isinstance(fault, Fault):
                raise InvalidType(f"faults must be Fault objects, got {fault!r}")
        for fault in items:
            self.world.schedule(fault.at_us, self._apply_fault, fault)

    def _apply_fault(self, fault: Fault) -> None:
        action = fault.action
        args = fault.args
        if PRIMARY in args or NEXT_PRIMARY in args or BYSTANDER in args:
            primary, following = self.primary, self.next_primary
            third = self.bystander if BYSTANDER in args else ""
            if primary is None or following is None or third is None:
                self.world.record("fault_skipped", "", detail={"fault": fault.as_call()})
                return  # no primary (or bystander) to aim at just now
            aimed = {PRIMARY: primary, NEXT_PRIMARY: following, BYSTANDER: third}
            args = tuple(aimed.get(a, a) if isinstance(a, str) else a for a in args)
        self._fault_depth += 1
        try:
            if action == "partition":
                self.partition(*args)
            elif action == "delay_next":
                kind, delay_ms, source, target, count = args
                self.delay_next(kind, delay_ms=delay_ms, source=source, target=target, count=count)
            else:
                getattr(self, action)(*args)
        finally:
            self._fault_depth -= 1

    # -- checks -----------------------------------------------------------------------

    @property
    def violations(self) -> list[Violation]:
        """Invariant violations recorded so far (only possible with an unsafe switch on).

        A copy, oldest first; each a :class:`~clobkit.sim.invariants.Violation` (kind, detail,
        time, nodes, and the op and view when the rule has one).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.violations
        []
        """
        return list(self.monitor.violations)

    def check(self) -> list[Violation]:
        """Check that every acknowledged write is in the committed log now; returns every
        violation so far (raises ``AssertionError`` instead when no unsafe switch is on).

        Cost: O(acknowledged writes + log). With ``ack_before_fsync`` (scenario
        S8) the replicas acknowledge before the data is durable, so crashing
        them all loses an acknowledged order:

        >>> c = Cluster(3, seed=1, storage="memory", unsafe={"ack_before_fsync"})
        >>> _ = c.place("alice", "buy", price="99", qty=2)
        >>> for name in c.replica_names:
        ...     c.crash(name)
        >>> for name in c.replica_names:
        ...     c.restart(name)
        >>> _ = c.run(ms=300)
        >>> sorted({v.kind for v in c.check()})  # op 1 is now the restarted primary's no-op
        ['acked_write_lost', 'divergent_commit']
        >>> c.live_orders()
        []
        """
        self.monitor.check_acked()
        return self.violations

    def committed_log(self) -> list[tuple[int, int, bytes]]:
        """The canonical committed log seen so far: ``(op, view, payload)`` in op order.

        ``payload`` is the encoded client request. "Seen" means committed at
        some moment: an entry later lost (an unsafe switch) stays listed here,
        while :meth:`check` compares acknowledged writes with what the
        replicas hold now. O(log).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=2)
        >>> _ = c.place("bob", "sell", price="99", qty=2)
        >>> [(op, view) for op, view, _ in c.committed_log()]
        [(1, 0), (2, 0)]
        """
        committed = self.monitor.committed
        return [(op, *committed[op]) for op in sorted(committed)]

    def settle(self, ms: float = 2_000) -> None:
        """Heal the network, restart crashed nodes, resume paused ones, and run ``ms``.

        Also sets loss and duplication back to 0. Use it at the end of a
        fault scenario before checking that the cluster recovered.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.crash("n1"); c.pause("n2"); c.partition({"n0"}, {"n1", "n2"})
        >>> c.settle(ms=500)
        >>> [r["host"] for r in c.node_rows()], c.place("alice", "buy", price="99", qty=1).op
        (['up', 'up', 'up'], 1)

        Raises ``InvalidArgument`` / ``InvalidType`` for a bad ``ms`` before it changes
        anything (the network stays cut, crashed nodes stay down).
        """
        self._check_open()
        _check_ms("ms", ms)
        self.heal()
        self._calm_network()
        for name in self.replica_names:
            status = self.world.hosts[name].status
            if status == "crashed":
                self.restart(name)
            elif status == "paused":
                self.resume(name)
        self.run(ms=ms)

    @journaled
    def _calm_network(self) -> None:
        """No loss, no duplicates (untraced; part of :meth:`settle`)."""
        self.world.network.set_loss(0.0)
        self.world.network.set_duplicate(0.0)

    # -- the journal and forks -------------------------------------------------------------

    def _mark(self, action: str, kwargs: dict[str, Any]) -> None:
        """Journal that time advanced (``run`` / ``step``) when the user asked for it."""
        if self._journal_depth == 0 and self._sim_depth == 0:
            world = self.world
            self._journal.append(
                JournalEntry(
                    world.now_us, world.events_processed, action, (), tuple(kwargs.items())
                )
            )

    @property
    def journal(self) -> list[JournalEntry]:
        """Every user action so far (a copy), oldest first: calls, faults, run/step.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="100.50", qty=5)
        >>> c.crash("n0")
        >>> [e.action for e in c.journal]
        ['submit', 'crash']
        """
        return list(self._journal)

    def fork(
        self, at_us: int | None = None, *, storage: str | os.PathLike[str] | None = None
    ) -> Cluster:
        """A new cluster with the same seed and options, replayed to ``at_us``; continue it freely.

        The fork replays :attr:`journal` (every action made at or before
        ``at_us``, including one made exactly at ``at_us``, each after the
        same number of simulator events as in the original) and then runs to
        ``at_us`` (default: now), so its trace is
        the original's trace up to ``at_us``, record for record (checked).
        Cost: the original's simulation work up to ``at_us``. ``storage``:
        default the original's kind; a cluster on a path forks to a fresh
        temporary directory.

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "sell", price="100.50", qty=5)
        >>> c.crash(c.primary)
        >>> _ = c.run(ms=300)
        >>> f = c.fork(50_000)
        >>> f.now_us, f.nodes["n0"].status, c.nodes["n0"].status
        (50000, 'crashed', 'crashed')
        >>> f.trace.records == [r for r in c.trace if r.time_us <= 50_000]
        True

        Raises ``InvalidArgument`` if ``at_us`` is negative or in the future,
        or if an action up to ``at_us`` cannot be replayed (made from inside
        the simulation, e.g. by a ``RandomWorkload``); ``InvalidArgument``
        also if the replay diverges (the cluster was changed around its
        methods, e.g. through ``cluster.world``).
        """
        self._check_open()
        now = self.world.now_us
        if at_us is None:
            at_us = now
        if isinstance(at_us, bool) or not isinstance(at_us, int):
            raise InvalidType(f"at_us must be an int (microseconds), got {at_us!r}")
        if not 0 <= at_us <= now:
            raise InvalidArgument(f"at_us must be between 0 and now ({now}), got {at_us!r}")
        entries = [e for e in self._journal if e.time_us <= at_us]
        stuck = [e for e in entries if not e.replayable]
        if stuck:
            raise InvalidArgument(
                f"cannot fork at {at_us} us: {stuck[0]!r} was made from inside the simulation "
                f"(a workload or a callback), which the journal cannot replay"
            )
        options = dict(self._options)
        options.pop("reopen", None)  # a fork replays from an empty start
        if storage is not None:
            options["storage"] = storage
        elif self.storage == "file":
            options["storage"] = "file"
        fork = Cluster(**options)
        try:
            replay(fork, entries, at_us, self)
        except BaseException:
            fork.close()
            raise
        return fork

    # -- lifecycle and display -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise InvalidArgument("this cluster is closed")

    def close(self) -> None:
        """Close every store and remove the temporary directory (if the cluster made one).

        Closing twice does nothing; ``with Cluster(...) as c:`` closes on exit.

        >>> c = Cluster(3, seed=1)  # storage="file": WAL files in a fresh temp directory
        >>> path = c.path
        >>> path.exists()
        True
        >>> c.close()
        >>> path.exists()
        False
        >>> c.place("alice", "buy", price="99", qty=1)
        Traceback (most recent call last):
        ...
        clobkit.errors.InvalidArgument: this cluster is closed
        """
        if self._closed:
            return
        self._closed = True
        for store in self._storage.stores.values():
            if not getattr(store, "closed", False):
                store.close()
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def node_rows(self) -> list[dict[str, Any]]:
        """One dict per replica, keyed by :data:`~clobkit.sim.nodes.NODE_COLUMNS`.

        ``host`` is the process (``up``, ``crashed``, ``paused``); ``status``
        is ``crashed`` / ``paused`` when the host is, else the replica's
        protocol status (``normal``, ``view_change``, ``recovering``,
        ``learner``). O(nodes).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> _ = c.place("alice", "buy", price="99", qty=1)
        >>> row = c.node_rows()[0]
        >>> list(row)
        ['node', 'up', 'host', 'role', 'status', 'view', 'op_number', 'commit_number',
         'applied_op', 'learner']
        >>> row["role"], row["status"], row["op_number"], row["commit_number"], row["host"]
        ('primary', 'normal', 1, 1, 'up')
        """
        return [node.row() for node in self.nodes.values()]

    def nodes_df(self) -> pd.DataFrame:
        """:meth:`node_rows` as a DataFrame: columns and dtypes are
        :data:`~clobkit.sim.nodes.NODE_COLUMNS`, the same frame as :func:`clobkit.views.nodes`.

        A crashed node has no view or numbers: those cells are ``<NA>`` (nullable ``Int64``).

        >>> c = Cluster(3, seed=1, storage="memory")
        >>> c.crash("n2")
        >>> df = c.nodes_df()
        >>> df["host"].tolist(), df["view"].isna().tolist()
        (['up', 'up', 'crashed'], [False, False, True])
        """
        return nodes_frame(self.node_rows())

    def __repr__(self) -> str:
        primary = self.primary
        node = self.nodes[primary] if primary else None
        unsafe = f" UNSAFE={sorted(self.config.unsafe)}" if self.config.unsafe else ""
        state = (
            f"primary={primary} view={node.view} commit={node.commit_number}"
            if node is not None
            else "no primary"
        )
        down = [n for n in self.replica_names if self.world.hosts[n].status != "up"]
        downs = f" down={down}" if down else ""
        # The literal read of the source design is unsafe too: say so as loudly as a switch.
        read_mode: str = self.config.read_mode
        if read_mode == "quorum-highest-seq":
            read_mode += " (UNSAFE)"
        closed = " CLOSED" if self._closed else ""
        return (
            f"<Cluster {len(self.replica_names)} nodes seed={self.seed} t={self.now_ms:g}ms "
            f"{state}{downs} storage={self.storage} read_mode={read_mode}{unsafe}{closed}>"
        )

    def _repr_html_(self) -> str:
        unsafe = ""
        if self.config.unsafe:
            unsafe = (
                "<p><b>unsafe switches on:</b> "
                + html.escape(", ".join(sorted(self.config.unsafe)))
                + "</p>"
            )
        head = html.escape(
            f"Cluster: {len(self.replica_names)} nodes, seed {self.seed}, "
            f"t = {self.now_ms:g} ms, storage {self.storage}, read_mode {self.config.read_mode}"
        )
        return f"<div><p>{head}</p>{unsafe}{node_table_html(self.node_rows())}</div>"
