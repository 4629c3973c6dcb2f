"""A host: where a protocol participant meets simulated time.

The protocol (a replica or a client session) is sans-I/O: it returns a
:class:`~clobkit.replication.step.Step` from every ``handle`` and ``tick``.
This module is the only place a Step becomes deliveries:

* the Step's ``events`` become trace records at the current time;
* its ``delay_us`` (a disk sync the participant just paid for) makes the
  host **busy** until ``now + delay_us``. The Step's messages wait in the
  host's outbox and leave only when the sync is done: a reply that promises
  durability never overtakes the sync it depends on, and a crash during the
  sync means they never leave;
* the store has already made the data durable when the Step comes back; the
  busy period is what that sync *costs* on the clock. A crash inside it keeps
  the data but loses the messages waiting on it, which is a legal outcome
  (the fsync finished, the process died before sending);
* an **owed sync** (``sync_us`` not ``None``: a primary's new entries,
  not yet synced) sends the Step's ``early`` messages (the ``Prepare``) at
  once and makes the host busy for ``sync_us``; only then does the host
  call ``participant.sync(now)``, which syncs the WAL and returns the rest
  (commits, replies) as a Step of its own. The Prepare's round trip to the
  backups overlaps the primary's sync. A crash inside that window loses the
  unsynced entries (the sync never ran), as a power loss during a real
  fsync may;
* messages arriving while the host is busy (or paused) wait in its inbox,
  in arrival order. When the host becomes free it hands them over: all at
  once to ``handle_batch(messages, now)`` if the participant has one (so one
  sync covers them all: group commit appears by itself under load), else one
  at a time;
* ``wake_at_us`` sets the host's timer; when it fires, ``tick(now)`` runs
  (deferred while busy or paused). A new ``wake_at_us`` replaces the timer;
  ``None`` leaves it as it was.

**One timer event at a time.** Hosts re-arm their timer after almost every
step (a client's retry deadline with each request, a backup's view-change
timeout with each Prepare), nearly always to a later time. Each re-arm takes
the next sequence number of the world's heap, as any scheduled event does,
so the timer runs at the same ``(time, seq)`` place among the other events
as a freshly pushed event would; but it is pushed only when no timer event
of this host is already queued at or before it. When an older timer event
comes due, the host pushes the current deadline with its own sequence number
(or finds it still covered) instead of running: a timer moved later costs
one heap push per earlier deadline that passes, not one per re-arm, and the
events that do run, and their order, are exactly those of pushing every
re-arm and ignoring the stale ones.

Faults act here too: :meth:`Host.crash` forgets the participant, its inbox,
its outbox and its timer (the world's in-flight messages still arrive, and
are dropped); :meth:`Host.restart` installs a new participant;
:meth:`Host.pause` and :meth:`Host.resume` model a stalled process whose
inbox fills up (bounded by ``inbox_limit``; beyond it messages drop).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from heapq import heappush
from typing import TYPE_CHECKING, Any, Literal, Protocol

from clobkit.errors import DiskFault
from clobkit.replication.step import Message, Step
from clobkit.sim.network import message_op
from clobkit.sim.trace import TraceRecord

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.world import World

__all__ = ["Host", "Participant", "HostStatus"]

HostStatus = Literal["up", "paused", "crashed"]


class Participant(Protocol):
    """What a host can drive: a replica, a client session, or a test double."""

    def handle(self, message: Message, now: int) -> Step: ...

    def tick(self, now: int) -> Step: ...


class Host:
    """One simulated machine running one participant.

    ``incarnation`` increases on every crash and restart; events scheduled
    for an older incarnation (a sync finishing, a timer) are ignored, so a
    crashed host never acts on behalf of its previous life.
    """

    def __init__(
        self,
        world: World,
        name: str,
        participant: Participant | None,
        *,
        inbox_limit: int = 100_000,
        trace_deliveries: bool = True,
    ) -> None:
        self.world = world
        self.name = name
        self.participant = participant
        self.status: HostStatus = "up" if participant is not None else "crashed"
        self.incarnation = 0
        self.inbox_limit = inbox_limit
        self.trace_deliveries = trace_deliveries
        self.busy_until_us = 0
        self.inbox: deque[tuple[int, Message]] = deque()
        self.outbox: list[Message] = []
        self.timer_at_us: int | None = None
        # The current timer's place in the world's event order, (time, seq), or None; and the
        # places of this incarnation's timer events still queued in the heap, latest first
        # (each push goes before every queued one, so the last is the next to come due).
        self._timer_due: tuple[int, int] | None = None
        self._timer_queued: list[tuple[int, int]] = []
        self._tick_due = False
        self._sync_due = False  # the participant owes a sync: call its sync() when free
        self._ready_token = 0
        self.messages_handled = 0
        self.ticks = 0
        self.busy_us_total = 0
        self.batches = 0
        # Called with (host name, error) when the participant hits a real or simulated disk
        # error; the owner crashes the host and says why. Unset, the error propagates.
        self.on_disk_error: Callable[[str, BaseException], None] | None = None

    # -- state ---------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """True while the host is still paying for a disk sync."""
        return self.busy_until_us > self.world.now_us or bool(self.outbox) or self._sync_due

    @property
    def up(self) -> bool:
        """True unless crashed (a paused host is up, just not running)."""
        return self.status != "crashed"

    # -- what the world calls --------------------------------------------------

    def deliver(self, msg_id: int, message: Message) -> None:
        """A message arrived: handle it now, or queue it, or drop it (also when the network
        cuts it off on arrival)."""
        self.arrive((msg_id, message))

    def arrive(self, argument: tuple[int, Message]) -> None:
        """The world's event for a message ``(msg_id, message)`` reaching this host: a cut
        link drops it (``partitioned``), a crashed host drops it (``target_down``); else it
        is handled now, or queued while the host is busy or paused. O(1) + the handling."""
        msg_id, message = argument
        world = self.world
        network = world.network
        if (network.blocked or network.isolated) and not network.can_reach(
            message.source, message.target
        ):
            world.record_drop(message, msg_id, "partitioned")
            return
        if self.status == "crashed":
            world.record_drop(message, msg_id, "target_down")
            return
        if self.trace_deliveries and world.trace.enabled:
            world.trace.add(
                TraceRecord(
                    world.now_us,
                    "deliver",
                    self.name,
                    message.source,
                    message.kind,
                    message.view,
                    message_op(message),
                    msg_id,
                    None,
                )
            )
        if (
            self.status == "paused"
            or self.busy_until_us > world.now_us  # (self.busy, spelled out: every delivery)
            or self.outbox
            or self.inbox
        ):
            if len(self.inbox) >= self.inbox_limit:
                world.record_drop(message, msg_id, "inbox_full")
                return
            self.inbox.append((msg_id, message))
            return
        # (self._handle(message), spelled out: most messages come here)
        participant = self.participant
        assert participant is not None
        self.messages_handled += 1
        try:
            step = participant.handle(message, world.now_us)
        except (OSError, DiskFault) as exc:
            if self.on_disk_error is None:
                raise
            self.on_disk_error(self.name, exc)
            return
        # An empty Step (a client's reply that ended its call: one per command) has nothing
        # to apply; apply() would do nothing with it. (An owed sync's ``early`` messages go
        # only with ``sync_us``.)
        if (
            step.messages
            or step.wake_at_us is not None
            or step.events
            or step.delay_us
            or step.sync_us is not None
        ):
            self.apply(step)

    def call(self, action: Callable[[int], Any]) -> Any:
        """Run ``action(now)`` inside the host; it returns a Step or ``(value, Step)``.

        Used for client calls (``submit``, ``read``). Returns the value (or
        ``None``). The Step is applied like any other.
        """
        assert self.status != "crashed", f"{self.name} is down"
        result = action(self.world.now_us)
        if isinstance(result, Step):
            self.apply(result)
            return None
        value, step = result
        self.apply(step)
        return value

    def apply(self, step: Step) -> None:
        """Turn ``step`` into trace records, a busy period, sends and a timer."""
        world = self.world
        now = world.now_us
        if step.events and world.trace.enabled:
            add = world.trace.add
            for event in step.events:
                fields = dict(event.fields)
                peer = fields.pop("peer", "")
                view = fields.pop("view", None)
                op = fields.pop("op", None)
                add(
                    TraceRecord(
                        now,
                        event.kind,
                        event.node,
                        str(peer) if peer is not None else "",
                        str(fields.pop("message", "")),
                        view if isinstance(view, int) else None,
                        op if isinstance(op, int) else None,
                        None,
                        fields or None,
                    )
                )
        sync_us = step.sync_us
        if sync_us is not None or step.delay_us > 0:
            if sync_us is not None:
                # The Prepares leave now; the sync they do not depend on runs while they travel.
                assert not step.messages and step.delay_us == 0, "an owed sync comes alone"
                send = world.send
                for message in step.early:
                    send(message)
                busy_us = sync_us
                self._sync_due = True
            else:
                busy_us = step.delay_us
                self.outbox.extend(step.messages)
            self.busy_until_us = max(now, self.busy_until_us) + busy_us
            self.busy_us_total += busy_us
            self._ready_token += 1
            # (world.schedule(...), inline: busy_until_us is never in the past)
            world._seq += 1
            heappush(
                world._heap,
                (
                    self.busy_until_us,
                    world._seq,
                    self._ready,
                    (self.incarnation, self._ready_token),
                ),
            )
        elif self.outbox:
            # Still busy from an earlier sync: keep the order of sends.
            self.outbox.extend(step.messages)
        else:
            send = world.send
            for message in step.messages:
                send(message)
        if step.wake_at_us is not None:
            self.set_timer(step.wake_at_us)

    def set_timer(self, at_us: int) -> None:
        """Make ``tick`` run at ``at_us`` (replacing any earlier timer). O(1) when a queued
        timer event comes due no later (it moves the timer on then), else O(log n)."""
        world = self.world
        # The next sequence number, as world.schedule() would take it, whether or not an
        # event is pushed now: ties with other events break as if it were.
        world._seq += 1
        due = (at_us if at_us > world.now_us else world.now_us, world._seq)
        self.timer_at_us = at_us
        self._timer_due = due
        queued = self._timer_queued
        if not queued or due < queued[-1]:
            queued.append(due)
            heappush(world._heap, (due[0], due[1], self._timer, (self.incarnation, due)))

    # -- internals -------------------------------------------------------------

    def _handle(self, message: Message) -> None:
        participant = self.participant
        assert participant is not None
        self.messages_handled += 1
        # (self._run(lambda: ...), spelled out: every delivered message comes here)
        try:
            step = participant.handle(message, self.world.now_us)
        except (OSError, DiskFault) as exc:
            if self.on_disk_error is None:
                raise
            self.on_disk_error(self.name, exc)
            return
        self.apply(step)

    def _run(self, action: Callable[..., Step], *args: Any) -> None:
        """Run one participant call, ``action(*args)``; a disk error stops this host, never
        the caller."""
        try:
            step = action(*args)
        except (OSError, DiskFault) as exc:
            if self.on_disk_error is None:
                raise
            self.on_disk_error(self.name, exc)
            return
        self.apply(step)

    def _ready(self, token: tuple[int, int]) -> None:
        incarnation, ready = token
        if incarnation != self.incarnation or ready != self._ready_token:
            return
        if self.outbox:
            outbox, self.outbox = self.outbox, []
            send = self.world.send
            for message in outbox:
                send(message)
        if self._sync_due:
            self._sync_if_due()
        if self.inbox or self._tick_due:  # (else _drain() has nothing to do)
            self._drain()

    def _sync_if_due(self) -> None:
        """The owed sync's time is up: have the participant sync and carry on (not while
        paused: a stalled process does not get on with its work)."""
        if self._sync_due and self.status == "up" and self.busy_until_us <= self.world.now_us:
            self._sync_due = False
            participant = self.participant
            assert participant is not None
            self._run(participant.sync, self.world.now_us)  # type: ignore[attr-defined]

    def _timer(self, token: tuple[int, tuple[int, int]]) -> None:
        incarnation, popped = token
        if incarnation != self.incarnation:
            return  # (queued in an earlier life: crash() forgot it)
        queued = self._timer_queued
        assert queued and queued[-1] == popped, "timer events come due in order"
        queued.pop()
        due = self._timer_due
        if popped != due:
            # A stale deadline: the timer moved (or was spent). Make sure its current place
            # is queued: this event came due first, so that place is still ahead.
            if due is not None and (not queued or due < queued[-1]):
                queued.append(due)
                heappush(self.world._heap, (due[0], due[1], self._timer, (incarnation, due)))
            return
        self._timer_due = None
        self.timer_at_us = None
        if self.status != "up" or self.busy:
            self._tick_due = True
            return
        self._tick()

    def _tick(self) -> None:
        participant = self.participant
        assert participant is not None
        self._tick_due = False
        self.ticks += 1
        self._run(participant.tick, self.world.now_us)

    def _drain(self) -> None:
        """Hand queued messages (and a deferred tick) to a free participant."""
        world = self.world
        while (
            self.status == "up"
            and (self.inbox or self._tick_due)
            # (not self.busy, spelled out)
            and not (self.busy_until_us > world.now_us or self.outbox or self._sync_due)
        ):
            if self.inbox:
                participant = self.participant
                assert participant is not None
                batch_handler = getattr(participant, "handle_batch", None)
                if batch_handler is not None and len(self.inbox) > 1:
                    messages = [m for _, m in self.inbox]
                    self.inbox.clear()
                    self.messages_handled += len(messages)
                    self.batches += 1
                    self._run(batch_handler, messages, world.now_us)
                else:
                    _, message = self.inbox.popleft()
                    self._handle(message)
            else:
                self._tick()

    # -- faults ------------------------------------------------------------------

    def crash(self) -> None:
        """Stop the participant at once: inbox, outbox and timer are lost."""
        self.status = "crashed"
        self.participant = None
        self.incarnation += 1
        self.world.lives_changed += 1
        self.inbox.clear()
        self.outbox = []
        self.busy_until_us = self.world.now_us
        self.timer_at_us = None
        self._timer_due = None
        self._timer_queued = []  # (its events still in the heap are ignored: old incarnation)
        self._tick_due = False
        self._sync_due = False  # the sync never ran: its entries were never durable

    def restart(self, participant: Participant, *, wake_at_us: int | None = None) -> None:
        """Run ``participant`` (rebuilt from disk) on this host from now on."""
        self.crash()
        self.participant = participant
        self.world.lives_changed += 1
        self.status = "up"
        if wake_at_us is not None:
            self.set_timer(wake_at_us)

    def pause(self) -> None:
        """Stop running (a stalled process): messages queue, timers wait."""
        if self.status == "up":
            self.status = "paused"

    def resume(self) -> None:
        """Run again: queued messages and a due tick are handled now."""
        if self.status == "paused":
            self.status = "up"
            self.world.schedule(self.world.now_us, self._resume_now, self.incarnation)

    def _resume_now(self, incarnation: int) -> None:
        if incarnation != self.incarnation:
            return
        self._sync_if_due()
        if not self.busy:
            self._drain()

    def __repr__(self) -> str:
        busy = f" busy until {self.busy_until_us}us" if self.busy else ""
        return f"<Host {self.name} {self.status}{busy} inbox={len(self.inbox)}>"
