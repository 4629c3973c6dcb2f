"""What a replica collects during a view change, and how the new primary chooses its log.

During the view change to view ``v`` a replica gathers ``StartViewChange`` votes (itself
included); with a majority it sends its log in a ``DoViewChange`` to the new primary
(``v mod n``), which waits for a majority of those (its own included) and adopts the
log with the largest ``(last_normal_view, op)`` (VRR, Liskov & Cowling 2012, section 4.2),
the lowest replica index breaking ties, and the largest commit number any of them reported.
"""

from __future__ import annotations

from clobkit.replication.messages import DoViewChange

__all__ = ["ViewChangeVotes", "choose_log"]


def choose_log(dvcs: dict[int, DoViewChange]) -> tuple[int, DoViewChange, int]:
    """``(index, message, commit)``: the replica whose log the new primary adopts, its
    ``DoViewChange``, and the highest commit number among ``dvcs`` (not empty).

    The log with the largest ``(last_normal_view, op)`` holds every committed op: a
    committed op is in the log of a majority, which meets every majority of DoViewChanges.
    Ties go to the lowest index (any of them would do; this keeps runs reproducible).
    """
    index, best = max(dvcs.items(), key=lambda kv: (kv[1].last_normal_view, kv[1].op, -kv[0]))
    return index, best, max(d.commit for d in dvcs.values())


class ViewChangeVotes:
    """The votes of the view change a replica is running (reset for each new view).

    Invariants: ``start_view_change_from`` holds this replica's own index once
    :meth:`reset`; ``do_view_change`` is filled only at the new primary (the DoViewChanges
    it received, its own included once it has sent it); ``dvc_sent`` says this replica has
    sent (or, at the new primary, recorded) its own DoViewChange in this view.

    >>> votes = ViewChangeVotes()
    >>> votes.reset(own=0)
    >>> votes.add_start_view_change(2)
    >>> len(votes.start_view_change_from), votes.dvc_sent
    (2, False)
    """

    __slots__ = ("do_view_change", "dvc_sent", "start_view_change_from")

    def __init__(self) -> None:
        self.start_view_change_from: set[int] = set()
        self.do_view_change: dict[int, DoViewChange] = {}
        self.dvc_sent = False

    def reset(self, own: int) -> None:
        """A new view change: only our own StartViewChange vote so far."""
        self.start_view_change_from = {own}
        self.do_view_change = {}
        self.dvc_sent = False

    def add_start_view_change(self, source: int) -> None:
        """Count ``source``'s StartViewChange (a duplicate counts once)."""
        self.start_view_change_from.add(source)

    def add_do_view_change(self, source: int, message: DoViewChange) -> None:
        """Keep ``source``'s DoViewChange (a later one replaces an earlier one)."""
        self.do_view_change[source] = message

    def clear_do_view_changes(self) -> None:
        """Forget the collected DoViewChanges (the view change finished)."""
        self.do_view_change = {}
