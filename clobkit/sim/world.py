"""The discrete-event world: an integer µs clock, an event heap, hosts and a network.

Everything that happens in a simulation is an event on one heap, ordered by
``(time_us, seq)`` where ``seq`` increases with every event scheduled. Two
events at the same microsecond therefore run in the order they were
scheduled, never in an order that depends on object ids or hashing, which is
what makes a run reproducible byte for byte from its seed.

:meth:`World.step` pops one event, advances :attr:`World.now_us` to its time
and runs it: a message arriving at a host, a host finishing a disk sync, a
protocol timer, or a scheduled action (a fault, a client call). After each
event the world calls its observers (the cheap invariant monitor lives there).
Messages leave through :meth:`World.send`, which asks the :class:`Network`
for their fate and traces the send or the drop.
"""

from __future__ import annotations

import contextlib
import gc
import heapq
import threading
from collections.abc import Callable
from typing import Any

from clobkit.errors import InvalidArgument
from clobkit.replication import events as ev
from clobkit.replication.step import Message
from clobkit.sim.host import Host, Participant
from clobkit.sim.network import Latency, Network, message_op
from clobkit.sim.rng import RandomStreams
from clobkit.sim.trace import Trace, TraceRecord

__all__ = ["GC_GEN0_THRESHOLD", "World", "collecting_less_often"]

# (time_us, seq, function, argument): seq makes ties deterministic and keeps
# the heap from ever comparing functions.
_Event = tuple[int, int, Callable[[Any], None], Any]

#: The garbage collector's first threshold while a simulation runs (CPython's default is 700).
#: A simulation allocates a few hundred short-lived tuples and small objects per command; at
#: 700 the collector ran ~40 times per 1,000 commands, scanning survivors it would keep
#: anyway (benchmarks/README.md, "third cut": 10,000 saved 3-7 % of the CPU).
GC_GEN0_THRESHOLD = 10_000


