"""Quorum arithmetic: the majority size and the one "k-th highest" rule.

Three things a primary decides are the same question, asked of different
numbers: *what value has at least a majority reached?*

* the **commit number**: the highest op durable on a majority (its own durable
  op and each backup's acknowledged op);
* the **reply frontier** in ``read_mode="quorum"``: the highest commit number
  a majority knows durably;
* the **confirmed probe** for primary reads: the highest leadership probe a
  majority has answered.

Each is :func:`quorum_value` of the values reported so far (one per replica,
the primary's own included). Like etcd's ``quorum/majority.go``
(``CommittedIndex``), it sorts the values and takes the ``quorum``-th highest.

**Edge rule** (explicit, the same for all three): when fewer than ``quorum``
replicas have reported, no value is confirmed and the result is ``0``, the
value every counter starts at (op 0, commit 0, probe 0), so nothing advances.
A caller that needs a different answer for a special case says so itself (a
single-replica primary confirms its own probe at once: see
``Replica._serve_primary_reads``).
"""

from __future__ import annotations

from collections.abc import Iterable

from clobkit.errors import InvalidArgument

__all__ = ["majority", "quorum_value"]


def majority(n: int) -> int:
    """The smallest number of replicas that intersects every other such set: ``n // 2 + 1``.

    Any two majorities share at least one replica, which is what carries a
    committed entry (or a commit number) from one quorum to the next.

    >>> [majority(n) for n in (1, 3, 5, 7)]
    [1, 2, 3, 4]
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgument(f"n must be a positive int, got {n!r}")
    q = n // 2 + 1
    assert 2 * q > n  # two quorums always intersect
    return q


def quorum_value(values: Iterable[int], quorum: int) -> int:
    """The largest ``x`` that at least ``quorum`` of ``values`` reach (the ``quorum``-th
    highest); ``0`` when fewer than ``quorum`` values are given (the edge rule above).

    ``values`` holds one number per replica that reported. O(n log n).

    >>> quorum_value([7, 3, 5], 2)   # 7 and 5 reach 5; only one value reaches 7
    5
    >>> quorum_value([7], 2)         # one report, two needed: nothing confirmed
    0
    """
    ranked = sorted(values, reverse=True)
    if len(ranked) < quorum:
        return 0
    return ranked[quorum - 1]
