"""Proves the event loop and hosts behave as documented, using a fake ping/echo protocol:
ties run in scheduling order, a sync delays the step's messages and queues arrivals (and
handle_batch turns the queue into one group sync), a crash loses the outbox and stale timers, pause
queues and resume drains, in_flight() lists the messages in the air, and the same seed gives
byte-identical traces (also across processes)."""

from __future__ import annotations

import subprocess
import sys

from clobkit.replication.step import Step
from clobkit.sim.network import Latency, Network, Rule, matching
from clobkit.sim.world import World

from .fakes import Echo, Ping, Pinger

SCRIPT = """
import sys
from tests.sim.test_sim_world import ping_world
w = ping_world(int(sys.argv[1]))
w.run(until_us=200_000)
sys.stdout.write(w.trace.digest())
"""


def ping_world(
    seed: int, *, sync_us: int = 0, batch: bool = False, latency: Latency | None = None
) -> World:
    net = Network(latency or Latency("uniform", 100, 3_000), loss=0.05, duplicate=0.05)
    world = World(seed, net)
    for name in ("n1", "n2"):
        world.add_host(name, Echo(name, sync_us=sync_us, batch=batch))
    pinger = Pinger("n0", ["n1", "n2"], 1_000, world.streams.stream("node:n0"))
    world.add_host("n0", pinger).set_timer(0)
    return world


def test_ties_run_in_scheduling_order() -> None:
    w = World(0)
    seen: list[str] = []
    for label in ("a", "b", "c"):
        w.schedule(10, seen.append, label)
    w.schedule(5, seen.append, "first")
    w.run()
    assert seen == ["first", "a", "b", "c"]


def test_run_until_time_stops_and_sets_clock() -> None:
    w = World(0)
    w.schedule(100, lambda _: None)
    w.schedule(300, lambda _: None)
    assert w.run(until_us=200) == 1
    assert w.now_us == 200 and w.pending == 1


def test_same_seed_same_trace_different_seed_different_trace() -> None:
    a, b, c = ping_world(7), ping_world(7), ping_world(8)
    for w in (a, b, c):
        w.run(until_us=100_000)
    assert a.trace.to_jsonl() == b.trace.to_jsonl()
    assert a.trace.digest() == b.trace.digest()
    assert a.trace.digest() != c.trace.digest()
    kinds = a.trace.kinds()
    assert kinds["send"] > 100 and kinds["drop"] > 0 and kinds["deliver"] > kinds["send"] * 0.8


def test_trace_identical_across_processes() -> None:
    here = ping_world(11)
    here.run(until_us=200_000)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, "11"],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "123", "PATH": ""},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert out.stdout == here.trace.digest()


def test_sync_delays_replies_and_queues_arrivals() -> None:
    w = ping_world(1, sync_us=700, latency=Latency("constant", 100))
    w.network.duplicate = w.network.loss = 0.0
    w.run(until_us=50_000)
    echo = w.hosts["n1"].participant
    assert isinstance(echo, Echo)
    pinger = w.hosts["n0"].participant
    assert isinstance(pinger, Pinger)
    assert echo.handled and pinger.pongs
    # Each Pong leaves exactly sync_us after n1 handled its Ping, never earlier.
    for now, _source, op in echo.handled:
        pong_sends = [
            r.time_us for r in w.trace.select("send", node="n1", message="Pong") if r.op == op
        ]
        assert pong_sends == ([now + 700] if now + 700 <= 50_000 else [])


def test_group_commit_with_handle_batch() -> None:
    # Ten pings arrive during one 5 ms sync: without handle_batch ten syncs, with it two.
    def run(batch: bool) -> Echo:
        w = World(0, Network(Latency("constant", 100)))
        echo = Echo("n1", sync_us=5_000, batch=batch)
        w.add_host("n1", echo)
        w.add_host("n0", None)
        for i in range(10):
            w.schedule(
                i * 10,
                lambda op: w.send(Ping(cluster_id="t", source="n0", target="n1", view=0, op=op)),
                i + 1,
            )
        w.run()
        assert sorted(op for _, _, op in echo.handled) == list(range(1, 11))
        return echo

    assert run(batch=False).syncs == 10
    assert run(batch=True).syncs == 2


