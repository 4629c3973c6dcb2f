"""The simulated network: latency, loss, duplication, reordering, partitions, rules.

:meth:`Network.route` decides the fate of one message at the moment it is
sent: dropped (and why), or delivered at one or more future times. Every
random choice comes from the ``rng`` passed in (the simulation's
``"network"`` stream), so routes are reproducible.

How a send is decided, in order:

1. **rules** (:meth:`Network.add_rule`): the first rule whose predicate
   matches the message fires: ``drop`` it, or ``delay`` it by a fixed extra
   time. A rule may fire a bounded number of times (``count``). Rules are how
   a scenario says "drop the next Prepare from n0 to n2" exactly.
2. **partitions**: a blocked directed link drops the message
   (``"partitioned"``). :meth:`Network.partition` blocks every link between
   different groups; nodes named in no group (clients, by default) keep
   talking to everyone. :meth:`Network.block` cuts one direction only.
   Links are checked again on delivery, so a partition also cuts messages
   already in flight.
3. **loss** with probability ``loss``;
4. **latency** drawn from the link's :class:`Latency`; with probability
   ``reorder`` an extra delay up to ``reorder_us`` is added so that the
   message overtakes later ones;
5. **duplication** with probability ``duplicate``: a second copy with its
   own latency.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from clobkit.errors import InvalidArgument, InvalidType
from clobkit.replication.step import Message

__all__ = ["Latency", "Rule", "Network", "Route", "message_op", "matching"]

Distribution = Literal["constant", "uniform", "exponential"]
_DISTRIBUTIONS: tuple[str, ...] = ("constant", "uniform", "exponential")


def _check_int(name: str, value: object, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidType(f"{name} must be an int, got {value!r}")
    if value < low:
        raise InvalidArgument(f"{name} must be >= {low}, got {value!r}")
    return value


def _check_rate(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidType(f"{name} must be a number in [0, 1], got {value!r}")
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise InvalidArgument(f"{name} must be in [0, 1], got {value!r}")
    return rate


def message_op(message: Message) -> int | None:
    """The op number a message is about, if it carries one (for traces)."""
    for name in ("op", "op_number"):
        value = getattr(message, name, None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def matching(
    kind: str | None = None,
    *,
    source: str | None = None,
    target: str | None = None,
    view: int | None = None,
    op: int | None = None,
) -> Callable[[Message], bool]:
    """A predicate on messages: every given field must match.

    >>> m = Message(cluster_id="c", source="n0", target="n2", view=1)
    >>> matching("Message", source="n0")(m), matching(target="n1")(m)
    (True, False)
    """

    def match(message: Message) -> bool:
        return (
            (kind is None or message.kind == kind)
            and (source is None or message.source == source)
            and (target is None or message.target == target)
            and (view is None or message.view == view)
            and (op is None or message_op(message) == op)
        )

    return match


@dataclass(frozen=True, slots=True)
class Latency:
    """One-way latency of a link, in microseconds.

    ``constant`` always takes ``latency_us_min``; ``uniform`` draws an integer
    in ``[latency_us_min, latency_us_max]``; ``exponential`` is
    ``latency_us_min`` plus an exponential tail whose mean is half the spread,
    capped at ``latency_us_max``.

    >>> Latency("constant", 300).sample(random.Random(0))
    300
    >>> lat = Latency("uniform", 100, 200)
    >>> all(100 <= lat.sample(random.Random(i)) <= 200 for i in range(50))
    True

    Raises :class:`~clobkit.errors.InvalidArgument` for an unknown
    distribution or bounds with ``max < min``.
    """

    distribution: Distribution = "uniform"
    latency_us_min: int = 500
    latency_us_max: int | None = None

    def __post_init__(self) -> None:
        if self.distribution not in _DISTRIBUTIONS:
            raise InvalidArgument(
                f"distribution must be one of {_DISTRIBUTIONS}, got {self.distribution!r}"
            )
        _check_int("latency_us_min", self.latency_us_min)
        if self.latency_us_max is not None:
            _check_int("latency_us_max", self.latency_us_max)
            if self.latency_us_max < self.latency_us_min:
                raise InvalidArgument(
                    f"latency_us_max must be >= latency_us_min ({self.latency_us_min}), "
                    f"got {self.latency_us_max!r}"
                )

    @property
    def high_us(self) -> int:
        """The largest latency this link can draw."""
        if self.distribution == "constant" or self.latency_us_max is None:
            return self.latency_us_min
        return self.latency_us_max

    def sample(self, rng: random.Random) -> int:
        """Draw one latency (µs) from ``rng``. O(1)."""
        low, high = self.latency_us_min, self.high_us
        if high == low:
            return low
        if self.distribution == "uniform":
            return rng.randint(low, high)
        # exponential: mean of the tail is half the spread; the cap keeps a bound.
        tail = rng.expovariate(2.0 / (high - low))
        return min(high, low + int(tail))


@dataclass(slots=True)
class Rule:
    """A per-message rule: when ``match(message)`` is true, ``drop`` or ``delay`` it.

    ``count`` is how many more times it may fire (``None``: forever);
    ``fired`` counts how often it did. ``name`` appears in drop reasons
    (``"rule:<name>"``) and trace details.
    """

    name: str
    match: Callable[[Message], bool]
    action: Literal["drop", "delay"] = "drop"
    delay_us: int = 0
    count: int | None = 1
    fired: int = 0

    @property
    def exhausted(self) -> bool:
        """True once the rule has fired ``count`` times."""
        return self.count is not None and self.fired >= self.count


@dataclass(slots=True)
class Route:
    """What happens to one send: ``drop_reason`` or delivery times (µs)."""

    drop_reason: str | None = None
    deliver_at_us: list[int] = field(default_factory=list)
    rule: str | None = None


class Network:
    """Links between named nodes with latency, faults, partitions and rules.

    >>> net = Network(latency=Latency("constant", 250))
    >>> from clobkit.replication.step import Message
    >>> m = Message(cluster_id="c", source="n0", target="n1", view=0)
    >>> net.route(m, 1_000, random.Random(0)).deliver_at_us
    [1250]
    >>> net.isolate("n1")
    >>> net.route(m, 1_000, random.Random(0)).drop_reason
    'partitioned'
    """

    def __init__(
        self,
        latency: Latency | None = None,
        *,
        loss: float = 0.0,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        reorder_us: int = 2_000,
    ) -> None:
        if latency is not None and not isinstance(latency, Latency):
            raise InvalidType(f"latency must be a Latency, got {latency!r}")
        self.latency = latency if latency is not None else Latency("uniform", 500, 1_500)
        self.loss = _check_rate("loss", loss)
        self.duplicate = _check_rate("duplicate", duplicate)
        self.reorder = _check_rate("reorder", reorder)
        self.reorder_us = _check_int("reorder_us", reorder_us)
        self.links: dict[tuple[str, str], Latency] = {}
        self.blocked: set[tuple[str, str]] = set()
        self.isolated: set[str] = set()
        self.rules: list[Rule] = []

    # -- configuration -----------------------------------------------------

    def set_link(self, source: str, target: str, latency: Latency) -> None:
        """Give the link ``source -> target`` its own latency."""
        if not isinstance(latency, Latency):
            raise InvalidType(f"latency must be a Latency, got {latency!r}")
        self.links[(source, target)] = latency

    def set_loss(self, loss: float) -> None:
        """Drop each message with probability ``loss`` (0..1)."""
        self.loss = _check_rate("loss", loss)

    def set_duplicate(self, duplicate: float) -> None:
        """Deliver a second copy of each message with probability ``duplicate``."""
        self.duplicate = _check_rate("duplicate", duplicate)

    def set_reorder(self, reorder: float, reorder_us: int | None = None) -> None:
        """Delay a message by up to ``reorder_us`` extra with probability ``reorder``."""
        rate = _check_rate("reorder", reorder)
        if reorder_us is not None:
            self.reorder_us = _check_int("reorder_us", reorder_us)
        self.reorder = rate

    def block(self, source: str, target: str) -> None:
        """Cut the one-way link ``source -> target``."""
        self.blocked.add((source, target))

    def unblock(self, source: str, target: str) -> None:
        """Restore the one-way link ``source -> target``."""
        self.blocked.discard((source, target))

    def partition(self, groups: Iterable[Iterable[str]]) -> None:
        """Cut every link between nodes of different ``groups`` (both directions).

        Earlier cuts stay; call :meth:`heal` first for a fresh split.
        """
        listed = [sorted(set(g)) for g in groups]
        for i, group in enumerate(listed):
            for other in listed[i + 1 :]:
                for a in group:
                    for b in other:
                        self.blocked.add((a, b))
                        self.blocked.add((b, a))

    def isolate(self, node: str) -> None:
        """Cut ``node`` off from every other node (also ones created later), both ways."""
        self.isolated.add(node)

    def heal(self) -> None:
        """Restore every cut link and end every isolation (rules stay)."""
        self.blocked.clear()
        self.isolated.clear()

    def add_rule(self, rule: Rule) -> Rule:
        """Add ``rule`` after the existing ones; returns it (to inspect ``fired``)."""
        if rule.action not in ("drop", "delay"):
            raise InvalidArgument(f"rule action must be 'drop' or 'delay', got {rule.action!r}")
        _check_int("delay_us", rule.delay_us)
        if rule.count is not None:
            _check_int("count", rule.count, 1)
        self.rules.append(rule)
        return rule

    def clear_rules(self) -> None:
        """Remove every rule."""
        self.rules.clear()

    def can_reach(self, source: str, target: str) -> bool:
        """True unless the link ``source -> target`` is cut (or either end isolated)."""
        if self.isolated and (source in self.isolated or target in self.isolated):
            return source == target
        return (source, target) not in self.blocked

    # -- routing -------------------------------------------------------------

    def plain_arrival(self, now_us: int, rng: random.Random) -> int | None:
        """When a message sent at ``now_us`` arrives, if this network is plain (no rules,
        cuts, loss, duplicates, reordering or per-link latency); else ``None`` (ask
        :meth:`route`). Draws from ``rng`` exactly what :meth:`route` would. O(1).

        >>> net = Network(latency=Latency("uniform", 100, 200))
        >>> m = Message(cluster_id="c", source="n0", target="n1", view=0)
        >>> net.plain_arrival(1_000, random.Random(4))
        1130
        >>> net.route(m, 1_000, random.Random(4)).deliver_at_us
        [1130]
        """
        if (
            self.rules
            or self.blocked
            or self.isolated
            or self.loss
            or self.duplicate
            or self.reorder
            or self.links
        ):
            return None
        latency = self.latency
        low = latency.latency_us_min
        high = latency.latency_us_max
        if latency.distribution == "uniform" and high is not None and high > low:
            # rng.randint(low, high) draws exactly low + rng._randbelow(high - low + 1)
            # (tests/sim/test_sim_determinism.py checks the identity on this Python).
            below: Callable[[int], int] = rng._randbelow  # type: ignore[attr-defined]
            return now_us + low + below(high - low + 1)
        return now_us + latency.sample(rng)

    def route(self, message: Message, now_us: int, rng: random.Random) -> Route:
        """Decide the fate of ``message`` sent at ``now_us``. O(rules)."""
        source, target = message.source, message.target
        extra_us = 0
        for rule in self.rules:
            if rule.exhausted or not rule.match(message):
                continue
            rule.fired += 1
            if rule.action == "drop":
                return Route(drop_reason=f"rule:{rule.name}", rule=rule.name)
            extra_us += rule.delay_us
            break
        if (source, target) in self.blocked or (
            self.isolated and (source in self.isolated or target in self.isolated)
        ):
            return Route(drop_reason="partitioned")
        if self.loss and rng.random() < self.loss:
            return Route(drop_reason="loss")
        latency = self.links.get((source, target), self.latency)
        times = [now_us + extra_us + self._one_way(latency, rng)]
        if self.duplicate and rng.random() < self.duplicate:
            times.append(now_us + extra_us + self._one_way(latency, rng))
        return Route(deliver_at_us=times)

    def _one_way(self, latency: Latency, rng: random.Random) -> int:
        delay = latency.sample(rng)
        if self.reorder and rng.random() < self.reorder:
            delay += rng.randint(0, self.reorder_us)
        return delay

    def describe(self) -> str:
        """One line: latency, fault rates and cut links."""
        cuts = (
            ", ".join(
                [f"{a}->{b}" for a, b in sorted(self.blocked)]
                + [f"{n} isolated" for n in sorted(self.isolated)]
            )
            or "none"
        )
        lat = self.latency
        return (
            f"latency {lat.distribution} {lat.latency_us_min}..{lat.high_us}us, "
            f"loss {self.loss:g}, duplicate {self.duplicate:g}, reorder {self.reorder:g}, "
            f"cut: {cuts}"
        )

    def __repr__(self) -> str:
        return f"<Network {self.describe()}>"
