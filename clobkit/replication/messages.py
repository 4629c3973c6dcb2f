"""The protocol's messages, one frozen dataclass per kind, and their validation.

Every message derives from :class:`~clobkit.replication.step.Message`, so it
carries ``cluster_id``, ``source``, ``target`` and the sender's ``view``.
The kinds follow Viewstamped Replication Revisited (Liskov & Cowling 2012):

* client -> replica: :class:`Request`, :class:`Read`, :class:`WriteBack`;
* replica -> client: :class:`Reply`, :class:`ReadReply`, :class:`WriteBackOk`;
* normal case: :class:`Prepare`, :class:`PrepareOk`, :class:`Commit` (also the
  heartbeat), :class:`CommitOk` (the extra half round of ``read_mode="quorum"``
  and the leadership confirmation of ``"primary"`` reads);
* view change: :class:`StartViewChange`, :class:`DoViewChange`, :class:`StartView`, and the
  pre-vote round before it (``prevote=True``): :class:`PreViewChange`, :class:`PreViewChangeOk`;
* state transfer: :class:`GetState` / :class:`NewState` (catch up after op k),
  :class:`Recovery` / :class:`RecoveryResponse` (a learner joining with an
  empty disk);
* repair: :class:`GetEntry` / :class:`EntryReply` (one corrupt WAL entry).

A receiver must not trust a message: :func:`problem` checks every field's
type and range (and that log entries are contiguous and their envelopes
decode) and returns why a message is malformed, or ``None``. A replica drops
a malformed message before it looks at anything else, so hostile input can
change nothing but its drop counters.

**The trust boundary is arrival.** A message is checked once, where it enters a
participant: ``Replica.handle``/``handle_batch`` (through its dispatch) and
``ClientSession.handle`` call :func:`problem` on everything they are given
(the process host's frame decoder, :func:`clobkit.proc.wire.decode_message`,
checks too, before the bytes become a message). Messages a participant builds
itself, from its own state (a ``Prepare`` of its own WAL entries, a ``Reply``
of its own result), are not checked when built or sent: their parts were
checked when they arrived or were made by our code. So the constructors do no
checking, and :func:`problem` is compiled per class from the field types (see
:func:`_compile_check`).

**Each kind is a tuple.** A message is built at nearly every protocol step, so
:func:`message_kind` makes each kind a ``tuple`` subclass (and a
:class:`~clobkit.replication.step.Message`) with the frozen keyword dataclass's
constructor, ``repr``, equality (same class only), hash, ``fields()`` and
``replace()``: building a ``Reply`` costs about 7k CPU instructions instead of
12k, and 3.4k through ``Reply.build(...)`` (the same keywords as a plain
function call, which the replica and the client session use for the messages
of every command; benchmarks/README.md, "fifth cut: messages and events").
Reading a field is a little dearer than reading a slot, so the compiled checks
read all fields with one unpack.
"""

from __future__ import annotations

import inspect
import reprlib
from collections.abc import Callable, Mapping
from dataclasses import MISSING, FrozenInstanceError, dataclass, fields
from typing import Any, TypeVar, dataclass_transform

try:  # the C descriptor namedtuple's fields use (CPython); a property elsewhere
    from collections import _tuplegetter  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    from operator import itemgetter as _itemgetter

    def _tuplegetter(index: int, doc: str | None) -> Any:
        return property(_itemgetter(index), doc=doc)


from clobkit.replication.envelope import decode_envelope, recent_envelopes
from clobkit.replication.step import Message
from clobkit.storage.base import LogEntry, Snapshot

__all__ = [
    "CLIENT_BOUND",
    "CLIENT_KINDS",
    "REPLICA_BOUND",
    "Commit",
    "CommitOk",
    "DoViewChange",
    "EntryReply",
    "GetEntry",
    "GetState",
    "NewState",
    "PreViewChange",
    "PreViewChangeOk",
    "Prepare",
    "PrepareOk",
    "Read",
    "ReadReply",
    "Recovery",
    "RecoveryResponse",
    "Reply",
    "Request",
    "StartView",
    "StartViewChange",
    "WriteBack",
    "WriteBackOk",
    "checks",
    "message_kind",
    "problem",
]

