"""Each unsafe teaching switch shows its anomaly in the replicas' state; with it off, none.

Every scenario of SCENARIOS.md that the protocol layer owns (S1, S2, S6, S7,
S8, S10, S11, and the read anomalies S3, S4, S5 of ``quorum-highest-seq``) is
driven deterministically with the hand-driven harness, once with the switch
(or read mode) that reproduces the source design and once with the standard
fix, and the test asserts the anomaly on the replicas' own state (committed
logs, state machines, client outcomes), not on a transcript.
"""

from __future__ import annotations

import pytest

from clobkit.replication import KvMachine
from tests.replication.harness import Net


def kinds(kind: str, target: str | None = None, source: str | None = None):
    def pred(m):
        return (
            m.kind == kind
            and (target is None or m.target == target)
            and (source is None or m.source == source)
        )

    return pred


def committed_values(net: Net, i: int) -> list[str]:
    """The values of the committed, non-no-op entries of n{i}'s log, in op order."""
    out = []
    for row in net.r(i).log:
        if row.committed and not row.noop:
            out.append(row.payload.decode())
    return out


def ok(net: Net, cid: str, handle: int) -> bool:
    outcome = net.clients[cid].result(handle)
    return outcome is not None and outcome.status == "ok"


# -- S1: split brain through a partial partition (no_fencing) ---------------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s1_split_brain_needs_fencing(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"no_fencing"} if unsafe else set()})
    net.wait("w0", net.put("w0", "x", "base"))
    # n0 is cut off: n1 and n2 both lose it, agree in the pre-vote round and start view 1.
    # Then n0 reaches n2 again, but not n1 (with n0 still heard by n2, the pre-vote round
    # would refuse n1 its view change: a split brain needs the others to have lost n0).
    net.cut("n0", "n1")
    net.cut("n0", "n2")
    net.run(600_000)
    net.heal()
    net.cut("n0", "n1")
    net.run(100_000)  # n0 hears n2 again (CheckQuorum: it serves once a majority answers)
    new = [i for i in net.primaries() if i != 0]
    assert len(new) == 1 and net.r(new[0]).view >= 1
    net.client("w1", max_attempts=1)
    h1 = net.put("w1", "x", "buy")  # goes to n0, the view-0 primary
    w2 = net.client("w2")
    w2.view = net.r(new[0]).view
    h2 = net.put("w2", "x", "sell")  # goes to the new primary
    net.wait("w1", h1)
    net.wait("w2", h2)
    net.run(100_000)
    assert ok(net, "w2", h2)
    logs = [committed_values(net, i) for i in range(3)]
    agree = all(a[: len(b)] == b[: len(a)] for a in logs for b in logs)
    if unsafe:
        # n0 never learns it was replaced; both primaries get "majority" acks via n2:
        # two acknowledged orders, and the replicas' committed logs diverge.
        assert 0 in net.primaries() and ok(net, "w1", h1)
        assert not agree
    else:
        # Fencing: n2 drops n0's view-0 messages, so n0 never hears from a majority again:
        # it refuses w1's write (CheckQuorum) instead of logging it, or it joins view 1.
        assert net.r(0).view >= 1 or net.r(0).op_number == 1
        assert agree


# -- S2: delayed prepare from a deposed primary (no_fencing) ----------------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s2_delayed_prepare_overwrites_without_fencing(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"no_fencing"} if unsafe else set()})
    net.wait("w0", net.put("w0", "x", "base"))
    net.hold(kinds("Prepare", target="n2", source="n0"))
    net.drop(kinds("Prepare", target="n1", source="n0"))
    net.client("w1", max_attempts=1)
    h1 = net.put("w1", "x", "o1")  # n0 assigns op 2 = o1; its prepare to n2 is delayed
    net.run(3_000)
    net.crash(0)
    net.drop_rules.clear()
    w2 = net.client("w2")
    w2.view = 1
    net.run(600_000)  # n1 becomes primary of view 1 with n2
    h2 = net.put("w2", "x", "o2")
    assert net.wait("w2", h2).status == "ok"  # o2 acknowledged
    net.release()  # the delayed "op 2 = o1" from view 0 finally reaches n2
    net.run(2_000)
    assert not ok(net, "w1", h1)
    values2 = net.r(2).machine.query(("get", "x"))
    if unsafe:
        assert "o2" not in values2 and "o1" in values2  # the acknowledged o2 was overwritten
    else:
        assert "o2" in values2 and "o1" not in values2
        assert net.r(2).counters["drop:stale_view"] >= 1


