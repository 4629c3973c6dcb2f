"""The client-call plumbing both hosts share (clobkit.sim.calls): bad arguments raise before
anything is built, and settle() decodes an outcome once, the same way for the simulator and
the real-process cluster (a rejected order's error, a refused call's Unavailable, a read in
people's units or the book's). Method: real replies from a simulated cluster's sessions."""

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