Entries = tuple[LogEntry, ...]


# -- how a kind is built ---------------------------------------------------------------

_K = TypeVar("_K")
_tuple_new = tuple.__new__
_tuple_eq = tuple.__eq__


def _eq(self: tuple[Any, ...], other: object) -> Any:
    # A Prepare never equals a Commit with equal fields: only the same class compares. Nor
    # does it equal a plain tuple (or another tuple kind), which would compare the values if
    # asked; anything else decides for itself, as with a dataclass.
    if other.__class__ is self.__class__:
        return _tuple_eq(self, other)
    if isinstance(other, tuple):
        return False
    return NotImplemented


def _ne(self: tuple[Any, ...], other: object) -> Any:
    if other.__class__ is self.__class__:
        return not _tuple_eq(self, other)
    if isinstance(other, tuple):
        return True
    return NotImplemented


def _unordered(symbol: str) -> Callable[[object, object], Any]:
    """``<`` (``symbol``) of a message: unsupported, as for a dataclass without ``order``."""

    def compare(self: object, other: object) -> Any:
        if isinstance(other, tuple):  # (a tuple would compare the values if asked)
            raise TypeError(
                f"'{symbol}' not supported between instances of "
                f"'{type(self).__name__}' and '{type(other).__name__}'"
            )
        return NotImplemented

    return compare


def _setattr(self: object, name: str, value: object) -> None:
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _delattr(self: object, name: str) -> None:
    raise FrozenInstanceError(f"cannot delete field {name!r}")


def _rebuild(cls: type[_K], values: tuple[Any, ...]) -> _K:
    """Unpickle (and copy) a message: its class and its field values in order."""
    message: _K = _tuple_new(cls, values)  # type: ignore[type-var]
    return message


def _reduce(self: tuple[Any, ...]) -> tuple[Any, ...]:
    return _rebuild, (self.__class__, tuple(self))


