"""Witness first, search second: check a real cluster's history in the order the log claims.

DESIGN.md settles it: operations may carry the position the server claims for
them, and the claimed order is verified first in O(n log n) model steps; only
if it fails does the full search run, and only the search may say
``illegal``. A :class:`~clobkit.proc.ProcessCluster` knows the claims: each
acknowledged write carries the op it committed at, each read the commit
number it reflected, and the committed log on disk places the writes whose
outcome the client never learned (or shows they never took effect).

:func:`check_with_witness` builds that order (writes by op; a read right
after the write at its commit number), then verifies

* **coverage**: every command in the committed log is one operation of the
  history, exactly once (:func:`witness_order`), and every operation with a
  known outcome is placed;
* **real time**: no operation is placed after one that returned before it
  was invoked (one pass in position order, tracking the latest invocation
  seen so far);
* **outputs**: a sequential replay, one mutable book advanced along the order
  (the model's ``runner``: no snapshot, copy or memo per step), reproduces
  every output (an unknown outcome reproduces anything).

The last two are :func:`clobkit.check.checker.verify_order`, the same test the
checker applies to hinted orders.

If all hold the verdict is ``ok`` with that witness. Otherwise the full
search (:func:`clobkit.check.checker.check_operations`) decides. A claim
can cost time, never change a verdict.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["check_with_witness", "witness_order"]


def witness_order(
    history: Any,
    positions: Mapping[int, int],
    committed: Sequence[tuple[int, int, bytes]],
    payloads: Mapping[int, bytes],
) -> tuple[list[int], str]:
    """The claimed order as indices into ``history.operations()``, and ``""``; or
    ``([], why)`` when the claims do not cover the committed log.

    ``positions`` maps a history record index to the op a write committed at or the
    commit number a read reflected; ``payloads`` maps a write's record index to its
    command bytes; ``committed`` is the committed log ``(op, view, envelope)``.
    """
    from clobkit.replication.envelope import decode_envelope

    records = [r for r in history if r.outcome != "fail"]
    claimed_ops: dict[int, int] = {}  # op -> record index
    keys: list[tuple[int, int, int, int]] = []  # (position, 0 write / 1 read, call, record)
    unknown_writes: list[Any] = []
    for rec in records:
        pos = positions.get(rec.index)
        is_write = rec.index in payloads
        if rec.outcome == "ok" and pos is not None:
            if is_write:
                if pos in claimed_ops:
                    return [], f"two writes claim op {pos}"
                claimed_ops[pos] = rec.index
            keys.append((pos, 0 if is_write else 1, rec.call_us, rec.index))
        elif is_write:
            unknown_writes.append(rec)
        elif rec.outcome == "ok":
            return [], f"read {rec.index} has no claimed position"
    # Place writes whose outcome is unknown where the log has them (or nowhere: not applied).
    free: dict[tuple[str, bytes], list[int]] = {}
    for op, _view, raw in committed:
        env = decode_envelope(raw)
        if env.noop:
            continue
        if op in claimed_ops:
            index = claimed_ops[op]
            rec = history[index]
            if rec.client_id != env.client_id or payloads[index] != env.payload:
                return [], f"op {op} in the log is not the write acknowledged at it"
            continue
        free.setdefault((env.client_id, env.payload), []).append(op)
    for rec in unknown_writes:
        slots = free.get((rec.client_id, payloads[rec.index]))
        if slots:
            op = slots.pop(0)
            claimed_ops[op] = rec.index
            keys.append((op, 0, rec.call_us, rec.index))
    leftover = [op for ops in free.values() for op in ops]
    if leftover:
        return [], f"committed op {min(leftover)} matches no write in the history"
    keys.sort()
    position_of = {rec.index: k for k, rec in enumerate(records)}
    return [position_of[index] for *_rest, index in keys], ""


def check_with_witness(
    model: Any,
    history: Any,
    positions: Mapping[int, int],
    committed: Sequence[tuple[int, int, bytes]] | None,
    payloads: Mapping[int, bytes],
    *,
    timeout_s: float = 60.0,
) -> Any:
    """A :class:`~clobkit.check.checker.CheckResult`: ``ok`` from the verified witness,
    else whatever the full search says (see the module docstring).

    Cost: O(n log n) to build the claimed order and one in-place model step per
    operation to verify it; the search's cost only when the claim fails, and then the
    result's explanation ends with why the claim was not used.

    >>> from clobkit.book import MarketSpec
    >>> from clobkit.check.book_model import book_model
    >>> from clobkit.sim.history import ClientHistory
    >>> h = ClientHistory()
    >>> r = h.invoke("carol", ("depth", "ACME", 5), 0)
    >>> h.complete(r, "ok", ((), ()), 10)
    >>> check_with_witness(book_model(MarketSpec("ACME")), h, {r: 0}, [], {}).explanation
    'the order the log claims is a linearization (witness)'
    """
    from clobkit.check.checker import CheckResult, check_operations, verify_order

    ops = history.to_check_history().operations()
    why = "the cluster did not close, so there is no committed log to check it against"
    if committed is not None:
        order, why = witness_order(history, positions, committed, payloads)
        if order:
            # A sequential replay (one mutable book advanced along the claim), not the
            # search's step: no state is snapshotted or memoised per operation.
            why = verify_order(model, ops, order)
            if not why:
                result = CheckResult(
                    verdict="ok",
                    model=model.name,
                    operations=len(ops),
                    partitions=1,
                    witness=[order],
                )
                result._ops = ops
                result.explanation = "the order the log claims is a linearization (witness)"
                return result
    result = check_operations(model, ops, timeout_s=timeout_s)
    if why:
        result.explanation = f"{result.explanation} (the claimed order was not used: {why})"
    return result
