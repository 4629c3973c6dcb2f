"""The message classes and ``problem()`` as they were before compiled checks (oracle).

This is ``clobkit/replication/messages.py`` at commit 53a6306, verbatim below this
docstring: frozen keyword dataclasses built by the dataclass ``__init__`` and validated by
walking ``dataclasses.fields()``. ``tests/replication/test_replication_messages_oracle.py``
compares the shipped classes and checker with it; ``benchmarks/bench_codec.py`` times both.
It is not part of the package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from clobkit.replication.envelope import decode_envelope
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
    "problem",
]

Entries = tuple[LogEntry, ...]


# -- client <-> replica ------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Request(Message):
    """A client's write: ``payload`` (an encoded command) as request ``request_number``."""

    client_id: str
    request_number: int
    payload: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class Read(Message):
    """A client's read ``query`` in ``mode``: quorum, primary or quorum-highest-seq."""

    read_id: int
    query: Any
    mode: str


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteBack(Message):
    """The ABD write-back of a quorum read: "op ``commit`` is committed (as seen in ``view``)"."""

    read_id: int
    commit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteBackOk(Message):
    """The replica now durably knows commit number ``commit`` (>= the written one)."""

    read_id: int
    commit: int


# -- normal case ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Prepare(Message):
    """The primary's log ``entries`` (ops up to ``op``), and its ``commit`` number."""

    op: int
    commit: int
    entries: Entries


@dataclass(frozen=True, slots=True, kw_only=True)
class PrepareOk(Message):
    """Every op up to ``op`` is durable at the sender; it knows ``commit``."""

    op: int
    commit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit(Message):
    """Heartbeat and commit news from the primary; ``probe`` numbers the round."""

    commit: int
    probe: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitOk(Message):
    """The sender is in the view and knows ``commit`` (durably in quorum mode); echoes ``probe``."""

    commit: int
    probe: int = 0


# -- view change ---------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class StartViewChange(Message):
    """The sender wants to move to ``view`` (its primary is ``view mod n``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
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


@dataclass(frozen=True, slots=True, kw_only=True)
class StartView(Message):
    """The new primary's log (after ``base_op``, with ``snapshot`` if compacted)."""

    op: int
    commit: int
    base_op: int
    snapshot: Snapshot | None
    entries: Entries


# -- state transfer, recovery, repair -----------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class GetState(Message):
    """ "Send me your log after ``op``" (to the primary of ``view``)."""

    op: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewState(Message):
    """The primary's log after ``base_op`` up to ``op`` (``snapshot`` if it compacted past it)."""

    op: int
    commit: int
    base_op: int
    snapshot: Snapshot | None
    entries: Entries


@dataclass(frozen=True, slots=True, kw_only=True)
class Recovery(Message):
    """A learner (empty disk) asks every replica where the cluster is; ``nonce`` pairs answers."""

    nonce: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RecoveryResponse(Message):
    """A replica's view and commit number; the primary adds its state (``has_state``)."""

    nonce: int
    op: int
    commit: int
    has_state: bool
    base_op: int = 0
    snapshot: Snapshot | None = None
    entries: Entries = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class GetEntry(Message):
    """A replica with a corrupt WAL entry at ``op`` asks peers for a good copy."""

    op: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EntryReply(Message):
    """A peer's copy of ``op`` (``None``: it does not have it); ``vouched`` when committed there
    or the sender is the primary of its view."""

    op: int
    entry: LogEntry | None
    vouched: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PreViewChange(Message):
    """Pre-vote: may we move to ``proposed``? (``view`` is the sender's unchanged view.)"""

    proposed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PreViewChangeOk(Message):
    """The sender has no live primary either and would support ``proposed``."""

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
    if not (
        isinstance(e, LogEntry)
        and _is_nat(e.view)
        and _is_nat(e.op)
        and e.op >= 1
        and _is_bytes(e.payload)
    ):
        return False
    try:
        decode_envelope(e.payload)
    except ValueError:
        return False
    return True


def _is_entries(v: object) -> bool:
    if not isinstance(v, tuple):
        return False
    prev: int | None = None
    for e in v:
        if not _entry_ok(e):
            return False
        assert isinstance(e, LogEntry)
        if prev is not None and e.op != prev + 1:
            return False
        prev = e.op
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

    >>> problem(Commit(cluster_id="c", source="n0", target="n1", view=0, commit=3))
    >>> problem(Commit(cluster_id="c", source="n0", target="n1", view=-1, commit=3))
    'bad view'
    """
    if not isinstance(message, Message) or type(message) is Message:
        return "not a message"
    for name in ("cluster_id", "source", "target"):
        if not _is_str(getattr(message, name)):
            return f"bad {name}"
    if not _is_nat(message.view):
        return "bad view"
    for f in fields(message):
        if f.name in ("cluster_id", "source", "target", "view"):
            continue
        check = _CHECKS.get(f.name)
        assert check is not None, f.name
        if not check(getattr(message, f.name)):
            return f"bad {f.name}"
    if message.kind in _LOG_SHIPPING:
        entries: Entries = getattr(message, "entries", ())
        op: int = getattr(message, "op")  # noqa: B009 - every shipping kind has it
        base: int = getattr(message, "base_op", op - len(entries))
        if entries and entries[0].op != base + 1:
            return "entries do not follow base_op"
        if entries and entries[-1].op != op:
            return "entries do not end at op"
        if not entries and base != op and message.kind != "RecoveryResponse":
            return "no entries but base_op != op"
        snap = getattr(message, "snapshot", None)
        if snap is not None and snap.op != base:
            return "snapshot not at base_op"
    if isinstance(message, Prepare) and not message.entries:
        return "empty prepare"
    if isinstance(message, EntryReply) and message.entry and message.entry.op != message.op:
        return "entry op mismatch"
    return None
