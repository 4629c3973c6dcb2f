"""The reads a replica holds until it may answer them, in two bounded queues.

* **Primary reads** (``read_mode="primary"``, the read-index protocol): the primary
  answers once a majority has answered a leadership probe sent after the read arrived
  (``probe``) and it has applied through the commit number it had then (``read_index``).
* **Quorum reads** (``read_mode="quorum"``): any voter answers once it has applied
  through the commit number it knew when the read arrived (``need``).

Each queue keeps arrival order and answers in it. Each holds at most ``limit`` reads: a
replica that cannot keep up drops what does not fit (the client times out and retries,
as after a lost message) instead of growing without bound.

Two pure decisions of the read path live here, where a lab or a teaching switch can
replace them without touching the replica:

* :func:`primary_read_ready` is the read-index rule (lab L3 swaps it). The replica looks
  it up on this module each time, so ``clobkit.labs.use("L3", fn)`` takes effect at once.
  The unsafe switch ``no_leader_check`` (S13) drops its leadership condition.
* :func:`needs_write_back` is the client's choice between returning a quorum read at
  once and writing its commit number back first. The unsafe switch ``no_write_back``
  (S12) returns at once.
"""

from __future__ import annotations

from typing import NamedTuple

from clobkit.replication.messages import Read

__all__ = [
    "MAX_WAITING_READS",
    "PrimaryRead",
    "QuorumRead",
    "ReadQueues",
    "needs_write_back",
    "primary_read_ready",
]

MAX_WAITING_READS = 10_000
"""How many reads of one kind a replica holds at most (far above what a simulated run
queues: a replica answers or drops its reads within a few heartbeats)."""


class PrimaryRead(NamedTuple):
    """A read the primary answers once ``probe`` is confirmed and ``read_index`` applied."""

    read: Read
    read_index: int
    probe: int


def primary_read_ready(
    read: PrimaryRead, *, confirmed: int, applied: int, commit: int, view_start_op: int
) -> bool:
    """May the primary answer ``read`` now? The read-index rule (Raft's ReadIndex, §6.4).

    Three conditions, each closing one way of answering from stale state:

    1. ``commit >= view_start_op``: an op of this primary's own view (its no-op) has
       committed, so its commit number covers every op committed before it took over (a
       new primary may have inherited committed ops without knowing they committed);
    2. ``confirmed >= read.probe``: a majority answered a leadership probe sent after the
       read arrived, so no newer view had started then (a deposed primary, cut off from
       the majority, would otherwise answer from a state that misses newer writes);
    3. ``applied >= read.read_index``: it has applied every op committed when the read
       arrived.

    ``confirmed`` is the highest probe a majority has answered; ``applied``, ``commit`` and
    ``view_start_op`` are the primary's applied op, commit number and the op of its view's
    no-op. O(1).

    >>> w = PrimaryRead(None, read_index=4, probe=7)  # type: ignore[arg-type]
    >>> primary_read_ready(w, confirmed=7, applied=4, commit=5, view_start_op=5)
    True
    >>> primary_read_ready(w, confirmed=6, applied=4, commit=5, view_start_op=5)  # probe
    False
    >>> primary_read_ready(w, confirmed=7, applied=4, commit=4, view_start_op=5)  # no-op
    False
    """
    return commit >= view_start_op and confirmed >= read.probe and applied >= read.read_index


def needs_write_back(
    replies: int, knowing: int, quorum: int, *, durable_commits: bool, write_back: bool = True
) -> bool:
    """Must a quorum read write its chosen commit number back before returning?

    ``replies`` answers came in (at least ``quorum``), ``knowing`` of them already report the
    chosen (highest) commit number. The read may return at once only when a majority knows
    that commit number durably: ``knowing >= quorum`` in a cluster whose replicas report
    only durable commit numbers (``durable_commits``: read mode ``"quorum"``). Otherwise it
    writes the number back to a majority first (ABD), so that every later read meets a
    replica that knows it. ``write_back=False`` is the unsafe switch ``no_write_back``
    (S12): return at once, and a later read may miss what this one saw. O(1).

    >>> needs_write_back(2, 1, 2, durable_commits=True)  # only one knows: write back
    True
    >>> needs_write_back(2, 2, 2, durable_commits=True)
    False
    >>> needs_write_back(2, 1, 2, durable_commits=True, write_back=False)  # unsafe
    False
    """
    assert replies >= quorum >= 1 and 0 <= knowing <= replies
    if not write_back:
        return False
    return not (knowing >= quorum and durable_commits)


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

    __slots__ = ("check_leadership", "limit", "primary", "quorum")

    def __init__(self, limit: int = MAX_WAITING_READS, *, check_leadership: bool = True) -> None:
        self.limit = limit
        # False only under the unsafe switch no_leader_check (S13): every probe counts as
        # confirmed, so a deposed primary answers from its stale state.
        self.check_leadership = check_leadership
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

    def take_primary(
        self, confirmed: int, applied: int, *, commit: int = 0, view_start_op: int = 0
    ) -> list[Read]:
        """Remove and return, in arrival order, the primary reads that
        :func:`primary_read_ready` says may be answered (``commit`` and ``view_start_op``:
        the primary's commit number and its view's no-op). O(waiting reads)."""
        if not self.check_leadership:
            confirmed = max([confirmed, *(w.probe for w in self.primary)])
        ready_rule = primary_read_ready  # looked up each call: lab L3 may have replaced it
        keep: list[PrimaryRead] = []
        ready: list[Read] = []
        for w in self.primary:
            if ready_rule(
                w, confirmed=confirmed, applied=applied, commit=commit, view_start_op=view_start_op
            ):
                ready.append(w.read)
            else:
                keep.append(w)
        if ready:
            self.primary = keep
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
