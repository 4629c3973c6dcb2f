"""Lab L3's checks: ReadIndex reads (``primary_read_ready``)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from clobkit.errors import ClobError
from clobkit.labs._common import verdict_text
from clobkit.replication.reads import PrimaryRead

CAMPAIGN: dict[str, Any] = {
    "ops": 60,
    "faults": ("partition", "crash", "loss"),
    "read_mode": "primary",
}

_READ = PrimaryRead(None, read_index=4, probe=7)  # type: ignore[arg-type]
SPEC = [
    ((7, 4, 5, 5), True, "probe confirmed, read index applied, this view's no-op committed"),
    ((9, 8, 8, 5), True, "a later probe round confirms an earlier read"),
    ((6, 4, 5, 5), False, "the probe sent after the read is not confirmed yet"),
    ((7, 4, 4, 5), False, "this view's no-op (op 5) has not committed"),
    ((7, 3, 5, 5), False, "not yet applied through the read index"),
]


def checks(fn: Callable[..., Any]) -> Iterator[tuple[str, str, Callable[[], str | None]]]:
    """(kind, name, run) for each check; ``run`` returns None or what went wrong."""
    for (confirmed, applied, commit, view_start_op), want, what in SPEC:
        name = (
            f"{what}: read(index 4, probe 7), confirmed={confirmed}, applied={applied},"
            f" commit={commit}, view_start_op={view_start_op} -> {want}"
        )

        def spec(
            confirmed: int = confirmed,
            applied: int = applied,
            commit: int = commit,
            view_start_op: int = view_start_op,
            want: bool = want,
        ) -> str | None:
            got = fn(
                _READ,
                confirmed=confirmed,
                applied=applied,
                commit=commit,
                view_start_op=view_start_op,
            )
            return None if bool(got) is want and isinstance(got, bool) else f"got {got!r}"

        yield "spec", name, spec
    yield "staged", "a deposed primary, cut off from the others, is read (S13)", _deposed
    yield "staged", "a new primary is read before its view's no-op commits", _new_primary
    yield "staged", "a trade before commit is not shown to a primary read (S11)", _s11


def _deposed() -> str | None:
    """S13's steps (``scenarios.s13_deposed_primary_read``) with CheckQuorum off
    (``prevote=False``): a primary cut off from the majority then keeps serving until a
    read's probe goes unanswered, so your read rule is the only guard against a stale read
    (CheckQuorum is a second, timing-based guard that would hide a missing probe)."""
    from clobkit.check import scenarios

    c = scenarios.stage(
        seed=1,
        read_mode="primary",
        config={"prevote": False},
        label="lab L3: a deposed primary (S13, CheckQuorum off)",
    )
    c.place("alice", "sell", price="101", qty=5)
    c.partition({"n0"}, {"n1", "n2"})
    c.run(ms=400)
    c.place("w", "buy", price="100", qty=50)
    c.run(ms=1)  # r starts strictly after w returned
    with contextlib.suppress(ClobError):  # a read may time out: unavailable, not wrong
        c.live_orders(client="r")
    return verdict_text(scenarios.judge(c))


def _s11() -> str | None:
    from clobkit.check import scenarios

    return verdict_text(scenarios.s11_trade_before_commit(unsafe=False, seed=1))


def _new_primary() -> str | None:
    """``w``'s bid commits at op 2 on ``n0`` and ``w`` is told; ``n0`` crashes before any
    heartbeat tells ``n1`` and ``n2`` that op 2 committed. ``n1`` takes over with op 2 in its
    log but commit number 1, and the acks of its view's no-op are slow. A read that ``n1``
    answers before the no-op commits misses the acknowledged bid."""
    from clobkit.check import scenarios

    c = scenarios.stage(seed=1, read_mode="primary", label="lab L3: a new primary's first read")
    c.place("alice", "sell", price="101", qty=5)
    c.place("w", "buy", price="100", qty=50)  # op 2: committed at n0 only so far
    c.crash("n0")
    c.delay_next("PrepareOk", delay_ms=400, target="n1", count=100)
    c.run(ms=1)
    with contextlib.suppress(ClobError):  # a read may time out: unavailable, not wrong
        c.live_orders(client="r")
    c.run(ms=600)  # the slow acks arrive: the no-op and w's bid commit before judging
    return verdict_text(scenarios.judge(c))
