"""The one quorum rule is right for every set of reporting replicas up to seven.

``quorum_value`` decides the commit number, the quorum-mode reply frontier and the
confirmed read probe. For every cluster size 1..7, every subset of replicas that has
reported, and several value patterns, it must return exactly the largest value that a
majority of the cluster reaches (0 when fewer than a majority reported), and any two
majorities must intersect.
"""

from __future__ import annotations

import itertools

import pytest

from clobkit.errors import InvalidArgument
from clobkit.replication import majority, quorum_value


def _brute_force(values: list[int], quorum: int) -> int:
    """The largest x that at least ``quorum`` values reach; 0 if none does."""
    reached = [x for x in set(values) if sum(v >= x for v in values) >= quorum]
    return max(reached, default=0)


def _patterns(k: int) -> list[list[int]]:
    """Value lists of length ``k``: all equal, all distinct (both orders), with ties."""
    if k == 0:
        return [[]]
    return [
        [5] * k,
        list(range(1, k + 1)),
        list(range(k, 0, -1)),
        [i % 3 for i in range(k)],
        [(i * 7) % 5 + 1 for i in range(k)],
        [0] * k,
    ]


@pytest.mark.parametrize("n", range(1, 8))
def test_quorum_value_matches_brute_force_for_every_subset(n: int) -> None:
    q = majority(n)
    assert 2 * majority(n) > n
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            for values in _patterns(len(subset)):
                got = quorum_value(values, q)
                if len(subset) < q:
                    assert got == 0, (n, subset, values)
                else:
                    assert got == _brute_force(values, q), (n, subset, values)
                    # what it returns is really held by a majority of the cluster
                    assert sum(v >= got for v in values) >= q


@pytest.mark.parametrize("n", range(1, 8))
def test_any_two_majorities_intersect(n: int) -> None:
    q = majority(n)
    assert 2 * majority(n) > n
    majorities = [set(s) for s in itertools.combinations(range(n), q)]
    assert all(a & b for a in majorities for b in majorities)


def test_quorum_value_accepts_any_iterable_and_does_not_consume_more_than_once() -> None:
    assert quorum_value(iter([4, 9, 1]), 2) == 4
    assert quorum_value({0: 3, 1: 8}.values(), 2) == 3


def test_majority_rejects_a_non_positive_size() -> None:
    with pytest.raises(InvalidArgument, match="n must be"):
        majority(0)
