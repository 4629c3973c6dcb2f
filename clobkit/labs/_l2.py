"""Lab L2's checks: fencing and the DoViewChange log choice (``choose_log``)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from clobkit.labs._common import verdict_text
from clobkit.replication.messages import DoViewChange

CAMPAIGN: dict[str, Any] = {"ops": 60, "faults": ("crash", "partition", "loss")}


def dvc(source: int, last_normal_view: int, op: int, commit: int) -> DoViewChange:
    """A DoViewChange from replica ``source`` to the new primary (entries left out: the
    choice depends only on the three numbers)."""
    return DoViewChange(
        cluster_id="lab",
        source=f"n{source}",
        target="n2",
        view=2,
        last_normal_view=last_normal_view,
        op=op,
        commit=commit,
        base_op=0,
        snapshot=None,
        entries=(),
    )


# (the DoViewChanges as (index, last normal view, op, commit)), expected (index, commit), why
SPEC = [
    (((0, 1, 5, 3), (2, 1, 7, 3)), (2, 3), "same view: the longer log"),
    (((0, 0, 6, 3), (2, 1, 4, 4)), (2, 4), "a newer view's shorter log beats an older longer one"),
    (((0, 1, 5, 5), (1, 1, 5, 2), (2, 1, 5, 4)), (0, 5), "a tie: the lowest index; top commit"),
    (((1, 2, 3, 1), (2, 1, 9, 8)), (1, 8), "the newest view wins; commit is the highest reported"),
]


def checks(fn: Callable[..., Any]) -> Iterator[tuple[str, str, Callable[[], str | None]]]:
    """(kind, name, run) for each check; ``run`` returns None or what went wrong."""
    for logs, (want_index, want_commit), what in SPEC:
        shown = ", ".join(f"n{i}: lnv {v} op {o} commit {c}" for i, v, o, c in logs)
        name = f"{what} [{shown}] -> n{want_index}, commit {want_commit}"

        def spec(
            logs: Any = logs, want_index: int = want_index, want_commit: int = want_commit
        ) -> str | None:
            dvcs = {i: dvc(i, v, o, c) for i, v, o, c in logs}
            index, message, commit = fn(dvcs)
            if (index, commit) != (want_index, want_commit) or message is not dvcs[want_index]:
                return f"got index {index}, commit {commit}"
            return None

        yield "spec", name, spec
    yield "staged", "an older view's longer log meets a newer view's shorter one", _older_longer
    yield "staged", "two logs of the same view, one missing an acknowledged op (S6)", _s6
    yield "staged", "fencing: a partial partition, a deposed primary (S1)", _s1


def _verdict(result: Any) -> str | None:
    # the cluster may stop on a replica's own consistency assertion, e.g. a log that would
    # put an older view's entry after a newer one: the chosen log contradicts what a
    # majority committed (_short says so in a line)
    return verdict_text(result, _short)


_MIXED_VIEWS = re.compile(
    r"\('(n\d+)', LogEntry\(view=(\d+), op=(\d+),.*LogEntry\(view=(\d+), op=(\d+),"
)


def _short(error: str) -> str:
    """The error in words: the replica's assertion that no log puts an older view's entry
    after a newer view's is translated; anything else is cut to its first line."""
    mixed = _MIXED_VIEWS.search(error)
    if mixed:
        node, view, op, last_view, last_op = mixed.groups()
        return (
            f"{node} was asked to put an entry of view {view} at op {op} after its op"
            f" {last_op} of view {last_view}: the chosen log is older than one a majority"
            " already stored (the replica's own check stopped the run)"
        )
    line = error.strip().splitlines()[0] if error.strip() else error
    return line if len(line) <= 160 else line[:157] + "..."


def _older_longer() -> str | None:
    """Notebook 04's staging, plus an acknowledged order in the newer view. ``n0`` (primary of
    view 0) is cut off with three writers and appends their orders alone (ops 4-6); ``n1``
    and ``n2`` move to view 1 and commit its no-op (op 4) and bob's bid (op 5). ``n1``
    crashes, the network heals: view 2's primary ``n2`` chooses between ``n0``'s log (view 0,
    op 6) and its own (view 1, op 5). The longer one would drop bob's acknowledged bid."""
    from clobkit.check import scenarios

    c = scenarios.stage(seed=4, label="lab L2: an older view's longer log")

    def steps(c: Any) -> None:
        for i in range(3):
            c.place(f"mm{i}", "sell", price=f"{100 + i}", qty=2)
        writers = [f"client:w{i}" for i in range(3)]
        c.partition({"n0", *writers}, {"n1", "n2", "client:bob"})
        for i in range(3):
            c.submit(f"w{i}", "place", side="buy", price="99.00", qty=1)
        c.run(ms=300)  # n0 appends the three orders alone; n1 and n2 move to view 1
        c.place("bob", "buy", price="98", qty=3)  # op 5 of view 1, on n1 and n2
        c.crash("n1")
        c.heal()
        c.run(ms=600)
        c.restart("n1")
        c.run(ms=300)
        c.live_orders(client="r")

    return _verdict(scenarios.judge(c, steps))


def _s6() -> str | None:
    from clobkit.check import scenarios

    return _verdict(scenarios.s6_own_wal_failover(unsafe=False, seed=1))


def _s1() -> str | None:
    from clobkit.check import scenarios

    return _verdict(scenarios.s1_split_brain(unsafe=False, seed=1))
