"""``Envelope``'s slot-filling ``__init__`` builds the same object the dataclass built.

The primary builds an :class:`~clobkit.replication.envelope.Envelope` for every request, so
its ``__init__`` sets the five slots through their descriptors instead of the frozen
dataclass's ``object.__setattr__``. This compares it with a twin filled by the plain
frozen-dataclass ``__init__`` (the class as it was): same signature and defaults, same field
values (positional, keyword, default ``noop``), ``repr``, equality and hash, immutability,
``dataclasses.replace``, and the same encoded bytes.
"""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from clobkit.replication.envelope import Envelope, decode_envelope, encode_envelope


@dataclasses.dataclass(frozen=True, slots=True)
class _Fields:
    client_id: str
    request_number: int
    ts_us: int
    payload: bytes
    noop: bool = False


def _as_built_before(*args: object, **kwargs: object) -> Envelope:
    made = object.__new__(Envelope)
    _Fields.__init__(made, *args, **kwargs)  # type: ignore[arg-type]
    return made


CASES = [
    (("alice", 3, 1_000, b"cmd"), {}),
    (("", 0, 5, b""), {"noop": True}),
    ((), {"client_id": "bob", "request_number": 1, "ts_us": 2, "payload": b"x"}),
]


def test_the_signature_is_the_dataclass_one() -> None:
    assert str(inspect.signature(Envelope)) == str(inspect.signature(_Fields))


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_same_object_as_the_dataclass_init(
    args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    new, old = Envelope(*args, **kwargs), _as_built_before(*args, **kwargs)  # type: ignore[arg-type]
    assert [getattr(new, f.name) for f in dataclasses.fields(Envelope)] == [
        getattr(old, f.name) for f in dataclasses.fields(Envelope)
    ]
    assert new == old and hash(new) == hash(old) and repr(new) == repr(old)
    assert encode_envelope(new) == encode_envelope(old)
    assert decode_envelope(encode_envelope(new)) == old
    with pytest.raises(dataclasses.FrozenInstanceError):
        new.ts_us = 9  # type: ignore[misc]
    assert dataclasses.replace(new, ts_us=9).ts_us == 9
    with pytest.raises(TypeError):
        Envelope("alice", 1, 2)  # type: ignore[call-arg]
