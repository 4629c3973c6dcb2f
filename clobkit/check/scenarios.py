"""Staged failure scenarios: each unsafe switch, shown by one deterministic story.

Random campaigns find bugs by volume; a staged scenario finds one on purpose. Each function
here follows a scenario of SCENARIOS.md step by step on a three-node cluster (``n0`` is the
first primary; view ``v``'s primary is ``n{v mod 3}``), using the simulator's precise tools
(``drop_next``, ``block``, ``partition``, ``crash``, ``replace``), and returns a
:class:`~clobkit.check.campaigns.RunResult` judged exactly like a campaign run: the cluster
invariants and the linearizability checker over the client history.

Every function takes ``unsafe``: ``True`` turns the scenario's switch on (or uses the unsafe
read mode) and shows the anomaly (verdict ``"illegal"`` or ``"violation"``); ``False`` runs
the *same steps* with the standard fix and passes (verdict ``"ok"``). A notebook can show
both side by side:

>>> from clobkit.check import scenarios
>>> bad, good = scenarios.s10_duplicate_retry(True), scenarios.s10_duplicate_retry(False)
>>> bad.verdict, good.verdict
('illegal', 'ok')

The two building blocks are public, so a notebook can write a scenario's steps out where the
student reads them: :func:`stage` builds the quiet cluster (with one switch on, or none) and
:func:`judge` lets every call finish and judges it exactly like a campaign run.

>>> c = scenarios.stage("no_dedup", seed=1)
>>> _ = c.place("alice", "sell", price="101", qty=5)
>>> _ = c.drop_next("Reply", source="n0", target="client:w")
>>> _ = c.place("w", "buy", price="100", qty=10)  # the reply is lost: w retries
>>> _ = c.live_orders()
>>> scenarios.judge(c).verdict
'illegal'

:data:`ALL` maps each scenario name to its function; :data:`SWITCH` maps it to the switch
(or read mode) it demonstrates.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from clobkit.check.campaigns import RunOptions, RunResult, _judge
from clobkit.check.invariants import LiveInvariants
from clobkit.errors import ClobError

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.cluster import Cluster

__all__ = [
    "ALL",
    "SWITCH",
    "stage",
    "judge",
    "s1_split_brain",
    "s3_dirty_read",
    "s6_own_wal_failover",
    "s7_learner_votes",
    "s8_ack_before_fsync",
    "s9_truncate_corrupt",
    "s10_duplicate_retry",
    "s11_trade_before_commit",
    "s12_read_without_write_back",
    "s13_deposed_primary_read",
]


# A staged cluster -> (its live invariant monitor, its RunOptions), for judge().
_STAGED: weakref.WeakKeyDictionary[Any, tuple[LiveInvariants, RunOptions]] = (
    weakref.WeakKeyDictionary()
)


def stage(
    switch: str | None = None,
    *,
    seed: int = 1,
    read_mode: str = "quorum",
    nodes: int = 3,
    label: str | None = None,
    config: dict[str, object] | None = None,
) -> Cluster:
    """A quiet cluster for a staged scenario (three nodes unless ``nodes`` says otherwise),
    with at most one unsafe ``switch`` on.

    ``n0`` is the first primary, storage is in memory, invariant violations are recorded
    rather than raised, and a live invariant monitor is attached: do the scenario's steps on
    the returned cluster, then call :func:`judge`. ``switch`` is a name from
    ``clobkit.replication.UNSAFE_SWITCHES`` (``None``: the standard, safe protocol);
    ``read_mode`` is any read mode, including the unsafe ``"quorum-highest-seq"``;
    ``config`` is passed to the cluster (e.g. ``{"prevote": False}``).

    >>> c = stage("no_fencing", seed=3)
    >>> c.primary, sorted(c.config.unsafe)
    ('n0', ['no_fencing'])

    Raises ``InvalidArgument`` for an unknown switch or read mode (from ``Cluster``).
    """
    from clobkit.sim.cluster import Cluster

    switches = () if switch is None else (switch,)
    c = Cluster(
        nodes, seed=seed, storage="memory", read_mode=read_mode, unsafe=switches, config=config
    )
    c.monitor.strict = False  # record violations instead of stopping at the first one
    live = LiveInvariants.attach(c)
    options = RunOptions(
        nodes=nodes,
        ops=0,
        faults=(),
        unsafe=switches,
        read_mode=read_mode,
        schedule=(),
        scenario=label or f"scenarios.stage({switch!r}, seed={seed}, read_mode={read_mode!r})",
    )
    _STAGED[c] = (live, options)
    return c


def judge(c: Cluster, steps: Callable[[Cluster], None] | None = None) -> RunResult:
    """Let every call on a :func:`stage` cluster finish, then judge it like a campaign run.

    Runs ``steps(c)`` first when given (an exception there becomes the verdict
    ``"error"``, as in a campaign). Returns a :class:`~clobkit.check.campaigns.RunResult`:
    ``verdict`` is ``"violation"`` when a cluster invariant broke, otherwise the
    linearizability checker's verdict on the client history.

    >>> c = stage(seed=1)
    >>> _ = c.place("alice", "sell", price="101", qty=5)
    >>> judge(c).verdict
    'ok'

    Raises ``InvalidArgument`` for a cluster :func:`stage` did not build.
    """
    entry = _STAGED.get(c)
    if entry is None:
        from clobkit.errors import InvalidArgument

        raise InvalidArgument(f"c must be a cluster built by scenarios.stage(), got {c!r}")
    live, options = entry

    def run(cluster: Cluster) -> None:
        if steps is not None:
            steps(cluster)
        cluster.run()  # every call resolves (each has a deadline)

    return _judge(c.seed, options, run, built=(c, live, []))


def _staged(
    name: str,
    *,
    unsafe: bool,
    seed: int,
    switch: str | None,
    steps: Callable[[Cluster], None],
    read_mode: str = "quorum",
    safe_read_mode: str | None = None,
) -> RunResult:
    """Stage a cluster for scenario ``name``, run ``steps`` on it, judge it."""
    if not isinstance(unsafe, bool):
        from clobkit.errors import InvalidType

        raise InvalidType(f"unsafe must be a bool, got {unsafe!r}")
    mode = read_mode if unsafe or safe_read_mode is None else safe_read_mode
    c = stage(
        switch if unsafe else None,
        seed=seed,
        read_mode=mode,
        label=f"scenarios.{name}(unsafe={unsafe}, seed={seed})",
    )
    return judge(c, steps)


def _try(call: Callable[[], Any]) -> Any:
    """A synchronous call that may time out or be refused: the history records it anyway."""
    try:
        return call()
    except ClobError:
        return None


def _wait(c: Cluster, call: Any) -> None:
    c.run(until=lambda _c: call.outcome != "pending")


def s1_split_brain(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S1 (G1, switch ``no_fencing``): two primaries commit different entries at one op.

    1. ``n0`` is primary of view 0; alice's resting sell commits at op 1 on all three.
    2. Cut ``n0`` off. ``n1`` and ``n2`` hear no heartbeat, agree in the pre-vote round and
       start view 1, so ``n1`` is primary of view 1 with ``{n1, n2}``. Then reconnect ``n0``
       to ``n2`` only: ``n0``, still cut off from ``n1``, believes it is primary of view 0.
       (Cutting only ``n0`` <-> ``n1`` would not do: ``n2`` still hears ``n0`` and refuses
       ``n1`` its pre-vote, so no second primary ever appears.)
    3. ``w1`` (who reaches only ``n0``) places "buy 100 @ 100.00"; ``w2`` (who reaches only
       ``n1``) places "sell 100 @ 99.00".
    4. Unsafe: ``n2`` cannot tell the primaries apart and acks both: ``n0`` commits ``w1``'s
       buy at op 2 with ``{n0, n2}``, while ``n1``, which opened view 1 with a no-op at op 2,
       commits ``w2``'s sell at op 3 with ``{n1, n2}`` (``n2`` takes it on top of ``w1``'s
       buy). Op 2 is ``w1``'s buy on ``n0``/``n2`` and a no-op on ``n1``; both clients are told
       "resting", which no single book allows (checker: illegal; invariants:
       ``divergent_commit``, ``applied_not_prefix``, ``digest_mismatch``).
    5. Fix (views fence): ``n2`` drops ``n0``'s view-0 messages, so ``n0`` hears from no
       majority and refuses ``w1``'s order (``no_quorum``, CheckQuorum); ``w1``, who reaches
       only ``n0``, gets no answer, and ``w2``'s sell rests alone.
    6. Heal; read the live orders and fills.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.partition({"n0"}, {"n1", "n2"})
        c.run(ms=300)
        c.heal()
        c.partition({"n0"}, {"n1"})
        c.run(ms=100)  # n0 hears from n2 again: a majority, as far as it can tell
        c.block("client:w2", "n0")
        c.block("n0", "client:w2")
        c.block("client:w1", "n1")
        c.block("n1", "client:w1")
        c.submit("w1", "place", side="buy", price="100", qty=100)
        c.submit("w2", "place", side="sell", price="99", qty=100)
        c.run(ms=1_500)
        c.heal()
        c.run(ms=500)
        _try(lambda: c.live_orders())
        _try(lambda: c.fills())

    return _staged("s1_split_brain", unsafe=unsafe, seed=seed, switch="no_fencing", steps=steps)


def s3_dirty_read(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S3 (G2, ``read_mode="quorum-highest-seq"`` vs ``"quorum"``): a read sees an order that
    never commits.

    1. alice's resting sell commits at op 1. Every ``Prepare`` from ``n0`` is dropped from now.
    2. ``w`` places "buy 50 @ 100.00": ``n0`` appends it at op 2, but nobody else gets it.
    3. ``r1`` reads the live orders from a majority; ``r1`` cannot reach ``n2``, so its
       majority is ``{n0, n1}`` whatever the network delays (otherwise ``{n1, n2}`` may answer
       first and hide the anomaly). Unsafe (highest op number wins): ``n0``'s answer includes
       the uncommitted op 2, so ``r1`` sees ``w``'s bid as order 2.
       Fix (highest *commit* number, with write-back): ``r1`` sees only alice's sell.
    4. ``n0`` crashes; ``n1`` becomes primary of view 1 without op 2. ``w``'s session retries
       and the bid commits later as order 3.
    5. ``r2`` reads: order 2 never existed. Unsafe: no order of the operations explains
       ``r1`` (checker: illegal). Fix: ok.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.drop_next("Prepare", source="n0", count=1_000)
        c.submit("w", "place", side="buy", price="100", qty=50)
        c.run(ms=3)
        c.block("client:r1", "n2")  # r1's majority must include n0
        _wait(c, c.submit("r1", "live_orders"))
        c.crash("n0")
        c.run(ms=400)
        _wait(c, c.submit("r2", "live_orders"))

    return _staged(
        "s3_dirty_read",
        unsafe=unsafe,
        seed=seed,
        switch=None,
        steps=steps,
        read_mode="quorum-highest-seq",
        safe_read_mode="quorum",
    )


def s6_own_wal_failover(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S6 (G3, switch ``own_wal_failover``): a new primary recovers from its own WAL only and
    loses an acknowledged write.

    1. alice's resting buy commits at op 1 on all three.
    2. The link ``n0 -> n1`` is cut: ``n1`` is slow and misses what follows.
    3. ``w`` places "sell 10 @ 102.00": op 2 commits on ``{n0, n2}``; ``w`` is told "ok".
    4. ``n0`` crashes; the link comes back. ``n1`` is view 1's primary.
       Unsafe: it takes over from its own log (last op 1): it opens view 1 with a no-op at
       op 2, so bob's order (step 5) goes to op 3. ``n2`` keeps ``w``'s sell at op 2: the logs
       diverge there, nothing is overwritten, but view 1 goes on without the sell, which is
       gone (invariants: ``acked_write_lost``, ``divergent_commit``; checker: a read without
       it is illegal).
       Fix: the view change collects logs from a majority ``{n1, n2}``; ``n2``'s log has op 2,
       ``n1`` adopts it before serving.
    5. bob places "buy 1 @ 99.00"; a reader lists the live orders.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "buy", price="100", qty=5)
        c.block("n0", "n1")
        c.place("w", "sell", price="102", qty=10)
        c.crash("n0")
        c.heal()
        c.run(ms=400)
        _try(lambda: c.place("bob", "buy", price="99", qty=1))
        _try(lambda: c.live_orders())

    return _staged(
        "s6_own_wal_failover", unsafe=unsafe, seed=seed, switch="own_wal_failover", steps=steps
    )


def s7_learner_votes(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S7 (G4, switch ``learner_votes``): an empty replacement counted in a quorum.

    1. alice's resting buy commits at op 1. The link ``n0 -> n2`` is cut: ``n2`` lags.
    2. ``w`` places "sell 10 @ 102.00": op 2 commits on ``{n0, n1}``; ``w`` is told "ok".
    3. ``n1``'s disk dies: it is replaced by an empty ``n1'`` that asks for the log, but the
       link ``n0 -> n1`` is cut too, so it learns nothing from ``n0``.
    4. ``n0`` crashes; the links come back. Nobody alive holds op 2.
       Unsafe: ``n1'`` votes at once, ``{n1', n2}`` form view 1 without op 2, and bob's next
       order takes op 2: the acknowledged sell is silently gone from the running cluster
       (invariants: ``divergent_commit``; checker: the read without it is illegal).
       Fix: ``n1'`` is a learner with no vote; ``n2`` alone is no majority, so the cluster
       stops (bob's order and the read time out: unavailable, not wrong).
    5. bob places "buy 1 @ 99.00"; a reader lists the live orders.
    6. ``n0`` restarts with its disk (op 2 on it) and the cluster runs on: with the fix it
       recovers everything. Unsafe, ``n0`` keeps its op 2 while ``n1`` and ``n2`` hold bob's
       order there, all at commit number 3: the replicas disagree for good
       (``digest_mismatch``, ``applied_not_prefix``).
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "buy", price="100", qty=5)
        c.block("n0", "n2")
        c.place("w", "sell", price="102", qty=10)
        c.block("n0", "n1")
        c.replace("n1")
        c.run(ms=5)
        c.crash("n0")
        c.heal()
        c.run(ms=400)
        _try(lambda: c.place("bob", "buy", price="99", qty=1))
        _try(lambda: c.live_orders())
        c.restart("n0")
        c.run(ms=1_000)

    return _staged(
        "s7_learner_votes", unsafe=unsafe, seed=seed, switch="learner_votes", steps=steps
    )


def s8_ack_before_fsync(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S8 (G5, switch ``ack_before_fsync``): acknowledged before durable, then a power loss.

    1. alice's sell and ``w``'s buy commit at ops 1 and 2; both are told "ok".
       Unsafe: every replica acked after writing to the page cache, without fsync.
    2. Power loss: all three replicas crash at once; unsynced bytes are discarded.
    3. All three restart and run. Unsafe: every WAL is empty, both acknowledged orders are
       gone (invariants: ``acked_write_lost``); the restarted replicas cannot serve the read.
       Fix: the entries were fsynced before the acks, recovery replays them, and the read
       shows both orders.
    4. A reader lists the live orders.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.place("w", "buy", price="100", qty=10)
        for name in c.replica_names:
            c.crash(name)
        for name in c.replica_names:
            c.restart(name)
        c.run(ms=500)
        _try(lambda: c.live_orders())

    return _staged(
        "s8_ack_before_fsync", unsafe=unsafe, seed=seed, switch="ack_before_fsync", steps=steps
    )


def s9_truncate_corrupt(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S9 (G5, switch ``truncate_corrupt``): a corrupt record in the middle of the WAL is cut
    off like a torn tail, and committed ops go with it.

    1. alice's resting sell commits at op 1 on all three. ``n2`` is cut off.
    2. ``w``'s buy and bob's buy commit at ops 2 and 3 on ``{n0, n1}``; both are told "ok".
    3. ``n0`` crashes. ``n1``'s record of op 2 (the middle of its log) is damaged by a bit
       flip, and ``n1`` restarts; the network heals, so ``n1`` and ``n2`` can talk.
       Unsafe: recovery cuts ``n1``'s log after op 1, as if op 2 were a torn write, and
       ``n1`` + ``n2`` form view 1 from op 1: both acknowledged buys are gone (invariants:
       ``acked_write_lost``; checker: the reads without them are illegal).
       Fix: op 2's record was synced, so it may have been acknowledged: ``n1`` keeps its log
       and asks its peers for a good copy. ``n2`` has none and ``n0`` is down, so ``n1``
       neither votes nor acks, and the first read times out (unavailable, not wrong).
    4. ``n0`` restarts with its disk; ``n1`` repairs op 2 and the cluster runs on with all
       three orders, which a second read shows.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.isolate("n2")
        c.place("w", "buy", price="100", qty=10)
        c.place("bob", "buy", price="99", qty=3)
        c.crash("n0")
        c.disk_fault("n1", "bit_flip", op=2)
        c.restart("n1")
        c.heal()
        c.run(ms=600)
        _try(lambda: c.live_orders())
        c.restart("n0")
        c.run(ms=600)
        _try(lambda: c.live_orders(client="r2"))

    return _staged(
        "s9_truncate_corrupt", unsafe=unsafe, seed=seed, switch="truncate_corrupt", steps=steps
    )


def s10_duplicate_retry(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S10 (G6, switch ``no_dedup``): a retried order executes twice.

    1. alice's resting sell commits at op 1.
    2. ``w`` places "buy 10 @ 100.00"; it commits at op 2, but ``n0``'s reply to ``w`` is
       dropped.
    3. ``w``'s session times out and resends the same request (same request number).
       Unsafe: no client table, so it is appended again at op 3: two resting bids.
       Fix: the client table recognises the request number and returns op 2's reply.
    4. A reader lists the live orders. Unsafe: two bids for one order (checker: illegal).
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.drop_next("Reply", source="n0", target="client:w")
        c.place("w", "buy", price="100", qty=10)
        c.live_orders()

    return _staged("s10_duplicate_retry", unsafe=unsafe, seed=seed, switch="no_dedup", steps=steps)


def s11_trade_before_commit(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S11 (G7, switch ``apply_before_commit``): a trade printed before commit, then busted.

    Reads go through the primary (``read_mode="primary"``) in both runs.

    1. alice's resting buy "5 @ 100.00" commits at op 1. Every ``Prepare`` from ``n0`` is
       dropped from now.
    2. ``w`` sends "sell 5 @ 100.00": ``n0`` appends it at op 2. Unsafe: ``n0`` matches it at
       once, printing a fill (taker order 2).
    3. ``r1`` reads the fills through the primary. Unsafe: it sees the fill of order 2.
       Fix: only committed entries are applied, so ``r1`` sees no fill.
    4. ``n0`` crashes before anyone else has op 2; ``n1`` becomes primary of view 1. ``w``'s
       session retries and the sell commits as order 3, filling then.
    5. ``r2`` reads the fills: taker order 3. Unsafe: the fill ``r1`` saw never happened
       (checker: illegal; invariants: ``speculative_apply_lost``, a busted trade).
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "buy", price="100", qty=5)
        c.drop_next("Prepare", source="n0", count=1_000)
        c.submit("w", "place", side="sell", price="100", qty=5)
        c.run(ms=3)
        _wait(c, c.submit("r1", "fills"))
        c.crash("n0")
        c.run(ms=400)
        _wait(c, c.submit("r2", "fills"))

    return _staged(
        "s11_trade_before_commit",
        unsafe=unsafe,
        seed=seed,
        switch="apply_before_commit",
        steps=steps,
        read_mode="primary",
    )


def s12_read_without_write_back(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S12 (switch ``no_write_back``): a quorum read returns a commit number only one replica
    knows, and a later read misses what it saw.

    1. alice's resting sell commits at op 1 on all three.
    2. ``w`` places "buy 50 @ 100.00": op 2 commits at ``n0`` (a majority stored it), but
       ``n0``'s two ``Commit`` messages are dropped: ``n1`` and ``n2`` still say commit 1.
       ``w`` is not answered yet (its reply waits until a majority knows the commit).
    3. ``r1`` reads the live orders from ``{n0, n1}`` (it cannot reach ``n2``): ``n0``
       answers at commit 2 with ``w``'s bid, ``n1`` at commit 1. The highest commit wins:
       ``r1`` sees the bid. Only ``n0`` knows commit 2, so the fix writes it back to a
       majority (``n1`` learns it) before ``r1`` returns.
    4. ``r2``, which starts after ``r1`` returned, reads from ``{n1, n2}`` (it cannot reach
       ``n0``). Unsafe: both still say commit 1, so ``r2`` does not see the bid ``r1`` saw
       (checker: illegal, a read inversion). Fix: ``n1`` answers at commit 2.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.drop_next("Commit", source="n0", count=2)
        c.submit("w", "place", side="buy", price="100", qty=50)
        c.run(until=lambda cluster: (cluster.nodes["n0"].commit_number or 0) >= 2)
        c.block("client:r1", "n2")
        _wait(c, c.submit("r1", "live_orders"))
        c.run(ms=1)  # r2 starts strictly after r1 returned
        c.block("client:r2", "n0")
        _wait(c, c.submit("r2", "live_orders"))

    return _staged(
        "s12_read_without_write_back", unsafe=unsafe, seed=seed, switch="no_write_back", steps=steps
    )


def s13_deposed_primary_read(unsafe: bool = True, seed: int = 1) -> RunResult:
    """S13 (switch ``no_leader_check``, ``read_mode="primary"``): a deposed primary answers
    a read from its stale state.

    1. alice's resting sell commits at op 1.
    2. ``n0`` is cut off from ``n1`` and ``n2`` (clients still reach everyone). ``n1`` and
       ``n2`` move to view 1 (primary ``n1``); ``n0`` hears nothing and still believes it
       is the primary of view 0.
    3. ``w`` places "buy 50 @ 100.00": its first try at ``n0`` times out, the retry reaches
       ``n1``, and the bid commits in view 1. ``w`` is told "ok".
    4. ``r``, which still believes view 0, reads the live orders through ``n0``.
       Unsafe: ``n0`` answers at once from its own state, without the bid ``w`` was told
       about (checker: illegal, a stale read). Fix (read index): ``n0`` first sends a
       leadership probe, which no majority answers; ``r`` times out, retries everyone,
       learns view 1 and reads through ``n1``, with the bid.
    """

    def steps(c: Cluster) -> None:
        c.place("alice", "sell", price="101", qty=5)
        c.partition({"n0"}, {"n1", "n2"})
        c.run(ms=400)
        c.place("w", "buy", price="100", qty=50)
        c.run(ms=1)  # r starts strictly after w returned
        _try(lambda: c.live_orders(client="r"))

    return _staged(
        "s13_deposed_primary_read",
        unsafe=unsafe,
        seed=seed,
        switch="no_leader_check",
        steps=steps,
        read_mode="primary",
    )


ALL: dict[str, Callable[..., RunResult]] = {
    "s1_split_brain": s1_split_brain,
    "s3_dirty_read": s3_dirty_read,
    "s6_own_wal_failover": s6_own_wal_failover,
    "s7_learner_votes": s7_learner_votes,
    "s8_ack_before_fsync": s8_ack_before_fsync,
    "s9_truncate_corrupt": s9_truncate_corrupt,
    "s10_duplicate_retry": s10_duplicate_retry,
    "s11_trade_before_commit": s11_trade_before_commit,
    "s12_read_without_write_back": s12_read_without_write_back,
    "s13_deposed_primary_read": s13_deposed_primary_read,
}
"""Scenario name -> function."""

SWITCH: dict[str, str] = {
    "s1_split_brain": "no_fencing",
    "s3_dirty_read": "quorum-highest-seq",
    "s6_own_wal_failover": "own_wal_failover",
    "s7_learner_votes": "learner_votes",
    "s8_ack_before_fsync": "ack_before_fsync",
    "s9_truncate_corrupt": "truncate_corrupt",
    "s10_duplicate_retry": "no_dedup",
    "s11_trade_before_commit": "apply_before_commit",
    "s12_read_without_write_back": "no_write_back",
    "s13_deposed_primary_read": "no_leader_check",
}
"""Scenario name -> the unsafe switch (or read mode) it demonstrates."""
