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
  heartbeat), or ``None`` if it needs no timer.

Node names are strings: replicas are ``"n0"``, ``"n1"``...; clients are
``"client:<id>"``. Every message carries the cluster id, its sender and
target, and the sender's view, so a receiver can drop foreign, misaddressed
and stale (fenced) messages without touching its state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Message", "TraceEvent", "Step", "replica_name", "client_name"]


def replica_name(index: int) -> str:
    """The node name of replica ``index``: ``replica_name(2) == "n2"``."""
    return f"n{index}"


def client_name(client_id: str) -> str:
    """The node name of a client session: ``client_name("alice") == "client:alice"``."""
    return f"client:{client_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """Base class of every protocol message (subclasses add their fields)."""

    cluster_id: str
    source: str
    target: str
    view: int

    @property
    def kind(self) -> str:
        """Short name for traces and figures, e.g. ``"Prepare"``."""
        return type(self).__name__


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

    def extend(self, other: Step) -> None:
        """Merge ``other`` into this step (messages and events in order)."""
        self.messages.extend(other.messages)
        self.events.extend(other.events)
        self.delay_us += other.delay_us
        if other.wake_at_us is not None:
            self.wake_at_us = (
                other.wake_at_us
                if self.wake_at_us is None
                else min(self.wake_at_us, other.wake_at_us)
            )
