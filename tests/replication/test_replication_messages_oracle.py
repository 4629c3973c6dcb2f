"""Compiled message checks and slot-filling constructors change no verdict and no behaviour.

``tests/replication/messages_oracle.py`` is the message module before the change. For every
message kind, with each field drawn from good values and from hostile ones (wrong types,
negative numbers, ``bool`` for ``int``, ``int``/``str``/``bytes`` subclasses, long strings,
broken entries and snapshots), the shipped :func:`problem` must return exactly the oracle's
reason (or ``None``) for the same field values, and the shipped message must equal, hash and
print like the oracle's (same field values, same ``repr``). Messages stay immutable, keep
their keyword-only signature and defaults, and ``dataclasses.replace`` still works. Each inline
check agrees with the ``_CHECKS`` function it stands for.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clobkit.replication import messages as new
from clobkit.replication.envelope import Envelope, encode_envelope
from clobkit.storage.base import LogEntry, Snapshot
from tests.replication import messages_oracle as old


class Nat(int):
    pass


class Text(str):
    pass


class Blob(bytes):
    pass


def entry(op: int, view: int = 0) -> LogEntry:
    return LogEntry(view, op, encode_envelope(Envelope("alice", op, 5, b"cmd")))


HOSTILE: list[object] = [
    -1,
    0,
    1,
    7,
    True,
    False,
    2.5,
    None,
    "",
    "x",
    "quorum",
    "a" * 1001,
    b"",
    b"\xff",
    (),
    (1, 2),
    [],
    Nat(3),
    Nat(-3),
    Text("n1"),
    Text(""),
    Blob(b"q"),
    object(),
    entry(1),
    (entry(1), entry(2)),
    (entry(1), entry(3)),
    (LogEntry(0, 1, b"not an envelope"),),
    (LogEntry(0, 0, encode_envelope(Envelope("a", 1, 1, b""))),),
    ("junk",),
    Snapshot(0, 0, b""),
    Snapshot(2, 0, b"s"),
    Snapshot(-1, 0, b""),
    LogEntry(0, 2, b"E"),
]
GOOD: dict[str, list[object]] = {
    "cluster_id": ["c"],
    "source": ["n0", "client:alice"],
    "target": ["n1"],
    "view": [0, 3],
    "client_id": ["alice"],
    "request_number": [1, 4],
    "payload": [b"cmd"],
    "ok": [True, False],
    "op": [0, 2, 3],
    "reply": [b""],
    "error": ["", "not_primary"],
    "read_id": [1],
    "query": [("all",)],
    "result": [None, 5],
    "mode": ["quorum", "primary", "quorum-highest-seq"],
    "commit": [0, 2],
    "probe": [0, 1],
    "entries": [(), (entry(1),), (entry(1), entry(2)), (entry(3),)],
    "last_normal_view": [0],
    "base_op": [0, 2],
    "snapshot": [None, Snapshot(0, 0, b""), Snapshot(2, 0, b"s")],
    "nonce": [9],
    "has_state": [True],
    "entry": [None, entry(2)],
    "vouched": [False],
    "proposed": [1, 4],
}
KINDS = [*new.REPLICA_BOUND, *new.CLIENT_BOUND]


@st.composite
def field_values(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    cls = draw(st.sampled_from(KINDS))
    values = {}
    for f in dataclasses.fields(cls):
        pool = GOOD[f.name] if draw(st.integers(0, 5)) else HOSTILE
        values[f.name] = draw(st.sampled_from(pool))
    return cls.__name__, values


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field_values())
def test_same_verdict_value_and_repr_as_the_oracle(drawn: tuple[str, dict[str, Any]]) -> None:
    name, values = drawn
    mine, theirs = getattr(new, name)(**values), getattr(old, name)(**values)
    assert new.problem(mine) == old.problem(theirs)
    assert repr(mine) == repr(theirs)
    assert mine == getattr(new, name)(**values)
    assert all(getattr(mine, k) is v for k, v in values.items())
    try:
        expected_hash: object = hash(theirs)
    except TypeError as exc:
        expected_hash = str(exc)
    try:
        got_hash: object = hash(mine)
    except TypeError as exc:
        got_hash = str(exc)
    assert got_hash == expected_hash


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_messages_stay_frozen_keyword_dataclasses(cls: type[Any]) -> None:
    values = {f.name: GOOD[f.name][0] for f in dataclasses.fields(cls)}
    m = cls(**values)
    assert new.problem(m) == old.problem(getattr(old, cls.__name__)(**values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.view = 5
    assert dataclasses.replace(m, view=7).view == 7 and m.view == values["view"]
    with pytest.raises(TypeError):
        cls(*values.values())  # keyword-only, as before
    with pytest.raises(TypeError):
        cls(**values, bogus=1)
    required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
    mandatory = {f.name for f in dataclasses.fields(getattr(old, cls.__name__))}
    assert required <= mandatory
    for f in dataclasses.fields(cls):  # defaults are the oracle's
        assert f.default == next(
            g.default for g in dataclasses.fields(getattr(old, cls.__name__)) if g.name == f.name
        )
    if required != set(values):
        short = {k: v for k, v in values.items() if k in required}
        assert repr(cls(**short)) == repr(getattr(old, cls.__name__)(**short))


@pytest.mark.parametrize("value", HOSTILE + [v for vs in GOOD.values() for v in vs])
def test_inline_checks_agree_with_their_functions(value: object) -> None:
    for name, kind in new._KIND_OF_FIELD.items():
        test = new._INLINE[kind]
        got = eval(test, {**new._CHECK_GLOBALS}, {"v": value})  # the compiled expression
        reference = (
            new._is_nat(value) if name == "view" else new._CHECKS.get(name, new._is_str)(value)
        )
        assert bool(got) == bool(reference), (name, value)


def test_non_messages_are_refused() -> None:
    for thing in (None, "Commit", 3, object()):
        assert new.problem(thing) == old.problem(thing) == "not a message"
