"""Cheap safety checks that run after every simulated event.

The :class:`InvariantMonitor` is a world observer. After each event it looks
at every live replica and checks, incrementally (only what changed):

* **committed prefixes agree**: the first replica to commit op ``k`` fixes
  the canonical entry ``(view, payload)`` for ``k``; every other replica that
  commits ``k`` must hold the same entry;
* **commit numbers never decrease** within one life of a replica (a restart
  may start lower: the commit number is re-learned from peers);
* **at most one primary per view**: two replicas that each act as primary in
  normal status for the same view is split brain.

A replica may commit op ``k`` and compact it into a snapshot within one event, before
the monitor looks. So the host tells the monitor what a compaction drops
(:meth:`InvariantMonitor.compacting`, wired to the store's ``on_compact``): at the next
look, ops the replica now counts as committed that are below its log are checked from
those entries, exactly as if they were still in the log.

With every unsafe switch off a violation is a bug, so the monitor raises
``AssertionError`` at once, with the seed and the time. With any unsafe
switch on, violations are the point of the lesson: they are recorded in
:attr:`InvariantMonitor.violations` instead.

What :mod:`clobkit.check.invariants` builds on: :attr:`committed`
(op -> (view, payload), the canonical committed log as first observed),
:attr:`primaries` (view -> the replica names seen acting as primary in
it), :attr:`commit_high` (replica name -> highest commit number seen) and
:attr:`acked` (every write a client saw acknowledged, with its op).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from clobkit.errors import CorruptEntry, StorageError
from clobkit.replication.envelope import decode_envelope
from clobkit.replication.replica import Replica
from clobkit.replication.step import client_name
from clobkit.storage.base import LogEntry

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.world import World

__all__ = ["InvariantMonitor", "Violation", "AckedWrite"]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken invariant, the one type every checker reports (this monitor,
    :mod:`clobkit.check.invariants` and the real-process cluster).

    ``kind`` names the rule (:data:`clobkit.check.invariants.VIOLATION_KINDS`), ``detail``
    says what happened in words, ``time_us`` when (simulated µs; the end of the run for
    end-of-run checks), ``nodes`` who (replica names, or ``client:<id>``), and ``op`` and
    ``view`` the op and view concerned when there is one, so that no reader has to parse a
    number back out of ``detail``.

    >>> v = Violation("two_primaries", "view 3 has primaries n0, n1", 1500, ("n0", "n1"), view=3)
    >>> str(v), v.view, v.op
    ('1500us two_primaries [n0, n1]: view 3 has primaries n0, n1', 3, None)
    """

    kind: str
    detail: str
    time_us: int
    nodes: tuple[str, ...] = ()
    op: int | None = None
    view: int | None = None

    def __str__(self) -> str:
        return f"{self.time_us}us {self.kind} [{', '.join(self.nodes)}]: {self.detail}"


class AckedWrite(NamedTuple):
    """A write the client saw acknowledged: who, which call (history index), the
    command bytes, the op it was committed at, and when. (A named tuple: every
    acknowledged write builds one.)"""

    client_id: str
    call_index: int
    payload: bytes
    op: int
    time_us: int


