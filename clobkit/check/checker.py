"""The linearizability checker: Wing & Gong's search with Lowe's memoisation.

A history is linearizable when there is one total order of its operations that (1) respects
real time: if ``a`` returned before ``b`` was called, ``a`` comes first, and (2) is legal for the
sequential model: every operation returns what the model says. The search (Wing & Gong 1993, as
improved by Lowe 2017 and used by Porcupine and Knossos) walks the calls and returns in time
order, kept in a doubly linked list. At each point it tries to linearize a pending call next:
if the model accepts it, the call and its return are unlinked ("lifted") and the search goes on
from the front; on reaching a return whose call was never linearized it backtracks. Lowe's
memoisation stores every ``(set of linearized operations, model state)`` pair seen (the set as
an int bitset, the state as its hash key) and never enters one twice, which cuts the search from
factorial to, in practice, a few times the history length. The loop is iterative, so long
histories do not hit Python's recursion limit.

Operations with unknown outcome (``return_=None``) have no return event: they may be linearized
at any point after their call, or never. The search therefore succeeds as soon as it walks off
the end of the list: every remaining entry is then such a call.

**Witness first, search second.** When operations carry hints (``Operation.hint``: the op
number a write committed at, the op number whose state a read reflected), a part is first
checked along the order the hints give (:func:`_hinted_order`): sorted by hint (at equal hints
writes before reads, then by call time), leaving out unknown-outcome operations without a
hint (they may never have taken effect). That order is kept as the witness only if it respects
real time (no operation placed after one that was called after it returned) and the model
reproduces every output along it, one pass in O(n log n). Those two conditions are exactly
the definition of a linearization, whatever the hints say, so a wrong or lying hint can only
make the check fail over to the search, which alone may answer ``"illegal"``.

Histories are first split by ``model.partition`` into independent parts (keys, markets) that are
checked one by one; the first illegal part stops the check. The search is bounded by
``max_states`` (memoised states, over all parts) and ``timeout_s`` (wall clock): when either
runs out the verdict is ``"unknown"``. Only the timeout depends on time; every other result is
a pure function of the model and the history.

>>> from clobkit.check import Operation, check_operations, register_model
>>> ops = [Operation(0, ("w", 1), 0, None, 10), Operation(1, ("r", None), 5, 1, 20)]
>>> r = check_operations(register_model(), ops)
>>> r.verdict, r.witness
('ok', [[0, 1]])
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from clobkit.check.model import (
    UNKNOWN_OUTPUT,
    MalformedHistory,
    Model,
    Operation,
    _describe_operation_default,
)

__all__ = ["CheckResult", "check_operations", "verify_order"]

_CULPRITS_MAX = 5  # the "cannot be ordered" set is kept small enough to read
_FAILED_STATES_MAX = 3  # states remembered per op for the explanation
_CLOCK_EVERY = 1024  # loop iterations between wall-clock reads


@dataclass
class CheckResult:
    """What the checker concluded, and why.

    ``verdict`` is ``"ok"``, ``"illegal"`` or ``"unknown"`` (a budget ran out; ``reason``
    says which). Operation indices refer to the list given to :func:`check_operations`.

    - ok: ``witness`` holds one linearization (op indices in order) per part; an
      unknown-outcome operation appears only where the search chose to let it take effect
      (the search stops once every known operation is placed, so trailing ones are left out).
    - illegal: ``partition_index`` and ``partition`` name the failing part; ``prefix`` is the
      longest linearizable prefix found (op order); ``culprits`` the few operations that cannot
      be ordered (first the one that could not go next, then its pending rivals and the last
      operation that changed the state); ``explanation`` says it in words.

    ``states_explored`` counts memoised states over all parts searched; ``hinted_parts``
    how many parts the hinted order settled without a search (see the module docstring);
    ``elapsed_s`` is the only field that depends on the machine.
    """

    verdict: str
    model: str
    operations: int
    partitions: int
    witness: list[list[int]] | None = None
    partition_index: int | None = None
    partition: list[int] | None = None
    prefix: list[int] | None = None
    culprits: list[int] | None = None
    explanation: str = ""
    reason: str | None = None
    states_explored: int = 0
    hinted_parts: int = 0
    elapsed_s: float = 0.0
    _ops: list[Operation] = field(default_factory=list, repr=False, compare=False)
    # The model's words for an operation (book prices in market units), for _repr_html_.
    _describe: Callable[[Operation], str] | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """True when the verdict is ``"ok"``."""
        return self.verdict == "ok"

    def __repr__(self) -> str:
        extra = ""
        if self.verdict == "illegal":
            extra = f", partition={self.partition_index}, culprits={self.culprits}"
        elif self.verdict == "unknown":
            extra = f", reason={self.reason!r}"
        return (
            f"CheckResult({self.verdict!r}, model={self.model!r}, ops={self.operations}, "
            f"states={self.states_explored}{extra})"
        )

    def to_dict(self, timing: bool = True) -> dict[str, Any]:
        """A JSON-ready dict of every field (``timing=False`` drops ``elapsed_s``)."""
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "model": self.model,
            "operations": self.operations,
            "partitions": self.partitions,
            "witness": self.witness,
            "partition_index": self.partition_index,
            "partition": self.partition,
            "prefix": self.prefix,
            "culprits": self.culprits,
            "explanation": self.explanation,
            "reason": self.reason,
            "states_explored": self.states_explored,
            "hinted_parts": self.hinted_parts,
        }
        if timing:
            out["elapsed_s"] = self.elapsed_s
        return out

    def _op_text(self, i: int) -> str:
        if not self._ops:
            return str(i)
        return _op_line(self._ops[i], self._describe)

    def _repr_html_(self) -> str:
        colour = {"ok": "#1a7f37", "illegal": "#cf222e"}.get(self.verdict, "#9a6700")
        rows = [
            ("verdict", f"<b style='color:{colour}'>{html.escape(self.verdict)}</b>"),
            ("model", html.escape(self.model)),
            ("operations", f"{self.operations} in {self.partitions} part(s)"),
            ("states explored", str(self.states_explored)),
            ("elapsed", f"{self.elapsed_s:.3f} s"),
        ]
        if self.reason:
            rows.append(("reason", html.escape(self.reason)))
        if self.explanation:
            rows.append(("explanation", html.escape(self.explanation)))
        if self.culprits:
            items = "".join(
                f"<li>#{i}: {html.escape(self._op_text(i))}</li>" for i in self.culprits
            )
            rows.append(("cannot be ordered", f"<ul style='margin:0'>{items}</ul>"))
        if self.prefix is not None:
            rows.append(("longest prefix", html.escape(_short_list(self.prefix))))
        body = "".join(
            f"<tr><th style='text-align:left'>{k}</th><td style='text-align:left'>{v}</td></tr>"
            for k, v in rows
        )
        return f"<table>{body}</table>"


def _op_line(op: Operation, describe: Callable[[Operation], str] | None = None) -> str:
    if describe is not None:
        ret = "?" if op.return_ is None else str(op.return_)
        return f"{describe(op)} at [{op.call}, {ret}] µs"
    ret = "?" if op.return_ is None else str(op.return_)
    out = "unknown" if op.unknown else repr(op.output)
    return f"client {op.client_id}: {op.input!r} -> {out} at [{op.call}, {ret}] µs"


def _short_list(xs: list[int], limit: int = 20) -> str:
    if len(xs) <= limit:
        return str(xs)
    return (
        f"[{', '.join(map(str, xs[: limit // 2]))}, ..., {', '.join(map(str, xs[-limit // 2 :]))}]"
    )


class _Budget:
    """The shared search budget: memoised states and a wall-clock deadline."""

    def __init__(self, timeout_s: float, max_states: int) -> None:
        self.max_states = max_states
        self.deadline = time.perf_counter() + timeout_s
        self.states = 0
        self.reason: str | None = None


@dataclass
class _PartOutcome:
    verdict: str
    order: list[int] = field(default_factory=list)  # witness (ok) or longest prefix (illegal)
    culprits: list[int] = field(default_factory=list)
    blocked: int = -1
    blocked_state: Any = None
    failed_states: list[Any] = field(default_factory=list)
    blocked_ever_linearized: bool = False


def _hinted_order(model: Model, ops: list[Operation]) -> list[int] | None:
    """The order the hints give, if it is a linearization of ``ops`` (one part); else None.

    Every operation with a known outcome needs a hint (else None: nothing to try). Unknown
    ones without a hint are left out, as if they never took effect. The order sorts by
    ``(hint, reads after writes, call, index)``; it is kept only if (1) no operation comes
    after one that returned before it was called, and (2) the model's runner accepts every
    output along it. O(n log n) for the sort plus n model steps.
    """
    if not any(op.hint is not None for op in ops):
        return None
    read_only = model.read_only
    chosen: list[tuple[int, int, int, int]] = []
    for i, op in enumerate(ops):
        if op.hint is None:
            if op.return_ is None:
                continue
            return None
        late = 1 if read_only is not None and read_only(op.input) else 0
        chosen.append((op.hint, late, op.call, i))
    chosen.sort()
    order = [c[3] for c in chosen]
    # Every known operation is in the order by construction; verify_order checks (1) and (2).
    return None if verify_order(model, ops, order) else order


def verify_order(model: Model, ops: list[Operation], order: list[int]) -> str:
    """Why ``order`` is not a linearization of ``ops``, or ``""`` if it is.

    ``order`` lists indices into ``ops``, each at most once. It is a linearization when
    every operation with a known outcome is in it (one left out never took effect, which
    only an unknown outcome allows), no operation comes after one that returned before it
    was called (closed intervals, as in the search: equal times overlap), and the model
    reproduces every output along it. The outputs are checked by a sequential replay: one
    mutable state from ``model.new_runner()`` advanced along the order, stopping at the
    first output it does not reproduce (no per-step states, no memo). Cost: O(n) plus one
    model step per placed operation. This is the definition itself, so a wrong or lying
    order can only make this return a reason; it never vouches for an illegal history.
    Only a search (:func:`check_operations`) may conclude ``"illegal"``.

    Raises :class:`~clobkit.check.model.MalformedHistory` if an index is not an int in
    ``range(len(ops))``.

    >>> from clobkit.check import register_model
    >>> ops = [Operation(0, ("w", 1), 0, None, 10), Operation(1, ("r", None), 5, 1, 20)]
    >>> verify_order(register_model(), ops, [0, 1])
    ''
    >>> verify_order(register_model(), ops, [1, 0])
    'op 1 (read by client 1 returned 1): the model answers otherwise at position 0'
    >>> verify_order(register_model(), ops, [0])
    'op 1 (read by client 1 returned 1) has a known outcome but is left out'
    """
    n = len(ops)
    placed: set[int] = set()
    for k in order:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k < n:
            raise MalformedHistory(f"order must hold indices in range({n}), got {k!r}")
        if k in placed:
            return f"op {k} is placed twice"
        placed.add(k)
    for k, op in enumerate(ops):
        if k not in placed and op.return_ is not None:
            return f"op {k} ({_words(model, op)}) has a known outcome but is left out"
    # Real time: walking the order, track the latest call placed so far; an operation that
    # returned before that call cannot come after it.
    latest_call: int | None = None
    latest = -1
    for k in order:
        op = ops[k]
        if latest_call is not None and op.return_ is not None and op.return_ < latest_call:
            return (
                f"op {k} returned at {op.return_} µs, before op {latest} (placed earlier) "
                f"was called at {latest_call} µs"
            )
        if latest_call is None or op.call > latest_call:
            latest_call, latest = op.call, k
    run = model.new_runner()
    for position, k in enumerate(order):
        op = ops[k]
        if not run(op.input, UNKNOWN_OUTPUT if op.return_ is None else op.output):
            what = _words(model, op)
            return f"op {k} ({what}): the model answers otherwise at position {position}"
    return ""


def _words(model: Model, op: Operation) -> str:
    """The model's words for ``op``, or generic ones if they fail: a refused order's reason
    is a courtesy, and must not turn the checker's fallback to the search into a crash."""
    try:
        return model.operation_text(op)
    except Exception:
        return _describe_operation_default(op)