class _CollectingLessOften:
    """The context manager behind :func:`collecting_less_often` (one for the process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inside = 0  # simulations running now, in every thread
        self._saved: tuple[int, int, int] | None = None  # thresholds to restore, if we raised them

    def __enter__(self) -> None:
        with self._lock:
            self._inside += 1
            if self._inside == 1:
                saved = gc.get_threshold()
                if 0 < saved[0] < GC_GEN0_THRESHOLD:
                    self._saved = saved
                    gc.set_threshold(GC_GEN0_THRESHOLD, saved[1], saved[2])

    def __exit__(self, *exc_info: object) -> None:
        with self._lock:
            self._inside -= 1
            saved = self._saved
            if self._inside == 0 and saved is not None:
                self._saved = None
                if gc.get_threshold() == (GC_GEN0_THRESHOLD, saved[1], saved[2]):
                    gc.set_threshold(*saved)


_COLLECTING_LESS_OFTEN = _CollectingLessOften()


def collecting_less_often() -> contextlib.AbstractContextManager[None]:
    """Raise the garbage collector's first threshold to ``GC_GEN0_THRESHOLD`` while inside.

    Process-wide, so it is counted: the thresholds change when the first simulation in the
    process starts running (in any thread) and come back when the last one returns or raises.
    A threshold that is already higher, or 0 (automatic collection off), is left alone; so
    are thresholds changed by someone else meanwhile (they are not overwritten on the way
    out). Collection still happens, only every ``GC_GEN0_THRESHOLD`` net allocations.
    :meth:`World.run` runs inside it. O(1).

    >>> import gc
    >>> before = gc.get_threshold()
    >>> with collecting_less_often():
    ...     gc.get_threshold()[0] >= GC_GEN0_THRESHOLD or before[0] == 0
    True
    >>> gc.get_threshold() == before
    True
    """
    return _COLLECTING_LESS_OFTEN


class World:
    """A seeded discrete-event simulation of hosts talking over a network.

    >>> from clobkit.replication.step import Step
    >>> class Echo:
    ...     def handle(self, message, now):
    ...         return Step()
    ...     def tick(self, now):
    ...         return Step()
    >>> w = World(seed=1)
    >>> _ = w.add_host("n0", Echo())
    >>> _ = w.schedule(50, lambda _: None)
    >>> w.run()
    1
    >>> w.now_us
    50
    """

    def __init__(
        self,
        seed: int = 0,
        network: Network | None = None,
        *,
        trace: Trace | None = None,
    ) -> None:
        self.streams = RandomStreams(seed)
        self.seed = seed
        self.network = network if network is not None else Network()
        self.trace = trace if trace is not None else Trace()
        self.now_us = 0
        self.hosts: dict[str, Host] = {}
        self.events_processed = 0
        #: Bumped whenever a host's participant or incarnation changes (a crash, a restart),
        #: so that who is running can be cached between changes (``Cluster._live_replicas``).
        self.lives_changed = 0
        self.observers: list[Callable[[World], None]] = []
        self._heap: list[_Event] = []
        self._seq = 0
        self._msg_id = 0
        self._net_rng = self.streams.stream("network")
        self._net_getrandbits = self._net_rng.getrandbits
        # What send() draws a plain network's latency from: (low, n, bits) of the uniform
        # latency it was worked out for (None: draw through Latency.sample).
        self._plain_latency: Latency | None = None
        self._plain_draw: tuple[int, int, int] | None = None

    # -- hosts ---------------------------------------------------------------

    def add_host(self, name: str, participant: Participant | None, **options: Any) -> Host:
        """Create and register the host ``name`` running ``participant``."""
        if name in self.hosts:
            raise InvalidArgument(f"host {name!r} already exists")
        host = Host(self, name, participant, **options)
        self.hosts[name] = host
        self.lives_changed += 1
        return host

    # -- the event heap --------------------------------------------------------

    def schedule(self, at_us: int, action: Callable[[Any], None], argument: Any = None) -> int:
        """Run ``action(argument)`` at ``at_us`` (not before now); returns its seq. O(log n)."""
        if at_us < self.now_us:
            at_us = self.now_us
        self._seq += 1
        heapq.heappush(self._heap, (at_us, self._seq, action, argument))
        return self._seq

    @property
    def pending(self) -> int:
        """How many events are scheduled."""
        return len(self._heap)

    @property
    def next_event_us(self) -> int | None:
        """The time of the next event, or ``None`` when nothing is scheduled."""
        return self._heap[0][0] if self._heap else None

    def step(self) -> bool:
        """Run the next event; False if there was none. O(log n) plus the event."""
        if not self._heap:
            return False
        at_us, _seq, action, argument = heapq.heappop(self._heap)
        assert at_us >= self.now_us, "the clock never goes backwards"
        self.now_us = at_us
        action(argument)
        self.events_processed += 1
        for observer in self.observers:
            observer(self)
        return True

    def run(
        self,
        until_us: int | None = None,
        *,
        until: Callable[[], bool] | None = None,
        max_events: int = 10_000_000,
    ) -> int:
        """Run events up to time ``until_us`` (inclusive), or until ``until()`` holds.

        The clock ends at ``until_us`` even if the last event was earlier, but only
        when every event up to ``until_us`` has run: if ``max_events`` stops the run
        first, the clock stays at the last event run (moving it on would strand the
        pending events in the past). Returns the number of events run.

        While it runs, the garbage collector's first threshold is at least
        ``GC_GEN0_THRESHOLD`` (see :func:`collecting_less_often`), restored when the
        last run in the process returns or raises.
        """
        with _COLLECTING_LESS_OFTEN:
            return self._run(until_us, until, max_events)

    def _run(self, until_us: int | None, until: Callable[[], bool] | None, max_events: int) -> int:
        count = 0
        heap = self._heap
        pop = heapq.heappop
        observers = self.observers
        while heap:
            if until is not None and until():
                return count
            if until_us is not None and heap[0][0] > until_us:
                break
            if count >= max_events:
                return count
            # (self.step(), inline: this loop runs every event of a simulation)
            at_us, _seq, action, argument = pop(heap)
            assert at_us >= self.now_us, "the clock never goes backwards"
            self.now_us = at_us
            action(argument)
            self.events_processed += 1
            if observers:
                for observer in observers:
                    observer(self)
            count += 1
        if until_us is not None and self.now_us < until_us and (until is None or not until()):
            self.now_us = until_us
        return count

    # -- messages ------------------------------------------------------------

    def _trace_message(
        self, kind: str, message: Message, msg_id: int, detail: dict[str, Any] | None
    ) -> None:
        """Record a ``send`` or ``drop`` of ``message`` now (called only when tracing)."""
        self.trace.add(
            TraceRecord(
                self.now_us,
                kind,
                message.source,
                message.target,
                message.kind,
                message.view,
                message_op(message),
                msg_id,
                detail,
            )
        )

    def send(self, message: Message) -> None:
        """Hand ``message`` to the network now; trace the send or the drop. O(log n)."""
        self._msg_id += 1
        msg_id = self._msg_id
        network = self.network
        # Its arrival runs the target host's arrive() (or _arrive: no such host yet); hosts
        # are never removed, so looking the host up now finds the one the arrival would.
        host = self.hosts.get(message.target)
        arrive = self._arrive if host is None else host.arrive
        if not (
            network.rules
            or network.blocked
            or network.isolated
            or network.loss
            or network.duplicate
            or network.reorder
            or network.links
        ):
            # (Network.plain_arrival, inline: a network with no faults, rules or per-link
            # latency draws one latency and nothing else; this runs for every message.)
            latency = network.latency
            if latency is not self._plain_latency:
                self._plain_latency = latency
                low, high = latency.latency_us_min, latency.latency_us_max
                if latency.distribution == "uniform" and high is not None and high > low:
                    self._plain_draw = (low, high - low + 1, (high - low + 1).bit_length())
                else:
                    self._plain_draw = None
            draw = self._plain_draw
            if draw is None:
                at_us = self.now_us + latency.sample(self._net_rng)
            else:
                # rng.randint(low, high) is low + rng._randbelow(n), n = high - low + 1, and
                # _randbelow(n) draws getrandbits(n.bit_length()) until it is below n
                # (tests/sim/test_sim_determinism.py checks both identities on this Python).
                low, n, bits = draw
                getrandbits = self._net_getrandbits
                r = getrandbits(bits)
                while r >= n:
                    r = getrandbits(bits)
                at_us = self.now_us + low + r
            if self.trace.enabled:
                self._trace_message("send", message, msg_id, None)
            self._seq += 1  # (self.schedule(at_us, ...), inline; at_us is never in the past)
            heapq.heappush(self._heap, (at_us, self._seq, arrive, (msg_id, message)))
            return
        route = network.route(message, self.now_us, self._net_rng)
        tracing = self.trace.enabled
        if route.drop_reason is not None:
            if tracing:
                self._trace_message(ev.DROP, message, msg_id, {"reason": route.drop_reason})
            return
        if tracing:
            copies = len(route.deliver_at_us)
            self._trace_message("send", message, msg_id, {"copies": copies} if copies > 1 else None)
        for at_us in route.deliver_at_us:
            self.schedule(at_us, arrive, (msg_id, message))

    def _arrive(self, argument: tuple[int, Message]) -> None:
        """A message to a host that did not exist when it was sent arrives."""
        msg_id, message = argument
        host = self.hosts.get(message.target)
        if host is None:
            self.record_drop(message, msg_id, "unknown_target")
            return
        host.arrive(argument)

    def in_flight(self) -> dict[int, list[int]]:
        """``msg_id -> arrival times`` (sorted) of every message copy still in flight. O(n).

        >>> w = World(seed=1)
        >>> from clobkit.replication.step import Message
        >>> w.send(Message(cluster_id="c", source="n0", target="n1", view=0))
        >>> list(w.in_flight())
        [1]
        """
        out: dict[int, list[int]] = {}
        arrivals = (World._arrive, Host.arrive)
        for at_us, _seq, action, argument in self._heap:
            if getattr(action, "__func__", None) in arrivals:
                out.setdefault(argument[0], []).append(at_us)
        for times in out.values():
            times.sort()
        return out

    def record_drop(self, message: Message, msg_id: int, reason: str) -> None:
        """Trace that ``message`` was dropped at its target for ``reason``."""
        if self.trace.enabled:
            self.trace.add(
                TraceRecord(
                    self.now_us,
                    ev.DROP,
                    message.target,
                    message.source,
                    message.kind,
                    message.view,
                    message_op(message),
                    msg_id,
                    {"reason": reason},
                )
            )

    def record(
        self,
        kind: str,
        node: str,
        *,
        peer: str = "",
        message: str = "",
        view: int | None = None,
        op: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Add one record at the current time (faults, client calls...)."""
        if self.trace.enabled:
            self.trace.add(
                TraceRecord(self.now_us, kind, node, peer, message, view, op, None, detail)
            )

    def __repr__(self) -> str:
        return (
            f"<World seed={self.seed} t={self.now_us}us hosts={len(self.hosts)} "
            f"pending={len(self._heap)}>"
        )
