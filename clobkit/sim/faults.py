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

__all__ = ["Fault", "FAULT_ACTIONS", "random_faults"]

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