def _search(model: Model, ops: list[Operation], budget: _Budget) -> _PartOutcome:
    """Run the memoised WGL search over one part; indices in the outcome are local."""
    n = len(ops)
    # Events in time order. At equal times calls sort before returns, so intervals are closed:
    # an op returning at t and one called at t overlap (neither must precede the other).
    events: list[tuple[int, int, int]] = []
    for i, op in enumerate(ops):
        events.append((op.call, 0, i))
        if op.return_ is not None:
            events.append((op.return_, 1, i))
    events.sort()
    m = len(events)
    # Entry 0 is the list head; entries 1..m are the events; -1 ends the list.
    nxt = [*range(1, m + 1), -1]
    prv = list(range(-1, m))
    ent_op = [-1] * (m + 1)
    ent_is_call = [False] * (m + 1)
    ret_entry = [-1] * (m + 1)
    call_entry = [0] * n
    # Bit positions follow call order, so the linearized set is "every op below ``base``" plus
    # a small window of bits above it: memo keys stay a few bytes instead of n bits.
    rank = [0] * n
    calls_seen = 0
    for j, (_t, kind, i) in enumerate(events, start=1):
        ent_op[j] = i
        if kind == 0:
            ent_is_call[j] = True
            call_entry[i] = j
            rank[i] = calls_seen
            calls_seen += 1
        else:
            ret_entry[call_entry[i]] = j
    inputs = [op.input for op in ops]
    read_only = model.read_only
    pure = [False] * n if read_only is None else [bool(read_only(op.input)) for op in ops]
    outputs = [UNKNOWN_OUTPUT if op.return_ is None else op.output for op in ops]

    step = model.step
    keyf = model.key
    equal = model.equal
    use_equal = keyf is None and equal is not None
    seen: set[tuple[int, int, Any]] = set()
    seen_eq: dict[tuple[int, int], list[Any]] = {}
    ever_linearized = bytearray(n)
    failed_states: dict[int, list[Any]] = {}

    def same_state(a: Any, b: Any) -> bool:
        if keyf is not None:
            return bool(keyf(a) == keyf(b))
        if equal is not None:
            return bool(equal(a, b))
        return bool(a == b)

    state = model.init()
    # The linearized set: ranks < base all in, plus bit k of ``window`` for rank base + k.
    base = 0
    window = 0
    stack_entry: list[int] = []
    stack_state: list[Any] = []
    stack_lin: list[tuple[int, int, Any, bool]] = []
    cur_key: Any = None if use_equal else (state if keyf is None else keyf(state))
    forced = False  # was the op that led here state-preserving (see below)
    best_depth = -1
    best = _PartOutcome("illegal")
    entry = nxt[0]
    known_left = sum(1 for op in ops if op.return_ is not None)
    tick = 0
    max_states = budget.max_states
    while True:
        tick += 1
        if tick >= _CLOCK_EVERY:
            tick = 0
            if time.perf_counter() > budget.deadline:
                budget.reason = "timeout"
                return _PartOutcome("unknown")
        if known_left == 0 or entry == -1:
            # Every op with a known outcome is linearized; unknown ones left over need not be.
            return _PartOutcome("ok", order=[ent_op[e] for e in stack_entry])
        if ent_is_call[entry]:
            i = ent_op[entry]
            result = step(state, inputs[i], outputs[i])
            try:
                legal, new_state = result
            except (TypeError, ValueError):
                raise MalformedHistory(
                    "model.step(state, input, output) must return a pair (legal, new_state), "
                    f"got {result!r} for input {inputs[i]!r}"
                ) from None
            if legal:
                new_window = window | (1 << (rank[i] - base))
                new_base = base
                if new_window & 1:
                    ones = (new_window ^ (new_window + 1)).bit_length() - 1
                    new_base += ones
                    new_window >>= ones
                if use_equal:
                    new_key = None
                    unchanged = pure[i] and bool(equal(new_state, state))  # type: ignore[misc]
                    bucket = seen_eq.setdefault((new_base, new_window), [])
                    fresh = not any(equal(s, new_state) for s in bucket)  # type: ignore[misc]
                    if fresh:
                        bucket.append(new_state)
                else:
                    new_key = new_state if keyf is None else keyf(new_state)
                    unchanged = pure[i] and new_key == cur_key
                    memo = (new_base, new_window, new_key)
                    fresh = memo not in seen
                    if fresh:
                        seen.add(memo)
                if fresh:
                    budget.states += 1
                    if budget.states > max_states:
                        budget.reason = "max_states"
                        return _PartOutcome("unknown")
                    ever_linearized[i] = 1
                    stack_entry.append(entry)
                    stack_state.append(state)
                    stack_lin.append((base, window, cur_key, forced))
                    # A read-only op that is legal now can go now: moving it earlier in any
                    # longer legal order keeps that order legal (it changes no state, wherever
                    # it sits). So if this choice fails, the other candidates here fail too.
                    forced = unchanged
                    state = new_state
                    cur_key = new_key
                    base = new_base
                    window = new_window
                    # Lift the call and its return out of the list (dancing links).
                    p, q = prv[entry], nxt[entry]
                    nxt[p] = q
                    if q != -1:
                        prv[q] = p
                    r = ret_entry[entry]
                    if r != -1:
                        known_left -= 1
                        p, q = prv[r], nxt[r]
                        nxt[p] = q
                        if q != -1:
                            prv[q] = p
                    entry = nxt[0]
                    continue
                if not unchanged:
                    entry = nxt[entry]
                    continue
                # Legal, read-only, and that configuration already failed: so does this one
                # (by the argument below). Fall through to backtrack.
            else:
                fs = failed_states.get(i)
                if fs is None:
                    failed_states[i] = [state]
                elif len(fs) < _FAILED_STATES_MAX and not any(same_state(s, state) for s in fs):
                    fs.append(state)
                entry = nxt[entry]
                continue
        # A dead end: a return whose call is still pending (nothing can be linearized here),
        # or a state-preserving op whose configuration already failed. Backtrack.
        depth = len(stack_entry)
        if depth > best_depth and not ent_is_call[entry]:
            best_depth = depth
            best = _failure_snapshot(
                ent_op, ent_is_call, nxt, entry, stack_entry, stack_state, state
            )
        exhausted = False
        while True:
            if not stack_entry:
                exhausted = True
                break
            was_forced = forced
            entry = stack_entry.pop()
            state = stack_state.pop()
            base, window, cur_key, forced = stack_lin.pop()
            # Unlift in reverse order of lifting: the return first, then the call.
            r = ret_entry[entry]
            if r != -1:
                known_left += 1
                nxt[prv[r]] = r
                if nxt[r] != -1:
                    prv[nxt[r]] = r
            nxt[prv[entry]] = entry
            if nxt[entry] != -1:
                prv[nxt[entry]] = entry
            if not was_forced:
                break
            # The op just undone was forced, so this configuration has failed too.
        if exhausted:
            break
        entry = nxt[entry]
    assert best.blocked >= 0, "an exhausted search met at least one blocking return"
    _finish_failure(best, ent_op, same_state, ops)
    best.failed_states = failed_states.get(best.blocked, [])
    best.blocked_ever_linearized = bool(ever_linearized[best.blocked])
    return best


