"""Seeded random workloads: simulated users placing, cancelling and reading.

Each :class:`RandomWorkload` user runs a closed loop on the simulated clock:
think for a random time, make one call through its own client session
(:meth:`clobkit.sim.Cluster.submit`), wait for the outcome, repeat. Because
every choice (what to do, side, price, size, think time) comes from the
workload's own random stream, the same seed gives the same calls at the same
simulated times, and a user that times out simply moves on (its session
keeps retrying the request with the same request number inside the call's
timeout, which is what the de-duplicating client table is for).

Prices are drawn around ``mid_ticks`` so that buys and sells cross often and
produce fills; cancels target the user's own orders that are still resting
as far as it knows (some will already be filled: the book then rejects the
cancel with ``unknown_order``, which is a legitimate outcome).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from heapq import heappush
from typing import TYPE_CHECKING

from clobkit.errors import InvalidArgument
from clobkit.sim.results import Call

if TYPE_CHECKING:  # pragma: no cover
    from clobkit.sim.cluster import Cluster

__all__ = ["RandomWorkload"]


class RandomWorkload:
    """Closed-loop random users on a cluster; start with :meth:`start`, then ``cluster.run``.

    ``mix`` weighs ``place``, ``cancel``, ``modify`` and ``read`` (reads
    alternate fills / live orders / depth). ``ops_per_user`` bounds the run
    (``None``: until stopped). Think times are uniform in
    ``[think_us_min, think_us_max]``.

    >>> import clobkit as ck
    >>> c = ck.Cluster(3, seed=2, storage="memory")
    >>> w = RandomWorkload(c, users=["u1", "u2"], ops_per_user=5).start()
    >>> _ = c.run(ms=500)
    >>> w.completed, len(c.history)
    (10, 10)
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        users: Sequence[str] = ("alice", "bob", "carol"),
        seed_name: str = "workload",
        mid_ticks: int = 10_000,
        spread_ticks: int = 5,
        qty_max: int = 10,
        think_us_min: int = 0,
        think_us_max: int = 2_000,
        mix: dict[str, float] | None = None,
        ops_per_user: int | None = None,
        timeout_ms: float | None = None,
    ) -> None:
        if not users:
            raise InvalidArgument("users must not be empty")
        if think_us_max < think_us_min or think_us_min < 0:
            raise InvalidArgument(
                f"need 0 <= think_us_min <= think_us_max, got {think_us_min}, {think_us_max}"
            )
        if mid_ticks - spread_ticks < 1:
            raise InvalidArgument(
                f"mid_ticks - spread_ticks must be >= 1, got {mid_ticks}, {spread_ticks}"
            )
        weights = mix or {"place": 0.6, "cancel": 0.2, "modify": 0.05, "read": 0.15}
        unknown = sorted(set(weights) - {"place", "cancel", "modify", "read"})
        if unknown:
            raise InvalidArgument(f"mix has unknown kind(s) {unknown}")
        self.cluster = cluster
        self.users = list(users)
        self.rng: random.Random = cluster.world.streams.stream(seed_name)
        self.mid_ticks = mid_ticks
        self.spread_ticks = spread_ticks
        self.qty_max = qty_max
        self.think_us_min = think_us_min
        self.think_us_max = think_us_max
        self.kinds = sorted(weights)
        self.weights = [weights[k] for k in self.kinds]
        # What rng.choices(kinds, weights) computes on every call, computed once (the draw
        # below is the one choices() makes: bisect of random() * total into the sums).
        self._cum_weights = list(itertools.accumulate(self.weights))
        self._total_weight = self._cum_weights[-1] + 0.0
        self.ops_per_user = ops_per_user
        self.timeout_ms = timeout_ms
        self.resting: dict[str, list[int]] = {u: [] for u in self.users}
        self.issued: dict[str, int] = dict.fromkeys(self.users, 0)
        self.completed = 0
        self.outcomes: dict[str, int] = {}
        self.stopped = False
        self._reads = 0
        # Per workload, computed once: the Decimal price of each tick count drawn (the same
        # few again and again; the same Decimal objects also keep their hash for the
        # cluster's price memo) and the bound methods every call schedules or gets.
        self._prices: dict[int, Decimal] = {}
        self._on_done = self._done
        self._issue_call = self._issue
        self._getrandbits: Callable[[int], int] = self.rng.getrandbits

    def start(self) -> RandomWorkload:
        """Schedule every user's first call; returns ``self``."""
        for user in self.users:
            self._schedule(user)
        return self

    def stop(self) -> None:
        """Issue no further calls (calls in flight still finish)."""
        self.stopped = True

    def _schedule(self, user: str) -> None:
        if self.stopped:
            return
        if self.ops_per_user is not None and self.issued[user] >= self.ops_per_user:
            return
        world = self.cluster.world
        # rng.randint(a, b) draws exactly a + rng._randbelow(b - a + 1), and _randbelow(n)
        # draws getrandbits(n.bit_length()) until it is below n: the same stream without
        # the two frames (tests/sim/test_sim_determinism.py checks the first identity,
        # tests/sim/test_sim_submit_fast.py this workload against rng.randint's).
        low = self.think_us_min
        n = self.think_us_max - low + 1
        bits = n.bit_length()
        getrandbits = self._getrandbits
        r = getrandbits(bits)
        while r >= n:
            r = getrandbits(bits)
        # (world.schedule(world.now_us + think, self._issue_call, user), inline)
        at_us = world.now_us + low + r
        if low + r < 0:  # (think_us_min set below 0 after the check: schedule() clamps)
            at_us = world.now_us
        world._seq += 1
        heappush(world._heap, (at_us, world._seq, self._issue_call, user))

    def _issue(self, user: str) -> None:
        cluster = self.cluster
        if self.stopped or cluster._closed:
            return
        rng = self.rng
        randbelow: Callable[[int], int] = rng._randbelow  # type: ignore[attr-defined]  # (the draws of choices/choice/randint, see _schedule)
        getrandbits = self._getrandbits
        kinds = self.kinds
        kind = kinds[bisect.bisect(self._cum_weights, rng.random() * self._total_weight, 0,
                                   len(kinds) - 1)]  # fmt: skip
        live = self.resting[user]
        if kind in ("cancel", "modify") and not live:
            kind = "place"
        # The draws of a place and a cancel are randbelow(n), inline: getrandbits(k) until it
        # is below n, k = n.bit_length() (as in _schedule).
        if kind == "place":
            r = getrandbits(2)  # (choice(("buy", "sell")): randbelow(2))
            while r >= 2:
                r = getrandbits(2)
            side = ("buy", "sell")[r]
            spread = self.spread_ticks
            n = 2 * spread + 1
            bits = n.bit_length()
            r = getrandbits(bits)
            while r >= n:
                r = getrandbits(bits)
            offset = r - spread
            ticks = self.mid_ticks + (offset if side == "buy" else -offset)
            price = self._prices.get(ticks)
            if price is None:
                price = self._prices[ticks] = cluster.market.ticks_to_price(ticks)
            n = self.qty_max
            bits = n.bit_length()
            r = getrandbits(bits)
            while r >= n:
                r = getrandbits(bits)
            # cluster.submit(user, "place", side=..., price=..., qty=..., timeout_ms=...)
            # without the journal's wrapper, in one frame: the same call and journal entry
            # (as below; see Cluster._submit_write).
            call = cluster._submit_write(
                user,
                "place",
                {"side": side, "price": price, "qty": 1 + r, "timeout_ms": self.timeout_ms},
            )
        elif kind == "cancel":
            # (rng.randrange(n) draws exactly rng._randbelow(n) for n >= 1, as randint above)
            n = len(live)
            bits = n.bit_length()
            r = getrandbits(bits)
            while r >= n:
                r = getrandbits(bits)
            call = cluster._submit_write(
                user, "cancel", {"order_id": live.pop(r), "timeout_ms": self.timeout_ms}
            )
        elif kind == "modify":
            order_id = live[randbelow(len(live))]
            call = cluster._submit(
                user,
                "modify",
                {
                    "order_id": order_id,
                    "qty": 1 + randbelow(self.qty_max),
                    "timeout_ms": self.timeout_ms,
                },
            )
        else:
            self._reads += 1
            read = ("fills", "live_orders", "depth")[self._reads % 3]
            if read == "depth":
                call = cluster._submit(user, read, {"timeout_ms": self.timeout_ms, "levels": 5})
            else:
                call = cluster._submit(user, read, {"timeout_ms": self.timeout_ms, "user": user})
        self.issued[user] += 1
        call.on_done.append(self._on_done)

    def _done(self, call: Call) -> None:
        self.completed += 1
        self.outcomes[call.outcome] = self.outcomes.get(call.outcome, 0) + 1
        if call.kind == "place" and call.outcome == "ok" and call.error is None:
            value = call.value
            if value is not None:
                # (value.resting_qty > 0 and value.order_id, read off the book's result: a
                # quantity in units is positive exactly when its lots are)
                result = value.result
                if result.resting_qty > 0 and result.order_id is not None:
                    self.resting[call.client_id].append(result.order_id)
        self._schedule(call.client_id)

    def __repr__(self) -> str:
        return (
            f"<RandomWorkload users={len(self.users)} issued={sum(self.issued.values())} "
            f"completed={self.completed} outcomes={dict(sorted(self.outcomes.items()))}>"
        )
