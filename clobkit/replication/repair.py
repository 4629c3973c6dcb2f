"""Repair of corrupt log entries (Protocol-Aware Recovery, Alagappan et al. 2018).

A replica whose log holds a corrupt entry cannot vouch for its log, so it neither acks
nor votes (status ``"recovering"``) until every corrupt op is either

* **repaired**: a peer sends a copy it vouches for (the op is committed there, or the
  peer is the primary of its view), and the copy's view agrees with the damaged record; or
* **truncated**: ``f + 1`` peers say they do not have the op (a *nack quorum*): at most
  ``f`` replicas ever held it, so it never committed, and the log from it on can go. A
  vouched copy whose view contradicts ours, from the primary of a view at least ours, says
  the same thing (that primary holds every committed op, and ours is not it).

:class:`RepairState` holds what the replica collects while it repairs: who nacked which
op. The replica sends the ``GetEntry`` requests and applies the outcome; this module
decides it. :func:`truncate_point` is where the unsafe switch ``truncate_corrupt`` (S9)
skips all of this and cuts the log at the first corrupt op, as if it were a torn tail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = ["RepairOutcome", "RepairState", "truncate_point", "vouches_for"]

RepairOutcome = Literal["wait", "truncate"]


def vouches_for(op: int, *, commit_number: int, is_primary: bool) -> bool:
    """Whether a replica holding a readable entry ``op`` vouches for it to a repairing
    peer: when ``op`` is committed there, or when it is the primary (its log holds every
    committed op of its view).

    >>> vouches_for(3, commit_number=5, is_primary=False)
    True
    >>> vouches_for(7, commit_number=5, is_primary=False)
    False
    """
    return op <= commit_number or is_primary


def truncate_point(corrupt: Iterable[int], *, truncate_corrupt: bool) -> int | None:
    """Where recovery cuts a log that holds the corrupt ops ``corrupt``: ``None`` (keep the
    log and repair each corrupt op from peers, the safe answer), or, under the unsafe switch
    ``truncate_corrupt`` (S9), the op before the first corrupt one. A corrupt record in the
    middle of the log was synced, so it may have been acknowledged; cutting there, as if it
    were a torn tail, can drop committed ops. O(len(corrupt)).

    >>> truncate_point({7, 9}, truncate_corrupt=False) is None
    True
    >>> truncate_point({7, 9}, truncate_corrupt=True)
    6
    >>> truncate_point(set(), truncate_corrupt=True) is None
    True
    """
    ops = list(corrupt)
    if not truncate_corrupt or not ops:
        return None
    return min(ops) - 1


class RepairState:
    """The nacks collected for each corrupt op (reset when repair finishes).

    Invariant: each set holds distinct peer indexes; an op's set is dropped once its
    outcome is decided.

    >>> r = RepairState()
    >>> r.add_nack(4, source=1, f=1), r.add_nack(4, source=1, f=1), r.add_nack(4, source=2, f=1)
    (('wait', []), ('wait', []), ('truncate', [1, 2]))
    """

    __slots__ = ("nacks",)

    def __init__(self) -> None:
        self.nacks: dict[int, set[int]] = {}

    def add_nack(self, op: int, *, source: int, f: int) -> tuple[RepairOutcome, list[int]]:
        """Peer ``source`` does not have ``op``: ``("truncate", nackers)`` once ``f + 1``
        distinct peers said so (it never committed), else ``("wait", [])``."""
        nacks = self.nacks.setdefault(op, set())
        nacks.add(source)
        if len(nacks) >= f + 1:
            return "truncate", sorted(nacks)
        return "wait", []

    def clear(self) -> None:
        """Forget every nack (every corrupt op is settled)."""
        self.nacks = {}
