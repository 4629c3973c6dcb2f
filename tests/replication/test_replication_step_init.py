"""``Step``'s hand-written ``__init__`` builds the same object the dataclass built.

A :class:`~clobkit.replication.step.Step` is built for every ``handle``/``tick``/``sync``,
so its ``__init__`` makes the empty lists with list displays rather than calling each
field's ``default_factory``. This compares it with a twin filled by the generated dataclass
``__init__`` (the class as it was): same signature (``<factory>`` defaults), same field
values for no argument, positional and keyword arguments, a fresh list per field and per
Step, the lists given kept as they are (the same object), and the same ``repr`` and ``==``.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from clobkit.replication.step import Message, Step, TraceEvent


@dataclasses.dataclass(slots=True)
class _Fields:
    messages: list[Message] = dataclasses.field(default_factory=list)
    events: list[TraceEvent] = dataclasses.field(default_factory=list)
    delay_us: int = 0
    wake_at_us: int | None = None
    early: list[Message] = dataclasses.field(default_factory=list)
    sync_us: int | None = None


def _as_built_before(*args: Any, **kwargs: Any) -> Step:
    made = object.__new__(Step)
    _Fields.__init__(made, *args, **kwargs)
    return made


EVENT = TraceEvent("commit", "n0", {"op": 1})
CASES: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    ((), {}),
    (([], [EVENT], 5, 7, [], 3), {}),
    ((), {"delay_us": 4, "wake_at_us": 9}),
    ((), {"events": [EVENT], "sync_us": 2}),
    (([EVENT],), {"early": [EVENT]}),
]


def test_the_signature_is_the_dataclass_one() -> None:
    assert str(inspect.signature(Step)) == str(inspect.signature(_Fields))


@pytest.mark.parametrize(("args", "kwargs"), CASES)
def test_same_object_as_the_dataclass_init(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    new, old = Step(*args, **kwargs), _as_built_before(*args, **kwargs)
    names = [f.name for f in dataclasses.fields(Step)]
    assert [getattr(new, n) for n in names] == [getattr(old, n) for n in names]
    assert new == old and repr(new) == repr(old)
    given = {**dict(zip(names, args, strict=False)), **kwargs}
    for name in ("messages", "events", "early"):
        if name in given:
            assert getattr(new, name) is given[name]
        else:
            assert getattr(new, name) == [] and getattr(new, name) is not getattr(Step(), name)
    assert len({id(new.messages), id(new.events), id(new.early)}) == 3 or given
    with pytest.raises(TypeError):
        Step(bogus=1)  # type: ignore[call-arg]
