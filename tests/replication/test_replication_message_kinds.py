"""Message kinds built as tuples (``message_kind``) behave as the frozen dataclasses they were.

Every kind of :mod:`clobkit.replication.messages` is a ``tuple`` subclass (cheap to build)
that must read, compare and print like the frozen keyword dataclass in
``tests/replication/messages_oracle.py``. For every kind, built with sound values, this
checks what the oracle test does not: equality only between messages of the same class (a
``Commit`` never equals a ``CommitOk``, nor the oracle's ``Commit``, nor a plain tuple, with
equal fields; ``!=`` agrees), no ordering (``<`` raises ``TypeError``), pickling and copying
to an equal message of the same class, ``dataclasses.fields``/``asdict``/``astuple`` as the
oracle's, ``kind``, deletion refused; that each kind's compiled check reads the fields by
unpacking the tuple (the fast path) yet names the same bad field as the oracle; and that
``Kind.build(**fields)`` (the plain-function constructor the hot paths call) makes the same
message as ``Kind(**fields)`` and refuses what it refuses.
"""

from __future__ import annotations

import copy
import dataclasses
import operator
import pickle
from typing import Any

import pytest

from clobkit.replication import messages as new
from clobkit.replication.step import Message
from clobkit.storage.base import LogEntry
from tests.replication import messages_oracle as old
from tests.replication.test_replication_messages_oracle import GOOD, KINDS


def _sound(cls: type[Any]) -> dict[str, Any]:
    return {f.name: GOOD[f.name][0] for f in dataclasses.fields(cls)}


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_equality_is_per_class(cls: type[Any]) -> None:
    values = _sound(cls)
    m, twin = cls(**values), cls(**values)
    theirs = getattr(old, cls.__name__)(**values)
    assert (
        isinstance(m, Message)
        and m == twin
        and operator.ne(m, twin) is False
        and hash(m) == hash(theirs)
    )
    assert m != theirs and operator.eq(m, theirs) is False  # the oracle's class is another class
    assert m != tuple(m) and tuple(m) != m  # a plain tuple of the same values is not a message
    for other in KINDS:
        if other is not cls:
            same_names = {f.name for f in dataclasses.fields(other)} == set(values)
            if same_names:
                assert m != other(**values) and operator.eq(m, other(**values)) is False
    changed = dataclasses.replace(m, view=values["view"] + 1)
    assert m != changed and operator.eq(m, changed) is False
    with pytest.raises(TypeError):
        _ = m < twin  # type: ignore[operator]
    with pytest.raises(TypeError):
        sorted([m, twin])
    for plain in (tuple(m), ()):
        with pytest.raises(TypeError):
            _ = m <= plain  # type: ignore[operator]
        with pytest.raises(TypeError):
            _ = plain > m  # type: ignore[operator]


def test_kinds_with_the_same_fields_differ() -> None:
    header = {"cluster_id": "c", "source": "n0", "target": "n1", "view": 2}
    commit = new.Commit(**header, commit=3, probe=1)
    ok = new.CommitOk(**header, commit=3, probe=1)
    assert tuple(commit) == tuple(ok) and commit != ok and operator.eq(commit, ok) is False
    assert new.WriteBack(**header, read_id=1, commit=2) != new.WriteBackOk(
        **header, read_id=1, commit=2
    )
    assert len({commit, ok}) == 2  # equal hashes, unequal messages


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_dataclass_helpers_pickle_and_copy(cls: type[Any]) -> None:
    values = _sound(cls)
    m = cls(**values)
    theirs = getattr(old, cls.__name__)(**values)
    assert dataclasses.is_dataclass(m)
    assert [(f.name, f.default, f.kw_only) for f in dataclasses.fields(m)] == [
        (f.name, f.default, f.kw_only) for f in dataclasses.fields(theirs)
    ]
    assert dataclasses.asdict(m) == dataclasses.asdict(theirs)
    assert dataclasses.astuple(m) == dataclasses.astuple(theirs)
    assert m.kind == theirs.kind == cls.__name__
    for twin in (pickle.loads(pickle.dumps(m)), copy.copy(m), copy.deepcopy(m)):
        assert type(twin) is cls and twin == m and repr(twin) == repr(m)
    with pytest.raises(dataclasses.FrozenInstanceError):
        del m.view
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.extra = 1


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_compiled_checks_unpack_and_name_the_oracles_field(cls: type[Any]) -> None:
    check = new.checks[cls]
    assert ", = m" in check.__source__  # type: ignore[attr-defined]
    values = _sound(cls)
    assert check(cls(**values)) == old.problem(getattr(old, cls.__name__)(**values))
    for f in dataclasses.fields(cls):
        for bad in (-1, "x" * 1001, 2.5, None):
            spoiled = {**values, f.name: bad}
            expected = old.problem(getattr(old, cls.__name__)(**spoiled))
            assert check(cls(**spoiled)) == expected, (f.name, bad)


def test_message_kind_on_a_new_class() -> None:
    @new.message_kind
    class Probe(Message):
        """A test kind."""

        seq: int
        note: str = "-"

    p = Probe(cluster_id="c", source="n0", target="n1", view=0, seq=4)
    assert repr(p) == (  # (the qualified name, as a dataclass's repr)
        f"{Probe.__qualname__}(cluster_id='c', source='n0', target='n1', view=0, seq=4, note='-')"
    )
    assert (p.seq, p.note, p.kind, Probe.__doc__) == (4, "-", "Probe", "A test kind.")
    with pytest.raises(TypeError):
        Probe(cluster_id="c", source="n0", target="n1", view=0)  # seq is required

    with pytest.raises(TypeError, match="plain default"):

        @new.message_kind
        class Bad(Message):
            entries: tuple[LogEntry, ...] = dataclasses.field(default_factory=tuple)


@pytest.mark.parametrize("cls", KINDS, ids=lambda c: c.__name__)
def test_build_is_the_class_call(cls: type[Any]) -> None:
    values = _sound(cls)
    required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING}
    for given in (values, {k: v for k, v in values.items() if k in required}):
        built, called = cls.build(**given), cls(**given)
        assert type(built) is cls and built == called and repr(built) == repr(called)
        assert tuple(built) == tuple(called) and hash(built) == hash(called)
    with pytest.raises(TypeError):
        cls.build(**values, bogus=1)
    with pytest.raises(TypeError):
        cls.build(**{k: v for k, v in values.items() if k != "view"})
    with pytest.raises(TypeError):
        cls.build(*values.values())  # keyword-only, as the class


def test_build_of_a_dataclass_message_is_its_class_call() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Note(Message):
        text: str

    n = Note.build(cluster_id="c", source="n0", target="n1", view=0, text="hi")
    assert type(n) is Note and n == Note(
        cluster_id="c", source="n0", target="n1", view=0, text="hi"
    )
