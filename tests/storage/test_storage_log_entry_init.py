"""``LogEntry``'s slot-filling ``__init__`` builds the same object the dataclass built.

The primary builds a :class:`~clobkit.storage.base.LogEntry` for every request, so its
``__init__`` sets the three slots through their descriptors instead of the frozen dataclass's
``object.__setattr__``. This compares it with a twin filled by the plain frozen-dataclass
``__init__`` (the class as it was): same signature, same field values (positional and
keyword), ``repr``, equality and hash, immutability, ``dataclasses.replace``, pickling, and
the same framed record bytes.
"""

from __future__ import annotations

import dataclasses
import inspect
import pickle

import pytest

from clobkit.storage.base import LogEntry
from clobkit.storage.format import decode_record, encode_record


@dataclasses.dataclass(frozen=True, slots=True)
class _Fields:
    view: int
    op: int
    payload: bytes


def _as_built_before(*args: object, **kwargs: object) -> LogEntry:
    made = object.__new__(LogEntry)
    _Fields.__init__(made, *args, **kwargs)  # type: ignore[arg-type]
    return made


CASES = [
    ((0, 1, b"cmd"), {}),
    ((7, 2**40, b""), {}),
    ((), {"view": 3, "op": 9, "payload": b"x" * 300}),
    ((1,), {"op": 2, "payload": b"y"}),
]


def test_the_signature_is_the_dataclass_one() -> None:
    assert str(inspect.signature(LogEntry)) == str(inspect.signature(_Fields))


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_same_object_as_the_dataclass_init(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    new, old = LogEntry(*args, **kwargs), _as_built_before(*args, **kwargs)  # type: ignore[arg-type]
    assert [getattr(new, f.name) for f in dataclasses.fields(LogEntry)] == [
        getattr(old, f.name) for f in dataclasses.fields(LogEntry)
    ]
    assert new == old and hash(new) == hash(old) and repr(new) == repr(old)
    assert encode_record(new.view, new.op, new.payload) == encode_record(
        old.view, old.op, old.payload
    )
    assert decode_record(encode_record(new.view, new.op, new.payload)) == old
    assert pickle.loads(pickle.dumps(new)) == old
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.op = 9  # type: ignore[misc]
    assert dataclasses.replace(new, op=10).op == 10
    with pytest.raises(TypeError):
        LogEntry(1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        LogEntry(1, 2, b"x", 4)  # type: ignore[call-arg]
