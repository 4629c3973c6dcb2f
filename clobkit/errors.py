"""The exceptions clobkit raises, in one small hierarchy.

Every error a user can cause derives from :class:`ClobError`, so
``except ck.ClobError`` catches them all. Bad input raises before any state
changes: a book, a log, a fill table or a WAL is exactly as it was.

The classes that describe bad input also derive from the matching built-in
(``ValueError``, ``KeyError``, ``TypeError``) so code written against the
standard library still works.

>>> import clobkit as ck
>>> issubclass(ck.InvalidArgument, ck.ClobError), issubclass(ck.InvalidArgument, ValueError)
(True, True)
"""

from __future__ import annotations

__all__ = [
    "ClobError",
    "InvalidArgument",
    "InvalidType",
    "OrderRejected",
    "DuplicateOrderId",
    "UnknownOrder",
    "NotOwner",
    "NoLiquidity",
    "StorageError",
    "NotAWal",
    "UnsupportedFormat",
    "WrongOwner",
    "CorruptEntry",
    "DiskFault",
    "PowerLoss",
    "StoreClosed",
    "CorruptWalHeader",
    "ReplicationError",
    "Unavailable",
    "OutcomeUnknown",
    "ProtocolDefinitionError",
    "UnknownNode",
    "BadFrame",
    "BadStream",
    "MissingDependency",
    "CheckerError",
    "MalformedHistory",
]


class ClobError(Exception):
    """Base class of every error clobkit raises on purpose."""


class InvalidArgument(ClobError, ValueError):
    """An argument has a value clobkit cannot accept; the message names it."""


class InvalidType(InvalidArgument, TypeError):
    """An argument has the wrong type (for example a ``bool`` quantity)."""


# -- the order book ---------------------------------------------------------


class OrderRejected(ClobError):
    """The book refused a well-formed command; ``reason`` is a stable code.

    ``reason`` is one of the codes in :data:`clobkit.book.REJECT_REASONS`.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class DuplicateOrderId(OrderRejected, InvalidArgument):
    """An order id that is already in use was given again."""


class UnknownOrder(OrderRejected, InvalidArgument, KeyError):
    """No live order has the given id."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class NotOwner(OrderRejected, InvalidArgument):
    """A user tried to cancel or modify another user's order."""


class NoLiquidity(OrderRejected, InvalidArgument):
    """A market order arrived when the opposite side of the book was empty."""


# -- storage ----------------------------------------------------------------


class StorageError(ClobError):
    """Something about the durable state is wrong."""


class NotAWal(StorageError, InvalidArgument):
    """The file is not a clobkit write-ahead log (bad magic); it was not touched."""


class UnsupportedFormat(StorageError, InvalidArgument):
    """The file was written by a newer (or unknown) format version."""


class WrongOwner(StorageError, InvalidArgument):
    """The directory belongs to another replica or another cluster."""


class CorruptEntry(StorageError):
    """A log entry failed its checksum; it must be repaired from a peer."""


class DiskFault(StorageError):
    """A simulated disk fault (for example a read error) was hit."""


class PowerLoss(DiskFault):
    """A power loss injected with ``crash_after`` was hit; the store that hit it is closed."""


class StoreClosed(StorageError):
    """The store was closed or crashed; reopen it (construct a new store) to recover."""


class CorruptWalHeader(StorageError):
    """The WAL file header has the right magic but fails its checksum.

    The file was left untouched; the replica cannot read its log and must be
    rebuilt from its peers (replace its disk).
    """


# -- replication ------------------------------------------------------------


class ReplicationError(ClobError):
    """Base class for errors raised by the replicated cluster."""


class Unavailable(ReplicationError):
    """The cluster cannot currently serve the request (for example no majority)."""


class ProtocolDefinitionError(ReplicationError):
    """The protocol code contradicts itself, e.g. a message kind a replica receives has no
    handler (or a handler answers no kind). Raised when the module is imported, never at
    run time."""


class OutcomeUnknown(ReplicationError):
    """A request timed out: it may or may not have been applied.

    The message says why (for example: no majority reachable) and for how
    long the client waited in simulated time.
    """


class UnknownNode(InvalidArgument, KeyError):
    """A node name that is not a replica of this cluster.

    >>> import clobkit as ck
    >>> str(ck.UnknownNode("node must be one of n0, n1, n2, got 'n7'"))
    "node must be one of n0, n1, n2, got 'n7'"
    """

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class BadFrame(ClobError, ValueError):
    """A frame whose body is not a well-formed message (dropped, connection kept)."""


class BadStream(ClobError, ValueError):
    """Bytes that are not clobkit frames (the connection is closed)."""


# -- views ----------------------------------------------------------------


class MissingDependency(InvalidArgument):
    """An optional package a function needs is not installed (the message names it)."""


# -- checking ---------------------------------------------------------------


class CheckerError(ClobError):
    """A history or model given to the checker is malformed."""


class MalformedHistory(CheckerError, InvalidArgument):
    """An operation, history or model argument is not what the checker accepts."""