class InvariantMonitor:
    """Checks agreement, monotonic commits and one primary per view after each event.

    ``replicas()`` returns ``(name, incarnation, replica)`` for every replica
    host that is up. ``strict`` raises on the first violation; otherwise
    violations are recorded. Cost per event: O(replicas + newly committed ops).
    """

    def __init__(
        self,
        replicas: Callable[[], list[tuple[str, int, Any]]],
        *,
        strict: bool,
        describe: Callable[[], str] = lambda: "",
    ) -> None:
        self._replicas = replicas
        self.strict = strict
        self._describe = describe
        self.committed: dict[int, tuple[int, bytes]] = {}
        self.committed_by: dict[int, str] = {}
        self.primaries: dict[int, list[str]] = {}
        self.commit_high: dict[str, int] = {}
        self.acked: list[AckedWrite] = []
        self.violations: list[Violation] = []
        self._seen: dict[str, tuple[int, int]] = {}  # name -> (incarnation, commit checked)
        # name -> {op: entry}: entries a compaction dropped since the last look.
        self._compacted: dict[str, dict[int, LogEntry]] = {}
        self._now = 0
        # name -> what observe() last read of that Replica (see __call__)
        self._looked: dict[str, tuple[int, int, int, str, int]] = {}
        # The list replicas() last gave, and per entry [name, incarnation, replica, is a
        # Replica, then what observe() last read of it: commit number, view, status, last
        # normal view]; rebuilt (from _looked) when replicas() gives another list.
        self._listed: list[tuple[str, int, Any]] | None = None
        self._watch: list[list[Any]] = []
        # What the last full pass read of each watched replica, as (replica, commit number,
        # view, status, last normal view, applied op), when that pass leaves nothing to
        # look at again while these stay as they are: every watched replica a Replica, none
        # applied past its commit number, no compaction pending. None otherwise.
        self._quiet: list[tuple[Any, int, int, str, int, int]] | None = None
        #: Called as ``hook(world, name, incarnation, replica)`` after each look (after every
        #: replica was observed) for each live replica that has applied past its commit
        #: number; :class:`clobkit.check.invariants.LiveInvariants` hangs its check here, so
        #: that one pass over the replicas per event serves both observers.
        self.applied_beyond_commit: list[Callable[[World, str, int, Any], None]] = []

    # -- world observer ------------------------------------------------------

    def __call__(self, world: World) -> None:
        self._now = world.now_us
        listed = self._replicas()
        quiet = self._quiet
        if quiet is not None and listed is self._listed and not self._compacted:
            # Most events change no replica's state (a client's event, a message that only
            # queues, a timer that re-arms). When nothing the full pass reads has changed
            # since it last ran, it would skip every replica and call no hook: stop here.
            # (One loop of plain attribute reads: about 40 % of the full pass's bytecodes.)
            for replica, commit, view, status, normal, applied in quiet:
                if (
                    replica.commit_number != commit
                    or replica.view != view
                    or replica.status != status
                    or replica.last_normal_view != normal
                    or replica.applied_op != applied
                ):
                    break
            else:
                return
        self._quiet = None  # (until this pass has finished: a strict violation raises)
        if listed is not self._listed:
            # (a cluster hands back the same list until a replica crashes or restarts)
            self._rewatch(listed)
        compacted = self._compacted
        hooks = self.applied_beyond_commit
        beyond: list[tuple[str, int, Any]] | None = None
        read: list[tuple[Any, int, int, str, int, int]] | None = []
        for watched in self._watch:
            replica = watched[2]
            commit = replica.commit_number
            if not watched[3]:
                read = None  # (not a Replica: observed after every event)
                if hooks and replica.applied_op > commit:
                    beyond = [*(beyond or ()), (watched[0], watched[1], replica)]
            else:
                applied = replica.applied_op
                if applied > commit:
                    read = None
                    if hooks:
                        # (the hooks run after this pass, as a second observer would have)
                        beyond = [*(beyond or ()), (watched[0], watched[1], replica)]
                # What observe() reads of a Replica: its commit number, and whether it acts
                # as primary of its view (status, view, last normal view). Unchanged since
                # the last look (and nothing compacted meanwhile), observe() would find
                # nothing new, so it is skipped: most events change no replica's state.
                view, status, normal = replica.view, replica.status, replica.last_normal_view
                if read is not None:
                    read.append((replica, commit, view, status, normal, applied))
                if (
                    commit == watched[4]
                    and view == watched[5]
                    and status == watched[6]
                    and normal == watched[7]
                    and not (compacted and watched[0] in compacted)
                ):
                    continue
                watched[4:] = commit, view, status, normal
                self._looked[watched[0]] = (watched[1], commit, view, status, normal)
            self.observe(watched[0], watched[1], replica)
        if compacted:
            compacted.clear()  # (a replica that crashed meanwhile committed no more)
        if beyond is not None:
            for hook in hooks:
                for name, incarnation, replica in beyond:
                    hook(world, name, incarnation, replica)
        self._quiet = read

    def _rewatch(self, listed: list[tuple[str, int, Any]]) -> None:
        """Watch the replicas of ``listed``, each from what observe() last read of it in
        this life (nothing yet after a restart: the next look observes it)."""
        watch = []
        for name, incarnation, replica in listed:
            last = self._looked.get(name)
            if last is None or last[0] != incarnation:
                seen: list[Any] = [None, None, None, None]
            else:
                seen = list(last[1:])
            watch.append([name, incarnation, replica, type(replica) is Replica, *seen])
        self._listed = listed
        self._watch = watch

    def compacting(self, name: str, entries: list[LogEntry]) -> None:
        """Replica ``name`` is about to compact ``entries`` away (its store's ``on_compact``).

        They are kept until the next look at ``name``, which checks those it then counts
        as committed (and records them in :attr:`committed`), then forgets them all.
        O(entries).

        >>> from clobkit.storage import LogEntry
        >>> m = InvariantMonitor(lambda: [], strict=True)
        >>> m.compacting("n0", [LogEntry(0, 1, b"a"), LogEntry(0, 2, b"b")])
        >>> m.committed
        {}
        """
        held = self._compacted.setdefault(name, {})
        for entry in entries:
            held[entry.op] = entry

    def observe(self, name: str, incarnation: int, replica: Any) -> None:
        """Check one replica now (called for every live replica after each event)."""
        commit = replica.commit_number
        seen = self._seen.get(name)
        if seen is None or seen[0] != incarnation:
            checked = 0
        else:
            checked = seen[1]
            if commit < checked:
                self._violate(
                    "commit_went_back", (name,), f"commit number {checked} -> {commit} in one life"
                )
                checked = commit  # report each regression once
        if commit > checked:
            self._check_committed(name, replica, checked, commit)
            checked = commit
        self._compacted.pop(name, None)
        self._seen[name] = (incarnation, checked)
        if commit > self.commit_high.get(name, 0):
            self.commit_high[name] = commit
        if getattr(replica, "status", "normal") == "normal" and _is_primary(replica):
            names = self.primaries.setdefault(replica.view, [])
            if name not in names:
                names.append(name)
                if len(names) > 1:
                    self._violate(
                        "two_primaries",
                        tuple(names),
                        f"view {replica.view} has primaries {names}",
                        view=replica.view,
                    )

    def _check_committed(self, name: str, replica: Any, low: int, high: int) -> None:
        wal = replica.store.wal
        first = max(low + 1, wal.first_op)
        last = min(high, wal.last_op)
        dropped = self._compacted.get(name)
        if dropped:
            # Committed and compacted since the last look: check them from the dropped entries.
            top = min(first - 1, high)
            for op in sorted(op for op in dropped if low < op <= top):
                self._agree(name, dropped[op])
        for op in range(first, last + 1):
            try:
                entry = wal.get(op)
            except (CorruptEntry, StorageError):
                continue  # awaiting repair from a peer; checked when it is readable again
            self._agree(name, entry)

    def _agree(self, name: str, entry: LogEntry) -> None:
        """Record ``entry`` as committed by ``name``, or report that it disagrees."""
        op = entry.op
        committed = self.committed
        known = committed.get(op)
        if known is None:
            committed[op] = (entry.view, entry.payload)
            self.committed_by[op] = name
        elif known != (entry.view, entry.payload):
            self._violate(
                "divergent_commit",
                (name,),
                f"op {op}: {name} committed (view {entry.view}) but "
                f"{self.committed_by[op]} committed (view {known[0]}) a different entry",
                op=op,
                view=entry.view,
            )

    # -- acknowledged writes ---------------------------------------------------

    def acknowledge(
        self, client_id: str, call_index: int, payload: bytes, op: int, time_us: int
    ) -> None:
        """Remember that a client saw the write ``payload`` acknowledged at ``op``."""
        self.acked.append(AckedWrite(client_id, call_index, payload, op, time_us))

    def final_committed(self) -> dict[int, tuple[int, bytes]]:
        """The committed log as it is *now*: ops ``1..commit_number`` of the live replica
        with the highest commit number, read from its WAL (op -> (view, payload)).

        Unlike :attr:`committed` (what was ever seen committed), this shows a log that
        lost entries, e.g. after a power loss with the ``ack_before_fsync`` switch.
        Ops compacted into a snapshot are taken from :attr:`committed`.
        """
        best: Any = None
        for _name, _incarnation, replica in self._replicas():
            if best is None or replica.commit_number > best.commit_number:
                best = replica
        if best is None:
            return {}
        wal = best.store.wal
        out: dict[int, tuple[int, bytes]] = {}
        for op in range(1, best.commit_number + 1):
            if op < wal.first_op:
                if op in self.committed:
                    out[op] = self.committed[op]
                continue
            if op > wal.last_op:
                break
            try:
                entry = wal.get(op)
            except (CorruptEntry, StorageError):
                continue
            out[op] = (entry.view, entry.payload)
        return out

    def lost_acked_writes(
        self, final: dict[int, tuple[int, bytes]] | None = None
    ) -> list[AckedWrite]:
        """Acknowledged writes that are not in the committed log now (at their op, by that
        client, with that command). ``final``: :meth:`final_committed`, if the caller has
        just read it (nothing ran since). O(acked + log)."""
        if final is None:
            final = self.final_committed()
        lost = []
        for a in self.acked:
            known = final.get(a.op)
            if known is None:
                lost.append(a)
                continue
            try:
                envelope = decode_envelope(known[1])
            except ValueError:
                lost.append(a)
                continue
            if envelope.client_id != a.client_id or envelope.payload != a.payload:
                lost.append(a)
        return lost

    def check_acked(self) -> None:
        """Record (or raise, when strict) a violation per acknowledged write not committed.

        Idempotent: a lost write is recorded once, however often this is called.
        """
        recorded = {(v.kind, v.detail) for v in self.violations}
        for a in self.lost_acked_writes():
            detail = f"call {a.call_index} acknowledged at op {a.op} is not in the committed log"
            if ("acked_write_lost", detail) in recorded:
                continue
            self._violate("acked_write_lost", (client_name(a.client_id),), detail, op=a.op)

    def _violate(
        self,
        kind: str,
        nodes: tuple[str, ...],
        detail: str,
        *,
        op: int | None = None,
        view: int | None = None,
    ) -> None:
        violation = Violation(kind, detail, self._now, nodes, op, view)
        self.violations.append(violation)
        if self.strict:
            raise AssertionError(f"invariant broken: {violation} ({self._describe()})")

    def __repr__(self) -> str:
        return (
            f"<InvariantMonitor committed={len(self.committed)} views={len(self.primaries)} "
            f"violations={len(self.violations)}>"
        )


def _is_primary(replica: Any) -> bool:
    flag = getattr(replica, "is_primary", None)
    if callable(flag):
        return bool(flag())
    return bool(flag)
