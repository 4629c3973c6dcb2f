"""Fault schedules: what goes wrong, and when, as plain data.

A :class:`Fault` is an action name, its arguments and a time; a schedule is
a list of them. :func:`random_faults` draws a schedule from a seeded stream
(the cluster's ``"faults"`` stream), so a failing campaign run is replayed
exactly from its seed, and a schedule can be printed, edited and applied by
hand. Applying is the target's business (:meth:`clobkit.sim.Cluster.schedule_faults`
calls the method of the same name: ``crash``, ``restart``, ``replace``,
``pause``, ``resume``, ``partition``, ``isolate``, ``heal``, ``set_loss``,
``set_duplicate``).

The generator keeps the schedule *recoverable*: at most ``max_down``
replicas are crashed or paused at once, a node is replaced only while every
other replica is up and no other replacement happened recently (a
replacement loses that disk, and losing more than ``f`` disks before the
learners catch up loses committed data by design), and every fault is undone by
the end (``heal``, restarts, ``set_loss(0)``), so a run can be checked for
liveness as well as safety after a quiet period.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clobkit.errors import InvalidArgument

__all__ = [
    "BYSTANDER",
    "Fault",
    "FAULT_ACTIONS",
    "NEXT_PRIMARY",
    "PRIMARY",
    "SWARM_KINDS",
    "Swarm",
    "random_faults",
    "swarm_faults",
]

PRIMARY = "@primary"
"""A fault argument that names whichever replica is primary when the fault applies."""

NEXT_PRIMARY = "@next"
"""A fault argument that names the replica leading the view after the primary's when the
fault applies (:attr:`clobkit.sim.Cluster.next_primary`): the one a view change makes primary."""

BYSTANDER = "@bystander"
"""A fault argument that names the replica leading the view two after the primary's when the
fault applies (:attr:`clobkit.sim.Cluster.bystander`): with 3 replicas, the one that is neither
primary nor :data:`NEXT_PRIMARY`. A fault naming it is skipped in a one-replica cluster."""

FAULT_ACTIONS = (
    "crash",
    "restart",
    "replace",
    "pause",
    "resume",
    "partition",
    "isolate",
    "heal",
    "set_loss",
    "set_duplicate",
    "lose_file",
    "bounce",
    "block",
    "delay_next",
    "set_link_latency",
)


@dataclass(frozen=True, slots=True)
class Fault:
    """At ``at_us``, call ``target.<action>(*args)``.

    >>> Fault(1_000, "crash", ("n0",))
    Fault(at_us=1000, action='crash', args=('n0',))
    """

    at_us: int
    action: str
    args: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        if self.action not in FAULT_ACTIONS:
            raise InvalidArgument(f"action must be one of {FAULT_ACTIONS}, got {self.action!r}")
        if isinstance(self.at_us, bool) or not isinstance(self.at_us, int) or self.at_us < 0:
            raise InvalidArgument(f"at_us must be an int >= 0, got {self.at_us!r}")

    def as_call(self) -> str:
        """This fault as the :class:`~clobkit.sim.Cluster` call it makes (``c`` the cluster).

        >>> Fault(5_000, "crash", ("n0", True)).as_call()
        "c.crash('n0', True)"
        >>> Fault(9_000, "bounce", (PRIMARY, 20.0)).as_call()
        'c.bounce(c.primary, 20.0)'
        >>> Fault(9_000, "block", (PRIMARY, NEXT_PRIMARY)).as_call()
        'c.block(c.primary, c.next_primary)'
        """
        args = []
        for a in self.args:
            if a == PRIMARY:
                args.append("c.primary")
            elif a == NEXT_PRIMARY:
                args.append("c.next_primary")
            elif a == BYSTANDER:
                args.append("c.bystander")
            elif isinstance(a, set | frozenset):
                args.append("{" + ", ".join(repr(x) for x in sorted(a)) + "}")
            else:
                args.append(repr(a))
        if self.action == "delay_next":
            kind, delay_ms, source, target, count = self.args
            return (
                f"c.delay_next({kind!r}, delay_ms={delay_ms!r}, source={source!r}, "
                f"target={target!r}, count={count!r})"
            )
        return f"c.{self.action}({', '.join(args)})"

    def __str__(self) -> str:
        args = ", ".join(
            "{" + ", ".join(sorted(a)) + "}" if isinstance(a, set | frozenset) else repr(a)
            for a in self.args
        )
        return f"{self.at_us / 1000:>9.1f} ms  {self.action}({args})"


def random_faults(
    rng: random.Random,
    nodes: Sequence[str],
    *,
    start_us: int = 0,
    duration_us: int = 2_000_000,
    mean_gap_us: int = 150_000,
    max_down: int | None = None,
    kinds: Sequence[str] = ("crash", "partition", "isolate", "loss", "pause", "replace"),
    max_loss: float = 0.2,
    replace_gap_us: int = 600_000,
) -> list[Fault]:
    """A seeded, recoverable fault schedule over ``[start_us, start_us + duration_us)``.

    Faults arrive with exponential gaps of mean ``mean_gap_us``; each either
    starts a fault of one of ``kinds`` or undoes one in force. Everything is
    undone at the end. ``max_down`` defaults to ``f = (len(nodes) - 1) // 2``.
    Two replacements are at least ``replace_gap_us`` apart, so a learner has
    time to catch up before another disk is lost.
    O(number of faults).

    >>> fs = random_faults(random.Random(1), ["n0", "n1", "n2"], duration_us=1_000_000)
    >>> fs == random_faults(random.Random(1), ["n0", "n1", "n2"], duration_us=1_000_000)
    True
    >>> fs[-1].action in ("heal", "restart", "resume", "set_loss")
    True
    """
    names = list(nodes)
    if not names:
        raise InvalidArgument("nodes must not be empty")
    unknown = sorted(
        set(kinds) - {"crash", "partition", "isolate", "loss", "pause", "replace", "duplicate"}
    )
    if unknown:
        raise InvalidArgument(f"kinds has unknown fault kind(s) {unknown}")
    limit = (len(names) - 1) // 2 if max_down is None else max_down
    faults: list[Fault] = []
    down: dict[str, str] = {}  # node -> "crash" | "pause"
    cut = False
    lossy = False
    duplicating = False
    now = start_us
    end = start_us + duration_us
    last_replace = start_us - replace_gap_us
    while True:
        now += max(1, int(rng.expovariate(1.0 / mean_gap_us)))
        if now >= end:
            break
        kind = rng.choice(list(kinds))
        # With some probability, undo something instead of adding a fault.
        if (down or cut or lossy or duplicating) and rng.random() < 0.45:
            choices: list[str] = sorted(down)
            if cut:
                choices.append("~cut")
            if lossy:
                choices.append("~loss")
            if duplicating:
                choices.append("~dup")
            undo = rng.choice(choices)
            if undo == "~cut":
                faults.append(Fault(now, "heal"))
                cut = False
            elif undo == "~loss":
                faults.append(Fault(now, "set_loss", (0.0,)))
                lossy = False
            elif undo == "~dup":
                faults.append(Fault(now, "set_duplicate", (0.0,)))
                duplicating = False
            else:
                action = "restart" if down.pop(undo) == "crash" else "resume"
                faults.append(Fault(now, action, (undo,)))
            continue
        up = [n for n in names if n not in down]
        if kind in ("crash", "pause") and len(down) < limit and up:
            node = rng.choice(up)
            torn = rng.random() < 0.3
            if kind == "crash":
                faults.append(Fault(now, "crash", (node, torn)))
            else:
                faults.append(Fault(now, "pause", (node,)))
            down[node] = kind
        elif kind == "replace" and not down and not cut and now - last_replace >= replace_gap_us:
            node = rng.choice(names)
            faults.append(Fault(now, "replace", (node,)))
            last_replace = now
        elif kind == "partition":
            shuffled = names[:]
            rng.shuffle(shuffled)
            split = rng.randint(1, len(shuffled) - 1) if len(shuffled) > 1 else 1
            faults.append(
                Fault(now, "partition", (frozenset(shuffled[:split]), frozenset(shuffled[split:])))
            )
            cut = True
        elif kind == "isolate":
            faults.append(Fault(now, "isolate", (rng.choice(names),)))
            cut = True
        elif kind == "loss":
            faults.append(Fault(now, "set_loss", (round(rng.uniform(0.01, max_loss), 3),)))
            lossy = True
        elif kind == "duplicate":
            faults.append(Fault(now, "set_duplicate", (round(rng.uniform(0.01, 0.2), 3),)))
            duplicating = True
    # Undo everything still in force, in a fixed order.
    if cut:
        faults.append(Fault(end, "heal"))
    if lossy:
        faults.append(Fault(end, "set_loss", (0.0,)))
    if duplicating:
        faults.append(Fault(end, "set_duplicate", (0.0,)))
    for node in sorted(down):
        faults.append(Fault(end, "restart" if down[node] == "crash" else "resume", (node,)))
    return faults


SWARM_KINDS = (
    "crash",
    "bounce",
    "pause",
    "partition",
    "isolate",
    "block",
    "delay",
    "latency",
    "loss",
    "duplicate",
    "lose_file",
    "power_loss",
    "replace",
    "rejoin",
    "pause_primary",
    "lagging_successor",
    "bit_rot",
    "stale_prepares",
)
"""Fault kinds :func:`swarm_faults` draws from (each seed uses its own subset). ``rejoin``
cuts one replica off for a long while (0.3-1.5 s: many view-change timeouts; no disk is lost
meanwhile) and heals: the
pre-vote round must keep it from moving anyone's view. ``pause_primary`` stalls whoever is
primary and resumes it later (after the others may have replaced it): it comes back
believing it leads an old view. ``lagging_successor`` cuts the primary's link to the replica
that leads the next view (:data:`NEXT_PRIMARY`) while writes commit without it, then heals
and crashes the primary at once: the view change must hand the new primary the log it
missed (scenario S6). About two times in three the primary also loses its ``meta`` and/or
``wal.log`` and is back within 100 ms, while that view change runs: it must relearn its
state as a learner, not vote on what it forgot (S7). ``bit_rot`` is the same episode with
media corruption instead: the primary's WAL gets a flipped bit in a synced record in the
middle of the log, and it is back within 100 ms: it must repair that record from its peers
before it votes, not cut its log there (S9; memory storage only, a file store keeps its
bytes). In bit_rot and a lagging_successor that loses files, the successor does not hear the
:data:`BYSTANDER` (the one replica holding every op it missed, with 3 replicas) for 350-500
ms after the crash, so the bounced primary is the one voter it can form the next view with.
``stale_prepares`` holds the primary's next Prepares back for 0.8-1.6 s and crashes it 20-60
ms later for 300-600 ms: they reach the backups once those serve the next view, built
without them (fencing must drop them; S1). Episode kinds draw their place in this order
(bit_rot, lagging_successor, stale_prepares), a few tries each. These are *episodes*: each
comes with a window in which no other replica fault starts and no other network cut starts
or heals (and no disk is lost), so the schedule stays within ``f``."""

_MESSAGE_KINDS = (
    "Prepare", "PrepareOk", "Commit", "CommitOk", "StartViewChange", "DoViewChange",
    "StartView", "GetState", "NewState", "Request", "Reply", "Read", "ReadReply",
    "WriteBack", "WriteBackOk", "Recovery", "RecoveryResponse", "GetEntry", "EntryReply",
)  # fmt: skip
_PREVOTE_KINDS = ("PreViewChange", "PreViewChangeOk")
# The kinds aimed at the pre-vote round (issue 18) draw from a stream of their own, so a
# seed that does not take them keeps exactly the schedule it had before they existed (the
# catches the switch tests rely on stay where they were).
_AIMED = frozenset({"rejoin", "pause_primary"})
# Episodes aimed at the view change (issue 12: own_wal_failover, learner_votes): each kind is
# taken or not by a draw from its own stream, keyed by its name, and its faults come from that
# stream too, so adding an episode kind changes no other kind's draws (only where an earlier
# kind's episode leaves it room); a seed that takes none keeps exactly the schedule it had
# before they existed. bit_rot places first: the other two have more room to spare.
_EPISODES = ("bit_rot", "lagging_successor", "stale_prepares")
_CATCH_UP_US = 800_000  # a restarted or relearning replica counts as faulty this long after


def _episode(
    kind: str, rng: random.Random, start_us: int, end_us: int
) -> tuple[list[Fault], tuple[int, int], int]:
    """One episode of ``kind`` inside ``[start_us, end_us)``, the window it keeps clear of
    other replica faults (while it runs, and while a restarted replica catches up after),
    and until when it keeps disk losses away (a corrupt record waits for a good copy)."""
    assert kind in _EPISODES, kind
    if kind == "stale_prepares":
        # The primary's next Prepares are held back long past a view change (to everyone:
        # none of them commits in its view), and it crashes a moment later, down long enough
        # for the others to form the next view without it (so without those entries); they
        # reach the backups once those serve that view, whose own entries sit at the same
        # ops: fencing must drop them (S1, S2).
        at = rng.randint(start_us, max(start_us, end_us - 50_000))
        delay_ms = float(rng.choice((800, 1_200, 1_600)))
        count = rng.randint(6, 16)  # (to two or four backups: all it sends before the crash)
        crash_at = at + rng.randint(20_000, 60_000)
        down_ms = float(rng.randint(300, 600))
        back = crash_at + int(down_ms * 1000)
        faults = [
            Fault(at, "delay_next", ("Prepare", delay_ms, PRIMARY, None, count)),
            Fault(crash_at, "bounce", (PRIMARY, down_ms)),
        ]
        return faults, (at, back + 200_000), back + 200_000
    # Writes commit without the successor for a while; then it is reconnected and the
    # primary crashes at the same instant, long enough for a view change to replace it,
    # or (half the time) it loses files and is back while that view change runs. bit_rot:
    # it comes back as fast with a corrupt record in the middle of its log instead.
    lag_us = rng.randint(20_000, 250_000)
    at = rng.randint(start_us, max(start_us, end_us - lag_us - 1))
    cut = at + lag_us
    lost: tuple[str, ...] = ()
    if kind == "bit_rot":
        down_ms = float(rng.randint(0, 100))
        bounce: tuple[Any, ...] = (PRIMARY, down_ms, (), True)
    elif rng.random() < 0.65:
        # (mostly its log: a lost meta alone leaves it every entry it held)
        lost = rng.choice((("meta",), ("wal.log",), ("wal.log",), ("meta", "wal.log")))
        down_ms = float(rng.randint(0, 100))
        bounce = (PRIMARY, down_ms, lost)
    else:
        down_ms = float(rng.randint(150, 500))
        bounce = (PRIMARY, down_ms)
    faults = [
        Fault(at, "block", (PRIMARY, NEXT_PRIMARY)),
        Fault(cut, "heal"),
        Fault(cut, "bounce", bounce),
    ]
    # A learner relearns the whole state; a corrupt record is one fetch away, but until it
    # is repaired the only good copies are on the others: no disk may be lost meanwhile.
    back = cut + int(down_ms * 1000)
    settle = _CATCH_UP_US if lost else 200_000
    until = back + settle
    if kind == "bit_rot" or lost:
        # The bystander (who holds every op the successor missed) is not heard by the
        # successor through the view change: the successor's quorum is the bounced primary,
        # whose log must be whole again (relearnt, or its corrupt record repaired, from the
        # bystander, which it still hears) before it votes (S7, S9).
        heal_at = min(end_us, cut + rng.randint(350_000, 500_000))  # (all heal by the end)
        faults.insert(2, Fault(cut, "block", (BYSTANDER, NEXT_PRIMARY)))
        faults.append(Fault(heal_at, "heal"))
        until = max(until, heal_at + 200_000)
    return faults, (at, until), max(until, back + (_CATCH_UP_US if len(bounce) > 2 else settle))


@dataclass(frozen=True, slots=True)
class Swarm:
    """What one seed's nemesis drew: its fault kinds, their weights and pace, and whether
    the schedule went beyond ``f`` faulty replicas at once (``beyond_f``: then the run may
    end unavailable, but still never wrong)."""

    kinds: tuple[str, ...]
    weights: tuple[int, ...]
    mean_gap_us: int
    beyond_f: bool

    def __str__(self) -> str:
        kinds = ",".join(f"{k}x{w}" for k, w in zip(self.kinds, self.weights, strict=True))
        return f"{kinds}/{self.mean_gap_us // 1000}ms{' beyond-f' if self.beyond_f else ''}"


def swarm_faults(
    rng: random.Random,
    nodes: Sequence[str],
    *,
    start_us: int = 0,
    duration_us: int = 1_500_000,
    kinds: Sequence[str] = SWARM_KINDS,
    latency_us: tuple[int, int] = (500, 1_500),
) -> tuple[list[Fault], Swarm]:
    """A seeded swarm-testing schedule: this seed's own subset of ``kinds``, weights and pace.

    Swarm testing (Groce et al., ISSTA 2012; TigerBeetle's VOPR does the same): a seed that
    draws only a few kinds hammers those mechanisms hard (fast crash-restart of the primary,
    stale messages of one kind, lost ``meta`` files...), while a seed that draws many stays
    broad. Replica faults (crashes, pauses, lost files, replaced disks, fast restarts of
    whoever is primary) stay within ``f = (n - 1) // 2`` at once, a replica counting as
    faulty until some time after it restarts (it may still be catching up); the one
    exception is a power loss on a majority, which the returned :class:`Swarm` labels
    ``beyond_f``. Network faults (partitions, one-way blocks, per-link latency, loss,
    duplication, messages delayed until stale) take any number. Everything is undone by the
    end. O(number of faults).

    >>> fs, swarm = swarm_faults(random.Random(3), ["n0", "n1", "n2"])
    >>> (fs, swarm) == swarm_faults(random.Random(3), ["n0", "n1", "n2"])
    True
    >>> all(f.at_us <= 1_500_000 + 600_000 for f in fs)
    True
    """
    names = list(nodes)
    if not names:
        raise InvalidArgument("nodes must not be empty")
    unknown = sorted(set(kinds) - set(SWARM_KINDS))
    if unknown:
        raise InvalidArgument(f"kinds has unknown fault kind(s) {unknown}")
    pool = [k for k in SWARM_KINDS if k in kinds]
    if not pool:
        return [], Swarm((), (), 0, False)
    # How many kinds a seed takes varies too: some seeds hammer one or two mechanisms.
    keep = rng.choice((0.1, 0.25, 0.5, 0.75))
    state = repr(rng.getstate())
    aimed_rng = random.Random(state)  # consumes nothing from rng
    old_pool = [k for k in pool if k not in _AIMED and k not in _EPISODES]
    chosen = [k for k in old_pool if rng.random() < keep]
    if not chosen and old_pool:
        chosen = [rng.choice(old_pool)]
    weights = [rng.choice((1, 2, 4)) for _ in chosen]
    aimed = [k for k in pool if k in _AIMED and aimed_rng.random() < keep]
    aimed_pool = [k for k in pool if k in _AIMED]
    if not chosen and not aimed and aimed_pool:
        aimed = [aimed_rng.choice(aimed_pool)]
    chosen += aimed
    weights += [aimed_rng.choice((1, 2, 4)) for _ in aimed]
    mean_gap = rng.choice((25_000, 60_000, 120_000, 250_000))
    f = (len(names) - 1) // 2
    end = start_us + duration_us
    faults: list[Fault] = []
    # Episodes first: each taken kind's faults and the window it keeps clear of other replica
    # faults (`reserved`), from the kind's own stream.
    reserved: list[tuple[int, int]] = []
    keep_disks: list[tuple[int, int]] = []  # each window, stretched while disks must survive
    taken: list[str] = []
    for kind in _EPISODES:
        if kind not in pool:
            continue
        erng = random.Random(f"{state}/{kind}")
        # Taken with probability `keep`, like every other kind (a pool of episode kinds
        # alone takes them all: a seed draws at least one kind).
        if erng.random() >= keep and chosen:
            continue
        taken.append(kind)
        for _ in range(erng.randint(1, 3)):
            for _attempt in range(8):  # a few places to try, within the kind's own stream
                episode, span, disk_until = _episode(kind, erng, start_us, end)
                if any(span[0] <= b and a <= disk_until for a, b in reserved + keep_disks):
                    continue  # overlaps an earlier episode: one at a time
                faults += episode
                reserved.append(span)
                keep_disks.append((span[0], disk_until))
                break

    def clear(since: int, until: int, *, disk: bool = False) -> bool:
        # True when [since, until] overlaps no episode's window (nor, for a disk loss, the
        # time after it while a damaged replica still needs its peers' copies).
        return not any(since <= b and a <= until for a, b in (keep_disks if disk else reserved))

    faulty_until: dict[str, int] = {}  # replica (or an anonymous slot) -> faulty until
    anon = 0
    beyond_f = False
    lossy = duplicating = False
    slow_links: set[tuple[str, str]] = set()
    no_disk_loss_until = start_us  # (a rejoin isolation holds disk losses back)
    now = start_us

    def down_time() -> int:
        # Half the restarts come before any view change could happen (< 80 ms).
        return rng.randint(0, 60_000) if rng.random() < 0.5 else rng.randint(60_000, 500_000)

    while chosen:
        now += max(1, int(rng.expovariate(1.0 / mean_gap)))
        if now >= end:
            break
        kind = rng.choices(chosen, weights)[0]
        faulty = {n for n, until in faulty_until.items() if until > now}
        room = f - len(faulty)
        healthy = [n for n in names if n not in faulty]
        if kind in ("lose_file", "replace") and now < no_disk_loss_until:
            continue
        if kind in ("crash", "pause", "lose_file", "replace") and room > 0 and healthy:
            node = rng.choice(healthy)
            back = min(end, now + down_time())
            settle = _CATCH_UP_US if kind in ("lose_file", "replace") else 200_000
            disk = kind in ("lose_file", "replace")
            if reserved and not clear(
                now, (now if kind == "replace" else back) + settle, disk=disk
            ):
                continue
            if kind == "crash":
                faults.append(Fault(now, "crash", (node, rng.random() < 0.5)))
                faults.append(Fault(back, "restart", (node,)))
            elif kind == "pause":
                faults.append(Fault(now, "pause", (node,)))
                faults.append(Fault(back, "resume", (node,)))
            elif kind == "lose_file":
                lost = rng.choice((("meta",), ("wal.log",), ("meta", "wal.log")))
                for name in lost:
                    faults.append(Fault(now, "lose_file", (node, name)))
                faults.append(Fault(back, "restart", (node,)))
            else:
                faults.append(Fault(now, "replace", (node,)))
                back = now
            faulty_until[node] = back + settle
        elif kind == "bounce" and room > 0:
            # Whoever is primary then: crash it and restart it soon, often before the
            # backups could even start a view change.
            down_ms = round(down_time() / 1000, 1)
            if reserved and not clear(now, now + int(down_ms * 1000) + 200_000):
                continue
            faults.append(Fault(now, "bounce", (PRIMARY, down_ms)))
            anon += 1
            faulty_until[f"@{anon}"] = now + int(down_ms * 1000) + 200_000
        elif kind == "pause_primary" and room > 0:
            # Whoever is primary then; every replica is resumed later (resuming one that is
            # not paused does nothing), so the paused primary comes back whoever it is.
            back = min(end, now + rng.randint(60_000, 900_000))
            if reserved and not clear(now, back + 200_000):
                continue
            faults.append(Fault(now, "pause", (PRIMARY,)))
            for node in names:
                faults.append(Fault(back, "resume", (node,)))
            anon += 1
            faulty_until[f"@{anon}"] = back + 200_000
        elif kind == "rejoin":
            # No disk is lost while a replica is cut off this long, nor until a learner had
            # time to catch up after it: with both, at most f + 1 replicas could hold the
            # committed log (beyond what VSR tolerates).
            heal_at = min(end, now + rng.randint(300_000, 1_500_000))
            if reserved and not clear(now, heal_at + _CATCH_UP_US):
                continue
            faults.append(Fault(now, "isolate", (rng.choice(names),)))
            faults.append(Fault(heal_at, "heal"))
            no_disk_loss_until = max(no_disk_loss_until, heal_at + _CATCH_UP_US)
        elif kind == "power_loss":
            majority = rng.random() < 0.3
            if majority:
                victims = rng.sample(names, rng.randint(f + 1, len(names)))
            elif room > 0 and healthy:
                victims = rng.sample(healthy, rng.randint(1, min(room, len(healthy))))
            else:
                continue
            back = min(end, now + down_time())
            if reserved and not clear(now, back + 200_000):
                continue
            if majority:
                beyond_f = True
            for node in sorted(victims):
                faults.append(Fault(now, "crash", (node, True)))
            for node in sorted(victims):
                faults.append(Fault(back, "restart", (node,)))
                faulty_until[node] = max(faulty_until.get(node, 0), back + 200_000)
        elif kind in ("partition", "isolate", "block"):
            cut: list[Fault] = []
            if kind == "partition" and len(names) > 1:
                shuffled = names[:]
                rng.shuffle(shuffled)
                split = rng.randint(1, len(shuffled) - 1)
                groups = (frozenset(shuffled[:split]), frozenset(shuffled[split:]))
                cut.append(Fault(now, "partition", groups))
            elif kind == "isolate":
                cut.append(Fault(now, "isolate", (rng.choice(names),)))
            elif len(names) > 1:
                source, target = rng.sample(names, 2)
                cut.append(Fault(now, "block", (source, target)))
            heal_at = min(end, now + rng.randint(20_000, 600_000))
            # (its heal would lift an episode's own cut early: none starts or heals in one)
            if reserved and not clear(now, heal_at):
                continue
            faults += cut
            faults.append(Fault(heal_at, "heal"))
        elif kind == "delay":
            # Messages held back until they are stale: every kind, from and to anyone.
            message = rng.choice(_MESSAGE_KINDS)
            # (seeds aimed at the pre-vote round also hold back its messages)
            if aimed and aimed_rng.random() < len(_PREVOTE_KINDS) / (len(_MESSAGE_KINDS) + 2):
                message = aimed_rng.choice(_PREVOTE_KINDS)
            ends: list[str | None] = [None, *names]
            source_or_any, target_or_any = rng.choice(ends), rng.choice(ends)
            delay_ms = float(rng.choice((30, 100, 300, 1_000)))
            faults.append(
                Fault(
                    now,
                    "delay_next",
                    (message, delay_ms, source_or_any, target_or_any, rng.randint(1, 5)),
                )
            )
        elif kind == "latency" and len(names) > 1:
            source, target = rng.sample(names, 2)
            low = rng.randint(1_000, 40_000)
            faults.append(Fault(now, "set_link_latency", (source, target, low, low * 2)))
            slow_links.add((source, target))
        elif kind == "loss":
            faults.append(Fault(now, "set_loss", (round(rng.uniform(0.01, 0.3), 3),)))
            lossy = True
        elif kind == "duplicate":
            faults.append(Fault(now, "set_duplicate", (round(rng.uniform(0.01, 0.3), 3),)))
            duplicating = True
    faults.append(Fault(end, "heal"))
    if lossy:
        faults.append(Fault(end, "set_loss", (0.0,)))
    if duplicating:
        faults.append(Fault(end, "set_duplicate", (0.0,)))
    for source, target in sorted(slow_links):
        faults.append(Fault(end, "set_link_latency", (source, target, *latency_us)))
    faults.sort(key=lambda fault: fault.at_us)  # stable: same-time faults keep their order
    chosen += taken
    weights += [1 for _ in taken]
    swarm = Swarm(tuple(chosen), tuple(weights), mean_gap, beyond_f)
    return faults, swarm