@dataclass_transform(kw_only_default=True, frozen_default=True)
def message_kind(cls: type[_K]) -> type[_K]:
    """Make the annotated subclass ``cls`` of :class:`Message` a message kind: a ``tuple``.

    A message is built for nearly every step of the protocol (about 2.7 per committed
    command), so a kind is a ``tuple`` subclass (also a :class:`Message`): building one is
    one keyword call and one ``tuple.__new__``, where a frozen dataclass sets each field
    through its slot (about 1.1k CPU instructions per field). What code and people read
    is the frozen keyword dataclass's, unchanged: the same keyword-only constructor and
    defaults, ``repr``, equality only between messages of the same class (a ``Prepare``
    never equals a ``Commit`` with equal fields), ``hash``, ``FrozenInstanceError`` on
    assignment, no ordering, and ``dataclasses.fields()``/``replace()``/``asdict()`` (the
    class carries the dataclass's field table). Fields are read through the C descriptor
    ``namedtuple`` uses. Unlike a dataclass, a message is also a tuple of its field values
    (``tuple(m)``, ``len(m)``); nothing in clobkit relies on that. ``Kind.build(**fields)``
    is the class call as a plain function (no keyword dict: about half the cost).

    >>> @message_kind
    ... class Ping(Message):
    ...     op: int
    ...     note: str = ""
    >>> p = Ping(cluster_id="c", source="n0", target="n1", view=0, op=3)
    >>> p
    Ping(cluster_id='c', source='n0', target='n1', view=0, op=3, note='')
    >>> p.op, p.kind, p == Ping(cluster_id="c", source="n0", target="n1", view=0, op=3)
    (3, 'Ping', True)
    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(p)][4:], dataclasses.replace(p, op=4).op
    (['op', 'note'], 4)

    Fields need plain defaults (no ``default_factory``). Other dataclass subclasses of
    :class:`Message` (without this decorator) keep working as before.
    """
    spec: Any = dataclass(frozen=True, kw_only=True)(cls)  # the field table, and a template
    table = spec.__dataclass_fields__
    names = list(table)
    params: list[str] = []
    env: dict[str, Any] = {"_tuple_new": _tuple_new}
    for i, name in enumerate(names):
        field = table[name]
        if field.default_factory is not MISSING:
            raise TypeError(f"{cls.__name__}.{name}: a message field needs a plain default")
        if field.default is MISSING:
            params.append(name)
        else:
            env[f"_default{i}"] = field.default
            params.append(f"{name}=_default{i}")
    values = ", ".join(names) + ("," if len(names) == 1 else "")
    source = (
        f"def __new__(cls, *, {', '.join(params)}):\n    return _tuple_new(cls, ({values}))\n"
        f"def build(*, {', '.join(params)}):\n    return _tuple_new(_kind, ({values}))\n"
    )
    namespace: dict[str, Any] = {}
    exec(source, env, namespace)  # source built above from field names
    new = namespace["__new__"]
    new.__qualname__ = f"{cls.__qualname__}.__new__"
    build = namespace["build"]
    build.__qualname__ = f"{cls.__qualname__}.build"
    build.__doc__ = (
        f"``{cls.__name__}(**fields)`` as a plain function call: the same message (and a "
        "TypeError for a missing, unknown or positional argument), without the keyword dict "
        "a class call builds."
    )
    parts = " + ', ' + ".join(f"'{name}=' + repr(self[{i}])" for i, name in enumerate(names))
    repr_source = (
        f"def __repr__(self):\n    return self.__class__.__qualname__ + '(' + {parts} + ')'\n"
    )
    exec(repr_source, {}, namespace)  # source built above from field names
    repr_function = reprlib.recursive_repr()(namespace["__repr__"])
    repr_function.__qualname__ = f"{cls.__qualname__}.__repr__"
    body: dict[str, Any] = {
        key: value
        for key, value in cls.__dict__.items()
        if not (key.startswith("__") and key.endswith("__")) and key not in table
    }
    body.update(
        __module__=cls.__module__,
        __qualname__=cls.__qualname__,
        __doc__=cls.__doc__,
        __annotations__=inspect.get_annotations(cls),
        __slots__=(),
        __dataclass_fields__=table,
        __dataclass_params__=spec.__dataclass_params__,
        __match_args__=(),
        __new__=new,
        build=staticmethod(build),
        __init__=object.__init__,  # (tuple.__new__ did it all; Message's __init__ must not run)
        __repr__=repr_function,
        __eq__=_eq,
        __ne__=_ne,
        __lt__=_unordered("<"),
        __le__=_unordered("<="),
        __gt__=_unordered(">"),
        __ge__=_unordered(">="),
        __hash__=tuple.__hash__,  # = hash of the field values in order, as the dataclass's
        __setattr__=_setattr,
        __delattr__=_delattr,
        __reduce__=_reduce,
        kind=cls.__name__,  # (a class attribute: Message.kind without a call)
    )
    for i, name in enumerate(names):
        body[name] = _tuplegetter(i, f"Field {i}: {name}")
    bases = cls.__bases__ if issubclass(cls, tuple) else (tuple, *cls.__bases__)
    kind: type[_K] = type(cls.__name__, bases, body)
    env["_kind"] = kind  # (what build() makes)
    return kind


# -- client <-> replica ------------------------------------------------------


@message_kind
class Request(Message):
    """A client's write: ``payload`` (an encoded command) as request ``request_number``."""

    client_id: str
    request_number: int
    payload: bytes


@message_kind
class Reply(Message):
    """The answer to a :class:`Request`.

    ``ok`` with ``reply`` (the state machine's encoded result) and the ``op``
    it was committed at; or ``ok=False`` with ``error``: ``"stale_request"``
    (an older request number: definitely not applied) or ``"not_primary"``
    (a hint: the sender's ``view`` tells the client who the primary is).
    """

    client_id: str
    request_number: int
    ok: bool
    op: int = 0
    reply: bytes = b""
    error: str = ""


@message_kind
class Read(Message):
    """A client's read ``query`` in ``mode``: quorum, primary or quorum-highest-seq."""

    read_id: int
    query: Any
    mode: str