# -- S6: new primary recovers from its own WAL (own_wal_failover) -----------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s6_own_wal_failover_loses_acknowledged_write(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"own_wal_failover"} if unsafe else set()})
    net.wait("w0", net.put("w0", "x", "base"))
    net.drop(lambda m: m.source == "n0" and m.target == "n1")  # n1 is slow and misses op 2
    h = net.put("w", "x", "sell")
    assert net.wait("w", h).status == "ok"  # committed on {n0, n2} and acknowledged
    net.crash(0)
    net.drop_rules.clear()
    net.run(1_000_000)
    assert net.primaries() == [1]
    values = {i: net.r(i).machine.query(("get", "x")) for i in (1, 2)}
    if unsafe:
        # The new primary's committed state lacks the acknowledged sell; n2, which kept
        # its committed copy, now disagrees with it at the same commit number.
        assert values[1] == ("base",)
        assert net.r(1).commit_number == net.r(2).commit_number
        assert values[2] == ("base", "sell") and values[1] != values[2]
    else:
        assert values == {1: ("base", "sell"), 2: ("base", "sell")}


# -- S7: empty replacement counted in the quorum (learner_votes) -------------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s7_learner_must_not_vote(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"learner_votes"} if unsafe else set()})
    net.wait("w0", net.put("w0", "x", "base"))
    net.drop(lambda m: m.source == "n0" and m.target == "n2")  # n2 lags
    h = net.put("w", "x", "buy")
    assert net.wait("w", h).status == "ok"  # committed on {n0, n1}
    net.crash(0)  # before the replacement below can fetch anything from n0
    net.drop_rules.clear()
    net.replace(1)  # n1's disk died: empty replacement
    net.run(2_000_000)
    if unsafe:
        # The empty n1 voted: {n1, n2} elected a primary with nobody holding "buy".
        assert net.primaries() != []
        primary = net.primaries()[0]
        assert net.r(primary).machine.query(("get", "x")) == ("base",)
    else:
        # The learner has no vote: with n0 and n1's data gone the cluster stops (unavailable).
        assert net.primaries() == []
        assert net.r(1).status == "learner"
        net.restart(0)  # n0's disk comes back: the acknowledged write is recovered
        net.run(2_000_000)
        assert len(net.primaries()) == 1
        for r in net.up():
            assert r.machine.query(("get", "x")) == ("base", "buy"), r


# -- S8: ack before fsync + power loss (ack_before_fsync) --------------------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s8_ack_before_fsync_loses_write_on_power_loss(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"ack_before_fsync"} if unsafe else set()})
    assert net.config.sync_policy == ("never" if unsafe else "group")
    h = net.put("w", "x", "buy")
    assert net.wait("w", h).status == "ok"
    net.power_loss_all()
    for i in range(3):
        net.restart(i)
    net.run(1_000_000)
    ops = [r.op_number for r in net.up()]
    if unsafe:
        # Every WAL lost the acknowledged entry: the order is gone everywhere (the one op
        # left is the no-op the reopened primary appends for its view).
        assert ops == [1, 1, 1]
        assert all(row.noop for r in net.up() for row in r.log)
        assert all(r.machine.query(("get", "x")) == () for r in net.up())
    else:
        assert all(r.machine.query(("get", "x")) == ("buy",) for r in net.up())


# -- S10: duplicate order on retry (no_dedup) ------------------------------------------------


@pytest.mark.parametrize("failover", [False, True])
@pytest.mark.parametrize("unsafe", [True, False])
def test_s10_retry_is_applied_once_with_client_table(unsafe: bool, failover: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"no_dedup"} if unsafe else set()})
    net.drop(kinds("Reply", target="client:w"))  # the first reply is lost
    h = net.put("w", "x", "buy")
    net.run(50_000)
    assert net.r(0).commit_number == 1
    if failover:
        net.crash(0)
    net.drop_rules.clear()
    outcome = net.wait("w", h)
    assert outcome.status == "ok" and outcome.attempts >= 2
    net.run(100_000)
    for r in net.up():
        values = r.machine.query(("get", "x"))
        if unsafe:
            assert len(values) >= 2 and set(values) == {"buy"}, r  # double apply
        else:
            assert values == ("buy",), r


def test_s10_stale_request_number_gets_a_definite_failure() -> None:
    net = Net(1)
    c = net.client("w")
    net.wait("w", net.put("w", "x", "1"))
    net.wait("w", net.put("w", "x", "2"))
    from clobkit.replication.messages import Request

    old = Request(
        cluster_id="t",
        source="client:w",
        target="n0",
        view=0,
        client_id="w",
        request_number=1,
        payload=KvMachine.append("x", "again"),
    )
    step = net.r(0).handle(old, net.now)
    assert net.r(0).machine.query(("get", "x")) == ("1", "2")
    replies = [m for m in step.messages if m.kind == "Reply"]
    assert len(replies) == 1 and not replies[0].ok and replies[0].error == "stale_request"
    assert c.result(1) is not None


