"""The client-call plumbing both hosts share (clobkit.sim.calls): bad arguments raise before
anything is built, and settle() decodes an outcome once, the same way for the simulator and
the real-process cluster (a rejected order's error, a refused call's Unavailable, a read in
people's units or the book's); ClientNode.poll resolves finished calls oldest first; the
workload's direct path journals what submit() journals; a write's history output, converted
when read, is the one written. Method: real replies from a simulated cluster's sessions."""

from __future__ import annotations

import pytest

import clobkit as ck
from clobkit.errors import InvalidArgument, NoLiquidity, Unavailable
from clobkit.replication.client import Outcome
from clobkit.sim import calls
from clobkit.sim.results import Call, CommandResult

SPEC = ck.MarketSpec("ACME", tick="0.01")


def _outcome(status: str, value: object, op: int | None, error: str = "") -> Outcome:
    return Outcome(1, "write", status, value, op, error, 0, 5, 1)  # type: ignore[arg-type]


def test_build_command_checks_before_building() -> None:
    command, recorded = calls.build_command(
        SPEC, "place", "alice", {"side": "buy", "price": "100.50", "qty": 3}
    )
    assert (command.price, command.qty) == (10050, 3)
    assert recorded[0] == "place" and 10050 in recorded
    with pytest.raises(InvalidArgument, match="qty is required"):
        calls.build_command(SPEC, "place", "alice", {"side": "buy", "price": "1"})
    with pytest.raises(InvalidArgument, match="levels must be >= 1"):
        calls.build_query("ACME", "depth", {"levels": 0})


def test_settle_a_rejected_write_a_refusal_and_a_read() -> None:
    c = ck.Cluster(3, seed=2, storage="memory", market=SPEC)
    rejected = c.submit("bob", "place", side="buy", order_type="market", qty=1)
    c.run()
    assert isinstance(rejected.error, NoLiquidity)
    reply = rejected.value.result  # the ApplyResult the primary replied with
    assert isinstance(rejected.value, CommandResult) and not reply.accepted

    call = Call("place", "bob", rejected.input, 0, 10, 0)
    done = calls.settle(call, _outcome("ok", ck.book.encode_result(reply), 1), SPEC)
    assert (done.outcome, done.op, type(done.error)) == ("ok", 1, NoLiquidity)
    refused = calls.settle(call, _outcome("fail", None, None, "not primary"), SPEC)
    assert refused.outcome == "fail" and isinstance(refused.error, Unavailable)
    assert "not primary" in str(refused.error)

    read = Call("depth", "bob", ("depth", "ACME", 1), 0, 10, 0)
    depth = {"bids": [(10050, 2, 1)], "asks": []}
    people = calls.settle(read, _outcome("ok", depth, 4), SPEC)
    raw = calls.settle(read, _outcome("ok", depth, 4), SPEC, people=False)
    assert str(people.value["bids"][0].price) == "100.50" and raw.value == depth
    assert people.output == raw.output == (((10050, 2, 1),), ())


def test_poll_resolves_calls_in_the_order_they_were_made() -> None:
    # A tick can end several calls at once (the write first, then the reads): poll resolves
    # them oldest call first, as it did when it scanned the pending calls in order, and drops
    # the outcome of a call no longer pending (given up on by its deadline).
    import random

    from clobkit.replication import ClientSession, ClusterConfig

    session = ClientSession(ClusterConfig("demo", 3), "al", rng=random.Random(1), max_attempts=1)
    seen: list[int] = []
    node = calls.ClientNode("al", session, lambda call, outcome, now: seen.append(outcome.handle))
    for _ in range(2):  # two reads first, then a write: the write has the highest handle
        handle, _step = session.read(("depth", "ACME", 1), 0)
        node.pending[handle] = Call("depth", "al", (), 0, 10**9, handle)
    handle, _step = session.submit(b"cmd", 0)
    node.pending[handle] = Call("place", "al", (), 0, 10**9, handle)
    del node.pending[2]  # the second read was given up on
    node.tick(10**8)  # every attempt timed out: the write ends first, then the reads
    assert [o.handle for o in [session.result(h) for h in (1, 2, 3)]] == [1, 2, 3]
    assert seen == [1, 3]
    assert session.finished == [] and node.pending == {}


def test_the_workload_path_journals_what_submit_journals() -> None:
    # RandomWorkload calls Cluster._submit (no journal wrapper): the same call, the same
    # journal entry (keywords in the order given, timeout_ms included) as Cluster.submit.
    entries = []
    for through_submit in (True, False):
        c = ck.Cluster(3, seed=2, storage="memory", market=SPEC)
        kwargs = {"side": "buy", "price": "100.50", "qty": 3, "timeout_ms": None}
        if through_submit:
            call = c.submit("al", "place", **kwargs)  # type: ignore[arg-type]
        else:
            call = c._submit("al", "place", dict(kwargs))
        c.run()
        entries.append((c.journal, call.request, call.outcome, list(c.history)))
    assert entries[0] == entries[1]
    assert entries[0][0][0].kwargs == tuple(kwargs.items())


def test_a_write_output_read_later_is_the_one_written() -> None:
    # A committed write's history output is converted when the history is read: it equals
    # write_output of the call's result, and reading again changes nothing.
    from clobkit.book.records import write_output
    from clobkit.sim.workload import RandomWorkload

    c = ck.Cluster(3, seed=5, storage="memory", market=SPEC)
    RandomWorkload(c, users=["a", "b"], ops_per_user=15).start()
    c.run(ms=300)
    writes = [x for x in c.calls if x.kind in calls.WRITE_KINDS and x.outcome == "ok"]
    assert len(writes) > 10
    first = c.history.to_jsonl()
    for x in writes:
        assert c.history[x.history_index].output == write_output(x.value.result)
    assert c.history.to_jsonl() == first and list(c.history) == c.history.records()
