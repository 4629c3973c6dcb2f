"""A replica's status changes only through its transition table, and its field invariants hold.

``Replica._set_status`` is the one place ``status`` is assigned and it refuses any change
not in ``STATUS_TRANSITIONS`` (a learner only while opening). ``Replica._check`` fails on
each broken field invariant; the suite runs it after every step of every replica
(``tests/conftest.py``), so the protocol and chaos tests exercise it.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import clobkit.replication.replica as replica_module
from clobkit.replication import ClusterConfig, KvMachine, Replica
from clobkit.replication.messages import Request
from clobkit.storage import MemoryStore


def _primary(unsafe: frozenset[str] = frozenset()) -> Replica:
    cfg = ClusterConfig("demo", 1, unsafe=unsafe)
    r = Replica(
        cfg, 0, MemoryStore(cluster_id="demo", replica_id=0), KvMachine(), rng=random.Random(1)
    )
    r.tick(0)
    req = Request(
        cluster_id="demo",
        source="client:a",
        target="n0",
        view=0,
        client_id="a",
        request_number=1,
        payload=KvMachine.append("x", "1"),
    )
    r.handle(req, now=10)
    assert r.commit_number == r.applied_op == r.op_number == 1
    return r


def test_the_suite_checks_every_replica_step() -> None:
    assert Replica.check_invariants


def test_status_is_assigned_in_one_place_only() -> None:
    source = Path(replica_module.__file__).read_text()
    assert len(re.findall(r"self\.status = ", source)) == 1
    assert "self.status = new" in source


@pytest.mark.parametrize(
    ("start", "new"),
    [
        ("normal", "learner"),
        ("learner", "view_change"),
        ("learner", "recovering"),
        ("recovering", "learner"),
    ],
)
def test_an_illegal_status_change_is_refused(start: str, new: str) -> None:
    r = _primary()
    r.status = start  # type: ignore[assignment]
    with pytest.raises(AssertionError, match=f"illegal status change {start} -> {new}"):
        r._set_status(new)  # type: ignore[arg-type]
    assert r.status == start


def test_every_legal_change_is_accepted() -> None:
    r = _primary()
    for old, new in sorted(replica_module.STATUS_TRANSITIONS):
        r.status = old
        r._set_status(new)
        assert r.status == new


@pytest.mark.parametrize(
    ("field", "value", "needle"),
    [
        ("applied_op", 2, "applied past the commit number"),
        ("last_normal_view", 1, "last normal view above the view"),
        ("_durable_op", 2, "durable op above the op number"),
        ("_durable_commit", 2, "durable commit above the commit number"),
        ("_journal.corrupt", {1}, "a corrupt entry in a voter"),
    ],
)
def test_check_fails_on_each_broken_invariant(field: str, value: object, needle: str) -> None:
    r = _primary()
    r._check()
    owner_path, _, name = field.rpartition(".")
    setattr(getattr(r, owner_path) if owner_path else r, name, value)
    with pytest.raises(AssertionError, match=needle):
        r._check()


def test_apply_before_commit_may_apply_past_the_commit_number() -> None:
    r = _primary(frozenset({"apply_before_commit"}))
    r.commit_number = 0
    r._durable_commit = 0
    r._check()  # applied 1 > commit 0 is what the switch allows
    r._unsafe = frozenset()
    with pytest.raises(AssertionError, match="applied past the commit number"):
        r._check()
