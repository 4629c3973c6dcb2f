"""Cluster configuration: sizes, timeouts, read mode and the unsafe teaching switches.

A :class:`ClusterConfig` is the one value every replica and client session of
a cluster shares. It is validated once, at construction, so the protocol code
can trust it: the replica count is odd (``n = 2f + 1`` tolerates ``f``
failures), timeouts are positive and ordered, the read mode is known, and
every unsafe switch is one of :data:`UNSAFE_SWITCHES` (an unknown name is a
typo that would silently leave a safety mechanism on, so it is rejected).

The unsafe switches each turn off one standard fix so that a notebook (and
the checker) can show what goes wrong without it (see SCENARIOS.md):

``no_fencing``          replicas ignore views: a deposed primary keeps replicating (S1, S2)
``own_wal_failover``    a new primary takes over from its own log only (S6)
``learner_votes``       an empty replacement counts in quorums at once (S7)
``ack_before_fsync``    the store's sync policy is ``"never"`` (S8)
``no_dedup``            no client table: a retried request is applied again (S10)
``apply_before_commit`` the primary applies (matches, publishes) before commit (S11)
``no_write_back``       a quorum read returns without writing its commit number back (S12)
``no_leader_check``     a primary read skips the leadership probe (S13)
``truncate_corrupt``    recovery cuts the log at a corrupt middle record, no repair (S9)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication.quorum import majority
from clobkit.replication.step import replica_name
from clobkit.storage.base import SyncPolicy

__all__ = [
    "ACK_BEFORE_FSYNC",
    "APPLY_BEFORE_COMMIT",
    "LEARNER_VOTES",
    "NO_DEDUP",
    "NO_FENCING",
    "NO_LEADER_CHECK",
    "NO_WRITE_BACK",
    "OWN_WAL_FAILOVER",
    "READ_MODES",
    "TRUNCATE_CORRUPT",
    "UNSAFE_SWITCHES",
    "ClusterConfig",
    "ReadMode",
    "majority",
]

ReadMode = Literal["quorum", "primary", "quorum-highest-seq"]
READ_MODES: tuple[ReadMode, ...] = ("quorum", "primary", "quorum-highest-seq")

NO_FENCING = "no_fencing"
"""Unsafe switch: replicas ignore views, so a deposed primary keeps replicating (S1, S2)."""
OWN_WAL_FAILOVER = "own_wal_failover"
"""Unsafe switch: a new primary takes over from its own log only (S6)."""
LEARNER_VOTES = "learner_votes"
"""Unsafe switch: an empty replacement counts in quorums at once (S7)."""
ACK_BEFORE_FSYNC = "ack_before_fsync"
"""Unsafe switch: the store's sync policy is ``"never"`` (S8)."""
NO_DEDUP = "no_dedup"
"""Unsafe switch: no client table, a retried request is applied again (S10)."""
APPLY_BEFORE_COMMIT = "apply_before_commit"
"""Unsafe switch: the primary applies (matches, publishes) before commit (S11)."""
NO_WRITE_BACK = "no_write_back"
"""Unsafe switch: a quorum read returns the highest commit number it saw without writing it
back to a majority first, so a later read can miss what it returned (S12)."""
NO_LEADER_CHECK = "no_leader_check"
"""Unsafe switch: a primary read (``read_mode="primary"``) is answered without confirming
leadership with a majority (neither the read index's probe nor the CheckQuorum refusal of a
primary that heard from no majority lately), so a deposed primary serves stale state (S13)."""
TRUNCATE_CORRUPT = "truncate_corrupt"
"""Unsafe switch: recovery treats a corrupt record in the middle of the WAL like a torn tail
and cuts the log there, instead of repairing the record from a peer; the ops it drops may
be committed and acknowledged (S9)."""