@message_kind
class ReadReply(Message):
    """One replica's answer to a :class:`Read`.

    ``result`` is the query answered at the replica's state as of ``commit``
    (committed state) or, in mode ``"quorum-highest-seq"``, as of ``op``
    (including the uncommitted suffix). ``ok=False`` with ``error`` when the
    replica cannot serve it (``"not_primary"``, ``"bad_query"``).
    """

    read_id: int
    mode: str
    ok: bool
    commit: int = 0
    op: int = 0
    result: Any = None
    error: str = ""


@message_kind
class WriteBack(Message):
    """The ABD write-back of a quorum read: "op ``commit`` is committed (as seen in ``view``)"."""

    read_id: int
    commit: int


@message_kind
class WriteBackOk(Message):
    """The replica now durably knows commit number ``commit`` (>= the written one)."""

    read_id: int
    commit: int


# -- normal case ---------------------------------------------------------------


@message_kind
class Prepare(Message):
    """The primary's log ``entries`` (ops up to ``op``), and its ``commit`` number."""

    op: int
    commit: int
    entries: Entries


@message_kind
class PrepareOk(Message):
    """Every op up to ``op`` is durable at the sender; it knows ``commit``."""

    op: int
    commit: int


@message_kind
class Commit(Message):
    """Heartbeat and commit news from the primary; ``probe`` numbers the round."""

    commit: int
    probe: int = 0


@message_kind
class CommitOk(Message):
    """The sender is in the view and knows ``commit`` (durably in quorum mode); echoes ``probe``."""

    commit: int
    probe: int = 0


# -- view change ---------------------------------------------------------------


@message_kind
class StartViewChange(Message):
    """The sender wants to move to ``view`` (its primary is ``view mod n``)."""


@message_kind
class DoViewChange(Message):
    """The sender's log for the new primary of ``view``.

    ``entries`` are the ops after ``base_op``; ``snapshot`` (at ``base_op``)
    is present when the sender's log was compacted. The new primary adopts
    the log with the largest ``(last_normal_view, op)``.
    """

    last_normal_view: int
    op: int
    commit: int
    base_op: int
    snapshot: Snapshot | None
    entries: Entries


@message_kind
class StartView(Message):
    """The new primary's log (after ``base_op``, with ``snapshot`` if compacted)."""

    op: int
    commit: int
    base_op: int
    snapshot: Snapshot | None
    entries: Entries


# -- state transfer, recovery, repair -----------------------------------------


@message_kind
class GetState(Message):
    """ "Send me your log after ``op``" (to the primary of ``view``)."""

    op: int


@message_kind
class NewState(Message):
    """The primary's log after ``base_op`` up to ``op`` (``snapshot`` if it compacted past it)."""

    op: int
    commit: int
    base_op: int
    snapshot: Snapshot | None
    entries: Entries


@message_kind
class Recovery(Message):
    """A learner (empty disk) asks every replica where the cluster is; ``nonce`` pairs answers."""

    nonce: int


@message_kind
class RecoveryResponse(Message):
    """A replica's view and commit number; the primary adds its state (``has_state``)."""

    nonce: int
    op: int
    commit: int
    has_state: bool
    base_op: int = 0
    snapshot: Snapshot | None = None
    entries: Entries = ()


@message_kind
class GetEntry(Message):
    """A replica with a corrupt WAL entry at ``op`` asks peers for a good copy."""

    op: int


@message_kind
class EntryReply(Message):
    """A peer's copy of ``op`` (``None``: it does not have it); ``vouched`` when committed there
    or the sender is the primary of its view."""

    op: int
    entry: LogEntry | None
    vouched: bool


@message_kind
class PreViewChange(Message):
    """Pre-vote: "my primary went quiet; have you lost it too? May we move to ``proposed``?"

    ``view`` is the sender's (unchanged) view: asking raises no view number anywhere.
    """

    proposed: int


@message_kind
class PreViewChangeOk(Message):
    """The sender has no live primary either and would support a view change to ``proposed``."""

    proposed: int


CLIENT_KINDS: frozenset[type[Message]] = frozenset({Request, Read, WriteBack})
"""Kinds only clients send (every other kind comes from a replica)."""

