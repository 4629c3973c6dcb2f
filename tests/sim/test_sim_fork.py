"""Proves the action journal and Cluster.fork: the journal records each top-level user action with
its simulated time (and nothing for rejected input), and a fork at any time replays it so that its
trace equals the original's trace up to that time, record for record, for scripted and
Hypothesis-generated action sequences; a fork continues independently and deterministically."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.errors import InvalidArgument, InvalidType, OutcomeUnknown
from clobkit.sim import Cluster
from clobkit.sim.faults import Fault
from clobkit.sim.workload import RandomWorkload


def prefix(c: Cluster, at_us: int) -> list[object]:
    return [r for r in c.trace if r.time_us <= at_us]


def story(storage: str = "memory") -> Cluster:
    c = Cluster(3, seed=7, storage=storage)
    c.place("alice", "sell", price="100.50", qty=10)
    c.place("bob", "buy", price="101", qty=4)
    c.run(ms=30)
    c.crash(c.primary)
    c.run(ms=300)
    c.place("carol", "buy", price="100.50", qty=2)
    c.restart("n0")
    c.partition({"n2"}, {"n0", "n1"})
    c.run(ms=100)
    c.heal()
    c.set_loss(0.1)
    c.run(ms=200)
    return c


def test_journal_records_actions_with_their_time() -> None:
    c = Cluster(3, seed=1, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    t_crash = c.now_us
    c.crash("n0")
    c.run(ms=5)
    c.step()
    actions = [(e.action, e.args) for e in c.journal]
    assert actions == [
        ("submit", ("alice", "place")),
        ("crash", ("n0",)),
        ("run", ()),
        ("step", ()),
    ]
    crash = c.journal[1]
    assert crash.time_us == t_crash > 0 and crash.replayable
    assert c.journal[2].kwargs == (("us", 5000),)
    assert [e.time_us for e in c.journal] == sorted(e.time_us for e in c.journal)
    # nested calls are not journaled twice: restart of a running node crashes it first
    c.restart("n1")
    assert [e.action for e in c.journal][-1:] == ["restart"]
    assert "crash" not in [e.action for e in c.journal[4:]]


def test_rejected_input_is_not_journaled() -> None:
    c = Cluster(3, seed=1, storage="memory")
    before = c.journal
    for bad in (
        lambda: c.crash("n9"),
        lambda: c.place("alice", "sideways", price="1", qty=1),
        lambda: c.partition({"n0"}),
        lambda: c.set_loss(2.0),
    ):
        with pytest.raises((InvalidArgument, InvalidType)):
            bad()
    assert c.journal == before == []


@pytest.mark.parametrize("storage", ["memory", "file"])
def test_fork_trace_prefix_equals_original(storage: str) -> None:
    c = story(storage)
    times = [0, 1, 30_000, c.journal[3].time_us, c.journal[5].time_us + 1, 400_000, c.now_us]
    for at_us in times:
        f = c.fork(at_us)
        assert f.now_us == at_us
        assert f.trace.records == prefix(c, at_us), at_us
        assert list(f.journal) == [e for e in c.journal if e.time_us <= at_us]
        assert f.storage == c.storage
        f.close()
    c.close()


def test_fork_at_now_is_a_clone_that_continues_identically() -> None:
    c = story()
    f = c.fork()
    assert f.trace.digest() == c.trace.digest()
    assert [n.row() for n in f.nodes.values()] == [n.row() for n in c.nodes.values()]
    for cluster in (c, f):
        cluster.set_loss(0)
        cluster.place("dave", "sell", price="100.40", qty=1)
        cluster.run(ms=50)
    assert f.trace.digest() == c.trace.digest()
    assert f.check() == c.check() == []


def test_fork_continues_independently() -> None:
    c = Cluster(3, seed=3, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.run(ms=20)
    at = c.now_us
    c.crash("n0")
    c.run(ms=300)
    assert c.fork(at).nodes["n0"].status == "crashed"  # actions made at at_us are included
    f = c.fork(at - 1)
    assert f.nodes["n0"].status != "crashed" and f.primary == "n0"
    f.place("bob", "buy", price="100.50", qty=10)
    assert [o.qty for o in f.nodes["n0"].book.live_orders()] == []
    assert c.nodes["n0"].status == "crashed"  # the original did not change
    assert [o.qty for o in c.nodes[c.primary].book.live_orders()] == [10]
    # a fork of a fork replays the fork's own journal
    g = f.fork(f.now_us - 1)
    assert g.trace.records == prefix(f, f.now_us - 1)


def test_fork_replays_scheduled_faults_and_settle() -> None:
    c = Cluster(3, seed=4, storage="memory")
    c.schedule_faults([Fault(10_000, "crash", ("n0",)), Fault(200_000, "restart", ("n0",))])
    c.place("alice", "sell", price="100.50", qty=10)
    c.run(ms=300)
    c.set_loss(0.3)
    c.run(ms=50)
    c.settle(ms=300)
    assert c.network.loss == 0
    assert [e.action for e in c.journal].count("crash") == 0  # scheduled, not user actions
    f = c.fork(c.now_us - 100)
    assert f.trace.records == prefix(c, c.now_us - 100)
    assert f.network.loss == 0


def test_fork_of_a_timed_out_call_keeps_it_pending_then_resolves() -> None:
    c = Cluster(3, seed=5, storage="memory", timeout_ms=300)
    c.crash("n1")
    c.crash("n2")
    with pytest.raises(OutcomeUnknown):
        c.place("alice", "sell", price="100.50", qty=10)
    f = c.fork(100_000)  # the call is still in flight at 100 ms
    assert [call.outcome for call in f.calls] == ["pending"]
    f.run()
    assert [call.outcome for call in f.calls] == ["unknown"]


def test_fork_refuses_what_it_cannot_replay() -> None:
    c = Cluster(3, seed=2, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    start = c.now_us
    RandomWorkload(c, users=["u1"], ops_per_user=3).start()
    c.run(ms=200)
    assert any(not e.replayable for e in c.journal)
    with pytest.raises(InvalidArgument, match="inside the simulation"):
        c.fork(c.now_us)
    assert c.fork(start).trace.records == prefix(c, start)  # before the workload: fine
    digest = c.trace.digest()
    for bad, error in ((-1, InvalidArgument), (c.now_us + 1, InvalidArgument), (1.5, InvalidType)):
        with pytest.raises(error):
            c.fork(bad)  # type: ignore[arg-type]
    assert c.trace.digest() == digest


def test_fork_detects_changes_made_around_the_methods() -> None:
    c = Cluster(3, seed=6, storage="memory")
    c.place("alice", "sell", price="100.50", qty=10)
    c.world.network.set_loss(0.5)  # not through a Cluster method: not journaled
    c.run(ms=200)
    with pytest.raises(InvalidArgument, match="diverged"):
        c.fork(c.now_us)


ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from(["buy", "sell"]), st.integers(98, 102)),
        st.tuples(st.just("crash"), st.sampled_from(["n0", "n1", "n2"])),
        st.tuples(st.just("restart"), st.sampled_from(["n0", "n1", "n2"])),
        st.tuples(st.just("isolate"), st.sampled_from(["n0", "n1", "n2"])),
        st.tuples(st.just("heal")),
        st.tuples(st.just("run"), st.integers(0, 200)),
        st.tuples(st.just("step")),
        st.tuples(st.just("submit"), st.sampled_from(["buy", "sell"])),
    ),
    max_size=10,
)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 50), actions=ACTIONS, where=st.floats(0, 1))
def test_fork_anywhere_matches_the_prefix(seed: int, actions: list[tuple], where: float) -> None:
    c = Cluster(3, seed=seed, storage="memory", timeout_ms=400)
    for action in actions:
        name = action[0]
        if name == "place":
            with contextlib.suppress(OutcomeUnknown):
                c.place("alice", action[1], price=str(action[2]), qty=1)
        elif name == "submit":
            c.submit("bob", "place", side=action[1], price="100", qty=2)
        elif name == "run":
            c.run(ms=action[1])
        elif name in ("crash", "restart", "isolate"):
            getattr(c, name)(action[1])
        else:
            getattr(c, name)()
    at_us = int(c.now_us * where)
    f = c.fork(at_us)
    assert f.trace.records == prefix(c, at_us)
    assert f.now_us == at_us


def test_partition_groups_are_kept_even_from_a_generator() -> None:
    c = Cluster(3, seed=8, storage="memory")
    c.partition({"n2", "n0"}, (name for name in ["n1"]))
    assert c.journal[0].args == (("n0", "n2"), ("n1",))  # stable order, generator kept
    c.run(ms=50)
    f = c.fork()
    assert not f.network.can_reach("n0", "n1") and f.network.can_reach("n0", "n2")
    assert f.trace.digest() == c.trace.digest()
