"""``clobkit torture`` and the learner path on real processes: short, bounded runs.

Method: the command line runs a few seconds of load with its random nemesis and must print
its summary and a PASS verdict, leaving no process behind; a replica replaced by one on an
empty directory must catch up as a learner and then carry a majority on its own disk.
"""

from __future__ import annotations

import io
import sys

import pytest

from clobkit.cli import main
from clobkit.proc import ProcessCluster
from clobkit.proc.torture import Workload

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="signals: Linux")


def test_torture_command_runs_bounded_and_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["torture", "--seconds", "6", "--clients", "3", "--seed", "4"])
    out = capsys.readouterr().out
    assert "checker verdict" in out and "invariant violations (on disk)" in out
    assert "nemesis" in out, out
    assert code == 0 and "PASS" in out, out


def test_torture_rejects_bad_arguments() -> None:
    assert main(["torture", "--seconds", "0"]) == 2
    out = io.StringIO()
    from clobkit.proc.torture import torture_command

    class Args:
        clients = 0

    assert torture_command(Args(), out) == 2 and "clients" in out.getvalue()


def test_replaced_node_recovers_as_a_learner_and_then_counts() -> None:
    with ProcessCluster(3, timeout_ms=8_000) as c:
        work = Workload(c, 3, seed=5, side="buy", cancel_share=0, read_share=0, prices=("97",))
        work.run(0.8)
        c.replace("n2")  # a new, empty directory
        work.run(0.8)
        work.drain(10)
        top = max(op for *_x, op in c.acks)

        def caught_up() -> bool:
            row = next(r for r in c.node_rows() if r["node"] == "n2")
            return row.get("status") == "normal" and row.get("commit", 0) >= top

        assert c.run_until(caught_up, 15), c.node_rows()
        assert any(r["kind"] == "learner_start" for r in c.trace_rows() if r["node"] == "n2")
        c.kill("n1")  # from now on a majority needs the replaced node
        c.place("zed", "buy", price="97", qty=1)
        acked = {k.value.order_id for k in work.acked_writes()}
        assert acked <= {o.order_id for o in c.live_orders()}
    assert c.disk_violations == []
