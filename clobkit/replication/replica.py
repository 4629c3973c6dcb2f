"""One replica of Viewstamped Replication Revisited, sans-I/O.

A :class:`Replica` is a deterministic state machine over messages and time.
The driver calls :meth:`Replica.handle` (or :meth:`Replica.handle_batch`)
for each delivered message and :meth:`Replica.tick` when the timer it asked
for fires; each call returns a :class:`~clobkit.replication.step.Step`. The
replica never reads a clock (``now`` is an argument), draws randomness only
from the ``random.Random`` it was given, and persists only through its
:class:`~clobkit.storage.base.Store`.

How it works (Liskov & Cowling 2012, with a durable log):

* **Normal case.** The primary of view ``v`` (replica ``v mod n``) gives each
  client request the next op number and a timestamp, appends it to its WAL,
  and sends ``Prepare`` to the backups. Requests handled in one call (the
  host hands everything that queued during a sync to :meth:`handle_batch`)
  share one sync and one ``Prepare`` (batching, group commit); several
  prepares can be in flight (pipelining). A backup appends in op order, syncs
  and answers ``PrepareOk``. The primary commits op ``k`` once a majority
  has it durable, applies it, and replies, in ``read_mode="quorum"`` only
  after a majority *knows* (durably) that ``k`` committed
  (``Commit``/``CommitOk``: see DESIGN.md, Reads). With a host that can
  overlap (``overlap_sync=True``) the primary's ``Prepare`` and ``Commit``
  leave before its own WAL sync and commit-number save, which run while they
  travel; the primary counts itself toward either majority only once its own
  write is done. A primary that reopens from its disk therefore may lack an
  op it sent, and asks for the next view rather than resume its own.
* **Only committed entries are applied** (fills exist only for committed
  ops), unless the unsafe switch ``apply_before_commit`` is on.
* **Fencing.** Every message carries its view. A replica saves the highest
  view it joined *before* acting in it and drops messages from older views,
  so a deposed primary cannot gather a majority.
* **View change.** A backup that hears nothing from the primary for a random
  timeout moves to ``v + 1`` (``StartViewChange``); after a majority agree,
  each sends its log to the new primary (``DoViewChange``), which adopts the
  log with the largest ``(last_normal_view, op)``, appends a no-op for its
  view, and sends ``StartView``. Divergent uncommitted suffixes are truncated.
* **Catch up.** A replica that sees a gap or a newer view asks the primary
  for everything after its op (``GetState``/``NewState``); a primary that
  compacted its log ships its snapshot.
* **Restart** reloads metadata, snapshot and WAL, replays committed entries
  and rejoins. A **learner** (a replacement with an empty disk) takes state
  from the primary through ``Recovery`` and counts in no quorum until done.
  It saves a learner mark in its metadata before it first asks, and only the
  save after a complete, durable state transfer clears it: a learner that
  crashes before it caught up restarts a learner, never a voter.
* **Repair.** A corrupt WAL entry is fetched from a peer that vouches for it
  (it is committed there, or the peer is the primary); while any entry is
  corrupt the replica is ``"recovering"``: it neither acks nor votes, because
  it cannot vouch for its own log. If ``f + 1`` peers report they do not
  have the op, it was never committed and the suffix from it is truncated
  (Protocol-Aware Recovery's nack quorum).
* **Reads** are answered in three modes (see :mod:`clobkit.replication.client`).

Hostile input (malformed, misaddressed, foreign-cluster, unknown-sender
messages) is counted in :attr:`Replica.counters` and changes nothing else.
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from clobkit.errors import (
    ClobError,
    InvalidArgument,
    InvalidType,
    ProtocolDefinitionError,
    WrongOwner,
)
from clobkit.replication import client_table as _client_table
from clobkit.replication.client_table import ClientRecord, decode_state, encode_state
from clobkit.replication.config import (
    ACK_BEFORE_FSYNC,
    APPLY_BEFORE_COMMIT,
    LEARNER_VOTES,
    NO_DEDUP,
    NO_FENCING,
    NO_LEADER_CHECK,
    OWN_WAL_FAILOVER,
    TRUNCATE_CORRUPT,
    ClusterConfig,
)
from clobkit.replication.envelope import Envelope, decode_envelope, encode_envelope, noop_payload
from clobkit.replication.events import (
    APPLY,
    COMMIT,
    COMMIT_LOST,
    CORRUPT,
    DAMAGED_DISK,
    DROP,
    FRESH_START,
    INSTALL_SNAPSHOT,
    JOIN_VIEW,
    LEARN_COMMIT,
    LEARNER_CAUGHT_UP,
    LEARNER_START,
    NO_QUORUM,
    PREVOTE,
    PRIMARY,
    REBUILD,
    RECOVER,
    REPAIR,
    REPAIR_START,
    REPAIR_TRUNCATE,
    REPAIRED,
    SNAPSHOT,
    START_VIEW,
    STATE_TRANSFER,
    SYNC,
    TRUNCATE,
    VIEW_CHANGE_START,
)
from clobkit.replication.journal import Journal
from clobkit.replication.machine import StateMachine
from clobkit.replication.messages import (
    CLIENT_KINDS,
    REPLICA_BOUND,
    Commit,
    CommitOk,
    DoViewChange,
    EntryReply,
    GetEntry,
    GetState,
    NewState,
    Prepare,
    PrepareOk,
    PreViewChange,
    PreViewChangeOk,
    Read,
    ReadReply,
    Recovery,
    RecoveryResponse,
    Reply,
    Request,
    StartView,
    StartViewChange,
    WriteBack,
    WriteBackOk,
    problem,
)
from clobkit.replication.messages import checks as _MESSAGE_CHECKS
from clobkit.replication.primary import BackupProgress
from clobkit.replication.reads import ReadQueues
from clobkit.replication.repair import RepairState, truncate_point, vouches_for
from clobkit.replication.state_transfer import (
    CatchUp,
    LearnerRecovery,
    catch_up_after,
    log_suffix,
)
from clobkit.replication.step import (
    Message,
    Step,
    TraceEvent,
    client_name,
    is_client_name,
    replica_name,
)
from clobkit.replication.view_change import (
    PreVotes,
    ViewChangeVotes,
    choose_log,
    grants_prevote,
)
from clobkit.storage.base import LogEntry, Metadata, Snapshot, Store, SyncInfo

__all__ = ["OPENING_TRANSITIONS", "STATUS_TRANSITIONS", "LogRow", "Replica", "ReplicaStatus"]

ReplicaStatus = Literal["normal", "view_change", "recovering", "learner"]

# A machine's optional apply_split: (op, ts_us, payload) -> (encode, result).
ApplySplit = Callable[[int, int, bytes], tuple[Callable[[Any], bytes], Any]]
_CLASSIFY_REQUEST = _client_table.classify_request  # clobkit's own (lab L1 may swap it)

_PARKED_MAX = 4096  # clients whose request a backup keeps for the next view (one each)

# The unsafe switches that can make logs diverge or lose committed entries.
_LOG_BREAKING = frozenset(
    {NO_FENCING, OWN_WAL_FAILOVER, LEARNER_VOTES, ACK_BEFORE_FSYNC, TRUNCATE_CORRUPT}
)

STATUS_TRANSITIONS: frozenset[tuple[ReplicaStatus, ReplicaStatus]] = frozenset(
    {
        # joined a newer view (StartView, NewState, a newer primary's message), or reopened
        ("normal", "normal"),
        # the primary went quiet, or a newer view's StartViewChange / DoViewChange arrived
        ("normal", "view_change"),
        # a corrupt WAL entry turned up (when opening, or while running): repair first
        ("normal", "recovering"),
        # the view change finished: new primary, StartView, NewState, or a newer primary
        ("view_change", "normal"),
        # the view change timed out: try the next view
        ("view_change", "view_change"),
        ("view_change", "recovering"),
        # every corrupt entry repaired (or truncated): back to the saved view, or to the
        # view change the saved view was still in
        ("recovering", "normal"),
        ("recovering", "view_change"),
        # Recovery answered by the primary and a majority
        ("learner", "normal"),
    }
)
"""The legal ``(from, to)`` status changes of a running replica (h11's ``_state.py`` style):
:meth:`Replica._set_status` refuses any other."""

OPENING_TRANSITIONS: frozenset[tuple[ReplicaStatus, ReplicaStatus]] = frozenset(
    {("normal", "learner")}
)
"""Legal only while the constructor opens the store: an empty or damaged disk makes a
learner (a replica never becomes one later)."""


_NEVER = 1 << 62
"""A time no simulation or wall clock reaches (a timer that is not armed)."""


@dataclass(frozen=True, slots=True)
class LogRow:
    """One WAL entry as figures show it: ``committed`` when ``op <= commit_number``."""

    view: int
    op: int
    committed: bool
    client_id: str
    request_number: int
    ts_us: int
    payload: bytes
    noop: bool


class Replica:
    """One VSR replica: feed it messages and ticks, send what its Steps say.

    ``config`` is the cluster's :class:`ClusterConfig`, ``index`` this
    replica's position (its name is ``f"n{index}"``), ``store`` its disk (a
    store that already holds metadata means a restart from disk), ``machine``
    the state machine committed commands are applied to (fresh: the replica
    restores it from the snapshot and log). ``rng`` draws the randomised
    view-change timeouts. ``learner=True`` with an empty store makes a
    replacement that fetches state before it counts in any quorum.
    ``trace_events=False`` is for a host that records no trace: the Steps then
    carry no events (messages and protocol behaviour are the same).
    ``overlap_sync=True`` is for a host that can send a primary's ``Prepare``
    before the primary's own WAL sync (``Step.early``, ``Step.sync_us``) and
    then calls :meth:`sync`; see :mod:`clobkit.replication.step`.

    The constructor sends nothing: call :meth:`tick` once (with the same
    ``now``) to get the first Step (its ``wake_at_us`` arms the timer).

    >>> import random
    >>> from clobkit.replication import ClusterConfig, KvMachine
    >>> from clobkit.storage import MemoryStore
    >>> cfg = ClusterConfig("demo", 1)
    >>> store = MemoryStore(cluster_id="demo", replica_id=0)
    >>> r = Replica(cfg, 0, store, KvMachine(), rng=random.Random(1))
    >>> r.status, r.is_primary, r.view
    ('normal', True, 0)
    >>> from clobkit.replication.messages import Request
    >>> req = Request(cluster_id="demo", source="client:a", target="n0", view=0,
    ...               client_id="a", request_number=1, payload=KvMachine.append("x", "1"))
    >>> step = r.handle(req, now=10)
    >>> [m.kind for m in step.messages], r.commit_number, r.machine.query(("get", "x"))
    (['Reply'], 1, ('1',))

    Raises :class:`~clobkit.errors.InvalidArgument` for a bad index, a store
    that belongs to another replica or cluster, or a snapshot that does not
    decode.
    """

    def __init__(
        self,
        config: ClusterConfig,
        index: int,
        store: Store,
        machine: StateMachine,
        *,
        rng: random.Random,
        now: int = 0,
        learner: bool = False,
        trace_events: bool = True,
        overlap_sync: bool = False,
    ) -> None:
        if not isinstance(config, ClusterConfig):
            raise InvalidType(f"config must be a ClusterConfig, got {config!r}")
        if isinstance(index, bool) or not isinstance(index, int):
            raise InvalidType(f"index must be an int, got {index!r}")
        if not 0 <= index < config.replica_count:
            raise InvalidArgument(f"index must be in [0, {config.replica_count}), got {index!r}")
        if not isinstance(rng, random.Random):
            raise InvalidType(f"rng must be a random.Random, got {rng!r}")
        self.config = config
        self.index = index
        self.name = replica_name(index)
        self.store = store
        self.machine = machine
        self.counters: Counter[str] = Counter()
        self._rng = rng
        self._n = config.replica_count
        self._quorum = config.quorum
        self._others = [i for i in range(self._n) if i != index]
        self._names = {replica_name(i): i for i in range(self._n)}
        self._client_names: dict[str, str] = {}  # client id -> node name (see _client_name)
        # Bound once for the hot paths that build messages (keywords, no header dict).
        self._cluster_id = config.cluster_id
        self._replica_names = [replica_name(i) for i in range(self._n)]
        self._read_mode_quorum = config.read_mode == "quorum"
        self._initial_state = machine.snapshot()
        self._unsafe = config.unsafe
        # A host that records no trace says so: then no TraceEvent is built (Step.events
        # stays empty), which is most of the cost of an event.
        self._trace_events = trace_events
        # The host sends new entries' Prepares before our own sync and calls sync() after it.
        self._overlap_sync = overlap_sync
        # A store that can save the commit number alone (clobkit's can), bound once.
        self._store_save_commit: Callable[[int], SyncInfo] | None = getattr(
            store, "save_commit", None
        )
        self._store_commit_cost: Callable[[], int | None] | None = getattr(
            store, "save_commit_cost_us", None
        )
        # A machine that can leave its replies unencoded (apply_split) lets backups skip that
        # work, and the client table keep (encoder, result) instead of a closure.
        self._apply_split: ApplySplit | None = getattr(machine, "apply_split", None)

        # Replicated and protocol state.
        self.view = 0
        self.last_normal_view = 0
        self.status: ReplicaStatus = "normal"
        self.commit_number = 0
        self.applied_op = 0
        self.client_table: dict[str, ClientRecord] = {}
        # The log, read and changed only through the journal (which keeps the corrupt marks).
        self._journal = Journal(store.wal, self._trace_corrupt)

        # Per-step output.
        self._out: list[Message] = []
        self._events: list[TraceEvent] = []
        self._delay_us = 0
        self._now = now
        # Prepares that may leave before our own WAL sync, and whether a Step owes that sync.
        self._early: list[Message] = []
        self._sync_owed = False
        self._sync_traced = False  # the owed WAL sync's trace event went out with its Step

        # Primary state (reset by _reset_primary_state).
        self._progress = BackupProgress()
        self._probe = 0
        self._pending_replies: dict[int, Reply] = {}
        self._inflight: dict[str, tuple[int, int]] = {}
        self._new_entries: list[LogEntry] = []
        self._view_start_op = 0
        self._heartbeat_due = now
        # reads waiting for a probe round or for applied state
        self._reads = ReadQueues(check_leadership=NO_LEADER_CHECK not in self._unsafe)
        self._durable_op = 0
        self._durable_commit = 0
        self._probe_wanted = False
        self._op_at_last_heartbeat = 0

        # Backup / view-change / catch-up state.
        self._primary_deadline = now
        self._vc_deadline = now
        self._vc_resend_at = now
        self._votes = ViewChangeVotes()
        self._catch_up = CatchUp(now)  # GetState sent, NewState awaited
        self._prevotes = PreVotes()
        # never heard from a primary yet (a pre-vote may be granted at once)
        self._heard_primary_at = now - config.view_change_timeout_us_min
        self._acked_at: dict[int, int] = {}  # primary: when each backup last answered
        self._no_quorum = False  # primary: heard from no majority lately (CheckQuorum)
        # primary: CheckQuorum holds at least until then (see _primary_has_quorum)
        self._quorum_known_until = -1
        # backup: the latest request each client sent us while we were not its primary; a
        # new primary logs them with its no-op, a new backup points them to the new view
        self._parked: dict[str, Request] = {}
        self._retry_at = now
        self._learner = LearnerRecovery()  # a learner's Recovery round
        self._repair = RepairState()  # nacks gathered while corrupt entries await repair

        self._opening = True
        self._open(now, learner)
        self._opening = False
        if self.check_invariants:
            self._check()

    # -- public view of the state ------------------------------------------------------

    @property
    def op_number(self) -> int:
        """The last op in this replica's log (durable or being synced)."""
        return self._journal.wal.last_op

    @property
    def corrupt_ops(self) -> frozenset[int]:
        """The ops of this replica's log known corrupt (awaiting repair). A display."""
        return frozenset(self._journal.corrupt)

    @property
    def learner(self) -> bool:
        """True while this replica is a learner (fetching state; counts in no quorum)."""
        return self.status == "learner"

    @property
    def primary_index(self) -> int:
        """The index of the primary of :attr:`view` (``view mod n``)."""
        return self.config.primary_index(self.view)

    @property
    def is_primary(self) -> bool:
        """True when this replica is the primary of its view and in normal status."""
        # (view mod n is config.primary_index(view), spelled out: asked several times a step)
        return (
            self.status == "normal"
            and self.view % self._n == self.index
            and self.last_normal_view == self.view
        )

    @property
    def log(self) -> list[LogRow]:
        """The WAL entries still held, decoded, with committed flags. O(log).

        A display: reading it changes no protocol state (an entry that does not read back
        is left out, and the replica learns of the damage only when the protocol reads it).
        """
        rows = []
        wal = self.store.wal
        for op in range(wal.first_op, wal.last_op + 1):
            entry = self._journal.peek(op)
            if entry is None:
                continue
            env = decode_envelope(entry.payload)
            rows.append(
                LogRow(
                    entry.view,
                    entry.op,
                    entry.op <= self.commit_number,
                    env.client_id,
                    env.request_number,
                    env.ts_us,
                    env.payload,
                    env.noop,
                )
            )
        return rows

    def __repr__(self) -> str:
        return (
            f"Replica({self.name}, view={self.view}, status={self.status}, "
            f"op={self.op_number}, commit={self.commit_number}, applied={self.applied_op}"
            f"{', primary' if self.is_primary else ''})"
        )

    # -- driver entry points -----------------------------------------------------------

    def handle(self, message: Message, now: int) -> Step:
        """Process one delivered message; returns what to send. O(entries carried)."""
        self._begin(now)
        self._dispatch(message)
        return self._finish()

    def handle_batch(self, messages: Iterable[Message], now: int) -> Step:
        """Process messages that queued up together: one sync and one Prepare cover them all."""
        self._begin(now)
        for message in messages:
            self._dispatch(message)
        return self._finish()

    def tick(self, now: int) -> Step:
        """Run the timers due at ``now`` (heartbeats, view-change timeouts, retries)."""
        self._begin(now)
        self._on_timers()
        return self._finish()

    def sync(self, now: int) -> Step:
        """Do the WAL sync an earlier Step owed (its ``sync_us`` was not ``None``), then
        what waited on it: a primary counts itself toward the commit quorum only now,
        commits, applies and replies. O(entries synced + entries committed).

        The returned Step's ``delay_us`` leaves out the owed sync's cost (the host charged
        it as ``sync_us``). Called with no sync owed it syncs whatever is pending, at its cost.

        >>> import random
        >>> from clobkit.replication import ClusterConfig, KvMachine
        >>> from clobkit.replication.messages import Request
        >>> from clobkit.storage import MemoryStore
        >>> cfg = ClusterConfig("demo", 3)
        >>> store = MemoryStore(cluster_id="demo", replica_id=0, sync_latency_us=1000)
        >>> r = Replica(cfg, 0, store, KvMachine(), rng=random.Random(1), overlap_sync=True)
        >>> _ = r.tick(now=0)  # the first Step (the fresh start's metadata save)
        >>> req = Request(cluster_id="demo", source="client:a", target="n0", view=0,
        ...               client_id="a", request_number=1, payload=KvMachine.append("x", "1"))
        >>> step = r.handle(req, now=10)  # sync_us: 1000 for the fsync, 1 for the bytes
        >>> [m.kind for m in step.early], step.messages, step.sync_us, store.wal.synced_op
        (['Prepare', 'Prepare'], [], 1001, 0)
        >>> after = r.sync(now=1010)
        >>> store.wal.synced_op, after.delay_us, r.commit_number  # no backup has acked yet
        (1, 0, 0)
        """
        self._begin(now)
        owed, charged = self._sync_owed, self._delay_us
        self._sync()
        if owed:
            self._delay_us = charged
        return self._finish_after_sync()

    @property
    def wake_at_us(self) -> int:
        """When this replica next wants :meth:`tick`."""
        return self._next_wake()

    # -- opening from disk ---------------------------------------------------------------

    def _open(self, now: int, learner: bool) -> None:
        cfg = self.config
        meta = self.store.load_metadata()
        if meta is not None and (
            meta.cluster_id != cfg.cluster_id or meta.replica_id != self.index
        ):
            raise WrongOwner(
                f"store belongs to {meta.cluster_id!r}/n{meta.replica_id}, "
                f"not {cfg.cluster_id!r}/{self.name}"
            )
        damage = self._damage(meta)
        if damage and LEARNER_VOTES not in self._unsafe:
            self._start_over_as_learner(now, damage, meta)
            return
        if meta is None:
            if learner and LEARNER_VOTES not in self._unsafe:
                self._become_learner(now, None)
                return
            self._save_meta()
            self._primary_deadline = now + self._timeout()
            self._event(FRESH_START)
            if self.primary_index == self.index:
                self._reset_primary_state(view_start_op=0)
            return
        self.view = meta.view
        self.last_normal_view = meta.last_normal_view
        self.commit_number = meta.commit_number
        self._durable_commit = meta.commit_number
        snapshot = self.store.load_snapshot()
        if snapshot is not None:
            self._restore_state(snapshot.data)
            self.applied_op = snapshot.op
            self.commit_number = max(self.commit_number, snapshot.op)
        wal = self.store.wal
        self._durable_op = wal.synced_op
        self._journal.load_corrupt_marks()
        cut = truncate_point(
            self._journal.corrupt, truncate_corrupt=TRUNCATE_CORRUPT in self._unsafe
        )
        if cut is not None:
            # Unsafe (S9): the corrupt record is cut off like a torn tail, with everything
            # after it; the commit number cannot point past the shortened log.
            self._truncate_after(cut)
            self.commit_number = self._durable_commit = max(
                min(self.commit_number, cut), self.applied_op
            )
        if ACK_BEFORE_FSYNC in self._unsafe and self.commit_number > wal.last_op:
            # Unsafe (S8): the metadata survived but the unsynced log did not. Forget the
            # commit number the log cannot back, or the replica would wait for it forever.
            self._event(COMMIT_LOST, commit=self.commit_number, op=wal.last_op)
            self.commit_number = self._durable_commit = max(wal.last_op, self.applied_op)
        report = wal.recovery
        self._event(
            RECOVER,
            view=self.view,
            last_normal_view=self.last_normal_view,
            commit=self.commit_number,
            op=wal.last_op,
            snapshot_op=snapshot.op if snapshot else 0,
            corrupt=sorted(self._journal.corrupt),
            torn_tail=report.torn_tail,
        )
        self._apply_committed()
        if self._journal.corrupt:
            self._set_status("recovering")
            self._retry_at = now
            return
        self._resume_after_open(now)

    def _become_learner(self, now: int, meta: Metadata | None) -> None:
        """Become a learner, durably: the mark in our metadata is saved before we send
        anything, so a crash before we catch up brings us back a learner (an empty log
        must never vote, S7). ``meta`` is what the disk holds (kept as it is, mark added:
        the views it promised stay on record); only the save after a complete, durable
        state transfer (:meth:`_on_RecoveryResponse`) clears the mark."""
        self._set_status("learner")
        if meta is None or not meta.learner:
            self._sync_wal()  # a discarded log is durable before the mark that explains it
            mark = Metadata(cluster_id=self.config.cluster_id, replica_id=self.index)
            info = self.store.save_metadata(dataclasses.replace(meta or mark, learner=True))
            self._delay_us += info.latency_us
        self._learner.start(self._rng.getrandbits(32))
        self._retry_at = now
        self._event(LEARNER_START, nonce=self._learner.nonce)

    def _damage(self, meta: Metadata | None) -> list[str]:
        """What is wrong with a disk this replica has used before (empty when nothing is).

        A disk whose identity exists has made promises: votes, acks, a view. Without its
        ``meta`` file the replica no longer knows which view it promised; without its
        ``commit`` file (when ``meta`` says it has one) it no longer knows which commit
        number it reported; without its ``wal.log``, or with a log that ends below the
        commit number it saved, it no longer holds what it acknowledged. Either way it
        must not vote or ack on the strength of that disk (DESIGN.md, "Durable state is a
        promise"). Nor may a replica whose ``meta`` still carries the learner mark: it
        crashed before its state transfer was complete and durable."""
        # (a Store from outside clobkit may not report missing files: then only the
        # consistency check below applies)
        reports = hasattr(self.store, "missing_files")
        damage = [f"{name} missing" for name in getattr(self.store, "missing_files", ())]
        damage += [
            f"wal.log unreadable at bytes [{start}, {end})"
            for start, end in getattr(self.store, "unreadable", ())
        ]
        # A log shorter than the commit number in meta proves a loss only for the primary of
        # the saved normal view: it commits nothing past its own durable log. A backup may
        # know a commit number its log has not reached (the Commit came, the Prepare was
        # lost) and save it in a view change: that log is a committed prefix, intact.
        primary = meta is not None and (
            meta.view == meta.last_normal_view
            and self.config.primary_index(meta.view) == self.index
        )
        if meta is not None and not damage and (primary or not reports):
            snapshot = self.store.load_snapshot()
            held = max(self.store.wal.last_op, snapshot.op if snapshot is not None else 0)
            if meta.commit_number > held and ACK_BEFORE_FSYNC not in self._unsafe:
                damage.append(
                    f"wal.log ends at op {held}, below the commit number "
                    f"{meta.commit_number} recorded in meta"
                )
        if meta is not None and meta.learner:
            damage.append("meta marks a learner that had not caught up")
        return damage

    def _start_over_as_learner(self, now: int, damage: list[str], meta: Metadata | None) -> None:
        """Recover from a damaged disk through the recovery protocol, as a replaced disk does.

        Everything the log holds is discarded (none of it can be vouched for); a valid
        snapshot is kept, since it only ever holds committed state. Until a primary and a
        majority have answered its Recovery, the replica counts in no quorum."""
        wal = self.store.wal
        self._event(DAMAGED_DISK, damage=damage, op=wal.last_op)
        snapshot = self.store.load_snapshot()
        self._journal.discard_all()
        if snapshot is not None:
            self._journal.compact_through(snapshot.op, view=snapshot.view)
            self._restore_state(snapshot.data)
            self.applied_op = self.commit_number = snapshot.op
        self._durable_op = wal.synced_op
        self._become_learner(now, meta)

    def _resume_after_open(self, now: int) -> None:
        if self.view > self.last_normal_view:
            self._enter_view_change(self.view, now, persist=False)
            return
        if self._overlap_sync and self._others and self.primary_index == self.index:
            # A primary whose Prepares left before its own sync may have sent entries its
            # disk then lost: backups can hold an op our log lacks, so a fresh op under the
            # same (view, op) would name two entries. We cannot be this view's primary again;
            # the next view collects the log from a majority, which keeps every such entry
            # that may have committed (TigerBeetle does the same for a restarted primary).
            # We ask for it at once, through the pre-vote round when there is one (a restart
            # cut off from a majority must not raise the view alone).
            if not self.config.prevote:
                self._enter_view_change(self.view + 1, now)
                return
            self._set_status("view_change")
            self._votes.reset(own=self.index)
            self._vc_deadline = now  # the first tick starts the pre-vote for view + 1
            self._vc_resend_at = _NEVER  # no view change of ours to repeat yet
            return
        self._set_status("normal")
        self._primary_deadline = now + self._timeout()
        if self.primary_index == self.index:
            # A primary that reopens knows nothing it can trust about the present: its
            # commit number is at best a hint (it is not even saved in read_mode="primary"),
            # and acks and probe answers still in flight were meant for its previous life.
            # So it starts its view over, as a new primary does: a fresh no-op past every op
            # it ever sent, and no read is served until that no-op has committed (which takes
            # acks from a majority still in this view, DESIGN.md "Serving reads after a
            # restart"). Probe numbers restart above any used before the crash (a life
            # sends far fewer than 65,536 probes per microsecond it lasts).
            self._probe = now << 16
            self._reset_primary_state(view_start_op=self.op_number + 1)
            self._append_noop()

    # -- status and invariants -------------------------------------------------------------

    def _set_status(self, new: ReplicaStatus) -> None:
        """The only way :attr:`status` changes: through :data:`STATUS_TRANSITIONS`."""
        change = (self.status, new)
        if change not in STATUS_TRANSITIONS and not (
            self._opening and change in OPENING_TRANSITIONS
        ):
            raise AssertionError(f"{self.name}: illegal status change {change[0]} -> {new}")
        self.status = new

    check_invariants: bool = False
    """When True, every :meth:`handle`, :meth:`handle_batch` and :meth:`tick` (and the
    constructor) ends with :meth:`_check`. The test suite turns it on for every replica
    (``tests/conftest.py``); it costs a few comparisons per step."""

    def _check(self) -> None:
        """Assert the invariants between this replica's fields (raises AssertionError).

        Pure: reads fields only, never the store's entries, so it cannot change anything.
        """

        def fail(what: str) -> AssertionError:
            return AssertionError(f"{self!r}: {what}")

        if self.status not in ("normal", "view_change", "recovering", "learner"):
            raise fail("unknown status")
        if self.last_normal_view > self.view:
            raise fail(f"last normal view above the view ({self.last_normal_view})")
        if self.applied_op > self.commit_number and APPLY_BEFORE_COMMIT not in self._unsafe:
            raise fail("applied past the commit number")
        if not 0 <= self.applied_op <= self.op_number:
            raise fail("applied past the log")
        if not 0 <= self._durable_op <= self.op_number:
            raise fail(f"durable op above the op number ({self._durable_op})")
        if self._durable_commit > self.commit_number:
            raise fail(f"durable commit above the commit number ({self._durable_commit})")
        if self.applied_op < self.store.wal.first_op - 1:
            raise fail(f"applied below the snapshot (log starts at {self.store.wal.first_op})")
        # a corrupt entry stops a replica voting and acking until it is repaired
        if self._journal.corrupt and self.status not in ("recovering", "learner"):
            raise fail(f"a corrupt entry in a voter ({sorted(self._journal.corrupt)})")
        if self.is_primary and self._view_start_op > self.op_number + 1:
            raise fail(f"view starts past the log ({self._view_start_op})")

    # -- step plumbing -------------------------------------------------------------------

    def _begin(self, now: int) -> None:
        # _out, _events and _delay_us may already hold what the constructor produced.
        self._now = now

    def _finish(self) -> Step:
        if self._journal.corrupt and self._voter():
            self._begin_repair()
        # (is_primary, spelled out here and below: every Step ends through these)
        if (
            self.status == "normal"
            and self.view % self._n == self.index
            and self.last_normal_view == self.view
        ):
            # A Prepare promises nothing about our own disk: with a host that can overlap,
            # it leaves before our sync (only when nothing else in this Step was persisted:
            # a view or a vote saved first must reach the disk before anything is sent).
            early = self._overlap_sync and self._delay_us == 0 and self.status == "normal"
            self._flush_new_entries(early=early)
            if self._probe_wanted:
                self._heartbeat()
        self._probe_wanted = False
        if self._early:
            wal = self._journal.wal
            cost = wal.sync_cost_us()
            # The trace shows a sync when it starts, with its cost (as for every other sync):
            # the one sync() does later is this one.
            self._event(
                SYNC,
                records=wal.last_op - wal.synced_op,
                latency_us=cost,
                durable=self.store.sync_policy != "never",
            )
            self._sync_traced = True
            return self._owed_step(cost)
        self._sync()
        return self._finish_after_sync()

    def _owed_step(self, sync_us: int) -> Step:
        """A Step that owes a sync: the host sends ``_early``, syncs, then calls sync().
        Everything else (replies, commits, heartbeats) waits for it in ``_out``."""
        step = Step([], self._events, 0, self._next_wake(), self._early, sync_us)
        self._events, self._early = [], []
        self._sync_owed = True
        if self.check_invariants:
            self._check()
        return step

    def _finish_after_sync(self) -> Step:
        """The end of every Step once our WAL is synced: commit (counting ourselves only
        for what is durable), apply, reply, serve reads."""
        if (
            self.status == "normal"
            and self.view % self._n == self.index
            and self.last_normal_view == self.view
        ):
            self._advance_commit()
            if self._pending_replies:
                self._flush_replies()
            if self._reads.primary:
                self._serve_primary_reads()
        if self._reads.quorum:
            self._serve_quorum_reads()
        if self._early:  # Commits sent before our save of the commit number (quorum mode)
            cost = self._commit_save_cost()
            assert cost is not None
            return self._owed_step(cost)
        step = Step(self._out, self._events, self._delay_us, self._next_wake())
        self._out, self._events, self._delay_us = [], [], 0
        if self.check_invariants:
            self._check()
        return step

    def _begin_repair(self) -> None:
        """A corrupt entry turned up while running: stop voting and acking, fetch good
        copies from peers (as recovery does after a restart), then rejoin."""
        self._event(REPAIR_START, corrupt=sorted(self._journal.corrupt))
        self._set_status("recovering")
        self._out = [m for m in self._out if not isinstance(m, (PrepareOk, DoViewChange))]
        self._pending_replies = {}
        self._reads.clear()
        self._new_entries = []
        self._retry_at = self._now

    def _send(self, message: Message) -> None:
        self._out.append(message)

    def _to(self, index: int) -> str:
        return self._replica_names[index]

    def _event(self, event: str, /, **fields: Any) -> None:
        if self._trace_events:
            self._events.append(TraceEvent(event, self.name, fields))

    def _drop(self, message: object, reason: str) -> None:
        self.counters[f"drop:{reason}"] += 1
        kind = message.kind if isinstance(message, Message) else type(message).__name__
        source = message.source if isinstance(message, Message) else "?"
        self._event(DROP, reason=reason, message=kind, source=source)

    def _timeout(self) -> int:
        cfg = self.config
        return self._rng.randint(cfg.view_change_timeout_us_min, cfg.view_change_timeout_us_max)

    def _heard_from_primary(self) -> None:
        """The primary of our view showed it is alive: restart the timeout, end any pre-vote."""
        self._primary_deadline = self._now + self._timeout()
        self._heard_primary_at = self._now
        if self._prevotes.proposed is not None:  # (else no round runs: nothing to clear)
            self._prevotes.clear()

    def _next_wake(self) -> int:
        cfg = self.config
        if self.status == "learner" or self.status == "recovering":
            return self._retry_at
        if self.status == "view_change":
            return min(self._vc_deadline, self._vc_resend_at)
        if self.view % self._n == self.index and self.last_normal_view == self.view:
            return self._heartbeat_due  # (is_primary: the status is "normal" here)
        wake = self._primary_deadline
        if self._catch_up.awaiting or self.commit_number > self._journal.wal.last_op:
            wake = min(wake, self._catch_up.retry_at)
        assert cfg.heartbeat_us > 0
        return wake

    # -- persistence ---------------------------------------------------------------------

    def _save_meta(self, vote: int | None = None) -> None:
        # The log goes to disk before the metadata that vouches for it: a crash between the two
        # must never leave a record claiming (last_normal_view, commit) over a shorter log.
        self._sync_wal()
        info = self.store.save_metadata(
            Metadata(
                cluster_id=self.config.cluster_id,
                replica_id=self.index,
                view=self.view,
                last_normal_view=self.last_normal_view,
                vote=vote,
                commit_number=self.commit_number,
                # (cleared by the save that ends a state transfer: status is normal by then)
                learner=self.status == "learner",
            )
        )
        self._durable_commit = self.commit_number
        self._delay_us += info.latency_us

    def _sync(self) -> None:
        self._sync_wal()
        # In quorum mode a commit number we report must survive a crash (DESIGN.md, Reads).
        if (
            self._read_mode_quorum
            and self.commit_number > self._durable_commit
            and self.status in ("normal", "view_change")
        ):
            self._save_commit()

    def _commit_save_cost(self) -> int | None:
        """What saving the commit number alone will cost, if the store can say up front."""
        cost = self._store_commit_cost
        return None if cost is None else cost()

    def _save_commit(self) -> None:
        """Make the commit number durable. Only it changed (every view and vote change saves
        the metadata itself), so a store that can save it alone does: one write and one
        fsync instead of a metadata replace, which is what lets a sync cover many commands."""
        save_commit = self._store_save_commit
        if save_commit is None:
            self._save_meta()
            return
        self._sync_wal()  # the log first: the commit number vouches for it
        info = save_commit(self.commit_number)
        self._durable_commit = self.commit_number
        self._delay_us += info.latency_us

    def _sync_wal(self) -> None:
        wal = self._journal.wal
        self._sync_owed = False
        if wal.last_op > self._durable_op or wal.synced_op < wal.last_op:
            info = wal.sync()
            self._delay_us += info.latency_us
            self._durable_op = wal.last_op
            traced, self._sync_traced = self._sync_traced, False
            if info.records and not traced:
                self._event(
                    SYNC, records=info.records, latency_us=info.latency_us, durable=info.durable
                )

    def _entry(self, op: int) -> LogEntry | None:
        """Entry ``op`` for the protocol (see :meth:`Journal.entry`): ``None`` when it is
        not held or corrupt; a checksum failure starts repair at the end of the step."""
        return self._journal.entry(op)

    def _trace_corrupt(self, op: int) -> None:
        self._event(CORRUPT, op=op)

    def _append(self, entry: LogEntry, envelope: Envelope | None = None) -> None:
        # (the WAL refuses an op other than last_op + 1 itself, with InvalidArgument)
        stored = self._journal.append(entry, envelope)
        # Only the unsafe switches mix views (S1, S2: no fencing; S6, S7: a log adopted from
        # the wrong replica): the journal stores such an entry under the view our log already
        # has, as the replica cannot tell the histories apart.
        assert stored.view == entry.view or self._unsafe & _LOG_BREAKING, (self.name, entry)
        entry = stored
        # Unsafe (S11): the primary matches and publishes at append time.
        early = self._unsafe and APPLY_BEFORE_COMMIT in self._unsafe and self.is_primary
        if early and self.applied_op == entry.op - 1:
            taken = self._journal.take_for_apply(entry.op)
            assert taken is not None
            self._apply_entries((taken,))

    def _append_run(self, entries: tuple[LogEntry, ...]) -> None:
        """Append consecutive entries from ``op_number + 1`` on, as :meth:`_append` does
        one by one, with one call to the log (a backup appending a Prepare's batch)."""
        if self._unsafe:
            for entry in entries:  # (the teaching switches keep the one-by-one path)
                self._append(entry)
            return
        stored = self._journal.append_many(entries)
        # (only the unsafe switches mix views: see _append)
        assert stored is entries, (self.name, entries)

    def _truncate_after(self, op: int) -> None:
        if op >= self.op_number:
            return
        lost_committed = op < min(self.commit_number, self.op_number)
        assert not lost_committed or self._unsafe & _LOG_BREAKING, (self.name, op)
        self._event(TRUNCATE, after=op, dropped=self.op_number - op, lost_committed=lost_committed)
        self._journal.truncate_after(op)
        self._durable_op = min(self._durable_op, op)
        if self.applied_op > op:
            self._rebuild_machine()

    def _snapshot_floor(self) -> int:
        return self._journal.snapshot_floor

    def _rebuild_machine(self) -> None:
        """Rebuild the applied state from the snapshot and committed log (after a truncation
        below it, which only the unsafe switches allow)."""
        snapshot = self.store.load_snapshot()
        if snapshot is not None:
            self._restore_state(snapshot.data)
            self.applied_op = snapshot.op
        else:
            self.machine.restore(self._initial_state)
            self.client_table = {}
            self.applied_op = 0
        self._event(REBUILD, applied=self.applied_op)
        self._apply_committed()

    def _restore_state(self, data: bytes) -> None:
        try:
            machine_bytes, table = decode_state(data)
        except ValueError as exc:
            raise InvalidArgument(f"snapshot does not decode: {exc}") from None
        self.machine.restore(machine_bytes)
        self.client_table = table

    def _state_bytes(self) -> bytes:
        return encode_state(self.machine.snapshot(), self.client_table)

    # -- applying ------------------------------------------------------------------------

    def _apply_committed(self) -> None:
        target = min(self.commit_number, self._journal.wal.last_op)
        journal = self._journal
        while self.applied_op < target:
            # Entries this replica appended in this life come from memory with their decoded
            # envelope, a run at a time; others (after a restart, a cut, a repair) are read
            # and verified one by one.
            run = journal.take_run_for_apply(self.applied_op + 1, target)
            if not run:
                entry = self._entry(self.applied_op + 1)
                if entry is None:
                    break
                run = [(entry, decode_envelope(entry.payload))]
            self._apply_entries(run)
        self._maybe_snapshot()

    def _apply_entries(self, run: Iterable[tuple[LogEntry, Envelope]]) -> None:
        """Apply entries in op order (each the next op): a client's request executes once
        (the client table answers a retry), and only a primary queues replies.

        The one loop every applied entry goes through, so it binds what it uses to locals
        and skips the work a step does not need (no trace event with the trace off; a
        backup leaves its reply unencoded in the client table, see :class:`ClientRecord`).
        """
        table = self.client_table
        # (looked up per run, not bound at import: lab L1 swaps in a student's function;
        # clobkit's own is spelled out inline, the same three cases)
        classify = _client_table.classify_request
        own_classify = classify is _CLASSIFY_REQUEST
        dedup = NO_DEDUP not in self._unsafe
        apply_split = self._apply_split
        trace = self._trace_events
        # (only a primary in normal status queues replies, so only it encodes them)
        primary = self.view % self._n == self.index and self.status == "normal"
        for entry, env in run:
            op = entry.op
            assert op == self.applied_op + 1
            self.applied_op = op
            if env.noop:
                continue
            client_id, request_number = env.client_id, env.request_number
            rec = table[client_id] if client_id in table else None  # noqa: SIM401 (no call)
            if not own_classify:
                seen = classify(rec, request_number)
            elif rec is None or request_number > rec.request_number:
                seen = "new"
            else:
                seen = "retry" if request_number == rec.request_number else "stale"
            if dedup and seen != "new":
                assert rec is not None
                self._event_apply(entry, env, duplicate=True)
                if seen == "retry" and primary:
                    self._queue_reply(client_id, request_number, rec.op, rec.reply)
                continue
            encode: Callable[[Any], bytes] | None
            if apply_split is not None:
                encode, result = apply_split(op, env.ts_us, env.payload)
                reply = encode(result) if primary else None
            else:
                reply, encode, result = self.machine.apply(op, env.ts_us, env.payload), None, None
            # The client's record is updated in place (one object per client, not one per
            # command on every replica; see ClientRecord): reply None leaves it unencoded.
            if rec is None:
                rec = table[client_id] = ClientRecord(request_number, op, b"")
            else:
                rec.request_number, rec.op = request_number, op
            rec.encoded, rec.encode, rec.result = reply, encode, result
            if trace:
                self._event_apply(entry, env, duplicate=False)
            if primary:
                assert reply is not None
                self._queue_reply(client_id, request_number, op, reply)

    def _event_apply(self, entry: LogEntry, env: Envelope, *, duplicate: bool) -> None:
        self._event(
            APPLY,
            op=entry.op,
            view=entry.view,
            client=env.client_id,
            request_number=env.request_number,
            duplicate=duplicate,
        )

    def _queue_reply(self, client_id: str, request_number: int, op: int, reply: bytes) -> None:
        """Park the reply to ``op`` until the reply frontier passes it (primary only: only
        a primary encodes replies, see :class:`ClientRecord`)."""
        if self.view % self._n == self.index and self.status == "normal":
            self._pending_replies[op] = Reply.build(
                cluster_id=self._cluster_id,
                source=self.name,
                target=(
                    self._client_names[client_id]
                    if client_id in self._client_names
                    else self._client_name(client_id)
                ),
                view=self.view,
                client_id=client_id,
                request_number=request_number,
                ok=True,
                op=op,
                reply=reply,
            )
            inflight = self._inflight.get(client_id)
            if inflight is not None and inflight[1] <= op:
                del self._inflight[client_id]

    def _maybe_snapshot(self) -> None:
        every = self.config.snapshot_every
        if every is None or self.status not in ("normal", "view_change"):
            return
        upto = self.applied_op
        if upto > self.commit_number or upto - self._snapshot_floor() < every:
            # (applied > commit only under apply_before_commit: that state is not snapshottable)
            return
        info = self.store.save_snapshot(Snapshot(upto, self.view, self._state_bytes()))
        self._delay_us += info.latency_us
        self._journal.compact_through(upto)
        self._event(SNAPSHOT, op=upto)

    def _hdr(self, target: str) -> dict[str, Any]:
        return {
            "cluster_id": self.config.cluster_id,
            "source": self.name,
            "target": target,
            "view": self.view,
        }

    # -- dispatch and validation -----------------------------------------------------------

    def _dispatch(self, message: Message) -> None:
        # (anything may arrive here, whatever the annotation says: problem() is what proves
        # it a well-formed message, before any field is read; `checks` holds its per-kind
        # checks, called without problem()'s frame)
        kind = type(message)
        reason = _MESSAGE_CHECKS[kind](message) if kind in _MESSAGE_CHECKS else problem(message)
        if reason is not None:
            self._drop(message, "malformed")
            return
        if message.cluster_id != self._cluster_id:
            self._drop(message, "foreign_cluster")
            return
        if message.target != self.name:
            self._drop(message, "misaddressed")
            return
        if type(message) is Request:  # (spelled so, not `kind is`, to narrow the type)
            # A request comes from its own client's node (problem() proved client_id a
            # non-empty str, so that name is a client's name: is_client_name holds too).
            client_id, names = message.client_id, self._client_names
            if message.source != (
                names[client_id] if client_id in names else self._client_name(client_id)
            ):
                self._drop(message, "unknown_sender")
                return
        elif kind in CLIENT_KINDS:
            if not is_client_name(message.source):
                self._drop(message, "unknown_sender")
                return
        elif message.source not in self._names or self._names[message.source] == self.index:
            self._drop(message, "unknown_sender")
            return
        if kind not in _HANDLERS:
            self._drop(message, "unexpected_kind")
            return
        _HANDLERS[kind](self, message)

    def _client_name(self, client_id: str) -> str:
        """``client_name(client_id)``, remembered: every request and reply names its client
        (bounded: forgotten when 4,096 clients are remembered)."""
        name = client_name(client_id)
        if len(self._client_names) >= 4096:
            self._client_names.clear()
        self._client_names[client_id] = name
        return name

    def _src(self, message: Message) -> int:
        return self._names[message.source]

    def _fenced(self, message: Message) -> bool:
        """True (and counted) when ``message`` comes from an older view (fencing)."""
        if message.view < self.view and NO_FENCING not in self._unsafe:
            self._drop(message, "stale_view")
            return True
        return False

    def _voter(self) -> bool:
        return self.status in ("normal", "view_change")

    def _voter_or_drop(self, m: Message) -> bool:
        """True when we take part in quorums; else ``m`` is dropped (learner, recovering)."""
        if self._voter():
            return True
        self._drop(m, "not_voter")
        return False

    # -- client requests --------------------------------------------------------------------

    def _park(self, m: Request) -> None:
        if m.client_id in self._parked or len(self._parked) < _PARKED_MAX:
            old = self._parked.get(m.client_id)
            if old is None or old.request_number <= m.request_number:
                self._parked[m.client_id] = m

    def _unpark(self, *, primary: bool) -> None:
        """A view change finished: as its primary, take the parked requests now (they travel
        with the view's no-op in its StartView); as a backup, tell their clients the new view."""
        parked, self._parked = self._parked, {}
        for m in parked.values():
            if primary:
                self._on_Request(m)
            else:
                self._send(
                    Reply(
                        **self._hdr(m.source),
                        client_id=m.client_id,
                        request_number=m.request_number,
                        ok=False,
                        error="not_primary",
                    )
                )

    def _on_Request(self, m: Request) -> None:
        if self.status != "normal" or self.last_normal_view != self.view:
            self._drop(m, "not_normal")
            if self._voter():
                self._park(m)
            return
        if self.view % self._n != self.index:  # (is_primary, given the status test above)
            self._park(m)
            self._send(
                Reply(
                    **self._hdr(m.source),
                    client_id=m.client_id,
                    request_number=m.request_number,
                    ok=False,
                    error="not_primary",
                )
            )
            return
        # (no call while the last CheckQuorum answer is known to hold: every request asks)
        if self._now >= self._quorum_known_until and not self._primary_has_quorum():
            self._refuse_no_quorum(m)
            return
        client_id = m.client_id
        if NO_DEDUP not in self._unsafe:
            table = self.client_table
            rec = table[client_id] if client_id in table else None  # noqa: SIM401 (no call)
            classify = _client_table.classify_request  # (lab L1 may swap it: see _apply_entries)
            if classify is not _CLASSIFY_REQUEST:
                seen = classify(rec, m.request_number)
            elif rec is None or m.request_number > rec.request_number:
                seen = "new"
            else:
                seen = "retry" if m.request_number == rec.request_number else "stale"
            if seen == "stale":
                self._send(
                    Reply(
                        **self._hdr(m.source),
                        client_id=m.client_id,
                        request_number=m.request_number,
                        ok=False,
                        error="stale_request",
                    )
                )
                return
            if seen == "retry":
                assert rec is not None
                self.counters["duplicate_request"] += 1
                self._pending_replies[rec.op] = Reply(
                    **self._hdr(m.source),
                    client_id=m.client_id,
                    request_number=m.request_number,
                    ok=True,
                    op=rec.op,
                    reply=rec.reply,
                )
                return
            inflight = self._inflight[client_id] if client_id in self._inflight else None  # noqa: SIM401
            if inflight is not None and m.request_number <= inflight[0]:
                if m.request_number < inflight[0]:
                    self._send(
                        Reply(
                            **self._hdr(m.source),
                            client_id=m.client_id,
                            request_number=m.request_number,
                            ok=False,
                            error="stale_request",
                        )
                    )
                else:
                    self.counters["duplicate_request"] += 1
                return
        op = self._journal.wal.last_op + 1
        envelope = Envelope(client_id, m.request_number, self._next_ts(), m.payload)
        entry = LogEntry(self.view, op, encode_envelope(envelope))
        if self._unsafe:
            self._append(entry, envelope)
        else:  # (what else _append does is about the unsafe switches)
            stored = self._journal.append(entry, envelope)
            assert stored is entry, (self.name, entry)
        self._new_entries.append(entry)
        self._inflight[client_id] = (m.request_number, op)

    # -- primary side ----------------------------------------------------------------------

    def _reset_primary_state(self, view_start_op: int) -> None:
        self._progress.reset(own=self.index, own_durable_commit=self._durable_commit)
        self._pending_replies = {}
        self._reads.clear_primary()
        self._new_entries = []
        self._view_start_op = view_start_op
        self._heartbeat_due = self._now
        self._inflight = {}
        self._acked_at = dict.fromkeys(self._others, self._now)
        self._no_quorum = False
        self._quorum_known_until = -1
        for op in range(self.commit_number + 1, self.op_number + 1):
            entry = self._entry(op)
            if entry is None:
                continue
            env = decode_envelope(entry.payload)
            if not env.noop:
                self._inflight[env.client_id] = (env.request_number, op)

    def _next_ts(self) -> int:
        """The primary's timestamp for a new entry: ``now``, never below the last entry's."""
        last_ts = self._journal.last_ts_us()
        now = self._now
        return now if last_ts is None or last_ts <= now else last_ts

    def _append_noop(self) -> None:
        noop = LogEntry(self.view, self.op_number + 1, noop_payload(self._next_ts()))
        self._append(noop)
        self._new_entries.append(noop)

    def _flush_new_entries(self, *, early: bool = False) -> None:
        """Prepare the new entries for every backup (``early``: before our own sync)."""
        if not self._new_entries:
            return
        entries = self._new_entries
        self._new_entries = []
        step = self.config.batch_max
        names, cluster_id = self._replica_names, self._cluster_id
        send = self._early.append if early else self._out.append
        for start in range(0, len(entries), step):
            chunk = tuple(entries[start : start + step])
            for i in self._others:
                send(
                    Prepare.build(
                        cluster_id=cluster_id,
                        source=self.name,
                        target=names[i],
                        view=self.view,
                        op=chunk[-1].op,
                        commit=self.commit_number,
                        entries=chunk,
                    )
                )
        self._heartbeat_due = self._now + self.config.heartbeat_us

    def _advance_commit(self) -> None:
        wal = self._journal.wal  # (wal.last_op is op_number: asked for every commit round)
        if self.applied_op < self.commit_number and self.applied_op < wal.last_op:
            self._apply_committed()
        # (fewer than a quorum of acks gives 0: nothing new commits)
        durable_on_quorum = self._progress.durable_on_quorum(self._durable_op, self._quorum)
        candidate = min(durable_on_quorum, wal.last_op)
        if candidate > self.commit_number:
            self.commit_number = candidate
            self._event(COMMIT, op=candidate)
            self._apply_committed()
            if self._read_mode_quorum:
                # The Commit promises nothing about our own disk either: with a host that can
                # overlap, it leaves now and our save of the number runs while it travels (our
                # own knowledge counts toward the reply frontier only once it is saved).
                overlap = (
                    self._overlap_sync
                    and self._delay_us == 0
                    and self.status == "normal"
                    and self._commit_save_cost() is not None
                )
                if not overlap:
                    self._save_commit()
                send = self._early.append if overlap else self._out.append
                names = self._replica_names
                for i in self._others:
                    send(
                        Commit.build(
                            cluster_id=self._cluster_id,
                            source=self.name,
                            target=names[i],
                            view=self.view,
                            commit=self.commit_number,
                            probe=self._probe,
                        )
                    )
                self._heartbeat_due = self._now + self.config.heartbeat_us

    def _reply_frontier(self) -> int:
        if self.config.read_mode != "quorum":
            return self.commit_number
        own = self._durable_commit
        known = self._progress.commit_known_by_quorum(self.index, own, self._quorum)
        return min(known, self.commit_number)

    def _flush_replies(self) -> None:
        if not self._pending_replies:
            return
        frontier = self._reply_frontier()
        pending, send = self._pending_replies, self._out.append  # (_send: one per command)
        for op in sorted(pending):
            if op > frontier or op > self.applied_op:
                break
            send(pending.pop(op))

    def _on_PrepareOk(self, m: PrepareOk) -> None:
        if m.view < self.view and self._fenced(m):  # (no call when current)
            return
        if not self.is_primary or (m.view != self.view and NO_FENCING not in self._unsafe):
            self._drop(m, "not_primary")
            return
        src, op_number = self._names[m.source], self._journal.wal.last_op  # (_src, op_number)
        self._progress.on_prepare_ok(
            src, op=m.op if m.op < op_number else op_number, commit=m.commit
        )
        self._acked_at[src] = self._now

    def _on_CommitOk(self, m: CommitOk) -> None:
        if m.view < self.view and self._fenced(m):  # (no call when current)
            return
        if not self.is_primary or (m.view != self.view and NO_FENCING not in self._unsafe):
            self._drop(m, "not_primary")
            return
        # (a probe we never sent answers a previous life of this replica: it confirms nothing)
        probe = m.probe if m.probe <= self._probe else None
        src = self._names[m.source]  # (_src)
        self._progress.on_commit_ok(src, commit=m.commit, probe=probe)
        self._acked_at[src] = self._now

    def _heartbeat(self) -> None:
        """Commit news and a leadership probe to every backup, plus retransmission of the
        prepares a backup has not acknowledged (message loss)."""
        self._probe += 1
        wal = self.store.wal
        for i in self._others:
            acked = self._progress.acked_op(i)
            # Entries older than one heartbeat and still unacknowledged were probably lost.
            if acked < self._op_at_last_heartbeat:
                start = max(acked + 1, wal.first_op)
                end = min(self.op_number, start + self.config.batch_max - 1)
                entries = tuple(e for e in (self._entry(op) for op in range(start, end + 1)) if e)
                if entries and entries[-1].op == end and len(entries) == end - start + 1:
                    self._send(
                        Prepare(
                            **self._hdr(self._to(i)),
                            op=end,
                            commit=self.commit_number,
                            entries=entries,
                        )
                    )
            self._send(
                Commit(**self._hdr(self._to(i)), commit=self.commit_number, probe=self._probe)
            )
        self._op_at_last_heartbeat = self.op_number
        self._heartbeat_due = self._now + self.config.heartbeat_us
        self._primary_has_quorum()

    def _primary_has_quorum(self) -> bool:
        """CheckQuorum (``prevote=True``): has a majority, us included, answered within the
        minimum view-change timeout? A primary that has not stops serving (writes and
        primary-mode reads are refused with ``no_quorum``) but keeps sending heartbeats, and
        serves again as soon as a majority answers. Always True with ``prevote=False``.

        A True answer also sets ``_quorum_known_until``: the answer stays True at least
        until then, because answer times only grow (they are the host's ``now``, which never
        decreases: see :mod:`~clobkit.replication.step`), and the (quorum - 1)-th latest
        answer is within the window until that time; a caller may skip asking before it."""
        if not self.config.prevote or self._n == 1:
            return True
        window = self.config.view_change_timeout_us_min
        now = self._now
        heard = 1
        for t in self._acked_at.values():  # (a loop, not sum(genexpr): every request asks)
            if now - t < window:
                heard += 1
        ok = heard >= self._quorum
        if ok:
            latest = sorted(self._acked_at.values(), reverse=True)
            self._quorum_known_until = latest[self._quorum - 2] + window
        if not ok and not self._no_quorum:
            silent = sorted(
                self._to(i) for i, t in self._acked_at.items() if self._now - t >= window
            )
            self._event(NO_QUORUM, view=self.view, silent=silent)
        self._no_quorum = not ok
        return ok

    def _refuse_no_quorum(self, m: Request) -> None:
        """A request reaching a primary without a majority (``_primary_has_quorum()`` is
        false): a new one is refused (it is not in the log, so the refusal is definite); one
        already in our log (in flight, or a retry of a committed one) is dropped and left to
        the protocol: it may still commit."""
        rec = self.client_table.get(m.client_id)
        inflight = self._inflight.get(m.client_id)
        known = (rec is not None and m.request_number <= rec.request_number) or (
            inflight is not None and m.request_number <= inflight[0]
        )
        if known:
            self._drop(m, "no_quorum")
            return
        self._send(
            Reply(
                **self._hdr(m.source),
                client_id=m.client_id,
                request_number=m.request_number,
                ok=False,
                error="no_quorum",
            )
        )

    # -- backup side -----------------------------------------------------------------------

    def _from_primary_of_view(self, m: Message) -> bool:
        # (config.primary_index(m.view), spelled out: asked for every Prepare and Commit)
        return self._names[m.source] == m.view % self._n

    def _on_Prepare(self, m: Prepare) -> None:
        if m.view < self.view and self._fenced(m):  # (no call when current)
            return
        if NO_FENCING in self._unsafe and self.status == "normal" and not self.is_primary:
            # Unsafe (S1, S2): any replica's prepare is taken at face value.
            self._heard_from_primary()
            self._accept_entries(m, overwrite=True)
            self._learn_commit(m.commit)
            self._ack(m.source)
            return
        if not self._as_backup(m):
            return
        if m.entries[0].op > self._journal.wal.last_op + 1:  # (op_number)
            self._request_state()
            return
        if not self._accept_entries(m, overwrite=False):
            return
        self._learn_commit(m.commit)
        self._ack(m.source)

    def _as_backup(self, m: Message) -> bool:
        """Gatekeeping for what the primary sends a backup (Prepare, Commit): it must come
        from the primary of its view; a newer view is joined first; it proves the primary
        alive. True when the message should be processed now.

        (Every Prepare and Commit passes here: _from_primary_of_view and is_primary are
        spelled out, and _catch_up_if_newer is asked only when the message is not from our
        own view in normal status, where it answers True.)"""
        if self._names[m.source] != m.view % self._n:  # (_from_primary_of_view)
            self._drop(m, "not_from_primary")
            return False
        if (m.view != self.view or self.status != "normal") and not self._catch_up_if_newer(m):
            return False
        if self.status != "normal" or (
            self.view % self._n == self.index and self.last_normal_view == self.view
        ):
            self._drop(m, "not_backup")
            return False
        self._heard_from_primary()
        return not self._catch_up.awaiting

    def _ack(self, target: str) -> None:
        """PrepareOk for our whole log and the commit number we know. Both are durable before
        the message leaves: _finish syncs the WAL (and, in quorum mode, the metadata holding
        the commit number) before any message of the Step goes out."""
        self._out.append(
            PrepareOk.build(
                cluster_id=self._cluster_id,
                source=self.name,
                target=target,
                view=self.view,
                op=self._journal.wal.last_op,  # (op_number)
                commit=self.commit_number,
            )
        )

    def _accept_entries(self, m: Prepare, *, overwrite: bool) -> bool:
        """Append the entries of ``m`` we lack; same-view entries we have are identical."""
        wal = self._journal.wal
        floor = wal.first_op - 1  # (the snapshot floor)
        last = wal.last_op
        entries = m.entries  # (consecutive ops: problem() checked that on arrival)
        for i, e in enumerate(entries):
            op = e.op
            if op <= floor:
                continue
            if op <= last:
                mine = self._entry(op)
                if mine == e:
                    continue
                if not overwrite:
                    self._drop(m, "conflicting_entries")
                    return False
                self._truncate_after(op - 1)
                last = wal.last_op
            if op != last + 1:
                return False
            # The first entry we lack: it and every one after it go to the log in one batch.
            self._append_run(entries[i:] if i else entries)
            return True
        return True

    def _learn_commit(self, commit: int) -> None:
        if commit > self.commit_number:
            self.commit_number = commit
            self._event(COMMIT, op=commit)
        self._apply_committed()
        if self.commit_number > self._journal.wal.last_op:  # (op_number)
            self._request_state()

    def _on_Commit(self, m: Commit) -> None:
        if (m.view < self.view and self._fenced(m)) or not self._as_backup(m):
            return
        self._learn_commit(m.commit)
        self._out.append(
            CommitOk.build(
                cluster_id=self._cluster_id,
                source=self.name,
                target=m.source,
                view=self.view,
                commit=self.commit_number,
                probe=m.probe,
            )
        )

    def _catch_up_if_newer(self, m: Message) -> bool:
        """A message from the primary of a newer view: join it and fetch its log.
        Returns True when the message can be processed in our current view."""
        missed_start_view = m.view == self.view and self.status == "view_change"
        if m.view <= self.view and not missed_start_view:
            return m.view == self.view or NO_FENCING in self._unsafe
        if not self._voter():
            return False
        if m.view > self.view:
            self.view = m.view
            self._save_meta()
        self._set_status("normal")
        self._event(JOIN_VIEW, view=m.view, via=m.kind)
        self._catch_up.awaiting = True
        self._heard_from_primary()
        self._request_state(force=True)
        return False

    def _request_state(self, force: bool = False) -> None:
        if not self._catch_up.may_ask(self._now, force=force):
            return
        if self.primary_index == self.index:
            return
        after = catch_up_after(
            op_number=self.op_number,
            commit_number=self.commit_number,
            awaiting_state=self._catch_up.awaiting,
            in_normal_view=self.last_normal_view == self.view,
        )
        self._send(GetState(**self._hdr(self._to(self.primary_index)), op=after))
        self._catch_up.retry_at = self._now + self.config.state_request_timeout_us

    def _on_GetState(self, m: GetState) -> None:
        if m.view > self.view or not self.is_primary:
            self._drop(m, "not_primary")
            return
        msg = self._log_message(NewState, m.source, after=m.op)
        if msg is not None:
            self._send(msg)

    def _log_message(self, kind: type[Any], target: str, *, after: int) -> Any:
        """A NewState/StartView/DoViewChange carrying our log after ``after``; ``None`` when
        part of that log is corrupt (the caller sends nothing)."""
        suffix = log_suffix(self._journal, self.store.load_snapshot, after=after)
        if suffix is None:
            # A corrupt entry turned up: we cannot vouch for our log, so we send nothing
            # and repair first (_finish moves us to "recovering").
            return None
        base, snapshot, entries = suffix
        fields: dict[str, Any] = {
            "op": self.op_number,
            "commit": self.commit_number,
            "base_op": base,
            "snapshot": snapshot,
            "entries": entries,
        }
        if kind is DoViewChange:
            fields["last_normal_view"] = self.last_normal_view
        return kind(**self._hdr(target), **fields)

    def _on_NewState(self, m: NewState) -> None:
        if self._fenced(m):
            return
        if not self._from_primary_of_view(m) or not self._voter():
            self._drop(m, "unexpected")
            return
        if m.view > self.view:
            self.view = m.view
            self._save_meta()
        authoritative = self.last_normal_view != self.view or self.status != "normal"
        if not self._adopt(m.base_op, m.snapshot, m.entries, m.commit, authoritative):
            self._catch_up.awaiting = True
            self._request_state(force=True)
            return
        self._catch_up.retry_at = self._now
        self._catch_up.awaiting = False
        was_normal_view = self.last_normal_view == self.view and self.status == "normal"
        self._set_status("normal")
        self.last_normal_view = self.view
        if not was_normal_view:
            self._save_meta()
        self._heard_from_primary()
        self._event(
            STATE_TRANSFER,
            source=m.source,
            base_op=m.base_op,
            op=m.op,
            snapshot=m.snapshot is not None,
        )
        self._apply_committed()
        self._ack(m.source)

    def _adopt(
        self,
        base_op: int,
        snapshot: Snapshot | None,
        entries: tuple[LogEntry, ...],
        commit: int,
        authoritative: bool,
    ) -> bool:
        """Make our log the given one after ``base_op``. Entries we can vouch for are kept
        (committed ones; in the same view, all); the rest is replaced. Returns False when
        the given log starts after a gap we cannot fill and carries no snapshot."""
        trusted = min(self.commit_number, self.op_number) if authoritative else self.op_number
        trusted = max(trusted, self._snapshot_floor())
        if base_op > trusted:
            if snapshot is None:
                return False
            self._install_snapshot(snapshot, keep_through=trusted)
        for e in entries:
            if e.op <= max(trusted, self._snapshot_floor()):
                continue
            if e.op <= self.op_number:
                if self._entry(e.op) == e:
                    continue
                self._truncate_after(e.op - 1)
            self._append(e)
        new_end = base_op + len(entries)
        if authoritative and self.op_number > new_end:
            self._truncate_after(new_end)
        if commit > self.commit_number:
            self.commit_number = commit
            self._event(COMMIT, op=commit)
        return True

    def _install_snapshot(self, snapshot: Snapshot, keep_through: int) -> None:
        self._truncate_after(max(keep_through, self._snapshot_floor()))
        self._restore_state(snapshot.data)
        info = self.store.save_snapshot(snapshot)
        self._delay_us += info.latency_us
        self._journal.compact_through(snapshot.op)
        self.applied_op = snapshot.op
        self.commit_number = max(self.commit_number, snapshot.op)
        self._durable_op = max(self._durable_op, min(self.op_number, snapshot.op))
        self._event(INSTALL_SNAPSHOT, op=snapshot.op)

    # -- view change -----------------------------------------------------------------------

    def _enter_view_change(
        self, view: int, now: int, *, persist: bool = True, prevotes: list[int] | None = None
    ) -> None:
        self.view = view
        self._set_status("view_change")
        self._votes.reset(own=self.index)
        self._prevotes.clear()
        self._catch_up.awaiting = False
        self._pending_replies = {}
        self._reads.clear_primary()
        if persist:
            self._save_meta()  # persist the view before acting in it (fencing)
        self._vc_deadline = now + self._timeout()
        self._vc_resend_at = now
        if prevotes is None:
            self._event(VIEW_CHANGE_START, view=view)
        else:  # we won a pre-vote round: say who agreed (the chaos properties check it)
            self._event(VIEW_CHANGE_START, view=view, prevotes=[self._to(i) for i in prevotes])
        if OWN_WAL_FAILOVER in self._unsafe and self.primary_index == self.index:
            # Unsafe (S6): take over from our own WAL without collecting any other log.
            self._become_primary()
            return
        self._send_view_change_messages()

    def _send_view_change_messages(self) -> None:
        for i in self._others:
            self._send(StartViewChange(**self._hdr(self._to(i))))
        if self._votes.dvc_sent:
            self._send_dvc()
        self._vc_resend_at = self._now + self.config.heartbeat_us

    def _send_dvc(self) -> None:
        self._votes.dvc_sent = True
        new_primary = self.primary_index
        if new_primary == self.index:
            own = self._log_message(DoViewChange, self.name, after=0)
            if own is not None:
                self._votes.add_do_view_change(self.index, own)
                self._maybe_finish_view_change()
        else:
            msg = self._log_message(DoViewChange, self._to(new_primary), after=0)
            if msg is not None:
                self._send(msg)

    def _deaf_primary(self, m: Message) -> bool:
        """Unsafe (S1): without epochs a primary cannot learn it was replaced; it ignores
        view-change traffic and keeps acting as primary."""
        if NO_FENCING in self._unsafe and self.is_primary:
            self._drop(m, "no_fencing_primary")
            return True
        return False

    def _in_view_change_for(self, m: StartViewChange | DoViewChange) -> bool:
        """The first steps both view-change messages share: drop what a deaf primary, fencing
        or a non-voter must not act on, join ``m.view`` if it is newer, and say whether ``m``
        belongs to the view change this replica is now running."""
        if self._deaf_primary(m):
            return False
        if self._fenced(m) or not self._voter_or_drop(m):
            return False
        if m.view > self.view:
            self._enter_view_change(m.view, self._now)
        return m.view == self.view and self.status == "view_change"

    def _start_prevote(self) -> None:
        """Ask the others whether they too lack a live primary (our view stays put)."""
        proposed = self.view + 1
        self._prevotes.start(own=self.index, proposed=proposed)
        self._event(PREVOTE, proposed=proposed)
        for i in self._others:
            self._send(PreViewChange(**self._hdr(self._to(i)), proposed=proposed))

    def _on_PreViewChange(self, m: PreViewChange) -> None:
        if not self._voter_or_drop(m):
            return
        granted = grants_prevote(
            proposed=m.proposed,
            view=self.view,
            status=self.status,
            is_primary=self.is_primary,
            primary_has_quorum=self.is_primary and self._primary_has_quorum(),
            heard_primary_us_ago=self._now - self._heard_primary_at,
            timeout_min_us=self.config.view_change_timeout_us_min,
        )
        if not granted:
            self._drop(m, "prevote_refused")
            return
        self._send(PreViewChangeOk(**self._hdr(m.source), proposed=m.proposed))

    def _on_PreViewChangeOk(self, m: PreViewChangeOk) -> None:
        if (
            not self._voter()
            or self.is_primary
            or m.proposed != self.view + 1
            or not self._prevotes.add(self._src(m), proposed=m.proposed)
        ):
            self._drop(m, "unexpected")
            return
        if len(self._prevotes.granted) >= self._quorum:
            granted = sorted(self._prevotes.granted)
            self._enter_view_change(m.proposed, self._now, prevotes=granted)

    def _on_StartViewChange(self, m: StartViewChange) -> None:
        if not self._in_view_change_for(m):
            return
        self._votes.add_start_view_change(self._src(m))
        if len(self._votes.start_view_change_from) >= self._quorum and not self._votes.dvc_sent:
            self._send_dvc()

    def _on_DoViewChange(self, m: DoViewChange) -> None:
        if not self._in_view_change_for(m):
            return
        if self.primary_index != self.index:
            self._drop(m, "not_new_primary")
            return
        self._votes.add_do_view_change(self._src(m), m)
        if self.index not in self._votes.do_view_change:
            own = self._log_message(DoViewChange, self.name, after=0)
            if own is None:
                return
            self._votes.add_do_view_change(self.index, own)
            self._votes.dvc_sent = True
        self._maybe_finish_view_change()

    def _maybe_finish_view_change(self) -> None:
        if self.status == "view_change" and len(self._votes.do_view_change) >= self._quorum:
            self._become_primary()

    def _become_primary(self) -> None:
        commit = self.commit_number
        if OWN_WAL_FAILOVER not in self._unsafe and self._votes.do_view_change:
            best_index, d, commit = choose_log(self._votes.do_view_change)
            if best_index != self.index:
                adopted = self._adopt(d.base_op, d.snapshot, d.entries, commit, True)
                assert adopted  # a DoViewChange ships a snapshot whenever it compacted
        self.commit_number = max(self.commit_number, min(commit, self.op_number))
        self._set_status("normal")
        self.last_normal_view = self.view
        self._votes.clear_do_view_changes()
        self._reset_primary_state(view_start_op=self.op_number + 1)
        self._append(LogEntry(self.view, self.op_number + 1, noop_payload(self._next_ts())))
        self._save_meta()
        self._event(PRIMARY, view=self.view, op=self.op_number, commit=self.commit_number)
        # Requests clients sent while there was no primary go right behind the no-op, in the
        # same StartView (one message: a backup cannot get them before it has the view).
        # Apply what is committed first, so the client table catches requests already done.
        self._apply_committed()
        self._unpark(primary=True)
        self._new_entries = []
        for i in self._others:
            start_view = self._log_message(StartView, self._to(i), after=0)
            if start_view is None:
                break
            self._send(start_view)
        self._heartbeat_due = self._now + self.config.heartbeat_us
        self._apply_committed()

    def _on_StartView(self, m: StartView) -> None:
        if self._fenced(m) or not self._voter_or_drop(m):
            return
        if not self._from_primary_of_view(m):
            self._drop(m, "not_from_primary")
            return
        if m.view == self.view and self.status == "normal" and self.last_normal_view == m.view:
            return  # a duplicate: we are already in this view
        if m.view > self.view:
            self.view = m.view
            self._save_meta()
        adopted = self._adopt(m.base_op, m.snapshot, m.entries, m.commit, True)
        assert adopted  # a StartView ships a snapshot whenever it compacted
        self._set_status("normal")
        self.last_normal_view = self.view
        self._catch_up.awaiting = False
        self._save_meta()
        self._heard_from_primary()
        self._event(START_VIEW, view=self.view, op=self.op_number, commit=self.commit_number)
        self._apply_committed()
        self._ack(m.source)
        self._unpark(primary=False)

    # -- learners (Recovery) ---------------------------------------------------------------

    def _on_Recovery(self, m: Recovery) -> None:
        if self.status != "normal" or self.last_normal_view != self.view:
            self._drop(m, "not_normal")
            return
        if self.is_primary:
            msg = self._log_message(NewState, m.source, after=0)
            if msg is None:
                return
            self._send(
                RecoveryResponse(
                    **self._hdr(m.source),
                    nonce=m.nonce,
                    op=msg.op,
                    commit=msg.commit,
                    has_state=True,
                    base_op=msg.base_op,
                    snapshot=msg.snapshot,
                    entries=msg.entries,
                )
            )
        else:
            self._send(
                RecoveryResponse(
                    **self._hdr(m.source),
                    nonce=m.nonce,
                    op=self.op_number,
                    commit=self.commit_number,
                    has_state=False,
                    base_op=self.op_number,
                )
            )

    def _on_RecoveryResponse(self, m: RecoveryResponse) -> None:
        if self.status != "learner" or m.nonce != self._learner.nonce:
            self._drop(m, "unexpected")
            return
        if m.has_state and self._src(m) != self.config.primary_index(m.view):
            self._drop(m, "not_from_primary")
            return
        decided = self._learner.add(
            self._src(m), m, quorum=self._quorum, primary_of=self.config.primary_index
        )
        if decided is None:
            return
        view, primary, target_commit = decided
        self.view = view
        self._adopt(primary.base_op, primary.snapshot, primary.entries, primary.commit, True)
        self.commit_number = max(self.commit_number, min(target_commit, self.op_number))
        assert self.op_number >= target_commit
        self._set_status("normal")
        self.last_normal_view = view
        self._save_meta()
        self._learner.finish()
        self._heard_from_primary()
        self._event(LEARNER_CAUGHT_UP, view=view, op=self.op_number, commit=self.commit_number)
        self._apply_committed()
        self._ack(self._to(self.primary_index))

    # -- repair of corrupt entries -----------------------------------------------------------

    def _on_GetEntry(self, m: GetEntry) -> None:
        if not self._voter_or_drop(m):
            return
        entry = self._entry(m.op) if m.op <= self.op_number else None
        vouched = entry is not None and vouches_for(
            m.op, commit_number=self.commit_number, is_primary=self.is_primary
        )
        if entry is None and m.op <= self.op_number:
            return  # we have it but cannot read it, or it is compacted: say nothing
        self._send(EntryReply(**self._hdr(m.source), op=m.op, entry=entry, vouched=vouched))

    def _on_EntryReply(self, m: EntryReply) -> None:
        if self.status != "recovering" or m.op not in self._journal.corrupt:
            self._drop(m, "unexpected")
            return
        if m.entry is not None and m.vouched:
            try:
                self._journal.repair(m.entry)
            except InvalidArgument:
                # Its view contradicts our damaged record: ours is a different entry. If the
                # sender is the primary of a view at least ours, its log holds every committed
                # op, so ours was never committed and the suffix from it can go.
                if self._from_primary_of_view(m) and m.view >= self.view:
                    self._event(REPAIR_TRUNCATE, op=m.op, nacks=[])
                    self._truncate_after(m.op - 1)
                else:
                    self._drop(m, "repair_mismatch")
                    return
            else:
                self._event(REPAIR, op=m.op, source=m.source)
        elif m.entry is None:
            outcome, nackers = self._repair.add_nack(m.op, source=self._src(m), f=self.config.f)
            if outcome == "truncate":
                # f + 1 peers lack it: at most f replicas ever had it, so it never committed.
                self._event(REPAIR_TRUNCATE, op=m.op, nacks=nackers)
                self._truncate_after(m.op - 1)
        if not self._journal.corrupt:
            self._repair.clear()
            self._event(REPAIRED)
            self._apply_committed()
            self._resume_after_open(self._now)

    # -- reads ---------------------------------------------------------------------------------

    def _on_Read(self, m: Read) -> None:
        if m.mode == "primary":
            if not self.is_primary:
                self._send(
                    ReadReply(
                        **self._hdr(m.source),
                        read_id=m.read_id,
                        mode=m.mode,
                        ok=False,
                        error="not_primary",
                    )
                )
                return
            if self._reads.check_leadership and not self._primary_has_quorum():
                # CheckQuorum: a primary that heard from no majority lately refuses at once
                # (no_leader_check switches this guard off with the read index's probe).
                self._send(
                    ReadReply(
                        **self._hdr(m.source),
                        read_id=m.read_id,
                        mode=m.mode,
                        ok=False,
                        error="no_quorum",
                    )
                )
                return
            # Read index: confirm with a majority (a heartbeat round started after this read
            # arrived) that we are still primary, then answer once applied >= read index.
            if not self._reads.add_primary(m, self.commit_number, self._probe + 1):
                self._drop(m, "read_queue_full")
                return
            self._probe_wanted = self._n > 1
            return
        if not self._voter_or_drop(m):
            return
        if m.mode == "quorum-highest-seq":
            self._answer(m, self._speculative_query(m.query), commit=self.commit_number)
            return
        if not self._reads.add_quorum(m, self.commit_number):
            self._drop(m, "read_queue_full")
            return
        if self.applied_op < self.commit_number:
            self._request_state()

    def _answer(self, m: Read, result: tuple[bool, Any], *, commit: int) -> None:
        ok, value = result
        self._send(
            ReadReply(
                **self._hdr(m.source),
                read_id=m.read_id,
                mode=m.mode,
                ok=ok,
                commit=commit,
                op=self.op_number,
                result=value if ok else None,
                error="" if ok else str(value),
            )
        )

    def _query(self, query: Any) -> tuple[bool, Any]:
        try:
            return True, self.machine.query(query)
        except (ClobError, ValueError, KeyError, TypeError, IndexError) as exc:
            return False, f"bad_query: {exc}"

    def _speculative_query(self, query: Any) -> tuple[bool, Any]:
        """Unsafe (S3-S5): answer from committed state plus the uncommitted suffix."""
        if self.applied_op >= self.op_number:
            return self._query(query)
        saved = self.machine.snapshot()
        op = self.applied_op + 1
        while op <= self.op_number:
            entry = self._entry(op)
            if entry is None:
                break
            env = decode_envelope(entry.payload)
            if not env.noop:
                self.machine.apply(op, env.ts_us, env.payload)
            op += 1
        result = self._query(query)
        self.machine.restore(saved)
        return result

    def _serve_quorum_reads(self) -> None:
        if not self._reads.quorum or not self._voter():
            return
        for m in self._reads.take_quorum(applied=self.applied_op):
            self._answer(m, self._query(m.query), commit=self.applied_op)

    def _serve_primary_reads(self) -> None:
        if not self._reads.primary:
            return
        confirmed = self._progress.confirmed_probe(self._probe, self._quorum)
        if self._n == 1:
            # A lone replica is its own majority and sends no probes: every read is confirmed.
            confirmed = self._probe + 1
        # (reads.primary_read_ready decides: this view's no-op committed, probe confirmed,
        # read index applied)
        ready = self._reads.take_primary(
            confirmed=confirmed,
            applied=self.applied_op,
            commit=self.commit_number,
            view_start_op=self._view_start_op,
        )
        for m in ready:
            self._answer(m, self._query(m.query), commit=self.applied_op)

    def _on_WriteBack(self, m: WriteBack) -> None:
        if self.status != "normal" or self.view < m.view or self.last_normal_view != self.view:
            self._drop(m, "cannot_vouch")
            return
        if m.commit > self.commit_number:
            self._event(LEARN_COMMIT, op=m.commit, via="write_back")
            self._learn_commit(m.commit)
        if self.commit_number > self._durable_commit:
            self._save_commit()  # the write-back promise: this commit number survives a crash
        self._send(WriteBackOk(**self._hdr(m.source), read_id=m.read_id, commit=self.commit_number))

    # -- timers ----------------------------------------------------------------------------------

    def _on_timers(self) -> None:
        now = self._now
        if self.status == "learner":
            if now >= self._retry_at:
                for i in self._others:
                    self._send(Recovery(**self._hdr(self._to(i)), nonce=self._learner.nonce))
                self._retry_at = now + self.config.state_request_timeout_us
            return
        if self.status == "recovering":
            if now >= self._retry_at:
                for op in sorted(self._journal.corrupt):
                    for i in self._others:
                        self._send(GetEntry(**self._hdr(self._to(i)), op=op))
                self._retry_at = now + self.config.state_request_timeout_us
            return
        if self.status == "view_change":
            if now >= self._vc_deadline and self.config.prevote:
                # stuck: ask whether a majority would move on, without raising our view
                self._vc_deadline = now + self._timeout()
                self._start_prevote()
            elif now >= self._vc_deadline:
                self._enter_view_change(self.view + 1, now)
            elif now >= self._vc_resend_at:
                self._send_view_change_messages()
            return
        if self.is_primary:
            if now >= self._heartbeat_due:
                self._heartbeat()
            return
        if now >= self._primary_deadline and self.config.prevote:
            self._primary_deadline = now + self._timeout()
            self._start_prevote()
            return
        if now >= self._primary_deadline:
            self._enter_view_change(self.view + 1, now)
            return
        if (self._catch_up.awaiting or self.commit_number > self.op_number) and (
            now >= self._catch_up.retry_at
        ):
            self._request_state(force=True)


