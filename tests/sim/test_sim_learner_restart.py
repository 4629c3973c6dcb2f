"""Proves that a learner stays a learner across crashes until it has caught up: a backup that
lost its ``wal.log`` and restarted as a learner, then went down in a power loss on all three
replicas before catching up, comes back still a learner, sends no vote or acknowledgement,
and the cluster stays unavailable (never wrong) until a replica with the committed log
returns; then the learner catches up and every invariant holds. Method: the S7 sequence
staged by hand on a memory cluster, plus seed 385 of the default campaign, which once ended
with a ``divergent_commit`` this way (issue 11/12)."""

from __future__ import annotations

from clobkit.sim import Cluster

QUORUM_MESSAGES = (
    "PrepareOk",
    "CommitOk",
    "StartViewChange",
    "DoViewChange",
    "WriteBackOk",
    "PreViewChangeOk",
)


def _stage_lost_log_learner_crashed(seed: int) -> Cluster:
    """n0 primary; ops 3-5 committed on {n0, n1} only (n2 cut off); n1 loses wal.log,
    restarts as a learner that cannot reach anyone, then all three lose power."""
    c = Cluster(3, seed=seed, storage="memory")
    for i in range(2):
        c.place("alice", "buy", price=str(10 + i), qty=1)
    c.isolate("n2")
    for i in range(3):
        c.place("bob", "sell", price=str(20 + i), qty=1)  # committed on n0 and n1
    assert c.nodes["n2"].commit_number < c.nodes["n0"].commit_number
    c.lose_file("n1", "wal.log")
    c.partition({"n0"}, {"n1"}, {"n2"})
    c.restart("n1")
    assert c.nodes["n1"].status == "learner"
    c.run(ms=5)  # it asks, nobody can answer
    assert c.nodes["n1"].status == "learner"
    for name in ("n0", "n1", "n2"):  # a power loss on all three
        c.crash(name)
    c.heal()
    return c


def _learner_sends(c: Cluster, name: str) -> list[str]:
    """The quorum messages ``name`` sent while it was a learner (from its first
    ``learner_start`` to its ``learner_caught_up``, crashes included)."""
    learning = False
    sent = []
    for r in c.trace.select(node=name):
        if r.kind == "learner_start":
            learning = True
        elif r.kind == "learner_caught_up":
            learning = False
        elif learning and r.kind == "send" and r.message in QUORUM_MESSAGES:
            sent.append(r.message)
    return sent


def test_a_crashed_learner_restarts_as_a_learner_and_never_votes() -> None:
    c = _stage_lost_log_learner_crashed(seed=11)
    with c:
        c.restart("n1")
        c.restart("n2")
        # Its disk now holds an empty wal.log and its old meta: still a learner.
        assert c.nodes["n1"].status == "learner"
        c.run(ms=1_000)
        # n2 alone cannot form a view: unavailable, not wrong.
        assert c.primary is None
        assert c.nodes["n1"].status == "learner"
        assert _learner_sends(c, "n1") == []
        c.restart("n0")
        c.run(ms=1_000)
        assert c.nodes["n1"].status == "normal"
        assert c.check() == []
        assert c.nodes["n1"].digest() == c.nodes["n0"].digest()
        assert len(c.live_orders()) == 5
        assert _learner_sends(c, "n1") == []


def test_a_learner_crashed_twice_still_catches_up() -> None:
    c = _stage_lost_log_learner_crashed(seed=12)
    with c:
        c.restart("n1")
        c.crash("n1")  # crashed again before it could ask anyone
        c.restart("n1")
        assert c.nodes["n1"].status == "learner"
        c.restart("n0")
        c.restart("n2")
        c.run(ms=1_000)
        assert c.nodes["n1"].status == "normal" and c.check() == []
        assert len(c.live_orders()) == 5
        assert _learner_sends(c, "n1") == []
        # Once caught up and durable it is an ordinary replica: a restart keeps it one.
        c.crash("n1")
        c.restart("n1")
        assert c.nodes["n1"].status == "normal"


def test_campaign_seed_385_regression() -> None:
    # The default campaign's seed 385 (3 nodes, primary reads, memory storage): n1 loses
    # wal.log at 1,044.7 ms, restarts a learner, and a power loss on all three crashes it
    # before it caught up; it once came back a voter with an empty log (divergent_commit).
    from clobkit.check.campaigns import replay

    r = replay(seed=385, nodes=3, ops=200, unsafe=(), read_mode="primary")
    assert r.verdict == "ok" and r.violations == [], r.repro
    kinds = [rec.kind for rec in r.cluster.trace.select(node="n1")]
    after = kinds[kinds.index("lose_file") :]
    learning = after[after.index("learner_start") :]
    # the schedule still stages it: a crash while n1 learns, and a learner after the restart
    crash = learning.index("crash")
    assert "learner_caught_up" not in learning[:crash]
    assert "learner_start" in learning[crash:]
    assert _learner_sends(r.cluster, "n1") == []