REPLICA_BOUND: tuple[type[Message], ...] = (
    Request,
    Read,
    WriteBack,
    Prepare,
    PrepareOk,
    Commit,
    CommitOk,
    StartViewChange,
    DoViewChange,
    StartView,
    GetState,
    NewState,
    Recovery,
    RecoveryResponse,
    GetEntry,
    EntryReply,
    PreViewChange,
    PreViewChangeOk,
)
"""Every kind a replica handles: its dispatch table must have exactly one handler for each
(checked when :mod:`clobkit.replication.replica` is imported)."""

CLIENT_BOUND: tuple[type[Message], ...] = (Reply, ReadReply, WriteBackOk)
"""The kinds only a client receives (a replica drops them as ``unexpected_kind``)."""


# -- validation ------------------------------------------------------------------


def _is_nat(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_str(v: object) -> bool:
    return isinstance(v, str) and len(v) <= 1000


def _is_bytes(v: object) -> bool:
    return isinstance(v, bytes)


def _is_bool(v: object) -> bool:
    return isinstance(v, bool)


def _is_any(v: object) -> bool:
    return True


def _is_mode(v: object) -> bool:
    return v in ("quorum", "primary", "quorum-highest-seq")


def _entry_ok(e: object) -> bool:
    """A log entry with a natural view, an op >= 1 and a payload whose envelope decodes."""
    if not isinstance(e, LogEntry):
        return False
    view, op, payload = e.view, e.op, e.payload
    if not ((type(view) is int and view >= 0) or _is_nat(view)):
        return False
    if not ((type(op) is int and op >= 1) or (_is_nat(op) and op >= 1)):
        return False
    if not isinstance(payload, bytes):
        return False
    try:
        decode_envelope(payload)
    except ValueError:
        return False
    return True


def _is_entries(v: object) -> bool:
    """A tuple of good entries (see :func:`_entry_ok`) with consecutive ops."""
    if not isinstance(v, tuple):
        return False
    prev = -1
    for e in v:
        # (_entry_ok inline for an exact entry whose payload decoded recently, as a Prepare's
        # entries did on the primary: one look-up, no call per field)
        if not (
            type(e) is LogEntry
            and type(e.view) is int
            and e.view >= 0
            and type(e.op) is int
            and e.op >= 1
            and type(e.payload) is bytes
            and e.payload in recent_envelopes
        ) and not _entry_ok(e):
            return False
        op = e.op
        if prev >= 0 and op != prev + 1:
            return False
        prev = op
    return True


def _is_snapshot(v: object) -> bool:
    return v is None or (
        isinstance(v, Snapshot) and _is_nat(v.op) and _is_nat(v.view) and _is_bytes(v.data)
    )


def _is_entry_or_none(v: object) -> bool:
    return v is None or _entry_ok(v)


_CHECKS: dict[str, Callable[[object], bool]] = {
    "client_id": lambda v: _is_str(v) and bool(v),
    "request_number": lambda v: _is_nat(v) and isinstance(v, int) and v >= 1,
    "payload": _is_bytes,
    "ok": _is_bool,
    "op": _is_nat,
    "reply": _is_bytes,
    "error": _is_str,
    "read_id": _is_nat,
    "query": _is_any,
    "result": _is_any,
    "mode": _is_mode,
    "commit": _is_nat,
    "probe": _is_nat,
    "entries": _is_entries,
    "last_normal_view": _is_nat,
    "base_op": _is_nat,
    "snapshot": _is_snapshot,
    "nonce": _is_nat,
    "has_state": _is_bool,
    "entry": _is_entry_or_none,
    "vouched": _is_bool,
    "proposed": lambda v: _is_nat(v) and isinstance(v, int) and v >= 1,
}

_LOG_SHIPPING = ("Prepare", "DoViewChange", "StartView", "NewState", "RecoveryResponse")


def problem(message: object) -> str | None:
    """Why ``message`` is malformed (a short reason), or ``None`` when its fields are sound.

    Checks types and ranges of every field, that shipped log entries are
    contiguous, start right after ``base_op`` and end at ``op``, that their
    envelopes decode, and that a snapshot sits at ``base_op``. O(entries).

    Each message class gets its own checker, compiled from its fields the
    first time one of its messages is checked (see :func:`_compile_check`),
    so a check reads each field once and tests it inline instead of walking
    ``dataclasses.fields()``; the reasons are the same.

    >>> problem(Commit(cluster_id="c", source="n0", target="n1", view=0, commit=3))
    >>> problem(Commit(cluster_id="c", source="n0", target="n1", view=-1, commit=3))
    'bad view'
    """
    kind = type(message)
    if kind in _COMPILED:  # (`in` and `[]`: no call before the check itself)
        return _COMPILED[kind](message)
    if not isinstance(message, Message) or kind is Message:
        return "not a message"
    check = _COMPILED[kind] = _compile_check(type(message))
    return check(message)


_COMPILED: dict[type, Callable[[Any], str | None]] = {}

# Inline forms of the common checks: each is true exactly when the _CHECKS function is
# (the exact-type test first, the general function for subclasses and the rest).
_INLINE: dict[str, str] = {
    "str": "(type(v) is str and (v in _SHORT or v == '' or _short(v))) or _is_str(v)",
    "nat": "(type(v) is int and v >= 0) or _is_nat(v)",
    "bytes": "type(v) is bytes or isinstance(v, bytes)",
    "bool": "v is True or v is False",
    "client_id": (
        "(type(v) is str and v != '' and (v in _SHORT or _short(v))) or (_is_str(v) and bool(v))"
    ),
    "request_number": "(type(v) is int and v >= 1) or (_is_nat(v) and v >= 1)",
    "mode": "v in _MODES",
}
# The quick forms (exact types only, no call): each implies its _INLINE form, which is what a
# message failing the quick test is checked with (``{v}`` stands for the field).
_QUICK: dict[str, str] = {
    "str": "(type({v}) is str and ({v} in _SHORT or {v} == ''))",
    "nat": "(type({v}) is int and {v} >= 0)",
    "bytes": "type({v}) is bytes",
    "bool": "({v} is True or {v} is False)",
    "client_id": "(type({v}) is str and {v} in _SHORT)",
    "request_number": "(type({v}) is int and {v} >= 1)",
    "mode": "{v} in _MODES",
}
_KIND_OF_FIELD = {
    "cluster_id": "str",
    "source": "str",
    "target": "str",
    "view": "nat",
    "client_id": "client_id",
    "request_number": "request_number",
    "payload": "bytes",
    "ok": "bool",
    "op": "nat",
    "reply": "bytes",
    "error": "str",
    "read_id": "nat",
    "mode": "mode",
    "commit": "nat",
    "probe": "nat",
    "last_normal_view": "nat",
    "base_op": "nat",
    "nonce": "nat",
    "has_state": "bool",
    "vouched": "bool",
}
_MODES = ("quorum", "primary", "quorum-highest-seq")
_HEADER = ("cluster_id", "source", "target", "view")


def _compile_check(cls: type[Message]) -> Callable[[Any], str | None]:
    """The checker of one message class: its fields' checks in order, then the shape checks.

    Header fields first (``cluster_id``, ``source``, ``target``, ``view``), then the class's
    own fields in declaration order, each ``return "bad <field>"`` on failure, exactly the
    order and reasons of the generic walk; fields whose check is :func:`_is_any` are skipped.
    A field name with no check fails here (when the class is first checked), as it did in the
    walk. Built with ``exec`` like ``dataclasses`` builds ``__init__``; the source is kept on
    the function as ``__source__`` for reading.
    """
    names = [*_HEADER, *(f.name for f in fields(cls) if f.name not in _HEADER)]
    lines = [f"def check_{cls.__name__}(m):"]
    read = {name: f"m.{name}" for name in names}
    if issubclass(cls, tuple) and "__new__" in cls.__dict__:
        # A kind built by message_kind is the tuple of its fields in this order: one unpack
        # reads them all (an attribute read of a tuple's field takes the generic path).
        read = {name: f"f_{name}" for name in names}
        lines.append(f"    {', '.join(f'f_{f.name}' for f in fields(cls))}, = m")
    quick, detailed = [], []
    for name in names:
        if name not in _HEADER:
            check = _CHECKS.get(name)
            assert check is not None, name
            if check is _is_any:
                continue
        kind = _KIND_OF_FIELD.get(name)
        test = _INLINE[kind] if kind is not None else f"_CHECKS[{name!r}](v)"
        detailed += [f"        v = {read[name]}", f"        if not ({test}):"]
        detailed.append(f"            return 'bad {name}'")
        quick.append(
            _QUICK[kind].format(v=read[name])
            if kind is not None
            else f"_CHECKS[{name!r}]({read[name]})"
        )
    # A sound message passes the quick test (one expression over the fields, exact types);
    # only a message that fails it is walked field by field for the reason (or passes, when
    # a field is of an accepted subclass or a string not yet remembered).
    lines.append(f"    if not ({' and '.join(quick)}):")
    lines += detailed
    lines += _shape_lines(cls)
    lines.append("    return None")
    source = "\n".join(lines)
    namespace: dict[str, Any] = {}
    exec(source, _CHECK_GLOBALS, namespace)  # source built above from field names
    function: Callable[[Any], str | None] = namespace[f"check_{cls.__name__}"]
    function.__source__ = source  # type: ignore[attr-defined]
    return function


def _shape_lines(cls: type[Message]) -> list[str]:
    """The checks across fields of ``cls``, as source lines (the field values are in scope).

    Log-shipping kinds: shipped entries start right after ``base_op`` (``op - len(entries)``
    when the kind has no ``base_op``) and end at ``op``; no entries means ``base_op == op``
    (except a ``RecoveryResponse``, whose log may be withheld); a snapshot sits at
    ``base_op``. A ``Prepare`` ships at least one entry; an ``EntryReply``'s entry is for its
    ``op``. Which attributes exist is known per class, so no ``getattr`` is needed.
    """
    names = {f.name for f in fields(cls)}
    lines = []
    if cls.__name__ in _LOG_SHIPPING:
        lines.append("    entries = m.entries" if "entries" in names else "    entries = ()")
        lines.append("    op = m.op")
        lines.append(
            "    base = m.base_op" if "base_op" in names else "    base = op - len(entries)"
        )
        lines += [
            "    if entries and entries[0].op != base + 1:",
            "        return 'entries do not follow base_op'",
            "    if entries and entries[-1].op != op:",
            "        return 'entries do not end at op'",
        ]
        if cls.__name__ != "RecoveryResponse":
            lines += [
                "    if not entries and base != op:",
                "        return 'no entries but base_op != op'",
            ]
        if "snapshot" in names:
            lines += [
                "    snap = m.snapshot",
                "    if snap is not None and snap.op != base:",
                "        return 'snapshot not at base_op'",
            ]
    if issubclass(cls, Prepare):
        lines += ["    if not m.entries:", "        return 'empty prepare'"]
    if issubclass(cls, EntryReply):
        lines += [
            "    if m.entry and m.entry.op != m.op:",
            "        return 'entry op mismatch'",
        ]
    return lines


# Non-empty strings of at most 1,000 characters seen in messages: node names, the cluster id,
# client ids. They repeat in every message, so a set look-up replaces len() for them.
# Bounded: cleared when it holds _SHORT_MAX strings.
_SHORT: set[str] = set()
_SHORT_MAX = 4096


def _short(v: str) -> bool:
    """``len(v) <= 1000`` for a ``str`` (remembered in ``_SHORT`` when true and non-empty)."""
    if len(v) > 1000:
        return False
    if v:
        if len(_SHORT) >= _SHORT_MAX:
            _SHORT.clear()
        _SHORT.add(v)
    return True


_CHECK_GLOBALS: dict[str, Any] = {
    "_SHORT": _SHORT,
    "_short": _short,
    "_is_str": _is_str,
    "_is_nat": _is_nat,
    "_MODES": _MODES,
    "_CHECKS": _CHECKS,
}


# Every kind's check is compiled at import (a few milliseconds), so `checks` holds them all.
for _cls in (*REPLICA_BOUND, *CLIENT_BOUND):
    _COMPILED[_cls] = _compile_check(_cls)

checks: Mapping[type, Callable[[Any], str | None]] = _COMPILED
"""``kind -> check`` (read-only): ``checks[type(m)](m)`` is :func:`problem` for every message
class defined here, without its frame (for a participant's arrival path; other types, such as
subclasses, go through :func:`problem`)."""
