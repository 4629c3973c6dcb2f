"""What the primary of a view knows of each backup's progress (etcd's ``tracker/progress.go``).

Three numbers per backup, each only ever raised within a view (a late or duplicated
answer cannot lower it): the highest op it acknowledged durable (``PrepareOk``), the
highest commit number it reported (``PrepareOk``/``CommitOk``; in ``read_mode="quorum"``
a durable one), and the highest leadership probe it answered (``CommitOk``). Each
decision is the :func:`~clobkit.replication.quorum.quorum_value` of one of them with the
primary's own number.
"""

from __future__ import annotations

from clobkit.replication.quorum import quorum_value

__all__ = ["BackupProgress"]


class BackupProgress:
    """Per-backup progress, reset when a replica becomes (or restarts as) primary.

    Invariants: every value only grows until :meth:`reset`; ``acked`` and ``probe_acked``
    hold backups only; ``known_commit`` also holds the primary's own durable commit.

    >>> p = BackupProgress()
    >>> p.reset(own=0, own_durable_commit=0)
    >>> p.on_prepare_ok(1, op=5, commit=3)
    >>> p.on_prepare_ok(1, op=4, commit=2)   # a late duplicate lowers nothing
    >>> p.acked_op(1), p.durable_on_quorum(own_durable_op=6, quorum=2)
    (5, 5)
    """

    __slots__ = ("acked", "known_commit", "probe_acked")

    def __init__(self) -> None:
        self.acked: dict[int, int] = {}
        self.known_commit: dict[int, int] = {}
        self.probe_acked: dict[int, int] = {}

    def reset(self, own: int, own_durable_commit: int) -> None:
        """Forget every backup: a new primary (or a restarted one) starts from nothing."""
        self.acked = {}
        self.known_commit = {own: own_durable_commit}
        self.probe_acked = {}

    def on_prepare_ok(self, backup: int, op: int, commit: int) -> None:
        """``backup`` holds every op through ``op`` durable and knows commit ``commit``."""
        self.acked[backup] = max(self.acked.get(backup, 0), op)
        self.known_commit[backup] = max(self.known_commit.get(backup, 0), commit)

    def on_commit_ok(self, backup: int, commit: int, probe: int | None) -> None:
        """``backup`` knows commit ``commit`` and answered leadership probe ``probe``
        (``None``: the probe is not one this primary sent, so it confirms nothing)."""
        self.known_commit[backup] = max(self.known_commit.get(backup, 0), commit)
        if probe is not None:
            self.probe_acked[backup] = max(self.probe_acked.get(backup, 0), probe)

    def acked_op(self, backup: int) -> int:
        """The highest op ``backup`` acknowledged in this view (0 if none)."""
        return self.acked.get(backup, 0)

    def durable_on_quorum(self, own_durable_op: int, quorum: int) -> int:
        """The highest op durable on a majority, the primary's own log included."""
        return quorum_value([own_durable_op, *self.acked.values()], quorum)

    def commit_known_by_quorum(self, own: int, own_durable_commit: int, quorum: int) -> int:
        """The highest commit number a majority knows (the primary's own durable one)."""
        self.known_commit[own] = own_durable_commit
        return quorum_value(self.known_commit.values(), quorum)

    def confirmed_probe(self, own_probe: int, quorum: int) -> int:
        """The highest leadership probe a majority has answered (the primary's own counts)."""
        return quorum_value([own_probe, *self.probe_acked.values()], quorum)