# -- dispatch table -------------------------------------------------------------------------

Handler = Callable[[Replica, Any], None]

_HANDLERS: dict[type[Message], Handler] = {
    Request: Replica._on_Request,
    Read: Replica._on_Read,
    WriteBack: Replica._on_WriteBack,
    Prepare: Replica._on_Prepare,
    PrepareOk: Replica._on_PrepareOk,
    Commit: Replica._on_Commit,
    CommitOk: Replica._on_CommitOk,
    StartViewChange: Replica._on_StartViewChange,
    DoViewChange: Replica._on_DoViewChange,
    StartView: Replica._on_StartView,
    GetState: Replica._on_GetState,
    NewState: Replica._on_NewState,
    Recovery: Replica._on_Recovery,
    RecoveryResponse: Replica._on_RecoveryResponse,
    GetEntry: Replica._on_GetEntry,
    EntryReply: Replica._on_EntryReply,
    PreViewChange: Replica._on_PreViewChange,
    PreViewChangeOk: Replica._on_PreViewChangeOk,
}
"""Message kind -> the :class:`Replica` method that handles it (kinds not here are dropped
as ``unexpected_kind``: the client-bound ones)."""


def check_handler_table(
    handlers: dict[type[Message], Handler], kinds: Iterable[type[Message]]
) -> None:
    """Raise :class:`~clobkit.errors.ProtocolDefinitionError` unless ``handlers`` has exactly
    one entry per kind in ``kinds``, and every ``Replica._on_<Kind>`` method is in it.

    Run at import on the replica's own table, so a handler that is missing, renamed or left
    out fails loudly instead of silently dropping every message of its kind.

    >>> check_handler_table({}, [Prepare])
    Traceback (most recent call last):
    ...
    clobkit.errors.ProtocolDefinitionError: no handler for message kind(s) Prepare
    """
    wanted = list(kinds)
    missing = [k.__name__ for k in wanted if k not in handlers]
    if missing:
        raise ProtocolDefinitionError(f"no handler for message kind(s) {', '.join(missing)}")
    extra = [k.__name__ for k in handlers if k not in wanted]
    if extra:
        raise ProtocolDefinitionError(
            f"handlers for kind(s) no replica receives: {', '.join(extra)}"
        )
    listed = set(handlers.values())
    orphans = sorted(
        name
        for name, member in vars(Replica).items()
        if name.startswith("_on_") and name != "_on_timers" and member not in listed
    )
    if orphans:
        raise ProtocolDefinitionError(f"handler(s) not in the dispatch table: {', '.join(orphans)}")


check_handler_table(_HANDLERS, REPLICA_BOUND)
