"""The primary's per-backup progress only grows within a view and feeds the quorum rule.

A late or duplicated PrepareOk/CommitOk never lowers what a backup is known to hold;
a probe the primary never sent confirms nothing; reset forgets every backup but keeps
the primary's own durable commit.
"""

from __future__ import annotations

from clobkit.replication.primary import BackupProgress


def test_answers_only_raise_progress_and_decide_by_majority() -> None:
    p = BackupProgress()
    p.reset(own=0, own_durable_commit=2)
    p.on_prepare_ok(1, op=7, commit=3)
    p.on_prepare_ok(1, op=5, commit=1)
    p.on_prepare_ok(2, op=4, commit=4)
    assert (p.acked_op(1), p.acked_op(2), p.acked_op(3)) == (7, 4, 0)
    assert p.durable_on_quorum(own_durable_op=6, quorum=2) == 6
    assert p.durable_on_quorum(own_durable_op=6, quorum=3) == 4
    assert p.commit_known_by_quorum(0, own_durable_commit=3, quorum=2) == 3  # 4, 3, 3
    p.on_commit_ok(1, commit=5, probe=9)
    p.on_commit_ok(1, commit=2, probe=4)
    p.on_commit_ok(2, commit=5, probe=None)
    assert p.probe_acked == {1: 9}
    assert p.confirmed_probe(own_probe=10, quorum=2) == 9
    assert p.confirmed_probe(own_probe=10, quorum=3) == 0
    p.reset(own=0, own_durable_commit=5)
    assert (p.acked, p.known_commit, p.probe_acked) == ({}, {0: 5}, {})
