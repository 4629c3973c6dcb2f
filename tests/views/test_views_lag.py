"""The lag frame and state_at rebuild each node's state from the trace alone.

Method: seeded clusters with a backup crash, a primary failover and a partition. After a
crash the crashed node's op number must stop while the primary's goes on (lag_ops equal to the
ops committed without it), a restart must bring it back to zero lag, the primary column must
follow the view change, and at a quiet moment state_at must equal what the live node handles
say. A small random walk compares state_at with the live replicas after every step.
"""

from __future__ import annotations

import random

import pytest

import clobkit as ck
import clobkit.views as cv
from clobkit.errors import InvalidArgument
from tests.views.scenarios import assert_schema, crash_cluster, failover_cluster, quiet_cluster


def _at(frame, node: str, time_us: int):  # type: ignore[no-untyped-def]
    rows = frame[(frame.node == node) & (frame.time_us <= time_us)]
    return rows.iloc[-1]


def test_crashed_node_op_stops_while_primary_advances() -> None:
    c, t = crash_cluster()
    lag = cv.lag(c)
    assert_schema(lag, cv.LAG_COLUMNS)
    n2 = lag[lag.node == "n2"]
    during = n2[(n2.time_us >= t["crash"]) & (n2.time_us < t["restart"])]
    assert len(during) > 0
    assert set(during.status) == {"crashed"} and not during.up.any()
    assert during.op_number.nunique() == 1  # frozen
    frozen = int(during.op_number.iloc[0])
    before_restart = _at(lag, "n0", t["restart"] - 1)
    assert before_restart.role == "primary"
    assert int(before_restart.op_number) == frozen + 3  # three orders committed without n2
    assert int(_at(lag, "n2", t["restart"] - 1).lag_ops) == 3
    assert int(_at(lag, "n2", t["restart"] - 1).lag_us) > 0
    end = _at(lag, "n2", t["end"])
    assert (end.status, int(end.lag_ops), int(end.lag_us)) == ("normal", 0, 0)
    assert int(end.op_number) == int(_at(lag, "n0", t["end"]).op_number)


def test_primary_follows_the_view_change() -> None:
    c, t = failover_cluster()
    lag = cv.lag(c)
    assert set(lag[lag.time_us < t["crash"]].primary) == {"n0"}
    gap = lag[(lag.time_us >= t["crash"])].iloc[0]
    assert gap.primary == "" and pd_isna(gap.lag_ops)
    later = lag[(lag.time_us > t["crash"]) & (lag.primary != "")]
    assert later.iloc[0].primary == "n1"
    assert later[later.node == "n1"].iloc[0].view == 1
    assert c.primary == _at(lag, c.primary, t["end"]).node
    assert _at(lag, c.primary, t["end"]).role == "primary"


def pd_isna(value) -> bool:  # type: ignore[no-untyped-def]
    import pandas as pd

    return bool(pd.isna(value))


def test_state_at_equals_live_nodes_when_quiet() -> None:
    for make in (quiet_cluster, lambda: crash_cluster()[0], lambda: failover_cluster()[0]):
        c = make()
        c.run(ms=100)
        state = cv.state_at(c, c.now_us)
        assert_schema(state, cv.STATE_COLUMNS)
        assert state.node.tolist() == list(c.nodes)
        for row in state.itertuples(index=False):
            h = c.nodes[row.node]
            assert (row.status, row.view, row.role) == (h.status, h.view, h.role), row.node
            assert (row.op_number, row.commit_number) == (h.op_number, h.commit_number), row.node
            assert row.applied_op == h.replica.applied_op


def test_state_at_a_past_moment() -> None:
    c, t = crash_cluster()
    before = cv.state_at(c, t["crash"] - 1).set_index("node")
    assert before.loc["n2", "status"] == "normal" and bool(before.loc["n2", "up"])
    during = cv.state_at(c, t["crash"]).set_index("node")
    assert during.loc["n2", "status"] == "crashed" and during.loc["n2", "role"] == "down"
    assert cv.state_at(c, 0).node.tolist() == ["n0", "n1", "n2"]
    only = cv.state_at(c, t["end"], nodes=["n1"])
    assert only.node.tolist() == ["n1"]


def test_state_at_never_ahead_of_live_replicas_in_a_random_walk() -> None:
    # op_number from the trace trails the in-memory one by the sync latency (documented);
    # everything else must match after every step.
    rng = random.Random(7)
    c = ck.Cluster(nodes=3, seed=7, storage="memory")
    names = list(c.nodes)
    for _ in range(25):
        choice = rng.random()
        if choice < 0.06:
            c.crash(rng.choice(names))
        elif choice < 0.15:
            down = [n for n in names if not c.nodes[n].up]
            if down:
                c.restart(down[0])
        else:
            c.submit(
                rng.choice(["alice", "bob"]),
                "place",
                side=rng.choice(["buy", "sell"]),
                price=100,
                qty=1,
            )
        for _ in range(8):
            c.step()
            state = cv.state_at(c, c.now_us).set_index("node")
            for name in names:
                h = c.nodes[name]
                if name not in state.index:  # no record of it yet (its first tick is pending)
                    assert not any(r.node == name for r in c.trace)
                    continue
                row = state.loc[name]
                assert bool(row.up) == h.up
                if not h.up:
                    continue
                assert row.view == h.view, (c.now_us, name)
                assert row.op_number <= h.op_number, (c.now_us, name)
                assert row.commit_number == h.commit_number, (c.now_us, name)
    c.run(ms=500)
    final = cv.state_at(c, c.now_us).set_index("node")
    for name in names:
        if c.nodes[name].up:
            assert final.loc[name, "op_number"] == c.nodes[name].op_number


def test_frame_source_and_determinism() -> None:
    a, _ = failover_cluster(seed=3)
    b, _ = failover_cluster(seed=3)
    assert cv.lag(a).to_csv(index=False) == cv.lag(b).to_csv(index=False)
    assert cv.lag(a.trace.to_frame()).equals(cv.lag(a))
    assert cv.lag(a, nodes=["n2"]).node.unique().tolist() == ["n2"]


def test_bad_arguments() -> None:
    c = quiet_cluster()
    with pytest.raises(InvalidArgument):
        cv.state_at(c, -1)
    with pytest.raises(InvalidArgument):
        cv.state_at(c, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="zz"):
        cv.lag(c, nodes=["zz"])


def test_untraced_cluster_gives_empty_frames() -> None:
    c = ck.Cluster(nodes=3, seed=1, storage="memory", trace=False)
    assert_schema(cv.lag(c), cv.LAG_COLUMNS)
    assert len(cv.state_at(c, 0)) == 0