UNSAFE_SWITCHES: frozenset[str] = frozenset(
    {
        NO_FENCING,
        OWN_WAL_FAILOVER,
        LEARNER_VOTES,
        ACK_BEFORE_FSYNC,
        NO_DEDUP,
        APPLY_BEFORE_COMMIT,
        NO_WRITE_BACK,
        NO_LEADER_CHECK,
        TRUNCATE_CORRUPT,
    }
)
"""Every unsafe switch; protocol code names them by the constants above (a typo in a
constant is a NameError at import, where a typo in a string would silently leave a
safety mechanism on)."""


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {value!r}")
    if value <= 0:
        raise InvalidArgument(f"{name} must be positive, got {value!r}")
    return value


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """Everything a cluster's replicas and clients agree on.

    ``replica_count`` must be odd (1, 3, 5, 7...). Times are simulated
    microseconds. ``batch_max`` bounds the entries in one ``Prepare``;
    ``snapshot_every`` (``None``: never) makes a replica snapshot its state
    machine and compact its log every that many applied ops. ``unsafe`` holds
    names from :data:`UNSAFE_SWITCHES`.

    ``prevote`` (default ``True``): a backup whose primary went quiet first asks the others
    (``PreViewChange``) whether they too have lost the primary, and starts a view change only
    when a majority, itself included, says so; a replica that heard from a live primary within
    ``view_change_timeout_us_min`` refuses (Raft's PreVote, Ongaro's thesis 9.6). A primary that
    has heard from no majority for ``view_change_timeout_us_min`` stops serving: it refuses
    writes and primary-mode reads with ``error="no_quorum"`` (CheckQuorum) until a majority
    answers again. ``prevote=False`` is the textbook behaviour: a replica that times out moves
    to the next view at once, so an isolated replica climbs a view per timeout and drags the
    cluster into its view when it rejoins (a needless view change; safe, but downtime).

    >>> ClusterConfig("demo", 3).prevote, ClusterConfig("demo", 3, prevote=False).prevote
    (True, False)

    >>> cfg = ClusterConfig("demo", 3)
    >>> cfg.f, cfg.quorum, cfg.replica_names, cfg.sync_policy
    (1, 2, ('n0', 'n1', 'n2'), 'group')
    >>> ClusterConfig("demo", 3, unsafe={"ack_before_fsync"}).sync_policy
    'never'
    >>> ClusterConfig("demo", 4)
    Traceback (most recent call last):
    ...
    clobkit.errors.InvalidArgument: replica_count must be odd (2f + 1), got 4

    Raises :class:`~clobkit.errors.InvalidArgument` for an even or
    non-positive replica count, an unknown read mode or unsafe switch, or
    non-positive / misordered timeouts.
    """

    cluster_id: str
    replica_count: int
    read_mode: ReadMode = "quorum"
    unsafe: frozenset[str] = field(default_factory=frozenset)
    heartbeat_us: int = 20_000
    view_change_timeout_us_min: int = 150_000
    view_change_timeout_us_max: int = 300_000
    batch_max: int = 64
    request_timeout_us: int = 200_000
    state_request_timeout_us: int = 50_000
    safe_sync_policy: SyncPolicy = "group"
    snapshot_every: int | None = None
    prevote: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.cluster_id, str) or not self.cluster_id:
            raise InvalidArgument(f"cluster_id must be a non-empty str, got {self.cluster_id!r}")
        n = _positive_int("replica_count", self.replica_count)
        if n % 2 == 0:
            raise InvalidArgument(f"replica_count must be odd (2f + 1), got {n}")
        if self.read_mode not in READ_MODES:
            raise InvalidArgument(
                f"read_mode must be one of {', '.join(READ_MODES)}, got {self.read_mode!r}"
            )
        unsafe = self.unsafe
        if isinstance(unsafe, str) or not isinstance(unsafe, Iterable):
            raise InvalidType(f"unsafe must be a set of switch names, got {unsafe!r}")
        names = frozenset(unsafe)
        unknown = sorted(str(u) for u in names - UNSAFE_SWITCHES)
        if unknown:
            raise InvalidArgument(
                f"unsafe has unknown switch(es) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(UNSAFE_SWITCHES))}"
            )
        object.__setattr__(self, "unsafe", names)
        for name in (
            "heartbeat_us",
            "view_change_timeout_us_min",
            "view_change_timeout_us_max",
            "batch_max",
            "request_timeout_us",
            "state_request_timeout_us",
        ):
            _positive_int(name, getattr(self, name))
        if self.view_change_timeout_us_max < self.view_change_timeout_us_min:
            raise InvalidArgument(
                "view_change_timeout_us_max must be >= view_change_timeout_us_min, got "
                f"{self.view_change_timeout_us_max} < {self.view_change_timeout_us_min}"
            )
        if self.view_change_timeout_us_min <= self.heartbeat_us:
            raise InvalidArgument(
                "view_change_timeout_us_min must exceed heartbeat_us, got "
                f"{self.view_change_timeout_us_min} <= {self.heartbeat_us}"
            )
        if self.safe_sync_policy not in ("always", "group"):
            raise InvalidArgument(
                f"safe_sync_policy must be 'always' or 'group', got {self.safe_sync_policy!r}"
            )
        if self.snapshot_every is not None:
            _positive_int("snapshot_every", self.snapshot_every)
        if not isinstance(self.prevote, bool):
            raise InvalidType(f"prevote must be a bool, got {self.prevote!r}")

    @property
    def f(self) -> int:
        """How many replicas may fail: ``(replica_count - 1) // 2``."""
        return (self.replica_count - 1) // 2

    @property
    def quorum(self) -> int:
        """The majority size, ``f + 1``."""
        return majority(self.replica_count)

    @property
    def replica_names(self) -> tuple[str, ...]:
        """``("n0", "n1", ...)``."""
        return tuple(replica_name(i) for i in range(self.replica_count))

    @property
    def sync_policy(self) -> SyncPolicy:
        """The store sync policy to build stores with: ``"never"`` under ``ack_before_fsync``."""
        return "never" if ACK_BEFORE_FSYNC in self.unsafe else self.safe_sync_policy

    def is_unsafe(self, switch: str) -> bool:
        """True when the unsafe teaching switch ``switch`` is on.

        >>> ClusterConfig("demo", 3, unsafe={"no_dedup"}).is_unsafe("no_dedup")
        True
        """
        assert switch in UNSAFE_SWITCHES, switch
        return switch in self.unsafe

    def primary_index(self, view: int) -> int:
        """The replica that is primary in ``view``: ``view mod replica_count`` (VSR).

        >>> ClusterConfig("demo", 3).primary_index(4)
        1
        """
        return view % self.replica_count
