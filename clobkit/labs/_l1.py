"""Lab L1's checks: client-table deduplication (``classify_request``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from clobkit.labs import _judge
from clobkit.labs._common import verdict_text
from clobkit.replication.client_table import ClientRecord

CAMPAIGN: dict[str, Any] = {"ops": 60, "faults": ("loss", "duplicate", "crash")}

_REC = ClientRecord(request_number=4, op=9, reply=b"cached")
SPEC = [
    ((None, 1), "new", "a client the table has never seen"),
    ((_REC, 5), "new", "the next request after the one in the table"),
    ((_REC, 4), "retry", "the same request number as the table's"),
    ((_REC, 3), "stale", "an older request number"),
    ((_REC, 9), "new", "a higher number, even with a gap"),
]


def checks(fn: Callable[..., Any]) -> Iterator[tuple[str, str, Callable[[], str | None]]]:
    """(kind, name, run) for each check; ``run`` returns None or what went wrong."""
    for (record, number), want, what in SPEC:
        name = f"{what}: classify_request({'rec(4)' if record else 'None'}, {number}) == {want!r}"

        def spec(record: Any = record, number: int = number, want: str = want) -> str | None:
            got = fn(record, number)
            return None if got == want else f"got {got!r}"

        yield "spec", name, spec
    yield "staged", "a lost reply, the client retries (S10): the order executes once", _lost_reply
    yield (
        "staged",
        "a lost reply, then the primary crashes: the new one answers the retry",
        _failover,
    )


def _lost_reply() -> str | None:
    from clobkit.check import scenarios

    return verdict_text(scenarios.s10_duplicate_retry(unsafe=False, seed=1))


def _failover() -> str | None:
    import clobkit as ck

    c = ck.Cluster(3, seed=1, storage="memory")
    c.monitor.strict = False
    c.place("alice", "sell", price="101", qty=5)
    old = c.primary
    assert old is not None
    c.drop_next("Reply", source=old, target="client:w")
    call = c.submit("w", "place", side="buy", price="100", qty=10)
    c.run(until=lambda cl: all(n.commit_number >= 2 for n in cl.nodes.values()))
    c.crash(old)  # w's order is committed everywhere, but w never heard so
    c.run(until=lambda cl: call.done)
    c.live_orders()
    c.run()
    if call.outcome != "ok":
        return f"w's retried order ended {call.outcome!r}"
    problem = _judge(c)
    if problem is None and call.value.op != 2:
        problem = f"w's retry was executed again, at op {call.value.op} (first at op 2)"
    return problem
