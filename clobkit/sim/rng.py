"""Named random streams, all derived from one seed.

Every random choice in a simulation (network latency, loss, disk faults,
client think times, timeouts, each replica's own protocol randomness) draws
from its own stream, and each stream is ``random.Random(f"{seed}/{name}")``.
Seeding :class:`random.Random` with a string hashes it with SHA-512, which
does not depend on ``PYTHONHASHSEED``, so the same seed gives the same
streams in every process. Separate streams keep unrelated choices from
disturbing each other: adding a client does not change the network's draws.
"""

from __future__ import annotations

import random

from clobkit.errors import InvalidArgument, InvalidType

__all__ = ["RandomStreams", "check_seed"]


def check_seed(seed: object) -> int:
    """Return ``seed`` if it is a non-negative int; raise otherwise.

    >>> check_seed(7)
    7

    Raises :class:`~clobkit.errors.InvalidType` for a non-int (or a bool) and
    :class:`~clobkit.errors.InvalidArgument` for a negative seed.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvalidType(f"seed must be an int, got {seed!r}")
    if seed < 0:
        raise InvalidArgument(f"seed must be >= 0, got {seed!r}")
    return seed


class RandomStreams:
    """A family of named :class:`random.Random` streams derived from ``seed``.

    ``streams.stream("network")`` returns the same object every time, so
    draws continue where they left off; two families with the same seed give
    the same draws per name, whatever order the names are first used in.

    >>> a, b = RandomStreams(1), RandomStreams(1)
    >>> a.stream("network").random() == b.stream("network").random()
    True
    >>> a.stream("disk").random() == a.stream("network").random()
    False
    """

    __slots__ = ("_streams", "seed")

    def __init__(self, seed: int) -> None:
        self.seed = check_seed(seed)
        self._streams: dict[str, random.Random] = {}

    def stream(self, name: str) -> random.Random:
        """The stream called ``name`` (created on first use). O(1)."""
        rng = self._streams.get(name)
        if rng is None:
            rng = random.Random(f"{self.seed}/{name}")
            self._streams[name] = rng
        return rng

    def fresh(self, name: str) -> random.Random:
        """A new stream for ``name`` starting from its first draw (not shared)."""
        return random.Random(f"{self.seed}/{name}")

    def __repr__(self) -> str:
        return f"RandomStreams(seed={self.seed}, streams={sorted(self._streams)})"
