"""Proves every unsafe switch, and the literal "highest sequence number" read mode, is caught:
each staged scenario of SCENARIOS.md (clobkit.check.scenarios) ends in an illegal history or an
invariant violation with its switch on, and the very same steps with the switch off pass both
the checker and every invariant. A random campaign also catches no_dedup without staging."""

from __future__ import annotations

import pytest

from clobkit.check import scenarios
from clobkit.check.campaigns import campaign

EXPECTED = {
    # scenario: (checker verdict with the switch on, invariant kinds that must be among those found)
    "s1_split_brain": ("illegal", {"divergent_commit"}),
    "s3_dirty_read": ("illegal", set()),
    "s6_own_wal_failover": ("illegal", {"acked_write_lost", "divergent_commit"}),
    "s7_learner_votes": ("illegal", {"divergent_commit", "digest_mismatch"}),
    "s8_ack_before_fsync": (None, {"acked_write_lost"}),
    "s9_truncate_corrupt": ("illegal", {"acked_write_lost"}),
    "s10_duplicate_retry": ("illegal", set()),
    "s11_trade_before_commit": ("illegal", {"speculative_apply_lost"}),
    "s12_read_without_write_back": ("illegal", set()),
    "s13_deposed_primary_read": ("illegal", set()),
}


def test_every_switch_has_a_scenario() -> None:
    from clobkit.replication.config import UNSAFE_SWITCHES

    assert set(scenarios.SWITCH.values()) == UNSAFE_SWITCHES | {"quorum-highest-seq"}
    assert set(scenarios.ALL) == set(EXPECTED) == set(scenarios.SWITCH)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_switch_on_is_caught(name: str) -> None:
    r = scenarios.ALL[name](unsafe=True)
    linearizable, kinds = EXPECTED[name]
    assert r.failed, r
    assert r.error == ""
    assert r.check is not None
    if linearizable is not None:
        assert r.check.verdict == linearizable, r.check
    assert kinds <= {v.kind for v in r.violations}, r.violations
    assert name in r.repro and "unsafe=True" in r.repro


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_same_steps_with_the_fix_pass(name: str) -> None:
    r = scenarios.ALL[name](unsafe=False)
    assert r.verdict == "ok", (r, r.violations, r.check)
    assert r.violations == []
    assert r.cluster is not None and not r.cluster.config.unsafe
    assert r.cluster.config.read_mode in ("quorum", "primary")


def test_scenarios_are_deterministic() -> None:
    a, b = scenarios.s1_split_brain(True), scenarios.s1_split_brain(True)
    assert a.trace_digest == b.trace_digest and a.history_digest == b.history_digest
    assert [str(v) for v in a.violations] == [str(v) for v in b.violations]


def test_random_campaign_catches_no_dedup() -> None:
    df = campaign(range(5), ops=60, unsafe=("no_dedup",), progress=False)
    assert df.verdict.isin(["illegal", "violation"]).any(), df[["seed", "verdict"]]
    safe = campaign(range(5), ops=60, progress=False)
    assert (safe.verdict == "ok").all(), safe[["seed", "verdict", "first_violation"]]


RANDOM_SWITCHES = [
    pytest.param(("no_fencing",), "quorum", id="no_fencing"),
    pytest.param(("own_wal_failover",), "quorum", id="own_wal_failover"),
    pytest.param(("learner_votes",), "quorum", id="learner_votes"),
    pytest.param(("ack_before_fsync",), "quorum", id="ack_before_fsync"),
    pytest.param(("no_dedup",), "quorum", id="no_dedup"),
    pytest.param(("apply_before_commit",), "quorum", id="apply_before_commit"),
    pytest.param(("truncate_corrupt",), "quorum", id="truncate_corrupt"),
    pytest.param((), "quorum-highest-seq", id="quorum-highest-seq"),
]

# Switches the default random campaign finds too rarely for the default suite, with why; each
# is still caught by its staged scenario above (switch on: illegal; off: ok).
RARE_IN_RANDOM_CAMPAIGNS = {
    # Needs a client that still believes the old view reading through a deposed primary
    # that no fault has told about the new one, after a write committed in the new view:
    # the default campaign with read_mode="primary" catches 5 of seeds 0-179, the first at
    # seed 1, but from some start seeds the next catch is 93 seeds away (measured 2026-12-06
    # with the lagging_successor episode, see benchmarks/README.md): luck, not a rate.
    "no_leader_check",
    # A read inversion needs a quorum read that meets the only replicas knowing a commit and
    # a later read that meets none of them: the default campaign caught it once in seeds
    # 0-291, at seed 291 (measured 2026-12-06 with the lagging_successor episode; seed 62,
    # its first catch before, now takes that episode).
    "no_write_back",
}


def test_random_switch_list_is_complete() -> None:
    from clobkit.replication.config import UNSAFE_SWITCHES

    named = {p.values[0][0] for p in RANDOM_SWITCHES if p.values[0]}  # type: ignore[index]
    assert named | RARE_IN_RANDOM_CAMPAIGNS == UNSAFE_SWITCHES
    assert not named & RARE_IN_RANDOM_CAMPAIGNS


@pytest.mark.parametrize(("unsafe", "read_mode"), RANDOM_SWITCHES)
def test_default_random_campaign_catches_every_switch_within_20_seeds(
    unsafe: tuple[str, ...], read_mode: str
) -> None:
    # The default campaign (swarm nemesis, default workload), not a staged scenario: it
    # must find each switch by itself within its first 20 seeds (issue 12). own_wal_failover
    # and learner_votes are found through the swarm's lagging_successor episode,
    # truncate_corrupt through its bit_rot twin and no_fencing mostly through stale_prepares
    # (a seed draws each or not, like any other kind). It stops at the first catch. Measured
    # 2026-12-06 after the sync and learner merges (benchmarks/README.md), the first catch
    # from seed 0 / the median seeds to a first catch over start seeds 0-99: no_fencing 2/4,
    # own_wal_failover 0/1, learner_votes 1/5.5, ack_before_fsync 0/2, no_dedup 0/1,
    # apply_before_commit 0/3, truncate_corrupt 0/2, quorum-highest-seq 5/9 (the least margin:
    # 9 catches in 116 seeds, and from some start seeds it takes 37).
    from clobkit.check.campaigns import RunOptions, run_seed

    options = RunOptions(unsafe=unsafe, read_mode=read_mode)
    verdicts = []
    budget = 20
    for seed in range(budget):
        row = run_seed(seed, options)
        verdicts.append((seed, row["verdict"]))
        if row["verdict"] in ("illegal", "violation"):
            return
    pytest.fail(f"not caught in {budget} seeds: {verdicts}")
