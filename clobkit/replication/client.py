"""A client session, sans-I/O: request numbers, retries, and the three read modes.

A :class:`ClientSession` is what a trader's connection runs. Like the
replica it never sends or sleeps: :meth:`ClientSession.submit` and
:meth:`ClientSession.read` start an operation and return a handle plus the
:class:`~clobkit.replication.step.Step` to send; :meth:`ClientSession.handle`
consumes replies; :meth:`ClientSession.tick` runs retry timers;
:meth:`ClientSession.result` tells how an operation ended.

**Writes.** Each write gets the next request number; a session has at most
one write in flight (VSR's client-table keeps one reply per client), later
writes queue. A write goes to the believed primary (``view mod n``, learned
from every reply); on timeout the *same* request number is resent to every
replica, so a request that committed but whose reply was lost gets the cached
reply instead of a second execution. After ``max_attempts`` the outcome is
``"unknown"`` (it may or may not have been applied); a ``"stale_request"``
error is a definite ``"fail"``. A ``"no_quorum"`` refusal (a primary that has heard from no
majority lately refuses new requests before logging them) makes the first attempt move on at
once: the request goes to every replica, in case another view has a live primary.

**Reads**, per cluster (``config.read_mode``) or per read:

* ``"quorum"``: ask every replica; each answers at its applied *committed*
  state, first catching up to the commit number it knows. Take the answer with
  the highest commit number (ties: highest view) from a majority, then write
  that commit number back to a majority (ABD) before returning; the write-back
  is skipped when a majority already reported at least that commit number
  (every commit number a replica reports in quorum mode is already durable).
  Linearizable because (1) a write is acknowledged only once a majority
  durably knows its op committed, so any later majority read meets a replica
  at or past it, and (2) a read returns only once a majority durably knows the
  commit number it returns, so any later read sees at least as much; committed
  states form one chain, so "highest commit number" is a total order (a view
  comparison first would let a new view whose primary has not re-learned a
  commit number hide it). Rule (1) is a cluster property: a per-read
  ``"quorum"`` read in a cluster configured with another read mode always
  writes back, but it may still miss a write acknowledged at commit time.
* ``"primary"``: read index at the primary (it confirms leadership with a
  heartbeat round to a majority in its view, then answers once applied >= its
  commit number; a new primary first commits its view's no-op).
* ``"quorum-highest-seq"``: the source design literally: the answer with the
  highest op number from a majority, where replicas answer from a state that
  includes their *uncommitted* log suffix. Unsafe: dirty reads and read
  inversions (S3, S4, S5).

Trace events: ``client_invoke`` and ``client_return`` (with ``time_us``) for
the history the checker reads.
"""

from __future__ import annotations

import random
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication.config import NO_WRITE_BACK, READ_MODES, ClusterConfig, ReadMode
from clobkit.replication.messages import (
    Read,
    ReadReply,
    Reply,
    Request,
    WriteBack,
    WriteBackOk,
    checks,
    problem,
)
from clobkit.replication.reads import needs_write_back
from clobkit.replication.step import Message, Step, TraceEvent, client_name, replica_name

__all__ = ["ClientSession", "Outcome", "OutcomeStatus"]

OutcomeStatus = Literal["ok", "fail", "unknown"]
_new_tuple: Any = tuple.__new__
_check_reply = checks[Reply]  # (problem(m) for an exact Reply, without problem()'s frame)


class Outcome(NamedTuple):
    """How one operation ended.

    ``status`` is ``"ok"`` (``value``: the encoded reply of a write, the query
    result of a read; ``op``: the op a write committed at, or the commit/op
    number a read observed), ``"fail"`` (definitely not applied; ``error``
    says why) or ``"unknown"`` (gave up after ``attempts``: a write may or may
    not have been applied). A named tuple: one is built per operation, and a tuple costs a
    tenth of a frozen dataclass.

    >>> Outcome(1, "write", "ok", b"", 3, "", 0, 9, 1).op
    3
    """

    handle: int
    kind: Literal["write", "read"]
    status: OutcomeStatus
    value: Any
    op: int | None
    error: str
    invoked_us: int
    returned_us: int
    attempts: int


@dataclass(slots=True)
class _Write:
    handle: int
    request_number: int
    payload: bytes
    invoked_us: int
    attempts: int = 0
    deadline: int = 0