def test_crash_during_sync_loses_the_outbox_and_timer() -> None:
    w = ping_world(3, sync_us=5_000, latency=Latency("constant", 100))
    w.run(until_us=1_200)  # the first Ping reached n1 at 100 and its sync ends at 5_100
    assert w.hosts["n1"].busy
    w.hosts["n1"].crash()
    w.network.loss = 0.0
    w.run(until_us=20_000)
    assert w.trace.select("send", node="n1") == []  # the Pong waiting for the sync never left
    drops = w.trace.select("drop", node="n1")
    assert drops and all(r.detail == {"reason": "target_down"} for r in drops)


def test_pause_queues_and_resume_drains() -> None:
    w = ping_world(4, latency=Latency("constant", 100))
    w.hosts["n2"].pause()
    w.run(until_us=5_050)
    echo = w.hosts["n2"].participant
    assert isinstance(echo, Echo) and echo.handled == []
    assert len(w.hosts["n2"].inbox) == 5
    w.hosts["n2"].resume()
    w.run(until_us=5_051)
    assert [op for _, _, op in echo.handled] == [1, 2, 3, 4, 5]
    assert all(now == 5_050 for now, _, _ in echo.handled)


def test_inbox_limit_drops_with_reason() -> None:
    w = World(0, Network(Latency("constant", 1)))
    w.add_host("n1", Echo("n1"), inbox_limit=2).pause()
    w.add_host("n0", None)
    for i in range(4):
        w.schedule(
            0, lambda op: w.send(Ping(cluster_id="t", source="n0", target="n1", view=0, op=op)), i
        )
    w.run()
    assert [r.detail for r in w.trace.select("drop")] == [{"reason": "inbox_full"}] * 2


def test_rule_drop_appears_in_trace_with_reason() -> None:
    w = ping_world(5, latency=Latency("constant", 100))
    w.network.loss = w.network.duplicate = 0.0
    w.network.add_rule(Rule("lose-first", matching("Ping", target="n2", op=1)))
    w.run(until_us=3_000)
    drops = w.trace.select("drop")
    assert [(r.peer, r.op, r.detail) for r in drops] == [("n2", 1, {"reason": "rule:lose-first"})]


def test_timer_replaced_by_later_wake() -> None:
    class Sleepy:
        def __init__(self) -> None:
            self.ticks: list[int] = []

        def handle(self, message: object, now: int) -> Step:
            return Step()

        def tick(self, now: int) -> Step:
            self.ticks.append(now)
            return Step(wake_at_us=now + 100) if now < 300 else Step()

    w = World(0)
    sleepy = Sleepy()
    host = w.add_host("n0", sleepy)
    host.set_timer(50)
    host.set_timer(10)  # replaces the timer at 50
    w.run()
    assert sleepy.ticks == [10, 110, 210, 310]


def test_run_stopped_by_max_events_leaves_the_clock_at_the_last_event() -> None:
    """Regression: a bounded run must not move the clock past events it did not run
    (the cluster then failed every later call with "the clock never goes backwards")."""
    import clobkit as ck

    c = ck.Cluster(nodes=3, seed=1, storage="memory")
    try:
        c.run(ms=10, max_events=3)
        assert c.now_us < 10_000
        assert c.place("bob", "buy", price="1", qty=1).accepted
    finally:
        c.close()


def test_in_flight_lists_every_copy_until_it_arrives() -> None:
    # What the space-time picture draws as messages in the air: every copy (duplicates
    # too), whether its target host exists yet or not, gone once it arrived.
    world = World(3, Network(Latency("constant", 400), duplicate=1.0))
    world.add_host("n2", Echo("n2"))
    world.send(Ping(cluster_id="t", source="n1", target="n2", view=0, op=1))
    world.send(Ping(cluster_id="t", source="n1", target="n9", view=0, op=2))
    first, second = sorted(world.in_flight())
    assert world.in_flight() == {first: [400, 400], second: [400, 400]}
    world.run(until_us=400)
    assert first not in world.in_flight() and second not in world.in_flight()
    assert [r.detail for r in world.trace if r.kind == "drop" and r.msg_id == second] == [
        {"reason": "unknown_target"}
    ] * 2
