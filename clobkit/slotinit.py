"""A cheaper ``__init__`` for the frozen, slotted dataclasses built once per command.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__(self,
name, value)`` (a name look-up and a call through the frozen class's guard per field). A class
built on every request (:class:`~clobkit.storage.base.LogEntry`,
:class:`~clobkit.replication.envelope.Envelope`, :class:`~clobkit.sim.results.CommandResult`)
can fill each slot through its own member descriptor instead, at about half the cost.
:func:`install_slot_init` gives such a class that ``__init__``: the same parameters and
defaults as the dataclass's, and nothing else changes (assignment still raises
``FrozenInstanceError``; ``==``, hash, repr, ``fields()`` and ``replace()`` are the
dataclass's).

>>> from dataclasses import FrozenInstanceError, dataclass
>>> @dataclass(frozen=True, slots=True)
... class Point:
...     x: int
...     y: int = 0
>>> install_slot_init(Point)
>>> Point(1), Point(1, y=2) == Point(1, 2)
(Point(x=1, y=0), True)
>>> Point(1).x = 5
Traceback (most recent call last):
...
dataclasses.FrozenInstanceError: cannot assign to field 'x'
"""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any

__all__ = ["install_slot_init"]


def install_slot_init(cls: type[Any]) -> None:
    """Replace the ``__init__`` of the frozen, slotted dataclass ``cls`` by one that fills each
    field's slot through the slot's descriptor (same signature, defaults and docstring).

    Only plain defaults are supported (a ``default_factory`` raises ``TypeError``), as are
    only classes with ``__slots__`` holding every field.
    """
    params: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {}
    for f in fields(cls):
        if f.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{f.name}: default_factory is not supported")
        if f.name not in cls.__slots__:
            raise TypeError(f"{cls.__name__}.{f.name} is not a slot")
        if f.default is MISSING:
            params.append(f.name)
        else:
            namespace[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
        namespace[f"_set_{f.name}"] = cls.__dict__[f.name].__set__
        body.append(f"    _set_{f.name}(self, {f.name})")
    source = f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body or ["    pass"])
    exec(source, namespace)  # (as dataclasses builds its own __init__)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init
