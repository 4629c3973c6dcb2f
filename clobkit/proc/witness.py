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

* **real time**: no operation is placed before one that had returned before
  it was invoked (one pass in position order, tracking the latest
  invocation seen so far);
* **outputs**: replaying the order through the model reproduces every
  output (an unknown outcome reproduces anything);
* **coverage**: every command in the committed log is one operation of the
  history, exactly once.

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
    else whatever the full search says (see the module docstring)."""
    from clobkit.check.checker import CheckResult, check_operations
    from clobkit.check.model import UNKNOWN_OUTPUT

    ops = history.to_check_history().operations()
    if committed is not None:
        order, _why = witness_order(history, positions, committed, payloads)
        if order and _verified(model, ops, order, UNKNOWN_OUTPUT):
            result = CheckResult(
                verdict="ok", model=model.name, operations=len(ops), partitions=1, witness=[order]
            )
            result._ops = ops
            result.explanation = "the order the log claims is a linearization (witness)"
            return result
    return check_operations(model, ops, timeout_s=timeout_s)


def _verified(model: Any, ops: Sequence[Any], order: Sequence[int], unknown: Any) -> bool:
    # Real time: walking the claimed order, nothing may come after an op that returned
    # before it was invoked. Track the latest invocation so far; an op returning before
    # it was placed after it breaks the claim.
    latest_call = -1
    for k in order:
        op = ops[k]
        if op.return_ is not None and op.return_ < latest_call:
            return False
        latest_call = max(latest_call, op.call)
    # Every operation not in the order must be an unknown outcome (it never took effect).
    placed = set(order)
    if any(not ops[k].unknown for k in range(len(ops)) if k not in placed):
        return False
    state = model.init()
    for k in order:
        op = ops[k]
        legal, state = model.step(state, op.input, unknown if op.unknown else op.output)
        if not legal:
            return False
    return True
