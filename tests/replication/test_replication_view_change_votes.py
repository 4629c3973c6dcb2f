"""The new primary adopts the log with the largest (last_normal_view, op), lowest index on ties.

``choose_log`` picks among the DoViewChanges a new primary collected; the commit number
it returns is the highest any of them reported. ``ViewChangeVotes`` counts each
StartViewChange voter once and starts every view change with only its own vote.
"""

from __future__ import annotations

from clobkit.replication.messages import DoViewChange
from clobkit.replication.view_change import ViewChangeVotes, choose_log


def _dvc(source: int, last_normal_view: int, op: int, commit: int) -> DoViewChange:
    return DoViewChange(
        cluster_id="c",
        source=f"n{source}",
        target="n0",
        view=5,
        last_normal_view=last_normal_view,
        op=op,
        commit=commit,
        base_op=op,
        snapshot=None,
        entries=(),
    )


def test_the_newest_normal_view_wins_over_a_longer_log() -> None:
    dvcs = {0: _dvc(0, 1, 9, 4), 1: _dvc(1, 2, 6, 5), 2: _dvc(2, 2, 5, 6)}
    index, best, commit = choose_log(dvcs)
    assert (index, best.op, commit) == (1, 6, 6)


def test_ties_go_to_the_lowest_index_whatever_the_order() -> None:
    a, b = _dvc(3, 2, 7, 1), _dvc(1, 2, 7, 2)
    assert choose_log({3: a, 1: b})[0] == 1
    assert choose_log({1: b, 3: a})[0] == 1


def test_votes_count_each_replica_once_and_reset_per_view() -> None:
    votes = ViewChangeVotes()
    votes.reset(own=2)
    for source in (0, 0, 1):
        votes.add_start_view_change(source)
    assert votes.start_view_change_from == {0, 1, 2}
    votes.add_do_view_change(1, _dvc(1, 0, 1, 0))
    votes.dvc_sent = True
    votes.reset(own=2)
    assert (votes.start_view_change_from, votes.do_view_change, votes.dvc_sent) == ({2}, {}, False)
