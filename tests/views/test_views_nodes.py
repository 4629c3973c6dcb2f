"""Node, log, WAL and recovery views agree with the replicas they describe.

Method: a seeded 3-node cluster with four committed orders; the frames are compared with the
node handles (status, numbers), with each other (a running node's log and its WAL describe the
same commands) and with hand-written command descriptions; crashed nodes keep their WAL.
"""

from __future__ import annotations

import pytest

import clobkit as ck
import clobkit.views as cv
from clobkit.errors import InvalidArgument, InvalidType
from tests.views.scenarios import assert_schema, crash_cluster, quiet_cluster


def test_nodes_matches_handles() -> None:
    c = quiet_cluster()
    frame = cv.nodes(c)
    assert_schema(frame, cv.NODE_COLUMNS)
    for row in frame.itertuples(index=False):
        handle = c.nodes[row.node]
        assert (row.role, row.status, row.view) == (handle.role, handle.status, handle.view)
        assert (row.op_number, row.commit_number) == (handle.op_number, handle.commit_number)
        assert row.applied_op == handle.replica.applied_op
    c.crash("n2")
    down = cv.nodes(c).set_index("node").loc["n2"]
    assert (bool(down.up), down.role, down.status) == (False, "down", "crashed")
    assert down.isna()["op_number"]


def test_one_node_table_for_cluster_and_views() -> None:
    """c.nodes_df(), c.node_rows() and cv.nodes(c) are one table: same columns, dtypes and
    values (op_number/commit_number, the protocol's words), before and after a crash."""
    from clobkit.sim.nodes import NODE_COLUMNS

    c = quiet_cluster()
    for _ in range(2):
        frame = c.nodes_df()
        assert cv.NODE_COLUMNS is NODE_COLUMNS
        assert_schema(frame, NODE_COLUMNS)
        assert frame.equals(cv.nodes(c))
        assert [list(row) for row in c.node_rows()] == [list(NODE_COLUMNS)] * 3
        c.crash("n2")


def test_node_log_rows() -> None:
    c = quiet_cluster()
    log = cv.node_log(c)
    assert_schema(log, cv.NODE_LOG_COLUMNS)
    assert log.groupby("node")["op"].apply(list).to_dict() == {n: [1, 2, 3, 4] for n in c.nodes}
    assert log["committed"].all() and log["synced"].all() and not log["noop"].any()
    first = log[(log.node == "n1") & (log.op == 1)].iloc[0]
    assert first.command == "place alice sell 10 @ 100.50 gtc"
    assert (first.client_id, first.request_number, first.view) == ("alice", 1, 0)
    c.crash("n1")
    assert "n1" not in set(cv.node_log(c).node)
    assert len(cv.node_log(c, "n1")) == 0


def test_wal_matches_log_and_survives_crash() -> None:
    c = quiet_cluster()
    log = cv.node_log(c, "n2")
    c.crash("n2")
    w = cv.wal(c, "n2")
    assert_schema(w, cv.WAL_COLUMNS)
    assert w["op"].tolist() == log["op"].tolist()
    assert w["command"].tolist() == log["command"].tolist()
    assert w["checksum_ok"].all()
    assert set(cv.wal(c).node) == {"n0", "n1", "n2"}
    store_rows = cv.wal(c.nodes["n0"].store, "n0", spec=c.market)  # a store has no market
    assert store_rows.equals(cv.wal(c, "n0"))


def test_failover_log_has_a_noop_of_the_new_view() -> None:
    c = quiet_cluster()
    c.crash("n0")
    c.run(ms=400)
    log = cv.node_log(c, c.primary)
    noop = log[log.noop]
    assert len(noop) >= 1
    assert noop.iloc[0].command == "no-op" and noop.iloc[0].view >= 1
    assert (noop.iloc[0].client_id, noop.iloc[0].request_number) == ("", 0)


def test_recovery_report_after_restart() -> None:
    c, _ = crash_cluster()
    rec = cv.recovery(c, "n2")
    assert_schema(rec, cv.RECOVERY_COLUMNS)
    assert rec.iloc[0].kind == "log"
    assert rec.iloc[0].first_op == 1
    assert set(cv.recovery(c).node) == {"n0", "n1", "n2"}


def test_fresh_cluster_gives_empty_frames() -> None:
    c = ck.Cluster(nodes=3, seed=5, storage="memory")
    for view, columns in ((cv.node_log, cv.NODE_LOG_COLUMNS), (cv.wal, cv.WAL_COLUMNS)):
        frame = view(c)
        assert len(frame) == 0
        assert_schema(frame, columns)


def test_bad_arguments() -> None:
    c = quiet_cluster()
    with pytest.raises(InvalidArgument, match="zz"):
        cv.node_log(c, "zz")
    with pytest.raises(InvalidArgument, match="zz"):
        cv.wal(c, "zz")
    with pytest.raises(InvalidType):
        cv.wal(42)
    with pytest.raises(InvalidType):
        cv.nodes("cluster")


def test_crashed_file_store_is_read_through_a_copy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    c = ck.Cluster(nodes=3, seed=2, storage=tmp_path)
    c.place("alice", "buy", price=1, qty=1)
    c.run(ms=20)
    c.crash("n1")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    w = cv.wal(c, "n1")
    assert w["op"].tolist() == [1]
    assert cv.recovery(c, "n1").iloc[0].kind == "log"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before  # nothing written next to it
    c.restart("n1")
    c.run(ms=50)
    assert cv.node_log(c, "n1")["op"].tolist() == [1]
    c.close()