def _failure_snapshot(
    ent_op: list[int],
    ent_is_call: list[bool],
    nxt: list[int],
    ret: int,
    stack_entry: list[int],
    stack_state: list[Any],
    state: Any,
) -> _PartOutcome:
    """Record a dead end cheaply (C-level list copies); :func:`_finish_failure` words it."""
    blocked = ent_op[ret]
    rivals: list[int] = []
    e = nxt[0]
    while e != ret and e != -1:
        if ent_is_call[e] and ent_op[e] != blocked:
            rivals.append(ent_op[e])
        e = nxt[e]
    out = _PartOutcome("illegal", order=stack_entry[:], blocked=blocked, blocked_state=state)
    out.culprits = rivals
    out.failed_states = stack_state[:]  # states before each prefix op, until finished
    return out


def _finish_failure(
    out: _PartOutcome, ent_op: list[int], same_state: Any, ops: list[Operation]
) -> None:
    """Turn the recorded dead end into op indices and a small culprit set.

    Culprits, most telling first: the op that could not go next; the last op of the prefix
    that had to precede it in real time (a read that already saw newer state, say); the last
    two ops of the prefix that changed the state (the write a stale read missed); then the
    pending ops that could not go next either.
    """
    prefix = [ent_op[x] for x in out.order]
    states_before = out.failed_states
    blocked_call = ops[out.blocked].call
    before: list[int] = []
    latest = -1
    for i in prefix:
        ret = ops[i].return_
        if ret is not None and ret < blocked_call and ret > latest:
            latest, before = ret, [i]
    changers: list[int] = []
    after = out.blocked_state
    for j in range(len(prefix) - 1, -1, -1):
        if not same_state(states_before[j], after):
            changers.append(prefix[j])
            if len(changers) == 2:
                break
        after = states_before[j]
    culprits = [out.blocked]
    for i in before + changers + out.culprits:
        if i not in culprits and len(culprits) < _CULPRITS_MAX:
            culprits.append(i)
    out.order = prefix
    out.culprits = culprits


