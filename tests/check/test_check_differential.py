"""The checker agrees with brute force: on random small register and key-value histories
(Hypothesis; overlapping calls, unknown outcomes), its verdict equals that of trying every order
consistent with real time against an independent sequential spec, and its witnesses and
prefixes are themselves legal, real-time-respecting orders; the memo-key and equality-only
paths give the same verdicts as the hashable-state path."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from clobkit.check import Model, Operation, check_operations, kv_model, register_model

VALUES = st.integers(0, 2)


def _must_precede(a: Operation, b: Operation) -> bool:
    return a.return_ is not None and a.return_ < b.call


def _apply(kind: str, state: dict[Any, Any], op: Operation) -> bool:
    """Independent sequential spec: run ``op`` on ``state`` (mutated); False if its output is
    wrong. Register ops use key None; absent keys read as 0 (register) or None (kv)."""
    inp = op.input
    if kind == "register":
        k, default = None, 0
        is_write, value = inp[0] == "w", inp[1]
    else:
        k, default = inp[1], None
        is_write, value = inp[0] == "put", inp[2]
    if is_write:
        state[k] = value
        return True
    return op.return_ is None or op.output == state.get(k, default)


def _legal_order(kind: str, ops: list[Operation], order: list[int]) -> bool:
    state: dict[Any, Any] = {}
    placed: set[int] = set()
    for i in order:
        if any(_must_precede(ops[j], ops[i]) and j not in placed for j in range(len(ops))):
            return False
        if not _apply(kind, state, ops[i]):
            return False
        placed.add(i)
    return True


def brute_force(kind: str, ops: list[Operation]) -> bool:
    """Is there an order of all known ops plus any subset of unknown ones that is legal and
    respects real time? Plain depth-first search over sequences, no memo."""
    n = len(ops)
    known = {i for i in range(n) if ops[i].return_ is not None}

    def go(state: dict[Any, Any], placed: frozenset[int]) -> bool:
        if known <= placed:
            return True
        for i in range(n):
            if i in placed:
                continue
            if any(_must_precede(ops[j], ops[i]) and j not in placed for j in range(n)):
                continue
            nxt = dict(state)
            if _apply(kind, nxt, ops[i]) and go(nxt, placed | {i}):
                return True
        return False

    return go({}, frozenset())


@st.composite
def histories(draw: st.DrawFn, kind: str) -> list[Operation]:
    n = draw(st.integers(0, 7))
    ops = []
    for client in range(n):
        call = draw(st.integers(0, 40))
        unknown = draw(st.integers(0, 5)) == 0
        ret = None if unknown else call + draw(st.integers(0, 25))
        if kind == "register":
            if draw(st.booleans()):
                inp: tuple[Any, ...] = ("w", draw(VALUES))
                out = None
            else:
                inp, out = ("r", None), draw(VALUES)
        else:
            key = draw(st.sampled_from(["x", "y"]))
            if draw(st.booleans()):
                inp, out = ("put", key, draw(VALUES)), None
            else:
                inp, out = ("get", key, None), draw(st.one_of(st.none(), VALUES))
        ops.append(Operation(client, inp, call, out, ret))
    return ops


def _same_part(kind: str, a: Operation, b: Operation) -> bool:
    return kind == "register" or a.input[1] == b.input[1]


def _agree(kind: str, model: Model, ops: list[Operation]) -> str:
    result = check_operations(model, ops, max_states=100_000)
    expected = brute_force(kind, ops)
    assert result.verdict == ("ok" if expected else "illegal"), (ops, result)
    if result.verdict == "ok":
        order = [i for part in result.witness or [] for i in part]
        # Each part's witness is a legal, real-time-respecting order of that part alone.
        for part in filter(None, result.witness or []):
            sub = sorted({i for i in range(len(ops)) if _same_part(kind, ops[i], ops[part[0]])})
            remap = {g: k for k, g in enumerate(sub)}
            assert _legal_order(kind, [ops[i] for i in sub], [remap[i] for i in part])
        assert {i for i in range(len(ops)) if ops[i].return_ is not None} <= set(order)
    else:
        assert result.prefix is not None and result.culprits
        part_ops = [ops[i] for i in result.partition or []]
        remap = {g: k for k, g in enumerate(result.partition or [])}
        assert _legal_order(kind, part_ops, [remap[i] for i in result.prefix])
        assert set(result.culprits) <= set(result.partition or [])
    return result.verdict


@settings(max_examples=400, deadline=None)
@given(histories("register"))
def test_register_agrees_with_brute_force(ops: list[Operation]) -> None:
    _agree("register", register_model(), ops)


@settings(max_examples=400, deadline=None)
@given(histories("kv"))
def test_kv_agrees_with_brute_force(ops: list[Operation]) -> None:
    _agree("kv", kv_model(), ops)


@settings(max_examples=200, deadline=None)
@given(histories("register"))
def test_key_and_equal_paths_agree(ops: list[Operation]) -> None:
    base = register_model()
    keyed = Model(init=base.init, step=base.step, key=lambda s: ("k", s), name="keyed")

    # States as one-element lists: unhashable, so only equal() can compare them.
    def list_step(state: list[Any], inp: Any, out: Any) -> tuple[bool, Any]:
        legal, nxt = base.step(state[0], inp, out)
        return legal, [nxt]

    listed = Model(init=lambda: [0], step=list_step, equal=lambda a, b: a == b, name="listed")
    verdicts = {check_operations(m, ops).verdict for m in (base, keyed, listed)}
    assert len(verdicts) == 1
