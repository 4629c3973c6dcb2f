"""Proves the real-process host keeps a learner a learner across a kill -9 (issue 11/12): a
backup whose ``wal.log`` was deleted restarts as a learner; killed before it could catch up
(its peers are down) and started again, it is still a learner, not a voter with an empty
log, and once its peers return it catches up and the disks hold one committed sequence with
every acknowledged write. Method: a three-process :class:`~clobkit.proc.ProcessCluster` on
127.0.0.1, faults through the operating system, status read from each node's status file."""

from __future__ import annotations

import sys

import pytest

from clobkit.proc import ProcessCluster

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and PDEATHSIG: Linux")


def _row(c: ProcessCluster, node: str) -> dict[str, object]:
    return next(r for r in c.node_rows() if r["node"] == node)


def test_a_killed_learner_restarts_as_a_learner() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        first = c.place("alice", "buy", price="99", qty=1)
        second = c.place("bob", "buy", price="98", qty=2)
        assert c.run_until(lambda: int(_row(c, "n2").get("commit", 0)) >= second.op, 10)
        c.kill("n2")
        (c.path / "n2" / "wal.log").unlink()  # the backup's log is lost, its meta is not
        c.kill("n0")
        c.kill("n1")  # nobody is left to teach it
        c.restart("n2")
        assert c.run_until(lambda: _row(c, "n2").get("status") == "learner", 10), c.node_rows()
        c.kill("n2")
        c.restart("n2")
        assert c.run_until(lambda: _row(c, "n2").get("status") == "learner", 10), c.node_rows()
        c.pump(0.5)
        assert _row(c, "n2").get("status") == "learner", c.node_rows()
        c.restart("n0")
        c.restart("n1")
        caught_up = lambda: (
            _row(c, "n2").get("status") == "normal"
            and int(_row(c, "n2").get("commit", 0)) >= second.op
        )
        assert c.run_until(caught_up, 15), c.node_rows()
        assert {first.order_id, second.order_id} <= {o.order_id for o in c.live_orders()}
    assert c.disk_violations == []
