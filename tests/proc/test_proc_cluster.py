"""Real processes: kill -9, a crash inside an fsync and garbage on the wire lose nothing.

Method: a :class:`~clobkit.proc.ProcessCluster` of three OS processes on 127.0.0.1 with real
fdatasync takes a stream of writes from several clients; faults go through the operating
system (SIGKILL, a node that kills itself part-way through a WAL write, raw bytes on a node's
port). After each fault every acknowledged write must still be readable through the read path,
the linearizability checker must accept the wall-clock history, and after ``close()`` the WAL
files on disk must hold one committed sequence containing every acknowledged write. Each test
is bounded by wall-clock timeouts; every process started is checked gone by PID.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clobkit.errors import InvalidArgument, InvalidType, Unavailable
from clobkit.proc import ProcessCluster
from clobkit.proc.torture import Workload
from clobkit.proc.wire import HEADER_SIZE, encode_frame
from clobkit.replication.messages import Commit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals and PDEATHSIG: Linux")


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers kill(0): read its state.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return True
    return state == "Z"


def _acked_order_ids(work: Workload) -> set[int]:
    return {
        c.value.order_id
        for c in work.acked_writes()
        if c.kind == "place" and c.error is None and c.value.resting_qty > 0
    }


def _commit_of(c: ProcessCluster, node: str) -> int:
    row = next(r for r in c.node_rows() if r["node"] == node)
    return int(row.get("commit", 0))


def _assert_all_there(c: ProcessCluster, work: Workload) -> None:
    live = {o.order_id for o in c.live_orders()}
    missing = _acked_order_ids(work) - live
    assert not missing, f"acknowledged orders missing after the fault: {sorted(missing)[:10]}"


def test_kill9_primary_mid_stream_loses_no_acknowledged_write() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        work = Workload(c, 4, seed=1, side="buy", cancel_share=0, read_share=0, prices=("99",))
        work.run(1.0)
        old = c.primary
        assert old is not None
        c.kill(old)
        work.run(1.5)
        new = c.wait_for_primary(10, other_than=old)
        work.run(0.5)
        work.drain(10)
        assert len(work.acked_writes()) > 20
        _assert_all_there(c, work)
        # Bring the killed node back, let it catch up, then make it necessary for a majority.
        c.restart(old)
        top = max(op for *_x, op in c.acks)
        assert c.run_until(lambda: _commit_of(c, old) >= top, 15), c.node_rows()
        c.kill(new)
        c.wait_for_primary(10, other_than=new)
        _assert_all_there(c, work)
        views = {r["node"]: r.get("view") for r in c.node_rows()}
        assert max(v for v in views.values() if v is not None) >= 2, views
    assert c.disk_violations == []
    verdict = c.check(timeout_s=60)
    assert verdict.verdict == "ok", verdict


def test_node_killed_inside_an_fsync_recovers_its_torn_tail() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        work = Workload(c, 3, seed=2, side="buy", cancel_share=0, read_share=0, prices=("98",))
        work.run(0.5)
        victim = c.primary
        assert victim is not None
        c.die_in_sync(victim, after=10)
        deadline = time.monotonic() + 10
        while c.alive(victim) and time.monotonic() < deadline:
            work.run(0.1)
        assert not c.alive(victim), "the node did not die in its sync"
        work.run(1.5)
        work.drain(10)
        _assert_all_there(c, work)
        c.restart(victim)
        row = next(r for r in c.node_rows() if r["node"] == victim)
        assert row["torn_tail"] is True, row
        top = max(op for *_x, op in c.acks)
        assert c.run_until(lambda: _commit_of(c, victim) >= top, 15), c.node_rows()
        _assert_all_there(c, work)
    assert c.disk_violations == []


def test_kill9_of_every_node_at_once_keeps_every_acknowledged_write() -> None:
    # The page cache survives kill -9, but bytes still in the process (an unsynced WAL buffer)
    # do not: this is the test that catches a host sending before its store synced.
    with ProcessCluster(3, timeout_ms=8_000) as c:
        work = Workload(c, 4, seed=3, side="sell", cancel_share=0, read_share=0, prices=("101",))
        work.run(1.5)
        for name in c.replica_names:
            c.kill(name)
        work.run(0.2)
        for name in c.replica_names:
            c.restart(name)
        work.drain(15)
        try:
            live: set[int] | None = {o.order_id for o in c.live_orders()}
        except Unavailable:
            live = None  # judged below, after the disks
    # The disks first: they name the lost write (op, client) if there is one.
    assert c.disk_violations == [], [str(v) for v in c.disk_violations[:5]]
    assert live is not None, "no read answered after the restart"
    assert _acked_order_ids(work) <= live


def test_garbage_on_a_node_port_changes_nothing() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        op = c.place("alice", "sell", price="100.50", qty=5).op
        before = c.depth()
        everyone = c.run_until(lambda: all(_commit_of(c, n) >= op for n in c.replica_names), 10)
        assert everyone, c.node_rows()
        commits = {n: _commit_of(c, n) for n in c.replica_names}
        good = Commit(cluster_id="clobkit", source="n1", target="n0", view=0, commit=1)
        frame = encode_frame(good)
        foreign = encode_frame(
            Commit(cluster_id="someone-else", source="n1", target="n0", view=9, commit=99)
        )
        bad_sum = (
            frame[: HEADER_SIZE - 1] + bytes([frame[HEADER_SIZE - 1] ^ 1]) + frame[HEADER_SIZE:]
        )
        junk = [
            os.urandom(4096),
            b"GET / HTTP/1.1\r\n\r\n",
            bad_sum,
            frame[: len(frame) // 2],  # truncated, then the connection closes
            foreign,
            b"CKF1" + b"\x01\x00\x00\x00" + b"\xff\xff\xff\x7f",  # absurd length
        ]
        for name in c.replica_names:
            for blob in junk:
                with socket.create_connection(("127.0.0.1", c.ports[name]), timeout=2) as s:
                    s.sendall(blob)
        time.sleep(0.3)
        assert all(c.alive(n) for n in c.replica_names)
        assert c.depth() == before
        assert {n: _commit_of(c, n) for n in c.replica_names} == commits
        c.place("bob", "buy", price="100.50", qty=2)
        assert c.depth()["asks"] == [(10050, 3, 1)]
        rows = c.node_rows()
        assert all(r["dropped"] >= 4 for r in rows), rows
    assert c.disk_violations == []


def test_close_leaves_no_process_behind_even_when_the_body_fails() -> None:
    with pytest.raises(RuntimeError, match="boom"), ProcessCluster(3) as c:
        pids = list(c.pids_started)
        c.pause(c.replica_names[1])
        c.kill(c.replica_names[2])
        raise RuntimeError("boom")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    assert len(pids) == 4 and all(_gone(p) for p in pids), pids


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_no_orphan_survives_the_python_session(tmp_path: Path, ending: str) -> None:
    script = (
        "import os, sys, time\n"
        "from clobkit.proc import ProcessCluster\n"
        f"c = ProcessCluster(3, path={str(tmp_path)!r})\n"
        "print(' '.join(map(str, c.pids_started)), flush=True)\n"
        "sys.stdout.close()\n" + ("time.sleep(60)\n" if ending == "sigkill" else "")
    )
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdout is not None
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 4
    if ending == "sigkill":
        proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.05)
    assert all(_gone(p) for p in pids), [p for p in pids if not _gone(p)]
    assert (tmp_path / "n0" / "wal.log").exists()  # a given path is kept


def test_bad_arguments_start_nothing_and_bad_calls_change_nothing(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for kwargs, error in [
        ({"nodes": 2}, InvalidArgument),
        ({"nodes": "3"}, InvalidType),
        ({"sync": "sometimes"}, InvalidArgument),
        ({"read_mode": "fastest"}, InvalidArgument),
        ({"path": a_file}, InvalidArgument),
        ({"timeout_ms": 0}, InvalidArgument),
    ]:
        with pytest.raises(error):
            ProcessCluster(**kwargs)  # type: ignore[arg-type]
    assert a_file.read_text() == "x"
    with ProcessCluster(3, path=tmp_path / "c") as c:
        c.place("alice", "buy", price="99", qty=1)
        calls = len(c.history)
        for bad in [
            lambda: c.place("alice", "buy", price="99.001", qty=1),
            lambda: c.place("alice", "sideways", price="99", qty=1),
            lambda: c.place("", "buy", price="99", qty=1),
            lambda: c.submit("alice", "explode"),
            lambda: c.kill("n9"),
            lambda: c.partition({"n0"}),
        ]:
            with pytest.raises((InvalidArgument, InvalidType)):
                bad()
        assert len(c.history) == calls
        assert [o.qty for o in c.live_orders()] == [1]


def test_a_partitioned_primary_is_replaced_and_rejoins_after_heal() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        first = c.place("alice", "buy", price="99", qty=1)
        c.partition({"n0"}, {"n1", "n2"})
        new = c.wait_for_primary(10, other_than="n0")
        second = c.place("bob", "buy", price="98", qty=2)
        c.heal()
        assert c.run_until(lambda: _commit_of(c, "n0") >= second.op, 10), c.node_rows()
        views = {r["node"]: r["view"] for r in c.node_rows()}
        assert views["n0"] == views[new] >= 1, views
        assert {first.order_id, second.order_id} <= {o.order_id for o in c.live_orders()}
    assert c.disk_violations == []
