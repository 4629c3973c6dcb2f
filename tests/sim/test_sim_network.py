"""Proves the network model honours its parameters: latency bounds per distribution, seeded
loss/duplication counts equal to an independent replay of the same stream, partitions (two-way and
one-way), heal, per-message rules that fire exactly as often as asked, and the world's inlined
send on a plain network drawing exactly what Network.route would (times and stream state)."""

from __future__ import annotations

import random

import pytest

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.sim.network import Latency, Network, Rule, matching
from clobkit.sim.world import World

from .fakes import Ping


def ping(source: str = "n0", target: str = "n1", op: int = 1) -> Ping:
    return Ping(cluster_id="t", source=source, target=target, view=0, op=op)


@pytest.mark.parametrize("distribution", ["constant", "uniform", "exponential"])
def test_latency_stays_within_bounds(distribution: str) -> None:
    lat = Latency(distribution, 100, 900)  # type: ignore[arg-type]
    rng = random.Random(3)
    draws = [lat.sample(rng) for _ in range(5_000)]
    assert min(draws) >= 100
    assert max(draws) <= (100 if distribution == "constant" else 900)
    if distribution == "uniform":
        assert min(draws) < 150 and max(draws) > 850  # spans the range
    if distribution == "exponential":
        # the tail is skewed: the median is well below the midpoint
        assert sorted(draws)[len(draws) // 2] < 500


def test_latency_rejects_bad_bounds() -> None:
    with pytest.raises(InvalidArgument, match="latency_us_max"):
        Latency("uniform", 500, 100)
    with pytest.raises(InvalidArgument, match="distribution"):
        Latency("normal", 1, 2)  # type: ignore[arg-type]
    with pytest.raises(InvalidType):
        Latency("uniform", 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="loss"):
        Network(loss=1.5)


def test_loss_rate_matches_seeded_expectation() -> None:
    net = Network(Latency("constant", 10), loss=0.1)
    rng = random.Random("loss")
    dropped = sum(net.route(ping(op=i), 0, rng).drop_reason == "loss" for i in range(10_000))
    # With constant latency the stream is drawn once per message (the loss coin) plus the
    # duplicate coin only when duplicate > 0: replay the same coins independently.
    replay = random.Random("loss")
    expected = sum(replay.random() < 0.1 for _ in range(10_000))
    assert dropped == expected
    assert 800 < dropped < 1200  # roughly the configured 10 %


def test_duplicates_get_two_delivery_times() -> None:
    net = Network(Latency("uniform", 100, 200), duplicate=1.0)
    route = net.route(ping(), 1_000, random.Random(1))
    assert len(route.deliver_at_us) == 2
    assert all(1_100 <= t <= 1_200 for t in route.deliver_at_us)


def test_reorder_adds_bounded_extra_delay() -> None:
    net = Network(Latency("constant", 100), reorder=1.0, reorder_us=50)
    times = [net.route(ping(), 0, random.Random(i)).deliver_at_us[0] for i in range(200)]
    assert all(100 <= t <= 150 for t in times) and len(set(times)) > 10


def test_partition_cuts_both_directions_and_spares_unlisted_nodes() -> None:
    net = Network(Latency("constant", 10))
    net.partition([{"n0"}, {"n1", "n2"}])
    rng = random.Random(0)
    assert net.route(ping("n0", "n1"), 0, rng).drop_reason == "partitioned"
    assert net.route(ping("n2", "n0"), 0, rng).drop_reason == "partitioned"
    assert net.route(ping("n1", "n2"), 0, rng).drop_reason is None
    assert net.route(ping("client:a", "n0"), 0, rng).drop_reason is None
    net.heal()
    assert net.route(ping("n0", "n1"), 0, rng).drop_reason is None


def test_one_way_block() -> None:
    net = Network(Latency("constant", 10))
    net.block("n0", "n2")
    rng = random.Random(0)
    assert net.route(ping("n0", "n2"), 0, rng).drop_reason == "partitioned"
    assert net.route(ping("n2", "n0"), 0, rng).drop_reason is None
    net.unblock("n0", "n2")
    assert net.can_reach("n0", "n2")


def test_isolate() -> None:
    net = Network(Latency("constant", 10))
    net.isolate("n2")
    assert not net.can_reach("n2", "client:a") and not net.can_reach("n0", "n2")
    assert net.can_reach("n0", "n1")
    assert net.route(ping("n2", "client:new"), 0, random.Random(0)).drop_reason == "partitioned"
    net.heal()
    assert net.can_reach("n0", "n2")


def test_drop_rule_fires_exactly_count_times_on_matching_messages_only() -> None:
    net = Network(Latency("constant", 10))
    rule = net.add_rule(Rule("next-ping-to-n2", matching("Ping", source="n0", target="n2")))
    rng = random.Random(0)
    assert net.route(ping("n0", "n1"), 0, rng).drop_reason is None  # not matching
    assert net.route(ping("n0", "n2"), 0, rng).drop_reason == "rule:next-ping-to-n2"
    assert net.route(ping("n0", "n2"), 0, rng).drop_reason is None  # count=1 used up
    assert rule.fired == 1 and rule.exhausted


def test_delay_rule_and_op_match() -> None:
    net = Network(Latency("constant", 10))
    net.add_rule(Rule("slow-op-7", matching(op=7), action="delay", delay_us=5_000, count=None))
    rng = random.Random(0)
    assert net.route(ping(op=7), 100, rng).deliver_at_us == [5_110]
    assert net.route(ping(op=7), 100, rng).deliver_at_us == [5_110]
    assert net.route(ping(op=8), 100, rng).deliver_at_us == [110]


def test_bad_rule_rejected_and_not_added() -> None:
    net = Network()
    with pytest.raises(InvalidArgument):
        net.add_rule(Rule("x", matching(), action="explode"))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        net.add_rule(Rule("x", matching(), count=0))
    assert net.rules == []


@pytest.mark.parametrize(
    "latency",
    [
        Latency("uniform", 500, 1_500),
        Latency("uniform", 0, 1),
        Latency("uniform", 7, 7),
        Latency("uniform", 100, 2**20 + 3),
        Latency("constant", 250),
        Latency("exponential", 100, 900),
    ],
)
def test_world_send_draws_what_route_draws(latency: Latency) -> None:
    # World.send computes a plain network's arrival inline (randint as getrandbits until
    # below n); its arrival times and the network stream's state must equal route()'s on a
    # replay of the same stream, or every seeded trace would change. Changing the latency
    # mid-run must be noticed too.
    for seed in range(20):
        world = World(seed, Network(latency))
        replay = random.Random(f"{seed}/network")
        expected: list[int] = []
        for i in range(50):
            if i == 25:  # (a new latency object: the cached draw must not outlive it)
                world.network.latency = Latency("uniform", 10, 20 + seed)
            m = ping(op=i)
            world.send(m)
            expected += world.network.route(m, world.now_us, replay).deliver_at_us
        arrivals = world.in_flight()
        assert [arrivals[i + 1] for i in range(50)] == [[t] for t in expected]
        assert world.streams.stream("network").getstate() == replay.getstate()
