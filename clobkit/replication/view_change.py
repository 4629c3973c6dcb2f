"""What a replica collects during a view change, and how the new primary chooses its log.

During the view change to view ``v`` a replica gathers ``StartViewChange`` votes (itself
included); with a majority it sends its log in a ``DoViewChange`` to the new primary
(``v mod n``), which waits for a majority of those (its own included) and adopts the
log with the largest ``(last_normal_view, op)`` (VRR, Liskov & Cowling 2012, section 4.2),
the lowest replica index breaking ties, and the largest commit number any of them reported.

With ``prevote=True`` (the default) a view change is preceded by a pre-vote round (Raft's
PreVote, Ongaro's thesis 9.6): a backup whose primary went quiet sends ``PreViewChange`` for
``view + 1`` *without* raising its own view, and moves to that view only once a majority
(itself included) answers ``PreViewChangeOk``. A replica grants only when it has no live
primary itself (:func:`grants_prevote`): so an isolated replica's view never climbs, and a
replica that rejoins cannot drag a healthy majority into a view change it does not need.
Safety does not depend on the round (it only withholds view changes); the view change
itself is unchanged.
"""

from __future__ import annotations

from typing import Literal

from clobkit.replication.messages import DoViewChange

__all__ = ["PreVotes", "ViewChangeVotes", "choose_log", "grants_prevote"]


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


def grants_prevote(
    *,
    proposed: int,
    view: int,
    status: Literal["normal", "view_change", "recovering", "learner"],
    is_primary: bool,
    primary_has_quorum: bool,
    heard_primary_us_ago: int,
    timeout_min_us: int,
) -> bool:
    """Would this replica support a view change to ``proposed``? (The pre-vote rule.)

    Only a voter grants, only for a view above its own, and only when it has no live
    primary: it is running a view change itself, or it is a backup that has not heard from
    its primary for at least the minimum view-change timeout, or it is a primary that has
    heard from no majority for that long (CheckQuorum). A replica that hears from a live
    primary refuses, so one cut-off replica cannot move a healthy majority.

    >>> rule = dict(view=3, status="normal", is_primary=False, primary_has_quorum=False,
    ...             timeout_min_us=80_000)
    >>> grants_prevote(proposed=4, heard_primary_us_ago=5_000, **rule)
    False
    >>> grants_prevote(proposed=4, heard_primary_us_ago=90_000, **rule)
    True
    >>> grants_prevote(proposed=3, heard_primary_us_ago=90_000, **rule)
    False
    """
    if proposed <= view or status not in ("normal", "view_change"):
        return False
    if status == "view_change":
        return True
    if is_primary:
        return not primary_has_quorum
    return heard_primary_us_ago >= timeout_min_us


class PreVotes:
    """The pre-vote round a replica is running, if any: the view it proposes and who agreed.

    Invariant: ``granted`` holds this replica's own index once :meth:`start` ran; a grant
    counts only for the ``proposed`` view of the current round (:meth:`add` says whether it
    counted), and :meth:`clear` ends the round.

    >>> pv = PreVotes()
    >>> pv.start(own=1, proposed=5)
    >>> pv.add(2, proposed=4), pv.add(2, proposed=5), pv.add(2, proposed=5), len(pv.granted)
    (False, True, True, 2)
    >>> pv.clear(); pv.proposed is None
    True
    """

    __slots__ = ("granted", "proposed")

    def __init__(self) -> None:
        self.proposed: int | None = None
        self.granted: set[int] = set()

    def start(self, own: int, proposed: int) -> None:
        """A new round for ``proposed``: only our own grant so far."""
        self.proposed = proposed
        self.granted = {own}

    def add(self, source: int, *, proposed: int) -> bool:
        """Count ``source``'s grant if it is for this round's view (a duplicate counts once)."""
        if self.proposed is None or proposed != self.proposed:
            return False
        self.granted.add(source)
        return True

    def clear(self) -> None:
        """No round running (we heard from a primary, or moved to a new view)."""
        self.proposed = None
        self.granted = set()
