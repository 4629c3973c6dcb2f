"""State transfer: how a replica that is behind gets the log and state it lacks.

Three paths, one shape (ask, then adopt what a primary sends):

* **Catch-up** (``GetState``/``NewState``): a backup that sees a gap, a commit number past
  its log, or a newer view asks the primary for everything after an op. :class:`CatchUp`
  holds whether it is waiting for an answer and when to ask again; :func:`catch_up_after`
  says from which op to ask (only from the committed prefix when the rest of its log may
  be a dead suffix).
* **Log shipping** (``NewState``, ``StartView``, ``DoViewChange``, ``RecoveryResponse``):
  :func:`log_suffix` collects the entries after an op, read and verified from the log,
  with the snapshot when the log was compacted past that op.
* **Learners** (``Recovery``/``RecoveryResponse``): a replica with an empty or damaged disk
  counts in no quorum until a majority (the current primary among them, with its log)
  answered its nonce. :class:`LearnerRecovery` collects the answers and decides.
"""

from __future__ import annotations

from collections.abc import Callable

from clobkit.replication.journal import Journal
from clobkit.replication.messages import RecoveryResponse
from clobkit.storage.base import LogEntry, Snapshot

__all__ = ["CatchUp", "LearnerRecovery", "catch_up_after", "log_suffix"]


def catch_up_after(
    *, op_number: int, commit_number: int, awaiting_state: bool, in_normal_view: bool
) -> int:
    """The op after which to ask the primary for its log: our whole log when it is part
    of the current view, else only its committed prefix (the rest may be cut).

    >>> catch_up_after(op_number=9, commit_number=6, awaiting_state=False, in_normal_view=True)
    9
    >>> catch_up_after(op_number=9, commit_number=6, awaiting_state=True, in_normal_view=True)
    6
    """
    if awaiting_state or not in_normal_view:
        return min(commit_number, op_number)
    return op_number


class CatchUp:
    """A backup's catch-up with the primary: waiting for a ``NewState`` or not, and when the
    next ``GetState`` may go out.

    >>> c = CatchUp(now=0)
    >>> c.awaiting, c.may_ask(now=0, force=False)
    (False, True)
    """

    __slots__ = ("awaiting", "retry_at")

    def __init__(self, now: int) -> None:
        self.awaiting = False
        self.retry_at = now

    def may_ask(self, now: int, *, force: bool) -> bool:
        """Whether a ``GetState`` may be sent at ``now`` (``force``: whatever the timer)."""
        return force or now >= self.retry_at


def log_suffix(
    journal: Journal,
    load_snapshot: Callable[[], Snapshot | None],
    *,
    after: int,
) -> tuple[int, Snapshot | None, tuple[LogEntry, ...]] | None:
    """``(base_op, snapshot, entries)``: the log after ``after``, starting from the snapshot
    when the log was compacted past ``after``. ``None`` when an entry fails its checksum
    (the journal marks it; the replica cannot vouch for its log and sends nothing).
    O(entries shipped)."""
    snapshot = None
    base = after
    if after < journal.snapshot_floor:
        snapshot = load_snapshot()
        assert snapshot is not None and snapshot.op == journal.snapshot_floor
        base = snapshot.op
    last = journal.last_op
    base = min(base, last)
    found = [journal.entry(op) for op in range(base + 1, last + 1)]
    entries = tuple(e for e in found if e is not None)
    if len(entries) != len(found):
        return None
    return base, snapshot, entries


class LearnerRecovery:
    """A learner's ``Recovery`` round: its nonce and the answers to it, one per replica.

    The learner is done when a majority answered and the answer of the primary of the
    highest view reported is among them, with a log reaching the highest commit number
    any of them reported (an older answer is dropped and asked again).
    """

    __slots__ = ("nonce", "responses")

    def __init__(self) -> None:
        self.nonce = 0
        self.responses: dict[int, RecoveryResponse] = {}

    def start(self, nonce: int) -> None:
        """A new round under ``nonce``."""
        self.nonce = nonce
        self.responses = {}

    def add(
        self, source: int, m: RecoveryResponse, *, quorum: int, primary_of: Callable[[int], int]
    ) -> tuple[int, RecoveryResponse, int] | None:
        """Record ``source``'s answer; ``(view, primary's answer, target commit)`` once the
        round can finish, else ``None``."""
        self.responses[source] = m
        if len(self.responses) < quorum:
            return None
        view = max(r.view for r in self.responses.values())
        primary = self.responses.get(primary_of(view))
        if primary is None or primary.view != view or not primary.has_state:
            return None
        target_commit = max(r.commit for r in self.responses.values())
        if primary.op < target_commit:
            # The primary's answer predates a commit another replica reported: ask again.
            del self.responses[primary_of(view)]
            return None
        return view, primary, target_commit

    def finish(self) -> None:
        """Forget the answers (the learner has caught up)."""
        self.responses = {}