# -- S11: trade printed before commit (apply_before_commit) ------------------------------------


@pytest.mark.parametrize("unsafe", [True, False])
def test_s11_apply_before_commit_prints_a_busted_trade(unsafe: bool) -> None:
    net = Net(3, config_kwargs={"unsafe": {"apply_before_commit"} if unsafe else set()})
    net.wait("w0", net.put("w0", "x", "base"))
    net.drop(kinds("Prepare", source="n0"))
    net.client("w", max_attempts=1)
    net.put("w", "x", "sell")
    net.run(3_000)
    published = {
        (e.fields["op"], e.fields["client"])
        for _, e in net.events
        if e.kind == "apply" and e.node == "n0"
    }
    net.crash(0)
    net.drop_rules.clear()
    net.run(1_000_000)
    assert net.primaries() == [1]
    assert net.r(1).machine.query(("get", "x")) == ("base",)
    busted = (2, "w") in published  # the "tape" shows a trade the committed log lacks
    assert busted == unsafe


# -- S3, S4, S5: the literal read rule ------------------------------------------------------


@pytest.mark.parametrize("mode", ["quorum-highest-seq", "quorum", "primary"])
def test_s3_dirty_read_of_uncommitted_write(mode: str) -> None:
    net = Net(3)
    net.wait("w0", net.put("w0", "x", "base"))
    net.drop(kinds("Prepare", source="n0"))  # A's replication never arrives
    net.client("w", max_attempts=1)
    net.put("w", "x", "bid")
    net.run(3_000)
    net.drop(kinds("Read", target="n1"))  # R1 reads {A, C}
    r1 = net.wait("r1", net.read("r1", ("get", "x"), mode), limit_us=300_000)
    net.crash(0)
    net.drop_rules.clear()
    net.run(1_000_000)
    r2 = net.wait("r2", net.read("r2", ("get", "x"), "quorum"))
    assert r2.value == ("base",)
    if mode == "quorum-highest-seq":
        assert r1.value == ("base", "bid")  # saw a write that then vanished: dirty read
    else:
        assert r1.status != "ok" or r1.value == ("base",)


@pytest.mark.parametrize("mode", ["quorum-highest-seq", "quorum"])
def test_s4_read_inversion_with_five_replicas(mode: str) -> None:
    net = Net(5)
    net.wait("w0", net.put("w0", "x", "base"))
    net.run(50_000)
    net.drop(lambda m: m.kind == "Prepare" and m.source == "n0" and m.target != "n1")
    net.client("w", max_attempts=1)
    net.put("w", "x", "new")
    net.run(3_000)
    assert net.r(1).op_number == 2 and net.r(2).op_number == 1
    net.drop(lambda m: m.kind == "Read" and m.target in ("n0", "n4"))
    r1 = net.wait("r1", net.read("r1", ("get", "x"), mode))
    net.drop_rules = [
        lambda m: m.kind == "Prepare" and m.source == "n0" and m.target != "n1",
        lambda m: m.kind == "Read" and m.target in ("n0", "n1"),
    ]
    r2 = net.wait("r2", net.read("r2", ("get", "x"), mode))
    assert r1.status == "ok" and r2.status == "ok"
    if mode == "quorum-highest-seq":
        assert r1.value == ("base", "new") and r2.value == ("base",)  # new, then old: inversion
    else:
        assert r1.value == r2.value == ("base",)


@pytest.mark.parametrize("mode", ["quorum-highest-seq", "quorum"])
def test_s5_deposed_primary_longer_log_wins_highest_seq(mode: str) -> None:
    net = Net(3)
    net.wait("w0", net.put("w0", "x", "base"))
    net.partition({"n0"}, {"n1", "n2"})
    for i in range(3):
        net.client(f"a{i}", max_attempts=1)
        net.put(f"a{i}", "x", f"stale{i}")  # A appends ops 2..4 that can never commit
    net.run(600_000)
    assert net.primaries() == [0, 1] or set(net.primaries()) == {0, 1}
    b = net.client("b")
    b.view = 1
    assert net.wait("b", net.put("b", "x", "o3")).status == "ok"
    assert net.r(0).op_number > net.r(2).op_number
    net.drop(kinds("Read", target="n1"))  # R reads {A, C}
    r = net.wait("r", net.read("r", ("get", "x"), mode))
    if mode == "quorum-highest-seq":
        assert "o3" not in r.value and "stale0" in r.value  # lost ack + never-committed orders
    else:
        assert r.value == ("base", "o3")