def _explain(model: Model, ops: list[Operation], out: _PartOutcome, n_part: int) -> str:
    op = ops[out.blocked]
    ret = "?" if op.return_ is None else str(op.return_)
    what = f"{model.operation_text(op)} at [{op.call}, {ret}] µs"
    if not out.blocked_ever_linearized and out.failed_states:
        states = [model.state_text(s) for s in out.failed_states]
        where = states[0] if len(states) == 1 else "one of " + "; ".join(states)
        if len(states) == _FAILED_STATES_MAX:
            where += " (and maybe others)"
        return (
            f"{what}, but no order consistent with real time explains it: every one the "
            f"search tried reaches it with {where}, where it cannot give that answer."
        )
    return (
        f"No order consistent with real time explains all {n_part} operations: the longest "
        f"legal prefix has {len(out.order)}, leaving {model.state_text(out.blocked_state)}, "
        f"and then {what} must come next but cannot."
    )


def check_operations(
    model: Model,
    operations: Iterable[Operation],
    *,
    timeout_s: float = 10.0,
    max_states: int = 1_000_000,
    use_hints: bool = True,
) -> CheckResult:
    """Decide whether ``operations`` are linearizable with respect to ``model``.

    Cost: about ``O(S * c)`` model steps, ``S`` the memoised states explored (close to the
    history length for linearizable histories of bounded concurrency, exponential in the worst
    case) and ``c`` the concurrency; bounded by ``max_states`` and ``timeout_s``, after which
    the verdict is ``"unknown"``. Memory: ``O(S * n / 8)`` bytes for the memo bitsets.

    Operations with hints (``Operation.hint``) are first checked along the hinted order, in
    O(n log n): if it is a linearization the part is ``ok`` with it as the witness, with no
    search; otherwise the search runs as without hints (a hint never changes a verdict, only
    the time to reach it). ``use_hints=False`` skips that first try.

    Raises :class:`~clobkit.check.model.MalformedHistory` (a ``CheckerError`` and
    ``InvalidArgument``) for a non-Operation item, bad times, bad budgets, or a partition that
    loses or invents operations.

    >>> from clobkit.check import register_model
    >>> ops = [Operation(0, ("w", 1), 0, None, 10), Operation(1, ("r", None), 20, 0, 30)]
    >>> r = check_operations(register_model(), ops)
    >>> r.verdict, r.culprits
    ('illegal', [1, 0])
    >>> print(r.explanation)
    read by client 1 returned 0 at [20, 30] µs, but no order consistent with real time
    explains it: every one the search tried reaches it with the register at 1, where it
    cannot give that answer.
    """
    if not isinstance(model, Model):
        raise MalformedHistory(f"model must be a clobkit.check.Model, got {model!r}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or not timeout_s > 0:
        raise MalformedHistory(f"timeout_s must be a positive number, got {timeout_s!r}")
    if timeout_s == float("inf"):
        raise MalformedHistory("timeout_s must be finite: the checker never runs unbounded")
    if isinstance(max_states, bool) or not isinstance(max_states, int) or max_states < 1:
        raise MalformedHistory(f"max_states must be a positive int, got {max_states!r}")
    if isinstance(operations, str | bytes) or not hasattr(operations, "__iter__"):
        raise MalformedHistory(
            f"operations must be an iterable of Operation (a list, History.operations()...), "
            f"got {operations!r}"
        )
    if not isinstance(use_hints, bool):
        raise MalformedHistory(f"use_hints must be a bool, got {use_hints!r}")
    ops = list(operations)
    for k, op in enumerate(ops):
        if not isinstance(op, Operation):
            raise MalformedHistory(f"operations[{k}] must be an Operation, got {op!r}")
        op.validate()
    started = time.perf_counter()
    budget = _Budget(timeout_s, max_states)
    parts = _partition(model, ops)
    result = CheckResult(verdict="ok", model=model.name, operations=len(ops), partitions=len(parts))
    result._ops = ops
    result._describe = model.describe_operation
    witness: list[list[int]] = []
    unknown_reason: str | None = None
    for p_index, part in enumerate(parts):
        part_ops = [ops[i] for i in part]
        hinted = _hinted_order(model, part_ops) if use_hints else None
        if hinted is not None:
            witness.append([part[i] for i in hinted])
            result.hinted_parts += 1
            continue
        outcome = _search(model, part_ops, budget)
        if outcome.verdict == "ok":
            witness.append([part[i] for i in outcome.order])
        elif outcome.verdict == "unknown":
            unknown_reason = budget.reason
            if budget.reason == "timeout" or budget.states > max_states:
                break  # the budget is shared: nothing is left for later parts
        else:
            result.verdict = "illegal"
            result.partition_index = p_index
            result.partition = list(part)
            result.prefix = [part[i] for i in outcome.order]
            result.culprits = [part[i] for i in outcome.culprits]
            result.explanation = _explain(model, [ops[i] for i in part], outcome, len(part))
            break
    if result.verdict == "ok":
        if unknown_reason is not None:
            result.verdict = "unknown"
            result.reason = unknown_reason
            if unknown_reason == "max_states":
                budget_text = f"its state budget (max_states={max_states} memoised states)"
                advice = "raise max_states"
            else:
                budget_text = f"its time budget (timeout_s={timeout_s:g} s of wall clock)"
                advice = "raise timeout_s"
            hints = any(op.hint is not None for op in ops)
            result.explanation = (
                f"The search ran out of {budget_text} before deciding"
                + (
                    " (the hinted order was not a linearization, so it had to search)"
                    if hints
                    else ""
                )
                + f"; {advice}, add hints, or check a shorter history."
            )
        else:
            result.witness = witness
    result.states_explored = min(budget.states, max_states)
    result.elapsed_s = time.perf_counter() - started
    return result


def _partition(model: Model, ops: list[Operation]) -> list[list[int]]:
    """Split ``ops`` with ``model.partition`` into lists of indices (each sorted)."""
    if model.partition is None:
        return [list(range(len(ops)))] if ops else []
    slots: dict[int, list[int]] = {}
    for k, op in enumerate(ops):
        slots.setdefault(id(op), []).append(k)
    taken: dict[int, int] = {}
    parts: list[list[int]] = []
    for part in model.partition(ops):
        idx: list[int] = []
        for op in part:
            ks = slots.get(id(op))
            used = taken.get(id(op), 0)
            if ks is None or used >= len(ks):
                raise MalformedHistory(
                    f"model {model.name!r} partition returned an operation not in the history "
                    f"(or twice): {op!r}"
                )
            taken[id(op)] = used + 1
            idx.append(ks[used])
        if idx:
            parts.append(sorted(idx))
    if sum(len(p) for p in parts) != len(ops):
        raise MalformedHistory(
            f"model {model.name!r} partition lost operations: {len(ops)} in, "
            f"{sum(len(p) for p in parts)} out"
        )
    return parts
