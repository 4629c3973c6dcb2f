"""The kinds of trace event a replica or client session reports, each named once.

Protocol code passes these constants, never a string, so a misspelt kind is a name
error (at import, or from the linter) instead of an event no figure or test recognises.
Each value is what the trace's ``kind`` column shows.
"""

from __future__ import annotations

__all__ = [
    "APPLY",
    "CLIENT_EVENT_KINDS",
    "CLIENT_INVOKE",
    "CLIENT_RETURN",
    "COMMIT",
    "COMMIT_LOST",
    "CORRUPT",
    "DAMAGED_DISK",
    "DROP",
    "FRESH_START",
    "INSTALL_SNAPSHOT",
    "JOIN_VIEW",
    "LEARNER_CAUGHT_UP",
    "LEARNER_START",
    "LEARN_COMMIT",
    "NO_QUORUM",
    "PREVOTE",
    "PRIMARY",
    "REBUILD",
    "RECOVER",
    "REPAIR",
    "REPAIRED",
    "REPAIR_START",
    "REPAIR_TRUNCATE",
    "REPLICA_EVENT_KINDS",
    "SNAPSHOT",
    "START_VIEW",
    "STATE_TRANSFER",
    "SYNC",
    "TRUNCATE",
    "VIEW_CHANGE_START",
]

APPLY = "apply"
COMMIT = "commit"
COMMIT_LOST = "commit_lost"
CORRUPT = "corrupt"
DAMAGED_DISK = "damaged_disk"
DROP = "drop"
FRESH_START = "fresh_start"
INSTALL_SNAPSHOT = "install_snapshot"
JOIN_VIEW = "join_view"
LEARN_COMMIT = "learn_commit"
LEARNER_CAUGHT_UP = "learner_caught_up"
LEARNER_START = "learner_start"
NO_QUORUM = "no_quorum"
PREVOTE = "prevote"
PRIMARY = "primary"
REBUILD = "rebuild"
RECOVER = "recover"
REPAIR = "repair"
REPAIR_START = "repair_start"
REPAIR_TRUNCATE = "repair_truncate"
REPAIRED = "repaired"
SNAPSHOT = "snapshot"
START_VIEW = "start_view"
STATE_TRANSFER = "state_transfer"
SYNC = "sync"
TRUNCATE = "truncate"
VIEW_CHANGE_START = "view_change_start"

CLIENT_INVOKE = "client_invoke"
CLIENT_RETURN = "client_return"

REPLICA_EVENT_KINDS: frozenset[str] = frozenset(
    {
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
    }
)
"""Every kind a :class:`~clobkit.replication.Replica` reports."""

CLIENT_EVENT_KINDS: frozenset[str] = frozenset({CLIENT_INVOKE, CLIENT_RETURN})
"""Every kind a :class:`~clobkit.replication.ClientSession` reports."""
