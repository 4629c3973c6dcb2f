"""Proves that disk trouble and operator mistakes stop at most the replica they hit, with a
reason: a hidden bit flip met during a view change goes through repair, a real I/O error
(short write, permission) crashes that replica with the error in the trace, a read error
found at restart is recovered from peers, a storage path holding someone else's files is
refused and left untouched, clobkit's own earlier state is reopened only when asked, and a
cluster that can never answer says why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import clobkit as ck
import clobkit.storage.disk as disk_module
from clobkit.errors import OutcomeUnknown


@pytest.mark.parametrize("victim", ["n1", "n2"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bit_flip_then_view_change_goes_through_repair(victim: str, seed: int) -> None:
    with ck.Cluster(3, seed=seed, storage="memory") as c:
        for k in range(4):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.disk_fault(victim, "bit_flip", op=2)
        c.crash("n0")
        c.run(ms=500)  # the view change reads the flipped record: repair, never a crash
        c.restart("n0")
        c.run(ms=500)
        assert c.primary is not None
        assert len(c.live_orders()) == 4
        kinds = [r.kind for r in c.trace.select(node=victim)]
        assert "repaired" in kinds
        assert c.violations == []


def test_short_write_crashes_that_replica_not_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ck.Cluster(3, seed=1, storage=tmp_path / "c") as c:
        c.place("alice", "buy", price="99", qty=1)
        real = os.pwrite

        def short(fd: int, data: bytes, offset: int) -> int:
            if "/n1/" in os.readlink(f"/proc/self/fd/{fd}"):
                return max(0, len(data) - 3)  # what a full disk does
            return real(fd, data, offset)

        monkeypatch.setattr(disk_module.os, "pwrite", short)
        assert c.place("alice", "buy", price="98", qty=1).status == "resting"
        (error,) = [r for r in c.trace.select(node="n1") if r.kind == "disk_error"]
        assert "short write" in str(error) and "n1" in str(error)
        assert c.nodes["n1"].status == "crashed"


def test_permission_error_at_restart_leaves_the_replica_down_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ck.Cluster(3, seed=1, storage=tmp_path / "c") as c:
        c.place("alice", "buy", price="99", qty=1)
        c.crash("n2")

        def denied(path: str, *args: object, **kwargs: object) -> object:
            raise PermissionError(13, "Permission denied", str(path))

        # (as a read-only or foreign-owned directory does; the tests may run as root)
        monkeypatch.setattr(disk_module, "open", denied, raising=False)
        c.restart("n2")
        monkeypatch.undo()
        assert c.nodes["n2"].status == "crashed"
        (error,) = [r for r in c.trace.select(node="n2") if r.kind == "disk_error"]
        assert "PermissionError" in str(error)
        assert len(c.live_orders()) == 1
        c.restart("n2")
        c.run(ms=200)
        assert c.nodes["n2"].status == "normal"


def test_restart_after_read_error_recovers_from_peers() -> None:
    with ck.Cluster(3, seed=1, storage="memory") as c:
        for k in range(3):
            c.place("alice", "buy", price=f"{99 + k}", qty=1)
        c.disk_fault("n2", "read_error", op=2)
        c.restart("n2")
        c.run(ms=300)
        row = c.node_rows()[2]
        assert (row["role"], row["op_number"]) == ("backup", 3)
        kinds = [r.kind for r in c.trace.select(node="n2")]
        assert "damaged_disk" in kinds and "learner_caught_up" in kinds
        assert c.violations == []


def test_foreign_directory_is_refused_and_untouched(tmp_path: Path) -> None:
    (tmp_path / "n0").mkdir()
    (tmp_path / "n0" / "thesis.txt").write_text("four years of work")
    with pytest.raises(ck.InvalidArgument, match=r"n0.*not empty \(thesis.txt\).*not created"):
        ck.Cluster(3, seed=1, storage=tmp_path)
    assert (tmp_path / "n0" / "thesis.txt").read_text() == "four years of work"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n0"]


def test_own_state_is_reopened_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "cluster"
    with ck.Cluster(3, seed=1, storage=path) as c:
        order = c.place("alice", "buy", price="99", qty=1)
        c.replace("n1")
        c.run(ms=300)
    before = {p.name: sorted(q.name for q in p.iterdir()) for p in path.iterdir()}
    with pytest.raises(ck.InvalidArgument, match="reopen=True"):
        ck.Cluster(3, seed=1, storage=path)
    assert {p.name: sorted(q.name for q in p.iterdir()) for p in path.iterdir()} == before
    with ck.Cluster(3, seed=1, storage=path, reopen=True) as again:
        again.run(ms=500)
        assert [o.order_id for o in again.live_orders()] == [order.order_id]
    with pytest.raises(ck.InvalidArgument, match="reopen=True needs a storage path"):
        ck.Cluster(3, seed=1, storage="memory", reopen=True)


def test_a_permanently_stuck_cluster_says_why() -> None:
    with ck.Cluster(3, seed=1, storage="memory") as c:
        c.place("alice", "buy", price="99", qty=1)
        for name in c.replica_names:
            c.lose_file(name, "meta")
        for name in c.replica_names:
            c.restart(name)
        c.run(ms=200)
        why = c.diagnose()
        assert "can vote" in why and "learning" in why
        assert "every replica is up and connected" not in why
        with pytest.raises(OutcomeUnknown, match="learning"):
            c.place("alice", "buy", price="98", qty=1)
