"""The seam between the sans-I/O protocol and whatever drives it.

A protocol participant (a :class:`~clobkit.replication.Replica` or a client
session) never sends, sleeps or reads a clock. The driver (the simulator's
host, or a test) calls ``handle(message, now)`` and ``tick(now)``, and every
call returns a :class:`Step` that says what the participant wants to happen:

* ``messages``: what to send, each addressed by ``target``;
* ``delay_us``: how long, in simulated microseconds, the participant was busy
  before those messages may leave (a WAL sync charged by the disk). A reply
  that promises durability must not overtake the sync it depends on;
* ``events``: facts for the trace (commit, apply, view change, truncate,
  sync, drop of a bad message...), each a :class:`TraceEvent`;
* ``wake_at_us``: when the participant next wants ``tick`` (a timeout or a
  heartbeat), or ``None`` if it needs no timer;
* ``early`` and ``sync_us`` (only from a replica built with
  ``overlap_sync=True``): a primary that just appended entries returns their
  ``Prepare`` messages in ``early`` *without having synced them*, and
  ``sync_us`` (not ``None``) says its own WAL sync is still owed and what it
  will cost. A ``Prepare`` promises nothing about the primary's disk, so it
  may travel while the primary syncs (VSR: the primary counts itself toward
  a commit quorum only once its own sync is done; a commit needs ``f + 1``
  durable copies, which may or may not include the primary).

**The host's duties.** Whatever drives a participant (a *host*) must, for
every Step it gets back, in this order (etcd's ``raft/doc.go`` states the
same contract for its ``Ready`` struct):

1. **Persist before send.** The participant wrote and synced its WAL and
   metadata through its store *before* returning, so the bytes are durable
   (per the store's sync policy) when the Step comes back. The host must not
   let any of ``messages`` leave before that point, and must not let them
   overtake the sync they depend on: a ``PrepareOk`` or a ``Reply``
   promises that the entry survives a crash. A crash (power loss, kill -9)
   after the sync but before the send is legal; a send before the sync is
   not. A host asserts it: ``store.wal.synced_op == store.wal.last_op``
   when it sends.
2. **Charge the sync.** ``delay_us`` is what the sync cost; a simulated host
   stays busy that long (messages wait in its outbox, arrivals in its
   inbox); a real host has already paid it in wall time.

   **An owed sync** (``sync_us is not None``): the participant has *not*
   synced; its ``messages`` are empty and only ``early`` may leave. The host
   sends ``early`` at once, then has the sync done by calling
   ``participant.sync(now)``: a real host right away (the Prepares are in
   the kernel's socket buffers while the fsync runs), a simulated host when
   ``sync_us`` has elapsed (busy meanwhile, so a crash inside that window
   loses the unsynced entries, as a power loss during a real fsync may).
   Until then it hands the participant nothing. ``sync`` returns a Step
   like any other, whose ``delay_us`` leaves out the cost already charged.
3. **Deliver.** Hand every message addressed to the participant to
   ``handle`` (or, for several that queued while it was busy, all at once to
   ``handle_batch`` so one sync covers them: group commit), each exactly as
   received, never a malformed one (drop and count it), and send each
   outgoing message to its ``target`` at most once per Step. Messages may be
   lost, delayed, duplicated or reordered: the protocol copes; a host may
   drop what it cannot deliver.
4. **Wake on time.** ``wake_at_us`` replaces the timer (``None`` keeps it);
   when the clock reaches it (never earlier), call ``tick(now)``. ``now`` is
   a non-decreasing integer in microseconds (simulated, or the wall clock).
5. **Crash means forget.** After a crash the host keeps only what the store
   made durable: it rebuilds the participant from the store, never from its
   memory, and drops the outbox, inbox and timer of the old life.

Two hosts implement this: :mod:`clobkit.sim.host` (simulated time and
network) and :mod:`clobkit.proc.node` (one OS process, TCP on 127.0.0.1,
real fsync, the wall clock).

Node names are strings: replicas are ``"n0"``, ``"n1"``...; clients are
``"client:<id>"``. Every message carries the cluster id, its sender and
target, and the sender's view, so a receiver can drop foreign, misaddressed
and stale (fenced) messages without touching its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Self

__all__ = [
    "CLIENT_PREFIX",
    "Message",
    "Step",
    "TraceEvent",
    "client_name",
    "is_client_name",
    "replica_name",
]


def replica_name(index: int) -> str:
    """The node name of replica ``index``: ``replica_name(2) == "n2"``."""
    return f"n{index}"


CLIENT_PREFIX = "client:"
"""What every client node name starts with (see :func:`client_name`)."""


def client_name(client_id: str) -> str:
    """The node name of a client session: ``client_name("alice") == "client:alice"``."""
    return f"{CLIENT_PREFIX}{client_id}"


def is_client_name(name: str) -> bool:
    """True when ``name`` is a client's node name (the prefix and a non-empty id).

    >>> is_client_name("client:alice"), is_client_name("client:"), is_client_name("n0")
    (True, False, False)
    """
    return name.startswith(CLIENT_PREFIX) and len(name) > len(CLIENT_PREFIX)


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base class of every protocol message (subclasses add their fields).

    The protocol's kinds (:mod:`clobkit.replication.messages`) are built by
    :func:`~clobkit.replication.messages.message_kind` as tuples that are also
    messages (so this class has no ``__slots__``: a tuple cannot share a slot layout);
    a frozen keyword dataclass subclass, as in the tests' fakes, works too.
    """

    cluster_id: str
    source: str
    target: str
    view: int

    @property
    def kind(self) -> str:
        """Short name for traces and figures, e.g. ``"Prepare"``."""
        return type(self).__name__

    @classmethod
    def build(cls, **fields: Any) -> Self:
        """``cls(**fields)``: the same message, the same errors.

        The protocol's kinds (:func:`~clobkit.replication.messages.message_kind`) replace it
        with a plain function of the same keywords, which builds the message without the
        keyword dict a class call makes (about half the instructions of ``cls(...)``), for
        the messages built once per command.

        >>> Message.build(cluster_id="c", source="n0", target="n1", view=0).target
        'n1'
        """
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class TraceEvent:
    """One fact a participant reports, e.g. ``TraceEvent("commit", "n0", {"op": 7})``."""

    kind: str
    node: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Step:
    """What one ``handle`` or ``tick`` call asks the driver to do."""

    messages: list[Message] = field(default_factory=list)
    events: list[TraceEvent] = field(default_factory=list)
    delay_us: int = 0
    wake_at_us: int | None = None
    early: list[Message] = field(default_factory=list)
    sync_us: int | None = None

    def extend(self, other: Step) -> None:
        """Merge ``other`` into this step (messages and events in order).

        Only a step without an owed sync can be merged (the order of an owed
        sync and what comes after it would be lost)."""
        assert self.sync_us is None and other.sync_us is None, "cannot merge an owed sync"
        self.early.extend(other.early)
        self.messages.extend(other.messages)
        self.events.extend(other.events)
        self.delay_us += other.delay_us
        if other.wake_at_us is not None:
            self.wake_at_us = (
                other.wake_at_us
                if self.wake_at_us is None
                else min(self.wake_at_us, other.wake_at_us)
            )


class _Factory:
    """The default of a list field (shown as dataclasses shows a ``default_factory``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY: Any = _Factory()


def _step_init(
    self: Step,
    messages: list[Message] = _FACTORY,
    events: list[TraceEvent] = _FACTORY,
    delay_us: int = 0,
    wake_at_us: int | None = None,
    early: list[Message] = _FACTORY,
    sync_us: int | None = None,
) -> None:
    self.messages = [] if messages is _FACTORY else messages
    self.events = [] if events is _FACTORY else events
    self.delay_us = delay_us
    self.wake_at_us = wake_at_us
    self.early = [] if early is _FACTORY else early
    self.sync_us = sync_us


# Every handle/tick/sync returns a Step (between two and three per committed command), so its
# __init__ builds the empty lists with list displays instead of calling each field's
# default_factory (`list`) through a global: same signature, fields, defaults, repr and ==
# (tests/replication/test_replication_step_init.py).
_step_init.__qualname__ = "Step.__init__"
_step_init.__doc__ = Step.__init__.__doc__
_step_init.__annotations__ = dict(Step.__init__.__annotations__)
Step.__init__ = _step_init  # type: ignore[method-assign]
