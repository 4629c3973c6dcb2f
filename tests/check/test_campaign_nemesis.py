"""Proves the campaign nemesis does what swarm testing needs: every seed draws its own subset
of fault kinds and pace, every kind is reachable, replica faults stay within f unless the
schedule says it went beyond, everything is undone by the end, a run replays byte for byte,
and a failing run shrinks to a short schedule that reads as Cluster calls."""

from __future__ import annotations

import random

import pytest

from clobkit.check.campaigns import DEFAULT_FAULT_KINDS, campaign, replay
from clobkit.sim.faults import PRIMARY, SWARM_KINDS, Fault, swarm_faults

NAMES3 = ["n0", "n1", "n2"]
NAMES5 = ["n0", "n1", "n2", "n3", "n4"]


def test_each_seed_draws_its_own_swarm_and_every_kind_is_reachable() -> None:
    swarms = [swarm_faults(random.Random(seed), NAMES3)[1] for seed in range(200)]
    assert len({s.kinds for s in swarms}) > 100  # subsets differ from seed to seed
    assert {k for s in swarms for k in s.kinds} == set(SWARM_KINDS)
    assert any(len(s.kinds) == 1 for s in swarms)  # some seeds hammer one mechanism
    assert len({s.mean_gap_us for s in swarms}) > 1
    assert set(DEFAULT_FAULT_KINDS) == set(SWARM_KINDS)


def test_a_schedule_is_a_function_of_its_seed() -> None:
    a = swarm_faults(random.Random(11), NAMES5)
    b = swarm_faults(random.Random(11), NAMES5)
    assert a == b
    assert swarm_faults(random.Random(12), NAMES5) != a


def _max_faulty(faults: list[Fault]) -> int:
    """Most replicas down (crashed, paused, or bounced) at once, from the schedule alone."""
    down: set[str] = set()
    worst = 0
    for f in faults:
        if f.action in ("crash", "pause", "lose_file"):
            down.add(f.args[0])
        elif f.action == "bounce":
            down.add(f"{PRIMARY}{f.at_us}")
        elif f.action in ("restart", "resume"):
            down.discard(f.args[0])
        worst = max(worst, len(down))
    return worst


@pytest.mark.parametrize("names", [NAMES3, NAMES5], ids=["n3", "n5"])
def test_replica_faults_stay_within_f_unless_labelled(names: list[str]) -> None:
    f = (len(names) - 1) // 2
    labelled = 0
    for seed in range(300):
        faults, swarm = swarm_faults(random.Random(seed), names)
        if swarm.beyond_f:
            labelled += 1
            continue
        # (bounces and paused primaries, aimed at whoever is primary then, are left out like
        # the generator leaves them out: each holds a slot of its own until it is undone)
        crash_like = [x for x in faults if x.action != "bounce" and PRIMARY not in x.args]
        assert _max_faulty(crash_like) <= f, (seed, [str(x) for x in faults])
    assert 0 < labelled < 300


def test_every_fault_is_undone_by_the_end() -> None:
    for seed in range(100):
        faults, _ = swarm_faults(random.Random(seed), NAMES3, duration_us=1_000_000)
        assert faults == sorted(faults, key=lambda f: f.at_us)
        assert faults[-1].at_us == 1_000_000 or faults[-1].action != "heal"
        down: set[str] = set()
        for f in faults:
            if f.action == "pause" and f.args == (PRIMARY,):
                # whoever is primary then: undone by resuming every replica later
                later = {x.args[0] for x in faults if x.action == "resume" and x.at_us > f.at_us}
                assert later >= set(NAMES3), (seed, str(f))
            elif f.action in ("crash", "pause", "lose_file"):
                down.add(f.args[0])
            elif f.action in ("restart", "resume"):
                down.discard(f.args[0])
        assert not down, seed
        assert any(f.action == "heal" and f.at_us == 1_000_000 for f in faults)


def test_a_run_replays_byte_for_byte() -> None:
    a = replay(seed=7, ops=60)
    b = replay(seed=7, ops=60)
    assert a.trace_digest == b.trace_digest and a.history_digest == b.history_digest
    assert a.swarm == b.swarm and a.swarm
    assert a.verdict == "ok", (a, a.violations)


def test_schedule_prints_as_cluster_calls() -> None:
    r = replay(seed=3, ops=40)
    lines = r.schedule_calls.splitlines()
    assert len(lines) == len(r.faults) > 0
    assert all(" ms: c." in line for line in lines)


def test_failing_seed_shrinks_to_a_short_schedule() -> None:
    # no_dedup is caught at random; shrinking keeps it failing with fewer faults and calls.
    df = campaign(range(10), ops=60, unsafe=("no_dedup",), progress=False)
    failing = df[df.verdict.isin(["illegal", "violation"])]
    assert len(failing), df[["seed", "verdict"]]
    seed = int(failing.seed.iloc[0])
    original = replay(seed=seed, ops=60, unsafe=("no_dedup",))
    small = original.shrink(max_attempts=25)
    assert small.failed
    assert len(small.faults) <= len(original.faults)
    assert small.options.ops <= original.options.ops
    again = replay(seed=seed, ops=small.options.ops, unsafe=("no_dedup",), schedule=small.faults)
    assert again.failed and again.history_digest == small.history_digest