@dataclass(slots=True)
class _Read:
    handle: int
    query: Any
    mode: ReadMode
    invoked_us: int
    attempts: int = 0
    deadline: int = 0
    phase: Literal["collect", "write_back"] = "collect"
    replies: dict[int, ReadReply] = field(default_factory=dict)
    chosen: ReadReply | None = None
    acks: set[int] = field(default_factory=set)


class ClientSession:
    """One client's session with a cluster (sans-I/O).

    ``client_id`` names the client (its node name is ``"client:<id>"``);
    ``rng`` jitters retry timeouts; ``request_timeout_us`` (default
    ``config.request_timeout_us``) is how long an attempt waits;
    ``max_attempts`` bounds the attempts per operation. ``trace_events=False`` is for a
    host that records no trace: the Steps then carry no events (messages and outcomes are
    the same).

    >>> import random
    >>> from clobkit.replication import ClusterConfig
    >>> s = ClientSession(ClusterConfig("demo", 3), "alice", rng=random.Random(1))
    >>> h, step = s.submit(b"cmd", now=0)
    >>> [(m.kind, m.target, m.request_number) for m in step.messages]
    [('Request', 'n0', 1)]
    >>> s.result(h) is None
    True

    Raises :class:`~clobkit.errors.InvalidArgument` for an empty client id,
    non-positive timeouts or attempts, or an unknown read mode.
    """

    def __init__(
        self,
        config: ClusterConfig,
        client_id: str,
        *,
        rng: random.Random,
        request_timeout_us: int | None = None,
        max_attempts: int = 5,
        trace_events: bool = True,
    ) -> None:
        if not isinstance(config, ClusterConfig):
            raise InvalidType(f"config must be a ClusterConfig, got {config!r}")
        if not isinstance(client_id, str) or not client_id or len(client_id) > 200:
            raise InvalidArgument(f"client_id must be a non-empty str, got {client_id!r}")
        timeout = config.request_timeout_us if request_timeout_us is None else request_timeout_us
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            raise InvalidArgument(f"request_timeout_us must be a positive int, got {timeout!r}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise InvalidArgument(f"max_attempts must be a positive int, got {max_attempts!r}")
        self.config = config
        self.client_id = client_id
        self.name = client_name(client_id)
        self.request_timeout_us = timeout
        self.max_attempts = max_attempts
        self.view = 0
        self.counters: Counter[str] = Counter()
        self._rng = rng
        self._names = {replica_name(i): i for i in range(config.replica_count)}
        self._next_handle = 1
        self._next_request = 1
        self._write: _Write | None = None
        self._queued: deque[_Write] = deque()
        self._reads: dict[int, _Read] = {}
        self._outcomes: dict[int, Outcome] = {}
        #: Outcomes recorded since a host last took them, in the order the operations ended:
        #: a host that drives many calls empties this list (``ClientNode.poll``) instead of
        #: asking :meth:`result` about every pending handle after every message.
        self.finished: list[Outcome] = []
        self._out: list[Message] = []
        self._events: list[TraceEvent] = []
        self._now = 0
        # A host that records no trace says so: then no TraceEvent (nor its fields) is built.
        self._trace_events = trace_events
        # Bound once: every write sends a Request with these header fields.
        self._cluster_id = config.cluster_id
        self._replica_names = [replica_name(i) for i in range(config.replica_count)]
        self._first_wait_max = config.view_change_timeout_us_min  # (see _deadline)
        self._quorum = config.quorum  # (a property of the frozen config: every read reply asks)
        # rng.randint(0, k) draws exactly rng._randbelow(k + 1) (same stream, two calls fewer;
        # tests/sim/test_sim_determinism.py checks the identity on this Python).
        self._randbelow: Callable[[int], int] = rng._randbelow  # type: ignore[attr-defined]
        self._getrandbits: Callable[[int], int] = rng.getrandbits

    # -- public API ------------------------------------------------------------------

    @property
    def primary_index(self) -> int:
        """The replica this session believes is primary (``view mod n``)."""
        return self.config.primary_index(self.view)

    @property
    def pending(self) -> list[int]:
        """Handles of operations not finished yet, ascending."""
        handles = [w.handle for w in self._queued] + list(self._reads)
        if self._write is not None:
            handles.append(self._write.handle)
        return sorted(handles)

    def submit(self, payload: bytes, now: int) -> tuple[int, Step]:
        """Start a write of ``payload`` (an encoded command); returns ``(handle, step)``.

        Raises :class:`~clobkit.errors.InvalidType` for a non-bytes payload.
        """
        if type(payload) is not bytes and not isinstance(payload, bytes):
            raise InvalidType(f"payload must be bytes, got {type(payload).__name__}")
        self._now = now
        handle = self._next_handle  # (self._new_handle(), inline: every write comes here)
        self._next_handle = handle + 1
        write = _Write(handle, self._next_request, payload, now)
        self._next_request += 1
        if self._trace_events:
            self._event(
                "client_invoke",
                handle=handle,
                kind="write",
                request_number=write.request_number,
                payload=payload,
                time_us=now,
            )
        if self._write is None:
            # Nothing in flight, so nothing queued either: this write goes out at once
            # (what queueing it and _start_next_write() would do, in short).
            assert not self._queued
            self._write = write
            self._send_write(write, everyone=False)
        else:
            self._queued.append(write)
        return handle, self._step()

    def submit_quiet(self, payload: bytes, now: int) -> tuple[int, Request | None, int | None]:
        """:meth:`submit` for a host that records no trace (``trace_events=False``), without
        the Step: returns ``(handle, request, wake_at_us)``, the Request to send now (``None``
        when the write queues behind the one in flight) and the retry timer to set (the
        Step's ``messages`` and ``wake_at_us``; it would carry nothing else). Same state,
        same draws. O(1).

        >>> import random
        >>> from clobkit.replication import ClusterConfig
        >>> s = ClientSession(ClusterConfig("demo", 3), "al", rng=random.Random(1),
        ...                   trace_events=False)
        >>> handle, request, wake = s.submit_quiet(b"cmd", now=0)
        >>> handle, request.target, request.request_number, wake == s.wake_at_us
        (1, 'n0', 1, True)

        Raises :class:`~clobkit.errors.InvalidType` for a non-bytes payload (nothing changes).
        """
        assert not self._trace_events, "a traced session submits through submit()"
        if type(payload) is not bytes and not isinstance(payload, bytes):
            raise InvalidType(f"payload must be bytes, got {type(payload).__name__}")
        assert not self._out and not self._events, "every call hands its Step over"
        self._now = now
        handle = self._next_handle
        self._next_handle = handle + 1
        write = _Write(handle, self._next_request, payload, now)
        self._next_request += 1
        if self._write is not None:
            self._queued.append(write)
            return handle, None, self.wake_at_us
        assert not self._queued
        self._write = write
        # (self._send_write(write, everyone=False), inline: the first attempt goes to the
        # believed primary alone)
        write.attempts = 1
        names = self._replica_names
        view = self.view
        request = Request.build(
            cluster_id=self._cluster_id,
            source=self.name,
            target=names[view % len(names)],
            view=view,
            client_id=self.client_id,
            request_number=write.request_number,
            payload=payload,
        )
        wait = self.request_timeout_us
        if self.max_attempts > 1:
            wait = min(wait, self._first_wait_max)
        # (self._randbelow(n), inline: getrandbits(n.bit_length()) until below n, exactly the
        # draws of Random._randbelow_with_getrandbits; tests/sim/test_sim_submit_fast.py)
        n = wait // 10 + 1
        bits = n.bit_length()
        getrandbits = self._getrandbits
        r = getrandbits(bits)
        while r >= n:
            r = getrandbits(bits)
        write.deadline = now + wait + r
        return handle, request, write.deadline if not self._reads else self.wake_at_us

    def reply_quiet(self, message: Any, now: int) -> Outcome | None:
        """:meth:`handle` for the common reply, in one frame, for a host that records no trace:
        a sound ``ok`` :class:`Reply` to the write in flight, while no other write is queued and
        no read is pending (so that it leaves nothing to send and no timer to set). Then it
        records the outcome as :meth:`handle` would (:meth:`result` answers it) but returns it
        instead of adding it to :attr:`finished`. Anything else: returns ``None`` having changed
        nothing (hand the message to :meth:`handle`). O(1).

        >>> import random
        >>> from clobkit.replication import ClusterConfig
        >>> s = ClientSession(ClusterConfig("demo", 3), "al", rng=random.Random(1),
        ...                   trace_events=False)
        >>> handle, request, _ = s.submit_quiet(b"cmd", now=0)
        >>> reply = Reply(cluster_id="demo", source="n0", target="client:al", view=0,
        ...               client_id="al", request_number=1, ok=True, op=4, reply=b"r")
        >>> s.reply_quiet(reply, 900)
        Outcome(handle=1, kind='write', status='ok', value=b'r', op=4, error='', invoked_us=0, ...)
        >>> s.result(handle).op, s.finished, s.wake_at_us
        (4, [], None)
        """
        write = self._write
        if (
            write is None
            or type(message) is not Reply
            or self._trace_events
            or self._queued
            or self._reads
            or _check_reply(message) is not None  # (first: the tests below assume sound fields)
            or message.ok is not True
            or message.request_number != write.request_number
            or message.client_id != self.client_id
            or message.cluster_id != self._cluster_id
            or message.target != self.name
            or message.source not in self._names
        ):
            return None
        # (handle(): _on_reply(), _finish_write() and _step(), inline for this case)
        self._now = now
        if message.view > self.view:
            self.view = message.view
        handle = write.handle
        outcome: Outcome = _new_tuple(
            Outcome,
            (handle, "write", "ok", message.reply, message.op, "", write.invoked_us, now,
             write.attempts),
        )  # fmt: skip
        self._outcomes[handle] = outcome
        self._write = None
        return outcome

    def read(self, query: Any, now: int, mode: ReadMode | None = None) -> tuple[int, Step]:
        """Start a read of ``query`` in ``mode`` (default ``config.read_mode``).

        Raises :class:`~clobkit.errors.InvalidArgument` for an unknown mode.
        """
        mode = self.config.read_mode if mode is None else mode
        if mode not in READ_MODES:
            raise InvalidArgument(f"mode must be one of {', '.join(READ_MODES)}, got {mode!r}")
        self._now = now
        handle = self._new_handle()
        pending = _Read(handle, query, mode, now)
        self._reads[handle] = pending
        if self._trace_events:
            self._event(
                "client_invoke", handle=handle, kind="read", query=query, mode=mode, time_us=now
            )
        self._send_read(pending, everyone=mode != "primary")
        return handle, self._step()

    def result(self, handle: int) -> Outcome | None:
        """The outcome of ``handle``, or ``None`` while it is pending.

        Raises :class:`~clobkit.errors.InvalidArgument` for a handle this session never issued.
        """
        if (type(handle) is not int and not isinstance(handle, int)) or not (
            0 < handle < self._next_handle
        ):
            raise InvalidArgument(f"unknown handle {handle!r}")
        return self._outcomes.get(handle)

    def handle(self, message: Message, now: int) -> Step:
        """Consume one message from a replica. Malformed or foreign ones are counted and dropped."""
        self._now = now
        reason = problem(message)
        if reason is not None or message.cluster_id != self._cluster_id:
            self.counters["drop:malformed" if reason else "drop:foreign_cluster"] += 1
        elif message.target != self.name or message.source not in self._names:
            self.counters["drop:misaddressed"] += 1
        elif type(message) is Reply or isinstance(message, Reply):
            self._on_reply(message)
        elif isinstance(message, ReadReply):
            self._on_read_reply(message)
        elif isinstance(message, WriteBackOk):
            self._on_write_back_ok(message)
        else:
            self.counters["drop:unexpected_kind"] += 1
        return self._step()

    def tick(self, now: int) -> Step:
        """Retry or give up on operations whose attempt timed out."""
        self._now = now
        write = self._write
        if write is not None and now >= write.deadline:
            if write.attempts >= self.max_attempts:
                self._finish_write("unknown", None, None, "timeout")
            else:
                self._send_write(write, everyone=True)
        for pending in list(self._reads.values()):
            if now < pending.deadline:
                continue
            if pending.attempts >= self.max_attempts:
                self._finish_read(pending, "unknown", None, None, "timeout")
            elif pending.phase == "write_back":
                self._send_write_back(pending)
            else:
                self._send_read(pending, everyone=True)
        return self._step()

    @property
    def wake_at_us(self) -> int | None:
        """The next retry deadline, or ``None`` when nothing is pending."""
        write = self._write
        if not self._reads:  # (the common case, without building a list)
            return None if write is None else write.deadline
        deadlines = [r.deadline for r in self._reads.values()]
        if write is not None:
            deadlines.append(write.deadline)
        return min(deadlines)

    def __repr__(self) -> str:
        return f"ClientSession({self.client_id!r}, view={self.view}, pending={self.pending})"

    # -- internals ---------------------------------------------------------------------

    def _new_handle(self) -> int:
        handle = self._next_handle
        self._next_handle += 1
        return handle

    def _event(self, event: str, /, **fields: Any) -> None:
        if self._trace_events:
            self._events.append(TraceEvent(event, self.name, fields))

    def _step(self) -> Step:
        write = self._write
        if self._reads:
            wake = self.wake_at_us
        else:  # (self.wake_at_us without reads, inline: every step comes here)
            wake = None if write is None else write.deadline
        step = Step(self._out, self._events, 0, wake)
        self._out, self._events = [], []
        return step

    def _deadline(self, first: bool = False) -> int:
        # A first attempt went to the believed primary alone: if it is dead, the request must
        # reach the others (who keep it for the next primary) before their view change ends,
        # which takes at least the shortest view-change timeout. So it waits no longer.
        wait = self.request_timeout_us
        if first:
            wait = min(wait, self._first_wait_max)
        return self._now + wait + self._randbelow(wait // 10 + 1)

    def _learn_view(self, view: int) -> bool:
        if view > self.view:
            self.view = view
            return True
        return False

    def _targets(self, everyone: bool) -> range | tuple[int]:
        if everyone:
            return range(self.config.replica_count)
        return (self.config.primary_index(self.view),)

    # -- writes ------------------------------------------------------------------------

    def _start_next_write(self) -> None:
        if self._write is None and self._queued:
            self._write = self._queued.popleft()
            self._send_write(self._write, everyone=False)

    def _send_write(self, write: _Write, *, everyone: bool) -> None:
        write.attempts += 1
        names = self._replica_names
        view = self.view
        out = self._out
        # (self._targets(everyone), inline: every write comes here)
        for i in range(len(names)) if everyone else (view % len(names),):
            out.append(
                Request.build(
                    cluster_id=self._cluster_id,
                    source=self.name,
                    target=names[i],
                    view=view,
                    client_id=self.client_id,
                    request_number=write.request_number,
                    payload=write.payload,
                )
            )
        # (self._deadline(first=...), inline: a session allowed one attempt waits the whole
        # timeout for it)
        wait = self.request_timeout_us
        if write.attempts == 1 and not everyone and self.max_attempts > 1:
            wait = min(wait, self._first_wait_max)
        write.deadline = self._now + wait + self._randbelow(wait // 10 + 1)

    def _on_reply(self, m: Reply) -> None:
        write = self._write
        if (
            write is None
            or m.client_id != self.client_id
            or (m.request_number != write.request_number)
        ):
            self.counters["drop:stale_reply"] += 1
            return
        if m.ok:
            if m.view > self.view:  # (self._learn_view(m.view), inline)
                self.view = m.view
            self._finish_write("ok", m.reply, m.op, "")
        elif m.error == "stale_request":
            self._finish_write("fail", None, None, m.error)
        elif m.error == "not_primary" and self._learn_view(m.view):
            self._send_write(write, everyone=False)
        elif m.error == "no_quorum" and write.attempts == 1:
            # The primary we believed in has heard from no majority lately: another view may
            # have a live primary, so ask everyone now instead of waiting for the timeout.
            self.counters["no_quorum"] += 1
            self._send_write(write, everyone=True)

    def _finish_write(self, status: OutcomeStatus, value: Any, op: int | None, error: str) -> None:
        write = self._write
        assert write is not None
        # (self._record(write.handle, "write", ...), inline without the trace: every write
        # comes here)
        if self._trace_events:
            self._record(
                write.handle, "write", status, value, op, error, write.invoked_us, write.attempts
            )
        else:
            handle = write.handle
            outcome: Outcome = _new_tuple(
                Outcome,
                (handle, "write", status, value, op, error, write.invoked_us, self._now,
                 write.attempts),
            )  # fmt: skip
            self._outcomes[handle] = outcome
            self.finished.append(outcome)
        self._write = None
        if self._queued:
            self._start_next_write()

    def _record(
        self,
        handle: int,
        kind: Literal["write", "read"],
        status: OutcomeStatus,
        value: Any,
        op: int | None,
        error: str,
        invoked: int,
        attempts: int,
    ) -> None:
        # (Outcome(...) without the named tuple's __new__ frame: one per operation)
        outcome: Outcome = _new_tuple(
            Outcome, (handle, kind, status, value, op, error, invoked, self._now, attempts)
        )
        self._outcomes[handle] = outcome
        self.finished.append(outcome)
        if not self._trace_events:
            return
        self._event(
            "client_return",
            handle=handle,
            kind=kind,
            status=status,
            value=value,
            op=op,
            error=error,
            time_us=self._now,
        )

    # -- reads -------------------------------------------------------------------------

    def _send_read(self, pending: _Read, *, everyone: bool) -> None:
        pending.attempts += 1
        names = self._replica_names
        view = self.view
        replies = pending.replies
        for i in self._targets(everyone):
            if i in replies:
                continue
            # (the header as keywords: no dict per message)
            self._out.append(
                Read(
                    cluster_id=self._cluster_id,
                    source=self.name,
                    target=names[i],
                    view=view,
                    read_id=pending.handle,
                    query=pending.query,
                    mode=pending.mode,
                )
            )
        pending.deadline = self._deadline()

    def _send_write_back(self, pending: _Read) -> None:
        chosen = pending.chosen
        assert chosen is not None
        pending.attempts += 1
        names = self._replica_names
        for i in range(self.config.replica_count):
            if i in pending.acks:
                continue
            # (the header as keywords; its view is the one in which the chosen commit number
            # was seen)
            self._out.append(
                WriteBack(
                    cluster_id=self._cluster_id,
                    source=self.name,
                    target=names[i],
                    view=chosen.view,
                    read_id=pending.handle,
                    commit=chosen.commit,
                )
            )
        pending.deadline = self._deadline()

    def _on_read_reply(self, m: ReadReply) -> None:
        pending = self._reads.get(m.read_id)
        if pending is None or pending.phase != "collect" or m.mode != pending.mode:
            self.counters["drop:stale_reply"] += 1
            return
        if not m.ok:
            if m.error.startswith("bad_query"):
                self._finish_read(pending, "fail", None, None, m.error)
            elif m.error == "not_primary" and self._learn_view(m.view):
                self._send_read(pending, everyone=False)
            elif m.error == "no_quorum" and pending.attempts == 1:
                self.counters["no_quorum"] += 1
                self._send_read(pending, everyone=True)
            return
        self._learn_view(m.view)
        if pending.mode == "primary":
            self._finish_read(pending, "ok", m.result, m.commit, "")
            return
        pending.replies[self._names[m.source]] = m
        quorum = self._quorum
        if len(pending.replies) < quorum:
            return
        replies = [pending.replies[i] for i in sorted(pending.replies)]
        if pending.mode == "quorum-highest-seq":
            best = max(replies, key=lambda r: r.op)
            self._finish_read(pending, "ok", best.result, best.op, "")
            return
        best = max(replies, key=lambda r: (r.commit, r.view))
        pending.chosen = best
        knowing = {self._names[r.source] for r in replies if r.commit >= best.commit}
        # Reported commit numbers are durable only in a quorum-mode cluster.
        if not needs_write_back(
            len(replies),
            len(knowing),
            quorum,
            durable_commits=self.config.read_mode == "quorum",
            write_back=NO_WRITE_BACK not in self.config.unsafe,
        ):
            self._finish_read(pending, "ok", best.result, best.commit, "")
            return
        pending.phase = "write_back"
        pending.acks = knowing
        pending.attempts = 0
        self._send_write_back(pending)

    def _on_write_back_ok(self, m: WriteBackOk) -> None:
        pending = self._reads.get(m.read_id)
        if pending is None or pending.phase != "write_back" or pending.chosen is None:
            self.counters["drop:stale_reply"] += 1
            return
        if m.commit >= pending.chosen.commit:
            pending.acks.add(self._names[m.source])
        if len(pending.acks) >= self._quorum:
            chosen = pending.chosen
            self._finish_read(pending, "ok", chosen.result, chosen.commit, "")

    def _finish_read(
        self, pending: _Read, status: OutcomeStatus, value: Any, op: int | None, error: str
    ) -> None:
        del self._reads[pending.handle]
        self._record(
            pending.handle, "read", status, value, op, error, pending.invoked_us, pending.attempts
        )
