"""The reads a replica holds until it may answer them, in two bounded queues.

* **Primary reads** (``read_mode="primary"``, the read-index protocol): the primary
  answers once a majority has answered a leadership probe sent after the read arrived
  (``probe``) and it has applied through the commit number it had then (``read_index``).
* **Quorum reads** (``read_mode="quorum"``): any voter answers once it has applied
  through the commit number it knew when the read arrived (``need``).

Each queue keeps arrival order and answers in it. Each holds at most ``limit`` reads: a
replica that cannot keep up drops what does not fit (the client times out and retries,
as after a lost message) instead of growing without bound.
"""

from __future__ import annotations

from typing import NamedTuple

from clobkit.replication.messages import Read

__all__ = ["MAX_WAITING_READS", "PrimaryRead", "QuorumRead", "ReadQueues"]

MAX_WAITING_READS = 10_000
"""How many reads of one kind a replica holds at most (far above what a simulated run
queues: a replica answers or drops its reads within a few heartbeats)."""


class PrimaryRead(NamedTuple):
    """A read the primary answers once ``probe`` is confirmed and ``read_index`` applied."""

    read: Read
    read_index: int
    probe: int


class QuorumRead(NamedTuple):
    """A read a voter answers once it has applied through ``need``."""

    read: Read
    need: int


class ReadQueues:
    """The two waiting-read queues of one replica.

    Invariants: ``len(primary) <= limit`` and ``len(quorum) <= limit``; each queue is in
    arrival order; what :meth:`take_primary` / :meth:`take_quorum` return leaves its queue.

    >>> q = ReadQueues(limit=1)
    >>> r = Read(cluster_id="c", source="client:a", target="n0", view=0, read_id=1,
    ...          mode="quorum", query=("get", "x"))
    >>> q.add_quorum(r, need=3), q.add_quorum(r, need=3)
    (True, False)
    >>> q.take_quorum(applied=2), len(q.take_quorum(applied=3)), len(q.quorum)
    ([], 1, 0)
    """

    __slots__ = ("limit", "primary", "quorum")

    def __init__(self, limit: int = MAX_WAITING_READS) -> None:
        self.limit = limit
        self.primary: list[PrimaryRead] = []
        self.quorum: list[QuorumRead] = []

    def add_primary(self, read: Read, read_index: int, probe: int) -> bool:
        """Queue a primary read; False (nothing queued) when the queue is full."""
        if len(self.primary) >= self.limit:
            return False
        self.primary.append(PrimaryRead(read, read_index, probe))
        return True

    def add_quorum(self, read: Read, need: int) -> bool:
        """Queue a quorum read; False (nothing queued) when the queue is full."""
        if len(self.quorum) >= self.limit:
            return False
        self.quorum.append(QuorumRead(read, need))
        return True

    def take_primary(self, confirmed: int, applied: int) -> list[Read]:
        """Remove and return, in arrival order, the primary reads whose probe is
        ``<= confirmed`` and whose read index is ``<= applied``."""
        ready = [w.read for w in self.primary if confirmed >= w.probe and applied >= w.read_index]
        if ready:
            self.primary = [
                w for w in self.primary if not (confirmed >= w.probe and applied >= w.read_index)
            ]
        return ready

    def take_quorum(self, applied: int) -> list[Read]:
        """Remove and return, in arrival order, the quorum reads with ``need <= applied``."""
        ready = [w.read for w in self.quorum if applied >= w.need]
        if ready:
            self.quorum = [w for w in self.quorum if applied < w.need]
        return ready

    def clear_primary(self) -> None:
        """Forget the primary reads (leadership lost or in doubt: the clients retry)."""
        self.primary = []

    def clear(self) -> None:
        """Forget every waiting read (the replica stops serving: repair)."""
        self.primary = []
        self.quorum = []
